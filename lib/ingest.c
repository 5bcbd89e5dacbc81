/* ingest: text exports into the events stream.
 *
 * Each input row is mapped onto logical slots (customer, time, amount, ...)
 * by header name or index, converted (time to UTC seconds, money to exact
 * fixed point), and either written as one event or rejected with its
 * original text, file, line, record number and reason. Counts add up:
 * read = accepted + rejected + skipped (blank lines). */
#include "ingest.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"
#include "jsonl.h"
#include "money.h"
#include "stream.h"
#include "textout.h"
#include "timeparse.h"
#include "tz.h"
#include "util.h"

enum { S_CUSTOMER, S_TIME, S_AMOUNT, S_QUANTITY, S_PRICE, S_ORDER, S_TYPE, S_ATTR0 };
static const char *const SLOT_NAMES[] = {"customer", "time", "amount", "quantity", "price", "order", "type"};

/* Header names recognised without flags, compared after lower-casing and
 * dropping '_', '-', ' ' and '.'. */
static const char *const KNOWN_CUSTOMER[] = {"customerid", "customer", "userid", "user", "clientid",
	"memberid", "accountid", "custid", "buyerid", "customerno", "customernumber", NULL};
static const char *const KNOWN_TIME[] = {"date", "timestamp", "createdat", "invoicedate", "orderdate",
	"datetime", "time", "purchasedate", "transactiondate", "eventtime", "occurredat", "ts", NULL};
static const char *const KNOWN_AMOUNT[] = {"amount", "total", "revenue", "ordertotal", "totalamount",
	"sales", "value", "dollarvalue", "dollars", "netamount", "grandtotal", "price", NULL};
static const char *const KNOWN_QUANTITY[] = {"quantity", "qty", NULL};
static const char *const KNOWN_PRICE[] = {"unitprice", "price", "itemprice", NULL};
static const char *const KNOWN_ORDER[] = {"orderid", "invoiceno", "invoice", "invoiceid", "orderno",
	"ordernumber", "transactionid", "order", NULL};
static const char *const KNOWN_TYPE[] = {"type", "eventtype", "event", "kind", NULL};

struct typemap {
	char *from, *to;
};

typedef struct ingest {
	const ingest_opts *o;
	int nslots;
	char **attr_names;      /* output column names of the attributes */
	char **attr_specs;      /* source column spec of each attribute */
	int *idx;               /* CSV: source field index per slot, -1 absent */
	int ncols_header;       /* fields in the header row (0 without header) */
	tz_zone *zone;
	time_parser tp;
	int64_t time_limit;     /* first instant after --max-year */
	money_opts mo;
	struct typemap *tmap;
	int ntmap;
	rtn_out *out;           /* opened first: a second writer is refused early */
	rtn_writer *w;
	rtn_header *hdr;
	rtn_value *vals;
	txt_out rej;
	rtn_out *rej_out;
	uint64_t read, accepted, rejected, skipped;
	uint64_t shown;         /* rejects echoed on stderr */
	uint64_t bytes_done, bytes_total;
	rtn_progress prog;
	char **keys;            /* JSON Lines: keys of the first object (the header) */
	int nkeys;
	char *lower;            /* scratch for type values */
	size_t lower_cap;
	char last_time[40];     /* the time text of the row before, parsed to last_t */
	size_t last_time_len;   /* 0: none */
	int64_t last_t;
	uint64_t last_naive;    /* 1: it had no zone (time_parser.naive_count) */
} ingest;

void ingest_opts_init(ingest_opts *o)
{
	memset(o, 0, sizeof *o);
	o->level = -1;
	o->max_year = 2200;
}

/* ---- column names ---- */

static void normalise(const char *s, char *out, size_t n)
{
	size_t k = 0;
	for (; *s && k + 1 < n; s++)
		if (*s != '_' && *s != '-' && *s != ' ' && *s != '.')
			out[k++] = (char)tolower((unsigned char)*s);
	out[k] = 0;
}

static int is_index(const char *spec)
{
	if (!*spec)
		return 0;
	for (const char *p = spec; *p; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	return 1;
}

/* Finds spec among names: exact, then normalised. -1 if absent, -2 if the
 * name occurs twice. */
static int find_name(char **names, int n, const char *spec)
{
	int hit = -1;
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], spec) == 0) {
			if (hit >= 0)
				return -2;
			hit = i;
		}
	if (hit >= 0)
		return hit;
	char want[256], got[256];
	normalise(spec, want, sizeof want);
	for (int i = 0; i < n; i++) {
		normalise(names[i], got, sizeof got);
		if (strcmp(got, want) == 0) {
			if (hit >= 0)
				return -2;
			hit = i;
		}
	}
	return hit;
}

