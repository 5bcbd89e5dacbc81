#!/bin/sh
# Runs the code that uses two threads under ThreadSanitizer: the unit tests
# that start threads themselves, and the programs on inputs large enough for
# their second threads (the writer's deflating and the reader's inflating
# threads, rfm's aggregation, totals and output, cohort's aggregation,
# churnscore's fit and scores), with a summer-time zone so that zone
# lookups come from both threads. Any data race report fails the run.
# Prints "N passed, N failed".
#
#   sh tests/tsan.sh BUILD UNIT...   (make tsan; programs from $RETAIN_BIN)
set -u
build=$1
shift
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${RETAIN_BIN:-$top/bin-tsan}
PATH="$bin:$PATH"
export PATH
# 66: TSan's exit code when it reports (halt at the first report)
TSAN_OPTIONS="halt_on_error=1 exitcode=66${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
RETAIN_THREADS=2
export TSAN_OPTIONS RETAIN_THREADS
tmp=$(mktemp -d "${TMPDIR:-/tmp}/retain-tsan.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
. "$top/tests/tally.sh"

# ts NAME CMD...: CMD must exit 0 with no ThreadSanitizer report.
ts() {
	name=$1
	shift
	rc=0
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
	ok=0
	[ "$rc" -eq 0 ] && ! grep -q 'ThreadSanitizer' "$tmp/err" && ok=1
	tally "$ok" "$name" "exit $rc: $*"
	[ "$ok" -eq 1 ] || head -n 40 "$tmp/err"
}

for t in "$@"; do
	ts "unit $(basename "$t")" "$t"
done
# 60,000 customers in time order: more than the 16,384 rows a writer
# thread takes at once, and many batches of events
ts "synth" synth --customers 60000 --seed 5 --start 2023-01-01 --end 2023-12-31 --order time \
	--format stream -u -o "$tmp/ev.rtn"
ts "synth csv" synth --customers 20000 --seed 6 --start 2023-01-01 --end 2023-12-31 -o "$tmp/ev.csv"
ts "ingest -o, blocks deflated in worker threads" ingest -o "$tmp/in.rtn" "$tmp/ev.csv"
ts "rfm, blocks inflated ahead in worker threads" rfm -u -o "$tmp/in-c.rtn" "$tmp/in.rtn"
ts "rfm --tz, two threads" rfm --asof 2023-12-31 --tz Europe/Berlin -o "$tmp/c.rtn" "$tmp/ev.rtn"
ts "rfm --window --carry, piped" sh -c "cat '$tmp/ev.rtn' | rfm --asof 2023-12-31 --window 26w --recent 60d --carry channel -u -o '$tmp/w.rtn'"
ts "cohort --tz --life-table" cohort --tz Europe/Berlin --by channel --life-table "$tmp/ev.rtn"
ts "cohort --windows" cohort --windows 0-7,8-30,31-90 "$tmp/ev.rtn"
ts "churnscore" churnscore -o "$tmp/s.rtn" "$tmp/c.rtn"
ts "churnscore --model pnbd" churnscore --model pnbd -o "$tmp/p.rtn" "$tmp/c.rtn"
tally_end
