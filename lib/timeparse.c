/* Calendar arithmetic, timestamp parsing, durations and buckets; see
 * timeparse.h. Civil-date conversions follow Howard Hinnant's public-domain
 * algorithms (days_from_civil / civil_from_days), exact for any year. */
#include "timeparse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- civil calendar ---------------------------------------------------- */

int time_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int time_days_in_month(int64_t y, int m)
{
	static const unsigned char dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m < 1 || m > 12)
		return 0;
	return dim[m - 1] + (m == 2 && time_is_leap(y));
}

int time_valid_date(int64_t y, int m, int d)
{
	return y >= TIME_YEAR_MIN && y <= TIME_YEAR_MAX && m >= 1 && m <= 12 && d >= 1 &&
	       d <= time_days_in_month(y, m);
}

int64_t time_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void time_civil_from_days(int64_t z, int64_t *year, int *month, int *day)
{
	int64_t era, doe, yoe, y, doy, mp;
	int m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	if (day)
		*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	m = (int)(mp < 10 ? mp + 3 : mp - 9);
	if (month)
		*month = m;
	if (year)
		*year = y + (m <= 2);
}

int time_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday (3) */
	int64_t w = (days + 3) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

int64_t time_add_months_days(int64_t days, int64_t months)
{
	int64_t y, ny, total;
	int m, d, nm, dim;

	time_civil_from_days(days, &y, &m, &d);
	total = y * 12 + (m - 1) + months;
	ny = time_floor_div(total, 12);
	nm = (int)(total - ny * 12) + 1;
	dim = time_days_in_month(ny, nm);
	if (d > dim)
		d = dim;
	return time_days_from_civil(ny, nm, d);
}

void time_iso_week(int64_t days, int *iso_year, int *week)
{
	int64_t thu = days - time_weekday(days) + 3, y;

	time_civil_from_days(thu, &y, NULL, NULL);
	if (iso_year)
		*iso_year = (int)y;
	if (week)
		*week = (int)((thu - time_days_from_civil(y, 1, 1)) / 7 + 1);
}

int64_t time_year_of(int64_t t)
{
	int64_t y;

	time_civil_from_days(time_floor_div(t, 86400), &y, NULL, NULL);
	return y;
}

int time_after_year(int64_t t, int max_year)
{
	return time_year_of(t) > max_year;
}

/* ---- formatting -------------------------------------------------------- */

static char *put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

static char *put_date(char *p, int64_t y, int m, int d)
{
	if (y >= 0 && y <= 9999) {
		p = put2(p, (int)(y / 100));
		p = put2(p, (int)(y % 100));
	} else {
		p += snprintf(p, 24, "%lld", (long long)y);
	}
	*p++ = '-';
	p = put2(p, m);
	*p++ = '-';
	return put2(p, d);
}

static char *put_clock(char *p, int64_t sod)
{
	p = put2(p, (int)(sod / 3600));
	*p++ = ':';
	p = put2(p, (int)(sod / 60 % 60));
	*p++ = ':';
	return put2(p, (int)(sod % 60));
}

size_t time_format_day(int64_t days, char buf[32])
{
	int64_t y;
	int m, d;
	char *p;

	time_civil_from_days(days, &y, &m, &d);
	p = put_date(buf, y, m, d);
	*p = '\0';
	return (size_t)(p - buf);
}

size_t time_format_date(int64_t t, char buf[32])
{
	return time_format_day(time_floor_div(t, 86400), buf);
}

size_t time_format_iso(int64_t t, char buf[32])
{
	int64_t days = time_floor_div(t, 86400), y;
	int m, d;
	char *p;

	time_civil_from_days(days, &y, &m, &d);
	p = put_date(buf, y, m, d);
	*p++ = 'T';
	p = put_clock(p, (t % 86400 + 86400) % 86400);   /* no overflow at the extremes */
	*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - buf);
}

size_t time_format_local(int64_t t, tz_zone *z, char buf[40])
{
	int off = tz_offset_utc(z, t), a = off < 0 ? -off : off;
	int64_t local = t + off, days = time_floor_div(local, 86400), y;
	int m, d;
	char *p;

	time_civil_from_days(days, &y, &m, &d);
	p = put_date(buf, y, m, d);
	*p++ = 'T';
	p = put_clock(p, local - days * 86400);
	if (off == 0) {
		*p++ = 'Z';
	} else {
		*p++ = off < 0 ? '-' : '+';
		p = put2(p, a / 3600);
		*p++ = ':';
		p = put2(p, a / 60 % 60);
		if (a % 60) {
			*p++ = ':';
			p = put2(p, a % 60);
		}
	}
	*p = '\0';
	return (size_t)(p - buf);
}

/* ---- buckets ----------------------------------------------------------- */

int64_t time_local_day(int64_t t, tz_zone *z)
{
	return time_floor_div(t + tz_offset_utc(z, t), 86400);
}

int64_t time_month_index(int64_t t, tz_zone *z)
{
	int64_t y;
	int m;

	time_civil_from_days(time_local_day(t, z), &y, &m, NULL);
	return y * 12 + m - 1;
}

