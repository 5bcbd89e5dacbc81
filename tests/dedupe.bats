#!/usr/bin/env bats
# dedupe (cmd/dedupe.c): each mode, aliases, sorting in bounded memory with spills, temporary
# file cleanup, accounting, bad and damaged input, output errors.

load helpers

# A small events fixture: exact copies, line items, double submits, visits.
events_csv() {
	cat >"$1" <<'CSV'
customer,time,amount,order,type,channel
c2,2023-01-01T10:00:00Z,5.00,o9,order,web
c1,2023-01-05T00:00:00Z,10.00,o1,order,ads
c1,2023-01-05T00:00:00Z,10.00,o1,order,ads
c1,2023-01-05T00:00:10Z,2.50,o1,order,ads
c1,2023-01-06T00:00:00Z,7.00,o2,order,ads
c1,2023-01-06T00:05:00Z,7.00,o3,order,ads
c1,2023-01-06T00:12:00Z,7.00,o4,order,ads
c1,2023-01-07T00:00:00Z,,,visit,ads
c1,2023-01-07T00:00:00Z,,,visit,ads
c1,2023-01-07T00:01:00Z,,,visit,ads
a1,2023-01-01T00:00:00Z,1.00,o5,order,web
CSV
}

events() {
	events_csv "$T/ev.csv"
	ingest --customer customer --time time --amount amount --order order --type type \
		--attr channel "$T/ev.csv" >"$T/ev.rtn"
}

# Events of the CDNOW sample.
cdnow() {
	ingest --delimiter ws --customer 1 --time 2 --time-format %Y%m%d --amount 4 \
		"$CDNOW/CDNOW_master.txt"
}

# read = kept + removed, from the --stats line in file $1.
stats_add_up() {
	awk '/ read / {
		gsub(/[,:]/, "")
		for (i = 1; i <= NF; i++) v[$i] = $(i + 1)
		ok = v["read"] == v["kept"] + v["removed"] && \
		     v["removed"] == v["exact"] + v["order"] + v["key"] + v["within"] + v["rollup"]
		exit !ok }' "$1"
}

@test "--help lists every option, --version, bad option is a usage error" {
	run dedupe --help
	[ "$status" -eq 0 ]
	for o in --key --rollup --within --alias --dups --memory --tmpdir --stats --progress -o -u --version; do
		echo "$output" | grep -q -- "$o" || { echo "missing $o"; false; }
	done
	run dedupe --version
	[ "$status" -eq 0 ]
	[[ "$output" == "dedupe (retain) "* ]]
	run dedupe --no-such-option
	[ "$status" -eq 2 ]
}

@test "man page is lint clean and documents every option" {
	run mandoc -T lint -W warning "$TOP/man/man1/dedupe.1"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	for o in key rollup within alias dups memory tmpdir stats progress; do
		grep -q "^\.It Fl -$o" "$TOP/man/man1/dedupe.1" || { echo "missing $o"; false; }
	done
}

@test "CDNOW: keeps 69,404 events and removes the 255 exact duplicates" {
	cdnow >"$T/cd.rtn"
	dedupe --stats "$T/cd.rtn" 2>"$T/err" >"$T/out.rtn"
	[ "$(inspect --count "$T/out.rtn")" -eq 69404 ]
	grep -q "read 69659, kept 69404, removed 255: exact 255, order 0" "$T/err"
	stats_add_up "$T/err"
	run inspect --header "$T/out.rtn"
	echo "$output" | grep -q "^flags	sorted"
	echo "$output" | grep -q "^program	dedupe 0"
	echo "$output" | grep -q "^program	ingest"
}

@test "output is sorted by customer bytes, then time, then the other columns" {
	cdnow >"$T/cd.rtn"
	dedupe "$T/cd.rtn" | inspect --no-names >"$T/out.tsv"
	LC_ALL=C sort -c -s -t '	' -k1,1 -k2,2 -k3,3n "$T/out.tsv"
	# a time-ordered export comes out in customer order
	synth --customers 300 --format csv -o "$T/s.csv"
	{ head -1 "$T/s.csv"; tail -n +2 "$T/s.csv" | LC_ALL=C sort -t, -k3,3; } >"$T/t.csv"
	ingest "$T/t.csv" | dedupe | inspect --no-names >"$T/t.tsv"
	[ "$(wc -l <"$T/t.tsv")" -eq "$(($(wc -l <"$T/t.csv") - 1))" ]
	LC_ALL=C sort -c -s -t '	' -k1,1 -k2,2 "$T/t.tsv"
}

