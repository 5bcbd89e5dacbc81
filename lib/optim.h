/* Small unconstrained minimisers for maximum-likelihood fits with a handful
 * of parameters (at most OPTIM_MAXN): BFGS (analytic or central-difference
 * gradient, backtracking line search), Nelder-Mead with restarts, a driver
 * that combines them and checks convergence, and the numerical Hessian with
 * a symmetric positive-definite inverse for standard errors.
 *
 * The objective returns the value to minimise; a non-finite value means
 * "outside the domain" and makes the minimisers step back. */
#ifndef RETAIN_OPTIM_H
#define RETAIN_OPTIM_H

#define OPTIM_MAXN 8

/* f(x); when g is not NULL also stores the gradient in g[0..n-1]. */
typedef double (*optim_fg)(const double *x, double *g, void *ctx);

typedef struct optim_opts {
	int max_iter;       /* per method; default 500 */
	double gtol;        /* converged when max |gradient| <= gtol; default 1e-7 */
	double ftol;        /* Nelder-Mead: simplex spread in f; default 1e-12 */
	double step;        /* Nelder-Mead initial step; default 0.5 */
	double max_step;    /* BFGS: longest step (max norm); default 5 */
	int analytic_grad;  /* objective fills g itself (otherwise central differences) */
} optim_opts;

typedef struct optim_result {
	double f;           /* objective at the returned point */
	double gmax;        /* max |gradient| there */
	int iterations;     /* summed over all methods used */
	int evaluations;    /* objective calls */
	int converged;      /* gmax <= gtol */
} optim_result;

void optim_default_opts(optim_opts *o);

/* Each returns 0 on success (converged), 1 when it stopped without meeting
 * the criterion (x still holds the best point found), -1 when the start
 * point is outside the domain. x is updated in place. */
int optim_bfgs(optim_fg f, void *ctx, int n, double *x, const optim_opts *o, optim_result *res);
int optim_nelder_mead(optim_fg f, void *ctx, int n, double *x, const optim_opts *o, optim_result *res);
/* BFGS; if that does not converge, Nelder-Mead restarts then BFGS again. */
int optim_minimize(optim_fg f, void *ctx, int n, double *x, const optim_opts *o, optim_result *res);

/* Central-difference gradient of f (h relative step). 0 or -1 (non-finite). */
int optim_num_gradient(optim_fg f, void *ctx, int n, const double *x, double h, double *g);
/* Central-difference Hessian H[n*n] of f at x with step h (absolute). */
int optim_num_hessian(optim_fg f, void *ctx, int n, const double *x, double h, double *H);
/* The same from central differences of an analytic gradient (f fills g),
 * symmetrised: 2n gradient evaluations instead of 2n^2 + 1 values. */
int optim_num_hessian_grad(optim_fg f, void *ctx, int n, const double *x, double h, double *H);
/* Inverse of a symmetric positive-definite matrix via Cholesky; -1 if not SPD. */
int optim_spd_inverse(int n, const double *A, double *Ainv);

#endif
