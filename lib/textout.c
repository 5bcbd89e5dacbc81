/* Records as text. Rows are built in a buffer and written in large chunks;
 * every write is checked. */
#include "textout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int txt_format_parse(const char *s)
{
	if (strcmp(s, "tsv") == 0)
		return TXT_TSV;
	if (strcmp(s, "csv") == 0)
		return TXT_CSV;
	if (strcmp(s, "jsonl") == 0 || strcmp(s, "json") == 0)
		return TXT_JSONL;
	return 0;
}

void txt_init(txt_out *o, FILE *f, const char *name, int format)
{
	memset(o, 0, sizeof *o);
	o->f = f;
	o->name = name;
	o->format = format;
	o->cap = 1 << 16;
	o->buf = xmalloc(o->cap);
}

void txt_flush(txt_out *o)
{
	errno = 0;
	if (o->len && rtn_fwrite(o->buf, o->len, o->f) != 0) {
		int e = errno;
		rtn_die(RTN_EXIT_SYSTEM, "%s: write error%s%s", o->name, e ? ": " : "", e ? strerror(e) : "");
	}
	o->len = 0;
}

static void put(txt_out *o, const char *p, size_t n)
{
	if (o->len + n > o->cap) {
		txt_flush(o);
		if (n > o->cap)
			xgrow((void **)&o->buf, &o->cap, n, 1);
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void putc1(txt_out *o, char c)
{
	if (o->len == o->cap)
		txt_flush(o);
	o->buf[o->len++] = c;
}

static int risky(const char *p, size_t n)
{
	return n > 0 && (p[0] == '=' || p[0] == '+' || p[0] == '-' || p[0] == '@' || p[0] == '\t' ||
			 p[0] == '\r' || p[0] == '\n');
}

static void json_string(txt_out *o, const char *p, size_t n)
{
	putc1(o, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '"' || c == '\\') {
			putc1(o, '\\');
			putc1(o, (char)c);
		} else if (c < 0x20) {
			char esc[8];
			const char *named = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
			if (named) {
				put(o, named, 2);
			} else {
				snprintf(esc, sizeof esc, "\\u%04x", c);
				put(o, esc, 6);
			}
		} else {
			putc1(o, (char)c);
		}
	}
	putc1(o, '"');
}

void txt_field(txt_out *o, int first, const char *name, const char *p, size_t n, int is_text)
{
	int guard = is_text && o->neutralise && risky(p, n);
	switch (o->format) {
	case TXT_JSONL:
		putc1(o, first ? '{' : ',');
		json_string(o, name, strlen(name));
		putc1(o, ':');
		if (is_text)
			json_string(o, p, n);
		else if (n == 0)
			put(o, "null", 4);
		else
			put(o, p, n);
		break;
	case TXT_CSV: {
		if (!first)
			putc1(o, ',');
		int quote = guard || memchr(p, ',', n) || memchr(p, '"', n) || memchr(p, '\n', n) || memchr(p, '\r', n);
		if (quote)
			putc1(o, '"');
		if (guard)
			putc1(o, '\'');
		for (size_t i = 0; i < n; i++) {
			if (p[i] == '"')
				putc1(o, '"');
			putc1(o, p[i]);
		}
		if (quote)
			putc1(o, '"');
		break;
	}
	default: /* TSV: backslash escapes for tab, newline, CR, backslash */
		if (!first)
			putc1(o, '\t');
		if (guard)
			putc1(o, '\'');
		for (size_t i = 0; i < n; i++) {
			char c = p[i];
			if (c == '\t' || c == '\n' || c == '\r' || c == '\\') {
				putc1(o, '\\');
				putc1(o, c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\');
			} else {
				putc1(o, c);
			}
		}
	}
}

void txt_endrow(txt_out *o)
{
	if (o->format == TXT_JSONL)
		putc1(o, '}');
	putc1(o, '\n');
}

void txt_header(txt_out *o, const rtn_schema *s, const int *cols, int ncols)
{
	if (o->format == TXT_JSONL)
		return;
	if (!cols)
		ncols = s->n;
	for (int k = 0; k < ncols; k++) {
		const char *name = s->cols[cols ? cols[k] : k].name;
		txt_field(o, k == 0, name, name, strlen(name), 1);
	}
	putc1(o, '\n');
}

void txt_value(txt_out *o, int first, const char *name, int type, const rtn_value *v)
{
	char num[64];
	if (type == RTN_STRING) {
		txt_field(o, first, name, v->s, v->len, 1);
	} else {
		size_t n = rtn_value_format(v, type, num, sizeof num);
		/* times are text in JSON; numbers are plain */
		int as_text = type == RTN_TIME && n > 0 && o->format == TXT_JSONL;
		txt_field(o, first, name, num, n, as_text);
	}
}

void txt_record(txt_out *o, const rtn_schema *s, const rtn_value *v, const int *cols, int ncols)
{
	if (!cols)
		ncols = s->n;
	for (int k = 0; k < ncols; k++) {
		int c = cols ? cols[k] : k;
		txt_value(o, k == 0, s->cols[c].name, s->cols[c].type, &v[c]);
	}
	txt_endrow(o);
}

void txt_free(txt_out *o)
{
	free(o->buf);
	o->buf = NULL;
}
