# Shared functions for the benchmark scripts. bench/run.sh (make bench) runs
# every bench/NAME.sh; a script starts with
#
#   . "$(dirname "$0")/common.sh"
#
# and can also be run alone (sh bench/NAME.sh: it then prints its own table).
#
# A bench script is a list of measurements, for example (bench/dedupe.sh):
#
#   for size in $BENCH_SIZES; do
#       ev=$(bench_input "$size" events)     # path of an events stream
#       rows=$(bench_rows "$size"); bytes=$(bench_bytes "$ev")
#       bench_run "sort -u $size" "$rows" "$bytes" "" "sort -u $(bench_input "$size" csv)"
#       bench_run "dedupe $size" "$rows" "$bytes" "sort -u $size" "dedupe -u $ev"
#   done
#
# bench_run LABEL ROWS BYTES VS 'COMMAND'
#     Runs COMMAND (sh -c, standard output to /dev/null) BENCH_WARMUP times
#     untimed, then BENCH_RUNS times
#     under /usr/bin/time and records the medians of wall time, user+system
#     time and peak resident memory (of the largest single process of a
#     pipeline). ROWS and BYTES are the input's size, for rows/s and MB/s.
#     VS names an earlier or later LABEL: the table shows wall(LABEL) /
#     wall(VS), so below 1 means faster than VS. A failing command is
#     reported as failed (its error in the results) and the bench goes on.
# bench_duck LABEL ROWS BYTES VS 'SQL'
#     The same for SQL run by DuckDB (bench/duck.mjs, Node). Without node or
#     the package, prints a notice once and records nothing.
# bench_pair PEER_LABEL 'PEER_COMMAND' LABEL 'COMMAND' ROWS BYTES
#     The peer and retain timed in turn, run for run, and recorded as two
#     rows (VS of the second = the first): see the function.
# bench_duck_cmd 'SQL'  the command that runs SQL in DuckDB, for bench_pair
#     (empty, with a notice, when DuckDB cannot run).
# duck_sql 'SQL'      runs SQL now and prints the result (for checks).
# have_duck           true when DuckDB can run.
# bench_input SIZE csv|events|sorted
#     Path of the input of SIZE rows (1m, 10m, or a number with k/m): the CSV
#     made by synth, that CSV ingested (events stream, stored blocks), or
#     ingested and deduplicated (sorted by customer). Made once, kept in
#     bench/data/ (not committed).
# bench_rows SIZE     the CSV's data rows;   bench_bytes FILE   its size.
# bench_note TEXT     a line printed under the table (a caveat, a skip).
#
# Settings (environment): BENCH_SIZES (default "1m 10m"), BENCH_RUNS
# (default 5), BENCH_WARMUP (untimed runs first, default 1: on a virtual
# machine the first run after other work often pays for fresh memory), BENCH_ONLY (run only bench/NAME.sh for these NAMEs).
# run.sh also gives each script BENCH_DIR=bench/data (a folder for data a
# script makes itself), DUCKDB_NODE_DIR=bench and NODE_PATH=bench/node_modules.

BENCH_HOME=${BENCH_HOME:-$(cd "$(dirname "$0")" && pwd)}
TOP=${TOP:-$(cd "$BENCH_HOME/.." && pwd)}
BIN=${RETAIN_BIN:-$TOP/bin}
DATA=${BENCH_DATA:-$BENCH_HOME/data}
BENCH_SIZES=${BENCH_SIZES:-1m 10m}
BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_WARMUP=${BENCH_WARMUP:-1}
PATH=$BIN:$PATH
export BENCH_HOME TOP BIN DATA BENCH_SIZES BENCH_RUNS BENCH_WARMUP PATH
mkdir -p "$DATA"
if [ -z "${BENCH_TMP:-}" ]; then
	BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/retain-bench.XXXXXX")
	# A bench script run alone prints its own table at the end.
	if [ "${BENCH_MAIN:-0}" = 1 ]; then
		trap 'rm -rf "$BENCH_TMP"' EXIT
	else
		trap 'bench_table; cat "$BENCH_NOTES"; rm -rf "$BENCH_TMP"' EXIT
	fi
	trap 'rm -rf "$BENCH_TMP"; exit 130' INT TERM
fi
BENCH_TSV=${BENCH_TSV:-$BENCH_TMP/results.tsv}
BENCH_NOTES=${BENCH_NOTES:-$BENCH_TMP/notes.txt}
export BENCH_TMP BENCH_TSV BENCH_NOTES
touch "$BENCH_TSV" "$BENCH_NOTES"

bench_note() {
	grep -qxF "$*" "$BENCH_NOTES" 2>/dev/null || printf '%s\n' "$*" >>"$BENCH_NOTES"
}

# Rows per size name: 1m -> 1000000, 250k -> 250000, 5000 -> 5000.
bench_size_rows() {
	case $1 in
	*m) echo $((${1%m} * 1000000)) ;;
	*k) echo $((${1%k} * 1000)) ;;
	*) echo "$1" ;;
	esac
}

