/* Test helper (not a unit test): builds a retain stream from TSV so that
 * segment-export tests do not depend on rfm or churnscore.
 *
 *   mkcustomers [-k events|customers] OUT < table.tsv
 *
 * The first line names the columns as NAME:TYPE (int, float, string, time,
 * money); each further line is one record. An empty cell is null. Times are
 * YYYY-MM-DD (UTC midnight) or epoch seconds; money is a decimal with up to
 * 4 places. Built by tests/segment-export.bats and tests/scripts.bats from
 * lib/stream.c, lib/crc32.c, lib/util.c and lib/workers.c only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"
#include "util.h"

static int64_t parse_money(const char *s)
{
	int neg = *s == '-';
	if (neg || *s == '+')
		s++;
	int64_t v = 0;
	int frac = -1;
	for (; *s; s++) {
		if (*s == '.') {
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || frac >= 4)
			rtn_die(2, "bad money '%s'", s);
		v = v * 10 + (*s - '0');
		if (frac >= 0)
			frac++;
	}
	for (int k = frac < 0 ? 0 : frac; k < 4; k++)
		v *= 10;
	return neg ? -v : v;
}

static int64_t parse_time(const char *s)
{
	int y, m, d;
	if (strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d", &y, &m, &d) == 3) {
		int64_t yy = y - (m <= 2);
		int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
		int64_t yoe = yy - era * 400;
		int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
		int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
		return (era * 146097 + doe - 719468) * 86400;
	}
	return strtoll(s, NULL, 10);
}

int main(int argc, char **argv)
{
	int kind = RTN_KIND_CUSTOMERS;
	rtn_init(argv[0]);
	if (argc > 2 && strcmp(argv[1], "-k") == 0) {
		kind = strcmp(argv[2], "events") == 0 ? RTN_KIND_EVENTS : RTN_KIND_CUSTOMERS;
		argc -= 2;
		argv += 2;
	}
	if (argc != 2)
		rtn_die(2, "usage: mkcustomers [-k events|customers] OUT < table.tsv");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	rtn_header *h = rtn_header_new(kind);
	rtn_writer *w = NULL;
	rtn_value *vals = NULL;
	char **cells = NULL;
	int ncol = 0;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = 0;
		if (!w) {
			for (char *tok = strtok(line, "\t"); tok; tok = strtok(NULL, "\t")) {
				char *colon = strrchr(tok, ':');
				if (!colon)
					rtn_die(2, "column '%s' has no :TYPE", tok);
				*colon = 0;
				rtn_schema_add(&h->schema, tok, rtn_type_parse(colon + 1));
			}
			ncol = h->schema.n;
			vals = xcalloc((size_t)ncol, sizeof *vals);
			cells = xcalloc((size_t)ncol, sizeof *cells);
			w = rtn_writer_open(argv[1], h, -1);
			continue;
		}
		char *p = line;
		for (int c = 0; c < ncol; c++) {
			cells[c] = p;
			char *tab = p ? strchr(p, '\t') : NULL;
			if (tab)
				*tab = 0;
			p = tab ? tab + 1 : NULL;
			if (!cells[c])
				cells[c] = "";
		}
		for (int c = 0; c < ncol; c++) {
			const char *s = cells[c];
			memset(&vals[c], 0, sizeof vals[c]);
			switch (h->schema.cols[c].type) {
			case RTN_STRING: vals[c] = rtn_str(s); break;
			case RTN_FLOAT: vals[c].f = *s ? strtod(s, NULL) : NAN; break;
			case RTN_MONEY: vals[c].i = *s ? parse_money(s) : RTN_NULL; break;
			case RTN_TIME: vals[c].i = *s ? parse_time(s) : RTN_NULL; break;
			default: vals[c].i = *s ? strtoll(s, NULL, 10) : RTN_NULL; break;
			}
		}
		rtn_write(w, vals);
	}
	if (!w)
		rtn_die(2, "no header line");
	rtn_writer_close(w);
	free(line);
	free(vals);
	free(cells);
	rtn_header_free(h);
	return 0;
}
