/* Minimisers for small maximum-likelihood problems; see optim.h. */
#include "optim.h"

#include <math.h>
#include <string.h>

void optim_default_opts(optim_opts *o)
{
	o->max_iter = 500;
	o->gtol = 1e-7;
	o->ftol = 1e-12;
	o->step = 0.5;
	o->max_step = 5.0;
	o->analytic_grad = 0;
}

static double fd_step(double xi, double h)
{
	return h * (fabs(xi) > 1.0 ? fabs(xi) : 1.0);
}

int optim_num_gradient(optim_fg f, void *ctx, int n, const double *x, double h, double *g)
{
	double xx[OPTIM_MAXN];
	memcpy(xx, x, (size_t)n * sizeof *x);
	for (int i = 0; i < n; i++) {
		double hi = fd_step(x[i], h);
		xx[i] = x[i] + hi;
		double fp = f(xx, NULL, ctx);
		xx[i] = x[i] - hi;
		double fm = f(xx, NULL, ctx);
		xx[i] = x[i];
		if (!isfinite(fp) || !isfinite(fm))
			return -1;
		g[i] = (fp - fm) / (2.0 * hi);
	}
	return 0;
}

/* f and (when g) its gradient, counting evaluations. */
static double eval(optim_fg f, void *ctx, int n, const double *x, double *g,
		   const optim_opts *o, int *nev)
{
	if (o->analytic_grad) {
		(*nev)++;
		double v = f(x, g, ctx);
		if (g && isfinite(v))
			for (int i = 0; i < n; i++)
				if (!isfinite(g[i]))
					return INFINITY;
		return v;
	}
	(*nev)++;
	double v = f(x, NULL, ctx);
	if (g && isfinite(v)) {
		*nev += 2 * n;
		if (optim_num_gradient(f, ctx, n, x, 1e-5, g) != 0)
			return INFINITY;
	}
	return v;
}

static double gmax_of(int n, const double *g)
{
	double m = 0;
	for (int i = 0; i < n; i++)
		if (fabs(g[i]) > m)
			m = fabs(g[i]);
	return m;
}

