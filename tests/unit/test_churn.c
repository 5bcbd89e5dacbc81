/* Unit tests for lib/churn.c: rule model, bands, reasons, durations,
 * thresholds file, parameters file round trip and errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churn.h"
#include "unit.h"
#include "util.h"

static void test_rule(void)
{
	churn_opts o;
	churn_opts_default(&o);
	CHECK(o.model == CHURN_BGNBD && o.horizon_days == 364 && o.band_high == 0.3 &&
	      o.band_medium == 0.7 && o.margin == 1 && o.discount == 0.1, "defaults");
	CHECK(o.thr.overdue == 2 && o.thr.churn_after == 180 && o.thr.min_gap == 7 &&
	      o.window_days == 30 && o.falling == 0.5, "rule defaults");
	CHECK_NEAR(churn_rule_limit(&o.thr, 10), 20, 0, "limit = 2 x mean gap");
	CHECK_NEAR(churn_rule_limit(&o.thr, 3), 14, 0, "mean gap below min-gap: 2 x 7");
	CHECK_NEAR(churn_rule_limit(&o.thr, NAN), 180, 0, "one-time buyer: churn-after");
	CHECK_NEAR(churn_rule_palive(&o.thr, 20, 10), 0.5, 1e-15, "p = 0.5 at the limit");
	CHECK_NEAR(churn_rule_palive(&o.thr, 0, 10), 1, 0, "p = 1 at recency 0");
	CHECK_NEAR(churn_rule_palive(&o.thr, 360, NAN), 0.25, 1e-15, "one-time buyer at 2 x 180 days");
	CHECK_NEAR(churn_rule_palive(&o.thr, -3, 10), 1, 0, "negative recency clamps to 1");
	CHECK_STR(churn_band(&o, 0.29), "high", "below 0.3: high");
	CHECK_STR(churn_band(&o, 0.3), "medium", "0.3: medium");
	CHECK_STR(churn_band(&o, 0.6999), "medium", "below 0.7: medium");
	CHECK_STR(churn_band(&o, 0.7), "low", "0.7: low");
	CHECK_STR(churn_band(&o, 1), "low", "1: low");
}

static void test_reasons(void)
{
	churn_opts o;
	churn_opts_default(&o);
	o.nneg = 2;
	o.neg[0] = "complaint";
	o.neg[1] = "downgrade";
	int64_t start = 1000000;
	churn_cust c = {.x = 2, .t_x = 3, .T = 5, .recency = 5, .mean_gap = 10, .aov = 10,
			.last_refund = RTN_NULL, .recent = RTN_NULL, .prior_rate = NAN, .nneg = 2,
			.neg_last = {RTN_NULL, RTN_NULL}};
	char buf[256];
	CHECK(churn_reasons(&o, &o.thr, &c, 0.9, start, buf, sizeof buf) == 0 && !buf[0], "no signal");
	c.recency = 20;
	churn_reasons(&o, &o.thr, &c, 0.9, start, buf, sizeof buf);
	CHECK_STR(buf, "", "recency at the limit is not overdue");
	c.recency = 21;
	churn_reasons(&o, &o.thr, &c, 0.9, start, buf, sizeof buf);
	CHECK_STR(buf, "overdue", "recency past the limit");
	c.recency = 1;
	c.recent = 1;
	c.prior_rate = 2.5;
	churn_reasons(&o, &o.thr, &c, 0.9, start, buf, sizeof buf);
	CHECK_STR(buf, "rate_falling", "1 recent < 0.5 x 2.5");
	c.prior_rate = 2;
	churn_reasons(&o, &o.thr, &c, 0.9, start, buf, sizeof buf);
	CHECK_STR(buf, "", "1 recent = 0.5 x 2: not falling");
	c.recent = 0;
	c.prior_rate = 0.9;
	churn_reasons(&o, &o.thr, &c, 0.9, start, buf, sizeof buf);
	CHECK_STR(buf, "", "prior rate below one per window: no rate signal");
	c.last_refund = start;
	churn_reasons(&o, &o.thr, &c, 0.9, start, buf, sizeof buf);
	CHECK_STR(buf, "recent_refund", "refund at the window start");
	c.last_refund = start - 1;
	c.neg_last[1] = start + 5;
	churn_reasons(&o, &o.thr, &c, 0.9, start, buf, sizeof buf);
	CHECK_STR(buf, "downgrade", "refund before the window; a downgrade inside");
	c.recency = 100;
	c.recent = 0;
	c.prior_rate = 3;
	c.last_refund = start + 1;
	c.neg_last[0] = start + 2;
	size_t n = churn_reasons(&o, &o.thr, &c, 0.1, start, buf, sizeof buf);
	CHECK_STR(buf, "overdue,rate_falling,recent_refund,complaint,downgrade,low_p_alive",
		  "every signal, in order");
	CHECK(n == strlen(buf), "length returned");
	char small[12];
	n = churn_reasons(&o, &o.thr, &c, 0.1, start, small, sizeof small);
	CHECK(n == 11 && strlen(small) == 11, "a short buffer is cut, stays terminated");
}

static void test_duration_rules(void)
{
	double d = 0;
	char err[200];
	CHECK(churn_duration_days("52w", &d, err, sizeof err) == 0 && d == 364, "52w = 364 days");
	CHECK(churn_duration_days("6mo", &d, err, sizeof err) == 0 && fabs(d - 182.625) < 1e-12,
	      "6mo = 182.625 days");
	CHECK(churn_duration_days("2y", &d, err, sizeof err) == 0 && d == 730.5, "2y = 730.5 days");
	CHECK(churn_duration_days("36h", &d, err, sizeof err) == 0 && d == 1.5, "36h = 1.5 days");
	CHECK(churn_duration_days("52", &d, err, sizeof err) < 0, "no unit: error (%s)", err);

	churn_thr base = {2, 180, 7};
	churn_rules r;
	int rc = churn_rules_parse("# c\nby plan\n* overdue=3\ngold churn-after=52w min-gap=2d\n"
				   "basic overdue=1.5\n",
				   &base, &r, err, sizeof err);
	CHECK(rc == 0, "rules parse (%s)", rc ? err : "");
	if (rc == 0) {
		CHECK_STR(r.column, "plan", "by column");
		CHECK(r.def.overdue == 3 && r.def.churn_after == 180 && r.def.min_gap == 7, "* line");
		CHECK(r.n == 2 && !strcmp(r.value[0], "gold") && r.thr[0].overdue == 3 &&
		      r.thr[0].churn_after == 364 && r.thr[0].min_gap == 2, "gold from * and its own");
		CHECK(r.thr[1].overdue == 1.5 && r.thr[1].churn_after == 180, "basic");
		for (int i = 0; i < r.n; i++)
			free(r.value[i]);
		free(r.value);
		free(r.thr);
		free(r.column);
	}
	static const struct {
		const char *text, *err;
	} bad[] = {
		{"gold overdue=2\n", "1: group 'gold' before a 'by COLUMN' line"},
		{"by plan\nby tier\n", "2: a second 'by' line"},
		{"by plan\ngold overdue=0\n", "2: overdue=0: want a number above 0"},
		{"by plan\ngold speed=3\n", "2: unknown key 'speed' (overdue, churn-after, min-gap)"},
		{"by plan\ngold overdue\n", "2: 'overdue' is not KEY=VALUE"},
		{"by plan\ngold churn-after=0d\n", "2: churn-after=0d: must be longer than 0"},
		{"by plan\ngold overdue=2\ngold overdue=3\n", "3: group 'gold' listed twice"},
		{"by plan\ngold overdue=2\n* overdue=3\n", "3: the '*' line must come once, before the groups"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		churn_rules b;
		err[0] = 0;
		rc = churn_rules_parse(bad[i].text, &base, &b, err, sizeof err);
		CHECK(rc < 0, "bad rules %zu refused", i);
		CHECK_STR(err, bad[i].err, "bad rules %zu message", i);
		for (int k = 0; k < b.n; k++)
			free(b.value[k]);
		free(b.value);
		free(b.thr);
		free(b.column);
	}
}

static void test_params(void)
{
	churn_params p;
	memset(&p, 0, sizeof p);
	p.model = CHURN_PNBD;
	p.unit_days = 7;
	p.fit.model = (btyd_model){BTYD_PNBD, {0.55327701103834381, 10.577682813550787,
					       0.60624000291682867, 11.668736042787996}};
	p.fit.se_ok = 1;
	p.fit.se[0] = 0.0476;
	p.fit.ll = -9594.9761789395416;
	p.fit.iterations = 24;
	p.spend.model = (btyd_model){BTYD_GG, {6.2495696173933419, 3.7442256592699654,
					       15.443533125154987, 0}};
	p.customers = 2357;
	p.rows = 1016;
	p.spend_customers = 946;
	p.spend_skipped = 1411;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int wrc = f ? churn_params_write(f, &p) : -1;   /* CHECK evaluates twice */
	CHECK(wrc == 0, "params written");
	fclose(f);
	churn_params q;
	char err[200] = "";
	int rc = churn_params_parse(buf, &q, err, sizeof err);
	CHECK(rc == 0, "params read back (%s)", err);
	int same = q.model == p.model && q.unit_days == 7;
	for (int i = 0; i < 4; i++)
		same &= q.fit.model.par[i] == p.fit.model.par[i];
	for (int i = 0; i < 3; i++)
		same &= q.spend.model.par[i] == p.spend.model.par[i];
	CHECK(same, "every parameter bit-identical after the round trip");
	CHECK(q.fit.ll == p.fit.ll && q.fit.iterations == 24 && q.customers == 2357 &&
	      q.spend_customers == 946 && q.spend_skipped == 1411, "counts and log-likelihood");
	CHECK(q.fit.se_ok && q.fit.se[0] == 0.0476 && q.fit.model.kind == BTYD_PNBD &&
	      q.spend.model.kind == BTYD_GG, "standard error and kinds");
	CHECK(strstr(buf, "\nbeta             11.668736042787996 se ") != NULL, "readable: name, value, se");
	printf("# params file:\n");
	for (char *s = buf; *s;) {
		size_t k = strcspn(s, "\n");
		printf("#   %.*s\n", (int)k, s);
		s += k + (s[k] == '\n');
	}
	free(buf);

	static const struct {
		const char *text, *err;
	} bad[] = {
		{"model cox\n", "1: model 'cox' is not bgnbd or pnbd"},
		{"model bgnbd\nunit month\n", "2: unit 'month' is not week or day"},
		{"model bgnbd\nunit week\nr 0.2\nalpha 4\na 0.8\n", "no 'b' line"},
		{"unit week\nr 1\n", "2: unknown name 'r' (the 'model' line must come first)"},
		{"model bgnbd\nunit week\nr -1\n", "3: r = -1: parameters must be above 0"},
		{"model bgnbd\nunit week\nr inf\n", "3: r: 'inf' is not a finite number"},
		{"model bgnbd\nunit week\nr 1 sd 2\n", "3: want 'NAME VALUE [se VALUE]'"},
		{"model bgnbd\nunit week\nr\n", "3: want 'NAME VALUE [se VALUE]'"},
		{"model bgnbd\n", "no 'unit' line"},
		{"# nothing\n", "no 'model' line"},
		{"model bgnbd\nunit week\nr 1\nalpha 1\na 1\nb 1\np 1\nq 2\n", "no 'gamma' line"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = 0;
		rc = churn_params_parse(bad[i].text, &q, err, sizeof err);
		CHECK(rc < 0, "bad params %zu refused", i);
		CHECK_STR(err, bad[i].err, "bad params %zu message", i);
	}
}

int main(void)
{
	rtn_init("test_churn");
	test_rule();
	test_reasons();
	test_duration_rules();
	test_params();
	return unit_done();
}
