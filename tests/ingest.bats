#!/usr/bin/env bats
# ingest (cmd/ingest.c): formats, column mapping, values, rejects and accounting, output
# safety, and the bad-input catalogue in tests/bad/ingest.tsv.

load helpers

# Sum of a money column printed by inspect, in 1/10000 units, exactly.
sum_money() {
	awk -F'\t' -v col="$1" 'NR > 1 && $col != "" {
		v = $col; neg = (substr(v, 1, 1) == "-"); if (neg) v = substr(v, 2)
		n = split(v, p, "."); f = (n > 1 ? p[2] : ""); while (length(f) < 4) f = f "0"
		u = p[1] * 10000 + f; s += (neg ? -u : u) } END { printf "%d\n", s }'
}

@test "bad-input catalogue: exit status, reject count, accepted count, message" {
	failures=""
	n=0
	while IFS='	' read -r name args input want_rc want_rej want_acc pattern; do
		case "$name" in ''|'#'*) continue ;; esac
		n=$((n + 1))
		printf '%b' "$input" >"$T/in.csv"
		rm -f "$T/rej.tsv" "$T/out.rtn"
		[ "$args" = "-" ] && args=""
		rc=0
		# shellcheck disable=SC2086
		ingest $args --rejects "$T/rej.tsv" -o "$T/out.rtn" "$T/in.csv" 2>"$T/err" || rc=$?
		rej=0
		[ -f "$T/rej.tsv" ] && rej=$(($(wc -l <"$T/rej.tsv") - 1))
		acc=0
		[ -f "$T/out.rtn" ] && acc=$(inspect --count "$T/out.rtn")
		why=""
		[ "$rc" = "$want_rc" ] || why="$why exit $rc (want $want_rc)"
		[ "$rej" = "$want_rej" ] || why="$why rejects $rej (want $want_rej)"
		[ "$acc" = "$want_acc" ] || why="$why accepted $acc (want $want_acc)"
		if [ "$pattern" != "-" ] && ! grep -Eq -- "$pattern" "$T/err"; then
			why="$why stderr lacks /$pattern/"
		fi
		if [ "$pattern" = "-" ] && [ -s "$T/err" ]; then
			why="$why unexpected stderr"
		fi
		[ -z "$why" ] || failures="$failures
$name:$why: $(head -c 300 "$T/err")"
	done <"$TOP/tests/bad/ingest.tsv"
	[ "$n" -ge 40 ]
	[ -z "$failures" ] || { echo "$failures"; false; }
}

@test "CDNOW master: 69,659 events, 23,570 customers, exact dollar total" {
	[ -r "$CDNOW/CDNOW_master.txt" ] || { echo "missing $CDNOW/CDNOW_master.txt"; false; }
	run ingest --stats "$CDNOW/CDNOW_master.txt" -o "$T/m.rtn"
	[ "$status" -eq 0 ]
	[[ "$output" == *"read 69659, accepted 69659, rejected 0, skipped 0"* ]]
	[ "$(inspect --count "$T/m.rtn")" -eq 69659 ]
	[ "$(inspect --no-names "$T/m.rtn" | cut -f1 | sort -u | wc -l)" -eq 23570 ]
	# the dollar column summed from the raw file, in the same exact units
	want=$(awk 'NR > 1 { n = split($4, p, "."); f = (n > 1 ? p[2] : ""); while (length(f) < 4) f = f "0"
		s += p[1] * 10000 + f } END { printf "%d\n", s }' "$CDNOW/CDNOW_master.txt")
	got=$(inspect "$T/m.rtn" | sum_money 3)
	[ "$got" = "$want" ]
	[ "$got" -gt 0 ]
}

