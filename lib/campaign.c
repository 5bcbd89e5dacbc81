/* Audiences and campaigns: selection, suppression, campaign rules, control
 * groups, expected recovered value, held rows (top N, split files) and the
 * health overview. See campaign.h for the rules. */
#include "campaign.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"
#include "util.h"

/* ---- names and numbers ---- */

/* Next normalised byte of a name at *i, or -1 at the end. */
static int name_next(const char *s, size_t n, size_t *i)
{
	while (*i < n && s[*i] == '\'')
		(*i)++;
	if (*i >= n)
		return -1;
	int c = (unsigned char)s[(*i)++];
	if (c == ' ' || c == '-' || c == '_' || c == '\t') {
		while (*i < n && (s[*i] == ' ' || s[*i] == '-' || s[*i] == '_' || s[*i] == '\t' || s[*i] == '\''))
			(*i)++;
		return '-';
	}
	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	return c;
}

int aud_name_eq(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = 0, j = 0;
	for (;;) {
		int x = name_next(a, an, &i), y = name_next(b, bn, &j);
		if (x != y)
			return 0;
		if (x < 0)
			return 1;
	}
}

int aud_parse_percent(const char *opt, const char *s)
{
	const char *p = s;
	long v = 0;
	int frac = -1;
	if (!(*p >= '0' && *p <= '9'))
		goto bad;
	for (; *p && *p != '%'; p++) {
		if (*p == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (!(*p >= '0' && *p <= '9') || (frac >= 0 && ++frac > 2) || v > 100000)
			goto bad;
		v = v * 10 + (*p - '0');
	}
	if (*p == '%' && p[1])
		goto bad;
	for (int k = frac < 0 ? 0 : frac; k < 2; k++)
		v *= 10;
	if (v > 10000)
		goto bad;
	return (int)v;
bad:
	rtn_die(RTN_EXIT_USAGE, "%s: '%s' is not a percentage from 0 to 100 (e.g. 10%% or 12.5%%)", opt, s);
}

int aud_in_control(const char *campaign_id, const char *id, size_t n, int bp)
{
	size_t cn = strlen(campaign_id);
	char small[512];
	char *buf = cn + 1 + n <= sizeof small ? small : xmalloc(cn + 1 + n);
	memcpy(buf, campaign_id, cn);
	buf[cn] = '\t';
	if (n)
		memcpy(buf + cn + 1, id, n);
	uint64_t h = rtn_hash64(buf, cn + 1 + n);
	if (buf != small)
		free(buf);
	return (int)(h % 10000) < bp;
}

/* ---- campaign file ---- */

static int matches_cell(const char *cell, const rtn_value *v)
{
	if (!cell[0] || strcmp(cell, "*") == 0)
		return 1;
	return v && aud_name_eq(cell, strlen(cell), v->s, v->len);
}

const camp_rule *campaign_match(const campaign *c, const rtn_value *segment, const rtn_value *stage)
{
	for (int i = 0; i < c->n; i++)
		if (matches_cell(c->rules[i].segment, segment) && matches_cell(c->rules[i].stage, stage))
			return &c->rules[i];
	return NULL;
}

campaign *campaign_load(const char *path)
{
	static const char *names[] = {"segment", "stage", "channel", "offer", "message"};
	FILE *f = rtn_in_open(path);
	const char *name = rtn_in_name(path);
	csv_options opt;
	csv_options_init(&opt);
	csv_reader *r = csv_open(f, name, &opt);
	if (!r)
		rtn_die(RTN_EXIT_USAGE, "%s: cannot read CSV", name);
	campaign *c = xcalloc(1, sizeof *c);
	int where[5] = {-1, -1, -1, -1, -1};
	size_t ncols = 0, cap = 0;
	csv_row row;
	int rc;
	while ((rc = csv_next(r, &row)) == 1) {
		if (row.error)
			rtn_die(RTN_EXIT_USAGE, "%s:%llu: %s", name, (unsigned long long)row.line, row.error);
		if (!ncols) {
			ncols = row.nfields;
			for (size_t k = 0; k < row.nfields; k++) {
				int found = -1;
				for (int j = 0; j < 5; j++)
					if (aud_name_eq(row.field[k], row.len[k], names[j], strlen(names[j])))
						found = j;
				if (found < 0)
					rtn_die(RTN_EXIT_USAGE, "%s:%llu: unknown column '%s' (expected segment, stage, channel, offer, message)",
						name, (unsigned long long)row.line, row.field[k]);
				if (where[found] >= 0)
					rtn_die(RTN_EXIT_USAGE, "%s:%llu: column '%s' appears twice", name,
						(unsigned long long)row.line, names[found]);
				where[found] = (int)k;
			}
			if (where[2] < 0)
				rtn_die(RTN_EXIT_USAGE, "%s:%llu: no 'channel' column (header: segment, stage, channel, offer, message)",
					name, (unsigned long long)row.line);
			if (where[0] < 0 && where[1] < 0)
				rtn_die(RTN_EXIT_USAGE, "%s:%llu: needs a 'segment' or 'stage' column", name,
					(unsigned long long)row.line);
			continue;
		}
		if (row.nfields != ncols)
			rtn_die(RTN_EXIT_USAGE, "%s:%llu: %zu fields, the header has %zu", name,
				(unsigned long long)row.line, row.nfields, ncols);
		xgrow((void **)&c->rules, &cap, (size_t)c->n + 1, sizeof *c->rules);
		camp_rule *cr = &c->rules[c->n++];
		char **dst[5] = {&cr->segment, &cr->stage, &cr->channel, &cr->offer, &cr->message};
		for (int j = 0; j < 5; j++)
			*dst[j] = xstrdup(where[j] >= 0 ? row.field[where[j]] : "");
		cr->line = row.line;
		if (!cr->channel[0])
			rtn_die(RTN_EXIT_USAGE, "%s:%llu: empty channel", name, (unsigned long long)row.line);
	}
	if (rc < 0)
		rtn_die(RTN_EXIT_USAGE, "%s", csv_error(r));
	if (!c->n)
		rtn_die(RTN_EXIT_USAGE, "%s: no campaign rows (expected a header and one row per segment or stage)", name);
	csv_close(r);
	if (f != stdin)
		fclose(f);
	return c;
}

void campaign_free(campaign *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->n; i++) {
		free(c->rules[i].segment);
		free(c->rules[i].stage);
		free(c->rules[i].channel);
		free(c->rules[i].offer);
		free(c->rules[i].message);
	}
	free(c->rules);
	free(c);
}