@test "the same events in another order give byte-identical output" {
	events_csv "$T/a.csv"
	{ head -1 "$T/a.csv"; tail -n +2 "$T/a.csv" | sort -r; } >"$T/b.csv"
	for f in a b; do
		ingest --customer customer --time time --amount amount --order order --type type \
			--attr channel "$T/$f.csv" | dedupe >"$T/$f.rtn"
	done
	# provenance lines differ only by the file name given to ingest
	cmp <(inspect "$T/a.rtn") <(inspect "$T/b.rtn")
	LC_ALL=de_DE.UTF-8 TZ=Asia/Tokyo dedupe "$T/a.rtn" >"$T/c.rtn"
	cmp <(inspect "$T/a.rtn") <(inspect "$T/c.rtn")
}

@test "--key exact (default): only events equal in every column; --dups has the reason" {
	events
	dedupe --stats --dups "$T/dups.rtn" "$T/ev.rtn" 2>"$T/err" | inspect --no-names >"$T/out.tsv"
	[ "$(wc -l <"$T/out.tsv")" -eq 9 ]
	grep -q "read 11, kept 9, removed 2: exact 2, order 0, key 0, within 0, rollup 0" "$T/err"
	run inspect --no-names "$T/dups.rtn"
	[ "${lines[0]}" = "c1	2023-01-05T00:00:00Z	10.00	o1	order	ads	exact" ]
	[ "${lines[1]}" = "c1	2023-01-07T00:00:00Z			visit	ads	exact" ]
	[ "${#lines[@]}" -eq 2 ]
	inspect --header "$T/dups.rtn" | grep -q "^column	reason	string"
	[ "$(head -1 "$T/out.tsv" | cut -f1)" = a1 ]
}

@test "--key order: first event of an order kept; visits without order id are not merged" {
	events
	dedupe --key order --stats --dups "$T/dups.rtn" "$T/ev.rtn" 2>"$T/err" | inspect --no-names >"$T/out.tsv"
	grep -q "read 11, kept 8, removed 3: exact 2, order 1, key 0" "$T/err"
	stats_add_up "$T/err"
	grep -q "^c1	2023-01-05T00:00:00Z	10.00	o1	" "$T/out.tsv"
	! grep -q "2.50" "$T/out.tsv"
	[ "$(grep -c visit "$T/out.tsv")" -eq 2 ]
	inspect --no-names "$T/dups.rtn" | grep -q "^c1	2023-01-05T00:00:10Z	2.50	o1	order	ads	order$"
	LC_ALL=C sort -c -s -t '	' -k1,1 -k2,2 "$T/out.tsv"
}

@test "--key order --rollup sums line items into the order's first event" {
	events
	dedupe --key order --rollup --stats --dups "$T/dups.rtn" "$T/ev.rtn" 2>"$T/err" | inspect --no-names >"$T/out.tsv"
	grep -q "read 11, kept 8, removed 3: exact 2, order 0, key 0, within 0, rollup 1" "$T/err"
	grep -q "^c1	2023-01-05T00:00:00Z	12.50	o1	order	ads$" "$T/out.tsv"
	inspect --no-names "$T/dups.rtn" | grep -q "	2.50	o1	order	ads	rollup$"
	# the exact copy of the 10.00 line item is not summed
	! grep -q "22.50" "$T/out.tsv"
	run dedupe --rollup "$T/ev.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--rollup needs --key"* ]]
}