static int recognise(char **names, int n, const char *const *known, int skip)
{
	char got[256];
	for (int k = 0; known[k]; k++)
		for (int i = 0; i < n; i++) {
			if (i == skip)
				continue;
			normalise(names[i], got, sizeof got);
			if (strcmp(got, known[k]) == 0)
				return i;
		}
	return -1;
}

static char *header_list(char **names, int n)
{
	size_t cap = 64, len = 0;
	char *s = xmalloc(cap);
	s[0] = 0;
	for (int i = 0; i < n && len < 2000; i++) {
		xgrow((void **)&s, &cap, len + strlen(names[i]) + 8, 1);
		len += (size_t)sprintf(s + len, "%s'%s'", i ? ", " : "", names[i]);
	}
	return s;
}

/* An output column name from a source name: lower case, [a-z0-9_]. */
static char *column_name(const char *src)
{
	size_t n = strlen(src);
	char *s = xmalloc(n + 2);
	size_t k = 0;
	for (size_t i = 0; i < n && k < RTN_NAME_MAX; i++) {
		unsigned char c = (unsigned char)src[i];
		s[k++] = isalnum(c) ? (char)tolower(c) : '_';
	}
	if (k == 0)
		s[k++] = '_';
	s[k] = 0;
	return s;
}

static const char *slot_spec(const ingest *g, int slot)
{
	const ingest_opts *o = g->o;
	switch (slot) {
	case S_CUSTOMER: return o->customer;
	case S_TIME: return o->time;
	case S_AMOUNT: return o->amount;
	case S_QUANTITY: return o->quantity;
	case S_PRICE: return o->price;
	case S_ORDER: return o->order;
	case S_TYPE: return o->type;
	default: return g->attr_specs[slot - S_ATTR0];
	}
}

static const char *slot_name(const ingest *g, int slot)
{
	return slot < S_ATTR0 ? SLOT_NAMES[slot] : g->attr_names[slot - S_ATTR0];
}

/* Resolves every slot against a header (names, n) for file `file`; for
 * files without a header, names is NULL and n the field count of row 1. */