@test "column recognition: an online-retail export (InvoiceNo, Quantity x UnitPrice)" {
	cat >"$T/r.csv" <<'CSV'
InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,6,12/1/2010 8:26,2.55,17850,United Kingdom
536365,71053,-2,12/1/2010 8:26,3.39,17850,United Kingdom
CSV
	run ingest --verbose --time-format '%m/%d/%Y %H:%M' --attr Country "$T/r.csv" -o "$T/r.rtn"
	[ "$status" -eq 0 ]
	[[ "$output" == *"customer <- column 6 'CustomerID'"* ]]
	[[ "$output" == *"order <- column 1 'InvoiceNo'"* ]]
	[[ "$output" == *"quantity <- column 3 'Quantity'"* ]]
	run inspect --no-names "$T/r.rtn"
	[ "${lines[0]}" = "$(printf '17850\t2010-12-01T08:26:00Z\t15.30\t536365\torder\tUnited Kingdom')" ]
	[ "${lines[1]}" = "$(printf '17850\t2010-12-01T08:26:00Z\t-6.78\t536365\trefund\tUnited Kingdom')" ]
}

@test "columns by number, --no-header, ids with leading zeros kept" {
	printf '00042 x 20230105 3.50\n00007 y 20230106 1.25\n' >"$T/n.txt"
	run ingest --no-header --delimiter ws --customer 1 --time 3 --amount 4 --order 2 "$T/n.txt" -o "$T/n.rtn"
	[ "$status" -eq 0 ]
	run inspect --no-names "$T/n.rtn"
	[ "${lines[0]}" = "$(printf '00042\t2023-01-05T00:00:00Z\t3.50\tx\torder')" ]
	[ "${lines[1]}" = "$(printf '00007\t2023-01-06T00:00:00Z\t1.25\ty\torder')" ]
}

