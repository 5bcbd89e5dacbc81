/* Unit tests: exact fixed-point money (lib/money.h). Covers the "Amounts"
 * list of RELIABILITY.md and replays tests/fuzz/regress/money/. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "money.h"
#include "unit.h"
#include "util.h"

#include "../fuzz/fuzz_money.c"

static const char *why;

/* Parses with options and returns the formatted value, or "ERR<code>". */
static const char *pm(const money_opts *o, const char *s)
{
	static char buf[64];
	int64_t v = 0;
	int rc = money_parse(s, strlen(s), o, &v, &why);

	if (rc != MONEY_OK)
		snprintf(buf, sizeof buf, "ERR%d", rc);
	else
		money_format(v, buf);
	return buf;
}

static int64_t val(const money_opts *o, const char *s)
{
	int64_t v = INT64_MIN;

	if (money_parse(s, strlen(s), o, &v, &why) != MONEY_OK)
		return INT64_MIN;
	return v;
}

static int has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

static const char *fm(int64_t v)
{
	static char buf[32];

	money_format(v, buf);
	return buf;
}

static void test_plain(void)
{
	CHECK(val(NULL, "12.34") == 123400, "12.34 -> 123400");
	CHECK(val(NULL, "0") == 0, "0");
	CHECK(val(NULL, "-0.5") == -5000, "-0.5");
	CHECK(val(NULL, "+7") == 70000, "+7");
	CHECK(val(NULL, ".5") == 5000, ".5");
	CHECK(val(NULL, "5.") == 50000, "5.");
	CHECK(val(NULL, "12.3456") == 123456, "four decimals exact");
	CHECK(val(NULL, "  42.10\t") == 421000, "surrounding blanks ignored");
	CHECK(val(NULL, "007.50") == 75000, "leading zeros");
	CHECK(val(NULL, "-25.00") == -250000, "refund (negative) is data");
	CHECK(val(NULL, "12.500000") == 125000, "extra zero decimals are exact and accepted");
	CHECK_STR(pm(NULL, "12.34567"), "ERR3", "five decimals rejected (no rounding)");
	CHECK(has(why, "more decimals than the 4-place scale"), "scale reason: %s", why);
	CHECK_STR(pm(NULL, "0.00001"), "ERR3", "0.00001 rejected");
	CHECK(val(NULL, "922337203685477.5807") == INT64_MAX, "largest amount");
	CHECK(val(NULL, "-922337203685477.5807") == -INT64_MAX, "most negative amount");
	CHECK_STR(pm(NULL, "922337203685477.5808"), "ERR4", "one unit over the range");
	CHECK(has(why, "out of range"), "overflow reason: %s", why);
	CHECK_STR(pm(NULL, "-922337203685477.5808"), "ERR4",
	          "INT64_MIN refused (it is the stream's null)");
	CHECK_STR(pm(NULL, "99999999999999999999999"), "ERR4", "huge integer overflows cleanly");
	CHECK(val(NULL, "0000000000000000000000000001") == 10000, "many leading zeros do not overflow");
	{
		const char *s = "12.34xyz";
		int64_t v = 0;

		CHECK(money_parse(s, 5, NULL, &v, &why) == MONEY_OK && v == 123400,
		      "length-delimited input");
	}
}

