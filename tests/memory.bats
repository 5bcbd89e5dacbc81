#!/usr/bin/env bats
# Memory bounds (issue 9): the streaming programs run under `ulimit -v` on
# an input several times larger than the limit:
#   ingest           memory independent of the input size;
#   dedupe --memory  sorts in a bounded buffer, spilling runs to --tmpdir;
#   rfm, sorted input  memory grows with customers, not with events (the
#                    input here has few customers and many events).
# A control shows the limit really bites: dedupe with its default 256M
# buffer runs out of memory under the same limit, cleanly (exit 4).
#
# Under AddressSanitizer (`make asan` sets RETAIN_ASAN=1) `ulimit -v` cannot
# be used: ASan reserves terabytes of address space for its shadow memory at
# start-up, so every program would fail before main. There the same
# pipelines run without the limit on a smaller input and are checked for the
# same exact results (counts, sums, sortedness), which still exercises the
# spill and merge paths under the sanitizers.

load helpers

LIMIT_KB=24576 # 24 MiB of address space

if [ "${RETAIN_ASAN:-0}" = 1 ]; then
	ROWS=200000
	limited() { "$@"; }
else
	ROWS=2600000 # about 120 MB of CSV, 5x the limit
	limited() ( ulimit -v "$LIMIT_KB" && exec "$@" )
fi
CUSTOMERS=3000

# ROWS unique order lines for CUSTOMERS customers, amounts 0.50 .. 99.50.
gen() {
	awk -v n="$ROWS" -v c="$CUSTOMERS" 'BEGIN {
		print "customer_id,order_id,date,amount,channel"
		for (i = 0; i < n; i++)
			printf "c%05d,o%d,2023-%02d-%02dT%02d:%02d:00Z,%d.50,ads\n", i % c, i, 1 + i % 12, 1 + i % 28, i % 24, i % 60, i % 100
	}'
}

# Sum of amounts in cents, computed from the generator's formula.
want_cents() { awk -v n="$ROWS" 'BEGIN { s = 0; for (i = 0; i < n; i++) s += (i % 100) * 100 + 50; printf "%d\n", s }'; }

@test "the address-space limit is in force (or ASan mode is declared)" {
	if [ "${RETAIN_ASAN:-0}" = 1 ]; then
		# ASan binaries cannot start under a small ulimit -v: the reason
		# this file runs without it in that mode.
		run bash -c "ulimit -v $LIMIT_KB && exec ingest --version"
		[ "$status" -ne 0 ]
	else
		run limited bash -c 'ulimit -v'
		[ "$output" = "$LIMIT_KB" ]
		# dedupe with its default 256M buffer cannot hold this input in
		# 24M: it fails cleanly, leaving nothing behind (it stops reading
		# early, so the generator and ingest end on a broken pipe)
		rc=0
		gen | ingest | limited dedupe --memory 256M --tmpdir "$T" -o "$T/d.rtn" 2>"$T/err" || rc=$?
		[ "$rc" -eq 4 ]
		grep -q "^dedupe: out of memory" "$T/err"
		[ "$(ls -A "$T")" = err ]
	fi
}

@test "ingest, dedupe --memory 4M and sorted rfm stream an input much larger than the limit" {
	mkdir "$T/tmp"
	# ingest reads the CSV from a pipe (never a file of that size on disk)
	gen | limited ingest --stats -o "$T/e.rtn" 2>"$T/ingest.err"
	grep -q "read $ROWS, accepted $ROWS, rejected 0" "$T/ingest.err"
	[ "$(inspect --count "$T/e.rtn")" -eq "$ROWS" ]
	# dedupe in a 4M buffer: spills, merges, keeps every (unique) event
	limited dedupe --stats --memory 4M --tmpdir "$T/tmp" -u "$T/e.rtn" -o "$T/d.rtn" 2>"$T/dedupe.err"
	grep -Eq "read $ROWS, kept $ROWS, removed 0" "$T/dedupe.err"
	grep -Eq ' [1-9][0-9]* runs spilled' "$T/dedupe.err"
	[ -z "$(ls -A "$T/tmp")" ]
	if [ "${RETAIN_ASAN:-0}" != 1 ]; then
		# stored blocks: the sorted stream itself (repeated ids and channels
		# a byte each) is larger than the whole address space allowed
		[ "$(stat -c %s "$T/d.rtn")" -gt $((LIMIT_KB * 1024)) ]
	fi
	inspect --check "$T/d.rtn" >/dev/null
	inspect --header "$T/d.rtn" | grep -q '^flags.*sorted'
	# sorted by customer, then time
	inspect --no-names "$T/d.rtn" | cut -f1,2 | LC_ALL=C sort -c
	# rfm on the sorted stream: one record per customer, every order counted
	limited rfm "$T/d.rtn" -o "$T/r.rtn"
	[ "$(inspect --count "$T/r.rtn")" -eq "$CUSTOMERS" ]
	orders=$(inspect --no-names "$T/r.rtn" | awk -F'\t' '{ s += $4 } END { print s }')
	[ "$orders" -eq "$ROWS" ]
	cents=$(inspect --no-names "$T/r.rtn" | awk -F'\t' '{ split($6, p, "."); s += p[1] * 100 + substr(p[2] "00", 1, 2) } END { printf "%d\n", s }')
	[ "$cents" = "$(want_cents)" ]
}
