#!/usr/bin/env bats
# synth (cmd/synth.c): determinism, counts, mess rates, channels, formats, errors.
load helpers

CH='ads:0.5:a=3,b=2;loyal:0.3:a=0.2,b=5;organic:0.2'

@test "synth: --help and --version" {
	run synth --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:\ synth* ]]
	for o in --model --params --spend --channels --customers --seed --start --end --asof \
		--items --dup-rate --refund-rate --bad-rate --alias-rate --alias-file --truth --format \
		--order --no-header --stats; do
		[[ "$output" == *"$o"* ]] || { echo "help lacks $o"; return 1; }
	done
	run synth --version
	[ "$status" -eq 0 ]
	[[ "$output" == "synth (retain) "* ]]
}

@test "synth: same seed gives byte-identical output, another seed does not" {
	synth --customers 3000 --channels "$CH" --refund-rate 0.1 --dup-rate 0.02 --bad-rate 0.02 \
		--alias-rate 0.05 --alias-file "$T/a1" --seed 42 >"$T/1.csv"
	synth --customers 3000 --channels "$CH" --refund-rate 0.1 --dup-rate 0.02 --bad-rate 0.02 \
		--alias-rate 0.05 --alias-file "$T/a2" --seed 42 -o "$T/2.csv"
	synth --customers 3000 --channels "$CH" --refund-rate 0.1 --dup-rate 0.02 --bad-rate 0.02 \
		--alias-rate 0.05 --seed 43 >"$T/3.csv"
	cmp "$T/1.csv" "$T/2.csv"
	cmp "$T/a1" "$T/a2"
	! cmp -s "$T/1.csv" "$T/3.csv"
	# (provenance holds the arguments, so the same -o name, or standard output)
	synth --customers 500 --format stream --seed 9 >"$T/1.rtn"
	synth --customers 500 --format stream --seed 9 >"$T/2.rtn"
	cmp "$T/1.rtn" "$T/2.rtn"
}

@test "synth: customer k does not depend on how many customers are drawn" {
	synth --customers 200 --seed 5 >"$T/small.csv"
	synth --customers 400 --seed 5 >"$T/big.csv"
	n=$(wc -l <"$T/small.csv")
	head -n "$n" "$T/big.csv" | cmp - "$T/small.csv"
	[ "$(cut -d, -f1 "$T/small.csv" | tail -n +2 | sort -u | wc -l)" -eq 200 ]
	[ "$(cut -d, -f1 "$T/big.csv" | tail -n +2 | sort -u | wc -l)" -eq 400 ]
}

@test "synth: header, row counts and --stats agree" {
	run synth --customers 1000 --stats -o "$T/o.csv"
	[ "$status" -eq 0 ]
	[ "$(head -1 "$T/o.csv")" = "customer_id,order_id,date,amount,channel,sku" ]
	rows=$(($(wc -l <"$T/o.csv") - 1))
	[[ "$output" == *"customers 1000,"* ]]
	[[ "$output" == *"rows $rows "* ]]
	lines=$(echo "$output" | sed -n 's/.*line items \([0-9]*\),.*/\1/p')
	[ "$lines" -eq "$rows" ]
	orders=$(echo "$output" | sed -n 's/.*orders \([0-9]*\),.*/\1/p')
	[ "$(tail -n +2 "$T/o.csv" | cut -d, -f2 | sort -u | wc -l)" -eq "$orders" ]
	synth --customers 1000 --no-header >"$T/n.csv"
	[ "$(wc -l <"$T/n.csv")" -eq "$rows" ]
	tail -n +2 "$T/o.csv" | cmp - "$T/n.csv"
}

