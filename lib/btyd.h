/* "Buy 'til you die" models for churn scoring and customer lifetime value.
 *
 *   BG/NBD       Fader, Hardie & Lee (2005), "Counting your customers the
 *                easy way: an alternative to the Pareto/NBD model",
 *                Marketing Science 24(2).  Parameters r, alpha, a, b.
 *   Pareto/NBD   Schmittlein, Morrison & Colombo (1987); likelihood in the
 *                form of Fader & Hardie (2005), "A note on deriving the
 *                Pareto/NBD model and related expressions".  r, alpha, s, beta.
 *   Gamma-Gamma  Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value
 *                curves for customer base analysis", JMR 42(4).  p, q, gamma.
 *
 * Per customer: x = number of repeat purchases, t_x = time of the last
 * purchase and T = age, both measured from the first purchase in one time
 * unit (weeks, days: the parameters alpha and beta are in that unit).
 *
 * Every function returns BTYD_OK (0) or an error code (btyd_strerror) and
 * never stores a NaN or infinity in its result.
 *
 * Log-likelihoods of one customer (all evaluated in log space):
 *   BG/NBD      lnG(r+x) - lnG(r) + r ln(alpha) + lnB(a, b+x) - lnB(a, b)
 *               + ln[(alpha+T)^-(r+x) + [x>0] a/(b+x-1) (alpha+t_x)^-(r+x)]
 *   Pareto/NBD  lnG(r+x) - lnG(r) + r ln(alpha) + s ln(beta)
 *               + ln[(alpha+T)^-(r+x) (beta+T)^-s + s/(r+s+x) A0], with
 *               A0 = F(t_x)/(w+t_x)^(r+s+x) - F(T)/(w+T)^(r+s+x),
 *               F(t) = 2F1(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+t)), w = alpha
 *               when alpha >= beta, else
 *               F(t) = 2F1(r+s+x, r+x; r+s+x+1; (beta-alpha)/(beta+t)), w = beta,
 *               so |z| < 1. Equivalently A0 = (r+s+x) (G(t_x) - G(T)) with
 *               G(t) = int_t^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du; where z
 *               exceeds 0.95 G(t) is computed by adaptive Gauss-Legendre
 *               quadrature instead of the series.
 *   Gamma-Gamma lnG(px+q) - lnG(px) - lnG(q) + q ln(gamma) + (px-1) ln(m)
 *               + px ln(x) - (px+q) ln(gamma + m x)   (m = mean spend, x > 0)
 *
 * Predictions:
 *   BG/NBD  E[Y(t)|x,t_x,T] = (a+b+x-1)/(a-1)
 *             [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
 *             / [1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)]
 *           (evaluated through Euler's transformation; a = 1 as a limit)
 *           P(alive) = 1 / [1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)]
 *           E[X(t)] is the same with x = 0, T = 0.
 *   Pareto/NBD  P(alive) = (alpha+T)^-(r+x) (beta+T)^-s / L-bracket above
 *           E[Y(t)|...] = (r+x)(beta+T)/((alpha+T)(s-1))
 *             [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive)   (s = 1 as a limit)
 *           E[X(t)] = r beta/(alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]
 *   Gamma-Gamma  E[M | m, x] = p (gamma + x m) / (p x + q - 1), q > 1. */
#ifndef RETAIN_BTYD_H
#define RETAIN_BTYD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum btyd_err {
	BTYD_OK = 0,
	BTYD_EDOMAIN,    /* invalid argument or parameter (negative, non-finite, t_x > T...) */
	BTYD_ENOCONV,    /* a series or the optimiser did not converge */
	BTYD_ERANGE,     /* the result overflows or underflows double */
	BTYD_ENODATA,    /* data cannot identify the model (e.g. no repeat purchases) */
	BTYD_EINFSPEND,  /* Gamma-Gamma q <= 1: expected spend is infinite */
	BTYD_EDIVERGE    /* the fit ran away to a boundary (parameter -> 0 or infinity) */
};
const char *btyd_strerror(int err);

