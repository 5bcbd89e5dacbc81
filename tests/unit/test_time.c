/* Unit tests: civil calendar, time zones, timestamp parsing, durations,
 * buckets (lib/timeparse.h, lib/tz.h). Covers the "Dates" list of
 * RELIABILITY.md and replays tests/fuzz/regress/time/. */
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "timeparse.h"
#include "tz.h"
#include "unit.h"
#include "util.h"

#include "../fuzz/fuzz_time.c"

static char out_buf[512];

/* Parses s and returns the UTC ISO form, or "ERR<code>: reason". */
static const char *pt(time_parser *p, const char *s)
{
	int64_t t = 0;
	int rc = time_parse(p, s, strlen(s), &t);

	if (rc != TIME_OK)
		snprintf(out_buf, sizeof out_buf, "ERR%d: %s", rc, p->reason);
	else
		time_format_iso(t, out_buf);
	return out_buf;
}

static int prc(time_parser *p, const char *s)
{
	int64_t t;

	return time_parse(p, s, strlen(s), &t);
}

static int has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

static const char *fmt_day(int64_t days)
{
	time_format_day(days, out_buf);
	return out_buf;
}

static const char *fmt_t(int64_t t)
{
	time_format_iso(t, out_buf);
	return out_buf;
}

static int64_t iso(const char *s)
{
	time_parser p;
	int64_t t = INT64_MIN;

	time_parser_init(&p, NULL, NULL, NULL, 0);
	if (time_parse(&p, s, strlen(s), &t) != TIME_OK)
		return INT64_MIN;
	return t;
}

static void test_calendar(void)
{
	int64_t y, d0;
	int m, d, iy, wk, ok = 1;

	CHECK(time_days_from_civil(1970, 1, 1) == 0, "epoch is day 0");
	CHECK(time_days_from_civil(2000, 3, 1) == 11017, "2000-03-01 day number");
	CHECK(time_days_from_civil(1969, 12, 31) == -1, "day before epoch is -1");
	CHECK(time_days_from_civil(1, 1, 1) == -719162, "0001-01-01 day number");
	/* round trip over years 1..9999 every 13 days */
	for (d0 = time_days_from_civil(1, 1, 1); d0 <= time_days_from_civil(9999, 12, 31); d0 += 13) {
		time_civil_from_days(d0, &y, &m, &d);
		if (time_days_from_civil(y, m, d) != d0 || !time_valid_date(y, m, d))
			ok = 0;
	}
	CHECK(ok, "civil_from_days/days_from_civil round trip over 1..9999");
	CHECK(time_is_leap(2024) && time_is_leap(2000) && !time_is_leap(1900) && !time_is_leap(2023),
	      "leap years: 2024, 2000 yes; 1900, 2023 no");
	CHECK(time_valid_date(2024, 2, 29), "2024-02-29 is valid");
	CHECK(!time_valid_date(2023, 2, 29), "2023-02-29 is invalid");
	CHECK(time_valid_date(2000, 2, 29), "2000-02-29 is valid (400 rule)");
	CHECK(!time_valid_date(1900, 2, 29), "1900-02-29 is invalid (100 rule)");
	CHECK(!time_valid_date(2023, 2, 30), "2023-02-30 is invalid");
	CHECK(!time_valid_date(2023, 13, 1), "month 13 invalid");
	CHECK(!time_valid_date(2023, 4, 31), "April 31 invalid");
	CHECK(!time_valid_date(0, 1, 1) && !time_valid_date(10000, 1, 1), "years 0 and 10000 invalid");
	CHECK(time_weekday(0) == 3, "1970-01-01 was a Thursday");
	CHECK(time_weekday(time_days_from_civil(2024, 1, 1)) == 0, "2024-01-01 was a Monday");
	CHECK(time_weekday(time_days_from_civil(2023, 12, 31)) == 6, "2023-12-31 was a Sunday");
	CHECK(time_weekday(-1) == 2, "weekday of negative day numbers");
	time_iso_week(time_days_from_civil(2021, 1, 3), &iy, &wk);
	CHECK(iy == 2020 && wk == 53, "2021-01-03 is ISO 2020-W53");
	time_iso_week(time_days_from_civil(2024, 12, 30), &iy, &wk);
	CHECK(iy == 2025 && wk == 1, "2024-12-30 is ISO 2025-W01");
	time_iso_week(time_days_from_civil(2023, 6, 15), &iy, &wk);
	CHECK(iy == 2023 && wk == 24, "2023-06-15 is ISO 2023-W24");
	/* month arithmetic clamps to month end */
	d0 = time_days_from_civil(2023, 1, 31);
	CHECK_STR(fmt_day(time_add_months_days(d0, 1)), "2023-02-28", "Jan 31 + 1 month = Feb 28");
	CHECK_STR(fmt_day(time_add_months_days(time_days_from_civil(2024, 1, 31), 1)), "2024-02-29",
	          "Jan 31 + 1 month = Feb 29 in a leap year");
	CHECK_STR(fmt_day(time_add_months_days(d0, 2)), "2023-03-31", "Jan 31 + 2 months = Mar 31");
	CHECK_STR(fmt_day(time_add_months_days(d0, -2)), "2022-11-30", "Jan 31 - 2 months = Nov 30");
	CHECK_STR(fmt_day(time_add_months_days(d0, 12)), "2024-01-31", "+12 months");
	CHECK_STR(fmt_day(time_add_months_days(time_days_from_civil(2024, 2, 29), 12)), "2025-02-28",
	          "Feb 29 + 1 year = Feb 28");
	CHECK_STR(fmt_day(time_add_months_days(time_days_from_civil(2023, 11, 15), 3)), "2024-02-15",
	          "months cross a year end");
}

