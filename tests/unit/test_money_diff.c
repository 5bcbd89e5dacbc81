/* Differential test: money_parse (with its fast path for plain amounts)
 * against money_parse_general (the same parser without it) under every
 * option combination. Both must agree on the return code, the value written
 * to *out (or its absence), and the reason (the same static text, NULL on
 * success); reason == NULL is exercised too. Inputs are copied into buffers
 * of exactly their length, so a read past the end shows up under ASan. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"
#include "unit.h"

#define SENTINEL INT64_C(0x5a5a5a5a5a5a5a5a)

static money_opts opts[64];
static int nopts;           /* opts[0..nopts) and, in addition, NULL */
static long ncalls, nfail, nok;
static const char untouched[] = "untouched";

static void cmp_opt(const money_opts *o, const char *s, size_t n)
{
	char *buf = malloc(n ? n : 1);
	const char *wa = untouched, *wb = untouched;
	int64_t va = SENTINEL, vb = SENTINEL, na = SENTINEL, nb = SENTINEL;
	int ra, rb, ra2, rb2;

	if (!buf)
		abort();
	memcpy(buf, s, n);
	ra = money_parse(buf, n, o, &va, &wa);
	rb = money_parse_general(buf, n, o, &vb, &wb);
	ra2 = money_parse(buf, n, o, &na, NULL);
	rb2 = money_parse_general(buf, n, o, &nb, NULL);
	ncalls++;
	if (ra == MONEY_OK)
		nok++;
	if (ra != rb || va != vb || wa != wb || ra2 != rb2 || na != nb || ra2 != ra || na != va) {
		if (nfail++ < 20) {
			printf("# MISMATCH opts=");
			if (o)
				printf("{dc=%d th=0x%02x cur=%d acc=%d}", o->decimal_comma,
				       (unsigned char)o->thousands, o->strip_currency, o->accounting);
			else
				printf("NULL");
			printf(" input=");
			unit_show(s, n);
			printf("\n#   fast: rc=%d v=%lld reason=%s\n", ra, (long long)va, wa ? wa : "NULL");
			printf("#   gen:  rc=%d v=%lld reason=%s\n", rb, (long long)vb, wb ? wb : "NULL");
		}
	}
	free(buf);
}

static void cmp_all(const char *s, size_t n)
{
	int i;

	cmp_opt(NULL, s, n);
	for (i = 0; i < nopts; i++)
		cmp_opt(&opts[i], s, n);
}

/* NULL, default options, --decimal-comma with '.' and --thousands ',' only:
 * for the big sweeps. */
static void cmp_some(const char *s, size_t n)
{
	cmp_opt(NULL, s, n);
	cmp_opt(&opts[0], s, n);
	cmp_opt(&opts[1], s, n);
	cmp_opt(&opts[2], s, n);
}

static const char *const samples[] = {
	"13.56", "-4.20", "120", "0.5", "+7", "+0.01", "-0", "0", "-0.0000", "00012",
	"0012.30", ".5", "-.5", "5.", "-5.", ".", "-", "+", "", " ", "-+5", "+-5", "--5",
	"1e3", "1E3", "1e+3", "1.5e-3", "0x10", "0X1F", "1.2.3", "1..2", "1,5", "1,234",
	"1,234.56", "1.234,56", "1 234", "1\xc2\xa0" "234", "1\xe2\x80\xaf" "234", "1'234.50",
	"12.3456", "12.34560", "12.34567", "12.345600000", "12.34561", "12.00001",
	"\xd9\xa1\xd9\xa2", "1\xd9\xa2", "$12", "12$", "US$12", "12 USD", "EUR 12,50",
	"\xe2\x82\xac" "12", "12\xe2\x82\xac", "(12.50)", "( 12.50 )", "(12.50", "-(12.50)",
	"(-12.50)", "(12.50 USD)", " 13.56 ", "\t-4.2\t", "13.56 ", " 13.56", "13 .56",
	"13. 56", "- 5", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "12abc", "abc",
	"99999999999999", "99999999999999.9999", "99999999999999.99999", "99999999999999.99990",
	"100000000000000", "999999999999999", "922337203685477", "922337203685477.5807",
	"922337203685477.5808", "-922337203685477.5807", "-922337203685477.5808",
	"922337203685478", "9223372036854775807", "18446744073709551616",
	"000000000000000000013.56", "1234567890123.4567", "12345678901234.5678",
	"123456789012345.678", "0.0001", "0.00001", "0.00010", "-0.0001",
};

static const char alphabet[] = "0123456789.,-+ ()$eExX'\t\xc2\xa0\xd9nN";

