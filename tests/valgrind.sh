#!/bin/sh
# Runs every program on a small input under valgrind (memcheck): no invalid
# reads or writes, no uses of uninitialised values, no definitely lost
# memory. Also a few error paths (damaged input, failed allocation, failed
# write), which leave through rtn_die. Prints "N passed, N failed".
#
#   sh tests/valgrind.sh            (make valgrind; programs from $RETAIN_BIN or bin/)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${RETAIN_BIN:-$top/bin}
PATH="$bin:$PATH"
export PATH
if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind: not installed (apt-get install valgrind)"
	echo "0 passed, 1 failed"
	exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/retain-valgrind.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp" || exit 1
. "$top/tests/tally.sh"

# vg NAME WANT_EXIT CMD...: CMD under memcheck must exit WANT_EXIT (99 is
# valgrind's own code for errors found) with an empty valgrind log.
vg() {
	name=$1 want=$2
	shift 2
	rc=0
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
		--error-exitcode=99 --log-file="$tmp/vg.log" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
	ok=0
	[ "$rc" -eq "$want" ] && [ ! -s "$tmp/vg.log" ] && ok=1
	tally "$ok" "$name" "exit $rc (want $want): $*"
	if [ "$ok" -eq 0 ]; then
		head -n 40 "$tmp/vg.log"
		head -n 5 "$tmp/err"
	fi
}

# Inputs (made without valgrind).
synth --customers 40 --seed 2 --dup-rate 0.1 --refund-rate 0.1 --alias-rate 0.1 --alias-file alias.csv -o s.csv || exit 1
printf 'customer_id,date,amount\nc1,2023-02-30,1\nc2,2023-01-01,abc\n' >bad.csv
printf '{"user_id":9007199254740993,"created_at":"2023-01-01T12:00:00Z","total":"19.99","plan":"pro"}\n{"user_id":"u2","created_at":"2023-01-02","total":5}\n' >j.jsonl
ingest --attr channel s.csv -o e.rtn || exit 1
dedupe e.rtn -o d.rtn || exit 1
rfm d.rtn -o r.rtn || exit 1
head -c 300 d.rtn >cut.rtn

vg "synth csv" 0 synth --customers 20 --seed 3 --refund-rate 0.1 --truth truth.tsv -o v.csv
vg "synth stream" 0 synth --customers 20 --model pnbd --format stream -o v.rtn
vg "ingest csv" 0 ingest --attr channel,sku --stats s.csv -o v.rtn
vg "ingest jsonl" 0 ingest --attr plan j.jsonl -o v.rtn
vg "ingest rejects" 1 ingest --rejects rej.tsv bad.csv -o v.rtn
vg "ingest out of memory" 4 env RETAIN_FAIL=alloc:20 ingest s.csv -o v.rtn
vg "dedupe" 0 dedupe --alias alias.csv --dups dups.rtn --stats e.rtn -o v.rtn
vg "dedupe spilling" 0 dedupe --memory 1k --tmpdir "$tmp" --key order --rollup e.rtn -o v.rtn
vg "dedupe truncated input" 3 dedupe cut.rtn -o v.rtn
vg "rfm" 0 rfm --carry channel --breaks-out b.txt --stats d.rtn -o v.rtn
vg "rfm window, tz, summary" 0 rfm --tz America/New_York --window 52w --asof 2024-12-31 --summary d.rtn
vg "cohort" 0 cohort --stats d.rtn -o v.rtn
vg "cohort html" 0 cohort --format html --by channel d.rtn -o v.html
vg "cohort life table" 0 cohort --life-table d.rtn -o v.rtn
# enough customers for the big blocks (2 MiB up: aligned, huge pages) and
# for rfm's customer array to grow as a mapping (rtn_big_grow)
synth --customers 30000 --seed 4 --order time --format stream -u -o big.rtn || exit 1
vg "rfm, 30,000 customers" 0 rfm big.rtn -o v.rtn
vg "cohort, 30,000 customers, two threads" 0 cohort big.rtn -o v.rtn
vg "segment-export" 0 segment-export --where "revenue > 10 or recency >= 100" --top 10 --by revenue r.rtn -o v.csv
vg "segment-export write error" 4 env RETAIN_FAIL=write:1 segment-export r.rtn -o v.csv
vg "inspect" 0 inspect --header r.rtn
vg "inspect jsonl" 0 inspect --format jsonl d.rtn
vg "inspect damaged" 3 inspect --check cut.rtn
if [ -x "$bin/churnscore" ] && [ -f "$top/cmd/churnscore.c" ]; then
	# a fit needs more customers than the other inputs have
	synth --customers 300 --seed 2 --format stream | rfm -o r300.rtn || exit 1
	vg "churnscore" 0 churnscore --stats r300.rtn -o v.rtn
	vg "churnscore pnbd" 0 churnscore --model pnbd r300.rtn -o v.rtn
	vg "churnscore rule" 0 churnscore --model rule r.rtn -o v.rtn
fi

tally_end
