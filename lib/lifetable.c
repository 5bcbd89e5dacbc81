/* Customer life table, Kaplan-Meier: see lifetable.h. */
#include "lifetable.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"
#include "textout.h"
#include "util.h"

/* 1 when day a comes more than the churn window after day p. */
static int gap_exceeds(const duration *d, int64_t p, int64_t a)
{
	return a > cohort_within_end(d, p) + 1;
}

int life_customer(int period, int64_t start_day, const int32_t *days, int64_t n, int64_t asof_day,
		  const duration *churn_after, int64_t *tenure)
{
	int64_t prev = start_day;
	for (int64_t i = 0; i < n; i++) {
		int64_t a = days[i];
		if (a <= prev)
			continue;
		if (a > asof_day)
			break;
		if (gap_exceeds(churn_after, prev, a)) {
			*tenure = cohort_tenure(period, start_day, prev);
			return 1;
		}
		prev = a;
	}
	if (asof_day >= prev && gap_exceeds(churn_after, prev, asof_day)) {
		*tenure = cohort_tenure(period, start_day, prev);
		return 1;
	}
	*tenure = cohort_tenure(period, start_day, asof_day > start_day ? asof_day : start_day);
	return 0;
}

void life_compute(int64_t n, const int64_t *churned, const int64_t *censored, life_row *out)
{
	int64_t risk = 0;
	for (int64_t k = n - 1; k >= 0; k--) {
		risk += churned[k] + censored[k];
		out[k].period = k;
		out[k].at_risk = risk;
		out[k].churned = churned[k];
		out[k].censored = censored[k];
	}
	double s = 1;
	for (int64_t k = 0; k < n; k++) {
		out[k].hazard = out[k].at_risk ? (double)out[k].churned / (double)out[k].at_risk : NAN;
		if (out[k].at_risk)
			s *= 1 - out[k].hazard;
		out[k].survival = s;
	}
	/* e_k = sum_{j>=k} (S_{j-1} + S_j) / 2 / S_{k-1}, summed from the end */
	double tail = 0;
	for (int64_t k = n - 1; k >= 0; k--) {
		double before = k ? out[k - 1].survival : 1;
		tail += (before + out[k].survival) / 2;
		out[k].expected = before > 0 ? tail / before : NAN;
	}
}

static const struct {
	const char *name;
	int type;
} LIFE_COLS[] = {{"group", RTN_STRING}, {"split", RTN_STRING}, {"period", RTN_INT},
		 {"at_risk", RTN_INT},  {"churned", RTN_INT}, {"censored", RTN_INT},
		 {"hazard", RTN_FLOAT}, {"survival", RTN_FLOAT}, {"expected_remaining", RTN_FLOAT}};
#define NLIFE (int)(sizeof LIFE_COLS / sizeof LIFE_COLS[0])

static const char *split_label(int split)
{
	return split < 0 ? "" : split ? "yes" : "no";
}

static life_row *panel_rows(const cohort_panel *p)
{
	life_row *rows = xcalloc((size_t)p->nlife + 1, sizeof *rows);
	life_compute(p->nlife, p->churned, p->censored, rows);
	return rows;
}

static void row_values(const cohort_panel *p, const life_row *lr, rtn_value *v)
{
	v[0] = rtn_str(p->group);
	v[1] = rtn_str(split_label(p->split));
	v[2].i = lr->period;
	v[3].i = lr->at_risk;
	v[4].i = lr->churned;
	v[5].i = lr->censored;
	v[6].f = lr->hazard;
	v[7].f = lr->survival;
	v[8].f = lr->expected;
}

static void series_name(const cohort_table *t, const cohort_panel *p, char *buf, size_t n)
{
	size_t len = 0;
	buf[0] = '\0';
	if (t->spec.by[0])
		len += (size_t)snprintf(buf, n, "%s", p->group[0] ? p->group : "(empty)");
	if (p->split >= 0 && len < n)
		snprintf(buf + len, n - len, "%s%s %s", len ? " " : "", p->split ? "did" : "did not",
			 t->spec.split_event);
	if (!buf[0])
		snprintf(buf, n, "all");
}

