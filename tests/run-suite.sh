#!/bin/sh
# Runs the unit tests (arguments after the build dir) and every tests/*.bats file,
# then prints one line: "N passed, N failed". Exit status 0 only if none failed.
# RETAIN_BIN selects the programs under test (default: bin/).
set -u
build=$1; shift
top=$(cd "$(dirname "$0")/.." && pwd)
: "${RETAIN_BIN:=$top/bin}"
export RETAIN_BIN
passed=0 failed=0
log=$(mktemp "${TMPDIR:-/tmp}/retain-suite.XXXXXX")
trap 'rm -f "$log"' EXIT
for t in "$@"; do
	if "$t" >"$log" 2>&1; then
		n=$(grep -c '^ok ' "$log"); passed=$((passed + n))
	else
		cat "$log"
		n=$(grep -c '^ok ' "$log"); passed=$((passed + n))
		f=$(grep -c '^not ok ' "$log"); [ "$f" -eq 0 ] && f=1
		failed=$((failed + f))
	fi
done
if ls "$top"/tests/*.bats >/dev/null 2>&1; then
	jobs=""
	bats --tap "$top"/tests/*.bats >"$log" 2>&1
	cat "$log" | grep -v '^ok ' || true
	n=$(grep -c '^ok ' "$log"); passed=$((passed + n))
	f=$(grep -c '^not ok ' "$log"); failed=$((failed + f))
	if ! grep -q '^1\.\.' "$log"; then failed=$((failed + 1)); echo "bats did not run" ; fi
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
