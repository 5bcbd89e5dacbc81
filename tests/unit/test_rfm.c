/* Unit tests for lib/custagg, lib/rfm, lib/segments and lib/stage: every
 * column on a hand-computed customer (sorted and unsorted), the tie rule,
 * breaks, each classic8 class, each named segment and each stage. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "custagg.h"
#include "money.h"
#include "rfm.h"
#include "segments.h"
#include "stage.h"
#include "timeparse.h"
#include "unit.h"
#include "util.h"

typedef struct ev {
	const char *cust;
	int y, mo, d, h;
	int64_t amount;   /* money units; RTN_NULL for none */
	const char *order, *type, *channel;
} ev;

static int64_t when(const ev *e)
{
	return time_days_from_civil(e->y, e->mo, e->d) * 86400 + e->h * 3600;
}

static rtn_schema events_schema(void)
{
	rtn_schema s = {0, NULL};
	rtn_schema_add(&s, "customer", RTN_STRING);
	rtn_schema_add(&s, "time", RTN_TIME);
	rtn_schema_add(&s, "amount", RTN_MONEY);
	rtn_schema_add(&s, "order", RTN_STRING);
	rtn_schema_add(&s, "type", RTN_STRING);
	rtn_schema_add(&s, "channel", RTN_STRING);
	return s;
}

static void feed(custagg *a, const ev *e)
{
	rtn_value v[6];
	memset(v, 0, sizeof v);
	v[0] = rtn_str(e->cust);
	v[1].i = when(e);
	v[2].i = e->amount;
	v[3] = rtn_str(e->order);
	v[4] = rtn_str(e->type);
	v[5] = rtn_str(e->channel);
	int rc = ca_add(a, v);
	if (rc != 0)
		CHECK(rc == 0, "add %s %d-%d-%d", e->cust, e->y, e->mo, e->d);
}

#define M(x) ((int64_t)((x) * MONEY_SCALE + ((x) < 0 ? -0.5 : 0.5)))

/* Customer "a" (hand computed in the comments) and "b", in time order. */
static const ev CASE1[] = {
	{"a", 2023, 1, 1, 10, M(10), "o1", "order", ""},
	{"a", 2023, 1, 1, 10, M(5), "o1", "order", "ads"},       /* line item: same order */
	{"a", 2023, 1, 1, 15, M(20), "o2", "order", "mail"},     /* same day, another order */
	{"a", 2023, 1, 11, 0, M(30), "o3", "order", ""},
	{"a", 2023, 1, 12, 0, M(-5), "", "refund", ""},
	{"a", 2023, 1, 20, 0, RTN_NULL, "", "visit", ""},
	{"a", 2023, 1, 21, 8, M(7), "", "order", ""},           /* no order id: by time */
	{"a", 2023, 1, 21, 8, M(3), "", "order", ""},           /* same time: same order */
	{"a", 2023, 2, 3, 0, M(99), "o9", "order", ""},         /* after --asof */
	{"b", 2022, 6, 1, 0, M(40), "p1", "order", "shop"},
	{"b", 2023, 1, 30, 0, RTN_NULL, "", "complaint", ""},
};
#define NCASE1 (sizeof CASE1 / sizeof *CASE1)

static ca_opts case1_opts(int sorted)
{
	ca_opts o;
	memset(&o, 0, sizeof o);
	o.have_asof = 1;
	o.asof_day = time_days_from_civil(2023, 1, 31);
	o.window_start_day = INT64_MIN;
	o.recent_start_day = o.asof_day - 13;   /* --recent 14d: 2023-01-18 .. 01-31 */
	o.sorted = sorted;
	o.ncarry = 1;
	o.carry[0] = "channel";
	o.nevents = 1;
	o.events[0] = "visit";
	return o;
}