/* ---- suppression list: an open-addressing set of strings ---- */

struct suppress {
	char **slot;
	size_t cap, n;
};

suppress *suppress_new(void)
{
	suppress *s = xcalloc(1, sizeof *s);
	s->cap = 1024;
	s->slot = xcalloc(s->cap, sizeof *s->slot);
	return s;
}

static size_t slot_of(char **slot, size_t cap, const char *p, size_t n)
{
	size_t i = (size_t)(rtn_hash64(p, n) & (cap - 1));
	while (slot[i] && !(strlen(slot[i]) == n && memcmp(slot[i], p, n) == 0))
		i = (i + 1) & (cap - 1);
	return i;
}

static void suppress_put(suppress *s, const char *p, size_t n)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap * 2;
		char **slot = xcalloc(cap, sizeof *slot);
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i])
				slot[slot_of(slot, cap, s->slot[i], strlen(s->slot[i]))] = s->slot[i];
		free(s->slot);
		s->slot = slot;
		s->cap = cap;
	}
	size_t i = slot_of(s->slot, s->cap, p, n);
	if (!s->slot[i]) {
		s->slot[i] = xstrndup(p, n);
		s->n++;
	}
}

static void lower(char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] >= 'A' && p[i] <= 'Z')
			p[i] = (char)(p[i] + 'a' - 'A');
}