static void test_bad(void)
{
	CHECK_STR(pm(NULL, ""), "ERR1", "empty");
	CHECK(has(why, "empty"), "empty reason");
	CHECK_STR(pm(NULL, "   "), "ERR1", "blank");
	CHECK_STR(pm(NULL, "NaN"), "ERR2", "NaN");
	CHECK(has(why, "NaN"), "NaN reason: %s", why);
	CHECK_STR(pm(NULL, "nan"), "ERR2", "nan");
	CHECK_STR(pm(NULL, "-nan"), "ERR2", "-nan");
	CHECK_STR(pm(NULL, "inf"), "ERR2", "inf");
	CHECK_STR(pm(NULL, "-Infinity"), "ERR2", "-Infinity");
	CHECK_STR(pm(NULL, "1e309"), "ERR2", "1e309");
	CHECK(has(why, "exponent notation not accepted"), "exponent reason: %s", why);
	CHECK_STR(pm(NULL, "1.5E-3"), "ERR2", "1.5E-3");
	CHECK_STR(pm(NULL, "0x1p4"), "ERR2", "0x1p4");
	CHECK(has(why, "hexadecimal"), "hex reason: %s", why);
	CHECK_STR(pm(NULL, "12abc"), "ERR2", "12abc");
	CHECK(has(why, "not a number"), "12abc reason: %s", why);
	CHECK_STR(pm(NULL, "abc"), "ERR2", "abc");
	CHECK_STR(pm(NULL, "-"), "ERR2", "lone minus");
	CHECK_STR(pm(NULL, "."), "ERR2", "lone dot");
	CHECK_STR(pm(NULL, "--5"), "ERR2", "double minus");
	CHECK_STR(pm(NULL, "1.2.3"), "ERR2", "two dots");
	CHECK_STR(pm(NULL, "12 34"), "ERR2", "inner space");
	CHECK_STR(pm(NULL, "5-"), "ERR2", "trailing minus");
	CHECK_STR(pm(NULL, "1,234.50"), "ERR5", "1,234.50 needs --thousands");
	CHECK(has(why, "--thousands ','"), "thousands hint: %s", why);
	CHECK_STR(pm(NULL, "12,50"), "ERR5", "12,50 needs --decimal-comma");
	CHECK(has(why, "--decimal-comma"), "decimal comma hint: %s", why);
	CHECK_STR(pm(NULL, "$12.50"), "ERR5", "currency symbol needs stripping option");
	CHECK(has(why, "currency"), "currency hint: %s", why);
	CHECK_STR(pm(NULL, "12.50 EUR"), "ERR5", "trailing code needs stripping option");
	CHECK_STR(pm(NULL, "(25.00)"), "ERR5", "accounting negative needs an option");
	CHECK(has(why, "accounting"), "accounting hint: %s", why);
}

