/* Segments: see segments.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segments.h"
#include "util.h"

/* Index = 4*(R low) + 2*(F low) + (M low): value, development (F low),
 * retention (R low), win-back (R and F low), then the same four with M low. */
static const char *const CLASSIC_EN[SEG_CLASSIC8_N] = {
	"important-value",   "general-value",      "important-development", "general-development",
	"important-retention", "general-retention", "important-win-back",   "general-retain"};
static const char *const CLASSIC_ZH[SEG_CLASSIC8_N] = {
	"重要价值客户", "一般价值客户", "重要发展客户", "一般发展客户",
	"重要保持客户", "一般保持客户", "重要挽回客户", "一般挽留客户"};

int seg_classic8_index(int r_high, int f_high, int m_high)
{
	return (!r_high) * 4 + (!f_high) * 2 + (!m_high);
}

const char *seg_classic8_name(int index, int zh)
{
	if (index < 0 || index >= SEG_CLASSIC8_N)
		return "";
	return zh ? CLASSIC_ZH[index] : CLASSIC_EN[index];
}

static const char *const NAMED[] = {
	"Champions: r=4-5 f=4-5 m=4-5",
	"Potential Loyalist: r=4-5 f=2-3",
	"Loyal Customers: r=3-5 f=3-5 m=3-5",
	"Promising: r=3-4 f=1",
	"New Customers: r=5 f=1",
	"Can't Lose Them: r=1 f=4-5 m=4-5",
	"At Risk: r=1-2 f=3-5 m=3-5",
	"Need Attention: r=3 f=2-3",
	"About To Sleep: r=2-3 f=1-2",
	"Lost: r=1-2",
};

static void rules_add(seg_rules *rs, const seg_rule *r)
{
	rs->rule = xrealloc(rs->rule, (size_t)(rs->n + 1) * sizeof *rs->rule);
	rs->rule[rs->n++] = *r;
}

seg_rules *seg_named_default(void)
{
	seg_rules *rs = xcalloc(1, sizeof *rs);
	rs->other = "Others";
	char err[128];
	for (size_t i = 0; i < sizeof NAMED / sizeof *NAMED; i++) {
		seg_rule r;
		if (seg_rule_parse(NAMED[i], 5, &r, err, sizeof err) < 0)
			rtn_die(RTN_EXIT_SYSTEM, "built-in segment rule: %s", err);
		rules_add(rs, &r);
	}
	return rs;
}

static int parse_int(const char **p, long *v)
{
	char *end;
	errno = 0;
	if (**p < '0' || **p > '9')
		return -1;
	*v = strtol(*p, &end, 10);
	if (errno || end == *p)
		return -1;
	*p = end;
	return 0;
}

int seg_rule_parse(const char *line, int bins, seg_rule *out, char *err, size_t errlen)
{
	const char *colon = strrchr(line, ':');
	if (!colon) {
		snprintf(err, errlen, "expected 'NAME: r=A-B f=A-B m=A-B'");
		return -1;
	}
	const char *b = line, *e = colon;
	while (b < e && (*b == ' ' || *b == '\t'))
		b++;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (b == e) {
		snprintf(err, errlen, "empty segment name");
		return -1;
	}
	for (int k = 0; k < 4; k++) {
		out->lo[k] = k == 3 ? 3 : 1;
		out->hi[k] = k == 3 ? 3 * bins : bins;
	}
	const char *p = colon + 1;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n' || *p == '\r')
			break;
		int k;
		size_t klen;
		if (strncmp(p, "r=", 2) == 0)
			k = 0, klen = 2;
		else if (strncmp(p, "f=", 2) == 0)
			k = 1, klen = 2;
		else if (strncmp(p, "m=", 2) == 0)
			k = 2, klen = 2;
		else if (strncmp(p, "score=", 6) == 0)
			k = 3, klen = 6;
		else {
			snprintf(err, errlen, "unknown condition '%.20s' (use r=, f=, m=, score=)", p);
			return -1;
		}
		p += klen;
		long lo, hi;
		if (parse_int(&p, &lo) < 0) {
			snprintf(err, errlen, "expected a number or range A-B after '%.*s'", (int)klen, p - klen);
			return -1;
		}
		hi = lo;
		if (*p == '-') {
			p++;
			if (parse_int(&p, &hi) < 0) {
				snprintf(err, errlen, "expected the end of the range after '-'");
				return -1;
			}
		}
		if (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
			snprintf(err, errlen, "unexpected '%c' in a range", *p);
			return -1;
		}
		long min = k == 3 ? 3 : 1, max = k == 3 ? 3L * bins : bins;
		if (lo > hi || lo < min || hi > max) {
			snprintf(err, errlen, "range %ld-%ld outside %ld-%ld (bins %d)", lo, hi, min, max, bins);
			return -1;
		}
		out->lo[k] = (int)lo;
		out->hi[k] = (int)hi;
	}
	out->name = xstrndup(b, (size_t)(e - b));
	return 0;
}

seg_rules *seg_rules_load(const char *path, int bins)
{
	FILE *f = rtn_in_open(path);
	seg_rules *rs = xcalloc(1, sizeof *rs);
	rs->other = "Others";
	char *line = NULL, err[256];
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		const char *p = line;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p)
			continue;
		seg_rule r;
		if (seg_rule_parse(p, bins, &r, err, sizeof err) < 0)
			rtn_die(RTN_EXIT_USAGE, "%s:%ld: %s", path, lineno, err);
		rules_add(rs, &r);
	}
	if (ferror(f))
		rtn_die(RTN_EXIT_USAGE, "%s: read error", path);
	free(line);
	if (f != stdin)
		fclose(f);
	if (!rs->n)
		rtn_die(RTN_EXIT_USAGE, "%s: no segment rules", path);
	return rs;
}

void seg_rules_free(seg_rules *rs)
{
	if (!rs)
		return;
	for (int i = 0; i < rs->n; i++)
		free(rs->rule[i].name);
	free(rs->rule);
	free(rs);
}

const char *seg_match(const seg_rules *rs, int r, int f, int m)
{
	int v[4] = {r, f, m, r + f + m};
	for (int i = 0; i < rs->n; i++) {
		const seg_rule *x = &rs->rule[i];
		int k = 0;
		while (k < 4 && v[k] >= x->lo[k] && v[k] <= x->hi[k])
			k++;
		if (k == 4)
			return x->name;
	}
	return rs->other;
}
