/* RFM scores, segments, stages, the customers record and the summary:
 * see rfm.h. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"
#include "rfm.h"
#include "timeparse.h"
#include "util.h"

/* int64 values in order: the unsigned sort with the sign bit flipped
 * (scratch: n values, or NULL). */
static void sort_i64(int64_t *v, uint32_t n, uint64_t *scratch)
{
	uint64_t *a = (uint64_t *)v;
	for (uint32_t i = 0; i < n; i++)
		a[i] ^= 1ULL << 63;
	rtn_radix_sort_u64_buf(a, NULL, n, scratch, NULL);
	for (uint32_t i = 0; i < n; i++)
		a[i] ^= 1ULL << 63;
}

/* See the tie rule in rfm.h. dim 0 (recency) is better when lower. */
static void breaks_of(int64_t *s, uint32_t n, int dim, int bins, int64_t *out, uint64_t *scratch)
{
	for (int j = 0; j < bins - 1; j++)
		out[j] = RFM_INF;
	if (!n)
		return;
	sort_i64(s, n, scratch);
	int next = 0;   /* next break to place */
	for (uint32_t i = 0; i < n && next < bins - 1;) {
		uint32_t e = i;
		while (e < n && s[e] == s[i])
			e++;
		uint64_t worse = dim == 0 ? (uint64_t)(n - e) : i;
		int score = 1 + (int)((uint64_t)bins * worse / n);
		if (dim == 0) {
			/* b_j = the lowest recency whose score <= bins - j */
			while (next < bins - 1 && score <= bins - (next + 1))
				out[next++] = s[i];
		} else {
			/* b_j = the lowest value whose score >= j + 1 */
			while (next < bins - 1 && score >= next + 2)
				out[next++] = s[i];
		}
		i = e;
	}
}

void rfm_breaks_from_values(int64_t *v, uint32_t n, int dim, int bins, int64_t *out)
{
	breaks_of(v, n, dim, bins, out, NULL);
}

int rfm_score(int64_t v, int dim, int bins, const int64_t *b)
{
	int above = 0;
	for (int j = 0; j < bins - 1; j++)
		above += b[j] != RFM_INF && v >= b[j];
	return dim == 0 ? bins - above : 1 + above;
}

static const char DIMS[3] = {'r', 'f', 'm'};

void rfm_breaks_format(int64_t b[3][RFM_BINS_MAX], int bins, char *buf, size_t n)
{
	size_t len = 0;
	buf[0] = 0;
	for (int d = 0; d < 3; d++) {
		len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "%s%c=", d ? ";" : "", DIMS[d]);
		for (int j = 0; j < bins - 1; j++) {
			char t[32];
			if (b[d][j] == RFM_INF)
				strcpy(t, "inf");
			else if (d == 2)
				money_format(b[d][j], t);
			else
				snprintf(t, sizeof t, "%lld", (long long)b[d][j]);
			len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "%s%s", j ? "," : "", t);
		}
	}
}

