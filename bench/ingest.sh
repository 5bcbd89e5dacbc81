#!/bin/sh
# ingest: CSV to the events stream, against DuckDB reading and typing the
# same CSV into a table (timestamps and exact decimals).
. "$(dirname "$0")/common.sh"
for size in $BENCH_SIZES; do
	csv=$(bench_input "$size" csv) || exit 1
	rows=$(bench_rows "$size")
	bytes=$(bench_bytes "$csv")
	sql="
CREATE TABLE ev AS SELECT customer_id, order_id, CAST(date AS TIMESTAMPTZ) AS t,
  CAST(amount AS DECIMAL(18,4)) AS amount, channel, sku
FROM read_csv('$csv', header = true, all_varchar = true);
SELECT count(*) FROM ev"
	bench_pair "duckdb read+type csv $size" "$(bench_duck_cmd "$sql")" \
		"ingest $size" "ingest --attr channel,sku -u '$csv'" "$rows" "$bytes"
	bench_run "ingest -o (deflate) $size" "$rows" "$bytes" "duckdb read+type csv $size" \
		"ingest --attr channel,sku -o '$BENCH_TMP/ingest.rtn' '$csv'"
done
