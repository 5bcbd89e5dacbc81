#!/usr/bin/env bats
# The workflow scripts: winback-evaluate, winback, retention-report, nightly.
# End-to-end runs use the real programs on synth data; failure tests put a
# failing stand-in for one stage first on PATH.

load helpers

setup_file() {
	local top
	top=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	${CC:-cc} -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$top/lib" \
		-o "$BATS_FILE_TMPDIR/mkcustomers" "$top/tests/unit/mkcustomers.c" \
		"$top/lib/stream.c" "$top/lib/crc32.c" "$top/lib/util.c" "$top/lib/workers.c" -lz -lm
	${CC:-cc} -std=c11 -o "$BATS_FILE_TMPDIR/pngcolors" "$top/tests/unit/pngcolors.c" -lz
}

# A stand-in that fails like a broken stage: shim NAME STATUS
shim() {
	mkdir -p "$T/shim"
	printf '#!/bin/sh\necho "%s: injected failure" >&2\nexit %s\n' "$1" "$2" >"$T/shim/$1"
	chmod +x "$T/shim/$1"
}

# Scored customers for winback: w0001..w2000 with every column winback uses.
scored() {
	awk 'BEGIN {
		print "customer:string\temail:string\tsegment:string\tstage:string\tclv:money\tp_alive:float\trevenue:money\torders:int\trecency:int"
		split("At Risk,Lost,Champions,Hibernating", seg, ","); split("declining,churned,mature,churned", stg, ",")
		for (i = 1; i <= 2000; i++) {
			k = i % 4 + 1
			printf "w%04d\tu%d@ex.com\t%s\t%s\t%d\t%.2f\t%d\t%d\t%d\n", i, i, seg[k], stg[k], i % 50, (i % 10) / 10, i, 1 + i % 5, 30 + i % 400
		}
	}' | "$BATS_FILE_TMPDIR/mkcustomers" "$T/scored.rtn"
}

# Audience of 4000 customers split 50/50, and orders in January 2025 where a
# treatment customer comes back with probability PT% and a control one PC%.
campaign_data() {
	awk 'BEGIN { print "customer:string\tclv:money\tp_alive:float"; for (i = 1; i <= 4000; i++) printf "k%05d\t%d\t0.5\n", i, i }' |
		"$BATS_FILE_TMPDIR/mkcustomers" "$T/aud.rtn"
	segment-export --control 50% --campaign-id t --fields customer,group "$T/aud.rtn" >"$T/aud.csv"
	awk -F, -v pt="$1" -v pc="$2" '
		BEGIN { print "customer_id,order_id,date,amount"; print "k00001,old,2024-12-01,99" }
		NR > 1 { i = substr($1, 2) + 0; u = (i * 7919) % 100; p = $2 == "treatment" ? pt : pc
			if (u < p) printf "%s,o%d,2025-01-%02d,%d.50\n", $1, i, 1 + i % 28, 10 + i % 7 }' "$T/aud.csv" >"$T/orders.csv"
}

