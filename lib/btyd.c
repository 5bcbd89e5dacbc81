/* BG/NBD, Pareto/NBD and Gamma-Gamma models: likelihoods, maximum-likelihood
 * fits on grouped sufficient statistics, predictions and CLV. Formulas from
 * the papers cited in btyd.h; everything is evaluated in log space. */
#include "btyd.h"
#include "optim.h"
#include "util.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#ifndef M_LN10
#define M_LN10 2.30258509299404568402
#endif

const char *btyd_strerror(int err)
{
	switch (err) {
	case BTYD_OK: return "success";
	case BTYD_EDOMAIN: return "invalid argument or parameter";
	case BTYD_ENOCONV: return "did not converge";
	case BTYD_ERANGE: return "result out of range";
	case BTYD_ENODATA: return "the data cannot identify the model";
	case BTYD_EINFSPEND: return "Gamma-Gamma q <= 1: expected spend is infinite";
	case BTYD_EDIVERGE: return "the fit diverged to a parameter boundary";
	}
	return "unknown error";
}

int btyd_model_npar(int kind)
{
	switch (kind) {
	case BTYD_BGNBD:
	case BTYD_PNBD: return 4;
	case BTYD_GG: return 3;
	}
	return 0;
}

const char *btyd_model_name(int kind)
{
	switch (kind) {
	case BTYD_BGNBD: return "bgnbd";
	case BTYD_PNBD: return "pnbd";
	case BTYD_GG: return "gg";
	}
	return "?";
}

const char *btyd_par_name(int kind, int i)
{
	static const char *const bg[] = {"r", "alpha", "a", "b"};
	static const char *const pn[] = {"r", "alpha", "s", "beta"};
	static const char *const gg[] = {"p", "q", "gamma"};
	if (i < 0 || i >= btyd_model_npar(kind))
		return "?";
	return kind == BTYD_BGNBD ? bg[i] : kind == BTYD_PNBD ? pn[i] : gg[i];
}

static int model_ok(const btyd_model *m, int kind)
{
	if (!m || (kind && m->kind != kind))
		return 0;
	int np = btyd_model_npar(m->kind);
	if (np == 0)
		return 0;
	for (int i = 0; i < np; i++)
		if (!isfinite(m->par[i]) || !(m->par[i] > 0))
			return 0;
	return 1;
}

static int row_ok(double x, double tx, double T)
{
	return isfinite(x) && isfinite(tx) && isfinite(T) && x >= 0 && x == floor(x) && x < 1e9
		&& T >= 0 && tx >= 0 && tx <= T && (x > 0 || tx == 0);
}

/* ---------------------------------------------------------------------- */
/* Sorting and grouping                                                    */

typedef struct row {
	double x, T, tx, w;
	size_t idx;  /* input position */
} row;

static int rcmp(const row *a, const row *b)
{
	if (a->x != b->x)
		return a->x < b->x ? -1 : 1;
	if (a->T != b->T)
		return a->T < b->T ? -1 : 1;
	if (a->tx != b->tx)
		return a->tx < b->tx ? -1 : 1;
	return 0;
}

static void rswap(row *a, row *b)
{
	row t = *a;
	*a = *b;
	*b = t;
}

static void sift_down(row *a, size_t root, size_t n)
{
	for (;;) {
		size_t c = 2 * root + 1;
		if (c >= n)
			return;
		if (c + 1 < n && rcmp(&a[c], &a[c + 1]) < 0)
			c++;
		if (rcmp(&a[root], &a[c]) >= 0)
			return;
		rswap(&a[root], &a[c]);
		root = c;
	}
}

static void heap_sort(row *a, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(a, i, n);
	for (size_t i = n; i-- > 1;) {
		rswap(&a[0], &a[i]);
		sift_down(a, 0, i);
	}
}

/* Three-way (equal keys gathered) quicksort, median-of-three pivot;
 * recursion only on the smaller side; heapsort when the depth budget runs
 * out, so O(n log n) whatever the input. */
static void sort_rows_d(row *a, size_t n, int depth)
{
	while (n > 12) {
		if (depth-- <= 0) {
			heap_sort(a, n);
			return;
		}
		row *m = a + n / 2, *l = a, *h = a + n - 1, p;
		if (rcmp(l, m) > 0)
			rswap(l, m);
		if (rcmp(m, h) > 0)
			rswap(m, h);
		if (rcmp(l, m) > 0)
			rswap(l, m);
		p = *m;
		size_t lt = 0, i = 0, gt = n;
		while (i < gt) {
			int c = rcmp(&a[i], &p);
			if (c < 0)
				rswap(&a[lt++], &a[i++]);
			else if (c > 0)
				rswap(&a[i], &a[--gt]);
			else
				i++;
		}
		if (lt < n - gt) {
			sort_rows_d(a, lt, depth);
			a += gt;
			n -= gt;
		} else {
			sort_rows_d(a + gt, n - gt, depth);
			n = lt;
		}
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && rcmp(&a[j - 1], &a[j]) > 0; j--)
			rswap(&a[j - 1], &a[j]);
}

static void sort_rows(row *a, size_t n)
{
	int depth = 0;
	for (size_t k = n; k > 1; k >>= 1)
		depth += 2;
	sort_rows_d(a, n, depth);
}

static int dcmp(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return a < b ? -1 : a > b;
}

static uint64_t dhash(double v)
{
	uint64_t u;
	memcpy(&u, &v, 8);
	u ^= u >> 33;
	u *= 0xff51afd7ed558ccdULL;
	u ^= u >> 33;
	u *= 0xc4ceb9fe1a85ec53ULL;
	return u ^ (u >> 33);
}

/* Set of doubles (open addressing, entry + 1 per slot). */
typedef struct dset {
	size_t nslot;
	uint32_t *slot;
	double *val;
	size_t n;
} dset;

/* Index of v, inserted when new. */
static uint32_t dset_add(dset *d, double v)
{
	size_t s = dhash(v) & (d->nslot - 1);
	for (;;) {
		uint32_t e = d->slot[s];
		if (!e)
			break;
		if (d->val[e - 1] == v)
			return e - 1;
		s = (s + 1) & (d->nslot - 1);
	}
	d->val[d->n] = v;
	d->slot[s] = (uint32_t)++d->n;
	return (uint32_t)(d->n - 1);
}

static int prepare(const double *x, const double *tx, const double *T, const double *w,
		   size_t n, int group, btyd_data *out, uint32_t *map, size_t *bad)
{
	memset(out, 0, sizeof *out);
	if (n == 0)
		return BTYD_ENODATA;
	if (n > UINT32_MAX / 2)
		return BTYD_EDOMAIN;
	row *rs = xmalloc(n * sizeof *rs);
	for (size_t i = 0; i < n; i++) {
		double wi = w ? w[i] : 1.0;
		if (!row_ok(x[i], tx[i], T[i]) || !isfinite(wi) || !(wi > 0)) {
			free(rs);
			if (bad)
				*bad = i;
			return BTYD_EDOMAIN;
		}
		rs[i].x = x[i];
		rs[i].tx = tx[i] == 0 ? 0 : tx[i];   /* -0 -> 0 */
		rs[i].T = T[i] == 0 ? 0 : T[i];
		rs[i].w = wi;
		rs[i].idx = i;
	}
	/* the distinct values of t_x and T, sorted; each row's ranks in them */
	dset ds = {1024, NULL, xmalloc(2 * n * sizeof(double)), 0};
	while (ds.nslot < 4 * n)
		ds.nslot <<= 1;
	ds.slot = xcalloc(ds.nslot, sizeof *ds.slot);
	uint32_t *rk = xmalloc(2 * n * sizeof *rk);   /* rank of t_x, T per input row */
	for (size_t i = 0; i < n; i++) {
		rk[2 * i] = dset_add(&ds, rs[i].tx);
		rk[2 * i + 1] = dset_add(&ds, rs[i].T);
	}
	size_t nv = ds.n;
	double *sorted = xmalloc(nv * sizeof *sorted);
	memcpy(sorted, ds.val, nv * sizeof *sorted);
	qsort(sorted, nv, sizeof *sorted, dcmp);
	{   /* set entry -> rank, through a table of the sorted values */
		uint32_t *of = xmalloc(nv * sizeof *of);   /* set entry -> rank */
		dset d2 = {ds.nslot, xcalloc(ds.nslot, sizeof(uint32_t)), xmalloc(nv * sizeof(double)), 0};
		for (size_t k = 0; k < nv; k++)
			dset_add(&d2, sorted[k]);              /* d2 entry k = rank k */
		for (size_t k = 0; k < nv; k++)
			of[k] = dset_add(&d2, ds.val[k]);
		for (size_t i = 0; i < 2 * n; i++)
			rk[i] = of[rk[i]];
		free(of);
		free(d2.slot);
		free(d2.val);
	}
	free(ds.slot);
	free(ds.val);
	size_t m = n;
	if (group) {
		int fast = nv < (1u << 21);
		for (size_t i = 0; fast && i < n; i++)
			fast = rs[i].x < (double)(1u << 21);
		if (fast) {
			/* (x, T, t_x) as one integer: x and the two ranks */
			uint64_t *key = xmalloc(n * sizeof *key);
			uint32_t *ord = xmalloc(n * sizeof *ord);
			for (size_t i = 0; i < n; i++) {
				key[i] = (uint64_t)rs[i].x << 42 | (uint64_t)rk[2 * i + 1] << 21 | rk[2 * i];
				ord[i] = (uint32_t)i;
			}
			rtn_radix_sort_u64(key, ord, n);
			row *r2 = xmalloc(n * sizeof *r2);
			for (size_t i = 0; i < n; i++)
				r2[i] = rs[ord[i]];
			free(rs);
			rs = r2;
			free(key);
			free(ord);
		} else {
			sort_rows(rs, n);
		}
		m = 0;
		for (size_t i = 0; i < n; i++) {
			if (m > 0 && rcmp(&rs[m - 1], &rs[i]) == 0)
				rs[m - 1].w += rs[i].w;
			else
				rs[m++] = rs[i];
			if (map)
				map[rs[i].idx] = (uint32_t)(m - 1);
		}
	} else if (map) {
		for (size_t i = 0; i < n; i++)
			map[i] = (uint32_t)i;
	}
	out->n = m;
	out->x = xmalloc(m * sizeof(double));
	out->tx = xmalloc(m * sizeof(double));
	out->T = xmalloc(m * sizeof(double));
	out->w = xmalloc(m * sizeof(double));
	out->ix = xmalloc(m * sizeof(uint32_t));
	out->iT = xmalloc(m * sizeof(uint32_t));
	for (size_t i = 0; i < m; i++) {
		out->x[i] = rs[i].x;
		out->tx[i] = rs[i].tx;
		out->T[i] = rs[i].T;
		out->w[i] = rs[i].w;
		out->wsum += rs[i].w;
		if (rs[i].x > 0)
			out->wrep += rs[i].w;
		out->ix[i] = rk[2 * rs[i].idx];
		out->iT[i] = rk[2 * rs[i].idx + 1];
	}
	free(rs);
	free(rk);
	out->v = sorted;
	out->nv = nv;
	return BTYD_OK;
}

