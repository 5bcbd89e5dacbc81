/* Unit tests for lib/synth: parsing, and parameter recovery. 50,000 customers
 * are simulated with known BG/NBD (and Pareto/NBD) parameters and Gamma-Gamma
 * spend; lib/btyd's maximum-likelihood fits must give the parameters back.
 *
 * Tolerance: the maximum-likelihood estimator is asymptotically normal with
 * the standard errors the fit reports (inverse observed information). Each
 * estimate must lie within 4 standard errors of the truth: a correct
 * simulator and fitter miss that with probability 6e-5 per parameter, and
 * the seed is fixed, so the test is deterministic. So that the bound cannot
 * be met vacuously by a useless fit, each standard error must also be under
 * 15% of its parameter (with 50,000 customers they are 2-8%). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "btyd.h"
#include "synth.h"
#include "unit.h"

#define NCUST 50000

static void check_recovery(const char *what, const btyd_fit *fit, const double *truth, int npar,
			   const char *const *names)
{
	CHECK(fit->se_ok, "%s: standard errors available", what);
	for (int i = 0; i < npar; i++) {
		double est = fit->model.par[i], se = fit->se[i];
		CHECK(se > 0 && se < 0.15 * truth[i], "%s: se(%s) = %.4g is informative", what, names[i], se);
		CHECK_NEAR(est, truth[i], 4 * se, "%s: %s = %.4g recovered (truth %g, se %.3g)", what, names[i],
			   est, truth[i], se);
	}
}

/* Simulates NCUST customers, fits the purchase model and Gamma-Gamma. */
static void recover(int model, const double *truth, const char *const *names)
{
	synth_opts o;
	synth_opts_init(&o);
	o.model = model;
	o.seed = 20240601;
	o.customers = NCUST;
	synth_parse_date("2023-01-01", &o.start_day, NULL, 0);
	synth_parse_date("2023-12-31", &o.end_day, NULL, 0);
	synth_parse_date("2024-06-30", &o.asof_day, NULL, 0);
	o.base.r = truth[0];
	o.base.alpha = truth[1];
	if (model == SYNTH_BGNBD)
		o.base.a = truth[2], o.base.b = truth[3];
	else
		o.base.s = truth[2], o.base.beta = truth[3];
	o.base.p = truth[4], o.base.q = truth[5], o.base.gamma = truth[6];
	char err[256] = "";
	CHECK(synth_check(&o, err, sizeof err) == 0, "configuration valid %s", err);

	double *x = malloc(NCUST * sizeof *x), *tx = malloc(NCUST * sizeof *tx);
	double *T = malloc(NCUST * sizeof *T), *m = malloc(NCUST * sizeof *m);
	synth_customer c;
	memset(&c, 0, sizeof c);
	int in_window = 1;
	for (int k = 0; k < NCUST; k++) {
		synth_customer_draw(&o, (uint64_t)k, &c);
		x[k] = (double)(c.n - 1);
		tx[k] = c.t[c.n - 1];
		T[k] = c.T;
		in_window &= c.T > 26 - 1e-9 && c.T <= 78.3 && tx[k] < T[k];
		/* Gamma-Gamma: mean value of the repeat orders (0 when none). */
		double s = 0;
		for (size_t j = 1; j < c.n; j++)
			s += c.value[j];
		m[k] = c.n > 1 ? s / (double)(c.n - 1) : 0;
	}
	synth_customer_free(&c);
	CHECK(in_window, "%s: every T between 26 and 78 weeks, t_x < T", names[2]);

	const char *label = model == SYNTH_BGNBD ? "bgnbd" : "pnbd";
	btyd_data d;
	size_t bad = 0;
	int rc = btyd_group(x, tx, T, NULL, NCUST, &d, &bad);
	CHECK(rc == BTYD_OK, "%s: data accepted (%s)", label, btyd_strerror(rc));
	btyd_fit fit;
	memset(&fit, 0, sizeof fit);
	rc = btyd_fit_model(model == SYNTH_BGNBD ? BTYD_BGNBD : BTYD_PNBD, &d, NULL, &fit);
	CHECK(rc == BTYD_OK, "%s: fit converged (%s %s)", label, btyd_strerror(rc), fit.msg);
	if (rc == BTYD_OK)
		check_recovery(label, &fit, truth, 4, names);
	btyd_data_free(&d);

	btyd_spend sp;
	size_t skipped = 0;
	rc = btyd_spend_prepare(x, m, NCUST, &sp, &skipped);
	CHECK(rc == BTYD_OK, "%s spend: data accepted", label);
	memset(&fit, 0, sizeof fit);
	rc = btyd_fit_gg(&sp, NULL, &fit);
	CHECK(rc == BTYD_OK, "%s spend: Gamma-Gamma fit converged (%s %s)", label, btyd_strerror(rc), fit.msg);
	if (rc == BTYD_OK)
		check_recovery("gamma-gamma", &fit, truth + 4, 3, names + 4);
	btyd_spend_free(&sp);
	free(x);
	free(tx);
	free(T);
	free(m);
}

