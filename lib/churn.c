/* Churn scoring and lifetime value: see churn.h and churnscore(1). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churn.h"
#include "timeparse.h"
#include "util.h"

#define DAY 86400
#define NEW_T 1e-9   /* T of a customer whose first purchase is on the asof day */

enum { OUT_PALIVE, OUT_RISK, OUT_EXP, OUT_SPEND, OUT_HIST, OUT_FUTURE, OUT_CLV, OUT_MODEL,
       OUT_REASONS, OUT_N };
static const struct {
	const char *name;
	int type;
} OUT_COLS[OUT_N] = {{"p_alive", RTN_FLOAT},     {"risk", RTN_STRING},
		     {"exp_purchases", RTN_FLOAT}, {"exp_spend", RTN_MONEY},
		     {"historic_value", RTN_MONEY}, {"future_value", RTN_MONEY},
		     {"clv", RTN_MONEY},           {"model", RTN_STRING},
		     {"reasons", RTN_STRING}};

/* Unique (x, t_x, T) rows with their weight and scores (computed once per
 * row), found through an open-addressing table that holds the key itself:
 * one cache line per lookup. */
typedef struct row {
	double x, tx, T, w;      /* key and weight (customers) */
	double pa, ey, disc;     /* scores */
	int64_t done;
} row;

typedef struct rslot {
	double x, tx, T;
	uint64_t ref;            /* row + 1, 0 = empty */
} rslot;

typedef struct rowtab {
	size_t n, cap, nslot;
	rslot *slot;
	row *r;
} rowtab;

/* Pass 1 looks rows up a few customers late, after prefetching their
 * slots (the table is far larger than the caches). */
#define PENDING 16
typedef struct pending {
	double x, tx, T;
	uint64_t h;
	size_t cust;             /* index in map */
} pending;

/* (x, mean spend) of the customers with repeat spend for Gamma-Gamma,
 * in input order; sorted and grouped at the fit. */
typedef struct spendtab {
	size_t n, cap;
	int64_t *x, *m;
} spendtab;

/* Customer ids (holdout): id -> index, purchase days per (index, day). */
typedef struct idtab {
	size_t n, cap, nslot, bytes, bcap;
	uint32_t *slot;
	char *buf;
	uint64_t *off;
	uint32_t *len;
	int64_t *count;          /* purchase days in the holdout */
	unsigned char *seen;     /* matched by a customer record */
	size_t dn, dslot;        /* day set */
	uint64_t *days;
} idtab;

typedef struct hgroup {
	double customers, actual, predicted, abserr;
} hgroup;

struct churn {
	churn_opts o;
	churn_rules *rules;
	int unit_days;
	int64_t asof_day, recent_start;
	/* input columns */
	int nin, c_cust, c_x, c_tx, c_T, c_spend, c_recency, c_gap, c_revenue, c_aov, c_refund,
	    c_recent, c_prior, c_group, c_neg[CHURN_MAX_NEG];
	/* output */
	int nout, out[OUT_N];
	/* fitting data and scores */
	rowtab rows;
	uint32_t *map;            /* pass 1: row of each customer, in input order */
	size_t nmap, capmap, mapi;
	pending pend[PENDING];
	size_t npend, pend0;
	spendtab spend;
	double customers, age0;
	int have_params;
	churn_params par;
	btyd_scorer sc;
	int sc_ready;
	double gg_mean;           /* population mean spend */
	double rule_disc;         /* rule model: discounted days of the horizon */
	int rule_disc_ok;
	/* counts */
	uint64_t scored, band[3], reason_n[5 + CHURN_MAX_NEG];
	int neg_counter[CHURN_MAX_NEG];   /* reason_n index of each negative type */
	int neg_clash;                    /* a type name the text cannot tell apart */
	rtn_value model_val;              /* the model column's value */
	char reasons[512];                /* the reasons column's text */
	/* holdout */
	int holdout;
	int64_t h_end_day;
	idtab ids;
	uint64_t h_events, h_purchases, h_before, h_after_end;
	hgroup hg[9];             /* x = 0..6, 7+, all */
};

/* ---------------------------------------------------------------- options */

void churn_opts_default(churn_opts *o)
{
	memset(o, 0, sizeof *o);
	o->model = CHURN_BGNBD;
	o->horizon_days = 364;
	o->band_high = 0.3;
	o->band_medium = 0.7;
	o->margin = 1;
	o->discount = 0.1;
	o->thr.overdue = 2;
	o->thr.churn_after = 180;
	o->thr.min_gap = 7;
	o->window_days = 30;
	o->falling = 0.5;
}

int churn_duration_days(const char *s, double *days, char *err, size_t errlen)
{
	duration d;
	if (duration_parse(s, &d, err, errlen) < 0)
		return -1;
	static const double per[] = {[DUR_HOURS] = 1.0 / 24, [DUR_DAYS] = 1, [DUR_WEEKS] = 7,
				     [DUR_MONTHS] = 365.25 / 12, [DUR_YEARS] = 365.25};
	*days = (double)d.count * per[d.unit];
	return 0;
}

/* ------------------------------------------------------------ thresholds */

static int thr_parse(const char *s, churn_thr *t, char *err, size_t n)
{
	char tok[128];
	while (*s) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (!*s)
			break;
		size_t k = strcspn(s, " \t\r");
		if (k >= sizeof tok) {
			snprintf(err, n, "'%.20s...' is too long", s);
			return -1;
		}
		memcpy(tok, s, k);
		tok[k] = 0;
		s += k;
		char *eq = strchr(tok, '=');
		if (!eq) {
			snprintf(err, n, "'%s' is not KEY=VALUE", tok);
			return -1;
		}
		*eq++ = 0;
		char e2[120];
		if (!strcmp(tok, "overdue")) {
			char *end;
			errno = 0;
			double v = strtod(eq, &end);
			if (end == eq || *end || errno || !(v > 0) || v > 1e6) {
				snprintf(err, n, "overdue=%s: want a number above 0", eq);
				return -1;
			}
			t->overdue = v;
		} else if (!strcmp(tok, "churn-after") || !strcmp(tok, "min-gap")) {
			double d;
			if (churn_duration_days(eq, &d, e2, sizeof e2) < 0) {
				snprintf(err, n, "%.20s=%.40s: %.100s", tok, eq, e2);
				return -1;
			}
			if (!(d > 0)) {
				snprintf(err, n, "%s=%s: must be longer than 0", tok, eq);
				return -1;
			}
			*(tok[0] == 'c' ? &t->churn_after : &t->min_gap) = d;
		} else {
			snprintf(err, n, "unknown key '%s' (overdue, churn-after, min-gap)", tok);
			return -1;
		}
	}
	return 0;
}

