/* JSON Lines reader: see jsonl.h. One line at a time is held in memory
 * (bounded by max_line); each line is parsed by a small recursive-descent
 * parser whose recursion is bounded by max_depth. */
#include "jsonl.h"
#include "csv.h" /* csv_utf8_check */
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define JSONL_MAX_DEPTH_LIMIT 1000

struct jsonl_reader {
	FILE *f;
	char *name;
	jsonl_options o;
	unsigned char *buf;   /* data [0, len), buf[len] == 0 */
	size_t cap, len, pos;
	size_t bufmax;
	uint64_t base, line, recno, blank;
	int state;            /* 0 not started, 1 reading, 2 ended, -1 fatal */
	int eof;
	char *out;            /* decoded keys and values of the current line */
	size_t outcap;
	jsonl_member *mem;
	size_t memcap;
	uint32_t *hash;       /* duplicate-key table */
	size_t hashcap;
	char *keep;
	char err[400];
	char fatal[600];
};

struct parser {
	jsonl_reader *r;
	const unsigned char *s;
	size_t n, i;
	char *out;
	size_t olen;
	size_t nmem;
	int at_eof;           /* the line has no LF: it ended the input */
	int failed;
};

void jsonl_options_init(jsonl_options *o)
{
	memset(o, 0, sizeof *o);
	o->max_line = (size_t)16 << 20;
	o->max_depth = 64;
	o->chunk = (size_t)1 << 20;
}

const char *jsonl_kind_name(jsonl_kind k)
{
	switch (k) {
	case JSONL_STRING: return "string";
	case JSONL_NUMBER: return "number";
	case JSONL_TRUE: return "true";
	case JSONL_FALSE: return "false";
	case JSONL_NULL: return "null";
	case JSONL_OBJECT: return "object";
	case JSONL_ARRAY: return "array";
	}
	return "?";
}

jsonl_reader *jsonl_open(FILE *f, const char *name, const jsonl_options *opt)
{
	jsonl_options o;
	jsonl_reader *r;
	if (opt)
		o = *opt;
	else
		jsonl_options_init(&o);
	if (!o.max_line || o.max_line > SIZE_MAX / 8 || o.max_depth < 1 ||
	    o.max_depth > JSONL_MAX_DEPTH_LIMIT || !o.chunk || o.chunk > SIZE_MAX / 4) {
		errno = EINVAL;
		return NULL;
	}
	if (o.chunk > o.max_line + 1)
		o.chunk = o.max_line + 1;
	r = xcalloc(1, sizeof *r);
	r->f = f;
	r->name = xstrdup(name ? name : "input");
	r->o = o;
	r->bufmax = o.max_line + 2;  /* a line of max_line bytes and its CR LF */
	if (r->bufmax < 2 * JSONL_RAW_KEEP)
		r->bufmax = 2 * JSONL_RAW_KEEP;
	r->cap = o.chunk + 1;
	r->buf = xmalloc(r->cap);
	r->buf[0] = 0;
	r->line = 1;
	return r;
}

void jsonl_close(jsonl_reader *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->buf);
	free(r->out);
	free(r->mem);
	free(r->hash);
	free(r->keep);
	free(r);
}

const char *jsonl_error(const jsonl_reader *r)
{
	return r->state < 0 ? r->fatal : "";
}

uint64_t jsonl_blank_lines(const jsonl_reader *r)
{
	return r->blank;
}

uint64_t jsonl_bytes(const jsonl_reader *r)
{
	return r->base + r->pos;
}

/* As csv_more: 1 data added, 0 end, -1 buffer full (at bufmax, or with grow
 * 0 once it holds 2 * JSONL_RAW_KEEP bytes), -2 read error. */
