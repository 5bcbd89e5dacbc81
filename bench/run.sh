#!/bin/sh
# make bench: retain against the floor (cat, wc -l) and its peers (sort -u,
# DuckDB) on synthetic CSVs of 1 and 10 million rows.
#
#   sh bench/run.sh                      all sizes, all bench/*.sh
#   BENCH_SIZES=1m BENCH_RUNS=3 sh bench/run.sh
#   BENCH_ONLY="ingest pipeline" sh bench/run.sh
#
# Makes the inputs with synth into bench/data/ (kept, not committed), installs
# DuckDB's Node package into bench/node_modules/ when node and npm are there
# (skipped with a notice otherwise), runs the floor and synth itself, then
# every bench/NAME.sh (see bench/common.sh for how to write one), and writes
# the table to bench/results-YYYY-MM-DD.txt (not committed).
set -eu
BENCH_HOME=$(cd "$(dirname "$0")" && pwd)
BENCH_MAIN=1
export BENCH_HOME BENCH_MAIN
. "$BENCH_HOME/common.sh"

for p in synth ingest; do
	[ -x "$BIN/$p" ] || { echo "bench: bin/$p is missing: run make first" >&2; exit 2; }
done
command -v /usr/bin/time >/dev/null || { echo "bench: needs GNU time (/usr/bin/time)" >&2; exit 2; }

if ! have_duck; then
	if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
		echo "bench: installing @duckdb/node-api into bench/node_modules" >&2
		npm install --prefix "$BENCH_HOME" --no-audit --no-fund @duckdb/node-api >"$BENCH_TMP/npm.log" 2>&1 ||
			bench_note "DuckDB skipped: npm install @duckdb/node-api failed: $(tail -n 1 "$BENCH_TMP/npm.log")"
	else
		bench_note "DuckDB skipped: node and npm are needed (apt-get install nodejs npm)"
	fi
fi

# The floor: reading the bytes, counting the lines; and synth making them.
for size in $BENCH_SIZES; do
	csv=$(bench_input "$size" csv)
	rows=$(bench_rows "$size")
	bytes=$(bench_bytes "$csv")
	bench_run "floor: cat $size" "$rows" "$bytes" "" "cat '$csv'"
	bench_run "floor: wc -l $size" "$rows" "$bytes" "" "wc -l '$csv'"
	# synth itself: streaming (rows grouped by customer) and --order time
	bench_run "synth $size" "$rows" "$bytes" "" "synth $(bench_synth_args "$size" | sed 's/ --order time//')"
	bench_run "synth --order time $size" "$rows" "$bytes" "" "synth $(bench_synth_args "$size")"
done

for script in "$BENCH_HOME"/*.sh; do
	name=$(basename "$script" .sh)
	case $name in run | common) continue ;; esac
	if [ -n "${BENCH_ONLY:-}" ]; then
		case " $BENCH_ONLY " in *" $name "*) ;; *) continue ;; esac
	fi
	echo "bench: $name.sh" >&2
	# What a script prints itself (beyond bench_run rows) goes into the
	# results file under its name.
	# Scripts that keep their own data find the shared folder and DuckDB here.
	BENCH_DIR=$DATA DUCKDB_NODE_DIR=$BENCH_HOME NODE_PATH=$BENCH_HOME/node_modules \
		sh "$script" >"$BENCH_TMP/out-$name" || bench_note "bench/$name.sh exited with status $?"
	[ -s "$BENCH_TMP/out-$name" ] && cat "$BENCH_TMP/out-$name" >&2
done

results=$BENCH_HOME/results-$(date -u +%Y-%m-%d).txt
{
	echo "retain benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(uname -srm), $(nproc 2>/dev/null || echo '?') cpus," \
		"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
	echo "retain $("$BIN/synth" --version | awk '{ print $3 }'); node $(node --version 2>/dev/null || echo -);" \
		"duckdb $(have_duck && DUCK_PRINT=1 duck_sql 'SELECT version()' 2>/dev/null | tail -n 1 || echo -)"
	echo "load average when the table was written: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" \
		"(other work on the machine inflates wall time; cpu time is steadier)"
	echo "median of $BENCH_RUNS runs after $BENCH_WARMUP untimed (a row with a vs and its peer timed in turn, run for run);"
	echo "cpu = user + system; peak MB = largest single process;"
	echo "MB/s and rows/s of the input (by wall time); ratio = wall / wall of the peer named in vs,"
	echo "cpu = the same for cpu time (< 1: retain is faster)"
	echo
	bench_table
	echo
	cat "$BENCH_NOTES"
	for out in "$BENCH_TMP"/out-*; do
		[ -s "$out" ] || continue
		printf '\n== bench/%s.sh\n' "${out##*/out-}"
		cat "$out"
	done
} >"$results"
cat "$results"
echo "bench: results in $results"