@test "synth: --order time sorts rows by time and numbers orders as they come" {
	args="--customers 2000 --channels $CH --refund-rate 0.1 --dup-rate 0.02 --bad-rate 0.01 --alias-rate 0.05"
	synth $args >"$T/c.csv"
	synth $args --order time >"$T/t.csv"
	# the same rows, apart from the order numbers
	cut -d, -f1,3- "$T/c.csv" | sort >"$T/c.rows"
	cut -d, -f1,3- "$T/t.csv" | sort >"$T/t.rows"
	cmp "$T/c.rows" "$T/t.rows"
	[ "$(tail -n +2 "$T/c.csv" | cut -d, -f2 | sort -u | wc -l)" -eq "$(tail -n +2 "$T/t.csv" | cut -d, -f2 | sort -u | wc -l)" ]
	# in time order (rows with a damaged date aside)
	awk -F, 'NR > 1 && $3 ~ /^[0-9]+-(0[1-9]|1[0-2])-[0-9]+T/ && $3 !~ /-02-30T/ { if ($3 < prev) bad++; prev = $3 }
		END { exit bad > 0 }' "$T/t.csv"
	# order numbers in order of first appearance: O00000001, O00000002, ...
	awk -F, 'NR > 1 && !seen[$2]++ { n++; if ($2 != sprintf("O%08d", n)) bad++ } END { exit bad > 0 }' "$T/t.csv"
	run synth --order size
	[ "$status" -eq 2 ]
	[ "$(synth --customers 300 --order time --format stream | inspect --count)" -eq \
		"$(synth --customers 300 --no-header | wc -l)" ]
}

@test "synth: every first purchase within --start..--end, every event by --asof" {
	synth --customers 2000 --start 2022-03-01 --end 2022-06-30 --asof 2022-12-31 \
		--refund-rate 0.2 >"$T/o.csv"
	# first date per customer (rows are in time order within an order run,
	# and the first row of a customer is its first purchase)
	awk -F, 'NR > 1 && !seen[$1]++ { d = substr($3, 1, 10); if (d < "2022-03-01" || d > "2022-06-30") bad++ }
		NR > 1 { d = substr($3, 1, 10); if (d < "2022-03-01" || d > "2022-12-31") late++ }
		END { exit (bad + late) > 0 }' "$T/o.csv"
	# acquisition spread over the window: every month has customers
	[ "$(awk -F, 'NR > 1 && !seen[$1]++ { print substr($3, 1, 7) }' "$T/o.csv" | sort -u | tr '\n' ' ')" = \
		"2022-03 2022-04 2022-05 2022-06 " ]
}

@test "synth: duplicate, refund, bad-row and alias rates within tolerance" {
	# 20000 customers give about 75000 rows; tolerances are 5 binomial
	# standard errors (sqrt(p(1-p)/n)) rounded up.
	synth --customers 20000 --dup-rate 0.05 --refund-rate 0.1 --bad-rate 0.03 \
		--alias-rate 0.1 --alias-file "$T/alias.csv" --stats -o "$T/o.csv" 2>"$T/stats"
	awk -F, -v OFS=' ' 'NR == 1 { next }
		{ rows++ }
		$0 == prev { dups++ }
		{ prev = $0 }
		$4 ~ /^-/ { refunds++ }
		$4 !~ /^-/ && !($2 in ord) { ord[$2] = 1; orders++ }
		$3 !~ /^[0-9][0-9][0-9][0-9]-(0[1-9]|1[0-2])-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z$/ || $3 ~ /-02-30T/ || $4 !~ /^-?[0-9]+\.[0-9][0-9]$/ { bad++ }
		END { printf "%.5f %.5f %.5f\n", dups / (rows - dups), refunds / orders, bad / rows }' \
		"$T/o.csv" >"$T/rates"
	read -r dup refund bad <"$T/rates"
	echo "dup $dup refund $refund bad $bad"
	awk -v x="$dup" 'BEGIN { exit !(x > 0.046 && x < 0.054) }'
	awk -v x="$refund" 'BEGIN { exit !(x > 0.092 && x < 0.108) }'
	awk -v x="$bad" 'BEGIN { exit !(x > 0.027 && x < 0.033) }'
	# aliases: about 10% of customers, listed once each, used in the data
	[ "$(head -1 "$T/alias.csv")" = "alias,customer_id" ]
	na=$(($(wc -l <"$T/alias.csv") - 1))
	echo "aliases $na"
	[ "$na" -gt 1790 ] && [ "$na" -lt 2210 ]
	[ "$(tail -n +2 "$T/alias.csv" | cut -d, -f1 | sort -u | wc -l)" -eq "$na" ]
	# each pair maps "ID-b" to "ID"; the aliases used in the data are listed
	awk -F, 'NR > 1 && $1 != $2 "-b" { bad++ } END { exit bad > 0 }' "$T/alias.csv"
	tail -n +2 "$T/o.csv" | cut -d, -f1 | grep -- '-b$' | sort -u >"$T/used"
	tail -n +2 "$T/alias.csv" | cut -d, -f1 | sort >"$T/listed"
	[ -z "$(comm -23 "$T/used" "$T/listed")" ]
	[ "$(wc -l <"$T/used")" -gt $((na / 4)) ]
	grep -q "aliased customers $na " "$T/stats"
}

