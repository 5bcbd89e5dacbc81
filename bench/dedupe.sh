#!/bin/sh
# dedupe: drop exact duplicates and sort by customer and time, beside
# `sort -u` on the same CSV (C locale, its default buffer and with -S 256M,
# dedupe's default --memory) and DuckDB's SELECT DISTINCT ... ORDER BY
# written to a file. Two input orders: synth's (rows grouped by customer,
# almost sorted already) and by time (as exports usually come: every
# customer spread over the whole file), made once into bench/data/.
#
#   sh bench/dedupe.sh                        1m and 10m rows
#   BENCH_SIZES=1m BENCH_RUNS=1 sh bench/dedupe.sh
. "$(dirname "$0")/common.sh"

# The CSV of a size ordered by its date column (header kept), and its
# events stream; both kept in bench/data/.
bytime() {
	csv=$(bench_input "$1" csv) || return 1
	out=$DATA/$1.bytime.csv
	if [ ! -s "$out" ] || [ "$out" -ot "$csv" ]; then
		echo "bench: ordering $csv by time" >&2
		{ head -n 1 "$csv"; tail -n +2 "$csv" | LC_ALL=C sort -t, -k3,3 -S 1G; } >"$out.tmp" &&
			mv "$out.tmp" "$out" || return 1
	fi
	if [ "$2" = events ]; then
		if ! bench_stream_current "$DATA/$1.bytime.rtn" || [ "$DATA/$1.bytime.rtn" -ot "$out" ]; then
			ingest --attr channel,sku -u -o "$DATA/$1.bytime.rtn" "$out" || return 1
		fi
		out=$DATA/$1.bytime.rtn
	fi
	echo "$out"
}

for size in $BENCH_SIZES; do
	rows=$(bench_rows "$size")
	for order in synth time; do
		if [ $order = synth ]; then
			csv=$(bench_input "$size" csv) || exit 1
			ev=$(bench_input "$size" events) || exit 1
		else
			csv=$(bytime "$size" csv) || exit 1
			ev=$(bytime "$size" events) || exit 1
		fi
		csvb=$(bench_bytes "$csv")
		evb=$(bench_bytes "$ev")
		tag="$size, $order order"
		bench_run "sort -u $tag" "$rows" "$csvb" "" "LC_ALL=C sort -u '$csv'"
		bench_run "sort -u -S 256M $tag" "$rows" "$csvb" "" "LC_ALL=C sort -u -S 256M '$csv'"
		bench_run "dedupe $tag" "$rows" "$evb" "sort -u $tag" "dedupe -u '$ev'"
		bench_run "dedupe --key order $tag" "$rows" "$evb" "sort -u $tag" \
			"dedupe --key order -u '$ev'"
		bench_run "ingest | dedupe $tag" "$rows" "$csvb" "sort -u $tag" \
			"ingest --attr channel,sku '$csv' | dedupe -u"
		bench_duck "duckdb distinct+order $tag" "$rows" "$csvb" "sort -u $tag" "
COPY (SELECT DISTINCT * FROM read_csv('$csv', header = true, all_varchar = true)
  ORDER BY customer_id, date) TO '$BENCH_TMP/duck.csv' (FORMAT csv);
SELECT 1"
		rm -f "$BENCH_TMP/duck.csv"
	done
	# The same answer: dedupe keeps as many events as sort -u keeps lines
	# (minus the header line).
	csv=$(bench_input "$size" csv)
	ev=$(bench_input "$size" events)
	kept=$(dedupe "$ev" | inspect --count)
	lines=$(($(LC_ALL=C sort -u "$csv" | wc -l) - 1))
	if [ "$kept" = "$lines" ]; then
		echo "dedupe $size: kept $kept events = sort -u's $lines distinct data lines"
	else
		echo "dedupe $size: kept $kept events but sort -u has $lines distinct data lines"
	fi
done