int churn_rules_parse(const char *text, const churn_thr *base, churn_rules *r, char *err,
		      size_t errlen)
{
	memset(r, 0, sizeof *r);
	r->def = *base;
	int lineno = 0, have_def = 0;
	char e[300];
	const char *p = text;
	while (*p) {
		size_t len = strcspn(p, "\n");
		char *line = xstrndup(p, len);
		p += len + (p[len] == '\n');
		lineno++;
		char *s = line;
		char *hash = strchr(s, '#');
		if (hash)
			*hash = 0;
		while (*s == ' ' || *s == '\t')
			s++;
		size_t k = strcspn(s, " \t\r");
		if (k == 0) {
			free(line);
			continue;
		}
		char *rest = s + k;
		if (*rest)
			*rest++ = 0;
		int rc = 0;
		if (!strcmp(s, "by")) {
			while (*rest == ' ' || *rest == '\t')
				rest++;
			size_t cl = strcspn(rest, " \t\r");
			if (r->column || cl == 0 || rest[cl + strspn(rest + cl, " \t\r")]) {
				snprintf(e, sizeof e, "%s", r->column ? "a second 'by' line"
								     : "want 'by COLUMN'");
				rc = -1;
			} else
				r->column = xstrndup(rest, cl);
		} else if (!strcmp(s, "*")) {
			if (have_def || r->n) {
				snprintf(e, sizeof e, "the '*' line must come once, before the groups");
				rc = -1;
			} else
				rc = thr_parse(rest, &r->def, e, sizeof e), have_def = 1;
		} else {
			if (!r->column) {
				snprintf(e, sizeof e, "group '%s' before a 'by COLUMN' line", s);
				rc = -1;
			}
			for (int i = 0; rc == 0 && i < r->n; i++)
				if (!strcmp(r->value[i], s)) {
					snprintf(e, sizeof e, "group '%s' listed twice", s);
					rc = -1;
				}
			if (rc == 0) {
				r->value = xrealloc(r->value, (size_t)(r->n + 1) * sizeof *r->value);
				r->thr = xrealloc(r->thr, (size_t)(r->n + 1) * sizeof *r->thr);
				r->value[r->n] = xstrdup(s);
				r->thr[r->n] = r->def;
				rc = thr_parse(rest, &r->thr[r->n], e, sizeof e);
				r->n++;
			}
		}
		free(line);
		if (rc < 0) {
			snprintf(err, errlen, "%d: %s", lineno, e);
			return -1;
		}
	}
	return 0;
}

static char *slurp(const char *path, size_t max)
{
	FILE *f = rtn_in_open(path);
	size_t cap = 0, len = 0, got;
	char *buf = NULL;
	do {
		xgrow((void **)&buf, &cap, len + 4097, 1);
		got = fread(buf + len, 1, 4096, f);
		len += got;
		if (len > max)
			rtn_die(RTN_EXIT_USAGE, "%s: larger than %zu bytes", rtn_in_name(path), max);
	} while (got);
	if (ferror(f))
		rtn_die(RTN_EXIT_USAGE, "%s: read error: %s", rtn_in_name(path), strerror(errno));
	if (f != stdin)
		fclose(f);
	buf[len] = 0;
	if (strlen(buf) != len)
		rtn_die(RTN_EXIT_USAGE, "%s: contains a NUL byte (not a text file)", rtn_in_name(path));
	return buf;
}

churn_rules *churn_rules_load(const char *path, const churn_thr *base)
{
	char *text = slurp(path, 1u << 20), err[400];
	churn_rules *r = xmalloc(sizeof *r);
	if (churn_rules_parse(text, base, r, err, sizeof err) < 0)
		rtn_die(RTN_EXIT_USAGE, "%s:%s", path, err);
	free(text);
	if (!r->column && r->n == 0 && !r->def.overdue)
		rtn_die(RTN_EXIT_USAGE, "%s: no thresholds", path);
	return r;
}

void churn_rules_free(churn_rules *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->n; i++)
		free(r->value[i]);
	free(r->value);
	free(r->thr);
	free(r->column);
	free(r);
}

/* ------------------------------------------------------ per customer */

double churn_rule_limit(const churn_thr *t, double mean_gap)
{
	if (isnan(mean_gap))
		return t->churn_after;
	return t->overdue * (mean_gap > t->min_gap ? mean_gap : t->min_gap);
}

double churn_rule_palive(const churn_thr *t, double recency, double mean_gap)
{
	double r = recency > 0 ? recency : 0;
	return exp2(-r / churn_rule_limit(t, mean_gap));
}

const char *churn_band(const churn_opts *o, double p)
{
	return p < o->band_high ? "high" : p < o->band_medium ? "medium" : "low";
}

/* Appends ",name" (or name) like snprintf would: the text is cut to fit n
 * bytes with its NUL, the length returned counts what did not fit. */
static size_t add_reason(char *buf, size_t n, size_t len, const char *name)
{
	size_t k = strlen(name), sep = len ? 1 : 0;
	if (len + sep + k < n) {
		if (sep)
			buf[len] = ',';
		memcpy(buf + len + sep, name, k + 1);
	} else if (len < n) {
		char tmp[2] = ",";
		size_t room = n - 1 - len, j = 0;
		for (; j < sep && j < room; j++)
			buf[len + j] = tmp[0];
		for (size_t q = 0; j < room; j++, q++)
			buf[len + j] = name[q];
		buf[len + j] = 0;
	}
	return len + sep + k;
}

/* churn_reasons, returning the whole length (also when cut to fit n) and
 * in *mask the reasons written: bit 0 overdue, 1 rate_falling,
 * 2 recent_refund, 3 low_p_alive, 4 + k negative type k. */
static size_t reasons_build(const churn_opts *o, const churn_thr *t, const churn_cust *c,
			    double p_alive, int64_t recent_start, char *buf, size_t n, unsigned *mask)
{
	size_t len = 0;
	unsigned m = 0;
	buf[0] = 0;
	if (c->recency > churn_rule_limit(t, c->mean_gap))
		len = add_reason(buf, n, len, "overdue"), m |= 1;
	if (c->recent != RTN_NULL && !isnan(c->prior_rate) && c->prior_rate >= 1
	    && (double)c->recent < o->falling * c->prior_rate)
		len = add_reason(buf, n, len, "rate_falling"), m |= 2;
	if (c->last_refund != RTN_NULL && c->last_refund >= recent_start)
		len = add_reason(buf, n, len, "recent_refund"), m |= 4;
	for (int k = 0; k < c->nneg && k < o->nneg; k++)
		if (c->neg_last[k] != RTN_NULL && c->neg_last[k] >= recent_start)
			len = add_reason(buf, n, len, o->neg[k]), m |= 16u << k;
	if (p_alive < o->band_high)
		len = add_reason(buf, n, len, "low_p_alive"), m |= 8;
	*mask = m;
	return len;
}

size_t churn_reasons(const churn_opts *o, const churn_thr *t, const churn_cust *c, double p_alive,
		     int64_t recent_start, char *buf, size_t n)
{
	unsigned mask;
	size_t len = reasons_build(o, t, c, p_alive, recent_start, buf, n, &mask);
	return len < n ? len : n - 1;
}

/* ------------------------------------------------------------- tables */

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

static uint64_t dbits(double v)
{
	uint64_t u;
	v = v == 0 ? 0 : v;   /* -0 -> 0 */
	memcpy(&u, &v, sizeof u);
	return u;
}

static uint64_t row_hash(double x, double tx, double T)
{
	return mix(dbits(x) * 0x9e3779b97f4a7c15ULL ^ dbits(tx) * 0xc2b2ae3d27d4eb4fULL ^ dbits(T));
}