int btyd_prepare(const double *x, const double *tx, const double *T, const double *w,
		 size_t n, int group, btyd_data *out, size_t *bad)
{
	return prepare(x, tx, T, w, n, group, out, NULL, bad);
}

int btyd_group(const double *x, const double *tx, const double *T, const double *w,
	       size_t n, btyd_data *out, size_t *bad)
{
	return prepare(x, tx, T, w, n, 1, out, NULL, bad);
}

int btyd_group_map(const double *x, const double *tx, const double *T, const double *w,
		   size_t n, btyd_data *out, uint32_t *map, size_t *bad)
{
	return prepare(x, tx, T, w, n, 1, out, map, bad);
}

void btyd_data_free(btyd_data *d)
{
	if (!d)
		return;
	free(d->x);
	free(d->tx);
	free(d->T);
	free(d->w);
	free(d->v);
	free(d->ix);
	free(d->iT);
	memset(d, 0, sizeof *d);
}

int btyd_spend_prepare(const double *x, const double *m, size_t n, btyd_spend *out,
		       size_t *skipped)
{
	memset(out, 0, sizeof *out);
	size_t k = 0, skip = 0;
	row *rs = xmalloc((n ? n : 1) * sizeof *rs);
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(x[i]) || !isfinite(m[i]) || !(x[i] > 0) || !(m[i] > 0)) {
			skip++;
			continue;
		}
		rs[k].x = x[i];
		rs[k].T = m[i];
		rs[k].tx = 0;
		rs[k].w = 1;
		rs[k].idx = i;
		k++;
	}
	if (skipped)
		*skipped = skip;
	if (k == 0) {
		free(rs);
		return BTYD_ENODATA;
	}
	sort_rows(rs, k);
	size_t u = 0;
	for (size_t i = 0; i < k; i++) {
		if (u > 0 && rcmp(&rs[u - 1], &rs[i]) == 0)
			rs[u - 1].w += 1;
		else
			rs[u++] = rs[i];
	}
	out->n = u;
	out->x = xmalloc(u * sizeof(double));
	out->m = xmalloc(u * sizeof(double));
	out->w = xmalloc(u * sizeof(double));
	for (size_t i = 0; i < u; i++) {
		out->x[i] = rs[i].x;
		out->m[i] = rs[i].T;
		out->w[i] = rs[i].w;
		out->wsum += rs[i].w;
	}
	free(rs);
	return BTYD_OK;
}

void btyd_spend_free(btyd_spend *s)
{
	if (!s)
		return;
	free(s->x);
	free(s->m);
	free(s->w);
	memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------------- */
/* Special functions                                                       */

static double digamma(double x)
{
	double r = 0;
	while (x < 10) {
		r -= 1 / x;
		x += 1;
	}
	double f = 1 / (x * x);
	return r + log(x) - 0.5 / x
		- f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))));
}

int btyd_digamma(double x, double *out)
{
	if (!isfinite(x) || !(x > 0) || !out)
		return BTYD_EDOMAIN;
	*out = digamma(x);
	return BTYD_OK;
}

static int nonpos_int(double v)
{
	return v <= 0 && v == floor(v);
}

/* 1 when every later term ratio (a+m)(b+m)/((c+m)(m+1)) z, m >= n, lies
 * in [0, z]: all factors positive and (a+b-c-1) m + ab - c <= 0 for m >= n.
 * Lets the series stop early when c is large (heavy buyers). */
static int ratio_le_z(double a, double b, double c, int n)
{
	double k = a + b - c - 1;
	return a + n > 0 && b + n > 0 && c + n > 0 && k <= 0 && k * n + a * b - c <= 0;
}

/* Power series; |z| < 1 or a terminating polynomial. */
static int series2f1(double a, double b, double c, double z, double *out)
{
	double t = 1, s = 1, tmax = 1;
	double big = fabs(a) + fabs(b) + fabs(c) + 2;
	for (int n = 0; n < 200000; n++) {
		t *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z;
		s += t;
		if (fabs(t) > tmax)
			tmax = fabs(t);
		if (!isfinite(s))
			return BTYD_ERANGE;
		if (t == 0)
			goto done;
		if (n + 1 > big) {
			double nr = fabs((a + n + 1) * (b + n + 1) / ((c + n + 1) * (n + 2)) * z);
			double rb = nr > fabs(z) ? nr : fabs(z);
			if (rb < 1 && fabs(t) * rb / (1 - rb) <= 1e-16 * fabs(s))
				goto done;
		} else if (ratio_le_z(a, b, c, n + 1) && fabs(t) * fabs(z) / (1 - fabs(z)) <= 1e-16 * fabs(s)) {
			goto done;
		}
	}
	return BTYD_ENOCONV;
done:
	if (tmax > 1e6 * fabs(s))  /* cancellation ate the digits */
		return BTYD_ENOCONV;
	*out = s;
	return BTYD_OK;
}

/* log|Gamma(v)|: lgamma_r, as lgamma also writes the global signgam, a
 * data race between the threads that share the likelihood's rows. */
static inline double lgam(double v)
{
	int sign;
	return lgamma_r(v, &sign);
}

/* log|Gamma(v)| and its sign; -1 at a pole. */
static int lgam_sign(double v, double *lg, int *sg)
{
	if (nonpos_int(v))
		return -1;
	*lg = lgam(v);
	*sg = (v > 0 || ((long long)floor(v)) % 2 == 0) ? 1 : -1;
	return 0;
}

/* sign * exp(lgamma(n1) + lgamma(n2) - lgamma(d1) - lgamma(d2)); 0 when a
 * denominator is at a pole. -1 when a numerator is at a pole. */
static int gamma_ratio(double n1, double n2, double d1, double d2, double *out)
{
	double l1, l2, l3, l4;
	int s1, s2, s3, s4;
	if (lgam_sign(n1, &l1, &s1) || lgam_sign(n2, &l2, &s2))
		return -1;
	if (lgam_sign(d1, &l3, &s3) || lgam_sign(d2, &l4, &s4)) {
		*out = 0;
		return 0;
	}
	double l = l1 + l2 - l3 - l4;
	if (l > 700)
		return -1;
	*out = s1 * s2 * s3 * s4 * exp(l);
	return 0;
}

static int hyp_pos(double a, double b, double c, double z, double *out)
{
	if (z <= 0.75 || nonpos_int(a) || nonpos_int(b))
		return series2f1(a, b, c, z, out);
	double d = c - a - b;
	if (fabs(d - nearbyint(d)) > 1e-7) {
		double g1, g2, f1, f2;
		if (gamma_ratio(c, d, c - a, c - b, &g1) == 0
		    && gamma_ratio(c, -d, a, b, &g2) == 0
		    && series2f1(a, b, 1 - d, 1 - z, &f1) == BTYD_OK
		    && series2f1(c - a, c - b, 1 + d, 1 - z, &f2) == BTYD_OK) {
			double t1 = g1 * f1, t2 = g2 * exp(d * log1p(-z)) * f2;
			double s = t1 + t2;
			double mx = fabs(t1) > fabs(t2) ? fabs(t1) : fabs(t2);
			if (isfinite(s) && mx <= 1e6 * fabs(s)) {
				*out = s;
				return BTYD_OK;
			}
		}
	}
	int rc = series2f1(a, b, c, z, out);
	if (rc == BTYD_ENOCONV && fabs(d - nearbyint(d)) <= 1e-7) {
		/* c-a-b (nearly) an integer and z too close to 1 for the series:
		 * F is smooth in c, so average the transformation at c -+ 1e-4
		 * (error about 1e-8 relative) */
		double lo, hi;
		if (hyp_pos(a, b, c - 1e-4, z, &lo) == BTYD_OK && hyp_pos(a, b, c + 1e-4, z, &hi) == BTYD_OK
		    && isfinite(lo + hi)) {
			*out = 0.5 * (lo + hi);
			return BTYD_OK;
		}
	}
	return rc;
}

int btyd_hyp2f1(double a, double b, double c, double z, double *out)
{
	if (!isfinite(a) || !isfinite(b) || !isfinite(c) || !isfinite(z) || !out)
		return BTYD_EDOMAIN;
	if (nonpos_int(c) && !((nonpos_int(a) && a > c) || (nonpos_int(b) && b > c)))
		return BTYD_EDOMAIN;
	if (z == 0 || a == 0 || b == 0) {
		*out = 1;
		return BTYD_OK;
	}
	int term = nonpos_int(a) || nonpos_int(b);
	if (z >= 1 && !term)
		return BTYD_EDOMAIN;
	double f;
	int rc;
	if (z < 0 && !term) {
		/* Pfaff: F(a,b;c;z) = (1-z)^-a F(a, c-b; c; z/(z-1)), or a <-> b. */
		double w = z / (z - 1), e = log1p(-z);
		if (nonpos_int(c - a)) {
			rc = hyp_pos(c - a, b, c, w, &f);
			e *= -b;
		} else {
			rc = hyp_pos(a, c - b, c, w, &f);
			e *= -a;
		}
		if (rc != BTYD_OK)
			return rc;
		f *= exp(e);
	} else if (z < 0 || term) {
		rc = series2f1(a, b, c, z, &f);
		if (rc != BTYD_OK)
			return rc;
	} else {
		rc = hyp_pos(a, b, c, z, &f);
		if (rc != BTYD_OK)
			return rc;
	}
	if (!isfinite(f))
		return BTYD_ERANGE;
	*out = f;
	return BTYD_OK;
}

static double lse2(double u, double v)
{
	if (u < v) {
		double t = u;
		u = v;
		v = t;
	}
	if (v == -INFINITY)
		return u;
	return u + log1p(exp(v - u));
}

/* ---------------------------------------------------------------------- */
/* A second thread for the likelihood sums                                 */

/* The likelihoods split their rows at h: a helper thread computes each
 * term of rows h..n-1 into a buffer while the calling thread sums rows
 * 0..h-1 as before, then adds the buffered terms one by one in row order.
 * Every sum therefore adds the same doubles in the same order as one
 * thread would: the results are identical whatever the thread count. */
static int n_threads;   /* 0 = automatic */

static int want_se = 1;

void btyd_set_standard_errors(int on)
{
	want_se = on != 0;
}

void btyd_set_threads(int n)
{
	n_threads = n < 0 ? 0 : n;
}

int btyd_threads(void)
{
	if (n_threads)
		return n_threads;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus >= 2 ? 2 : 1;
}