int optim_bfgs(optim_fg f, void *ctx, int n, double *x, const optim_opts *o, optim_result *res)
{
	double H[OPTIM_MAXN * OPTIM_MAXN], g[OPTIM_MAXN], gn[OPTIM_MAXN], xn[OPTIM_MAXN];
	double d[OPTIM_MAXN], s[OPTIM_MAXN], y[OPTIM_MAXN], Hy[OPTIM_MAXN];
	int nev = 0, it, fresh = 1, flat = 0;
	double fx = eval(f, ctx, n, x, g, o, &nev);

	res->iterations = 0;
	res->evaluations = nev;
	res->converged = 0;
	res->f = fx;
	res->gmax = INFINITY;
	if (!isfinite(fx))
		return -1;
	for (int i = 0; i < n * n; i++)
		H[i] = 0;
	for (int i = 0; i < n; i++)
		H[i * n + i] = 1;

	for (it = 0; it < o->max_iter; it++) {
		double gm = gmax_of(n, g);
		if (gm <= o->gtol) {
			res->converged = 1;
			break;
		}
		double slope = 0, dmax = 0;
		for (int i = 0; i < n; i++) {
			d[i] = 0;
			for (int j = 0; j < n; j++)
				d[i] -= H[i * n + j] * g[j];
			slope += d[i] * g[i];
		}
		if (!(slope < 0)) {
			for (int i = 0; i < n * n; i++)
				H[i] = 0;
			for (int i = 0; i < n; i++) {
				H[i * n + i] = 1;
				d[i] = -g[i];
			}
			fresh = 1;
			slope = 0;
			for (int i = 0; i < n; i++)
				slope += d[i] * g[i];
		}
		for (int i = 0; i < n; i++)
			if (fabs(d[i]) > dmax)
				dmax = fabs(d[i]);
		if (dmax > o->max_step)
			for (int i = 0; i < n; i++)
				d[i] *= o->max_step / dmax;
		if (dmax > o->max_step)
			slope *= o->max_step / dmax;

		double a = 1, fn = INFINITY;
		int ok = 0;
		for (int k = 0; k < 60; k++) {
			for (int i = 0; i < n; i++)
				xn[i] = x[i] + a * d[i];
			if (o->analytic_grad)
				fn = eval(f, ctx, n, xn, gn, o, &nev);
			else
				fn = eval(f, ctx, n, xn, NULL, o, &nev);
			if (isfinite(fn) && fn <= fx + 1e-4 * a * slope) {
				ok = 1;
				break;
			}
			a *= isfinite(fn) ? 0.5 : 0.25;
		}
		if (!ok) {
			if (fresh)
				break;  /* steepest descent cannot improve: stuck */
			for (int i = 0; i < n * n; i++)
				H[i] = 0;
			for (int i = 0; i < n; i++)
				H[i * n + i] = 1;
			fresh = 1;
			continue;
		}
		if (!o->analytic_grad && !isfinite(eval(f, ctx, n, xn, gn, o, &nev)))
			break;
		double sy = 0, yy = 0, ss = 0;
		for (int i = 0; i < n; i++) {
			s[i] = xn[i] - x[i];
			y[i] = gn[i] - g[i];
			sy += s[i] * y[i];
			yy += y[i] * y[i];
			ss += s[i] * s[i];
		}
		if (sy > 1e-12 * sqrt(ss * yy) && yy > 0) {
			if (fresh) {
				for (int i = 0; i < n * n; i++)
					H[i] *= sy / yy;
				fresh = 0;
			}
			double rho = 1 / sy, yHy = 0;
			for (int i = 0; i < n; i++) {
				Hy[i] = 0;
				for (int j = 0; j < n; j++)
					Hy[i] += H[i * n + j] * y[j];
				yHy += y[i] * Hy[i];
			}
			for (int i = 0; i < n; i++)
				for (int j = 0; j < n; j++)
					H[i * n + j] += -rho * (Hy[i] * s[j] + s[i] * Hy[j])
						+ (rho * rho * yHy + rho) * s[i] * s[j];
		}
		if (fabs(fx - fn) <= 1e-16 * (1 + fabs(fx)))
			flat++;
		else
			flat = 0;
		memcpy(x, xn, (size_t)n * sizeof *x);
		memcpy(g, gn, (size_t)n * sizeof *g);
		fx = fn;
		if (flat >= 5)
			break;
	}
	res->iterations = it;
	res->evaluations = nev;
	res->f = fx;
	res->gmax = gmax_of(n, g);
	if (res->gmax <= o->gtol)
		res->converged = 1;
	return res->converged ? 0 : 1;
}

