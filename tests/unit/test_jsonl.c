/* Unit tests for lib/jsonl.c. Inputs are parsed with read sizes 1, 5 and
 * the default; all must give the same rows. */
#include "jsonl.h"

/* The fuzz target's checks, replayed on the saved crash inputs. */
#define LLVMFuzzerTestOneInput fuzz_one
#include "../fuzz/fuzz_jsonl.c"
#undef CHECK

#include "unit.h"
#include "util.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char out[1 << 20];
static char first[1 << 20];
static char agreed[(2 << 20) + 64];
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
		} else if (c == 0) {
			out[(*o)++] = '\\';
			out[(*o)++] = '0';
		} else {
			out[(*o)++] = c;
		}
	}
	out[*o] = 0;
}

static const char kindc[] = "sntfzoa"; /* string number true false null object array */

/* Renders rows: "LINE:key=value/kind,..." or "LINE!reason{raw}". */
static const char *parse_opt(const char *data, size_t n, const jsonl_options *opt)
{
	FILE *f = n ? fmemopen((void *)data, n, "r") : fopen("/dev/null", "r");
	jsonl_reader *r = jsonl_open(f, "t.jsonl", opt);
	jsonl_row row;
	size_t o = 0, i;
	uint64_t rec = 0;
	char tmp[64];
	out[0] = 0;
	while ((last_rc = jsonl_next(r, &row)) == 1) {
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
			for (i = 0; i < row.nmembers; i++) {
				const jsonl_member *m = &row.member[i];
				if (i)
					put(&o, ",", 1);
				if (strlen(m->key) != m->keylen || strlen(m->val) != m->vallen)
					put(&o, "(len)", 5);
				put(&o, m->key, m->keylen);
				put(&o, "=", 1);
				put(&o, m->val, m->vallen);
				put(&o, "/", 1);
				put(&o, &kindc[m->kind], 1);
			}
		}
		if (o + 2 < sizeof out) {
			out[o++] = '\n';
			out[o] = 0;
		}
	}
	snprintf(last_fatal, sizeof last_fatal, "%s", jsonl_error(r));
	last_blank = jsonl_blank_lines(r);
	if (jsonl_next(r, &row) != last_rc)
		put(&o, "(not sticky)", 12);
	jsonl_close(r);
	fclose(f);
	return out;
}