#define SPLIT_MIN 8192   /* fewer rows: one thread */

/* Rows 0..h-1 for the calling thread (h = n: no helper). */
static size_t split_at(size_t n)
{
	if (n < SPLIT_MIN || btyd_threads() < 2)
		return n;
	return n / 2;
}

typedef struct helper {
	pthread_t th;
	int started;
} helper;

/* Starts fn(arg) on a new thread; runs it here when no thread can start. */
static void helper_start(helper *h, void *(*fn)(void *), void *arg)
{
	h->started = rtn_thread_start(&h->th, fn, arg, 0) == 0;
	if (!h->started)
		fn(arg);
}

static void helper_join(helper *h)
{
	if (h->started)
		pthread_join(h->th, NULL);
	h->started = 0;
}

/* One row's terms t[0..k-1] (LL, then the gradient): stored at row at for the
 * helper thread's half, else added to S in row order. */
static inline void row_terms(const double *t, int k, double *terms, size_t at, double *S)
{
	if (terms)
		memcpy(terms + at * (size_t)k, t, (size_t)k * sizeof *t);
	else
		for (int j = 0; j < k; j++)
			S[j] += t[j];
}

/* Adds the helper thread's n rows of k terms to acc, one row after another. */
static void add_terms(double *acc, const double *terms, size_t n, int k)
{
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < k; j++)
			acc[j] += terms[i * (size_t)k + (size_t)j];
}

/* LL = acc[0]; g (optional) = dLL/dlog(par) from acc[1..np]. */
static int ll_result(const double *acc, int np, const double *p, double *ll, double *g)
{
	if (!isfinite(acc[0]))
		return BTYD_ERANGE;
	*ll = acc[0];
	for (int j = 0; g && j < np; j++) {
		g[j] = acc[1 + j] * p[j];
		if (!isfinite(g[j]))
			return BTYD_ERANGE;
	}
	return BTYD_OK;
}

/* Scratch memory kept across likelihood evaluations of one fit. */
typedef struct scratch {
	double *terms;
	size_t cap;
} scratch;

static double *scratch_terms(scratch *sc, double **own, size_t n)
{
	if (!sc) {
		*own = xmalloc((n ? n : 1) * sizeof(double));
		return *own;
	}
	*own = NULL;
	if (n > sc->cap) {
		free(sc->terms);
		sc->terms = xmalloc(n * sizeof(double));
		sc->cap = n;
	}
	return sc->terms;
}

/* ---------------------------------------------------------------------- */
/* BG/NBD likelihood                                                       */

/* Per-x constants. */
typedef struct bgx {
	double lnA;  /* log[Gamma(r+x)/Gamma(r) alpha^r B(a,b+x)/B(a,b)] */
	double lc;   /* log(a/(b+x-1)), x > 0 */
	double dr, da, db;  /* derivative parts of lnA (w.r.t. r, a, b) */
} bgx;

static void bg_x(const double *p, double x, int grad, bgx *k)
{
	double r = p[0], al = p[1], a = p[2], b = p[3];
	k->lnA = lgam(r + x) - lgam(r) + r * log(al)
		+ lgam(b + x) - lgam(b) + lgam(a + b) - lgam(a + b + x);
	k->lc = x > 0 ? log(a) - log(b + x - 1) : -INFINITY;
	if (grad) {
		double pab = digamma(a + b) - digamma(a + b + x);
		k->dr = digamma(r + x) - digamma(r) + log(al);
		k->da = pab;
		k->db = digamma(b + x) - digamma(b) + pab;
	}
}

/* Rows i0..i1-1: adds each row's terms to acc[0] (LL) and acc[1..4]
 * (dLL/dpar, when grad), or stores them in terms (k per row) instead. */
static void bg_rows(const double *p, const btyd_data *d, const double *lv, size_t i0, size_t i1,
		    int grad, double *acc, double *terms)
{
	double r = p[0], al = p[1], a = p[2], b = p[3];
	const double *iv = lv + d->nv;
	double S[5] = {0, 0, 0, 0, 0};   /* LL and gradient sums */
	bgx K = {0, 0, 0, 0, 0};
	double curx = -1;
	int k = grad ? 5 : 1;
	if (acc)
		memcpy(S, acc, (size_t)k * sizeof *S);
	for (size_t i = i0; i < i1; i++) {
		double x = d->x[i], w = d->w[i];
		if (x != curx) {
			bg_x(p, x, grad, &K);
			curx = x;
		}
		double u1 = -(r + x) * lv[d->iT[i]], l;
		double pi2 = 0;  /* share of the second (dropped at t_x) term */
		if (x > 0) {
			double u2 = K.lc - (r + x) * lv[d->ix[i]];
			if (u1 >= u2) {
				double e = exp(u2 - u1);
				l = u1 + log1p(e);
				pi2 = e / (1 + e);
			} else {
				double e = exp(u1 - u2);
				l = u2 + log1p(e);
				pi2 = 1 / (1 + e);
			}
		} else {
			l = u1;
		}
		double t[5];
		t[0] = w * (K.lnA + l);
		if (grad) {
			double pi1 = 1 - pi2;
			t[1] = w * (K.dr - pi1 * lv[d->iT[i]] - pi2 * lv[d->ix[i]]);
			t[2] = w * (r / al - (r + x) * (pi1 * iv[d->iT[i]] + pi2 * iv[d->ix[i]]));
			t[3] = w * (K.da + (x > 0 ? pi2 / a : 0));
			t[4] = w * (K.db - (x > 0 ? pi2 / (b + x - 1) : 0));
		}
		row_terms(t, k, terms, i - i0, S);
	}
	if (acc)
		memcpy(acc, S, (size_t)k * sizeof *S);
}

typedef struct bg_job {
	const double *p, *lv;
	const btyd_data *d;
	size_t i0, i1;
	int grad;
	double *terms;
} bg_job;

static void *bg_job_run(void *arg)
{
	bg_job *j = arg;
	bg_rows(j->p, j->d, j->lv, j->i0, j->i1, j->grad, NULL, j->terms);
	return NULL;
}

/* LL of all rows; g (optional) gets dLL/dlog(par). */
static int bg_ll_data(const double *p, const btyd_data *d, double *ll, double *g, scratch *sc)
{
	double al = p[1];
	double *lv = xmalloc(2 * d->nv * sizeof(double)), *iv = lv + d->nv;
	for (size_t k = 0; k < d->nv; k++) {
		lv[k] = log(al + d->v[k]);
		iv[k] = 1 / (al + d->v[k]);
	}
	int grad = g != NULL, k = grad ? 5 : 1;
	double acc[5] = {0, 0, 0, 0, 0}, *own = NULL;
	size_t h = split_at(d->n);
	helper hp = {0};
	bg_job job = {p, lv, d, h, d->n, grad, NULL};
	if (h < d->n) {
		job.terms = scratch_terms(sc, &own, (d->n - h) * (size_t)k);
		helper_start(&hp, bg_job_run, &job);
	}
	bg_rows(p, d, lv, 0, h, grad, acc, NULL);
	helper_join(&hp);
	if (h < d->n)
		add_terms(acc, job.terms, d->n - h, k);
	free(own);
	free(lv);
	return ll_result(acc, 4, p, ll, g);
}

static int bg_ll1(const double *p, double x, double tx, double T, double *ll)
{
	bgx K;
	double r = p[0], al = p[1];
	bg_x(p, x, 0, &K);
	double l = -(r + x) * log(al + T);
	if (x > 0)
		l = lse2(l, K.lc - (r + x) * log(al + tx));
	l += K.lnA;
	if (!isfinite(l))
		return BTYD_ERANGE;
	*ll = l;
	return BTYD_OK;
}

/* ---------------------------------------------------------------------- */
/* Pareto/NBD likelihood                                                   */

/* log 2F1(a, b; a+1; z) for 0 <= z <= 0.95 and 0 < b <= a+1 through Euler's
 * transformation (1-z)^(1-b) 2F1(1, a+1-b; a+1; z): positive terms whose
 * ratio stays below z, so the tail after a term t is below t z/(1-z). */
static int log_f_a1(double a, double b, double z, double *out)
{
	if (z == 0) {
		*out = 0;
		return BTYD_OK;
	}
	if (!(z > 0) || z > 0.95)
		return BTYD_ENOCONV;
	double d = a + 1 - b, e = a + 1, t = 1, s = 1, q = z / (1 - z);
	for (int n = 0; n < 5000; n++) {
		t *= (d + n) / (e + n) * z;
		s += t;
		if (t * q <= 1e-17 * s) {
			*out = (1 - b) * log1p(-z) + log(s);
			return BTYD_OK;
		}
	}
	return BTYD_ENOCONV;
}

/* Pareto/NBD in the form used here:
 *   L = Gamma(r+x)/Gamma(r) alpha^r beta^s [T1 + s I],
 *   T1 = (alpha+T)^-(r+x) (beta+T)^-s,  I = G(t_x) - G(T),
 *   G(t) = int_t^inf (alpha+u)^-p (beta+u)^-q du,  p = r+x, q = s+1,
 * so s I is Fader & Hardie's s/(r+s+x) A0, and
 *   G(t) = (w+t)^-aa / aa 2F1(aa, b2; aa+1; |alpha-beta|/(w+t)),
 * aa = p+q-1 = r+s+x, w = alpha, b2 = q when alpha >= beta, else w = beta,
 * b2 = p. G depends on x and one time value only, so a likelihood
 * evaluation computes it once per (x, distinct time). */

/* log 2F1(aa, b2; aa+1; z) (0 < b2 <= aa+1, 0 <= z <= 0.95) with the
 * derivatives of the log with respect to aa (ra), b2 (rb) and z (fz). Euler's
 * transformation F = (1-z)^(1-b2) S, S = sum_n (d)_n / (e)_n z^n with
 * d = aa+1-b2, e = aa+1: positive terms with ratio below z whatever the
 * size of b2, and d/daa, d/db2 of each term are harmonic-sum multiples. */
static int f_a1_deriv(double aa, double b2, double z, double *lf, double *ra, double *rb,
		      double *fz)
{
	if (z == 0) {
		*lf = 0;
		*ra = *rb = 0;
		*fz = b2 * aa / (aa + 1);
		return BTYD_OK;
	}
	if (!(z > 0) || z > 0.95)
		return BTYD_ENOCONV;
	double d = aa + 1 - b2, e = aa + 1, t = 1, S = 1, Sa = 0, Sb = 0, Sz = 0, Hd = 0, Ha = 0;
	double q = z / ((1 - z) * (1 - z));
	for (int n = 1; n < 5000; n++) {
		double dk = d + n - 1, ek = e + n - 1;
		Hd += 1 / dk;
		Ha += b2 / (dk * ek);
		t *= dk / ek * z;
		S += t;
		Sa += t * Ha;
		Sb += t * Hd;
		Sz += t * n;
		if (t * (n + 1) * (Hd + 1) * q <= 1e-17 * S) {
			double l1z = log1p(-z);
			*lf = (1 - b2) * l1z + log(S);
			*ra = Sa / S;
			*rb = -l1z - Sb / S;
			*fz = (b2 - 1) / (1 - z) + Sz / (z * S);
			return BTYD_OK;
		}
	}
	return BTYD_ENOCONV;
}

