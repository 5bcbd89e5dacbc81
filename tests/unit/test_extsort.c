/* Unit tests for lib/extsort (external merge sort) and lib/alias. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alias.h"
#include "extsort.h"
#include "stream.h"
#include "unit.h"
#include "util.h"

/* Columns: customer string, time time, amount money, score float,
 * note string, seq int (input position; not a sort column). */
enum { C_CUST, C_TIME, C_AMT, C_SCORE, C_NOTE, C_SEQ, NCOLS };

typedef struct rec {
	char cust[24], note[8];
	uint32_t clen, nlen;
	int64_t time, amt, seq;
	double score;
} rec;

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static rtn_schema schema;
static int order[] = {C_CUST, C_TIME, C_AMT, C_SCORE, C_NOTE};
static int norder = 5;

static void to_values(const rec *r, rtn_value *v)
{
	memset(v, 0, NCOLS * sizeof *v);
	v[C_CUST].s = r->cust;
	v[C_CUST].len = r->clen;
	v[C_TIME].i = r->time;
	v[C_AMT].i = r->amt;
	v[C_SCORE].f = r->score;
	v[C_NOTE].s = r->note;
	v[C_NOTE].len = r->nlen;
	v[C_SEQ].i = r->seq;
}

/* Few distinct values, so that ties, equal prefixes and duplicates abound:
 * customer ids share a 16-byte prefix, some hold NUL bytes or are empty. */
static void make(rec *r, int64_t seq)
{
	memset(r, 0, sizeof *r);
	int k = (int)(next_rand() % 40);
	if (k == 0) {
		r->clen = 0;
	} else if (k == 1) {
		memcpy(r->cust, "ab\0c", 4);
		r->clen = 4;
	} else if (k == 2) {
		memcpy(r->cust, "ab", 2);
		r->clen = 2;
	} else if (k == 3) {
		memcpy(r->cust, "ab\0", 3);
		r->clen = 3;
	} else {
		r->clen = (uint32_t)snprintf(r->cust, sizeof r->cust, "customer-0000000%02d", k);
	}
	static const int64_t times[] = {RTN_NULL, INT64_MIN + 1, -4294967296LL, -65536, -256, -255,
		-1, 0, 1, 255, 256, 65535, 1700000000, INT64_MAX};
	r->time = times[next_rand() % (sizeof times / sizeof *times)];
	r->amt = (int64_t)(next_rand() % 5) - 2;
	static const double scores[] = {-INFINITY, -1.5, -0.0, 0.0, 2.25, INFINITY};
	int sidx = (int)(next_rand() % 7);
	r->score = sidx == 6 ? NAN : scores[sidx];
	r->nlen = (uint32_t)(next_rand() % 3);
	memcpy(r->note, "zz\0", r->nlen);
	r->seq = seq;
}

static int cmp_for_qsort(const void *a, const void *b)
{
	rtn_value va[NCOLS], vb[NCOLS];
	to_values(a, va);
	to_values(b, vb);
	int r = extsort_cmp(&schema, order, norder, va, vb);
	if (r)
		return r;
	int64_t sa = ((const rec *)a)->seq, sb = ((const rec *)b)->seq;
	return (sa > sb) - (sa < sb);
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	return n;
}

/* Sorts recs through extsort and checks the output equals the reference
 * (stable: the seq column included). Returns the number of runs spilled. */
