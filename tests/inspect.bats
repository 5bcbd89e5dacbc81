#!/usr/bin/env bats
# inspect (cmd/inspect.c): text views of a stream, and the integrity check against damage.

load helpers

fixture() {
	small_orders_csv "$T/o.csv"
	ingest --attr channel "$T/o.csv" -o "$T/o.rtn"
}

@test "inspect prints records as TSV with column names" {
	fixture
	run inspect "$T/o.rtn"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(printf 'customer\ttime\tamount\torder\ttype\tchannel')" ]
	[ "${lines[1]}" = "$(printf 'c1\t2023-01-05T00:00:00Z\t10.00\to1\torder\tads')" ]
	[ "${lines[5]}" = "$(printf 'c2\t2023-03-15T00:00:00Z\t-5.25\to5\trefund\treferral')" ]
	[ "${#lines[@]}" -eq 6 ]
}

@test "inspect --header shows kind, schema and provenance" {
	fixture
	run inspect --header "$T/o.rtn"
	[ "$status" -eq 0 ]
	[[ "$output" == *"kind	events"* ]]
	[[ "$output" == *"column	amount	money"* ]]
	[[ "$output" == *"column	channel	string"* ]]
	[[ "$output" == *"program	ingest"*"--attr channel"* ]]
}

@test "inspect --count and --head" {
	fixture
	run inspect --count "$T/o.rtn"
	[ "$output" = 5 ]
	run inspect --head 2 --no-names "$T/o.rtn"
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == c1*o2* ]]
}

@test "inspect --format csv quotes per RFC 4180 and jsonl is valid JSON" {
	printf 'customer_id,date,amount,note\n"a,b",2023-01-01,1,"say ""hi"""\n' >"$T/q.csv"
	ingest --attr note "$T/q.csv" -o "$T/q.rtn"
	run inspect --format csv --no-names "$T/q.rtn"
	[ "$output" = '"a,b",2023-01-01T00:00:00Z,1.00,,order,"say ""hi"""' ]
	run inspect --format jsonl "$T/q.rtn"
	[ "$output" = '{"customer":"a,b","time":"2023-01-01T00:00:00Z","amount":1.00,"order":"","type":"order","note":"say \"hi\""}' ]
}

@test "inspect reads concatenated streams as one" {
	fixture
	cat "$T/o.rtn" "$T/o.rtn" >"$T/two.rtn"
	run inspect --count "$T/two.rtn"
	[ "$status" -eq 0 ]
	[ "$output" = 10 ]
	run inspect --count "$T/o.rtn" "$T/o.rtn"
	[ "$output" = 10 ]
}

@test "a version 1 stream (earlier releases) reads as the same records, alone or followed by version 2" {
	v1=tests/fuzz/regress/stream/seed-v1-stored
	[ "$(inspect --header "$v1" | grep '^version')" = "$(printf 'version\t1.0')" ]
	inspect --format csv "$v1" >"$T/s.csv"
	ingest --attr channel -u -o "$T/v2.rtn" "$T/s.csv"
	[ "$(inspect --header "$T/v2.rtn" | grep '^version')" = "$(printf 'version\t2.0')" ]
	# version 2 is smaller: repeated ids and attributes, time steps
	[ "$(stat -c %s "$T/v2.rtn")" -lt "$(stat -c %s "$v1")" ]
	[ "$(inspect "$T/v2.rtn" | md5sum)" = "$(inspect "$v1" | md5sum)" ]
	cat "$v1" "$T/v2.rtn" "$v1" >"$T/mixed.rtn"
	inspect --check "$T/mixed.rtn" >/dev/null
	n=$(inspect --count "$v1")
	[ "$(inspect --count "$T/mixed.rtn")" -eq $((3 * n)) ]
	[ "$(inspect --no-names "$T/mixed.rtn" | sort | uniq -c | awk '$1 != 3' | wc -l)" -eq 0 ]
	# deflated blocks (inflated ahead in worker threads) as well
	z1=tests/fuzz/regress/stream/seed-v1-deflate
	ingest --attr channel -o "$T/v2z.rtn" "$T/s.csv"
	cat "$z1" "$T/v2z.rtn" "$z1" "$T/v2z.rtn" >"$T/mixedz.rtn"
	[ "$(inspect "$T/mixedz.rtn" | md5sum)" = "$(cat "$T/v2.rtn" "$T/v2.rtn" "$T/v2.rtn" "$T/v2.rtn" | inspect | md5sum)" ]
	rfm --asof 2024-12-31 "$v1" | inspect >"$T/r1"
	rfm --asof 2024-12-31 "$T/v2.rtn" | inspect >"$T/r2"
	cmp "$T/r1" "$T/r2"
}

