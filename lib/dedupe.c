/* dedupe: duplicate removal, alias merging and sorting (see dedupe.h). */
#include "dedupe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "timeparse.h"

static const char *const REASONS[DD_NREASONS] = {"exact", "order", "key", "within", "rollup"};

enum { RULE_NONE, RULE_ANY, RULE_WITHIN };

typedef struct dd {
	const dedupe_opts *o;
	dedupe_stats *st;
	int n;                 /* input columns */
	const int *types;
	int cust, time, amount;
	int *key, nkey;        /* key columns besides customer */
	int rule, key_reason;
	int *order1, *order2;  /* scan order and output order */
	int single;            /* scan order is the output order: one sort */
	extsort *s1, *s2;
	rtn_writer *out, *dups;
	rtn_value *dupvals;
	int64_t kept_time;
	int pending;           /* rollup: pend holds the group's summed event */
	rtn_value *pend;
	char *pendbuf;
	size_t pendcap;
	int *typebuf;
} dd;

void dedupe_opts_init(dedupe_opts *o)
{
	memset(o, 0, sizeof *o);
	o->memory = DEDUPE_DEFAULT_MEMORY;
	o->level = -1;
}

void dedupe_opts_free(dedupe_opts *o)
{
	for (int i = 0; i < o->ncols; i++)
		free(o->cols[i]);
	free(o->cols);
	o->cols = NULL;
	o->ncols = 0;
}

const char *dedupe_reason_name(int reason)
{
	return reason >= 0 && reason < DD_NREASONS ? REASONS[reason] : "?";
}

void dedupe_parse_key(dedupe_opts *o, const char *arg)
{
	o->key_given = 1;
	dedupe_opts_free(o);
	if (strcmp(arg, "exact") == 0) {
		o->mode = DEDUPE_EXACT;
		return;
	}
	if (strcmp(arg, "order") == 0) {
		o->mode = DEDUPE_ORDER;
		return;
	}
	o->mode = DEDUPE_COLS;
	for (const char *p = arg;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0)
			rtn_die(RTN_EXIT_USAGE, "--key: empty column name in '%s' (use exact, order or COL,COL,...)", arg);
		o->cols = xrealloc(o->cols, (size_t)(o->ncols + 1) * sizeof *o->cols);
		o->cols[o->ncols++] = xstrndup(p, len);
		if (!comma)
			break;
		p = comma + 1;
	}
}

int64_t dedupe_parse_within(const char *arg)
{
	size_t n = strlen(arg);
	int64_t secs = -1;
	int64_t mult = n > 3 && strcmp(arg + n - 3, "min") == 0 ? 60 : n > 1 && arg[n - 1] == 's' ? 1 : 0;
	if (mult) {
		size_t digits = n - (mult == 60 ? 3 : 1);
		char buf[32];
		if (digits == 0 || digits > 12)
			goto bad;
		memcpy(buf, arg, digits);
		buf[digits] = 0;
		for (size_t i = 0; i < digits; i++)
			if (buf[i] < '0' || buf[i] > '9')
				goto bad;
		secs = strtoll(buf, NULL, 10) * mult;
	} else {
		duration d;
		char err[128];
		if (duration_parse(arg, &d, err, sizeof err) != 0)
			goto bad;
		if (duration_fixed_seconds(&d, &secs) != 0 || secs < 0)
			rtn_die(RTN_EXIT_USAGE, "--within: '%s': months and years have no fixed length; use s, min, h, d or w", arg);
	}
	if (secs <= 0)
		rtn_die(RTN_EXIT_USAGE, "--within: '%s' must be longer than 0", arg);
	return secs;
bad:
	rtn_die(RTN_EXIT_USAGE, "--within: '%s' is not a duration (e.g. 30s, 10min, 2h, 1d, 1w)", arg);
}

/* ---- records ---- */

static int cols_equal(const dd *d, const int *cols, int n, const rtn_value *a, const rtn_value *b)
{
	for (int k = 0; k < n; k++)
		if (!extsort_value_eq(d->types[cols[k]], &a[cols[k]], &b[cols[k]]))
			return 0;
	return 1;
}

static int all_equal(const dd *d, const rtn_value *a, const rtn_value *b)
{
	for (int c = 0; c < d->n; c++)
		if (!extsort_value_eq(d->types[c], &a[c], &b[c]))
			return 0;
	return 1;
}

