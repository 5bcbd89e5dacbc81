/* libFuzzer target: timestamp parsing in every mode, strptime-like formats,
 * durations, POSIX TZ rules and TZif data.
 *
 *   clang -fsanitize=fuzzer,address -Ilib tests/fuzz/fuzz_time.c lib/[a-z]*.c -lz -lm
 *
 * The first byte picks what is exercised; the rest is the input. Invariants
 * that must hold on success (round trips, ranges) abort when broken.
 * tests/unit/test_time.c includes this file to replay tests/fuzz/regress/time/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "timeparse.h"
#include "tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tz_zone *fuzz_zone(int which)
{
	static tz_zone *zones[4];
	static int loaded;
	char err[256];

	if (!loaded) {
		zones[0] = NULL;
		zones[1] = tz_load("Europe/Berlin", err, sizeof err);
		zones[2] = tz_load("America/New_York", err, sizeof err);
		zones[3] = tz_load("+05:30", err, sizeof err);
		loaded = 1;
	}
	return zones[which & 3];
}

static void must(int cond)
{
	if (!cond)
		abort();
}

static void check_ok(const time_parser *p, int rc, int64_t t)
{
	if (rc != TIME_OK) {
		must(rc > 0 && rc <= TIME_ERR_FORMAT);
		must(p->reason[0] != '\0' && memchr(p->reason, '\0', sizeof p->reason) != NULL);
		return;
	}
	/* parsed civil years are 1..9999; offsets may move by up to a day */
	must(t >= TIME_MIN - 86400 && t <= TIME_MAX + 86400);
}

static void fuzz_parse(int mode, int zone, const char *s, size_t n)
{
	static const char *specs[] = { "auto", "auto", "yyyymmdd", "epoch", "epoch-ms" };
	time_parser p;
	char buf[48], err[256];
	int64_t t = 0, t2 = 0;
	int rc;

	must(time_parser_init(&p, specs[mode], fuzz_zone(zone), err, sizeof err) == TIME_OK);
	p.allow_compact = mode == 1;
	rc = time_parse(&p, s, n, &t);
	check_ok(&p, rc, t);
	if (rc == TIME_OK) {
		/* the canonical UTC form must parse back to the same instant */
		size_t k = time_format_iso(t, buf);

		must(k == strlen(buf));
		if (t >= TIME_MIN && t <= TIME_MAX) {
			time_parser q;

			must(time_parser_init(&q, NULL, NULL, err, sizeof err) == TIME_OK);
			must(time_parse(&q, buf, k, &t2) == TIME_OK && t2 == t);
		}
		time_format_local(t, fuzz_zone(zone), buf);
		(void)time_week_index(t, fuzz_zone(zone), zone % 7);
		(void)time_quarter_index(t, fuzz_zone(zone));
	}
}

static void fuzz_format(int zone, const char *s, size_t n)
{
	const char *nl = memchr(s, '\n', n);
	char spec[128], err[256];
	size_t fl;
	time_parser p;
	int64_t t = 0;

	if (!nl)
		return;
	fl = (size_t)(nl - s);
	if (fl >= sizeof spec)
		return;
	memcpy(spec, s, fl);
	spec[fl] = '\0';
	if (time_parser_init(&p, spec, fuzz_zone(zone), err, sizeof err) != TIME_OK)
		return;
	check_ok(&p, time_parse(&p, nl + 1, n - fl - 1, &t), t);
}

static void fuzz_tzif(const uint8_t *d, size_t n)
{
	char err[256];
	tz_zone *z = tz_from_tzif("fuzz", d, n, err, sizeof err);
	int64_t probes[] = { INT64_C(-62135596800), -1, 0, 1000000000, 1700000000,
	                     INT64_C(2200000000), INT64_C(253402300799) };
	size_t i;

	if (!z)
		return;
	for (i = 0; i < sizeof probes / sizeof probes[0]; i++) {
		int64_t u = 0;
		int off = tz_offset_utc(z, probes[i]);
		int rc;

		must(off >= -TZ_MAX_OFFSET && off <= TZ_MAX_OFFSET);
		rc = tz_local_to_utc(z, probes[i], &u);
		must(rc == TZ_OK || rc == TZ_GAP);
		if (rc == TZ_OK)   /* a found instant must map back to the local time */
			must(u + tz_offset_utc(z, u) == probes[i]);
	}
	tz_free(z);
}

static void fuzz_rule_duration(const char *s, size_t n)
{
	char str[128], err[256];
	duration d;
	int64_t out;
	tz_zone *z;

	if (n >= sizeof str)
		return;
	memcpy(str, s, n);
	str[n] = '\0';
	if (duration_parse(str, &d, err, sizeof err) == 0) {
		must(d.count >= 0 && d.count <= 1000000);
		if (duration_add(1700000000, &d, 3, NULL, &out) == 0)
			must(out >= TIME_MIN && out <= TIME_MAX);
		(void)duration_add(1700000000, &d, -7, fuzz_zone(1), &out);
	}
	if ((z = tz_from_posix(str, err, sizeof err))) {
		int64_t u, t;

		for (t = -4000000000; t < 9000000000; t += 700000000) {
			int off = tz_offset_utc(z, t);

			must(off >= -TZ_MAX_OFFSET && off <= TZ_MAX_OFFSET);
			if (tz_local_to_utc(z, t, &u) == TZ_OK)
				must(u + tz_offset_utc(z, u) == t);
		}
		tz_free(z);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s;
	size_t n;
	int sel;

	if (size < 1)
		return 0;
	sel = data[0];
	s = (const char *)data + 1;
	n = size - 1;
	switch (sel % 8) {
	case 0: case 1: case 2: case 3: case 4:
		fuzz_parse(sel % 8, sel >> 3, s, n);
		break;
	case 5:
		fuzz_format(sel >> 3, s, n);
		break;
	case 6:
		fuzz_tzif(data + 1, n);
		break;
	default:
		fuzz_rule_duration(s, n);
		break;
	}
	return 0;
}
