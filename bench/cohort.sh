#!/bin/sh
# cohort beside DuckDB's monthly cohort query on the same CSV (synth data in
# time order, as a shop export; see common.sh):
#   ingest | cohort             vs  typed read of the CSV, first order per
#                                   customer, customers/orders/revenue per
#                                   cohort month and period
#   ingest --attr channel | cohort --by channel (more work than the query)
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
	# DuckDB at its best: typed read, one statement, nothing materialised
	sql="WITH ev AS (SELECT customer_id, date AS t, amount
  FROM read_csv('$csv', header = true,
    columns = {'customer_id': 'VARCHAR', 'order_id': 'VARCHAR', 'date': 'TIMESTAMPTZ',
               'amount': 'DECIMAL(18,4)', 'channel': 'VARCHAR', 'sku': 'VARCHAR'})),
firsts AS (SELECT customer_id, date_trunc('month', min(t) AT TIME ZONE 'UTC') AS cohort
  FROM ev WHERE amount >= 0 GROUP BY customer_id)
SELECT strftime(f.cohort, '%Y-%m') AS cohort,
  datediff('month', f.cohort, date_trunc('month', e.t AT TIME ZONE 'UTC')) AS period,
  count(DISTINCT e.customer_id) AS customers, count(*) AS orders, sum(e.amount) AS revenue
FROM ev e JOIN firsts f USING (customer_id) WHERE e.amount >= 0
GROUP BY ALL ORDER BY ALL"
	# the same cells? (customers and orders; revenue differs: cohort nets refunds)
	if have_duck; then
		DUCK_PRINT=100000000 duck_sql "$sql" | awk -F '\t' 'NR > 1 { print $1 "," $2 "," $3 "," $4 }' |
			sort >"$BENCH_TMP/duck.cells"
		cohort --format csv "$ev" | awk -F, 'NR > 1 && $7 != "future" && $9 > 0 { print $3 "," $5 "," $9 "," $12 }' |
			sort >"$BENCH_TMP/ours.cells"
		if cmp -s "$BENCH_TMP/duck.cells" "$BENCH_TMP/ours.cells"; then
			bench_note "cohort $size: customers and orders of all $(wc -l <"$BENCH_TMP/ours.cells") cells equal DuckDB's"
		else
			bench_note "cohort $size: cells DIFFER from DuckDB's (see $BENCH_TMP/*.cells)"
		fi
	fi
	# the columns the query reads (customer, time, amount), as DuckDB's plan
	# reads only those; then with the channel carried and split on
	bench_pair "duckdb cohort sql (csv) $size" "$(bench_duck_cmd "$sql")" \
		"ingest|cohort $size" "ingest -u '$csv' | cohort --format csv" "$rows" "$bytes"
	bench_run "ingest --attr channel|cohort --by channel $size" "$rows" "$bytes" "duckdb cohort sql (csv) $size" \
		"ingest --attr channel -u '$csv' | cohort --by channel --format csv"
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
