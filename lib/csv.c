/* Streaming CSV reader: see csv.h for the rules.
 *
 * The whole record being parsed stays in one buffer (from r->pos) so that
 * its raw text can be handed out and so that a broken quote can be undone by
 * re-reading from the next line without seeking. Scanning uses a byte-class
 * table with a NUL sentinel after the data, so the hot loop is one load and
 * one compare per byte; field text is produced by one memcpy per record. */
#include "csv.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum { C_ORD = 0, C_DELIM, C_QUOTE, C_CR, C_LF, C_NUL };

/* Row error kinds. */
enum {
	E_NONE = 0,
	/* the record is well delimited: reject it whole */
	E_STRAY, E_NUL, E_UTF8, E_FIELDS,
	/* structural: reject up to the line end, then resynchronise */
	E_UNTERMINATED, E_AFTER_QUOTE, E_FIELD_LONG, E_RECORD_LONG
};

#define NONE ((size_t)-1)
#define CSV_PAD 64   /* bytes allocated after the sentinel's place */

struct csv_span {
	size_t s, e;   /* field text [s, e) relative to the record start */
	int esc;       /* quoted field holding doubled quotes */
};

struct csv_reader {
	FILE *f;
	char *name;
	csv_options o;
	int qc;                   /* quote byte, or 256 when quoting is off */
	unsigned char cls[256];   /* byte classes outside quotes */
	unsigned char qcls[256];  /* byte classes inside quotes */
	unsigned char special[6]; /* the bytes of cls that are not C_ORD (repeats fill it) */
	unsigned char *buf;       /* data [0, len), buf[len] == 0 */
	size_t cap, len, pos;     /* pos: start of the current record */
	size_t bufmax;            /* most data bytes buf may hold */
	uint64_t base;            /* input offset of buf[0] */
	uint64_t line;            /* physical line number at pos */
	uint64_t recno, blank;
	int state;                /* 0 not started, 1 reading, 2 ended, -1 fatal */
	int fast;                 /* reading, and csv_simple_in_place may be tried first */
	int eof;
	int cr_pending;           /* last line end was CR at the buffer end: skip a LF */
	struct csv_span *span;
	size_t spancap;
	const char **fptr;
	size_t *flen;
	size_t fcap;
	char *fbuf;
	size_t fbcap;
	char *keep;               /* prefix of an over-long line */
	size_t keeplen;
	char err[400];
	char fatal[600];
};

/* The data ends with a NUL sentinel (every scan stops there) and CSV_PAD - 1
 * zero bytes after it, so that scans may read 64 bytes at a time. */
static void set_end(csv_reader *r)
{
	memset(r->buf + r->len, 0, CSV_PAD);
}

/* The first position at or after k whose byte has a class other than C_ORD
 * outside quotes (the sentinel guarantees one). */
#ifdef __SSE2__
typedef struct scanset {
	__m128i s[6];
} scanset;

static inline void scanset_init(scanset *v, const unsigned char *special)
{
	for (int i = 0; i < 6; i++)
		v->s[i] = _mm_set1_epi8((char)special[i]);
}

static inline size_t scan_unquoted(const scanset *v, const unsigned char *cls,
                                   const unsigned char *p, size_t k)
{
	(void)cls;
	for (;;) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + k));
		__m128i m = _mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(x, v->s[0]), _mm_cmpeq_epi8(x, v->s[1])),
			_mm_or_si128(_mm_cmpeq_epi8(x, v->s[2]), _mm_cmpeq_epi8(x, v->s[3])));
		m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(x, v->s[4]), _mm_cmpeq_epi8(x, v->s[5])));
		unsigned bits = (unsigned)_mm_movemask_epi8(m);
		if (bits)
			return k + (size_t)__builtin_ctz(bits);
		k += 16;
	}
}
#else
typedef struct scanset {
	int unused;
} scanset;

static inline void scanset_init(scanset *v, const unsigned char *special)
{
	(void)v;
	(void)special;
}

static inline size_t scan_unquoted(const scanset *v, const unsigned char *cls,
                                   const unsigned char *p, size_t k)
{
	(void)v;
	while (!cls[p[k]])
		k++;
	return k;
}
#endif

void csv_options_init(csv_options *o)
{
	memset(o, 0, sizeof *o);
	o->delim = ',';
	o->quote = '"';
	o->max_field = (size_t)1 << 20;
	o->max_fields = 10000;
	o->max_record = (size_t)16 << 20;
	o->chunk = (size_t)1 << 20;
}

