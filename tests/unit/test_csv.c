/* Unit tests for lib/csv.c. Every input is parsed with several read sizes
 * (1 byte, 7 bytes, the default) and must give the same rows, so buffer
 * refills land on every byte boundary. */
#include "csv.h"

/* The fuzz target's checks, replayed on the saved crash inputs. */
#define LLVMFuzzerTestOneInput fuzz_one
#include "../fuzz/fuzz_csv.c"
#undef CHECK

#include "unit.h"
#include "util.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char out[4 << 20];
static int last_rc;
static uint64_t last_blank;
static char last_fatal[600];

static void put(size_t *o, const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n && *o + 4 < sizeof out; i++) {
		char c = s[i];
		if (c == '\n') {
			out[(*o)++] = '\\';
			out[(*o)++] = 'n';
		} else if (c == '\r') {
			out[(*o)++] = '\\';
			out[(*o)++] = 'r';
		} else if (c == 0) {
			out[(*o)++] = '\\';
			out[(*o)++] = '0';
		} else {
			out[(*o)++] = c;
		}
	}
	out[*o] = 0;
}

/* Renders all rows: "LINE:f1|f2\n" or "LINE!reason{raw}\n". */
static const char *parse_opt(const char *data, size_t n, const csv_options *opt)
{
	FILE *f = fmemopen((void *)data, n ? n : 1, "r");
	csv_reader *r;
	csv_row row;
	size_t o = 0, i;
	uint64_t rec = 0;
	char tmp[64];
	if (n == 0) {
		/* fmemopen refuses size 0: read an empty stream from /dev/null */
		fclose(f);
		f = fopen("/dev/null", "r");
	}
	r = csv_open(f, "t.csv", opt);
	if (!r) {
		fclose(f);
		return "(open failed)";
	}
	out[0] = 0;
	while ((last_rc = csv_next(r, &row)) == 1) {
		rec++;
		if (row.recno != rec)
			put(&o, "(bad recno)", 11);
		snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)row.line);
		put(&o, tmp, strlen(tmp));
		if (row.error) {
			put(&o, "!", 1);
			put(&o, row.error, strlen(row.error));
			put(&o, "{", 1);
			put(&o, row.raw, row.rawlen);
			put(&o, "}", 1);
		} else {
			put(&o, ":", 1);
			for (i = 0; i < row.nfields; i++) {
				if (i)
					put(&o, "|", 1);
				if (strlen(row.field[i]) != row.len[i])
					put(&o, "(len)", 5);
				put(&o, row.field[i], row.len[i]);
			}
			if (row.split) {
				/* in_place: the text comes back as the fields joined by the separator */
				size_t k = 0, ok = 1;
				for (i = 0; i < row.nfields && ok; i++) {
					ok = k + row.len[i] <= row.rawlen &&
					     memcmp(row.raw + k, row.field[i], row.len[i]) == 0;
					k += row.len[i] + 1;
				}
				csv_unsplit(&row);
				if (!ok || k != row.rawlen + 1 || memchr(row.raw, 0, row.rawlen) || row.split)
					put(&o, "(unsplit)", 9);
				for (i = 0, k = 0; i + 1 < row.nfields && ok; i++) {
					k += row.len[i];
					if (row.raw[k++] != opt->delim)
						put(&o, "(separator)", 11);
				}
			}
		}
		if (o + 2 < sizeof out) {
			out[o++] = '\n';
			out[o] = 0;
		}
	}
	snprintf(last_fatal, sizeof last_fatal, "%s", csv_error(r));
	last_blank = csv_blank_lines(r);
	if (last_rc == 0 && csv_next(r, &row) != 0)
		put(&o, "(not sticky)", 12);
	if (last_rc < 0 && csv_next(r, &row) != -1)
		put(&o, "(not sticky)", 12);
	csv_close(r);
	fclose(f);
	return out;
}

/* Parses with read sizes 1, 7 and default, with the fast splitter of plain
 * lines turned off, and with fields made in place; all must agree. */