static void rows_grow(rowtab *t)
{
	size_t cap = t->cap ? 2 * t->cap : 1024;
	t->r = xrealloc(t->r, cap * sizeof *t->r);
	t->cap = cap;
	free(t->slot);
	t->nslot = 2 * cap;
	t->slot = xcalloc(t->nslot, sizeof *t->slot);
	for (size_t i = 0; i < t->n; i++) {
		size_t s = row_hash(t->r[i].x, t->r[i].tx, t->r[i].T) & (t->nslot - 1);
		while (t->slot[s].ref)
			s = (s + 1) & (t->nslot - 1);
		t->slot[s] = (rslot){t->r[i].x, t->r[i].tx, t->r[i].T, i + 1};
	}
}

/* Row of (x, tx, T) whose row_hash is h; a new row (weight 0) if absent. */
static size_t rows_find_h(rowtab *t, double x, double tx, double T, uint64_t h)
{
	if (t->n + 1 > t->cap)
		rows_grow(t);
	size_t s = h & (t->nslot - 1);
	for (;;) {
		const rslot *e = &t->slot[s];
		if (!e->ref)
			break;
		if (e->x == x && e->tx == tx && e->T == T)
			return (size_t)e->ref - 1;
		s = (s + 1) & (t->nslot - 1);
	}
	size_t i = t->n++;
	if (i >= UINT32_MAX - 1)
		rtn_die(RTN_EXIT_SYSTEM, "more than 4 billion distinct (x, t_x, T) rows");
	t->slot[s] = (rslot){x, tx, T, i + 1};
	t->r[i] = (row){.x = x, .tx = tx, .T = T};
	return i;
}

static size_t rows_find(rowtab *t, double x, double tx, double T)
{
	return rows_find_h(t, x, tx, T, row_hash(x, tx, T));
}

static void spend_add(spendtab *t, int64_t x, int64_t m)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 4096;
		t->x = xrealloc(t->x, cap * sizeof *t->x);
		t->m = xrealloc(t->m, cap * sizeof *t->m);
		t->cap = cap;
	}
	t->x[t->n] = x;
	t->m[t->n++] = m;
}

/* Index of a customer id in the holdout table; inserts when add. */
static size_t ids_find(idtab *t, const char *s, uint32_t len, int add)
{
	if (add && t->n + 1 > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1024;
		t->off = xrealloc(t->off, cap * sizeof *t->off);
		t->len = xrealloc(t->len, cap * sizeof *t->len);
		t->count = xrealloc(t->count, cap * sizeof *t->count);
		t->seen = xrealloc(t->seen, cap);
		t->cap = cap;
		free(t->slot);
		t->nslot = 4 * cap;
		t->slot = xcalloc(t->nslot, sizeof *t->slot);
		for (size_t i = 0; i < t->n; i++) {
			size_t h = rtn_hash64(t->buf + t->off[i], t->len[i]) & (t->nslot - 1);
			while (t->slot[h])
				h = (h + 1) & (t->nslot - 1);
			t->slot[h] = (uint32_t)i + 1;
		}
	}
	if (!t->nslot)
		return SIZE_MAX;
	size_t h = rtn_hash64(s, len) & (t->nslot - 1);
	for (;;) {
		uint32_t k = t->slot[h];
		if (!k)
			break;
		if (t->len[k - 1] == len && memcmp(t->buf + t->off[k - 1], s, len) == 0)
			return k - 1;
		h = (h + 1) & (t->nslot - 1);
	}
	if (!add)
		return SIZE_MAX;
	xgrow((void **)&t->buf, &t->bcap, t->bytes + len + 1, 1);
	memcpy(t->buf + t->bytes, s, len);
	size_t i = t->n++;
	t->off[i] = t->bytes;
	t->len[i] = len;
	t->count[i] = 0;
	t->seen[i] = 0;
	t->bytes += len;
	t->slot[h] = (uint32_t)i + 1;
	return i;
}

/* Adds (customer, day) to the day set; 1 when it was new. */
static int days_add(idtab *t, uint64_t key)
{
	if (2 * (t->dn + 1) > t->dslot) {
		size_t ns = t->dslot ? 2 * t->dslot : 4096;
		uint64_t *nd = xcalloc(ns, sizeof *nd);
		for (size_t i = 0; i < t->dslot; i++)
			if (t->days[i]) {
				size_t s = mix(t->days[i]) & (ns - 1);
				while (nd[s])
					s = (s + 1) & (ns - 1);
				nd[s] = t->days[i];
			}
		free(t->days);
		t->days = nd;
		t->dslot = ns;
	}
	size_t s = mix(key) & (t->dslot - 1);
	while (t->days[s]) {
		if (t->days[s] == key)
			return 0;
		s = (s + 1) & (t->dslot - 1);
	}
	t->days[s] = key;
	t->dn++;
	return 1;
}

/* ------------------------------------------------------------ state */

churn *churn_new(const churn_opts *o)
{
	churn *c = xcalloc(1, sizeof *c);
	c->o = *o;
	c->c_group = -1;
	/* a negative type counts where the reasons text would say: a fixed
	 * reason of that name, else the last type of that name */
	static const char *const fixed[] = {"overdue", "rate_falling", "recent_refund", "low_p_alive"};
	for (int k = 0; k < o->nneg; k++) {
		c->neg_counter[k] = -1;
		if (!o->neg[k][0] || strchr(o->neg[k], ','))
			c->neg_clash = 1;
		for (int f = 0; f < 4 && c->neg_counter[k] < 0; f++)
			if (!strcmp(o->neg[k], fixed[f]))
				c->neg_counter[k] = f;
		if (c->neg_counter[k] < 0) {
			int last = k;
			for (int j = 0; j < o->nneg; j++)
				if (!strcmp(o->neg[k], o->neg[j]))
					last = j;
			c->neg_counter[k] = 4 + last;
		}
	}
	if (o->rules_path)
		c->rules = churn_rules_load(o->rules_path, &o->thr);
	return c;
}

static void rows_free(rowtab *t)
{
	free(t->slot);
	free(t->r);
}

void churn_free(churn *c)
{
	if (!c)
		return;
	rows_free(&c->rows);
	free(c->map);
	free(c->spend.x);
	free(c->spend.m);
	free(c->ids.slot);
	free(c->ids.buf);
	free(c->ids.off);
	free(c->ids.len);
	free(c->ids.count);
	free(c->ids.seen);
	free(c->ids.days);
	if (c->sc_ready)
		btyd_scorer_free(&c->sc);
	churn_rules_free(c->rules);
	free(c);
}

int churn_unit_days(const churn *c)
{
	return c->unit_days;
}

int churn_needs_fit(const churn *c)
{
	return c->o.model != CHURN_RULE && !c->have_params;
}

const churn_params *churn_get_params(const churn *c)
{
	return c->have_params ? &c->par : NULL;
}

static int opt_col(const rtn_schema *s, const char *name, int type, const char *what)
{
	int k = rtn_schema_find(s, name);
	if (k >= 0 && s->cols[k].type != type)
		rtn_die(RTN_EXIT_USAGE, "%s: column '%s' is %s, want %s", what, name,
			rtn_type_name(s->cols[k].type), rtn_type_name(type));
	return k;
}