@test "--key COL,COL: same customer and columns" {
	events
	dedupe --key channel,type --stats "$T/ev.rtn" 2>"$T/err" | inspect --no-names >"$T/out.tsv"
	grep -q "read 11, kept 4, removed 7: exact 2, order 0, key 5" "$T/err"
	[ "$(cut -f1,5 "$T/out.tsv" | tr '\n' ' ')" = "a1	order c1	order c1	visit c2	order " ]
	# the customer alone: one event per customer, the first in time
	dedupe --key customer "$T/ev.rtn" | inspect --no-names | cut -f1,2 >"$T/first.tsv"
	[ "$(tr '\n' ' ' <"$T/first.tsv")" = "a1	2023-01-01T00:00:00Z c1	2023-01-05T00:00:00Z c2	2023-01-01T10:00:00Z " ]
	run dedupe --key nosuch "$T/ev.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no column 'nosuch'"*"customer, time"* ]]
	run dedupe --key a,,b "$T/ev.rtn"
	[ "$status" -eq 2 ]
}

@test "--within: same customer and amount closer than the duration" {
	events
	dedupe --within 10min --stats --dups "$T/dups.rtn" "$T/ev.rtn" 2>"$T/err" | inspect --no-names >"$T/out.tsv"
	grep -q "read 11, kept 8, removed 3: exact 2, order 0, key 0, within 1, rollup 0" "$T/err"
	# 7.00 at 00:00 kept, 00:05 dropped, 00:12 is 12 minutes after the kept one: kept
	grep -q "2023-01-06T00:00:00Z	7.00	o2" "$T/out.tsv"
	! grep -q "	o3	" "$T/out.tsv"
	grep -q "2023-01-06T00:12:00Z	7.00	o4" "$T/out.tsv"
	inspect --no-names "$T/dups.rtn" | grep -q "	o3	order	ads	within$"
	dedupe --within 1h --stats "$T/ev.rtn" 2>"$T/err" >/dev/null
	grep -q "within 2," "$T/err"
	dedupe --within 30s --stats "$T/ev.rtn" 2>"$T/err" >/dev/null
	grep -q "within 0," "$T/err"
	for bad in 0s 5 1mo 10m x; do
		run dedupe --within "$bad" "$T/ev.rtn"
		[ "$status" -eq 2 ] || { echo "accepted --within $bad"; false; }
	done
}

@test "--alias: chains resolve, events move to the canonical id" {
	events
	printf 'alias,canonical\na1,c2\nc2,"z9"\n' >"$T/alias.csv"
	dedupe --alias "$T/alias.csv" --stats "$T/ev.rtn" 2>"$T/err" | inspect --no-names >"$T/out.tsv"
	grep -q "aliased 2" "$T/err"
	[ "$(grep -c '^z9	' "$T/out.tsv")" -eq 2 ]
	! grep -q '^a1	' "$T/out.tsv"
	! grep -q '^c2	' "$T/out.tsv"
	# tab-separated works too
	printf 'a1\tc1\n' >"$T/alias.tsv"
	dedupe --alias "$T/alias.tsv" "$T/ev.rtn" | inspect --no-names | cut -f1 | sort -u >"$T/ids"
	[ "$(tr '\n' ' ' <"$T/ids")" = "c1 c2 " ]
}

@test "--alias: cycles, conflicting targets and malformed lines are errors" {
	events
	printf 'a,b\nb,c\nc,a\n' >"$T/cycle.csv"
	run dedupe --alias "$T/cycle.csv" "$T/ev.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"alias cycle: "*" -> "*" -> "*" -> "* ]]
	printf 'a,b\na,c\n' >"$T/conflict.csv"
	run dedupe --alias "$T/conflict.csv" "$T/ev.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"conflict.csv:2: alias 'a' maps to 'c' here but to 'b' on line 1"* ]]
	printf 'a,b,c\n' >"$T/three.csv"
	run dedupe --alias "$T/three.csv" "$T/ev.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"three.csv:1: expected 2 fields"* ]]
	run dedupe --alias "$T/missing.csv" "$T/ev.rtn"
	[ "$status" -eq 2 ]
}

