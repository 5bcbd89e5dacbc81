#!/usr/bin/env bats
# churnscore (cmd/churnscore.c): published CDNOW results end to end, rule model, reasons, CLV,
# parameters round trip, holdout validation, errors.
load helpers

# The CDNOW sample (2,357 customers), calibration to 1997-09-30, in weeks.
cdnow() {
	ingest --delimiter ws --no-header --customer 2 --time 3 --time-format %Y%m%d --amount 5 \
		"$CDNOW/CDNOW_sample.txt" >"$T/cd.rtn"
	rfm --asof 1997-09-30 --unit week "$T/cd.rtn" >"$T/cust.rtn"
}

# value NAME FILE: the number on the line "NAME VALUE ..." of a params file
value() {
	awk -v k="$1" '$1 == k { print $2 }' "$2"
}

# near GOT WANT TOL: |GOT - WANT| <= TOL
near() {
	awk -v g="$1" -v w="$2" -v t="$3" 'BEGIN { d = g - w; if (d < 0) d = -d
		if (g == "" || d > t) { print "got " g " want " w " tol " t; exit 1 } }'
}

# field CSV CUSTOMER COLUMN: one value of `inspect --format csv` output
field() {
	awk -F, -v c="$2" -v col="$3" 'NR == 1 { for (i = 1; i <= NF; i++) k[$i] = i; next }
		$1 == c { print $k[col] }' "$1"
}

@test "churnscore --help and --version" {
	run churnscore --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--params-out FILE"* ]]
	[[ "$output" == *"--holdout EVENTS"* ]]
	[[ "$output" == *"--negative T,..."* ]]
	[[ "$output" == *"--progress"* ]]
	run churnscore --version
	[ "$status" -eq 0 ]
	[[ "$output" == "churnscore (retain) "* ]]
}

@test "churnscore: BG/NBD and Gamma-Gamma on CDNOW reproduce Fader, Hardie & Lee (2005)" {
	cdnow
	ingest --delimiter ws --no-header --customer 2 --time 3 --time-format %Y%m%d --amount 5 \
		"$CDNOW/CDNOW_sample.txt" | rfm --asof 1997-09-30 --unit week \
		| churnscore --params-out "$T/p.txt" >"$T/s.rtn"
	cat "$T/p.txt"
	[ "$(value model "$T/p.txt")" = bgnbd ]
	[ "$(value unit "$T/p.txt")" = week ]
	[ "$(value customers "$T/p.txt")" = 2357 ]
	near "$(value r "$T/p.txt")" 0.243 0.0005
	near "$(value alpha "$T/p.txt")" 4.414 0.0005
	near "$(value a "$T/p.txt")" 0.793 0.0005
	near "$(value b "$T/p.txt")" 2.426 0.0005
	near "$(value loglik "$T/p.txt")" -9582.4 0.05
	near "$(value p "$T/p.txt")" 6.25 0.005
	near "$(value q "$T/p.txt")" 3.74 0.005
	near "$(value gamma "$T/p.txt")" 15.44 0.005
	[ "$(value spend_customers "$T/p.txt")" = 946 ]
	grep -q '^r  *[0-9.]* se 0\.01' "$T/p.txt"
	# customer 1516: x = 26, t_x = 30.86, T = 31; 52 weeks (the default horizon)
	inspect --format csv "$T/s.rtn" >"$T/s.csv"
	[ "$(field "$T/s.csv" 1516 x)" = 26 ]
	near "$(field "$T/s.csv" 1516 exp_purchases)" 25.757 0.0005
	near "$(field "$T/s.csv" 1516 p_alive)" 0.9689 0.00005
	[ "$(field "$T/s.csv" 1516 model)" = bgnbd ]
	# customer 0001: x = 2, t_x = 30.43, T = 38.86; 39 weeks
	churnscore --horizon 39w "$T/cust.rtn" | inspect --format csv >"$T/h.csv"
	[ "$(field "$T/h.csv" 0001 x)" = 2 ]
	near "$(field "$T/h.csv" 0001 exp_purchases)" 1.226 0.0005
}