/* log G(t) and d log G / d(p, q, alpha, beta). */
typedef struct gent {
	double lg, dp, dq, da, db;
} gent;

/* G(t) by composite 16-point Gauss-Legendre in v = log(min(al,be) + u)
 * from t to infinity. The log integrand g(v) = -p log(al+u) - q log(be+u) + v
 * is concave; panel widths follow its slope and curvature, and the sum ends
 * once the rest is provably below e^-40 of it. Used when the 2F1 argument
 * exceeds 0.95. */
static int g_quad(double al, double be, double p, double q, double t, int deriv, gent *e)
{
	double xg[16], wg[16];  /* Gauss-Legendre nodes (descending) and weights */
	for (int i = 0; i < 16; i++) {
		double xx = cos(M_PI * (i + 0.75) / 16.5), dp = 1;
		for (int it = 0; it < 100; it++) {
			double p0 = 1, p1 = xx;
			for (int k = 2; k <= 16; k++) {
				double p2 = ((2 * k - 1) * xx * p1 - (k - 1) * p0) / k;
				p0 = p1;
				p1 = p2;
			}
			dp = 16 * (xx * p1 - p0) / (xx * xx - 1);
			double dx = p1 / dp;
			xx -= dx;
			if (fabs(dx) < 1e-16)
				break;
		}
		xg[i] = xx;
		wg[i] = 2 / ((1 - xx * xx) * dp * dp);
	}
	double mn = al < be ? al : be, da = al - mn, db = be - mn;
	double v = log(mn + t), M = -INFINITY, S = 0, Sp = 0, Sq = 0, Sa = 0, Sb = 0;
	for (int k = 0;; k++) {
		if (k >= 20000)
			return BTYD_ENOCONV;
		double ev = exp(v), r1 = ev / (da + ev), r2 = ev / (db + ev);
		double g1 = 1 - p * r1 - q * r2, g2 = p * r1 * (1 - r1) + q * r2 * (1 - r2);
		double h = 1.5 / (fabs(g1) + sqrt(g2) + 1e-300);
		if (h > 2)
			h = 2;
		double vals[16], lA[16], lB[16], pm = -INFINITY;
		for (int i = 0; i < 16; i++) {
			double u = v + 0.5 * h * (1 + xg[i]), eu = exp(u);
			lA[i] = da > 0 ? log(da + eu) : u;
			lB[i] = db > 0 ? log(db + eu) : u;
			vals[i] = -p * lA[i] - q * lB[i] + u + log(0.5 * h * wg[i]);
			if (vals[i] > pm)
				pm = vals[i];
		}
		if (pm > M) {
			double sc = exp(M - pm);
			S *= sc;
			Sp *= sc;
			Sq *= sc;
			Sa *= sc;
			Sb *= sc;
			M = pm;
		}
		for (int i = 0; i < 16; i++) {
			double wt = exp(vals[i] - M);
			S += wt;
			if (deriv) {
				Sp -= lA[i] * wt;
				Sq -= lB[i] * wt;
				Sa -= p * exp(-lA[i]) * wt;
				Sb -= q * exp(-lB[i]) * wt;
			}
		}
		v += h;
		double ev2 = exp(v), s1 = 1 - p * ev2 / (da + ev2) - q * ev2 / (db + ev2);
		if (s1 < 0) {
			double gv = -p * (da > 0 ? log(da + ev2) : v) - q * (db > 0 ? log(db + ev2) : v) + v;
			if (gv - log(-s1) < M + log(S) - 40)
				break;
		}
	}
	if (!(S > 0) || !isfinite(M))
		return BTYD_ERANGE;
	e->lg = M + log(S);
	e->dp = Sp / S;
	e->dq = Sq / S;
	e->da = Sa / S;
	e->db = Sb / S;
	return BTYD_OK;
}

/* G(t) (and its derivatives when deriv) by the 2F1 series when its argument
 * is at most 0.95, else by quadrature. law = log(al + t), lbw = log(be + t). */
static int g_eval(double al, double be, double p, double q, double t, double law, double lbw,
		  int deriv, gent *e)
{
	double aa = p + q - 1, lf, ra, rb, fz;
	int ab = al >= be, rc;
	double z = ab ? (al - be) / (al + t) : (be - al) / (be + t), lw = ab ? law : lbw;
	double b2 = ab ? q : p;
	if (!deriv) {
		rc = log_f_a1(aa, b2, z, &lf);
		if (rc == BTYD_OK) {
			e->lg = -aa * lw - log(aa) + lf;
			e->dp = e->dq = e->da = e->db = 0;
			return BTYD_OK;
		}
		return g_quad(al, be, p, q, t, 0, e);
	}
	rc = f_a1_deriv(aa, b2, z, &lf, &ra, &rb, &fz);
	if (rc != BTYD_OK)
		return g_quad(al, be, p, q, t, 1, e);
	e->lg = -aa * lw - log(aa) + lf;
	if (ab) {
		e->dp = -law - 1 / aa + ra;
		e->dq = -law - 1 / aa + ra + rb;
		e->da = -aa / (al + t) + fz * (be + t) / ((al + t) * (al + t));
		e->db = -fz / (al + t);
	} else {
		e->dp = -lbw - 1 / aa + ra + rb;
		e->dq = -lbw - 1 / aa + ra;
		e->da = -fz / (be + t);
		e->db = -aa / (be + t) + fz * (al + t) / ((be + t) * (be + t));
	}
	return BTYD_OK;
}

/* One row from lnAx = lgamma(r+x) - lgamma(r) + r log al + s log be, the
 * logs at T and G at t_x and T (g1, g2 NULL when t_x = T). Stores the LL,
 * log P(alive) and, when grad, the row's dLL/d(r, al, s, be). */
static int pn_row(const double *p, double x, double T, double lnAx, double dr0, double laT,
		  double lbT, const gent *g1, const gent *g2, double *ll, double *lpa, double *grad)
{
	double r = p[0], al = p[1], s = p[2], be = p[3];
	double lT1 = -(r + x) * laT - s * lbT, lL = lT1, pi2 = 0;
	double Ip = 0, Iq = 0, Ia = 0, Ib = 0;
	if (g1 && g2) {
		double e = exp(g2->lg - g1->lg);
		if (e < 1) {
			double lsI = log(s) + g1->lg + log1p(-e);
			lL = lse2(lT1, lsI);
			if (grad) {
				double k1 = 1 / (1 - e);
				pi2 = exp(lsI - lL);
				Ip = (g1->dp - e * g2->dp) * k1;
				Iq = (g1->dq - e * g2->dq) * k1;
				Ia = (g1->da - e * g2->da) * k1;
				Ib = (g1->db - e * g2->db) * k1;
			}
		}
	}
	double l = lnAx + lL;
	if (!isfinite(l))
		return BTYD_ERANGE;
	*ll = l;
	if (lpa)
		*lpa = lT1 - lL;
	if (grad) {
		double pi1 = 1 - pi2;
		grad[0] = dr0 - pi1 * laT + pi2 * Ip;
		grad[1] = r / al - pi1 * (r + x) / (al + T) + pi2 * Ia;
		grad[2] = log(be) - pi1 * lbT + pi2 * (1 / s + Iq);
		grad[3] = s / be - pi1 * s / (be + T) + pi2 * Ib;
	}
	return BTYD_OK;
}

static double pn_lnAx(const double *p, double x)
{
	return lgam(p[0] + x) - lgam(p[0]) + p[0] * log(p[1]) + p[2] * log(p[3]);
}

/* Rows i0..i1-1 of the Pareto/NBD likelihood, as bg_rows; ge and stamp
 * (nv entries, stamp zeroed) cache G per run of equal x. Stops at the
 * first error. */
static int pn_rows(const double *p, const btyd_data *d, const double *la, const double *lb,
		   size_t i0, size_t i1, int grad, double *acc, double *terms, gent *ge,
		   uint32_t *stamp)
{
	double r = p[0], al = p[1], s = p[2], be = p[3];
	double S[5] = {0, 0, 0, 0, 0}, curx = -1, lnA = 0, dr0 = 0, gr[4];
	uint32_t run = 0;
	int rc = BTYD_OK, k = grad ? 5 : 1;
	if (acc)
		memcpy(S, acc, (size_t)k * sizeof *S);
	for (size_t i = i0; i < i1 && rc == BTYD_OK; i++) {
		double x = d->x[i], w = d->w[i], l;
		if (x != curx) {
			lnA = pn_lnAx(p, x);
			if (grad)
				dr0 = digamma(r + x) - digamma(r) + log(al);
			curx = x;
			run++;
		}
		uint32_t jT = d->iT[i], jx = d->ix[i];
		const gent *g1 = NULL, *g2 = NULL;
		if (d->tx[i] < d->T[i]) {
			uint32_t js[2] = {jx, jT};
			for (int q = 0; q < 2 && rc == BTYD_OK; q++) {
				uint32_t j = js[q];
				if (stamp[j] != run) {
					stamp[j] = run;
					rc = g_eval(al, be, r + x, s + 1, d->v[j], la[j], lb[j], grad, &ge[j]);
				}
			}
			if (rc != BTYD_OK)
				break;
			g1 = &ge[jx];
			g2 = &ge[jT];
		}
		rc = pn_row(p, x, d->T[i], lnA, dr0, la[jT], lb[jT], g1, g2, &l, NULL, grad ? gr : NULL);
		if (rc != BTYD_OK)
			break;
		double t[5];
		t[0] = w * l;
		for (int j = 0; grad && j < 4; j++)
			t[1 + j] = w * gr[j];
		row_terms(t, k, terms, i - i0, S);
	}
	if (acc)
		memcpy(acc, S, (size_t)k * sizeof *S);
	return rc;
}

typedef struct pn_job {
	const double *p, *la, *lb;
	const btyd_data *d;
	size_t i0, i1;
	int grad, rc;
	double *terms;
} pn_job;

static void *pn_job_run(void *arg)
{
	pn_job *j = arg;
	size_t nv = j->d->nv ? j->d->nv : 1;
	gent *ge = xmalloc(nv * sizeof *ge);
	uint32_t *stamp = xcalloc(nv, sizeof(uint32_t));
	j->rc = pn_rows(j->p, j->d, j->la, j->lb, j->i0, j->i1, j->grad, NULL, j->terms, ge, stamp);
	free(ge);
	free(stamp);
	return NULL;
}

