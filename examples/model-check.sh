#!/bin/sh
# Simulate customers from known BG/NBD parameters, score them with the
# pipeline, and see how close churnscore gets to the truth.
#   sh examples/model-check.sh [CUSTOMERS]        (default 20000)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=${RETAIN_BIN:-$top/bin}:$PATH
n=${1:-20000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/model-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
echo "truth: r=0.8 alpha=4 a=0.6 b=2.5 (weeks), $n customers"
synth --customers "$n" --params r=0.8,alpha=4,a=0.6,b=2.5 --start 2023-01-01 --end 2023-12-31 \
	--asof 2024-06-30 --truth "$tmp/truth.csv" --format stream |
	dedupe | rfm --asof 2024-06-30 | churnscore --params-out "$tmp/params.txt" -o "$tmp/scored.rtn"
echo "fitted:"
cat "$tmp/params.txt"
inspect --format csv "$tmp/scored.rtn" >"$tmp/scored.csv"
sh "$top/examples/check-truth.sh" "$tmp/scored.csv" "$tmp/truth.csv"
echo "(rfm counts purchase days, so two purchases on one day merge: against the continuous-time"
echo " truth that lowers x for the heaviest buyers and nudges the fitted r and alpha up a little)"