int64_t time_quarter_index(int64_t t, tz_zone *z)
{
	int64_t y;
	int m;

	time_civil_from_days(time_local_day(t, z), &y, &m, NULL);
	return y * 4 + (m - 1) / 3;
}

int64_t time_week_index_day(int64_t days, int week_start)
{
	/* days + 3 counts from Monday 1969-12-29 */
	return time_floor_div(days + 3 - week_start, 7);
}

int64_t time_week_index(int64_t t, tz_zone *z, int week_start)
{
	return time_week_index_day(time_local_day(t, z), week_start);
}

int64_t time_week_first_day(int64_t week_index, int week_start)
{
	return week_index * 7 - 3 + week_start;
}

int64_t time_month_first_day(int64_t mi)
{
	int64_t y = time_floor_div(mi, 12);

	return time_days_from_civil(y, (int)(mi - y * 12) + 1, 1);
}

int64_t time_quarter_first_day(int64_t qi)
{
	int64_t y = time_floor_div(qi, 4);

	return time_days_from_civil(y, (int)(qi - y * 4) * 3 + 1, 1);
}

int64_t time_day_start(int64_t days, tz_zone *z)
{
	int64_t u;

	/* in a gap, tz_local_to_utc shifts forward: the first instant of the day */
	tz_local_to_utc(z, days * 86400, &u);
	return u;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int time_parse_weekday(const char *s)
{
	static const char *names[7] = { "monday", "tuesday", "wednesday", "thursday",
	                                "friday", "saturday", "sunday" };
	size_t n = strlen(s), i, k;

	for (i = 0; i < 7; i++) {
		if (n != 3 && n != strlen(names[i]))
			continue;
		for (k = 0; k < n && lower((unsigned char)s[k]) == names[i][k]; k++)
			;
		if (k == n)
			return (int)i;
	}
	return -1;
}

/* ---- parsing helpers --------------------------------------------------- */

struct fields {
	int64_t y;
	int mo, d, h, mi, s;
	int has_time, has_off, off;
};

static int isd(char c)
{
	return c >= '0' && c <= '9';
}

static int d2(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

static void verr(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
}

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

/* Input text for messages: at most 40 bytes, control bytes and quotes as '?'. */
static const char *shown(const char *s, size_t n, char out[48])
{
	size_t i, k = n > 40 ? 40 : n;

	for (i = 0; i < k; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c < 0x20 || c == 0x7f || c == '"') ? '?' : (char)c;
	}
	if (n > 40) {
		memcpy(out + 40, "...", 3);
		k = 43;
	}
	out[k] = '\0';
	return out;
}

/* Range checks shared by every layout. */
static int validate(const struct fields *f, const char *s, size_t n, char *err, size_t errlen)
{
	char q[48];

	if (f->y < TIME_YEAR_MIN || f->y > TIME_YEAR_MAX)
		return fail(err, errlen, TIME_ERR_YEAR, "year %lld out of range 1-9999 in \"%s\"",
		            (long long)f->y, shown(s, n, q));
	if (f->mo < 1 || f->mo > 12)
		return fail(err, errlen, TIME_ERR_RANGE, "month %d out of range in \"%s\"", f->mo,
		            shown(s, n, q));
	if (f->d < 1 || f->d > 31)
		return fail(err, errlen, TIME_ERR_RANGE, "day %d out of range in \"%s\"", f->d,
		            shown(s, n, q));
	if (f->d > time_days_in_month(f->y, f->mo))
		return fail(err, errlen, TIME_ERR_DATE, "invalid date %04d-%02d-%02d",
		            (int)f->y, f->mo, f->d);
	if (f->h > 23)
		return fail(err, errlen, TIME_ERR_RANGE, "hour %d out of range in \"%s\"", f->h,
		            shown(s, n, q));
	if (f->mi > 59)
		return fail(err, errlen, TIME_ERR_RANGE, "minute %d out of range in \"%s\"", f->mi,
		            shown(s, n, q));
	if (f->s > 59)
		return fail(err, errlen, TIME_ERR_RANGE, "second %d out of range in \"%s\"", f->s,
		            shown(s, n, q));
	return TIME_OK;
}

/* Validated fields -> UTC. */
static int finish(time_parser *p, const struct fields *f, const char *s, size_t n, int64_t *out)
{
	int64_t local;
	int rc = validate(f, s, n, p->reason, sizeof p->reason);

	if (rc != TIME_OK)
		return rc;
	local = time_days_from_civil(f->y, f->mo, f->d) * 86400 + f->h * 3600 + f->mi * 60 + f->s;
	if (f->has_off) {
		*out = local - f->off;
		return TIME_OK;
	}
	p->naive_count++;
	if (tz_local_to_utc(p->tz, local, out) == TZ_GAP && f->has_time) {
		char q[48];

		return fail(p->reason, sizeof p->reason, TIME_ERR_GAP,
		            "nonexistent local time \"%s\" (DST gap) in %s", shown(s, n, q),
		            tz_name(p->tz));
	}
	return TIME_OK;
}

/* Z, z, UTC, GMT, +HH, +HHMM, +HH:MM, -... at s[0..n). Returns bytes used,
 * 0 if not an offset, -1 if an offset out of range. */
static int parse_offset(const char *s, size_t n, int *off)
{
	int h, m = 0, used;

	if (n >= 1 && (s[0] == 'Z' || s[0] == 'z')) {
		*off = 0;
		return 1;
	}
	if (n >= 3 && (memcmp(s, "UTC", 3) == 0 || memcmp(s, "GMT", 3) == 0)) {
		*off = 0;
		return 3;
	}
	if (n < 3 || (s[0] != '+' && s[0] != '-') || !isd(s[1]) || !isd(s[2]))
		return 0;
	h = d2(s + 1);
	used = 3;
	if (n >= 6 && s[3] == ':' && isd(s[4]) && isd(s[5])) {
		m = d2(s + 4);
		used = 6;
	} else if (n >= 5 && isd(s[3]) && isd(s[4])) {
		m = d2(s + 3);
		used = 5;
	}
	if (h > 23 || m > 59)
		return -1;
	*off = (s[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
	return used;
}

static int expected_iso(time_parser *p, const char *s, size_t n)
{
	char q[48];

	return fail(p->reason, sizeof p->reason, TIME_ERR_SYNTAX,
	            "unrecognised timestamp \"%s\" (expected ISO-8601 YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM];"
	            " declare --time-format for other layouts)", shown(s, n, q));
}

static int bad_offset(time_parser *p, const char *s, size_t n)
{
	char q[48];

	return fail(p->reason, sizeof p->reason, TIME_ERR_RANGE,
	            "UTC offset out of range in \"%s\"", shown(s, n, q));
}

/* YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][ ][Z|UTC|+HH[:MM]]; '/' also accepted as
 * the date separator when used consistently (year first is unambiguous). */
static int parse_iso(time_parser *p, const char *s, size_t n, int64_t *out)
{
	struct fields f = { 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	size_t i = 10;
	char sep = s[4];
	int k;

	if (n < 10 || !isd(s[0]) || !isd(s[1]) || !isd(s[2]) || !isd(s[3]) || !isd(s[5]) ||
	    !isd(s[6]) || s[7] != sep || !isd(s[8]) || !isd(s[9]))
		return expected_iso(p, s, n);
	f.y = d2(s) * 100 + d2(s + 2);
	f.mo = d2(s + 5);
	f.d = d2(s + 8);
	if (i < n) {
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			return expected_iso(p, s, n);
		i++;
		if (n - i < 5 || !isd(s[i]) || !isd(s[i + 1]) || s[i + 2] != ':' || !isd(s[i + 3]) ||
		    !isd(s[i + 4]))
			return expected_iso(p, s, n);
		f.has_time = 1;
		f.h = d2(s + i);
		f.mi = d2(s + i + 3);
		i += 5;
		if (i < n && s[i] == ':') {
			if (n - i < 3 || !isd(s[i + 1]) || !isd(s[i + 2]))
				return expected_iso(p, s, n);
			f.s = d2(s + i + 1);
			i += 3;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				if (++i >= n || !isd(s[i]))
					return expected_iso(p, s, n);
				while (i < n && isd(s[i]))
					i++;
			}
		}
		if (i + 1 < n && s[i] == ' ')
			i++;
		if (i < n) {
			k = parse_offset(s + i, n - i, &f.off);
			if (k < 0)
				return bad_offset(p, s, n);
			if (k == 0 || i + (size_t)k != n)
				return expected_iso(p, s, n);
			f.has_off = 1;
		}
	}
	return finish(p, &f, s, n, out);
}

static int all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isd(s[i]))
			return 0;
	return n > 0;
}

static int parse_compact(time_parser *p, const char *s, size_t n, int64_t *out)
{
	struct fields f = { 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	char q[48];

	if (n != 8 || !all_digits(s, n))
		return fail(p->reason, sizeof p->reason, TIME_ERR_SYNTAX,
		            "expected an 8-digit date YYYYMMDD, got \"%s\"", shown(s, n, q));
	f.y = d2(s) * 100 + d2(s + 2);
	f.mo = d2(s + 4);
	f.d = d2(s + 6);
	return finish(p, &f, s, n, out);
}

/* Explains why a field that is not ISO-8601 was refused in auto mode. */
static int diagnose(time_parser *p, const char *s, size_t n)
{
	char q[48];
	size_t i = 0, a, b, c, intd = 0;
	int dots = 0, numeric = 1;

	if (s[0] == '-' || s[0] == '+')
		i = 1;
	for (a = i; a < n; a++) {
		if (s[a] == '.' && dots == 0)
			dots++;
		else if (!isd(s[a]))
			numeric = 0;
		else if (!dots)
			intd++;
	}
	if (numeric && intd > 0) {
		shown(s, n, q);
		if (intd == 8 && i == 0 && !dots && d2(s + 4) >= 1 && d2(s + 4) <= 12)
			return fail(p->reason, sizeof p->reason, TIME_ERR_NUMBER,
			            "8-digit date \"%s\" needs a declared format: --time-format yyyymmdd", q);
		if (intd <= 6)
			return fail(p->reason, sizeof p->reason, TIME_ERR_NUMBER,
			            "number \"%s\" looks like an Excel serial date: export dates as "
			            "YYYY-MM-DD text (serials are not guessed)", q);
		if (intd <= 11)
			return fail(p->reason, sizeof p->reason, TIME_ERR_NUMBER,
			            "number \"%s\" looks like epoch seconds: declare --time-format epoch", q);
		return fail(p->reason, sizeof p->reason, TIME_ERR_NUMBER,
		            "number \"%s\" looks like epoch milliseconds: declare --time-format epoch-ms",
		            q);
	}
	/* d{1,2} SEP d{1,2} SEP d{2,4}: day/month order unknown */
	for (a = 0; a < n && isd(s[a]); a++)
		;
	if (a >= 1 && a <= 2 && a < n && (s[a] == '/' || s[a] == '.' || s[a] == '-')) {
		char sep = s[a];

		for (b = a + 1; b < n && isd(s[b]); b++)
			;
		if (b - a - 1 >= 1 && b - a - 1 <= 2 && b < n && s[b] == sep) {
			for (c = b + 1; c < n && isd(s[c]); c++)
				;
			if (c - b - 1 == 2 || c - b - 1 == 4) {
				const char *yf = c - b - 1 == 2 ? "y" : "Y";

				return fail(p->reason, sizeof p->reason, TIME_ERR_AMBIGUOUS,
				            "ambiguous day/month order in \"%s\": declare --time-format "
				            "%%m%c%%d%c%%%s or %%d%c%%m%c%%%s",
				            shown(s, n, q), sep, sep, yf, sep, sep, yf);
			}
		}
	}
	return expected_iso(p, s, n);
}

/* Epoch seconds (ms = 0) or milliseconds (ms = 1), optional sign and fraction, floored. */
static int parse_epoch(time_parser *p, const char *s, size_t n, int ms, int64_t *out)
{
	char q[48];
	size_t i = 0, nd = 0;
	uint64_t v = 0;
	int neg = 0, frac = 0;
	int64_t t;

	if (s[0] == '-' || s[0] == '+')
		neg = s[i++] == '-';
	for (; i < n && isd(s[i]); i++, nd++) {
		if (nd >= 15)  /* 10^15 s is year ~31 million: beyond any limit */
			return fail(p->reason, sizeof p->reason, TIME_ERR_YEAR,
			            "epoch value \"%s\" out of range (years 1-9999)", shown(s, n, q));
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i < n && s[i] == '.') {
		for (i++; i < n && isd(s[i]); i++)
			frac |= s[i] != '0';
	}
	if (nd == 0 || i != n)
		return fail(p->reason, sizeof p->reason, TIME_ERR_SYNTAX,
		            "expected epoch %s, got \"%s\"", ms ? "milliseconds" : "seconds",
		            shown(s, n, q));
	t = neg ? -(int64_t)v - (frac ? 1 : 0) : (int64_t)v;
	if (ms)
		t = time_floor_div(t, 1000);
	if (t < TIME_MIN || t > TIME_MAX)
		return fail(p->reason, sizeof p->reason, TIME_ERR_YEAR,
		            "epoch value \"%s\" out of range (years 1-9999)%s", shown(s, n, q),
		            !ms && t / 1000 <= TIME_MAX && t / 1000 >= TIME_MIN ?
		            "; milliseconds? declare --time-format epoch-ms" : "");
	*out = t;
	return TIME_OK;
}

/* 1..maxd digits (greedy) at s[*i]. */
static int num(const char *s, size_t n, size_t *i, int mind, int maxd, int *v)
{
	int k = 0, x = 0;

	while (*i < n && k < maxd && isd(s[*i])) {
		x = x * 10 + (s[*i] - '0');
		(*i)++;
		k++;
	}
	*v = x;
	return k >= mind;
}

static const char *const month_names[12] = {
	"january", "february", "march", "april", "may", "june",
	"july", "august", "september", "october", "november", "december"
};

/* English month name or 3-letter abbreviation, any case. */
static int month_name(const char *s, size_t n, size_t *i, int *mo)
{
	int m;

	for (m = 0; m < 12; m++) {
		const char *name = month_names[m];
		size_t len = strlen(name), k;

		for (k = 0; k < len && *i + k < n && lower((unsigned char)s[*i + k]) == name[k]; k++)
			;
		if (k == len || k == 3 || (m == 8 && k == 4)) {  /* full, "Jan", "Sept" */
			*i += k;
			*mo = m + 1;
			return 1;
		}
	}
	return 0;
}

static int parse_format(time_parser *p, const char *s, size_t n, int64_t *out)
{
	struct fields f = { 0, 1, 1, 0, 0, 0, 0, 0, 0 };
	const char *fp = p->fmt;
	size_t i = 0;
	int v, ampm = -1, k;
	char q[48];

	while (*fp) {
		char c = *fp++;

		if (c == ' ') {
			while (i < n && (s[i] == ' ' || s[i] == '\t'))
				i++;
			continue;
		}
		if (c != '%') {
			if (i >= n || lower((unsigned char)s[i]) != lower((unsigned char)c))
				goto mismatch;
			i++;
			continue;
		}
		c = *fp++;
		switch (c) {
		case 'Y':
			if (!num(s, n, &i, 4, 4, &v))
				goto mismatch;
			f.y = v;
			break;
		case 'y':
			if (!num(s, n, &i, 2, 2, &v))
				goto mismatch;
			f.y = v < 69 ? 2000 + v : 1900 + v;
			break;
		case 'm':
			if (!num(s, n, &i, 1, 2, &f.mo))
				goto mismatch;
			break;
		case 'e':
			if (i < n && s[i] == ' ')
				i++;
			/* fall through */
		case 'd':
			if (!num(s, n, &i, 1, 2, &f.d))
				goto mismatch;
			break;
		case 'H':
		case 'I':
			if (!num(s, n, &i, 1, 2, &f.h))
				goto mismatch;
			f.has_time = 1;
			break;
		case 'M':
			if (!num(s, n, &i, 1, 2, &f.mi))
				goto mismatch;
			f.has_time = 1;
			break;
		case 'S':
			if (!num(s, n, &i, 1, 2, &f.s))
				goto mismatch;
			if (i + 1 < n && (s[i] == '.' || s[i] == ',') && *fp != s[i] && isd(s[i + 1]))
				for (i++; i < n && isd(s[i]); i++)
					;
			f.has_time = 1;
			break;
		case 'b':
		case 'h':
			if (!month_name(s, n, &i, &f.mo))
				goto mismatch;
			break;
		case 'p':
			if (n - i >= 2 && lower((unsigned char)s[i + 1]) == 'm' &&
			    (lower((unsigned char)s[i]) == 'a' || lower((unsigned char)s[i]) == 'p')) {
				ampm = lower((unsigned char)s[i]) == 'p';
				i += 2;
			} else {
				goto mismatch;
			}
			break;
		case 'z':
			k = parse_offset(s + i, n - i, &f.off);
			if (k < 0)
				return bad_offset(p, s, n);
			if (k == 0)
				goto mismatch;
			i += (size_t)k;
			f.has_off = 1;
			break;
		default: /* '%' (init rejected anything else) */
			if (i >= n || s[i] != '%')
				goto mismatch;
			i++;
			break;
		}
	}
	if (i != n)
		goto mismatch;
	if (ampm >= 0) {
		if (f.h < 1 || f.h > 12)
			return fail(p->reason, sizeof p->reason, TIME_ERR_RANGE,
			            "hour %d out of range 1-12 with AM/PM in \"%s\"", f.h, shown(s, n, q));
		f.h = f.h % 12 + (ampm ? 12 : 0);
	}
	return finish(p, &f, s, n, out);
mismatch:
	return fail(p->reason, sizeof p->reason, TIME_ERR_SYNTAX,
	            "\"%s\" does not match --time-format \"%s\"", shown(s, n, q), p->fmt);
}

/* ---- public parsing API ------------------------------------------------ */

int time_parser_init(time_parser *p, const char *spec, tz_zone *tz, char *err, size_t errlen)
{
	const char *sp;
	size_t o = 0;
	int year = 0, hour12 = 0, ampm = 0;

	memset(p, 0, sizeof *p);
	p->tz = tz;
	p->mode = TIME_MODE_AUTO;
	if (!spec || !*spec || strcmp(spec, "auto") == 0 || strcmp(spec, "iso") == 0)
		return TIME_OK;
	if (strcmp(spec, "yyyymmdd") == 0 || strcmp(spec, "%Y%m%d") == 0) {
		p->mode = TIME_MODE_COMPACT;
		return TIME_OK;
	}
	if (strcmp(spec, "epoch") == 0) {
		p->mode = TIME_MODE_EPOCH;
		return TIME_OK;
	}
	if (strcmp(spec, "epoch-ms") == 0) {
		p->mode = TIME_MODE_EPOCH_MS;
		return TIME_OK;
	}
	if (!strchr(spec, '%'))
		return fail(err, errlen, TIME_ERR_FORMAT,
		            "unknown --time-format \"%.40s\" (use auto, yyyymmdd, epoch, epoch-ms "
		            "or a format such as %%m/%%d/%%Y)", spec);
	for (sp = spec; *sp; sp++) {
		const char *add = NULL;
		char one[3] = { 0, 0, 0 };

		if (*sp != '%') {
			one[0] = *sp;
			add = one;
		} else {
			sp++;
			switch (*sp) {
			case 'F': add = "%Y-%m-%d"; year = 1; break;
			case 'T': add = "%H:%M:%S"; break;
			case 'Y': case 'y': year = 1; /* fall through */
			case 'm': case 'd': case 'e': case 'H': case 'M': case 'S':
			case 'b': case 'h': case 'z': case '%':
				one[0] = '%';
				one[1] = *sp;
				add = one;
				break;
			case 'I': add = "%I"; hour12 = 1; break;
			case 'p': add = "%p"; ampm = 1; break;
			case '\0':
				return fail(err, errlen, TIME_ERR_FORMAT,
				            "--time-format \"%.40s\" ends with a lone %%", spec);
			default:
				return fail(err, errlen, TIME_ERR_FORMAT,
				            "unsupported conversion %%%c in --time-format \"%.40s\" "
				            "(supported: %%Y %%y %%m %%d %%e %%b %%H %%I %%M %%S %%p %%z %%F %%T %%%%)",
				            *sp, spec);
			}
		}
		if (o + strlen(add) >= sizeof p->fmt)
			return fail(err, errlen, TIME_ERR_FORMAT, "--time-format too long");
		memcpy(p->fmt + o, add, strlen(add));
		o += strlen(add);
	}
	p->fmt[o] = '\0';
	if (!year)
		return fail(err, errlen, TIME_ERR_FORMAT,
		            "--time-format \"%.40s\" has no year (%%Y or %%y)", spec);
	if (hour12 && !ampm)
		return fail(err, errlen, TIME_ERR_FORMAT,
		            "--time-format \"%.40s\" uses %%I without %%p", spec);
	p->mode = TIME_MODE_FORMAT;
	return TIME_OK;
}

/* ---- fast path for the common ISO-8601 shapes ---------------------------
 *
 * AUTO mode only: YYYY-MM-DD, or YYYY-MM-DD(T|t| )HH:MM:SS[(.|,)digits]
 * followed by nothing (naive), Z/z, or +HH:MM/-HH:MM. Only inputs that are
 * valid and that the general parser (parse_iso + finish) accepts are
 * answered here, with the same value; every other input (other layouts such
 * as HH:MM without seconds, '/' dates, blanks around the field, +HHMM, UTC,
 * and every error, including a naive time in a DST gap) goes to the general
 * path, which writes the messages. So the fast path never writes p->reason,
 * and changes *out and p->naive_count only on success, as the general path
 * does. tests/unit/test_timeparse_diff.c compares both paths. */

/* Little-endian 8-byte load (the caller guarantees 8 readable bytes). */
static inline uint64_t load_le64(const char *s)
{
	uint64_t v;

	memcpy(&v, s, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

#define LE8(a, b, c, d, e, f, g, h)                                                   \
	((uint64_t)(unsigned char)(a) | (uint64_t)(unsigned char)(b) << 8 |             \
	 (uint64_t)(unsigned char)(c) << 16 | (uint64_t)(unsigned char)(d) << 24 |      \
	 (uint64_t)(unsigned char)(e) << 32 | (uint64_t)(unsigned char)(f) << 40 |      \
	 (uint64_t)(unsigned char)(g) << 48 | (uint64_t)(unsigned char)(h) << 56)
#define HIGH_BITS UINT64_C(0x8080808080808080)

/* After x = word ^ template, a digit position holds 0..9 exactly when the
 * byte was '0'..'9', and a literal position holds 0 exactly when the byte
 * was that literal. Adding 0x76 (digit) or 0x7f (literal) per byte sets a
 * byte's top bit exactly when it is out of range: bytes below 0x80 cannot
 * carry, and a byte with its top bit already set is caught by "| x". So
 * ((x + add) | x) & HIGH_BITS is 0 exactly when the word matches. */

/* x holds digit values 0..9 per byte (0 at literal positions): byte b of
 * the result is 10 * x[b] + x[b+1], the two-digit number starting at b. */
static inline uint64_t swar_pairs(uint64_t x)
{
	return x * 10 + (x >> 8);
}

static inline int fast_isd(char c)
{
	return (unsigned char)(c - '0') < 10;
}

/* YYYY-MM-DD (n == 10) or YYYY-MM-DD(T|t| )HH:MM:SS at the start of s[0..n)
 * (n >= 19): returns 1 with the local wall-clock seconds in *local when
 * that is a valid date and time, else 0. */
static inline int fast_datetime(const char *s, size_t n, int64_t *local)
{
	/* three overlapping words: "YYYY-MM-" (for the century), "YY-MM-DD"
	 * and "HH:MM:SS"; after swar_pairs the 2-digit fields of the last two
	 * sit in bytes 0, 3 and 6 */
	const uint64_t a_tpl = LE8('0', '0', '0', '0', '-', '0', '0', '-');
	const uint64_t a_add = LE8(0x76, 0x76, 0x76, 0x76, 0x7f, 0x76, 0x76, 0x7f);
	const uint64_t b_tpl = LE8('0', '0', '-', '0', '0', '-', '0', '0');
	const uint64_t h_tpl = LE8('0', '0', ':', '0', '0', ':', '0', '0');
	const uint64_t bh_add = LE8(0x76, 0x76, 0x7f, 0x76, 0x76, 0x7f, 0x76, 0x76);
	/* per byte: sets bit 7 of byte 0 when HH > 23, of bytes 3 and 6 when > 59 */
	const uint64_t h_lim = LE8(0x80 - 24, 0, 0, 0x80 - 60, 0, 0, 0x80 - 60, 0);
	const uint64_t h_top = LE8(0x80, 0, 0, 0x80, 0, 0, 0x80, 0);
	static const unsigned char dim[13] = { 0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	/* days before the month counted from March 1 (Hinnant's doy); January
	 * and February belong to the March-based year before: -365 */
	static const short mdays[13] = { 0, 306 - 365, 337 - 365, 0, 31, 61, 92, 122, 153, 184,
	                                 214, 245, 275 };
	uint64_t a, b, h;
	unsigned cc, yy, mo, d;
	int64_t t;

	a = load_le64(s) ^ a_tpl;
	b = load_le64(s + 2) ^ b_tpl;
	if (((a + a_add) | a | (b + bh_add) | b) & HIGH_BITS)
		return 0;
	/* a: century digits in bytes 0, 1; b: YY, MM, DD in bytes 0, 3, 6 */
	b = swar_pairs(b);
	cc = (unsigned)(a & 0xff) * 10 + (unsigned)((a >> 8) & 0xff);
	yy = (unsigned)(b & 0xff);
	mo = (unsigned)((b >> 24) & 0xff);
	d = (unsigned)((b >> 48) & 0xff);
	if ((cc | yy) == 0 || mo - 1 > 11)   /* year 0000, month 00 or > 12 */
		return 0;
	/* days from 1970-01-01, equal to time_days_from_civil: for the year
	 * 100*cc + yy, Hinnant's 365*y + y/4 - y/100 + y/400 is
	 * 146097*cc/4 + 1461*yy/4 (floors); his March-based year puts January
	 * and February after the March of the year before, which is 365 days
	 * earlier, one more in a leap year. */
	t = (int64_t)((146097 * cc >> 2) + (1461 * yy >> 2)) + mdays[mo] + d - 1 - 719468;
	if (mo <= 2 || d > 28) {
		/* leap year from the digits, as time_is_leap: yy % 4 == 0, and
		 * for yy == 00 the century: cc % 4 == 0 */
		unsigned leap = ((yy ? yy : cc) & 3) == 0;

		if (d - 1 >= (mo == 2 ? 28 + leap : dim[mo]))   /* also d == 0 */
			return 0;
		if (mo <= 2)
			t -= leap;
	} else if (d == 0) {
		return 0;
	}
	t *= 86400;
	if (n > 10) {
		char c = s[10];

		if (c != 'T' && c != 't' && c != ' ')
			return 0;
		h = load_le64(s + 11) ^ h_tpl;
		if (((h + bh_add) | h) & HIGH_BITS)
			return 0;
		h = swar_pairs(h);
		if ((h + h_lim) & h_top)
			return 0;
		t += (int64_t)((h & 0xff) * 3600 + ((h >> 24) & 0xff) * 60 + ((h >> 48) & 0xff));
	}
	*local = t;
	return 1;
}

/* A naive local time in p->tz (out of line, like fast_tail, so that
 * time_parse makes no call of its own and needs no stack frame). */
static __attribute__((noinline)) int fast_naive(time_parser *p, const char *s, size_t n,
                                                int64_t *out, int64_t local)
{
	int64_t u;

	if (tz_local_to_utc(p->tz, local, &u) == TZ_GAP && n > 10)
		return time_parse_general(p, s, n, out);   /* which reports the gap */
	p->naive_count++;
	*out = u;
	return TIME_OK;
}

/* What may follow the date and time at s[i..n) (i < n; i is 19, as after a
 * bare date i == n): a fraction of a second (truncated), then nothing, Z/z
 * or +HH:MM/-HH:MM. */
static __attribute__((noinline)) int fast_tail(time_parser *p, const char *s, size_t n,
                                               int64_t *out, int64_t local, size_t i)
{
	const char *o;

	if (i == 19 && (s[i] == '.' || s[i] == ',') && i + 1 < n && fast_isd(s[i + 1])) {
		for (i += 2; i < n && fast_isd(s[i]); i++)
			;
		if (i == n)
			return fast_naive(p, s, n, out, local);
	}
	o = s + i;
	if (n - i == 1 && (o[0] | 0x20) == 'z') {
		*out = local;
		return TIME_OK;
	}
	if (n - i == 6 && (o[0] == '+' || o[0] == '-') && fast_isd(o[1]) && fast_isd(o[2]) &&
	    o[3] == ':' && fast_isd(o[4]) && fast_isd(o[5])) {
		int oh = (o[1] - '0') * 10 + (o[2] - '0'), om = (o[4] - '0') * 10 + (o[5] - '0');
		int64_t off = oh * 3600 + om * 60;

		if (oh <= 23 && om <= 59) {
			*out = o[0] == '-' ? local + off : local - off;
			return TIME_OK;
		}
	}
	return time_parse_general(p, s, n, out);
}

int time_parse(time_parser *p, const char *s, size_t n, int64_t *out)
{
	int64_t local;
	size_t i;

	if (p->mode != TIME_MODE_AUTO || (n != 10 && n < 19) || !fast_datetime(s, n, &local))
		return time_parse_general(p, s, n, out);
	i = n == 10 ? 10 : 19;
	if (i + 1 == n && (s[i] | 0x20) == 'z') {
		*out = local;
		return TIME_OK;
	}
	if (i == n)
		return fast_naive(p, s, n, out, local);
	return fast_tail(p, s, n, out, local, i);
}

int time_parse_general(time_parser *p, const char *s, size_t n, int64_t *out)
{
	while (n > 0 && (s[0] == ' ' || s[0] == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0)
		return fail(p->reason, sizeof p->reason, TIME_ERR_EMPTY, "empty timestamp");
	switch (p->mode) {
	case TIME_MODE_AUTO:
		if (n >= 10 && (s[4] == '-' || s[4] == '/') && isd(s[0]))
			return parse_iso(p, s, n, out);
		if (p->allow_compact && n == 8 && all_digits(s, n))
			return parse_compact(p, s, n, out);
		return diagnose(p, s, n);
	case TIME_MODE_COMPACT:
		return parse_compact(p, s, n, out);
	case TIME_MODE_EPOCH:
		return parse_epoch(p, s, n, 0, out);
	case TIME_MODE_EPOCH_MS:
		return parse_epoch(p, s, n, 1, out);
	default:
		return parse_format(p, s, n, out);
	}
}

int time_parse_date(const char *s, int64_t *days, char *err, size_t errlen)
{
	struct fields f = { 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	size_t n = strlen(s);
	char q[48];
	int rc;

	if (n != 10 || !isd(s[0]) || !isd(s[1]) || !isd(s[2]) || !isd(s[3]) || s[4] != '-' ||
	    !isd(s[5]) || !isd(s[6]) || s[7] != '-' || !isd(s[8]) || !isd(s[9]))
		return fail(err, errlen, TIME_ERR_SYNTAX, "invalid date \"%s\" (expected YYYY-MM-DD)",
		            shown(s, n, q));
	f.y = d2(s) * 100 + d2(s + 2);
	f.mo = d2(s + 5);
	f.d = d2(s + 8);
	rc = validate(&f, s, n, err, errlen);
	if (rc == TIME_OK)
		*days = time_days_from_civil(f.y, f.mo, f.d);
	return rc;
}

/* ---- durations --------------------------------------------------------- */

int duration_parse(const char *s, duration *d, char *err, size_t errlen)
{
	static const struct { const char *name; int unit; } units[] = {
		{ "h", DUR_HOURS }, { "d", DUR_DAYS }, { "w", DUR_WEEKS },
		{ "mo", DUR_MONTHS }, { "y", DUR_YEARS }
	};
	char q[48];
	const char *u = s;
	int64_t v = 0;
	size_t i;

	while (isd(*u)) {
		if (v > 1000000)
			break;
		v = v * 10 + (*u++ - '0');
	}
	if (u == s)
		return fail(err, errlen, -1, "invalid duration \"%s\" (expected a number and a unit: "
		            "90d, 12h, 52w, 6mo, 1y)", shown(s, strlen(s), q));
	if (v > 1000000 || isd(*u))
		return fail(err, errlen, -1, "duration \"%s\" too large (at most 1000000 units)",
		            shown(s, strlen(s), q));
	if (*u == '\0')
		return fail(err, errlen, -1, "duration \"%s\" has no unit (use h, d, w, mo or y, e.g. 90d)",
		            shown(s, strlen(s), q));
	if (strcmp(u, "m") == 0)
		return fail(err, errlen, -1, "duration unit \"m\" in \"%s\" is ambiguous: use mo for months",
		            shown(s, strlen(s), q));
	for (i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(u, units[i].name) == 0) {
			d->count = v;
			d->unit = units[i].unit;
			return 0;
		}
	return fail(err, errlen, -1, "unknown duration unit in \"%s\" (use h, d, w, mo or y)",
	            shown(s, strlen(s), q));
}

int duration_fixed_seconds(const duration *d, int64_t *secs)
{
	switch (d->unit) {
	case DUR_HOURS: *secs = d->count * 3600; return 0;
	case DUR_DAYS: *secs = d->count * 86400; return 0;
	case DUR_WEEKS: *secs = d->count * 7 * 86400; return 0;
	default: return -1;
	}
}

size_t duration_format(const duration *d, char buf[32])
{
	static const char *names[] = { "h", "d", "w", "mo", "y" };
	int u = d->unit >= 0 && d->unit <= DUR_YEARS ? d->unit : 1;

	return (size_t)snprintf(buf, 32, "%lld%s", (long long)d->count, names[u]);
}

int duration_add(int64_t t, const duration *d, int64_t times, tz_zone *z, int64_t *out)
{
	/* every result must stay in years 1..9999: ~3.65M days, ~120k months */
	const int64_t max_days = INT64_C(4000000);
	int64_t steps, local, day, sod, nday, r;

	if (t < TIME_MIN - 2 * 86400 || t > TIME_MAX + 2 * 86400 || d->count < 0)
		return -1;
	if (__builtin_mul_overflow(d->count, times, &steps) || steps > max_days * 24 ||
	    steps < -max_days * 24)
		return -1;
	if (d->unit == DUR_HOURS) {
		r = t + steps * 3600;
	} else {
		local = t + tz_offset_utc(z, t);
		day = time_floor_div(local, 86400);
		sod = local - day * 86400;
		switch (d->unit) {
		case DUR_DAYS:
			if (steps > max_days || steps < -max_days)
				return -1;
			nday = day + steps;
			break;
		case DUR_WEEKS:
			if (steps > max_days / 7 || steps < -max_days / 7)
				return -1;
			nday = day + steps * 7;
			break;
		case DUR_MONTHS:
			if (steps > 200000 || steps < -200000)
				return -1;
			nday = time_add_months_days(day, steps);
			break;
		case DUR_YEARS:
			if (steps > 20000 || steps < -20000)
				return -1;
			nday = time_add_months_days(day, steps * 12);
			break;
		default:
			return -1;
		}
		/* a gap result is shifted forward; an ambiguous one is the earlier */
		tz_local_to_utc(z, nday * 86400 + sod, &r);
	}
	if (r < TIME_MIN || r > TIME_MAX)
		return -1;
	*out = r;
	return 0;
}
