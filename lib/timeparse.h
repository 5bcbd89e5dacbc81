/* Time: the proleptic Gregorian calendar, timestamp parsing, durations and
 * calendar buckets, written without timegm/mktime/localtime/strptime (they
 * depend on TZ and the locale, and normalise 2023-02-30 into March).
 *
 * A time is int64_t seconds since 1970-01-01T00:00:00Z. A "day number" is
 * days since 1970-01-01 (negative before). Valid parsed years are 1..9999.
 * Weekdays are numbered 0 = Monday .. 6 = Sunday everywhere in this file. */
#ifndef RETAIN_TIMEPARSE_H
#define RETAIN_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "tz.h"

#define TIME_YEAR_MIN 1
#define TIME_YEAR_MAX 9999
#define TIME_MIN INT64_C(-62135596800)   /* 0001-01-01T00:00:00Z */
#define TIME_MAX INT64_C(253402300799)   /* 9999-12-31T23:59:59Z */

/* ---- civil calendar ---------------------------------------------------- */

int time_is_leap(int64_t year);
int time_days_in_month(int64_t year, int month);           /* 0 if month invalid */
/* 1 when year/month/day is a real date with year in 1..9999. */
int time_valid_date(int64_t year, int month, int day);
/* Day number of a civil date (any year, no validation: callers validate). */
int64_t time_days_from_civil(int64_t year, int month, int day);
void time_civil_from_days(int64_t days, int64_t *year, int *month, int *day);
int time_weekday(int64_t days);                              /* 0=Mon..6=Sun */
/* Adds calendar months to a day number; the day of month is clamped to the
 * end of the target month (Jan 31 + 1 month = Feb 28, or Feb 29 in a leap
 * year; Jan 31 + 2 months = Mar 31). */
int64_t time_add_months_days(int64_t days, int64_t months);
/* ISO-8601 week: week 1 holds the year's first Thursday. */
void time_iso_week(int64_t days, int *iso_year, int *week);
/* Floor division helper used by the bucket functions. */
static inline int64_t time_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}
/* Year of a UTC time. */
int64_t time_year_of(int64_t t);
/* 1 when t is after the end of year max_year (UTC): ingest may warn about
 * implausible future dates while still accepting them. */
int time_after_year(int64_t t, int max_year);

/* ---- formatting (buffers are NUL-terminated; return value = length) ---- */

/* "2023-01-02T03:04:05Z" */
size_t time_format_iso(int64_t t, char buf[32]);
/* "2023-01-02" (UTC date of t) */
size_t time_format_date(int64_t t, char buf[32]);
/* "2023-01-02" of a day number */
size_t time_format_day(int64_t days, char buf[32]);
/* Local time with its offset: "2023-01-02T04:04:05+01:00" ("Z" for offset 0) */
size_t time_format_local(int64_t t, tz_zone *z, char buf[40]);

/* ---- calendar buckets in a zone (NULL = UTC) --------------------------- */

/* Local day number of the instant. */
int64_t time_local_day(int64_t t, tz_zone *z);
/* year*12 + month-1 of the local date. */
int64_t time_month_index(int64_t t, tz_zone *z);
/* year*4 + quarter-1 of the local date. */
int64_t time_quarter_index(int64_t t, tz_zone *z);
/* Week index of the local date; weeks start on week_start (0=Mon..6=Sun).
 * Index 0 is the week holding 1970-01-01. */
int64_t time_week_index(int64_t t, tz_zone *z, int week_start);
int64_t time_week_index_day(int64_t days, int week_start);
/* First local day number of a bucket index. */
int64_t time_week_first_day(int64_t week_index, int week_start);
int64_t time_month_first_day(int64_t month_index);
int64_t time_quarter_first_day(int64_t quarter_index);
/* UTC instant where a local day begins (midnight, or the first instant after
 * a midnight DST gap). */
int64_t time_day_start(int64_t days, tz_zone *z);
/* "mon".."sun" or "monday".."sunday" (any case) -> 0..6, else -1. */
int time_parse_weekday(const char *s);

/* ---- timestamp parsing ------------------------------------------------- */

enum time_err {
	TIME_OK = 0,
	TIME_ERR_EMPTY,      /* empty field */
	TIME_ERR_SYNTAX,     /* not a timestamp of the expected shape */
	TIME_ERR_RANGE,      /* month 13, hour 25, minute 61, offset +25:00 */
	TIME_ERR_DATE,       /* day does not exist: 2023-02-30 */
	TIME_ERR_YEAR,       /* year outside 1..9999 */
	TIME_ERR_AMBIGUOUS,  /* 03/04/2023 without a declared format */
	TIME_ERR_NUMBER,     /* bare number (epoch, Excel serial) without a declared format */
	TIME_ERR_GAP,        /* nonexistent local time (DST gap) */
	TIME_ERR_FORMAT      /* bad --time-format specification (init only) */
};

