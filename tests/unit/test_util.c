/* Big allocations: xmalloc/xcalloc from 2 MiB up (aligned, zeroed when
 * asked), rtn_big_grow and rtn_big_grow_small (grow in place across the
 * malloc/mapping boundary, keep the bytes, zero the new ones), the worker
 * threads of workers.h, and rtn_bytes_eq. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

#include "unit.h"
#include "util.h"
#include "workers.h"

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void test_big_blocks(void)
{
	size_t n = (size_t)5 << 20;   /* not a multiple of 2 MiB */
	unsigned char *p = xcalloc(n, 1);
	CHECK(((uintptr_t)p & (((size_t)2 << 20) - 1)) == 0, "a 5 MiB calloc is 2 MiB aligned");
	CHECK(all_zero(p, n), "and zeroed");
	p[n - 1] = 7;   /* the last byte is ours */
	free(p);
	unsigned char *q = xmalloc(n + 3);
	q[0] = 1;
	q[n + 2] = 2;
	CHECK(q[0] == 1 && q[n + 2] == 2, "a big malloc holds its bytes");
	free(q);
	unsigned char *s = xcalloc(100, 10);
	CHECK(all_zero(s, 1000), "a small calloc is zeroed");
	free(s);
}

static void test_big_grow(int small)
{
	void (*grow)(void **, size_t *, size_t) = small ? rtn_big_grow_small : rtn_big_grow;
	const char *name = small ? "rtn_big_grow_small" : "rtn_big_grow";
	unsigned char *p = NULL;
	size_t cap = 0;
	size_t steps[] = {10, 5000, (size_t)1 << 20, ((size_t)2 << 20) + 1, (size_t)9 << 20,
	                  (size_t)40 << 20};
	size_t filled = 0;
	int ok = 1, zero = 1;
	for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
		size_t need = steps[k];
		size_t old = cap;
		grow((void **)&p, &cap, need);
		if (cap < need)
			ok = 0;
		/* the bytes written before are still there */
		for (size_t i = 0; i < filled; i++)
			if (p[i] != (unsigned char)(i * 31 + 7))
				ok = 0;
		/* the new bytes are zero */
		if (!all_zero(p + old, cap - old))
			zero = 0;
		for (size_t i = filled; i < need; i++)
			p[i] = (unsigned char)(i * 31 + 7);
		filled = need;
	}
	CHECK(ok, "%s keeps the bytes through 6 growths across 2 MiB", name);
	CHECK(zero, "%s zeroes the new bytes", name);
	size_t before = cap;
	grow((void **)&p, &cap, 100);
	CHECK(cap == before && p[99] == (unsigned char)(99 * 31 + 7), "%s: a smaller need changes nothing", name);
	rtn_big_free(p, cap);
}

/* Pages of [p, p + n) in memory (mincore), of the pages it spans. */
static size_t resident(const unsigned char *p, size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), np = (n + pg - 1) / pg, r = 0;
	unsigned char *v = xmalloc(np);
	if (mincore((void *)(uintptr_t)p, n, v) != 0) {
		free(v);
		return SIZE_MAX;
	}
	for (size_t i = 0; i < np; i++)
		r += v[i] & 1;
	free(v);
	return r;
}

/* rtn_big_prefault maps the pages asked for (where the system can), no
 * others, stops at the array's end, and leaves the bytes as they were. */
static void test_big_prefault(void)
{
	unsigned char *p = NULL;
	size_t cap = 0, mib = (size_t)1 << 20, pg = (size_t)sysconf(_SC_PAGESIZE);
	rtn_big_grow_small((void **)&p, &cap, 16 * mib);
	p[0] = 5;
	size_t before = resident(p + 4 * mib, 2 * mib);
	rtn_big_prefault(p, cap, 4 * mib + 100, 2 * mib - 100);   /* from inside a page */
	size_t in = resident(p + 4 * mib, 2 * mib), out = resident(p + 8 * mib, 4 * mib);
#ifdef MADV_POPULATE_WRITE
	int can = madvise(p + 12 * mib, pg, MADV_POPULATE_WRITE) == 0;   /* this kernel has it */
#else
	int can = 0;
#endif
	CHECK(before == 0 && out == 0 && (!can || in == 2 * mib / pg),
	      "rtn_big_prefault maps the 2 MiB asked for (%zu of %zu pages; kernel support %d) and no others (%zu)",
	      in, 2 * mib / pg, can, out);
	rtn_big_prefault(p, cap, cap - mib, 8 * mib);   /* past the end: cut at cap */
	rtn_big_prefault(p, cap, cap + mib, mib);       /* wholly past: nothing */
	CHECK(p[0] == 5 && all_zero(p + 1, cap - 1), "rtn_big_prefault leaves the bytes as they were");
	rtn_big_free(p, cap);
	unsigned char *q = NULL;
	size_t qcap = 0;
	rtn_big_grow_small((void **)&q, &qcap, 1000);   /* malloc'd: not a mapping, left alone */
	rtn_big_prefault(q, qcap, 0, qcap);
	CHECK(q && all_zero(q, 1000), "rtn_big_prefault leaves small (malloc'd) arrays alone");
	rtn_big_free(q, qcap);
}