static void test_options(void)
{
	money_opts o;

	memset(&o, 0, sizeof o);
	o.thousands = ',';
	CHECK(val(&o, "1,234.50") == 12345000, "1,234.50 with --thousands ','");
	CHECK(val(&o, "1,234,567.89") == 12345678900, "two groups");
	CHECK(val(&o, "-1,234") == -12340000, "negative grouped integer");
	CHECK(val(&o, "1234.50") == 12345000, "grouping is optional");
	CHECK_STR(pm(&o, "1,23.50"), "ERR2", "group of 2 rejected");
	CHECK(has(why, "misplaced thousands separator"), "misplaced reason: %s", why);
	CHECK_STR(pm(&o, "1234,567"), "ERR2", "first group of 4 rejected");
	CHECK_STR(pm(&o, ",123"), "ERR2", "leading separator rejected");
	CHECK_STR(pm(&o, "1,"), "ERR2", "trailing separator rejected");
	CHECK_STR(pm(&o, "1,,234"), "ERR2", "doubled separator rejected");
	CHECK_STR(pm(&o, "1,234.5,0"), "ERR2", "separator in decimals rejected");
	CHECK_STR(pm(&o, ","), "ERR2", "lone separator rejected");

	memset(&o, 0, sizeof o);
	o.decimal_comma = 1;
	CHECK(val(&o, "12,50") == 125000, "12,50 with --decimal-comma");
	CHECK(val(&o, "-0,5") == -5000, "-0,5");
	CHECK_STR(pm(&o, "12.50"), "ERR2", "dot refused with decimal comma");
	CHECK_STR(pm(&o, "1.234,50"), "ERR5", "1.234,50 needs --thousands '.'");
	o.thousands = '.';
	CHECK(val(&o, "1.234,50") == 12345000, "1.234,50 with decimal comma and '.' groups");
	o.thousands = ' ';
	CHECK(val(&o, "1 234,50") == 12345000, "1 234,50 (space groups)");
	CHECK(val(&o, "1\xc2\xa0" "234,50") == 12345000, "no-break space groups");
	CHECK(val(&o, "1\xe2\x80\xaf" "234,50") == 12345000, "narrow no-break space groups");
	CHECK_STR(pm(&o, "1  234,50"), "ERR2", "double space rejected");
	o.thousands = ',';
	CHECK_STR(pm(&o, "1,5"), "ERR5", "thousands equal to the decimal mark refused");
	CHECK(has(why, "decimal point"), "conflict reason: %s", why);
	o.thousands = '\'';
	o.decimal_comma = 0;
	CHECK(val(&o, "1'234.50") == 12345000, "Swiss apostrophe groups");

	memset(&o, 0, sizeof o);
	o.strip_currency = 1;
	CHECK(val(&o, "$12.50") == 125000, "$12.50");
	CHECK(val(&o, "-$12.50") == -125000, "-$12.50");
	CHECK(val(&o, "$-12.50") == -125000, "$-12.50");
	CHECK(val(&o, "12.50 \xe2\x82\xac") == 125000, "12.50 EUR sign trailing");
	CHECK(val(&o, "\xc2\xa3" "3") == 30000, "pound sign");
	CHECK(val(&o, "\xc2\xa5" "100") == 1000000, "yen sign");
	CHECK(val(&o, "EUR 7.25") == 72500, "EUR code leading");
	CHECK(val(&o, "7.25USD") == 72500, "USD code trailing");
	CHECK_STR(pm(&o, "-$-12.50"), "ERR2", "two signs rejected");
	CHECK_STR(pm(&o, "$"), "ERR2", "currency only");
	CHECK_STR(pm(&o, "$$12"), "ERR2", "doubled symbol rejected");
	CHECK_STR(pm(&o, "NaN USD"), "ERR2", "NaN with currency still rejected");

	memset(&o, 0, sizeof o);
	o.accounting = 1;
	CHECK(val(&o, "(25.00)") == -250000, "(25.00) is -25.00 with the option");
	CHECK(val(&o, "( 25.00 )") == -250000, "spaces inside parentheses");
	CHECK_STR(pm(&o, "(25.00"), "ERR2", "unbalanced parenthesis");
	CHECK_STR(pm(&o, "(-25.00)"), "ERR2", "sign inside parentheses");
	CHECK_STR(pm(&o, "()"), "ERR2", "empty parentheses");
	o.strip_currency = 1;
	o.thousands = ',';
	CHECK(val(&o, "($1,234.50)") == -12345000, "($1,234.50) with all options");
}

static void test_format(void)
{
	CHECK_STR(fm(123400), "12.34", "format 12.34");
	CHECK_STR(fm(123450), "12.345", "format 12.345");
	CHECK_STR(fm(123456), "12.3456", "format 12.3456");
	CHECK_STR(fm(-5000), "-0.50", "format -0.50");
	CHECK_STR(fm(12340000), "1234.00", "format 1234.00");
	CHECK_STR(fm(0), "0.00", "format 0.00");
	CHECK_STR(fm(1), "0.0001", "format 0.0001");
	CHECK_STR(fm(-1), "-0.0001", "format -0.0001");
	CHECK_STR(fm(INT64_MAX), "922337203685477.5807", "format INT64_MAX");
	CHECK_STR(fm(INT64_MIN), "-922337203685477.5808", "format INT64_MIN does not overflow");
}

