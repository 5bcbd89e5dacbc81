#!/usr/bin/env bats
# rfm (cmd/rfm.c): customers records, scores, segments, stages, summary, errors.
load helpers

# Hand-computed fixture (asof 2023-01-31, --unit day):
#  a: orders o1 01-01 10, o2 01-11 30, o3 01-21 10 (channel ads first),
#     refund 01-12 -5, visit 01-20: orders 3, days 3, revenue 45, refunds 5,
#     aov 15, recency 10, tenure 30, mean gap 10, x 2, t_x 20, T 30,
#     mean spend (30+10)/2 = 20.
#  b: one order 2022-06-01 40: recency 244, churned.
#  c: one order 2023-01-30 5: recency 1, new.
# Scores (N=3): recency 1/10/244 -> worse 2/1/0 -> 1+floor(5*w/3) = 4/2/1;
# F 1,1,3 -> 1,1,4; M 5,40,45 -> 1,2,4.
small_events() {
	cat >"$T/small.csv" <<'CSV'
customer,time,amount,order,type,channel
a,2023-01-01,10.00,o1,order,ads
a,2023-01-11,30.00,o2,order,
a,2023-01-12,-5.00,,refund,
a,2023-01-20,,,visit,
a,2023-01-21,10.00,o3,order,mail
b,2022-06-01,40.00,p1,order,shop
c,2023-01-30,5.00,q1,order,ads
c,2023-02-05,7.00,q2,order,ads
CSV
	ingest --customer customer --time time --amount amount --order order --type type \
		--attr channel "$T/small.csv" >"$T/small.rtn"
}

cdnow_events() {
	ingest --delimiter ws --no-header --customer 2 --time 3 --time-format %Y%m%d --amount 5 \
		"$CDNOW/CDNOW_sample.txt" >"$T/cd.rtn"
}

@test "rfm --help and --version" {
	run rfm --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--breaks-from FILE"* ]]
	[[ "$output" == *"--stage-rules FILE"* ]]
	run rfm --version
	[ "$status" -eq 0 ]
	[[ "$output" == "rfm (retain) "* ]]
}

@test "rfm: every column of the hand-computed customers" {
	small_events
	rfm --asof 2023-01-31 --unit day --carry channel --events visit --recent 14d "$T/small.rtn" \
		| inspect --format jsonl >"$T/out"
	run cat "$T/out"
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = '{"customer":"a","first":"2023-01-01T00:00:00Z","last":"2023-01-21T00:00:00Z","orders":3,"purchase_days":3,"revenue":45.00,"refunds":5.00,"aov":15.00,"recency":10,"tenure":30,"mean_gap":10,"channel":"ads","last_refund":"2023-01-12T00:00:00Z","recent_purchases":1,"prior_rate":1.6470588235294117,"visit_count":1,"visit_last":"2023-01-20T00:00:00Z","x":2,"t_x":20,"T":30,"mean_spend":20.00,"r":2,"f":4,"m":4,"cell":"244","rfm_score":10,"segment":"At Risk","stage":"new"}' ]
	[ "${lines[1]}" = '{"customer":"b","first":"2022-06-01T00:00:00Z","last":"2022-06-01T00:00:00Z","orders":1,"purchase_days":1,"revenue":40.00,"refunds":0.00,"aov":40.00,"recency":244,"tenure":244,"mean_gap":null,"channel":"shop","last_refund":null,"recent_purchases":0,"prior_rate":0.060606060606060608,"visit_count":0,"visit_last":null,"x":0,"t_x":0,"T":244,"mean_spend":0.00,"r":1,"f":1,"m":2,"cell":"112","rfm_score":4,"segment":"Lost","stage":"churned"}' ]
	[ "${lines[2]}" = '{"customer":"c","first":"2023-01-30T00:00:00Z","last":"2023-01-30T00:00:00Z","orders":1,"purchase_days":1,"revenue":5.00,"refunds":0.00,"aov":5.00,"recency":1,"tenure":1,"mean_gap":null,"channel":"ads","last_refund":null,"recent_purchases":1,"prior_rate":null,"visit_count":0,"visit_last":null,"x":0,"t_x":0,"T":1,"mean_spend":0.00,"r":4,"f":1,"m":1,"cell":"411","rfm_score":6,"segment":"Promising","stage":"new"}' ]
}