static void test_format(void)
{
	char b[48];
	tz_zone *ber = tz_load("Europe/Berlin", NULL, 0);

	time_format_iso(0, b);
	CHECK_STR(b, "1970-01-01T00:00:00Z", "format epoch");
	time_format_iso(1672628645, b);
	CHECK_STR(b, "2023-01-02T03:04:05Z", "format 2023-01-02T03:04:05Z");
	time_format_iso(-1, b);
	CHECK_STR(b, "1969-12-31T23:59:59Z", "format negative time");
	time_format_iso(TIME_MAX, b);
	CHECK_STR(b, "9999-12-31T23:59:59Z", "format TIME_MAX");
	time_format_iso(TIME_MIN, b);
	CHECK_STR(b, "0001-01-01T00:00:00Z", "format TIME_MIN");
	time_format_date(1672628645, b);
	CHECK_STR(b, "2023-01-02", "date-only formatter");
	time_format_local(1672628645, ber, b);
	CHECK_STR(b, "2023-01-02T04:04:05+01:00", "local format in Berlin winter");
	time_format_local(1688000000, ber, b);
	CHECK_STR(b, "2023-06-29T02:53:20+02:00", "local format in Berlin summer");
	time_format_local(1672628645, NULL, b);
	CHECK_STR(b, "2023-01-02T03:04:05Z", "local format in UTC uses Z");
	tz_free(ber);
}

static void test_tz(void)
{
	char err[256];
	tz_zone *ber = tz_load("Europe/Berlin", err, sizeof err);
	tz_zone *ny = tz_load("America/New_York", err, sizeof err);
	tz_zone *utc, *fx, *z;
	int64_t u = 0;

	CHECK(ber != NULL && ny != NULL, "load Europe/Berlin and America/New_York");
	if (!ber || !ny)
		return;
	utc = tz_load("UTC", err, sizeof err);
	CHECK(utc && tz_offset_utc(utc, 1700000000) == 0 && tz_is_fixed(utc), "UTC built in");
	setenv("TZDIR", "/nonexistent", 1);
	z = tz_load("UTC", err, sizeof err);
	CHECK(z != NULL, "UTC loads without any zoneinfo");
	tz_free(z);
	z = tz_load("Europe/Berlin", err, sizeof err);
	CHECK(z == NULL && has(err, "unknown time zone"), "zone missing under TZDIR: %s", err);
	unsetenv("TZDIR");
	fx = tz_load("+05:30", err, sizeof err);
	CHECK(fx && tz_offset_utc(fx, 0) == 19800, "fixed +05:30");
	tz_free(fx);
	fx = tz_load("-0800", err, sizeof err);
	CHECK(fx && tz_offset_utc(fx, 0) == -28800 && strcmp(tz_name(fx), "-08:00") == 0,
	      "fixed -0800 named -08:00");
	tz_free(fx);
	fx = tz_load("+05", err, sizeof err);
	CHECK(fx && tz_offset_utc(fx, 0) == 18000, "fixed +05");
	tz_free(fx);
	CHECK(tz_load("+25:00", err, sizeof err) == NULL, "offset +25:00 refused");
	CHECK(tz_load("../etc/passwd", err, sizeof err) == NULL && has(err, "invalid time zone name"),
	      "'..' refused");
	CHECK(tz_load("Europe/../../etc/passwd", err, sizeof err) == NULL, "embedded '..' refused");
	CHECK(tz_load("/etc/localtime", err, sizeof err) == NULL, "absolute path refused");
	CHECK(tz_load("Mars/Olympus", err, sizeof err) == NULL && has(err, "unknown time zone"),
	      "unknown zone: %s", err);
	CHECK(tz_load("Europe", err, sizeof err) == NULL, "a directory is not a zone");
	CHECK(tz_load("right/Europe/Berlin", err, sizeof err) == NULL && has(err, "leap-second"),
	      "leap-second zones refused: %s", err);
	CHECK(tz_load("zone.tab", err, sizeof err) == NULL, "a non-TZif file is refused");

	/* offsets */
	CHECK(tz_offset_utc(ber, iso("2023-01-15T12:00:00Z")) == 3600, "Berlin winter +1");
	CHECK(tz_offset_utc(ber, iso("2023-07-15T12:00:00Z")) == 7200, "Berlin summer +2");
	CHECK(tz_offset_utc(ber, iso("2023-03-26T00:59:59Z")) == 3600, "Berlin before spring change");
	CHECK(tz_offset_utc(ber, iso("2023-03-26T01:00:00Z")) == 7200, "Berlin at spring change");
	CHECK(tz_offset_utc(ny, iso("2023-11-05T05:59:59Z")) == -14400, "New York before fall change");
	CHECK(tz_offset_utc(ny, iso("2023-11-05T06:00:00Z")) == -18000, "New York after fall change");
	/* beyond the table: POSIX footer rule */
	CHECK(tz_offset_utc(ber, iso("2100-07-01T12:00:00Z")) == 7200, "Berlin 2100 summer (rule)");
	CHECK(tz_offset_utc(ber, iso("2100-03-28T00:59:59Z")) == 3600, "Berlin 2100 before change");
	CHECK(tz_offset_utc(ber, iso("2100-03-28T01:00:00Z")) == 7200, "Berlin 2100-03-28 change");
	CHECK(tz_offset_utc(ny, iso("9999-07-01T00:00:00Z")) == -14400, "New York year 9999 summer");
	CHECK(tz_offset_utc(ber, iso("1900-01-01T00:00:00Z")) == 3600, "Berlin 1900 (CET)");

	/* local -> UTC: gap and overlap */
	CHECK(tz_local_to_utc(ber, iso("2023-03-26T02:30:00Z"), &u) == TZ_GAP,
	      "Berlin 2023-03-26 02:30 is in the gap");
	CHECK_STR(fmt_t(u), "2023-03-26T01:30:00Z", "gap result shifted forward (03:30 CEST)");
	CHECK(tz_local_to_utc(ber, iso("2023-03-26T03:00:00Z"), &u) == TZ_OK &&
	      u == iso("2023-03-26T01:00:00Z"), "Berlin 03:00 just after the gap");
	CHECK(tz_local_to_utc(ber, iso("2023-03-26T01:59:59Z"), &u) == TZ_OK &&
	      u == iso("2023-03-26T00:59:59Z"), "Berlin 01:59:59 just before the gap");
	CHECK(tz_local_to_utc(ber, iso("2023-10-29T02:30:00Z"), &u) == TZ_OK &&
	      u == iso("2023-10-29T00:30:00Z"), "Berlin ambiguous 02:30 takes the earlier (CEST)");
	CHECK(tz_local_to_utc(ny, iso("2023-03-12T02:30:00Z"), &u) == TZ_GAP,
	      "New York 2023-03-12 02:30 is in the gap");
	CHECK(tz_local_to_utc(ny, iso("2023-11-05T01:30:00Z"), &u) == TZ_OK &&
	      u == iso("2023-11-05T05:30:00Z"), "New York ambiguous 01:30 takes EDT");
	CHECK(tz_local_to_utc(ny, iso("2099-11-01T01:30:00Z"), &u) == TZ_OK &&
	      u == iso("2099-11-01T05:30:00Z"), "New York 2099 ambiguous (rule) takes EDT");
	CHECK(tz_local_to_utc(ber, iso("2100-03-28T02:30:00Z"), &u) == TZ_GAP,
	      "Berlin 2100 gap from the rule");
	CHECK(tz_local_to_utc(ber, iso("2023-06-01T12:00:00Z"), &u) == TZ_OK &&
	      u == iso("2023-06-01T10:00:00Z"), "plain summer local time");
	CHECK(tz_local_to_utc(ber, iso("2023-06-02T12:00:00Z"), &u) == TZ_OK &&
	      u == iso("2023-06-02T10:00:00Z"), "cached interval answers the next day");
	CHECK(tz_local_to_utc(NULL, 12345, &u) == TZ_OK && u == 12345, "NULL zone is UTC");

	/* southern hemisphere rule and POSIX strings */
	z = tz_from_posix("AEST-10AEDT,M10.1.0,M4.1.0/3", err, sizeof err);
	CHECK(z && tz_offset_utc(z, iso("2300-01-15T00:00:00Z")) == 39600 &&
	      tz_offset_utc(z, iso("2300-07-15T00:00:00Z")) == 36000, "POSIX rule, southern hemisphere");
	tz_free(z);
	z = tz_from_posix("<+0330>-3:30", err, sizeof err);
	CHECK(z && tz_offset_utc(z, 0) == 12600, "POSIX <+0330>-3:30");
	tz_free(z);
	CHECK(tz_from_posix("CET-1CEST,M13.5.0,M10.5.0", err, sizeof err) == NULL, "bad POSIX month");
	CHECK(tz_from_tzif("x", (const unsigned char *)"TZif2", 5, err, sizeof err) == NULL,
	      "truncated TZif refused");
	tz_free(utc);
	tz_free(ber);
	tz_free(ny);
}