void churn_bind(churn *c, const rtn_header *h, const char *what)
{
	const rtn_schema *s = &h->schema;
	if (h->kind != RTN_KIND_CUSTOMERS)
		rtn_die(RTN_EXIT_USAGE, "%s: %s %s stream, want customers records%s", what,
			strchr("aeiou", rtn_kind_name(h->kind)[0]) ? "an" : "a", rtn_kind_name(h->kind),
			h->kind == RTN_KIND_EVENTS ? " (did you forget rfm?)" : " (from rfm)");
	c->nin = s->n;
	c->c_cust = rtn_schema_need(s, "customer", RTN_STRING, what);
	c->c_x = rtn_schema_need(s, "x", RTN_INT, what);
	c->c_tx = rtn_schema_need(s, "t_x", RTN_FLOAT, what);
	c->c_T = rtn_schema_need(s, "T", RTN_FLOAT, what);
	c->c_spend = rtn_schema_need(s, "mean_spend", RTN_MONEY, what);
	c->c_recency = rtn_schema_need(s, "recency", RTN_INT, what);
	c->c_gap = rtn_schema_need(s, "mean_gap", RTN_FLOAT, what);
	c->c_revenue = rtn_schema_need(s, "revenue", RTN_MONEY, what);
	c->c_aov = rtn_schema_need(s, "aov", RTN_MONEY, what);
	c->c_refund = opt_col(s, "last_refund", RTN_TIME, what);
	c->c_recent = opt_col(s, "recent_purchases", RTN_INT, what);
	c->c_prior = opt_col(s, "prior_rate", RTN_FLOAT, what);
	for (int k = 0; k < c->o.nneg; k++) {
		char name[RTN_NAME_MAX + 1];
		snprintf(name, sizeof name, "%s_last", c->o.neg[k]);
		if ((c->c_neg[k] = opt_col(s, name, RTN_TIME, what)) < 0)
			rtn_die(RTN_EXIT_USAGE, "--negative %s: %s has no column '%s' (run rfm --events %s)",
				c->o.neg[k], what, name, c->o.neg[k]);
	}
	if (c->rules && c->rules->column &&
	    (c->c_group = opt_col(s, c->rules->column, RTN_STRING, what)) < 0)
		rtn_die(RTN_EXIT_USAGE, "--thresholds: %s has no column '%s' (run rfm --carry %s)", what,
			c->rules->column, c->rules->column);
	const char *unit = rtn_header_get_meta(h, "unit"), *asof = rtn_header_get_meta(h, "asof");
	if (!unit || (strcmp(unit, "week") && strcmp(unit, "day")))
		rtn_die(RTN_EXIT_USAGE, "%s: no unit=week|day in the header (is it rfm's output?)", what);
	c->unit_days = unit[0] == 'w' ? 7 : 1;
	char err[200];
	if (!asof || time_parse_date(asof, &c->asof_day, err, sizeof err) != TIME_OK)
		rtn_die(RTN_EXIT_USAGE, "%s: no valid asof=DATE in the header (is it rfm's output?)", what);
	c->recent_start = (c->asof_day + 1) * DAY - (int64_t)llround(c->o.window_days * DAY);
}

static double fval(const rtn_value *v)
{
	return v->f;
}

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* Looks up the oldest pending customer's row. */
static void pending_pop(churn *c)
{
	pending *q = &c->pend[c->pend0];
	c->map[q->cust] = (uint32_t)rows_find_h(&c->rows, q->x, q->tx, q->T, q->h);
	c->pend0 = (c->pend0 + 1) % PENDING;
	c->npend--;
}

static void pending_flush(churn *c)
{
	while (c->npend)
		pending_pop(c);
}

void churn_collect(churn *c, const rtn_value *v)
{
	double x = (double)v[c->c_x].i, tx = fval(&v[c->c_tx]), T = fval(&v[c->c_T]);
	if (v[c->c_x].i == RTN_NULL || !(x >= 0) || !(tx >= 0) || !(T >= tx) || !isfinite(T))
		rtn_die(RTN_EXIT_CORRUPT, "customer %.*s: x, t_x, T out of range (%g, %g, %g)",
			(int)v[c->c_cust].len, v[c->c_cust].s, x, tx, T);
	c->customers++;
	if (c->nmap == c->capmap)
		xgrow((void **)&c->map, &c->capmap, c->nmap + 1, sizeof *c->map);
	size_t k = c->nmap++;
	c->map[k] = UINT32_MAX;
	if (T > 0) {
		if (c->npend == PENDING)
			pending_pop(c);
		if (c->rows.n + PENDING + 1 > c->rows.cap)
			pending_flush(c), rows_grow(&c->rows);
		uint64_t h = row_hash(x, tx, T);
		PREFETCH(&c->rows.slot[h & (c->rows.nslot - 1)]);
		c->pend[(c->pend0 + c->npend++) % PENDING] = (pending){x, tx, T, h, k};
	}
	else
		c->age0++;
	int64_t m = v[c->c_spend].i;
	if (x > 0 && m != RTN_NULL && m > 0)
		spend_add(&c->spend, v[c->c_x].i, m);
	else
		c->par.spend_skipped++;
}

static void fit_fail(const char *what, int rc, const btyd_fit *f)
{
	const double *p = f->model.par;
	rtn_die(RTN_EXIT_CHECK, "%s fit failed: %s%s%s (last parameters %.4g %.4g %.4g %.4g)", what,
		btyd_strerror(rc), f->msg[0] ? ": " : "", f->msg, p[0], p[1], p[2], p[3]);
}

static void spend_ready(churn *c)
{
	const btyd_model *g = &c->par.spend.model;
	if (!(g->par[1] > 1))
		rtn_die(RTN_EXIT_CHECK,
			"Gamma-Gamma q = %.4g <= 1: the fitted spend distribution has no finite mean, "
			"so expected spend is undefined (a few huge orders or wrong amounts? check the "
			"largest mean_spend values, or score with --params from a sounder period)",
			g->par[1]);
	if (btyd_gg_cond_spend(g, 0, 0, &c->gg_mean) != BTYD_OK || !isfinite(c->gg_mean))
		rtn_die(RTN_EXIT_CHECK, "Gamma-Gamma: population mean spend is not finite");
}

typedef struct spendrow {
	int64_t x, m;
	double w;
} spendrow;

static int spendrow_cmp(const void *pa, const void *pb)
{
	const spendrow *a = pa, *b = pb;
	if (a->x != b->x)
		return a->x < b->x ? -1 : 1;
	return a->m < b->m ? -1 : a->m > b->m;
}

/* Sorts the spend pairs by (x, m) and groups equal ones: as one integer
 * key when both fit, else qsort. */
static spendrow *spend_sorted(const spendtab *t, size_t *n_out)
{
	size_t n = t->n, m = 0;
	spendrow *sr = xmalloc((n ? n : 1) * sizeof *sr);
	int fast = 1;
	for (size_t i = 0; fast && i < n; i++)
		fast = t->x[i] < (1 << 19) && t->m[i] < ((int64_t)1 << 44);
	if (fast) {
		uint64_t *key = xmalloc((n ? n : 1) * sizeof *key);
		for (size_t i = 0; i < n; i++)
			key[i] = (uint64_t)t->x[i] << 44 | (uint64_t)t->m[i];
		rtn_radix_sort_u64(key, NULL, n);
		for (size_t i = 0; i < n; i++) {
			if (m > 0 && key[i] == key[i - 1])
				sr[m - 1].w += 1;
			else
				sr[m++] = (spendrow){(int64_t)(key[i] >> 44),
						     (int64_t)(key[i] & (((uint64_t)1 << 44) - 1)), 1};
		}
		free(key);
	} else {
		for (size_t i = 0; i < n; i++)
			sr[i] = (spendrow){t->x[i], t->m[i], 1};
		qsort(sr, n, sizeof *sr, spendrow_cmp);
		for (size_t i = 0; i < n; i++) {
			if (m > 0 && sr[i].x == sr[m - 1].x && sr[i].m == sr[m - 1].m)
				sr[m - 1].w += 1;
			else
				sr[m++] = sr[i];
		}
	}
	*n_out = m;
	return sr;
}