@test "ids sharing hashes and key prefixes are never merged (RETAIN_TEST_HASH_BITS=0)" {
	cat >"$T/ids.csv" <<'CSV'
customer,time,amount
customer-000000000000000001,2023-01-01,1.00
customer-000000000000000002,2023-01-01,1.00
customer-000000000000000001,2023-01-01,1.00
customer-00000000000000000,2023-01-01,1.00
CSV
	ingest --customer customer --time time --amount amount "$T/ids.csv" >"$T/ids.rtn"
	printf 'customer-000000000000000002,customer-00000000000000000X\n' >"$T/alias.csv"
	RETAIN_TEST_HASH_BITS=0 dedupe --stats --alias "$T/alias.csv" --memory 1k "$T/ids.rtn" 2>"$T/err" |
		inspect --no-names | cut -f1 >"$T/out"
	grep -q "kept 3, removed 1: exact 1" "$T/err"
	[ "$(tr '\n' ' ' <"$T/out")" = "customer-00000000000000000 customer-000000000000000001 customer-00000000000000000X " ]
	cdnow >"$T/cd.rtn"
	dedupe "$T/cd.rtn" | inspect >"$T/a.tsv"
	RETAIN_TEST_HASH_BITS=0 dedupe --memory 512k "$T/cd.rtn" | inspect >"$T/b.tsv"
	cmp "$T/a.tsv" "$T/b.tsv"
}

@test "a sort that spills (tiny --memory) gives the same output as one in memory, every mode" {
	synth --customers 8000 --dup-rate 0.02 --alias-rate 0.05 --alias-file "$T/al.csv" \
		--format stream -o "$T/s.rtn"
	mkdir "$T/tmp"
	for mode in "" "--key order" "--key order --rollup" "--within 2h" "--key channel,sku"; do
		# shellcheck disable=SC2086
		dedupe $mode --alias "$T/al.csv" --stats --dups "$T/d1.rtn" -o "$T/big.rtn" "$T/s.rtn" 2>"$T/e1"
		# shellcheck disable=SC2086
		dedupe $mode --alias "$T/al.csv" --stats --dups "$T/d2.rtn" --memory 64k --tmpdir "$T/tmp" \
			-o "$T/small.rtn" "$T/s.rtn" 2>"$T/e2"
		grep -q "0 runs spilled" "$T/e1"
		grep -Eq "sort 1: .* [1-9][0-9]+ runs spilled" "$T/e2" || { cat "$T/e2"; false; }
		cmp <(inspect "$T/big.rtn") <(inspect "$T/small.rtn")
		cmp <(inspect "$T/d1.rtn") <(inspect "$T/d2.rtn")
		[ "$(head -1 "$T/e1")" = "$(head -1 "$T/e2")" ]
		stats_add_up "$T/e2"
		[ -z "$(ls -A "$T/tmp")" ] || { echo "left: $(ls "$T/tmp")"; false; }
	done
	# enough runs for intermediate merges
	grep -Eq "merge passes" "$T/e2"
}

@test "SIGTERM while spilling leaves no temporary files and no output" {
	synth --customers 150000 --format stream -u -o "$T/s.rtn"
	mkdir "$T/tmp"
	dedupe --memory 64k --tmpdir "$T/tmp" -o "$T/out.rtn" "$T/s.rtn" &
	pid=$!
	for _ in $(seq 1 200); do
		[ -n "$(ls -A "$T/tmp")" ] && break
		sleep 0.05
	done
	[ -n "$(ls -A "$T/tmp")" ]
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 143 ]
	[ -z "$(ls -A "$T/tmp")" ] || { echo "left: $(ls "$T/tmp")"; false; }
	[ ! -e "$T/out.rtn" ]
	[ -z "$(ls -A "$T" | grep -v -e '^s.rtn$' -e '^tmp$')" ]
}

@test "| head while merging spilled runs: dies of SIGPIPE quietly, temporary files removed" {
	synth --customers 20000 --format stream -u -o "$T/s.rtn"
	mkdir "$T/tmp"
	rc=$(bash -c "dedupe --memory 64k --tmpdir '$T/tmp' '$T/s.rtn' 2>'$T/err' | head -c 100 >/dev/null; echo \${PIPESTATUS[0]}")
	[ "$rc" -eq 141 ]
	[ ! -s "$T/err" ]
	[ -z "$(ls -A "$T/tmp")" ] || { echo "left: $(ls "$T/tmp")"; false; }
	rc=$(bash -c "trap '' PIPE; dedupe --memory 64k --tmpdir '$T/tmp' '$T/s.rtn' 2>'$T/err' | head -c 100 >/dev/null; echo \${PIPESTATUS[0]}")
	[ "$rc" -eq 4 ]
	grep -q "standard output: write error: Broken pipe" "$T/err"
	[ -z "$(ls -A "$T/tmp")" ]
}