static void test_parse_iso(void)
{
	time_parser p;
	char err[256];

	CHECK(time_parser_init(&p, NULL, NULL, err, sizeof err) == TIME_OK, "default parser");
	CHECK_STR(pt(&p, "2023-01-02"), "2023-01-02T00:00:00Z", "date only");
	CHECK_STR(pt(&p, "2023-01-02T03:04:05Z"), "2023-01-02T03:04:05Z", "with Z");
	CHECK_STR(pt(&p, "2023-01-02T03:04:05z"), "2023-01-02T03:04:05Z", "with z");
	CHECK_STR(pt(&p, "2023-01-02 03:04:05"), "2023-01-02T03:04:05Z", "space separator, naive = UTC");
	CHECK_STR(pt(&p, "2023-01-02T03:04"), "2023-01-02T03:04:00Z", "no seconds");
	CHECK_STR(pt(&p, "2023-01-02T03:04:05.999"), "2023-01-02T03:04:05Z", "fraction truncated");
	CHECK_STR(pt(&p, "2023-01-02T03:04:05,5Z"), "2023-01-02T03:04:05Z", "comma fraction");
	CHECK_STR(pt(&p, "2023-01-02T03:04:05+01:00"), "2023-01-02T02:04:05Z", "+01:00");
	CHECK_STR(pt(&p, "2023-01-02T03:04:05+0530"), "2023-01-01T21:34:05Z", "+0530");
	CHECK_STR(pt(&p, "2023-01-02T03:04:05-08"), "2023-01-02T11:04:05Z", "-08");
	CHECK_STR(pt(&p, "2023-01-02 03:04:05 +0000"), "2023-01-02T03:04:05Z", "space before offset");
	CHECK_STR(pt(&p, "2023-01-02 03:04:05 UTC"), "2023-01-02T03:04:05Z", "UTC suffix");
	CHECK_STR(pt(&p, "  2023-01-02  "), "2023-01-02T00:00:00Z", "surrounding spaces ignored");
	CHECK_STR(pt(&p, "2023/01/02"), "2023-01-02T00:00:00Z", "year-first with slashes");
	CHECK_STR(pt(&p, "2024-02-29"), "2024-02-29T00:00:00Z", "leap day 2024");
	CHECK_STR(pt(&p, "2000-02-29T12:00:00Z"), "2000-02-29T12:00:00Z", "leap day 2000");
	CHECK_STR(pt(&p, "2023-02-29"), "ERR4: invalid date 2023-02-29", "2023-02-29 rejected");
	CHECK_STR(pt(&p, "1900-02-29"), "ERR4: invalid date 1900-02-29", "1900-02-29 rejected");
	CHECK_STR(pt(&p, "2023-02-30"), "ERR4: invalid date 2023-02-30",
	          "2023-02-30 rejected, no normalisation");
	CHECK_STR(pt(&p, "2023-04-31"), "ERR4: invalid date 2023-04-31", "April 31 rejected");
	CHECK(prc(&p, "2023-13-01") == TIME_ERR_RANGE && has(p.reason, "month 13 out of range"),
	      "2023-13-01: %s", p.reason);
	CHECK(prc(&p, "2023-00-10") == TIME_ERR_RANGE, "month 0 rejected");
	CHECK(prc(&p, "2023-01-00") == TIME_ERR_RANGE, "day 0 rejected");
	CHECK(prc(&p, "2023-01-32") == TIME_ERR_RANGE, "day 32 rejected");
	CHECK(prc(&p, "2023-01-02T24:00:00") == TIME_ERR_RANGE && has(p.reason, "hour 24"),
	      "hour 24 rejected");
	CHECK(prc(&p, "2023-01-02T23:60") == TIME_ERR_RANGE, "minute 60 rejected");
	CHECK(prc(&p, "2023-01-02T23:59:60") == TIME_ERR_RANGE, "second 60 rejected");
	CHECK(prc(&p, "2023-01-02T03:04:05+24:00") == TIME_ERR_RANGE, "offset +24:00 rejected");
	CHECK(prc(&p, "2023-01-02T03:04:05+01:60") == TIME_ERR_RANGE, "offset minutes 60 rejected");
	CHECK(prc(&p, "0000-01-01") == TIME_ERR_YEAR && has(p.reason, "year 0 out of range"),
	      "year 0 rejected: %s", p.reason);
	CHECK_STR(pt(&p, "0001-01-01"), "0001-01-01T00:00:00Z", "year 1 accepted");
	CHECK_STR(pt(&p, "9999-12-31T23:59:59Z"), "9999-12-31T23:59:59Z", "year 9999 accepted");
	CHECK(prc(&p, "10000-01-01") == TIME_ERR_SYNTAX, "5-digit year rejected");
	CHECK(prc(&p, "") == TIME_ERR_EMPTY && has(p.reason, "empty"), "empty field");
	CHECK(prc(&p, "   ") == TIME_ERR_EMPTY, "blank field");
	CHECK(prc(&p, "2023-1-2") == TIME_ERR_SYNTAX, "single-digit month/day rejected in ISO");
	CHECK(prc(&p, "2023-01-02T") == TIME_ERR_SYNTAX, "dangling T");
	CHECK(prc(&p, "2023-01-02T03") == TIME_ERR_SYNTAX, "hour without minutes");
	CHECK(prc(&p, "2023-01-02T03:04:05.") == TIME_ERR_SYNTAX, "dot without fraction");
	CHECK(prc(&p, "2023-01-02T03:04:05X") == TIME_ERR_SYNTAX, "trailing junk");
	CHECK(prc(&p, "2023-01-02Z") == TIME_ERR_SYNTAX, "date with Z but no time");
	CHECK(prc(&p, "2023-01/02") == TIME_ERR_SYNTAX, "mixed separators");
	CHECK(prc(&p, "hello") == TIME_ERR_SYNTAX && has(p.reason, "--time-format"),
	      "garbage mentions --time-format: %s", p.reason);
	CHECK(prc(&p, "2023-01-02\n") == TIME_ERR_SYNTAX, "control character rejected");
	CHECK(!has(p.reason, "\n"), "control characters are not echoed into the reason");
	/* not NUL-terminated input */
	{
		const char *s = "2023-01-02T03:04:05Zgarbage";
		int64_t t = 0;

		CHECK(time_parse(&p, s, 20, &t) == TIME_OK && t == 1672628645,
		      "length-delimited input (not NUL-terminated)");
	}
}