/* LL of all rows and (g not NULL) dLL/dlog(par). */
static int pn_ll_data(const double *p, const btyd_data *d, double *ll, double *g, scratch *sc)
{
	double al = p[1], be = p[3];
	size_t nv = d->nv;
	double *la = xmalloc(2 * (nv ? nv : 1) * sizeof(double)), *lb = la + nv;
	gent *ge = xmalloc((nv ? nv : 1) * sizeof *ge);
	uint32_t *stamp = xcalloc(nv ? nv : 1, sizeof(uint32_t));
	for (size_t k = 0; k < nv; k++) {
		la[k] = log(al + d->v[k]);
		lb[k] = log(be + d->v[k]);
	}
	int grad = g != NULL, k = grad ? 5 : 1;
	double acc[5] = {0, 0, 0, 0, 0}, *own = NULL;
	size_t h = split_at(d->n);
	helper hp = {0};
	pn_job job = {p, la, lb, d, h, d->n, grad, BTYD_OK, NULL};
	if (h < d->n) {
		job.terms = scratch_terms(sc, &own, (d->n - h) * (size_t)k);
		helper_start(&hp, pn_job_run, &job);
	}
	int rc = pn_rows(p, d, la, lb, 0, h, grad, acc, NULL, ge, stamp);
	helper_join(&hp);
	if (rc == BTYD_OK)
		rc = job.rc;
	if (rc == BTYD_OK && h < d->n)
		add_terms(acc, job.terms, d->n - h, k);
	free(own);
	free(la);
	free(ge);
	free(stamp);
	return rc != BTYD_OK ? rc : ll_result(acc, 4, p, ll, g);
}

static int pn_row1(const double *p, double x, double tx, double T, double *ll, double *lpa)
{
	double laT = log(p[1] + T), lbT = log(p[3] + T);
	gent g1, g2;
	int have = tx < T;
	if (have) {
		int rc = g_eval(p[1], p[3], p[0] + x, p[2] + 1, tx, log(p[1] + tx), log(p[3] + tx), 0, &g1);
		if (rc == BTYD_OK)
			rc = g_eval(p[1], p[3], p[0] + x, p[2] + 1, T, laT, lbT, 0, &g2);
		if (rc != BTYD_OK)
			return rc;
	}
	return pn_row(p, x, T, pn_lnAx(p, x), 0, laT, lbT, have ? &g1 : NULL, have ? &g2 : NULL, ll,
		      lpa, NULL);
}

/* ---------------------------------------------------------------------- */
/* Gamma-Gamma likelihood                                                  */

/* Rows i0..i1-1 of the Gamma-Gamma likelihood, as bg_rows (k = 4). */
static void gg_rows(const double *p, const btyd_spend *s, size_t i0, size_t i1, int grad,
		    double *acc, double *terms)
{
	double pp = p[0], q = p[1], ga = p[2], lga = log(ga);
	double S[4] = {0, 0, 0, 0}, curx = -1, c = 0, dpx = 0, dqx = 0;
	double psiq = grad ? digamma(q) : 0;
	int k = grad ? 4 : 1;
	if (acc)
		memcpy(S, acc, (size_t)k * sizeof *S);
	for (size_t i = i0; i < i1; i++) {
		double x = s->x[i], m = s->m[i], w = s->w[i];
		if (x != curx) {
			double px = pp * x;
			c = lgam(px + q) - lgam(px) - lgam(q) + px * log(x) + q * lga;
			if (grad) {
				double pxq = digamma(px + q);
				dpx = x * (pxq - digamma(px) + log(x));
				dqx = pxq - psiq + lga;
			}
			curx = x;
		}
		double lm = log(m), lg = log(ga + m * x), t[4];
		t[0] = w * (c + (pp * x - 1) * lm - (pp * x + q) * lg);
		if (grad) {
			t[1] = w * (dpx + x * (lm - lg));
			t[2] = w * (dqx - lg);
			t[3] = w * (q / ga - (pp * x + q) / (ga + m * x));
		}
		row_terms(t, k, terms, i - i0, S);
	}
	if (acc)
		memcpy(acc, S, (size_t)k * sizeof *S);
}

typedef struct gg_job {
	const double *p;
	const btyd_spend *s;
	size_t i0, i1;
	int grad;
	double *terms;
} gg_job;

static void *gg_job_run(void *arg)
{
	gg_job *j = arg;
	gg_rows(j->p, j->s, j->i0, j->i1, j->grad, NULL, j->terms);
	return NULL;
}

static int gg_ll_data(const double *p, const btyd_spend *s, double *ll, double *g, scratch *sc)
{
	int grad = g != NULL, k = grad ? 4 : 1;
	double acc[4] = {0, 0, 0, 0}, *own = NULL;
	size_t h = split_at(s->n);
	helper hp = {0};
	gg_job job = {p, s, h, s->n, grad, NULL};
	if (h < s->n) {
		job.terms = scratch_terms(sc, &own, (s->n - h) * (size_t)k);
		helper_start(&hp, gg_job_run, &job);
	}
	gg_rows(p, s, 0, h, grad, acc, NULL);
	helper_join(&hp);
	if (h < s->n)
		add_terms(acc, job.terms, s->n - h, k);
	free(own);
	return ll_result(acc, 3, p, ll, g);
}

/* ---------------------------------------------------------------------- */
/* Public likelihoods                                                      */

int btyd_ll1(const btyd_model *m, double x, double tx, double T, double *ll)
{
	if (!model_ok(m, 0) || m->kind == BTYD_GG || !row_ok(x, tx, T) || !ll)
		return BTYD_EDOMAIN;
	if (m->kind == BTYD_BGNBD)
		return bg_ll1(m->par, x, tx, T, ll);
	return pn_row1(m->par, x, tx, T, ll, NULL);
}

int btyd_ll(const btyd_model *m, const btyd_data *d, double *ll)
{
	if (!model_ok(m, 0) || m->kind == BTYD_GG || !d || d->n == 0 || !ll)
		return BTYD_EDOMAIN;
	if (m->kind == BTYD_BGNBD)
		return bg_ll_data(m->par, d, ll, NULL, NULL);
	return pn_ll_data(m->par, d, ll, NULL, NULL);
}

int btyd_gg_ll1(const btyd_model *m, double x, double mx, double *ll)
{
	if (!model_ok(m, BTYD_GG) || !isfinite(x) || !(x > 0) || !isfinite(mx) || !(mx > 0) || !ll)
		return BTYD_EDOMAIN;
	btyd_spend s = {1, &x, &mx, NULL, 1};
	double w = 1;
	s.w = &w;
	return gg_ll_data(m->par, &s, ll, NULL, NULL);
}

int btyd_gg_ll(const btyd_model *m, const btyd_spend *s, double *ll)
{
	if (!model_ok(m, BTYD_GG) || !s || s->n == 0 || !ll)
		return BTYD_EDOMAIN;
	return gg_ll_data(m->par, s, ll, NULL, NULL);
}

/* ---------------------------------------------------------------------- */
/* Fitting                                                                 */

typedef struct fitctx {
	int kind;
	const btyd_data *d;
	const btyd_spend *s;
	double wsum;
	scratch sc;
} fitctx;

/* log parameters beyond +-LOGPAR_MAX are outside the domain; beyond
 * +-LOGPAR_WILD (e^15 = 3.3e6 times the unit) a non-converged fit counts as
 * diverged */
#define LOGPAR_MAX 25.0
#define LOGPAR_WILD 15.0

static double objective(const double *th, double *g, void *vctx)
{
	fitctx *c = vctx;
	double p[4], ll, gg[4];
	int np = btyd_model_npar(c->kind), rc;
	for (int i = 0; i < np; i++) {
		if (!(fabs(th[i]) <= LOGPAR_MAX))
			return INFINITY;
		p[i] = exp(th[i]);
	}
	if (c->kind == BTYD_BGNBD) {
		rc = bg_ll_data(p, c->d, &ll, g ? gg : NULL, &c->sc);
	} else if (c->kind == BTYD_PNBD) {
		rc = pn_ll_data(p, c->d, &ll, g ? gg : NULL, &c->sc);
	} else {
		rc = gg_ll_data(p, c->s, &ll, g ? gg : NULL, &c->sc);
	}
	if (rc != BTYD_OK)
		return INFINITY;
	if (g)
		for (int i = 0; i < np; i++)
			g[i] = -gg[i] / c->wsum;
	return -ll / c->wsum;
}

static int fit_common(fitctx *c, const double *start, btyd_fit *fit)
{
	int np = btyd_model_npar(c->kind);
	double th[4];
	double t0 = rtn_now();
	optim_opts o;
	optim_result res;

	for (int i = 0; i < np; i++)
		th[i] = log(start[i]);
	optim_default_opts(&o);
	o.analytic_grad = 1;
	o.gtol = 1e-8;
	/* BFGS from the start; when it stalls inside a sane region, Nelder-Mead
	 * restarts and BFGS again. Running off towards a boundary is reported
	 * as divergence without the restarts. */
	int rc = optim_bfgs(objective, c, np, th, &o, &res), its = res.iterations, evs = res.evaluations;
	int wild = 0;
	for (int i = 0; i < np; i++)
		if (fabs(th[i]) > LOGPAR_WILD)
			wild = 1;
	if (rc > 0 && !wild) {
		rc = optim_minimize(objective, c, np, th, &o, &res);
		its += res.iterations;
		evs += res.evaluations;
	}
	fit->iterations = its;
	fit->evaluations = evs;
	fit->gmax = isfinite(res.gmax) ? res.gmax : 0;
	fit->model.kind = c->kind;
	for (int i = 0; i < np; i++)
		fit->model.par[i] = exp(th[i]);
	for (int i = np; i < 4; i++)
		fit->model.par[i] = 0;
	fit->seconds = rtn_now() - t0;
	fit->nobs = c->wsum;
	if (rc < 0 || !isfinite(res.f)) {
		snprintf(fit->msg, sizeof fit->msg,
			 "%s fit: the likelihood cannot be evaluated at the starting point",
			 btyd_model_name(c->kind));
		return BTYD_ENOCONV;
	}
	fit->ll = -res.f * c->wsum;
	/* A stall with the mean gradient (per customer, log parameters) below
	 * 1e-6 is a converged fit at the limit of double precision: the
	 * remaining error in each parameter is about gradient / curvature, far
	 * below the printed precision. (Seen on large synthetic data, where
	 * BFGS stops at 4e-8 against gtol 1e-8.) */
	if (rc > 0 && isfinite(res.gmax) && res.gmax <= 1e-6)
		rc = 0;
	if (rc != 0 && c->kind == BTYD_GG && !(fit->model.par[1] > 1)) {
		snprintf(fit->msg, sizeof fit->msg,
			 "gg fit: q ran to %.4g <= 1, so the expected spend p*gamma/(q-1) is infinite "
			 "(spend too heavy-tailed for the Gamma-Gamma model; check for outliers)",
			 fit->model.par[1]);
		return BTYD_EINFSPEND;
	}
	for (int i = 0; i < np; i++)
		if (fabs(th[i]) > (rc == 0 ? 0.8 * LOGPAR_MAX : LOGPAR_WILD)) {
			snprintf(fit->msg, sizeof fit->msg,
				 "%s fit diverged: parameter %s ran to %g (the data do not identify "
				 "the model; too few customers or repeat purchases?)",
				 btyd_model_name(c->kind), btyd_par_name(c->kind, i), exp(th[i]));
			return BTYD_EDIVERGE;
		}
	if (rc != 0) {
		snprintf(fit->msg, sizeof fit->msg,
			 "%s fit did not converge after %d iterations (largest gradient %.3g)",
			 btyd_model_name(c->kind), fit->iterations, res.gmax);
		return BTYD_ENOCONV;
	}
	fit->converged = 1;
	/* standard errors: observed information in log parameters, then the
	 * delta method se(p) = p se(log p) */
	double H[16], C[16];
	int hrc = !want_se ? -1
		  : o.analytic_grad ? optim_num_hessian_grad(objective, c, np, th, 1e-5, H)
				    : optim_num_hessian(objective, c, np, th, 1e-4, H);
	if (hrc == 0) {
		for (int i = 0; i < np * np; i++)
			H[i] *= c->wsum;
		if (optim_spd_inverse(np, H, C) == 0) {
			fit->se_ok = 1;
			for (int i = 0; i < np; i++)
				fit->se[i] = fit->model.par[i] * sqrt(C[i * np + i]);
		}
	}
	fit->seconds = rtn_now() - t0;
	return BTYD_OK;
}

