/* Customer alias map (see alias.h): an open-addressing hash table of alias
 * ids whose probes always compare the full id bytes, so ids that share a
 * hash are never confused. */
#include "alias.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "util.h"

typedef struct node {
	char *id, *target;
	size_t len, tlen;
	const char *canon;   /* after resolve */
	size_t clen;
	uint64_t line;       /* line in the file, 0 if added in memory */
	int state;           /* resolve: 0 new, 1 on the current path, 2 done */
} node;

struct alias_map {
	node *nodes;
	size_t n, cap;
	uint32_t *slots;     /* node index + 1; 0 empty */
	size_t nslots;
	uint64_t mask;       /* hash bits kept (test hook RETAIN_TEST_HASH_BITS) */
	int resolved;
};

static uint64_t hash_of(const alias_map *m, const char *p, size_t n)
{
	return rtn_hash64(p, n) & m->mask;
}

static long find(const alias_map *m, const char *id, size_t len)
{
	if (!m->nslots)
		return -1;
	size_t i = (size_t)hash_of(m, id, len) & (m->nslots - 1);
	for (;; i = (i + 1) & (m->nslots - 1)) {
		uint32_t s = m->slots[i];
		if (!s)
			return -1;
		const node *nd = &m->nodes[s - 1];
		if (nd->len == len && memcmp(nd->id, id, len) == 0)
			return (long)(s - 1);
	}
}

static void rehash(alias_map *m, size_t nslots)
{
	free(m->slots);
	m->slots = xcalloc(nslots, sizeof *m->slots);
	m->nslots = nslots;
	for (size_t k = 0; k < m->n; k++) {
		size_t i = (size_t)hash_of(m, m->nodes[k].id, m->nodes[k].len) & (nslots - 1);
		while (m->slots[i])
			i = (i + 1) & (nslots - 1);
		m->slots[i] = (uint32_t)(k + 1);
	}
}

alias_map *alias_new(void)
{
	alias_map *m = xcalloc(1, sizeof *m);
	m->mask = ~0ULL;
	const char *bits = getenv("RETAIN_TEST_HASH_BITS");
	if (bits && *bits) {
		long b = strtol(bits, NULL, 10);
		m->mask = b <= 0 ? 0 : b >= 64 ? ~0ULL : ~0ULL << (64 - b);
	}
	rehash(m, 64);
	return m;
}

/* 0 added (or the same pair again), -1 alias already maps elsewhere
 * (*prev set to that node). */
static int add_line(alias_map *m, const char *a, size_t alen, const char *c, size_t clen,
	uint64_t line, const node **prev)
{
	if (alen == clen && memcmp(a, c, alen) == 0)
		return 0;
	long k = find(m, a, alen);
	if (k >= 0) {
		node *nd = &m->nodes[k];
		if (nd->tlen == clen && memcmp(nd->target, c, clen) == 0)
			return 0;
		if (prev)
			*prev = nd;
		return -1;
	}
	if (m->n >= UINT32_MAX - 1)
		rtn_die(RTN_EXIT_USAGE, "too many aliases");
	xgrow((void **)&m->nodes, &m->cap, m->n + 1, sizeof *m->nodes);
	node *nd = &m->nodes[m->n++];
	memset(nd, 0, sizeof *nd);
	nd->id = xstrndup(a, alen);
	nd->len = alen;
	nd->target = xstrndup(c, clen);
	nd->tlen = clen;
	nd->line = line;
	m->resolved = 0;
	if (2 * m->n > m->nslots)
		rehash(m, m->nslots * 2);
	else {
		size_t i = (size_t)hash_of(m, a, alen) & (m->nslots - 1);
		while (m->slots[i])
			i = (i + 1) & (m->nslots - 1);
		m->slots[i] = (uint32_t)m->n;
	}
	return 0;
}

int alias_add(alias_map *m, const char *alias, size_t alen, const char *canon, size_t clen)
{
	return add_line(m, alias, alen, canon, clen, 0, NULL);
}

/* Appends "id" (shortened) to a message buffer. */
static void append_id(char *err, size_t errlen, const char *sep, const char *id, size_t len)
{
	size_t used = strlen(err);
	if (used + 1 >= errlen)
		return;
	snprintf(err + used, errlen - used, "%s%.*s%s", sep, len > 60 ? 60 : (int)len, id,
		len > 60 ? "..." : "");
}