@test "scripts: --help, --version, man pages lint-clean" {
	for s in retention-report winback winback-evaluate nightly; do
		run "$TOP/scripts/$s" --help
		[ "$status" -eq 0 ]
		[[ "$output" == usage:\ $s* ]]
		run "$TOP/scripts/$s" --version
		[ "$status" -eq 0 ]
		[ "$output" = "$s (retain) 0.1.0" ]
		run "$TOP/scripts/$s" --bogus
		[ "$status" -eq 2 ]
	done
	run mandoc -T lint -W warning "$TOP"/man/man1/retention-report.1 "$TOP"/man/man1/winback.1 \
		"$TOP"/man/man1/winback-evaluate.1 "$TOP"/man/man1/nightly.1 "$TOP"/man/man1/segment-export.1 \
		"$TOP"/man/man7/retain.7
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "winback-evaluate: exact answer on a small campaign, table and JSON" {
	printf 'customer,group\nt1,treatment\nt2,treatment\nt3,treatment\nt4,treatment\nc1,control\nc2,control\nc3,control\nc4,control\n' >"$T/a.csv"
	printf 'customer_id,order_id,date,amount\nt1,o1,2025-01-05,10.00\nt1,o2,2025-01-06,20.00\nt2,o3,2025-01-10,30.00\nc1,o4,2025-01-07,12.00\nt3,o5,2024-12-31,99.00\nx9,o6,2025-01-05,50.00\nc2,o7,2025-02-10,40.00\n' >"$T/o.csv"
	run winback-evaluate --since 2025-01-01 --until 2025-01-31 --json "$T/r.json" "$T/a.csv" "$T/o.csv"
	[ "$status" -eq 0 ]
	[[ "$output" == *"treatment           4            2   0.5000        3       0.7500        60.00      15.0000"* ]]
	[[ "$output" == *"control             4            1   0.2500        1       0.2500        12.00       3.0000"* ]]
	# d = .25, se = sqrt(.5*.5/4 + .25*.75/4); pooled z = .25/sqrt(.375*.625*.5)
	[[ "$output" == *"uplift in reactivation rate: +0.2500 (95% CI -0.3982 to +0.8982), z = 0.73, p = 0.4652"* ]]
	[[ "$output" == *"revenue per customer: +12.0000 (95% CI -5.9634 to +29.9634)"* ]]
	[[ "$output" == *"significant at 95%: no"* ]]
	grep -q '"uplift":{"rate":0.250000,"ci95":\[-0.398197,0.898197\],"z":0.730297,"p_value":0.465209,"significant":false}' "$T/r.json"
	run winback-evaluate --since 2025-01-01 --format json "$T/a.csv" "$T/o.csv"
	[ "$status" -eq 0 ]
	# without --until, c2's February order counts
	[[ "$output" == *'"control":{"customers":4,"reactivated":2,"rate":0.500000'* ]]
}

@test "winback-evaluate: detects an uplift when treated customers come back more" {
	campaign_data 40 20
	run winback-evaluate --since 2025-01-01 --format json "$T/aud.csv" "$T/orders.csv"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"significant":true'* ]]
	lo=$(echo "$output" | sed 's/.*"uplift":{"rate":[^,]*,"ci95":\[\([^,]*\),.*/\1/')
	up=$(echo "$output" | sed 's/.*"uplift":{"rate":\([^,]*\),.*/\1/')
	awk -v lo="$lo" -v up="$up" 'BEGIN { exit !(lo > 0.15 && up > 0.17 && up < 0.23) }'
}

@test "winback-evaluate: no uplift when both groups come back alike" {
	campaign_data 25 25
	run winback-evaluate --since 2025-01-01 --format json "$T/aud.csv" "$T/orders.csv"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"significant":false'* ]]
	ci=$(echo "$output" | sed 's/.*"uplift":{"rate":[^,]*,"ci95":\[\([^]]*\)\].*/\1/')
	awk -v ci="$ci" 'BEGIN { split(ci, c, ","); exit !(c[1] < 0 && c[2] > 0) }'
}

@test "winback-evaluate: reads an events stream as well as a CSV" {
	campaign_data 40 20
	ingest -o "$T/orders.rtn" "$T/orders.csv"
	run winback-evaluate --since 2025-01-01 "$T/aud.csv" "$T/orders.rtn"
	[ "$status" -eq 0 ]
	a=$output
	run winback-evaluate --since 2025-01-01 "$T/aud.csv" "$T/orders.csv"
	[ "$output" = "$a" ]
}

@test "winback-evaluate: bad arguments and a failing stage fail the script" {
	printf 'customer,group\nt1,treatment\nc1,control\n' >"$T/a.csv"
	small_orders_csv "$T/o.csv"
	run winback-evaluate "$T/a.csv" "$T/o.csv"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--since DATE is required"* ]]
	printf 'customer,segment\nt1,x\n' >"$T/bad.csv"
	run winback-evaluate --since 2023-01-01 "$T/bad.csv" "$T/o.csv"
	[ "$status" -eq 2 ]
	[[ "$output" == *"needs the columns customer and group"* ]]
	printf 'customer,group\nt1,treatment\n' >"$T/one.csv"
	run winback-evaluate --since 2023-01-01 "$T/one.csv" "$T/o.csv"
	[ "$status" -eq 2 ]
	[[ "$output" == *"needs both groups"* ]]
	shim ingest 4
	PATH="$T/shim:$PATH" run winback-evaluate --since 2023-01-01 --json "$T/r.json" "$T/a.csv" "$T/o.csv"
	[ "$status" -eq 4 ]
	[[ "$output" == *"winback-evaluate: ingest $T/o.csv failed (exit 4)"* ]]
	[ ! -e "$T/r.json" ]
	[[ "$output" != *"uplift"* ]]
}

@test "winback: per-channel files, control group, suppression, manifest" {
	scored
	printf 'segment,stage,channel,offer,message\nLost,,sms,COME10,m1\n*,*,email,WB20,m2\n' >"$T/camp.csv"
	printf 'u8@EX.com\n' >"$T/sup.txt"
	run winback --customers "$T/scored.rtn" --campaign "$T/camp.csv" --campaign-id spring \
		--suppress "$T/sup.txt" --min-clv 5 --p-alive 0.1-0.8 --date 2025-01-01 -o "$T/wb"
	[ "$status" -eq 0 ]
	[ "$(cd "$T/wb" && find . -type f | sort | tr '\n' ' ')" = "./audience-all.csv ./audience/email.csv ./audience/sms.csv ./control.csv ./manifest.json ./summary.csv " ]
	[ "$(stat -c %a "$T/wb/audience/sms.csv")" = 600 ]
	[ "$(stat -c %a "$T/wb/audience-all.csv")" = 600 ]
	# contact files hold treatment only, the control file control only
	! grep -q ',control$' "$T/wb/audience/email.csv" "$T/wb/audience/sms.csv"
	[ "$(tail -n +2 "$T/wb/control.csv" | grep -vc ',control$')" -eq 0 ]
	! grep -q '^w0008,' "$T/wb/audience-all.csv"
	grep -q '"suppressed": 1' "$T/wb/manifest.json"
	grep -q '"campaign": "spring"' "$T/wb/manifest.json"
	# counts add up: manifest per channel = files
	sms_t=$(($(wc -l <"$T/wb/audience/sms.csv") - 1))
	grep -q "{\"channel\": \"sms\", \"treatment\": $sms_t," "$T/wb/manifest.json"
	all=$(($(wc -l <"$T/wb/audience-all.csv") - 1))
	ctl=$(($(wc -l <"$T/wb/control.csv") - 1))
	em=$(($(wc -l <"$T/wb/audience/email.csv") - 1))
	[ $((em + sms_t + ctl)) -eq "$all" ]
	grep -q "\"selected\": $all, \"treatment\": $((em + sms_t)), \"control\": $ctl" "$T/wb/manifest.json"
	# control share near 10%
	[ "$ctl" -gt $((all * 6 / 100)) ] && [ "$ctl" -lt $((all * 14 / 100)) ]
	# every selected customer matches the rules
	[ "$(tail -n +2 "$T/wb/audience-all.csv" | grep -c -e ',mature,' -e ',Champions,')" -eq 0 ]
}

@test "winback: same campaign id, same groups; existing folder refused unless --force" {
	scored
	winback --customers "$T/scored.rtn" --campaign-id x --date 2025-01-01 -o "$T/a"
	run winback --customers "$T/scored.rtn" --campaign-id x --date 2025-01-01 -o "$T/a"
	[ "$status" -eq 2 ]
	[[ "$output" == *"exists (a campaign folder is never overwritten"* ]]
	winback --customers "$T/scored.rtn" --campaign-id x --date 2025-01-01 --force -o "$T/a"
	winback --customers "$T/scored.rtn" --campaign-id x --date 2025-01-01 -o "$T/b"
	cmp "$T/a/audience-all.csv" "$T/b/audience-all.csv"
	cmp "$T/a/audience/email.csv" "$T/b/audience/email.csv"
	[ "$(ls -A "$T" | grep -c '^\.')" -eq 0 ]
}

@test "winback: a failing stage fails the script and writes no folder" {
	scored
	shim segment-export 4
	PATH="$T/shim:$PATH" run winback --customers "$T/scored.rtn" -o "$T/wb"
	[ "$status" -eq 4 ]
	[[ "$output" == *"winback: segment-export (audience) failed (exit 4)"* ]]
	[ ! -e "$T/wb" ]
	[ "$(ls -A "$T" | grep -c '^\.wb')" -eq 0 ]
	small_orders_csv "$T/o.csv"
	rm "$T/shim/segment-export"
	shim churnscore 3
	PATH="$T/shim:$PATH" run winback -o "$T/wb" "$T/o.csv"
	[ "$status" -eq 3 ]
	[[ "$output" == *"winback: churnscore failed (exit 3)"* ]]
	[ ! -e "$T/wb" ]
	run winback --customers "$T/missing.rtn" -o "$T/wb"
	[ "$status" -eq 2 ]
}

@test "winback: end to end from orders through churnscore" {
	synth --customers 800 --seed 11 -o "$T/orders.csv"
	run winback --campaign-id e2e --date 2025-01-01 -o "$T/wb" "$T/orders.csv"
	[ "$status" -eq 0 ]
	[ -s "$T/wb/audience/email.csv" ]
	grep -q '"read": 800' "$T/wb/manifest.json"
	head -1 "$T/wb/audience-all.csv" | grep -q ',group$'
}

@test "retention-report: builds the folder on synth data, page is self-contained" {
	synth --customers 1200 --seed 5 --channels 'web:3;store:1' -o "$T/orders.csv"
	run retention-report --ingest-args "--attr channel" -o "$T/rep" "$T/orders.csv"
	[ "$status" -eq 0 ]
	for f in index.html segments.csv cohorts.csv cohort-heatmap.svg cohorts.html life-table.csv churn-risk.csv clv-totals.csv customers.rtn; do
		[ -s "$T/rep/$f" ]
	done
	# every synthetic customer ordered: the total row counts them all
	grep -q '^all,,1200,1.0000,' "$T/rep/segments.csv"
	grep -q '^all,,1200,' "$T/rep/clv-totals.csv"
	[ "$(stat -c %a "$T/rep/churn-risk.csv")" = 600 ]
	# four inline charts, nothing loaded from elsewhere
	[ "$(grep -c '<svg' "$T/rep/index.html")" -ge 4 ]
	! grep -Eq '<script|src=|href="https?:|<link' "$T/rep/index.html"
	grep -q '<h2>Segments</h2>' "$T/rep/index.html"
	grep -q '<h2>Survival (life table)</h2>' "$T/rep/index.html"
	grep -q '<polyline' "$T/rep/index.html"
	command -v xmllint >/dev/null && xmllint --noout "$T/rep/cohort-heatmap.svg"
}

@test "retention-report: the page renders in headless Chromium (not blank)" {
	command -v chromium >/dev/null || {
		echo "chromium is not installed (Debian package chromium; .ci/run installs it)" >&2
		false
	}
	synth --customers 600 --seed 2 -o "$T/orders.csv"
	retention-report -o "$T/rep" "$T/orders.csv"
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$T/chrome" --screenshot="$T/shot.png" --window-size=1200,900 \
		"file://$T/rep/index.html" >/dev/null 2>&1 || true
	[ -s "$T/shot.png" ]
	run "$BATS_FILE_TMPDIR/pngcolors" "$T/shot.png"
	[ "$status" -eq 0 ]
	colours=${output#* }
	echo "screenshot: $output" >&2
	[ "${output%% *}" = 1200x900 ]
	[ "$colours" -gt 100 ]
	# the same check on a blank page gives one colour
	printf '<html><body></body></html>' >"$T/blank.html"
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$T/chrome2" --screenshot="$T/blank.png" --window-size=1200,900 \
		"file://$T/blank.html" >/dev/null 2>&1 || true
	run "$BATS_FILE_TMPDIR/pngcolors" "$T/blank.png"
	[ "${output#* }" -lt 5 ]
}

@test "retention-report: a model that cannot be fitted falls back to the rule model, loudly" {
	small_orders_csv "$T/o.csv"
	run retention-report -o "$T/rep" "$T/o.csv"
	[ "$status" -eq 0 ]
	[[ "$output" == *"warning: the churnscore model fit failed; scoring with --model rule instead"* ]]
	grep -q 'could not be fitted to these data' "$T/rep/index.html"
	grep -q '^all,,3,1.0000,130.50,' "$T/rep/segments.csv"
	inspect --format tsv "$T/rep/customers.rtn" | tail -n +2 | grep -q 'rule'
}

@test "retention-report: a failing stage fails the script, the old report stays" {
	synth --customers 200 --seed 4 -o "$T/o.csv"
	mkdir "$T/rep"
	echo old >"$T/rep/index.html"
	for stage in ingest dedupe rfm churnscore cohort segment-export; do
		rm -rf "$T/shim"
		shim "$stage" 4
		PATH="$T/shim:$PATH" run retention-report -o "$T/rep" "$T/o.csv"
		[ "$status" -eq 4 ]
		[[ "$output" == *"injected failure"* ]]
		[[ "$output" == *"failed (exit 4)"* ]]
		[ "$(cat "$T/rep/index.html")" = old ]
		[ "$(ls "$T/rep")" = index.html ]
	done
	[ "$(ls -A "$T" | grep -c '^\.rep')" -eq 0 ]
	run retention-report -o "$T/rep" "$T/nonexistent.csv"
	[ "$status" -eq 2 ]
}

@test "nightly: publishes, logs, refuses to overlap, keeps the last good report" {
	synth --customers 300 --seed 9 -o "$T/orders.csv"
	run nightly --input "$T/orders.csv" --output "$T/out" --log "$T/log"
	[ "$status" -eq 0 ]
	[ -s "$T/out/index.html" ]
	grep -q '^ok .* exit 0$' "$T/out.status"
	grep -q 'nightly\[[0-9]*\]: start: ' "$T/log"
	grep -q 'nightly\[[0-9]*\]: done: ' "$T/log"
	[ ! -e "$T/out.lock" ]
	# a live holder of the lock: refused with exit 1
	mkdir "$T/out.lock"
	sleep 30 &
	holder=$!
	echo "$holder" >"$T/out.lock/pid"
	run nightly --input "$T/orders.csv" --output "$T/out" --log "$T/log"
	kill "$holder" || true
	[ "$status" -eq 1 ]
	[[ "$output" == *"holds $T/out.lock; not starting"* ]]
	# a stale lock is taken over; a failing stage keeps the last good report
	echo 2147483000 >"$T/out.lock/pid"
	cp "$T/out/index.html" "$T/good.html"
	shim rfm 3
	PATH="$T/shim:$PATH" run nightly --input "$T/orders.csv" --output "$T/out" --log "$T/log"
	[ "$status" -eq 3 ]
	grep -q 'removing the stale lock' "$T/log"
	grep -q 'rfm: injected failure' "$T/log"
	grep -q '^failed .* exit 3$' "$T/out.status"
	cmp "$T/good.html" "$T/out/index.html"
	[ ! -e "$T/out.lock" ]
	run nightly --output "$T/out"
	[ "$status" -eq 2 ]
}

@test "winback then winback-evaluate on synth data: control share, uplift found only when real" {
	synth --customers 3000 --seed 21 -o "$T/orders.csv"
	winback --campaign-id jan --control 30% --date 2025-01-01 -o "$T/wb" "$T/orders.csv"
	all=$(($(wc -l <"$T/wb/audience-all.csv") - 1))
	ctl=$(($(wc -l <"$T/wb/control.csv") - 1))
	[ "$all" -gt 1000 ]
	# control share within 4 points of 30%
	[ $((ctl * 100)) -gt $((all * 26)) ] && [ $((ctl * 100)) -lt $((all * 34)) ]
	# orders after the campaign: treated customers come back at 30%, control at 15%
	follow() {
		awk -F, -v pt="$1" -v pc="$2" '
			NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "customer") cc = i; if ($i == "group") gc = i }
				print "customer_id,order_id,date,amount"; next }
			{ i = substr($cc, 2) + 0; u = (i * 7919 + 13) % 100; p = $gc == "treatment" ? pt : pc
			  if (u < p) printf "%s,n%d,2025-01-%02d,25.00\n", $cc, i, 2 + i % 27 }' "$T/wb/audience-all.csv"
	}
	follow 30 15 >"$T/jan.csv"
	run winback-evaluate --since 2025-01-01 --until 2025-01-31 --format json "$T/wb/audience-all.csv" "$T/jan.csv"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"significant":true'* ]]
	up=$(echo "$output" | sed 's/.*"uplift":{"rate":\([^,]*\),.*/\1/')
	awk -v up="$up" 'BEGIN { exit !(up > 0.10 && up < 0.20) }'
	follow 20 20 >"$T/jan0.csv"
	run winback-evaluate --since 2025-01-01 --until 2025-01-31 --format json "$T/wb/audience-all.csv" "$T/jan0.csv"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"significant":false'* ]]
}