static uint64_t sort_and_check(const rec *recs, const rec *want, size_t n, size_t memory,
	const char *tmpdir, const char *what)
{
	extsort *s = extsort_new(&schema, order, norder, memory, tmpdir);
	rtn_value v[NCOLS];
	for (size_t i = 0; i < n; i++) {
		to_values(&recs[i], v);
		extsort_add(s, v);
	}
	extsort_finish(s);
	rtn_value *out, *prev = NULL, w[NCOLS];
	size_t got = 0, bad = 0, prevbad = 0;
	while (extsort_next(s, &out) == RTN_RECORD) {
		if (got < n) {
			to_values(&want[got], w);
			for (int c = 0; c < NCOLS; c++)
				bad += !extsort_value_eq(schema.cols[c].type, &out[c], &w[c]);
		}
		/* The previous record must still be intact. */
		if (prev && got <= n) {
			to_values(&want[got - 1], w);
			for (int c = 0; c < NCOLS; c++)
				prevbad += !extsort_value_eq(schema.cols[c].type, &prev[c], &w[c]);
		}
		prev = out;
		got++;
	}
	uint64_t runs = extsort_get_stats(s)->runs;
	CHECK(got == n, "%s: %zu records out of %zu", what, got, n);
	CHECK(bad == 0, "%s: output equals the stable reference sort (%zu bad values)", what, bad);
	CHECK(prevbad == 0, "%s: the previous record stays valid (%zu bad)", what, prevbad);
	CHECK(extsort_get_stats(s)->records == n, "%s: stats count the records", what);
	extsort_free(s);
	CHECK(count_files(tmpdir) == 0, "%s: no temporary files left", what);
	return runs;
}

static void test_order(void)
{
	rtn_value a[NCOLS], b[NCOLS];
	rec ra, rb;
	make(&ra, 0);
	rb = ra;
	memcpy(ra.cust, "ab", 2), ra.clen = 2;
	memcpy(rb.cust, "ab\0", 3), rb.clen = 3;
	to_values(&ra, a);
	to_values(&rb, b);
	CHECK(extsort_cmp(&schema, order, 1, a, b) < 0, "\"ab\" sorts before \"ab\\0\" (shorter first)");
	memcpy(rb.cust, "abc", 3);
	to_values(&rb, b);
	CHECK(extsort_cmp(&schema, order, 1, a, b) < 0, "\"ab\" sorts before \"abc\"");
	memcpy(ra.cust, "b", 1), ra.clen = 1;
	to_values(&ra, a);
	CHECK(extsort_cmp(&schema, order, 1, a, b) > 0, "\"b\" sorts after \"abc\"");
	int sc[] = {C_SCORE};
	a[C_SCORE].f = -0.0;
	b[C_SCORE].f = 0.0;
	CHECK(extsort_cmp(&schema, sc, 1, a, b) < 0, "-0 sorts before +0");
	CHECK(!extsort_value_eq(RTN_FLOAT, &a[C_SCORE], &b[C_SCORE]), "-0 and +0 are not the same bytes");
	a[C_SCORE].f = INFINITY;
	b[C_SCORE].f = NAN;
	CHECK(extsort_cmp(&schema, sc, 1, a, b) < 0, "+inf sorts before NaN");
	int tc[] = {C_TIME};
	a[C_TIME].i = RTN_NULL;
	b[C_TIME].i = -5;
	CHECK(extsort_cmp(&schema, tc, 1, a, b) < 0, "null time sorts first");
}

static void test_sort(void)
{
	char tmpl[] = "/tmp/retain-test-extsort.XXXXXX";
	char *dir = mkdtemp(tmpl);
	CHECK(dir != NULL, "temporary directory");
	if (!dir)
		return;
	size_t n = 60000;
	rec *recs = xmalloc(n * sizeof *recs), *want = xmalloc(n * sizeof *want);
	for (size_t i = 0; i < n; i++)
		make(&recs[i], (int64_t)i);
	memcpy(want, recs, n * sizeof *recs);
	qsort(want, n, sizeof *want, cmp_for_qsort);

	uint64_t runs = sort_and_check(recs, want, n, (size_t)1 << 30, dir, "in memory");
	CHECK(runs == 0, "a large buffer spills nothing (%llu runs)", (unsigned long long)runs);
	runs = sort_and_check(recs, want, n, 1, dir, "spilling");
	CHECK(runs > EXTSORT_FANIN, "the minimum buffer spills runs and merges them (%llu runs)",
		(unsigned long long)runs);
	setenv("RETAIN_TEST_HASH_BITS", "0", 1);
	runs = sort_and_check(recs, want, n, 1, dir, "no key prefix (all collide)");
	setenv("RETAIN_TEST_HASH_BITS", "9", 1);
	sort_and_check(recs, want, n, 1 << 20, dir, "9-bit key prefix");
	unsetenv("RETAIN_TEST_HASH_BITS");
	sort_and_check(recs, want, 0, 1 << 20, dir, "empty input");
	sort_and_check(recs, recs, 1, 1, dir, "one record");
	free(recs);
	free(want);
	rmdir(dir);
}

