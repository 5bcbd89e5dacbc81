#!/usr/bin/env bats
# cohort (cmd/cohort.c): hand-computed retention and life tables, formats, combine, bad input.
load helpers

# Fixture A (asof defaults to 2023-04-15). Month cohorts: Jan = a, b; Feb = c, d.
fixture_a() {
	cat >"$T/a.csv" <<'CSV'
customer_id,order_id,date,amount,channel
a,1,2023-01-05,10.00,ads
a,2,2023-02-10,20.00,ads
a,3,2023-02-20,5.00,ads
b,4,2023-01-31,7.00,referral
b,5,2023-03-01,3.00,referral
c,6,2023-02-28,50.00,ads
d,7,2023-02-01,1.00,referral
d,8,2023-04-15,2.00,referral
CSV
	ingest --attr channel "$T/a.csv" >"$T/a.rtn"
}

# cohort,period,window,state,cohort_size,customers,orders,revenue of csv output
CELLS="cut -d, -f3,5,6,7,8,9,12,13"

@test "cohort --help and --version" {
	run cohort --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--split-event"* ]]
	[[ "$output" == *"--life-table"* ]]
	run cohort --version
	[ "$status" -eq 0 ]
	[[ "$output" == "cohort (retain) "* ]]
	run cohort --no-such-option
	[ "$status" -eq 2 ]
}