static void check_case1(const char *mode, custagg *a)
{
	rfm_opts ro;
	memset(&ro, 0, sizeof ro);
	ro.bins = 5;
	ro.unit_days = 1;
	ro.seg_mode = SEG_CLASSIC8;
	ro.stage_carry = -1;
	ro.segments_name = "classic8";
	rfm_result res;
	rfm_compute(&res, a, &ro, a->o.asof_day, a->o.recent_start_day);
	CHECK(res.n == 2, "%s: two customers", mode);
	ca_cust c0, *c = &c0;
	ca_get(a, a->order[0], c);
	rfm_row ra, rb0;
	rfm_row_get(&res, 0, &ra);
	rfm_row_get(&res, 1, &rb0);
	const rfm_row *r = &ra;
	CHECK_STR(c->name, "a", "%s: first customer is a", mode);
	ev f = {"", 2023, 1, 1, 10, 0, "", "", ""}, l = {"", 2023, 1, 21, 8, 0, "", "", ""};
	CHECK(c->first_t == when(&f), "%s: first purchase", mode);
	CHECK(c->last_t == when(&l), "%s: last purchase", mode);
	CHECK(r->F == 4, "%s: orders = o1, o2, o3, 01-21 08:00 (got %lld)", mode, (long long)r->F);
	CHECK(c->ndays == 3, "%s: purchase days 01-01, 01-11, 01-21", mode);
	CHECK(r->revenue == M(70), "%s: revenue 10+5+20+30+7+3-5 = 70", mode);
	CHECK(r->refunds == M(5), "%s: refunds 5", mode);
	CHECK(r->aov == M(17.5), "%s: aov 70/4", mode);
	CHECK(r->recency == 10, "%s: recency 01-31 - 01-21", mode);
	CHECK(r->tenure == 30, "%s: tenure 01-31 - 01-01", mode);
	CHECK_NEAR(r->mean_gap, 10, 1e-12, "%s: mean gap 20/2", mode);
	const ca_carry *cc = &a->carry[(size_t)a->order[0] * a->o.ncarry];
	CHECK(cc->len == 3 && memcmp(a->strings + cc->off, "ads", 3) == 0,
	      "%s: carried channel = first non-empty at the earliest time (ads < mail)", mode);
	ev rf = {"", 2023, 1, 12, 0, 0, "", "", ""}, vi = {"", 2023, 1, 20, 0, 0, "", "", ""};
	CHECK(c->last_refund == when(&rf), "%s: last refund", mode);
	CHECK(c->recent_orders == 1, "%s: one order in the last 14 days", mode);
	/* prior: 3 orders over 01-01..01-17 (17 days), per 14 days */
	CHECK_NEAR(r->prior_rate, 3.0 / 17 * 14, 1e-9, "%s: prior rate", mode);
	const ca_typecount *tc = &a->types[(size_t)a->order[0] * a->o.nevents];
	CHECK(tc->count == 1 && tc->last == when(&vi), "%s: visit count and last", mode);
	CHECK(r->x == 2, "%s: x = 3 days - 1", mode);
	CHECK_NEAR(r->t_x, 20, 1e-12, "%s: t_x days", mode);
	CHECK_NEAR(r->T, 30, 1e-12, "%s: T days", mode);
	CHECK(r->mean_spend == M(20), "%s: mean repeat spend (30 + 10) / 2", mode);
	CHECK(r->stage == STAGE_NEW, "%s: stage new (tenure 30)", mode);
	const rfm_row *rb = &rb0;
	CHECK(rb->F == 1 && rb->recency == 244 && rb->x == 0 && rb->mean_spend == 0,
	      "%s: b: one order, recency 244, x 0, mean spend 0", mode);
	CHECK(isnan(rb->mean_gap), "%s: b: no mean gap", mode);
	CHECK(rb->stage == STAGE_CHURNED, "%s: b churned (one-timer past 180 days)", mode);
	CHECK(a->st.read == NCASE1 && a->st.after_asof == 1 && a->st.purchases == 7 &&
	      a->st.refunds == 1 && a->st.tracked == 1 && a->st.other == 1,
	      "%s: accounting adds up", mode);
}

static void test_case1(void)
{
	rtn_schema s = events_schema();
	ca_opts o = case1_opts(1);
	custagg *a = ca_new(&o);
	ca_bind(a, &s, "test");
	for (size_t i = 0; i < NCASE1; i++)
		feed(a, &CASE1[i]);
	ca_finish(a);
	check_case1("sorted", a);
	ca_free(a);

	o = case1_opts(0);
	a = ca_new(&o);
	ca_bind(a, &s, "test");
	for (size_t i = NCASE1; i-- > 0;)
		feed(a, &CASE1[i]);
	ca_finish(a);
	check_case1("unsorted, reversed", a);
	ca_free(a);

	/* sorted input out of order is refused */
	o = case1_opts(1);
	a = ca_new(&o);
	ca_bind(a, &s, "test");
	feed(a, &CASE1[9]);
	rtn_value v[6];
	memset(v, 0, sizeof v);
	v[0] = rtn_str("a");
	v[1].i = when(&CASE1[0]);
	v[2].i = M(1);
	v[3] = rtn_str("");
	v[4] = rtn_str("order");
	v[5] = rtn_str("");
	int rc = ca_add(a, v);
	CHECK(rc == -1 && strstr(a->err, "comes after"), "sorted: customer order checked");
	ca_free(a);
	for (int i = 0; i < s.n; i++)
		free(s.cols[i].name);
	free(s.cols);
}

