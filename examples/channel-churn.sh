#!/bin/sh
# Does churn differ by acquisition channel? Life table and monthly retention
# per channel, from an orders CSV with a channel column.
#   sh examples/channel-churn.sh [ORDERS.csv]     (default: the sample)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=${RETAIN_BIN:-$top/bin}:$PATH
orders=${1:-$top/examples/orders.csv}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/channel-churn.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
ingest --attr channel --max-rejects 1% --stats "$orders" 2>"$tmp/ingest.log" | dedupe -o "$tmp/events.rtn"
tail -n 1 "$tmp/ingest.log"
echo "== survival by channel (churned after 90 days without an order)"
cohort --life-table --by channel --format table --color never "$tmp/events.rtn" |
	awk 'NR <= 2 || $2 == 3 || $2 == 6 || $2 == 12'
echo "== share of each quarter's new customers who ordered again in their month 3"
cohort --period month --by channel --format csv "$tmp/events.rtn" |
	awk -F, 'NR > 1 && $5 == 3 && $7 == "complete" { q = substr($3, 1, 4) "-Q" int((substr($3, 6, 2) + 2) / 3)
		n[$1 " " q] += $8; a[$1 " " q] += $9 }
		END { for (k in n) printf "%-18s %5.1f%%  of %d\n", k, 100 * a[k] / n[k], n[k] }' | sort
