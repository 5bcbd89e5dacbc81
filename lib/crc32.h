/* CRC-32 as zlib's crc32() computes it (the gzip polynomial, reflected,
 * inverted in and out), several times faster on x86-64 processors with
 * PCLMULQDQ (chosen at run time; zlib is the fallback). Every CRC in the
 * stream format goes through here. */
#ifndef RETAIN_CRC32_H
#define RETAIN_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* crc: 0 to start, or the result for the bytes before buf. */
uint32_t rtn_crc32(uint32_t crc, const void *buf, size_t n);
/* 1 when the carry-less multiplication path is in use. */
int rtn_crc32_accelerated(void);

#endif
