/* JSON Lines reader: each non-blank line is one JSON object, returned as a
 * flat list of members (key, value, kind).
 *
 *   jsonl_reader *r = jsonl_open(f, "events.jsonl", NULL);
 *   jsonl_row row; int rc;
 *   while ((rc = jsonl_next(r, &row)) == 1) {
 *       if (row.error) { reject(row.line, row.raw, row.rawlen, row.error); continue; }
 *       const jsonl_member *m = jsonl_find(&row, "customer_id");
 *   }
 *   if (rc < 0) rtn_die(RTN_EXIT_USAGE, "%s", jsonl_error(r));
 *   jsonl_close(r);
 *
 * Values
 * - strings: decoded UTF-8 (escapes, \uXXXX with surrogate pairs);
 * - numbers: the exact JSON text ("12345678901234567890", "-1.5e3"): never
 *   converted through double, so ids above 2^53 stay exact;
 * - true, false, null: their text;
 * - nested objects and arrays: their raw JSON text (validated; nesting is
 *   counted from the line's object, which is level 1).
 * Keys and values are NUL-terminated; "\u0000" in a string is rejected so a
 * value never holds a NUL.
 *
 * Lines end with LF; a CR before it is dropped. A UTF-8 byte order mark at the
 * start is skipped; UTF-16 input is a fatal error. Lines holding only JSON
 * whitespace are skipped and counted (jsonl_blank_lines).
 *
 * Row errors (jsonl_next returns 1 with row->error set, the next line is read
 * normally): invalid JSON (with the column), a line that is not an object,
 * trailing commas, duplicate keys, invalid UTF-8, lone surrogates, nesting
 * deeper than max_depth, a line longer than max_line (skipped without being
 * held in memory; row->raw keeps its first JSONL_RAW_KEEP bytes and
 * row->raw_truncated is set), and a last line cut off before its end
 * ("object cut off at end of input").
 */
#ifndef RETAIN_JSONL_H
#define RETAIN_JSONL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSONL_RAW_KEEP 65536

typedef enum jsonl_kind {
	JSONL_STRING,
	JSONL_NUMBER,
	JSONL_TRUE,
	JSONL_FALSE,
	JSONL_NULL,
	JSONL_OBJECT,  /* raw JSON text */
	JSONL_ARRAY    /* raw JSON text */
} jsonl_kind;

typedef struct jsonl_options {
	size_t max_line;   /* longest line in bytes; default 16 MiB */
	int max_depth;     /* deepest nesting, the line's object being 1; default 64 */
	size_t chunk;      /* read size, default 1 MiB; small values are for tests */
} jsonl_options;

typedef struct jsonl_member {
	const char *key;
	size_t keylen;
	const char *val;
	size_t vallen;
	jsonl_kind kind;
} jsonl_member;

typedef struct jsonl_row {
	size_t nmembers;
	const jsonl_member *member;  /* in line order */
	uint64_t line;               /* 1-based physical line */
	uint64_t recno;              /* 1-based record number (blank lines not counted) */
	uint64_t offset;             /* byte offset of the line in the input */
	const char *raw;             /* the line without its line end */
	size_t rawlen;
	int raw_truncated;
	const char *error;           /* NULL, or the reason (no file/line prefix) */
} jsonl_row;

typedef struct jsonl_reader jsonl_reader;

void jsonl_options_init(jsonl_options *o);
/* Does not read yet. Returns NULL (errno EINVAL) for invalid options. */
jsonl_reader *jsonl_open(FILE *f, const char *name, const jsonl_options *opt);
/* 1: a record (maybe with row->error), 0: clean end, -1: fatal (read error,
 * UTF-16), message in jsonl_error. Row data stays valid until the next call.
 * 0 and -1 are sticky. */
int jsonl_next(jsonl_reader *r, jsonl_row *row);
/* "NAME: reason" or "NAME:LINE: reason" for a fatal error; "" when none. */
const char *jsonl_error(const jsonl_reader *r);
uint64_t jsonl_blank_lines(const jsonl_reader *r);
uint64_t jsonl_bytes(const jsonl_reader *r);
void jsonl_close(jsonl_reader *r);   /* frees; does not fclose */

/* The member named key (exact bytes), or NULL. */
const jsonl_member *jsonl_find(const jsonl_row *row, const char *key);
const char *jsonl_kind_name(jsonl_kind k);

#endif
