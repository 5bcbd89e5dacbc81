/* synth: simulation of purchase-and-dropout processes and their output as
 * CSV or an events stream. Model and conventions in synth.h. */
#include "synth.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "timeparse.h"
#include "util.h"

#define WEEK 604800.0
#define DAY INT64_C(86400)
#define SKU_CATALOG 4999.0
#define MAX_ITEMS 20

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

void synth_opts_init(synth_opts *o)
{
	memset(o, 0, sizeof *o);
	o->model = SYNTH_BGNBD;
	o->customers = 1000;
	o->seed = 1;
	synth_parse_date("2023-01-01", &o->start_day, NULL, 0);
	synth_parse_date("2024-12-31", &o->end_day, NULL, 0);
	o->asof_day = INT64_MIN; /* = end_day unless given */
	o->base = (synth_params){.p = 6.25, .q = 3.74, .gamma = 15.44};
	synth_set_model(o, SYNTH_BGNBD);
	o->items = 1.6;
	o->format = SYNTH_CSV;
	o->header = 1;
}

void synth_set_model(synth_opts *o, int model)
{
	o->model = model;
	if (model == SYNTH_PNBD) {
		o->base.r = 0.55, o->base.alpha = 10.58, o->base.s = 0.61, o->base.beta = 11.67;
		o->base.a = o->base.b = 0;
	} else {
		o->base.r = 0.243, o->base.alpha = 4.414, o->base.a = 0.793, o->base.b = 2.426;
		o->base.s = o->base.beta = 0;
	}
}

/* ---- parsing ---------------------------------------------------------- */

static double *param_field(synth_params *p, const char *name, size_t n)
{
	static const struct { const char *name; size_t off; } fields[] = {
		{"r", offsetof(synth_params, r)},         {"alpha", offsetof(synth_params, alpha)},
		{"a", offsetof(synth_params, a)},         {"b", offsetof(synth_params, b)},
		{"s", offsetof(synth_params, s)},         {"beta", offsetof(synth_params, beta)},
		{"p", offsetof(synth_params, p)},         {"q", offsetof(synth_params, q)},
		{"gamma", offsetof(synth_params, gamma)},
	};
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		if (strlen(fields[i].name) == n && memcmp(fields[i].name, name, n) == 0)
			return (double *)((char *)p + fields[i].off);
	return NULL;
}

/* Parses a positive finite number from s[0..n). */
static int parse_positive(const char *s, size_t n, double *out)
{
	char tmp[64];
	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	char *end;
	errno = 0;
	double v = strtod(tmp, &end);
	if (*end || errno || !isfinite(v) || !(v > 0))
		return -1;
	*out = v;
	return 0;
}

/* Parses "k=v,k=v" in s[0..n). */
static int parse_params_n(const char *s, size_t n, synth_params *p, char *err, size_t errlen)
{
	const char *end = s + n;
	if (n == 0)
		return fail(err, errlen, "empty parameter list");
	while (s < end) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *item_end = comma ? comma : end;
		const char *eq = memchr(s, '=', (size_t)(item_end - s));
		if (!eq)
			return fail(err, errlen, "'%.*s' is not NAME=VALUE", (int)(item_end - s), s);
		double *f = param_field(p, s, (size_t)(eq - s));
		if (!f)
			return fail(err, errlen, "unknown parameter '%.*s' (known: r alpha a b s beta p q gamma)",
				    (int)(eq - s), s);
		if (parse_positive(eq + 1, (size_t)(item_end - eq - 1), f) < 0)
			return fail(err, errlen, "%.*s: '%.*s' is not a positive number", (int)(eq - s), s,
				    (int)(item_end - eq - 1), eq + 1);
		s = comma ? comma + 1 : end;
	}
	return 0;
}

double synth_parse_double(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v < lo || v > hi)
		rtn_die(RTN_EXIT_USAGE, "%s: '%s' is not a number from %g to %g", opt, s, lo, hi);
	return v;
}