int rfm_breaks_parse(const char *s, int bins, int64_t out[3][RFM_BINS_MAX], char *err, size_t n)
{
	int seen[3] = {0, 0, 0};
	const char *p = s;
	for (;;) {
		while (*p == ';' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p)
			break;
		const char *dp = strchr("rfm", *p);
		if (!*p || !dp || p[1] != '=') {
			snprintf(err, n, "expected r=, f= or m= at '%.20s'", p);
			return -1;
		}
		int d = (int)(dp - "rfm");
		if (seen[d]++) {
			snprintf(err, n, "%c= given twice", DIMS[d]);
			return -1;
		}
		p += 2;
		int j = 0;
		for (;;) {
			size_t w = strcspn(p, ",; \t\r\n");
			if (j >= bins - 1) {
				snprintf(err, n, "%c: more than %d breaks (bins %d)", DIMS[d], bins - 1, bins);
				return -1;
			}
			int64_t v;
			const char *why = NULL;
			if (w == 3 && memcmp(p, "inf", 3) == 0) {
				v = RFM_INF;
			} else if (d == 2) {
				if (money_parse(p, w, NULL, &v, &why) != MONEY_OK) {
					snprintf(err, n, "m: '%.*s' is not an amount%s%s", (int)(w > 30 ? 30 : w), p,
					         why ? ": " : "", why ? why : "");
					return -1;
				}
			} else {
				char *end;
				long long x = w ? strtoll(p, &end, 10) : 0;
				if (!w || end != p + w || x < 0 || x > INT64_MAX / 2) {
					snprintf(err, n, "%c: '%.*s' is not a whole number", DIMS[d],
					         (int)(w > 30 ? 30 : w), p);
					return -1;
				}
				v = x;
			}
			if (j && v < out[d][j - 1]) {
				snprintf(err, n, "%c: breaks must not decrease", DIMS[d]);
				return -1;
			}
			out[d][j++] = v;
			p += w;
			if (*p != ',')
				break;
			p++;
		}
		if (j != bins - 1) {
			snprintf(err, n, "%c: %d breaks, need %d for %d bins", DIMS[d], j, bins - 1, bins);
			return -1;
		}
	}
	for (int d = 0; d < 3; d++)
		if (!seen[d]) {
			snprintf(err, n, "no %c= breaks", DIMS[d]);
			return -1;
		}
	return 0;
}

static int64_t mdiv(int64_t total, int64_t count)
{
	int64_t q;
	if (money_div(total, count, &q) != MONEY_OK)
		rtn_die(RTN_EXIT_SYSTEM, "amount overflow");
	return q;
}

static const stage_params *stage_params_for(const rfm_result *res, uint32_t ci)
{
	const custagg *a = res->a;
	const rfm_opts *o = res->o;
	if (!o->stages)
		return &res->stage_def;
	if (o->stage_carry < 0)
		return &o->stages->def;
	const ca_carry *cc = &a->carry[(size_t)ci * a->o.ncarry + o->stage_carry];
	return stage_rules_for(o->stages, a->strings + cc->off, cc->len);
}

/* Row i (in a->order order) from its customer's totals, the breaks and
 * the means: computed when written, so that millions of rows are never
 * held at once. */
static void row_of(const rfm_result *res, uint32_t ci, const ca_cust *c, rfm_row *r)
{
	const rfm_opts *o = res->o;
	int64_t asof_day = res->asof_day;
	r->recency = asof_day - c->last_day;
	r->tenure = asof_day - c->first_day;
	r->F = c->win_orders;
	r->refunds = c->win_refunds;
	r->revenue = r->M = c->win_amount - c->win_refunds;
	r->aov = r->F ? mdiv(r->revenue, r->F) : RTN_NULL;
	r->mean_gap = c->ndays >= 2 ? (double)(c->last_day - c->first_day) / (double)(c->ndays - 1)
	                            : NAN;
	r->prior_rate = NAN;
	int64_t recent_start_day = asof_day + 1 - res->recent_days;
	if (res->recent_days && c->first_day < recent_start_day)
		r->prior_rate = (double)c->prior_orders / (double)(recent_start_day - c->first_day) *
		                (double)res->recent_days;
	r->x = c->ndays - 1;
	r->t_x = (double)(c->last_day - c->first_day) / o->unit_days;
	r->T = (double)(asof_day - c->first_day) / o->unit_days;
	r->mean_spend = r->x ? mdiv(c->purchase_amount - c->first_day_amount, r->x) : 0;
	r->stage = stage_of(stage_params_for(res, ci), c->ndays, c->first_day, c->prev_day,
	                    c->last_day, asof_day);
	r->r = rfm_score(r->recency, 0, o->bins, res->breaks[0]);
	r->f = rfm_score(r->F, 1, o->bins, res->breaks[1]);
	r->m = rfm_score(r->M, 2, o->bins, res->breaks[2]);
	if (o->seg_mode == SEG_CLASSIC8)
		r->segment = seg_classic8_name(
			seg_classic8_index((double)r->recency < res->mean[0], (double)r->F > res->mean[1],
			                   (double)r->M / MONEY_SCALE > res->mean[2] / MONEY_SCALE),
			o->zh);
	else
		r->segment = res->seg[r->r - 1][r->f - 1][r->m - 1];
}