static char agreed[(8 << 20) + 64];
static char first[4 << 20];
static const char *parse_n(const char *data, size_t n, int delim, size_t max_field,
                           size_t max_fields)
{
	static const size_t chunks[] = { 1, 7, 0, 0, 0, 7 };
	int rc0 = 0;
	size_t c;
	for (c = 0; c < 6; c++) {
		csv_options o;
		csv_options_init(&o);
		o.slow = c == 3;
		o.in_place = c >= 4;
		o.delim = delim;
		if (max_field)
			o.max_field = max_field;
		if (max_fields)
			o.max_fields = max_fields;
		if (chunks[c])
			o.chunk = chunks[c];
		parse_opt(data, n, &o);
		if (c == 0) {
			snprintf(first, sizeof first, "%s", out);
			rc0 = last_rc;
		} else if (strcmp(first, out) != 0 || rc0 != last_rc) {
			snprintf(agreed, sizeof agreed, "(chunk sizes disagree)\n%s---\n%s", first, out);
			return agreed;
		}
	}
	snprintf(agreed, sizeof agreed, "%s", out);
	return agreed;
}

#define P(s) parse_n((s), sizeof(s) - 1, ',', 0, 0)
#define PD(s, d) parse_n((s), sizeof(s) - 1, (d), 0, 0)

static void test_basics(void)
{
	CHECK_STR(P(""), "", "empty file: no rows");
	CHECK(last_rc == 0, "empty file ends cleanly");
	CHECK_STR(P("id,amount\n"), "1:id|amount\n", "header only");
	CHECK_STR(P("a,b\n1,2"), "1:a|b\n2:1|2\n", "no final newline");
	CHECK_STR(P("a,b\r\n1,2\r\n"), "1:a|b\n2:1|2\n", "CRLF");
	CHECK_STR(P("a,b\r1,2\r3,4"), "1:a|b\n2:1|2\n3:3|4\n", "bare CR");
	CHECK_STR(P("a\r\nb\nc\rd\r\n"), "1:a\n2:b\n3:c\n4:d\n", "mixed line ends");
	CHECK_STR(P("a,\n,\n,,x"), "1:a|\n2:|\n3:||x\n", "empty fields and trailing delimiter");
	CHECK_STR(P("a\n\n\r\n\rb\n\n"), "1:a\n5:b\n", "blank lines skipped, lines counted");
	CHECK(last_blank == 4, "blank lines counted (%llu)", (unsigned long long)last_blank);
	CHECK_STR(P("\xEF\xBB\xBFid,n\n1,2\n"), "1:id|n\n2:1|2\n", "UTF-8 BOM skipped");
	CHECK_STR(P("\xEF\xBB\xBF\"id\",n\n"), "1:id|n\n", "BOM before a quoted first header");
	CHECK_STR(P("\xEF\xBB\xBF"), "", "BOM only");
	CHECK_STR(P("x,\xEF\xBB\xBF\n"), "1:x|\xEF\xBB\xBF\n", "BOM later is data");
	CHECK_STR(P("007,0042\n"), "1:007|0042\n", "leading zeros kept");
	CHECK_STR(P("caf\xC3\xA9,\xF0\x9F\x98\x80\n"), "1:caf\xC3\xA9|\xF0\x9F\x98\x80\n",
	          "valid UTF-8");
}

static void test_quotes(void)
{
	CHECK_STR(P("\"a,b\",\"c\"\"d\",\"\"\n"), "1:a,b|c\"d|\n", "quoted, doubled quote, empty");
	CHECK_STR(P("\"\"\"\"\n"), "1:\"\n", "field of one quote");
	CHECK_STR(P("x,\"l1\nl2\",y\nz,w\n"), "1:x|l1\\nl2|y\n3:z|w\n", "newline inside quotes");
	CHECK_STR(P("x,\"a\r\nb\r\"\r\nz\r\n"), "1:x|a\\r\\nb\\r\n4:z\n",
	          "CRLF and CR inside quotes count as lines");
	CHECK_STR(P("\"a\""), "1:a\n", "quoted field at EOF");
	CHECK_STR(P("\"a\",\n"), "1:a|\n", "quoted then empty");
	CHECK_STR(P("a,b\"c,d\ne,f\n"), "1!stray quote in unquoted field 2{a,b\"c,d}\n2:e|f\n",
	          "stray quote rejects the row only");
	CHECK_STR(P("a, \"b\"\n"), "1!stray quote in unquoted field 2{a, \"b\"}\n",
	          "blank before quote is a stray quote");
	CHECK_STR(P("\"a\"b,c\nd\n"), "1!text after the closing quote of field 1{\"a\"b,c}\n2:d\n",
	          "text after closing quote");
}

