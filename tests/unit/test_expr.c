/* Unit tests for lib/expr.c (segment-export --where) and the small rules of
 * lib/campaign.c (name matching, percentages, control split). */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>

#include "campaign.h"
#include "expr.h"
#include "unit.h"
#include "util.h"

static rtn_schema schema;
static rtn_value rec[6];

/* customer string | segment string | clv money | p_alive float | orders int | last time */
static void set(const char *cust, const char *seg, int64_t clv, double p, int64_t orders, int64_t last)
{
	memset(rec, 0, sizeof rec);
	rec[0] = rtn_str(cust);
	rec[1] = rtn_str(seg);
	rec[2].i = clv;
	rec[3].f = p;
	rec[4].i = orders;
	rec[5].i = last;
}

static int eval(const char *text)
{
	char err[256];
	expr *e = expr_parse(text, &schema, err, sizeof err);
	if (!e) {
		printf("# parse error: %.80s: %s\n", text, err);
		return -1;
	}
	int r = expr_eval(e, rec);
	expr_free(e);
	return r;
}

/* The error message of a bad expression ("" if it parsed). */
static const char *error_of(const char *text)
{
	static char err[512];
	expr *e = expr_parse(text, &schema, err, sizeof err);
	if (e) {
		expr_free(e);
		return "";
	}
	return err;
}

static int starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* Replays tests/fuzz/regress/expr/ (inputs the fuzzer once found wrong):
 * each must parse or fail cleanly with a position. */
static void test_regress(void)
{
	const char *dir = "tests/fuzz/regress/expr";
	DIR *d = opendir(dir);
	int n = 0, bad = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[512], text[4096];
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		size_t len = fread(text, 1, sizeof text - 1, f);
		fclose(f);
		text[len] = 0;
		char err[256];
		expr *e = expr_parse(text, &schema, err, sizeof err);
		if (e) {
			int r = expr_eval(e, rec);
			bad += r != 0 && r != 1;
			expr_free(e);
		} else {
			bad += strncmp(err, "at position ", 12) != 0;
		}
		n++;
	}
	if (d)
		closedir(d);
	CHECK(n >= 4 && bad == 0, "replayed %d fuzz regression inputs, %d bad", n, bad);
}