@test "a damaged input found after spilling: exit 3 and temporary files removed" {
	synth --customers 20000 --format stream -u -o "$T/s.rtn"
	size=$(wc -c <"$T/s.rtn")
	head -c $((size - 100)) "$T/s.rtn" >"$T/cut.rtn"
	mkdir "$T/tmp"
	run dedupe --memory 64k --tmpdir "$T/tmp" -o "$T/out.rtn" "$T/cut.rtn"
	[ "$status" -eq 3 ]
	[[ "$output" == *"cut.rtn: block "*"at byte "* ]]
	[ -z "$(ls -A "$T/tmp")" ]
	[ ! -e "$T/out.rtn" ]
}

@test "bad input: CSV (did you forget ingest?), empty, truncated, flipped bit, missing, directory" {
	small_orders_csv "$T/o.csv"
	run dedupe <"$T/o.csv"
	[ "$status" -eq 3 ]
	[[ "$output" == *"did you forget ingest?"* ]]
	run dedupe </dev/null
	[ "$status" -eq 3 ]
	events
	size=$(wc -c <"$T/ev.rtn")
	head -c $((size - 1)) "$T/ev.rtn" >"$T/trunc.rtn"
	run dedupe "$T/trunc.rtn"
	[ "$status" -eq 3 ]
	cp "$T/ev.rtn" "$T/flip.rtn"
	printf '\377' | dd of="$T/flip.rtn" bs=1 seek=$((size - 40)) conv=notrunc 2>/dev/null
	run dedupe "$T/flip.rtn"
	[ "$status" -eq 3 ]
	run dedupe "$T/nonexistent.rtn"
	[ "$status" -eq 2 ]
	run dedupe "$T"
	[ "$status" -eq 2 ]
	# concatenated streams are one input
	dedupe --stats "$T/ev.rtn" "$T/ev.rtn" 2>"$T/err" >/dev/null
	grep -q "read 22, kept 9, removed 13: exact 13" "$T/err"
}

@test "output errors: /dev/full exits 4, -o is atomic, options checked" {
	events
	run sh -c 'dedupe "$1" >/dev/full' sh "$T/ev.rtn"
	[ "$status" -eq 4 ]
	[[ "$output" == *"dedupe: "*"No space left on device"* ]]
	echo old >"$T/out.rtn"
	run dedupe -o "$T/out.rtn" "$T/trunc-missing.rtn"
	[ "$status" -eq 2 ]
	[ "$(cat "$T/out.rtn")" = old ]
	dedupe -o "$T/out.rtn" "$T/ev.rtn"
	[ "$(inspect --count "$T/out.rtn")" -eq 9 ]
	run dedupe --tmpdir "$T/nonexistent" "$T/ev.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--tmpdir"* ]]
	run dedupe --memory 12X "$T/ev.rtn"
	[ "$status" -eq 2 ]
	run dedupe --dups - "$T/ev.rtn"
	[ "$status" -eq 2 ]
	dedupe --dups - -o "$T/kept.rtn" "$T/ev.rtn" | inspect --count | grep -qx 2
	run dedupe --rollup --within 1h --key order "$T/ev.rtn"
	[ "$status" -eq 2 ]
}

@test "-u writes stored blocks, -o compressed; same records" {
	events
	dedupe -u -o "$T/u.rtn" "$T/ev.rtn"
	dedupe -o "$T/z.rtn" "$T/ev.rtn"
	cmp <(inspect "$T/u.rtn") <(inspect "$T/z.rtn")
	inspect --check "$T/u.rtn" "$T/z.rtn"
}

@test "--progress shows the phases on standard error" {
	synth --customers 5000 --format stream -o "$T/s.rtn"
	dedupe --progress --memory 64k --tmpdir "$T" "$T/s.rtn" 2>"$T/err" >/dev/null
	grep -q "dedupe: spill" "$T/err"
	grep -q "dedupe: merge" "$T/err"
}
