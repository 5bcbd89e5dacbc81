/* Time zones without the C library's TZ machinery: TZif files read from
 * /usr/share/zoneinfo (or $TZDIR), version 1 and the 64-bit data of
 * version 2+, plus the POSIX TZ rule in the footer for instants after the
 * last transition; fixed offsets such as "+05:30"; and a built-in "UTC"
 * that needs no zoneinfo at all.
 *
 * A NULL tz_zone pointer means UTC everywhere in this API.
 *
 * A zone caches the last looked-up transition interval (UTC and local), so
 * per-row calls on data that is roughly in time order cost a few compares.
 * The cache makes a zone unsafe to share between threads: give each thread
 * its own tz_load(). Leap-second data ("right/" zones) is ignored. */
#ifndef RETAIN_TZ_H
#define RETAIN_TZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct tz_zone tz_zone;

/* Results of tz_local_to_utc. */
enum tz_result {
	TZ_OK = 0,   /* local time exists (if it exists twice, the earlier instant) */
	TZ_GAP = 1   /* local time does not exist (spring-forward gap) */
};

/* Largest |UTC offset| accepted anywhere, in seconds. */
#define TZ_MAX_OFFSET (26 * 3600)

/* Loads a zone by name: "UTC" (also "Z", "GMT", "Etc/UTC", "Etc/GMT"; built
 * in), a fixed offset "+05:30", "-0800", "+05", or an IANA name such as
 * "Europe/Berlin" read from $TZDIR or /usr/share/zoneinfo. Names that are
 * absolute, contain "..", or characters outside [A-Za-z0-9/_+-] are refused.
 * On failure returns NULL with a message in err ("unknown time zone ...").
 * Free with tz_free. */
tz_zone *tz_load(const char *name, char *err, size_t errlen);

/* Parses TZif data held in memory (used by tz_load; also the fuzz entry).
 * name is only used in messages. */
tz_zone *tz_from_tzif(const char *name, const unsigned char *data, size_t len,
                      char *err, size_t errlen);

/* A zone with a constant offset (seconds east of UTC, |off| <= TZ_MAX_OFFSET). */
tz_zone *tz_fixed(int offset_seconds);

void tz_free(tz_zone *z);

/* Name as given to tz_load ("UTC" for NULL). */
const char *tz_name(const tz_zone *z);

/* 1 when the zone is UTC or a fixed offset (no DST ever). */
int tz_is_fixed(const tz_zone *z);

/* Offset in seconds east of UTC in force at the UTC instant utc. */
int tz_offset_utc(tz_zone *z, int64_t utc);

/* Converts a local wall-clock time (seconds since 1970-01-01T00:00 local) to
 * UTC. Returns TZ_OK and sets *utc; for an ambiguous local time (the hour
 * repeated when clocks go back) the EARLIER instant is chosen, i.e. the one
 * still on the offset before the transition (daylight time in the autumn).
 * For a local time inside a gap returns TZ_GAP and still sets *utc to the
 * time shifted forward by the gap length (local - offset before the gap), so
 * callers that want "first instant of the day" can use it. */
int tz_local_to_utc(tz_zone *z, int64_t local, int64_t *utc);

/* Parses a POSIX TZ rule string such as "CET-1CEST,M3.5.0,M10.5.0/3" into a
 * zone (no transition table). Returns NULL with a message on error. */
tz_zone *tz_from_posix(const char *rule, char *err, size_t errlen);

#endif
