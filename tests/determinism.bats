#!/usr/bin/env bats
# Determinism (RELIABILITY.md promise 7): the same pipeline, run with
# LC_ALL=C TZ=UTC and again with a German locale and other zones, gives
# byte-identical files, standard output and standard error, for every
# program. Streams are also compared decoded (inspect). Both runs use the
# same folder and relative paths, so even the provenance lines in stream
# headers must match byte for byte.

load helpers

# The whole pipeline, in the current folder, with relative paths.
pipeline() {
	synth --customers 400 --seed 11 --refund-rate 0.1 --dup-rate 0.05 --alias-rate 0.05 \
		--alias-file alias.csv --truth truth.tsv --channels 'ads:2;mail:1:a=1.2' --stats -o s.csv 2>synth.err
	synth --customers 50 --seed 4 --model pnbd --format stream -o s2.rtn
	synth --customers 20 --seed 4 >s3.csv
	# naive local times with --tz (a zone with DST: one in the gap), decimal commas
	printf 'kunde;datum;betrag\nk1;2023-03-26 02:30;1.234,50\nk2;2023-10-29 02:30;12,5\nk1;2023-07-01 23:59;-3,00\n' >naive.csv
	ingest --tz Europe/Berlin --delimiter ';' --decimal-comma --thousands . --customer kunde \
		--time datum --amount betrag --stats --max-rejects 1 --rejects naive-rej.tsv naive.csv -o naive.rtn 2>naive.err
	ingest --attr channel,sku --stats --max-rejects 100% --rejects rej.tsv s.csv s3.csv -o e.rtn 2>ingest.err
	dedupe --alias alias.csv --key order --dups dups.rtn --memory 1M --stats e.rtn -o d.rtn 2>dedupe.err
	rfm --carry channel --events refund --stats --breaks-out breaks.txt d.rtn -o r.rtn 2>rfm.err
	rfm --tz America/Los_Angeles --unit day --asof 2024-06-30 --window 52w --recent 90d d.rtn -o r-tz.rtn
	rfm --summary d.rtn >rfm-summary.txt
	cohort --stats d.rtn -o c.rtn 2>cohort.err
	cohort --period week --tz Asia/Kolkata --format csv d.rtn -o c-week.csv
	cohort --format table --color never d.rtn >c-table.txt
	cohort --format html d.rtn -o c.html
	cohort --format svg --metric revenue d.rtn -o c.svg
	cohort --format jsonl --by channel d.rtn -o c.jsonl
	cohort --life-table --churn-after 90d d.rtn -o lt.rtn
	cohort --windows 0-7,8-30,31-90 --format tsv d.rtn -o cw.tsv
	segment-export --stats r.rtn -o x.csv 2>segx.err
	segment-export --format jsonl --where 'revenue > 50 or recency >= 180' --top 50 --by revenue r.rtn -o x.jsonl
	segment-export --summary r.rtn >x-summary.txt
	inspect --header r.rtn >r-header.txt
	inspect --format jsonl r-tz.rtn >r-tz.jsonl
	inspect --format csv d.rtn >d.csv
	inspect --check e.rtn d.rtn r.rtn >check.txt
	if [ -x "$BIN/churnscore" ] && [ -f "$TOP/cmd/churnscore.c" ]; then
		# (no --stats: it reports the fit's CPU time)
		churnscore r.rtn -o cs.rtn
		churnscore --model rule r.rtn -o cs-rule.rtn
		segment-export --fields customer,p_alive,clv,risk,reasons cs.rtn -o xc.csv
	fi
	for f in *.rtn; do inspect "$f" >"$f.txt"; done
}

# run_in NAME ENV...: runs the pipeline in $T/run under the environment
# given (LC_ALL, LANG, TZ), then moves the folder to $T/NAME.
run_in() {
	local name=$1
	shift
	mkdir "$T/run"
	(cd "$T/run" && env -u LC_ALL -u LANG -u LC_NUMERIC -u LC_TIME -u TZ "$@" bash -ec "$(declare -f pipeline); BIN='$BIN' TOP='$TOP' pipeline") ||
		{ echo "pipeline failed under $*"; return 1; }
	mv "$T/run" "$T/$name"
}

