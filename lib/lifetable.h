/* Customer life table (survival by tenure), Kaplan-Meier with censoring.
 *
 * A customer's life starts on the start day. Activity days are the start
 * day and every later day with a returning event up to --asof. The customer
 * churns at the first gap between consecutive activity days longer than
 * --churn-after, or when the time from the last activity to --asof is
 * longer than that; the lifetime then ends at the last activity before the
 * gap. A customer still inside the window at --asof is censored at the
 * tenure reached on --asof. Tenure is counted in whole --period units
 * (calendar months for month and quarter).
 *
 * Per tenure period k: at_risk n_k = customers whose lifetime reaches k
 * (churned or censored at k or later), churned d_k, censored c_k,
 * hazard h_k = d_k / n_k, survival S_k = prod_{j<=k} (1 - h_j) (still a
 * customer at the end of period k), expected remaining lifetime
 * e_k = sum_{j>=k} (S_{j-1} + S_j) / 2 / S_{k-1} periods (S_{-1} = 1): the
 * actuarial expectation with churn mid-period, restricted to the observed
 * tenure, so it is a lower bound while survival has not reached 0. */
#ifndef RETAIN_LIFETABLE_H
#define RETAIN_LIFETABLE_H

#include <stdint.h>

#include "cohort.h"
#include "timeparse.h"

typedef struct life_row {
	int64_t period, at_risk, churned, censored;
	double hazard, survival, expected;
} life_row;

/* One customer: days[0..n) ascending activity days after the start day
 * (days before start_day or after asof_day are ignored). Sets *tenure and
 * returns 1 when churned, 0 when censored. */
int life_customer(int period, int64_t start_day, const int32_t *days, int64_t n, int64_t asof_day,
		  const duration *churn_after, int64_t *tenure);

/* Fills out[0..n) from the churned and censored counts per tenure period. */
void life_compute(int64_t n, const int64_t *churned, const int64_t *censored, life_row *out);

/* Writes the life table of t in o->format (stream, csv, tsv, jsonl, table,
 * svg: survival curve and hazard bars, html: both and the table). */
void life_output(const cohort_table *t, const cohort_out_opts *o);

#endif