static void test_arith(void)
{
	int64_t r = 0;
	int inexact = -1;

	CHECK(money_mul(val(NULL, "19.99"), val(NULL, "3"), &r, &inexact) == MONEY_OK &&
	      r == val(NULL, "59.97") && inexact == 0, "19.99 * 3 = 59.97 exactly");
	CHECK(money_mul(val(NULL, "0.3333"), val(NULL, "1.5"), &r, &inexact) == MONEY_OK &&
	      r == val(NULL, "0.5") && inexact == 1, "0.3333 * 1.5 = 0.49995 rounds half away to 0.5000");
	CHECK(money_mul(val(NULL, "-0.3333"), val(NULL, "1.5"), &r, &inexact) == MONEY_OK &&
	      r == val(NULL, "-0.5"), "-0.49995 rounds half away to -0.5000");
	CHECK(money_mul(val(NULL, "0.0001"), val(NULL, "0.4"), &r, &inexact) == MONEY_OK && r == 0,
	      "0.00004 rounds to 0");
	CHECK(money_mul(INT64_MAX, 20000, &r, NULL) == MONEY_ERR_OVERFLOW, "multiplication overflow");
	CHECK(money_mul_text(val(NULL, "2.50"), "4", 1, &r, &inexact, &why) == MONEY_OK &&
	      r == val(NULL, "10"), "quantity text 4 * 2.50");
	CHECK(money_mul_text(val(NULL, "2.50"), "1.25", 4, &r, &inexact, &why) == MONEY_OK &&
	      r == val(NULL, "3.125"), "quantity text 1.25 * 2.50");
	CHECK(money_mul_text(val(NULL, "2.50"), "x", 1, &r, &inexact, &why) == MONEY_ERR_SYNTAX,
	      "bad quantity text");
	CHECK(money_mul_text(val(NULL, "900000000000"), "100000", 6, &r, &inexact, &why) ==
	      MONEY_ERR_OVERFLOW && has(why, "out of range"), "quantity overflow");
	CHECK(money_mul_int(val(NULL, "1.25"), 3, &r) == MONEY_OK && r == 37500, "mul_int");
	CHECK(money_mul_int(INT64_MAX, 2, &r) == MONEY_ERR_OVERFLOW, "mul_int overflow");
	CHECK(money_add(1, 2, &r) == MONEY_OK && r == 3, "add");
	CHECK(money_add(INT64_MAX, 1, &r) == MONEY_ERR_OVERFLOW, "add overflow");
	CHECK(money_add(-INT64_MAX, -1, &r) == MONEY_ERR_OVERFLOW, "add reaching INT64_MIN refused");
	CHECK(money_div(100000, 3, &r) == MONEY_OK && r == 33333, "10/3 = 3.3333");
	CHECK(money_div(200000, 3, &r) == MONEY_OK && r == 66667, "20/3 = 6.6667");
	CHECK(money_div(5, 2, &r) == MONEY_OK && r == 3, "0.0005/2 rounds half away to 0.0003");
	CHECK(money_div(-5, 2, &r) == MONEY_OK && r == -3, "-0.0005/2 rounds to -0.0003");
	CHECK(money_div(-100000, 3, &r) == MONEY_OK && r == -33333, "-10/3");
	CHECK(money_div(INT64_MAX, INT64_MAX, &r) == MONEY_OK && r == 1, "div large");
	CHECK(money_div(1, 0, &r) != MONEY_OK, "division by zero refused");
	CHECK_NEAR(money_to_double(123400), 12.34, 1e-12, "to double");
}

static void regress_one(const unsigned char *buf, size_t len)
{
	LLVMFuzzerTestOneInput(buf, len);   /* aborts on a broken invariant */
}

static void test_regress(void)
{
	const char *dir = "tests/fuzz/regress/money";
	int n = unit_each_file(dir, regress_one);
	CHECK(n > 0, "replayed %d fuzz regression inputs from %s", n, dir);
}

static void test_speed(void)
{
	static const char *amounts[4] = { "12.34", "-1234.5", "0.99", "100" };
	int64_t v, sum = 0;
	double t0 = rtn_now();
	int i, ok = 1;

	for (i = 0; i < 4000000; i++) {
		const char *s = amounts[i & 3];

		if (money_parse(s, strlen(s), NULL, &v, &why) != MONEY_OK)
			ok = 0;
		sum += v;
	}
	t0 = rtn_now() - t0;
	printf("# 4M amounts parsed: %.1f ns each (checksum %lld)\n", t0 * 250, (long long)sum);
	CHECK(ok && sum == INT64_C(1000000) * (123400 - 12345000 + 9900 + 1000000), "4M parses correct");
	CHECK(t0 < 4.0, "parse well under 1 us per amount (%.3f s for 4M)", t0);
}

int main(void)
{
	test_plain();
	test_bad();
	test_options();
	test_format();
	test_arith();
	test_regress();
	test_speed();
	return unit_done();
}
