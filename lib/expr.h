/* Record filter expressions (segment-export --where).
 *
 *   char err[256];
 *   expr *e = expr_parse("segment = 'At risk' and clv > 100", &schema, err, sizeof err);
 *   if (!e) rtn_die(RTN_EXIT_USAGE, "--where: %s", err);   // "at position 9: ..."
 *   if (expr_eval(e, values)) keep();
 *   expr_free(e);
 *
 * Grammar (keywords are case-insensitive):
 *
 *   expr    := and { ("or" | "||") and }
 *   and     := not { ("and" | "&&") not }
 *   not     := ("not" | "!") not | primary
 *   primary := "(" expr ")" | operand op operand | operand ["not"] "in" "(" literal {"," literal} ")"
 *   op      := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
 *   operand := column | number | string | "null"
 *   column  := [A-Za-z_][A-Za-z0-9_.]*  or  `any text`  (back-quoted)
 *   string  := '...' or "..." (a doubled quote or a backslash escapes the quote)
 *
 * Types: int, float and money columns compare with numbers (money exactly,
 * in its 4-decimal fixed point); string columns with strings (byte order);
 * time columns with dates or times written as strings ('2023-01-31',
 * '2023-01-31T12:00:00Z') or with other time columns. A comparison that
 * mixes types is a parse error naming the position.
 *
 * Null (an empty string, a null number, NaN): "col = null" is true and
 * "col != null" false for a null value; every other comparison involving a
 * null value is false (so "not (x > 1)" is true for a null x).
 *
 * Nesting (parentheses and "not") is limited to EXPR_MAX_DEPTH; long chains
 * of "and"/"or" are flat and not limited. */
#ifndef RETAIN_EXPR_H
#define RETAIN_EXPR_H

#include <stddef.h>

#include "stream.h"

#define EXPR_MAX_DEPTH 64
#define EXPR_MAX_LEN 65536

typedef struct expr expr;

/* Parses text for records of schema s. On error returns NULL and writes
 * "at position N: reason" (N counts bytes from 1) into err. */
expr *expr_parse(const char *text, const rtn_schema *s, char *err, size_t errlen);
/* 1 when the record v (one value per column of the schema) matches. */
int expr_eval(const expr *e, const rtn_value *v);
void expr_free(expr *e);

#endif