# same A B: both folders hold the same file names with the same bytes.
same() {
	[ "$(cd "$T/$1" && ls | sort)" = "$(cd "$T/$2" && ls | sort)" ] || { echo "file lists differ"; return 1; }
	local f bad=""
	for f in $(cd "$T/$1" && ls); do
		cmp -s "$T/$1/$f" "$T/$2/$f" || { bad="$bad $f"; diff "$T/$1/$f" "$T/$2/$f" | head -5; }
	done
	[ -z "$bad" ] || { echo "differ between $1 and $2:$bad"; return 1; }
}

@test "the German locale and the zones are really in effect for the comparison" {
	# guards against a vacuous comparison (locale missing: install locales,
	# uncomment de_DE.UTF-8 in /etc/locale.gen, run locale-gen)
	locale -a | grep -Eqi '^de_DE\.utf-?8$'
	[ "$(LC_ALL=de_DE.UTF-8 /usr/bin/printf "%'d" 1234567)" = "1.234.567" ]
	[ "$(LC_ALL=C /usr/bin/printf "%'d" 1234567)" = "1234567" ]
	[ "$(TZ=America/New_York date -d @0 +%H)" = 19 ]
	[ "$(TZ=Pacific/Kiritimati date -d @1700000000 +%d%H)" = 1512 ]
}

@test "whole pipeline: de_DE.UTF-8 + America/New_York and de_DE + Kiritimati match C + UTC byte for byte" {
	run_in c LC_ALL=C TZ=UTC
	run_in de LC_ALL=de_DE.UTF-8 TZ=America/New_York
	run_in de2 LANG=de_DE.UTF-8 LC_NUMERIC=de_DE.UTF-8 LC_TIME=de_DE.UTF-8 TZ=Pacific/Kiritimati
	# the pipeline did real work
	[ "$(inspect --count "$T/c/d.rtn")" -gt 500 ]
	[ "$(inspect --count "$T/c/naive.rtn")" -eq 2 ]
	[ "$(wc -l <"$T/c/naive-rej.tsv")" -eq 2 ]
	[ "$(inspect --count "$T/c/r.rtn")" -gt 300 ]
	[ -s "$T/c/c.html" ] && [ -s "$T/c/x.csv" ] && [ -s "$T/c/ingest.err" ]
	# naive times: Berlin summer time, decimal comma
	grep -q "$(printf '^k1\t2023-07-01T21:59:00Z\t-3.00\t')" "$T/c/naive.rtn.txt"
	same c de
	same c de2
}

@test "decoded streams match too (inspect text), every stream of the pipeline" {
	run_in c LC_ALL=C TZ=UTC
	run_in de LC_ALL=de_DE.UTF-8 TZ=America/New_York
	local n=0 f
	for f in "$T"/c/*.rtn; do
		b=${f##*/}
		[ "$(inspect --header "$f" | grep -v '^prov')" = "$(inspect --header "$T/de/$b" | grep -v '^prov')" ]
		[ "$(inspect "$f")" = "$(LC_ALL=de_DE.UTF-8 TZ=America/New_York inspect "$T/de/$b")" ]
		n=$((n + 1))
	done
	[ "$n" -ge 8 ]
}

@test "each program's text output under TZ and LC_ALL alone (no -o): stdout identical" {
	small_orders_csv "$T/o.csv"
	cd "$T"
	ingest --attr channel o.csv -o e.rtn
	rfm e.rtn -o r.rtn
	for cmd in "ingest --attr channel o.csv" "dedupe e.rtn" "rfm e.rtn" "rfm --summary e.rtn" \
		"cohort --format csv e.rtn" "cohort --format table --color never e.rtn" "cohort e.rtn" \
		"segment-export r.rtn" "segment-export --format jsonl r.rtn" "inspect --header r.rtn" \
		"synth --customers 10" "synth --customers 10 --format stream"; do
		a=$(LC_ALL=C TZ=UTC $cmd | od -An -tx1)
		for env in "TZ=America/New_York" "LC_ALL=de_DE.UTF-8" "TZ=Asia/Kathmandu LC_ALL=de_DE.UTF-8" "TZ=Europe/London"; do
			b=$(env $env $cmd | od -An -tx1)
			[ "$a" = "$b" ] || { echo "$cmd differs under $env"; false; }
		done
	done
}
