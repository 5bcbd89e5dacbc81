/* Cohort retention: acquisition cohorts, retention tables in three modes,
 * key-behaviour splits, and the input of the life table (lifetable.h).
 *
 * Shape (as every aggregating filter): a state (cohort_acc), a per-record
 * function (cohort_acc_add), and an end-of-stream step (cohort_acc_finish)
 * giving a cohort_table of additive counts. Partial tables from shards are
 * written with cohort_write_partial and added by cohort_combine_add; the
 * sum is the table of the whole data because every count is additive and
 * every customer lives in one shard. cohort_output then derives rates and
 * writes a stream, text, an aligned table, SVG or HTML.
 *
 * All calendar arithmetic is on local day numbers in the --tz zone: an
 * event's day is its local date, a customer's start day the local date of
 * the first --start event, and durations (--split-within, --churn-after,
 * --windows) count local days or calendar months from the start day. */
#ifndef RETAIN_COHORT_H
#define RETAIN_COHORT_H

#include <stdint.h>

#include "stream.h"
#include "svg.h"
#include "timeparse.h"
#include "tz.h"

enum cohort_period { CP_DAY = 0, CP_WEEK, CP_MONTH, CP_QUARTER };
enum cohort_mode { CM_DAY_N = 0, CM_WITHIN_N, CM_WINDOWS };
enum cohort_fmt { CF_STREAM = 0, CF_TABLE, CF_CSV, CF_TSV, CF_JSONL, CF_SVG, CF_HTML };
enum cohort_metric {
	CMET_RATE = 0, CMET_CHURN, CMET_CUSTOMERS, CMET_ORDERS, CMET_REVENUE,
	CMET_REV_PER_CUSTOMER, CMET_CUM_REV_PER_CUSTOMER
};

#define COHORT_MAX_TYPES 16
#define COHORT_MAX_WINDOWS 64

/* Analysis settings. They travel in the metadata of partial streams so that
 * --combine needs no options and refuses shards made with other settings. */
typedef struct cohort_spec {
	int life;                  /* 1: life table, 0: retention table */
	int period;                /* enum cohort_period */
	int week_start;            /* 0 = Monday .. 6 = Sunday */
	char tz_name[64];          /* "UTC" or the --tz argument */
	int has_asof;
	int64_t asof_day;          /* local day number, inclusive */
	char start[256];           /* --start types, comma separated */
	char ret[256];             /* --return types, comma separated */
	int mode;                  /* enum cohort_mode */
	int nwin;
	int32_t win_lo[COHORT_MAX_WINDOWS], win_hi[COHORT_MAX_WINDOWS];
	char by[RTN_NAME_MAX + 1]; /* attribute column, "" = none */
	char split_event[256];     /* "" = no split */
	duration split_within;
	duration churn_after;
	int64_t max_periods;       /* 0 = all */
} cohort_spec;

void cohort_spec_init(cohort_spec *s);
/* Option parsers: 0, or -1 with a message in err. */
int cohort_parse_period(const char *s, int *period);
int cohort_parse_mode(const char *s, int *mode);
int cohort_parse_windows(const char *s, cohort_spec *sp, char *err, size_t errlen);
int cohort_parse_format(const char *s, int *fmt);
int cohort_parse_metric(const char *s, int *metric);
/* Writes the settings as metadata lines / reads them back (-1 with a message
 * when a key is missing or malformed). */
void cohort_spec_to_meta(const cohort_spec *s, rtn_header *h);
int cohort_spec_from_meta(cohort_spec *s, const rtn_header *h, char *err, size_t errlen);

/* Calendar period index of a local day, and the first day of a period. */
int64_t cohort_period_of_day(int period, int week_start, int64_t day);
int64_t cohort_period_first_day(int period, int week_start, int64_t index);
/* Period label: "2023-03-06" (day, week: first day), "2023-03", "2023-Q1". */
void cohort_period_label(int period, int week_start, int64_t index, char buf[32]);
/* Whole tenure periods from day a to day b >= a (months count calendar
 * months with the day of month clamped, as duration_add). */
int64_t cohort_tenure(int period, int64_t a, int64_t b);
/* Last day covered by d counted from day a: for "30d" a + 29 (days
 * a .. a+29 are "within the first 30 days"); for "1mo" the day before the
 * same date next month. */
int64_t cohort_within_end(const duration *d, int64_t a);

/* ---- the table of additive counts ---- */
typedef struct cohort_cell {
	int64_t customers;     /* retained customers */
	int64_t orders;        /* returning events in the period */
	int64_t revenue;       /* money, net of refunds */
} cohort_cell;

typedef struct cohort_row {
	int64_t cohort;        /* period index of the cohort */
	int64_t size;          /* starting customers */
	int64_t ncell;
	cohort_cell *cell;
} cohort_row;

typedef struct cohort_panel {
	char *group;           /* --by value ("" without --by) */
	int split;             /* -1 none, 0 did not, 1 did (--split-event) */
	int64_t cmin;          /* cohort index of rows[0] */
	int64_t nrow;
	cohort_row *rows;      /* dense from cmin; size 0 = no such cohort */
	int64_t nlife;         /* life table: tenure periods 0..nlife-1 */
	int64_t *at_risk, *churned, *censored;
} cohort_panel;