static void test_parse_auto_refusals(void)
{
	time_parser p;

	time_parser_init(&p, NULL, NULL, NULL, 0);
	CHECK(prc(&p, "03/04/2023") == TIME_ERR_AMBIGUOUS, "03/04/2023 is ambiguous");
	CHECK(has(p.reason, "ambiguous day/month order") && has(p.reason, "--time-format %m/%d/%Y or %d/%m/%Y"),
	      "ambiguity hint: %s", p.reason);
	CHECK(prc(&p, "13/04/2023") == TIME_ERR_AMBIGUOUS, "13/04/2023 is still not guessed");
	CHECK(prc(&p, "3.4.23") == TIME_ERR_AMBIGUOUS && has(p.reason, "%d.%m.%y"),
	      "3.4.23 hint uses the separator and %%y: %s", p.reason);
	CHECK(prc(&p, "03-04-2023 10:00") == TIME_ERR_AMBIGUOUS, "03-04-2023 with time ambiguous");
	CHECK(prc(&p, "45000") == TIME_ERR_NUMBER && has(p.reason, "Excel serial"),
	      "Excel serial refused: %s", p.reason);
	CHECK(prc(&p, "45000.5") == TIME_ERR_NUMBER && has(p.reason, "Excel"), "fractional serial refused");
	CHECK(prc(&p, "1700000000") == TIME_ERR_NUMBER && has(p.reason, "--time-format epoch"),
	      "epoch seconds without format refused: %s", p.reason);
	CHECK(prc(&p, "1700000000123") == TIME_ERR_NUMBER && has(p.reason, "epoch-ms"),
	      "epoch ms without format refused: %s", p.reason);
	CHECK(prc(&p, "19970101") == TIME_ERR_NUMBER && has(p.reason, "yyyymmdd"),
	      "8-digit date needs a declaration: %s", p.reason);
	p.allow_compact = 1;
	CHECK_STR(pt(&p, "19970101"), "1997-01-01T00:00:00Z", "CDNOW 19970101 when enabled");
	CHECK_STR(pt(&p, "19970230"), "ERR4: invalid date 1997-02-30", "compact date validated");
	CHECK_STR(pt(&p, "2023-01-02"), "2023-01-02T00:00:00Z", "ISO still accepted with compact");
}