void churn_fit(churn *c)
{
	pending_flush(c);
	for (size_t i = 0; i < c->rows.n; i++)
		c->rows.r[i].w = 0;
	for (size_t k = 0; k < c->nmap; k++)
		if (c->map[k] != UINT32_MAX)
			c->rows.r[c->map[k]].w += 1;
	if (c->customers == 0)
		return;   /* nothing to fit, nothing to score: an empty stream out */
	if (c->rows.n == 0)
		rtn_die(RTN_EXIT_CHECK, "no customers with an age above 0 to fit the %s model",
			btyd_model_name(c->o.model));
	btyd_data d;
	size_t bad = 0;
	/* group=1 sorts the unique rows by x: the likelihood computes the
	 * per-x terms (lgamma, digamma) once per run of equal x */
	size_t nr = c->rows.n;
	double *col = xmalloc(4 * nr * sizeof *col);
	for (size_t i = 0; i < nr; i++) {
		col[i] = c->rows.r[i].x;
		col[nr + i] = c->rows.r[i].tx;
		col[2 * nr + i] = c->rows.r[i].T;
		col[3 * nr + i] = c->rows.r[i].w;
	}
	int rc = btyd_prepare(col, col + nr, col + 2 * nr, col + 3 * nr, nr, 1, &d, &bad);
	free(col);
	if (rc != BTYD_OK)
		rtn_die(RTN_EXIT_CHECK, "fitting data: %s (x=%g t_x=%g T=%g)", btyd_strerror(rc),
			c->rows.r[bad].x, c->rows.r[bad].tx, c->rows.r[bad].T);
	c->par.model = c->o.model;
	c->par.unit_days = c->unit_days;
	c->par.customers = c->customers;
	c->par.rows = (double)c->rows.n;
	rc = btyd_fit_model(c->o.model, &d, NULL, &c->par.fit);
	btyd_data_free(&d);
	if (rc != BTYD_OK || !c->par.fit.converged)
		fit_fail(c->o.model == CHURN_BGNBD ? "BG/NBD" : "Pareto/NBD", rc ? rc : BTYD_ENOCONV,
			 &c->par.fit);
	/* Gamma-Gamma on the grouped (x, mean spend) */
	btyd_spend sp = {0};
	/* sorted by x: the likelihood computes the per-x terms once per run */
	spendrow *sr = spend_sorted(&c->spend, &sp.n);
	if (sp.n == 0)
		rtn_die(RTN_EXIT_CHECK, "Gamma-Gamma: no customer with repeat purchases and a positive "
					"mean spend to fit the spend model");
	sp.x = xmalloc(sp.n * sizeof(double));
	sp.m = xmalloc(sp.n * sizeof(double));
	sp.w = xmalloc(sp.n * sizeof(double));
	for (size_t i = 0; i < sp.n; i++) {
		sp.x[i] = (double)sr[i].x;
		sp.m[i] = (double)sr[i].m / RTN_MONEY_SCALE;
		sp.w[i] = sr[i].w;
		sp.wsum += sp.w[i];
	}
	free(sr);
	c->par.spend_customers = sp.wsum;
	rc = btyd_fit_gg(&sp, NULL, &c->par.spend);
	btyd_spend_free(&sp);
	if (rc == BTYD_EINFSPEND && c->par.spend.model.par[1] > 0)
		rc = BTYD_OK, c->par.spend.converged = 1;   /* reported by spend_ready */
	if (rc != BTYD_OK || !c->par.spend.converged) {
		const double *g = c->par.spend.model.par;
		if (isfinite(g[1]) && g[1] > 0 && g[1] < 1.2)
			rtn_die(RTN_EXIT_CHECK,
				"Gamma-Gamma fit failed (%s) with q = %.4g, near 1: at q <= 1 the spend "
				"distribution has no finite mean and expected spend is undefined (a few huge "
				"orders or wrong amounts? check the largest mean_spend values, or score with "
				"--params from a sounder period)",
				btyd_strerror(rc ? rc : BTYD_ENOCONV), g[1]);
		fit_fail("Gamma-Gamma", rc ? rc : BTYD_ENOCONV, &c->par.spend);
	}
	spend_ready(c);
	c->have_params = 1;
}

void churn_use_params(churn *c, const churn_params *p, const char *path)
{
	if (p->unit_days != c->unit_days)
		rtn_die(RTN_EXIT_USAGE, "%s: parameters are per %s but the customers records are in %ss "
					"(rfm --unit)", path, p->unit_days == 7 ? "week" : "day",
			c->unit_days == 7 ? "week" : "day");
	if (c->o.model == CHURN_RULE)
		rtn_die(RTN_EXIT_USAGE, "--params needs a fitted model, not --model rule");
	c->par = *p;
	c->o.model = p->model;
	spend_ready(c);
	c->have_params = 1;
}

/* --------------------------------------------------------- parameters */

static int put(FILE *f, const char *name, double v, const double *se)
{
	if (se)
		return fprintf(f, "%-16s %.17g se %.6g\n", name, v, *se) < 0 ? -1 : 0;
	return fprintf(f, "%-16s %.17g\n", name, v) < 0 ? -1 : 0;
}

int churn_params_write(FILE *f, const churn_params *p)
{
	int rc = 0;
	const btyd_fit *m = &p->fit, *g = &p->spend;
	rc |= fprintf(f, "# churnscore parameters (retain %s): read with churnscore --params FILE\n"
			 "# alpha and beta are per %s; se = standard error%s\n",
		      RETAIN_VERSION, p->unit_days == 7 ? "week" : "day",
		      m->se_ok ? "" : " (not available: information matrix not positive definite)") < 0;
	rc |= fprintf(f, "model            %s\nunit             %s\n", btyd_model_name(p->model),
		      p->unit_days == 7 ? "week" : "day") < 0;
	rc |= put(f, "customers", p->customers, NULL);
	rc |= put(f, "rows", p->rows, NULL);
	for (int i = 0; i < 4; i++)
		rc |= put(f, btyd_par_name(p->model, i), m->model.par[i], m->se_ok ? &m->se[i] : NULL);
	rc |= put(f, "loglik", m->ll, NULL);
	rc |= put(f, "iterations", m->iterations, NULL);
	rc |= put(f, "gradient", m->gmax, NULL);
	rc |= fprintf(f, "spend            gamma-gamma\n") < 0;
	rc |= put(f, "spend_customers", p->spend_customers, NULL);
	rc |= put(f, "spend_skipped", p->spend_skipped, NULL);
	for (int i = 0; i < 3; i++)
		rc |= put(f, btyd_par_name(BTYD_GG, i), g->model.par[i], g->se_ok ? &g->se[i] : NULL);
	rc |= put(f, "spend_loglik", g->ll, NULL);
	rc |= put(f, "spend_iterations", g->iterations, NULL);
	return rc ? -1 : 0;
}