static void test_ties(void)
{
	int64_t f[] = {1, 1, 1, 1, 1, 1, 2, 2, 3, 10}, b[RFM_BINS_MAX];
	rfm_breaks_from_values(f, 10, 1, 5, b);
	CHECK(b[0] == 2 && b[1] == 2 && b[2] == 2 && b[3] == 3, "f breaks 2,2,2,3");
	CHECK(rfm_score(1, 1, 5, b) == 1, "six tied 1s all score 1");
	CHECK(rfm_score(2, 1, 5, b) == 4, "2: 6 worse of 10 -> 1 + floor(5*6/10) = 4");
	CHECK(rfm_score(3, 1, 5, b) == 5 && rfm_score(10, 1, 5, b) == 5, "3 and 10 score 5");
	int64_t r[] = {30, 0, 5, 100, 5, 10, 20, 0, 5, 30};
	rfm_breaks_from_values(r, 10, 0, 5, b);
	CHECK(b[0] == 5 && b[1] == 5 && b[2] == 20 && b[3] == 30, "r breaks 5,5,20,30");
	int want[][2] = {{0, 5}, {5, 3}, {10, 3}, {20, 2}, {30, 1}, {100, 1}};
	for (int i = 0; i < 6; i++)
		CHECK(rfm_score(want[i][0], 0, 5, b) == want[i][1], "recency %d scores %d", want[i][0],
		      want[i][1]);
	int64_t same[] = {7, 7, 7, 7};
	rfm_breaks_from_values(same, 4, 1, 5, b);
	CHECK(b[0] == RFM_INF && rfm_score(7, 1, 5, b) == 1, "all equal: one score, breaks inf");
	int64_t dist[] = {5, 4, 3, 2, 1};
	rfm_breaks_from_values(dist, 5, 2, 5, b);
	for (int i = 1; i <= 5; i++)
		CHECK(rfm_score(i, 2, 5, b) == i, "five distinct values score %d", i);
}

static void test_breaks_text(void)
{
	int64_t b[3][RFM_BINS_MAX];
	char err[200], buf[512];
	CHECK(rfm_breaks_parse("r=30,90,180,365;f=2,3,5,8;m=20,50.5,100,inf", 5, b, err, sizeof err) == 0,
	      "parse breaks");
	CHECK(b[0][3] == 365 && b[1][0] == 2 && b[2][1] == M(50.5) && b[2][3] == RFM_INF,
	      "parsed values");
	rfm_breaks_format(b, 5, buf, sizeof buf);
	CHECK_STR(buf, "r=30,90,180,365;f=2,3,5,8;m=20.00,50.50,100.00,inf", "format breaks");
	CHECK(rfm_breaks_parse("r=3,2,4,5;f=1,2,3,4;m=1,2,3,4", 5, b, err, sizeof err) < 0 &&
	      strstr(err, "decrease"), "decreasing refused: %s", err);
	CHECK(rfm_breaks_parse("r=1,2;f=1,2;m=1,2", 5, b, err, sizeof err) < 0 && strstr(err, "need 4"),
	      "wrong count refused: %s", err);
	CHECK(rfm_breaks_parse("r=1,2,3,4;f=1,2,3,4", 5, b, err, sizeof err) < 0, "missing m refused");
	CHECK(rfm_breaks_parse("r=1,2,3,4\nf=1,2,3,4\nm=1,2,3,x", 5, b, err, sizeof err) < 0 &&
	      strstr(err, "not an amount"), "bad amount refused: %s", err);
}

/* Eight customers, one per classic class: F 3 or 1 orders, revenue 300 or
 * 30, last purchase 5 or 100 days before asof. */
static void test_classic8(void)
{
	static const char *want[8] = {"important-value", "general-value", "important-development",
	                              "general-development", "important-retention",
	                              "general-retention", "important-win-back", "general-retain"};
	static const char *zh[8] = {"重要价值客户", "一般价值客户", "重要发展客户", "一般发展客户",
	                            "重要保持客户", "一般保持客户", "重要挽回客户", "一般挽留客户"};
	for (int i = 0; i < 8; i++) {
		CHECK_STR(seg_classic8_name(i, 0), want[i], "classic8 %d en", i);
		CHECK_STR(seg_classic8_name(i, 1), zh[i], "classic8 %d zh", i);
	}
	rtn_schema s = events_schema();
	ca_opts o;
	memset(&o, 0, sizeof o);
	o.have_asof = 1;
	o.asof_day = time_days_from_civil(2023, 6, 30);
	o.window_start_day = o.recent_start_day = INT64_MIN;
	custagg *a = ca_new(&o);
	ca_bind(a, &s, "test");
	for (int k = 0; k < 8; k++) {
		int rlow = k & 4, flow = k & 2, mlow = k & 1;
		char name[2] = {(char)('a' + k), 0};
		int n = flow ? 1 : 3;
		int64_t each = (mlow ? M(30) : M(300)) / n;
		int64_t last = o.asof_day - (rlow ? 100 : 5);
		for (int j = 0; j < n; j++) {
			int64_t y, day = last - 2 * (n - 1 - j);
			int mo, d;
			time_civil_from_days(day, &y, &mo, &d);
			char oid[16];
			snprintf(oid, sizeof oid, "o%d", j);
			ev e = {name, (int)y, mo, d, 12, each, oid, "order", ""};
			feed(a, &e);
		}
	}
	ca_finish(a);
	for (int zhl = 0; zhl < 2; zhl++) {
		rfm_opts ro;
		memset(&ro, 0, sizeof ro);
		ro.bins = 5;
		ro.unit_days = 7;
		ro.seg_mode = SEG_CLASSIC8;
		ro.zh = zhl;
		ro.stage_carry = -1;
		rfm_result res;
		rfm_compute(&res, a, &ro, o.asof_day, INT64_MIN);
		for (uint32_t k = 0; k < 8; k++) {
			rfm_row row;
			rfm_row_get(&res, k, &row);
			CHECK_STR(row.segment, zhl ? zh[k] : want[k], "customer %c is class %u", 'a' + k, k);
		}
	}
	ca_free(a);
	for (int i = 0; i < s.n; i++)
		free(s.cols[i].name);
	free(s.cols);
}