static void test_unterminated(void)
{
	CHECK_STR(P("a,b\nc,\"d\ne\n"),
	          "1:a|b\n2!unterminated quote opened at line 2{c,\"d}\n3:e\n",
	          "unterminated quote at the end: opening line rejected, rest re-read");
	CHECK_STR(P("a,\"bcd"), "1!unterminated quote opened at line 1{a,\"bcd}\n",
	          "unterminated quote on the last line without newline");
	CHECK_STR(P("h1,h2\n1,\"abc\n2,x\n3,y\n4,\"z\"\n5,w\n"),
	          "1:h1|h2\n2!unterminated quote opened at line 2 (the quote closing it at line 5 "
	          "is followed by text){1,\"abc}\n3:2|x\n4:3|y\n5:4|z\n6:5|w\n",
	          "mid-file unterminated quote: reported at its line, later rows kept");
	CHECK_STR(P("1,\"abc\n2,x\n3,y\n"),
	          "1!unterminated quote opened at line 1{1,\"abc}\n2:2|x\n3:3|y\n",
	          "quote open until EOF re-reads the following lines");
	CHECK_STR(P("a,\"x\ny\",b,\"open\nn,m\n"),
	          "1!unterminated quote opened at line 2{a,\"x\\ny\",b,\"open}\n3:n|m\n",
	          "second quote in a multi-line record: rejected up to its line");
	CHECK_STR(P("1,\"ok\nstill\",2\n3,4\n"), "1:1|ok\\nstill|2\n3:3|4\n",
	          "a real multi-line field is accepted");
	CHECK_STR(P("1,\"a\n2,\"b\n3,c\n"),
	          "1!unterminated quote opened at line 1 (the quote closing it at line 2 is "
	          "followed by text){1,\"a}\n2!unterminated quote opened at line 2{2,\"b}\n3:3|c\n",
	          "two unterminated quotes");
	/* a quote that never closes in a long file is bounded by max_field */
	{
		static char big[200000];
		size_t o = 0, i;
		o += (size_t)snprintf(big + o, sizeof big - o, "id,v\n1,\"oops\n");
		for (i = 2; i < 5000; i++)
			o += (size_t)snprintf(big + o, sizeof big - o, "%zu,x\n", i);
		const char *res = parse_n(big, o, ',', 1000, 0);
		CHECK(strncmp(res, "1:id|v\n2!field 2 longer than 1000 bytes (unterminated quote "
		              "opened at line 2?){1,\"oops}\n3:2|x\n4:3|x\n", 60) == 0,
		      "quote open for many lines: rejected at the field limit");
		CHECK(strstr(res, "{1,\"oops}\n3:2|x\n4:3|x\n") != NULL, "rows after it re-read");
		CHECK(strstr(res, "5000:4999|x\n") != NULL, "last row kept");
		size_t rows = 0;
		for (i = 0; res[i]; i++)
			rows += res[i] == '\n';
		CHECK(rows == 5000, "every line accounted for (%zu rows)", rows);
	}
}