void rfm_row_get(const rfm_result *res, uint32_t i, rfm_row *r)
{
	ca_cust c;
	ca_get_nth(res->a, i, &c);
	row_of(res, res->a->order[i], &c, r);
}

typedef struct breaks_job {
	int64_t *v;
	uint32_t n;
	int dim, bins;
	int64_t *out;
	uint64_t *scratch;   /* n values, or NULL */
} breaks_job;

static void *breaks_main(void *arg)
{
	breaks_job *j = arg;
	breaks_of(j->v, j->n, j->dim, j->bins, j->out, j->scratch);
	return NULL;
}

void rfm_compute(rfm_result *res, const custagg *a, const rfm_opts *o, int64_t asof_day,
                 int64_t recent_start_day)
{
	memset(res, 0, sizeof *res);
	res->a = a;
	res->o = o;
	res->asof_day = asof_day;
	stage_defaults(&res->stage_def);
	res->recent_days = recent_start_day == INT64_MIN ? 0 : asof_day + 1 - recent_start_day;
	if (o->seg_mode != SEG_CLASSIC8 && o->rules)
		for (int r = 1; r <= o->bins; r++)
			for (int f = 1; f <= o->bins; f++)
				for (int m = 1; m <= o->bins; m++)
					res->seg[r - 1][f - 1][m - 1] = seg_match(o->rules, r, f, m);
	uint32_t n = res->n = a->ncust_out;
	/* R, F and M of every customer (in the order of the records, which is
	 * the order of memory): the means, exact, and the breaks by quantile,
	 * M's in a second thread when there are many */
	breaks_job j[3];
	__extension__ __int128 sum[3] = {0, 0, 0};
	size_t spare_bytes, nv = n ? n : 1;   /* values an array */
	int64_t *spare = ca_spare(a, &spare_bytes);   /* values and sort scratch: 5 arrays */
	if (spare_bytes < 5 * nv * sizeof *spare)
		spare = NULL;
	for (int d = 0; d < 3; d++)
		j[d] = (breaks_job){spare ? spare + d * nv : xmalloc(nv * sizeof(int64_t)), n, d, o->bins,
		                    res->breaks[d], NULL};
	if (spare) {   /* dimension 2 may be sorted in a second thread, beside 0 and 1 */
		j[0].scratch = j[1].scratch = (uint64_t *)(spare + 3 * nv);
		j[2].scratch = (uint64_t *)(spare + 4 * nv);
	}
	uint32_t i = 0;
	for (uint32_t ci = 0; ci < a->ncust && i < n; ci++) {
		ca_cust c;
		ca_get(a, ci, &c);
		if (!c.ndays)
			continue;
		j[0].v[i] = asof_day - c.last_day;
		j[1].v[i] = c.win_orders;
		j[2].v[i] = c.win_amount - c.win_refunds;
		for (int d = 0; d < 3; d++)
			sum[d] += j[d].v[i];
		i++;
	}
	pthread_t th;
	int two = !o->have_breaks && n >= 65536 && rtn_threads_allowed() &&
	          rtn_thread_start(&th, breaks_main, &j[2], 0) == 0;
	for (int d = 0; d < 3; d++) {
		res->mean[d] = n ? (double)sum[d] / n : 0;
		if (o->have_breaks)
			memcpy(res->breaks[d], o->breaks[d], sizeof res->breaks[d]);
		else if (d < 2 || !two)
			breaks_main(&j[d]);
	}
	if (two)
		pthread_join(th, NULL);
	for (int d = 0; d < 3 && !spare; d++)
		free(j[d].v);
}

/* ---- the customers record ---- */

