#!/usr/bin/env bats
# segment-export (cmd/segment-export.c): selection, output formats and safety, campaigns, control
# groups, suppression, contact cost, summary. Customer streams are built from
# TSV by tests/unit/mkcustomers.c so these tests do not depend on rfm.

load helpers

setup_file() {
	local top
	top=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	${CC:-cc} -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$top/lib" \
		-o "$BATS_FILE_TMPDIR/mkcustomers" "$top/tests/unit/mkcustomers.c" \
		"$top/lib/stream.c" "$top/lib/crc32.c" "$top/lib/util.c" "$top/lib/workers.c" -lz -lm
}

mk() { "$BATS_FILE_TMPDIR/mkcustomers" "$@"; }

# Five customers with churnscore columns; c5's fields test quoting.
small() {
	printf '%s\n' \
		"customer:string	email:string	segment:string	stage:string	recency:int	orders:int	revenue:money	clv:money	p_alive:float	risk:string	channel:string	last:time" \
		"c1	a@x.com	At risk	declining	200	3	120.50	300	0.5	high	ads	2023-01-05" \
		"c2	=HYPERLINK(\"http://evil\")	Champions	mature	5	10	1000	2000	0.95	low	referral	2023-06-01" \
		"c3	C3@X.com	Lost	churned	400	1	10	5	0.1	high	ads	2022-01-01" \
		"c4		Can't lose them	declining	150	8	800			medium		" \
		"c5	@sum, \"q\"	Need attention	growing	30	2	-5.25	50	0.8	low	e-mail	2023-05-01" |
		mk "$T/c.rtn"
}

# N synthetic customers c0001..cN: segment cycles through four names, clv = i.
many() {
	awk -v n="$1" 'BEGIN {
		print "customer:string\temail:string\tsegment:string\tstage:string\tclv:money\tp_alive:float"
		split("At risk,Lost,Champions,Hibernating", seg, ",")
		for (i = 1; i <= n; i++)
			printf "c%04d\tu%d@example.com\t%s\tchurned\t%d\t0.5\n", i, i, seg[i % 4 + 1], i
	}' | mk "$T/many.rtn"
}

@test "segment-export: --help and --version" {
	run segment-export --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:\ segment-export* ]]
	[[ "$output" == *--contact-cost* ]]
	run segment-export --version
	[ "$status" -eq 0 ]
	[[ "$output" == "segment-export (retain) "* ]]
	run segment-export --no-such-option
	[ "$status" -eq 2 ]
}

@test "segment-export: default fields, CSV header, every record" {
	small
	run segment-export "$T/c.rtn"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "customer,email,segment,stage,recency,orders,revenue,clv,p_alive,risk" ]
	[ "${lines[1]}" = "c1,a@x.com,At risk,declining,200,3,120.50,300.00,0.5,high" ]
	[ "${lines[4]}" = "c4,,Can't lose them,declining,150,8,800.00,,,medium" ]
	[ "${#lines[@]}" -eq 6 ]
}

@test "segment-export: --segment matches names loosely, --stage filters" {
	small
	run segment-export --segment at-risk,CANT_LOSE_THEM --fields customer "$T/c.rtn"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'customer\nc1\nc4')" ]
	run segment-export --stage churned,growing --fields customer "$T/c.rtn"
	[ "$output" = "$(printf 'customer\nc3\nc5')" ]
}

@test "segment-export: --where with and/or/not, parentheses, dates, null" {
	small
	run segment-export --fields customer --where "(clv > 100 or risk = 'medium') and not segment = 'Champions'" "$T/c.rtn"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'customer\nc1\nc4')" ]
	run segment-export --fields customer --where "last >= '2023-05-01' and channel in ('referral', 'e-mail')" "$T/c.rtn"
	[ "$output" = "$(printf 'customer\nc2\nc5')" ]
	run segment-export --fields customer --where "clv = null" "$T/c.rtn"
	[ "$output" = "$(printf 'customer\nc4')" ]
}

@test "segment-export: --where errors name the position, exit 2" {
	small
	run segment-export --where "clv > 100 and (risk = 'high'" "$T/c.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"segment-export: --where: at position 29: expected ')' to close the '(' at position 15, found end of expression"* ]]
	run segment-export --where "segmnt = 'x'" "$T/c.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"at position 1: unknown column 'segmnt' (columns: customer, email, segment"* ]]
	run segment-export --where "recency > '30'" "$T/c.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"at position 9: cannot compare int column 'recency' with a string"* ]]
}

@test "segment-export: --fields, unknown field lists the columns" {
	small
	run segment-export --fields customer,clv,segment --segment lost "$T/c.rtn"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'customer,clv,segment\nc3,5.00,Lost')" ]
	run segment-export --fields customer,bogus "$T/c.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--fields: unknown column 'bogus' (input columns: customer, email"* ]]
}