@test "synth: channels get their weights and their own churn" {
	synth --customers 20000 --channels "$CH" --truth "$T/truth.csv" >"$T/o.csv"
	# share of customers per channel (weights 0.5, 0.3, 0.2; 5 SE is < 0.02)
	awk -F, 'NR > 1 && !seen[$1]++ { n[$5]++; all++ }
		END { for (c in n) printf "%s %.4f\n", c, n[c] / all }' "$T/o.csv" | sort >"$T/share"
	cat "$T/share"
	awk '$1 == "ads" { exit !($2 > 0.48 && $2 < 0.52) }' "$T/share"
	awk '$1 == "loyal" { exit !($2 > 0.28 && $2 < 0.32) }' "$T/share"
	awk '$1 == "organic" { exit !($2 > 0.18 && $2 < 0.22) }' "$T/share"
	# mean orders per customer: ads (a=3, drop out fast) far below loyal (a=0.2)
	awk -F, 'NR > 1 { if (!seen[$1]++) cust[$5]++; if (!o[$2]++) ord[$5]++ }
		END { for (c in cust) printf "%s %.3f\n", c, ord[c] / cust[c] }' "$T/o.csv" | sort >"$T/mean"
	cat "$T/mean"
	ads=$(awk '$1 == "ads" { print $2 }' "$T/mean")
	loyal=$(awk '$1 == "loyal" { print $2 }' "$T/mean")
	awk -v a="$ads" -v l="$loyal" 'BEGIN { exit !(l > 2 * a) }'
	# the truth file agrees: share of customers still alive differs likewise
	[ "$(head -1 "$T/truth.csv")" = "customer_id,channel,lambda,dropout,nu,alive,x,t_x,T" ]
	[ "$(wc -l <"$T/truth.csv")" -eq 20001 ]
	awk -F, 'NR > 1 { n[$2]++; al[$2] += $6 } END { exit !(al["loyal"] / n["loyal"] > al["ads"] / n["ads"] + 0.2) }' \
		"$T/truth.csv"
}

@test "synth: --truth x is the number of repeat orders in the CSV" {
	synth --customers 500 --truth "$T/truth.csv" >"$T/o.csv"
	awk -F, 'NR > 1 && !o[$2]++ { n[$1]++ } END { for (c in n) print c, n[c] - 1 }' "$T/o.csv" | sort >"$T/x.csv"
	awk -F, 'NR > 1 { print $1, $7 }' "$T/truth.csv" | sort | cmp - "$T/x.csv"
}

@test "synth: line items split each order's amount exactly" {
	synth --customers 2000 --items 3 >"$T/o.csv"
	# orders average about 3 lines (1 + Poisson(2))
	awk -F, 'NR > 1 { l++; if (!o[$2]++) n++ } END { m = l / n; print m; exit !(m > 2.9 && m < 3.1) }' "$T/o.csv"
	# an order's lines share customer, time and channel
	awk -F, 'NR > 1 { k = $1 "," $3 "," $5; if (($2 in key) && key[$2] != k) bad++; key[$2] = k } END { exit bad > 0 }' "$T/o.csv"
	# amounts: positive cents everywhere
	awk -F, 'NR > 1 && ($4 !~ /^[0-9]+\.[0-9][0-9]$/ || $4 + 0 <= 0) { bad++ } END { exit bad > 0 }' "$T/o.csv"
}