@test "rfm: weeks, default asof = day of the last event, header metadata" {
	small_events
	rfm "$T/small.rtn" >"$T/c.rtn"
	run inspect --header "$T/c.rtn"
	[[ "$output" == *$'kind\tcustomers'* ]]
	[[ "$output" == *$'meta\tasof=2023-02-05'* ]]
	[[ "$output" == *$'meta\tunit=week'* ]]
	# recency a 15, b 249, c 0; orders 3, 1, 2; revenue 45, 40, 12
	[[ "$output" == *$'meta\tbreaks=r=0,15,15,249;f=2,3,3,inf;m=40.00,45.00,45.00,inf'* ]]
	[[ "$output" == *$'program\trfm '* ]]
	run sh -c "inspect --format csv '$T/c.rtn' | cut -d, -f1,15-17,19-22"
	[ "${lines[0]}" = "customer,x,t_x,T,r,f,m,cell" ]
	[ "${lines[1]}" = "a,2,2.8571428571428572,5,2,4,4,244" ]
	[ "${lines[2]}" = "b,0,0,35.571428571428569,1,1,2,112" ]
	[ "${lines[3]}" = "c,1,0.8571428571428571,0.8571428571428571,4,2,1,421" ]
}

@test "rfm: --window limits orders and revenue, --window needs --asof" {
	small_events
	rfm --asof 2023-01-31 --window 15d "$T/small.rtn" | inspect --format csv | cut -d, -f1,4,5,6,7 >"$T/w"
	run cat "$T/w"
	[ "${lines[1]}" = "a,1,3,10.00,0.00" ]
	[ "${lines[2]}" = "b,0,1,0.00,0.00" ]
	run rfm --window 15d "$T/small.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--window needs --asof"* ]]
}

@test "rfm: CDNOW sample reproduces the published BTYD summary for all 2357 customers" {
	cdnow_events
	rfm --asof 1997-09-30 --unit week "$T/cd.rtn" | inspect --format csv --no-names \
		| cut -d, -f1,15-18 >"$T/mine"
	run awk -F, '
	function cents(s,   neg, a, f, v) {
		neg = s ~ /^-/; sub(/^-/, "", s)
		split(s, a, "."); f = substr(a[2] "0000", 1, 4)
		v = a[1] * 10000 + f; v = int((v + 50) / 100)
		return sprintf("%s%d.%02d", neg ? "-" : "", int(v / 100), v % 100)
	}
	NR == FNR { sub(/\r$/, ""); if (FNR > 1) ref[$1 + 0] = $2 "," $3 "," $4 "," $5; next }
	{ id = $1 + 0; got = $2 "," sprintf("%.2f", $3) "," sprintf("%.2f", $4) "," cents($5); n++
	  if (ref[id] != got) { bad++; if (bad < 5) print "customer " id ": want " ref[id] " got " got }
	  delete ref[id] }
	END { for (k in ref) { bad++; print "missing " k }; print n " customers, " bad + 0 " differ" }' \
		"$CDNOW/cdnow_customers_summary_with_transactions.csv" "$T/mine"
	[ "$output" = "2357 customers, 0 differ" ]
}

@test "rfm: sorted (dedupe) and unsorted input give byte-identical records" {
	cdnow_events
	dedupe "$T/cd.rtn" >"$T/sorted.rtn"
	run inspect --header "$T/sorted.rtn"
	[[ "$output" == *$'flags\tsorted'* ]]
	# the same events, reversed (times descending within each customer), unsorted
	inspect --format csv "$T/sorted.rtn" >"$T/s.csv"
	{ head -1 "$T/s.csv"; tail -n +2 "$T/s.csv" | tac; } >"$T/u.csv"
	ingest --customer customer --time time --amount amount --order order --type type "$T/u.csv" >"$T/unsorted.rtn"
	run inspect --header "$T/unsorted.rtn"
	[[ "$output" != *"sorted"* ]]
	for args in "--asof 1997-09-30" "--asof 1998-06-30 --segments classic8 --window 26w --recent 90d"; do
		rfm $args "$T/sorted.rtn" | inspect >"$T/a"
		rfm $args "$T/unsorted.rtn" | inspect >"$T/b"
		[ "$(wc -l <"$T/a")" -eq 2358 ]
		cmp "$T/a" "$T/b"
	done
}