const char *csv_delim_name(int delim)
{
	static char buf[8];
	switch (delim) {
	case CSV_DELIM_WHITESPACE: return "whitespace";
	case '\t': return "tab";
	case ' ': return "space";
	case 0: return "none";
	default:
		buf[0] = '\'';
		buf[1] = (char)delim;
		buf[2] = '\'';
		buf[3] = 0;
		return buf;
	}
}

csv_reader *csv_open(FILE *f, const char *name, const csv_options *opt)
{
	csv_options o;
	csv_reader *r;
	if (opt)
		o = *opt;
	else
		csv_options_init(&o);
	if (o.delim != CSV_DELIM_WHITESPACE &&
	    (o.delim <= 0 || o.delim > 127 || o.delim == '\r' || o.delim == '\n' ||
	     o.delim == o.quote))
		goto bad;
	if (o.quote < 0 || o.quote > 127 || o.quote == '\r' || o.quote == '\n' ||
	    (o.delim == CSV_DELIM_WHITESPACE && (o.quote == ' ' || o.quote == '\t')))
		goto bad;
	if (!o.max_field || !o.max_fields || !o.max_record || !o.chunk)
		goto bad;
	if (o.max_field > SIZE_MAX / 4 || o.max_record > SIZE_MAX / 4 || o.chunk > SIZE_MAX / 4 ||
	    o.max_fields > SIZE_MAX / 4 / sizeof(struct csv_span))
		goto bad;
	if (o.max_record < 2 * o.max_field + 65536)
		o.max_record = 2 * o.max_field + 65536;
	if (o.chunk > o.max_record)
		o.chunk = o.max_record;

	r = xcalloc(1, sizeof *r);
	r->f = f;
	r->name = xstrdup(name ? name : "input");
	r->o = o;
	r->qc = o.quote ? o.quote : 256;
	r->bufmax = o.max_record;
	r->cap = o.chunk + 1;
	r->buf = xmalloc(r->cap + CSV_PAD);
	set_end(r);
	r->line = 1;
	if (o.delim == CSV_DELIM_WHITESPACE) {
		r->cls[' '] = C_DELIM;
		r->cls['\t'] = C_DELIM;
	} else {
		r->cls[o.delim] = C_DELIM;
	}
	if (o.quote) {
		r->cls[o.quote] = C_QUOTE;
		r->qcls[o.quote] = C_QUOTE;
	}
	r->cls['\r'] = r->qcls['\r'] = C_CR;
	r->cls['\n'] = r->qcls['\n'] = C_LF;
	r->cls[0] = r->qcls[0] = C_NUL;
	int ns = 0;
	for (int b = 0; b < 256; b++)
		if (r->cls[b])
			r->special[ns++] = (unsigned char)b;   /* at most NUL CR LF quote space tab */
	while (ns < 6)
		r->special[ns++] = 0;
	return r;
bad:
	errno = EINVAL;
	return NULL;
}

void csv_close(csv_reader *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->buf);
	free(r->span);
	free(r->fptr);
	free(r->flen);
	free(r->fbuf);
	free(r->keep);
	free(r);
}

const char *csv_error(const csv_reader *r)
{
	return r->state < 0 ? r->fatal : "";
}

uint64_t csv_blank_lines(const csv_reader *r)
{
	return r->blank;
}

uint64_t csv_bytes(const csv_reader *r)
{
	return r->base + r->pos;
}

/* Reads more input after the data, first moving the current record to the
 * front. Returns 1 when bytes were added, 0 at end of input, -1 when the
 * buffer already holds max_record bytes of the record (with grow 0: once it
 * is full and holds at least 2 * CSV_RAW_KEEP bytes, so skipping an
 * over-long line does not grow it further), -2 on a read error (fatal
 * message set). */
