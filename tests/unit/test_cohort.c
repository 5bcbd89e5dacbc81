/* Unit tests for lib/cohort.c, lib/lifetable.c and lib/svg.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cohort.h"
#include "lifetable.h"
#include "svg.h"
#include "timeparse.h"
#include "unit.h"
#include "util.h"

static int64_t D(int y, int m, int d)
{
	return time_days_from_civil(y, m, d);
}

static void test_calendar(void)
{
	char b[32];
	int64_t q = cohort_period_of_day(CP_MONTH, 0, D(2024, 2, 29));
	cohort_period_label(CP_MONTH, 0, q, b);
	CHECK_STR(b, "2024-02", "month label of a leap day");
	CHECK(cohort_period_first_day(CP_MONTH, 0, q + 1) == D(2024, 3, 1), "month after Feb 2024 starts Mar 1");
	q = cohort_period_of_day(CP_QUARTER, 0, D(2023, 12, 31));
	cohort_period_label(CP_QUARTER, 0, q, b);
	CHECK_STR(b, "2023-Q4", "quarter label");
	CHECK(cohort_period_first_day(CP_QUARTER, 0, q + 1) == D(2024, 1, 1), "quarter after 2023-Q4");
	/* 2023-03-26 is a Sunday */
	q = cohort_period_of_day(CP_WEEK, 0, D(2023, 3, 26));
	cohort_period_label(CP_WEEK, 0, q, b);
	CHECK_STR(b, "2023-03-20", "Monday weeks: Sunday belongs to the week before");
	q = cohort_period_of_day(CP_WEEK, 6, D(2023, 3, 26));
	cohort_period_label(CP_WEEK, 6, q, b);
	CHECK_STR(b, "2023-03-26", "Sunday weeks start on the Sunday");
	CHECK(cohort_period_of_day(CP_DAY, 0, D(2023, 3, 1)) - cohort_period_of_day(CP_DAY, 0, D(2023, 1, 31)) == 29,
	      "day periods count days");
	cohort_period_label(CP_DAY, 0, D(1969, 12, 31), b);
	CHECK_STR(b, "1969-12-31", "day label before the epoch");
	q = cohort_period_of_day(CP_MONTH, 0, D(1969, 12, 31));
	cohort_period_label(CP_MONTH, 0, q, b);
	CHECK_STR(b, "1969-12", "month label before the epoch");
}

static void test_tenure(void)
{
	CHECK(cohort_tenure(CP_MONTH, D(2023, 1, 31), D(2023, 2, 28)) == 1, "Jan 31 to Feb 28 is one month");
	CHECK(cohort_tenure(CP_MONTH, D(2023, 1, 31), D(2023, 2, 27)) == 0, "Jan 31 to Feb 27 is no month");
	CHECK(cohort_tenure(CP_MONTH, D(2024, 2, 29), D(2024, 3, 29)) == 1, "Feb 29 to Mar 29 is one month");
	CHECK(cohort_tenure(CP_MONTH, D(2024, 2, 29), D(2024, 3, 28)) == 0, "Feb 29 to Mar 28 is no month");
	CHECK(cohort_tenure(CP_MONTH, D(2024, 2, 29), D(2025, 2, 28)) == 12, "Feb 29 to next Feb 28 is a year");
	CHECK(cohort_tenure(CP_QUARTER, D(2023, 1, 15), D(2023, 7, 14)) == 1, "quarters: 5 months is one");
	CHECK(cohort_tenure(CP_WEEK, D(2023, 1, 1), D(2023, 1, 14)) == 1, "13 days is one week");
	CHECK(cohort_tenure(CP_DAY, D(2023, 1, 1), D(2023, 1, 1)) == 0, "same day is tenure 0");
	duration d = {30, DUR_DAYS};
	CHECK(cohort_within_end(&d, D(2023, 1, 1)) == D(2023, 1, 30), "30d covers days 0..29");
	d = (duration){1, DUR_MONTHS};
	CHECK(cohort_within_end(&d, D(2023, 1, 31)) == D(2023, 2, 27), "1mo from Jan 31 ends Feb 27");
	d = (duration){1, DUR_YEARS};
	CHECK(cohort_within_end(&d, D(2024, 2, 29)) == D(2025, 2, 27), "1y from Feb 29 ends Feb 27");
	d = (duration){2, DUR_WEEKS};
	CHECK(cohort_within_end(&d, D(2023, 1, 1)) == D(2023, 1, 14), "2w covers 14 days");
}