static void test_parse_declared(void)
{
	time_parser p;
	char err[256];
	tz_zone *ber = tz_load("Europe/Berlin", NULL, 0);

	CHECK(time_parser_init(&p, "yyyymmdd", NULL, err, sizeof err) == TIME_OK, "yyyymmdd spec");
	CHECK_STR(pt(&p, "19970101"), "1997-01-01T00:00:00Z", "declared yyyymmdd");
	CHECK(prc(&p, "1997-01-01") == TIME_ERR_SYNTAX, "declared yyyymmdd refuses ISO");
	CHECK(prc(&p, "1997010") == TIME_ERR_SYNTAX, "7 digits refused");

	time_parser_init(&p, "epoch", NULL, err, sizeof err);
	CHECK_STR(pt(&p, "1700000000"), "2023-11-14T22:13:20Z", "epoch seconds");
	CHECK_STR(pt(&p, "0"), "1970-01-01T00:00:00Z", "epoch 0");
	CHECK_STR(pt(&p, "-1"), "1969-12-31T23:59:59Z", "negative epoch");
	CHECK_STR(pt(&p, "1700000000.9"), "2023-11-14T22:13:20Z", "epoch fraction floored");
	CHECK_STR(pt(&p, "-0.5"), "1969-12-31T23:59:59Z", "negative fraction floored");
	CHECK(prc(&p, "1700000000123") == TIME_ERR_YEAR && has(p.reason, "epoch-ms"),
	      "ms given as seconds: %s", p.reason);
	CHECK(prc(&p, "2023-01-01") == TIME_ERR_SYNTAX, "epoch mode refuses ISO");
	CHECK(prc(&p, "99999999999999999999") == TIME_ERR_YEAR, "huge epoch refused, no overflow");
	CHECK(prc(&p, "1e9") == TIME_ERR_SYNTAX, "exponent refused in epoch");

	time_parser_init(&p, "epoch-ms", NULL, err, sizeof err);
	CHECK_STR(pt(&p, "1700000000123"), "2023-11-14T22:13:20Z", "epoch ms");
	CHECK_STR(pt(&p, "-1"), "1969-12-31T23:59:59Z", "epoch ms -1 floors");

	CHECK(time_parser_init(&p, "%m/%d/%Y %H:%M", NULL, err, sizeof err) == TIME_OK, "US format");
	CHECK_STR(pt(&p, "03/04/2023 10:30"), "2023-03-04T10:30:00Z", "%%m/%%d/%%Y %%H:%%M");
	CHECK_STR(pt(&p, "3/4/2023 9:05"), "2023-03-04T09:05:00Z", "single-digit fields");
	CHECK(prc(&p, "13/04/2023 10:30") == TIME_ERR_RANGE, "month 13 under declared format");
	CHECK(prc(&p, "02/30/2023 10:30") == TIME_ERR_DATE, "Feb 30 under declared format");
	CHECK(prc(&p, "03/04/2023") == TIME_ERR_SYNTAX && has(p.reason, "does not match"),
	      "missing time: %s", p.reason);
	CHECK(prc(&p, "03/04/2023 10:30 extra") == TIME_ERR_SYNTAX, "trailing text");

	time_parser_init(&p, "%d/%m/%Y", NULL, err, sizeof err);
	CHECK_STR(pt(&p, "03/04/2023"), "2023-04-03T00:00:00Z", "%%d/%%m/%%Y");
	time_parser_init(&p, "%d.%m.%y", NULL, err, sizeof err);
	CHECK_STR(pt(&p, "03.04.23"), "2023-04-03T00:00:00Z", "%%y 23 -> 2023");
	CHECK_STR(pt(&p, "03.04.69"), "1969-04-03T00:00:00Z", "%%y 69 -> 1969");
	time_parser_init(&p, "%d %b %Y %H:%M:%S %z", NULL, err, sizeof err);
	CHECK_STR(pt(&p, "4 MAR 2023 12:00:00 +0100"), "2023-03-04T11:00:00Z", "%%b upper case, %%z");
	CHECK_STR(pt(&p, "4 september 2023 12:00:00.75 Z"), "2023-09-04T12:00:00Z",
	          "full month name, fraction, Z");
	CHECK_STR(pt(&p, "4 Sept 2023 12:00:00 -05:00"), "2023-09-04T17:00:00Z", "Sept");
	CHECK(prc(&p, "4 Foo 2023 12:00:00 Z") == TIME_ERR_SYNTAX, "unknown month name");
	time_parser_init(&p, "%m/%d/%Y %I:%M %p", NULL, err, sizeof err);
	CHECK_STR(pt(&p, "03/04/2023 12:15 AM"), "2023-03-04T00:15:00Z", "12 AM is 00");
	CHECK_STR(pt(&p, "03/04/2023 12:15 pm"), "2023-03-04T12:15:00Z", "12 PM is 12");
	CHECK_STR(pt(&p, "03/04/2023 11:15 PM"), "2023-03-04T23:15:00Z", "11 PM is 23");
	CHECK(prc(&p, "03/04/2023 13:15 PM") == TIME_ERR_RANGE, "hour 13 with PM refused");
	time_parser_init(&p, "%FT%T", NULL, err, sizeof err);
	CHECK_STR(pt(&p, "2023-01-02T03:04:05"), "2023-01-02T03:04:05Z", "%%F and %%T");
	time_parser_init(&p, "%Y%m%d", NULL, err, sizeof err);
	CHECK(p.mode == TIME_MODE_COMPACT && prc(&p, "19970101") == TIME_OK, "%%Y%%m%%d is compact");
	time_parser_init(&p, "%Y-%m 100%%", NULL, err, sizeof err);
	CHECK_STR(pt(&p, "2023-07 100%"), "2023-07-01T00:00:00Z", "%%%% literal, day defaults to 1");

	CHECK(time_parser_init(&p, "%m/%d", NULL, err, sizeof err) == TIME_ERR_FORMAT &&
	      has(err, "no year"), "format without year refused: %s", err);
	CHECK(time_parser_init(&p, "%Y %Q", NULL, err, sizeof err) == TIME_ERR_FORMAT &&
	      has(err, "%Q"), "unknown conversion refused: %s", err);
	CHECK(time_parser_init(&p, "%Y %", NULL, err, sizeof err) == TIME_ERR_FORMAT, "lone %% refused");
	CHECK(time_parser_init(&p, "%Y %I", NULL, err, sizeof err) == TIME_ERR_FORMAT, "%%I needs %%p");
	CHECK(time_parser_init(&p, "dd/mm/yyyy", NULL, err, sizeof err) == TIME_ERR_FORMAT,
	      "unknown spec refused: %s", err);

	/* naive times in a zone */
	time_parser_init(&p, NULL, ber, err, sizeof err);
	CHECK_STR(pt(&p, "2023-07-01 12:00"), "2023-07-01T10:00:00Z", "naive summer time in Berlin");
	CHECK_STR(pt(&p, "2023-01-01 12:00"), "2023-01-01T11:00:00Z", "naive winter time in Berlin");
	CHECK_STR(pt(&p, "2023-07-01T12:00Z"), "2023-07-01T12:00:00Z", "explicit Z overrides --tz");
	CHECK(prc(&p, "2023-03-26 02:30") == TIME_ERR_GAP &&
	      has(p.reason, "nonexistent local time") && has(p.reason, "Europe/Berlin"),
	      "DST gap in Berlin: %s", p.reason);
	CHECK_STR(pt(&p, "2023-10-29 02:30"), "2023-10-29T00:30:00Z",
	          "ambiguous Berlin 02:30 takes the earlier instant");
	CHECK_STR(pt(&p, "2023-03-26"), "2023-03-25T23:00:00Z", "date-only in Berlin is local midnight");
	CHECK(p.naive_count > 0, "naive timestamps are counted");
	time_parser_init(&p, "%m/%d/%Y %H:%M", ber, err, sizeof err);
	CHECK(prc(&p, "03/26/2023 02:15") == TIME_ERR_GAP, "gap under a declared format");
	tz_free(ber);

	{
		tz_zone *ny = tz_load("America/New_York", NULL, 0);

		time_parser_init(&p, NULL, ny, err, sizeof err);
		CHECK(prc(&p, "2023-03-12T02:30:00") == TIME_ERR_GAP, "DST gap in New York");
		CHECK_STR(pt(&p, "2023-11-05T01:30:00"), "2023-11-05T05:30:00Z",
		          "ambiguous New York 01:30 takes EDT (earlier)");
		CHECK_STR(pt(&p, "2023-11-05T01:30:00-05:00"), "2023-11-05T06:30:00Z",
		          "explicit offset resolves the ambiguity");
		tz_free(ny);
	}
}

