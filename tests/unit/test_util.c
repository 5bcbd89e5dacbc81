/* Big allocations: xmalloc/xcalloc from 2 MiB up (aligned, zeroed when
 * asked) and rtn_big_grow (grows in place across the malloc/mapping
 * boundary, keeps the bytes, zeroes the new ones). */
#include <stdint.h>
#include <stdlib.h>

#include "unit.h"
#include "util.h"

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

static void test_big_grow(void)
{
	unsigned char *p = NULL;
	size_t cap = 0;
	size_t steps[] = {10, 5000, (size_t)1 << 20, ((size_t)2 << 20) + 1, (size_t)9 << 20,
	                  (size_t)40 << 20};
	size_t filled = 0;
	int ok = 1, zero = 1;
	for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
		size_t need = steps[k];
		size_t old = cap;
		rtn_big_grow((void **)&p, &cap, need);
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
	CHECK(ok, "rtn_big_grow keeps the bytes through 6 growths across 2 MiB");
	CHECK(zero, "rtn_big_grow zeroes the new bytes");
	size_t before = cap;
	rtn_big_grow((void **)&p, &cap, 100);
	CHECK(cap == before && p[99] == (unsigned char)(99 * 31 + 7), "a smaller need changes nothing");
	rtn_big_free(p, cap);
}

int main(void)
{
	test_big_blocks();
	test_big_grow();
	return unit_done();
}