static void test_bad_bytes(void)
{
	static const char nul[] = "a,b\0c\nd\n";
	CHECK_STR(parse_n(nul, sizeof nul - 1, ',', 0, 0), "1!NUL byte in field 2{a,b\\0c}\n2:d\n",
	          "NUL byte rejects the row");
	static const char qnul[] = "\"a\0\"\nd\n";
	CHECK_STR(parse_n(qnul, sizeof qnul - 1, ',', 0, 0),
	          "1!NUL byte in field 1{\"a\\0\"}\n2:d\n", "NUL byte inside quotes");
	CHECK_STR(P("a,\xff\nb\n"), "1!invalid UTF-8 at byte 3 of the record{a,\xff}\n2:b\n",
	          "invalid UTF-8 rejects the row");
	CHECK_STR(P("\xC0\xAF\n"), "1!invalid UTF-8 at byte 1 of the record{\xC0\xAF}\n",
	          "overlong UTF-8");
	CHECK_STR(P("\xED\xA0\x80\n"), "1!invalid UTF-8 at byte 1 of the record{\xED\xA0\x80}\n",
	          "UTF-8 encoded surrogate");
	CHECK_STR(P("ab\xC3"), "1!invalid UTF-8 at byte 3 of the record{ab\xC3}\n",
	          "cut UTF-8 sequence at EOF");
	CHECK_STR(P("\xF4\x90\x80\x80\n"), "1!invalid UTF-8 at byte 1 of the record{\xF4\x90\x80\x80}\n",
	          "code point above U+10FFFF");
	CHECK(csv_utf8_check("abcdefghij\xE2\x82\xAC", 13) == 13, "utf8 check: euro sign");
	CHECK(csv_utf8_check("abcdefghij\xE2\x82", 12) == 10, "utf8 check: cut at end");
	static const char u16le[] = "\xFF\xFEi\0d\0\n\0";
	CHECK_STR(parse_n(u16le, sizeof u16le - 1, ',', 0, 0), "", "UTF-16LE BOM: no rows");
	CHECK(last_rc == -1, "UTF-16LE BOM is fatal");
	CHECK(strstr(last_fatal, "UTF-16 input is not supported; convert with iconv -f UTF-16 "
	             "-t UTF-8") != NULL, "UTF-16 message: %s", last_fatal);
	static const char u16be[] = "\xFE\xFF\0i\0d";
	parse_n(u16be, sizeof u16be - 1, ',', 0, 0);
	CHECK(last_rc == -1 && strstr(last_fatal, "UTF-16"), "UTF-16BE BOM is fatal");
	static const char u16nobom[] = "i\0d\0,\0n\0\n\0""1\0,\0""2\0\n\0";
	parse_n(u16nobom, sizeof u16nobom - 1, ',', 0, 0);
	CHECK(last_rc == -1 && strstr(last_fatal, "UTF-16"), "UTF-16 without BOM is fatal");
}

static void test_delimiters(void)
{
	CHECK_STR(PD("a\tb c\t\"x\ty\"\n", '\t'), "1:a|b c|x\ty\n", "TSV");
	CHECK_STR(PD("a;b,c;d\n", ';'), "1:a|b,c|d\n", "semicolon");
	CHECK_STR(PD("a|b\n", '|'), "1:a|b\n", "pipe");
	CHECK_STR(PD(" customer_id  date number_of_cds  dollar_value\n"
	             " 00001 19970101  1   11.77\n 00002 19970112  1   12.00  \r\n\t \n",
	             CSV_DELIM_WHITESPACE),
	          "1:customer_id|date|number_of_cds|dollar_value\n2:00001|19970101|1|11.77\n"
	          "3:00002|19970112|1|12.00\n",
	          "whitespace runs (CDNOW style)");
	CHECK(last_blank == 1, "blank-only line counted as blank");
	CHECK_STR(PD("\"a b\"\t c\n \"x\"y\n", CSV_DELIM_WHITESPACE),
	          "1:a b|c\n2!text after the closing quote of field 1{ \"x\"y}\n",
	          "quotes in whitespace mode");
	CHECK_STR(PD("a b   ", CSV_DELIM_WHITESPACE), "1:a|b\n", "trailing blanks at EOF");
	CHECK_STR(PD("   ", CSV_DELIM_WHITESPACE), "", "only blanks");
	{
		csv_options o;
		csv_options_init(&o);
		o.quote = 0;
		CHECK_STR(parse_opt("12\" vinyl,x\n", 12, &o), "1:12\" vinyl|x\n", "quoting off");
		o.delim = '"';
		o.quote = '"';
		CHECK(csv_open(stdin, "x", &o) == NULL, "quote as delimiter refused");
		o.delim = '\n';
		CHECK(csv_open(stdin, "x", &o) == NULL, "newline delimiter refused");
		o.delim = 0;
		CHECK(csv_open(stdin, "x", &o) == NULL, "NUL delimiter refused");
	}
	CHECK(csv_guess_delimiter("a;b;c", 5) == ';', "guess ;");
	CHECK(csv_guess_delimiter("\"a;b;c\",d", 9) == ',', "guess ignores quoted");
	CHECK(csv_guess_delimiter("a\tb\tc,d", 7) == '\t', "guess tab");
	CHECK(csv_guess_delimiter("a|b|c,d\n1,2,3,4,5", 17) == '|', "guess uses first line only");
	CHECK(csv_guess_delimiter(" id  name", 9) == CSV_DELIM_WHITESPACE, "guess whitespace");
	CHECK(csv_guess_delimiter("id", 2) == 0, "guess nothing");
	CHECK_STR(csv_delim_name(';'), "';'", "delimiter name");
	CHECK_STR(csv_delim_name('\t'), "tab", "tab name");
}

