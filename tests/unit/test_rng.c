/* Unit tests for lib/rng: reference outputs, determinism, and the first two
 * moments of every sampler. Moment tolerances are 5 standard errors of the
 * sample statistic (mean: sd/sqrt(n); variance: sd^2 * sqrt((kurt-1)/n)),
 * so a correct sampler fails with probability below 1e-6 per check, and the
 * fixed seeds make every run identical anyway. */
#include <math.h>
#include <stdint.h>

#include "rng.h"
#include "unit.h"

#define N 400000

static void moments(const double *x, int n, double *mean, double *var)
{
	double s = 0, ss = 0;
	for (int i = 0; i < n; i++)
		s += x[i];
	*mean = s / n;
	for (int i = 0; i < n; i++)
		ss += (x[i] - *mean) * (x[i] - *mean);
	*var = ss / (n - 1);
}

static double buf[N];

/* Checks mean and variance against the truth. kurt is the distribution's
 * (non-excess) kurtosis, for the standard error of the sample variance. */
static void check_moments(const char *what, double mean, double var, double kurt)
{
	double m, v;
	moments(buf, N, &m, &v);
	double se_m = sqrt(var / N), se_v = var * sqrt((kurt - 1) / N);
	CHECK_NEAR(m, mean, 5 * se_m, "%s: mean", what);
	CHECK_NEAR(v, var, 5 * se_v, "%s: variance", what);
}

static void test_reference(void)
{
	/* splitmix64 from state 0: the published first outputs. */
	/* (CHECK evaluates its condition twice: draw into variables first.) */
	uint64_t st = 0;
	uint64_t s1 = rng_splitmix64(&st), s2 = rng_splitmix64(&st);
	CHECK(s1 == UINT64_C(0xe220a8397b1dcdaf), "splitmix64 first output");
	CHECK(s2 == UINT64_C(0x6e789e6aa1b965f4), "splitmix64 second output");
	/* xoshiro256** from state {1,2,3,4}: rotl(2*5, 7)*9 = 11520, and the
	 * second output is 0 (s[1] becomes 0 after one step; worked by hand). */
	rng r = {{1, 2, 3, 4}};
	uint64_t x1 = rng_next(&r), x2 = rng_next(&r);
	CHECK(x1 == 11520, "xoshiro256** first output");
	CHECK(x2 == 0, "xoshiro256** second output");
}

static void test_determinism(void)
{
	rng a, b, c;
	rng_seed(&a, 42);
	rng_seed(&b, 42);
	rng_seed(&c, 43);
	int same = 1, differ = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t x = rng_next(&a), y = rng_next(&b), z = rng_next(&c);
		same &= x == y;
		differ += x != z;
	}
	CHECK(same, "same seed, same sequence");
	CHECK(differ == 1000, "different seed, different sequence");
	rng_seed_stream(&a, 7, 5);
	rng_seed_stream(&b, 7, 5);
	rng_seed_stream(&c, 7, 6);
	uint64_t xa = rng_next(&a), xb = rng_next(&b), xc = rng_next(&c);
	CHECK(xa == xb, "stream k is reproducible");
	CHECK(xa != xc, "streams k and k+1 differ");
	rng_seed(&c, 7);
	rng_seed_stream(&a, 7, 0);
	xa = rng_next(&a);
	xc = rng_next(&c);
	CHECK(xa != xc, "stream 0 is not the plain seed");
}

static void test_uniform(void)
{
	rng r;
	rng_seed(&r, 1);
	int in = 1;
	for (int i = 0; i < N; i++) {
		buf[i] = rng_uniform(&r);
		in &= buf[i] >= 0 && buf[i] < 1;
	}
	CHECK(in, "uniform in [0, 1)");
	check_moments("uniform", 0.5, 1.0 / 12, 1.8);
	int pos = 1;
	for (int i = 0; i < 10000; i++) {
		double u = rng_uniform_pos(&r);
		pos &= u > 0 && u <= 1;
	}
	CHECK(pos, "uniform_pos in (0, 1]");
	/* rng_below: in range, and every value of a small range about equally
	 * often (chi-square with 6 degrees of freedom well below 30). */
	long count[7] = {0};
	int ok = 1;
	for (int i = 0; i < 70000; i++) {
		uint64_t k = rng_below(&r, 7);
		ok &= k < 7;
		if (k < 7)
			count[k]++;
	}
	double chi = 0;
	for (int k = 0; k < 7; k++)
		chi += (count[k] - 10000.0) * (count[k] - 10000.0) / 10000.0;
	CHECK(ok, "below(7) in range");
	CHECK(chi < 30, "below(7) uniform (chi2 = %.1f)", chi);
	uint64_t one = rng_below(&r, 1);
	CHECK(one == 0, "below(1) is 0");
	uint64_t big = UINT64_C(0xffffffffffffff00);
	ok = 1;
	for (int i = 0; i < 1000; i++)
		ok &= rng_below(&r, big) < big;
	CHECK(ok, "below(huge) in range");
}