int btyd_fit_model(int kind, const btyd_data *d, const btyd_model *start, btyd_fit *fit)
{
	memset(fit, 0, sizeof *fit);
	fit->model.kind = kind;
	if (kind != BTYD_BGNBD && kind != BTYD_PNBD) {
		snprintf(fit->msg, sizeof fit->msg, "unknown purchase model");
		return BTYD_EDOMAIN;
	}
	if (!d || d->n == 0 || !(d->wsum > 0)) {
		snprintf(fit->msg, sizeof fit->msg, "%s fit: no customers", btyd_model_name(kind));
		return BTYD_ENODATA;
	}
	if (!(d->wrep > 0)) {
		snprintf(fit->msg, sizeof fit->msg,
			 "%s fit: no customer has a repeat purchase (all x = 0), so purchase "
			 "and dropout rates cannot be estimated", btyd_model_name(kind));
		return BTYD_ENODATA;
	}
	if (!(d->wrep < d->wsum) && kind == BTYD_BGNBD) {
		/* still identifiable through t_x < T; nothing to refuse */
	}
	double st[4];
	if (start) {
		if (!model_ok(start, kind)) {
			snprintf(fit->msg, sizeof fit->msg, "%s fit: invalid starting parameters",
				 btyd_model_name(kind));
			return BTYD_EDOMAIN;
		}
		memcpy(st, start->par, sizeof st);
	} else {
		double sx = 0, sT = 0;
		for (size_t i = 0; i < d->n; i++) {
			sx += d->w[i] * d->x[i];
			sT += d->w[i] * d->T[i];
		}
		double xbar = sx / d->wsum, Tbar = sT / d->wsum;
		st[0] = 1;
		st[1] = Tbar / (xbar > 0.01 ? xbar : 0.01);
		st[2] = 1;
		st[3] = kind == BTYD_BGNBD ? 1 : Tbar;
	}
	fitctx c = {kind, d, NULL, d->wsum, {NULL, 0}};
	int rc = fit_common(&c, st, fit);
	free(c.sc.terms);
	return rc;
}

int btyd_fit_gg(const btyd_spend *s, const btyd_model *start, btyd_fit *fit)
{
	memset(fit, 0, sizeof *fit);
	fit->model.kind = BTYD_GG;
	if (!s || s->n == 0 || !(s->wsum >= 2)) {
		snprintf(fit->msg, sizeof fit->msg,
			 "gg fit: needs at least two customers with repeat purchases and positive spend");
		return BTYD_ENODATA;
	}
	double st[4] = {1, 2, 1, 0};
	if (start) {
		if (!model_ok(start, BTYD_GG)) {
			snprintf(fit->msg, sizeof fit->msg, "gg fit: invalid starting parameters");
			return BTYD_EDOMAIN;
		}
		memcpy(st, start->par, sizeof st);
	} else {
		double sm = 0;
		for (size_t i = 0; i < s->n; i++)
			sm += s->w[i] * s->m[i];
		st[2] = sm / s->wsum;  /* p gamma / (q - 1) = mean spend */
	}
	fitctx c = {BTYD_GG, NULL, s, s->wsum, {NULL, 0}};
	int rc = fit_common(&c, st, fit);
	free(c.sc.terms);
	if (rc == BTYD_OK && !(fit->model.par[1] > 1)) {
		snprintf(fit->msg, sizeof fit->msg,
			 "gg fit: q = %.4g <= 1, so the expected spend p*gamma/(q-1) is infinite "
			 "(spend too heavy-tailed for the Gamma-Gamma model; check for outliers)",
			 fit->model.par[1]);
		fit->converged = 0;
		return BTYD_EINFSPEND;
	}
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Parameter files                                                         */

int btyd_fit_write(FILE *f, const btyd_fit *fit)
{
	int np = btyd_model_npar(fit->model.kind);
	if (np == 0) {
		errno = EINVAL;
		return -1;
	}
	fprintf(f, "model %s\n", btyd_model_name(fit->model.kind));
	for (int i = 0; i < np; i++) {
		fprintf(f, "%s %.17g", btyd_par_name(fit->model.kind, i), fit->model.par[i]);
		if (fit->se_ok)
			fprintf(f, " se %.6g", fit->se[i]);
		fputc('\n', f);
	}
	if (fit->converged || fit->ll != 0)
		fprintf(f, "loglik %.17g\niterations %d\n", fit->ll, fit->iterations);
	if (fit->nobs > 0)
		fprintf(f, "customers %.17g\n", fit->nobs);
	return ferror(f) ? -1 : 0;
}

static int fit_block_done(btyd_fit *b, unsigned have, int line, char *err, size_t errlen)
{
	int np = btyd_model_npar(b->model.kind);
	for (int i = 0; i < np; i++)
		if (!(have & (1u << i))) {
			snprintf(err, errlen, "line %d: model %s lacks parameter %s", line,
				 btyd_model_name(b->model.kind), btyd_par_name(b->model.kind, i));
			return BTYD_EDOMAIN;
		}
	int se = 1;
	for (int i = 0; i < np; i++)
		if (!(have & (1u << (8 + i))))
			se = 0;
	b->se_ok = se;
	if (!se)
		memset(b->se, 0, sizeof b->se);
	return BTYD_OK;
}

static int parse_num(const char *s, double *v)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	return end != s && *end == 0 && errno == 0 && isfinite(*v);
}

int btyd_fit_read(FILE *f, btyd_fit *fits, int max, int *nfits, char *err, size_t errlen)
{
	char buf[512];
	int line = 0, n = 0;
	unsigned have = 0;
	btyd_fit *cur = NULL;
	*nfits = 0;
	if (errlen)
		err[0] = 0;
	while (fgets(buf, sizeof buf, f)) {
		line++;
		size_t len = strlen(buf);
		if (len == sizeof buf - 1 && buf[len - 1] != '\n') {
			snprintf(err, errlen, "line %d: too long", line);
			return BTYD_EDOMAIN;
		}
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = 0;
		char *tok[5];
		int nt = 0;
		for (char *p = strtok(buf, " \t\r\n"); p; p = strtok(NULL, " \t\r\n")) {
			if (nt == 4) {
				snprintf(err, errlen, "line %d: too many fields", line);
				return BTYD_EDOMAIN;
			}
			tok[nt++] = p;
		}
		if (nt == 0)
			continue;
		if (strcmp(tok[0], "model") == 0) {
			if (nt != 2) {
				snprintf(err, errlen, "line %d: expected \"model NAME\"", line);
				return BTYD_EDOMAIN;
			}
			if (cur && fit_block_done(cur, have, line, err, errlen) != BTYD_OK)
				return BTYD_EDOMAIN;
			int kind = 0;
			for (int k = BTYD_BGNBD; k <= BTYD_GG; k++)
				if (strcmp(tok[1], btyd_model_name(k)) == 0)
					kind = k;
			if (!kind) {
				snprintf(err, errlen, "line %d: unknown model \"%s\" (bgnbd, pnbd, gg)", line,
					 tok[1]);
				return BTYD_EDOMAIN;
			}
			if (n == max) {
				snprintf(err, errlen, "line %d: more than %d models", line, max);
				return BTYD_EDOMAIN;
			}
			cur = &fits[n++];
			memset(cur, 0, sizeof *cur);
			cur->model.kind = kind;
			cur->converged = 1;
			have = 0;
			continue;
		}
		if (!cur) {
			snprintf(err, errlen, "line %d: \"%s\" before any \"model\" line", line, tok[0]);
			return BTYD_EDOMAIN;
		}
		double v, sev;
		if (nt < 2 || !parse_num(tok[1], &v)) {
			snprintf(err, errlen, "line %d: \"%s\" needs a finite number", line, tok[0]);
			return BTYD_EDOMAIN;
		}
		int np = btyd_model_npar(cur->model.kind), idx = -1;
		for (int i = 0; i < np; i++)
			if (strcmp(tok[0], btyd_par_name(cur->model.kind, i)) == 0)
				idx = i;
		if (idx >= 0) {
			if (!(v > 0)) {
				snprintf(err, errlen, "line %d: %s must be positive", line, tok[0]);
				return BTYD_EDOMAIN;
			}
			cur->model.par[idx] = v;
			have |= 1u << idx;
			if (nt == 4 && strcmp(tok[2], "se") == 0 && parse_num(tok[3], &sev) && sev >= 0) {
				cur->se[idx] = sev;
				have |= 1u << (8 + idx);
			} else if (nt != 2) {
				snprintf(err, errlen, "line %d: expected \"%s VALUE [se SE]\"", line, tok[0]);
				return BTYD_EDOMAIN;
			}
		} else if (nt == 2 && strcmp(tok[0], "loglik") == 0) {
			cur->ll = v;
		} else if (nt == 2 && strcmp(tok[0], "iterations") == 0) {
			cur->iterations = v >= 0 && v < 1e9 ? (int)v : 0;
		} else if (nt == 2 && strcmp(tok[0], "customers") == 0) {
			cur->nobs = v;
		} else {
			snprintf(err, errlen, "line %d: unknown key \"%s\" for model %s", line, tok[0],
				 btyd_model_name(cur->model.kind));
			return BTYD_EDOMAIN;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "read error");
		return BTYD_EDOMAIN;
	}
	if (cur && fit_block_done(cur, have, line, err, errlen) != BTYD_OK)
		return BTYD_EDOMAIN;
	if (n == 0) {
		snprintf(err, errlen, "no \"model\" line");
		return BTYD_EDOMAIN;
	}
	*nfits = n;
	return BTYD_OK;
}

