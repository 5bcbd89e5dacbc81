/* Minimal TAP-style unit test helpers: each CHECK prints "ok N - what" or
 * "not ok N - what (file:line)"; main returns unit_done(). */
#ifndef UNIT_H
#define UNIT_H
#include <stdio.h>
#include <string.h>
#include <math.h>

static int unit_n, unit_failed;

#define CHECK(cond, ...) do { \
	int unit_ok_ = (cond) ? 1 : 0; /* evaluated once */ \
	unit_n++; \
	if (unit_ok_) { printf("ok %d - ", unit_n); } \
	else { unit_failed++; printf("not ok %d - ", unit_n); } \
	printf(__VA_ARGS__); \
	if (!unit_ok_) printf(" (%s:%d: %s)", __FILE__, __LINE__, #cond); \
	printf("\n"); \
} while (0)

#define CHECK_STR(got, want, ...) do { \
	const char *g_ = (got), *w_ = (want); \
	int eq_ = g_ && w_ && strcmp(g_, w_) == 0; \
	CHECK(eq_, __VA_ARGS__); \
	if (!eq_) printf("#   got  \"%s\"\n#   want \"%s\"\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

#define CHECK_NEAR(got, want, tol, ...) do { \
	double g_ = (got), w_ = (want); \
	int ok_ = fabs(g_ - w_) <= (tol); \
	CHECK(ok_, __VA_ARGS__); \
	if (!ok_) printf("#   got %.10g want %.10g tol %g\n", g_, w_, (double)(tol)); \
} while (0)

static inline int unit_done(void)
{
	printf("1..%d\n", unit_n);
	return unit_failed ? 1 : 0;
}
#endif