static void test_limits(void)
{
	int rc;
	char *big;
	size_t n, i;
	CHECK_STR(parse_n("a,12345678901,b\nc\n", 18, ',', 10, 0),
	          "1!field 2 longer than 10 bytes{a,12345678901,b}\n2:c\n", "field limit");
	CHECK_STR(parse_n("a,1234567890,b\n", 15, ',', 10, 0), "1:a|1234567890|b\n",
	          "field at the limit is fine");
	CHECK_STR(parse_n("\"12345678901\"\nc\n", 16, ',', 10, 0),
	          "1!field 1 longer than 10 bytes{\"12345678901\"}\n2:c\n", "quoted field limit");
	CHECK_STR(parse_n("1,2,3,4,5,6\na\n", 13, ',', 0, 5), "1!more than 5 fields (6){1,2,3,4,5,6}\n2:a\n",
	          "column limit");
	CHECK_STR(parse_n("1,2,3,4,5\n", 10, ',', 0, 5), "1:1|2|3|4|5\n", "at the column limit");

	/* 100,000 columns with the default limit */
	n = 200000;
	big = malloc(n + 16);
	for (i = 0; i < n; i += 2) {
		big[i] = 'x';
		big[i + 1] = ',';
	}
	big[n - 1] = '\n';
	memcpy(big + n, "ok\n", 3);
	{
		const char *res = parse_n(big, n + 3, ',', 0, 0);
		CHECK(strncmp(res, "1!more than 10000 fields (100000){x,x,x", 39) == 0 &&
		      strstr(res, ",x}\n2:ok\n") != NULL, "100,000 columns rejected, next row kept");
	}
	free(big);

	/* a 10 MB field with default limits: rejected, memory bounded, next line read */
	n = 10u << 20;
	big = malloc(n + 16);
	memcpy(big, "1,", 2);
	memset(big + 2, 'y', n - 2);
	big[n - 1] = '\n';
	memcpy(big + n, "2,z\n", 4);
	{
		FILE *f = fmemopen(big, n + 4, "r");
		csv_reader *r = csv_open(f, "big", NULL);
		csv_row row;
		rc = csv_next(r, &row);
		CHECK(rc == 1 && row.error && strcmp(row.error, "field 2 longer than 1048576 bytes") == 0,
		      "10 MB field rejected: %s", row.error ? row.error : "(none)");
		CHECK(row.raw_truncated && row.rawlen == CSV_RAW_KEEP && memcmp(row.raw, "1,yyy", 5) == 0,
		      "raw text of a huge line is a bounded prefix");
		CHECK(row.line == 1, "huge field line");
		rc = csv_next(r, &row);
		CHECK(rc == 1 && !row.error && row.nfields == 2 && strcmp(row.field[1], "z") == 0 &&
		      row.line == 2, "row after the 10 MB field read");
		rc = csv_next(r, &row);
		CHECK(rc == 0, "then clean end");
		csv_close(r);
		fclose(f);
	}
	/* the same field quoted, without a newline inside */
	big[2] = '"';
	big[n - 2] = '"';
	{
		const char *res = parse_n(big, n + 4, ',', 0, 0);
		CHECK(strncmp(res, "1!field 2 longer than 1048576 bytes{1,\"yy", 41) == 0 &&
		      strstr(res, "yy}\n2:2|z\n") != NULL, "10 MB quoted field rejected");
	}
	/* raised limit accepts it */
	{
		csv_options o;
		FILE *f = fmemopen(big, n + 4, "r");
		csv_reader *r;
		csv_row row;
		csv_options_init(&o);
		o.max_field = 20u << 20;
		r = csv_open(f, "big", &o);
		rc = csv_next(r, &row);
		CHECK(rc == 1 && !row.error && row.nfields == 2 &&
		      row.len[1] == n - 5, "10 MB field accepted with --max-field 20M");
		csv_close(r);
		fclose(f);
	}
	free(big);

	/* record limit: many small fields on one line */
	n = 300000;
	big = malloc(n + 16);
	for (i = 0; i < n; i += 5)
		memcpy(big + i, "abcd,", 5);
	big[n - 1] = '\n';
	memcpy(big + n, "q\n", 2);
	{
		csv_options o;
		FILE *f = fmemopen(big, n + 2, "r");
		csv_reader *r;
		csv_row row;
		csv_options_init(&o);
		o.max_field = 10;
		o.max_fields = 1000000;
		o.max_record = 1; /* raised to 2 * max_field + 64 KiB */
		o.chunk = 4096;
		r = csv_open(f, "big", &o);
		rc = csv_next(r, &row);
		CHECK(rc == 1 && row.error &&
		      strcmp(row.error, "record longer than 65556 bytes") == 0, "record limit: %s",
		      row.error ? row.error : "(none)");
		rc = csv_next(r, &row);
		CHECK(rc == 1 && !row.error && row.line == 2 && row.nfields == 1,
		      "row after an over-long record");
		csv_close(r);
		fclose(f);
	}
	free(big);
}