static const char *parse_n(const char *data, size_t n, size_t max_line, int max_depth)
{
	static const size_t chunks[] = { 1, 5, 0 };
	int rc0 = 0;
	size_t c;
	for (c = 0; c < 3; c++) {
		jsonl_options o;
		jsonl_options_init(&o);
		if (max_line)
			o.max_line = max_line;
		if (max_depth)
			o.max_depth = max_depth;
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

#define P(s) parse_n((s), sizeof(s) - 1, 0, 0)

static void test_values(void)
{
	CHECK_STR(P(""), "", "empty input");
	CHECK(last_rc == 0, "empty input ends cleanly");
	CHECK_STR(P("{\"id\":\"007\",\"n\":12,\"ok\":true,\"no\":false,\"x\":null}\n"),
	          "1:id=007/s,n=12/n,ok=true/t,no=false/f,x=null/z\n", "scalar kinds");
	CHECK_STR(P("{}\n"), "1:\n", "empty object");
	CHECK_STR(P("{\"id\":12345678901234567890123,\"f\":-1.5e+300,\"z\":0,\"m\":-0.0}\n"),
	          "1:id=12345678901234567890123/n,f=-1.5e+300/n,z=0/n,m=-0.0/n\n",
	          "numbers kept as exact text (above 2^53)");
	CHECK_STR(P("{\"id\":9007199254740993}"), "1:id=9007199254740993/n\n",
	          "2^53+1 exact, no final newline");
	CHECK_STR(P("  {\"a\" : [1, {\"b\":[]}] , \"o\":{\"k\":\"v\"}}  \r\n"),
	          "1:a=[1, {\"b\":[]}]/a,o={\"k\":\"v\"}/o\n", "nested values kept as raw JSON, CRLF");
	CHECK_STR(P("{\"s\":\"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\"}\n"),
	          "1:s=a\"b\\c/d\\n\t\r\b\f/s\n", "simple escapes");
	CHECK_STR(P("{\"s\":\"\\u00e9\\u20AC\\ud83d\\ude00\"}\n"),
	          "1:s=\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80/s\n", "\\u escapes and a surrogate pair");
	CHECK_STR(P("{\"caf\xC3\xA9\":\"\xF0\x9F\x98\x80\"}\n"), "1:caf\xC3\xA9=\xF0\x9F\x98\x80/s\n",
	          "raw UTF-8");
	CHECK_STR(P("{\"\\u0061\":1}\n"), "1:a=1/n\n", "escaped key decoded");
	CHECK_STR(P("\xEF\xBB\xBF{\"a\":1}\n"), "1:a=1/n\n", "UTF-8 BOM skipped");
	CHECK_STR(P("{\"a\":1}\n\n  \n\r\n{\"a\":2}\n\n"), "1:a=1/n\n5:a=2/n\n",
	          "blank lines skipped, lines counted");
	CHECK(last_blank == 4, "blank lines counted (%llu)", (unsigned long long)last_blank);
}

static void test_errors(void)
{
	CHECK_STR(P("[1,2]\n{\"a\":1}\n"),
	          "1!line is not a JSON object (it starts with '['){[1,2]}\n2:a=1/n\n",
	          "array line rejected, next line read");
	CHECK_STR(P("\"x\"\nnull\n42\n"),
	          "1!line is not a JSON object (it starts with '\"'){\"x\"}\n"
	          "2!line is not a JSON object (it starts with 'n'){null}\n"
	          "3!line is not a JSON object (it starts with '4'){42}\n", "scalar lines rejected");
	CHECK_STR(P("{\"a\":1,}\n"), "1!trailing comma at column 8{{\"a\":1,}}\n", "trailing comma");
	CHECK_STR(P("{\"a\":[1,2,]}\n"), "1!trailing comma at column 11{{\"a\":[1,2,]}}\n",
	          "trailing comma in an array");
	CHECK_STR(P("{\"a\":{\"b\":1,}}\n"), "1!trailing comma at column 13{{\"a\":{\"b\":1,}}}\n",
	          "trailing comma in a nested object");
	CHECK_STR(P("{\"a\":1,\"b\":2,\"a\":3}\n{\"ok\":1}\n"),
	          "1!duplicate key \"a\"{{\"a\":1,\"b\":2,\"a\":3}}\n2:ok=1/n\n", "duplicate keys");
	CHECK_STR(P("{\"a\":1,\"\\u0061\":2}\n"), "1!duplicate key \"a\"{{\"a\":1,\"\\u0061\":2}}\n",
	          "duplicate key through an escape");
	CHECK_STR(P("{\"a\":{\"x\":1,\"x\":2}}\n"), "1:a={\"x\":1,\"x\":2}/o\n",
	          "nested duplicate keys are left to the raw value");
	CHECK_STR(P("{\"a\":\"\\ud83d\"}\n"),
	          "1!lone surrogate \\uD83D at column 7{{\"a\":\"\\ud83d\"}}\n", "lone high surrogate");
	CHECK_STR(P("{\"a\":\"\\ude00x\"}\n"),
	          "1!lone surrogate \\uDE00 at column 7{{\"a\":\"\\ude00x\"}}\n", "lone low surrogate");
	CHECK_STR(P("{\"a\":\"\\ud83d\\u0041\"}\n"),
	          "1!lone surrogate \\uD83D at column 7{{\"a\":\"\\ud83d\\u0041\"}}\n",
	          "high surrogate followed by a non-surrogate");
	CHECK_STR(P("{\"a\":[\"\\udc00\"]}\n"),
	          "1!lone surrogate \\uDC00 at column 8{{\"a\":[\"\\udc00\"]}}\n",
	          "lone surrogate inside a nested value");
	CHECK_STR(P("{\"a\":\"\\u0000\"}\n"),
	          "1!\\u0000 in a string at column 7 is not supported{{\"a\":\"\\u0000\"}}\n",
	          "escaped NUL rejected");
	CHECK_STR(P("{\"a\":\"\xff\"}\n"), "1!invalid UTF-8 at column 7{{\"a\":\"\xff\"}}\n",
	          "invalid UTF-8");
	CHECK_STR(P("{\"a\":\"x\ty\"}\n"), "1!control character in a string at column 8{{\"a\":\"x\ty\"}}\n",
	          "raw tab in a string");
	CHECK_STR(P("{\"a\":\"\\x\"}\n"), "1!invalid escape \\x at column 7{{\"a\":\"\\x\"}}\n",
	          "invalid escape");
	CHECK_STR(P("{\"a\":01}\n"), "1!invalid number (leading zero) at column 6{{\"a\":01}}\n",
	          "leading zero");
	CHECK_STR(P("{\"a\":1.}\n{\"a\":.5}\n{\"a\":1e}\n{\"a\":-}\n{\"a\":NaN}\n"),
	          "1!invalid number at column 6{{\"a\":1.}}\n"
	          "2!unexpected '.' at column 6{{\"a\":.5}}\n"
	          "3!invalid number at column 6{{\"a\":1e}}\n"
	          "4!invalid number at column 6{{\"a\":-}}\n"
	          "5!unexpected 'N' at column 6{{\"a\":NaN}}\n", "bad numbers");
	CHECK_STR(P("{\"a\":tru}\n{\"a\":nul\n"),
	          "1!invalid literal at column 6{{\"a\":tru}}\n"
	          "2!unexpected end of line at column 9{{\"a\":nul}\n", "bad literals");
	CHECK_STR(P("{\"a\" 1}\n{a:1}\n{\"a\":1 \"b\":2}\n{\"a\":}\n"),
	          "1!expected ':' at column 6{{\"a\" 1}}\n"
	          "2!expected a string key at column 2{{a:1}}\n"
	          "3!expected ',' or '}' at column 8{{\"a\":1 \"b\":2}}\n"
	          "4!missing value at column 6{{\"a\":}}\n", "syntax errors");
	CHECK_STR(P("{\"a\":1} x\n{\"a\":1}{\"b\":2}\n"),
	          "1!text after the object at column 9{{\"a\":1} x}\n"
	          "2!text after the object at column 8{{\"a\":1}{\"b\":2}}\n", "text after the object");
	CHECK_STR(P("{\"a\":1,\n{\"b\":2}\n"),
	          "1!unexpected end of line at column 8{{\"a\":1,}\n2:b=2/n\n",
	          "object cut at a line end: rejected, next line read");
	CHECK_STR(P("{\"a\":1}\n{\"b\":\"cut"),
	          "1:a=1/n\n2!object cut off at end of input (truncated file?){{\"b\":\"cut}\n",
	          "last line cut mid-object");
	CHECK_STR(P("{\"a\":[1,{\"b\":"), "1!object cut off at end of input (truncated file?){{\"a\":[1,{\"b\":}\n",
	          "last line cut inside nesting");
	static const char nul[] = "{\"a\":\"\0\"}\n{}\n";
	CHECK_STR(parse_n(nul, sizeof nul - 1, 0, 0),
	          "1!control character in a string at column 7{{\"a\":\"\\0\"}}\n2:\n", "NUL byte");
}

static void test_limits(void)
{
	char deep[300];
	size_t i, n = 0;
	int rc;
	/* 64 levels: the line's object plus 63 nested arrays */
	n += (size_t)snprintf(deep, sizeof deep, "{\"a\":");
	for (i = 0; i < 63; i++)
		deep[n++] = '[';
	for (i = 0; i < 63; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n++] = '\n';
	const char *res = parse_n(deep, n, 0, 0);
	CHECK(strncmp(res, "1:a=[[[", 7) == 0, "64 levels accepted");
	n = (size_t)snprintf(deep, sizeof deep, "{\"a\":");
	for (i = 0; i < 64; i++)
		deep[n++] = '[';
	for (i = 0; i < 64; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n++] = '\n';
	memcpy(deep + n, "{}\n", 3);
	res = parse_n(deep, n + 3, 0, 0);
	CHECK(strncmp(res, "1!nesting deeper than 64{", 25) == 0 && strstr(res, "}\n2:\n"),
	      "65 levels rejected, next line read");
	{
		/* 100,000 levels: no stack overflow */
		size_t big = 200000;
		char *b = malloc(big + 8);
		memcpy(b, "{\"a\":", 5);
		memset(b + 5, '[', big - 5);
		b[big] = '\n';
		res = parse_n(b, big + 1, 0, 0);
		CHECK(strncmp(res, "1!nesting deeper than 64{", 25) == 0, "very deep nesting rejected");
		free(b);
	}
	/* line limit */
	CHECK_STR(parse_n("{\"a\":\"0123456789\"}\n{}\n", 22, 10, 0),
	          "1!line longer than 10 bytes{{\"a\":\"0123456789\"}}\n2:\n", "line limit");
	{
		size_t big = 20u << 20;
		char *b = malloc(big + 8);
		FILE *f;
		jsonl_reader *r;
		jsonl_row row;
		memcpy(b, "{\"a\":\"", 6);
		memset(b + 6, 'x', big - 6);
		memcpy(b + big - 3, "\"}\n", 3);
		memcpy(b + big, "{\"b\":1}\n", 8);
		f = fmemopen(b, big + 8, "r");
		r = jsonl_open(f, "big", NULL);
		rc = jsonl_next(r, &row);
		CHECK(rc == 1 && row.error && strcmp(row.error, "line longer than 16777216 bytes") == 0,
		      "20 MB line rejected: %s", row.error ? row.error : "(none)");
		CHECK(row.raw_truncated && row.rawlen == JSONL_RAW_KEEP && memcmp(row.raw, "{\"a\":\"xx", 8) == 0,
		      "its raw text is a bounded prefix");
		rc = jsonl_next(r, &row);
		CHECK(rc == 1 && !row.error && row.line == 2 && row.nmembers == 1 &&
		      strcmp(row.member[0].key, "b") == 0, "line after it read");
		rc = jsonl_next(r, &row);
		CHECK(rc == 0 && jsonl_bytes(r) == big + 8, "clean end, every byte consumed");
		jsonl_close(r);
		fclose(f);
		free(b);
	}
	{
		jsonl_options o;
		jsonl_options_init(&o);
		o.max_depth = 0;
		CHECK(jsonl_open(stdin, "x", &o) == NULL, "max_depth 0 refused");
	}
}

static void test_misc(void)
{
	static const char u16[] = "\xFF\xFE{\0}\0\n\0";
	static const char u16b[] = "{\0\"\0a\0\"\0:\0""1\0}\0\n\0";
	static const char data[] = "{\"id\":\"c1\",\"amount\":\"12.50\"}\n\n{\"id\":2}\n";
	FILE *f;
	jsonl_reader *r;
	jsonl_row row;
	const jsonl_member *m;
	int rc;
	parse_n(u16, sizeof u16 - 1, 0, 0);
	CHECK(last_rc == -1 && strstr(last_fatal, "t.jsonl:1: UTF-16 input is not supported; convert "
	                              "with iconv -f UTF-16 -t UTF-8"), "UTF-16 BOM fatal: %s", last_fatal);
	parse_n(u16b, sizeof u16b - 1, 0, 0);
	CHECK(last_rc == -1 && strstr(last_fatal, "UTF-16"), "UTF-16 without BOM fatal");

	f = fmemopen((void *)data, sizeof data - 1, "r");
	r = jsonl_open(f, "d.jsonl", NULL);
	rc = jsonl_next(r, &row);
	CHECK(rc == 1 && row.line == 1 && row.offset == 0 && row.recno == 1, "first row");
	m = jsonl_find(&row, "amount");
	CHECK(m && m->kind == JSONL_STRING && strcmp(m->val, "12.50") == 0, "jsonl_find");
	CHECK(jsonl_find(&row, "nope") == NULL, "jsonl_find missing key");
	rc = jsonl_next(r, &row);
	CHECK(rc == 1 && row.line == 3 && row.recno == 2 && row.offset == 30, "row after a blank line");
	m = jsonl_find(&row, "id");
	CHECK(m && m->kind == JSONL_NUMBER && strcmp(m->val, "2") == 0, "number id");
	CHECK_STR(jsonl_kind_name(JSONL_ARRAY), "array", "kind name");
	rc = jsonl_next(r, &row);
	CHECK(rc == 0 && jsonl_blank_lines(r) == 1, "end, one blank line");
	CHECK_STR(jsonl_error(r), "", "no fatal error");
	jsonl_close(r);
	fclose(f);

	f = fopen("/dev/null", "w");
	r = jsonl_open(f, "w.jsonl", NULL);
	rc = jsonl_next(r, &row);
	CHECK(rc == -1 && strncmp(jsonl_error(r), "w.jsonl: read error", 19) == 0,
	      "read error is fatal: %s", jsonl_error(r));
	jsonl_close(r);
	fclose(f);
}

/* Every file in tests/fuzz/regress/jsonl/ goes through the fuzz target's
 * checks (which abort on failure). */
static void test_regress(void)
{
	const char *dir = "tests/fuzz/regress/jsonl";
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

int main(void)
{
	test_values();
	test_errors();
	test_limits();
	test_misc();
	test_regress();
	return unit_done();
}