/* ---------------------------------------------------------------------- */
/* Predictions                                                             */

/* BG/NBD: (a+b+x-1)/(a-1) [1 - ((al+T)/(al+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]
 * with z = t/(al+T+t), rewritten by Euler's transformation as
 * (a+b+x-1)/(a-1) [1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)], whose
 * parameters stay small for large x. */
static int bg_core(double r, double al, double a, double b, double x, double T, double t,
		   double *out)
{
	if (t == 0) {
		*out = 0;
		return BTYD_OK;
	}
	if (fabs(a - 1) < 1e-6) {  /* removable singularity: symmetric average */
		double lo, hi;
		int rc = bg_core(r, al, 1 - 1e-5, b, x, T, t, &lo);
		if (rc == BTYD_OK)
			rc = bg_core(r, al, 1 + 1e-5, b, x, T, t, &hi);
		if (rc == BTYD_OK)
			*out = 0.5 * (lo + hi);
		return rc;
	}
	double z = t / (al + T + t), l1z = -log1p(t / (al + T)), f;
	int rc = btyd_hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z, &f);
	if (rc != BTYD_OK)
		return rc;
	double br;
	if (f > 0)
		br = -expm1((a - 1) * l1z + log(f));
	else
		br = 1 - exp((a - 1) * l1z) * f;
	double v = (a + b + x - 1) / (a - 1) * br;
	if (!isfinite(v))
		return BTYD_ERANGE;
	*out = v < 0 ? 0 : v;
	return BTYD_OK;
}

/* Largest z for the shared power series (about 350 terms at 0.9); beyond
 * it each horizon goes through btyd_hyp2f1's 1 - z transformation. */
#ifndef BG_MULTI_ZMAX
#define BG_MULTI_ZMAX 0.9
#endif

/* bg_core for ascending horizons t[0..k-1] (k <= 64): the 2F1 series
 * coefficients depend only on x, so one pass serves every horizon. Falls
 * back to bg_core one by one when a z is large or digits cancel. */
static int bg_core_multi(double r, double al, double a, double b, double x, double T,
			 const double *t, int k, double *out)
{
	double z[64], pw[64], sm[64], A = a + b - 1 - r, B = a - 1, C = a + b + x - 1;
	int ok = k <= 64 && fabs(a - 1) >= 1e-6 && !nonpos_int(C) && !nonpos_int(A) && !nonpos_int(B);
	for (int j = 0; ok && j < k; j++) {
		z[j] = t[j] / (al + T + t[j]);
		pw[j] = 1;
		sm[j] = 1;
		if (z[j] > BG_MULTI_ZMAX || (j > 0 && t[j] < t[j - 1]))
			ok = 0;
	}
	if (ok && k > 0) {
		double c = 1, tmax = 1, zm = z[k - 1], big = fabs(A) + fabs(B) + fabs(C) + 2;
		int done = 0;
		for (int n = 0; n < 20000 && !done; n++) {
			c *= (A + n) * (B + n) / ((C + n) * (n + 1));
			for (int j = 0; j < k; j++) {
				pw[j] *= z[j];
				sm[j] += c * pw[j];
			}
			double tl = fabs(c * pw[k - 1]);
			if (tl > tmax)
				tmax = tl;
			if (c == 0 || zm == 0)
				done = 1;
			else if (n + 1 > big) {
				double nr = fabs((A + n + 1) * (B + n + 1) / ((C + n + 1) * (n + 2)) * zm);
				double rb = nr > zm ? nr : zm;
				if (rb < 1 && tl * rb / (1 - rb) <= 1e-16 * fabs(sm[k - 1]))
					done = 1;
			} else if (ratio_le_z(A, B, C, n + 1) && tl * zm / (1 - zm) <= 1e-16 * fabs(sm[k - 1])) {
				done = 1;
			}
		}
		for (int j = 0; done && j < k; j++)
			if (!(sm[j] > 0) || tmax > 1e6 * sm[j])
				done = 0;
		if (done) {
			for (int j = 0; j < k; j++) {
				if (t[j] == 0) {
					out[j] = 0;
					continue;
				}
				double l1z = -log1p(t[j] / (al + T));
				double v = C / (a - 1) * -expm1((a - 1) * l1z + log(sm[j]));
				if (!isfinite(v))
					return BTYD_ERANGE;
				out[j] = v < 0 ? 0 : v;
			}
			return BTYD_OK;
		}
	}
	for (int j = 0; j < k; j++) {
		int rc = bg_core(r, al, a, b, x, T, t[j], &out[j]);
		if (rc != BTYD_OK)
			return rc;
	}
	return BTYD_OK;
}

/* log of the odds (dropped out at t_x) : (still alive), BG/NBD */
static double bg_logodds(const double *p, double x, double tx, double T)
{
	if (x == 0)
		return -INFINITY;
	return log(p[2] / (p[3] + x - 1)) + (p[0] + x) * (log(p[1] + T) - log(p[1] + tx));
}

static double inv1pexp(double k)  /* 1/(1+e^k) without overflow */
{
	if (k > 0)
		return exp(-k) / (1 + exp(-k));
	return 1 / (1 + exp(k));
}

/* (1 - exp(-e L)) / e, -> L as e -> 0 */
static double g_expm1(double e, double L)
{
	if (fabs(e * L) < 1e-12)
		return L;
	return -expm1(-e * L) / e;
}

int btyd_expected(const btyd_model *m, double t, double *out)
{
	if (!model_ok(m, 0) || m->kind == BTYD_GG || !isfinite(t) || t < 0 || !out)
		return BTYD_EDOMAIN;
	const double *p = m->par;
	if (m->kind == BTYD_BGNBD)
		return bg_core(p[0], p[1], p[2], p[3], 0, 0, t, out);
	/* Pareto/NBD: r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)] */
	double v = p[0] * p[3] / p[1] * g_expm1(p[2] - 1, log1p(t / p[3]));
	if (!isfinite(v))
		return BTYD_ERANGE;
	*out = v;
	return BTYD_OK;
}

int btyd_palive(const btyd_model *m, double x, double tx, double T, double *out)
{
	if (!model_ok(m, 0) || m->kind == BTYD_GG || !row_ok(x, tx, T) || !out)
		return BTYD_EDOMAIN;
	if (m->kind == BTYD_BGNBD) {
		*out = inv1pexp(bg_logodds(m->par, x, tx, T));
		return BTYD_OK;
	}
	double ll, lpa;
	int rc = pn_row1(m->par, x, tx, T, &ll, &lpa);
	if (rc != BTYD_OK)
		return rc;
	*out = exp(lpa);
	return BTYD_OK;
}

int btyd_cond_expected(const btyd_model *m, double x, double tx, double T, double t, double *out)
{
	if (!model_ok(m, 0) || m->kind == BTYD_GG || !row_ok(x, tx, T) || !isfinite(t) || t < 0
	    || !out)
		return BTYD_EDOMAIN;
	const double *p = m->par;
	double pa;
	int rc = btyd_palive(m, x, tx, T, &pa);
	if (rc != BTYD_OK)
		return rc;
	double v;
	if (m->kind == BTYD_BGNBD) {
		double core;
		rc = bg_core(p[0], p[1], p[2], p[3], x, T, t, &core);
		if (rc != BTYD_OK)
			return rc;
		v = core * pa;
	} else {
		/* (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive) */
		v = (p[0] + x) * (p[3] + T) / (p[1] + T)
			* g_expm1(p[2] - 1, log1p(t / (p[3] + T))) * pa;
	}
	if (!isfinite(v))
		return BTYD_ERANGE;
	*out = v;
	return BTYD_OK;
}

int btyd_gg_cond_spend(const btyd_model *m, double x, double mx, double *out)
{
	if (!model_ok(m, BTYD_GG) || !isfinite(x) || x < 0 || !out
	    || (x > 0 && (!isfinite(mx) || !(mx > 0))))
		return BTYD_EDOMAIN;
	double p = m->par[0], q = m->par[1], ga = m->par[2];
	if (!(q > 1))
		return BTYD_EINFSPEND;
	double v = x > 0 ? p * (ga + x * mx) / (p * x + q - 1) : p * ga / (q - 1);
	if (!isfinite(v))
		return BTYD_ERANGE;
	*out = v;
	return BTYD_OK;
}

/* Expected purchases for ascending horizons t[0..k-1]; inputs validated. */
static int cond_n(const btyd_model *m, double x, double tx, double T, const double *t, size_t k,
		  double *out, double *pa_out)
{
	const double *p = m->par;
	double pa;
	int rc = btyd_palive(m, x, tx, T, &pa);
	if (rc != BTYD_OK)
		return rc;
	if (pa_out)
		*pa_out = pa;
	for (size_t j0 = 0; j0 < k; j0 += 64) {
		int kk = k - j0 < 64 ? (int)(k - j0) : 64;
		double v[64];
		if (m->kind == BTYD_BGNBD) {
			rc = bg_core_multi(p[0], p[1], p[2], p[3], x, T, t + j0, kk, v);
			if (rc != BTYD_OK)
				return rc;
			for (int j = 0; j < kk; j++)
				v[j] *= pa;
		} else {
			for (int j = 0; j < kk; j++)
				v[j] = (p[0] + x) * (p[3] + T) / (p[1] + T)
					* g_expm1(p[2] - 1, log1p(t[j0 + j] / (p[3] + T))) * pa;
		}
		for (int j = 0; j < kk; j++) {
			if (!isfinite(v[j]))
				return BTYD_ERANGE;
			out[j0 + j] = v[j];
		}
	}
	return BTYD_OK;
}

int btyd_cond_expected_n(const btyd_model *m, double x, double tx, double T, const double *t,
			 size_t k, double *out)
{
	if (!model_ok(m, 0) || m->kind == BTYD_GG || !row_ok(x, tx, T) || !t || !out)
		return BTYD_EDOMAIN;
	for (size_t j = 0; j < k; j++)
		if (!isfinite(t[j]) || t[j] < 0 || (j > 0 && t[j] < t[j - 1]))
			return BTYD_EDOMAIN;
	return cond_n(m, x, tx, T, t, k, out, NULL);
}

