/* Audiences and campaigns (segment-export): which customers to contact,
 * through which channel with which offer, who stays in the control group,
 * and the health overview of a selection.
 *
 *   audience *a = aud_new(&opts, header);       // dies (exit 2) on bad options
 *   aud_fields(a, "customer,email,channel,group");
 *   aud_row row;
 *   while (rtn_read(r, &v) == RTN_RECORD)
 *       if (aud_judge(a, v, &row) == AUD_KEEP)
 *           aud_write_row(a, &out, v, &row);
 *
 * Rules (documented in segment-export(1)):
 * - Names of segments and stages match loosely: ASCII case is ignored,
 *   blanks, '-' and '_' are the same, apostrophes are ignored
 *   ("at-risk" = "At risk", "cant-lose-them" = "Can't lose them").
 * - Control group: a customer is in control when
 *   rtn_hash64(CAMPAIGN_ID "\t" CUSTOMER_ID) % 10000 < P x 100 (P in percent,
 *   two decimals), so the split is stable across reruns and machines and
 *   independent between campaigns.
 * - Expected recovered value (--contact-cost): erv = clv x p_alive (clv and
 *   p_alive from churnscore; --erv-value names another money column for
 *   clv). A null value or p_alive gives no erv, and the customer is not
 *   worth the contact. */
#ifndef RETAIN_CAMPAIGN_H
#define RETAIN_CAMPAIGN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "expr.h"
#include "stream.h"
#include "textout.h"

/* Loose name equality (see above). */
int aud_name_eq(const char *a, size_t an, const char *b, size_t bn);

/* Percent "10", "10%", "12.5%" in [0, 100] as hundredths of a percent
 * (0..10000); dies with exit 2 naming opt. */
int aud_parse_percent(const char *opt, const char *s);
/* 1 when customer id (n bytes) is in the control group of campaign_id
 * at bp hundredths of a percent. */
int aud_in_control(const char *campaign_id, const char *id, size_t n, int bp);

/* ---- campaign file ---- */
/* CSV with a header naming any of: segment, stage, channel (required),
 * offer, message. A row applies to a customer when its segment and stage
 * cells match (empty or "*" matches anything); the first such row wins. */
typedef struct camp_rule {
	char *segment, *stage, *channel, *offer, *message;
	uint64_t line;
} camp_rule;
typedef struct campaign {
	int n;
	camp_rule *rules;
} campaign;
campaign *campaign_load(const char *path);  /* dies with exit 2 and FILE:LINE */
const camp_rule *campaign_match(const campaign *c, const rtn_value *segment, const rtn_value *stage);
void campaign_free(campaign *c);

/* ---- suppression list ---- */
/* One id or e-mail address per line; blank lines and lines starting with
 * '#' are skipped; a first line "customer", "id" or "email" is a header.
 * E-mail addresses (with '@') match case-insensitively. */
typedef struct suppress suppress;
suppress *suppress_new(void);
void suppress_load(suppress *s, const char *path);  /* dies with exit 2 */
int suppress_has(const suppress *s, const char *p, size_t n);
size_t suppress_count(const suppress *s);
void suppress_free(suppress *s);

/* ---- the audience ---- */
enum aud_reason {
	AUD_KEEP = 0,
	AUD_FILTERED,    /* not selected by --segment, --stage, --where */
	AUD_SUPPRESSED,  /* on a suppression list */
	AUD_NORULE,      /* no campaign row for the segment/stage */
	AUD_BELOWCOST,   /* expected recovered value not above --contact-cost */
	AUD_GROUP,       /* other group than --group */
	AUD_TOP,         /* beyond --top N */
	AUD_NREASONS
};