@test "synth: CSV is read by ingest; rejects are exactly the bad rows" {
	[ -x "$BIN/ingest" ]
	synth --customers 3000 --channels "$CH" --refund-rate 0.05 --dup-rate 0.01 --bad-rate 0.02 \
		--stats -o "$T/o.csv" 2>"$T/stats"
	rows=$(sed -n 's/.*rows \([0-9]*\) .*/\1/p' "$T/stats")
	bad=$(sed -n 's/.*bad \([0-9]*\)).*/\1/p' "$T/stats")
	run ingest --attr channel,sku --stats --max-rejects 100% --rejects "$T/rej" "$T/o.csv" -o "$T/o.rtn"
	[ "$status" -eq 0 ]
	[[ "$output" == *"read $rows, accepted $((rows - bad)), rejected $bad"* ]]
	[ "$(inspect --count "$T/o.rtn")" -eq $((rows - bad)) ]
}

@test "synth: --format stream holds the same events ingest makes of the CSV" {
	[ -x "$BIN/ingest" ]
	synth --customers 1500 --channels "$CH" --refund-rate 0.1 --dup-rate 0.02 --alias-rate 0.05 \
		--seed 3 >"$T/o.csv"
	synth --customers 1500 --channels "$CH" --refund-rate 0.1 --dup-rate 0.02 --alias-rate 0.05 \
		--seed 3 --format stream | inspect >"$T/stream.tsv"
	ingest --attr channel,sku "$T/o.csv" | inspect >"$T/ingest.tsv"
	cmp "$T/stream.tsv" "$T/ingest.tsv"
	synth --customers 10 --format stream -o "$T/s.rtn"
	run inspect --header "$T/s.rtn"
	[[ "$output" == *"kind	events"* ]]
	[[ "$output" == *"column	customer	string"* ]]
	[[ "$output" == *"column	amount	money"* ]]
	[[ "$output" == *"program	synth "*"--format stream"* ]]
	[[ "$output" == *"meta	synth_unit=week"* ]]
}

@test "synth: Pareto/NBD model" {
	synth --model pnbd --params r=0.55,alpha=10.58,s=0.61,beta=11.67 --customers 1000 \
		--truth "$T/truth.csv" >"$T/o.csv"
	[ "$(cut -d, -f1 "$T/o.csv" | tail -n +2 | sort -u | wc -l)" -eq 1000 ]
	# dropout column is the rate mu: a positive real, not a probability in [0,1] only
	awk -F, 'NR > 1 && !($4 > 0) { bad++ } END { exit bad > 0 }' "$T/truth.csv"
	synth --model pnbd --customers 1000 | cmp - "$T/o.csv"
}

@test "synth: usage errors exit 2 with a message" {
	run synth --model foo
	[ "$status" -eq 2 ]
	[[ "$output" == *"--model: 'foo' is not bgnbd or pnbd"* ]]
	run synth --params r=-1
	[ "$status" -eq 2 ]
	[[ "$output" == *"--params: r: '-1' is not a positive number"* ]]
	run synth --params zeta=1
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown parameter 'zeta'"* ]]
	run synth --channels 'ads:x'
	[ "$status" -eq 2 ]
	[[ "$output" == *"--channels: channel 'ads': weight 'x' is not a positive number"* ]]
	run synth --dup-rate 1.5
	[ "$status" -eq 2 ]
	[[ "$output" == *"--dup-rate"* ]]
	run synth --format stream --bad-rate 0.1
	[ "$status" -eq 2 ]
	[[ "$output" == *"--bad-rate needs --format csv"* ]]
	run synth --start 2024-01-01 --end 2023-01-01
	[ "$status" -eq 2 ]
	run synth --end 2023-12-31 --asof 2023-06-01
	[ "$status" -eq 2 ]
	run synth --start 2023-02-30
	[ "$status" -eq 2 ]
	run synth --customers 0
	[ "$status" -eq 2 ]
	run synth extra
	[ "$status" -eq 2 ]
	[[ "$output" == *"unexpected argument 'extra'"* ]]
	run synth --bogus
	[ "$status" -eq 2 ]
}