int optim_nelder_mead(optim_fg f, void *ctx, int n, double *x, const optim_opts *o, optim_result *res)
{
	double P[OPTIM_MAXN + 1][OPTIM_MAXN], F[OPTIM_MAXN + 1];
	double c[OPTIM_MAXN], xr[OPTIM_MAXN], xe[OPTIM_MAXN], xc[OPTIM_MAXN];
	int nev = 0, it;

	res->iterations = 0;
	res->converged = 0;
	res->gmax = INFINITY;
	for (int k = 0; k <= n; k++) {
		memcpy(P[k], x, (size_t)n * sizeof *x);
		if (k > 0)
			P[k][k - 1] += o->step;
		F[k] = f(P[k], NULL, ctx);
		nev++;
		if (!isfinite(F[k])) {
			if (k == 0) {
				res->evaluations = nev;
				res->f = F[0];
				return -1;
			}
			P[k][k - 1] = x[k - 1] - o->step;
			F[k] = f(P[k], NULL, ctx);
			nev++;
			if (!isfinite(F[k]))
				F[k] = INFINITY;
		}
	}
	for (it = 0; it < o->max_iter * 2; it++) {
		/* order: best first */
		for (int i = 1; i <= n; i++)
			for (int j = i; j > 0 && F[j] < F[j - 1]; j--) {
				double t = F[j];
				F[j] = F[j - 1];
				F[j - 1] = t;
				for (int k = 0; k < n; k++) {
					t = P[j][k];
					P[j][k] = P[j - 1][k];
					P[j - 1][k] = t;
				}
			}
		double diam = 0;
		for (int i = 1; i <= n; i++)
			for (int k = 0; k < n; k++)
				if (fabs(P[i][k] - P[0][k]) > diam)
					diam = fabs(P[i][k] - P[0][k]);
		if (isfinite(F[n]) && F[n] - F[0] <= o->ftol * (1 + fabs(F[0])) && diam < 1e-6)
			break;
		for (int k = 0; k < n; k++) {
			c[k] = 0;
			for (int i = 0; i < n; i++)
				c[k] += P[i][k] / n;
		}
		for (int k = 0; k < n; k++)
			xr[k] = c[k] + (c[k] - P[n][k]);
		double fr = f(xr, NULL, ctx);
		nev++;
		if (!isfinite(fr))
			fr = INFINITY;
		if (fr < F[0]) {
			for (int k = 0; k < n; k++)
				xe[k] = c[k] + 2 * (c[k] - P[n][k]);
			double fe = f(xe, NULL, ctx);
			nev++;
			if (isfinite(fe) && fe < fr) {
				memcpy(P[n], xe, sizeof xe);
				F[n] = fe;
			} else {
				memcpy(P[n], xr, sizeof xr);
				F[n] = fr;
			}
			continue;
		}
		if (fr < F[n - 1]) {
			memcpy(P[n], xr, sizeof xr);
			F[n] = fr;
			continue;
		}
		int outside = fr < F[n];
		for (int k = 0; k < n; k++)
			xc[k] = outside ? c[k] + 0.5 * (xr[k] - c[k]) : c[k] + 0.5 * (P[n][k] - c[k]);
		double fc = f(xc, NULL, ctx);
		nev++;
		if (isfinite(fc) && fc < (outside ? fr : F[n])) {
			memcpy(P[n], xc, sizeof xc);
			F[n] = fc;
			continue;
		}
		for (int i = 1; i <= n; i++) {
			for (int k = 0; k < n; k++)
				P[i][k] = P[0][k] + 0.5 * (P[i][k] - P[0][k]);
			F[i] = f(P[i], NULL, ctx);
			nev++;
			if (!isfinite(F[i]))
				F[i] = INFINITY;
		}
	}
	int best = 0;
	for (int i = 1; i <= n; i++)
		if (F[i] < F[best])
			best = i;
	memcpy(x, P[best], (size_t)n * sizeof *x);
	res->f = F[best];
	res->iterations = it;
	res->evaluations = nev;
	return 1;  /* Nelder-Mead alone never claims gradient convergence */
}

int optim_minimize(optim_fg f, void *ctx, int n, double *x, const optim_opts *o, optim_result *res)
{
	optim_result r;
	int iters = 0, evals = 0;
	int rc = optim_bfgs(f, ctx, n, x, o, &r);

	iters += r.iterations;
	evals += r.evaluations;
	for (int restart = 0; rc != 0 && restart < 3; restart++) {
		if (rc < 0 && restart > 0)
			break;
		optim_opts oo = *o;
		oo.step = restart == 0 ? o->step : o->step * 0.3;
		int nm = optim_nelder_mead(f, ctx, n, x, &oo, &r);
		iters += r.iterations;
		evals += r.evaluations;
		if (nm < 0)
			break;
		rc = optim_bfgs(f, ctx, n, x, o, &r);
		iters += r.iterations;
		evals += r.evaluations;
	}
	*res = r;
	res->iterations = iters;
	res->evaluations = evals;
	return rc;
}

