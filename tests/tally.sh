# Sourced by tests/valgrind.sh and tests/tsan.sh: counts checks and prints
# the summary line that CI reads.
passed=0 failed=0

# tally OK NAME WHY: OK is 1 for a pass; prints "ok NAME" or "not ok NAME: WHY".
tally() {
	if [ "$1" -eq 1 ]; then
		passed=$((passed + 1))
		echo "ok $2"
	else
		failed=$((failed + 1))
		echo "not ok $2: $3"
	fi
}

# Prints "N passed, N failed"; true when none failed.
tally_end() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