@test "synth: output errors exit 4; -o leaves no file behind on failure" {
	run sh -c 'synth --customers 1000 >/dev/full'
	[ "$status" -eq 4 ]
	[[ "$output" == *"write error"* ]]
	run env RETAIN_FAIL=write:1 synth --customers 100 -o "$T/x.csv"
	[ "$status" -eq 4 ]
	[ ! -e "$T/x.csv" ]
	[ -z "$(ls -A "$T")" ]
}

@test "synth: churnscore recovers the BG/NBD and Gamma-Gamma parameters synth used" {
	# 50,000 customers, fixed seed, through the whole pipeline. Tolerance: the
	# fit's maximum-likelihood estimates are asymptotically normal with the
	# standard errors churnscore reports, so each must lie within 4 SE of the
	# truth (a correct chain misses that with probability 6e-5 per parameter;
	# 36 simulated replicates gave SD/SE ratios of 0.87 to 1.08). Each SE must
	# also be under 15% of its parameter, so the bound has teeth. Rates are
	# low (1.3 purchases a year on average) because rfm counts purchase days
	# (x = purchase days - 1): two purchases on one calendar day, which the
	# continuous-time model allows, merge into one. At these rates that lowers
	# x for under 1% of purchases and moves alpha by about 1 SE.
	synth --customers 50000 --seed 2 --params r=0.5,alpha=20,a=0.6,b=2.5 \
		--spend p=6.25,q=3.74,gamma=15.44 --start 2022-01-01 --end 2022-12-31 --asof 2024-12-31 \
		--format stream | dedupe | rfm --asof 2024-12-31 | churnscore --params-out "$T/params" >/dev/null
	cat "$T/params"
	for truth in r=0.5 alpha=20 a=0.6 b=2.5 p=6.25 q=3.74 gamma=15.44; do
		awk -v name="${truth%=*}" -v want="${truth#*=}" '$1 == name && $3 == "se" { found = 1
			d = $2 - want; if (d < 0) d = -d
			printf "%s: %g, truth %g, se %g, %.2f se off\n", name, $2, want, $4, d / $4
			ok = $4 > 0 && $4 < 0.15 * want && d <= 4 * $4 }
			END { exit !(found && ok) }' "$T/params"
	done
}

@test "examples: the committed sample is what regenerate.sh makes" {
	mkdir "$T/ex"
	RETAIN_BIN=$BIN sh "$TOP/examples/regenerate.sh" "$T/ex" 2>"$T/log"
	cmp "$T/ex/orders.csv" "$TOP/examples/orders.csv"
	cmp "$T/ex/aliases.csv" "$TOP/examples/aliases.csv"
	cmp "$T/ex/truth.csv" "$TOP/examples/truth.csv"
}

@test "examples: demo.sh runs every built stage into its folder" {
	run sh "$TOP/examples/demo.sh" "$T/out"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"demo: results in $T/out"* ]]
	[ -s "$T/out/events.rtn" ]
	[ -s "$T/out/rejects.tsv" ]
	# the 87 bad rows of the sample, and nothing else, are rejected
	[ "$(($(wc -l <"$T/out/rejects.tsv") - 1))" -eq 87 ]
	for p in dedupe rfm cohort segment-export churnscore; do
		if [ -x "$BIN/$p" ]; then
			echo "$output" | grep -qE "^  $p +[a-z]"
			! echo "$output" | grep -qE "^  $p +(skipped|FAILED)"
		else
			echo "$output" | grep -qE "^  $p +skipped"
		fi
	done
	if [ -x "$BIN/rfm" ]; then grep -q "customer health as of 2024-12-31" "$T/out/health.txt"; fi
	if [ -x "$BIN/churnscore" ] && [ -x "$TOP/scripts/retention-report" ]; then
		[ -s "$T/out/report/index.html" ]
	fi
	# a folder the demo did not make is never overwritten
	mkdir "$T/mine"
	run sh "$TOP/examples/demo.sh" "$T/mine"
	[ "$status" -eq 2 ]
}
