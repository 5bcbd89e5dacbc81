/* Differential test: time_parse (with its fast path for the common ISO-8601
 * shapes) against time_parse_general (the same parser without it) on many
 * generated inputs, in every mode and several zones. Both must agree on the
 * return code, the value written to *out (also when an error is returned),
 * the reason text (all 256 bytes, so "untouched on success" is checked too)
 * and naive_count. Inputs are copied into buffers of exactly their length,
 * so a read past the end shows up under ASan (make asan). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeparse.h"
#include "tz.h"
#include "unit.h"

#define NCFG_MAX 16
#define SENTINEL INT64_C(0x5a5a5a5a5a5a5a5a)

struct cfg {
	const char *spec, *zone;
	int compact;
	time_parser fast, gen;       /* each with its own zone instance */
	tz_zone *zfast, *zgen;
};

static struct cfg cfgs[NCFG_MAX];
static int ncfg;
static long ncalls, nfail, nok;

static void add_cfg(const char *spec, const char *zone, int compact)
{
	struct cfg *c = &cfgs[ncfg++];
	char err[256];

	c->spec = spec;
	c->zone = zone;
	c->compact = compact;
	c->zfast = zone ? tz_load(zone, err, sizeof err) : NULL;
	c->zgen = zone ? tz_load(zone, err, sizeof err) : NULL;
	if (zone && (!c->zfast || !c->zgen)) {
		printf("# zone %s not available: %s\n", zone, err);
		ncfg--;
		return;
	}
	time_parser_init(&c->fast, spec, c->zfast, err, sizeof err);
	time_parser_init(&c->gen, spec, c->zgen, err, sizeof err);
	c->fast.allow_compact = c->gen.allow_compact = compact;
}

/* One input through one configuration on both paths. */
static void cmp_cfg(struct cfg *c, const char *s, size_t n)
{
	char *buf = malloc(n ? n : 1);
	int64_t ta = SENTINEL, tb = SENTINEL;
	int ra, rb;

	if (!buf)
		abort();
	memcpy(buf, s, n);
	memset(c->fast.reason, 0x5a, sizeof c->fast.reason);
	memset(c->gen.reason, 0x5a, sizeof c->gen.reason);
	ra = time_parse(&c->fast, buf, n, &ta);
	rb = time_parse_general(&c->gen, buf, n, &tb);
	ncalls++;
	if (ra == TIME_OK)
		nok++;
	if (ra != rb || ta != tb || c->fast.naive_count != c->gen.naive_count ||
	    memcmp(c->fast.reason, c->gen.reason, sizeof c->fast.reason) != 0) {
		if (nfail++ < 20) {
			printf("# MISMATCH spec=%s zone=%s compact=%d input=", c->spec ? c->spec : "(null)",
			       c->zone ? c->zone : "(null)", c->compact);
			unit_show(s, n);
			printf("\n#   fast: rc=%d t=%lld naive=%llu reason=%.80s\n", ra, (long long)ta,
			       (unsigned long long)c->fast.naive_count, ra ? c->fast.reason : "-");
			printf("#   gen:  rc=%d t=%lld naive=%llu reason=%.80s\n", rb, (long long)tb,
			       (unsigned long long)c->gen.naive_count, rb ? c->gen.reason : "-");
		}
		c->gen.naive_count = c->fast.naive_count;   /* report each difference once */
	}
	free(buf);
}

static void cmp_all(const char *s, size_t n)
{
	int i;

	for (i = 0; i < ncfg; i++)
		cmp_cfg(&cfgs[i], s, n);
}

/* The default parser and Europe/Berlin: for the biggest sweep. */
static void cmp_two(const char *s, size_t n)
{
	cmp_cfg(&cfgs[0], s, n);
	cmp_cfg(&cfgs[3], s, n);
}

static void cmp_str(const char *s)
{
	cmp_all(s, strlen(s));
}