static void test_far_future_and_dates(void)
{
	time_parser p;
	int64_t t = 0, days = 0;
	char err[256];

	time_parser_init(&p, NULL, NULL, NULL, 0);
	CHECK(time_parse(&p, "2999-01-01", 10, &t) == TIME_OK, "year 2999 accepted");
	CHECK(time_after_year(t, 2100), "limit check flags 2999 after 2100");
	CHECK(!time_after_year(iso("2100-12-31T23:59:59Z"), 2100), "2100-12-31 not after 2100");
	CHECK(time_year_of(t) == 2999, "time_year_of");
	CHECK(time_parse_date("2023-06-30", &days, err, sizeof err) == TIME_OK &&
	      days == time_days_from_civil(2023, 6, 30), "--asof date");
	CHECK(time_parse_date("2023-02-30", &days, err, sizeof err) == TIME_ERR_DATE &&
	      has(err, "invalid date 2023-02-30"), "--asof invalid date: %s", err);
	CHECK(time_parse_date("2023-6-30", &days, err, sizeof err) == TIME_ERR_SYNTAX &&
	      has(err, "YYYY-MM-DD"), "--asof needs YYYY-MM-DD: %s", err);
	CHECK(time_parse_date("2023-06-30T00:00", &days, err, sizeof err) == TIME_ERR_SYNTAX,
	      "--asof refuses a time");
}

