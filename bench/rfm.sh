#!/bin/sh
# Benchmark: rfm on about 10 million events, sorted (after dedupe) and
# unsorted (in time order, as exported), and `ingest | rfm` beside DuckDB's GROUP BY + NTILE query on the
# same CSV (through node's @duckdb/node-api when it can be found; skipped
# with a notice otherwise).
#
#   sh bench/rfm.sh                  # 380000 customers, about 9.7M events
#   RFM_BENCH_CUSTOMERS=40000 sh bench/rfm.sh
#   DUCKDB_NODE_DIR=/path/with/node_modules sh bench/rfm.sh
#
# Data is written under $TMPDIR and removed at the end.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${RETAIN_BIN:-$top/bin}
customers=${RFM_BENCH_CUSTOMERS:-380000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/rfm-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

# run VAR LABEL COMMAND...: prints wall-clock and CPU seconds (user + system,
# all processes and threads) of the command; keeps the wall time in $VAR and
# the CPU time in ${VAR}_cpu. The machine may be shared: CPU time is the
# steadier number.
run() {
	var=$1 label=$2; shift 2
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f "%e %U %S" -o "$dir/time" "$@"
	else
		t0=$(date +%s.%N)
		"$@"
		echo "$(date +%s.%N) $t0" | awk '{ print $1 - $2, 0, 0 }' >"$dir/time"
	fi
	set -- $(tail -1 "$dir/time")
	cpu=$(echo "$2 $3" | awk '{ printf "%.2f", $1 + $2 }')
	printf '%-40s %7.2f s wall %7.2f s cpu\n' "$label" "$1" "$cpu"
	eval "$var=$1 ${var}_cpu=$cpu"
}

echo "rfm benchmark: $customers customers (synth, BG/NBD), $(nproc 2>/dev/null || echo '?') cores"
"$bin/synth" --customers "$customers" --seed 7 --params r=2,alpha=4,a=0.3,b=3 -o "$dir/synth.csv"
# an export is in time order, customers interleaved: the hard case for rfm
{ head -1 "$dir/synth.csv"; tail -n +2 "$dir/synth.csv" | LC_ALL=C sort -t, -k3,3 -S 25%; } >"$dir/orders.csv"
rm -f "$dir/synth.csv"
rows=$(($(wc -l <"$dir/orders.csv") - 1))
echo "events: $rows ($(du -h "$dir/orders.csv" | cut -f1) CSV, in time order)"
"$bin/ingest" --attr channel -u -o "$dir/events.rtn" "$dir/orders.csv"
"$bin/dedupe" -u -o "$dir/sorted.rtn" "$dir/events.rtn"

run t_read "inspect --count (read only), unsorted" sh -c "'$bin/inspect' --count '$dir/events.rtn' >/dev/null"
run t_unsorted "rfm, unsorted stream (time order)" sh -c "'$bin/rfm' '$dir/events.rtn' >'$dir/out1.rtn'"
run t_sorted "rfm, sorted stream (after dedupe)" sh -c "'$bin/rfm' '$dir/sorted.rtn' >'$dir/out2.rtn'"
run t_pipe "ingest CSV | rfm" sh -c "'$bin/ingest' --attr channel '$dir/orders.csv' | '$bin/rfm' >'$dir/out3.rtn'"
"$bin/inspect" "$dir/out1.rtn" >"$dir/a.txt"
"$bin/inspect" "$dir/out3.rtn" >"$dir/b.txt"
cmp -s "$dir/a.txt" "$dir/b.txt" || { echo "rfm outputs differ" >&2; exit 1; }
awk -v n="$rows" -v a="$t_unsorted_cpu" -v b="$t_sorted_cpu" -v r="$t_read_cpu" 'BEGIN {
	printf "rfm per CPU second: unsorted %.1f M events/s, sorted %.1f M events/s (reading alone %.1f M/s)\n",
	       n / (a > 0.01 ? a : 0.01) / 1e6, n / (b > 0.01 ? b : 0.01) / 1e6, n / (r > 0.01 ? r : 0.01) / 1e6 }'

# DuckDB through node
nodedir=${DUCKDB_NODE_DIR:-}
if ! command -v node >/dev/null 2>&1; then
	echo "DuckDB: skipped (node is not installed)"
	exit 0
fi
if ! (cd "${nodedir:-$top}" && node -e "require.resolve('@duckdb/node-api')") >/dev/null 2>&1; then
	echo "DuckDB: skipped (@duckdb/node-api not found; npm install @duckdb/node-api in a folder"
	echo "        and set DUCKDB_NODE_DIR to it)"
	exit 0
fi
cat >"$dir/duck.js" <<'JS'
const { DuckDBInstance } = require(require.resolve('@duckdb/node-api', { paths: [process.argv[3]] }));
(async () => {
	const db = await DuckDBInstance.create(':memory:');
	const con = await db.connect();
	const sql = `
	WITH c AS (
	  SELECT customer_id, max(CAST(date AS TIMESTAMP)) AS last_t,
	         count(DISTINCT order_id) AS f, sum(amount) AS m
	  FROM read_csv('${process.argv[2]}', header = true) GROUP BY customer_id),
	s AS (
	  SELECT customer_id, NTILE(5) OVER (ORDER BY last_t) AS r,
	         NTILE(5) OVER (ORDER BY f) AS fs, NTILE(5) OVER (ORDER BY m) AS ms FROM c)
	SELECT count(*) AS n, sum(r) AS r, sum(fs) AS f, sum(ms) AS m FROM s`;
	const rows = (await con.runAndReadAll(sql)).getRows();
	console.error('duckdb: ' + rows[0].join(' '));
})();
JS
run t_duck "DuckDB: read CSV, GROUP BY + NTILE" sh -c "node '$dir/duck.js' '$dir/orders.csv' '${nodedir:-$top}' 2>/dev/null"
awk -v a="$t_pipe" -v d="$t_duck" -v ac="$t_pipe_cpu" -v dc="$t_duck_cpu" 'BEGIN {
	printf "ingest | rfm against DuckDB on the CSV: %.1fx in wall time, %.1fx in CPU time (target: 3x)\n", d / a, dc / ac }'
