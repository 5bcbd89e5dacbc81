/* Time zones from TZif data (RFC 8536) and POSIX TZ rules; see tz.h. */
#include "tz.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeparse.h"
#include "util.h"

#define TZ_NAME_MAX 64
#define TZ_FILE_MAX (4u << 20)       /* a zoneinfo file is a few KiB */
#define TZ_MAX_TRANS 100000u         /* real files have at most a few hundred */
/* Rule arithmetic is done on instants clamped to this range (years ~ +-8.9M),
 * far beyond anything the parsers produce, so nothing overflows. */
#define TZ_CLAMP (INT64_C(1) << 48)

enum { RULE_J = 1, RULE_N, RULE_M };

struct tz_rule {
	int kind;
	int mon, week, wday;   /* RULE_M */
	int n;                 /* RULE_J (1..365) or RULE_N (0..365) */
	int32_t secs;          /* local time of day of the transition, may be <0 or >24h */
};

struct tz_zone {
	char name[TZ_NAME_MAX];
	int32_t off_before;        /* before the first transition */
	size_t n;                  /* transitions */
	int64_t *trans;            /* UTC instants, strictly increasing */
	int32_t *offs;             /* offset in force from trans[i] on */
	/* after the last transition (or always, if n == 0) */
	int has_dst;
	int32_t std_off, dst_off;
	struct tz_rule start, end; /* DST starts / ends */
	uint64_t id;               /* tells zones apart in the caches */
};

/* Each thread keeps the last intervals it looked up: offset u_off holds for
 * UTC in [u_lo, u_hi); local times in [l_lo, l_hi) map uniquely with offset
 * l_off. Zones are shared by threads, so a cache inside the zone would be a
 * data race (a torn interval gives a wrong offset); the id, not the
 * address, names the zone, as a freed zone's address may come back. */
struct tz_cache {
	uint64_t id;
	int64_t u_lo, u_hi, l_lo, l_hi;
	int32_t u_off, l_off;
};
static _Thread_local struct tz_cache tz_cached;
static _Atomic uint64_t tz_ids;