typedef struct aud_opts {
	const char *segments;      /* comma-separated, may be NULL */
	const char *stages;
	const char *where;
	const char *campaign_path;
	const char *campaign_id;   /* default: campaign file name without folder and extension */
	int control_bp;            /* -1: no control group */
	int only_group;            /* 0 all, 1 treatment, 2 control */
	char **suppress;
	int nsuppress;
	int has_cost;
	double contact_cost;
	const char *value_col;     /* money column of the erv rule; NULL: clv */
} aud_opts;

enum aud_group { AUD_TREATMENT = 1, AUD_CONTROL = 2 };

typedef struct aud_row {
	int group;                /* 0 without --control */
	const camp_rule *rule;    /* NULL without --campaign */
	double erv;               /* NaN when unknown */
} aud_row;

/* A column of the output: a stream column or a computed one. */
enum aud_field_kind { F_COL = 1, F_GROUP, F_CAMPAIGN, F_CHANNEL, F_OFFER, F_MESSAGE, F_ERV };
typedef struct aud_field {
	int kind, col;
	const char *name;
} aud_field;

typedef struct audience {
	aud_opts o;
	const rtn_schema *schema;
	int c_customer, c_segment, c_stage, c_email, c_clv, c_palive;
	expr *where;
	campaign *camp;
	char *campaign_id;
	suppress *sup;
	aud_field *fields;
	int nfields;
	char **names;             /* strings owned by the audience (aud_intern) */
	size_t nnames, capnames;
	uint64_t read, kept, why[AUD_NREASONS], treatment, control;
} audience;

audience *aud_new(const aud_opts *o, const rtn_header *h);
void aud_free(audience *a);
/* Parses one field name (stream column or group, campaign, channel, offer,
 * message, erv); dies with exit 2 listing what exists. */
aud_field aud_field_parse(const audience *a, const char *name, const char *opt);
/* A copy of s[0..n) that lives as long as the audience (field names). */
const char *aud_intern(audience *a, const char *s, size_t n);
/* Sets the output columns from "a,b,c", or the default set when NULL. */
void aud_fields(audience *a, const char *list);
/* Decides one record; counts it; fills row for kept records. */
int aud_judge(audience *a, const rtn_value *v, aud_row *row);
/* Marks a kept record as dropped after all (e.g. beyond --top). */
void aud_undo_keep(audience *a, const aud_row *row, int reason);
void aud_write_header(const audience *a, txt_out *o);
void aud_write_row(const audience *a, txt_out *o, const rtn_value *v, const aud_row *row);
/* The field as plain text (no quoting) into buf; returns its length. */
size_t aud_field_text(const audience *a, const aud_field *f, const rtn_value *v, const aud_row *row, char *buf, size_t n);
/* Numeric sort key of a field (NaN for null or text). */
double aud_field_number(const audience *a, const aud_field *f, const rtn_value *v, const aud_row *row);
/* "read N, written N, filtered N, ..." on f. */
void aud_print_stats(const audience *a, FILE *f);

/* ---- held rows: --top, --by and --split-by ---- */
typedef struct aud_store aud_store;
aud_store *aud_store_new(const audience *a, int format, const aud_field *by, const aud_field *split);
void aud_store_add(aud_store *s, const rtn_value *v, const aud_row *row);
/* Sorts by the --by field (descending, nulls last, customer id breaking
 * ties) and keeps the first top rows (top < 0: all). */
void aud_store_finish(aud_store *s, audience *a, long long top);
/* Writes all rows to one output, or (dir != NULL) one file per value of
 * the split field: DIR/VALUE.EXT, each atomic and mode 0600. */
void aud_store_write(aud_store *s, const audience *a, const char *out_path, const char *dir);
void aud_store_free(aud_store *s);

/* ---- health overview (--summary) ---- */
typedef struct aud_summary aud_summary;
aud_summary *aud_summary_new(const audience *a, const aud_field *by, int nby);
void aud_summary_add(aud_summary *s, const rtn_value *v, const aud_row *row);
void aud_summary_write(aud_summary *s, txt_out *o);
void aud_summary_free(aud_summary *s);

#endif
