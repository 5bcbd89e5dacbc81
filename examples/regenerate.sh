#!/bin/sh
# Regenerates the committed sample (orders.csv, aliases.csv, truth.csv) with
# synth. The output is byte-identical on every machine: same seed, same data.
#   sh examples/regenerate.sh [DIR]      (after make; DIR defaults to examples/)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
synth=${RETAIN_BIN:-$top/bin}/synth
cd "${1:-$top/examples}"
"$synth" --customers 3000 --seed 2024 \
	--start 2023-01-01 --end 2024-06-30 --asof 2024-12-31 \
	--params r=0.9,alpha=6,a=0.8,b=3 --spend p=4,q=4,gamma=30 \
	--channels 'ads:0.4:a=1.6,b=2.4;referral:0.2:r=1.1,a=0.4,b=4;organic:0.3;email:0.1:r=1.4,p=3' \
	--refund-rate 0.04 --dup-rate 0.008 --bad-rate 0.004 \
	--alias-rate 0.02 --alias-file aliases.csv --truth truth.csv \
	--order time --stats -o orders.csv
