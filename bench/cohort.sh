#!/bin/sh
# cohort beside DuckDB's monthly cohort query on the same CSV (synth data in
# time order, as a shop export; see common.sh):
#   ingest | cohort             vs  typed read of the CSV, first order per
#                                   customer, customers/orders/revenue per
#                                   cohort month and period
#   cohort on the events stream (the aggregation alone), also sorted by
#   customer (after dedupe), and with --by, --life-table, --format html
# Run by bench/run.sh (make bench), or alone: sh bench/cohort.sh
# (BENCH_SIZES="1m 10m" by default; DuckDB is skipped with a notice when
# node or @duckdb/node-api is missing).
. "$(dirname "$0")/common.sh"
[ -x "$BIN/cohort" ] && [ -x "$BIN/ingest" ] || { echo "bench/cohort.sh: needs bin/ingest and bin/cohort" >&2; exit 2; }
for size in $BENCH_SIZES; do
	csv=$(bench_input "$size" csv) || exit 1
	ev=$(bench_input "$size" events) || exit 1
	rows=$(bench_rows "$size")
	bytes=$(bench_bytes "$csv")
	bench_duck "duckdb cohort sql (csv) $size" "$rows" "$bytes" "" "
CREATE TABLE ev AS SELECT customer_id, CAST(date AS TIMESTAMPTZ) AS t,
  CAST(amount AS DECIMAL(18,4)) AS amount
FROM read_csv('$csv', header = true, all_varchar = true);
CREATE TABLE firsts AS SELECT customer_id, date_trunc('month', min(t)) AS cohort
FROM ev WHERE amount >= 0 GROUP BY customer_id;
CREATE TABLE cells AS SELECT f.cohort,
  datediff('month', f.cohort, date_trunc('month', e.t)) AS period,
  count(DISTINCT e.customer_id) AS customers, count(*) AS orders, sum(e.amount) AS revenue
FROM ev e JOIN firsts f USING (customer_id) WHERE e.amount >= 0
GROUP BY ALL ORDER BY ALL;
SELECT count(*) FROM cells"
	bench_run "ingest|cohort $size" "$rows" "$bytes" "duckdb cohort sql (csv) $size" \
		"ingest --attr channel -u '$csv' | cohort --format csv"
	evb=$(bench_bytes "$ev")
	bench_run "cohort (events in) $size" "$rows" "$evb" "" "cohort --format csv '$ev'"
	if [ -x "$BIN/dedupe" ]; then
		sorted=$(bench_input "$size" sorted) || exit 1
		bench_run "cohort (sorted events in) $size" "$rows" "$(bench_bytes "$sorted")" "" \
			"cohort --format csv '$sorted'"
	fi
	bench_run "cohort --by channel --windows (events) $size" "$rows" "$evb" "" \
		"cohort --by channel --windows 0-7,8-30,31-90,91-365 --format csv '$ev'"
	bench_run "cohort --life-table --by channel $size" "$rows" "$evb" "" \
		"cohort --life-table --by channel --period week --format csv '$ev'"
	bench_run "cohort --format html (events) $size" "$rows" "$evb" "" "cohort --format html '$ev'"
done
