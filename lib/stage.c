/* Lifecycle stages: see stage.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stage.h"
#include "util.h"

static const char *const NAMES[STAGE_N] = {"new", "growing", "mature", "declining", "churned",
                                           "reactivated"};

const char *stage_name(int stage)
{
	return stage >= 0 && stage < STAGE_N ? NAMES[stage] : "";
}

void stage_defaults(stage_params *p)
{
	p->new_days = 30;
	p->churn_days = 180;
	p->mature_days = 365;
	p->decline_factor = 2;
	p->churn_factor = 4;
	p->min_gap = 7;
}

int stage_of(const stage_params *p, int64_t ndays, int64_t first_day, int64_t prev_day,
             int64_t last_day, int64_t asof_day)
{
	double recency = (double)(asof_day - last_day), tenure = (double)(asof_day - first_day);
	if (ndays < 2) {
		if (recency <= p->new_days)
			return STAGE_NEW;
		return recency <= p->churn_days ? STAGE_DECLINING : STAGE_CHURNED;
	}
	double gap = (double)(last_day - first_day) / (double)(ndays - 1);
	if (gap < p->min_gap)
		gap = p->min_gap;
	if (recency > p->churn_factor * gap)
		return STAGE_CHURNED;
	if (recency > p->decline_factor * gap)
		return STAGE_DECLINING;
	double last_gap = (double)(last_day - prev_day), limit = p->churn_days;
	if (ndays >= 3) {
		double before = (double)(prev_day - first_day) / (double)(ndays - 2);
		limit = p->churn_factor * (before < p->min_gap ? p->min_gap : before);
	}
	if (last_gap > limit)
		return STAGE_REACTIVATED;
	if (tenure <= p->new_days)
		return STAGE_NEW;
	return tenure < p->mature_days ? STAGE_GROWING : STAGE_MATURE;
}

int stage_params_parse(const char *s, stage_params *p, char *err, size_t errlen)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{"new", offsetof(stage_params, new_days)},
		{"churn", offsetof(stage_params, churn_days)},
		{"mature", offsetof(stage_params, mature_days)},
		{"decline-factor", offsetof(stage_params, decline_factor)},
		{"churn-factor", offsetof(stage_params, churn_factor)},
		{"min-gap", offsetof(stage_params, min_gap)},
	};
	const char *q = s;
	for (;;) {
		while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
			q++;
		if (!*q)
			return 0;
		const char *eq = strchr(q, '=');
		size_t klen = eq ? (size_t)(eq - q) : 0;
		size_t i = 0;
		while (i < sizeof keys / sizeof *keys && !(klen == strlen(keys[i].key) &&
		                                           memcmp(q, keys[i].key, klen) == 0))
			i++;
		if (!eq || i == sizeof keys / sizeof *keys) {
			size_t w = strcspn(q, " \t\r\n");
			snprintf(err, errlen, "unknown setting '%.*s' (use new=, churn=, mature=, "
			         "decline-factor=, churn-factor=, min-gap=)", (int)(w > 40 ? 40 : w), q);
			return -1;
		}
		char *end;
		double v = strtod(eq + 1, &end);
		/* day counts may carry a 'd' suffix */
		if (end > eq + 1 && *end == 'd' && keys[i].key[strlen(keys[i].key) - 1] != 'r')
			end++;
		if (end == eq + 1 || (*end && !strchr(" \t\r\n", *end)) || !isfinite(v) || v < 0 ||
		    v > 1e6) {
			snprintf(err, errlen, "%s: expected a number from 0 to 1000000", keys[i].key);
			return -1;
		}
		*(double *)((char *)p + keys[i].off) = v;
		q = end;
	}
}

stage_rules *stage_rules_load(const char *path)
{
	FILE *f = rtn_in_open(path);
	stage_rules *r = xcalloc(1, sizeof *r);
	stage_defaults(&r->def);
	char *line = NULL, err[256];
	size_t cap = 0;
	long lineno = 0;
	int seen_group = 0;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		char *p = line;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p)
			continue;
		size_t w = strcspn(p, " \t\r\n");
		char *rest = p + w;
		if (w == 2 && memcmp(p, "by", 2) == 0) {
			size_t s = strspn(rest, " \t");
			size_t cw = strcspn(rest + s, " \t\r\n");
			if (r->column || seen_group || !cw)
				rtn_die(RTN_EXIT_USAGE, "%s:%ld: 'by COLUMN' must come once, before the groups",
				        path, lineno);
			r->column = xstrndup(rest + s, cw);
			continue;
		}
		if (w == 1 && *p == '*') {
			if (seen_group)
				rtn_die(RTN_EXIT_USAGE, "%s:%ld: the '*' line must come before the groups", path,
				        lineno);
			if (stage_params_parse(rest, &r->def, err, sizeof err) < 0)
				rtn_die(RTN_EXIT_USAGE, "%s:%ld: %s", path, lineno, err);
			continue;
		}
		if (!r->column)
			rtn_die(RTN_EXIT_USAGE, "%s:%ld: group '%.*s' before a 'by COLUMN' line", path, lineno,
			        (int)(w > 40 ? 40 : w), p);
		seen_group = 1;
		stage_params sp = r->def;
		if (stage_params_parse(rest, &sp, err, sizeof err) < 0)
			rtn_die(RTN_EXIT_USAGE, "%s:%ld: %s", path, lineno, err);
		if (stage_rules_for(r, p, w) != &r->def)
			rtn_die(RTN_EXIT_USAGE, "%s:%ld: group '%.*s' given twice", path, lineno,
			        (int)(w > 40 ? 40 : w), p);
		r->value = xrealloc(r->value, (size_t)(r->n + 1) * sizeof *r->value);
		r->p = xrealloc(r->p, (size_t)(r->n + 1) * sizeof *r->p);
		r->value[r->n] = xstrndup(p, w);
		r->p[r->n++] = sp;
	}
	if (ferror(f))
		rtn_die(RTN_EXIT_USAGE, "%s: read error", path);
	free(line);
	if (f != stdin)
		fclose(f);
	return r;
}

const stage_params *stage_rules_for(const stage_rules *r, const char *value, size_t len)
{
	for (int i = 0; i < r->n; i++)
		if (strlen(r->value[i]) == len && memcmp(r->value[i], value, len) == 0)
			return &r->p[i];
	return &r->def;
}

void stage_rules_free(stage_rules *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->n; i++)
		free(r->value[i]);
	free(r->value);
	free(r->p);
	free(r->column);
	free(r);
}