typedef struct cohort_table {
	cohort_spec spec;
	tz_zone *tz;
	int64_t asof_period;   /* period index holding asof_day */
	int npanel, cappanel;
	cohort_panel *panels;  /* sorted by group bytes, then split */
} cohort_table;

/* Counts kept for --stats; read = used + ignored + rejected. */
typedef struct cohort_stats {
	uint64_t read, used, ignored, no_customer, no_time;
	uint64_t customers, no_start, after_asof_start, split_open, after_asof_events;
} cohort_stats;

typedef struct cohort_acc cohort_acc;
/* Finds the columns (dies naming the missing one); tz may be NULL (UTC). */
cohort_acc *cohort_acc_new(const cohort_spec *spec, tz_zone *tz, const rtn_schema *events,
			   const char *input_name);
/* Aggregates in a second thread while the caller reads (call before the
 * first event), where that pays: two or more processors and input from a
 * file. Piped input shares the processors with the program before it, and
 * there the second thread measured slower (ingest | cohort, 10M events, 20
 * paired runs: median 1.65 s with one thread, 1.94 s with two); from a file
 * it is 1.45 -> 1.05 s. RETAIN_THREADS=1: never; 2 or more: for pipes too.
 * The results are the same. */
void cohort_acc_threads(cohort_acc *a, int piped);
void cohort_acc_add(cohort_acc *a, const rtn_value *v);
/* Builds the table (fills spec.asof_day from the data when not given) and
 * frees the per-customer state. */
cohort_table *cohort_acc_finish(cohort_acc *a, cohort_stats *st);
void cohort_acc_free(cohort_acc *a);

/* An empty table to add partial streams into (spec from the first one). */
cohort_table *cohort_table_new(const cohort_spec *spec, tz_zone *tz);
void cohort_table_free(cohort_table *t);
/* Panel for (group, split), created when missing. */
cohort_panel *cohort_panel_get(cohort_table *t, const char *group, size_t glen, int split);
void cohort_table_sort(cohort_table *t);
cohort_row *cohort_row_get(cohort_panel *p, int64_t cohort);

/* Partial (additive) stream: header with RTN_FLAG_PARTIAL and the spec. */
rtn_header *cohort_partial_header(const cohort_table *t, int argc, char **argv,
				  const rtn_header *in);
void cohort_write_partial(const cohort_table *t, rtn_writer *w);
/* Adds the records of one partial stream (already opened) into t; dies with
 * exit 3 on malformed cells. */
void cohort_combine_add(cohort_table *t, rtn_reader *r, const char *name);

/* Output of the finished table in the chosen format. in: the input header
 * (provenance) or NULL. */
typedef struct cohort_out_opts {
	int format;            /* enum cohort_fmt */
	int metric;            /* enum cohort_metric: table, svg and html */
	int color;             /* table: ANSI background colours */
	int level;             /* stream compression level (-1 default) */
	const char *path;      /* -o or NULL */
	struct rtn_out *handle; /* path opened (and locked) before reading, or NULL */
	int argc;
	char **argv;
	const rtn_header *in;
} cohort_out_opts;
void cohort_output(const cohort_table *t, const cohort_out_opts *o);
/* The output: o->handle when the program opened it early, else opened now. */
struct rtn_out *cohort_out_open(const cohort_out_opts *o);

/* Derived values of one cell: what every output shows. */
typedef struct cohort_value {
	int state;             /* 0 future (not observable), 1 partial, 2 complete */
	int64_t size, customers, orders, revenue, rev_per_customer, cum_rev_per_customer;
	double rate, churn;
} cohort_value;
/* Number of columns (periods or windows) of the table. */
int64_t cohort_ncols(const cohort_table *t);
void cohort_value_of(const cohort_table *t, const cohort_row *r, int64_t col, int64_t *cum,
		     cohort_value *v);
/* Money amount / n rounded half away from zero. */
int64_t cohort_money_div(int64_t amount, int64_t n);

/* ---- shared by the retention and life-table writers ---- */

/* A table of text cells for the aligned text and HTML outputs: row 0 is
 * the header; shade is NaN (plain) or 0..1 (colour scale of svg.h). */
typedef struct cohort_gcell {
	char *text;
	double shade;
	int num;               /* right-aligned */
} cohort_gcell;
typedef struct cohort_grid {
	int ncol;
	size_t n, cap;         /* cells, row-major */
	cohort_gcell *c;
} cohort_grid;
void cohort_grid_add(cohort_grid *g, const char *text, double shade, int num);
void cohort_grid_text(const cohort_grid *g, svg_buf *out, int color);
void cohort_grid_html(const cohort_grid *g, svg_buf *out);
void cohort_grid_free(cohort_grid *g);
/* Complete HTML page: title, a paragraph of settings, the SVG as an image,
 * the grid as a table, and notes (may be NULL). */
void cohort_html_page(svg_buf *out, const char *title, const char *settings, const svg_buf *svg,
		      const cohort_grid *g, const char *notes);
/* One-line description of the settings ("month cohorts, day-n, ..."). */
void cohort_settings_text(const cohort_table *t, char *buf, size_t n);
/* Writes buf to o->path (atomically) or standard output; dies with exit 4. */
void cohort_write_text(const cohort_out_opts *o, const svg_buf *buf);
/* Output header with provenance copied from o->in, the spec as metadata. */
rtn_header *cohort_out_header(const cohort_table *t, const cohort_out_opts *o);

#endif