static void test_alias(void)
{
	for (int collide = 0; collide < 2; collide++) {
		if (collide)
			setenv("RETAIN_TEST_HASH_BITS", "0", 1);
		const char *tag = collide ? " (all hashes equal)" : "";
		alias_map *m = alias_new();
		CHECK(alias_add(m, "a", 1, "b", 1) == 0, "add a -> b%s", tag);
		CHECK(alias_add(m, "b", 1, "c", 1) == 0, "add b -> c%s", tag);
		CHECK(alias_add(m, "x\0y", 3, "a", 1) == 0, "add x\\0y -> a%s", tag);
		CHECK(alias_add(m, "a", 1, "b", 1) == 0, "the same pair again is fine%s", tag);
		CHECK(alias_add(m, "a", 1, "z", 1) == -1, "a second target for a is refused%s", tag);
		CHECK(alias_add(m, "q", 1, "q", 1) == 0, "q -> q is ignored%s", tag);
		char err[256];
		CHECK(alias_resolve(m, err, sizeof err) == 0, "resolves%s", tag);
		const char *out;
		size_t len;
		CHECK(alias_lookup(m, "a", 1, &out, &len) && len == 1 && out[0] == 'c', "a -> c through b%s", tag);
		CHECK(alias_lookup(m, "x\0y", 3, &out, &len) && len == 1 && out[0] == 'c', "x\\0y -> c%s", tag);
		CHECK(!alias_lookup(m, "x", 1, &out, &len), "x (a prefix of x\\0y) is not an alias%s", tag);
		CHECK(!alias_lookup(m, "c", 1, &out, &len), "the canonical id is not an alias%s", tag);
		CHECK(!alias_lookup(m, "q", 1, &out, &len), "q is not an alias%s", tag);
		CHECK(alias_count(m) == 3, "three aliases%s", tag);
		alias_free(m);

		m = alias_new();
		alias_add(m, "a", 1, "b", 1);
		alias_add(m, "b", 1, "c", 1);
		alias_add(m, "c", 1, "a", 1);
		alias_add(m, "d", 1, "a", 1);
		CHECK(alias_resolve(m, err, sizeof err) == -1, "a -> b -> c -> a is a cycle%s", tag);
		CHECK(strstr(err, "alias cycle: ") && strstr(err, "a") && strstr(err, "b") && strstr(err, "c"),
			"the message names the cycle%s: %s", tag, err);
		alias_free(m);

		/* Many ids: every lookup must compare full bytes. */
		m = alias_new();
		char a[32], c[32];
		for (int i = 0; i < 2000; i++) {
			int al = snprintf(a, sizeof a, "id%d", i), cl = snprintf(c, sizeof c, "canon%d", i / 2);
			alias_add(m, a, (size_t)al, c, (size_t)cl);
		}
		alias_resolve(m, err, sizeof err);
		int ok = 1;
		for (int i = 0; i < 2000; i++) {
			int al = snprintf(a, sizeof a, "id%d", i), cl = snprintf(c, sizeof c, "canon%d", i / 2);
			ok &= alias_lookup(m, a, (size_t)al, &out, &len) && len == (size_t)cl && memcmp(out, c, len) == 0;
		}
		CHECK(ok, "2000 aliases map to their own canonical ids%s", tag);
		CHECK(!alias_lookup(m, "id2000", 6, &out, &len), "an unknown id is not found%s", tag);
		alias_free(m);
	}
	unsetenv("RETAIN_TEST_HASH_BITS");
}

int main(void)
{
	rtn_init("test_extsort");
	static const struct { const char *name; int type; } cols[NCOLS] = {
		{"customer", RTN_STRING}, {"time", RTN_TIME}, {"amount", RTN_MONEY},
		{"score", RTN_FLOAT}, {"note", RTN_STRING}, {"seq", RTN_INT}};
	for (int i = 0; i < NCOLS; i++)
		rtn_schema_add(&schema, cols[i].name, cols[i].type);
	test_order();
	test_sort();
	test_alias();
	return unit_done();
}
