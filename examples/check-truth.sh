#!/bin/sh
# Compares churnscore's P(alive) with the simulation's truth.
#   sh examples/check-truth.sh SCORED.csv TRUTH.csv
# SCORED.csv: `inspect --format csv` of churnscore output (columns customer
# and p_alive); TRUTH.csv: `synth --truth` (customer_id, ..., alive, ...).
# Prints the mean P(alive) of customers truly alive and truly gone, the Brier
# score, and a calibration table: in each P(alive) band, the share alive.
set -eu
[ $# -eq 2 ] || { echo "usage: check-truth.sh SCORED.csv TRUTH.csv" >&2; exit 2; }
awk -F, '
FNR == 1 {
	file++
	for (i = 1; i <= NF; i++) col[file, $i] = i
	if (file == 1 && !col[1, "alive"]) { print "check-truth: no alive column in " FILENAME > "/dev/stderr"; exit 2 }
	if (file == 2 && !(col[2, "customer"] && col[2, "p_alive"])) {
		print "check-truth: no customer or p_alive column in " FILENAME > "/dev/stderr"; exit 2
	}
	next
}
file == 1 { alive[$col[1, "customer_id"]] = $col[1, "alive"]; next }
{
	c = $col[2, "customer"]; p = $col[2, "p_alive"]
	if (!(c in alive) || p == "") next
	a = alive[c]; n++; sp[a] += p; na[a]++; brier += (p - a) ^ 2
	b = int(p * 5); if (b > 4) b = 4; bn[b]++; ba[b] += a; bp[b] += p
}
END {
	if (!n) { print "check-truth: no customer in both files" > "/dev/stderr"; exit 2 }
	printf "customers compared      %d\n", n
	printf "truly alive             %d (%.1f%%)\n", na[1], 100 * na[1] / n
	printf "mean P(alive) | alive   %.3f\n", na[1] ? sp[1] / na[1] : 0
	printf "mean P(alive) | gone    %.3f\n", na[0] ? sp[0] / na[0] : 0
	printf "Brier score             %.4f (0 is perfect; %.4f for a constant guess)\n", brier / n,
		(na[1] / n) * (1 - na[1] / n)
	printf "\nP(alive) band   customers   mean P(alive)   share alive\n"
	for (b = 0; b < 5; b++) if (bn[b])
		printf "%.1f-%.1f         %9d   %13.3f   %11.3f\n", b / 5, (b + 1) / 5, bn[b], bp[b] / bn[b], ba[b] / bn[b]
}' "$2" "$1"
