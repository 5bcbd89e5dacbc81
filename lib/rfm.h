/* RFM: per-customer values, R/F/M scores by quantiles or fixed breaks,
 * segments and lifecycle stage, the customers record, the health summary.
 *
 * Scores (bins k, 2..9): R from recency (lower is better), F from orders,
 * M from revenue (both inside --window). From the data: a value's score is
 * 1 + floor(k * worse / N), where N is the number of customers and worse
 * the number with a strictly worse value, so equal values always share a
 * score (a tie group gets the score of its first member) and a large tie
 * can leave scores unused. The scores are then expressed as k-1 breaks
 * b1 <= ... <= b(k-1): F and M score 1 + #{j: value >= bj}; R scores
 * k - #{j: recency >= bj}. A break no value reaches is "inf". Fixed breaks
 * (--breaks, --breaks-from) are applied the same way. */
#ifndef RETAIN_RFM_H
#define RETAIN_RFM_H

#include <stdint.h>
#include <stdio.h>

#include "custagg.h"
#include "segments.h"
#include "stage.h"
#include "stream.h"

#define RFM_BINS_MAX 9
#define RFM_INF INT64_MAX

typedef struct rfm_opts {
	int bins;                  /* 5 */
	int unit_days;             /* 7 (week) or 1 (day) for x, t_x, T */
	int have_breaks;
	int64_t breaks[3][RFM_BINS_MAX];   /* r (days), f (orders), m (money) */
	int seg_mode;              /* enum seg_mode */
	const seg_rules *rules;    /* SEG_NAMED, SEG_FILE */
	int zh;                    /* classic8 names in Chinese */
	const stage_rules *stages; /* NULL: defaults */
	int stage_carry;           /* index of the group column among the carried, or -1 */
	const char *segments_name; /* for the header: classic8, named or the file */
} rfm_opts;

typedef struct rfm_row {
	int64_t recency, tenure, aov, x, mean_spend, F, M, revenue, refunds;
	double mean_gap, prior_rate, t_x, T;
	int r, f, m, stage;
	const char *segment;
} rfm_row;

typedef struct rfm_result {
	const custagg *a;
	const rfm_opts *o;
	int64_t asof_day;
	int no_asof;               /* no --asof and no event: asof unknown ("-") */
	int64_t recent_days;       /* length of --recent in days, 0 when none */
	uint32_t n;
	int64_t breaks[3][RFM_BINS_MAX];
	double mean[3];            /* mean recency, F, M (classic8) */
	stage_params stage_def;    /* the stage thresholds without --stage-rules */
	const char *seg[RFM_BINS_MAX][RFM_BINS_MAX][RFM_BINS_MAX];   /* segment of scores r, f, m
	                              (less 1) by the rules, found once each */
} rfm_result;

/* Derives every column, the breaks, scores, segments and stages. */
void rfm_compute(rfm_result *res, const custagg *a, const rfm_opts *o, int64_t asof_day,
                 int64_t recent_start_day);
/* Row i, in a->order order (by customer id). */
void rfm_row_get(const rfm_result *res, uint32_t i, rfm_row *r);

/* Breaks from data for one dimension (0 r, 1 f, 2 m) of n values (sorted
 * in place). */
void rfm_breaks_from_values(int64_t *v, uint32_t n, int dim, int bins, int64_t *out);
int rfm_score(int64_t v, int dim, int bins, const int64_t *b);
/* "r=30,90,180,365;f=2,3,5,8;m=20.00,50.00,100.00,inf" <-> breaks. Parse
 * accepts ';' or newlines between dimensions; each needs bins-1 non-
 * decreasing values. Returns 0, or -1 with err. */
int rfm_breaks_parse(const char *s, int bins, int64_t out[3][RFM_BINS_MAX], char *err, size_t n);
void rfm_breaks_format(int64_t b[3][RFM_BINS_MAX], int bins, char *buf, size_t n);

/* Output header: a customers stream derived from the input's. */
rtn_header *rfm_header(const rtn_header *in, const rfm_result *res, int argc, char **argv);
void rfm_write(rtn_writer *w, const rfm_result *res);
/* The health overview per segment and per stage, aligned text. */
void rfm_summary(FILE *f, const rfm_result *res);
/* --stats lines on stderr. */
void rfm_stats(FILE *f, const rfm_result *res);

#endif