@test "rfm: the second thread gives the same records as one thread, from a file and a pipe (RETAIN_THREADS)" {
	# 300,000 events: many batches of 4,096, customers interleaved in time order
	synth --customers 100000 --seed 11 --start 2023-01-01 --end 2023-12-31 --order time --format stream -u -o "$T/ev.rtn"
	run inspect --count "$T/ev.rtn"
	[ "$output" -gt 250000 ]
	# the stream's header names its input (a file or a pipe): compare the records
	# (--tz with summer time: the zone's offsets are looked up from both threads)
	for opts in "" "--asof 2023-12-31 --window 26w --recent 60d --carry channel --events refund" \
		"--asof 2023-12-31 --tz Europe/Berlin"; do
		# shellcheck disable=SC2086
		rfm $opts "$T/ev.rtn" | inspect >"$T/two"
		# shellcheck disable=SC2086
		RETAIN_THREADS=1 rfm $opts "$T/ev.rtn" | inspect >"$T/one"
		# shellcheck disable=SC2086
		cat "$T/ev.rtn" | rfm $opts | inspect >"$T/pipe"
		# shellcheck disable=SC2086
		cat "$T/ev.rtn" | RETAIN_THREADS=2 rfm $opts | inspect >"$T/pipe2"
		[ "$(wc -l <"$T/two")" -gt 50000 ]
		cmp "$T/two" "$T/one"
		cmp "$T/two" "$T/pipe"
		cmp "$T/two" "$T/pipe2"
		# written by two threads or one, a compressed file is the same bytes
		# shellcheck disable=SC2086
		rfm $opts -o "$T/f.rtn" "$T/ev.rtn"
		mv "$T/f.rtn" "$T/f2.rtn"
		# shellcheck disable=SC2086
		RETAIN_THREADS=1 rfm $opts -o "$T/f.rtn" "$T/ev.rtn"
		cmp "$T/f.rtn" "$T/f2.rtn"
	done
}

@test "rfm: the tie rule never splits equal values" {
	cdnow_events
	rfm --asof 1997-09-30 "$T/cd.rtn" | inspect --format csv --no-names | cut -d, -f4,9,6,19-21 >"$T/s"
	# fields: orders, revenue, recency, r, f, m: one score per distinct value
	run sh -c "cut -d, -f1,5 '$T/s' | sort -u | cut -d, -f1 | uniq -d"
	[ -z "$output" ]
	run sh -c "cut -d, -f3,4 '$T/s' | sort -u | cut -d, -f1 | uniq -d"
	[ -z "$output" ]
	run sh -c "cut -d, -f2,6 '$T/s' | sort -u | cut -d, -f1 | uniq -d"
	[ -z "$output" ]
	# 1411 of 2357 bought once: all get f=1; 2 orders get 1+floor(5*1411/2357) = 3; f=2 is unused
	[ "$(awk -F, '$1 == 1' "$T/s" | wc -l)" -gt 1000 ]
	[ "$(awk -F, '$1 == 1 && $5 != 1' "$T/s" | wc -l)" -eq 0 ]
	[ "$(awk -F, '$1 == 2 && $5 != 3' "$T/s" | wc -l)" -eq 0 ]
	[ "$(awk -F, '$5 == 2' "$T/s" | wc -l)" -eq 0 ]
}