static int jsonl_more(jsonl_reader *r, int grow)
{
	size_t n;
	if (r->eof)
		return 0;
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->base += r->pos;
		r->len -= r->pos;
		r->pos = 0;
		r->buf[r->len] = 0; /* the sentinel moves too */
	}
	if (r->len + 1 >= r->cap) {
		size_t c;
		if (r->len >= r->bufmax || (!grow && r->len >= 2 * JSONL_RAW_KEEP))
			return -1;
		c = r->cap * 2;
		if (c > r->bufmax + 1)
			c = r->bufmax + 1;
		r->buf = xrealloc(r->buf, c);
		r->cap = c;
	}
	n = fread(r->buf + r->len, 1, r->cap - 1 - r->len, r->f);
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
	r->buf[r->len] = 0;
	return 1;
}

static int jsonl_start(jsonl_reader *r)
{
	const unsigned char *p;
	size_t i, pairs, zodd = 0, zeven = 0, n;
	r->state = 1;
	while (r->len < 256) {
		int m = jsonl_more(r, 1);
		if (m == -2)
			return -1;
		if (m <= 0)
			break;
	}
	p = r->buf;
	n = r->len < 256 ? r->len : 256;
	pairs = n / 2;
	for (i = 0; i < pairs; i++) {
		zeven += p[2 * i] == 0;
		zodd += p[2 * i + 1] == 0;
	}
	if ((r->len >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF))) ||
	    (pairs >= 2 && ((zodd * 4 >= pairs * 3 && zeven * 4 < pairs) ||
	                    (zeven * 4 >= pairs * 3 && zodd * 4 < pairs)))) {
		snprintf(r->fatal, sizeof r->fatal,
		         "%s:1: UTF-16 input is not supported; convert with iconv -f UTF-16 -t UTF-8",
		         r->name);
		r->state = -1;
		return -1;
	}
	if (r->len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		r->pos = 3;
	return 0;
}

/* ---- the parser ---- */