@test "churnscore: Pareto/NBD on CDNOW reproduces Schmittlein, Morrison & Colombo / Fader & Hardie" {
	cdnow
	churnscore --model pnbd --params-out "$T/p.txt" "$T/cust.rtn" | inspect --format csv >"$T/s.csv"
	cat "$T/p.txt"
	[ "$(value model "$T/p.txt")" = pnbd ]
	near "$(value r "$T/p.txt")" 0.553 0.0005
	near "$(value alpha "$T/p.txt")" 10.578 0.0005
	near "$(value s "$T/p.txt")" 0.606 0.000606
	near "$(value beta "$T/p.txt")" 11.669 0.011669
	near "$(value loglik "$T/p.txt")" -9595.0 0.05
	near "$(field "$T/s.csv" 1516 exp_purchases)" 25.456 0.001
	near "$(field "$T/s.csv" 1516 p_alive)" 0.9979 0.00005
	[ "$(field "$T/s.csv" 1516 model)" = pnbd ]
}

@test "churnscore: output columns, values, CLV = historic + future, no NaN" {
	cdnow
	churnscore "$T/cust.rtn" >"$T/s.rtn"
	run inspect --header "$T/s.rtn"
	[[ "$output" == *$'kind\tcustomers'* ]]
	[[ "$output" == *$'column\tstage\tstring\ncolumn\tp_alive\tfloat\ncolumn\trisk\tstring\ncolumn\texp_purchases\tfloat\ncolumn\texp_spend\tmoney\ncolumn\thistoric_value\tmoney\ncolumn\tfuture_value\tmoney\ncolumn\tclv\tmoney\ncolumn\tmodel\tstring\ncolumn\treasons\tstring'* ]]
	[[ "$output" == *$'program\tchurnscore '* ]]
	[[ "$output" == *$'meta\tchurn_model=bgnbd'* ]]
	inspect --format csv "$T/s.rtn" >"$T/s.csv"
	[ "$(wc -l <"$T/s.csv")" -eq 2358 ]
	run awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) k[$i] = i; next }
		{ n++
		  for (c in k) if (c ~ /^(p_alive|risk|exp_purchases|exp_spend|historic_value|future_value|clv|model)$/ && ($k[c] == "" || $k[c] ~ /nan|inf/)) bad++
		  if ($k["p_alive"] < 0 || $k["p_alive"] > 1) bad++
		  if ($k["historic_value"] != $k["revenue"]) bad++
		  if (sprintf("%.4f", $k["historic_value"] + $k["future_value"]) != sprintf("%.4f", $k["clv"])) bad++
		  want = $k["p_alive"] < 0.3 ? "high" : $k["p_alive"] < 0.7 ? "medium" : "low"
		  if ($k["risk"] != want) bad++
		  if ($k["x"] == 0 && sprintf("%.2f", $k["exp_spend"]) != "35.17") bad++  # p gamma / (q - 1)
		}
		END { print n " rows, " bad + 0 " bad" }' "$T/s.csv"
	[ "$output" = "2357 rows, 0 bad" ]
	churnscore --progress "$T/cust.rtn" 2>"$T/progress" | inspect >"$T/p1"
	grep -q "churnscore: .*2357 rows" "$T/progress"
	inspect "$T/s.rtn" | cmp - "$T/p1"
	# undiscounted, margin 0.3: future value = 0.3 x spend x E[Y(52)]
	churnscore --margin 0.3 --discount 0 "$T/cust.rtn" | inspect --format csv >"$T/m.csv"
	spend=$(field "$T/m.csv" 1516 exp_spend)
	ey=$(field "$T/m.csv" 1516 exp_purchases)
	near "$(field "$T/m.csv" 1516 future_value)" "$(awk -v s="$spend" -v e="$ey" 'BEGIN { printf "%.6f", 0.3 * s * e }')" 0.0001
	# discounting lowers it; a longer horizon raises it
	churnscore --margin 0.3 "$T/cust.rtn" | inspect --format csv >"$T/d.csv"
	awk -v a="$(field "$T/d.csv" 1516 future_value)" -v b="$(field "$T/m.csv" 1516 future_value)" 'BEGIN { exit !(a < b) }'
	churnscore --margin 0.3 --discount 0 --horizon 2y "$T/cust.rtn" | inspect --format csv >"$T/y.csv"
	awk -v a="$(field "$T/y.csv" 1516 future_value)" -v b="$(field "$T/m.csv" 1516 future_value)" 'BEGIN { exit !(a > b) }'
}