static void build_svg(const cohort_table *t, svg_buf *out)
{
	static const char *const unit[] = {"days", "weeks", "months", "quarters"};
	int np = t->npanel;
	svg_series *sv = xcalloc((size_t)np + 1, sizeof *sv), *hz = xcalloc((size_t)np + 1, sizeof *hz);
	char **names = xcalloc((size_t)np + 1, sizeof *names);
	char xl[64], settings[1024];
	snprintf(xl, sizeof xl, "tenure (%s)", unit[t->spec.period]);
	for (int i = 0; i < np; i++) {
		const cohort_panel *p = &t->panels[i];
		life_row *lr = panel_rows(p);
		double *x = xcalloc((size_t)p->nlife + 2, sizeof *x), *y = xcalloc((size_t)p->nlife + 2, sizeof *y);
		double *hx = xcalloc((size_t)p->nlife + 1, sizeof *hx), *hy = xcalloc((size_t)p->nlife + 1, sizeof *hy);
		x[0] = 0;
		y[0] = 1;
		for (int64_t k = 0; k < p->nlife; k++) {
			x[k + 1] = (double)(k + 1);
			y[k + 1] = lr[k].survival;
			hx[k] = (double)k;
			hy[k] = lr[k].hazard;
		}
		char nm[512];
		series_name(t, p, nm, sizeof nm);
		names[i] = xstrdup(nm);
		sv[i] = (svg_series){names[i], (int)p->nlife + 1, x, y, 1};
		hz[i] = (svg_series){names[i], (int)p->nlife, hx, hy, 0};
		free(lr);
	}
	cohort_settings_text(t, settings, sizeof settings);
	double W = 720, H1 = 320, H2 = 260;
	svg_begin(out, W, H1 + H2 + 24, settings, 1);
	svg_text(out, 8, 16, NULL, "l", settings);
	svg_chart sc = {"Survival (Kaplan-Meier)", xl, "share still a customer", W, H1, 0, 1, 1, np, sv};
	svg_curve_draw(out, &sc, 0, 24);
	if (np == 1) {
		char **labels = xcalloc((size_t)hz[0].n + 1, sizeof *labels);
		for (int k = 0; k < hz[0].n; k++) {
			char b[32];
			snprintf(b, sizeof b, "%d", k);
			labels[k] = xstrdup(b);
		}
		svg_bars bc = {"Hazard: share churning in the period", hz[0].n, (const char *const *)labels,
			       hz[0].y, W, H2, 1};
		svg_bars_draw(out, &bc, 0, 24 + H1);
		for (int k = 0; k < hz[0].n; k++)
			free(labels[k]);
		free(labels);
	} else {
		svg_chart hc = {"Hazard: share churning in the period", xl, "hazard", W, H2, 0, 0, 1, np, hz};
		svg_curve_draw(out, &hc, 0, 24 + H1);
	}
	svg_end(out);
	for (int i = 0; i < np; i++) {
		free((void *)sv[i].x);
		free((void *)sv[i].y);
		free((void *)hz[i].x);
		free((void *)hz[i].y);
		free(names[i]);
	}
	free(sv);
	free(hz);
	free(names);
}