static int perr(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	if (ps->failed)
		return -1;
	ps->failed = 1;
	va_start(ap, fmt);
	vsnprintf(ps->r->err, sizeof ps->r->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* Error for running out of line at ps->i. */
static int peol(struct parser *ps)
{
	if (ps->at_eof)
		return perr(ps, "object cut off at end of input (truncated file?)");
	return perr(ps, "unexpected end of line at column %zu", ps->i + 1);
}

static void skip_ws(struct parser *ps)
{
	while (ps->i < ps->n) {
		unsigned char c = ps->s[ps->i];
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			break;
		ps->i++;
	}
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at s[i]; -1 when not. */
static long hex4(struct parser *ps, size_t i)
{
	long v = 0;
	size_t k;
	if (ps->n - i < 4)
		return -1;
	for (k = 0; k < 4; k++) {
		int h = hexval(ps->s[i + k]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static void put_utf8(char **d, uint32_t cp)
{
	char *o = *d;
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xC0 | (cp >> 6));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xE0 | (cp >> 12));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*o++ = (char)(0xF0 | (cp >> 18));
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	}
	*d = o;
}

/* String at s[i] == '"'. With dst, the decoded text is written there
 * (NUL-terminated) and *dlen set. The input is already valid UTF-8. */
static int parse_string(struct parser *ps, char *dst, size_t *dlen)
{
	const unsigned char *s = ps->s;
	size_t n = ps->n, i = ps->i + 1;
	char *d = dst;
	for (;;) {
		size_t run = i;
		while (i < n && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20)
			i++;
		if (d) {
			memcpy(d, s + run, i - run);
			d += i - run;
		}
		if (i >= n) {
			ps->i = i;
			return peol(ps);
		}
		if (s[i] == '"') {
			i++;
			break;
		}
		if (s[i] < 0x20)
			return perr(ps, "control character in a string at column %zu", i + 1);
		/* backslash */
		if (i + 1 >= n) {
			ps->i = i + 1;
			return peol(ps);
		}
		switch (s[i + 1]) {
		case '"': if (d) *d++ = '"'; break;
		case '\\': if (d) *d++ = '\\'; break;
		case '/': if (d) *d++ = '/'; break;
		case 'b': if (d) *d++ = '\b'; break;
		case 'f': if (d) *d++ = '\f'; break;
		case 'n': if (d) *d++ = '\n'; break;
		case 'r': if (d) *d++ = '\r'; break;
		case 't': if (d) *d++ = '\t'; break;
		case 'u': {
			long u = hex4(ps, i + 2), lo;
			uint32_t cp;
			if (u < 0)
				return perr(ps, "invalid \\u escape at column %zu", i + 1);
			if (u >= 0xDC00 && u <= 0xDFFF)
				return perr(ps, "lone surrogate \\u%04lX at column %zu", u, i + 1);
			if (u >= 0xD800 && u <= 0xDBFF) {
				if (n - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' ||
				    (lo = hex4(ps, i + 8)) < 0xDC00 || lo > 0xDFFF)
					return perr(ps, "lone surrogate \\u%04lX at column %zu", u, i + 1);
				cp = 0x10000 + (((uint32_t)u - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
				i += 6;
			} else {
				cp = (uint32_t)u;
			}
			if (cp == 0)
				return perr(ps, "\\u0000 in a string at column %zu is not supported", i + 1);
			if (d)
				put_utf8(&d, cp);
			i += 4;
			break;
		}
		default:
			if (s[i + 1] >= 0x20 && s[i + 1] < 0x7F)
				return perr(ps, "invalid escape \\%c at column %zu", s[i + 1], i + 1);
			return perr(ps, "invalid escape at column %zu", i + 1);
		}
		i += 2;
	}
	if (d) {
		*d = 0;
		*dlen = (size_t)(d - dst);
	}
	ps->i = i;
	return 0;
}

static int parse_number(struct parser *ps)
{
	const unsigned char *s = ps->s;
	size_t n = ps->n, i = ps->i, start = i;
	if (s[i] == '-')
		i++;
	if (i >= n) {
		ps->i = i;
		return peol(ps);
	}
	if (s[i] == '0') {
		i++;
		if (i < n && s[i] >= '0' && s[i] <= '9')
			return perr(ps, "invalid number (leading zero) at column %zu", start + 1);
	} else if (s[i] >= '1' && s[i] <= '9') {
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	} else {
		return perr(ps, "invalid number at column %zu", start + 1);
	}
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return perr(ps, "invalid number at column %zu", start + 1);
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return perr(ps, "invalid number at column %zu", start + 1);
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	ps->i = i;
	return 0;
}

static int parse_value(struct parser *ps, int depth, jsonl_kind *kind);

/* Object or array at s[i] ('{' or '['), at nesting level depth. */
static int parse_nested(struct parser *ps, int depth)
{
	unsigned char close = ps->s[ps->i] == '{' ? '}' : ']';
	int first = 1;
	jsonl_kind k;
	if (depth > ps->r->o.max_depth)
		return perr(ps, "nesting deeper than %d", ps->r->o.max_depth);
	ps->i++;
	for (;;) {
		skip_ws(ps);
		if (ps->i >= ps->n)
			return peol(ps);
		if (ps->s[ps->i] == close) {
			if (!first)
				return perr(ps, "trailing comma at column %zu", ps->i + 1);
			ps->i++;
			return 0;
		}
		if (close == '}') {
			if (ps->s[ps->i] != '"')
				return perr(ps, "expected a string key at column %zu", ps->i + 1);
			if (parse_string(ps, NULL, NULL) < 0)
				return -1;
			skip_ws(ps);
			if (ps->i >= ps->n)
				return peol(ps);
			if (ps->s[ps->i] != ':')
				return perr(ps, "expected ':' at column %zu", ps->i + 1);
			ps->i++;
		}
		if (parse_value(ps, depth + 1, &k) < 0)
			return -1;
		skip_ws(ps);
		if (ps->i >= ps->n)
			return peol(ps);
		if (ps->s[ps->i] == ',') {
			ps->i++;
			first = 0;
			continue;
		}
		if (ps->s[ps->i] == close) {
			ps->i++;
			return 0;
		}
		return perr(ps, "expected ',' or '%c' at column %zu", close, ps->i + 1);
	}
}

/* Any value at s[i] (after whitespace), at nesting level depth when it is
 * an object or array. Leaves ps->i after it. */
static int parse_value(struct parser *ps, int depth, jsonl_kind *kind)
{
	const unsigned char *s;
	unsigned char c;
	skip_ws(ps);
	if (ps->i >= ps->n)
		return peol(ps);
	s = ps->s;
	c = s[ps->i];
	switch (c) {
	case '"':
		*kind = JSONL_STRING;
		return parse_string(ps, NULL, NULL);
	case '{':
		*kind = JSONL_OBJECT;
		return parse_nested(ps, depth);
	case '[':
		*kind = JSONL_ARRAY;
		return parse_nested(ps, depth);
	case 't':
	case 'f':
	case 'n': {
		const char *word = c == 't' ? "true" : c == 'f' ? "false" : "null";
		size_t wl = strlen(word);
		if (ps->n - ps->i < wl) {
			if (memcmp(s + ps->i, word, ps->n - ps->i) == 0) {
				ps->i = ps->n;
				return peol(ps);
			}
		} else if (memcmp(s + ps->i, word, wl) == 0) {
			ps->i += wl;
			*kind = c == 't' ? JSONL_TRUE : c == 'f' ? JSONL_FALSE : JSONL_NULL;
			return 0;
		}
		return perr(ps, "invalid literal at column %zu", ps->i + 1);
	}
	default:
		if (c == '-' || (c >= '0' && c <= '9')) {
			*kind = JSONL_NUMBER;
			return parse_number(ps);
		}
		if (c == ',' || c == '}' || c == ']')
			return perr(ps, "missing value at column %zu", ps->i + 1);
		if (c >= 0x20 && c < 0x7F)
			return perr(ps, "unexpected '%c' at column %zu", c, ps->i + 1);
		return perr(ps, "unexpected character at column %zu", ps->i + 1);
	}
}

/* Printable form of a key for messages. */
static void quote_key(char *dst, size_t cap, const char *k, size_t kl)
{
	size_t o = 0, i;
	for (i = 0; i < kl && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)k[i];
		if (c == '"' || c == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7F) {
			o += (size_t)snprintf(dst + o, cap - o, "\\u%04X", c);
		} else {
			dst[o++] = (char)c;
		}
	}
	if (i < kl && o + 4 <= cap) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = 0;
}

static uint32_t key_hash(const char *k, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)k[i]) * 16777619u;
	return h;
}

static int check_duplicates(struct parser *ps)
{
	jsonl_reader *r = ps->r;
	size_t cap = 16, i, mask;
	if (ps->nmem < 2)
		return 0;
	while (cap < ps->nmem * 2)
		cap *= 2;
	if (cap > r->hashcap) {
		free(r->hash);
		r->hash = xmalloc(cap * sizeof *r->hash);
		r->hashcap = cap;
	}
	memset(r->hash, 0, cap * sizeof *r->hash);
	mask = cap - 1;
	for (i = 0; i < ps->nmem; i++) {
		const jsonl_member *m = &r->mem[i];
		size_t h = key_hash(m->key, m->keylen) & mask;
		while (r->hash[h]) {
			const jsonl_member *o = &r->mem[r->hash[h] - 1];
			if (o->keylen == m->keylen && memcmp(o->key, m->key, m->keylen) == 0) {
				char q[200];
				quote_key(q, sizeof q, m->key, m->keylen);
				return perr(ps, "duplicate key \"%s\"", q);
			}
			h = (h + 1) & mask;
		}
		r->hash[h] = (uint32_t)(i + 1);
	}
	return 0;
}

/* Parses the line's object into r->mem. */
static int parse_line(struct parser *ps)
{
	jsonl_reader *r = ps->r;
	const unsigned char *s = ps->s;
	skip_ws(ps);
	if (s[ps->i] != '{') {
		unsigned char c = s[ps->i];
		if (c >= 0x20 && c < 0x7F)
			return perr(ps, "line is not a JSON object (it starts with '%c')", c);
		return perr(ps, "line is not a JSON object");
	}
	ps->i++;
	skip_ws(ps);
	if (ps->i < ps->n && s[ps->i] == '}') {
		ps->i++;
		goto after;
	}
	for (;;) {
		jsonl_member *m;
		size_t vstart;
		skip_ws(ps);
		if (ps->i >= ps->n)
			return peol(ps);
		if (s[ps->i] != '"') {
			if (s[ps->i] == '}')
				return perr(ps, "trailing comma at column %zu", ps->i + 1);
			return perr(ps, "expected a string key at column %zu", ps->i + 1);
		}
		if (ps->nmem == r->memcap) {
			void *t = r->mem;
			xgrow(&t, &r->memcap, ps->nmem + 1, sizeof *r->mem);
			r->mem = t;
		}
		m = &r->mem[ps->nmem];
		m->key = ps->out + ps->olen;
		if (parse_string(ps, ps->out + ps->olen, &m->keylen) < 0)
			return -1;
		ps->olen += m->keylen + 1;
		skip_ws(ps);
		if (ps->i >= ps->n)
			return peol(ps);
		if (s[ps->i] != ':')
			return perr(ps, "expected ':' at column %zu", ps->i + 1);
		ps->i++;
		skip_ws(ps);
		if (ps->i >= ps->n)
			return peol(ps);
		vstart = ps->i;
		m->val = ps->out + ps->olen;
		if (s[vstart] == '"') {
			m->kind = JSONL_STRING;
			if (parse_string(ps, ps->out + ps->olen, &m->vallen) < 0)
				return -1;
		} else {
			if (parse_value(ps, 2, &m->kind) < 0)
				return -1;
			m->vallen = ps->i - vstart;
			memcpy(ps->out + ps->olen, s + vstart, m->vallen);
			ps->out[ps->olen + m->vallen] = 0;
		}
		ps->olen += m->vallen + 1;
		ps->nmem++;
		skip_ws(ps);
		if (ps->i >= ps->n)
			return peol(ps);
		if (s[ps->i] == ',') {
			ps->i++;
			continue;
		}
		if (s[ps->i] == '}') {
			ps->i++;
			break;
		}
		return perr(ps, "expected ',' or '}' at column %zu", ps->i + 1);
	}
after:
	skip_ws(ps);
	if (ps->i < ps->n)
		return perr(ps, "text after the object at column %zu", ps->i + 1);
	return check_duplicates(ps);
}

/* Skips the rest of an over-long line (scan from k, relative to pos) without
 * holding it; keeps a prefix for the reject file. */
static int jsonl_skip_line(jsonl_reader *r, jsonl_row *row, size_t k)
{
	int truncated = 0, m;
	for (;;) {
		unsigned char *p = r->buf + r->pos;
		size_t avail = r->len - r->pos;
		unsigned char *nl = k < avail ? memchr(p + k, '\n', avail - k) : NULL;
		if (nl) {
			k = (size_t)(nl - p);
			if (!truncated) {
				row->raw = (const char *)p;
				row->rawlen = k;
			}
			r->pos += k + 1;
			break;
		}
		k = avail;
		m = jsonl_more(r, 0);
		if (m == -2)
			return -1;
		if (m == 0) {
			if (!truncated) {
				row->raw = (const char *)r->buf + r->pos;
				row->rawlen = k;
			}
			r->pos += k;
			break;
		}
		if (m == -1) {
			if (!truncated) {
				size_t keep = k < JSONL_RAW_KEEP ? k : JSONL_RAW_KEEP;
				if (!r->keep)
					r->keep = xmalloc(JSONL_RAW_KEEP);
				memcpy(r->keep, r->buf + r->pos, keep);
				row->raw = r->keep;
				row->rawlen = keep;
				row->raw_truncated = 1;
				truncated = 1;
			}
			r->pos += k;
			k = 0;
		}
	}
	r->line++;
	return 1;
}

/* One line: 1 row, 2 blank, 0 end, -1 fatal. */
static int jsonl_record(jsonl_reader *r, jsonl_row *row)
{
	size_t k = 0, linelen, used, bad, i;
	unsigned char *p, *nl;
	struct parser ps;
	int m, at_eof = 0;
	row->line = r->line;
	row->offset = r->base + r->pos;
	for (;;) {
		size_t avail = r->len - r->pos;
		p = r->buf + r->pos;
		nl = k < avail ? memchr(p + k, '\n', avail - k) : NULL;
		if (nl) {
			linelen = (size_t)(nl - p);
			used = linelen + 1;
			break;
		}
		k = avail;
		m = jsonl_more(r, 1);
		if (m == -2)
			return -1;
		if (m == 0) {
			if (k == 0) {
				r->state = 2;
				return 0;
			}
			p = r->buf + r->pos;
			linelen = used = k;
			at_eof = 1;
			break;
		}
		if (m == -1) {
			row->recno = ++r->recno;
			snprintf(r->err, sizeof r->err, "line longer than %zu bytes", r->o.max_line);
			row->error = r->err;
			return jsonl_skip_line(r, row, k);
		}
	}
	if (linelen > 0 && p[linelen - 1] == '\r')
		linelen--;
	for (i = 0; i < linelen; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			break;
	if (i == linelen) {
		r->pos += used;
		r->line++;
		r->blank++;
		return 2;
	}
	row->recno = ++r->recno;
	row->raw = (const char *)p;
	row->rawlen = linelen;
	r->pos += used;
	r->line++;
	if (linelen > r->o.max_line) {
		snprintf(r->err, sizeof r->err, "line longer than %zu bytes", r->o.max_line);
		row->error = r->err;
		return 1;
	}
	bad = csv_utf8_check(p, linelen);
	if (bad < linelen) {
		snprintf(r->err, sizeof r->err, "invalid UTF-8 at column %zu", bad + 1);
		row->error = r->err;
		return 1;
	}
	if (2 * linelen + 16 > r->outcap) {
		void *t = r->out;
		xgrow(&t, &r->outcap, 2 * linelen + 16, 1);
		r->out = t;
	}
	memset(&ps, 0, sizeof ps);
	ps.r = r;
	ps.s = p;
	ps.n = linelen;
	ps.out = r->out;
	ps.at_eof = at_eof;
	if (parse_line(&ps) < 0) {
		row->error = r->err;
		return 1;
	}
	row->nmembers = ps.nmem;
	row->member = r->mem;
	return 1;
}

int jsonl_next(jsonl_reader *r, jsonl_row *row)
{
	int rc;
	memset(row, 0, sizeof *row);
	if (r->state == 0 && jsonl_start(r) < 0)
		return -1;
	if (r->state == 2)
		return 0;
	if (r->state < 0)
		return -1;
	do {
		rc = jsonl_record(r, row);
	} while (rc == 2);
	if (rc < 0)
		r->state = -1;
	return rc;
}

const jsonl_member *jsonl_find(const jsonl_row *row, const char *key)
{
	size_t i, kl = strlen(key);
	for (i = 0; i < row->nmembers; i++)
		if (row->member[i].keylen == kl && memcmp(row->member[i].key, key, kl) == 0)
			return &row->member[i];
	return NULL;
}