@test "rfm: --breaks, --breaks-out and --breaks-from score alike" {
	cdnow_events
	rfm --asof 1997-09-30 --breaks-out "$T/breaks" "$T/cd.rtn" | inspect >"$T/a"
	run cat "$T/breaks"
	[ "$output" = "r=99,198,219,242;f=2,2,3,4;m=14.97,28.13,46.08,94.00" ]
	rfm --asof 1997-09-30 --breaks-from "$T/breaks" "$T/cd.rtn" | inspect >"$T/b"
	cmp "$T/a" "$T/b"
	small_events
	rfm --asof 2023-01-31 --breaks 'r=2,5,30,100;f=2,3,4,5;m=10,20,30,40' "$T/small.rtn" \
		| inspect --format csv --no-names | cut -d, -f1,22 >"$T/c"
	run cat "$T/c"
	[ "${lines[0]}" = "a,335" ]   # recency 10: 5-2; orders 3: 1+2; revenue 45: 1+4
	[ "${lines[1]}" = "b,115" ]
	[ "${lines[2]}" = "c,511" ]   # the order of 02-05 is after --asof
	rfm --asof 2023-01-31 --bins 3 --segments classic8 --breaks 'r=5,30;f=2,3;m=10,20' "$T/small.rtn" >"$T/d.rtn"
	run inspect --header "$T/d.rtn"
	[[ "$output" == *$'meta\tbreaks=r=5,30;f=2,3;m=10.00,20.00'* ]]
	run rfm --breaks 'r=1,2,3;f=1,2,3,4;m=1,2,3,4' "$T/small.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"f: more than 3 breaks (bins 4)"* ]]
	run rfm --bins 5 --breaks 'r=1,2,3;f=1,2,3,4;m=1,2,3,4' "$T/small.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"r: 3 breaks, need 4 for 5 bins"* ]]
	run rfm --breaks 'r=4,3,2,1;f=1,2,3,4;m=1,2,3,4' "$T/small.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"must not decrease"* ]]
}

@test "rfm: classic8 in English and Chinese, rule files" {
	small_events
	rfm --asof 2023-01-31 --segments classic8 "$T/small.rtn" | inspect --format csv --no-names | cut -d, -f1,24 >"$T/en"
	run cat "$T/en"
	# means: recency 85, orders 5/3, revenue 30
	[ "${lines[0]}" = "a,important-value" ]
	[ "${lines[1]}" = "b,important-win-back" ]
	[ "${lines[2]}" = "c,general-development" ]
	rfm --asof 2023-01-31 --segments classic8 --lang zh "$T/small.rtn" | inspect --format csv --no-names | cut -d, -f24 >"$T/zh"
	run cat "$T/zh"
	[ "${lines[0]}" = "重要价值客户" ]
	[ "${lines[1]}" = "重要挽回客户" ]
	[ "${lines[2]}" = "一般发展客户" ]
	printf '# mine\nBig: m=4-5\nRecent: r=4-5\n' >"$T/rules"
	rfm --asof 2023-01-31 --segments "$T/rules" "$T/small.rtn" | inspect --format csv --no-names | cut -d, -f24 >"$T/f"
	run cat "$T/f"
	[ "${lines[0]}" = "Big" ]
	[ "${lines[1]}" = "Others" ]
	[ "${lines[2]}" = "Recent" ]
	printf 'Bad: r=0-9\n' >"$T/bad"
	run rfm --segments "$T/bad" "$T/small.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad:1: range 0-9 outside 1-5"* ]]
}