@test "churnscore: --params round trip gives identical scores; piped and file input agree" {
	cdnow
	churnscore --model pnbd --params-out "$T/p.txt" "$T/cust.rtn" | inspect >"$T/a"
	churnscore --params "$T/p.txt" "$T/cust.rtn" | inspect >"$T/b"
	cmp "$T/a" "$T/b"
	# a pipe cannot be read twice: pass 1 goes through a temporary stream
	TMPDIR_CHECK=$T/tmp
	mkdir "$TMPDIR_CHECK"
	cat "$T/cust.rtn" | TMPDIR=$TMPDIR_CHECK churnscore --model pnbd | inspect >"$T/c"
	cmp "$T/a" "$T/c"
	[ -z "$(ls -A "$TMPDIR_CHECK" 2>/dev/null)" ]
	run sh -c "cat '$T/cust.rtn' | TMPDIR='$T/missing' churnscore >/dev/null"
	[ "$status" -eq 4 ]
	[[ "$output" == *"cannot create a temporary file (TMPDIR)"* ]]
	# the saved parameters score another period
	rfm --asof 1998-06-30 --unit week "$T/cd.rtn" | churnscore --params "$T/p.txt" | inspect --count >"$T/n"
	[ "$(cat "$T/n")" -eq 2357 ]
	# and are checked
	run churnscore --model bgnbd --params "$T/p.txt" "$T/cust.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--model bgnbd, but $T/p.txt holds pnbd parameters"* ]]
	rfm --asof 1997-09-30 --unit day "$T/cd.rtn" >"$T/days.rtn"
	run churnscore --params "$T/p.txt" "$T/days.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"parameters are per week but the customers records are in days"* ]]
	sed '/^beta /d' "$T/p.txt" >"$T/nobeta.txt"
	run churnscore --params "$T/nobeta.txt" "$T/cust.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no 'beta' line"* ]]
	sed 's/^alpha .*/alpha nan/' "$T/p.txt" >"$T/nan.txt"
	run churnscore --params "$T/nan.txt" "$T/cust.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"alpha: 'nan' is not a finite number"* ]]
}

@test "churnscore: Gamma-Gamma q <= 1 is an error that explains itself" {
	cdnow
	churnscore --params-out "$T/p.txt" "$T/cust.rtn" >/dev/null
	sed 's/^q .*/q 0.9/' "$T/p.txt" >"$T/q.txt"
	run churnscore --params "$T/q.txt" -o "$T/out.rtn" "$T/cust.rtn"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Gamma-Gamma q = 0.9 <= 1: the fitted spend distribution has no finite mean"* ]]
	[ ! -e "$T/out.rtn" ]
	# a fitted q <= 1: BG/NBD buyers from synth, spend with an infinite-mean
	# tail (each customer's level 1/u^3, u uniform)
	synth --customers 3000 --seed 3 -o "$T/syn.csv"
	awk -F, 'BEGIN { OFS = ","; srand(5) } NR == 1 { print; next }
		{ if (!($1 in b)) b[$1] = 1 / (rand() ^ 3); $4 = sprintf("%.2f", b[$1] * (0.5 + rand())); print }' \
		"$T/syn.csv" >"$T/heavy.csv"
	ingest --customer customer_id --time date --amount amount "$T/heavy.csv" | rfm >"$T/heavy.rtn"
	run churnscore -o "$T/out.rtn" "$T/heavy.rtn"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Gamma-Gamma q = 0."*" <= 1: the fitted spend distribution has no finite mean, so expected spend is undefined"* ]]
	[ ! -e "$T/out.rtn" ]
}