static void test_money(void)
{
	CHECK(cohort_money_div(15, 2) == 8, "7.5 rounds away from zero");
	CHECK(cohort_money_div(-15, 2) == -8, "-7.5 rounds away from zero");
	CHECK(cohort_money_div(7, 3) == 2, "7/3 rounds down");
	CHECK(cohort_money_div(8, 3) == 3, "8/3 rounds up");
	CHECK(cohort_money_div(5, 0) == RTN_NULL, "division by no customers is null");
	CHECK(cohort_money_div(RTN_NULL, 3) == RTN_NULL, "null stays null");
}

static void test_parse(void)
{
	cohort_spec s;
	char err[160];
	int x;
	cohort_spec_init(&s);
	CHECK(cohort_parse_windows("0-7,8-30,31-90", &s, err, sizeof err) == 0 && s.nwin == 3 &&
	      s.win_lo[1] == 8 && s.win_hi[2] == 90 && s.mode == CM_WINDOWS, "windows parse");
	CHECK(cohort_parse_windows("7-0", &s, err, sizeof err) == -1, "reversed window refused");
	CHECK(cohort_parse_windows("0-7,", &s, err, sizeof err) == -1, "trailing comma refused");
	CHECK(cohort_parse_windows("0-7;8-9", &s, err, sizeof err) == -1, "bad separator refused");
	CHECK(cohort_parse_windows("", &s, err, sizeof err) == -1, "empty list refused");
	CHECK(cohort_parse_windows("-1-5", &s, err, sizeof err) == -1, "negative refused");
	CHECK(cohort_parse_period("quarter", &x) == 0 && x == CP_QUARTER, "period quarter");
	CHECK(cohort_parse_period("year", &x) == -1, "period year refused");
	CHECK(cohort_parse_mode("within-n", &x) == 0 && x == CM_WITHIN_N, "mode within-n");
	CHECK(cohort_parse_metric("cum-revenue-per-customer", &x) == 0 && x == CMET_CUM_REV_PER_CUSTOMER, "metric");
	CHECK(cohort_parse_format("html", &x) == 0 && x == CF_HTML, "format html");
}

static void test_meta_roundtrip(void)
{
	cohort_spec s, t;
	char err[160];
	cohort_spec_init(&s);
	s.period = CP_WEEK;
	s.week_start = 6;
	strcpy(s.tz_name, "Europe/Berlin");
	s.has_asof = 1;
	s.asof_day = D(2024, 2, 29);
	strcpy(s.by, "channel");
	strcpy(s.split_event, "visit");
	s.split_within = (duration){2, DUR_MONTHS};
	s.max_periods = 12;
	cohort_parse_windows("0-7,8-30", &s, err, sizeof err);
	rtn_header *h = rtn_header_new(RTN_KIND_COHORT);
	cohort_spec_to_meta(&s, h);
	CHECK(cohort_spec_from_meta(&t, h, err, sizeof err) == 0, "settings read back");
	CHECK(memcmp(&s, &t, sizeof s) == 0, "settings identical after the round trip");
	rtn_header_free(h);
	h = rtn_header_new(RTN_KIND_COHORT);
	CHECK(cohort_spec_from_meta(&t, h, err, sizeof err) == -1 && strstr(err, "table"),
	      "missing settings refused: %s", err);
	rtn_header_free(h);
}