@test "rfm: stage rules per group of a carried attribute" {
	small_events
	run sh -c "rfm --asof 2023-03-01 '$T/small.rtn' | inspect --format csv --no-names | cut -d, -f1,25"
	[ "${lines[0]}" = "a,declining" ]  # recency 39 > 2 x gap 10, <= 4 x 10
	[ "${lines[2]}" = "c,declining" ]  # gap 6 -> min-gap 7: recency 24 > 2 x 7, <= 4 x 7
	printf 'by channel\n* churn=90\nads churn=20 decline-factor=5\n' >"$T/stages"
	run sh -c "rfm --asof 2023-03-01 --stage-rules '$T/stages' '$T/small.rtn' | inspect --format csv | cut -d, -f1,12,26"
	[ "${lines[0]}" = "customer,channel,stage" ]
	[ "${lines[1]}" = "a,ads,growing" ]    # ads: declining only past 5 x 10 days
	[ "${lines[2]}" = "b,shop,churned" ]
	[ "${lines[3]}" = "c,ads,new" ]        # ads: declining only past 5 x 7 days; tenure 30
	printf 'customer,time,amount,channel\nd,2023-01-01,10,ads\ne,2023-01-01,10,tv\n' >"$T/g.csv"
	ingest --customer customer --time time --amount amount --attr channel "$T/g.csv" >"$T/g.rtn"
	run sh -c "rfm --asof 2023-02-15 --stage-rules '$T/stages' '$T/g.rtn' | inspect --format csv --no-names | cut -d, -f1,26"
	[ "${lines[0]}" = "d,churned" ]     # ads: one-timers churn after 20 days
	[ "${lines[1]}" = "e,declining" ]   # others: after 90
	printf 'ads churn=20\n' >"$T/bad"
	run rfm --stage-rules "$T/bad" "$T/small.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad:1: group 'ads' before a 'by COLUMN' line"* ]]
}

@test "rfm: reactivated customer" {
	cat >"$T/r.csv" <<'CSV'
customer,time,amount
z,2022-01-01,10
z,2022-01-15,10
z,2022-01-29,10
z,2023-01-20,10
CSV
	ingest --customer customer --time time --amount amount "$T/r.csv" >"$T/r.rtn"
	run sh -c "rfm --asof 2023-01-31 '$T/r.rtn' | inspect --format csv --no-names | cut -d, -f1,25"
	[ "$output" = "z,reactivated" ]
}

@test "rfm --summary prints the health tables; --stats adds up" {
	cdnow_events
	run rfm --asof 1997-09-30 --summary "$T/cd.rtn"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "customer health as of 1997-09-30: 2357 customers" ]]
	[[ "$output" == *"segment             customers   share        revenue   share        aov  repeat mean_r mean_f mean_m"* ]]
	[[ "$output" == *"total                    2357  100.0%      173115.55  100.0%"* ]]
	[[ "$output" == *"reactivated"* ]]
	run rfm --asof 1997-09-30 --stats -o "$T/o.rtn" "$T/cd.rtn"
	[ "$status" -eq 0 ]
	[[ "$output" == *"events read: 6919 = purchases 4960 + refunds 0 + tracked (--events) 0 + other types 0 + after asof 1959 + without time 0"* ]]
	[[ "$output" == *"customers seen: 2357 = written 2357 + without a purchase 0"* ]]
	[ "$(inspect --count "$T/o.rtn")" -eq 2357 ]
}

@test "rfm: CSV piped in, truncated stream, wrong options" {
	small_orders_csv "$T/x.csv"
	run rfm <"$T/x.csv"
	[ "$status" -eq 3 ]
	[[ "$output" == *"did you forget ingest?"* ]]
	small_events
	size=$(wc -c <"$T/small.rtn")
	head -c $((size - 10)) "$T/small.rtn" >"$T/cut.rtn"
	run rfm "$T/cut.rtn"
	[ "$status" -eq 3 ]
	run rfm --bins 12 "$T/small.rtn"
	[ "$status" -eq 2 ]
	run rfm --unit month "$T/small.rtn"
	[ "$status" -eq 2 ]
	run rfm --asof 2023-02-30 "$T/small.rtn"
	[ "$status" -eq 2 ]
	run rfm --bins 4 "$T/small.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"named is defined for 5 bins"* ]]
	run rfm "$T/missing.rtn"
	[ "$status" -eq 2 ]
}

@test "rfm: /dev/full and terminals" {
	small_events
	run sh -c "rfm '$T/small.rtn' >/dev/full"
	[ "$status" -eq 4 ]
	run sh -c "rfm --summary '$T/small.rtn' >/dev/full"
	[ "$status" -eq 4 ]
}