@test "month day-n: hand-computed table, future cells empty, running period flagged" {
	fixture_a
	run sh -c "cohort --format csv '$T/a.rtn' | $CELLS"
	[ "$status" -eq 0 ]
	[ "$output" = "cohort,period,window,state,cohort_size,customers,orders,revenue
2023-01,0,,complete,2,2,2,17.00
2023-01,1,,complete,2,1,2,25.00
2023-01,2,,complete,2,1,1,3.00
2023-01,3,,partial,2,0,0,0.00
2023-02,0,,complete,2,2,2,51.00
2023-02,1,,complete,2,0,0,0.00
2023-02,2,,partial,2,1,1,2.00
2023-02,3,,future,2,,," ]
}

@test "month day-n: rates, churn and revenue per starting customer" {
	fixture_a
	run sh -c "cohort --format csv '$T/a.rtn' | cut -d, -f3,5,10,11,14,15 | sed -n '2,4p;8,9p'"
	[ "$output" = "2023-01,0,1,0,8.50,8.50
2023-01,1,0.5,0.5,12.50,21.00
2023-01,2,0.5,0.5,1.50,22.50
2023-02,2,0.5,0.5,1.00,26.50
2023-02,3,,,," ]
}

@test "aligned table shows - for unobservable cells and * for running periods" {
	fixture_a
	run cohort --format table "$T/a.rtn"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "cohort   customers      M0     M1      M2     M3" ]
	[ "${lines[2]}" = "2023-01          2  100.0%  50.0%   50.0%  0.0%*" ]
	[ "${lines[3]}" = "2023-02          2  100.0%   0.0%  50.0%*      -" ]
	[[ "${lines[4]}" == *"not observable yet (after 2023-04-15)"* ]]
	[[ "$output" != *$'\033'* ]]
}

@test "within-n: active in period N or later" {
	fixture_a
	run sh -c "cohort --mode within-n --format csv '$T/a.rtn' | cut -d, -f3,5,7,9"
	[ "$output" = "cohort,period,state,customers
2023-01,0,complete,2
2023-01,1,complete,2
2023-01,2,complete,1
2023-01,3,partial,0
2023-02,0,complete,2
2023-02,1,complete,1
2023-02,2,partial,1
2023-02,3,future," ]
}

@test "windows: days since each customer's start, month-end starts" {
	fixture_a
	run sh -c "cohort --windows 0-7,8-30,31-90 --format csv '$T/a.rtn' | $CELLS"
	[ "$output" = "cohort,period,window,state,cohort_size,customers,orders,revenue
2023-01,0,0-7,complete,2,2,2,17.00
2023-01,1,8-30,complete,2,1,1,3.00
2023-01,2,31-90,partial,2,1,2,25.00
2023-02,0,0-7,complete,2,2,2,51.00
2023-02,1,8-30,complete,2,0,0,0.00
2023-02,2,31-90,partial,2,1,1,2.00" ]
}

@test "quarter cohorts" {
	fixture_a
	run sh -c "cohort --period quarter --format csv '$T/a.rtn' | $CELLS"
	[ "$output" = "cohort,period,window,state,cohort_size,customers,orders,revenue
2023-Q1,0,,complete,4,4,7,96.00
2023-Q1,1,,partial,4,1,1,2.00" ]
}

@test "week cohorts: Monday start by default, --week-start sun" {
	fixture_a
	run sh -c "cohort --period week --format csv '$T/a.rtn' | cut -d, -f3,4,5,8,9 | grep ',0,'"
	[ "$output" = "2023-01-02,2023-01-02T00:00:00Z,0,1,1
2023-01-30,2023-01-30T00:00:00Z,0,2,2
2023-02-27,2023-02-27T00:00:00Z,0,1,1" ]
	run sh -c "cohort --period week --week-start sun --format csv '$T/a.rtn' | cut -d, -f3,5,8 | grep ',0,'"
	[ "$output" = "2023-01-01,0,1
2023-01-29,0,2
2023-02-26,0,1" ]
	# b (Tue Jan 31) returned on Wed Mar 1: 4 weeks later in both
	run sh -c "cohort --period week --format csv '$T/a.rtn' | cut -d, -f3,5,9 | grep '^2023-01-30,4,'"
	[ "$output" = "2023-01-30,4,1" ]
}

@test "day cohorts: day N counts calendar days" {
	fixture_a
	run sh -c "cohort --period day --format csv '$T/a.rtn' | cut -d, -f3,5,8,9 | grep -E '^2023-01-31,(0|28|29|30),'"
	[ "$output" = "2023-01-31,0,1,1
2023-01-31,28,1,0
2023-01-31,29,1,1
2023-01-31,30,1,0" ]
}

@test "leap day: Jan 31 + 29 days is Feb 29, Feb 29 cohort returns next day" {
	cat >"$T/l.csv" <<'CSV'
customer_id,order_id,date,amount
e,1,2024-02-29,10
e,2,2024-03-01,10
e,3,2024-03-29,10
f,4,2024-01-31,10
f,5,2024-02-29,10
g,6,2024-01-15,10
CSV
	ingest "$T/l.csv" >"$T/l.rtn"
	run sh -c "cohort --period day --format csv '$T/l.rtn' | cut -d, -f3,5,9 | grep -E '^(2024-01-31,(28|29)|2024-02-29,(0|1|2)),'"
	[ "$output" = "2024-01-31,28,0
2024-01-31,29,1
2024-02-29,0,1
2024-02-29,1,1
2024-02-29,2,0" ]
	run sh -c "cohort --format csv '$T/l.rtn' | cut -d, -f3,5,8,9"
	[ "$output" = "cohort,period,cohort_size,customers
2024-01,0,2,2
2024-01,1,2,1
2024-01,2,2,0
2024-02,0,1,1
2024-02,1,1,1
2024-02,2,1," ]
	# life table in months: Jan 31 -> Feb 29 and Feb 29 -> Mar 29 are one month
	run sh -c "cohort --life-table --churn-after 1mo --format csv '$T/l.rtn' | cut -d, -f3-"
	[ "$output" = "period,at_risk,churned,censored,hazard,survival,expected_remaining
0,3,1,0,0.33333333333333331,0.66666666666666674,1.5
1,2,0,2,0,0.66666666666666674,1" ]
}

@test "DST: --tz Europe/Berlin moves events across day, week and month lines" {
	cat >"$T/d.csv" <<'CSV'
customer_id,order_id,date,amount
h,1,2023-03-25T23:30:00Z,1
h,2,2023-03-26T22:30:00Z,1
i,3,2023-03-31T22:30:00Z,1
i,4,2023-04-30T21:59:00Z,1
CSV
	ingest "$T/d.csv" >"$T/d.rtn"
	# Berlin: h starts Sun Mar 26 (CET) and returns Mon Mar 27 (CEST): next week
	run sh -c "cohort --tz Europe/Berlin --period week --format csv '$T/d.rtn' | cut -d, -f3,4,5,9 | sed -n 2,3p"
	[ "$output" = "2023-03-20,2023-03-19T23:00:00Z,0,1
2023-03-20,2023-03-19T23:00:00Z,1,1" ]
	# UTC: Sat Mar 25 and Sun Mar 26 are the same week
	run sh -c "cohort --period week --format csv '$T/d.rtn' | cut -d, -f3,4,5,9 | sed -n 2,3p"
	[ "$output" = "2023-03-20,2023-03-20T00:00:00Z,0,1
2023-03-20,2023-03-20T00:00:00Z,1,0" ]
	# months: i is an April customer in Berlin (cohort starts at 22:00Z, CEST)
	run sh -c "cohort --tz Europe/Berlin --format csv '$T/d.rtn' | cut -d, -f3,4,5,8,9"
	[ "$output" = "cohort,cohort_start,period,cohort_size,customers
2023-03,2023-02-28T23:00:00Z,0,1,1
2023-03,2023-02-28T23:00:00Z,1,1,0
2023-04,2023-03-31T22:00:00Z,0,1,1
2023-04,2023-03-31T22:00:00Z,1,1," ]
	run sh -c "cohort --format csv '$T/d.rtn' | cut -d, -f3,5,8,9"
	[ "$output" = "cohort,period,cohort_size,customers
2023-03,0,2,2
2023-03,1,2,1" ]
	# day cohorts in Berlin: the 23-hour day is one day
	run sh -c "cohort --tz Europe/Berlin --period day --format csv '$T/d.rtn' | cut -d, -f3,4,5,9 | sed -n 2,3p"
	[ "$output" = "2023-03-26,2023-03-25T23:00:00Z,0,1
2023-03-26,2023-03-25T23:00:00Z,1,1" ]
}

@test "--by channel: cohorts split by the attribute of the first order" {
	fixture_a
	run sh -c "cohort --by channel --format csv '$T/a.rtn' | cut -d, -f1,3,5,8,9"
	[ "$output" = "group,cohort,period,cohort_size,customers
ads,2023-01,0,1,1
ads,2023-01,1,1,1
ads,2023-01,2,1,0
ads,2023-01,3,1,0
ads,2023-02,0,1,1
ads,2023-02,1,1,0
ads,2023-02,2,1,0
ads,2023-02,3,1,
referral,2023-01,0,1,1
referral,2023-01,1,1,0
referral,2023-01,2,1,1
referral,2023-01,3,1,0
referral,2023-02,0,1,1
referral,2023-02,1,1,0
referral,2023-02,2,1,1
referral,2023-02,3,1," ]
	run cohort --by nosuch "$T/a.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no column 'nosuch'"* ]]
}

@test "--split-event: did vs did not, difference per period, open windows left out" {
	fixture_a
	# second order within 30 days: a (Feb 10 is day 36: no), b (Mar 1 is day 29: yes)
	run sh -c "cohort --split-event order --split-within 30d --format csv '$T/a.rtn' | cut -d, -f2,3,5,8,9,10"
	[ "$output" = "split,cohort,period,cohort_size,customers,rate
yes,2023-01,0,1,1,1
yes,2023-01,1,1,0,0
yes,2023-01,2,1,1,1
yes,2023-01,3,1,0,0
no,2023-01,0,1,1,1
no,2023-01,1,1,1,1
no,2023-01,2,1,0,0
no,2023-01,3,1,0,0
no,2023-02,0,2,2,1
no,2023-02,1,2,0,0
no,2023-02,2,2,1,0.5
no,2023-02,3,2,,
diff,2023-01,0,,,0
diff,2023-01,1,,,-1
diff,2023-01,2,,,1
diff,2023-01,3,,,0" ]
	# with 60 days, c (Feb 28 + 60 > Apr 15) is still open and left out
	run sh -c "cohort --split-event order --split-within 60d --stats --format csv '$T/a.rtn' 2>&1 >/dev/null"
	[[ "$output" == *"1 with the --split-within window still open"* ]]
	run cohort --split-event order --split-within 30d --format table "$T/a.rtn"
	[[ "$output" == *"diff   2023-01"*"-100.0pp"* ]]
}

@test "life table: Kaplan-Meier with censoring (hand computed)" {
	fixture_a
	# churn-after 60d, asof 2023-04-15: d churns at tenure 0 (73-day gap);
	# a censored at 3 months, b at 2, c at 1
	run sh -c "cohort --life-table --churn-after 60d --format csv '$T/a.rtn' | cut -d, -f3-"
	[ "$output" = "period,at_risk,churned,censored,hazard,survival,expected_remaining
0,4,1,0,0.25,0.75,3.125
1,3,0,1,0,0.75,3
2,2,0,1,0,0.75,2
3,1,0,1,0,0.75,1" ]
	# churn-after 30d: everybody has churned; b at one month
	run sh -c "cohort --life-table --churn-after 30d --format csv '$T/a.rtn' | cut -d, -f3-6"
	[ "$output" = "period,at_risk,churned,censored
0,4,3,0
1,1,1,0" ]
	run cohort --life-table --churn-after 60d --format table "$T/a.rtn"
	[ "${lines[1]}" = "period  at_risk  churned  censored  hazard  survival  expected_remaining" ]
	[ "${lines[2]}" = "     0        4        1         0  0.2500    0.7500                3.12" ]
}

@test "life table --by and a stream that inspect reads" {
	fixture_a
	run sh -c "cohort --life-table --churn-after 60d --by channel '$T/a.rtn' | inspect --format csv | cut -d, -f1,3-6"
	[ "$output" = "group,period,at_risk,churned,censored
ads,0,2,0,0
ads,1,2,0,1
ads,2,1,0,0
ads,3,1,0,1
referral,0,2,1,0
referral,1,1,0,0
referral,2,1,0,1" ]
}

@test "stream output: kind cohort, settings in metadata, provenance kept" {
	fixture_a
	cohort --asof 2023-04-30 "$T/a.rtn" >"$T/c.rtn"
	run inspect --header "$T/c.rtn"
	[[ "$output" == *"kind"$'\t'"cohort"* ]]
	[[ "$output" == *"meta"$'\t'"asof=2023-04-30"* ]]
	[[ "$output" == *"meta"$'\t'"period=month"* ]]
	[[ "$output" == *"program"$'\t'"ingest"* ]]
	[[ "$output" == *"program"$'\t'"cohort"* ]]
	run inspect --check "$T/c.rtn"
	[ "$status" -eq 0 ]
}

# Splits the CSV by a hash of the customer id into two shards.
shard_csv() {
	awk -F, -v want="$2" 'NR == 1 { print; next }
		{ h = 0; for (i = 1; i <= length($1); i++) h = (h * 31 + index("abcdefghijklmnopqrstuvwxyz0123456789", substr($1, i, 1))) % 1000003
		  if (h % 2 == want) print }' "$1"
}

@test "--partial + --combine on two customer shards equals the whole run" {
	fixture_a
	cat "$T/a.csv" >"$T/big.csv"
	for i in $(seq 1 60); do
		echo "x$i,o$i,2023-0$((i % 4 + 1))-1$((i % 9)),$i.50,ch$((i % 3))" >>"$T/big.csv"
		echo "x$i,p$i,2023-0$((i % 3 + 2))-2$((i % 7)),1.25,ch$((i % 3))" >>"$T/big.csv"
	done
	shard_csv "$T/big.csv" 0 >"$T/s0.csv"
	shard_csv "$T/big.csv" 1 >"$T/s1.csv"
	[ "$(wc -l <"$T/s0.csv")" -gt 20 ]
	[ "$(wc -l <"$T/s1.csv")" -gt 20 ]
	for opts in "" "--mode within-n --by channel" "--windows 0-7,8-30,31-90 --period week" \
		"--split-event order --split-within 14d" "--life-table --churn-after 20d --by channel" \
		"--period day --tz Europe/Berlin --periods 40"; do
		ingest --attr channel "$T/big.csv" | cohort --asof 2023-05-31 $opts | inspect >"$T/whole.txt"
		ingest --attr channel "$T/s0.csv" | cohort --asof 2023-05-31 $opts --partial -o "$T/p0.rtn"
		ingest --attr channel "$T/s1.csv" | cohort --asof 2023-05-31 $opts --partial -o "$T/p1.rtn"
		cohort --combine "$T/p0.rtn" "$T/p1.rtn" | inspect >"$T/comb.txt"
		cmp "$T/whole.txt" "$T/comb.txt"
		[ "$(wc -l <"$T/whole.txt")" -gt 3 ]
		# concatenated partial streams on standard input give the same
		cat "$T/p1.rtn" "$T/p0.rtn" | cohort --combine | inspect >"$T/comb2.txt"
		cmp "$T/whole.txt" "$T/comb2.txt"
	done
	inspect --header "$T/p0.rtn" | grep -q "^flags"$'\t'"partial"
}

@test "--combine refuses shards made with other settings, and non-partial input" {
	fixture_a
	cohort --asof 2023-04-30 --partial "$T/a.rtn" >"$T/p0.rtn"
	cohort --asof 2023-05-31 --partial "$T/a.rtn" >"$T/p1.rtn"
	run cohort --combine "$T/p0.rtn" "$T/p1.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"other settings"* ]]
	run cohort --combine "$T/a.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"not a partial cohort stream"* ]]
	run cohort --partial "$T/a.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--partial needs --asof"* ]]
}

@test "SVG heatmap and HTML page are well formed" {
	fixture_a
	cohort --format svg --by channel "$T/a.rtn" >"$T/h.svg"
	run xmllint --noout "$T/h.svg"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	grep -q '100.0%' "$T/h.svg"
	grep -q 'not observable yet' "$T/h.svg"
	cohort --format html --split-event order "$T/a.rtn" >"$T/h.html"
	run xmllint --html --noout "$T/h.html"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	grep -q '<img alt=' "$T/h.html"
	! grep -q 'src="http' "$T/h.html"
	! grep -q '<link' "$T/h.html"
	# the embedded image is the same well-formed SVG
	sed -n 's/.*base64,\([^"]*\)".*/\1/p' "$T/h.html" | base64 -d >"$T/e.svg"
	run xmllint --noout "$T/e.svg"
	[ "$status" -eq 0 ]
	cohort --life-table --format svg --by channel "$T/a.rtn" >"$T/l.svg"
	run xmllint --noout "$T/l.svg"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	cohort --life-table --format html "$T/a.rtn" >"$T/l.html"
	run xmllint --html --noout "$T/l.html"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "labels with markup are escaped in SVG and HTML" {
	printf 'customer_id,order_id,date,amount,channel\nq,1,2023-01-01,1,<b>&x\x27\n' >"$T/x.csv"
	ingest --attr channel "$T/x.csv" >"$T/x.rtn"
	cohort --format svg --by channel "$T/x.rtn" >"$T/x.svg"
	run xmllint --noout "$T/x.svg"
	[ "$status" -eq 0 ]
	grep -q '&lt;b&gt;&amp;x&#39;' "$T/x.svg"
	cohort --format html --by channel "$T/x.rtn" >"$T/x.html"
	run xmllint --html --noout "$T/x.html"
	[ -z "$output" ]
}

@test "--metric revenue-per-customer in the table; colours only when asked or on a terminal" {
	fixture_a
	run cohort --format table --metric cum-revenue-per-customer "$T/a.rtn"
	[ "${lines[2]}" = "2023-01          2   8.50  21.00   22.50  22.50*" ]
	[ "${lines[3]}" = "2023-02          2  25.50  25.50  26.50*       -" ]
	run cohort --format table --color always "$T/a.rtn"
	[[ "$output" == *$'\033[48;5;'* ]]
	run cohort --format table "$T/a.rtn"
	[[ "$output" != *$'\033'* ]]
}

@test "jsonl and tsv outputs carry the same cells" {
	fixture_a
	run sh -c "cohort --format jsonl '$T/a.rtn' | wc -l"
	[ "$output" -eq 8 ]
	cohort --format jsonl "$T/a.rtn" | head -1 | grep -q '"cohort":"2023-01"'
	cohort --format jsonl "$T/a.rtn" | tail -1 | grep -q '"state":"future"'
	run sh -c "cohort --format tsv '$T/a.rtn' | sed -n 2p | cut -f3,7,9"
	[ "$output" = "2023-01"$'\t'"complete"$'\t'"2" ]
}

@test "--asof earlier than the data: later events ignored, later customers left out" {
	fixture_a
	run sh -c "cohort --asof 2023-01-31 --stats --format csv '$T/a.rtn' 2>'$T/err' | $CELLS"
	[ "$output" = "cohort,period,window,state,cohort_size,customers,orders,revenue
2023-01,0,,complete,2,2,2,17.00" ]
	grep -q "2 started after --asof" "$T/err"
	grep -q "6 returning events after --asof ignored" "$T/err"
}

@test "--start signup --return visit,order" {
	cat >"$T/s.csv" <<'CSV'
customer_id,date,amount,type
u,2023-01-10,,signup
u,2023-02-03,,visit
v,2023-01-20,,signup
v,2023-03-05,9.99,order
w,2023-02-01,5.00,order
CSV
	ingest "$T/s.csv" >"$T/s.rtn"
	run sh -c "cohort --start signup --return visit,order --asof 2023-03-31 --format csv '$T/s.rtn' | cut -d, -f3,5,8,9,12,13"
	[ "$output" = "cohort,period,cohort_size,customers,orders,revenue
2023-01,0,2,0,0,0.00
2023-01,1,2,1,1,0.00
2023-01,2,2,1,1,9.99" ]
	run sh -c "cohort --start signup --stats --asof 2023-03-31 '$T/s.rtn' 2>&1 >/dev/null"
	[[ "$output" == *"1 without a start event"* ]]
}

@test "bad input: CSV piped in, truncated stream, wrong kind" {
	fixture_a
	run sh -c "cohort <'$T/a.csv'"
	[ "$status" -eq 3 ]
	[[ "$output" == *"did you forget ingest?"* ]]
	head -c 200 "$T/a.rtn" >"$T/cut.rtn"
	run cohort "$T/cut.rtn"
	[ "$status" -eq 3 ]
	cohort --asof 2023-04-30 "$T/a.rtn" >"$T/c.rtn"
	run cohort "$T/c.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"not events"* ]]
	run cohort "$T/missing.rtn"
	[ "$status" -eq 2 ]
	: >"$T/empty"
	run cohort "$T/empty"
	[ "$status" -eq 3 ]
}

@test "usage errors name the option" {
	fixture_a
	run cohort --period fortnight "$T/a.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--period: 'fortnight'"* ]]
	run cohort --windows 7-0 "$T/a.rtn"
	[ "$status" -eq 2 ]
	run cohort --churn-after 12h --life-table "$T/a.rtn"
	[ "$status" -eq 2 ]
	run cohort --asof 2023-02-30 "$T/a.rtn"
	[ "$status" -eq 2 ]
	run cohort --tz Mars/Olympus "$T/a.rtn"
	[ "$status" -eq 2 ]
	run cohort --format pdf "$T/a.rtn"
	[ "$status" -eq 2 ]
}

@test "output errors: /dev/full exits 4, -o is atomic, terminal refused" {
	fixture_a
	run sh -c "cohort --format table '$T/a.rtn' >/dev/full"
	[ "$status" -eq 4 ]
	[[ "$output" == *"cohort:"* ]]
	run sh -c "cohort '$T/a.rtn' >/dev/full"
	[ "$status" -eq 4 ]
	run sh -c "cohort --format html '$T/a.rtn' >/dev/full"
	[ "$status" -eq 4 ]
	echo old >"$T/out.csv"
	run cohort --format csv -o "$T/out.csv" "$T/cut-missing.rtn"
	[ "$status" -eq 2 ]
	[ "$(cat "$T/out.csv")" = old ]
	cohort --format csv -o "$T/out.csv" "$T/a.rtn"
	head -1 "$T/out.csv" | grep -q '^group,split,cohort'
	[ -z "$(ls -A "$T" | grep '^\.out')" ]
}

@test "same answer whatever TZ and LC_ALL say" {
	fixture_a
	cohort --format csv --period week "$T/a.rtn" >"$T/1"
	TZ=Pacific/Kiritimati LC_ALL=de_DE.UTF-8 cohort --format csv --period week "$T/a.rtn" >"$T/2"
	cmp "$T/1" "$T/2"
}

@test "empty events stream gives an empty table" {
	printf 'customer_id,date,amount\n' >"$T/e.csv"
	ingest "$T/e.csv" >"$T/e.rtn" || true
	[ -s "$T/e.rtn" ]
	run sh -c "cohort --format csv '$T/e.rtn'"
	[ "$status" -eq 0 ]
	[ "$output" = "group,split,cohort,cohort_start,period,window,state,cohort_size,customers,rate,churn,orders,revenue,revenue_per_customer,cum_revenue_per_customer" ]
	run sh -c "cohort --format svg '$T/e.rtn' | xmllint --noout -"
	[ "$status" -eq 0 ]
}

@test "CDNOW sample: month cohorts add up to the customers" {
	[ -r "$CDNOW/CDNOW_master.txt" ]
	ingest --delimiter ws --customer customer_id --time date --amount dollar_value \
		--time-format yyyymmdd "$CDNOW/CDNOW_master.txt" >"$T/cd.rtn"
	run sh -c "cohort --format csv '$T/cd.rtn' | awk -F, '\$5 == 0 { n += \$8 } END { print n }'"
	[ "$output" -eq 23570 ]
	run sh -c "cohort --format csv '$T/cd.rtn' | grep -c ',complete,'"
	[ "$output" -gt 50 ]
}

@test "man page is lint clean" {
	run mandoc -T lint -W warning "$TOP/man/man1/cohort.1"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "fault injection: each failed allocation or write ends in exit 4 and no output file" {
	fixture_a
	n=1
	while :; do
		run env RETAIN_FAIL=alloc:$n cohort --format html --by channel -o "$T/o.html" "$T/a.rtn"
		[ "$status" -eq 0 ] && break
		[ "$status" -eq 4 ]
		[ ! -e "$T/o.html" ]
		n=$((n + 1))
		[ "$n" -lt 3000 ]
	done
	[ "$n" -gt 20 ]
	run xmllint --html --noout "$T/o.html"
	[ -z "$output" ]
	for k in write:1 fsync:1 rename:1 close:1; do
		run env RETAIN_FAIL=$k cohort -o "$T/o.rtn" "$T/a.rtn"
		[ "$status" -eq 4 ]
		[ ! -e "$T/o.rtn" ]
	done
	[ -z "$(ls -A "$T" | grep '^\.')" ]
}

@test "| head ends quietly" {
	fixture_a
	run sh -c "cohort --period day --format csv '$T/a.rtn' | head -1"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "group,split,cohort,cohort_start,period,window,state,cohort_size,customers,rate,churn,orders,revenue,revenue_per_customer,cum_revenue_per_customer" ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "input order does not matter: reversed and dedupe-sorted input give the same cells" {
	fixture_a
	{ head -1 "$T/a.csv"; tail -n +2 "$T/a.csv" | tac; } >"$T/rev.csv"
	for opts in "--by channel" "--life-table --churn-after 30d" "--split-event order --windows 0-30,31-90"; do
		cohort $opts --format csv "$T/a.rtn" >"$T/1"
		ingest --attr channel "$T/rev.csv" | cohort $opts --format csv >"$T/2"
		dedupe "$T/a.rtn" | cohort $opts --format csv >"$T/3"
		cmp "$T/1" "$T/2"
		cmp "$T/1" "$T/3"
	done
}

@test "--periods caps the columns; within-n still counts activity after the last column" {
	fixture_a
	run sh -c "cohort --mode within-n --periods 2 --format csv '$T/a.rtn' | cut -d, -f3,5,9"
	[ "$output" = "cohort,period,customers
2023-01,0,2
2023-01,1,2
2023-02,0,2
2023-02,1,1" ]
	run sh -c "cohort --periods 2 --format csv '$T/a.rtn' | cut -d, -f3,5,9"
	[ "$output" = "cohort,period,customers
2023-01,0,2
2023-01,1,1
2023-02,0,2
2023-02,1,0" ]
}

@test "the aggregation thread gives the same tables as one thread, from a file and a pipe (RETAIN_THREADS)" {
	# 300,000 events: several batches of 32,768, customers interleaved in time order
	synth --customers 100000 --seed 11 --start 2023-01-01 --end 2023-12-31 --order time --format stream -u -o "$T/ev.rtn"
	run inspect --count "$T/ev.rtn"
	[ "$output" -gt 250000 ]
	for opts in "" "--by channel" "--period week --life-table" "--by channel --split-event order --split-within 30d"; do
		# shellcheck disable=SC2086
		cohort $opts --format csv "$T/ev.rtn" >"$T/two.csv"
		# shellcheck disable=SC2086
		RETAIN_THREADS=1 cohort $opts --format csv "$T/ev.rtn" >"$T/one.csv"
		# shellcheck disable=SC2086
		cat "$T/ev.rtn" | cohort $opts --format csv >"$T/pipe.csv"
		# shellcheck disable=SC2086
		cat "$T/ev.rtn" | RETAIN_THREADS=2 cohort $opts --format csv >"$T/pipe2.csv"
		[ -s "$T/two.csv" ]
		cmp "$T/two.csv" "$T/one.csv"
		cmp "$T/two.csv" "$T/pipe.csv"
		cmp "$T/two.csv" "$T/pipe2.csv"
	done
}

@test "customers with many active days give the same cells in time order and shuffled" {
	# frequent buyers (dozens of days each) so that days arrive after later
	# ones and the per-customer day lists grow while out of order
	synth --customers 400 --seed 5 --start 2023-01-01 --end 2023-12-31 \
		--params r=8,alpha=2,a=0.2,b=6 --order time -o "$T/t.csv"
	{ head -1 "$T/t.csv"; tail -n +2 "$T/t.csv" | awk 'BEGIN { srand(9) } { print rand() "\t" $0 }' |
		sort -k1,1 | cut -f2-; } >"$T/s.csv"
	maxdays=$(tail -n +2 "$T/t.csv" | cut -d, -f1,3 | cut -c1-19 | sort -u | cut -d, -f1 | uniq -c | sort -rn | awk 'NR == 1 { print $1 }')
	[ "$maxdays" -gt 20 ]
	for opts in "" "--period week --mode within-n" "--life-table --churn-after 30d" "--split-event order --split-within 14d"; do
		ingest "$T/t.csv" | cohort $opts --format csv >"$T/1"
		ingest "$T/s.csv" | cohort $opts --format csv >"$T/2"
		cmp "$T/1" "$T/2"
	done
}
