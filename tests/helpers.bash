# Shared set-up for the bats tests: `load helpers` at the top of a .bats file.
#   $BIN      directory of the programs under test (RETAIN_BIN, default bin/)
#   $TOP      repository root
#   $TOOLS    test tools (tests/tools/*.c, e.g. flipbit FILE OFFSET MASK)
#   $CDNOW    ../shared/data/cdnow (read only; never copied into the repo)
#   $T        a fresh temporary directory for this test
TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
BIN=${RETAIN_BIN:-$TOP/bin}
CDNOW=${CDNOW:-$TOP/../shared/data/cdnow}
TOOLS=${RETAIN_TOOLS:-$TOP/build/tools}
PATH="$BIN:$TOP/scripts:$TOOLS:$PATH"
export PATH

setup() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/retain-bats.XXXXXX")
}

teardown() {
	rm -rf "$T"
}

# Writes a small events CSV fixture to $1.
small_orders_csv() {
	cat >"$1" <<'CSV'
customer_id,order_id,date,amount,channel
c1,o1,2023-01-05,10.00,ads
c1,o2,2023-02-10,20.50,ads
c2,o3,2023-01-07,5.25,referral
c3,o4,2023-03-01,100.00,ads
c2,o5,2023-03-15,-5.25,referral
CSV
}