rtn_header *rfm_header(const rtn_header *in, const rfm_result *res, int argc, char **argv)
{
	const custagg *a = res->a;
	rtn_header *h = rtn_header_derive(in, RTN_KIND_CUSTOMERS, 0, NULL);
	h->flags = (in->flags & RTN_FLAG_SHARDED) | RTN_FLAG_SORTED;
	rtn_schema_free(&h->schema);
	rtn_schema *s = &h->schema;
	static const struct {
		const char *name;
		int type;
	} head[] = {{"customer", RTN_STRING}, {"first", RTN_TIME},       {"last", RTN_TIME},
	            {"orders", RTN_INT},      {"purchase_days", RTN_INT}, {"revenue", RTN_MONEY},
	            {"refunds", RTN_MONEY},   {"aov", RTN_MONEY},         {"recency", RTN_INT},
	            {"tenure", RTN_INT},      {"mean_gap", RTN_FLOAT}},
	  tail[] = {{"x", RTN_INT},      {"t_x", RTN_FLOAT},      {"T", RTN_FLOAT},
	            {"mean_spend", RTN_MONEY}, {"r", RTN_INT}, {"f", RTN_INT},
	            {"m", RTN_INT},      {"cell", RTN_STRING},    {"rfm_score", RTN_INT},
	            {"segment", RTN_STRING}, {"stage", RTN_STRING}};
	for (size_t i = 0; i < sizeof head / sizeof *head; i++)
		rtn_schema_add(s, head[i].name, head[i].type);
	for (int k = 0; k < a->o.ncarry; k++)
		if (rtn_schema_find(s, a->o.carry[k]) >= 0)
			rtn_die(RTN_EXIT_USAGE, "--carry %s: the customers record has that column already",
			        a->o.carry[k]);
		else
			rtn_schema_add(s, a->o.carry[k], RTN_STRING);
	rtn_schema_add(s, "last_refund", RTN_TIME);
	rtn_schema_add(s, "recent_purchases", RTN_INT);
	rtn_schema_add(s, "prior_rate", RTN_FLOAT);
	for (int k = 0; k < a->o.nevents; k++) {
		char name[RTN_NAME_MAX + 1];
		snprintf(name, sizeof name, "%s_count", a->o.events[k]);
		rtn_schema_add(s, name, RTN_INT);
		snprintf(name, sizeof name, "%s_last", a->o.events[k]);
		rtn_schema_add(s, name, RTN_TIME);
	}
	for (size_t i = 0; i < sizeof tail / sizeof *tail; i++)
		rtn_schema_add(s, tail[i].name, tail[i].type);
	char buf[1024];
	if (!res->no_asof) {
		time_format_day(res->asof_day, buf);
		rtn_header_set_meta(h, "asof", buf);
	}
	rtn_header_set_meta(h, "unit", res->o->unit_days == 7 ? "week" : "day");
	rfm_breaks_format((int64_t(*)[RFM_BINS_MAX])res->breaks, res->o->bins, buf, sizeof buf);
	rtn_header_set_meta(h, "breaks", buf);
	if (a->o.tz)
		rtn_header_set_meta(h, "tz", tz_name(a->o.tz));
	rtn_header_set_meta(h, "segments", res->o->segments_name);
	rtn_header_add_prov(h, argc, argv);
	return h;
}

