#!/bin/sh
# churnscore: fit and score one million customers (target: under 1 s in all).
# The customers come from synth (BG/NBD buyers with Gamma-Gamma spend, first
# purchases over 18 months, day-exact times: about 370,000 distinct
# (x, t_x, T) rows, far more than CDNOW's 1,016) through rfm, made once into
# bench/data/. Measured: the floor (reading the records), the rule model and
# scoring with saved parameters (one pass each), BG/NBD and Pareto/NBD fit +
# score (two passes over the file), and BG/NBD on piped input (the first
# pass copies the records to a temporary stream).
# Measured on 2 processors (best of 5, machine shared): BG/NBD fit+score
# 1.84 s before the speed work, about 1.1 s after (fit threads, cached
# scoring per (x, T), radix grouping, prefetched row table); --params
# 0.94 -> about 0.7 s; Pareto/NBD 2.6 -> about 1.6 s.
#
#   sh bench/churnscore.sh
#   CHURN_BENCH_CUSTOMERS=100000 BENCH_RUNS=1 sh bench/churnscore.sh
. "$(dirname "$0")/common.sh"

n=${CHURN_BENCH_CUSTOMERS:-1000000}
cust=$DATA/churn-$n.customers.rtn
args="--customers $n --seed 7 --start 2023-01-01 --end 2024-06-30 --asof 2024-12-31"
if ! bench_stream_current "$cust" || [ "$(cat "$cust.args" 2>/dev/null)" != "$args" ]; then
	echo "bench: making $cust with synth and rfm" >&2
	# shellcheck disable=SC2086
	synth $args --format stream -u | rfm --asof 2024-12-31 -u -o "$cust" ||
		{ echo "bench: synth | rfm failed" >&2; exit 1; }
	printf '%s\n' "$args" >"$cust.args"
fi
bytes=$(bench_bytes "$cust")
params=$BENCH_TMP/churn-params
churnscore --params-out "$params" --stats "$cust" 2>"$BENCH_TMP/churn-stats" >/dev/null ||
	{ echo "bench: churnscore failed: $(tail -n 1 "$BENCH_TMP/churn-stats")" >&2; exit 1; }
bench_note "churnscore: $(grep fitted "$BENCH_TMP/churn-stats" | sed 's/^churnscore: //')"
bench_note "churnscore: $(grep 'LL' "$BENCH_TMP/churn-stats" | sed 's/^churnscore: //')"

bench_run "floor: inspect --count customers" "$n" "$bytes" "" "inspect --count '$cust'"
bench_run "churnscore rule $n" "$n" "$bytes" "" "churnscore --model rule '$cust'"
bench_run "churnscore --params (score) $n" "$n" "$bytes" "" "churnscore --params '$params' '$cust'"
bench_run "churnscore bgnbd fit+score $n" "$n" "$bytes" "" "churnscore '$cust'"
bench_run "churnscore pnbd fit+score $n" "$n" "$bytes" "" "churnscore --model pnbd '$cust'"
bench_run "churnscore bgnbd, piped input $n" "$n" "$bytes" "churnscore bgnbd fit+score $n" \
	"cat '$cust' | churnscore"
