/* Unit tests: rtn_crc32 (lib/crc32.h) computes what zlib's crc32 does, for
 * every length around the folding boundaries, any alignment, chained calls,
 * and the published check value. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "crc32.h"
#include "unit.h"

static unsigned char buf[70000];

static uint32_t zcrc(uint32_t c, const unsigned char *p, size_t n)
{
	return (uint32_t)crc32(c, p, (uInt)n);
}

int main(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < sizeof buf; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		buf[i] = (unsigned char)x;
	}
	printf("# carry-less multiplication path: %s\n", rtn_crc32_accelerated() ? "yes" : "no");
	CHECK(rtn_crc32(0, "123456789", 9) == 0xCBF43926u, "check value of \"123456789\"");
	CHECK(rtn_crc32(0, buf, 0) == 0, "empty input");
	int bad = 0;
	size_t first_bad = 0;
	for (size_t n = 0; n <= 600; n++)
		for (size_t off = 0; off < 16; off++)
			if (rtn_crc32(0, buf + off, n) != zcrc(0, buf + off, n) && !bad++)
				first_bad = n;
	CHECK(bad == 0, "every length 0..600 at 16 alignments equals zlib (first bad length %zu)",
	      first_bad);
	bad = 0;
	for (size_t n = 1000; n < sizeof buf; n = n * 3 / 2 + 7)
		bad += rtn_crc32(0, buf, n) != zcrc(0, buf, n);
	CHECK(bad == 0, "long inputs equal zlib");
	CHECK(rtn_crc32(0, buf, sizeof buf) == zcrc(0, buf, sizeof buf), "70000 bytes");
	/* chained: any split gives the CRC of the whole */
	bad = 0;
	uint32_t whole = zcrc(0, buf, 5000);
	for (size_t cut = 0; cut <= 5000; cut += 37)
		bad += rtn_crc32(rtn_crc32(0, buf, cut), buf + cut, 5000 - cut) != whole;
	CHECK(bad == 0, "chained calls equal one call");
	/* a running value seeds the folding path correctly */
	CHECK(rtn_crc32(0xdeadbeefu, buf, 4096) == zcrc(0xdeadbeefu, buf, 4096), "nonzero start");
	/* all-ones and all-zero data */
	memset(buf, 0xff, 1024);
	CHECK(rtn_crc32(0, buf, 1024) == zcrc(0, buf, 1024), "all ones");
	memset(buf, 0, 1024);
	CHECK(rtn_crc32(0, buf, 1024) == zcrc(0, buf, 1024), "all zeros");
	return unit_done();
}