static int csv_more(csv_reader *r, int grow)
{
	size_t n, want;
	if (r->eof)
		return 0;
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->base += r->pos;
		r->len -= r->pos;
		r->pos = 0;
		set_end(r); /* the sentinel moves too */
	}
	if (r->len + 1 >= r->cap) {
		size_t c;
		if (r->len >= r->bufmax || (!grow && r->len >= 2 * CSV_RAW_KEEP))
			return -1;
		c = r->cap * 2;
		if (c > r->bufmax + 1)
			c = r->bufmax + 1;
		r->buf = xrealloc(r->buf, c + CSV_PAD);
		r->cap = c;
	}
	want = r->cap - 1 - r->len;
	n = fread(r->buf + r->len, 1, want, r->f);
	if (n == 0) {
		if (ferror(r->f)) {
			snprintf(r->fatal, sizeof r->fatal, "%s: read error: %s", r->name,
			         strerror(errno ? errno : EIO));
			r->state = -1;
			return -2;
		}
		r->eof = 1;
		return 0;
	}
	r->len += n;
	set_end(r);
	return 1;
}

static int csv_start(csv_reader *r)
{
	const unsigned char *p;
	size_t n, i, zodd = 0, zeven = 0, pairs;
	r->state = 1;
	/* enough bytes to see a byte order mark or UTF-16 */
	while (r->len < 256) {
		int m = csv_more(r, 1);
		if (m == -2)
			return -1;
		if (m <= 0)
			break;
	}
	p = r->buf;
	n = r->len;
	if (n >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF)))
		goto utf16;
	if (n > 256)
		n = 256;
	pairs = n / 2;
	for (i = 0; i < pairs; i++) {
		zeven += p[2 * i] == 0;
		zodd += p[2 * i + 1] == 0;
	}
	if (pairs >= 2 && ((zodd * 4 >= pairs * 3 && zeven * 4 < pairs) ||
	                   (zeven * 4 >= pairs * 3 && zodd * 4 < pairs)))
		goto utf16;
	if (r->len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		r->pos = 3;
	r->fast = r->o.in_place && !r->o.slow && r->o.delim != CSV_DELIM_WHITESPACE;
	return 0;
utf16:
	snprintf(r->fatal, sizeof r->fatal,
	         "%s:1: UTF-16 input is not supported; convert with iconv -f UTF-16 -t UTF-8",
	         r->name);
	r->state = -1;
	return -1;
}

size_t csv_utf8_check(const void *vp, size_t n)
{
	const unsigned char *p = vp;
	size_t i = 0;
	while (i < n) {
		unsigned c;
		size_t need;
		uint32_t cp, min;
		/* ASCII fast path, 8 bytes at a time */
		while (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, p + i, 8);
			if (w & 0x8080808080808080ull)
				break;
			i += 8;
		}
		while (i < n && p[i] < 0x80)
			i++;
		if (i >= n)
			break;
		c = p[i];
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1; cp = c & 0x1F; min = 0x80;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2; cp = c & 0x0F; min = 0x800;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return i;
		}
		if (n - i <= need)
			return i;
		for (size_t j = 1; j <= need; j++) {
			if ((p[i + j] & 0xC0) != 0x80)
				return i;
			cp = (cp << 6) | (p[i + j] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return i;
		i += need + 1;
	}
	return n;
}

/* Room for nf fields in fptr and flen. */
static void fields_room(csv_reader *r, size_t nf)
{
	if (nf > r->fcap) {
		size_t c = r->fcap;
		void *t = (void *)r->fptr;
		xgrow(&t, &c, nf, sizeof *r->fptr);
		r->fptr = t;
		c = r->fcap;
		t = r->flen;
		xgrow(&t, &c, nf, sizeof *r->flen);
		r->flen = t;
		r->fcap = c;
	}
}

/* Copies the record text once and turns the spans into NUL-terminated
 * fields (doubled quotes undone in place). */
static void csv_build(csv_reader *r, const unsigned char *p, size_t ke, size_t nf)
{
	size_t i;
	if (ke + 1 > r->fbcap) {
		void *t = r->fbuf;
		xgrow(&t, &r->fbcap, ke + 1, 1);
		r->fbuf = t;
	}
	fields_room(r, nf);
	memcpy(r->fbuf, p, ke);
	r->fbuf[ke] = 0;
	for (i = 0; i < nf; i++) {
		size_t s = r->span[i].s, e = r->span[i].e, len;
		char *fb = r->fbuf;
		if (r->span[i].esc) {
			size_t w = s, x;
			for (x = s; x < e; x++) {
				fb[w++] = fb[x];
				if ((unsigned char)fb[x] == r->qc)
					x++;
			}
			len = w - s;
		} else {
			len = e - s;
		}
		fb[s + len] = 0;
		r->fptr[i] = fb + s;
		r->flen[i] = len;
	}
}