/* Key columns all empty/null: such events are only exact duplicates. A key
 * of the customer alone (--key customer) is never null. */
static int key_null(const dd *d, const rtn_value *v)
{
	if (d->nkey == 0)
		return 0;
	for (int k = 0; k < d->nkey; k++)
		if (!rtn_value_is_null(&v[d->key[k]], d->types[d->key[k]]))
			return 0;
	return 1;
}

static void emit(dd *d, const rtn_value *v)
{
	d->st->kept++;
	if (d->single)
		rtn_write(d->out, v);
	else
		extsort_add(d->s2, v);
}

static void removed(dd *d, const rtn_value *v, int reason)
{
	d->st->removed[reason]++;
	if (!d->dups)
		return;
	memcpy(d->dupvals, v, (size_t)d->n * sizeof *v);
	d->dupvals[d->n] = rtn_str(REASONS[reason]);
	rtn_write(d->dups, d->dupvals);
}

/* Copies v (strings included) into the rollup buffer. */
static void pend_set(dd *d, const rtn_value *v)
{
	size_t bytes = 0;
	for (int c = 0; c < d->n; c++)
		if (d->types[c] == RTN_STRING)
			bytes += v[c].len;
	xgrow((void **)&d->pendbuf, &d->pendcap, bytes + 1, 1);
	size_t off = 0;
	for (int c = 0; c < d->n; c++) {
		d->pend[c] = v[c];
		if (d->types[c] == RTN_STRING) {
			if (v[c].len)
				memcpy(d->pendbuf + off, v[c].s, v[c].len);
			d->pend[c].s = d->pendbuf + off;
			off += v[c].len;
		}
	}
	d->pending = 1;
}

static void pend_add(dd *d, const rtn_value *v)
{
	int64_t a = v[d->amount].i, *sum = &d->pend[d->amount].i;
	if (a == RTN_NULL)
		return;
	if (*sum == RTN_NULL) {
		*sum = a;
		return;
	}
	if (__builtin_add_overflow(*sum, a, sum) || *sum == RTN_NULL)
		rtn_die(RTN_EXIT_CORRUPT, "--rollup: customer '%.*s': the sum of an order's amounts overflows",
			(int)v[d->cust].len, v[d->cust].s);
}

static void pend_flush(dd *d)
{
	if (d->pending)
		emit(d, d->pend);
	d->pending = 0;
}

/* One record in scan order; prev is the record before it (or NULL). */
static void scan(dd *d, const rtn_value *v, const rtn_value *prev)
{
	int same = prev && extsort_value_eq(RTN_STRING, &v[d->cust], &prev[d->cust]) &&
		cols_equal(d, d->key, d->nkey, v, prev);
	int reason = -1;
	if (same && all_equal(d, v, prev)) {
		reason = DD_EXACT;
	} else if (same && d->rule != RULE_NONE && !key_null(d, v)) {
		/* Times ascend within a key: the unsigned difference is exact. */
		if (d->rule == RULE_ANY)
			reason = d->o->rollup ? DD_ROLLUP : d->key_reason;
		else if (v[d->time].i != RTN_NULL && d->kept_time != RTN_NULL &&
			 (uint64_t)v[d->time].i - (uint64_t)d->kept_time < (uint64_t)d->o->within)
			reason = DD_WITHIN;
	}
	if (!same)
		pend_flush(d);
	if (reason < 0) {
		d->kept_time = v[d->time].i;
		if (d->o->rollup && d->rule == RULE_ANY && !key_null(d, v)) {
			pend_flush(d);
			pend_set(d, v);
		} else {
			emit(d, v);
		}
		return;
	}
	if (reason == DD_ROLLUP)
		pend_add(d, v);
	removed(d, v, reason);
}

/* ---- set-up ---- */

static int in_list(const int *list, int n, int c)
{
	for (int i = 0; i < n; i++)
		if (list[i] == c)
			return 1;
	return 0;
}

