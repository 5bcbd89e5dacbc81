/* Varints (LEB128: 7 bits a byte, low first, top bit = more) and zigzag
 * for signed values: the record encoding of the stream and the compact day
 * lists of cohort. */
#ifndef RETAIN_VARINT_H
#define RETAIN_VARINT_H

#include <stdint.h>

static inline unsigned char *put_varint(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

static inline uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Returns the pointer after the varint, or NULL when it runs past end or is
 * longer than 10 bytes. */
static inline const unsigned char *get_varint(const unsigned char *p, const unsigned char *end, uint64_t *v)
{
	uint64_t x = 0;
	for (int shift = 0; shift < 70 && p < end; shift += 7) {
		unsigned char c = *p++;
		if (shift == 63 && c > 1)
			return NULL;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return p;
		}
	}
	return NULL;
}

#endif