static void test_exp_normal(void)
{
	rng r;
	rng_seed(&r, 2);
	for (int i = 0; i < N; i++)
		buf[i] = rng_exp(&r);
	check_moments("exp", 1, 1, 9);
	for (int i = 0; i < N; i++)
		buf[i] = rng_normal(&r);
	check_moments("normal", 0, 1, 3);
}

static void test_gamma(void)
{
	static const double shapes[] = {0.24, 0.79, 1, 2.43, 6.25, 40};
	rng r;
	rng_seed(&r, 3);
	for (size_t j = 0; j < sizeof shapes / sizeof *shapes; j++) {
		double k = shapes[j];
		int pos = 1;
		for (int i = 0; i < N; i++) {
			buf[i] = rng_gamma(&r, k);
			pos &= buf[i] >= 0 && isfinite(buf[i]);
		}
		char what[64];
		snprintf(what, sizeof what, "gamma(%g)", k);
		CHECK(pos, "%s: finite and non-negative", what);
		check_moments(what, k, k, 3 + 6 / k);
	}
}

static void test_beta(void)
{
	static const double ab[][2] = {{0.79, 2.43}, {2, 5}, {0.3, 0.3}};
	rng r;
	rng_seed(&r, 4);
	for (size_t j = 0; j < sizeof ab / sizeof *ab; j++) {
		double a = ab[j][0], b = ab[j][1];
		int in = 1;
		for (int i = 0; i < N; i++) {
			buf[i] = rng_beta(&r, a, b);
			in &= buf[i] >= 0 && buf[i] <= 1;
		}
		double mean = a / (a + b), var = a * b / ((a + b) * (a + b) * (a + b + 1));
		double exk = 6 * ((a - b) * (a - b) * (a + b + 1) - a * b * (a + b + 2)) /
			     (a * b * (a + b + 2) * (a + b + 3));
		char what[64];
		snprintf(what, sizeof what, "beta(%g,%g)", a, b);
		CHECK(in, "%s: in [0, 1]", what);
		check_moments(what, mean, var, 3 + exk);
	}
}

static void test_poisson(void)
{
	static const double means[] = {0.3, 4, 9.9, 10, 37.5, 1000};
	rng r;
	rng_seed(&r, 5);
	for (size_t j = 0; j < sizeof means / sizeof *means; j++) {
		double mu = means[j];
		for (int i = 0; i < N; i++)
			buf[i] = (double)rng_poisson(&r, mu);
		char what[64];
		snprintf(what, sizeof what, "poisson(%g)", mu);
		check_moments(what, mu, mu, 3 + 1 / mu);
	}
	uint64_t p_zero = rng_poisson(&r, 0);
	CHECK(p_zero == 0, "poisson(0) is 0");
	/* P(X = 0) for mean 4 is e^-4 = 0.0183: the shape, not just moments. */
	int zeros = 0;
	for (int i = 0; i < N; i++)
		zeros += rng_poisson(&r, 4) == 0;
	double p0 = exp(-4);
	CHECK_NEAR((double)zeros / N, p0, 5 * sqrt(p0 * (1 - p0) / N), "poisson(4): P(0)");
	/* PTRS: P(X = 37) for mean 37.5. */
	int hits = 0;
	for (int i = 0; i < N; i++)
		hits += rng_poisson(&r, 37.5) == 37;
	double p37 = exp(-37.5 + 37 * log(37.5) - lgamma(38));
	CHECK_NEAR((double)hits / N, p37, 5 * sqrt(p37 * (1 - p37) / N), "poisson(37.5): P(37)");
}

int main(void)
{
	test_reference();
	test_determinism();
	test_uniform();
	test_exp_normal();
	test_gamma();
	test_beta();
	test_poisson();
	return unit_done();
}