int synth_parse_params(const char *spec, synth_params *p, char *err, size_t errlen)
{
	return parse_params_n(spec, strlen(spec), p, err, errlen);
}

int synth_parse_channels(const char *spec, synth_opts *o, char *err, size_t errlen)
{
	const char *s = spec, *end = spec + strlen(spec);
	o->nchannels = 0;
	while (s < end) {
		const char *semi = memchr(s, ';', (size_t)(end - s));
		const char *ce = semi ? semi : end;
		if (ce == s) { /* tolerate a trailing or doubled ';' */
			s = ce + 1;
			continue;
		}
		if (o->nchannels == SYNTH_MAX_CHANNELS)
			return fail(err, errlen, "more than %d channels", SYNTH_MAX_CHANNELS);
		synth_channel *c = &o->ch[o->nchannels];
		const char *c1 = memchr(s, ':', (size_t)(ce - s));
		if (!c1)
			return fail(err, errlen, "'%.*s' is not NAME:WEIGHT[:PARAMS]", (int)(ce - s), s);
		size_t nlen = (size_t)(c1 - s);
		if (nlen == 0 || nlen > SYNTH_NAME_MAX)
			return fail(err, errlen, "channel name must have 1 to %d characters", SYNTH_NAME_MAX);
		for (size_t i = 0; i < nlen; i++) {
			char ch = s[i];
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			      ch == '_' || ch == '-' || ch == '.'))
				return fail(err, errlen, "channel '%.*s': names use letters, digits, '_', '-', '.'",
					    (int)nlen, s);
		}
		memcpy(c->name, s, nlen);
		c->name[nlen] = 0;
		for (int i = 0; i < o->nchannels; i++)
			if (strcmp(o->ch[i].name, c->name) == 0)
				return fail(err, errlen, "channel '%s' given twice", c->name);
		const char *c2 = memchr(c1 + 1, ':', (size_t)(ce - c1 - 1));
		const char *we = c2 ? c2 : ce;
		if (parse_positive(c1 + 1, (size_t)(we - c1 - 1), &c->weight) < 0)
			return fail(err, errlen, "channel '%s': weight '%.*s' is not a positive number", c->name,
				    (int)(we - c1 - 1), c1 + 1);
		c->par = o->base;
		if (c2) {
			char sub[256];
			if (parse_params_n(c2 + 1, (size_t)(ce - c2 - 1), &c->par, sub, sizeof sub) < 0)
				return fail(err, errlen, "channel '%s': %s", c->name, sub);
		}
		o->nchannels++;
		s = semi ? semi + 1 : end;
	}
	if (o->nchannels == 0)
		return fail(err, errlen, "no channels given");
	return 0;
}

int synth_parse_date(const char *s, int64_t *day, char *err, size_t errlen)
{
	if (time_parse_date(s, day, err, errlen) != TIME_OK)
		return -1;
	if (*day < 0)
		return fail(err, errlen, "'%s' is before 1970-01-01", s);
	return 0;
}

static int check_params(const char *who, const synth_params *p, int model, char *err, size_t errlen)
{
	double need[7] = {p->r, p->alpha, model == SYNTH_PNBD ? p->s : p->a,
			  model == SYNTH_PNBD ? p->beta : p->b, p->p, p->q, p->gamma};
	for (int i = 0; i < 7; i++)
		if (!(need[i] > 0) || !isfinite(need[i]))
			return fail(err, errlen, "%s: every model and spend parameter must be positive", who);
	return 0;
}