@test "RFC 4180: quotes, doubled quotes, embedded newlines, TSV" {
	printf 'customer_id,date,amount,note\n"c,1",2023-01-01,1,"line1\nline2"\n"c""2",2023-01-02,2,x\n' >"$T/q.csv"
	run ingest --attr note "$T/q.csv" -o "$T/q.rtn"
	[ "$status" -eq 0 ]
	run inspect --no-names "$T/q.rtn"
	[ "${lines[0]}" = "$(printf 'c,1\t2023-01-01T00:00:00Z\t1.00\t\torder\tline1\\nline2')" ]
	[ "${lines[1]}" = "$(printf 'c"2\t2023-01-02T00:00:00Z\t2.00\t\torder\tx')" ]
	printf 'customer_id\tdate\tamount\nc1\t2023-01-01\t4\n' >"$T/t.tsv"
	run ingest "$T/t.tsv" -o "$T/t.rtn"
	[ "$status" -eq 0 ]
	[ "$(inspect --count "$T/t.rtn")" -eq 1 ]
}

@test "JSON Lines: ids above 2^53 stay exact, numbers and strings both read" {
	printf '{"user_id":9007199254740993,"created_at":"2023-01-01T12:00:00Z","total":"19.99","plan":"pro"}\n{"user_id":"u2","created_at":"2023-01-02","total":5}\n' >"$T/j.jsonl"
	run ingest --attr plan "$T/j.jsonl" -o "$T/j.rtn"
	[ "$status" -eq 0 ]
	run inspect --no-names "$T/j.rtn"
	[ "${lines[0]}" = "$(printf '9007199254740993\t2023-01-01T12:00:00Z\t19.99\t\torder\tpro')" ]
	[ "${lines[1]}" = "$(printf 'u2\t2023-01-02T00:00:00Z\t5.00\t\torder\t')" ]
}

@test "naive times in --tz, event types and --type-map" {
	cat >"$T/e.csv" <<'CSV'
customer_id,date,amount,event_type
c1,2023-07-01 10:00,,Visit
c1,2023-07-01 12:00,20,purchase
c1,2023-07-02 09:00,-5,
c2,2023-01-15 10:00,,signup
CSV
	run ingest --tz Europe/Berlin --type-map purchase=order "$T/e.csv" -o "$T/e.rtn"
	[ "$status" -eq 0 ]
	run inspect --no-names "$T/e.rtn"
	[ "${lines[0]}" = "$(printf 'c1\t2023-07-01T08:00:00Z\t\t\tvisit')" ]
	[ "${lines[1]}" = "$(printf 'c1\t2023-07-01T10:00:00Z\t20.00\t\torder')" ]
	[ "${lines[2]}" = "$(printf 'c1\t2023-07-02T07:00:00Z\t-5.00\t\trefund')" ]
	[ "${lines[3]}" = "$(printf 'c2\t2023-01-15T09:00:00Z\t\t\tsignup')" ]
}

@test "repeated time texts (parsed once) give the time of their own row" {
	cat >"$T/r.csv" <<'CSV'
customer_id,date,amount
c1,2023-07-01T10:00:00Z,1
c1,2023-07-01T10:00:00Z,2
c2,2023-07-01T10:00:01Z,3
c2,2023-07-01T10:00:00+02:00,4
c3,2023-07-01T10:00:00+02:00,5
c3,2023-07-01 10:00:00,6
c3,2023-07-01T10:00:00Z,7
c4,2023-07-01 10:00:00,8
c4,bad,9
c4,2023-07-01 10:00:00,10
CSV
	run ingest --tz Europe/Berlin --max-rejects 1 "$T/r.csv" -o "$T/r.rtn"
	[ "$status" -eq 0 ]
	run inspect --no-names "$T/r.rtn"
	[ "${#lines[@]}" -eq 9 ]
	[ "$(printf '%s\n' "${lines[@]}" | cut -f2 | tr '\n' ' ')" = \
	  "2023-07-01T10:00:00Z 2023-07-01T10:00:00Z 2023-07-01T10:00:01Z 2023-07-01T08:00:00Z 2023-07-01T08:00:00Z 2023-07-01T08:00:00Z 2023-07-01T10:00:00Z 2023-07-01T08:00:00Z 2023-07-01T08:00:00Z " ]
}

@test "rejects file: original text, file, line, record, reason; mode 0600; stats add up" {
	printf 'customer_id,date,amount\nc1,2023-01-01,5\nc2,2023-02-30,5\n\nc3,2023-01-01,abc\nc4,2023-01-01,1\n' >"$T/r.csv"
	run ingest --stats --max-rejects 5 --rejects "$T/rej.tsv" "$T/r.csv" -o "$T/r.rtn"
	[ "$status" -eq 0 ]
	[[ "$output" == *"read 5, accepted 2, rejected 2, skipped 1"* ]]
	[ "$(stat -c %a "$T/rej.tsv")" = 600 ]
	run cat "$T/rej.tsv"
	[ "${lines[0]}" = "$(printf 'file\tline\trecord\treason\ttext')" ]
	[[ "${lines[1]}" == "$T/r.csv	3	2	"*"	c2,2023-02-30,5" ]]
	[[ "${lines[2]}" == "$T/r.csv	5	3	amount: "*"	c3,2023-01-01,abc" ]]
	[ "${#lines[@]}" -eq 3 ]
}

@test "--max-rejects: default 0 exits 1, a count or a percentage allows some" {
	printf 'customer_id,date,amount\nc1,2023-01-01,5\nc2,bad,5\nc3,2023-01-01,1\nc4,2023-01-01,1\n' >"$T/r.csv"
	run ingest "$T/r.csv" -o "$T/a.rtn"
	[ "$status" -eq 1 ]
	[[ "$output" == *"r.csv:3: rejected"* ]]
	[[ "$output" == *"1 of 4 rows rejected"* ]]
	[ "$(inspect --count "$T/a.rtn")" -eq 3 ]
	run ingest --max-rejects 1 "$T/r.csv" -o "$T/b.rtn"
	[ "$status" -eq 0 ]
	run ingest --max-rejects 25% "$T/r.csv" -o "$T/c.rtn"
	[ "$status" -eq 0 ]
	run ingest --max-rejects 20% "$T/r.csv" -o "$T/d.rtn"
	[ "$status" -eq 1 ]
}

@test "a 10 MB field and 100,000 columns are rejects, not out-of-memory" {
	{ echo "customer_id,date,amount,note"; printf 'c1,2023-01-01,1,'; head -c 10000000 /dev/zero | tr '\0' x; echo; echo "c2,2023-01-01,2,ok"; } >"$T/big.csv"
	run ingest --attr note --max-rejects 1 --stats "$T/big.csv" -o "$T/big.rtn"
	[ "$status" -eq 0 ]
	[[ "$output" == *"rejected 1"* ]]
	[[ "$output" == *"big.csv:2: rejected"* ]]
	[ "$(inspect --no-names "$T/big.rtn" | cut -f1)" = c2 ]
	{ echo "customer_id,date,amount"; printf 'c1,2023-01-01,1'; seq 1 100000 | sed 's/^/,/' | tr -d '\n'; echo; echo "c2,2023-01-01,2"; } >"$T/wide.csv"
	run ingest --max-rejects 1 --stats "$T/wide.csv" -o "$T/wide.rtn"
	[ "$status" -eq 0 ]
	[[ "$output" == *"rejected 1"* ]]
	[ "$(inspect --count "$T/wide.rtn")" -eq 1 ]
}

@test "several input files are read in order" {
	small_orders_csv "$T/a.csv"
	printf 'date,customer_id,amount,order_id,channel\n2023-04-01,c9,1.00,o9,mail\n' >"$T/b.csv"
	run ingest --attr channel "$T/a.csv" "$T/b.csv" -o "$T/ab.rtn"
	[ "$status" -eq 0 ]
	[ "$(inspect --count "$T/ab.rtn")" -eq 6 ]
	[ "$(inspect --no-names "$T/ab.rtn" | tail -1)" = "$(printf 'c9\t2023-04-01T00:00:00Z\t1.00\to9\torder\tmail')" ]
}

@test "output is byte-identical for equal input, stored to a pipe, compressed to a file" {
	small_orders_csv "$T/o.csv"
	ingest "$T/o.csv" -o "$T/a.rtn"
	mv "$T/a.rtn" "$T/first.rtn"
	ingest "$T/o.csv" -o "$T/a.rtn"
	cmp "$T/a.rtn" "$T/first.rtn"
	ingest "$T/o.csv" >"$T/p.rtn"
	ingest -u "$T/o.csv" -o "$T/u.rtn"
	# -o to a different name only changes the provenance; compare decoded text
	[ "$(inspect "$T/p.rtn")" = "$(inspect "$T/a.rtn")" ]
	[ "$(LC_ALL=C TZ=America/New_York ingest "$T/o.csv" | inspect)" = "$(inspect "$T/p.rtn")" ]
}

@test "-o is all or nothing: a failing write leaves the old file and no temporary file" {
	small_orders_csv "$T/o.csv"
	echo old >"$T/out.rtn"
	for n in 1 2 3; do
		run env RETAIN_FAIL=write:$n ingest "$T/o.csv" -o "$T/out.rtn"
		[ "$status" -eq 4 ]
		[[ "$output" == *"out.rtn: write error"* ]]
		[ "$(cat "$T/out.rtn")" = old ]
	done
	run env RETAIN_FAIL=fsync:1 ingest "$T/o.csv" -o "$T/out.rtn"
	[ "$status" -eq 4 ]
	run env RETAIN_FAIL=rename:1 ingest "$T/o.csv" -o "$T/out.rtn"
	[ "$status" -eq 4 ]
	[ "$(cat "$T/out.rtn")" = old ]
	[ "$(ls -A "$T" | grep -v '^o.csv$' | grep -v '^out.rtn$' | wc -l)" -eq 0 ]
	run ingest "$T/o.csv" -o "$T/out.rtn"
	[ "$status" -eq 0 ]
	[ "$(inspect --count "$T/out.rtn")" -eq 5 ]
}

@test "out of memory is a clean error (fail the Nth allocation)" {
	small_orders_csv "$T/o.csv"
	for n in 1 2 5 10 20; do
		run env RETAIN_FAIL=alloc:$n ingest "$T/o.csv" -o "$T/out.rtn"
		[ "$status" -eq 4 ] || [ "$status" -eq 0 ]
		if [ "$status" -eq 4 ]; then
			[[ "$output" == *"out of memory"* ]]
			[ ! -e "$T/out.rtn" ]
		fi
	done
	[ "$(ls -A "$T")" = o.csv ] || [ "$(ls -A "$T" | sort | tr '\n' ' ')" = "o.csv out.rtn " ]
}

@test "SIGTERM mid-write leaves no temporary file and the old output intact" {
	{ echo "customer_id,date,amount"; seq 1 200000 | sed 's/.*/c&,2023-01-01,1.00/'; } >"$T/big.csv"
	echo old >"$T/out.rtn"
	{ cat "$T/big.csv"; sleep 5; } | ingest -o "$T/out.rtn" &
	pid=$!
	sleep 1
	kill -TERM $(pgrep -P $pid ingest 2>/dev/null || pgrep -f "ingest -o $T/out.rtn") 2>/dev/null || true
	wait $pid || true
	[ "$(cat "$T/out.rtn")" = old ]
	[ "$(ls -A "$T" | sort | tr '\n' ' ')" = "big.csv out.rtn " ]
}

@test "-o with a 250-byte file name works (lock and temporary names are shortened)" {
	small_orders_csv "$T/o.csv"
	name=$(printf 'x%.0s' $(seq 1 250))
	run ingest "$T/o.csv" -o "$T/$name"
	[ "$status" -eq 0 ]
	[ "$(inspect --count "$T/$name")" -eq 5 ]
	[ "$(ls -A "$T" | wc -l)" -eq 2 ]
}

@test "a second run writing the same output is refused" {
	small_orders_csv "$T/o.csv"
	{ sleep 3; cat "$T/o.csv"; } | ingest -o "$T/out.rtn" &
	sleep 1
	run ingest "$T/o.csv" -o "$T/out.rtn"
	[ "$status" -eq 4 ]
	[[ "$output" == *"another run is writing"* ]]
	wait
	[ "$(inspect --count "$T/out.rtn")" -eq 5 ]
	[ "$(ls -A "$T" | sort | tr '\n' ' ')" = "o.csv out.rtn " ]
}

@test "refuses a terminal; /dev/full and missing inputs fail with messages" {
	small_orders_csv "$T/o.csv"
	run sh -c "ingest '$T/o.csv' >/dev/full"
	[ "$status" -eq 4 ]
	[[ "$output" == *"write error"* ]]
	# -o on a device writes to it in place: never renames a file over it
	run ingest "$T/o.csv" -o /dev/full
	[ "$status" -eq 4 ]
	[[ "$output" == *"/dev/full: write error"* ]]
	[ -c /dev/full ]
	mkfifo "$T/fifo"
	cat "$T/fifo" >"$T/from-fifo" &
	ingest "$T/o.csv" -o "$T/fifo"
	wait
	[ -p "$T/fifo" ]
	[ "$(inspect --count "$T/from-fifo")" -eq 5 ]
	run ingest "$T/missing.csv"
	[ "$status" -eq 2 ]
	[[ "$output" == *"missing.csv: cannot open"* ]]
	run ingest "$T"
	[ "$status" -eq 2 ]
	[[ "$output" == *"is a directory"* ]]
	if command -v script >/dev/null; then
		run script -qec "$BIN/ingest $T/o.csv" /dev/null
		[[ "$output" == *"refusing to write a binary stream to a terminal"* ]]
	fi
}

@test "--progress prints a progress line on standard error" {
	small_orders_csv "$T/o.csv"
	run sh -c "ingest --progress '$T/o.csv' 2>&1 >/dev/null"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ingest: read: "*"5 rows"* ]]
	run sh -c "ingest '$T/o.csv' 2>&1 >/dev/null"
	[ -z "$output" ]
}

@test "ingest --help, --version and usage errors" {
	run ingest --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:\ ingest* ]]
	[[ "$output" == *"--max-rejects"* ]]
	run ingest --version
	[[ "$output" == "ingest (retain) "* ]]
	run ingest --bogus
	[ "$status" -eq 2 ]
	run ingest --max-rejects lots x.csv
	[ "$status" -eq 2 ]
	[[ "$output" == *"--max-rejects"* ]]
	run ingest --tz Mars/Olympus x.csv
	[ "$status" -eq 2 ]
}
