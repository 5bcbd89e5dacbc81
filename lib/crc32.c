/* CRC-32 (the zlib/gzip polynomial) with carry-less multiplication where
 * the processor has it. See crc32.h.
 *
 * The method is folding (Gopal et al., "Fast CRC Computation for Generic
 * Polynomials Using PCLMULQDQ Instruction", Intel, 2009): four 128-bit
 * lanes each hold a running remainder; x^(512+32) and x^(512-32) mod P
 * (k1, k2) move a lane 64 bytes further, x^(128+32) and x^(128-32) mod P
 * (k3, k4) move one lane onto the next; the last 128 bits are reduced to 64
 * and 32 (k5), then to the CRC by Barrett reduction (P and mu = x^64 / P).
 * All constants are for the bit-reflected polynomial, shifted left one bit
 * as reflected products require. Short inputs and the last partial 16 bytes
 * go to zlib. */
#include "crc32.h"

#include <zlib.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_CLMUL_PATH 1

#define K1 0x154442bd4ULL
#define K2 0x1c6e41596ULL
#define K3 0x1751997d0ULL
#define K4 0x0ccaa009eULL
#define K5 0x163cd6124ULL
#define POLY 0x1db710641ULL
#define MU 0x1f7011641ULL

__attribute__((target("pclmul,sse4.1"))) static inline __m128i fold(__m128i x, __m128i k)
{
	return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

/* Internal (inverted) state in and out; n >= 64 and a multiple of 16. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t crc_clmul(uint32_t c, const unsigned char *p,
                                                                  size_t n)
{
	__m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
	__m128i x2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
	__m128i x3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
	x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)c));
	p += 64;
	n -= 64;
	__m128i k = _mm_set_epi64x((long long)K2, (long long)K1);
	while (n >= 64) {
		x0 = _mm_xor_si128(fold(x0, k), _mm_loadu_si128((const __m128i *)(const void *)p));
		x1 = _mm_xor_si128(fold(x1, k), _mm_loadu_si128((const __m128i *)(const void *)(p + 16)));
		x2 = _mm_xor_si128(fold(x2, k), _mm_loadu_si128((const __m128i *)(const void *)(p + 32)));
		x3 = _mm_xor_si128(fold(x3, k), _mm_loadu_si128((const __m128i *)(const void *)(p + 48)));
		p += 64;
		n -= 64;
	}
	k = _mm_set_epi64x((long long)K4, (long long)K3);
	x0 = _mm_xor_si128(fold(x0, k), x1);
	x0 = _mm_xor_si128(fold(x0, k), x2);
	x0 = _mm_xor_si128(fold(x0, k), x3);
	while (n >= 16) {
		x0 = _mm_xor_si128(fold(x0, k), _mm_loadu_si128((const __m128i *)(const void *)p));
		p += 16;
		n -= 16;
	}
	/* 128 bits to 64: the low half times k4, added to the high half */
	const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
	x1 = _mm_xor_si128(_mm_clmulepi64_si128(x0, k, 0x10), _mm_srli_si128(x0, 8));
	/* 64 to 32 */
	x0 = _mm_srli_si128(x1, 4);
	x1 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), _mm_set_epi64x(0, (long long)K5), 0x00);
	x1 = _mm_xor_si128(x1, x0);
	/* Barrett: q = (low 32 bits * mu) low 32 bits; remainder = x ^ q * P */
	__m128i pm = _mm_set_epi64x((long long)MU, (long long)POLY);
	x0 = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, mask32), pm, 0x10), mask32);
	x1 = _mm_xor_si128(x1, _mm_clmulepi64_si128(x0, pm, 0x00));
	return (uint32_t)_mm_extract_epi32(x1, 1);
}

static int have_clmul(void)
{
	static int known = -1;
	if (known < 0) {
		__builtin_cpu_init();
		known = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
	}
	return known;
}
#endif

uint32_t rtn_crc32(uint32_t crc, const void *buf, size_t n)
{
	const unsigned char *p = buf;
#ifdef HAVE_CLMUL_PATH
	if (n >= 64 && have_clmul()) {
		size_t body = n & ~(size_t)15;
		crc = ~crc_clmul(~crc, p, body);
		p += body;
		n -= body;
	}
#endif
	/* zlib takes at most UINT_MAX bytes at a time */
	while (n) {
		unsigned chunk = n > 0x40000000u ? 0x40000000u : (unsigned)n;
		crc = (uint32_t)crc32(crc, p, chunk);
		p += chunk;
		n -= chunk;
	}
	return crc;
}

int rtn_crc32_accelerated(void)
{
#ifdef HAVE_CLMUL_PATH
	return have_clmul();
#else
	return 0;
#endif
}
