/* synth: synthetic customers and orders from "buy 'til you die" models.
 *
 * Every customer is drawn from the model of its acquisition channel:
 *
 *   BG/NBD (Fader, Hardie & Lee 2005): purchase rate lambda ~ Gamma(r, rate
 *     alpha) per week; while alive, purchases form a Poisson process; after
 *     each repeat purchase the customer drops out with probability
 *     p ~ Beta(a, b).
 *   Pareto/NBD (Schmittlein, Morrison & Colombo 1987): lambda as above;
 *     lifetime tau ~ Exp(mu) weeks with mu ~ Gamma(s, rate beta).
 *   Gamma-Gamma spend (Fader, Hardie & Lee 2005, Colombo & Jiang 1999): each
 *     order's value z ~ Gamma(p, rate nu) with nu ~ Gamma(q, rate gamma), so
 *     the mean order value is p * gamma / (q - 1).
 *
 * Time unit of every model parameter: weeks (alpha and beta are in weeks,
 * lambda and mu are per week). A customer's first purchase is at a uniform
 * instant between --start and the end of --end (its acquisition cohort);
 * purchases after the end of the --asof day are not observed. T, the age at
 * --asof, is measured from the first purchase.
 *
 * Customer k (0-based) draws from its own random streams (rng_seed_stream
 * of the seed and k), so its behaviour does not depend on how many customers
 * are drawn or on the mess options: --customers 1000 is a prefix of
 * --customers 2000 with the same seed, and output is byte-identical for equal
 * arguments.
 */
#ifndef RETAIN_SYNTH_H
#define RETAIN_SYNTH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rng.h"
#include "stream.h"

enum synth_model { SYNTH_BGNBD = 1, SYNTH_PNBD = 2 };
enum synth_format { SYNTH_CSV = 1, SYNTH_STREAM = 2 };

#define SYNTH_MAX_CHANNELS 64
#define SYNTH_NAME_MAX 32
/* Purchases per customer are capped (a guard against extreme draws from the
 * Gamma tail; with sensible parameters it is never reached). */
#define SYNTH_MAX_PURCHASES 100000

typedef struct synth_params {
	double r, alpha;     /* purchase rate lambda ~ Gamma(r, rate alpha), per week */
	double a, b;         /* BG/NBD: dropout probability p ~ Beta(a, b) */
	double s, beta;      /* Pareto/NBD: dropout rate mu ~ Gamma(s, rate beta), per week */
	double p, q, gamma;  /* Gamma-Gamma spend per order */
} synth_params;

typedef struct synth_channel {
	char name[SYNTH_NAME_MAX + 1];
	double weight;       /* share of customers (normalised over all channels) */
	synth_params par;
} synth_channel;

typedef struct synth_opts {
	int model;                   /* SYNTH_BGNBD (default) or SYNTH_PNBD */
	uint64_t customers;          /* default 1000 */
	uint64_t seed;               /* default 1 */
	int64_t start_day, end_day;  /* acquisition window, day numbers (inclusive) */
	int64_t asof_day;            /* last observed day (inclusive), >= end_day */
	synth_params base;           /* --params and --spend */
	int nchannels;               /* 0 = one channel "direct" with base */
	synth_channel ch[SYNTH_MAX_CHANNELS];
	double items;                /* mean line items per order, >= 1 (default 1.6) */
	double dup_rate;             /* share of rows written twice */
	double refund_rate;          /* share of orders with a refund row */
	double bad_rate;             /* share of rows with a bad date or amount (CSV only) */
	double alias_rate;           /* share of customers with a second id */
	int format;                  /* SYNTH_CSV (default) or SYNTH_STREAM */
	int header;                  /* CSV header line (default 1) */
	int order_time;              /* rows sorted by time (held in memory, ~60 bytes a row)
	                                instead of grouped by customer (streamed) */
} synth_opts;

/* Defaults: BG/NBD with the CDNOW estimates of Fader, Hardie & Lee (2005)
 * (r 0.243, alpha 4.414, a 0.793, b 2.426; Pareto/NBD r 0.55, alpha 10.58,
 * s 0.61, beta 11.67; spend p 6.25, q 3.74, gamma 15.44), 2023-01-01 to
 * 2024-12-31, as of the end date. */
void synth_opts_init(synth_opts *o);
/* Sets the model and its default r, alpha and a, b (or s, beta). */
void synth_set_model(synth_opts *o, int model);

/* "r=0.24,alpha=4.4,a=0.79,b=2.4" or spend "p=6,q=3.7,gamma=15": sets the
 * named fields of *p (any of r alpha a b s beta p q gamma). Returns 0, or -1
 * with a message in err. */
int synth_parse_params(const char *spec, synth_params *p, char *err, size_t errlen);
/* "NAME:WEIGHT[:KEY=VAL,...];NAME:WEIGHT..." : channels, each starting from
 * o->base (so parse --params/--spend first) with its own overrides. */
int synth_parse_channels(const char *spec, synth_opts *o, char *err, size_t errlen);
/* A number in [lo, hi] for option opt; dies with exit 2 otherwise. */
double synth_parse_double(const char *opt, const char *s, double lo, double hi);
/* Strict YYYY-MM-DD into a day number (days since 1970-01-01). */
int synth_parse_date(const char *s, int64_t *day, char *err, size_t errlen);
/* Checks the whole configuration (positive parameters, dates in order, rates
 * in [0, 1], bad_rate 0 for the stream format). */
int synth_check(const synth_opts *o, char *err, size_t errlen);

/* One simulated customer: the latent traits and the purchase times. */
typedef struct synth_customer {
	uint64_t index;      /* 0-based */
	int channel;
	double lambda;       /* purchases per week while alive */
	double dropout;      /* BG/NBD p, or Pareto/NBD mu */
	double nu;           /* Gamma-Gamma rate: mean order value p / nu */
	int64_t first;       /* time of the first purchase, UTC seconds */
	double T;            /* weeks from the first purchase to the end of asof */
	int alive;           /* still alive at the end of asof */
	size_t n;            /* purchases observed, first included (n >= 1) */
	double *t;           /* weeks since the first purchase, t[0] = 0 */
	double *value;       /* order values (unrounded Gamma-Gamma draws) */
	size_t cap;
	rng detail;          /* stream for line items, SKUs, times of day */
} synth_customer;

/* Draws customer k. c must be zeroed before first use (buffers are reused). */
void synth_customer_draw(const synth_opts *o, uint64_t k, synth_customer *c);
void synth_customer_free(synth_customer *c);

/* Counts of what synth_run wrote. */
typedef struct synth_stats {
	uint64_t customers, orders, lines, refunds, dups, bad, alias_customers, alias_rows, rows;
} synth_stats;

/* Outputs: CSV to csv (a FILE*, with its name for messages), or records to
 * events (a writer opened with synth_events_header's schema); alias pairs
 * ("alias,customer_id") to alias when not NULL; the per-customer truth to
 * truth when not NULL. Dies (exit 4) on write errors. */
typedef struct synth_out {
	FILE *csv;
	const char *csv_name;
	rtn_writer *events;
	FILE *alias;
	const char *alias_name;
	FILE *truth;
	const char *truth_name;
} synth_out;

/* Header of the events stream synth writes: customer, time, amount, order,
 * type, channel, sku, plus metadata naming the model. */
rtn_header *synth_events_header(const synth_opts *o, int argc, char **argv);
void synth_run(const synth_opts *o, const synth_out *out, synth_stats *st);
void synth_print_stats(FILE *f, const synth_stats *st);

#endif