/* Only the AUTO configurations (the fast path's domain): for the big sweeps. */
static void cmp_auto(const char *s, size_t n)
{
	int i;

	for (i = 0; i < ncfg; i++)
		if (cfgs[i].fast.mode == TIME_MODE_AUTO)
			cmp_cfg(&cfgs[i], s, n);
}

static const char *const samples[] = {
	"2023-01-01T00:00:24Z", "2023-01-01 00:00:24Z", "2023-01-01t00:00:24z",
	"2023-06-15T12:34:56+01:00", "2023-06-15T12:34:56-05:30", "2023-06-15T12:34:56.123Z",
	"2023-06-15T12:34:56,5+02:00", "2023-06-15T12:34:56.123456789", "2023-06-15",
	"2023-06-15T12:34", "2023-06-15T12:34Z", "2023-06-15T12:34+01:00",
	"2023-03-26T02:30:00", "2023-03-26 02:30:00.5", "2023-03-12T02:30:00",
	"2023-10-29T02:30:00", "2023-11-05T01:30:00", "2023-03-26", "2023-10-01",
	"1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2038-01-19T03:14:07Z",
	"2038-01-19T03:14:08Z", "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2024-02-29",
	"2023-02-28", "2000-02-29", "1900-02-29", "2100-02-29", "2400-02-29", "0400-02-29",
	"0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "0001-01-01", "0001-03-01",
	"0100-02-28", "0100-03-01", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00",
	"9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00+23:59",
	"2023-01-01T24:00:00Z", "2023-01-01T23:60:00Z", "2023-01-01T23:59:60Z",
	"2023-01-01T00:00:00+14:00", "2023-01-01T00:00:00-12:00", "2023-01-01T00:00:00+24:00",
	"2023-01-01T00:00:00+23:59", "2023-01-01T00:00:00+00:60", "2023-01-01T00:00:00-00:00",
	"2023-12-31T23:59:59.999999999999999999999999999999999999Z",
	"2023-01-01T00:00:24 Z", "2023-01-01T00:00:24 +01:00", "2023-01-01T00:00:24+0100",
	"2023-01-01T00:00:24+01", "2023-01-01T00:00:24UTC", "2023-01-01T00:00:24 GMT",
	"2023/01/01 00:00:24", "2023/01/01", " 2023-01-01T00:00:24Z ", "\t2023-01-01\t",
	"2023-01-01T00:00:24Z ", "20230101", "2023-1-1", "2023-04-31", "2023-04-30",
	"2023-13-01", "2023-00-10", "2023-01-00", "2023-01-32", "2023-12-31", "2023-01-31",
	"2023-01-02T03:04:05.", "2023-01-02T03:04:05.Z", "2023-01-02T03:04:05..5",
	"2023-01-02T03:04:05.5.5", "2023-01-02T03:04:05,5,5", "2023-01-02T03:04.5Z",
	"2023-01-02T03:04:05+01:00Z", "2023-01-02T03:04:05Zjunk", "2023-01-02T", "2023-01-02Z",
	"2023-01-02T03:04:05z", "2023-01-02 03:04:05 +0000", "2023-01-02 03:04:05 UTC",
	"10000-01-01", "99999-01-01T00:00:00Z", "2023-06-15T12:34:56+01:00:00",
	"2023-06-15T12:34:56+1:00", "2023-06-15T12:34:56.+01:00", "2023-06-15T12:34:56.1+01:00",
	"1600000000", "1600000000.5", "-1", "+1", "03/04/2023", "hello", "", " ",
	"2023-01-02\n", "2023-01-02T03:04:05\xd9\xa1Z", "\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4-01-01",
	"2023-01-01T00:00:00\xff", "2023-\xff\x31-01",
};

static const char alphabet[] = "0123456789-+:.,TtZz /\tx\x80\xff\xd9";

/* Every single-character deletion, substitution and insertion. */
static void mutations(const char *s)
{
	unit_mutations(s, alphabet, sizeof alphabet, cmp_all);   /* the alphabet's NUL too */
}