static void map_columns(ingest *g, char **names, int n, const char *file, const char *raw_header)
{
	const ingest_opts *o = g->o;
	for (int s = 0; s < g->nslots; s++) {
		const char *spec = slot_spec(g, s);
		int i = -1;
		if (spec && is_index(spec)) {
			long long k = rtn_parse_ll(slot_name(g, s), spec, 1, 1000000);
			if (o->format == ING_JSONL)
				rtn_die(RTN_EXIT_USAGE, "%s: --%s %s: JSON Lines columns are named, not numbered", file,
					s < S_ATTR0 ? SLOT_NAMES[s] : "attr", spec);
			i = (int)k - 1;
			if (names && i >= n)
				rtn_die(RTN_EXIT_USAGE, "%s: --%s %s: the header has only %d columns", file,
					s < S_ATTR0 ? SLOT_NAMES[s] : "attr", spec, n);
		} else if (spec) {
			if (!names)
				rtn_die(RTN_EXIT_USAGE, "%s: column '%s' given by name, but the file has no header (--no-header): use a number",
					file, spec);
			i = find_name(names, n, spec);
			if (i == -2)
				rtn_die(RTN_EXIT_USAGE, "%s: header name '%s' occurs more than once: give the column by number", file, spec);
			if (i < 0) {
				char *list = header_list(names, n);
				rtn_die(RTN_EXIT_USAGE, "%s: no column '%s' for %s (header: %s)", file, spec, slot_name(g, s), list);
			}
		} else if (names) {
			static const char *const *const known[] = {KNOWN_CUSTOMER, KNOWN_TIME, KNOWN_AMOUNT,
				KNOWN_QUANTITY, KNOWN_PRICE, KNOWN_ORDER, KNOWN_TYPE};
			if (s < S_ATTR0)
				i = recognise(names, n, known[s], s == S_PRICE ? g->idx[S_AMOUNT] : -1);
			if (i >= 0 && find_name(names, n, names[i]) == -2)
				rtn_die(RTN_EXIT_USAGE, "%s: header name '%s' occurs more than once: give the %s column by number (--%s N)",
					file, names[i], SLOT_NAMES[s], SLOT_NAMES[s]);
		}
		g->idx[s] = i;
	}
	/* Quantity x price replaces amount when both are there and amount is not given. */
	if (!o->amount && g->idx[S_QUANTITY] >= 0 && g->idx[S_PRICE] >= 0 && (o->quantity || o->price ||
	    (g->idx[S_AMOUNT] == g->idx[S_PRICE])))
		g->idx[S_AMOUNT] = -1;
	if (g->idx[S_AMOUNT] >= 0 && !o->quantity)
		g->idx[S_QUANTITY] = g->idx[S_PRICE] = -1;
	int amount_ok = g->idx[S_AMOUNT] >= 0 || (g->idx[S_QUANTITY] >= 0 && g->idx[S_PRICE] >= 0) ||
			g->idx[S_TYPE] >= 0;
	if (g->idx[S_CUSTOMER] < 0 || g->idx[S_TIME] < 0 || !amount_ok) {
		const char *missing = g->idx[S_CUSTOMER] < 0 ? "customer" : g->idx[S_TIME] < 0 ? "time" : "amount";
		if (!names)
			rtn_die(RTN_EXIT_USAGE, "%s: no header (--no-header): give --customer, --time and --amount by number", file);
		char *list = header_list(names, n);
		int guess = raw_header ? csv_guess_delimiter(raw_header, strlen(raw_header)) : 0;
		if (n == 1 && guess && guess != o->delim)
			rtn_die(RTN_EXIT_USAGE, "%s: cannot find a %s column; the header is one field (%s) and looks %s-separated: try --delimiter %s",
				file, missing, list, csv_delim_name(guess),
				guess == '\t' ? "tab" : guess == CSV_DELIM_WHITESPACE ? "ws" : csv_delim_name(guess));
		int data_like = 1;
		for (int i = 0; i < n; i++)
			if (!names[i][0] || strspn(names[i], "0123456789.,-:/ +TZ") != strlen(names[i]))
				data_like = 0;
		rtn_die(RTN_EXIT_USAGE, "%s: cannot tell which column is the %s; found header: %s (use --%s NAME or --%s N%s)",
			file, missing, list, missing, missing, data_like ? "; the first line looks like data: add --no-header" : "");
	}
	if (o->verbose && names)
		for (int s = 0; s < g->nslots; s++)
			if (g->idx[s] >= 0)
				rtn_warn("%s: %s <- column %d '%s'", file, slot_name(g, s), g->idx[s] + 1, names[g->idx[s]]);
	if (names) {
		g->ncols_header = n;
	} else {
		g->ncols_header = 0;
	}
}

/* ---- rejects ---- */

static void reject(ingest *g, const char *file, uint64_t line, uint64_t recno, const char *why,
		   const char *raw, size_t rawlen)
{
	g->rejected++;
	if (g->rej_out) {
		char l[24], r[24];
		snprintf(l, sizeof l, "%llu", (unsigned long long)line);
		snprintf(r, sizeof r, "%llu", (unsigned long long)recno);
		txt_field(&g->rej, 1, "file", file, strlen(file), 1);
		txt_field(&g->rej, 0, "line", l, strlen(l), 0);
		txt_field(&g->rej, 0, "record", r, strlen(r), 0);
		txt_field(&g->rej, 0, "reason", why, strlen(why), 1);
		txt_field(&g->rej, 0, "text", raw, rawlen, 1);
		txt_endrow(&g->rej);
	}
	if (g->shown < 5 || g->o->verbose) {
		rtn_warn("%s:%llu: rejected: %s", file, (unsigned long long)line, why);
		g->shown++;
	}
}

/* ---- conversion of one row ---- */

/* Time texts (often 20 bytes) compared without a call: the first 16
 * bytes and the last 16. */
static inline int same_time_text(const char *a, const char *b, size_t n)
{
	if (n < 16 || n > 32)
		return memcmp(a, b, n) == 0;
	uint64_t w[8];
	memcpy(w, a, 16);
	memcpy(w + 2, a + n - 16, 16);
	memcpy(w + 4, b, 16);
	memcpy(w + 6, b + n - 16, 16);
	return ((w[0] ^ w[4]) | (w[1] ^ w[5]) | (w[2] ^ w[6]) | (w[3] ^ w[7])) == 0;
}

