#!/bin/sh
# rfm beside DuckDB's GROUP BY + NTILE query on the same CSV (synth data in
# time order, as a shop export; see common.sh):
#   ingest | rfm          vs  typed read of the CSV, last purchase, distinct
#                             orders and revenue per customer, NTILE(5) of
#                             each (DuckDB splits ties; rfm never does)
#   rfm on the events stream (the aggregation alone: customers interleaved,
#   the hash-table path), on the same events as a deflated file (ingest's
#   default for files: blocks inflated ahead by worker threads), on the
#   stream sorted by customer (after dedupe: one customer at a time), and
#   with --summary, classic8 and --window
# Run by bench/run.sh (make bench), or alone: sh bench/rfm.sh
# (BENCH_SIZES="1m 10m" by default; DuckDB is skipped with a notice when
# node or @duckdb/node-api is missing).
. "$(dirname "$0")/common.sh"
[ -x "$BIN/rfm" ] && [ -x "$BIN/ingest" ] || { echo "bench/rfm.sh: needs bin/ingest and bin/rfm" >&2; exit 2; }
for size in $BENCH_SIZES; do
	csv=$(bench_input "$size" csv) || exit 1
	ev=$(bench_input "$size" events) || exit 1
	rows=$(bench_rows "$size")
	bytes=$(bench_bytes "$csv")
	sql="
CREATE TABLE c AS SELECT customer_id, max(CAST(date AS TIMESTAMPTZ)) AS last_t,
  count(DISTINCT order_id) AS f, sum(CAST(amount AS DECIMAL(18,4))) AS m
FROM read_csv('$csv', header = true, all_varchar = true) GROUP BY customer_id;
SELECT count(*), sum(r), sum(fs), sum(ms) FROM (
  SELECT NTILE(5) OVER (ORDER BY last_t) AS r, NTILE(5) OVER (ORDER BY f) AS fs,
         NTILE(5) OVER (ORDER BY m) AS ms FROM c)"
	bench_pair "duckdb rfm sql (csv) $size" "$(bench_duck_cmd "$sql")" \
		"ingest|rfm $size" "ingest --attr channel -u '$csv' | rfm" "$rows" "$bytes"
	evb=$(bench_bytes "$ev")
	bench_run "rfm (events in, time order) $size" "$rows" "$evb" "" "rfm '$ev'"
	evz=$(bench_input "$size" deflated) || exit 1
	bench_run "rfm (deflated events file) $size" "$rows" "$(bench_bytes "$evz")" "" "rfm '$evz'"
	if [ -x "$BIN/dedupe" ]; then
		sorted=$(bench_input "$size" sorted) || exit 1
		bench_run "rfm (sorted events in) $size" "$rows" "$(bench_bytes "$sorted")" "" "rfm '$sorted'"
	fi
	bench_run "rfm --summary --segments classic8 (events) $size" "$rows" "$evb" "" \
		"rfm --summary --segments classic8 '$ev'"
	bench_run "rfm --window 52w --recent 90d --carry channel (events) $size" "$rows" "$evb" "" \
		"rfm --asof 2024-12-31 --window 52w --recent 90d --carry channel '$ev'"
done