/* Worker pools: every job runs once, its slot holds its result when the
 * caller waits for it, slots are reused; with RETAIN_THREADS=1 none start. */
static struct {
	uint64_t slot[RTN_WORKERS_SLOTS];
	_Atomic int runs[5000];
	_Atomic int by_worker[RTN_WORKERS_MAX];
} jobs;

static void job(void *ctx, int worker, uint64_t seq)
{
	(void)ctx;
	jobs.slot[seq % RTN_WORKERS_SLOTS] = seq * 3 + 1;
	jobs.runs[seq]++;
	jobs.by_worker[worker]++;
}

static void test_workers(void)
{
	rtn_workers w;
	setenv("RETAIN_THREADS", "1", 1);
	CHECK(rtn_workers_start(&w, job, NULL, 2) == 0, "RETAIN_THREADS=1: no workers");
	rtn_workers_stop(&w);
	unsetenv("RETAIN_THREADS");
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int n = rtn_workers_start(&w, job, NULL, 2);
	CHECK(n == (ncpu >= 2 ? 2 : 0), "%d workers for %ld processors", n, ncpu);
	if (!n)
		return;
	uint64_t next = 0, bad = 0;
	for (uint64_t seq = 0; seq < 5000; seq++) {
		if (w.filled - next == RTN_WORKERS_SLOTS) {   /* all slots busy: take the oldest */
			rtn_workers_done(&w, next, 1);
			bad += jobs.slot[next % RTN_WORKERS_SLOTS] != next * 3 + 1;
			rtn_workers_release(&w, next++);
		}
		rtn_workers_submit(&w);
	}
	for (; next < 5000; next++) {
		rtn_workers_done(&w, next, 1);
		bad += jobs.slot[next % RTN_WORKERS_SLOTS] != next * 3 + 1;
		rtn_workers_release(&w, next);
	}
	rtn_workers_stop(&w);
	int once = 1;
	for (int i = 0; i < 5000; i++)
		once &= jobs.runs[i] == 1;
	CHECK(bad == 0 && once, "5000 jobs through 8 slots: each ran once, results in order (%llu wrong)",
	      (unsigned long long)bad);
	CHECK(jobs.by_worker[0] + jobs.by_worker[1] == 5000, "the jobs ran in the workers");
}

/* rtn_bytes_eq at every length from 0 to 40 (each of its word paths and
 * memcmp) and every offset: equal bytes compare equal, one byte changed
 * anywhere does not. */
static void test_bytes_eq(void)
{
	unsigned char a[48], b[48];
	int wrong = 0;
	for (size_t n = 0; n <= 40; n++)
		for (size_t off = 0; off < 8; off++) {
			for (size_t i = 0; i < n; i++)
				a[off + i] = b[i] = (unsigned char)(i * 37 + n);
			wrong += !rtn_bytes_eq(a + off, b, n);
			for (size_t i = 0; i < n; i++) {
				b[i] ^= 0x40;
				wrong += rtn_bytes_eq(a + off, b, n);
				b[i] ^= 0x40;
			}
		}
	CHECK(wrong == 0, "rtn_bytes_eq: %d wrong answers for lengths 0 to 40", wrong);
}

int main(void)
{
	test_bytes_eq();
	test_big_blocks();
	test_big_grow(0);
	test_big_grow(1);
	test_big_prefault();
	test_workers();
	return unit_done();
}