@test "segment-export: formula cells neutralised, RFC 4180 quoting, own numbers plain" {
	small
	run segment-export --fields customer,email,revenue "$T/c.rtn"
	[ "$status" -eq 0 ]
	[ "${lines[2]}" = "c2,\"'=HYPERLINK(\"\"http://evil\"\")\",1000.00" ]
	[ "${lines[5]}" = "c5,\"'@sum, \"\"q\"\"\",-5.25" ]
	run segment-export --format tsv --fields customer,email,revenue "$T/c.rtn"
	[ "${lines[0]}" = "$(printf 'customer\temail\trevenue')" ]
	[ "${lines[2]}" = "$(printf "c2\t'=HYPERLINK(\"http://evil\")\t1000.00")" ]
	[ "${lines[5]}" = "$(printf "c5\t'@sum, \"q\"\t-5.25")" ]
}

@test "segment-export: JSON Lines, numbers plain, times as text, null" {
	small
	run segment-export --format jsonl --fields customer,clv,last,email --segment cant-lose-them,champions "$T/c.rtn"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"customer":"c2","clv":2000.00,"last":"2023-06-01T00:00:00Z","email":"=HYPERLINK(\"http://evil\")"}' ]
	[ "${lines[1]}" = '{"customer":"c4","clv":null,"last":null,"email":""}' ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "segment-export: -o is atomic, mode 0600, old file kept on failure" {
	small
	umask 022
	segment-export -o "$T/a.csv" "$T/c.rtn"
	[ "$(stat -c %a "$T/a.csv")" = 600 ]
	[ "$(wc -l <"$T/a.csv")" -eq 6 ]
	head -c 300 "$T/c.rtn" >"$T/cut.rtn"
	run segment-export -o "$T/a.csv" "$T/cut.rtn"
	[ "$status" -eq 3 ]
	[[ "$output" == *"cut.rtn: block 1 at byte"* ]]
	[ "$(wc -l <"$T/a.csv")" -eq 6 ]
	[ "$(ls -A "$T" | grep -c '^\.a\.csv')" -eq 0 ]
	run sh -c 'segment-export "$1" >/dev/full' sh "$T/c.rtn"
	[ "$status" -eq 4 ]
	[[ "$output" == *"standard output: write error"* ]]
}

@test "segment-export: --split-by writes one 0600 file per value" {
	small
	run segment-export --split-by channel --fields customer,channel -o "$T/out/" "$T/c.rtn"
	[ "$status" -eq 0 ]
	[ "$(cd "$T/out" && ls | tr '\n' ' ')" = "_empty.csv ads.csv e-mail.csv referral.csv " ]
	[ "$(cat "$T/out/ads.csv")" = "$(printf 'customer,channel\nc1,ads\nc3,ads')" ]
	[ "$(stat -c %a "$T/out/ads.csv")" = 600 ]
	run segment-export --split-by channel "$T/c.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--split-by needs -o DIR/"* ]]
}

@test "segment-export: --top N --by COLUMN, ties by customer, counted" {
	small
	run segment-export --top 3 --by clv --fields customer,clv --stats "$T/c.rtn"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "customer,clv" ]
	[ "${lines[1]}" = "c2,2000.00" ]
	[ "${lines[2]}" = "c1,300.00" ]
	[ "${lines[3]}" = "c5,50.00" ]
	[[ "$output" == *"read 5, written 3"*"beyond top 2"* ]]
	run segment-export --progress --fields customer "$T/c.rtn"
	[ "$status" -eq 0 ]
	[[ "$output" == *"segment-export: read: "*"5 rows"* ]]
	run segment-export --top 2 "$T/c.rtn"
	[ "$status" -eq 2 ]
}

@test "segment-export: --campaign maps segment and stage to channel, offer, message" {
	small
	cat >"$T/spring.csv" <<'CSV'
segment,stage,channel,offer,message
At risk,,email,WINBACK20,m-101
can't lose them,*,call,VIP,m-102
,churned,sms,COMEBACK10,m-103
CSV
	run segment-export --campaign "$T/spring.csv" --fields customer,campaign,channel,offer,message --stats "$T/c.rtn"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "customer,campaign,channel,offer,message" ]
	[ "${lines[1]}" = "c1,spring,email,WINBACK20,m-101" ]
	[ "${lines[2]}" = "c3,spring,sms,COMEBACK10,m-103" ]
	[ "${lines[3]}" = "c4,spring,call,VIP,m-102" ]
	[[ "$output" == *"read 5, written 3"*"no campaign rule 2"* ]]
	printf 'segment,chanel\nx,y\n' >"$T/bad.csv"
	run segment-export --campaign "$T/bad.csv" "$T/c.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.csv:1: unknown column 'chanel'"* ]]
}