static void test_life(void)
{
	duration d30 = {30, DUR_DAYS};
	int64_t tenure = -1;
	int32_t days[4];
	int64_t s = D(2023, 1, 1);
	days[0] = (int32_t)(s + 20);
	days[1] = (int32_t)(s + 60); /* 40-day gap: churn at day 20 */
	CHECK(life_customer(CP_DAY, s, days, 2, s + 100, &d30, &tenure) == 1 && tenure == 20,
	      "churned at the last activity before the long gap (tenure %lld)", (long long)tenure);
	CHECK(life_customer(CP_DAY, s, days, 1, s + 50, &d30, &tenure) == 0 && tenure == 50,
	      "30 days of silence is not yet churn: censored at asof");
	CHECK(life_customer(CP_DAY, s, days, 1, s + 51, &d30, &tenure) == 1 && tenure == 20,
	      "31 days of silence is churn");
	CHECK(life_customer(CP_DAY, s, days, 2, s + 40, &d30, &tenure) == 0 && tenure == 40,
	      "events after asof are ignored");
	CHECK(life_customer(CP_MONTH, s, NULL, 0, s + 20, &d30, &tenure) == 0 && tenure == 0,
	      "new customer censored at tenure 0");
	int64_t churned[3] = {1, 1, 0}, censored[3] = {1, 0, 2};
	life_row r[3];
	life_compute(3, churned, censored, r);
	CHECK(r[0].at_risk == 5 && r[1].at_risk == 3 && r[2].at_risk == 2, "at risk counts");
	CHECK_NEAR(r[0].hazard, 0.2, 1e-12, "hazard 0");
	CHECK_NEAR(r[1].survival, 0.8 * (2.0 / 3.0), 1e-12, "Kaplan-Meier survival");
	CHECK_NEAR(r[2].survival, 0.8 * (2.0 / 3.0), 1e-12, "no churn keeps survival");
	double s0 = 0.8, s1 = 0.8 * 2 / 3.0;
	CHECK_NEAR(r[2].expected, (s1 + s1) / 2 / s1, 1e-12, "expected remaining, last period");
	CHECK_NEAR(r[0].expected, (1 + s0) / 2 + (s0 + s1) / 2 + (s1 + s1) / 2, 1e-12, "expected remaining, first");
}

static void test_svg(void)
{
	svg_buf b = {NULL, 0, 0};
	svg_put_escaped(&b, "<a&\"b'>\x01", 8);
	CHECK_STR(b.p, "&lt;a&amp;&quot;b&#39;&gt;\xef\xbf\xbd", "XML escaping");
	svg_free(&b);
	svg_data_uri(&b, "abcd", 4);
	CHECK_STR(b.p, "data:image/svg+xml;base64,YWJjZA==", "base64 data URI");
	svg_free(&b);
	char c[8];
	svg_color(0, c);
	CHECK_STR(c, "#ffffd9", "scale starts light");
	svg_color(1, c);
	CHECK_STR(c, "#0c2c84", "scale ends dark");
	svg_color(NAN, c);
	CHECK_STR(c, "#eeeeee", "missing is grey");
	int lo = svg_color_ansi256(0), hi = svg_color_ansi256(1);
	CHECK(lo >= 16 && lo <= 231 && hi >= 16 && hi <= 231 && lo != hi, "ANSI colours in the cube");
	const char *rows[] = {"2023-01 (2)"}, *cols[] = {"M0", "M1"}, *txt[] = {"100.0%", "-"};
	double vals[] = {1, NAN};
	svg_heatmap hm = {"t", 1, 2, rows, cols, "cohort", vals, txt, 0, 1, "rate", 1, 0};
	double w, h;
	svg_heatmap_size(&hm, &w, &h);
	svg_begin(&b, w, h, "x", 1);
	svg_heatmap_draw(&b, &hm, 0, 0);
	svg_end(&b);
	CHECK(strstr(b.p, ">100.0%</text>") && strstr(b.p, "fill=\"#eeeeee\""), "heatmap cells and missing cell");
	CHECK(strstr(b.p, "</svg>\n") == b.p + b.len - 7, "document closed");
	svg_free(&b);
}