/* Field nf of the simple splitter: bytes s..e of the line, unescaped. */
static inline void span_push(csv_reader *r, size_t nf, size_t s, size_t e)
{
	if (nf == r->spancap) {
		void *t = r->span;
		xgrow(&t, &r->spancap, nf + 1, sizeof *r->span);
		r->span = t;
	}
	r->span[nf].s = s;
	r->span[nf].e = e;
	r->span[nf].esc = 0;
}

#ifdef __SSE2__
/* A line split by csv_simple or csv_simple_in_place (fields in r->fptr and
 * r->flen): the row, and the reader past the line. Returns 1. */
static int simple_done(csv_reader *r, csv_row *row, const unsigned char *p, size_t end, size_t nf)
{
	row->raw = (const char *)p;
	row->rawlen = end;
	row->recno = ++r->recno;
	row->nfields = nf;
	row->field = r->fptr;
	row->len = r->flen;
	r->pos += end + 1;
	r->line++;
	return 1;
}

/* The common record, split without the state machine: one line, wholly in
 * the buffer, with no quote, CR or NUL byte, fields within the limits and
 * valid UTF-8, for readers that copy the fields. Returns 1 with the row
 * filled exactly as csv_record would, or 0 (nothing changed) for csv_record
 * to take it the long way. */
static int csv_simple(csv_reader *r, csv_row *row, const unsigned char *p, size_t avail)
{
	const __m128i d = _mm_set1_epi8((char)r->o.delim), lf = _mm_set1_epi8('\n'),
	              cr = _mm_set1_epi8('\r'), zero = _mm_setzero_si128(),
	              q = r->qc < 256 ? _mm_set1_epi8((char)r->qc) : zero;
	const size_t max_field = r->o.max_field, max_fields = r->o.max_fields;
	size_t k = 0, fs = 0, nf = 0, end;
	__m128i high = zero;   /* any byte >= 0x80 read: the line needs the UTF-8 check */
	if (!avail || p[0] == '\n')
		return 0;
	for (;;) {
		/* 16 bytes are readable: the data ends with a sentinel and padding */
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + k));
		high = _mm_or_si128(high, x);
		unsigned md = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, d));
		unsigned ml = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, lf));
		unsigned mb = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, cr)), _mm_cmpeq_epi8(x, zero)));
		unsigned before = ml ? (ml & (0u - ml)) - 1 : 0xffffu;   /* bytes before the line end */
		if (mb & before)
			return 0;   /* a quote, CR, NUL, or the end of the data before the line end */
		md &= before;
		for (; md; md &= md - 1) {
			size_t e = k + (size_t)__builtin_ctz(md);
			if (e - fs > max_field || nf + 1 >= max_fields)
				return 0;
			span_push(r, nf++, fs, e);
			fs = e + 1;
		}
		if (ml) {
			end = k + (size_t)__builtin_ctz(ml);
			break;
		}
		k += 16;
	}
	if (end - fs > max_field || (_mm_movemask_epi8(high) && csv_utf8_check(p, end) < end))
		return 0;
	span_push(r, nf++, fs, end);
	csv_build(r, p, end, nf);
	return simple_done(r, row, p, end, nf);
}

/* Byte masks of 64 bytes at p: bit i set where p[i] is the delimiter (*md),
 * a line feed (*ml), or a quote, CR or NUL (*mb); *high: whether any byte is
 * >= 0x80. Written out four times: the shifts are constants. */
#define MASK16(x, sh) do { \
		a |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, d)) << (sh); \
		b |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, lf)) << (sh); \
		c |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128( \
			_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, cr)), _mm_cmpeq_epi8(x, zero))) << (sh); \
	} while (0)
static inline void masks64(const unsigned char *p, __m128i d, __m128i lf, __m128i cr, __m128i q,
                           uint64_t *md, uint64_t *ml, uint64_t *mb, int *high)
{
	const __m128i zero = _mm_setzero_si128();
	const __m128i *v = (const __m128i *)(const void *)p;
	__m128i x0 = _mm_loadu_si128(v), x1 = _mm_loadu_si128(v + 1), x2 = _mm_loadu_si128(v + 2),
	        x3 = _mm_loadu_si128(v + 3);
	uint64_t a = 0, b = 0, c = 0;
	MASK16(x0, 0);
	MASK16(x1, 16);
	MASK16(x2, 32);
	MASK16(x3, 48);
	*md = a;
	*ml = b;
	*mb = c;
	*high = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(x0, x1), _mm_or_si128(x2, x3))) != 0;
}
#undef MASK16

