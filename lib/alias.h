/* Customer aliases: a map from alias ids to canonical ids, read from a
 * two-column CSV/TSV file (alias, canonical) and resolved through chains
 * (a -> b -> c gives a -> c and b -> c). Cycles are an error.
 *
 * File format: one pair per line, comma- or tab-separated (guessed from the
 * first line), RFC 4180 quoting; a first line whose first field is
 * "alias" is a header (alias,canonical or synth's alias,customer_id); blank lines are skipped; a line "x,x" says nothing and is
 * ignored. The same alias given twice with different targets is an error. */
#ifndef RETAIN_ALIAS_H
#define RETAIN_ALIAS_H

#include <stddef.h>
#include <stdint.h>

typedef struct alias_map alias_map;

/* Reads and resolves the file; dies with exit 2 and "FILE:LINE: reason" on
 * errors, naming the ids of a cycle ("alias cycle: a -> b -> a"). */
alias_map *alias_load(const char *path);
/* Builds a map from pairs in memory (tests, other loaders). Returns NULL and
 * sets *err (static text with ids where it fits) on a conflict or cycle. */
alias_map *alias_new(void);
int alias_add(alias_map *m, const char *alias, size_t alen, const char *canon, size_t clen);
int alias_resolve(alias_map *m, char *err, size_t errlen);
/* Canonical id of id (after resolve): 1 with *out and *outlen set, or 0 when id
 * is not an alias. Compares full bytes, never only hashes. */
int alias_lookup(const alias_map *m, const char *id, size_t len, const char **out, size_t *outlen);
size_t alias_count(const alias_map *m);
void alias_free(alias_map *m);

#endif