int churn_params_parse(const char *text, churn_params *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	int lineno = 0, have = 0, model_line = 0;
	const char *s = text;
	char line[512];
	while (*s) {
		size_t len = strcspn(s, "\n");
		lineno++;
		if (len >= sizeof line) {
			snprintf(err, errlen, "%d: line too long", lineno);
			return -1;
		}
		memcpy(line, s, len);
		line[len] = 0;
		s += len + (s[len] == '\n');
		char key[64], val[128], sek[8], sev[64];
		int n = sscanf(line, " %63s %127s %7s %63s", key, val, sek, sev);
		if (n <= 0 || key[0] == '#')
			continue;
		if (n == 1 || n == 3 || (n == 4 && strcmp(sek, "se"))) {
			snprintf(err, errlen, "%d: want 'NAME VALUE [se VALUE]'", lineno);
			return -1;
		}
		if (!strcmp(key, "model")) {
			p->model = !strcmp(val, "bgnbd") ? CHURN_BGNBD : !strcmp(val, "pnbd") ? CHURN_PNBD : 0;
			if (!p->model) {
				snprintf(err, errlen, "%d: model '%s' is not bgnbd or pnbd", lineno, val);
				return -1;
			}
			p->fit.model.kind = p->model;
			p->spend.model.kind = BTYD_GG;
			model_line = lineno;
			continue;
		}
		if (!strcmp(key, "unit")) {
			p->unit_days = !strcmp(val, "week") ? 7 : !strcmp(val, "day") ? 1 : 0;
			if (!p->unit_days) {
				snprintf(err, errlen, "%d: unit '%s' is not week or day", lineno, val);
				return -1;
			}
			continue;
		}
		if (!strcmp(key, "spend")) {
			if (strcmp(val, "gamma-gamma")) {
				snprintf(err, errlen, "%d: spend '%s' is not gamma-gamma", lineno, val);
				return -1;
			}
			continue;
		}
		char *end;
		errno = 0;
		double v = strtod(val, &end), se = 0;
		if (end == val || *end || errno || !isfinite(v)) {
			snprintf(err, errlen, "%d: %s: '%s' is not a finite number", lineno, key, val);
			return -1;
		}
		if (n == 4) {
			se = strtod(sev, &end);
			if (end == sev || *end || !isfinite(se)) {
				snprintf(err, errlen, "%d: %s: se '%s' is not a finite number", lineno, key, sev);
				return -1;
			}
		}
		int slot = -1;
		btyd_fit *fit = NULL;
		for (int i = 0; p->model && i < 4; i++)
			if (!strcmp(key, btyd_par_name(p->model, i)))
				slot = i, fit = &p->fit;
		for (int i = 0; i < 3; i++)
			if (!strcmp(key, btyd_par_name(BTYD_GG, i)))
				slot = i, fit = &p->spend;
		if (fit) {
			if (!(v > 0)) {
				snprintf(err, errlen, "%d: %s = %s: parameters must be above 0", lineno, key, val);
				return -1;
			}
			fit->model.par[slot] = v;
			fit->se[slot] = se;
			fit->se_ok |= n == 4;
			have |= 1 << (slot + (fit == &p->spend ? 4 : 0));
			continue;
		}
		static const char *const known[] = {"customers", "rows", "loglik", "iterations", "gradient",
						    "spend_customers", "spend_skipped", "spend_loglik",
						    "spend_iterations"};
		double *dst[] = {&p->customers, &p->rows, &p->fit.ll, NULL, &p->fit.gmax,
				 &p->spend_customers, &p->spend_skipped, &p->spend.ll, NULL};
		size_t k = 0;
		while (k < sizeof known / sizeof *known && strcmp(key, known[k]))
			k++;
		if (k == sizeof known / sizeof *known) {
			snprintf(err, errlen, "%d: unknown name '%s'%s", lineno, key,
				 model_line ? "" : " (the 'model' line must come first)");
			return -1;
		}
		if (dst[k])
			*dst[k] = v;
		else
			*(k == 3 ? &p->fit.iterations : &p->spend.iterations) = (int)v;
	}
	const char *miss = !p->model ? "model" : !p->unit_days ? "unit" : NULL;
	for (int i = 0; !miss && i < 7; i++)
		if (!(have & (1 << i)))
			miss = i < 4 ? btyd_par_name(p->model, i) : btyd_par_name(BTYD_GG, i - 4);
	if (miss) {
		snprintf(err, errlen, "no '%s' line", miss);
		return -1;
	}
	p->fit.converged = p->spend.converged = 1;
	return 0;
}

/* ------------------------------------------------------------- output */

rtn_header *churn_header(churn *c, const rtn_header *in, int argc, char **argv)
{
	rtn_header *h = rtn_header_derive(in, RTN_KIND_CUSTOMERS, argc, argv);
	for (int k = 0; k < OUT_N; k++)
		c->out[k] = rtn_schema_add(&h->schema, OUT_COLS[k].name, OUT_COLS[k].type);
	c->nout = h->schema.n;
	char buf[256];
	snprintf(buf, sizeof buf, "%s", c->o.model == CHURN_RULE ? "rule" : btyd_model_name(c->o.model));
	rtn_header_set_meta(h, "churn_model", buf);
	snprintf(buf, sizeof buf, "horizon_days=%g;margin=%g;discount=%g;bands=%g,%g", c->o.horizon_days,
		 c->o.margin, c->o.discount, c->o.band_high, c->o.band_medium);
	rtn_header_set_meta(h, "churn_settings", buf);
	return h;
}

int churn_out_columns(const churn *c)
{
	return c->nout;
}

static void scorer_ready(churn *c)
{
	if (c->sc_ready)
		return;
	btyd_clv_opts co = {c->o.margin, c->o.discount, c->o.horizon_days / c->unit_days,
			    365.25 / c->unit_days, 12};
	int rc = btyd_scorer_init(&c->sc, &c->par.fit.model, &co);
	if (rc != BTYD_OK)
		rtn_die(RTN_EXIT_USAGE, "scoring: %s (horizon %g days, discount %g)", btyd_strerror(rc),
			c->o.horizon_days, c->o.discount);
	c->sc_ready = 1;
}

static const churn_thr *thr_for(const churn *c, const rtn_value *v)
{
	if (!c->rules)
		return &c->o.thr;
	if (c->c_group >= 0) {
		const rtn_value *g = &v[c->c_group];
		for (int i = 0; i < c->rules->n; i++)
			if (strlen(c->rules->value[i]) == g->len && !memcmp(c->rules->value[i], g->s, g->len))
				return &c->rules->thr[i];
	}
	return &c->rules->def;
}

static void bad_value(const rtn_value *v, int col, const char *what, const char *why)
{
	rtn_die(RTN_EXIT_CHECK, "customer %.*s: %s: %s", (int)v[col].len, v[col].s, what, why);
}