/* csv_simple for in_place readers, 64 bytes at a time: the fields are
 * split as they are found (a NUL over each separator), and put back when
 * the line turns out not to be simple. */
static int csv_simple_in_place(csv_reader *r, csv_row *row, unsigned char *p, size_t avail)
{
	const __m128i d = _mm_set1_epi8((char)r->o.delim), lf = _mm_set1_epi8('\n'),
	              cr = _mm_set1_epi8('\r'),
	              q = r->qc < 256 ? _mm_set1_epi8((char)r->qc) : _mm_setzero_si128();
	const size_t max_field = r->o.max_field, max_fields = r->o.max_fields;
	size_t k = 0, fs = 0, nf = 0, end;
	int high = 0;   /* a byte >= 0x80 read (maybe after the line end): the UTF-8 check */
	if (!avail || p[0] == '\n' || p[0] == r->qc)   /* (quoted exports: at once) */
		return 0;
	for (;;) {
		/* 64 bytes are readable: the data ends with a sentinel and padding,
		 * and a block holding the sentinel is the last one read */
		uint64_t md, ml, mb;
		int mh;
		masks64(p + k, d, lf, cr, q, &md, &ml, &mb, &mh);
		uint64_t before = ml ? (ml & (0 - ml)) - 1 : ~(uint64_t)0;
		if (mb & before)
			goto not_simple;   /* a quote, CR, NUL, or the end of the data before the line end */
		high |= mh;
		md &= before;
		if (nf + 64 >= r->fcap)
			fields_room(r, nf + 65);
		const char **fp = r->fptr;
		size_t *fl = r->flen;
		/* no field in this block can pass a limit (the common case), or
		 * each is checked */
		const int careful = k + 64 - fs > max_field || nf + 64 >= max_fields;
		for (; md; md &= md - 1) {
			size_t e = k + (unsigned)__builtin_ctzll(md);
			if (careful && (e - fs > max_field || nf + 1 >= max_fields))
				goto not_simple;
			p[e] = 0;
			fp[nf] = (const char *)p + fs;
			fl[nf++] = e - fs;
			fs = e + 1;
		}
		if (ml) {
			end = k + (size_t)__builtin_ctzll(ml);
			break;
		}
		k += 64;
	}
	if (end - fs > max_field || (high && csv_utf8_check(p, end) < end))
		goto not_simple;
	if (nf + 1 > r->fcap)
		fields_room(r, nf + 1);
	p[end] = 0;
	r->fptr[nf] = (const char *)p + fs;
	r->flen[nf++] = end - fs;
	row->split = r->o.delim;
	return simple_done(r, row, p, end, nf);
not_simple:
	for (size_t i = 0; i < nf; i++)   /* the separators back */
		p[r->fptr[i] - (const char *)p + r->flen[i]] = (unsigned char)r->o.delim;
	return 0;
}
#else
static int csv_simple(csv_reader *r, csv_row *row, const unsigned char *p, size_t avail)
{
	(void)r;
	(void)row;
	(void)p;
	(void)avail;
	return 0;
}

static int csv_simple_in_place(csv_reader *r, csv_row *row, unsigned char *p, size_t avail)
{
	return csv_simple(r, row, p, avail);
}
#endif

static void csv_message(csv_reader *r, int kind, size_t field, uint64_t qline, size_t extra,
                        int multiline, uint64_t endline)
{
	switch (kind) {
	case E_STRAY:
		snprintf(r->err, sizeof r->err, "stray quote in unquoted field %zu", field);
		break;
	case E_NUL:
		snprintf(r->err, sizeof r->err, "NUL byte in field %zu", field);
		break;
	case E_UTF8:
		snprintf(r->err, sizeof r->err, "invalid UTF-8 at byte %zu of the record", extra + 1);
		break;
	case E_FIELDS:
		snprintf(r->err, sizeof r->err, "more than %zu fields (%zu)", r->o.max_fields, field);
		break;
	case E_UNTERMINATED:
		snprintf(r->err, sizeof r->err, "unterminated quote opened at line %" PRIu64, qline);
		break;
	case E_AFTER_QUOTE:
		if (multiline)
			snprintf(r->err, sizeof r->err,
			         "unterminated quote opened at line %" PRIu64 " (the quote closing it"
			         " at line %" PRIu64 " is followed by text)", qline, endline);
		else
			snprintf(r->err, sizeof r->err, "text after the closing quote of field %zu",
			         field);
		break;
	case E_FIELD_LONG:
		if (multiline)
			snprintf(r->err, sizeof r->err,
			         "field %zu longer than %zu bytes (unterminated quote opened at line %"
			         PRIu64 "?)", field, r->o.max_field, qline);
		else
			snprintf(r->err, sizeof r->err, "field %zu longer than %zu bytes", field,
			         r->o.max_field);
		break;
	case E_RECORD_LONG:
		if (multiline)
			snprintf(r->err, sizeof r->err,
			         "record longer than %zu bytes (unterminated quote opened at line %"
			         PRIu64 "?)", r->bufmax, qline);
		else
			snprintf(r->err, sizeof r->err, "record longer than %zu bytes", r->bufmax);
		break;
	default:
		snprintf(r->err, sizeof r->err, "invalid record");
		break;
	}
}

