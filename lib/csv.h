/* Streaming CSV/TSV/whitespace record reader (RFC 4180) over a FILE*.
 *
 *   csv_options o; csv_options_init(&o); o.delim = ';';
 *   csv_reader *r = csv_open(f, "orders.csv", &o);
 *   csv_row row; int rc;
 *   while ((rc = csv_next(r, &row)) == 1) {
 *       if (row.error) { reject(row.line, row.raw, row.rawlen, row.error); continue; }
 *       use(row.nfields, row.field[i], row.len[i]);
 *   }
 *   if (rc < 0) rtn_die(RTN_EXIT_USAGE, "%s", csv_error(r));
 *   csv_close(r);
 *
 * Input rules
 * - Fields may be quoted with '"'; a doubled quote inside a quoted field is
 *   one quote; quoted fields may hold delimiters and line breaks.
 * - Line ends: LF, CRLF and bare CR, mixed freely; a missing final line end
 *   is fine. Physical line numbers count each of them once (CRLF is one).
 * - A UTF-8 byte order mark at the very start is skipped (also when the first
 *   field is quoted). UTF-16 input (a UTF-16 BOM, or a NUL in every other
 *   byte at the start) is a fatal error (csv_next returns -1).
 * - Empty lines (and, in whitespace mode, lines of only blanks) are skipped
 *   and counted (csv_blank_lines); they are not records.
 * - Whitespace mode (delim = CSV_DELIM_WHITESPACE): fields are separated by
 *   runs of spaces and tabs; leading and trailing blanks are ignored (as in
 *   CDNOW_master.txt: " 00001 19970101  1   11.77").
 *
 * Row errors (csv_next returns 1 with row->error set; parsing continues;
 * fields are then unusable, nfields is 0): a quote inside an unquoted field
 * ("stray quote"), a NUL byte, invalid UTF-8, more than max_fields fields,
 * text after a closing quote, a field longer than max_field bytes, a record
 * longer than max_record bytes, an unterminated quote.
 *
 * Resynchronisation rule (so one bad quote never swallows the file):
 * structural errors (unterminated quote, text after a closing quote, field
 * or record too long) reject the record only up to the first line end that
 * follows the opening quote of the failing field -- normally just the
 * record's first physical line; row->line is where the record starts and
 * the message names the line where the quote opened. Reading resumes on the
 * next physical line, which is parsed afresh. A quoted field therefore runs
 * at most max_field bytes (default 1 MiB) before its opening line is
 * rejected, and a quote still open at end of input rejects its opening line
 * and re-reads everything after it (the buffer always holds the whole
 * record, so no seeking is needed and pipes work). When the failing field
 * has no line end yet, the rest of that physical line is rejected with it.
 * Other errors (stray quote, NUL, invalid UTF-8, too many fields) reject the
 * whole record, which is well delimited, and reading resumes after it.
 * When a single physical line is longer than the record limit, it is
 * skipped to its end without being held in memory; row->raw then holds its
 * first CSV_RAW_KEEP bytes and row->raw_truncated is set.
 *
 * row->error texts (N a field number from 1, L/M line numbers):
 *   stray quote in unquoted field N
 *   NUL byte in field N
 *   invalid UTF-8 at byte N of the record
 *   more than MAX fields (N)
 *   unterminated quote opened at line L
 *   unterminated quote opened at line L (the quote closing it at line M is followed by text)
 *   text after the closing quote of field N
 *   field N longer than MAX bytes [(unterminated quote opened at line L?)]
 *   record longer than MAX bytes [(unterminated quote opened at line L?)]
 */
#ifndef RETAIN_CSV_H
#define RETAIN_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* delim value for "runs of spaces and tabs". */
#define CSV_DELIM_WHITESPACE (-1)
/* Bytes of an over-long line kept in row->raw. */
#define CSV_RAW_KEEP 65536

typedef struct csv_options {
	int delim;          /* separator byte (',' '\t' ';' '|' ...), or CSV_DELIM_WHITESPACE;
	                       any ASCII byte except NUL, CR, LF and the quote. Default ',' */
	int quote;          /* quote byte, default '"'; 0 turns quoting off (quotes are data) */
	size_t max_field;   /* longest field in bytes as stored in the file; default 1 MiB */
	size_t max_fields;  /* most fields in a record; default 10000 */
	size_t max_record;  /* longest record held in memory; default 16 MiB, raised to at
	                       least 2 * max_field + 64 KiB */
	size_t chunk;       /* read size (fread), default 1 MiB; small values are for tests */
	int slow;           /* tests: never split a plain line the fast way (same results) */
	int in_place;       /* fields of a plain line end with a NUL written over their
	                       separator in the reader's buffer, not in a copy: row->raw
	                       then holds those NULs until csv_unsplit(row) */
} csv_options;

typedef struct csv_row {
	size_t nfields;
	const char *const *field; /* field[i]: NUL-terminated, unquoted, unescaped */
	const size_t *len;        /* len[i]: bytes in field[i] (no NUL inside: NUL is an error) */
	uint64_t line;            /* 1-based physical line where the record starts */
	uint64_t recno;           /* 1-based record number (blank lines not counted) */
	uint64_t offset;          /* byte offset of the record in the input (BOM included) */
	const char *raw;          /* original text of the record without its line end */
	size_t rawlen;
	int raw_truncated;        /* raw is only the first CSV_RAW_KEEP bytes */
	int split;                /* in_place: the separator that raw's NULs stand for, or 0 */
	const char *error;        /* NULL, or why the record is rejected (no file/line prefix) */
} csv_row;

typedef struct csv_reader csv_reader;

void csv_options_init(csv_options *o);

/* Does not read yet. name is used in fatal messages. Returns NULL (errno
 * EINVAL) when the options are invalid (bad delimiter, zero limits). */
csv_reader *csv_open(FILE *f, const char *name, const csv_options *opt);

/* 1: a record (maybe with row->error set), 0: clean end of input, -1: fatal
 * error (read error, UTF-16), message in csv_error. Everything row points to
 * stays valid until the next csv_next or csv_close. After 0 or -1 the same
 * value is returned again. */
int csv_next(csv_reader *r, csv_row *row);

/* Puts back the separators of an in_place row into row->raw (its fields are
 * unusable after); nothing for other rows. */
void csv_unsplit(csv_row *row);

/* Fatal error as "NAME:LINE: reason" or "NAME: reason"; "" when none. */
const char *csv_error(const csv_reader *r);

uint64_t csv_blank_lines(const csv_reader *r); /* empty lines skipped so far */
uint64_t csv_bytes(const csv_reader *r);       /* input bytes consumed so far */
void csv_close(csv_reader *r);                 /* frees; does not fclose */

/* Guesses the separator of the first line of text (up to the first line end
 * outside quotes): counts ',', '\t', ';' and '|' outside quotes and returns
 * the most frequent (ties in that order). With none of them, returns
 * CSV_DELIM_WHITESPACE if blanks separate two or more words, else 0. */
int csv_guess_delimiter(const char *text, size_t n);

/* Offset of the first byte that is not valid UTF-8 (overlong forms,
 * surrogates and code points above U+10FFFF are invalid), or n when all of
 * p[0..n) is valid. */
size_t csv_utf8_check(const void *p, size_t n);

/* Name of a delimiter for messages: "','", "tab", "whitespace", ... */
const char *csv_delim_name(int delim);

#endif