static void test_durations(void)
{
	duration d;
	char err[256], b[32];
	int64_t t = 0, s = 0;
	tz_zone *ber = tz_load("Europe/Berlin", NULL, 0);

	CHECK(duration_parse("90d", &d, err, sizeof err) == 0 && d.count == 90 && d.unit == DUR_DAYS,
	      "90d");
	CHECK(duration_parse("12h", &d, err, sizeof err) == 0 && d.unit == DUR_HOURS &&
	      duration_fixed_seconds(&d, &s) == 0 && s == 43200, "12h = 43200 s");
	CHECK(duration_parse("52w", &d, err, sizeof err) == 0 && d.unit == DUR_WEEKS &&
	      duration_fixed_seconds(&d, &s) == 0 && s == 52 * 7 * 86400, "52w");
	CHECK(duration_parse("6mo", &d, err, sizeof err) == 0 && d.unit == DUR_MONTHS &&
	      duration_fixed_seconds(&d, &s) == -1, "6mo is calendar (no fixed seconds)");
	duration_format(&d, b);
	CHECK_STR(b, "6mo", "duration_format");
	CHECK(duration_parse("1y", &d, err, sizeof err) == 0 && d.unit == DUR_YEARS, "1y");
	CHECK(duration_parse("0d", &d, err, sizeof err) == 0 && d.count == 0, "0d accepted");
	CHECK(duration_parse("6m", &d, err, sizeof err) == -1 && has(err, "ambiguous"),
	      "6m refused as ambiguous: %s", err);
	CHECK(duration_parse("90", &d, err, sizeof err) == -1 && has(err, "no unit"), "no unit: %s", err);
	CHECK(duration_parse("d", &d, err, sizeof err) == -1, "no number");
	CHECK(duration_parse("-5d", &d, err, sizeof err) == -1, "negative refused");
	CHECK(duration_parse("5 d", &d, err, sizeof err) == -1, "space refused");
	CHECK(duration_parse("5x", &d, err, sizeof err) == -1 && has(err, "unknown duration unit"),
	      "unknown unit: %s", err);
	CHECK(duration_parse("99999999999999999999d", &d, err, sizeof err) == -1 && has(err, "too large"),
	      "huge count refused");
	CHECK(duration_parse("", &d, err, sizeof err) == -1, "empty duration refused");

	duration_parse("1mo", &d, err, sizeof err);
	CHECK(duration_add(iso("2023-01-31T10:00:00Z"), &d, 1, NULL, &t) == 0 &&
	      t == iso("2023-02-28T10:00:00Z"), "2023-01-31 + 1mo = 2023-02-28 (clamped)");
	CHECK(duration_add(iso("2024-01-31T10:00:00Z"), &d, 1, NULL, &t) == 0 &&
	      t == iso("2024-02-29T10:00:00Z"), "2024-01-31 + 1mo = 2024-02-29");
	CHECK(duration_add(iso("2023-01-31T10:00:00Z"), &d, 2, NULL, &t) == 0 &&
	      t == iso("2023-03-31T10:00:00Z"), "2023-01-31 + 2*1mo = 2023-03-31 (one step)");
	CHECK(duration_add(iso("2023-03-31T00:00:00Z"), &d, -1, NULL, &t) == 0 &&
	      t == iso("2023-02-28T00:00:00Z"), "2023-03-31 - 1mo = 2023-02-28");
	duration_parse("1y", &d, err, sizeof err);
	CHECK(duration_add(iso("2024-02-29T00:00:00Z"), &d, 1, NULL, &t) == 0 &&
	      t == iso("2025-02-28T00:00:00Z"), "2024-02-29 + 1y = 2025-02-28");
	CHECK(duration_add(iso("9999-06-01T00:00:00Z"), &d, 1, NULL, &t) == -1,
	      "beyond year 9999 refused");
	duration_parse("1d", &d, err, sizeof err);
	CHECK(duration_add(iso("2023-03-25T12:00:00Z"), &d, 1, ber, &t) == 0 &&
	      t == iso("2023-03-26T11:00:00Z"), "1d across the Berlin spring change keeps 13:00 local (23 h)");
	CHECK(duration_add(iso("2023-03-25T12:00:00Z"), &d, 1, NULL, &t) == 0 &&
	      t == iso("2023-03-26T12:00:00Z"), "1d in UTC is 86400 s");
	duration_parse("24h", &d, err, sizeof err);
	CHECK(duration_add(iso("2023-03-25T12:00:00Z"), &d, 1, ber, &t) == 0 &&
	      t == iso("2023-03-26T12:00:00Z"), "24h is exact elapsed time in any zone");
	duration_parse("1d", &d, err, sizeof err);
	CHECK(duration_add(iso("2023-03-25T01:30:00Z"), &d, 1, ber, &t) == 0 &&
	      t == iso("2023-03-26T01:30:00Z"), "1d landing in the gap (02:30) shifts forward to 03:30");
	duration_parse("2w", &d, err, sizeof err);
	CHECK(duration_add(iso("2023-01-01T00:00:00Z"), &d, 1, NULL, &t) == 0 &&
	      t == iso("2023-01-15T00:00:00Z"), "2w");
	CHECK(duration_add(iso("2023-01-01T00:00:00Z"), &d, INT64_MAX, NULL, &t) == -1,
	      "overflowing multiplier refused");
	tz_free(ber);
}