int synth_check(const synth_opts *o, char *err, size_t errlen)
{
	if (check_params("--params/--spend", &o->base, o->model, err, errlen) < 0)
		return -1;
	for (int i = 0; i < o->nchannels; i++)
		if (check_params(o->ch[i].name, &o->ch[i].par, o->model, err, errlen) < 0)
			return -1;
	if (o->customers < 1)
		return fail(err, errlen, "--customers must be at least 1");
	if (o->end_day < o->start_day)
		return fail(err, errlen, "--end is before --start");
	if (o->asof_day != INT64_MIN && o->asof_day < o->end_day)
		return fail(err, errlen, "--asof is before --end");
	if (!(o->items >= 1 && o->items <= MAX_ITEMS))
		return fail(err, errlen, "--items must be between 1 and %d", MAX_ITEMS);
	const double rates[] = {o->dup_rate, o->refund_rate, o->bad_rate, o->alias_rate};
	const char *names[] = {"--dup-rate", "--refund-rate", "--bad-rate", "--alias-rate"};
	for (int i = 0; i < 4; i++)
		if (!(rates[i] >= 0 && rates[i] <= 1))
			return fail(err, errlen, "%s must be between 0 and 1", names[i]);
	if (o->format == SYNTH_STREAM && o->bad_rate > 0)
		return fail(err, errlen, "--bad-rate needs --format csv (a stream cannot hold a bad date)");
	return 0;
}

/* ---- simulation -------------------------------------------------------- */

static const synth_params *params_of(const synth_opts *o, int channel)
{
	return o->nchannels ? &o->ch[channel].par : &o->base;
}

static int64_t asof_end(const synth_opts *o)
{
	return ((o->asof_day == INT64_MIN ? o->end_day : o->asof_day) + 1) * DAY;
}

static void push(synth_customer *c, double t, double value)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		c->t = xrealloc(c->t, cap * sizeof *c->t);
		c->value = xrealloc(c->value, cap * sizeof *c->value);
		c->cap = cap;
	}
	c->t[c->n] = t;
	c->value[c->n] = value;
	c->n++;
}

void synth_customer_draw(const synth_opts *o, uint64_t k, synth_customer *c)
{
	rng r;
	rng_seed_stream(&r, o->seed, 3 * k);
	rng_seed_stream(&c->detail, o->seed, 3 * k + 1);
	c->index = k;
	c->n = 0;
	c->channel = 0;
	if (o->nchannels > 1) {
		double total = 0, u;
		for (int i = 0; i < o->nchannels; i++)
			total += o->ch[i].weight;
		u = rng_uniform(&r) * total;
		while (c->channel < o->nchannels - 1 && u >= o->ch[c->channel].weight)
			u -= o->ch[c->channel++].weight;
	}
	const synth_params *p = params_of(o, c->channel);
	uint64_t span = (uint64_t)((o->end_day - o->start_day + 1) * DAY);
	c->first = o->start_day * DAY + (int64_t)rng_below(&r, span);
	c->T = (double)(asof_end(o) - c->first) / WEEK;
	c->lambda = rng_gamma(&r, p->r) / p->alpha;
	c->dropout = o->model == SYNTH_PNBD ? rng_gamma(&r, p->s) / p->beta : rng_beta(&r, p->a, p->b);
	c->nu = rng_gamma(&r, p->q) / p->gamma;
	push(c, 0, rng_gamma(&r, p->p) / c->nu);
	double t = 0;
	if (o->model == SYNTH_PNBD) {
		double tau = rng_exp(&r) / c->dropout;
		double end = tau < c->T ? tau : c->T;
		c->alive = tau >= c->T;
		for (;;) {
			t += rng_exp(&r) / c->lambda;
			if (!(t < end) || c->n >= SYNTH_MAX_PURCHASES)
				break;
			push(c, t, rng_gamma(&r, p->p) / c->nu);
		}
	} else {
		c->alive = 1;
		for (;;) {
			t += rng_exp(&r) / c->lambda;
			if (!(t < c->T) || c->n >= SYNTH_MAX_PURCHASES)
				break;
			push(c, t, rng_gamma(&r, p->p) / c->nu);
			if (rng_uniform(&r) < c->dropout) {
				c->alive = 0;
				break;
			}
		}
	}
}