/* Scores one customer record; reasons into r->reasons. */
static void compute(churn *c, const rtn_value *v, churn_score_out *r)
{
	churn_cust cu;
	cu.x = (double)v[c->c_x].i;
	cu.t_x = v[c->c_tx].f;
	cu.T = v[c->c_T].f;
	cu.recency = v[c->c_recency].i == RTN_NULL ? 0 : (double)v[c->c_recency].i;
	cu.mean_gap = v[c->c_gap].f;
	cu.aov = v[c->c_aov].i == RTN_NULL ? NAN : (double)v[c->c_aov].i / RTN_MONEY_SCALE;
	cu.last_refund = c->c_refund >= 0 ? v[c->c_refund].i : RTN_NULL;
	cu.recent = c->c_recent >= 0 ? v[c->c_recent].i : RTN_NULL;
	cu.prior_rate = c->c_prior >= 0 ? v[c->c_prior].f : NAN;
	cu.nneg = c->o.nneg;
	for (int k = 0; k < c->o.nneg; k++)
		cu.neg_last[k] = v[c->c_neg[k]].i;
	const churn_thr *t = thr_for(c, v);
	double disc;
	if (c->o.model == CHURN_RULE) {
		/* own rhythm: 1 / max(mean gap, min gap) purchases a day while alive */
		r->p_alive = churn_rule_palive(t, cu.recency, cu.mean_gap);
		double rate = isnan(cu.mean_gap) ? 0 : 1 / (cu.mean_gap > t->min_gap ? cu.mean_gap : t->min_gap);
		r->exp_purchases = r->p_alive * rate * c->o.horizon_days;
		if (!c->rule_disc_ok) {   /* discounted days of the horizon, monthly steps */
			double h = c->o.horizon_days, step = 365.25 / 12, prev = 0, sum = 0;
			for (int k = 1; prev < h; k++) {
				double e = k * step < h ? k * step : h;
				sum += (e - prev) * pow(1 + c->o.discount, -e / 365.25);
				prev = e;
			}
			c->rule_disc = sum;
			c->rule_disc_ok = 1;
		}
		disc = r->p_alive * rate * c->rule_disc;
		r->exp_spend = isnan(cu.aov) || cu.aov < 0 ? 0 : cu.aov;
	} else {
		if (!(cu.x >= 0) || !(cu.t_x >= 0) || !(cu.T >= cu.t_x) || !isfinite(cu.T))
			rtn_die(RTN_EXIT_CORRUPT, "customer %.*s: x, t_x, T out of range (%g, %g, %g)",
				(int)v[c->c_cust].len, v[c->c_cust].s, cu.x, cu.t_x, cu.T);
		scorer_ready(c);
		double T = cu.T > 0 ? cu.T : NEW_T;
		size_t i;
		if (c->map) {   /* the second pass reads the records of the first */
			if (c->mapi >= c->nmap)
				bad_value(v, c->c_cust, "second pass", "more records than in the first");
			i = c->map[c->mapi++];
			/* the rows of the customers ahead: the table is far larger than the caches */
			if (c->mapi + 8 < c->nmap && c->map[c->mapi + 8] != UINT32_MAX)
				__builtin_prefetch(&c->rows.r[c->map[c->mapi + 8]]);
			if (i == UINT32_MAX && cu.T <= 0)
				i = rows_find(&c->rows, cu.x, cu.t_x, T);
			else if (i == UINT32_MAX || c->rows.r[i].x != cu.x || c->rows.r[i].tx != cu.t_x ||
				 c->rows.r[i].T != T)
				bad_value(v, c->c_cust, "second pass", "the input changed between passes");
		} else
			i = rows_find(&c->rows, cu.x, cu.t_x, T);
		row *ro = &c->rows.r[i];
		if (!ro->done) {
			int rc = btyd_score(&c->sc, cu.x, cu.t_x, T, &ro->pa, &ro->ey, &ro->disc);
			if (rc != BTYD_OK)
				bad_value(v, c->c_cust, "scoring", btyd_strerror(rc));
			ro->done = 1;
		}
		r->p_alive = ro->pa;
		r->exp_purchases = ro->ey;
		disc = ro->disc;
		int64_t m = v[c->c_spend].i;
		if (cu.x > 0 && m != RTN_NULL && m > 0) {
			if (btyd_gg_cond_spend(&c->par.spend.model, cu.x, (double)m / RTN_MONEY_SCALE,
					       &r->exp_spend) != BTYD_OK)
				bad_value(v, c->c_cust, "expected spend", "not finite");
		} else
			r->exp_spend = c->gg_mean;
	}
	r->future_value = c->o.margin * r->exp_spend * disc;
	if (!isfinite(r->p_alive) || !isfinite(r->exp_purchases) || !isfinite(r->exp_spend) ||
	    !isfinite(r->future_value) || fabs(r->future_value) > 9e14 || r->exp_spend > 9e14)
		bad_value(v, c->c_cust, "score", "not finite or out of range");
	r->risk = churn_band(&c->o, r->p_alive);
	r->reasons_len = reasons_build(&c->o, t, &cu, r->p_alive, c->recent_start, r->reasons,
				       sizeof r->reasons, &r->mask);
}

static int64_t to_money(double v)
{
	return (int64_t)llround(v * RTN_MONEY_SCALE);
}

void churn_score(churn *c, const rtn_value *in, rtn_value *out)
{
	churn_score_out r;
	compute(c, in, &r);
	memcpy(out, in, (size_t)c->nin * sizeof *out);
	out[c->out[OUT_PALIVE]].f = r.p_alive;
	int band = r.risk[0] == 'h' ? 0 : r.risk[0] == 'm' ? 1 : 2;
	static const rtn_value risk[3] = {{0, 0, "high", 4}, {0, 0, "medium", 6}, {0, 0, "low", 3}};
	out[c->out[OUT_RISK]] = risk[band];
	out[c->out[OUT_EXP]].f = r.exp_purchases;
	out[c->out[OUT_SPEND]].i = to_money(r.exp_spend);
	int64_t hist = in[c->c_revenue].i == RTN_NULL ? 0 : in[c->c_revenue].i;
	int64_t fut = to_money(r.future_value);
	out[c->out[OUT_HIST]].i = hist;
	out[c->out[OUT_FUTURE]].i = fut;
	out[c->out[OUT_CLV]].i = hist + fut;
	if (!c->model_val.s)
		c->model_val = rtn_str(c->o.model == CHURN_RULE ? "rule" : btyd_model_name(c->o.model));
	out[c->out[OUT_MODEL]] = c->model_val;
	/* r is on the stack: the reasons text must outlive this call */
	size_t rlen = r.reasons_len < sizeof c->reasons ? r.reasons_len : sizeof c->reasons - 1;
	memcpy(c->reasons, r.reasons, rlen + 1);
	out[c->out[OUT_REASONS]] = (rtn_value){0, 0, c->reasons, (uint32_t)rlen};
	c->scored++;
	c->band[band]++;
	static const char *const fixed[] = {"overdue", "rate_falling", "recent_refund", "low_p_alive"};
	if (r.reasons_len < sizeof c->reasons - 1 && !c->neg_clash) {
		/* the reasons that were written, in the order of the text */
		for (int k = 0; k < 4 + c->o.nneg; k++)
			if (r.mask >> k & 1)
				c->reason_n[k < 4 ? k : c->neg_counter[k - 4]]++;
		return;
	}
	for (const char *p = c->reasons; *p;) {
		size_t len = strcspn(p, ",");
		int k;
		for (k = 0; k < 4; k++)
			if (strlen(fixed[k]) == len && !memcmp(fixed[k], p, len))
				break;
		if (k == 4)
			for (int j = 0; j < c->o.nneg; j++)
				if (strlen(c->o.neg[j]) == len && !memcmp(c->o.neg[j], p, len))
					k = 4 + j;
		c->reason_n[k]++;
		p += len + (p[len] == ',');
	}
}