/* Row i of the customers record (called from two threads at once). */
static void rfm_row_values(void *ctx, uint64_t i, rtn_value *v, char *scratch)
{
	const rfm_result *res = ctx;
	const custagg *a = res->a;
	uint32_t ci = a->order[i];
	ca_cust cust, *c = &cust;
	rfm_row row, *r = &row;
	ca_get_nth(a, (uint32_t)i, c);
	row_of(res, ci, c, r);
	int k = 0;
	v[k].s = c->name;
	v[k++].len = c->name_len;
	v[k++].i = c->first_t;
	v[k++].i = c->last_t;
	v[k++].i = r->F;
	v[k++].i = c->ndays;
	v[k++].i = r->revenue;
	v[k++].i = r->refunds;
	v[k++].i = r->aov;
	v[k++].i = r->recency;
	v[k++].i = r->tenure;
	v[k++].f = r->mean_gap;
	for (int j = 0; j < a->o.ncarry; j++) {
		const ca_carry *cc = &a->carry[(size_t)ci * a->o.ncarry + j];
		v[k].s = a->strings + cc->off;
		v[k++].len = cc->len;
	}
	v[k++].i = c->last_refund;
	v[k++].i = res->recent_days ? c->recent_orders : RTN_NULL;
	v[k++].f = r->prior_rate;
	for (int j = 0; j < a->o.nevents; j++) {
		const ca_typecount *tc = &a->types[(size_t)ci * a->o.nevents + j];
		v[k++].i = tc->count;
		v[k++].i = tc->last;
	}
	v[k++].i = r->x;
	v[k++].f = r->t_x;
	v[k++].f = r->T;
	v[k++].i = r->mean_spend;
	v[k++].i = r->r;
	v[k++].i = r->f;
	v[k++].i = r->m;
	scratch[0] = (char)('0' + r->r);
	scratch[1] = (char)('0' + r->f);
	scratch[2] = (char)('0' + r->m);
	v[k].s = scratch;
	v[k++].len = 3;
	v[k++].i = r->r + r->f + r->m;
	v[k].s = r->segment;
	v[k++].len = (uint32_t)strlen(r->segment);
	v[k].s = stage_name(r->stage);
	v[k].len = (uint32_t)strlen(v[k].s);
}

void rfm_write(rtn_writer *w, const rfm_result *res)
{
	rtn_write_rows(w, res->n, rfm_row_values, (void *)res);
}

/* ---- summary ---- */

