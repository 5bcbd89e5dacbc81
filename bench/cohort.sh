#!/bin/sh
# Benchmark: `ingest | cohort` (monthly cohorts: customers, orders, revenue per
# cohort and month) on BENCH_EVENTS events (default 10 million) beside the
# same cohort query in DuckDB reading the same CSV, through node's
# @duckdb/node-api when it can be loaded (NODE_PATH, the global modules, or
# BENCH_DIR/node_modules after `npm install --prefix BENCH_DIR @duckdb/node-api`);
# without it the DuckDB half is skipped with a notice.
#
#   sh bench/cohort.sh            # or: make bench
#   BENCH_EVENTS=1000000 sh bench/cohort.sh
#
# The CSV is generated once (deterministic awk, ~1M customers over two
# years) into BENCH_DIR (default $TMPDIR/retain-bench) and reused.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${RETAIN_BIN:-$top/bin}
n=${BENCH_EVENTS:-10000000}
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/retain-bench}
mkdir -p "$dir"
csv=$dir/cohort-$n.csv

if [ ! -s "$csv" ]; then
	echo "cohort bench: generating $n events into $csv" >&2
	awk -v n="$n" 'BEGIN {
		srand(42)
		nd = 0
		for (y = 2023; y <= 2024; y++)
			for (m = 1; m <= 12; m++) {
				dim = m == 2 ? (y % 4 == 0 ? 29 : 28) : (m == 4 || m == 6 || m == 9 || m == 11) ? 30 : 31
				for (d = 1; d <= dim; d++)
					date[nd++] = sprintf("%04d-%02d-%02d", y, m, d)
			}
		split("ads,referral,organic,email", ch, ",")
		nc = int(n / 10)
		print "customer_id,order_id,date,amount,channel"
		for (i = 0; i < n; i++) {
			c = int(rand() * nc)
			fd = (c * 7919) % 600
			day = fd + int(rand() * rand() * (nd - fd))
			printf "c%07d,o%d,%s,%d.%02d,%s\n", c, i, date[day], 5 + int(rand() * 200), int(rand() * 100), ch[c % 4 + 1]
		}
	}' >"$csv.tmp"
	mv "$csv.tmp" "$csv"
fi

# Wall-clock and CPU seconds (user + system of the command and its
# children): on a shared machine the CPU time is the steadier number.
measure() {
	out=$1; shift
	/usr/bin/time -f "%e %U %S" -o "$dir/time.txt" "$@" >"$out"
	awk '{ printf "%.2f %.2f", $1, $2 + $3 }' "$dir/time.txt"
}

echo "cohort bench: $n events, $(wc -c <"$csv") bytes of CSV, $(nproc 2>/dev/null || echo '?') cores, load $(cut -d' ' -f1 /proc/loadavg 2>/dev/null)"
set -- $(measure "$dir/retain.csv" sh -c '"$1/ingest" --attr channel "$2" | "$1/cohort" --format csv' sh "$bin" "$csv")
wall=$1 cpu=$2
echo "retain:  ingest | cohort --format csv        ${wall}s wall, ${cpu}s cpu ($(($(wc -l <"$dir/retain.csv") - 1)) cells)"
"$bin/ingest" --attr channel -u -o "$dir/events-$n.rtn" "$csv"
set -- $(measure /dev/null "$bin/cohort" --format csv "$dir/events-$n.rtn")
echo "retain:  cohort alone on the stored stream    ${1}s wall, ${2}s cpu"
rm -f "$dir/events-$n.rtn"

export NODE_PATH="${NODE_PATH:+$NODE_PATH:}$dir/node_modules:$(npm root -g 2>/dev/null || echo /usr/lib/node_modules)"
if ! command -v node >/dev/null 2>&1 || ! node -e "require('@duckdb/node-api')" 2>/dev/null; then
	echo "duckdb:  skipped (node @duckdb/node-api not found; npm install --prefix $dir @duckdb/node-api)"
	exit 0
fi
cat >"$dir/cohort.mjs" <<'JS'
import { createRequire } from 'module';
const require = createRequire(process.cwd() + '/');
const { DuckDBInstance } = require('@duckdb/node-api');
const csv = process.argv[2];
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
const r = await con.runAndReadAll(`
WITH e AS (SELECT customer_id, CAST(date AS DATE) AS d, amount
           FROM read_csv('${csv}', header = true,
             columns = {'customer_id': 'VARCHAR', 'order_id': 'VARCHAR', 'date': 'VARCHAR',
                        'amount': 'DECIMAL(18,4)', 'channel': 'VARCHAR'})),
f AS (SELECT customer_id, date_trunc('month', min(d)) AS cohort FROM e GROUP BY customer_id),
a AS (SELECT f.cohort, datediff('month', f.cohort, date_trunc('month', e.d)) AS period,
             e.customer_id, e.amount FROM e JOIN f USING (customer_id))
SELECT cohort, period, count(DISTINCT customer_id) AS customers, count(*) AS orders,
       sum(amount) AS revenue
FROM a GROUP BY cohort, period ORDER BY cohort, period`);
const t1 = process.hrtime.bigint(), c1 = process.cpuUsage(c0);
console.log(`${r.getRows().length} ${(Number(t1 - t0) / 1e9).toFixed(2)} ${((c1.user + c1.system) / 1e6).toFixed(2)}`);
JS
set -- $(cd "$dir" && node cohort.mjs "$csv")
echo "duckdb:  monthly cohort SQL on the CSV         ${2}s wall, ${3}s cpu ($1 cells)"
awk -v a="$wall" -v b="$2" -v c="$cpu" -v d="$3" 'BEGIN {
	printf "ratio:   duckdb / retain = %.2fx wall, %.2fx cpu (target >= 3x)\n", b / a, d / c }'