enum btyd_model_kind { BTYD_BGNBD = 1, BTYD_PNBD = 2, BTYD_GG = 3 };

/* A model and its parameters (natural scale):
 *   BTYD_BGNBD: r alpha a b;  BTYD_PNBD: r alpha s beta;  BTYD_GG: p q gamma. */
typedef struct btyd_model {
	int kind;
	double par[4];
} btyd_model;
int btyd_model_npar(int kind);
const char *btyd_model_name(int kind);          /* "bgnbd", "pnbd", "gg" */
const char *btyd_par_name(int kind, int i);     /* "r", "alpha", ... */

/* --- Sufficient statistics ---------------------------------------------- */

/* Rows (x, t_x, T) with weights w (how many customers share the row). After
 * btyd_prepare with group=1, rows are unique and sorted by (x, T, t_x); the
 * weight is the number (or summed input weight) of identical rows. The
 * distinct time values are tabulated so a likelihood evaluation computes
 * each log(alpha + t) once. */
typedef struct btyd_data {
	size_t n;          /* rows */
	double *x, *tx, *T, *w;
	double wsum;       /* total weight (customers) */
	double wrep;       /* weight of rows with x > 0 */
	size_t nv;         /* distinct time values */
	double *v;         /* sorted distinct values of t_x and T */
	uint32_t *ix, *iT; /* index of t_x and T in v */
} btyd_data;

/* Validates rows (x a whole number >= 0, 0 <= t_x <= T, t_x = 0 when
 * x = 0, weights > 0, all finite; *bad gets the first offending index) and
 * builds out. w may be NULL (weight 1). group=0 keeps the rows as given.
 * Sorting-based: O(n log n), identical rows merged. */
int btyd_prepare(const double *x, const double *tx, const double *T, const double *w,
		 size_t n, int group, btyd_data *out, size_t *bad);
/* btyd_prepare(..., group=1, ...). */
int btyd_group(const double *x, const double *tx, const double *T, const double *w,
	       size_t n, btyd_data *out, size_t *bad);
/* btyd_group that also stores in map[i] (n entries) the unique row of input
 * row i, so scores computed once per unique row can be given back to every
 * customer. */
int btyd_group_map(const double *x, const double *tx, const double *T, const double *w,
		   size_t n, btyd_data *out, uint32_t *map, size_t *bad);
void btyd_data_free(btyd_data *d);

/* Spend data for Gamma-Gamma: customers with x > 0 and mean repeat spend
 * m > 0 (others are skipped and counted in *skipped), grouped on (x, m). */
typedef struct btyd_spend {
	size_t n;
	double *x, *m, *w;
	double wsum;
} btyd_spend;
int btyd_spend_prepare(const double *x, const double *m, size_t n, btyd_spend *out,
		       size_t *skipped);
void btyd_spend_free(btyd_spend *s);

/* --- Likelihood and fitting --------------------------------------------- */

/* Log-likelihood of one customer / of all rows (sum of w * ll). */
int btyd_ll1(const btyd_model *m, double x, double tx, double T, double *ll);
int btyd_ll(const btyd_model *m, const btyd_data *d, double *ll);
/* Gamma-Gamma log-density of mean spend mx given x transactions. */
int btyd_gg_ll1(const btyd_model *m, double x, double mx, double *ll);
int btyd_gg_ll(const btyd_model *m, const btyd_spend *s, double *ll);

typedef struct btyd_fit {
	btyd_model model;
	double se[4];       /* standard errors, natural scale (0 when !se_ok) */
	int se_ok;          /* observed information was positive definite */
	double ll;          /* maximised log-likelihood */
	double gmax;        /* max |d(-LL/n)/d log(par)| at the end */
	int iterations;
	int evaluations;
	int converged;
	double seconds;     /* wall time of the fit */
	double nobs;        /* customers (summed weights) the fit used */
	char msg[256];      /* reason when the fit failed */
} btyd_fit;