# Seven hand-made customers, analysis day 2023-06-30 (recent window 30 days:
# 06-01..06-30):
#  a  06-01, 06-11, 06-21: gap 10, recency 9: p = 2^(-9/20), no signal
#  b  01-01, 01-11, 01-21: recency 160 > 2 x 10: overdue; p = 2^-8: low_p_alive
#  c  every 4 days 04-01..05-29 (16 orders), then 06-25: prior rate
#     16 / 61 days x 30 = 7.9, recent 1 < 0.5 x 7.9: rate_falling
#  d  06-01, 06-15, refund 06-20: recent_refund
#  e  06-10, 06-20, complaint 06-25: complaint (--negative complaint)
#  f  one order 2022-12-01: recency 211 > 180 days: overdue
#  g  one order 2023-03-01 (channel tv): recency 121, overdue only with the
#     tv threshold churn-after=90d
hand_made() {
	{
		echo "customer,time,amount,type,channel"
		printf 'a,2023-06-%s,10.00,order,web\n' 01 11 21
		printf 'b,2023-01-%s,10.00,order,web\n' 01 11 21
		for m in 04 05; do for d in 01 05 09 13 17 21 25 29; do echo "c,2023-$m-$d,10.00,order,web"; done; done
		echo "c,2023-06-25,10.00,order,web"
		echo "d,2023-06-01,10.00,order,web"; echo "d,2023-06-15,20.00,order,web"; echo "d,2023-06-20,-5.00,refund,web"
		echo "e,2023-06-10,10.00,order,web"; echo "e,2023-06-20,10.00,order,web"; echo "e,2023-06-25,,complaint,web"
		echo "f,2022-12-01,40.00,order,web"
		echo "g,2023-03-01,40.00,order,tv"
	} >"$T/h.csv"
	ingest --customer customer --time time --amount amount --type type --attr channel "$T/h.csv" \
		| rfm --asof 2023-06-30 --recent 30d --events complaint --carry channel >"$T/h.rtn"
}

@test "churnscore --model rule: own rhythm, bands and every reason on hand-made customers" {
	hand_made
	churnscore --model rule --negative complaint --stats "$T/h.rtn" 2>"$T/err" \
		| inspect --format csv >"$T/r.csv"
	run awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) k[$i] = i; next }
		{ printf "%s %.4f %s %s %s\n", $1, $k["p_alive"], $k["risk"], $k["model"], $k["reasons"] }' "$T/r.csv"
	echo "$output"
	[ "${lines[0]}" = "a 0.7320 low rule " ]
	[ "${lines[1]}" = "b 0.0039 high rule \"overdue" ]   # csv quotes the list
	[ "${lines[2]}" = "c 0.7807 low rule rate_falling" ]
	[ "${lines[3]}" = "d 0.6898 medium rule recent_refund" ]
	[ "${lines[4]}" = "e 0.7071 low rule complaint" ]
	[ "${lines[5]}" = "f 0.4437 medium rule overdue" ]
	[ "${lines[6]}" = "g 0.6275 medium rule " ]
	grep -q '^b,.*,"overdue,low_p_alive"$' "$T/r.csv"
	# expected purchases: p_alive x horizon / own gap; spend: aov
	near "$(field "$T/r.csv" a exp_purchases)" "$(awk 'BEGIN { printf "%.12f", 2 ^ (-9 / 20) * 364 / 10 }')" 1e-9
	[ "$(field "$T/r.csv" f exp_purchases)" = 0 ]
	[ "$(field "$T/r.csv" d exp_spend)" = 12.50 ]
	grep -q "reasons overdue 2, rate_falling 1, recent_refund 1, low_p_alive 1, complaint 1" "$T/err"
	grep -q "risk high 1, medium 3, low 3" "$T/err"
	# without --negative the complaint is not a signal; a shorter window drops the refund
	churnscore --model rule --window 7d "$T/h.rtn" | inspect --format csv >"$T/w.csv"
	[ "$(field "$T/w.csv" e reasons)" = "" ]
	[ "$(field "$T/w.csv" d reasons)" = "" ]
	# --overdue and --churn-after move the limits
	churnscore --model rule --overdue 0.5 --churn-after 100d --bands 0,0.7 "$T/h.rtn" | inspect --format csv >"$T/o.csv"
	[ "$(field "$T/o.csv" a reasons)" = overdue ]
	[ "$(field "$T/o.csv" g reasons)" = overdue ]
	# --bands
	churnscore --model rule --bands 0.5,0.75 "$T/h.rtn" | inspect --format csv >"$T/b.csv"
	[ "$(field "$T/b.csv" a risk)" = medium ]
	[ "$(field "$T/b.csv" f risk)" = high ]
}