@test "rfm --tz: purchase days are calendar days in the zone" {
	printf 'customer,time,amount\nk,2023-01-01T23:30:00Z,10\nk,2023-01-02T00:30:00Z,5\nk,2023-01-10T12:00:00Z,1\n' >"$T/tz.csv"
	ingest --customer customer --time time --amount amount "$T/tz.csv" >"$T/tz.rtn"
	run sh -c "rfm --asof 2023-01-10 --unit day '$T/tz.rtn' | inspect --format csv --no-names | cut -d, -f4,5,15-18"
	[ "$output" = "3,3,2,9,9,3.00" ]
	# at +02:00 the first two purchases fall on 2023-01-02: one day, spend summed
	run sh -c "rfm --asof 2023-01-10 --unit day --tz +02:00 '$T/tz.rtn' | inspect --format csv --no-names | cut -d, -f4,5,15-18"
	[ "$output" = "3,2,1,8,8,1.00" ]
	run sh -c "rfm --tz Europe/Berlin '$T/tz.rtn' | inspect --header"
	[[ "$output" == *$'meta\ttz=Europe/Berlin'* ]]
	run rfm --tz Mars/Olympus "$T/tz.rtn"
	[ "$status" -eq 2 ]
}

@test "rfm: empty input, and input flagged sorted that is not" {
	printf 'customer,time,amount\n' >"$T/e.csv"
	ingest --customer customer --time time --amount amount "$T/e.csv" >"$T/e.rtn"
	run sh -c "rfm --stats '$T/e.rtn' 2>'$T/err' | inspect --count"
	[ "$output" = "0" ]
	grep -q "events read: 0 = " "$T/err"
	printf 'customer,time,amount\nz,2023-01-01,10\n' >"$T/z.csv"
	printf 'customer,time,amount\na,2023-01-01,10\n' >"$T/a.csv"
	ingest --customer customer --time time --amount amount "$T/z.csv" | dedupe >"$T/z.rtn"
	ingest --customer customer --time time --amount amount "$T/a.csv" | dedupe >"$T/a.rtn"
	run sh -c "cat '$T/z.rtn' '$T/a.rtn' | rfm >/dev/null"
	[ "$status" -eq 3 ]
	[[ "$output" == *"input is flagged sorted but customer 'a' comes after 'z'"* ]]
	[ "$(cat "$T/a.rtn" "$T/z.rtn" | rfm | inspect --count)" -eq 2 ]
}

@test "rfm -o -u writes stored blocks atomically; --progress reports on standard error" {
	cdnow_events
	rfm -u -o "$T/c.rtn" "$T/cd.rtn"
	run inspect --check "$T/c.rtn"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok: 2357 records"* ]]
	[ "$(ls -A "$T" | grep -c '^\.')" -eq 0 ]   # no temporary or lock file left
	rfm -o "$T/z.rtn" "$T/cd.rtn"
	[ "$(wc -c <"$T/z.rtn")" -lt "$(wc -c <"$T/c.rtn")" ]   # compressed by default in a file
	run sh -c "rfm --progress '$T/cd.rtn' 2>&1 >/dev/null"
	[[ "$output" == *"6919 rows"* ]]
}

@test "rfm: a failed allocation or write at any point exits 4 and leaves no file" {
	small_events
	n=1
	while :; do
		rc=0
		RETAIN_FAIL=alloc:$n rfm --carry channel --events visit -o "$T/out.rtn" "$T/small.rtn" 2>"$T/err" || rc=$?
		[ "$rc" -eq 0 ] && break
		[ "$rc" -eq 4 ] || { echo "alloc:$n exit $rc"; cat "$T/err"; false; }
		grep -q "out of memory" "$T/err"
		[ ! -e "$T/out.rtn" ]
		n=$((n + 1))
		[ "$n" -lt 2000 ]
	done
	[ "$n" -gt 20 ]
	[ "$(inspect --count "$T/out.rtn")" -eq 3 ]
	rm "$T/out.rtn"
	for k in write fsync rename close; do
		run env RETAIN_FAIL=$k:1 rfm -o "$T/out.rtn" "$T/small.rtn"
		[ "$status" -eq 4 ]
		[ ! -e "$T/out.rtn" ]
	done
	[ "$(ls -A "$T" | grep -c '^\.')" -eq 0 ]
}
