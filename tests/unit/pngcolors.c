/* Test helper (not a unit test): prints the number of distinct colours in a
 * PNG, so that tests can tell a rendered page from a blank screenshot.
 *
 *   pngcolors FILE.png   ->  "1200x900 5321"  (width x height, colours)
 *
 * Handles 8-bit greyscale, RGB, grey+alpha and RGBA, non-interlaced (what
 * Chromium writes); anything else is an error (exit 2). Built by
 * tests/scripts.bats with zlib. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int fail(const char *what)
{
	fprintf(stderr, "pngcolors: %s\n", what);
	return 2;
}

static int paeth(int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return fail("usage: pngcolors FILE.png");
	FILE *f = fopen(argv[1], "rb");
	if (!f)
		return fail("cannot open the file");
	unsigned char sig[8], hdr[8];
	if (fread(sig, 1, 8, f) != 8 || memcmp(sig, "\x89PNG\r\n\x1a\n", 8) != 0)
		return fail("not a PNG");
	uint32_t w = 0, h = 0;
	int depth = 0, ctype = 0, interlace = 0;
	unsigned char *idat = NULL;
	size_t idat_len = 0;
	while (fread(hdr, 1, 8, f) == 8) {
		uint32_t len = be32(hdr);
		if (len > (1u << 30))
			return fail("chunk too long");
		unsigned char *data = malloc(len + 4);
		if (!data || fread(data, 1, len + 4, f) != len + 4)
			return fail("truncated chunk");
		if (memcmp(hdr + 4, "IHDR", 4) == 0 && len >= 13) {
			w = be32(data);
			h = be32(data + 4);
			depth = data[8];
			ctype = data[9];
			interlace = data[12];
		} else if (memcmp(hdr + 4, "IDAT", 4) == 0) {
			idat = realloc(idat, idat_len + len);
			if (!idat)
				return fail("out of memory");
			memcpy(idat + idat_len, data, len);
			idat_len += len;
		}
		int end = memcmp(hdr + 4, "IEND", 4) == 0;
		free(data);
		if (end)
			break;
	}
	fclose(f);
	int chans = ctype == 0 ? 1 : ctype == 2 ? 3 : ctype == 4 ? 2 : ctype == 6 ? 4 : 0;
	if (depth != 8 || !chans || interlace || !w || !h || w > 20000 || h > 20000)
		return fail("unsupported PNG (needs 8-bit grey/RGB/RGBA, not interlaced)");
	size_t stride = (size_t)w * (size_t)chans;
	uLongf raw_len = (uLongf)((stride + 1) * h);
	unsigned char *raw = malloc(raw_len);
	if (!raw || uncompress(raw, &raw_len, idat, (uLong)idat_len) != Z_OK || raw_len != (stride + 1) * h)
		return fail("bad image data");
	unsigned char *prev = calloc(stride, 1), *seen = calloc(1u << 21, 1);
	if (!prev || !seen)
		return fail("out of memory");
	unsigned long colours = 0;
	for (uint32_t y = 0; y < h; y++) {
		unsigned char *row = raw + y * (stride + 1), *px = row + 1;
		int filter = row[0];
		for (size_t i = 0; i < stride; i++) {
			int a = i >= (size_t)chans ? px[i - chans] : 0, b = prev[i], c = i >= (size_t)chans ? prev[i - chans] : 0;
			switch (filter) {
			case 0: break;
			case 1: px[i] = (unsigned char)(px[i] + a); break;
			case 2: px[i] = (unsigned char)(px[i] + b); break;
			case 3: px[i] = (unsigned char)(px[i] + (a + b) / 2); break;
			case 4: px[i] = (unsigned char)(px[i] + paeth(a, b, c)); break;
			default: return fail("bad filter type");
			}
		}
		for (uint32_t x = 0; x < w; x++) {
			const unsigned char *p = px + (size_t)x * chans;
			uint32_t rgb = chans >= 3 ? (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]
						  : (uint32_t)p[0] * 0x010101u;
			if (!(seen[rgb >> 3] & (1u << (rgb & 7)))) {
				seen[rgb >> 3] |= (unsigned char)(1u << (rgb & 7));
				colours++;
			}
		}
		memcpy(prev, px, stride);
	}
	printf("%lux%lu %lu\n", (unsigned long)w, (unsigned long)h, colours);
	free(raw);
	free(prev);
	free(seen);
	free(idat);
	return 0;
}