@test "churnscore --thresholds: limits per group of a carried column" {
	hand_made
	printf '# per channel\nby channel\n*  overdue=2 churn-after=180d\ntv churn-after=90d\n' >"$T/thr"
	churnscore --model rule --thresholds "$T/thr" "$T/h.rtn" | inspect --format csv >"$T/t.csv"
	[ "$(field "$T/t.csv" g reasons)" = overdue ]
	[ "$(field "$T/t.csv" f reasons)" = overdue ]
	[ "$(field "$T/t.csv" a reasons)" = "" ]
	# thresholds give reasons under the fitted models too
	printf 'by channel\nweb overdue=0.5\n' >"$T/thr2"
	cdnow
	run churnscore --thresholds "$T/thr2" "$T/cust.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--thresholds: $T/cust.rtn has no column 'channel' (run rfm --carry channel)"* ]]
	printf 'by channel\ntv churn-after=soon\n' >"$T/bad"
	run churnscore --model rule --thresholds "$T/bad" "$T/h.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad:2: churn-after=soon:"* ]]
	printf 'tv overdue=3\n' >"$T/bad2"
	run churnscore --model rule --thresholds "$T/bad2" "$T/h.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad2:1: group 'tv' before a 'by COLUMN' line"* ]]
}

@test "churnscore: reasons under a fitted model, --negative needs rfm --events" {
	cdnow
	churnscore --params-out "$T/p.txt" "$T/cust.rtn" >/dev/null
	hand_made
	churnscore --params "$T/p.txt" --negative complaint "$T/h.rtn" | inspect --format csv >"$T/f.csv"
	[ "$(field "$T/f.csv" e reasons)" = complaint ]
	[ "$(field "$T/f.csv" d reasons)" = recent_refund ]
	[ "$(field "$T/f.csv" a model)" = bgnbd ]
	run churnscore --params "$T/p.txt" --negative visit "$T/h.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--negative visit:"*"has no column 'visit_last' (run rfm --events visit)"* ]]
}

@test "churnscore --holdout: predicted against actual purchases by calibration frequency" {
	cdnow
	run churnscore --holdout "$T/cd.rtn" "$T/cust.rtn"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "holdout 1997-10-01 to 1998-06-30: 39 weeks, model bgnbd" ]
	[ "${lines[1]}" = "x      customers     actual  predicted      error" ]
	# the published actuals (FHL 2005): 0.236 0.697 1.393 1.560 2.532 2.947 3.862 6.359
	[ "${lines[2]}" = "0           1411     0.2367     0.2251    -0.0116" ]
	[ "${lines[3]}" = "1            439     0.6970     0.5231    -0.1739" ]
	[ "${lines[4]}" = "2            214     1.3925     1.0441    -0.3484" ]
	[ "${lines[9]}" = "7+            64     6.3594     6.1572    -0.2022" ]
	[ "${lines[10]}" = "all         2357     0.7985     0.7015    -0.0970" ]
	[ "${lines[11]}" = "mean absolute error of the group means (0..7+): 0.2245" ]
	[[ "${lines[12]}" == "mean absolute error per customer: 0."* ]]
	[ "${lines[13]}" = "purchases: actual 1882, predicted 1653.4" ]
	# only the holdout part of the events counts; --holdout-end cuts it
	run churnscore --holdout "$T/cd.rtn" --holdout-end 1997-12-31 --model pnbd "$T/cust.rtn"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "holdout 1997-10-01 to 1997-12-31: 13.14 weeks, model pnbd" ]]
	run churnscore --holdout "$T/cust.rtn" "$T/cust.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"a customers stream, want events"* ]]
	run churnscore --holdout-end 1998-01-01 "$T/cust.rtn"
	[ "$status" -eq 2 ]
}