/* Events through the accumulator, then the table. */
static void test_acc(void)
{
	rtn_schema sc = {0, NULL};
	rtn_schema_add(&sc, "customer", RTN_STRING);
	rtn_schema_add(&sc, "time", RTN_TIME);
	rtn_schema_add(&sc, "amount", RTN_MONEY);
	rtn_schema_add(&sc, "order", RTN_STRING);
	rtn_schema_add(&sc, "type", RTN_STRING);
	rtn_schema_add(&sc, "channel", RTN_STRING);
	cohort_spec sp;
	cohort_spec_init(&sp);
	strcpy(sp.by, "channel");
	static const struct {
		const char *c;
		int y, m, d;
		int64_t amount;
		const char *type, *ch;
	} ev[] = {
		{"a", 2023, 1, 5, 100000, "order", "ads"},  {"a", 2023, 2, 10, 200000, "order", "ads"},
		{"b", 2023, 1, 31, 70000, "order", "ref"},  {"b", 2023, 3, 1, 30000, "order", "ref"},
		{"b", 2023, 3, 2, -10000, "refund", "ref"}, {"a", 2023, 1, 5, RTN_NULL, "visit", "x"},
		{"", 2023, 1, 5, 1, "order", "ads"},        {"c", 2023, 1, 1, -50000, "refund", "ads"},
		{"b", 2023, 1, 31, 10000, "order", "ads"}, /* same time: smaller channel wins */
	};
	cohort_acc *a = cohort_acc_new(&sp, NULL, &sc, "test");
	for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++) {
		rtn_value v[6];
		memset(v, 0, sizeof v);
		v[0] = rtn_str(ev[i].c);
		v[1].i = time_day_start(D(ev[i].y, ev[i].m, ev[i].d), NULL) + 3600;
		v[2].i = ev[i].amount;
		v[3] = rtn_str("");
		v[4] = rtn_str(ev[i].type);
		v[5] = rtn_str(ev[i].ch);
		cohort_acc_add(a, v);
	}
	cohort_stats st;
	cohort_table *t = cohort_acc_finish(a, &st);
	cohort_acc_free(a);
	CHECK(st.read == 9 && st.used == 7 && st.ignored == 1 && st.no_customer == 1,
	      "accounting: read %llu used %llu ignored %llu", (unsigned long long)st.read,
	      (unsigned long long)st.used, (unsigned long long)st.ignored);
	CHECK(st.customers == 3 && st.no_start == 1, "customer without an order has no cohort");
	CHECK(t->spec.asof_day == D(2023, 3, 2), "asof defaults to the last event day");
	CHECK(t->npanel == 1 && strcmp(t->panels[0].group, "ads") == 0,
	      "b's tie on the first order takes the smaller channel (%d panels)", t->npanel);
	cohort_row *r = cohort_row_get(&t->panels[0], 2023 * 12);
	CHECK(r && r->size == 2 && r->ncell == 3, "January cohort of two, three periods");
	CHECK(r && r->cell[0].customers == 2 && r->cell[0].orders == 3 && r->cell[0].revenue == 180000,
	      "period 0: both, three orders, 18.00");
	CHECK(r && r->cell[1].customers == 1 && r->cell[1].revenue == 200000, "period 1: a");
	CHECK(r && r->cell[2].customers == 1 && r->cell[2].orders == 1 && r->cell[2].revenue == 20000,
	      "period 2: b, refund nets revenue but is no order");
	int64_t cum = 0;
	cohort_value v;
	cohort_value_of(t, r, 2, &cum, &v);
	CHECK(v.state == 1 && v.rate == 0.5, "March is partial on Mar 2 with rate 0.5");
	cohort_value_of(t, r, 3, &cum, &v);
	CHECK(v.state == 0 && v.customers == RTN_NULL && isnan(v.rate), "beyond the table: future, null");
	/* partial stream round trip */
	char path[4096];
	const char *tmp = getenv("TMPDIR");
	snprintf(path, sizeof path, "%s/test_cohort.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(path);
	CHECK(fd >= 0, "temporary file");
	close(fd);
	rtn_header *h = cohort_partial_header(t, 0, NULL, NULL);
	rtn_writer *w = rtn_writer_open(path, h, 0);
	cohort_write_partial(t, w);
	rtn_writer_close(w);
	rtn_header_free(h);
	char *p = path;
	rtn_reader *rd = rtn_reader_open(&p, 1);
	cohort_spec back;
	char err[160];
	CHECK(cohort_spec_from_meta(&back, rtn_reader_header(rd), err, sizeof err) == 0, "partial settings");
	cohort_table *t2 = cohort_table_new(&back, NULL);
	cohort_combine_add(t2, rd, "test");
	rtn_reader_close(rd);
	unlink(path);
	cohort_row *r2 = t2->npanel == 1 ? cohort_row_get(&t2->panels[0], 2023 * 12) : NULL;
	CHECK(r2 && r2->size == 2 && r2->cell[0].revenue == 180000 && r2->cell[2].customers == 1,
	      "partial cells read back");
	cohort_table_free(t2);
	cohort_table_free(t);
	for (int i = 0; i < sc.n; i++)
		free(sc.cols[i].name);
	free(sc.cols);
}

int main(void)
{
	rtn_init("test_cohort");
	test_calendar();
	test_tenure();
	test_money();
	test_parse();
	test_meta_roundtrip();
	test_life();
	test_svg();
	test_acc();
	return unit_done();
}
