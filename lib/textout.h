/* Records as text: TSV, CSV (RFC 4180) and JSON Lines, with buffered,
 * checked output. Used by inspect, segment-export and report writers. */
#ifndef RETAIN_TEXTOUT_H
#define RETAIN_TEXTOUT_H

#include <stddef.h>
#include <stdio.h>

#include "stream.h"

enum txt_format { TXT_TSV = 1, TXT_CSV = 2, TXT_JSONL = 3 };

/* Parses "tsv", "csv", "jsonl"; 0 when unknown. */
int txt_format_parse(const char *s);

typedef struct txt_out {
	FILE *f;
	const char *name;  /* for error messages */
	int format;
	int neutralise;    /* CSV/TSV: prefix ' to free text starting with = + - @ TAB CR LF */
	char *buf;
	size_t len, cap;
} txt_out;

void txt_init(txt_out *o, FILE *f, const char *name, int format);
/* Header line (column names); nothing for JSON Lines. */
void txt_header(txt_out *o, const rtn_schema *s, const int *cols, int ncols);
/* One record: the columns listed in cols (all when cols is NULL). */
void txt_record(txt_out *o, const rtn_schema *s, const rtn_value *v, const int *cols, int ncols);
/* Low-level: append a field (already formatted text) with the format's
 * quoting; is_text marks free text (neutralised if asked, quoted in JSON). */
void txt_field(txt_out *o, int first, const char *name, const char *p, size_t n, int is_text);
/* One value of the given column type, formatted as txt_record does (strings
 * are free text, numbers plain, times text in JSON). */
void txt_value(txt_out *o, int first, const char *name, int type, const rtn_value *v);
void txt_endrow(txt_out *o);
/* Writes out the buffer; dies with exit 4 naming the output on error. */
void txt_flush(txt_out *o);
void txt_free(txt_out *o);

#endif