@test "inspect --check passes an intact file" {
	fixture
	run inspect --check "$T/o.rtn"
	[ "$status" -eq 0 ]
	[[ "$output" == *": ok: 5 records in 1 blocks" ]]
}

@test "inspect --check: a cut at every byte offset exits 3" {
	fixture
	size=$(wc -c <"$T/o.rtn")
	bad=""
	i=0
	while [ "$i" -lt "$size" ]; do
		head -c "$i" "$T/o.rtn" >"$T/cut.rtn"
		rc=0
		inspect --check "$T/cut.rtn" >/dev/null 2>&1 || rc=$?
		[ "$rc" -eq 3 ] || bad="$bad $i:$rc"
		i=$((i + 1))
	done
	[ -z "$bad" ] || { echo "not detected at:$bad"; false; }
}

@test "inspect --check: a flipped bit in every byte exits 3" {
	# Every byte gets one flipped bit (the bit rotates with the offset); the C
	# unit test test_stream flips all 8 bits of every byte of its fixture.
	fixture
	size=$(wc -c <"$T/o.rtn")
	bad=""
	i=0
	while [ "$i" -lt "$size" ]; do
		bit=$((1 << (i % 8)))
		cp "$T/o.rtn" "$T/flip.rtn"
		flipbit "$T/flip.rtn" "$i" "$bit"
		rc=0
		inspect --check "$T/flip.rtn" >/dev/null 2>&1 || rc=$?
		[ "$rc" -eq 3 ] || bad="$bad $i/$bit:$rc"
		i=$((i + 1))
	done
	[ -z "$bad" ] || { echo "not detected:$bad"; false; }
}

@test "inspect names the block and byte offset of damage" {
	fixture
	size=$(wc -c <"$T/o.rtn")
	head -c $((size - 10)) "$T/o.rtn" >"$T/cut.rtn"
	run inspect --check "$T/cut.rtn"
	[ "$status" -eq 3 ]
	[[ "$output" == *"cut.rtn: block 2 at byte "*": truncated"* ]]
}

@test "inspect: CSV instead of a stream says did you forget ingest" {
	small_orders_csv "$T/o.csv"
	run inspect "$T/o.csv"
	[ "$status" -eq 3 ]
	[[ "$output" == *"did you forget ingest?"* ]]
}

@test "inspect: empty input, text-mode damage, garbage after the end" {
	fixture
	: >"$T/empty"
	run inspect --check "$T/empty"
	[ "$status" -eq 3 ]
	[[ "$output" == *"empty input"* ]]
	sed 's/\r$//' "$T/o.rtn" >"$T/tm.rtn" # CR LF -> LF, as a text-mode copy would
	run inspect --check "$T/tm.rtn"
	[ "$status" -eq 3 ]
	[[ "$output" == *"text-mode"* ]]
	{ cat "$T/o.rtn"; printf 'junk'; } >"$T/g.rtn"
	run inspect --check "$T/g.rtn"
	[ "$status" -eq 3 ]
	[[ "$output" == *"garbage after the end"* ]]
}

@test "inspect: missing file and directory exit 2" {
	run inspect "$T/nope.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"nope.rtn"*"cannot open"* ]]
	run inspect "$T"
	[ "$status" -eq 2 ]
	[[ "$output" == *"is a directory"* ]]
}

@test "inspect: /dev/full fails with a message; | head -1 is quiet" {
	fixture
	run inspect "$T/o.rtn" ">/dev/full"
	run sh -c "inspect '$T/o.rtn' >/dev/full"
	[ "$status" -eq 4 ]
	[[ "$output" == *"write error"* ]]
	{ echo "customer_id,date,amount"; seq 1 3000 | sed 's/.*/c&,2023-01-01,1.00/'; } >"$T/big.csv"
	ingest "$T/big.csv" -o "$T/big.rtn"
	run sh -c "inspect '$T/big.rtn' | head -1"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'customer\ttime\tamount\torder\ttype')" ]
}

@test "inspect: with SIGPIPE ignored a broken pipe is exit 4 with a message" {
	{ echo "customer_id,date,amount"; seq 1 20000 | sed 's/.*/c&,2023-01-01,1.00/'; } >"$T/big.csv"
	ingest "$T/big.csv" -o "$T/big.rtn"
	run bash -c "trap '' PIPE; inspect '$T/big.rtn' | head -1 >/dev/null; exit \${PIPESTATUS[0]}"
	[ "$status" -eq 4 ]
	[[ "$output" == *"Broken pipe"* ]]
}

@test "inspect --help and --version" {
	run inspect --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:\ inspect* ]]
	run inspect --version
	[[ "$output" == "inspect (retain) "* ]]
	run inspect --bogus
	[ "$status" -eq 2 ]
}