# The synth arguments for a size, quoted for sh (eval, sh -c): the messy shop of examples/
# in time order (as an export would be: no stage gets pre-sorted input)
# (8.75 rows per customer on average), so SIZE rows need SIZE/8.75 customers.
# The row count is close to SIZE, not exact; bench_rows gives the real one.
bench_synth_args() {
	customers=$(($(bench_size_rows "$1") * 4 / 35))
	[ "$customers" -ge 1 ] || customers=1
	echo "--customers $customers --seed 7 --start 2023-01-01 --end 2024-06-30 --asof 2024-12-31" \
		"--params r=0.9,alpha=6,a=0.8,b=3 --spend p=4,q=4,gamma=30" \
		"--channels 'ads:0.4:a=1.6,b=2.4;referral:0.2:r=1.1,a=0.4,b=4;organic:0.3;email:0.1:r=1.4,p=3'" \
		"--refund-rate 0.04 --dup-rate 0.008 --order time"
}

# 0 when stream file $1 exists in the format version this build writes
# (streams made by an earlier build are remade, not timed in the old format).
bench_stream_current() {
	[ -s "$1" ] || return 1
	want=$(sed -n 's/^#define RTN_VERSION_MAJOR \([0-9]*\).*/\1/p' "$TOP/lib/stream.h")
	have=$(inspect --header "$1" 2>/dev/null | sed -n 's/^version	\([0-9]*\)\..*/\1/p')
	[ "$have" = "$want" ]
}

# Makes $DATA/SIZE.csv (and the streams) once; remade when the synth
# arguments change (they are kept beside the data) or the stream format does.
bench_input() {
	size=$1 kind=$2
	csv=$DATA/$size.csv
	args=$(bench_synth_args "$size")
	if [ ! -s "$csv" ] || [ "$(cat "$csv.args" 2>/dev/null)" != "$args" ]; then
		echo "bench: making $csv with synth" >&2
		rm -f "$DATA/$size".*
		eval "synth $args -o \"\$csv\"" || { echo "bench: synth failed" >&2; return 1; }
		printf '%s\n' "$args" >"$csv.args"
		echo $(($(wc -l <"$csv") - 1)) >"$csv.rows"
	fi
	case $kind in
	csv) echo "$csv" ;;
	events)
		if ! bench_stream_current "$DATA/$size.events.rtn"; then
			echo "bench: ingesting $csv" >&2
			ingest --attr channel,sku -u -o "$DATA/$size.events.rtn" "$csv" ||
				{ echo "bench: ingest failed" >&2; return 1; }
		fi
		echo "$DATA/$size.events.rtn" ;;
	deflated)   # the same events as ingest writes a file by default
		if ! bench_stream_current "$DATA/$size.events.z.rtn"; then
			echo "bench: ingesting $csv (deflated)" >&2
			ingest --attr channel,sku -o "$DATA/$size.events.z.rtn" "$csv" ||
				{ echo "bench: ingest failed" >&2; return 1; }
		fi
		echo "$DATA/$size.events.z.rtn" ;;
	sorted)
		if ! bench_stream_current "$DATA/$size.sorted.rtn"; then
			[ -x "$BIN/dedupe" ] || { echo "bench: sorted input needs bin/dedupe" >&2; return 1; }
			ev=$(bench_input "$size" events) || return 1
			echo "bench: deduplicating $ev" >&2
			dedupe -u -o "$DATA/$size.sorted.rtn" "$ev" ||
				{ echo "bench: dedupe failed" >&2; return 1; }
		fi
		echo "$DATA/$size.sorted.rtn" ;;
	*) echo "bench_input: unknown kind $kind" >&2; return 1 ;;
	esac
}

bench_rows() {
	bench_input "$1" csv >/dev/null && cat "$DATA/$1.csv.rows"
}

bench_bytes() {
	wc -c <"$1" | tr -d ' '
}

# Median of the numbers on standard input.
bench_median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan";
		else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# One timed run of $1 (a line of "wall user sys rss" appended to $2);
# non-zero, with the error in $BENCH_TMP/err, when the command fails.
bench_time() {
	/usr/bin/time -f '%e %U %S %M' -o "$BENCH_TMP/time" sh -c "$1" >/dev/null 2>"$BENCH_TMP/err" || return 1
	tail -n 1 "$BENCH_TMP/time" >>"$2"
}

bench_warm() {
	i=0
	while [ "$i" -lt "$BENCH_WARMUP" ]; do
		sh -c "$1" >/dev/null 2>&1 || break   # a failure shows in the timed runs
		i=$((i + 1))
	done
}

bench_failed() {
	printf 'bench: %s failed: %s\n' "$1" "$(tail -n 3 "$BENCH_TMP/err" | tr '\n' ' ')" >&2
	printf '%s\tfailed\t\t\t\t\t\n' "$1" >>"$BENCH_TSV"
	bench_note "$1 failed: $(tail -n 1 "$BENCH_TMP/err")"
}