static void mutations(const char *s)
{
	unit_mutations(s, alphabet, sizeof alphabet, cmp_all);   /* the alphabet's NUL too */
}

static void test_samples(void)
{
	long f0 = nfail, c0 = ncalls;
	size_t i;

	for (i = 0; i < sizeof samples / sizeof samples[0]; i++)
		cmp_all(samples[i], strlen(samples[i]));
	CHECK(nfail == f0, "%zu samples x %d option sets: %ld calls agree",
	      sizeof samples / sizeof samples[0], nopts + 1, ncalls - c0);
	f0 = nfail;
	c0 = ncalls;
	for (i = 0; i < sizeof samples / sizeof samples[0]; i++)
		mutations(samples[i]);
	CHECK(nfail == f0, "every 1-character deletion, substitution and insertion: %ld calls agree",
	      ncalls - c0);
}

/* Every string of length 0..4 over a small alphabet. */
static void test_exhaustive(void)
{
	static const char al[] = "0159.,-+ ";
	const size_t k = sizeof al - 1;
	long f0 = nfail, c0 = ncalls, ok0 = nok;
	char buf[8];
	size_t len, i, idx[5];

	for (len = 0; len <= 5; len++) {
		memset(idx, 0, sizeof idx);
		for (;;) {
			for (i = 0; i < len; i++)
				buf[i] = al[idx[i]];
			if (len <= 4)
				cmp_all(buf, len);
			else
				cmp_some(buf, len);
			for (i = 0; i < len && ++idx[i] == k; i++)
				idx[i] = 0;
			if (i == len)
				break;
		}
	}
	CHECK(nfail == f0, "every string of length 0-5 over \"%s\": %ld calls agree (%ld accepted)", al,
	      ncalls - c0, nok - ok0);
}

static uint64_t rng = 88172645463325252ULL;

static unsigned rnd(unsigned k)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % k);
}

/* Digit strings of 1..22 digits with a sign and a point at random places:
 * covers the 14/15 integer digit and 4/5 decimal boundaries. */
static void test_random(void)
{
	long f0 = nfail, c0 = ncalls, ok0 = nok;
	char buf[40];
	int i;

	for (i = 0; i < 300000; i++) {
		size_t n = 0, len = 1 + rnd(22), k, dot = rnd(3) ? rnd((unsigned)len + 1) : len + 1;

		if (!rnd(3))
			buf[n++] = rnd(2) ? '-' : '+';
		for (k = 0; k < len; k++) {
			if (k == dot)
				buf[n++] = '.';
			buf[n++] = (char)(rnd(4) ? '0' + rnd(10) : (rnd(2) ? '9' : '0'));
		}
		if (dot == len)
			buf[n++] = '.';
		if (!rnd(25))
			buf[rnd((unsigned)n)] = alphabet[rnd(sizeof alphabet)];
		cmp_some(buf, n);
	}
	CHECK(nfail == f0, "300000 random digit strings: %ld calls agree (%ld accepted)",
	      ncalls - c0, nok - ok0);
}

/* The fuzz regression inputs: the bytes after the option byte, and the
 * whole file, under every option set. */
static void regress_one(const unsigned char *buf, size_t len)
{
	cmp_all((const char *)buf, len);
	if (len > 0)
		cmp_all((const char *)buf + 1, len - 1);
}

static void test_regress(void)
{
	const char *dir = "tests/fuzz/regress/money";
	long f0 = nfail;
	int n = unit_each_file(dir, regress_one);
	CHECK(n > 0 && nfail == f0, "%d fuzz regression inputs in %s agree", n, dir);
}

int main(void)
{
	static const char seps[5] = { 0, ',', '.', ' ', '\'' };
	int dc, th, cur, acc;

	/* opts[0] default, [1] decimal comma + '.', [2] thousands ',', then all */
	memset(opts, 0, sizeof opts);
	opts[1].decimal_comma = 1;
	opts[1].thousands = '.';
	opts[2].thousands = ',';
	nopts = 3;
	for (dc = 0; dc < 2; dc++)
		for (th = 0; th < 5; th++)
			for (cur = 0; cur < 2; cur++)
				for (acc = 0; acc < 2; acc++) {
					money_opts *o = &opts[nopts++];

					o->decimal_comma = dc;
					o->thousands = seps[th];
					o->strip_currency = cur;
					o->accounting = acc;
				}
	test_samples();
	test_exhaustive();
	test_random();
	test_regress();
	CHECK(nfail == 0, "fast path and general path agree on all %ld calls (%ld accepted)", ncalls,
	      nok);
	return unit_done();
}