@test "winback-evaluate: ids that segment-export guarded against formulas still match" {
	printf 'customer:string\tclv:money\tp_alive:float\n-5\t10\t0.5\n+7\t10\t0.5\nq1\t10\t0.5\nq2\t10\t0.5\n' |
		"$BATS_FILE_TMPDIR/mkcustomers" "$T/g.rtn"
	segment-export --control 50% --campaign-id g --fields customer,group "$T/g.rtn" >"$T/g.csv"
	grep -q "^\"'-5\"," "$T/g.csv"
	printf 'customer_id,order_id,date,amount\n-5,o1,2025-01-02,10\n+7,o2,2025-01-02,10\n' >"$T/o.csv"
	run winback-evaluate --since 2025-01-01 --format json "$T/g.csv" "$T/o.csv"
	[ "$status" -eq 0 ]
	# -5 (treatment) and +7 (control) both reactivated: 2 of the 4 audience members
	t=$(echo "$output" | sed 's/.*"treatment":{"customers":\([0-9]*\),"reactivated":\([0-9]*\).*/\1 \2/')
	c=$(echo "$output" | sed 's/.*"control":{"customers":\([0-9]*\),"reactivated":\([0-9]*\).*/\1 \2/')
	set -- $t $c
	[ $(($2 + $4)) -eq 2 ]
	[ $(($1 + $3)) -eq 4 ]
}