static const char *convert(ingest *g, const char *const *val, const size_t *len, char *why, size_t whylen)
{
	rtn_value *v = g->vals;
	const char *reason = NULL;
	/* customer */
	const char *c = val[S_CUSTOMER];
	size_t cn = len[S_CUSTOMER];
	while (cn && (*c == ' ' || *c == '\t'))
		c++, cn--;
	while (cn && (c[cn - 1] == ' ' || c[cn - 1] == '\t'))
		cn--;
	if (!c || cn == 0)
		return "empty customer id";
	v[0].s = c;
	v[0].len = (uint32_t)cn;
	/* time */
	if (!val[S_TIME] || len[S_TIME] == 0)
		return "empty time";
	/* the lines of an order often share their time: parsed once */
	if (len[S_TIME] == g->last_time_len && same_time_text(val[S_TIME], g->last_time, len[S_TIME])) {
		v[1].i = g->last_t;
		g->tp.naive_count += g->last_naive;
	} else {
		uint64_t naive = g->tp.naive_count;
		if (time_parse(&g->tp, val[S_TIME], len[S_TIME], &v[1].i) != TIME_OK)
			return g->tp.reason;
		if (len[S_TIME] <= sizeof g->last_time) {
			memcpy(g->last_time, val[S_TIME], len[S_TIME]);
			g->last_time_len = len[S_TIME];
			g->last_t = v[1].i;
			g->last_naive = g->tp.naive_count - naive;
		}
	}
	if (v[1].i >= g->time_limit) {
		snprintf(why, whylen, "date after the year %d (implausible; see --max-year)", g->o->max_year);
		return why;
	}
	/* amount */
	int has_amount = 0;
	if (g->idx[S_AMOUNT] >= 0 && val[S_AMOUNT] && len[S_AMOUNT]) {
		if (money_parse(val[S_AMOUNT], len[S_AMOUNT], &g->mo, &v[2].i, &reason) != MONEY_OK)
			goto bad_amount;
		has_amount = 1;
	} else if (g->idx[S_QUANTITY] >= 0 && val[S_QUANTITY] && val[S_PRICE] && len[S_PRICE]) {
		int64_t price;
		int inexact = 0;
		if (money_parse(val[S_PRICE], len[S_PRICE], &g->mo, &price, &reason) != MONEY_OK)
			goto bad_amount;
		if (money_mul_text(price, val[S_QUANTITY], len[S_QUANTITY], &v[2].i, &inexact, &reason) != MONEY_OK)
			goto bad_amount;
		has_amount = 1;
	} else {
		v[2].i = RTN_NULL;
	}
	/* order */
	v[3].s = val[S_ORDER] ? val[S_ORDER] : "";
	v[3].len = val[S_ORDER] ? (uint32_t)len[S_ORDER] : 0;
	/* type */
	const char *t = NULL;
	size_t tn = 0;
	if (val[S_TYPE] && len[S_TYPE]) {
		xgrow((void **)&g->lower, &g->lower_cap, len[S_TYPE] + 1, 1);
		for (size_t i = 0; i < len[S_TYPE]; i++)
			g->lower[i] = (char)tolower((unsigned char)val[S_TYPE][i]);
		g->lower[len[S_TYPE]] = 0;
		t = g->lower;
		tn = len[S_TYPE];
		for (int k = 0; k < g->ntmap; k++)
			if (strcmp(g->lower, g->tmap[k].from) == 0) {
				t = g->tmap[k].to;
				tn = strlen(t);
				break;
			}
	}
	if (!t) {
		if (!has_amount)
			return g->idx[S_AMOUNT] >= 0 ? "empty amount" : "empty amount (quantity or price missing)";
		t = v[2].i < 0 ? "refund" : "order";
		tn = strlen(t);
	}
	v[4].s = t;
	v[4].len = (uint32_t)tn;
	for (int a = S_ATTR0; a < g->nslots; a++) {
		v[5 + a - S_ATTR0].s = val[a] ? val[a] : "";
		v[5 + a - S_ATTR0].len = val[a] ? (uint32_t)len[a] : 0;
	}
	return NULL;
bad_amount:
	snprintf(why, whylen, "amount: %s", reason ? reason : "not a number");
	return why;
}

/* crow: the CSV row the values come from (its text is put back together
 * for a rejection), or NULL. */