/* Maximum likelihood. Parameters are estimated on the log scale (positive
 * by construction) by minimising -LL/n: BFGS with analytic gradients
 * (digamma for BG/NBD and Gamma-Gamma; for Pareto/NBD the 2F1 series is
 * differentiated in its parameters, and the quadrature carries the same
 * derivatives) and a backtracking line search; when BFGS
 * stalls inside a sane region, Nelder-Mead restarts and BFGS again.
 * Converged: max |d(-LL/n)/d log par| <= 1e-8. A fit whose log parameters
 * pass +-15 without converging is reported as diverged (BTYD_EDIVERGE, the
 * parameter named in msg). Standard errors: the observed information (the
 * Hessian of -LL in log parameters by central differences of the gradient)
 * inverted by Cholesky, then se(p) = p se(log p) (delta method); se_ok = 0
 * when it is not positive definite. Start values when start is NULL:
 * r = 1, alpha = mean T / mean x, a = b = 1 (BG/NBD); s = 1, beta = mean T
 * (Pareto/NBD); p = 1, q = 2, gamma = mean spend (Gamma-Gamma). On failure
 * returns the code and a one-line explanation in fit->msg. */
int btyd_fit_model(int kind, const btyd_data *d, const btyd_model *start, btyd_fit *fit);
/* Threads for the likelihood sums (fits, btyd_ll, btyd_gg_ll): 1 or 2 (more
 * count as 2); 0 = automatic (2 when two processors are online). A helper
 * thread computes the terms of the second half of the rows and the caller
 * adds them in row order, so every result is the same double for any
 * setting. */
void btyd_set_threads(int n);
int btyd_threads(void);   /* the number in effect */
/* Whether fits compute standard errors (a numerical Hessian: 2 gradient
 * evaluations per parameter after convergence). On by default; a program
 * that never shows them turns them off (se_ok stays 0). */
void btyd_set_standard_errors(int on);
int btyd_fit_gg(const btyd_spend *s, const btyd_model *start, btyd_fit *fit);

/* Parameter files: readable text, one fit per block, '#' starts a comment.
 *
 *   model bgnbd
 *   r 0.24259296 se 0.012557
 *   alpha 4.4135318 se 0.37822
 *   a 0.79288553 se 0.18572
 *   b 2.4257527 se 0.70535
 *   loglik -9582.4256
 *   iterations 23
 *   customers 2357
 *
 * Values are written with 17 significant digits, so reading gives the same
 * doubles. btyd_fit_write returns 0, or -1 when writing failed (errno set).
 * btyd_fit_read reads up to max blocks; on a malformed file it returns
 * BTYD_EDOMAIN with "line N: reason" in err. Every block must give all its
 * parameters, positive and finite. */
int btyd_fit_write(FILE *f, const btyd_fit *fit);
int btyd_fit_read(FILE *f, btyd_fit *fits, int max, int *nfits, char *err, size_t errlen);

/* --- Predictions (BG/NBD and Pareto/NBD) -------------------------------- */

/* E[X(t)]: expected purchases in (0, t] of a new customer. */
int btyd_expected(const btyd_model *m, double t, double *out);
/* E[Y(t) | x, t_x, T]: expected purchases in (T, T + t]. */
int btyd_cond_expected(const btyd_model *m, double x, double tx, double T, double t, double *out);
/* The same for ascending horizons t[0..k-1] at once (one series pass). */
int btyd_cond_expected_n(const btyd_model *m, double x, double tx, double T, const double *t,
			 size_t k, double *out);
/* P(alive | x, t_x, T). */
int btyd_palive(const btyd_model *m, double x, double tx, double T, double *out);

/* Calibration/holdout validation: for customers with calibration
 * statistics (x, t_x, T) and actual[i] purchases in a holdout period of
 * length tstar right after T, bins[k] (k = 0..nbins-2 for x = k, nbins-1
 * for x >= nbins-1, e.g. nbins = 8 for 0..7+) gets the number of customers
 * and their mean predicted and mean actual holdout purchases; bins[nbins]
 * holds all customers (so bins has nbins + 1 entries). *mae is the mean over
 * customers of |predicted - actual|. */