static void plan(dd *d, const dedupe_opts *o, const rtn_schema *s)
{
	const char *what = "input";
	d->n = s->n;
	d->typebuf = xmalloc((size_t)s->n * sizeof *d->typebuf);
	for (int c = 0; c < s->n; c++)
		d->typebuf[c] = s->cols[c].type;
	d->types = d->typebuf;
	d->cust = rtn_schema_need(s, "customer", RTN_STRING, what);
	d->time = rtn_schema_need(s, "time", RTN_TIME, what);
	d->amount = -1;
	if (o->rollup || (o->within && !o->key_given))
		d->amount = rtn_schema_need(s, "amount", RTN_MONEY, what);
	d->key = xmalloc((size_t)(s->n + o->ncols + 1) * sizeof *d->key);
	d->nkey = 0;
	d->rule = o->within ? RULE_WITHIN : o->mode == DEDUPE_EXACT ? RULE_NONE : RULE_ANY;
	d->key_reason = o->mode == DEDUPE_ORDER ? DD_ORDER : DD_KEY;
	if (o->mode == DEDUPE_ORDER) {
		d->key[d->nkey++] = rtn_schema_need(s, "order", RTN_STRING, what);
	} else if (o->mode == DEDUPE_COLS) {
		for (int i = 0; i < o->ncols; i++) {
			int c = rtn_schema_find(s, o->cols[i]);
			if (c < 0)
				c = rtn_schema_need(s, o->cols[i], RTN_STRING, "--key"); /* dies listing columns */
			if (c != d->cust && !(o->within && c == d->time) && !in_list(d->key, d->nkey, c))
				d->key[d->nkey++] = c;
		}
	} else if (o->within) {
		if (!o->key_given)
			d->key[d->nkey++] = d->amount;
		else
			for (int c = 0; c < s->n; c++)
				if (c != d->cust && c != d->time)
					d->key[d->nkey++] = c;
	}
	if (o->rollup && d->amount >= 0 && in_list(d->key, d->nkey, d->amount))
		rtn_die(RTN_EXIT_USAGE, "--rollup sums amounts: the key cannot include amount");
	/* Scan order: customer, key, time, the rest; output: customer, time, rest. */
	d->order1 = xmalloc((size_t)s->n * sizeof *d->order1);
	d->order2 = xmalloc((size_t)s->n * sizeof *d->order2);
	int n1 = 0, n2 = 0;
	d->order1[n1++] = d->cust;
	for (int k = 0; k < d->nkey; k++)
		d->order1[n1++] = d->key[k];
	if (!in_list(d->order1, n1, d->time))
		d->order1[n1++] = d->time;
	d->order2[n2++] = d->cust;
	d->order2[n2++] = d->time;
	for (int c = 0; c < s->n; c++) {
		if (!in_list(d->order1, n1, c))
			d->order1[n1++] = c;
		if (!in_list(d->order2, n2, c))
			d->order2[n2++] = c;
	}
	d->single = memcmp(d->order1, d->order2, (size_t)s->n * sizeof *d->order1) == 0 && !o->rollup;
}

static void open_outputs(dd *d, const dedupe_opts *o, const rtn_header *in, int argc, char **argv)
{
	int out_stdout = !o->out_path || strcmp(o->out_path, "-") == 0;
	if (o->dups_path) {
		if (strcmp(o->dups_path, "-") == 0 && out_stdout)
			rtn_die(RTN_EXIT_USAGE, "--dups -: standard output already carries the kept events; use -o FILE");
		if (rtn_schema_find(&in->schema, "reason") >= 0)
			rtn_die(RTN_EXIT_USAGE, "--dups: the input already has a column named 'reason'");
	}
	rtn_header *h = rtn_header_derive(in, -1, argc, argv);
	h->flags |= RTN_FLAG_SORTED;
	d->out = rtn_writer_open(o->out_path, h, o->level);
	rtn_header_free(h);
	if (o->dups_path) {
		h = rtn_header_derive(in, -1, argc, argv);
		rtn_schema_add(&h->schema, "reason", RTN_STRING);
		if (d->single)
			h->flags |= RTN_FLAG_SORTED;
		else
			h->flags &= ~(unsigned)RTN_FLAG_SORTED;
		d->dups = rtn_writer_open(o->dups_path, h, -1);
		rtn_header_free(h);
		d->dupvals = xcalloc((size_t)d->n + 1, sizeof *d->dupvals);
	}
}