static void test_parsing(void)
{
	synth_opts o;
	char err[256];
	synth_opts_init(&o);
	int rc = synth_parse_params("r=0.5,alpha=3,a=1,b=2.5", &o.base, err, sizeof err);
	CHECK(rc == 0 && o.base.r == 0.5 && o.base.alpha == 3 && o.base.b == 2.5, "params parsed");
	rc = synth_parse_params("r=0.5,zeta=3", &o.base, err, sizeof err);
	CHECK(rc < 0 && strstr(err, "unknown parameter 'zeta'"), "unknown parameter refused: %s", err);
	rc = synth_parse_params("r=-1", &o.base, err, sizeof err);
	CHECK(rc < 0 && strstr(err, "positive"), "negative parameter refused: %s", err);
	rc = synth_parse_params("r", &o.base, err, sizeof err);
	CHECK(rc < 0, "missing '=' refused: %s", err);
	rc = synth_parse_channels("ads:2:a=3;referral:1;organic:1:r=1,alpha=2", &o, err, sizeof err);
	CHECK(rc == 0 && o.nchannels == 3, "three channels parsed");
	CHECK(o.ch[0].par.a == 3 && o.ch[0].par.b == o.base.b && o.ch[0].weight == 2, "ads overrides a only");
	CHECK(o.ch[1].par.a == o.base.a && o.ch[1].par.r == o.base.r, "referral inherits the base");
	CHECK(o.ch[2].par.r == 1 && o.ch[2].par.alpha == 2, "organic overrides r and alpha");
	CHECK_STR(o.ch[2].name, "organic", "channel name");
	rc = synth_parse_channels("ads:1;ads:2", &o, err, sizeof err);
	CHECK(rc < 0 && strstr(err, "twice"), "duplicate channel refused: %s", err);
	rc = synth_parse_channels("ads", &o, err, sizeof err);
	CHECK(rc < 0, "channel without weight refused: %s", err);
	rc = synth_parse_channels("a b:1", &o, err, sizeof err);
	CHECK(rc < 0, "channel name with a space refused: %s", err);
	rc = synth_parse_channels("ads:0", &o, err, sizeof err);
	CHECK(rc < 0, "zero weight refused: %s", err);
	int64_t day = 0;
	rc = synth_parse_date("2024-02-29", &day, err, sizeof err);
	CHECK(rc == 0 && day == 19782, "2024-02-29 is day 19782");
	rc = synth_parse_date("2023-02-29", &day, err, sizeof err);
	CHECK(rc < 0, "2023-02-29 refused: %s", err);
	synth_opts_init(&o);
	o.format = SYNTH_STREAM;
	o.bad_rate = 0.1;
	rc = synth_check(&o, err, sizeof err);
	CHECK(rc < 0 && strstr(err, "--bad-rate"), "bad rows refused for streams: %s", err);
	synth_opts_init(&o);
	synth_parse_date("2022-01-01", &o.asof_day, NULL, 0);
	rc = synth_check(&o, err, sizeof err);
	CHECK(rc < 0 && strstr(err, "--asof"), "asof before end refused: %s", err);
}

/* The draw of customer k depends on (seed, k) only. */
static void test_streams(void)
{
	synth_opts o;
	synth_opts_init(&o);
	synth_customer a, b;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	synth_customer_draw(&o, 7, &a);
	synth_customer_draw(&o, 3, &b);
	synth_customer_draw(&o, 7, &b);
	int same = a.n == b.n && a.first == b.first && a.lambda == b.lambda && a.dropout == b.dropout &&
		   memcmp(a.t, b.t, a.n * sizeof *a.t) == 0;
	CHECK(same, "customer 7 is the same whatever was drawn before");
	o.seed = 2;
	synth_customer_draw(&o, 7, &b);
	CHECK(a.first != b.first, "another seed, another customer 7");
	synth_customer_free(&a);
	synth_customer_free(&b);
}

int main(void)
{
	static const char *const bg_names[] = {"r", "alpha", "a", "b", "p", "q", "gamma"};
	static const char *const pn_names[] = {"r", "alpha", "s", "beta", "p", "q", "gamma"};
	/* Truths. BG/NBD: about one purchase a month, dropout after about four
	 * repeat purchases. Pareto/NBD: the CDNOW estimates (Fader, Hardie & Lee
	 * 2005). Spend: mean order value p * gamma / (q - 1) = 48. */
	static const double bg_truth[] = {0.8, 4.0, 0.6, 2.5, 4.0, 5.0, 48.0};
	static const double pn_truth[] = {0.55, 10.58, 0.61, 11.67, 4.0, 5.0, 48.0};
	test_parsing();
	test_streams();
	recover(SYNTH_BGNBD, bg_truth, bg_names);
	recover(SYNTH_PNBD, pn_truth, pn_names);
	return unit_done();
}