static void test_rows(void)
{
	static const char data[] = "h\n\"a\nb\"\nc\n";
	FILE *f = fmemopen((void *)data, sizeof data - 1, "r");
	csv_reader *r = csv_open(f, "t.csv", NULL);
	csv_row row;
	int rc;
	rc = csv_next(r, &row);
	CHECK(rc == 1 && row.line == 1 && row.recno == 1 && row.offset == 0,
	      "row 1 position");
	rc = csv_next(r, &row);
	CHECK(rc == 1 && row.line == 2 && row.recno == 2 && row.offset == 2 &&
	      row.rawlen == 5 && memcmp(row.raw, "\"a\nb\"", 5) == 0, "row 2 raw text and offset");
	rc = csv_next(r, &row);
	CHECK(rc == 1 && row.line == 4 && row.recno == 3 && row.offset == 8,
	      "row 3 after a two-line record");
	rc = csv_next(r, &row);
	CHECK(rc == 0 && csv_bytes(r) == sizeof data - 1, "all bytes consumed");
	CHECK_STR(csv_error(r), "", "no fatal error");
	csv_close(r);
	fclose(f);

	/* read error: a stream opened for writing */
	f = fopen("/dev/null", "w");
	r = csv_open(f, "w.csv", NULL);
	rc = csv_next(r, &row);
	CHECK(rc == -1 && strncmp(csv_error(r), "w.csv: read error", 17) == 0,
	      "read error is fatal: %s", csv_error(r));
	csv_close(r);
	fclose(f);
}