static void test_named(void)
{
	seg_rules *rs = seg_named_default();
	static const struct {
		int r, f, m;
		const char *name;
	} cases[] = {
		{5, 5, 5, "Champions"},       {5, 2, 1, "Potential Loyalist"}, {3, 3, 3, "Loyal Customers"},
		{4, 1, 1, "Promising"},       {5, 1, 1, "New Customers"},      {1, 5, 5, "Can't Lose Them"},
		{1, 3, 3, "At Risk"},         {3, 2, 1, "Need Attention"},     {2, 1, 1, "About To Sleep"},
		{1, 1, 1, "Lost"},            {5, 5, 1, "Others"},             {2, 4, 4, "At Risk"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		CHECK_STR(seg_match(rs, cases[i].r, cases[i].f, cases[i].m), cases[i].name,
		          "named %d%d%d", cases[i].r, cases[i].f, cases[i].m);
	seg_rules_free(rs);
	seg_rule r;
	char err[200];
	int rc = seg_rule_parse("VIP: score=13-15 m=5", 5, &r, err, sizeof err);
	CHECK(rc == 0 && r.lo[3] == 13 &&
	      r.hi[3] == 15 && r.lo[2] == 5 && r.hi[2] == 5 && r.lo[0] == 1 && r.hi[0] == 5 &&
	      strcmp(r.name, "VIP") == 0, "rule with score range");
	free(r.name);
	CHECK(seg_rule_parse("X: r=0-3", 5, &r, err, sizeof err) < 0 && strstr(err, "outside"),
	      "range outside the bins refused: %s", err);
	CHECK(seg_rule_parse("X: q=1", 5, &r, err, sizeof err) < 0, "unknown condition refused");
	CHECK(seg_rule_parse("no colon", 5, &r, err, sizeof err) < 0, "missing colon refused");
}

static void test_stages(void)
{
	stage_params p;
	stage_defaults(&p);
	static const struct {
		int64_t n, first, prev, last, asof;
		int want;
		const char *why;
	} cases[] = {
		{1, 0, 0, 0, 10, STAGE_NEW, "one-timer, 10 days"},
		{1, 0, 0, 0, 100, STAGE_DECLINING, "one-timer, 100 days"},
		{1, 0, 0, 0, 200, STAGE_CHURNED, "one-timer, 200 days"},
		{3, 0, 10, 20, 25, STAGE_NEW, "repeat buyer, tenure 25"},
		{3, 0, 40, 80, 100, STAGE_GROWING, "gap 40, recency 20, tenure 100"},
		{3, 0, 200, 400, 410, STAGE_MATURE, "tenure 410"},
		{3, 0, 10, 20, 45, STAGE_DECLINING, "gap 10, recency 25 > 2 gaps"},
		{3, 0, 10, 20, 70, STAGE_CHURNED, "gap 10, recency 50 > 4 gaps"},
		{3, 0, 10, 200, 205, STAGE_REACTIVATED, "gap 190 after a rhythm of 10"},
		{2, 0, 0, 200, 210, STAGE_REACTIVATED, "second purchase 200 days after the first"},
		{3, 0, 1, 2, 20, STAGE_DECLINING, "gap 1 raised to min-gap 7: recency 18 > 14"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		CHECK(stage_of(&p, cases[i].n, cases[i].first, cases[i].prev, cases[i].last,
		               cases[i].asof) == cases[i].want,
		      "stage %s: %s", stage_name(cases[i].want), cases[i].why);
	char path[] = "/tmp/test_rfm_stages.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	fputs("# groups\nby channel\n* churn=100\nads churn=30d new=5\n", f);
	fclose(f);
	stage_rules *r = stage_rules_load(path);
	CHECK_STR(r->column, "channel", "rules: by channel");
	const stage_params *ads = stage_rules_for(r, "ads", 3), *other = stage_rules_for(r, "tv", 2);
	CHECK(ads->churn_days == 30 && ads->new_days == 5 && other->churn_days == 100 &&
	      other->new_days == 30, "rules: group values on top of the * line");
	CHECK(stage_of(other, 1, 0, 0, 0, 50) == STAGE_DECLINING &&
	      stage_of(ads, 1, 0, 0, 0, 50) == STAGE_CHURNED, "same customer, stage by group");
	stage_rules_free(r);
	unlink(path);
	char err[200];
	CHECK(stage_params_parse("churn=abc", &p, err, sizeof err) < 0, "bad number refused");
	CHECK(stage_params_parse("speed=3", &p, err, sizeof err) < 0 && strstr(err, "unknown"),
	      "unknown setting refused");
}

/* Random events for 300 customers (line items sharing order ids, orders
 * without ids, refunds, visits, carried channels), fed in sorted order and
 * in a shuffled order (through the batched, prefetching path, with key sets
 * growing past their first size): every aggregate must agree. */
static uint64_t rng_state = 42;
static uint64_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return rng_state >> 33;
}

typedef struct rev {
	char cust[40], order[12];
	const char *type, *channel;
	int64_t t, amount;
} rev;

static int rev_cmp(const void *x, const void *y)
{
	const rev *a = x, *b = y;
	int c = strcmp(a->cust, b->cust);
	if (c)
		return c;
	return (a->t > b->t) - (a->t < b->t);
}

static void feed_rev(custagg *a, const rev *e)
{
	rtn_value v[6];
	memset(v, 0, sizeof v);
	v[0] = rtn_str(e->cust);
	v[1].i = e->t;
	v[2].i = e->amount;
	v[3] = rtn_str(e->order);
	v[4] = rtn_str(e->type);
	v[5] = rtn_str(e->channel);
	if (ca_add(a, v) != 0)
		CHECK(0, "random add");
}

/* The totals of every customer recomputed the slow way: for each
 * customer, each purchase row compared with all of them. */
/* The UTC day of a time, rounding down before 1970 too. */
static int64_t day_of(int64_t t)
{
	return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

static int brute_check(const custagg *a, const rev *evs, int n)
{
	int bad = 0;
	int64_t asof_end = (a->o.asof_day + 1) * 86400;
	for (uint32_t i = 0; i < a->ncust_out; i++) {
		ca_cust c;
		ca_get(a, a->order[i], &c);
		int64_t ndays = 0, orders = 0, win_orders = 0, recent = 0, prior = 0, amount = 0,
		        win_amount = 0, refunds = 0, last_refund = RTN_NULL, first = INT64_MAX, last = INT64_MIN,
		        prev = RTN_NULL, dlast = INT64_MIN;
		for (int j = 0; j < n; j++) {
			const rev *e = &evs[j];
			if (strcmp(e->cust, c.name) || e->t >= asof_end)
				continue;
			int64_t day = day_of(e->t);
			if (strcmp(e->type, "refund") == 0 || (strcmp(e->type, "order") == 0 && e->amount < 0)) {
				if (day >= a->o.window_start_day)
					refunds += e->amount < 0 ? -e->amount : e->amount;
				if (e->t > last_refund)
					last_refund = e->t;
			}
			if (strcmp(e->type, "order") || e->amount < 0)
				continue;
			amount += e->amount;
			win_amount += day >= a->o.window_start_day ? e->amount : 0;
			int newday = 1, neworder = 1;
			int64_t oday = day;   /* the order's earliest day */
			for (int k = 0; k < n; k++) {
				const rev *f = &evs[k];
				if (strcmp(f->cust, e->cust) || strcmp(f->type, "order") || f->amount < 0 ||
				    f->t >= asof_end)
					continue;
				int same = f->order[0] ? strcmp(f->order, e->order) == 0 : !e->order[0] && f->t == e->t;
				int earlier = f->t < e->t || (f->t == e->t && k < j);
				if (earlier && day_of(f->t) == day)
					newday = 0;
				if (same && earlier)
					neworder = 0;
				if (same && day_of(f->t) < oday)
					oday = day_of(f->t);
			}
			ndays += newday;
			if (newday && day > dlast) {   /* the two latest distinct days */
				prev = dlast == INT64_MIN ? RTN_NULL : dlast;
				dlast = day;
			} else if (newday && (prev == RTN_NULL || day > prev)) {
				prev = day;
			}
			if (day < first)
				first = day;
			if (day > last)
				last = day;
			if (neworder) {
				orders++;
				win_orders += oday >= a->o.window_start_day;
				recent += oday >= a->o.recent_start_day;
				prior += oday < a->o.recent_start_day;
			}
		}
		int64_t first_amount = 0;
		for (int j = 0; j < n; j++) {
			const rev *e = &evs[j];
			if (!strcmp(e->cust, c.name) && e->t < asof_end && !strcmp(e->type, "order") &&
			    e->amount >= 0 && day_of(e->t) == first)
				first_amount += e->amount;
		}
		if (c.ndays != ndays || c.orders != orders || c.win_orders != win_orders ||
		    c.recent_orders != recent || c.prior_orders != prior || c.purchase_amount != amount ||
		    c.win_amount != win_amount || c.win_refunds != refunds || c.last_refund != last_refund ||
		    c.first_day != first || c.last_day != last || c.prev_day != prev ||
		    c.first_day_amount != first_amount) {
			if (bad++ < 3)
				fprintf(stderr, "brute: %s: days %lld/%lld orders %lld/%lld win %lld/%lld prev %lld/%lld\n",
				        c.name, (long long)c.ndays, (long long)ndays, (long long)c.orders,
				        (long long)orders, (long long)c.win_orders, (long long)win_orders,
				        (long long)c.prev_day, (long long)prev);
		}
	}
	return bad;
}

static void test_random_sorted_unsorted(void)
{
	enum { N = 20000 };
	static rev evs[N];
	static const char *chans[] = {"", "ads", "mail", "shop"};
	for (int i = 0; i < N; i++) {
		rev *e = &evs[i];
		int c = (int)(rnd() % 3000);   /* the table doubles twice */
		if (i % 6 == 0)
			c = 7;   /* one customer with thousands of runs */
		/* ids of every length around the inline limit (14 bytes) */
		static const char *pad[] = {"", "0000000000", "00000000000", "000000000000",
		                            "0000000000000000000000000000"};
		snprintf(e->cust, sizeof e->cust, "c%s%d", pad[c % 5], c * c % 997);
		int64_t day = 19000 + (int64_t)(rnd() % (c % 7 == 0 ? 30 : 700));
		if (i == 5 || i == 6)
			day -= 40000;   /* 110 years before: too far for a narrow run */
		e->t = day * 86400 + (int64_t)(rnd() % 4) * 3600;
		int k = (int)(rnd() % 20);
		e->type = k < 15 ? "order" : k < 17 ? "refund" : "visit";
		e->amount = k < 15 ? (int64_t)(rnd() % 100000) : k < 17 ? -(int64_t)(rnd() % 5000) : RTN_NULL;
		if (k < 12)
			/* an order spans up to 30 days (rows of one order on other days) */
			snprintf(e->order, sizeof e->order, "o%lld", (long long)(day / 30 * 4 + e->t / 3600 % 24));
		else
			e->order[0] = 0;
		e->channel = chans[rnd() % 4];
	}
	rtn_schema s = events_schema();
	ca_opts o;
	memset(&o, 0, sizeof o);
	o.have_asof = 1;
	o.asof_day = 19600;
	o.window_start_day = 19400;
	o.recent_start_day = 19550;
	o.ncarry = 1;
	o.carry[0] = "channel";
	o.nevents = 1;
	o.events[0] = "visit";
	custagg *ag[4];
	int straddle = 0;
	/* mode 2: shuffled again, and the log of runs turns wide once j > 2;
	 * mode 3: runs of 1 to 6 events of one customer, shuffled (as the lines
	 * of an order come together) */
	for (int mode = 0; mode < 4; mode++) {
		if (mode == 0) {
			qsort(evs, N, sizeof *evs, rev_cmp);
		} else if (mode == 3) {
			static rev tmp[N];
			static int start[N], len[N];
			int nr = 0;
			qsort(evs, N, sizeof *evs, rev_cmp);
			for (int i = 0; i < N; nr++) {
				int l = 1;
				while (l < 1 + (int)(rnd() % 6) && i + l < N && !strcmp(evs[i + l].cust, evs[i].cust))
					l++;
				start[nr] = i;
				len[nr] = l;
				i += l;
			}
			for (int i = nr - 1; i > 0; i--) {
				int j = (int)(rnd() % (uint64_t)(i + 1)), x = start[i], y = len[i];
				start[i] = start[j], len[i] = len[j];
				start[j] = x, len[j] = y;
			}
			for (int r = 0, k = 0; r < nr; k += len[r++])
				memcpy(&tmp[k], &evs[start[r]], (size_t)len[r] * sizeof *evs);
			memcpy(evs, tmp, sizeof tmp);
			/* a run across custagg's batches of 4096 events */
			for (int i = 4096; i < N; i += 4096)
				straddle += !strcmp(evs[i - 1].cust, evs[i].cust);
		} else {
			for (int i = N - 1; i > 0; i--) {
				int j = (int)(rnd() % (uint64_t)(i + 1));
				rev tmp = evs[i];
				evs[i] = evs[j];
				evs[j] = tmp;
			}
		}
		o.sorted = mode == 0;
		ag[mode] = ca_new(&o);
		if (mode == 2)
			ag[mode]->narrow_j_max = 2;
		ca_bind(ag[mode], &s, "test");
		for (int i = 0; i < N; i++)
			feed_rev(ag[mode], &evs[i]);
		ca_finish(ag[mode]);
	}
	CHECK(ag[0]->ncust_out == ag[1]->ncust_out && ag[0]->ncust_out > 250, "random: same customers (%u)",
	      ag[0]->ncust_out);
	int bad = 0;
	int64_t maxorders = 0;
	for (uint32_t i = 0; i < ag[0]->ncust_out && i < ag[1]->ncust_out; i++) {
		ca_cust x0, y0, *x = &x0, *y = &y0;
		ca_get(ag[0], ag[0]->order[i], x);
		ca_get(ag[1], ag[1]->order[i], y);
		const ca_carry *cx = &ag[0]->carry[ag[0]->order[i]], *cy = &ag[1]->carry[ag[1]->order[i]];
		const ca_typecount *tx = &ag[0]->types[ag[0]->order[i]], *ty = &ag[1]->types[ag[1]->order[i]];
		if (strcmp(x->name, y->name) || x->first_t != y->first_t ||
		    x->last_t != y->last_t || x->first_day != y->first_day || x->last_day != y->last_day ||
		    x->prev_day != y->prev_day || x->ndays != y->ndays || x->orders != y->orders ||
		    x->win_orders != y->win_orders || x->recent_orders != y->recent_orders ||
		    x->prior_orders != y->prior_orders || x->purchase_amount != y->purchase_amount ||
		    x->first_day_amount != y->first_day_amount || x->win_amount != y->win_amount ||
		    x->win_refunds != y->win_refunds || x->last_refund != y->last_refund ||
		    cx->len != cy->len || memcmp(ag[0]->strings + cx->off, ag[1]->strings + cy->off, cx->len) ||
		    tx->count != ty->count || tx->last != ty->last)
			bad++;
		if (x->orders > maxorders)
			maxorders = x->orders;
	}
	CHECK(bad == 0, "random: sorted and shuffled input agree on every aggregate (%d differ)", bad);
	CHECK(maxorders > 30, "random: some customer has many orders (%lld): its list spans many blocks",
	      (long long)maxorders);
	CHECK(brute_check(ag[1], evs, N) == 0, "random: totals equal a brute-force count");
	CHECK(ag[1]->run_size == 16, "random: a purchase 110 years away made the log wide");
	CHECK(ag[2]->run_size == 16 && brute_check(ag[2], evs, N) == 0,
	      "random: totals equal a brute-force count when the log turns wide mid-way");
	CHECK(straddle > 0 && brute_check(ag[3], evs, N) == 0,
	      "random: totals equal a brute-force count when a customer's events come in runs (%d across batches)",
	      straddle);
	CHECK(memcmp(&ag[0]->st, &ag[1]->st, sizeof ag[0]->st) == 0, "random: same accounting");
	const ca_stats *st = &ag[1]->st;
	CHECK(st->read == N && st->purchases + st->refunds + st->tracked + st->other + st->after_asof +
	      st->no_time == N, "random: accounting adds up");
	ca_free(ag[0]);
	ca_free(ag[1]);
	ca_free(ag[2]);
	ca_free(ag[3]);
	for (int i = 0; i < s.n; i++)
		free(s.cols[i].name);
	free(s.cols);
}

/* 300,000 customers, each with one order, then each again with a second:
 * the table doubles in place nine times and must find every one of them
 * again (a customer lost by a move would be counted twice). */
static void test_table_growth(void)
{
	rtn_schema s = events_schema();
	ca_opts o;
	memset(&o, 0, sizeof o);
	custagg *a = ca_new(&o);
	ca_bind(a, &s, "test");
	enum { NC = 300000 };
	char id[24], ord[40];
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < NC; i++) {
			rtn_value v[6];
			memset(v, 0, sizeof v);
			snprintf(id, sizeof id, "cust%lld", (long long)i * 7919 % NC);
			snprintf(ord, sizeof ord, "o%d-%d", i, pass);
			v[0] = rtn_str(id);
			v[1].i = (int64_t)(19000 + pass * 10) * 86400;
			v[2].i = 100;
			v[3] = rtn_str(ord);
			v[4] = rtn_str("order");
			v[5] = rtn_str("");
			if (ca_add(a, v) != 0)
				CHECK(0, "growth: add");
		}
	CHECK(a->ncust == NC && a->tcap >= (uint64_t)NC * 10 / 7, "growth: %u customers in a table of %llu slots",
	      a->ncust, (unsigned long long)a->tcap);
	ca_finish(a);
	int bad = 0;
	for (uint32_t i = 0; i < a->ncust_out; i++) {
		ca_cust c;
		ca_get(a, a->order[i], &c);
		bad += c.orders != 2 || c.ndays != 2;
	}
	CHECK(a->ncust_out == NC && bad == 0, "growth: every customer found again (%d wrong)", bad);
	ca_free(a);
	for (int i = 0; i < s.n; i++)
		free(s.cols[i].name);
	free(s.cols);
}

/* An aggregator with no options beyond sorted, bound to schema s. */
static custagg *agg_plain(const rtn_schema *s, int sorted)
{
	ca_opts o;
	memset(&o, 0, sizeof o);
	o.sorted = sorted;
	custagg *a = ca_new(&o);
	ca_bind(a, s, "test");
	return a;
}

/* Ids of every length from 1 to 20 bytes (held in the record up to 14),
 * each beside one that differs only in its last byte, and one that differs
 * only in its first: every id comes back byte for byte, with its own
 * orders, from unsorted and from sorted input. */
static void test_id_lengths(void)
{
	rtn_schema s = events_schema();
	for (int sorted = 0; sorted <= 1; sorted++) {
		custagg *a = agg_plain(&s, sorted);
		char ids[60][24];
		int nid = 0;
		for (int n = 1; n <= 20; n++)
			for (int k = 0; k < 3; k++) {
				char *id = ids[nid++];
				for (int j = 0; j < n; j++)
					id[j] = (char)('A' + (n * 7 + j * 3) % 26);
				if (k == 1)
					id[n - 1] = '~';   /* after every letter */
				if (k == 2)
					id[0] = '!';   /* before every letter */
				id[n] = 0;
			}
		/* sorted input comes in byte order: sort the ids first */
		qsort(ids, (size_t)nid, sizeof ids[0], (int (*)(const void *, const void *))strcmp);
		for (int i = 0; i < nid; i++)
			for (int r = 0; r <= i % 3; r++) {   /* i % 3 + 1 orders */
				char order[16];
				snprintf(order, sizeof order, "o%d", r);
				ev e = {ids[i], 2024, 1, 1 + r, 10, M(1), order, "order", ""};
				feed(a, &e);
			}
		ca_finish(a);
		int bad = 0;
		for (uint32_t i = 0; i < a->ncust_out; i++) {
			ca_cust c;
			ca_get(a, a->order[i], &c);
			bad += (int)i >= nid || c.name_len != strlen(ids[i]) || strcmp(c.name, ids[i]) ||
			       c.orders != (int64_t)(i % 3 + 1);
		}
		CHECK(a->ncust_out == (uint32_t)nid && bad == 0,
		      "%s input: ids of 1 to 20 bytes come back as they were (%u customers, %d differ)",
		      sorted ? "sorted" : "unsorted", a->ncust_out, bad);
		ca_free(a);
	}
	for (int i = 0; i < s.n; i++)
		free(s.cols[i].name);
	free(s.cols);
}

/* Order ids of 1 to 20 bytes, each differing from another of its length in
 * one byte (every position) or in its length alone: all distinct orders.
 * Order keys are hashes of the ids; one that left out a byte would merge
 * two of them. */
static void test_order_id_bytes(void)
{
	rtn_schema s = events_schema();
	for (int sorted = 0; sorted <= 1; sorted++) {
		custagg *a = agg_plain(&s, sorted);
		int norders = 0;
		for (int n = 1; n <= 20; n++)
			for (int pos = -1; pos < n; pos++) {   /* -1: the base id */
				char order[24];
				for (int j = 0; j < n; j++)
					order[j] = (char)('0' + (n + j) % 10);
				if (pos >= 0)
					order[pos] = (char)(order[pos] == 'x' ? 'y' : 'x');
				order[n] = 0;
				/* two lines of each order, an hour apart: one order still */
				for (int line = 0; line < 2; line++) {
					ev e = {"C1", 2024, 1 + norders / 28, 1 + norders % 28, 10 + line, M(1), order, "order", ""};
					feed(a, &e);
				}
				norders++;
			}
		ca_finish(a);
		ca_cust c;
		ca_get(a, a->order[0], &c);
		CHECK(a->ncust_out == 1 && c.orders == norders,
		      "%s input: %d order ids differing in one byte or in length count %lld orders",
		      sorted ? "sorted" : "unsorted", norders, (long long)c.orders);
		ca_free(a);
	}
	for (int i = 0; i < s.n; i++)
		free(s.cols[i].name);
	free(s.cols);
}

int main(void)
{
	test_id_lengths();
	test_order_id_bytes();
	test_case1();
	test_ties();
	test_breaks_text();
	test_classic8();
	test_named();
	test_stages();
	test_random_sorted_unsorted();
	test_table_growth();
	return unit_done();
}
