/* Minimal TAP-style unit test helpers: each CHECK prints "ok N - what" or
 * "not ok N - what (file:line)"; main returns unit_done(). */
#ifndef UNIT_H
#define UNIT_H
#include <dirent.h>
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

/* Prints n bytes as a C string, escaping all but printable ASCII. */
static inline void unit_show(const char *s, size_t n)
{
	printf("\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
			printf("\\x%02x", ch);
		else
			printf("%c", ch);
	}
	printf("\"");
}

/* Calls fn on the bytes (up to 64 KiB) of each file in dir but dot files.
 * Returns how many, or -1 when dir cannot be opened. */
static inline int unit_each_file(const char *dir, void (*fn)(const unsigned char *, size_t))
{
	static unsigned char buf[65536];
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[512];
		FILE *f;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (!(f = fopen(path, "rb")))
			continue;
		size_t len = fread(buf, 1, sizeof buf, f);
		fclose(f);
		fn(buf, len);
		n++;
	}
	closedir(d);
	return n;
}

/* Calls fn on every single-byte deletion, substitution (by each of the na
 * bytes of alphabet) and insertion of s (at most 125 bytes). */
static inline void unit_mutations(const char *s, const char *alphabet, size_t na,
                                  void (*fn)(const char *, size_t))
{
	size_t n = strlen(s), i, k;
	char buf[128];
	if (n + 2 > sizeof buf)
		return;
	for (i = 0; i < n; i++) {
		memcpy(buf, s, i);
		memcpy(buf + i, s + i + 1, n - i - 1);
		fn(buf, n - 1);
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < na; k++) {
			memcpy(buf, s, n);
			buf[i] = alphabet[k];
			fn(buf, n);
		}
	for (i = 0; i <= n; i++)
		for (k = 0; k < na; k++) {
			memcpy(buf, s, i);
			buf[i] = alphabet[k];
			memcpy(buf + i + 1, s + i, n - i);
			fn(buf, n + 1);
		}
}

static inline int unit_done(void)
{
	printf("1..%d\n", unit_n);
	return unit_failed ? 1 : 0;
}
#endif