static void test_samples(void)
{
	long f0 = nfail, c0 = ncalls;
	size_t i;

	for (i = 0; i < sizeof samples / sizeof samples[0]; i++)
		cmp_str(samples[i]);
	CHECK(nfail == f0, "%zu samples x %d configurations: %ld calls agree",
	      sizeof samples / sizeof samples[0], ncfg, ncalls - c0);
	f0 = nfail;
	c0 = ncalls;
	for (i = 0; i < sizeof samples / sizeof samples[0]; i++)
		mutations(samples[i]);
	CHECK(nfail == f0, "every 1-character deletion, substitution and insertion: %ld calls agree",
	      ncalls - c0);
}

/* Dates: every day 00..32 of months 00..13 for whole 400-year cycles and
 * the years around 1970 and 2000, day 00/01/28..32 for every year 0..9999. */
static void test_dates(void)
{
	long f0 = nfail, c0 = ncalls, ok0 = nok;
	char buf[128];
	int y, m, d;

	for (y = 0; y <= 9999; y++) {
		int full = y <= 801 || (y >= 1899 && y <= 2101) || y >= 9598;

		for (m = 0; m <= 13; m++)
			for (d = 0; d <= 32; d++) {
				if (!full && d > 1 && d < 28)
					continue;
				snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
				cmp_two(buf, 10);
				if (d == 0 || d >= 28 || y % 7 == 0) {
					snprintf(buf, sizeof buf, "%04d-%02d-%02dT12:34:56Z", y, m, d);
					cmp_cfg(&cfgs[0], buf, 20);
				}
			}
	}
	CHECK(nfail == f0, "dates of years 0000-9999: %ld calls agree (%ld accepted)",
	      ncalls - c0, nok - ok0);
}

/* Clock fields 00..99, around DST changes in Berlin, New York, Lord Howe. */
static void test_clock(void)
{
	static const char *const days[] = { "2023-03-26", "2023-10-29", "2023-03-12", "2023-11-05",
	                                    "2023-04-02", "2023-10-01", "2023-06-15" };
	static const int secs[] = { 0, 1, 59, 60, 99 };
	long f0 = nfail, c0 = ncalls, ok0 = nok;
	char buf[128];
	size_t i, k;
	int h, m;

	for (i = 0; i < sizeof days / sizeof days[0]; i++)
		for (h = 0; h <= 99; h++)
			for (m = 0; m <= 99; m++) {
				if (h > 25 && m % 7)
					continue;
				for (k = 0; k < sizeof secs / sizeof secs[0]; k++) {
					snprintf(buf, sizeof buf, "%sT%02d:%02d:%02d", days[i], h, m, secs[k]);
					cmp_auto(buf, 19);
					if (k == 2) {
						snprintf(buf, sizeof buf, "%s %02d:%02d:%02dZ", days[i], h, m, secs[k]);
						cmp_auto(buf, 20);
						snprintf(buf, sizeof buf, "%st%02d:%02d:%02d.250", days[i], h, m, secs[k]);
						cmp_auto(buf, 23);
					}
				}
			}
	CHECK(nfail == f0, "clock fields 00-99 around DST changes: %ld calls agree (%ld accepted)",
	      ncalls - c0, nok - ok0);
}

static void test_offsets(void)
{
	long f0 = nfail, c0 = ncalls, ok0 = nok;
	char buf[128];
	int sign, h, m;

	for (sign = 0; sign < 2; sign++)
		for (h = 0; h <= 99; h++)
			for (m = 0; m <= 99; m++) {
				snprintf(buf, sizeof buf, "2023-06-15T12:34:56%c%02d:%02d", sign ? '-' : '+', h, m);
				cmp_auto(buf, 25);
				snprintf(buf, sizeof buf, "0001-01-01T00:00:00.9%c%02d:%02d", sign ? '-' : '+', h, m);
				cmp_auto(buf, 27);
				snprintf(buf, sizeof buf, "9999-12-31T23:59:59%c%02d:%02d", sign ? '-' : '+', h, m);
				cmp_auto(buf, 25);
			}
	CHECK(nfail == f0, "offsets +-00:00..99:99 at the year limits: %ld calls agree (%ld accepted)",
	      ncalls - c0, nok - ok0);
}