int alias_resolve(alias_map *m, char *err, size_t errlen)
{
	size_t *path = xmalloc((m->n ? m->n : 1) * sizeof *path);
	for (size_t i = 0; i < m->n; i++)
		m->nodes[i].state = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (m->nodes[i].state == 2)
			continue;
		size_t depth = 0, cur = i;
		const char *canon;
		size_t clen;
		for (;;) {
			node *nd = &m->nodes[cur];
			if (nd->state == 2) {
				canon = nd->canon;
				clen = nd->clen;
				break;
			}
			if (nd->state == 1) {
				size_t from = 0;
				while (path[from] != cur)
					from++;
				err[0] = 0;
				append_id(err, errlen, "alias cycle: ", nd->id, nd->len);
				for (size_t k = from + 1; k < depth; k++)
					append_id(err, errlen, " -> ", m->nodes[path[k]].id, m->nodes[path[k]].len);
				append_id(err, errlen, " -> ", nd->id, nd->len);
				if (nd->line)
					snprintf(err + strlen(err), errlen - strlen(err), " (line %llu)",
						(unsigned long long)nd->line);
				free(path);
				return -1;
			}
			nd->state = 1;
			path[depth++] = cur;
			long next = find(m, nd->target, nd->tlen);
			if (next < 0) {
				canon = nd->target;
				clen = nd->tlen;
				break;
			}
			cur = (size_t)next;
		}
		for (size_t k = 0; k < depth; k++) {
			node *nd = &m->nodes[path[k]];
			nd->canon = canon;
			nd->clen = clen;
			nd->state = 2;
		}
	}
	free(path);
	m->resolved = 1;
	return 0;
}

int alias_lookup(const alias_map *m, const char *id, size_t len, const char **out, size_t *outlen)
{
	long k = find(m, id, len);
	if (k < 0 || !m->resolved)
		return 0;
	*out = m->nodes[k].canon;
	*outlen = m->nodes[k].clen;
	return 1;
}

size_t alias_count(const alias_map *m)
{
	return m->n;
}

void alias_free(alias_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->nodes[i].id);
		free(m->nodes[i].target);
	}
	free(m->nodes);
	free(m->slots);
	free(m);
}

/* Reads all of f (alias files are small next to the events). */
static char *slurp(FILE *f, const char *name, size_t *n)
{
	size_t cap = 65536, len = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		xgrow((void **)&buf, &cap, len + 65536, 1);
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f))
				rtn_die(RTN_EXIT_USAGE, "%s: read error: %s", name, strerror(errno));
			break;
		}
	}
	*n = len;
	return buf;
}

alias_map *alias_load(const char *path)
{
	const char *name = rtn_in_name(path);
	FILE *f = rtn_in_open(path);
	size_t len;
	char *buf = slurp(f, name, &len);
	if (f != stdin)
		fclose(f);
	alias_map *m = alias_new();
	if (len) {
		int delim = csv_guess_delimiter(buf, len);
		csv_options o;
		csv_options_init(&o);
		o.delim = delim == '\t' ? '\t' : ',';
		FILE *mf = fmemopen(buf, len, "rb");
		if (!mf)
			rtn_die(RTN_EXIT_SYSTEM, "%s: %s", name, strerror(errno));
		csv_reader *r = csv_open(mf, name, &o);
		csv_row row;
		int rc = 0;
		char msg[768] = "";
		while (!msg[0] && (rc = csv_next(r, &row)) == 1) {
			unsigned long long line = (unsigned long long)row.line;
			const node *prev = NULL;
			if (row.error)
				snprintf(msg, sizeof msg, "%s:%llu: %s", name, line, row.error);
			else if (row.nfields != 2)
				snprintf(msg, sizeof msg, "%s:%llu: expected 2 fields (alias, canonical id), found %zu",
					name, line, row.nfields);
			else if (row.recno == 1 && strcasecmp(row.field[0], "alias") == 0)
				continue; /* header: alias,canonical (synth: alias,customer_id) */
			else if (!row.len[0] || !row.len[1])
				snprintf(msg, sizeof msg, "%s:%llu: empty customer id", name, line);
			else if (add_line(m, row.field[0], row.len[0], row.field[1], row.len[1], row.line, &prev) != 0)
				snprintf(msg, sizeof msg, "%s:%llu: alias '%.200s' maps to '%.200s' here but to '%.200s' on line %llu",
					name, line, row.field[0], row.field[1], prev->target,
					(unsigned long long)prev->line);
		}
		if (!msg[0] && rc < 0)
			snprintf(msg, sizeof msg, "%s", csv_error(r));
		csv_close(r);
		fclose(mf);
		if (msg[0]) {
			free(buf);
			alias_free(m);
			rtn_die(RTN_EXIT_USAGE, "%s", msg);
		}
	}
	free(buf);
	char err[512];
	if (alias_resolve(m, err, sizeof err) != 0) {
		alias_free(m);
		rtn_die(RTN_EXIT_USAGE, "%s: %s", name, err);
	}
	return m;
}