typedef struct btyd_holdout_bin {
	double customers, predicted, actual;
} btyd_holdout_bin;
int btyd_holdout(const btyd_model *m, const double *x, const double *tx, const double *T,
		 const double *actual, size_t n, double tstar, int nbins, btyd_holdout_bin *bins,
		 double *mae);

/* --- Spend (Gamma-Gamma) ------------------------------------------------ */

/* E[M | p, q, gamma, m_x, x] = p (gamma + x m_x) / (p x + q - 1); x = 0
 * gives the population mean p gamma / (q - 1). q <= 1: BTYD_EINFSPEND. */
int btyd_gg_cond_spend(const btyd_model *m, double x, double mx, double *out);

/* --- Lifetime value ----------------------------------------------------- *
 * CLV = margin * spend * sum_k (E[Y(t_k)] - E[Y(t_{k-1})]) * (1 + d)^(-t_k / u)
 * with t_k = min(k * u / steps_per_year, horizon), u = time units per year
 * (52.1775 for weeks, 365.25 for days), d the annual discount rate: the
 * horizon is cut into steps (12 = monthly), the purchases expected in each
 * step come from differences of the conditional expectation and are
 * discounted from the end of the step. */
typedef struct btyd_clv_opts {
	double margin;          /* share of spend that is profit, e.g. 0.3 */
	double discount;        /* annual discount rate, e.g. 0.1 */
	double horizon;         /* in model time units */
	double units_per_year;  /* model time units in a year */
	int steps_per_year;     /* 12 monthly (default when 0), 52 weekly... */
} btyd_clv_opts;
int btyd_clv(const btyd_model *m, double x, double tx, double T, double spend,
	     const btyd_clv_opts *o, double *out);

/* Scoring many customers with one model and horizon: the step ends and
 * discount factors are computed once; btyd_score gives P(alive), the
 * expected purchases in (T, T + horizon] and the discounted expected
 * purchases D = sum_k (E[Y(t_k)] - E[Y(t_{k-1})]) (1 + d)^(-t_k / u), so
 * CLV = margin * spend * D (o->margin is not used here). Score unique rows
 * of btyd_group_map and hand the results back through the map.
 *
 * The part of the expected purchases that does not depend on t_x (BG/NBD:
 * the 2F1 bracket per (x, T); Pareto/NBD: the horizon factor per T) is
 * computed once and kept in the scorer (up to BTYD_SCORE_CACHE_MAX bytes),
 * so rows that share x and T cost one P(alive) each; the results are the
 * same doubles as without the cache. A scorer is not safe to share between
 * threads: give each thread its own. */
#define BTYD_SCORE_CACHE_MAX (64u << 20)
typedef struct btyd_scorer {
	btyd_model model;
	double horizon;
	int nsteps;
	double *t, *disc;
	struct btyd_score_cache *cache;   /* NULL until first used */
} btyd_scorer;
int btyd_scorer_init(btyd_scorer *sc, const btyd_model *m, const btyd_clv_opts *o);
void btyd_scorer_free(btyd_scorer *sc);
int btyd_score(btyd_scorer *sc, double x, double tx, double T, double *palive,
	       double *expected, double *disc);

/* --- Special functions -------------------------------------------------- */

/* Gauss hypergeometric 2F1(a, b; c; z) for real a, b, c and z < 1: power
 * series with a convergence check; Pfaff transformation for z < 0; the
 * 1 - z transformation (Abramowitz & Stegun 15.3.6) for z > 0.75 when c-a-b
 * is not an integer. BTYD_ENOCONV when the series does not converge or
 * loses too many digits to cancellation, BTYD_ERANGE on overflow. */
int btyd_hyp2f1(double a, double b, double c, double z, double *out);
/* Digamma function psi(x) for x > 0 (recurrence, then the asymptotic
 * series; about 1e-15 relative). */
int btyd_digamma(double x, double *out);

#endif