enum time_mode {
	TIME_MODE_AUTO = 0,  /* ISO-8601 (+ YYYYMMDD when allow_compact) */
	TIME_MODE_COMPACT,   /* exactly YYYYMMDD */
	TIME_MODE_EPOCH,     /* seconds since the epoch, optional fraction (floored) */
	TIME_MODE_EPOCH_MS,  /* milliseconds since the epoch (floored to seconds) */
	TIME_MODE_FORMAT     /* strptime-like format */
};

#define TIME_FMT_MAX 96

/* Per-column parser state. No allocation; reason[] holds the last error. */
typedef struct time_parser {
	int mode;
	int allow_compact;       /* AUTO: also accept 8-digit YYYYMMDD */
	tz_zone *tz;             /* zone of naive times; NULL = UTC; not owned */
	uint64_t naive_count;    /* timestamps read without offset/Z (ingest may warn) */
	char fmt[TIME_FMT_MAX];  /* FORMAT mode, %F/%T expanded */
	char reason[256];        /* last error, human readable */
} time_parser;

/* spec: NULL, "" or "auto" (ISO-8601), "iso" (same), "yyyymmdd" (8 digits),
 * "epoch", "epoch-ms", or a format with conversions:
 *   %Y 4-digit year   %y 2-digit year (69-99 -> 19xx, 00-68 -> 20xx)
 *   %m month 1-12 (1-2 digits)   %b/%h English month name or abbreviation
 *   %d/%e day (1-2 digits)       %H hour 0-23   %I hour 1-12   %M minute
 *   %S second (a following .fff/,fff fraction is accepted and truncated)
 *   %p AM/PM   %z Z, +HH, +HHMM or +HH:MM   %F = %Y-%m-%d   %T = %H:%M:%S
 *   %% literal %;  a space matches any run of spaces/tabs (or none);
 *   other characters match themselves (letters case-insensitively).
 * The format must contain a year. Missing fields default to month 1, day 1,
 * 00:00:00. Returns TIME_OK, or TIME_ERR_FORMAT with a message in err. */
int time_parser_init(time_parser *p, const char *spec, tz_zone *tz, char *err, size_t errlen);

/* Parses s[0..n) (not necessarily NUL-terminated; surrounding spaces and
 * tabs are ignored) into UTC seconds. Returns TIME_OK or an error code with
 * p->reason set. Fractional seconds are truncated. Naive times are local
 * time in p->tz; a naive time in a DST gap is TIME_ERR_GAP, an ambiguous one
 * takes the earlier instant, a date without a time takes the first instant
 * of that local day. No allocation. */
int time_parse(time_parser *p, const char *s, size_t n, int64_t *out);
/* The same parser without time_parse's fast path for the common ISO-8601
 * shapes: identical results, return codes, messages and side effects for
 * every input (kept callable for the differential test). */
int time_parse_general(time_parser *p, const char *s, size_t n, int64_t *out);

/* Strict YYYY-MM-DD (for --asof and friends) into a day number. Returns
 * TIME_OK or an error with a message in err (may be NULL). */
int time_parse_date(const char *s, int64_t *days, char *err, size_t errlen);

/* ---- durations --------------------------------------------------------- */

enum duration_unit { DUR_HOURS, DUR_DAYS, DUR_WEEKS, DUR_MONTHS, DUR_YEARS };

typedef struct duration {
	int64_t count;   /* 0 .. 1000000 */
	int unit;        /* enum duration_unit */
} duration;

/* "90d", "12h", "52w", "6mo", "1y": a count 0..1000000 and a unit h, d, w,
 * mo or y. "m" is refused as ambiguous (minutes or months?).
 * Returns 0, or -1 with a message in err. */
int duration_parse(const char *s, duration *d, char *err, size_t errlen);
/* Length in seconds of an h/d/w duration; -1 for months/years (calendar). */
int duration_fixed_seconds(const duration *d, int64_t *secs);
/* t + times*d. Hours are exact elapsed seconds; days, weeks, months and years
 * are calendar steps in zone z (NULL = UTC): the local wall-clock time is
 * kept, months/years clamp the day of month to the target month's end
 * (2023-01-31 + 1mo = 2023-02-28; 2024-02-29 + 1y = 2025-02-28), computed
 * from t in one step (so start + 2*1mo of Jan 31 is Mar 31). A result that
 * falls into a DST gap is shifted forward; an ambiguous one takes the earlier
 * instant. Returns 0, or -1 when the result leaves years 1..9999. */
int duration_add(int64_t t, const duration *d, int64_t times, tz_zone *z, int64_t *out);
/* "90d", "6mo" */
size_t duration_format(const duration *d, char buf[32]);

#endif