int main(void)
{
	rtn_schema_add(&schema, "customer", RTN_STRING);
	rtn_schema_add(&schema, "segment", RTN_STRING);
	rtn_schema_add(&schema, "clv", RTN_MONEY);
	rtn_schema_add(&schema, "p_alive", RTN_FLOAT);
	rtn_schema_add(&schema, "orders", RTN_INT);
	rtn_schema_add(&schema, "last", RTN_TIME);

	set("c1", "At risk", 1234500, 0.25, 3, 1672531200 /* 2023-01-01 */);
	CHECK(eval("segment = 'At risk'") == 1, "string equality");
	CHECK(eval("segment == \"At risk\"") == 1, "double quotes and ==");
	CHECK(eval("segment != 'At risk'") == 0, "string inequality");
	CHECK(eval("segment < 'B'") == 1 && eval("segment > 'At'") == 1, "string order is byte order");
	CHECK(eval("clv > 123.44") == 1 && eval("clv > 123.45") == 0 && eval("clv >= 123.45") == 1, "money compared exactly");
	CHECK(eval("clv = 123.45") == 1 && eval("clv = 123.4500") == 1, "money equality with a decimal literal");
	CHECK(eval("clv < 1e3") == 1, "exponent literal");
	CHECK(eval("p_alive < 0.3 and p_alive > 0.2") == 1, "float range");
	CHECK(eval("orders = 3") == 1 && eval("orders <> 3") == 0 && eval("orders >= -1") == 1, "int comparisons, <>, negative");
	CHECK(eval("last = '2023-01-01'") == 1 && eval("last < '2023-01-01T00:00:01Z'") == 1, "time against dates");
	CHECK(eval("last > '2022-12-31 23:59'") == 1, "time with a blank and minutes");
	CHECK(eval("orders > 1 and (segment = 'Lost' or clv > 100)") == 1, "and/or with parentheses");
	CHECK(eval("orders > 1 AND segment = 'Lost' OR clv > 100") == 1, "and binds tighter than or");
	CHECK(eval("orders > 5 or segment = 'Lost' and clv > 100") == 0, "precedence: a or (b and c)");
	CHECK(eval("not orders > 5") == 1 && eval("! (orders > 1)") == 0 && eval("not not orders = 3") == 1, "not");
	CHECK(eval("orders > 1 && clv > 1 || orders < 0") == 1, "&& and ||");
	CHECK(eval("segment in ('Lost', 'At risk')") == 1 && eval("segment not in ('Lost', 'At risk')") == 0, "in, not in");
	CHECK(eval("orders in (1, 2, 3)") == 1 && eval("orders in (4)") == 0, "numeric in");
	CHECK(eval("`segment` = 'At risk'") == 1, "back-quoted column");
	CHECK(eval("segment = 'it''s'") == 0, "doubled quote inside a string parses");
	CHECK(eval("1 = 1") == 1 && eval("'a' < 'b'") == 1, "literal against literal");

	set("c2", "", RTN_NULL, NAN, RTN_NULL, RTN_NULL);
	CHECK(eval("clv = null") == 1 && eval("clv != null") == 0, "null money is null");
	CHECK(eval("p_alive = null") == 1 && eval("segment = null") == 1, "NaN and empty string are null");
	CHECK(eval("clv > 0") == 0 && eval("clv <= 0") == 0, "comparisons with null are false");
	CHECK(eval("not clv > 0") == 1, "not of a null comparison is true");
	CHECK(eval("segment in ('')") == 0 && eval("segment not in ('x')") == 0, "in with a null value is false");
	set("c3", "Lost", 0, 0.5, 1, 0);
	CHECK(eval("clv = null") == 0 && eval("clv != null") == 1, "zero is not null");

	/* errors name the position */
	CHECK(starts(error_of("nope = 1"), "at position 1: unknown column 'nope'"), "unknown column: %s", error_of("nope = 1"));
	CHECK(starts(error_of("segment = 1"), "at position 9: cannot compare string column 'segment' with a number"),
	      "type mismatch: %s", error_of("segment = 1"));
	CHECK(starts(error_of("clv > 'x'"), "at position 5: cannot compare money column"), "number vs string: %s",
	      error_of("clv > 'x'"));
	CHECK(starts(error_of("last > '2023-02-30'"), "at position 8: '2023-02-30' is not a date"), "bad date: %s",
	      error_of("last > '2023-02-30'"));
	CHECK(starts(error_of("segment = 'abc"), "at position 11: unterminated string"), "unterminated: %s",
	      error_of("segment = 'abc"));
	CHECK(starts(error_of("(orders = 1"), "at position 12: expected ')' to close the '(' at position 1"), "unclosed: %s",
	      error_of("(orders = 1"));
	CHECK(starts(error_of("orders = 1)"), "at position 11: unexpected ')'"), "extra ): %s", error_of("orders = 1)"));
	CHECK(starts(error_of("orders = 1 clv = 2"), "at position 12: unexpected a column name"), "missing and: %s",
	      error_of("orders = 1 clv = 2"));
	CHECK(starts(error_of("orders"), "at position 7: expected a comparison operator"), "no operator: %s",
	      error_of("orders"));
	CHECK(starts(error_of(""), "at position 1: empty expression"), "empty: %s", error_of(""));
	CHECK(starts(error_of("orders & 1"), "at position 8: '&' alone"), "single &: %s", error_of("orders & 1"));
	CHECK(starts(error_of("orders > null"), "at position 8: null can only be compared"), "null order: %s",
	      error_of("orders > null"));
	CHECK(starts(error_of("orders = 12abc"), "at position 10: malformed number"), "bad number: %s",
	      error_of("orders = 12abc"));
	CHECK(starts(error_of("orders = 1 and"), "at position 15: expected a column"), "dangling and: %s",
	      error_of("orders = 1 and"));
	CHECK(starts(error_of("orders = #"), "at position 10: unexpected character '#'"), "bad char: %s",
	      error_of("orders = #"));

	/* nesting is bounded, chains are not */
	char deep[512] = "", chain[200000] = "";
	for (int i = 0; i < 100; i++)
		strcat(deep, "(");
	strcat(deep, "orders = 1");
	for (int i = 0; i < 100; i++)
		strcat(deep, ")");
	CHECK(strstr(error_of(deep), "nested deeper than 64") != NULL, "deep nesting refused: %s", error_of(deep));
	char nots[512] = "";
	for (int i = 0; i < 80; i++)
		strcat(nots, "not ");
	strcat(nots, "orders = 1");
	CHECK(strstr(error_of(nots), "nested deeper than 64") != NULL, "deep 'not' refused");
	char ok[256] = "";
	for (int i = 0; i < 60; i++)
		strcat(ok, "(");
	strcat(ok, "orders = 1");
	for (int i = 0; i < 60; i++)
		strcat(ok, ")");
	CHECK(eval(ok) == 1, "60 levels are fine");
	size_t k = 0;
	for (int i = 0; i < 3000; i++)
		k += (size_t)snprintf(chain + k, sizeof chain - k, "%sorders = %d", i ? " or " : "", 3000 - i);
	CHECK(eval(chain) == 1, "a 3000-term or-chain evaluates without deep recursion (c3 has 1 order: last term 1)");

	test_regress();

	/* campaign helpers */
	CHECK(aud_name_eq("at-risk", 7, "At risk", 7), "at-risk = At risk");
	CHECK(aud_name_eq("cant-lose-them", 14, "Can't lose them", 15), "apostrophe ignored");
	CHECK(aud_name_eq("about_to  sleep", 15, "About to sleep", 14), "underscore and double blank");
	CHECK(!aud_name_eq("lost", 4, "Lost it", 7), "prefix is not equal");
	CHECK(aud_parse_percent("--control", "10%") == 1000 && aud_parse_percent("--control", "12.5") == 1250 &&
	      aud_parse_percent("--control", "0.01%") == 1 && aud_parse_percent("--control", "100") == 10000,
	      "percentages in hundredths");
	int in = 0;
	for (int i = 0; i < 100000; i++) {
		char id[32];
		int n = snprintf(id, sizeof id, "cust%06d", i);
		in += aud_in_control("spring", id, (size_t)n, 1000);
	}
	CHECK(in > 9700 && in < 10300, "10%% control share over 100000 ids (%d)", in);
	CHECK(aud_in_control("spring", "c1", 2, 5000) == aud_in_control("spring", "c1", 2, 5000), "stable");
	int differ = 0;
	for (int i = 0; i < 1000; i++) {
		char id[32];
		int n = snprintf(id, sizeof id, "c%d", i);
		differ += aud_in_control("a", id, (size_t)n, 5000) != aud_in_control("b", id, (size_t)n, 5000);
	}
	CHECK(differ > 400 && differ < 600, "campaigns split independently (%d of 1000 differ)", differ);
	return unit_done();
}