# The medians of the runs in file $5 as the row of LABEL $1 (rows $2, bytes $3, vs $4).
bench_record() {
	wall=$(awk '{ print $1 }' "$5" | bench_median)
	cpu=$(awk '{ print $2 + $3 }' "$5" | bench_median)
	rss=$(awk '{ print $4 }' "$5" | bench_median)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$wall" "$cpu" "$rss" "$4" >>"$BENCH_TSV"
	printf 'bench: %-34s %8.2fs wall %8.2fs cpu %8.0f MB\n' "$1" "$wall" "$cpu" "$(echo "$rss" | awk '{ print $1 / 1024 }')" >&2
}

bench_run() {
	label=$1 rows=$2 bytes=$3 vs=$4 cmd=$5
	runs=$BENCH_TMP/runs
	: >"$runs"
	bench_warm "$cmd"
	i=0
	while [ "$i" -lt "$BENCH_RUNS" ]; do
		bench_time "$cmd" "$runs" || { bench_failed "$label"; return 0; }
		i=$((i + 1))
	done
	bench_record "$label" "$rows" "$bytes" "$vs" "$runs"
}

# bench_pair PEER_LABEL 'PEER_COMMAND' LABEL 'COMMAND' ROWS BYTES
#     The peer and retain in turn (peer, retain, peer, retain, ...), so that
#     both meet the machine in the same state (on a shared virtual machine
#     the speed of memory and processors drifts from minute to minute); then
#     the peer's row and retain's, with VS = PEER_LABEL. An empty
#     PEER_COMMAND (no DuckDB) runs retain alone.
bench_pair() {
	plabel=$1 pcmd=$2 label=$3 cmd=$4 rows=$5 bytes=$6
	if [ -z "$pcmd" ]; then
		bench_run "$label" "$rows" "$bytes" "" "$cmd"
		return 0
	fi
	pruns=$BENCH_TMP/pruns runs=$BENCH_TMP/runs
	: >"$pruns"
	: >"$runs"
	bench_warm "$pcmd"
	bench_warm "$cmd"
	pok=1 ok=1 i=0
	while [ "$i" -lt "$BENCH_RUNS" ]; do
		if [ "$pok" = 1 ] && ! bench_time "$pcmd" "$pruns"; then
			bench_failed "$plabel"
			pok=0
		fi
		if [ "$ok" = 1 ] && ! bench_time "$cmd" "$runs"; then
			bench_failed "$label"
			ok=0
		fi
		[ "$pok$ok" = 00 ] && return 0
		i=$((i + 1))
	done
	[ "$pok" = 1 ] && bench_record "$plabel" "$rows" "$bytes" "" "$pruns"
	[ "$ok" = 1 ] && bench_record "$label" "$rows" "$bytes" "$plabel" "$runs"
	return 0
}

have_duck() {
	command -v node >/dev/null 2>&1 && [ -d "$BENCH_HOME/node_modules/@duckdb/node-api" ]
}

duck_sql() {
	node "$BENCH_HOME/duck.mjs" "$1"
}

# The command that runs SQL $1 in DuckDB (empty, with a notice, when it cannot run).
bench_duck_cmd() {
	if ! have_duck; then
		bench_note "DuckDB skipped: needs node and 'npm install --prefix bench @duckdb/node-api' (bench/run.sh tries it)"
		return 0
	fi
	n=$(ls "$BENCH_TMP"/*.sql 2>/dev/null | wc -l)
	sqlfile=$BENCH_TMP/q$n.sql
	printf '%s\n' "$1" >"$sqlfile"
	echo "node '$BENCH_HOME/duck.mjs' --file '$sqlfile'"
}

bench_duck() {
	dcmd=$(bench_duck_cmd "$5")
	[ -n "$dcmd" ] && bench_run "$1" "$2" "$3" "$4" "$dcmd"
	return 0
}

# Prints the results table of $BENCH_TSV.
bench_table() {
	awk -F '\t' '
	{ label[NR] = $1; rows[NR] = $2; bytes[NR] = $3; wall[NR] = $4; cpu[NR] = $5; rss[NR] = $6; vs[NR] = $7
	  if ($2 != "failed") { w[$1] = $4; c[$1] = $5 } }
	END {
		printf "%-36s %10s %9s %9s %8s %9s %11s %6s %6s  %s\n", "benchmark", "rows", "wall s", "cpu s", "peak MB",
			"MB/s", "rows/s", "ratio", "cpu", "vs"
		for (i = 1; i <= NR; i++) {
			if (rows[i] == "failed") { printf "%-36s %10s\n", label[i], "failed"; continue }
			ratio = cratio = ""
			if (vs[i] != "" && (vs[i] in w) && w[vs[i]] > 0) {
				ratio = sprintf("%.2f", wall[i] / w[vs[i]])
				cratio = c[vs[i]] > 0 ? sprintf("%.2f", cpu[i] / c[vs[i]]) : "-"
			} else if (vs[i] != "") ratio = cratio = "-"
			ws = wall[i] > 0 ? wall[i] : 0.005
			printf "%-36s %10d %9.2f %9.2f %8.0f %9.0f %11.0f %6s %6s  %s\n", label[i], rows[i], wall[i], cpu[i],
				rss[i] / 1024, bytes[i] / 1e6 / ws, rows[i] / ws, ratio, cratio, vs[i]
		}
	}' "$BENCH_TSV"
}