static struct tz_cache *cache_of(const tz_zone *z)
{
	struct tz_cache *c = &tz_cached;
	if (c->id != z->id) {
		memset(c, 0, sizeof *c);   /* empty intervals */
		c->id = z->id;
	}
	return c;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int64_t sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

static tz_zone *zone_new(const char *name)
{
	tz_zone *z = xcalloc(1, sizeof *z);

	snprintf(z->name, sizeof z->name, "%s", name ? name : "UTC");
	z->id = ++tz_ids;
	return z;
}

tz_zone *tz_fixed(int off)
{
	tz_zone *z;
	char name[16];
	int a = off < 0 ? -off : off;

	if (off < -TZ_MAX_OFFSET || off > TZ_MAX_OFFSET)
		return NULL;
	if (off == 0)
		snprintf(name, sizeof name, "UTC");
	else if (a % 60)
		snprintf(name, sizeof name, "%c%02d:%02d:%02d", off < 0 ? '-' : '+',
		         a / 3600, a / 60 % 60, a % 60);
	else
		snprintf(name, sizeof name, "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
	z = zone_new(name);
	z->off_before = z->std_off = z->dst_off = off;
	return z;
}

void tz_free(tz_zone *z)
{
	if (!z)
		return;
	free(z->trans);
	free(z->offs);
	free(z);
}

const char *tz_name(const tz_zone *z)
{
	return z ? z->name : "UTC";
}

int tz_is_fixed(const tz_zone *z)
{
	return !z || (z->n == 0 && !z->has_dst);
}

/* ---- POSIX TZ rule strings --------------------------------------------- */

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Zone abbreviation: <...> or 3+ letters. */
static const char *posix_name(const char *p)
{
	const char *s = p;

	if (*p == '<') {
		p++;
		while (*p && *p != '>')
			p++;
		if (*p != '>' || p - s < 2)
			return NULL;
		return p + 1;
	}
	while (is_alpha((unsigned char)*p))
		p++;
	return p - s >= 3 ? p : NULL;
}

static const char *posix_num(const char *p, int lo, int hi, int *v)
{
	int n = 0, k = 0;

	while (is_digit((unsigned char)*p) && k < 4) {
		n = n * 10 + (*p - '0');
		p++, k++;
	}
	if (k == 0 || n < lo || n > hi)
		return NULL;
	*v = n;
	return p;
}

/* [+-]hh[:mm[:ss]] with hh <= maxh; result in seconds. */
static const char *posix_time(const char *p, int maxh, int32_t *secs)
{
	int neg = 0, h, m = 0, s = 0;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!(p = posix_num(p, 0, maxh, &h)))
		return NULL;
	if (*p == ':') {
		if (!(p = posix_num(p + 1, 0, 59, &m)))
			return NULL;
		if (*p == ':' && !(p = posix_num(p + 1, 0, 59, &s)))
			return NULL;
	}
	*secs = (int32_t)(h * 3600 + m * 60 + s);
	if (neg)
		*secs = -*secs;
	return p;
}

static const char *posix_rule(const char *p, struct tz_rule *r)
{
	memset(r, 0, sizeof *r);
	if (*p == 'J') {
		r->kind = RULE_J;
		p = posix_num(p + 1, 1, 365, &r->n);
	} else if (*p == 'M') {
		r->kind = RULE_M;
		if (!(p = posix_num(p + 1, 1, 12, &r->mon)) || *p != '.')
			return NULL;
		if (!(p = posix_num(p + 1, 1, 5, &r->week)) || *p != '.')
			return NULL;
		p = posix_num(p + 1, 0, 6, &r->wday);
	} else {
		r->kind = RULE_N;
		p = posix_num(p, 0, 365, &r->n);
	}
	if (!p)
		return NULL;
	r->secs = 7200;
	if (*p == '/')
		p = posix_time(p + 1, 167, &r->secs);
	return p;
}

/* Fills the rule part of z from a POSIX TZ string; 0 or -1. */
static int posix_parse(tz_zone *z, const char *s)
{
	const char *p = posix_name(s);
	int32_t off, dst;

	if (!p || !(p = posix_time(p, 24, &off)))
		return -1;
	z->std_off = z->dst_off = -off;
	z->has_dst = 0;
	if (*p == '\0')
		return 0;
	if (!(p = posix_name(p)))
		return -1;
	dst = off - 3600;
	if (*p && *p != ',' && !(p = posix_time(p, 24, &dst)))
		return -1;
	z->dst_off = -dst;
	z->has_dst = 1;
	if (*p == '\0') {
		/* no rule given: the US rules, as tzcode does */
		z->start = (struct tz_rule){ RULE_M, 3, 2, 0, 0, 7200 };
		z->end = (struct tz_rule){ RULE_M, 11, 1, 0, 0, 7200 };
		return 0;
	}
	if (*p != ',' || !(p = posix_rule(p + 1, &z->start)))
		return -1;
	if (*p != ',' || !(p = posix_rule(p + 1, &z->end)))
		return -1;
	return *p == '\0' ? 0 : -1;
}

tz_zone *tz_from_posix(const char *rule, char *err, size_t errlen)
{
	tz_zone *z = zone_new(rule);

	if (posix_parse(z, rule) != 0) {
		seterr(err, errlen, "invalid POSIX TZ rule \"%.40s\"", rule);
		tz_free(z);
		return NULL;
	}
	z->off_before = z->std_off;
	return z;
}

/* Local day number (local standard time) on which a rule fires in year y. */
static int64_t rule_day(const struct tz_rule *r, int64_t y)
{
	int64_t d;

	switch (r->kind) {
	case RULE_J:
		d = time_days_from_civil(y, 1, 1) + r->n - 1;
		if (time_is_leap(y) && r->n >= 60)
			d++;
		return d;
	case RULE_N:
		return time_days_from_civil(y, 1, 1) + r->n;
	default: {
		int64_t first = time_days_from_civil(y, r->mon, 1);
		int wd = (time_weekday(first) + 1) % 7;  /* 0 = Sunday, as POSIX */
		int dom = 1 + (r->wday - wd + 7) % 7 + 7 * (r->week - 1);
		int dim = time_days_in_month(y, r->mon);

		while (dom > dim)
			dom -= 7;
		return first + dom - 1;
	}
	}
}

/* Offset from the rule at UTC u, with the interval [lo, hi) where it holds. */
static int32_t rule_lookup(const tz_zone *z, int64_t u, int64_t *lo, int64_t *hi)
{
	int64_t ev[6], y;
	int32_t eo[6];
	int n = 0, i, j, last = -1;

	if (!z->has_dst) {
		*lo = INT64_MIN;
		*hi = INT64_MAX;
		return z->std_off;
	}
	if (u > TZ_CLAMP)
		u = TZ_CLAMP;
	if (u < -TZ_CLAMP)
		u = -TZ_CLAMP;
	y = time_year_of(u + z->std_off);
	for (i = -1; i <= 1; i++) {
		/* start is given in standard time, end in daylight time */
		ev[n] = rule_day(&z->start, y + i) * 86400 + z->start.secs - z->std_off;
		eo[n++] = z->dst_off;
		ev[n] = rule_day(&z->end, y + i) * 86400 + z->end.secs - z->dst_off;
		eo[n++] = z->std_off;
	}
	for (i = 1; i < n; i++) {        /* insertion sort, 6 items */
		int64_t t = ev[i];
		int32_t o = eo[i];

		for (j = i; j > 0 && ev[j - 1] > t; j--) {
			ev[j] = ev[j - 1];
			eo[j] = eo[j - 1];
		}
		ev[j] = t;
		eo[j] = o;
	}
	for (i = 0; i < n; i++)
		if (ev[i] <= u)
			last = i;
	if (last < 0) {  /* cannot happen for sane rules; be safe */
		*lo = INT64_MIN;
		*hi = ev[0];
		return z->std_off;
	}
	*lo = ev[last];
	*hi = last + 1 < n ? ev[last + 1] : INT64_MAX;
	return eo[last];
}

/* ---- lookups ----------------------------------------------------------- */

static int32_t lookup(tz_zone *z, int64_t u, int64_t *plo, int64_t *phi)
{
	int64_t lo, hi;
	int32_t off;
	struct tz_cache *c = cache_of(z);

	if (u >= c->u_lo && u < c->u_hi) {
		*plo = c->u_lo;
		*phi = c->u_hi;
		return c->u_off;
	}
	if (z->n == 0) {
		off = rule_lookup(z, u, &lo, &hi);
	} else if (u < z->trans[0]) {
		lo = INT64_MIN;
		hi = z->trans[0];
		off = z->off_before;
	} else if (u >= z->trans[z->n - 1]) {
		off = rule_lookup(z, u, &lo, &hi);
		if (lo < z->trans[z->n - 1])
			lo = z->trans[z->n - 1];
		if (!z->has_dst)
			off = z->std_off;
	} else {
		size_t a = 0, b = z->n - 1;   /* trans[a] <= u < trans[b] */

		while (b - a > 1) {
			size_t m = a + (b - a) / 2;

			if (z->trans[m] <= u)
				a = m;
			else
				b = m;
		}
		lo = z->trans[a];
		hi = z->trans[b];
		off = z->offs[a];
	}
	c->u_lo = lo;
	c->u_hi = hi;
	c->u_off = off;
	*plo = lo;
	*phi = hi;
	return off;
}

int tz_offset_utc(tz_zone *z, int64_t utc)
{
	int64_t lo, hi;

	if (!z)
		return 0;
	return lookup(z, utc, &lo, &hi);
}

int tz_local_to_utc(tz_zone *z, int64_t local, int64_t *utc)
{
	int64_t lo, hi, lo2, hi2, best = 0;
	int32_t cand[3], o;
	int i, found = 0;
	const int64_t M = TZ_MAX_OFFSET;

	if (!z) {
		*utc = local;
		return TZ_OK;
	}
	struct tz_cache *c = cache_of(z);
	if (local >= c->l_lo && local < c->l_hi) {
		*utc = local - c->l_off;
		return TZ_OK;
	}
	if (tz_is_fixed(z)) {
		*utc = local - z->std_off;
		return TZ_OK;
	}
	/* Any answer u has |u - local| <= M. If one offset holds over the whole
	 * window [local - M, local + M], the answer is unique. */
	o = lookup(z, local, &lo, &hi);
	if (lo <= sat_add(local, -M) && sat_add(local, M) < hi) {
		c->l_lo = sat_add(lo, M);
		c->l_hi = sat_add(hi, -M);
		c->l_off = o;
		*utc = local - o;
		return TZ_OK;
	}
	/* Near a transition: try the offsets in force around the window. */
	cand[0] = lookup(z, sat_add(local, -M), &lo2, &hi2);
	cand[1] = o;
	cand[2] = lookup(z, sat_add(local, M), &lo2, &hi2);
	for (i = 0; i < 3; i++) {
		int64_t u = sat_add(local, -cand[i]);

		if (lookup(z, u, &lo2, &hi2) == cand[i] && (!found || u < best)) {
			best = u;
			found = 1;
		}
	}
	if (found) {
		*utc = best;
		return TZ_OK;
	}
	*utc = sat_add(local, -cand[0]);
	return TZ_GAP;
}

/* ---- TZif -------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_hdr {
	uint32_t isut, isstd, leap, time, type, chars;
};

static int tzif_header(const unsigned char *d, size_t len, struct tzif_hdr *h)
{
	if (len < 44 || memcmp(d, "TZif", 4) != 0)
		return -1;
	h->isut = be32(d + 20);
	h->isstd = be32(d + 24);
	h->leap = be32(d + 28);
	h->time = be32(d + 32);
	h->type = be32(d + 36);
	h->chars = be32(d + 40);
	if (h->type == 0 || h->type > 256 || h->time > TZ_MAX_TRANS || h->leap > TZ_MAX_TRANS ||
	    h->chars > 65536 || h->isut > h->type || h->isstd > h->type)
		return -1;
	return 0;
}

/* Size of a data block whose times are tsize bytes wide. */
static size_t tzif_block(const struct tzif_hdr *h, size_t tsize)
{
	return (size_t)h->time * tsize + h->time + (size_t)h->type * 6 + h->chars +
	       (size_t)h->leap * (tsize + 4) + h->isstd + h->isut;
}

tz_zone *tz_from_tzif(const char *name, const unsigned char *d, size_t len, char *err,
                      size_t errlen)
{
	struct tzif_hdr h;
	const unsigned char *blk, *tt, *idx, *types;
	size_t tsize = 4, i, n;
	tz_zone *z;
	int32_t prev;

	if (!name)
		name = "zone";
	if (tzif_header(d, len, &h) != 0)
		goto bad;
	blk = d + 44;
	if (d[4] >= '2') {
		size_t skip = tzif_block(&h, 4);

		if (len - 44 < skip || tzif_header(blk + skip, len - 44 - skip, &h) != 0)
			goto bad;
		blk += skip + 44;
		tsize = 8;
	}
	if ((size_t)(d + len - blk) < tzif_block(&h, tsize))
		goto bad;
	tt = blk;
	idx = tt + (size_t)h.time * tsize;
	types = idx + h.time;
	for (i = 0; i < h.type; i++) {
		int32_t off = (int32_t)be32(types + 6 * i);

		if (off < -TZ_MAX_OFFSET || off > TZ_MAX_OFFSET || types[6 * i + 4] > 1 ||
		    types[6 * i + 5] >= h.chars + (h.chars == 0))
			goto bad;
	}
	z = zone_new(name);
	z->off_before = (int32_t)be32(types);
	z->trans = xmalloc((h.time ? h.time : 1) * sizeof *z->trans);
	z->offs = xmalloc((h.time ? h.time : 1) * sizeof *z->offs);
	prev = z->off_before;
	for (i = 0, n = 0; i < h.time; i++) {
		int64_t t = tsize == 8 ? be64(tt + 8 * i) : (int64_t)(int32_t)be32(tt + 4 * i);
		int32_t off;

		if (idx[i] >= h.type || (i > 0 && t <= (tsize == 8 ? be64(tt + 8 * (i - 1)) :
		                                        (int32_t)be32(tt + 4 * (i - 1))))) {
			tz_free(z);
			goto bad;
		}
		off = (int32_t)be32(types + 6 * idx[i]);
		if (off == prev)     /* only the abbreviation or isdst changed */
			continue;
		z->trans[n] = t;
		z->offs[n++] = off;
		prev = off;
	}
	z->n = n;
	/* after the last transition: the footer rule, else the last offset */
	z->std_off = z->dst_off = prev;
	z->has_dst = 0;
	if (tsize == 8) {
		const unsigned char *f = blk + tzif_block(&h, 8), *e = d + len;
		const unsigned char *nl;
		char rule[256];

		if (f < e && *f == '\n' && (nl = memchr(f + 1, '\n', (size_t)(e - f - 1))) &&
		    nl > f + 1) {
			size_t rl = (size_t)(nl - f - 1);

			if (rl >= sizeof rule || memchr(f + 1, '\0', rl)) {
				tz_free(z);
				goto bad;
			}
			memcpy(rule, f + 1, rl);
			rule[rl] = '\0';
			if (posix_parse(z, rule) != 0) {
				tz_free(z);
				seterr(err, errlen, "%s: invalid TZ rule in zone file", name);
				return NULL;
			}
		}
	}
	return z;
bad:
	seterr(err, errlen, "%s: not a valid TZif zone file", name);
	return NULL;
}

/* ---- loading by name --------------------------------------------------- */

static int parse_fixed(const char *s, int *off)
{
	int sign, h, m = 0;
	size_t n = strlen(s);

	if (n < 3 || (s[0] != '+' && s[0] != '-') || !is_digit((unsigned char)s[1]) ||
	    !is_digit((unsigned char)s[2]))
		return -1;
	sign = s[0] == '-' ? -1 : 1;
	h = (s[1] - '0') * 10 + (s[2] - '0');
	s += 3;
	if (*s == ':')
		s++;
	if (*s) {
		if (!is_digit((unsigned char)s[0]) || !is_digit((unsigned char)s[1]) || s[2])
			return -1;
		m = (s[0] - '0') * 10 + (s[1] - '0');
	}
	if (h > 23 || m > 59)
		return -1;
	*off = sign * (h * 3600 + m * 60);
	return 0;
}

static int name_ok(const char *s)
{
	const char *p;

	if (!*s || *s == '/' || strstr(s, "..") || strlen(s) >= TZ_NAME_MAX)
		return 0;
	for (p = s; *p; p++)
		if (!is_alpha((unsigned char)*p) && !is_digit((unsigned char)*p) && !strchr("/_+-", *p))
			return 0;
	return 1;
}

tz_zone *tz_load(const char *name, char *err, size_t errlen)
{
	static const char *utc[] = { "UTC", "utc", "Z", "GMT", "Etc/UTC", "Etc/GMT", "UCT",
	                             "Etc/UCT", "Etc/Zulu", "Zulu", "Universal", "Etc/Universal" };
	const char *dir = getenv("TZDIR");
	char path[4096];
	unsigned char *buf;
	size_t len = 0, cap = 8192;
	FILE *f;
	tz_zone *z;
	int off;
	size_t i;

	if (!name || !*name) {
		seterr(err, errlen, "empty time zone name");
		return NULL;
	}
	for (i = 0; i < sizeof utc / sizeof utc[0]; i++)
		if (strcmp(name, utc[i]) == 0) {
			z = tz_fixed(0);
			return z;
		}
	if (name[0] == '+' || name[0] == '-') {
		if (parse_fixed(name, &off) != 0) {
			seterr(err, errlen, "invalid UTC offset \"%.40s\" (expected +HH:MM, +HHMM or +HH)",
			       name);
			return NULL;
		}
		return tz_fixed(off);
	}
	if (!name_ok(name)) {
		seterr(err, errlen, "invalid time zone name \"%.40s\" (expected e.g. Europe/Berlin, UTC, +05:30)",
		       name);
		return NULL;
	}
	if (strncmp(name, "right/", 6) == 0) {
		seterr(err, errlen, "time zone \"%s\": leap-second (right/) zones are not supported", name);
		return NULL;
	}
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (!(f = fopen(path, "rb"))) {
		if (errno == ENOENT || errno == ENOTDIR)
			seterr(err, errlen, "unknown time zone \"%s\" (no %s)", name, path);
		else
			seterr(err, errlen, "time zone \"%s\": %s: %s", name, path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(cap);
	for (;;) {
		size_t got = fread(buf + len, 1, cap - len, f);

		len += got;
		if (len < cap)
			break;
		if (cap >= TZ_FILE_MAX) {
			len = 0;
			break;
		}
		cap *= 2;
		buf = xrealloc(buf, cap);
	}
	if (ferror(f)) {
		seterr(err, errlen, "time zone \"%s\": %s: read error", name, path);
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	z = tz_from_tzif(name, buf, len, err, errlen);
	free(buf);
	return z;
}