static void emit(ingest *g, const char *file, uint64_t line, uint64_t recno, const char *const *val,
		 const size_t *len, const char *raw, size_t rawlen, csv_row *crow)
{
	char why[200];
	const char *bad = convert(g, val, len, why, sizeof why);
	if (bad) {
		if (crow)
			csv_unsplit(crow);
		reject(g, file, line, recno, bad, raw, rawlen);
		return;
	}
	rtn_write(g->w, g->vals);
	g->accepted++;
}

/* ---- inputs ---- */

static void open_output(ingest *g, int argc, char **argv)
{
	if (g->w)
		return;
	g->hdr = rtn_header_new(RTN_KIND_EVENTS);
	rtn_schema_add(&g->hdr->schema, "customer", RTN_STRING);
	rtn_schema_add(&g->hdr->schema, "time", RTN_TIME);
	rtn_schema_add(&g->hdr->schema, "amount", RTN_MONEY);
	rtn_schema_add(&g->hdr->schema, "order", RTN_STRING);
	rtn_schema_add(&g->hdr->schema, "type", RTN_STRING);
	for (int a = 0; a < g->nslots - S_ATTR0; a++) {
		if (rtn_schema_find(&g->hdr->schema, g->attr_names[a]) >= 0)
			rtn_die(RTN_EXIT_USAGE, "--attr %s: clashes with a standard column name; rename it (NAME=COL)",
				g->attr_names[a]);
		rtn_schema_add(&g->hdr->schema, g->attr_names[a], RTN_STRING);
	}
	rtn_header_add_prov(g->hdr, argc, argv);
	g->w = rtn_writer_open_out(g->out, g->hdr, g->o->level);
	g->vals = xcalloc((size_t)g->hdr->schema.n, sizeof *g->vals);
}

/* Names attributes given by number from the header (or colN). */
static void name_attrs(ingest *g, char **names, int n)
{
	for (int a = 0; a < g->nslots - S_ATTR0; a++) {
		if (g->attr_names[a])
			continue;
		const char *spec = g->attr_specs[a];
		long long k = is_index(spec) ? strtoll(spec, NULL, 10) : 0;
		char buf[32];
		if (k >= 1 && names && k <= n) {
			g->attr_names[a] = column_name(names[k - 1]);
		} else {
			snprintf(buf, sizeof buf, "col%s", spec);
			g->attr_names[a] = column_name(k ? buf : spec);
		}
	}
}