/* Random strings: shapes assembled from plausible pieces, and random bytes. */
static uint64_t rng = 88172645463325252ULL;

static unsigned rnd(unsigned k)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % k);
}

static void test_random(void)
{
	static const char *const seps[] = { "T", "t", " ", "", "  ", "_" };
	static const char *const tails[] = { "", "Z", "z", "+01:00", "-05:30", "+14:00", "-12:00",
	                                     "+24:00", "+00:60", " Z", "UTC", "+0100", "+01", "Zx",
	                                     "+01:00 ", " ", ".", ":", "-", "+" };
	long f0 = nfail, c0 = ncalls, ok0 = nok;
	char buf[96];
	int i;

	for (i = 0; i < 300000; i++) {
		size_t n = 0;

		if (i % 3 == 2) {   /* random bytes from the alphabet */
			size_t len = rnd(32), k;

			for (k = 0; k < len; k++)
				buf[k] = alphabet[rnd(sizeof alphabet)];
			cmp_auto(buf, len);
			continue;
		}
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%04u-%02u-%02u", rnd(3) ? 1900 + rnd(200) :
		                      rnd(10000), rnd(3) ? 1 + rnd(12) : rnd(100), rnd(3) ? 1 + rnd(31) :
		                      rnd(100));
		if (rnd(5)) {
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%02u:%02u", seps[rnd(6)],
			                      rnd(4) ? rnd(24) : rnd(100), rnd(4) ? rnd(60) : rnd(100));
			if (rnd(6))
				n += (size_t)snprintf(buf + n, sizeof buf - n, ":%02u",
				                      rnd(4) ? rnd(60) : rnd(100));
			if (!rnd(4)) {
				unsigned k = rnd(12);

				buf[n++] = rnd(2) ? '.' : ',';
				while (k-- && n < 60)
					buf[n++] = (char)('0' + rnd(10));
			}
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", tails[rnd(20)]);
		}
		if (!rnd(20))   /* one random byte somewhere */
			buf[rnd((unsigned)n)] = (char)rnd(256);
		cmp_auto(buf, n);
	}
	CHECK(nfail == f0, "300000 random inputs: %ld calls agree (%ld accepted)", ncalls - c0,
	      nok - ok0);
}

/* The fuzz regression inputs: the bytes after the selector, and the whole file. */
static void regress_one(const unsigned char *buf, size_t len)
{
	cmp_all((const char *)buf, len);
	if (len > 0)
		cmp_all((const char *)buf + 1, len - 1);
}

static void test_regress(void)
{
	const char *dir = "tests/fuzz/regress/time";
	long f0 = nfail;
	int n = unit_each_file(dir, regress_one);
	CHECK(n > 0 && nfail == f0, "%d fuzz regression inputs in %s agree", n, dir);
}

int main(void)
{
	int i;

	add_cfg(NULL, NULL, 0);
	add_cfg("auto", NULL, 1);
	add_cfg("auto", "UTC", 0);
	add_cfg("auto", "Europe/Berlin", 0);
	add_cfg("auto", "America/New_York", 1);
	add_cfg("auto", "+05:30", 0);
	add_cfg("auto", "Australia/Lord_Howe", 0);
	add_cfg("yyyymmdd", "Europe/Berlin", 0);
	add_cfg("epoch", NULL, 0);
	add_cfg("epoch-ms", NULL, 0);
	add_cfg("%Y-%m-%dT%H:%M:%S%z", "Europe/Berlin", 0);
	add_cfg("%F %T", NULL, 0);
	CHECK(ncfg >= 8, "%d parser configurations", ncfg);
	test_samples();
	test_dates();
	test_clock();
	test_offsets();
	test_random();
	test_regress();
	CHECK(nfail == 0, "fast path and general path agree on all %ld calls (%ld accepted)", ncalls,
	      nok);
	for (i = 0; i < ncfg; i++) {
		tz_free(cfgs[i].zfast);
		tz_free(cfgs[i].zgen);
	}
	return unit_done();
}
