/* Churn scoring and lifetime value on rfm's customers records: BTYD models
 * (lib/btyd.h) fitted on grouped (x, t_x, T), Gamma-Gamma spend, the rule
 * model, risk bands, early-warning reasons, CLV, the parameters file and
 * holdout validation. See churnscore(1) for the definitions.
 *
 * Use:
 *	churn *c = churn_new(&opts);
 *	churn_bind(c, header, "standard input");      // columns, unit, asof
 *	while (read) churn_collect(c, v);             // only if churn_needs_fit
 *	churn_fit(c);                                 // or churn_use_params
 *	rtn_header *oh = churn_header(c, header, argc, argv);
 *	while (read) { churn_score(c, v, out); write(out); }
 */
#ifndef RETAIN_CHURN_H
#define RETAIN_CHURN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "btyd.h"
#include "stream.h"

#define CHURN_MAX_NEG 16
#define CHURN_MAX_HORIZON 36525.0   /* days: 100 years of monthly CLV steps at most */

enum churn_model { CHURN_BGNBD = BTYD_BGNBD, CHURN_PNBD = BTYD_PNBD, CHURN_RULE = 9 };

/* Rule thresholds (per group with --thresholds). */
typedef struct churn_thr {
	double overdue;      /* K: overdue when recency > K * max(mean_gap, min_gap); 2 */
	double churn_after;  /* days: a one-time buyer is overdue after this; 180 */
	double min_gap;      /* days: floor of the own rhythm; 7 */
} churn_thr;

/* Thresholds per value of one column of the customers records:
 *	# comment
 *	by channel
 *	*    overdue=2 churn-after=180d min-gap=7d
 *	ads  overdue=3 churn-after=120d
 * Values not listed use the "*" line (itself starting from the options);
 * a group line starts from the "*" line. */
typedef struct churn_rules {
	char *column;
	churn_thr def;
	int n;
	char **value;
	churn_thr *thr;
} churn_rules;

typedef struct churn_opts {
	int model;                /* enum churn_model; CHURN_BGNBD */
	double horizon_days;      /* 364 (52w) */
	double band_high;         /* p_alive below: risk "high"; 0.3 */
	double band_medium;       /* p_alive below: risk "medium"; 0.7 */
	double margin;            /* share of spend that is profit; 1 */
	double discount;          /* annual discount rate; 0.1 */
	churn_thr thr;
	const char *rules_path;   /* --thresholds FILE or NULL */
	double window_days;       /* recent refunds and negative events; 30 */
	double falling;           /* rate_falling: recent < falling * prior_rate; 0.5 */
	int nneg;
	const char *neg[CHURN_MAX_NEG];
} churn_opts;

void churn_opts_default(churn_opts *o);

/* Saved parameters (--params-out, --params). */
typedef struct churn_params {
	int model;                /* CHURN_BGNBD or CHURN_PNBD */
	int unit_days;            /* 7 or 1 */
	btyd_fit fit;             /* purchase model (model, se, ll, iterations...) */
	btyd_fit spend;           /* Gamma-Gamma */
	double customers, rows;   /* customers fitted, unique (x, t_x, T) rows */
	double spend_customers, spend_skipped;
} churn_params;

/* Writes the readable parameters file; -1 on a write error. */
int churn_params_write(FILE *f, const churn_params *p);
/* Reads it back; 0 or -1 with "LINE: reason" in err. */
int churn_params_parse(const char *text, churn_params *p, char *err, size_t errlen);

/* --- per customer (pure functions, unit tested) --- */

typedef struct churn_cust {
	double x, t_x, T;            /* rfm unit */
	double recency;              /* days */
	double mean_gap;             /* days, NaN with fewer than two purchase days */
	double aov;                  /* currency, NaN when null */
	int64_t last_refund;         /* time or RTN_NULL */
	int64_t recent;              /* recent_purchases or RTN_NULL */
	double prior_rate;           /* NaN when unknown */
	int nneg;
	int64_t neg_last[CHURN_MAX_NEG];
} churn_cust;

typedef struct churn_score_out {
	double p_alive, exp_purchases, exp_spend, future_value;
	const char *risk;
	char reasons[512];
	size_t reasons_len;          /* of the whole text, even when cut to fit */
	unsigned mask;               /* reasons given (bits: see churn.c) */
} churn_score_out;

/* The own-rhythm limit in days: K * max(mean_gap, min_gap), or churn_after
 * for one-time buyers. */
double churn_rule_limit(const churn_thr *t, double mean_gap);
/* Rule model: p_alive = 2^(-recency / limit) (0.5 at the limit). */
double churn_rule_palive(const churn_thr *t, double recency, double mean_gap);
/* "high", "medium" or "low". */
const char *churn_band(const churn_opts *o, double p_alive);
/* Comma-separated signals: overdue, rate_falling, recent_refund, each
 * negative TYPE seen in the window, low_p_alive. recent_start = first
 * second of the window. Returns the length. */
size_t churn_reasons(const churn_opts *o, const churn_thr *t, const churn_cust *c, double p_alive,
		     int64_t recent_start, char *buf, size_t n);

/* --- the program's state --- */

typedef struct churn churn;

churn *churn_new(const churn_opts *o);
void churn_free(churn *c);
/* Finds the input columns, the unit and asof metadata; dies (exit 2) with a
 * message naming what when the stream is not rfm's customers records. */
void churn_bind(churn *c, const rtn_header *h, const char *what);
int churn_unit_days(const churn *c);
/* 1 when the model must be fitted (a model without --params). */
int churn_needs_fit(const churn *c);
/* Pass 1: adds the customer to the fitting data. */
void churn_collect(churn *c, const rtn_value *v);
/* Fits the model and Gamma-Gamma; dies with exit 1 and the reason when a
 * fit fails or q <= 1. Without customers there is nothing to fit (and
 * churn_get_params returns NULL). */
void churn_fit(churn *c);
/* Uses saved parameters; dies with exit 2 on a unit or model mismatch. */
void churn_use_params(churn *c, const churn_params *p, const char *path);
const churn_params *churn_get_params(const churn *c);   /* NULL before a fit */
/* Output header: the input's with the churnscore columns. */
rtn_header *churn_header(churn *c, const rtn_header *in, int argc, char **argv);
/* Number of output columns (after churn_header). */
int churn_out_columns(const churn *c);
/* Scores one input record into out (churn_out_columns values); dies with
 * exit 1 naming the customer if a value would not be finite. */
void churn_score(churn *c, const rtn_value *in, rtn_value *out);
/* Holdout: reads the events after asof (up to end_day, or the day of the
 * last event when end_day is INT64_MIN) before the scoring pass, sets the
 * horizon to the holdout length; then churn_holdout_add per customer
 * record and churn_holdout_report. */
void churn_holdout_load(churn *c, char *path, int64_t end_day);
void churn_holdout_add(churn *c, const rtn_value *in);
void churn_holdout_report(churn *c, FILE *f);
/* --stats lines. */
void churn_stats(const churn *c, FILE *f);

/* Duration text ("52w", "6mo", "180d") in days (months 365.25/12 days,
 * years 365.25); -1 with err on a bad value. */
int churn_duration_days(const char *s, double *days, char *err, size_t errlen);
/* Loads --thresholds FILE; dies "FILE:LINE: reason" with exit 2. */
churn_rules *churn_rules_load(const char *path, const churn_thr *base);
int churn_rules_parse(const char *text, const churn_thr *base, churn_rules *r, char *err,
		      size_t errlen);
void churn_rules_free(churn_rules *r);

#endif