/* Rejects from the record start to the end of the current physical line
 * (which may be far away: the line is not held in memory). k: scan position
 * relative to pos, no line end in [first, k) where first is the start of the
 * failing field. lines: line ends before that. */
static int csv_skip_line(csv_reader *r, csv_row *row, size_t k, uint64_t lines)
{
	unsigned char *p = r->buf + r->pos;
	size_t avail = r->len - r->pos;
	int truncated = 0, m;
	for (;;) {
		while (k < avail && p[k] != '\n' && p[k] != '\r')
			k++;
		if (k < avail)
			break;
		m = csv_more(r, 0);
		p = r->buf + r->pos;
		avail = r->len - r->pos;
		if (m == -2)
			return -1;
		if (m == 0)
			break;
		if (m == -1) {
			if (!truncated) {
				size_t keep = k < CSV_RAW_KEEP ? k : CSV_RAW_KEEP;
				if (!r->keep)
					r->keep = xmalloc(CSV_RAW_KEEP);
				memcpy(r->keep, p, keep);
				r->keeplen = keep;
				truncated = 1;
			}
			r->pos += k;
			p += k;
			avail -= k;
			k = 0;
		}
	}
	if (truncated) {
		row->raw = r->keep;
		row->rawlen = r->keeplen;
		row->raw_truncated = 1;
	} else {
		row->raw = (const char *)p;
		row->rawlen = k;
	}
	if (k < avail) {
		lines++;
		if (p[k] == '\r') {
			k++;
			if (k < avail) {
				if (p[k] == '\n')
					k++;
			} else {
				r->cr_pending = 1;
			}
		} else {
			k++;
		}
	}
	r->pos += k;
	r->line += lines;
	return 1;
}

/* One record. Returns 1 (row filled), 2 (blank line skipped), 0 (end), -1.
 * tried: csv_next has just tried csv_simple_in_place here (not again). */
static int csv_record(csv_reader *r, csv_row *row, int tried)
{
	const unsigned char *cls = r->cls, *qcls = r->qcls;
	const int ws = r->o.delim == CSV_DELIM_WHITESPACE;
	const int qc = r->qc;
	const size_t max_field = r->o.max_field, max_fields = r->o.max_fields;
	unsigned char *p;
	size_t avail, k = 0, fs = 0, fe, nf = 0, ke, errfield = 0, errextra = 0;
	size_t qeol = NONE;     /* first line end inside the open/last quoted field */
	uint64_t lines = 0;     /* line ends passed inside the record */
	uint64_t qlines = 0;    /* value of lines when that quote opened */
	uint64_t qline = 0;     /* line where that quote opened */
	int m = 1, err = E_NONE, esc;
	struct csv_span *span = r->span;
	scanset sv;

#define SYNC() (p = r->buf + r->pos, avail = r->len - r->pos)
#define MORE() (m = csv_more(r, 1), SYNC(), m)
#define PUSH(S, E, ESC) do { \
		if ((E) - (S) > max_field) { errfield = nf + 1; goto field_too_long; } \
		if (nf < max_fields) { \
			if (nf == r->spancap) { \
				void *t_ = r->span; \
				xgrow(&t_, &r->spancap, nf + 1, sizeof *r->span); \
				r->span = span = t_; \
			} \
			span[nf].s = (S); span[nf].e = (E); span[nf].esc = (ESC); \
		} else if (!err) { \
			err = E_FIELDS; \
		} \
		nf++; \
	} while (0)

	if (r->cr_pending) {
		r->cr_pending = 0;
		if (r->pos == r->len && csv_more(r, 1) == -2)
			return -1;
		if (r->pos < r->len && r->buf[r->pos] == '\n')
			r->pos++;
	}
	SYNC();
	row->line = r->line;
	row->offset = r->base + r->pos;
	if (!ws && !r->o.slow &&
	    (r->o.in_place ? !tried && csv_simple_in_place(r, row, p, avail) : csv_simple(r, row, p, avail)))
		return 1;
	span = r->span;   /* csv_simple may have grown it */
	scanset_init(&sv, r->special);

	/* leading blanks (whitespace mode), end of input, blank lines */
	for (;;) {
		if (ws)
			while (p[k] == ' ' || p[k] == '\t')
				k++;
		if (k < avail)
			break;
		if (MORE() <= 0)
			break;
	}
	if (m == -2)
		return -1;
	if (m == -1) {
		err = E_RECORD_LONG;
		goto structural;
	}
	if (k == avail) {
		if (k > 0)
			r->blank++;
		r->pos += k;
		r->state = 2;
		return 0;
	}
	if (p[k] == '\n' || p[k] == '\r') {
		if (p[k] == '\r') {
			k++;
			if (k < avail) {
				if (p[k] == '\n')
					k++;
			} else {
				r->cr_pending = 1;
			}
		} else {
			k++;
		}
		r->pos += k;
		r->line++;
		r->blank++;
		return 2;
	}