void dedupe_run(const dedupe_opts *o, rtn_reader *in, int argc, char **argv, dedupe_stats *st)
{
	dd d;
	memset(&d, 0, sizeof d);
	memset(st, 0, sizeof *st);
	d.o = o;
	d.st = st;
	const rtn_header *h = rtn_reader_header(in);
	plan(&d, o, &h->schema);
	open_outputs(&d, o, h, argc, argv);
	d.pend = xcalloc((size_t)d.n, sizeof *d.pend);
	size_t mem = d.single ? o->memory : o->memory / 2;
	d.s1 = extsort_new(&h->schema, d.order1, d.n, mem, o->tmpdir);
	extsort_set_progress(d.s1, o->progress);
	st->passes = d.single ? 1 : 2;

	const rtn_value *v;
	rtn_value *av = xcalloc((size_t)h->schema.n, sizeof *av);   /* a record with its alias */
	int rc;
	while ((rc = rtn_read(in, &v)) == RTN_RECORD) {
		const char *canon;
		size_t clen;
		if (o->alias && alias_lookup(o->alias, v[d.cust].s, v[d.cust].len, &canon, &clen)) {
			memcpy(av, v, (size_t)h->schema.n * sizeof *av);
			av[d.cust].s = canon;
			av[d.cust].len = (uint32_t)clen;
			st->aliased++;
			v = av;
		}
		extsort_add(d.s1, v);
		if (o->progress && (rtn_reader_records(in) & 0xffff) == 0)
			rtn_progress_update(o->progress, "read", rtn_reader_offset(in), rtn_reader_records(in));
	}
	if (rc != RTN_END)
		rtn_die(rtn_reader_exit(in), "%s", rtn_reader_error(in));
	st->read = rtn_reader_records(in);

	extsort_finish(d.s1);
	if (!d.single) {
		d.s2 = extsort_new(&h->schema, d.order2, d.n, o->memory - mem, o->tmpdir);
		extsort_set_progress(d.s2, o->progress);
	}
	free(av);
	const rtn_value *prev = NULL;
	rtn_value *sv;
	while (extsort_next(d.s1, &sv) == RTN_RECORD) {
		scan(&d, sv, prev);
		prev = sv;
	}
	pend_flush(&d);
	st->sort[0] = *extsort_get_stats(d.s1);
	extsort_free(d.s1);
	if (d.s2) {
		while (extsort_next(d.s2, &sv) == RTN_RECORD)
			rtn_write(d.out, sv);
		st->sort[1] = *extsort_get_stats(d.s2);
		extsort_free(d.s2);
	}
	uint64_t sum = st->kept;
	for (int r = 0; r < DD_NREASONS; r++)
		sum += st->removed[r];
	if (sum != st->read || rtn_writer_records(d.out) != st->kept)
		rtn_die(RTN_EXIT_SYSTEM, "internal error: %llu events read but %llu accounted for",
			(unsigned long long)st->read, (unsigned long long)sum);
	if (o->progress)
		rtn_progress_done(o->progress, rtn_reader_offset(in), st->read);
	if (d.dups)
		rtn_writer_close(d.dups);
	rtn_writer_close(d.out);
	free(d.dupvals);
	free(d.pend);
	free(d.pendbuf);
	free(d.key);
	free(d.order1);
	free(d.order2);
	free(d.typebuf);
}

static void human(uint64_t b, char *buf, size_t n)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double x = (double)b;
	int i = 0;
	while (x >= 1024 && i < 4)
		x /= 1024, i++;
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", x, u[i]);
}

void dedupe_print_stats(FILE *f, const dedupe_stats *st)
{
	uint64_t rem = 0;
	for (int r = 0; r < DD_NREASONS; r++)
		rem += st->removed[r];
	fprintf(f, "%s: read %llu, kept %llu, removed %llu:", rtn_progname, (unsigned long long)st->read,
		(unsigned long long)st->kept, (unsigned long long)rem);
	for (int r = 0; r < DD_NREASONS; r++)
		fprintf(f, "%s %s %llu", r ? "," : "", REASONS[r], (unsigned long long)st->removed[r]);
	fprintf(f, "\n%s: aliased %llu\n", rtn_progname, (unsigned long long)st->aliased);
	for (int p = 0; p < st->passes; p++) {
		const extsort_stats *s = &st->sort[p];
		char mem[32], sp[32];
		human(s->peak_memory, mem, sizeof mem);
		human(s->spill_bytes, sp, sizeof sp);
		fprintf(f, "%s: sort %d: %llu records, buffer %s, %llu runs spilled (%s), %llu merge passes\n",
			rtn_progname, p + 1, (unsigned long long)s->records, mem, (unsigned long long)s->runs, sp,
			(unsigned long long)s->merges);
	}
}