void suppress_load(suppress *s, const char *path)
{
	FILE *f = rtn_in_open(path);
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	unsigned long long lineno = 0;
	while ((got = getline(&line, &cap, f)) >= 0) {
		size_t n = (size_t)got;
		lineno++;
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		char *p = line;
		if (lineno == 1 && n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
			p += 3, n -= 3;
		while (n && (*p == ' ' || *p == '\t'))
			p++, n--;
		if (!n || *p == '#')
			continue;
		if (memchr(p, 0, n))
			rtn_die(RTN_EXIT_USAGE, "%s:%llu: NUL byte", rtn_in_name(path), lineno);
		if (lineno == 1 && (aud_name_eq(p, n, "customer", 8) || aud_name_eq(p, n, "id", 2) ||
				    aud_name_eq(p, n, "email", 5) || aud_name_eq(p, n, "customer_id", 11)))
			continue;
		if (memchr(p, '@', n))
			lower(p, n);
		suppress_put(s, p, n);
	}
	if (ferror(f))
		rtn_die(RTN_EXIT_USAGE, "%s: read error: %s", rtn_in_name(path), strerror(errno));
	free(line);
	if (f != stdin)
		fclose(f);
}

int suppress_has(const suppress *s, const char *p, size_t n)
{
	if (!s || !s->n || !n)
		return 0;
	if (s->slot[slot_of(s->slot, s->cap, p, n)])
		return 1;
	if (!memchr(p, '@', n))
		return 0;
	char small[256];
	char *b = n <= sizeof small ? small : xmalloc(n);
	memcpy(b, p, n);
	lower(b, n);
	int hit = s->slot[slot_of(s->slot, s->cap, b, n)] != NULL;
	if (b != small)
		free(b);
	return hit;
}

size_t suppress_count(const suppress *s) { return s ? s->n : 0; }

void suppress_free(suppress *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	free(s);
}

/* ---- the audience ---- */

static int find_typed(const rtn_schema *s, const char *name, int type)
{
	int c = rtn_schema_find(s, name);
	return c >= 0 && s->cols[c].type == type ? c : -1;
}

static char *default_campaign_id(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	const char *dot = strrchr(base, '.');
	return xstrndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
}

audience *aud_new(const aud_opts *o, const rtn_header *h)
{
	if (h->kind != RTN_KIND_CUSTOMERS)
		rtn_die(RTN_EXIT_USAGE, "input holds %s records, not customers (did you forget rfm?)", rtn_kind_name(h->kind));
	audience *a = xcalloc(1, sizeof *a);
	a->o = *o;
	a->schema = &h->schema;
	a->c_customer = rtn_schema_need(&h->schema, "customer", RTN_STRING, "input");
	a->c_segment = find_typed(&h->schema, "segment", RTN_STRING);
	a->c_stage = find_typed(&h->schema, "stage", RTN_STRING);
	a->c_email = find_typed(&h->schema, "email", RTN_STRING);
	const char *value_col = o->value_col ? o->value_col : "clv";
	a->c_clv = find_typed(&h->schema, value_col, RTN_MONEY);
	a->c_palive = find_typed(&h->schema, "p_alive", RTN_FLOAT);
	if (o->segments && a->c_segment < 0)
		rtn_schema_need(&h->schema, "segment", RTN_STRING, "input (--segment)");
	if (o->stages && a->c_stage < 0)
		rtn_schema_need(&h->schema, "stage", RTN_STRING, "input (--stage)");
	if (o->value_col && a->c_clv < 0)
		rtn_schema_need(&h->schema, value_col, RTN_MONEY, "input (--erv-value)");
	if (o->has_cost && (a->c_clv < 0 || a->c_palive < 0))
		rtn_die(RTN_EXIT_USAGE, "--contact-cost needs the columns %s (money) and p_alive (float) from churnscore",
			value_col);
	if (o->where) {
		char err[1024];
		if (!(a->where = expr_parse(o->where, &h->schema, err, sizeof err)))
			rtn_die(RTN_EXIT_USAGE, "--where: %s", err);
	}
	if (o->campaign_path) {
		a->camp = campaign_load(o->campaign_path);
		for (int i = 0; i < a->camp->n; i++) {
			const camp_rule *cr = &a->camp->rules[i];
			if ((cr->segment[0] && strcmp(cr->segment, "*") && a->c_segment < 0) ||
			    (cr->stage[0] && strcmp(cr->stage, "*") && a->c_stage < 0))
				rtn_die(RTN_EXIT_USAGE, "%s:%llu: the input has no %s column", o->campaign_path,
					(unsigned long long)cr->line, a->c_segment < 0 ? "segment" : "stage");
		}
	}
	if (o->campaign_id)
		a->campaign_id = xstrdup(o->campaign_id);
	else if (o->campaign_path)
		a->campaign_id = default_campaign_id(o->campaign_path);
	if (o->control_bp >= 0 && !a->campaign_id)
		rtn_die(RTN_EXIT_USAGE, "--control needs --campaign FILE or --campaign-id ID (the control split hashes it)");
	if (o->only_group && o->control_bp < 0)
		rtn_die(RTN_EXIT_USAGE, "--group needs --control");
	if (o->nsuppress) {
		a->sup = suppress_new();
		for (int i = 0; i < o->nsuppress; i++)
			suppress_load(a->sup, o->suppress[i]);
	}
	return a;
}

void aud_free(audience *a)
{
	if (!a)
		return;
	expr_free(a->where);
	campaign_free(a->camp);
	suppress_free(a->sup);
	free(a->campaign_id);
	free(a->fields);
	for (size_t i = 0; i < a->nnames; i++)
		free(a->names[i]);
	free(a->names);
	free(a);
}

/* Is v one of the comma-separated names in list? */
static int in_list(const char *list, const rtn_value *v)
{
	const char *p = list;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (aud_name_eq(p, n, v->s, v->len))
			return 1;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

int aud_judge(audience *a, const rtn_value *v, aud_row *row)
{
	a->read++;
	int why = AUD_KEEP;
	row->group = 0;
	row->rule = NULL;
	row->erv = NAN;
	if ((a->o.segments && !in_list(a->o.segments, &v[a->c_segment])) ||
	    (a->o.stages && !in_list(a->o.stages, &v[a->c_stage])) || (a->where && !expr_eval(a->where, v))) {
		why = AUD_FILTERED;
	} else if (a->sup && (suppress_has(a->sup, v[a->c_customer].s, v[a->c_customer].len) ||
			      (a->c_email >= 0 && suppress_has(a->sup, v[a->c_email].s, v[a->c_email].len)))) {
		why = AUD_SUPPRESSED;
	} else if (a->camp && !(row->rule = campaign_match(a->camp, a->c_segment >= 0 ? &v[a->c_segment] : NULL,
							   a->c_stage >= 0 ? &v[a->c_stage] : NULL))) {
		why = AUD_NORULE;
	} else {
		if (a->c_clv >= 0 && a->c_palive >= 0 && v[a->c_clv].i != RTN_NULL && !isnan(v[a->c_palive].f))
			row->erv = (double)v[a->c_clv].i / RTN_MONEY_SCALE * v[a->c_palive].f;
		if (a->o.has_cost && !(row->erv > a->o.contact_cost))
			why = AUD_BELOWCOST;
		else if (a->o.control_bp >= 0) {
			const rtn_value *id = &v[a->c_customer];
			row->group = aud_in_control(a->campaign_id, id->s, id->len, a->o.control_bp) ? AUD_CONTROL : AUD_TREATMENT;
			if (a->o.only_group && row->group != a->o.only_group)
				why = AUD_GROUP;
		}
	}
	if (why != AUD_KEEP) {
		a->why[why]++;
		return why;
	}
	a->kept++;
	if (row->group == AUD_CONTROL)
		a->control++;
	else if (row->group == AUD_TREATMENT)
		a->treatment++;
	return AUD_KEEP;
}

void aud_undo_keep(audience *a, const aud_row *row, int reason)
{
	a->kept--;
	if (row->group == AUD_CONTROL)
		a->control--;
	else if (row->group == AUD_TREATMENT)
		a->treatment--;
	a->why[reason]++;
}

aud_field aud_field_parse(const audience *a, const char *name, const char *opt)
{
	aud_field f = {0, -1, name};
	if (a->camp && strcmp(name, "channel") == 0)
		f.kind = F_CHANNEL;
	else if (a->camp && strcmp(name, "offer") == 0)
		f.kind = F_OFFER;
	else if (a->camp && strcmp(name, "message") == 0)
		f.kind = F_MESSAGE;
	else if (a->campaign_id && strcmp(name, "campaign") == 0)
		f.kind = F_CAMPAIGN;
	else if (a->o.control_bp >= 0 && strcmp(name, "group") == 0)
		f.kind = F_GROUP;
	else if (a->c_clv >= 0 && a->c_palive >= 0 && strcmp(name, "erv") == 0)
		f.kind = F_ERV;
	else if ((f.col = rtn_schema_find(a->schema, name)) >= 0)
		f.kind = F_COL;
	else {
		char cols[2048];
		size_t k = 0;
		cols[0] = 0;
		for (int i = 0; i < a->schema->n && k < sizeof cols - 64; i++)
			k += (size_t)snprintf(cols + k, sizeof cols - k, "%s%s", i ? ", " : "", a->schema->cols[i].name);
		rtn_die(RTN_EXIT_USAGE, "%s: unknown column '%s' (input columns: %s%s%s%s%s%s%s)", opt, name, cols,
			a->camp ? ", channel, offer, message" : "", a->campaign_id ? ", campaign" : "",
			a->o.control_bp >= 0 ? ", group" : "", a->c_clv >= 0 && a->c_palive >= 0 ? ", erv" : "",
			k >= sizeof cols - 64 ? ", ..." : "", "");
	}
	return f;
}

const char *aud_intern(audience *a, const char *s, size_t n)
{
	xgrow((void **)&a->names, &a->capnames, a->nnames + 1, sizeof *a->names);
	return a->names[a->nnames++] = xstrndup(s, n);
}

static void add_field(audience *a, size_t *cap, aud_field f)
{
	xgrow((void **)&a->fields, cap, (size_t)a->nfields + 1, sizeof *a->fields);
	a->fields[a->nfields++] = f;
}

void aud_fields(audience *a, const char *list)
{
	size_t cap = 0;
	if (list) {
		const char *p = list;
		for (;;) {
			const char *comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			const char *name = aud_intern(a, p, n);
			if (!n)
				rtn_die(RTN_EXIT_USAGE, "--fields: empty column name in '%s'", list);
			add_field(a, &cap, aud_field_parse(a, name, "--fields"));
			if (!comma)
				break;
			p = comma + 1;
		}
		return;
	}
	static const char *defaults[] = {"customer", "email", "segment", "stage", "recency", "orders",
					 "revenue", "clv", "p_alive", "risk"};
	for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++) {
		int c = rtn_schema_find(a->schema, defaults[i]);
		if (c >= 0 && !(a->camp && strcmp(defaults[i], "channel") == 0))
			add_field(a, &cap, (aud_field){F_COL, c, defaults[i]});
	}
	if (a->camp) {
		add_field(a, &cap, (aud_field){F_CAMPAIGN, -1, "campaign"});
		add_field(a, &cap, (aud_field){F_CHANNEL, -1, "channel"});
		add_field(a, &cap, (aud_field){F_OFFER, -1, "offer"});
		add_field(a, &cap, (aud_field){F_MESSAGE, -1, "message"});
	} else if (a->o.control_bp >= 0) {
		add_field(a, &cap, (aud_field){F_CAMPAIGN, -1, "campaign"});
	}
	if (a->o.control_bp >= 0)
		add_field(a, &cap, (aud_field){F_GROUP, -1, "group"});
	if (a->o.has_cost)
		add_field(a, &cap, (aud_field){F_ERV, -1, "erv"});
}

void aud_write_header(const audience *a, txt_out *o)
{
	if (o->format == TXT_JSONL)
		return;
	for (int k = 0; k < a->nfields; k++)
		txt_field(o, k == 0, a->fields[k].name, a->fields[k].name, strlen(a->fields[k].name), 1);
	txt_endrow(o);
}

static const char *group_name(int g)
{
	return g == AUD_CONTROL ? "control" : g == AUD_TREATMENT ? "treatment" : "";
}

/* Text of a computed field; *is_text tells whether it is free text. */
static size_t computed_text(const audience *a, const aud_field *f, const aud_row *row, char *buf, size_t n, int *is_text)
{
	const char *s = "";
	*is_text = 1;
	switch (f->kind) {
	case F_GROUP: s = group_name(row->group); break;
	case F_CAMPAIGN: s = a->campaign_id ? a->campaign_id : ""; break;
	case F_CHANNEL: s = row->rule ? row->rule->channel : ""; break;
	case F_OFFER: s = row->rule ? row->rule->offer : ""; break;
	case F_MESSAGE: s = row->rule ? row->rule->message : ""; break;
	case F_ERV:
		*is_text = 0;
		if (isnan(row->erv)) {
			buf[0] = 0;
			return 0;
		}
		return (size_t)snprintf(buf, n, "%.2f", row->erv + 0.0); /* +0.0: no "-0.00" */
	}
	size_t len = strlen(s);
	if (len >= n)
		len = n - 1;
	memcpy(buf, s, len);
	buf[len] = 0;
	return len;
}

void aud_write_row(const audience *a, txt_out *o, const rtn_value *v, const aud_row *row)
{
	char buf[4096];
	for (int k = 0; k < a->nfields; k++) {
		const aud_field *f = &a->fields[k];
		if (f->kind == F_COL) {
			txt_value(o, k == 0, f->name, a->schema->cols[f->col].type, &v[f->col]);
		} else if (f->kind == F_CHANNEL || f->kind == F_OFFER || f->kind == F_MESSAGE || f->kind == F_CAMPAIGN) {
			const char *s = f->kind == F_CAMPAIGN ? a->campaign_id
					: !row->rule ? ""
					: f->kind == F_CHANNEL ? row->rule->channel
					: f->kind == F_OFFER ? row->rule->offer : row->rule->message;
			txt_field(o, k == 0, f->name, s, strlen(s), 1);
		} else {
			int is_text;
			size_t n = computed_text(a, f, row, buf, sizeof buf, &is_text);
			txt_field(o, k == 0, f->name, buf, n, is_text);
		}
	}
	txt_endrow(o);
}

size_t aud_field_text(const audience *a, const aud_field *f, const rtn_value *v, const aud_row *row, char *buf, size_t n)
{
	int is_text;
	if (f->kind != F_COL)
		return computed_text(a, f, row, buf, n, &is_text);
	return rtn_value_format(&v[f->col], a->schema->cols[f->col].type, buf, n);
}

double aud_field_number(const audience *a, const aud_field *f, const rtn_value *v, const aud_row *row)
{
	if (f->kind == F_ERV)
		return row->erv;
	if (f->kind != F_COL)
		return NAN;
	int type = a->schema->cols[f->col].type;
	const rtn_value *x = &v[f->col];
	if (rtn_value_is_null(x, type))
		return NAN;
	switch (type) {
	case RTN_FLOAT: return x->f;
	case RTN_MONEY: return (double)x->i / RTN_MONEY_SCALE;
	case RTN_STRING: return NAN;
	default: return (double)x->i;
	}
}

void aud_print_stats(const audience *a, FILE *f)
{
	fprintf(f, "%s: read %llu, written %llu (treatment %llu, control %llu); dropped: filtered %llu, suppressed %llu, "
		"no campaign rule %llu, below contact cost %llu, other group %llu, beyond top %llu\n",
		rtn_progname, (unsigned long long)a->read, (unsigned long long)a->kept, (unsigned long long)a->treatment,
		(unsigned long long)a->control, (unsigned long long)a->why[AUD_FILTERED],
		(unsigned long long)a->why[AUD_SUPPRESSED], (unsigned long long)a->why[AUD_NORULE],
		(unsigned long long)a->why[AUD_BELOWCOST], (unsigned long long)a->why[AUD_GROUP],
		(unsigned long long)a->why[AUD_TOP]);
}

/* ---- held rows ---- */

typedef struct held {
	size_t off, len, seq;
	double key;
	char *skey, *cust, *split, *fname;
	int group;
} held;

struct aud_store {
	const audience *a;
	aud_field by, split;
	int has_by, has_split, by_text, format;
	FILE *mem;
	char *text;
	size_t textlen, used;
	txt_out render;
	held *rows;
	size_t n, cap;
};

aud_store *aud_store_new(const audience *a, int format, const aud_field *by, const aud_field *split)
{
	aud_store *s = xcalloc(1, sizeof *s);
	s->a = a;
	s->format = format;
	if (by) {
		s->by = *by;
		s->has_by = 1;
		s->by_text = by->kind != F_ERV && (by->kind != F_COL || a->schema->cols[by->col].type == RTN_STRING);
	}
	if (split) {
		s->split = *split;
		s->has_split = 1;
	}
	s->mem = open_memstream(&s->text, &s->textlen);
	if (!s->mem)
		rtn_die(RTN_EXIT_SYSTEM, "out of memory");
	txt_init(&s->render, s->mem, "memory", format);
	s->render.neutralise = 1;
	return s;
}

static char *field_dup(const audience *a, const aud_field *f, const rtn_value *v, const aud_row *row)
{
	if (f->kind == F_COL && a->schema->cols[f->col].type == RTN_STRING)
		return xstrndup(v[f->col].s, v[f->col].len);
	char buf[4096];
	size_t n = aud_field_text(a, f, v, row, buf, sizeof buf);
	return xstrndup(buf, n);
}

void aud_store_add(aud_store *s, const rtn_value *v, const aud_row *row)
{
	xgrow((void **)&s->rows, &s->cap, s->n + 1, sizeof *s->rows);
	held *h = &s->rows[s->n];
	memset(h, 0, sizeof *h);
	h->seq = s->n++;
	h->group = row->group;
	h->off = s->used;
	aud_write_row(s->a, &s->render, v, row);
	txt_flush(&s->render);
	off_t pos = ftello(s->mem);
	if (pos < 0)
		rtn_die(RTN_EXIT_SYSTEM, "memory stream: %s", strerror(errno));
	h->len = (size_t)pos - h->off;
	s->used = (size_t)pos;
	const rtn_value *id = &v[s->a->c_customer];
	h->cust = xstrndup(id->s, id->len);
	if (s->has_by) {
		if (s->by_text)
			h->skey = field_dup(s->a, &s->by, v, row);
		else
			h->key = aud_field_number(s->a, &s->by, v, row);
	}
	if (s->has_split)
		h->split = field_dup(s->a, &s->split, v, row);
}

static int by_cmp(const void *x, const void *y)
{
	const held *a = x, *b = y;
	int c = 0;
	if (a->skey || b->skey) {
		int an = !a->skey || !a->skey[0], bn = !b->skey || !b->skey[0];
		if (an != bn)
			c = an - bn;
		else if (!an)
			c = -strcmp(a->skey, b->skey);
	} else {
		int an = isnan(a->key), bn = isnan(b->key);
		if (an != bn)
			c = an - bn;
		else if (!an)
			c = (a->key < b->key) - (a->key > b->key);
	}
	if (!c)
		c = strcmp(a->cust, b->cust);
	if (!c)
		c = (a->seq > b->seq) - (a->seq < b->seq);
	return c;
}

static void held_free(held *h)
{
	free(h->skey);
	free(h->cust);
	free(h->split);
	free(h->fname);
}

void aud_store_finish(aud_store *s, audience *a, long long top)
{
	txt_flush(&s->render);
	if (fclose(s->mem) != 0)
		rtn_die(RTN_EXIT_SYSTEM, "out of memory");
	s->mem = NULL;
	if (s->has_by && s->n > 1) /* qsort(NULL, 0, ...) is undefined */
		qsort(s->rows, s->n, sizeof *s->rows, by_cmp);
	if (top >= 0 && (size_t)top < s->n) {
		for (size_t i = (size_t)top; i < s->n; i++) {
			aud_row r = {s->rows[i].group, NULL, NAN};
			aud_undo_keep(a, &r, AUD_TOP);
			held_free(&s->rows[i]);
		}
		s->n = (size_t)top;
	}
	for (size_t i = 0; i < s->n; i++)
		s->rows[i].seq = i;
}

static const char *ext_of(int format)
{
	return format == TXT_TSV ? "tsv" : format == TXT_JSONL ? "jsonl" : "csv";
}

/* A file name from a value: [A-Za-z0-9._-] kept, other bytes '_', no leading
 * dot, at most 100 bytes; "_empty" for an empty value. */
static char *safe_name(const char *v)
{
	size_t n = strlen(v);
	if (!n)
		return xstrdup("_empty");
	if (n > 100)
		n = 100;
	char *s = xstrndup(v, n);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
			 (c == '.' && i > 0);
		if (!ok)
			s[i] = '_';
	}
	return s;
}