@test "churnscore: bad input streams, options and output" {
	small_orders_csv "$T/x.csv"
	run churnscore <"$T/x.csv"
	[ "$status" -eq 3 ]
	[[ "$output" == *"did you forget ingest?"* ]]
	ingest --customer customer_id --time date --amount amount "$T/x.csv" >"$T/ev.rtn"
	run churnscore "$T/ev.rtn"
	[ "$status" -eq 2 ]
	[[ "$output" == *"an events stream, want customers records (did you forget rfm?)"* ]]
	cdnow
	size=$(wc -c <"$T/cust.rtn")
	head -c $((size - 10)) "$T/cust.rtn" >"$T/cut.rtn"
	run churnscore "$T/cut.rtn"
	[ "$status" -eq 3 ]
	run sh -c "cat '$T/cut.rtn' | churnscore --model rule >/dev/null"
	[ "$status" -eq 3 ]
	# the temporary copy of piped input is removed on failure too
	mkdir "$T/tmp"
	run sh -c "cat '$T/cut.rtn' | TMPDIR='$T/tmp' churnscore >/dev/null"
	[ "$status" -eq 3 ]
	[ -z "$(ls -A "$T/tmp")" ]
	run sh -c "churnscore '$T/cust.rtn' >/dev/full"
	[ "$status" -eq 4 ]
	run sh -c "churnscore --holdout '$T/cd.rtn' '$T/cust.rtn' >/dev/full"
	[ "$status" -eq 4 ]
	# the parameters file is written atomically: a failed fsync leaves nothing
	run env RETAIN_FAIL=fsync:1 churnscore --params-out "$T/p.txt" -o "$T/s.rtn" "$T/cust.rtn"
	[ "$status" -eq 4 ]
	[ ! -e "$T/p.txt" ]
	[ ! -e "$T/s.rtn" ]
	for bad in "--model cox" "--horizon 52" "--horizon 0w" "--horizon 101y" "--margin 2" "--discount -1" \
		"--bands 0.8,0.2" "--bands 0.3" "--overdue 0" "--falling x" "--model rule --params-out $T/p" \
		"--model rule --params $T/p" "--params $T/nonexistent"; do
		run churnscore $bad "$T/cust.rtn"
		echo "$bad: $status $output"
		[ "$status" -eq 2 ]
	done
	run churnscore --nonsense
	[ "$status" -eq 2 ]
	[[ "$output" == *"usage: churnscore"* ]]
}

@test "churnscore: a fit that cannot converge is exit 1, never NaN" {
	# one-time buyers only: no repeat purchase identifies the model
	printf 'customer,time,amount\nu,2023-01-01,5\nv,2023-02-01,6\nw,2023-03-01,7\n' >"$T/o.csv"
	ingest --customer customer --time time --amount amount "$T/o.csv" | rfm --asof 2023-06-30 >"$T/o.rtn"
	run churnscore -o "$T/out.rtn" "$T/o.rtn"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"fit failed"* || "$output" == *"Gamma-Gamma: no customer with repeat purchases"* ]]
	[ ! -e "$T/out.rtn" ]
	# the rule model needs no fit
	run sh -c "churnscore --model rule '$T/o.rtn' | inspect --format csv --no-names | cut -d, -f1"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
}

@test "churnscore: first purchase on the analysis day (T = 0), rescoring, empty input" {
	cdnow
	# 30 customers bought first on 1997-03-25: no information for the fit,
	# scored as new customers: P(alive) 1 and E[X(52)], more than any older
	# one-time buyer
	rfm --asof 1997-03-25 --unit week "$T/cd.rtn" >"$T/early.rtn"
	churnscore --stats "$T/early.rtn" 2>"$T/err" | inspect --format csv >"$T/e.csv"
	grep -q "fitted 2357 customers in 534 (x, t_x, T) rows, 30 with age 0 left out" "$T/err"
	run awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) k[$i] = i; next }
		$k["T"] == 0 { n++; if ($k["p_alive"] != 1) bad++; e[$k["exp_purchases"]] = 1; ex = $k["exp_purchases"] }
		$k["T"] > 0 && $k["x"] == 0 && $k["exp_purchases"] > m { m = $k["exp_purchases"] }
		END { for (v in e) d++; print n, bad + 0, d, (ex > m && m > 0) }' "$T/e.csv"
	[ "$output" = "30 0 1 1" ]
	# scoring scored records again replaces the columns: same records
	churnscore "$T/cust.rtn" | inspect >"$T/a"
	churnscore "$T/cust.rtn" | churnscore | inspect >"$T/b"
	cmp "$T/a" "$T/b"
	# no customers: an empty stream out, but no parameters to write
	printf 'customer,time,amount\n' >"$T/e.csv"
	ingest --customer customer --time time --amount amount "$T/e.csv" | rfm --asof 2023-01-01 >"$T/empty.rtn"
	[ "$(churnscore "$T/empty.rtn" | inspect --count)" -eq 0 ]
	run churnscore --params-out "$T/p.txt" "$T/empty.rtn"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--params-out: no customers, no parameters"* ]]
	[ ! -e "$T/p.txt" ]
}