@test "segment-export: --control is deterministic, near its share, per campaign" {
	many 4000
	segment-export --control 10% --campaign-id spring --fields customer,group "$T/many.rtn" >"$T/a.csv"
	segment-export --control 10% --campaign-id spring --fields customer,group "$T/many.rtn" >"$T/b.csv"
	cmp "$T/a.csv" "$T/b.csv"
	n=$(grep -c ',control$' "$T/a.csv")
	[ "$n" -gt 330 ] && [ "$n" -lt 470 ]
	[ "$(grep -c ',treatment$' "$T/a.csv")" -eq $((4000 - n)) ]
	segment-export --control 10% --campaign-id autumn --fields customer,group "$T/many.rtn" >"$T/c.csv"
	! cmp -s "$T/a.csv" "$T/c.csv"
	# a subset selection keeps each customer's group
	segment-export --control 10% --campaign-id spring --fields customer,group --segment lost "$T/many.rtn" >"$T/d.csv"
	[ "$(tail -n +2 "$T/d.csv" | sort)" = "$(grep -F -f <(tail -n +2 "$T/d.csv" | cut -d, -f1 | sed 's/$/,/') "$T/a.csv" | sort)" ]
	run segment-export --control 10% "$T/many.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--control needs --campaign FILE or --campaign-id ID"* ]]
	run segment-export --control 101% --campaign-id x "$T/many.rtn"
	[ "$status" -eq 2 ]
}

@test "segment-export: --group writes one group, the groups add up" {
	many 500
	segment-export --control 20% --campaign-id x --group control --fields customer "$T/many.rtn" >"$T/c.csv"
	segment-export --control 20% --campaign-id x --group treatment --fields customer "$T/many.rtn" >"$T/t.csv"
	[ $(( $(wc -l <"$T/c.csv") + $(wc -l <"$T/t.csv") - 2 )) -eq 500 ]
	[ -z "$(tail -n +2 "$T/c.csv" | grep -x -F -f - <(tail -n +2 "$T/t.csv"))" ]
}

@test "segment-export: --suppress drops ids and e-mails (any case), counted" {
	small
	printf 'email\n# do not contact\nc2\n\nA@X.COM\n' >"$T/sup.txt"
	run segment-export --suppress "$T/sup.txt" --fields customer --stats "$T/c.rtn"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'customer\nc3\nc4\nc5\nsegment-export: read 5, written 3 (treatment 0, control 0); dropped: filtered 0, suppressed 2, no campaign rule 0, below contact cost 0, other group 0, beyond top 0')" ]
	run segment-export --suppress "$T/missing.txt" "$T/c.rtn"
	[ "$status" -eq 2 ]
}

@test "segment-export: --contact-cost keeps erv = clv x p_alive above the cost" {
	small
	run segment-export --contact-cost 20 --fields customer,clv,p_alive,erv --stats "$T/c.rtn"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "customer,clv,p_alive,erv" ]
	[ "${lines[1]}" = "c1,300.00,0.5,150.00" ]
	[ "${lines[2]}" = "c2,2000.00,0.95,1900.00" ]
	[ "${lines[3]}" = "c5,50.00,0.8,40.00" ]
	[[ "$output" == *"below contact cost 2"* ]]
	run segment-export --contact-cost 40 --fields customer "$T/c.rtn"
	[ "$output" = "$(printf 'customer\nc1\nc2')" ]
	run segment-export --contact-cost 100 --erv-value revenue --fields customer,erv "$T/c.rtn"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'customer,erv\nc2,950.00')" ]
	run segment-export --erv-value email "$T/c.rtn"
	[ "$status" -eq 2 ]
	printf 'customer:string\tsegment:string\nc1\tx\n' | mk "$T/nochurn.rtn"
	run segment-export --contact-cost 1 "$T/nochurn.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--contact-cost needs the columns clv (money) and p_alive (float)"* ]]
}

@test "segment-export: --summary per segment and stage with totals" {
	small
	run segment-export --summary "$T/c.rtn"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "by,value,customers,share,revenue,revenue_share,aov,mean_recency,mean_orders,mean_p_alive,clv,repeat_rate" ]
	[ "${lines[1]}" = "segment,At risk,1,0.2000,120.50,0.0626,40.17,200.00,3.00,0.5000,300.00,1.0000" ]
	[[ "$output" == *$'\n'"stage,declining,2,0.4000,920.50,0.4781,83.68,175.00,5.50,0.5000,300.00,1.0000"$'\n'* ]]
	[ "${lines[${#lines[@]}-1]}" = "all,,5,1.0000,1925.25,1.0000,80.22,157.00,4.80,0.5875,2355.00,0.8000" ]
	run segment-export --summary-by channel --where "orders > 1" "$T/c.rtn"
	[ "${lines[1]}" = "channel,,1,0.2500,800.00,0.4177,100.00,150.00,8.00,,,1.0000" ]
	[ "${#lines[@]}" -eq 6 ]
}