static int split_cmp(const void *x, const void *y)
{
	const held *a = x, *b = y;
	int c = strcmp(a->fname, b->fname);
	if (!c)
		c = strcmp(a->split, b->split);
	if (!c)
		c = (a->seq > b->seq) - (a->seq < b->seq);
	return c;
}

static void write_rows(aud_store *s, const char *path, size_t from, size_t to)
{
	rtn_out *out = rtn_out_open(path, 0600);
	txt_out o;
	txt_init(&o, rtn_out_file(out), rtn_out_name(out), s->format);
	aud_write_header(s->a, &o);
	txt_flush(&o);
	for (size_t i = from; i < to; i++) {
		errno = 0;
		if (s->rows[i].len && rtn_fwrite(s->text + s->rows[i].off, s->rows[i].len, rtn_out_file(out)) != 0)
			rtn_die(RTN_EXIT_SYSTEM, "%s: write error%s%s", rtn_out_name(out), errno ? ": " : "",
				errno ? strerror(errno) : "");
	}
	txt_free(&o);
	rtn_out_commit(out);
}

void aud_store_write(aud_store *s, const audience *a, const char *out_path, const char *dir)
{
	(void)a;
	if (!dir) {
		write_rows(s, out_path, 0, s->n);
		return;
	}
	struct stat st;
	if (stat(dir, &st) != 0) {
		if (errno != ENOENT || mkdir(dir, 0700) != 0)
			rtn_die(RTN_EXIT_SYSTEM, "%s: cannot create folder: %s", dir, strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		rtn_die(RTN_EXIT_USAGE, "%s: not a folder (--split-by writes one file per value into -o DIR/)", dir);
	}
	for (size_t i = 0; i < s->n; i++)
		s->rows[i].fname = safe_name(s->rows[i].split);
	if (s->n > 1)
		qsort(s->rows, s->n, sizeof *s->rows, split_cmp);
	/* refuse two values that would share a file name, before writing any */
	for (size_t i = 1; i < s->n; i++)
		if (strcmp(s->rows[i].fname, s->rows[i - 1].fname) == 0 && strcmp(s->rows[i].split, s->rows[i - 1].split) != 0)
			rtn_die(RTN_EXIT_USAGE, "--split-by: values '%s' and '%s' both map to the file name '%s'",
				s->rows[i - 1].split, s->rows[i].split, s->rows[i].fname);
	size_t dl = strlen(dir);
	for (size_t i = 0; i < s->n;) {
		size_t j = i + 1;
		while (j < s->n && strcmp(s->rows[j].fname, s->rows[i].fname) == 0)
			j++;
		size_t n = dl + strlen(s->rows[i].fname) + 16;
		char *path = xmalloc(n);
		snprintf(path, n, "%s%s%s.%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", s->rows[i].fname, ext_of(s->format));
		write_rows(s, path, i, j);
		free(path);
		i = j;
	}
}

void aud_store_free(aud_store *s)
{
	if (!s)
		return;
	if (s->mem)
		fclose(s->mem);
	for (size_t i = 0; i < s->n; i++)
		held_free(&s->rows[i]);
	free(s->rows);
	free(s->text);
	txt_free(&s->render);
	free(s);
}

/* ---- health overview ---- */

typedef struct sgroup {
	char *value;
	uint64_t n, recency_n, orders_n, repeat_n, palive_n, clv_n;
	int64_t revenue, orders, clv;
	double recency, palive;
	int has_revenue;
} sgroup;

typedef struct sblock {
	aud_field by;
	sgroup *g;
	size_t n, cap;
	size_t *slot; /* open addressing: index + 1, 0 empty */
	size_t scap;
} sblock;

struct aud_summary {
	const audience *a;
	int c_revenue, c_orders, c_recency;
	sblock *b;
	int nb;
	sgroup all;
};

aud_summary *aud_summary_new(const audience *a, const aud_field *by, int nby)
{
	aud_summary *s = xcalloc(1, sizeof *s);
	s->a = a;
	s->c_revenue = find_typed(a->schema, "revenue", RTN_MONEY);
	s->c_orders = find_typed(a->schema, "orders", RTN_INT);
	s->c_recency = find_typed(a->schema, "recency", RTN_INT);
	s->nb = nby;
	s->b = xcalloc((size_t)nby, sizeof *s->b);
	for (int i = 0; i < nby; i++) {
		s->b[i].by = by[i];
		s->b[i].scap = 64;
		s->b[i].slot = xcalloc(s->b[i].scap, sizeof(size_t));
	}
	s->all.value = xstrdup("");
	return s;
}

static sgroup *find_group(sblock *b, const char *v)
{
	size_t n = strlen(v);
	size_t i = (size_t)(rtn_hash64(v, n) & (b->scap - 1));
	while (b->slot[i]) {
		if (strcmp(b->g[b->slot[i] - 1].value, v) == 0)
			return &b->g[b->slot[i] - 1];
		i = (i + 1) & (b->scap - 1);
	}
	if ((b->n + 1) * 2 > b->scap) {
		size_t scap = b->scap * 2;
		size_t *slot = xcalloc(scap, sizeof *slot);
		for (size_t k = 0; k < b->n; k++) {
			size_t j = (size_t)(rtn_hash64(b->g[k].value, strlen(b->g[k].value)) & (scap - 1));
			while (slot[j])
				j = (j + 1) & (scap - 1);
			slot[j] = k + 1;
		}
		free(b->slot);
		b->slot = slot;
		b->scap = scap;
		i = (size_t)(rtn_hash64(v, n) & (scap - 1));
		while (b->slot[i])
			i = (i + 1) & (scap - 1);
	}
	xgrow((void **)&b->g, &b->cap, b->n + 1, sizeof *b->g);
	sgroup *g = &b->g[b->n];
	memset(g, 0, sizeof *g);
	g->value = xstrdup(v);
	b->slot[i] = ++b->n;
	return g;
}

static void group_add(const aud_summary *s, sgroup *g, const rtn_value *v, const aud_row *row)
{
	const audience *a = s->a;
	g->n++;
	if (s->c_revenue >= 0 && v[s->c_revenue].i != RTN_NULL) {
		g->revenue += v[s->c_revenue].i;
		g->has_revenue = 1;
	}
	if (s->c_orders >= 0 && v[s->c_orders].i != RTN_NULL) {
		g->orders += v[s->c_orders].i;
		g->orders_n++;
		g->repeat_n += v[s->c_orders].i >= 2;
	}
	if (s->c_recency >= 0 && v[s->c_recency].i != RTN_NULL) {
		g->recency += (double)v[s->c_recency].i;
		g->recency_n++;
	}
	if (a->c_palive >= 0 && !isnan(v[a->c_palive].f)) {
		g->palive += v[a->c_palive].f;
		g->palive_n++;
	}
	if (a->c_clv >= 0 && v[a->c_clv].i != RTN_NULL) {
		g->clv += v[a->c_clv].i;
		g->clv_n++;
	}
	(void)row;
}

void aud_summary_add(aud_summary *s, const rtn_value *v, const aud_row *row)
{
	char buf[4096];
	for (int i = 0; i < s->nb; i++) {
		size_t n = aud_field_text(s->a, &s->b[i].by, v, row, buf, sizeof buf);
		buf[n] = 0;
		group_add(s, find_group(&s->b[i], buf), v, row);
	}
	group_add(s, &s->all, v, row);
}

static int group_cmp(const void *x, const void *y)
{
	return strcmp(((const sgroup *)x)->value, ((const sgroup *)y)->value);
}

static void num_field(txt_out *o, const char *name, int ok, const char *fmt, double x)
{
	char buf[64];
	int n = ok ? snprintf(buf, sizeof buf, fmt, x + 0.0) : 0;
	txt_field(o, 0, name, buf, (size_t)(n > 0 ? n : 0), 0);
}

static void money_field(txt_out *o, const char *name, int ok, int64_t m)
{
	char buf[64];
	rtn_value v;
	memset(&v, 0, sizeof v);
	v.i = ok ? m : RTN_NULL;
	size_t n = rtn_value_format(&v, RTN_MONEY, buf, sizeof buf);
	txt_field(o, 0, name, buf, n, 0);
}

static void summary_row(const aud_summary *s, txt_out *o, const char *by, const sgroup *g)
{
	const sgroup *all = &s->all;
	char buf[32];
	txt_field(o, 1, "by", by, strlen(by), 1);
	txt_field(o, 0, "value", g->value, strlen(g->value), 1);
	int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)g->n);
	txt_field(o, 0, "customers", buf, (size_t)n, 0);
	num_field(o, "share", all->n > 0, "%.4f", all->n ? (double)g->n / (double)all->n : 0);
	money_field(o, "revenue", g->has_revenue, g->revenue);
	num_field(o, "revenue_share", g->has_revenue && all->revenue != 0, "%.4f",
		  all->revenue ? (double)g->revenue / (double)all->revenue : 0);
	int64_t aov = 0;
	if (g->has_revenue && g->orders > 0) { /* to the cent, half away from zero */
		int64_t d = g->orders * (RTN_MONEY_SCALE / 100);
		aov = (g->revenue >= 0 ? g->revenue + d / 2 : g->revenue - d / 2) / d * (RTN_MONEY_SCALE / 100);
	}
	money_field(o, "aov", g->has_revenue && g->orders > 0, aov);
	num_field(o, "mean_recency", g->recency_n > 0, "%.2f", g->recency_n ? g->recency / (double)g->recency_n : 0);
	num_field(o, "mean_orders", g->orders_n > 0, "%.2f", g->orders_n ? (double)g->orders / (double)g->orders_n : 0);
	num_field(o, "mean_p_alive", g->palive_n > 0, "%.4f", g->palive_n ? g->palive / (double)g->palive_n : 0);
	money_field(o, "clv", g->clv_n > 0, g->clv);
	num_field(o, "repeat_rate", g->orders_n > 0, "%.4f", g->orders_n ? (double)g->repeat_n / (double)g->orders_n : 0);
	txt_endrow(o);
}

void aud_summary_write(aud_summary *s, txt_out *o)
{
	static const char *cols[] = {"by", "value", "customers", "share", "revenue", "revenue_share", "aov",
				     "mean_recency", "mean_orders", "mean_p_alive", "clv", "repeat_rate"};
	if (o->format != TXT_JSONL) {
		for (size_t k = 0; k < sizeof cols / sizeof *cols; k++)
			txt_field(o, k == 0, cols[k], cols[k], strlen(cols[k]), 1);
		txt_endrow(o);
	}
	for (int i = 0; i < s->nb; i++) {
		if (s->b[i].n > 1) /* g is NULL when empty */
			qsort(s->b[i].g, s->b[i].n, sizeof *s->b[i].g, group_cmp);
		for (size_t k = 0; k < s->b[i].n; k++)
			summary_row(s, o, s->b[i].by.name, &s->b[i].g[k]);
	}
	summary_row(s, o, "all", &s->all);
}

void aud_summary_free(aud_summary *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nb; i++) {
		for (size_t k = 0; k < s->b[i].n; k++)
			free(s->b[i].g[k].value);
		free(s->b[i].g);
		free(s->b[i].slot);
	}
	free(s->b);
	free(s->all.value);
	free(s);
}
