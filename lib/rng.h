/* A small deterministic pseudo-random number generator and the samplers the
 * simulations need. Same seed, same numbers, on every platform with IEEE
 * doubles (only +, *, /, sqrt, log, exp, pow and lgamma are used).
 *
 * Generator: xoshiro256** 1.0 (Blackman and Vigna, "Scrambled linear
 * pseudorandom number generators", ACM TOMS 47(4), 2021), period 2^256 - 1.
 * Its 256-bit state is filled from a 64-bit seed with splitmix64 (Steele,
 * Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA
 * 2014), as the xoshiro authors recommend.
 *
 * Independent streams: rng_seed_stream(r, seed, k) seeds from
 * splitmix64(seed) mixed with k, so stream k (for example customer k) is the
 * same whatever other streams are drawn, and how many.
 *
 * Samplers (published algorithms, written here from the papers):
 *   rng_uniform      53-bit uniform in [0, 1)
 *   rng_below        unbiased integer in [0, n) (Lemire, "Fast random integer
 *                    generation in an interval", ACM TOMACS 29(1), 2019)
 *   rng_exp          exponential, mean 1, by inversion
 *   rng_normal       standard normal, Marsaglia polar method (no cached pair,
 *                    so a draw depends only on the state)
 *   rng_gamma        Gamma(shape, scale 1): Marsaglia and Tsang, "A simple
 *                    method for generating gamma variables", ACM TOMS 26(3),
 *                    2000; shape < 1 by Gamma(shape + 1) * U^(1/shape)
 *   rng_beta         Beta(a, b) = X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b)
 *   rng_poisson      mean < 10: multiplication of uniforms (Knuth); else
 *                    PTRS, Hormann, "The transformed rejection method for
 *                    generating Poisson random variables", Insurance:
 *                    Mathematics and Economics 12(1), 1993
 */
#ifndef RETAIN_RNG_H
#define RETAIN_RNG_H

#include <stdint.h>

typedef struct rng {
	uint64_t s[4];
} rng;

/* splitmix64: advances *state and returns the next output. */
uint64_t rng_splitmix64(uint64_t *state);

void rng_seed(rng *r, uint64_t seed);
/* Stream k of seed: independent of every other k. */
void rng_seed_stream(rng *r, uint64_t seed, uint64_t k);

uint64_t rng_next(rng *r);
double rng_uniform(rng *r);          /* [0, 1) */
double rng_uniform_pos(rng *r);      /* (0, 1] */
uint64_t rng_below(rng *r, uint64_t n);  /* [0, n), n > 0 */
double rng_exp(rng *r);              /* Exp(1) */
double rng_normal(rng *r);           /* N(0, 1) */
double rng_gamma(rng *r, double shape);  /* Gamma(shape, 1), shape > 0 */
double rng_beta(rng *r, double a, double b);
uint64_t rng_poisson(rng *r, double mean);  /* mean >= 0 */

#endif
