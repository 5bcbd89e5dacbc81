/* Money as exact fixed point: int64_t units of 1/10000 (12.34 -> 123400).
 * Parsing never uses floating point, strtod or the locale; it rejects rather
 * than rounds. Refunds (negative amounts) are ordinary values. */
#ifndef RETAIN_MONEY_H
#define RETAIN_MONEY_H

#include <stddef.h>
#include <stdint.h>

#define MONEY_SCALE 10000
#define MONEY_PLACES 4

/* Parsing options, all off by default (zero-initialise). */
typedef struct money_opts {
	int decimal_comma;   /* "12,50" is 12.50 (then '.' is not a decimal point) */
	char thousands;      /* 0 (none), ',', '.', ' ' (also U+00A0, U+202F) or '\'';
	                      * must differ from the decimal mark */
	int strip_currency;  /* drop $ € £ ¥ ￥ or an ISO code (USD, EUR...) before or after */
	int accounting;      /* "(25.00)" means -25.00 */
} money_opts;

enum money_err {
	MONEY_OK = 0,
	MONEY_ERR_EMPTY,
	MONEY_ERR_SYNTAX,     /* 12abc, NaN, inf, 1e5, 0x1p4, misplaced separators */
	MONEY_ERR_SCALE,      /* more than 4 non-zero decimals */
	MONEY_ERR_OVERFLOW,   /* beyond the int64 range */
	MONEY_ERR_OPTION      /* valid only with an option: --thousands, --decimal-comma, ... */
};

/* Parses s[0..n) (surrounding spaces/tabs ignored): optional sign, digits,
 * optional decimal point and up to 4 decimals (further decimals are accepted
 * only when they are zeros: "12.500000" is exact). ".5" and "5." are
 * accepted. On error returns a code and sets *reason (static text; may be
 * NULL) such as "exponent notation not accepted" or "thousands separator
 * ',' found: use --thousands ','". No allocation. opts may be NULL. */
int money_parse(const char *s, size_t n, const money_opts *opts, int64_t *out,
                const char **reason);
/* The same parser without money_parse's fast path for plain amounts such as
 * "13.56" or "-4.20": identical results, codes and reasons for every input
 * (kept callable for the differential test). */
int money_parse_general(const char *s, size_t n, const money_opts *opts, int64_t *out,
                        const char **reason);

/* Shortest exact text with at least 2 decimals: "12.34", "12.345", "-0.50",
 * "1234.00". Returns the length (at most 21); buf is NUL-terminated. */
size_t money_format(int64_t v, char buf[32]);

/* Checked arithmetic: 0 ok, MONEY_ERR_OVERFLOW otherwise (*out untouched). */
int money_add(int64_t a, int64_t b, int64_t *out);
int money_mul_int(int64_t amount, int64_t count, int64_t *out);
/* amount * qty where qty is itself fixed point (4 decimals): the exact
 * product has 8 decimals and is rounded to 4, half away from zero; *inexact
 * (may be NULL) is set to 1 when rounding changed the value. */
int money_mul(int64_t amount, int64_t qty, int64_t *out, int *inexact);
/* Quantity text ("3", "1.5") times a unit price. Errors as money_parse. */
int money_mul_text(int64_t price, const char *qty, size_t n, int64_t *out, int *inexact,
                   const char **reason);
/* total / count rounded half away from zero (averages); count must be > 0. */
int money_div(int64_t total, int64_t count, int64_t *out);
/* For models only (lossy beyond 2^53 units). */
double money_to_double(int64_t v);

#endif
