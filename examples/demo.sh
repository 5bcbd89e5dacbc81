#!/bin/sh
# make demo: retain on the committed sample examples/orders.csv.
#
#   sh examples/demo.sh [OUTDIR]        (default: demo-out/ in the repository)
#
# Runs the retention-report workflow when scripts/retention-report exists,
# and the pipeline stage by stage with every program present in bin/:
#
#   ingest -> dedupe -> rfm -> churnscore -> segment-export
#                    \-> cohort
#
# A stage whose program is not built yet is skipped with a notice. A stage
# that fails is reported, the others still run, and the exit status is 1.
# Needs nothing outside the repository (no network, no synth: the sample is
# committed).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${RETAIN_BIN:-$top/bin}
ex=$top/examples
out=${1:-$top/demo-out}
asof=2024-12-31          # the sample's last observed day (see regenerate.sh)
PATH=$bin:$top/scripts:$PATH
export PATH

# Never clobber a folder this script did not make.
if [ -e "$out" ] && [ ! -e "$out/.retain-demo" ]; then
	echo "demo: $out exists and is not a demo folder; give another OUTDIR" >&2
	exit 2
fi
rm -rf "$out"
mkdir -p "$out"
: >"$out/.retain-demo"

failed=0
have() { [ -x "$bin/$1" ]; }
skip() { printf '  %-15s skipped (bin/%s not built yet)\n' "$1" "$1"; }
ok() { printf '  %-15s %s\n' "$1" "$2"; }
# run NAME LOG command...: runs a stage, its standard error into LOG.
run() {
	name=$1 log=$2
	shift 2
	if "$@" 2>"$out/$log"; then
		return 0
	fi
	printf '  %-15s FAILED (see %s)\n' "$name" "$out/$log"
	failed=1
	return 1
}

echo "retain demo on examples/orders.csv ($(($(wc -l <"$ex/orders.csv") - 1)) rows)"

if ! have ingest; then
	echo "demo: bin/ingest is missing: run 'make' first" >&2
	exit 2
fi

# 0. The packaged workflow, when it and every program it runs exist.
if [ -x "$top/scripts/retention-report" ]; then
	missing=
	for p in ingest dedupe rfm churnscore cohort segment-export; do
		have "$p" || missing="$missing bin/$p"
	done
	if [ -n "$missing" ]; then
		printf '  %-15s skipped (needs%s)\n' retention-report "$missing"
	elif run retention-report retention-report.log "$top/scripts/retention-report" -o "$out/report" \
		--ingest-args "--attr channel,sku --max-rejects 1%" \
		--dedupe-args "--alias $ex/aliases.csv" --rfm-args "--asof $asof --carry channel" \
		"$ex/orders.csv"; then
		ok retention-report "report/index.html (open it in a browser)"
	fi
fi

# 1. Parse: channel and sku kept as attributes; bad rows go to rejects.tsv.
run ingest ingest.log ingest --attr channel,sku --max-rejects 1% --rejects "$out/rejects.tsv" \
	--stats -o "$out/events.rtn" "$ex/orders.csv" || exit 1
ok ingest "events.rtn, rejects.tsv ($(tail -n 1 "$out/ingest.log"))"
events=$out/events.rtn

# 2. Drop exact duplicates, merge the aliases, sort by customer and time.
if have dedupe; then
	if run dedupe dedupe.log dedupe --alias "$ex/aliases.csv" --dups "$out/duplicates.rtn" --stats \
		-o "$out/clean.rtn" "$events"; then
		events=$out/clean.rtn
		ok dedupe "clean.rtn, duplicates.rtn ($(head -n 1 "$out/dedupe.log"))"
	fi
else
	skip dedupe
fi

# 3. Customer value: RFM scores, named segments, lifecycle stage.
customers=
if have rfm; then
	if run rfm rfm.log rfm --asof "$asof" --carry channel -o "$out/customers.rtn" "$events" &&
		run rfm rfm.log rfm --asof "$asof" --summary "$events" >"$out/health.txt"; then
		customers=$out/customers.rtn
		inspect --format csv "$customers" >"$out/customers.csv"
		ok rfm "customers.rtn, customers.csv, health.txt"
	fi
else
	skip rfm
fi

# 4. Churn risk and lifetime value; compared with the simulation's truth.
if have churnscore && [ -n "$customers" ]; then
	if run churnscore churnscore.log churnscore --params-out "$out/params.txt" \
		-o "$out/scored.rtn" "$customers"; then
		customers=$out/scored.rtn
		inspect --format csv "$customers" >"$out/scored.csv"
		sh "$ex/check-truth.sh" "$out/scored.csv" "$ex/truth.csv" >"$out/truth-check.txt" || true
		ok churnscore "scored.rtn, scored.csv, params.txt, truth-check.txt"
	fi
else
	skip churnscore
fi

# 5. Audiences: the health overview and a win-back list with a control group.
if have segment-export && [ -n "$customers" ]; then
	if run segment-export segment-export.log segment-export --summary "$customers" >"$out/segments.txt" &&
		run segment-export segment-export.log segment-export --segment "at risk,can't lose them" \
			--campaign-id demo-winback --control 10% -o "$out/winback-audience.csv" "$customers"; then
		ok segment-export "segments.txt, winback-audience.csv ($(($(wc -l <"$out/winback-audience.csv") - 1)) customers)"
	fi
else
	skip segment-export
fi

# 6. Retention by monthly acquisition cohort, overall and by channel.
if have cohort; then
	if run cohort cohort.log cohort --asof "$asof" --format table --color never "$events" \
			>"$out/cohorts.txt" &&
		run cohort cohort.log cohort --asof "$asof" --format html -o "$out/cohorts.html" "$events" &&
		run cohort cohort.log cohort --asof "$asof" --by channel --format csv \
			-o "$out/cohorts-by-channel.csv" "$events" &&
		run cohort cohort.log cohort --asof "$asof" --life-table --by channel --format table \
			--color never "$events" >"$out/life-table.txt"; then
		ok cohort "cohorts.txt, cohorts.html, cohorts-by-channel.csv, life-table.txt"
	fi
else
	skip cohort
fi

echo "demo: results in $out"
[ -s "$out/health.txt" ] && { echo; head -n 16 "$out/health.txt"; }
exit "$failed"