int optim_num_hessian(optim_fg f, void *ctx, int n, const double *x, double h, double *H)
{
	double xx[OPTIM_MAXN];
	double f0 = f(x, NULL, ctx);
	if (!isfinite(f0))
		return -1;
	memcpy(xx, x, (size_t)n * sizeof *x);
	for (int i = 0; i < n; i++) {
		xx[i] = x[i] + h;
		double fp = f(xx, NULL, ctx);
		xx[i] = x[i] - h;
		double fm = f(xx, NULL, ctx);
		xx[i] = x[i];
		if (!isfinite(fp) || !isfinite(fm))
			return -1;
		H[i * n + i] = (fp - 2 * f0 + fm) / (h * h);
		for (int j = 0; j < i; j++) {
			double v[4];
			static const int si[4] = {1, 1, -1, -1}, sj[4] = {1, -1, 1, -1};
			for (int k = 0; k < 4; k++) {
				xx[i] = x[i] + si[k] * h;
				xx[j] = x[j] + sj[k] * h;
				v[k] = f(xx, NULL, ctx);
				if (!isfinite(v[k]))
					return -1;
			}
			xx[i] = x[i];
			xx[j] = x[j];
			H[i * n + j] = H[j * n + i] = (v[0] - v[1] - v[2] + v[3]) / (4 * h * h);
		}
	}
	return 0;
}

int optim_num_hessian_grad(optim_fg f, void *ctx, int n, const double *x, double h, double *H)
{
	double xx[OPTIM_MAXN], gp[OPTIM_MAXN], gm[OPTIM_MAXN];
	memcpy(xx, x, (size_t)n * sizeof *x);
	for (int i = 0; i < n; i++) {
		xx[i] = x[i] + h;
		double fp = f(xx, gp, ctx);
		xx[i] = x[i] - h;
		double fm = f(xx, gm, ctx);
		xx[i] = x[i];
		if (!isfinite(fp) || !isfinite(fm))
			return -1;
		for (int j = 0; j < n; j++) {
			if (!isfinite(gp[j]) || !isfinite(gm[j]))
				return -1;
			H[i * n + j] = (gp[j] - gm[j]) / (2 * h);
		}
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			H[i * n + j] = H[j * n + i] = 0.5 * (H[i * n + j] + H[j * n + i]);
	return 0;
}

int optim_spd_inverse(int n, const double *A, double *Ainv)
{
	double L[OPTIM_MAXN * OPTIM_MAXN], Li[OPTIM_MAXN * OPTIM_MAXN];
	memset(L, 0, sizeof L);
	for (int j = 0; j < n; j++) {
		double s = A[j * n + j];
		for (int k = 0; k < j; k++)
			s -= L[j * n + k] * L[j * n + k];
		if (!(s > 0) || !isfinite(s))
			return -1;
		L[j * n + j] = sqrt(s);
		for (int i = j + 1; i < n; i++) {
			double t = A[i * n + j];
			for (int k = 0; k < j; k++)
				t -= L[i * n + k] * L[j * n + k];
			L[i * n + j] = t / L[j * n + j];
		}
	}
	/* Li = L^-1 (lower triangular) */
	memset(Li, 0, sizeof Li);
	for (int i = 0; i < n; i++) {
		Li[i * n + i] = 1 / L[i * n + i];
		for (int j = 0; j < i; j++) {
			double s = 0;
			for (int k = j; k < i; k++)
				s -= L[i * n + k] * Li[k * n + j];
			Li[i * n + j] = s / L[i * n + i];
		}
	}
	/* A^-1 = Li^T Li */
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			double s = 0;
			for (int k = (i > j ? i : j); k < n; k++)
				s += Li[k * n + i] * Li[k * n + j];
			Ainv[i * n + j] = s;
		}
	return 0;
}
