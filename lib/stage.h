/* Lifecycle stage of a customer from the own purchase rhythm, with
 * absolute fallbacks for one-time buyers and thresholds per group.
 *
 * One purchase day:    new while recency <= new, declining while
 *                      recency <= churn, then churned.
 * Two or more days:    g = max(mean gap between purchase days, min-gap);
 *                      churned   when recency > churn-factor * g,
 *                      declining when recency > decline-factor * g,
 *                      reactivated when the gap before the last purchase
 *                        day was longer than the churn limit at that time
 *                        (churn-factor * the earlier mean gap, or churn days
 *                        when the customer had bought on one day only),
 *                      new       when tenure <= new,
 *                      growing   when tenure < mature,
 *                      mature    otherwise. */
#ifndef RETAIN_STAGE_H
#define RETAIN_STAGE_H

#include <stddef.h>
#include <stdint.h>

enum stage {
	STAGE_NEW, STAGE_GROWING, STAGE_MATURE, STAGE_DECLINING, STAGE_CHURNED, STAGE_REACTIVATED,
	STAGE_N
};

typedef struct stage_params {
	double new_days;        /* 30 */
	double churn_days;      /* 180: one-time buyers */
	double mature_days;     /* 365 */
	double decline_factor;  /* 2 */
	double churn_factor;    /* 4 */
	double min_gap;         /* 7 days */
} stage_params;

/* Thresholds per value of one carried attribute ("by COLUMN"). */
typedef struct stage_rules {
	char *column;           /* NULL: defaults only */
	stage_params def;       /* "*" line, or the built-in defaults */
	int n;
	char **value;
	stage_params *p;
} stage_rules;

void stage_defaults(stage_params *p);
const char *stage_name(int stage);
/* ndays distinct purchase days; days are day numbers (prev_day = second
 * latest purchase day, unused when ndays < 2). */
int stage_of(const stage_params *p, int64_t ndays, int64_t first_day, int64_t prev_day,
             int64_t last_day, int64_t asof_day);

/* File:   # comment
 *         by channel
 *         *    new=30 churn=180 mature=365 decline-factor=2 churn-factor=4 min-gap=7
 *         ads  churn=120
 * Values not listed use the "*" line (itself based on the defaults); a
 * group line starts from the "*" line's values. Dies "FILE:LINE: reason". */
stage_rules *stage_rules_load(const char *path);
/* Parses "key=value ..." onto p; 0 or -1 with err. */
int stage_params_parse(const char *s, stage_params *p, char *err, size_t errlen);
const stage_params *stage_rules_for(const stage_rules *r, const char *value, size_t len);
void stage_rules_free(stage_rules *r);

#endif