void synth_customer_free(synth_customer *c)
{
	free(c->t);
	free(c->value);
	c->t = c->value = NULL;
	c->n = c->cap = 0;
}

/* ---- output ------------------------------------------------------------ */

#define OBUF_SIZE (1u << 20)
#define LINE_MAX_BYTES 512

typedef struct obuf {
	char *buf;
	size_t len;
	FILE *f;
	const char *name;
} obuf;

static void obuf_flush(obuf *b)
{
	if (b->len && rtn_fwrite(b->buf, b->len, b->f) < 0)
		rtn_die(RTN_EXIT_SYSTEM, "%s: write error: %s", b->name, strerror(errno));
	b->len = 0;
}

static char *put_u64(char *p, uint64_t v, int width)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < width)
		tmp[n++] = '0';
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_str(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static const char DIGITS2[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Two digits of 0 <= v < 100, from a table (no division). */
static char *put_2(char *p, int v)
{
	memcpy(p, DIGITS2 + 2 * v, 2);
	return p + 2;
}

/* Adds one to the decimal number in s[0..*n) (all digits), growing it by a
 * digit when it was all nines (s has room for that). */
static void incr_decimal(char *s, size_t *n)
{
	for (size_t i = *n; i-- > 0;) {
		if (s[i] != '9') {
			s[i]++;
			return;
		}
		s[i] = '0';
	}
	s[0] = '1';
	s[(*n)++] = '0';
}

static char *put_4(char *p, int v)
{
	return put_2(put_2(p, v / 100), v % 100);
}

/* Bad-row kinds: what a real export gets wrong. */
enum { BAD_NONE, BAD_FEB30, BAD_MONTH13, BAD_NODATE, BAD_DATEWORD, BAD_NOAMOUNT, BAD_NA, BAD_DOTS, BAD_NAN, BAD_KINDS };

static char *put_time(char *p, int64_t t, int bad)
{
	if (bad == BAD_NODATE)
		return p;
	if (bad == BAD_DATEWORD)
		return put_str(p, "unknown", 7);
	int64_t day = t >= 0 ? t / DAY : (t - DAY + 1) / DAY;
	int64_t sec = t - day * DAY;
	int64_t y;
	int m, d;
	time_civil_from_days(day, &y, &m, &d);
	if (bad == BAD_FEB30)
		m = 2, d = 30;
	p = put_4(p, (int)y);
	*p++ = '-';
	p = put_2(p, bad == BAD_MONTH13 ? 13 : m);
	*p++ = '-';
	p = put_2(p, d);
	*p++ = 'T';
	p = put_2(p, (int)(sec / 3600));
	*p++ = ':';
	p = put_2(p, (int)(sec / 60 % 60));
	*p++ = ':';
	p = put_2(p, (int)(sec % 60));
	*p++ = 'Z';
	return p;
}

static char *put_amount(char *p, int64_t cents, int bad)
{
	switch (bad) {
	case BAD_NOAMOUNT: return p;
	case BAD_NA: return put_str(p, "N/A", 3);
	case BAD_DOTS: return put_str(p, "12.34.56", 8);
	case BAD_NAN: return put_str(p, "NaN", 3);
	default: break;
	}
	if (cents < 0) {
		*p++ = '-';
		cents = -cents;
	}
	int64_t units = cents / 100;
	if (units < 10)
		*p++ = (char)('0' + units);
	else if (units < 100)
		p = put_2(p, (int)units);
	else
		p = put_u64(p, (uint64_t)units, 1);
	*p++ = '.';
	return put_2(p, (int)(cents % 100));
}

/* Per-run state. */
typedef struct run {
	const synth_opts *o;
	const synth_out *out;
	synth_stats *st;
	obuf csv;
	int id_width;
	char order[24];       /* "O" and the order number, counting up */
	size_t order_len;
	double item_limit;
	rng mess;
	const char *channel;
	size_t channel_len;
	int channel_index;
	rtn_value vals[7];
	/* --order time: every row is kept compactly, then sorted. */
	struct trow *rows;
	size_t nrows, caprows;
} run;

/* A row held for --order time (40 bytes). */
typedef struct trow {
	int64_t time;
	int64_t cents;
	uint64_t customer;   /* index */
	uint64_t order;      /* order number in generation order, from 1 */
	uint32_t seq;        /* generation index: ties keep generation order */
	uint16_t sku;
	uint8_t channel;
	uint8_t flags;       /* bit 0 refund, bit 1 alias id, bits 2-5 bad kind */
} trow;

typedef struct row {
	const char *cust;
	size_t cust_len;
	const char *order;
	size_t order_len;
	int64_t time, cents;
	const char *sku;
	int refund;
	/* the same, as numbers, for --order time */
	uint64_t cust_index, order_no;
	int alias, sku_no;
} row;

static void emit_csv(run *R, const row *w, int bad, int dup)
{
	obuf *b = &R->csv;
	if (b->len + 2 * LINE_MAX_BYTES > OBUF_SIZE)
		obuf_flush(b);
	char *start = b->buf + b->len, *p = start;
	p = put_str(p, w->cust, w->cust_len);
	*p++ = ',';
	p = put_str(p, w->order, w->order_len);
	*p++ = ',';
	p = put_time(p, w->time, bad);
	*p++ = ',';
	p = put_amount(p, w->cents, bad);
	*p++ = ',';
	p = put_str(p, R->channel, R->channel_len);
	*p++ = ',';
	p = put_str(p, w->sku, 7);
	*p++ = '\n';
	size_t n = (size_t)(p - start);
	if (dup) {
		memcpy(p, start, n);
		n *= 2;
	}
	b->len += n;
}

static void emit_stream(run *R, const row *w)
{
	rtn_value *v = R->vals;
	v[0].s = w->cust, v[0].len = (uint32_t)w->cust_len;
	v[1].i = w->time;
	v[2].i = w->cents * (RTN_MONEY_SCALE / 100);
	v[3].s = w->order, v[3].len = (uint32_t)w->order_len;
	v[4] = rtn_str(w->refund ? "refund" : "order");
	v[5].s = R->channel, v[5].len = (uint32_t)R->channel_len;
	v[6].s = w->sku, v[6].len = 7;
	rtn_write(R->out->events, v);
}

/* Writes one row, maybe damaged, maybe twice (mess drawn from R->mess). */
static void emit(run *R, const row *w)
{
	const synth_opts *o = R->o;
	int bad = BAD_NONE, dup = 0;
	if (o->bad_rate > 0 && rng_uniform(&R->mess) < o->bad_rate)
		bad = 1 + (int)rng_below(&R->mess, BAD_KINDS - 1);
	if (o->dup_rate > 0 && rng_uniform(&R->mess) < o->dup_rate)
		dup = 1;
	R->st->rows += 1 + dup;
	R->st->dups += dup;
	R->st->bad += bad ? 1 + dup : 0;
	if (R->o->order_time) {
		for (int copy = 0; copy <= dup; copy++) {
			if (R->nrows == UINT32_MAX)
				rtn_die(RTN_EXIT_USAGE, "--order time holds at most %u rows; use --order customer",
					UINT32_MAX);
			if (R->nrows == R->caprows)
				xgrow((void **)&R->rows, &R->caprows, R->nrows + 1, sizeof *R->rows);
			R->rows[R->nrows] = (trow){.time = w->time, .cents = w->cents, .customer = w->cust_index,
						   .order = w->order_no, .seq = (uint32_t)R->nrows,
						   .sku = (uint16_t)w->sku_no, .channel = (uint8_t)R->channel_index,
						   .flags = (uint8_t)(w->refund | w->alias << 1 | bad << 2)};
			R->nrows++;
		}
	} else if (R->out->events) {
		emit_stream(R, w);
		if (dup)
			emit_stream(R, w);
	} else {
		emit_csv(R, w, bad, dup);
	}
}

static void write_text(FILE *f, const char *name, const char *s, size_t n)
{
	if (rtn_fwrite(s, n, f) < 0)
		rtn_die(RTN_EXIT_SYSTEM, "%s: write error: %s", name, strerror(errno));
}

static void write_truth(run *R, const synth_customer *c, const char *id, size_t idlen)
{
	char line[512];
	size_t x = c->n - 1;
	int n = snprintf(line, sizeof line, "%.*s,%s,%.9g,%.9g,%.9g,%d,%zu,%.9g,%.9g\n", (int)idlen, id,
			 R->channel, c->lambda, c->dropout, c->nu, c->alive, x, c->t[x], c->T);
	write_text(R->out->truth, R->out->truth_name, line, (size_t)n);
}

/* Splits cents into k line amounts of at least one cent each. */
static int split_items(rng *r, double limit, int64_t cents, int64_t *item)
{
	/* k = 1 + Poisson(mean - 1) by multiplying uniforms (Knuth), with
	 * limit = exp(-(mean - 1)) computed once per run. */
	int k = 1;
	for (double prod = rng_uniform_pos(r); prod > limit && k < MAX_ITEMS; k++)
		prod *= rng_uniform_pos(r);
	if (k > MAX_ITEMS)
		k = MAX_ITEMS;
	if (k > cents)
		k = (int)cents;
	if (k <= 1) {
		item[0] = cents;
		return 1;
	}
	double w[MAX_ITEMS], sum = 0;
	for (int i = 0; i < k; i++)
		sum += w[i] = 0.25 + rng_uniform(r);
	int64_t left = cents - k; /* one cent each, the rest by weight */
	int64_t used = 0;
	for (int i = 0; i < k - 1; i++) {
		item[i] = 1 + (int64_t)((double)left * w[i] / sum);
		used += item[i];
	}
	item[k - 1] = cents - used;
	return k;
}

static void customer_rows(run *R, synth_customer *c)
{
	const synth_opts *o = R->o;
	char id[32], alias[40], sku[8] = "SKU";
	size_t idlen = (size_t)(put_u64(id + 1, c->index + 1, R->id_width) - id), alen = 0;
	id[0] = 'C';
	int aliased = o->alias_rate > 0 && rng_uniform(&R->mess) < o->alias_rate;
	if (aliased) {
		memcpy(alias, id, idlen);
		memcpy(alias + idlen, "-b", 2);
		alen = idlen + 2;
		R->st->alias_customers++;
		if (R->out->alias) {
			char line[96];
			int n = snprintf(line, sizeof line, "%.*s,%.*s\n", (int)alen, alias, (int)idlen, id);
			write_text(R->out->alias, R->out->alias_name, line, (size_t)n);
		}
	}
	R->channel = o->nchannels ? o->ch[c->channel].name : "direct";
	R->channel_len = strlen(R->channel);
	R->channel_index = c->channel;
	int64_t limit = asof_end(o) - 1;
	for (size_t j = 0; j < c->n; j++) {
		row w = {.cust = id, .cust_len = idlen, .order = R->order, .sku = sku,
			 .cust_index = c->index, .order_no = R->st->orders + 1};
		if (aliased && j > 0 && rng_uniform(&R->mess) < 0.5) {
			w.cust = alias, w.cust_len = alen, w.alias = 1;
			R->st->alias_rows++;
		}
		size_t digits = R->order_len - 1;
		incr_decimal(R->order + 1, &digits);
		w.order_len = R->order_len = digits + 1;
		w.time = c->first + (int64_t)(c->t[j] * WEEK);
		if (w.time > limit)
			w.time = limit;
		/* Cents, at least one, at most 10^13 (extreme Gamma draws). */
		double v = c->value[j] * 100;
		int64_t cents = v < 1 ? 1 : v < 1e13 ? llround(v) : INT64_C(10000000000000);
		int64_t item[MAX_ITEMS];
		int item_sku[MAX_ITEMS];
		int k = split_items(&c->detail, R->item_limit, cents, item);
		for (int i = 0; i < k; i++) {
			/* A skewed catalogue: SKU k has probability about
			 * proportional to 1/sqrt(k), so a few sell most. */
			double u = rng_uniform(&c->detail);
			item_sku[i] = 1 + (int)(SKU_CATALOG * u * u);
			put_4(sku + 3, item_sku[i]);
			w.sku_no = item_sku[i];
			w.cents = item[i];
			emit(R, &w);
		}
		R->st->orders++;
		R->st->lines += (uint64_t)k;
		if (o->refund_rate > 0 && rng_uniform(&R->mess) < o->refund_rate) {
			int i = (int)rng_below(&R->mess, (uint64_t)k);
			put_4(sku + 3, item_sku[i]);
			w.sku_no = item_sku[i];
			w.cents = -item[i];
			w.time += (int64_t)((1 + 6 * rng_exp(&R->mess)) * DAY);
			if (w.time > limit)
				w.time = limit;
			w.refund = 1;
			emit(R, &w);
			R->st->refunds++;
		}
	}
	if (R->out->truth)
		write_truth(R, c, id, idlen);
}

static int trow_cmp(const void *pa, const void *pb)
{
	const trow *a = pa, *b = pb;
	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Orders rows by (time, seq). Usually returns the keys
 * ((time - min) << 32 | seq) sorted (rtn_radix_sort_u64): the low 32 bits
 * give the row. When the times span 2^32 seconds or more, sorts the rows
 * themselves with qsort and returns NULL. Both give the same order, as the
 * keys are unique. */
static uint64_t *sort_rows(trow *rows, size_t n)
{
	if (n == 0)
		return NULL;
	int64_t lo = rows[0].time, hi = rows[0].time;
	for (size_t i = 1; i < n; i++) {
		if (rows[i].time < lo)
			lo = rows[i].time;
		if (rows[i].time > hi)
			hi = rows[i].time;
	}
	if ((uint64_t)(hi - lo) > UINT32_MAX) {
		qsort(rows, n, sizeof *rows, trow_cmp);
		return NULL;
	}
	uint64_t *a = xmalloc((n ? n : 1) * sizeof *a);
	for (size_t i = 0; i < n; i++)
		a[i] = (uint64_t)(rows[i].time - lo) << 32 | rows[i].seq;
	rtn_radix_sort_u64(a, NULL, n);
	return a;
}

/* --order time: sorts the held rows by time (generation order on ties, so
 * an order's lines and a duplicate stay together), numbers the orders in
 * the order they first appear, and writes the rows. */
static void write_time_ordered(run *R)
{
	const synth_opts *o = R->o;
	uint64_t *perm = sort_rows(R->rows, R->nrows);
	uint64_t norders = R->st->orders, next = 0;
	uint64_t *renum = xcalloc(norders + 1, sizeof *renum);
	char id[40], order[32], sku[8] = "SKU";
	for (size_t i = 0; i < R->nrows; i++) {
		const trow *t = perm ? &R->rows[perm[i] & UINT32_MAX] : &R->rows[i];
		/* The rows are read in random order: fetch ahead. */
		if (perm && i + 16 < R->nrows) {
			__builtin_prefetch(&R->rows[perm[i + 16] & UINT32_MAX]);
		}
		row w = {.cust = id, .order = order, .sku = sku, .time = t->time, .cents = t->cents,
			 .refund = t->flags & 1};
		id[0] = 'C';
		w.cust_len = (size_t)(put_u64(id + 1, t->customer + 1, R->id_width) - id);
		if (t->flags & 2) {
			memcpy(id + w.cust_len, "-b", 2);
			w.cust_len += 2;
		}
		if (!renum[t->order])
			renum[t->order] = ++next;
		order[0] = 'O';
		w.order_len = (size_t)(put_u64(order + 1, renum[t->order], 8) - order);
		put_4(sku + 3, t->sku);
		R->channel = o->nchannels ? o->ch[t->channel].name : "direct";
		R->channel_len = strlen(R->channel);
		if (R->out->events)
			emit_stream(R, &w);
		else
			emit_csv(R, &w, t->flags >> 2, 0);
	}
	free(renum);
	free(perm);
	free(R->rows);
	R->rows = NULL;
}

rtn_header *synth_events_header(const synth_opts *o, int argc, char **argv)
{
	rtn_header *h = rtn_header_new(RTN_KIND_EVENTS);
	rtn_schema_add(&h->schema, "customer", RTN_STRING);
	rtn_schema_add(&h->schema, "time", RTN_TIME);
	rtn_schema_add(&h->schema, "amount", RTN_MONEY);
	rtn_schema_add(&h->schema, "order", RTN_STRING);
	rtn_schema_add(&h->schema, "type", RTN_STRING);
	rtn_schema_add(&h->schema, "channel", RTN_STRING);
	rtn_schema_add(&h->schema, "sku", RTN_STRING);
	rtn_header_add_prov(h, argc, argv);
	rtn_header_set_meta(h, "synth_model", o->model == SYNTH_PNBD ? "pnbd" : "bgnbd");
	rtn_header_set_meta(h, "synth_unit", "week");
	return h;
}

void synth_run(const synth_opts *o, const synth_out *out, synth_stats *st)
{
	run R;
	memset(&R, 0, sizeof R);
	memset(st, 0, sizeof *st);
	R.o = o;
	R.out = out;
	R.st = st;
	memcpy(R.order, "O00000000", 9);
	R.order_len = 9;
	R.item_limit = exp(-(o->items - 1));
	R.id_width = 7;
	for (uint64_t n = o->customers; n >= 10000000; n /= 10)
		R.id_width++;
	if (!out->events) {
		R.csv.buf = xmalloc(OBUF_SIZE);
		R.csv.f = out->csv;
		R.csv.name = out->csv_name;
		if (o->header) {
			static const char hdr[] = "customer_id,order_id,date,amount,channel,sku\n";
			memcpy(R.csv.buf, hdr, sizeof hdr - 1);
			R.csv.len = sizeof hdr - 1;
		}
	}
	if (out->alias)
		write_text(out->alias, out->alias_name, "alias,customer_id\n", 18);
	if (out->truth) {
		static const char th[] = "customer_id,channel,lambda,dropout,nu,alive,x,t_x,T\n";
		write_text(out->truth, out->truth_name, th, sizeof th - 1);
	}
	synth_customer c;
	memset(&c, 0, sizeof c);
	for (uint64_t k = 0; k < o->customers; k++) {
		synth_customer_draw(o, k, &c);
		rng_seed_stream(&R.mess, o->seed, 3 * k + 2);
		customer_rows(&R, &c);
		st->customers++;
	}
	synth_customer_free(&c);
	if (o->order_time)
		write_time_ordered(&R);
	if (!out->events) {
		obuf_flush(&R.csv);
		free(R.csv.buf);
	}
}

void synth_print_stats(FILE *f, const synth_stats *st)
{
	fprintf(f,
		"%s: customers %llu, orders %llu, line items %llu, refunds %llu, rows %llu "
		"(duplicates %llu, bad %llu), aliased customers %llu (rows %llu)\n",
		rtn_progname, (unsigned long long)st->customers, (unsigned long long)st->orders,
		(unsigned long long)st->lines, (unsigned long long)st->refunds, (unsigned long long)st->rows,
		(unsigned long long)st->dups, (unsigned long long)st->bad,
		(unsigned long long)st->alias_customers, (unsigned long long)st->alias_rows);
}