field:
	/* start of a field: make sure its first byte is there */
	if (k == avail) {
		if (MORE() < 0)
			goto more_failed;
		if (m == 0) {
			PUSH(k, k, 0);
			goto rec_end;
		}
	}
	qeol = NONE;
	if (p[k] == qc) {
		qline = r->line + lines;
		qlines = lines;
		k++;
		fs = k;
		esc = 0;
		for (;;) {
			while (!qcls[p[k]])
				k++;
			switch (qcls[p[k]]) {
			case C_QUOTE:
				if (k + 1 == avail) {
					if (k - fs > max_field) {
						errfield = nf + 1;
						goto field_too_long;
					}
					if (MORE() < 0)
						goto more_failed;
				}
				if (p[k + 1] == qc) {
					esc = 1;
					k += 2;
					continue;
				}
				goto closed;
			case C_CR:
				if (qeol == NONE)
					qeol = k;
				lines++;
				k++;
				continue;
			case C_LF:
				if (p[k - 1] != '\r') {
					if (qeol == NONE)
						qeol = k;
					lines++;
				}
				k++;
				continue;
			default: /* C_NUL */
				if (k < avail) {
					if (!err) {
						err = E_NUL;
						errfield = nf + 1;
					}
					k++;
					continue;
				}
				if (k - fs > max_field) {
					errfield = nf + 1;
					goto field_too_long;
				}
				if (MORE() < 0)
					goto more_failed;
				if (m == 0) {
					err = E_UNTERMINATED;
					goto structural;
				}
				continue;
			}
		}
closed:
		fe = k;
		k++;
		PUSH(fs, fe, esc);
		if (k == avail) {
			if (MORE() < 0)
				goto more_failed;
			if (m == 0)
				goto rec_end;
		}
		switch (cls[p[k]]) {
		case C_DELIM:
			k++;
			goto next_field;
		case C_CR:
		case C_LF:
			goto rec_end;
		default:
			errfield = nf;
			err = E_AFTER_QUOTE;
			goto structural;
		}
	}

	/* unquoted field */
	fs = k;
	for (;;) {
		k = scan_unquoted(&sv, cls, p, k);
		switch (cls[p[k]]) {
		case C_DELIM:
			PUSH(fs, k, 0);
			k++;
			goto next_field;
		case C_CR:
		case C_LF:
			PUSH(fs, k, 0);
			goto rec_end;
		case C_QUOTE:
			if (!err) {
				err = E_STRAY;
				errfield = nf + 1;
			}
			k++;
			continue;
		default: /* C_NUL */
			if (k < avail) {
				if (!err) {
					err = E_NUL;
					errfield = nf + 1;
				}
				k++;
				continue;
			}
			if (k - fs > max_field) {
				errfield = nf + 1;
				goto field_too_long;
			}
			if (MORE() < 0)
				goto more_failed;
			if (m == 0) {
				PUSH(fs, k, 0);
				goto rec_end;
			}
			continue;
		}
	}

