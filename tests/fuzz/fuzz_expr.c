/* libFuzzer target for lib/expr.c (segment-export --where).
 *   clang -fsanitize=fuzzer,address -Ilib tests/fuzz/fuzz_expr.c lib/<every .c> -lz -lm
 * The input is the expression text. A parse either succeeds (then the
 * expression is evaluated on records with ordinary and null values and must
 * give 0 or 1, the same twice) or fails with "at position N: ..." where N is
 * within the text (plus one for "end of expression"). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_expr: check failed: %s\n", #c); abort(); } } while (0)

static rtn_schema schema;

static void init(void)
{
	if (schema.n)
		return;
	rtn_schema_add(&schema, "customer", RTN_STRING);
	rtn_schema_add(&schema, "segment", RTN_STRING);
	rtn_schema_add(&schema, "clv", RTN_MONEY);
	rtn_schema_add(&schema, "p_alive", RTN_FLOAT);
	rtn_schema_add(&schema, "orders", RTN_INT);
	rtn_schema_add(&schema, "last", RTN_TIME);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	init();
	char *text = malloc(n + 1);
	memcpy(text, d, n);
	text[n] = 0; /* a NUL inside ends the text, as on a command line */
	size_t len = strlen(text);
	char err[256];
	expr *e = expr_parse(text, &schema, err, sizeof err);
	if (!e) {
		unsigned long pos = 0;
		CHECK(sscanf(err, "at position %lu: ", &pos) == 1);
		CHECK(pos >= 1 && pos <= len + 1);
		free(text);
		return 0;
	}
	rtn_value v[6];
	for (int k = 0; k < 3; k++) {
		memset(v, 0, sizeof v);
		v[0] = rtn_str(k == 2 ? "" : "c1");
		v[1] = rtn_str(k == 0 ? "At risk" : k == 1 ? "Lost" : "");
		v[2].i = k == 2 ? RTN_NULL : k == 0 ? 1234500 : -5;
		v[3].f = k == 2 ? NAN : 0.5;
		v[4].i = k == 2 ? RTN_NULL : INT64_MAX - k;
		v[5].i = k == 2 ? RTN_NULL : 1672531200;
		int r = expr_eval(e, v);
		CHECK(r == 0 || r == 1);
		CHECK(r == expr_eval(e, v));
	}
	expr_free(e);
	free(text);
	return 0;
}