/* Display width of UTF-8 text (East Asian wide characters count 2). */
static int text_width(const char *s)
{
	int w = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned cp = *p;
		int len = cp < 0x80 ? 1 : cp < 0xe0 ? 2 : cp < 0xf0 ? 3 : 4;
		if (len > 1) {
			cp &= 0x3fu >> (len - 1);
			for (int i = 1; i < len && p[i]; i++)
				cp = cp << 6 | (p[i] & 0x3f);
		}
		for (int i = 0; i < len && *p; i++)
			p++;
		w += (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
		             (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
		             (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6)
		         ? 2 : 1;
	}
	return w;
}

/* Money rounded to cents (half away from zero) for the summary table. */
static void format_cents(int64_t v, char buf[32])
{
	int64_t c = v / 100, r = v % 100;
	if (r >= 50)
		c++;
	else if (r <= -50)
		c--;
	money_format(c * 100, buf);
}

typedef struct sum_group {
	const char *label;
	uint64_t customers, repeat;
	int64_t revenue, orders;
	double r, f, m;
} sum_group;

static void summary_table(FILE *f, const char *title, sum_group *g, int ng, const rfm_result *res)
{
	sum_group tot = {"total", 0, 0, 0, 0, 0, 0, 0};
	int lw = (int)strlen(title);
	for (int i = 0; i < ng; i++) {
		tot.customers += g[i].customers;
		tot.repeat += g[i].repeat;
		tot.revenue += g[i].revenue;
		tot.orders += g[i].orders;
		tot.r += g[i].r;
		tot.f += g[i].f;
		tot.m += g[i].m;
		if (text_width(g[i].label) > lw)
			lw = text_width(g[i].label);
	}
	fprintf(f, "%s%*s %10s %7s %14s %7s %10s %7s %6s %6s %6s\n", title,
	        lw - text_width(title), "", "customers", "share", "revenue", "share", "aov", "repeat",
	        "mean_r", "mean_f", "mean_m");
	for (int i = 0; i <= ng; i++) {
		const sum_group *x = i < ng ? &g[i] : &tot;
		char rev[32], aov[32];
		format_cents(x->revenue, rev);
		if (x->orders)
			format_cents(mdiv(x->revenue, x->orders), aov);
		else
			strcpy(aov, "-");
		double n = (double)x->customers, share = tot.customers ? 100.0 * n / tot.customers : 0;
		double rshare = tot.revenue ? 100.0 * (double)x->revenue / (double)tot.revenue : 0;
		fprintf(f, "%s%*s %10llu %6.1f%% %14s %6.1f%% %10s ", x->label,
		        lw - text_width(x->label), "", (unsigned long long)x->customers, share, rev, rshare,
		        aov);
		if (x->customers)
			fprintf(f, "%6.1f%% %6.2f %6.2f %6.2f\n", 100.0 * (double)x->repeat / n, x->r / n,
			        x->f / n, x->m / n);
		else
			fprintf(f, "%7s %6s %6s %6s\n", "-", "-", "-", "-");
	}
	(void)res;
}

static void group_add(sum_group *g, const rfm_row *r)
{
	g->customers++;
	g->repeat += r->F >= 2;
	g->revenue += r->revenue;
	g->orders += r->F;
	g->r += r->r;
	g->f += r->f;
	g->m += r->m;
}

void rfm_summary(FILE *f, const rfm_result *res)
{
	const rfm_opts *o = res->o;
	int ng = 0;
	sum_group *g;
	if (o->seg_mode == SEG_CLASSIC8) {
		g = xcalloc(SEG_CLASSIC8_N, sizeof *g);
		for (int i = 0; i < SEG_CLASSIC8_N; i++)
			g[ng++].label = seg_classic8_name(i, o->zh);
	} else {
		g = xcalloc((size_t)o->rules->n + 1, sizeof *g);
		for (int i = 0; i < o->rules->n; i++)
			g[ng++].label = o->rules->rule[i].name;
		g[ng++].label = o->rules->other;
	}
	sum_group st[STAGE_N];
	memset(st, 0, sizeof st);
	for (int i = 0; i < STAGE_N; i++)
		st[i].label = stage_name(i);
	rfm_row row;
	for (uint32_t i = 0; i < res->n; i++) {
		rfm_row_get(res, i, &row);
		for (int k = 0; k < ng; k++)
			if (g[k].label == row.segment || strcmp(g[k].label, row.segment) == 0) {
				group_add(&g[k], &row);
				break;
			}
		group_add(&st[row.stage], &row);
	}
	char day[32] = "-";
	if (!res->no_asof)
		time_format_day(res->asof_day, day);
	fprintf(f, "customer health as of %s: %u customers\n\n", day, res->n);
	summary_table(f, "segment", g, ng, res);
	free(g);
	fputc('\n', f);
	summary_table(f, "stage", st, STAGE_N, res);
}

void rfm_stats(FILE *f, const rfm_result *res)
{
	const ca_stats *s = &res->a->st;
	char day[32] = "- (no events)", breaks[1024];
	if (!res->no_asof)
		time_format_day(res->asof_day, day);
	rfm_breaks_format((int64_t(*)[RFM_BINS_MAX])res->breaks, res->o->bins, breaks, sizeof breaks);
	fprintf(f,
	        "%s: events read: %llu = purchases %llu + refunds %llu + tracked (--events) %llu"
	        " + other types %llu + after asof %llu + without time %llu\n",
	        rtn_progname, (unsigned long long)s->read, (unsigned long long)s->purchases,
	        (unsigned long long)s->refunds, (unsigned long long)s->tracked,
	        (unsigned long long)s->other, (unsigned long long)s->after_asof,
	        (unsigned long long)s->no_time);
	fprintf(f, "%s: customers seen: %llu = written %u + without a purchase %llu\n", rtn_progname,
	        (unsigned long long)s->customers_seen, res->n,
	        (unsigned long long)s->customers_without_purchase);
	fprintf(f, "%s: asof: %s, unit: %s, bins: %d\n", rtn_progname, day,
	        res->o->unit_days == 7 ? "week" : "day", res->o->bins);
	fprintf(f, "%s: breaks: %s\n", rtn_progname, breaks);
}