static void build_grid(const cohort_table *t, cohort_grid *g)
{
	static const char *const head[] = {"period", "at_risk", "churned", "censored", "hazard",
					   "survival", "expected_remaining"};
	int has_by = t->spec.by[0] != 0, has_split = t->spec.split_event[0] != 0;
	g->ncol = has_by + has_split + 7;
	if (has_by)
		cohort_grid_add(g, t->spec.by, NAN, 0);
	if (has_split)
		cohort_grid_add(g, "split", NAN, 0);
	for (int i = 0; i < 7; i++)
		cohort_grid_add(g, head[i], NAN, 1);
	for (int i = 0; i < t->npanel; i++) {
		const cohort_panel *p = &t->panels[i];
		life_row *lr = panel_rows(p);
		for (int64_t k = 0; k < p->nlife; k++) {
			char b[64];
			if (has_by)
				cohort_grid_add(g, p->group, NAN, 0);
			if (has_split)
				cohort_grid_add(g, split_label(p->split), NAN, 0);
			int64_t ints[4] = {k, lr[k].at_risk, lr[k].churned, lr[k].censored};
			for (int j = 0; j < 4; j++) {
				snprintf(b, sizeof b, "%lld", (long long)ints[j]);
				cohort_grid_add(g, b, NAN, 1);
			}
			snprintf(b, sizeof b, "%.4f", lr[k].hazard);
			cohort_grid_add(g, b, NAN, 1);
			snprintf(b, sizeof b, "%.4f", lr[k].survival);
			cohort_grid_add(g, b, lr[k].survival, 1);
			if (lr[k].expected == lr[k].expected)
				snprintf(b, sizeof b, "%.2f", lr[k].expected);
			else
				snprintf(b, sizeof b, "-");
			cohort_grid_add(g, b, NAN, 1);
		}
		free(lr);
	}
}

void life_output(const cohort_table *t, const cohort_out_opts *o)
{
	rtn_schema s = {0, NULL};
	rtn_value v[NLIFE];
	if (o->format == CF_STREAM || o->format == CF_CSV || o->format == CF_TSV || o->format == CF_JSONL) {
		rtn_header *h = NULL;
		rtn_writer *w = NULL;
		rtn_out *out = NULL;
		txt_out tx;
		if (o->format == CF_STREAM) {
			h = cohort_out_header(t, o);
			for (int i = 0; i < NLIFE; i++)
				rtn_schema_add(&h->schema, LIFE_COLS[i].name, LIFE_COLS[i].type);
			w = rtn_writer_open_out(cohort_out_open(o), h, o->level);
		} else {
			for (int i = 0; i < NLIFE; i++)
				rtn_schema_add(&s, LIFE_COLS[i].name, LIFE_COLS[i].type);
			out = cohort_out_open(o);
			txt_init(&tx, rtn_out_file(out), rtn_out_name(out),
				 o->format == CF_CSV ? TXT_CSV : o->format == CF_TSV ? TXT_TSV : TXT_JSONL);
			txt_header(&tx, &s, NULL, 0);
		}
		for (int i = 0; i < t->npanel; i++) {
			const cohort_panel *p = &t->panels[i];
			life_row *lr = panel_rows(p);
			for (int64_t k = 0; k < p->nlife; k++) {
				row_values(p, &lr[k], v);
				if (w)
					rtn_write(w, v);
				else
					txt_record(&tx, &s, v, NULL, 0);
			}
			free(lr);
		}
		if (w) {
			rtn_writer_close(w);
			rtn_header_free(h);
		} else {
			txt_flush(&tx);
			txt_free(&tx);
			rtn_out_commit(out);
			rtn_schema_free(&s);
		}
		return;
	}
	cohort_grid g = {0, 0, 0, NULL};
	svg_buf b = {NULL, 0, 0};
	char settings[1024];
	cohort_settings_text(t, settings, sizeof settings);
	const char *notes = "expected_remaining: mean further periods as a customer, restricted to the "
			    "observed tenure (a lower bound while survival is above 0).";
	build_grid(t, &g);
	if (o->format == CF_TABLE) {
		svg_printf(&b, "# life table: %s\n", settings);
		cohort_grid_text(&g, &b, o->color);
		svg_printf(&b, "# %s\n", notes);
	} else if (o->format == CF_SVG) {
		build_svg(t, &b);
	} else {
		svg_buf sv = {NULL, 0, 0};
		build_svg(t, &sv);
		cohort_html_page(&b, "Customer life table", settings, &sv, &g, notes);
		svg_free(&sv);
	}
	cohort_write_text(o, &b);
	svg_free(&b);
	cohort_grid_free(&g);
}