@test "segment-export: wrong record kind and non-stream input are refused" {
	printf 'customer:string\ttime:time\nc1\t2023-01-01\n' | mk -k events "$T/ev.rtn"
	run segment-export "$T/ev.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"input holds events records, not customers (did you forget rfm?)"* ]]
	printf 'customer,segment\nc1,x\n' >"$T/c.csv"
	run segment-export "$T/c.csv"
	[ "$status" -ne 0 ]
	[ "$status" -ne 1 ]
}

@test "segment-export: accounting adds up with every filter at once" {
	many 1000
	printf 'c0001\nc0002\nu3@example.com\n' >"$T/sup.txt"
	run segment-export --where "clv > 10" --suppress "$T/sup.txt" --contact-cost 100 \
		--control 25% --campaign-id z --group treatment --top 50 --by clv --stats -o "$T/o.csv" "$T/many.rtn"
	[ "$status" -eq 0 ]
	# 10 filtered (clv <= 10), suppress hits nothing left, erv = clv/2 > 100 needs clv >= 201: 190 below cost
	[[ "$output" == *"read 1000, written 50 (treatment 50, control 0); dropped: filtered 10, suppressed 0, no campaign rule 0, below contact cost 190, other group "* ]]
	set -- $(echo "$output" | sed 's/.*other group \([0-9]*\), beyond top \([0-9]*\)/\1 \2/')
	[ $((50 + 10 + 190 + $1 + $2)) -eq 1000 ]
	[ "$(sed -n 2p "$T/o.csv" | cut -d, -f1)" = "c1000" ] || [ "$(sed -n 2p "$T/o.csv" | cut -d, -f1)" = "c0999" ]
	[ "$(wc -l <"$T/o.csv")" -eq 51 ]
}

@test "segment-export: injected faults end in a full file or a clean error, never a partial file" {
	small
	segment-export --top 3 --by clv -o "$T/want.csv" "$T/c.rtn"
	for kind in alloc write fsync close rename; do
		n=1
		while :; do
			rm -f "$T/o.csv"
			run env RETAIN_FAIL="$kind:$n" segment-export --top 3 --by clv -o "$T/o.csv" "$T/c.rtn"
			if [ "$status" -eq 0 ]; then
				cmp "$T/want.csv" "$T/o.csv"
				break
			fi
			[ "$status" -eq 4 ] || { echo "$kind:$n: exit $status: $output"; false; }
			[ ! -e "$T/o.csv" ]
			[ "$(ls -A "$T" | grep -c '^\.o\.csv')" -eq 0 ]
			n=$((n + 1))
			[ "$n" -lt 500 ]
		done
	done
	# the split mode too: failures leave no temporary files behind
	for n in 1 2 3; do
		run env RETAIN_FAIL="write:$n" segment-export --split-by segment -o "$T/split/" "$T/c.rtn"
		[ "$status" -eq 0 ] || [ "$status" -eq 4 ]
		[ "$(ls -A "$T/split" | grep -c '^\.')" -eq 0 ]
	done
}

@test "segment-export: same bytes whatever TZ and LC_ALL say" {
	small
	segment-export --summary "$T/c.rtn" >"$T/a"
	segment-export --format jsonl --contact-cost 1 --control 50% --campaign-id z "$T/c.rtn" >>"$T/a"
	TZ=Asia/Kolkata LC_ALL=de_DE.UTF-8 segment-export --summary "$T/c.rtn" >"$T/b"
	TZ=Asia/Kolkata LC_ALL=de_DE.UTF-8 segment-export --format jsonl --contact-cost 1 --control 50% --campaign-id z "$T/c.rtn" >>"$T/b"
	cmp "$T/a" "$T/b"
	grep -q '"campaign":"z","group":"' "$T/a"
	grep -q '"erv":150.00' "$T/a"
}

@test "segment-export: an empty customers stream gives headers, an all-zero summary, no split files" {
	printf 'customer:string\tsegment:string\tstage:string\n' | mk "$T/empty.rtn"
	run segment-export "$T/empty.rtn"
	[ "$status" -eq 0 ]
	[ "$output" = "customer,segment,stage" ]
	run segment-export --summary "$T/empty.rtn"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "all,,0,,,,,,,,," ]
	[ "${#lines[@]}" -eq 2 ]
	run segment-export --top 5 --by segment --split-by segment -o "$T/out/" "$T/empty.rtn"
	[ "$status" -eq 0 ]
	[ -d "$T/out" ] && [ -z "$(ls -A "$T/out")" ]
}
