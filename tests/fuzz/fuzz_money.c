/* libFuzzer target: money parsing under every option combination.
 *
 *   clang -fsanitize=fuzzer,address -Ilib tests/fuzz/fuzz_money.c lib/[a-z]*.c -lz -lm
 *
 * The first byte chooses the options; the rest is the amount text. On
 * success the formatted value must parse back (default options) to the same
 * value. tests/unit/test_money.c includes this file to replay
 * tests/fuzz/regress/money/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char seps[4] = { 0, ',', '.', ' ' };
	money_opts o;
	const char *s, *why = NULL;
	char buf[32];
	int64_t v = 0, back = 0, prod = 0;
	size_t n, k;
	int rc, inexact = 0;

	if (size < 1)
		return 0;
	memset(&o, 0, sizeof o);
	o.decimal_comma = data[0] & 1;
	o.thousands = seps[(data[0] >> 1) & 3];
	o.strip_currency = (data[0] >> 3) & 1;
	o.accounting = (data[0] >> 4) & 1;
	s = (const char *)data + 1;
	n = size - 1;
	rc = money_parse(s, n, &o, &v, &why);
	if (rc != MONEY_OK) {
		must(rc > 0 && rc <= MONEY_ERR_OPTION && why != NULL);
		return 0;
	}
	must(v != INT64_MIN);
	k = money_format(v, buf);
	must(k == strlen(buf) && k < sizeof buf);
	must(money_parse(buf, k, NULL, &back, &why) == MONEY_OK && back == v);
	if (money_mul(v, v, &prod, &inexact) == MONEY_OK)
		must(prod != INT64_MIN);
	if (money_div(v, 3, &prod) == MONEY_OK)
		must(prod >= v / 3 - 1 && prod <= v / 3 + 1);
	return 0;
}