static int detect_format(const ingest_opts *o, const char *path, FILE *f)
{
	if (o->format)
		return o->format;
	const char *dot = path ? strrchr(path, '.') : NULL;
	if (dot && (!strcmp(dot, ".jsonl") || !strcmp(dot, ".ndjson") || !strcmp(dot, ".json")))
		return ING_JSONL;
	if (dot && (!strcmp(dot, ".tsv") || !strcmp(dot, ".tab")))
		return ING_TSV;
	if (dot && !strcmp(dot, ".csv"))
		return ING_CSV;
	int c;
	while ((c = getc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t')
		;
	if (c != EOF)
		ungetc(c, f);
	return c == '{' ? ING_JSONL : ING_CSV;
}

/* Without --delimiter, a seekable file's first line decides between ',' and
 * another separator (';' in European exports, tabs, runs of blanks). Pipes
 * are read as ','-separated; a wrong guess ends in a hint, never silently. */
static int guess_delimiter(FILE *f, const char *file, int verbose)
{
	char buf[65536];
	long at = ftell(f);
	if (at < 0)
		return ',';
	size_t n = fread(buf, 1, sizeof buf, f);
	if (fseek(f, at, SEEK_SET) != 0)
		rtn_die(RTN_EXIT_USAGE, "%s: cannot seek: %s", file, strerror(errno));
	int d = csv_guess_delimiter(buf, n);
	if (d == 0 || d == ',')
		return ',';
	if (verbose)
		rtn_warn("%s: the header looks %s-separated", file, csv_delim_name(d));
	return d;
}

static void ingest_csv(ingest *g, FILE *f, const char *file, int format, int argc, char **argv)
{
	const ingest_opts *o = g->o;
	csv_options co;
	csv_options_init(&co);
	if (o->delim)
		co.delim = o->delim;
	else if (format == ING_TSV)
		co.delim = '\t';
	else
		co.delim = guess_delimiter(f, file, o->verbose);
	co.in_place = 1;
	csv_reader *r = csv_open(f, file, &co);
	if (!r)
		rtn_die(RTN_EXIT_USAGE, "%s: bad --delimiter", file);
	csv_row row;
	int rc, mapped = 0;
	const char *val[S_ATTR0 + 64];
	size_t len[S_ATTR0 + 64];
	int mapped_slot[S_ATTR0 + 64], mapped_col[S_ATTR0 + 64], nmapped = -1, maxcol = -1;
	uint64_t base = g->bytes_done;
	while ((rc = csv_next(r, &row)) == 1) {
		if (!mapped) {
			mapped = 1;
			if (!o->no_header) {
				if (row.error)
					rtn_die(RTN_EXIT_USAGE, "%s:%llu: header line: %s", file, (unsigned long long)row.line, row.error);
				char **names = xmalloc((row.nfields ? row.nfields : 1) * sizeof *names);
				for (size_t i = 0; i < row.nfields; i++)
					names[i] = xstrdup(row.field[i]);
				csv_unsplit(&row);
				char *rawh = xstrndup(row.raw, row.rawlen);
				name_attrs(g, names, (int)row.nfields);
				map_columns(g, names, (int)row.nfields, file, rawh);
				for (size_t i = 0; i < row.nfields; i++)
					free(names[i]);
				free(names);
				free(rawh);
				open_output(g, argc, argv);
				continue;
			}
			name_attrs(g, NULL, 0);
			map_columns(g, NULL, (int)row.nfields, file, NULL);
			open_output(g, argc, argv);
		}
		if (nmapped < 0) {   /* the columns are known: which slot takes which */
			nmapped = 0;
			for (int s = 0; s < g->nslots; s++) {
				val[s] = NULL;
				len[s] = 0;
				if (g->idx[s] < 0)
					continue;
				mapped_slot[nmapped] = s;
				mapped_col[nmapped++] = g->idx[s];
				if (g->idx[s] > maxcol)
					maxcol = g->idx[s];
			}
		}
		g->read++;
		row.recno -= o->no_header ? 0 : 1; /* data records, the header not counted */
		if (row.error) {
			char why[200];
			snprintf(why, sizeof why, "%s%s", row.error,
				 row.raw_truncated ? " (text below cut to its first 64 KiB)" : "");
			reject(g, file, row.line, row.recno, why, row.raw, row.rawlen);
			continue;
		}
		if (g->ncols_header && row.nfields != (size_t)g->ncols_header) {
			char why[96];
			csv_unsplit(&row);
			snprintf(why, sizeof why, "row has %zu fields, the header has %d", row.nfields, g->ncols_header);
			reject(g, file, row.line, row.recno, why, row.raw, row.rawlen);
			continue;
		}
		if (maxcol >= 0 && row.nfields <= (size_t)maxcol) {
			int missing = -1;
			for (int s = 0; s < g->nslots; s++)
				if (g->idx[s] >= 0 && (size_t)g->idx[s] >= row.nfields)
					missing = g->idx[s];
			char why[96];
			csv_unsplit(&row);
			snprintf(why, sizeof why, "row has %zu fields, column %d is missing", row.nfields, missing + 1);
			reject(g, file, row.line, row.recno, why, row.raw, row.rawlen);
			continue;
		}
		/* the slots without a column stay NULL (set with the header) */
		for (int k = 0; k < nmapped; k++) {
			val[mapped_slot[k]] = row.field[mapped_col[k]];
			len[mapped_slot[k]] = row.len[mapped_col[k]];
		}
		emit(g, file, row.line, row.recno, val, len, row.raw, row.rawlen, &row);
		if ((g->read & 0xffff) == 0)
			rtn_progress_update(&g->prog, NULL, base + csv_bytes(r), g->read);
	}
	if (rc < 0)
		rtn_die(RTN_EXIT_USAGE, "%s", csv_error(r));
	if (!mapped && !o->no_header)
		rtn_die(RTN_EXIT_USAGE, "%s: empty input: no header line", file);
	uint64_t blank = csv_blank_lines(r);
	g->skipped += blank;
	g->read += blank;
	g->bytes_done = base + csv_bytes(r);
	csv_close(r);
}

static void ingest_jsonl(ingest *g, FILE *f, const char *file, int argc, char **argv)
{
	jsonl_reader *r = jsonl_open(f, file, NULL);
	jsonl_row row;
	int rc;
	const char *val[S_ATTR0 + 64];
	size_t len[S_ATTR0 + 64];
	uint64_t base = g->bytes_done;
	while ((rc = jsonl_next(r, &row)) == 1) {
		g->read++;
		if (row.error) {
			reject(g, file, row.line, row.recno, row.error, row.raw, row.rawlen);
			continue;
		}
		if (!g->w) {
			/* The first object's keys act as the header. */
			g->keys = xmalloc((row.nmembers ? row.nmembers : 1) * sizeof *g->keys);
			for (size_t i = 0; i < row.nmembers; i++)
				g->keys[i] = xstrndup(row.member[i].key, row.member[i].keylen);
			g->nkeys = (int)row.nmembers;
			name_attrs(g, g->keys, (int)row.nmembers);
			map_columns(g, g->keys, (int)row.nmembers, file, NULL);
			open_output(g, argc, argv);
		}
		for (int s = 0; s < g->nslots; s++) {
			val[s] = NULL;
			len[s] = 0;
			const jsonl_member *m = g->idx[s] >= 0 ? jsonl_find(&row, g->keys[g->idx[s]]) : NULL;
			if (m && m->kind != JSONL_NULL) {
				val[s] = m->val;
				len[s] = m->vallen;
			}
		}
		emit(g, file, row.line, row.recno, val, len, row.raw, row.rawlen, NULL);
		if ((g->read & 0xffff) == 0)
			rtn_progress_update(&g->prog, NULL, base + jsonl_bytes(r), g->read);
	}
	if (rc < 0)
		rtn_die(RTN_EXIT_USAGE, "%s", jsonl_error(r));
	g->skipped += jsonl_blank_lines(r);
	g->read += jsonl_blank_lines(r);
	g->bytes_done = base + jsonl_bytes(r);
	jsonl_close(r);
}

static void parse_type_map(ingest *g, const char *spec)
{
	char *copy = xstrdup(spec), *save = NULL;
	for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		if (!eq || eq == item || !eq[1])
			rtn_die(RTN_EXIT_USAGE, "--type-map: '%s' is not OLD=NEW", item);
		*eq = 0;
		g->tmap = xrealloc(g->tmap, (size_t)(g->ntmap + 1) * sizeof *g->tmap);
		for (char *p = item; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		g->tmap[g->ntmap].from = xstrdup(item);
		g->tmap[g->ntmap].to = xstrdup(eq + 1);
		g->ntmap++;
	}
	free(copy);
}

static void setup(ingest *g, const ingest_opts *o)
{
	char err[200];
	memset(g, 0, sizeof *g);
	g->o = o;
	g->nslots = S_ATTR0 + o->nattrs;
	if (o->nattrs > 64)
		rtn_die(RTN_EXIT_USAGE, "--attr: at most 64 attributes");
	g->attr_names = xcalloc((size_t)(o->nattrs + 1), sizeof *g->attr_names);
	g->attr_specs = xcalloc((size_t)(o->nattrs + 1), sizeof *g->attr_specs);
	for (int a = 0; a < o->nattrs; a++) {
		const char *eq = strchr(o->attrs[a], '=');
		if (eq) {
			char *name = xstrndup(o->attrs[a], (size_t)(eq - o->attrs[a]));
			g->attr_names[a] = column_name(name);
			free(name);
			g->attr_specs[a] = xstrdup(eq + 1);
		} else {
			g->attr_specs[a] = xstrdup(o->attrs[a]);
			if (!is_index(o->attrs[a]))
				g->attr_names[a] = column_name(o->attrs[a]);
		}
	}
	g->idx = xcalloc((size_t)g->nslots, sizeof *g->idx);
	if (o->tz && !(g->zone = tz_load(o->tz, err, sizeof err)))
		rtn_die(RTN_EXIT_USAGE, "--tz: %s", err);
	if (time_parser_init(&g->tp, o->time_format, g->zone, err, sizeof err) != TIME_OK)
		rtn_die(RTN_EXIT_USAGE, "--time-format: %s", err);
	g->tp.allow_compact = 1;
	g->time_limit = time_days_from_civil(o->max_year + 1, 1, 1) * 86400;
	g->mo.decimal_comma = o->decimal_comma;
	g->mo.thousands = (char)o->thousands;
	g->mo.strip_currency = o->currency;
	g->mo.accounting = o->accounting;
	if (o->type_map)
		parse_type_map(g, o->type_map);
	g->out = rtn_out_open(o->out, 0644);
	if (o->rejects) {
		g->rej_out = rtn_out_open(o->rejects, 0600);
		txt_init(&g->rej, rtn_out_file(g->rej_out), rtn_out_name(g->rej_out), TXT_TSV);
		static const char *const cols[] = {"file", "line", "record", "reason", "text"};
		for (int i = 0; i < 5; i++)
			txt_field(&g->rej, i == 0, cols[i], cols[i], strlen(cols[i]), 1);
		txt_endrow(&g->rej);
	}
}

static int over_limit(const ingest *g)
{
	const ingest_opts *o = g->o;
	if (o->max_rejects_pct) {
		uint64_t records = g->read - g->skipped;
		/* rejected / records > pct/100000 */
		return records && (double)g->rejected * 100000.0 > (double)o->max_rejects * (double)records;
	}
	return g->rejected > (uint64_t)o->max_rejects;
}

/* Frees what setup, the header mapping and open_output allocated (the
 * writer and outputs are closed by then). */
static void ingest_free(ingest *g)
{
	for (int a = 0; a < g->nslots - S_ATTR0; a++) {
		free(g->attr_names[a]);
		free(g->attr_specs[a]);
	}
	free(g->attr_names);
	free(g->attr_specs);
	free(g->idx);
	if (g->zone)
		tz_free(g->zone);
	for (int i = 0; i < g->ntmap; i++) {
		free(g->tmap[i].from);
		free(g->tmap[i].to);
	}
	free(g->tmap);
	for (int i = 0; i < g->nkeys; i++)
		free(g->keys[i]);
	free(g->keys);
	rtn_header_free(g->hdr);
	free(g->vals);
	free(g->lower);
}

int ingest_run(const ingest_opts *o, char **files, int nfiles, int argc, char **argv)
{
	static char *stdin_name[] = {"-"};
	ingest g;
	setup(&g, o);
	if (nfiles == 0) {
		files = stdin_name;
		nfiles = 1;
	}
	for (int i = 0; i < nfiles; i++) {
		struct stat st;
		if (strcmp(files[i], "-") != 0 && stat(files[i], &st) == 0)
			g.bytes_total += (uint64_t)st.st_size;
	}
	rtn_progress_init(&g.prog, o->progress, g.bytes_total > (64u << 20), g.bytes_total);
	for (int i = 0; i < nfiles; i++) {
		FILE *f = rtn_in_open(files[i]);
		const char *name = rtn_in_name(files[i]);
		int format = detect_format(o, strcmp(files[i], "-") ? files[i] : NULL, f);
		if (format == ING_JSONL)
			ingest_jsonl(&g, f, name, argc, argv);
		else
			ingest_csv(&g, f, name, format, argc, argv);
		if (ferror(f))
			rtn_die(RTN_EXIT_USAGE, "%s: read error: %s", name, strerror(errno));
		if (f != stdin)
			fclose(f);
	}
	if (!g.w) { /* only empty JSON Lines input, or --no-header and no rows */
		name_attrs(&g, NULL, 0);
		open_output(&g, argc, argv);
	}
	rtn_progress_done(&g.prog, g.bytes_done, g.read);
	if (g.rej_out) {
		txt_flush(&g.rej);
		txt_free(&g.rej);
		rtn_out_commit(g.rej_out);
	}
	rtn_writer_close(g.w);
	if (g.rejected > g.shown && !o->verbose)
		rtn_warn("... %llu more rejected rows%s", (unsigned long long)(g.rejected - g.shown),
			 o->rejects ? " (all are in the rejects file)" : " (use --rejects FILE to keep them)");
	if (o->stats)
		fprintf(stderr, "%s: read %llu, accepted %llu, rejected %llu, skipped %llu\n", rtn_progname,
			(unsigned long long)g.read, (unsigned long long)g.accepted,
			(unsigned long long)g.rejected, (unsigned long long)g.skipped);
	if (g.rejected && over_limit(&g)) {
		rtn_warn("%llu of %llu rows rejected: more than --max-rejects allows", (unsigned long long)g.rejected,
			 (unsigned long long)(g.read - g.skipped));
		ingest_free(&g);
		return RTN_EXIT_CHECK;
	}
	ingest_free(&g);
	return RTN_EXIT_OK;
}