static int clv_opts_ok(const btyd_clv_opts *o)
{
	return o && isfinite(o->discount) && o->discount > -1 && isfinite(o->horizon)
		&& o->horizon >= 0 && o->horizon <= 1e12 && isfinite(o->units_per_year)
		&& o->units_per_year > 0 && o->steps_per_year >= 0 && o->steps_per_year <= 100000
		&& ceil(o->horizon / (o->units_per_year / (o->steps_per_year ? o->steps_per_year : 12)))
			<= 1e5;
}

int btyd_scorer_init(btyd_scorer *sc, const btyd_model *m, const btyd_clv_opts *o)
{
	memset(sc, 0, sizeof *sc);
	if (!model_ok(m, 0) || m->kind == BTYD_GG || !clv_opts_ok(o))
		return BTYD_EDOMAIN;
	sc->model = *m;
	sc->horizon = o->horizon;
	int spy = o->steps_per_year ? o->steps_per_year : 12;
	double step = o->units_per_year / spy, ld = log1p(o->discount);
	int ns = (int)ceil(o->horizon / step - 1e-9);
	if (ns < 0)
		ns = 0;
	sc->nsteps = ns;
	sc->t = xmalloc((size_t)(ns + 1) * sizeof(double));
	sc->disc = xmalloc((size_t)(ns + 1) * sizeof(double));
	for (int k = 0; k < ns; k++) {
		double tk = (k + 1) * step;
		sc->t[k] = tk < o->horizon ? tk : o->horizon;
		sc->disc[k] = exp(-ld * sc->t[k] / o->units_per_year);
	}
	return BTYD_OK;
}

/* Per (x, T) (BG/NBD) or per T (Pareto/NBD, x = 0 in the key): the
 * nsteps values of the expected purchases before the factor P(alive). */
struct btyd_score_cache {
	size_t n, cap, nslot;   /* entries, entries allocated, slots (power of 2) */
	double *kx, *kT;        /* key of each entry */
	uint32_t *slot;         /* entry + 1, 0 = empty */
	double *vec;            /* nsteps values per entry */
	int full;               /* BTYD_SCORE_CACHE_MAX reached: no more entries */
};

static void cache_free(struct btyd_score_cache *c)
{
	if (!c)
		return;
	free(c->kx);
	free(c->kT);
	free(c->slot);
	free(c->vec);
	free(c);
}

void btyd_scorer_free(btyd_scorer *sc)
{
	if (!sc)
		return;
	free(sc->t);
	free(sc->disc);
	cache_free(sc->cache);
	memset(sc, 0, sizeof *sc);
}

/* The values of steps k0..k0+kk-1 (kk <= 64) before the factor P(alive):
 * BG/NBD the bracket of bg_core_multi, Pareto/NBD the horizon factor. */
static int score_core(const btyd_scorer *sc, double x, double T, int k0, int kk, double *v)
{
	const double *p = sc->model.par;
	if (sc->model.kind == BTYD_BGNBD)
		return bg_core_multi(p[0], p[1], p[2], p[3], x, T, sc->t + k0, kk, v);
	for (int j = 0; j < kk; j++)
		v[j] = g_expm1(p[2] - 1, log1p(sc->t[k0 + j] / (p[3] + T)));
	return BTYD_OK;
}

static uint64_t score_key_hash(double x, double T)
{
	uint64_t a, b;
	memcpy(&a, &x, 8);
	memcpy(&b, &T, 8);
	uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ b;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

/* The cached values for (x, T), computed on a miss; NULL (with *rc
 * BTYD_OK) when the cache is full, NULL with *rc set on an error. */
static const double *score_cached(btyd_scorer *sc, double x, double T, int *rc)
{
	*rc = BTYD_OK;
	if (sc->model.kind != BTYD_BGNBD)
		x = 0;
	x = x == 0 ? 0 : x;   /* -0 -> 0 */
	T = T == 0 ? 0 : T;
	size_t ns = (size_t)sc->nsteps;
	struct btyd_score_cache *c = sc->cache;
	if (!c) {
		if (ns == 0 || ns > BTYD_SCORE_CACHE_MAX / 8 / 1024)
			return NULL;
		c = sc->cache = xcalloc(1, sizeof *c);
	}
	if (c->full)
		goto lookup_only;
	if (c->n + 1 > c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		if (cap * (ns * 8 + 16 + 8) > BTYD_SCORE_CACHE_MAX) {
			c->full = 1;
			goto lookup_only;
		}
		c->kx = xrealloc(c->kx, cap * sizeof *c->kx);
		c->kT = xrealloc(c->kT, cap * sizeof *c->kT);
		c->vec = xrealloc(c->vec, cap * ns * sizeof *c->vec);
		c->cap = cap;
		free(c->slot);
		c->nslot = 2 * cap;
		c->slot = xcalloc(c->nslot, sizeof *c->slot);
		for (size_t i = 0; i < c->n; i++) {
			size_t s = score_key_hash(c->kx[i], c->kT[i]) & (c->nslot - 1);
			while (c->slot[s])
				s = (s + 1) & (c->nslot - 1);
			c->slot[s] = (uint32_t)i + 1;
		}
	}
lookup_only:
	if (!c->nslot)
		return NULL;
	size_t s = score_key_hash(x, T) & (c->nslot - 1);
	for (;;) {
		uint32_t e = c->slot[s];
		if (!e)
			break;
		if (c->kx[e - 1] == x && c->kT[e - 1] == T)
			return c->vec + (size_t)(e - 1) * ns;
		s = (s + 1) & (c->nslot - 1);
	}
	if (c->full)
		return NULL;
	double *v = c->vec + c->n * ns;
	for (int k0 = 0; k0 < sc->nsteps; k0 += 64) {
		int kk = sc->nsteps - k0 < 64 ? sc->nsteps - k0 : 64;
		if ((*rc = score_core(sc, x, T, k0, kk, v + k0)) != BTYD_OK)
			return NULL;
	}
	c->kx[c->n] = x;
	c->kT[c->n] = T;
	c->slot[s] = (uint32_t)++c->n;
	return v;
}

int btyd_score(btyd_scorer *sc, double x, double tx, double T, double *palive,
	       double *expected, double *disc)
{
	if (!sc || !sc->t || !row_ok(x, tx, T) || !palive || !expected || !disc)
		return BTYD_EDOMAIN;
	const double *p = sc->model.par;
	double pa = 0, prev = 0, sum = 0;
	int rc = btyd_palive(&sc->model, x, tx, T, &pa);
	if (rc != BTYD_OK)
		return rc;
	const double *cv = score_cached(sc, x, T, &rc);
	if (rc != BTYD_OK)
		return rc;
	for (int k0 = 0; k0 < sc->nsteps; k0 += 64) {
		double e[64], v[64];
		int kk = sc->nsteps - k0 < 64 ? sc->nsteps - k0 : 64;
		const double *core = cv ? cv + k0 : v;
		if (!cv && (rc = score_core(sc, x, T, k0, kk, v)) != BTYD_OK)
			return rc;
		if (sc->model.kind == BTYD_BGNBD)
			for (int j = 0; j < kk; j++)
				e[j] = core[j] * pa;
		else
			for (int j = 0; j < kk; j++)
				e[j] = (p[0] + x) * (p[3] + T) / (p[1] + T) * core[j] * pa;
		for (int j = 0; j < kk; j++)
			if (!isfinite(e[j]))
				return BTYD_ERANGE;
		for (int j = 0; j < kk; j++) {
			sum += (e[j] - prev) * sc->disc[k0 + j];
			prev = e[j];
		}
	}
	if (!isfinite(sum) || !isfinite(prev) || !isfinite(pa))
		return BTYD_ERANGE;
	*palive = pa;
	*expected = prev;
	*disc = sum;
	return BTYD_OK;
}

int btyd_clv(const btyd_model *m, double x, double tx, double T, double spend,
	     const btyd_clv_opts *o, double *out)
{
	if (!o || !out || !isfinite(spend) || spend < 0 || !isfinite(o->margin) || !clv_opts_ok(o)
	    || !model_ok(m, 0) || m->kind == BTYD_GG || !row_ok(x, tx, T))
		return BTYD_EDOMAIN;
	btyd_scorer sc;
	double pa, e, d;
	int rc = btyd_scorer_init(&sc, m, o);
	if (rc == BTYD_OK)
		rc = btyd_score(&sc, x, tx, T, &pa, &e, &d);
	btyd_scorer_free(&sc);
	if (rc != BTYD_OK)
		return rc;
	double v = o->margin * spend * d;
	if (!isfinite(v))
		return BTYD_ERANGE;
	*out = v;
	return BTYD_OK;
}

int btyd_holdout(const btyd_model *m, const double *x, const double *tx, const double *T,
		 const double *actual, size_t n, double tstar, int nbins, btyd_holdout_bin *bins,
		 double *mae)
{
	if (!model_ok(m, 0) || m->kind == BTYD_GG || n == 0 || nbins < 1 || nbins > 1000
	    || !isfinite(tstar) || tstar < 0 || !bins || !mae)
		return BTYD_EDOMAIN;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(actual[i]) || actual[i] < 0)
			return BTYD_EDOMAIN;
	btyd_data d;
	size_t bad;
	uint32_t *map = xmalloc(n * sizeof *map);
	int rc = btyd_group_map(x, tx, T, NULL, n, &d, map, &bad);
	if (rc != BTYD_OK) {
		free(map);
		return rc;
	}
	double *pred = xmalloc(d.n * sizeof *pred);
	for (size_t j = 0; j < d.n && rc == BTYD_OK; j++)
		rc = btyd_cond_expected(m, d.x[j], d.tx[j], d.T[j], tstar, &pred[j]);
	if (rc == BTYD_OK) {
		memset(bins, 0, (size_t)(nbins + 1) * sizeof *bins);
		double abs = 0;
		for (size_t i = 0; i < n; i++) {
			double pi = pred[map[i]];
			int k = x[i] < nbins - 1 ? (int)x[i] : nbins - 1;
			bins[k].customers += 1;
			bins[k].predicted += pi;
			bins[k].actual += actual[i];
			abs += fabs(pi - actual[i]);
		}
		for (int k = 0; k < nbins; k++) {
			bins[nbins].customers += bins[k].customers;
			bins[nbins].predicted += bins[k].predicted;
			bins[nbins].actual += bins[k].actual;
		}
		for (int k = 0; k <= nbins; k++)
			if (bins[k].customers > 0) {
				bins[k].predicted /= bins[k].customers;
				bins[k].actual /= bins[k].customers;
			}
		*mae = abs / (double)n;
	}
	free(pred);
	free(map);
	btyd_data_free(&d);
	return rc;
}