static void test_cdnow(void)
{
	FILE *f = fopen("../shared/data/cdnow/CDNOW_master.txt", "r");
	csv_options o;
	csv_reader *r;
	csv_row row;
	size_t rows = 0, bad = 0;
	int rc;
	CHECK(f != NULL, "CDNOW_master.txt opens");
	if (!f)
		return;
	csv_options_init(&o);
	o.delim = CSV_DELIM_WHITESPACE;
	r = csv_open(f, "CDNOW_master.txt", &o);
	while ((rc = csv_next(r, &row)) == 1) {
		rows++;
		if (row.error || row.nfields != 4 || row.line != rows)
			bad++;
	}
	CHECK(rc == 0 && rows == 69660 && bad == 0, "CDNOW_master.txt: %zu rows, %zu bad", rows, bad);
	csv_close(r);
	fclose(f);
}

/* Every file in tests/fuzz/regress/csv/ goes through the fuzz target's
 * checks (which abort on failure). */
static void test_regress(void)
{
	const char *dir = "tests/fuzz/regress/csv";
	DIR *dh = opendir(dir);
	struct dirent *e;
	size_t files = 0;
	CHECK(dh != NULL, "%s exists", dir);
	if (!dh)
		return;
	while ((e = readdir(dh)) != NULL) {
		char path[512];
		FILE *f;
		static unsigned char data[1 << 20];
		size_t n;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		n = fread(data, 1, sizeof data, f);
		fclose(f);
		fuzz_one(data, n);
		files++;
	}
	closedir(dh);
	CHECK(files >= 1, "replayed %zu fuzz regression inputs", files);
}

/* Random records from the bytes that matter (delimiters, quotes, line ends,
 * NUL, bad and good UTF-8, long runs): with read sizes of 1 and 7 bytes
 * most records take the state machine, with the default read size whole
 * lines take the fast splitter; parse_n requires the same rows, errors,
 * line numbers and record numbers from all three, also near the field
 * length and field count limits. The second half has long plain lines
 * (several 64-byte blocks of the in-place splitter) with a rarer special
 * byte, so that one is often met only after separators were replaced. */
static void test_random_agreement(void)
{
	static const char *atoms[] = {"a", "bc", ",", ",", ",", "\"", "\"\"", "\n", "\n", "\r\n",
	                              "\r", "\t", ";", " ", "\xff", "\xc3\xa9", "0123456789abcdef",
	                              "0123456789abcdef0123456789abcdef", "\x00"};
	static char buf[4096];
	uint64_t x = 0x2545F4914F6CDD1DULL;
	int bad = 0, n_inputs = 6000;
	for (int t = 0; t < n_inputs; t++) {
		size_t n = 0;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int natoms = 1 + (int)(x % (t < n_inputs / 2 ? 60 : 200));
		for (int i = 0; i < natoms; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* mostly plain text and delimiters, sometimes the rest */
			static const size_t plain_long[] = {0, 1, 2, 16, 17};
			size_t k = t < n_inputs / 2 ? (x % 16 < 12 ? x % 5 : x % (sizeof atoms / sizeof *atoms))
			           : (x % 64 ? plain_long[(x >> 8) % 5] : x % (sizeof atoms / sizeof *atoms));
			const char *a = atoms[k];
			size_t len = k == sizeof atoms / sizeof *atoms - 1 ? 1 : strlen(a);
			if (n + len >= sizeof buf)
				break;
			memcpy(buf + n, a, len);
			n += len;
		}
		size_t max_field = t % 3 == 0 ? 1 + t % 20 : 0, max_fields = t % 5 == 0 ? 1 + t % 6 : 0;
		int delim = t % 7 == 0 ? ';' : ',';
		const char *got = parse_n(buf, n, delim, max_field, max_fields);
		if (strncmp(got, "(chunk sizes disagree)", 22) == 0 && !bad++)
			printf("# first disagreement (input %d):\n# %s\n", t, got);
	}
	CHECK(bad == 0, "%d random inputs parse the same with every read size (%d disagree)", n_inputs,
	      bad);
}

int main(void)
{
	test_basics();
	test_random_agreement();
	test_quotes();
	test_unterminated();
	test_bad_bytes();
	test_delimiters();
	test_limits();
	test_rows();
	test_cdnow();
	test_regress();
	return unit_done();
}
