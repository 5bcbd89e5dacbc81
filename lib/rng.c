/* xoshiro256** with splitmix64 seeding, and the samplers built on it.
 * Algorithms and references in rng.h. */
#include "rng.h"

#include <math.h>

uint64_t rng_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void rng_seed(rng *r, uint64_t seed)
{
	uint64_t st = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = rng_splitmix64(&st);
	/* splitmix64 never yields four zero words in a row, but be certain:
	 * the all-zero state is xoshiro's one fixed point. */
	if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
		r->s[0] = 1;
}

void rng_seed_stream(rng *r, uint64_t seed, uint64_t k)
{
	/* Two rounds of splitmix64 over (seed, k): nearby k give unrelated
	 * states, and stream k never equals the plain seed's stream. */
	uint64_t st = seed;
	uint64_t h = rng_splitmix64(&st);
	st = h ^ (k * UINT64_C(0xd1342543de82ef95) + UINT64_C(0x632be59bd9b4e019));
	rng_seed(r, rng_splitmix64(&st));
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double rng_uniform(rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

double rng_uniform_pos(rng *r)
{
	return (double)((rng_next(r) >> 11) + 1) * 0x1.0p-53;
}

uint64_t rng_below(rng *r, uint64_t n)
{
	/* Lemire's multiply-and-reject: the high word of x * n is uniform on
	 * [0, n) once the low word is outside the biased zone [0, 2^64 mod n). */
	unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
	uint64_t lo = (uint64_t)m;
	if (lo < n) {
		uint64_t threshold = (0 - n) % n;
		while (lo < threshold) {
			m = (unsigned __int128)rng_next(r) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

double rng_exp(rng *r)
{
	return -log(rng_uniform_pos(r));
}

double rng_normal(rng *r)
{
	double u, v, s;
	do {
		u = 2 * rng_uniform(r) - 1;
		v = 2 * rng_uniform(r) - 1;
		s = u * u + v * v;
	} while (s >= 1 || s == 0);
	return u * sqrt(-2 * log(s) / s);
}

double rng_gamma(rng *r, double shape)
{
	if (shape < 1) {
		/* Marsaglia & Tsang section 6: Gamma(a) = Gamma(a + 1) * U^(1/a). */
		double g = rng_gamma(r, shape + 1);
		return g * pow(rng_uniform_pos(r), 1 / shape);
	}
	double d = shape - 1.0 / 3, c = 1 / sqrt(9 * d);
	for (;;) {
		double x, v;
		do {
			x = rng_normal(r);
			v = 1 + c * x;
		} while (v <= 0);
		v = v * v * v;
		double u = rng_uniform_pos(r);
		double x2 = x * x;
		if (u < 1 - 0.0331 * x2 * x2)
			return d * v;
		if (log(u) < 0.5 * x2 + d * (1 - v + log(v)))
			return d * v;
	}
}

double rng_beta(rng *r, double a, double b)
{
	double x = rng_gamma(r, a), y = rng_gamma(r, b);
	if (x + y <= 0) /* both underflowed (tiny shapes): a Bernoulli limit */
		return rng_uniform(r) < a / (a + b) ? 1.0 : 0.0;
	return x / (x + y);
}

uint64_t rng_poisson(rng *r, double mean)
{
	if (!(mean > 0))
		return 0;
	if (mean < 10) {
		/* Count uniforms until their product drops below e^-mean. */
		double limit = exp(-mean), prod = rng_uniform_pos(r);
		uint64_t k = 0;
		while (prod > limit) {
			prod *= rng_uniform_pos(r);
			k++;
		}
		return k;
	}
	/* PTRS (Hormann 1993, algorithm PTRS with the constants of table 1). */
	double smu = sqrt(mean), lmu = log(mean);
	double b = 0.931 + 2.53 * smu;
	double a = -0.059 + 0.02483 * b;
	double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
	double vr = 0.9277 - 3.6224 / (b - 2);
	for (;;) {
		double u = rng_uniform(r) - 0.5;
		double v = rng_uniform_pos(r);
		double us = 0.5 - fabs(u);
		double k = floor((2 * a / us + b) * u + mean + 0.43);
		if (us >= 0.07 && v <= vr)
			return (uint64_t)k;
		if (k < 0 || (us < 0.013 && v > us))
			continue;
		if (log(v) + log(inv_alpha) - log(a / (us * us) + b) <= -mean + k * lmu - lgamma(k + 1))
			return (uint64_t)k;
	}
}