next_field:
	if (ws) {
		for (;;) {
			while (p[k] == ' ' || p[k] == '\t')
				k++;
			if (k < avail)
				break;
			if (MORE() < 0)
				goto more_failed;
			if (m == 0)
				goto rec_end;
		}
		if (p[k] == '\n' || p[k] == '\r')
			goto rec_end;
	}
	goto field;

rec_end:
	ke = k;
	if (k < avail) {
		lines++;
		if (p[k] == '\r') {
			k++;
			if (k < avail) {
				if (p[k] == '\n')
					k++;
			} else {
				r->cr_pending = 1;
			}
		} else {
			k++;
		}
	}
	if (!err) {
		size_t bad = csv_utf8_check(p, ke);
		if (bad < ke) {
			err = E_UTF8;
			errextra = bad;
		}
	}
	row->raw = (const char *)p;
	row->rawlen = ke;
	row->recno = ++r->recno;
	if (err) {
		csv_message(r, err, errfield ? errfield : nf, qline, errextra, 0, 0);
		row->error = r->err;
	} else {
		csv_build(r, p, ke, nf);
		row->nfields = nf;
		row->field = r->fptr;
		row->len = r->flen;
	}
	r->pos += k;
	r->line += lines;
	return 1;

more_failed:
	if (m == -2)
		return -1;
	err = E_RECORD_LONG;
	goto structural;
field_too_long:
	err = E_FIELD_LONG;
structural:
	row->recno = ++r->recno;
	/* A field found too long only past max_field bytes gets the same message
	 * whether or not the reads happened to show its line end already. */
	csv_message(r, err, errfield, qline, 0,
	            qeol != NONE && !(err == E_FIELD_LONG && qeol - fs > max_field),
	            r->line + lines);
	row->error = r->err;
	if (qeol != NONE) {
		/* the failing quoted field crossed a line end: reject up to the
		 * first one and read on from the next line */
		row->raw = (const char *)p;
		row->rawlen = qeol;
		r->cr_pending = p[qeol] == '\r';
		r->pos += qeol + 1;
		r->line += qlines + 1;
		return 1;
	}
	return csv_skip_line(r, row, k, lines);
#undef SYNC
#undef MORE
#undef PUSH
}

int csv_next(csv_reader *r, csv_row *row)
{
	int rc, tried = 0;
	if (r->state == 1 && r->fast && !r->cr_pending) {   /* a plain line, split in place: the common row */
		row->line = r->line;
		row->offset = r->base + r->pos;
		row->raw_truncated = 0;
		row->error = NULL;
		if (csv_simple_in_place(r, row, r->buf + r->pos, r->len - r->pos))
			return 1;
		tried = 1;
	}
	memset(row, 0, sizeof *row);
	if (r->state == 0 && csv_start(r) < 0)
		return -1;
	if (r->state == 2)
		return 0;
	if (r->state < 0)
		return -1;
	do {
		rc = csv_record(r, row, tried);
		tried = 0;
	} while (rc == 2);
	if (rc < 0 && r->state >= 0)
		r->state = -1;
	return rc;
}

void csv_unsplit(csv_row *row)
{
	if (!row->split)
		return;
	char *p = (char *)(uintptr_t)row->raw;
	for (size_t i = 0; i < row->rawlen; i++)
		if (!p[i])
			p[i] = (char)row->split;
	row->split = 0;
}

int csv_guess_delimiter(const char *text, size_t n)
{
	static const char cand[] = ",\t;|";
	size_t count[4] = { 0, 0, 0, 0 }, i, words = 0;
	int inq = 0, inword = 0, best = -1;
	for (i = 0; i < n; i++) {
		char c = text[i];
		if (c == '"') {
			inq = !inq;
		} else if (!inq && (c == '\n' || c == '\r')) {
			break;
		} else if (!inq) {
			const char *q = memchr(cand, c, 4);
			if (q && c)
				count[q - cand]++;
		}
		if (c == ' ' || c == '\t') {
			inword = 0;
		} else if (!inword) {
			inword = 1;
			words++;
		}
	}
	for (i = 0; i < 4; i++)
		if (count[i] && (best < 0 || count[i] > count[best]))
			best = (int)i;
	if (best >= 0)
		return (unsigned char)cand[best];
	return words >= 2 ? CSV_DELIM_WHITESPACE : 0;
}
