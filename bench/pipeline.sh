#!/bin/sh
# The whole pipeline from the CSV, against the same work in DuckDB SQL:
#   ingest | dedupe | rfm     vs  typed read, DISTINCT, per-customer
#                                 aggregates, NTILE(5) R/F/M scores
#   ingest | dedupe | cohort  vs  typed read, DISTINCT, monthly cohort table
#   sort -u                   vs  dedupe alone (exact duplicates)
. "$(dirname "$0")/common.sh"
have() { [ -x "$BIN/$1" ]; }
for size in $BENCH_SIZES; do
	csv=$(bench_input "$size" csv) || exit 1
	rows=$(bench_rows "$size")
	bytes=$(bench_bytes "$csv")
	read_sql="SELECT DISTINCT customer_id, order_id, CAST(date AS TIMESTAMPTZ) AS t,
  CAST(amount AS DECIMAL(18,4)) AS amount, channel, sku
FROM read_csv('$csv', header = true, all_varchar = true)"
	if have dedupe; then
		ev=$(bench_input "$size" events) || exit 1
		bench_run "sort -u csv $size" "$rows" "$bytes" "" "LC_ALL=C sort -u -S 50% '$csv'"
		bench_run "dedupe (events in) $size" "$rows" "$(bench_bytes "$ev")" "sort -u csv $size" "dedupe -u '$ev'"
	fi
	if have dedupe && have rfm; then
		sql="
CREATE TABLE ev AS $read_sql;
CREATE TABLE c AS SELECT customer_id, min(t) AS first, max(t) AS last,
  count(DISTINCT order_id) FILTER (WHERE amount >= 0) AS orders,
  count(DISTINCT CAST(t AS DATE)) FILTER (WHERE amount >= 0) AS purchase_days,
  coalesce(sum(amount) FILTER (WHERE amount >= 0), 0) AS revenue,
  coalesce(-sum(amount) FILTER (WHERE amount < 0), 0) AS refunds
FROM ev GROUP BY customer_id;
CREATE TABLE scored AS SELECT *, NTILE(5) OVER (ORDER BY last) AS r,
  NTILE(5) OVER (ORDER BY orders) AS f, NTILE(5) OVER (ORDER BY revenue) AS m
FROM c;
SELECT count(*) FROM scored"
		bench_pair "duckdb ingest+distinct+rfm $size" "$(bench_duck_cmd "$sql")" "ingest|dedupe|rfm $size" \
			"ingest --attr channel,sku -u '$csv' | dedupe -u | rfm -u --carry channel" "$rows" "$bytes"
	fi
	if have dedupe && have rfm && have churnscore; then
		bench_run "ingest|dedupe|rfm|churnscore $size" "$rows" "$bytes" "duckdb ingest+distinct+rfm $size" \
			"ingest --attr channel,sku -u '$csv' | dedupe -u | rfm -u | churnscore -u"
	fi
	if have dedupe && have cohort; then
		sql="
CREATE TABLE ev AS $read_sql;
CREATE TABLE firsts AS SELECT customer_id, date_trunc('month', min(t)) AS cohort
FROM ev WHERE amount >= 0 GROUP BY customer_id;
CREATE TABLE cells AS SELECT f.cohort,
  datediff('month', f.cohort, date_trunc('month', e.t)) AS period,
  count(DISTINCT e.customer_id) AS customers, count(DISTINCT e.order_id) AS orders,
  sum(e.amount) AS revenue
FROM ev e JOIN firsts f USING (customer_id) WHERE e.amount >= 0
GROUP BY ALL ORDER BY ALL;
SELECT count(*) FROM cells"
		bench_pair "duckdb monthly cohorts $size" "$(bench_duck_cmd "$sql")" "ingest|dedupe|cohort $size" \
			"ingest --attr channel,sku -u '$csv' | dedupe -u | cohort --period month --format csv" "$rows" "$bytes"
	fi
done