static void test_buckets(void)
{
	tz_zone *ber = tz_load("Europe/Berlin", NULL, 0);
	tz_zone *ny = tz_load("America/New_York", NULL, 0);
	int64_t t = iso("2023-12-31T23:30:00Z"), w;

	CHECK(time_local_day(t, NULL) == time_days_from_civil(2023, 12, 31), "UTC day");
	CHECK(time_local_day(t, ber) == time_days_from_civil(2024, 1, 1), "Berlin day is next day");
	CHECK(time_month_index(t, NULL) == 2023 * 12 + 11, "UTC month index");
	CHECK(time_month_index(t, ber) == 2024 * 12 + 0, "Berlin month index (January)");
	CHECK(time_quarter_index(t, NULL) == 2023 * 4 + 3, "UTC quarter Q4");
	CHECK(time_quarter_index(t, ber) == 2024 * 4 + 0, "Berlin quarter Q1");
	CHECK(time_local_day(iso("2023-01-01T03:00:00Z"), ny) == time_days_from_civil(2022, 12, 31),
	      "New York day is previous day");
	CHECK(time_local_day(iso("1969-12-31T23:59:59Z"), NULL) == -1, "negative times floor");
	CHECK_STR(fmt_day(time_month_first_day(2024 * 12 + 1)), "2024-02-01", "month first day");
	CHECK_STR(fmt_day(time_quarter_first_day(2023 * 4 + 2)), "2023-07-01", "quarter first day");
	CHECK_STR(fmt_day(time_month_first_day(1969 * 12 + 11)), "1969-12-01", "month before the epoch");
	/* weeks: 2024-01-01 is a Monday */
	w = time_week_index(iso("2024-01-07T12:00:00Z"), NULL, 0);
	CHECK(w == time_week_index(iso("2024-01-01T00:00:00Z"), NULL, 0), "Mon-start: Sunday in same week");
	CHECK(w + 1 == time_week_index(iso("2024-01-08T00:00:00Z"), NULL, 0), "next Monday next week");
	CHECK_STR(fmt_day(time_week_first_day(w, 0)), "2024-01-01", "Mon-start week begins Monday");
	w = time_week_index(iso("2024-01-07T12:00:00Z"), NULL, 6);
	CHECK_STR(fmt_day(time_week_first_day(w, 6)), "2024-01-07", "Sun-start: Sunday opens a week");
	CHECK(time_week_index(iso("2024-01-06T12:00:00Z"), NULL, 6) == w - 1, "Sun-start: Saturday before");
	CHECK(time_week_index_day(0, 0) == 0 && time_week_index_day(-3, 0) == 0 &&
	      time_week_index_day(-4, 0) == -1, "week 0 starts Monday 1969-12-29");
	CHECK(time_parse_weekday("Mon") == 0 && time_parse_weekday("sunday") == 6 &&
	      time_parse_weekday("SUN") == 6 && time_parse_weekday("funday") == -1,
	      "weekday names");
	CHECK(time_day_start(time_days_from_civil(2023, 3, 26), ber) == iso("2023-03-25T23:00:00Z"),
	      "day start in Berlin");
	{
		/* America/Havana springs forward at midnight: the day starts at 01:00 */
		tz_zone *hav = tz_load("America/Havana", NULL, 0);

		CHECK(hav && time_day_start(time_days_from_civil(2023, 3, 12), hav) ==
		      iso("2023-03-12T05:00:00Z"), "day start after a midnight gap (Havana)");
		tz_free(hav);
	}
	tz_free(ber);
	tz_free(ny);
}

/* Every file under tests/fuzz/regress/time/ goes through the fuzz target. */
static void regress_one(const unsigned char *buf, size_t len)
{
	LLVMFuzzerTestOneInput(buf, len);   /* aborts on a broken invariant */
}

static void test_regress(void)
{
	const char *dir = "tests/fuzz/regress/time";
	int n = unit_each_file(dir, regress_one);
	CHECK(n > 0, "replayed %d fuzz regression inputs from %s", n, dir);
}

static void test_speed(void)
{
	time_parser p;
	tz_zone *ber = tz_load("Europe/Berlin", NULL, 0);
	char s[32];
	int64_t t, sum = 0;
	double t0;
	int i, ok = 1;

	time_parser_init(&p, NULL, ber, NULL, 0);
	t0 = rtn_now();
	for (i = 0; i < 1000000; i++) {
		time_format_iso(1600000000 + (int64_t)i * 977, s);
		s[19] = '\0';   /* naive local time */
		if (time_parse(&p, s, 19, &t) != TIME_OK && p.reason[0] != 'n')
			ok = 0;
		sum += t;
	}
	t0 = rtn_now() - t0;
	printf("# 1M format+parse in Europe/Berlin: %.0f ns each (checksum %lld)\n", t0 * 1e3,
	       (long long)sum);
	CHECK(ok, "1M naive Berlin timestamps parse");
	CHECK(t0 < 5.0, "format+parse well under 5 us per call (took %.3f s for 1M)", t0);
	tz_free(ber);
}

/* Two threads asking one zone for offsets on either side of its DST
 * changes, many times: each answer must be the zone's (a cache shared by
 * the threads once gave the offset of one interval to the other's time). */
struct tz_job {
	tz_zone *z;
	int64_t t[4];
	int32_t want[4];
	long bad;
};

static void *tz_worker(void *arg)
{
	struct tz_job *j = arg;
	for (long i = 0; i < 2000000; i++)
		j->bad += tz_offset_utc(j->z, j->t[i & 3]) != j->want[i & 3];
	return NULL;
}

static void test_tz_threads(void)
{
	char err[256];
	tz_zone *ber = tz_load("Europe/Berlin", err, sizeof err);
	CHECK(ber != NULL, "threads: load Europe/Berlin");
	if (!ber)
		return;
	/* 2023-01-15, 2023-07-15, 2024-01-15, 2024-07-15 (noon UTC): +1h, +2h */
	struct tz_job j[2] = {{ber, {1673784000, 1689422400, 1705320000, 1721044800}, {3600, 7200, 3600, 7200}, 0},
	                      {ber, {1689422400, 1673784000, 1721044800, 1705320000}, {7200, 3600, 7200, 3600}, 0}};
	pthread_t th;
	int two = pthread_create(&th, NULL, tz_worker, &j[1]) == 0;
	tz_worker(&j[0]);
	if (two)
		pthread_join(th, NULL);
	CHECK(two && j[0].bad == 0 && j[1].bad == 0, "threads: every offset right from two threads (%ld, %ld wrong)",
	      j[0].bad, j[1].bad);
	tz_free(ber);
}

int main(void)
{
	test_calendar();
	test_format();
	test_tz();
	test_tz_threads();
	test_parse_iso();
	test_parse_auto_refusals();
	test_parse_declared();
	test_far_future_and_dates();
	test_durations();
	test_buckets();
	test_regress();
	test_speed();
	return unit_done();
}
