#!/bin/sh
# make fuzz: builds every tests/fuzz/fuzz_NAME.c with clang's libFuzzer,
# ASan and UBSan, runs each for SECONDS seeded from tests/fuzz/regress/NAME/,
# and prints executions and crashes per target. Crashing inputs are written
# into tests/fuzz/regress/NAME/ so that make check replays them once fixed.
set -u
seconds=${1:-60}; shift
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz: clang is missing: apt-get install -y clang libfuzzer-14-dev" >&2; exit 2
fi
mkdir -p build-fuzz
libs=$(ls lib/*.c)
status=0
printf '%-12s %12s %8s\n' target executions crashes
for src in "$@"; do
	name=$(basename "$src" .c); name=${name#fuzz_}
	bin=build-fuzz/fuzz_$name
	clang -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DRETAIN_VERSION='"fuzz"' -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -Ilib \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o "$bin" "$src" $libs -lz -lm || { echo "fuzz: cannot build $src" >&2; status=1; continue; }
	corpus=build-fuzz/corpus-$name
	regress=tests/fuzz/regress/$name
	mkdir -p "$corpus" "$regress"
	log=build-fuzz/$name.log
	"$bin" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 \
		-artifact_prefix="$regress/" "$corpus" "$regress" >"$log" 2>&1
	rc=$?
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
	crashes=0
	[ "$rc" -ne 0 ] && { crashes=1; status=1; tail -n 30 "$log"; }
	printf '%-12s %12s %8s\n' "$name" "${execs:-?}" "$crashes"
done
exit $status