/* ------------------------------------------------------------ holdout */

void churn_holdout_load(churn *c, char *path, int64_t end_day)
{
	rtn_reader *r = rtn_reader_open(&path, 1);
	const rtn_header *h = rtn_reader_header(r);
	const char *what = rtn_in_name(path);
	if (h->kind != RTN_KIND_EVENTS)
		rtn_die(RTN_EXIT_USAGE, "--holdout %s: a %s stream, want events (from ingest)", what,
			rtn_kind_name(h->kind));
	int cc = rtn_schema_need(&h->schema, "customer", RTN_STRING, what);
	int ct = rtn_schema_need(&h->schema, "time", RTN_TIME, what);
	int ca = rtn_schema_need(&h->schema, "amount", RTN_MONEY, what);
	int cy = rtn_schema_need(&h->schema, "type", RTN_STRING, what);
	int64_t maxday = INT64_MIN;
	const rtn_value *v;
	int rc;
	while ((rc = rtn_read(r, &v)) == RTN_RECORD) {
		c->h_events++;
		if (!rtn_value_streq(&v[cy], "order") || (v[ca].i != RTN_NULL && v[ca].i < 0))
			continue;
		int64_t day = time_floor_div(v[ct].i, DAY);
		if (day <= c->asof_day) {
			c->h_before++;
			continue;
		}
		if (end_day != INT64_MIN && day > end_day) {
			c->h_after_end++;
			continue;
		}
		if (day - c->asof_day >= (1 << 24))
			rtn_die(RTN_EXIT_USAGE, "--holdout: an event more than 45000 years after asof");
		c->h_purchases++;
		size_t i = ids_find(&c->ids, v[cc].s, v[cc].len, 1);
		if (days_add(&c->ids, ((uint64_t)i << 24) | (uint64_t)(day - c->asof_day)))
			c->ids.count[i]++;
		if (day > maxday)
			maxday = day;
	}
	if (rc != RTN_END)
		rtn_die(rtn_reader_exit(r), "%s", rtn_reader_error(r));
	rtn_reader_close(r);
	c->h_end_day = end_day != INT64_MIN ? end_day : maxday;
	if (c->h_end_day == INT64_MIN)
		rtn_die(RTN_EXIT_USAGE, "--holdout %s: no purchases after the calibration end (asof)", what);
	c->o.horizon_days = (double)(c->h_end_day - c->asof_day);
	if (c->o.horizon_days > CHURN_MAX_HORIZON)
		rtn_die(RTN_EXIT_USAGE, "--holdout %s: the holdout is longer than 100 years", what);
	c->holdout = 1;
}

void churn_holdout_add(churn *c, const rtn_value *in)
{
	churn_score_out r;
	compute(c, in, &r);
	size_t i = ids_find(&c->ids, in[c->c_cust].s, in[c->c_cust].len, 0);
	double actual = 0;
	if (i != SIZE_MAX) {
		actual = (double)c->ids.count[i];
		c->ids.seen[i] = 1;
	}
	int64_t x = in[c->c_x].i;
	hgroup *g[2] = {&c->hg[x < 7 ? x : 7], &c->hg[8]};
	for (int k = 0; k < 2; k++) {
		g[k]->customers++;
		g[k]->actual += actual;
		g[k]->predicted += r.exp_purchases;
		g[k]->abserr += fabs(r.exp_purchases - actual);
	}
	c->scored++;
}

void churn_holdout_report(churn *c, FILE *f)
{
	char a[32], b[32];
	time_format_date((c->asof_day + 1) * DAY, a);
	time_format_date(c->h_end_day * DAY, b);
	double len = c->o.horizon_days / c->unit_days;
	fprintf(f, "holdout %s to %s: %.4g %ss, model %s\n", a, b, len, c->unit_days == 7 ? "week" : "day",
		c->o.model == CHURN_RULE ? "rule" : btyd_model_name(c->o.model));
	fprintf(f, "%-5s %10s %10s %10s %10s\n", "x", "customers", "actual", "predicted", "error");
	double mae_groups = 0;
	int ngroups = 0;
	for (int k = 0; k < 9; k++) {
		const hgroup *g = &c->hg[k];
		char lab[8];
		snprintf(lab, sizeof lab, k < 7 ? "%d" : k == 7 ? "7+" : "all", k);
		if (!g->customers) {
			fprintf(f, "%-5s %10d %10s %10s %10s\n", lab, 0, "-", "-", "-");
			continue;
		}
		double ma = g->actual / g->customers, mp = g->predicted / g->customers;
		fprintf(f, "%-5s %10.0f %10.4f %10.4f %+10.4f\n", lab, g->customers, ma, mp, mp - ma);
		if (k < 8)
			mae_groups += fabs(mp - ma), ngroups++;
	}
	const hgroup *all = &c->hg[8];
	size_t unmatched = 0;
	for (size_t i = 0; i < c->ids.n; i++)
		unmatched += !c->ids.seen[i];
	fprintf(f, "mean absolute error of the group means (0..7+): %.4f\n",
		ngroups ? mae_groups / ngroups : 0.0);
	fprintf(f, "mean absolute error per customer: %.4f\n",
		all->customers ? all->abserr / all->customers : 0.0);
	fprintf(f, "purchases: actual %.0f, predicted %.1f\n", all->actual, all->predicted);
	fprintf(f, "holdout purchase events %llu; customers not in the calibration data %zu (ignored)\n",
		(unsigned long long)c->h_purchases, unmatched);
}

/* --------------------------------------------------------------- stats */

void churn_stats(const churn *c, FILE *f)
{
	fprintf(f, "%s: customers scored %llu\n", rtn_progname, (unsigned long long)c->scored);
	if (c->o.model != CHURN_RULE && c->customers > 0) {
		fprintf(f, "%s: fitted %.0f customers in %zu (x, t_x, T) rows, %.0f with age 0 left out\n",
			rtn_progname, c->customers, c->rows.n, c->age0);
		fprintf(f, "%s: %s LL %.4f in %d iterations (%.3f s); gamma-gamma on %.0f customers "
			   "(%.0f without repeat spend), LL %.4f\n",
			rtn_progname, btyd_model_name(c->o.model), c->par.fit.ll, c->par.fit.iterations,
			c->par.fit.seconds, c->par.spend_customers, c->par.spend_skipped, c->par.spend.ll);
	}
	if (c->holdout)
		return;
	fprintf(f, "%s: risk high %llu, medium %llu, low %llu\n", rtn_progname,
		(unsigned long long)c->band[0], (unsigned long long)c->band[1],
		(unsigned long long)c->band[2]);
	fprintf(f, "%s: reasons overdue %llu, rate_falling %llu, recent_refund %llu, low_p_alive %llu",
		rtn_progname, (unsigned long long)c->reason_n[0], (unsigned long long)c->reason_n[1],
		(unsigned long long)c->reason_n[2], (unsigned long long)c->reason_n[3]);
	for (int k = 0; k < c->o.nneg; k++)
		fprintf(f, ", %s %llu", c->o.neg[k], (unsigned long long)c->reason_n[4 + k]);
	fputc('\n', f);
}
