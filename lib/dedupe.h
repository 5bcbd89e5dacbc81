/* dedupe: drops duplicate events, merges customer aliases and sorts an
 * events stream by customer, time and then every other column.
 *
 * How it works: records (customer replaced through the alias map) go into
 * an external sort ordered by customer, the key columns, time and the rest,
 * so that duplicates are neighbours. One scan then decides per record:
 *   - equal to the previous record in every column: "exact";
 *   - same customer and key as the group's kept event: "order" (--key order)
 *     or "key" (--key COL,...), or, with --within, "within" when closer than
 *     the duration to the group's last kept event; with --rollup the line
 *     items of an order are summed into its first event ("rollup").
 * Events whose key columns are all empty/null are only exact duplicates
 * (visits have no order id). When the scan order is not the output order a
 * second external sort puts the kept events in customer, time order.
 * Equality is always decided on full values, never on hashes. */
#ifndef RETAIN_DEDUPE_H
#define RETAIN_DEDUPE_H

#include <stddef.h>
#include <stdint.h>

#include "alias.h"
#include "extsort.h"
#include "stream.h"
#include "util.h"

#define DEDUPE_DEFAULT_MEMORY ((size_t)256 << 20)

enum dedupe_mode { DEDUPE_EXACT = 0, DEDUPE_ORDER = 1, DEDUPE_COLS = 2 };
enum dedupe_reason { DD_EXACT, DD_ORDER, DD_KEY, DD_WITHIN, DD_ROLLUP, DD_NREASONS };

typedef struct dedupe_opts {
	int mode;              /* enum dedupe_mode */
	int key_given;         /* --key was given (with --within: default key is amount) */
	char **cols;           /* DEDUPE_COLS: column names */
	int ncols;
	int rollup;            /* sum line items of one key (--rollup) */
	int64_t within;        /* seconds; 0 = off */
	const alias_map *alias;
	size_t memory;
	const char *tmpdir;
	const char *out_path;  /* NULL or "-": standard output */
	const char *dups_path; /* NULL: removed events are only counted */
	int level;             /* output deflate level, -1 default */
	rtn_progress *progress;
} dedupe_opts;

typedef struct dedupe_stats {
	uint64_t read, kept, aliased;
	uint64_t removed[DD_NREASONS];
	int passes;            /* sorts run: 1 or 2 */
	extsort_stats sort[2];
} dedupe_stats;

void dedupe_opts_init(dedupe_opts *o);
void dedupe_opts_free(dedupe_opts *o);   /* the --key column list */
/* --key: "exact", "order" or a comma-separated column list. Dies (exit 2). */
void dedupe_parse_key(dedupe_opts *o, const char *arg);
/* --within: a duration "30s", "10min", "2h", "1d", "1w" (no months/years). */
int64_t dedupe_parse_within(const char *arg);
const char *dedupe_reason_name(int reason);

/* Reads every record of in, writes the kept events sorted to opts->out_path
 * (header derived from in's with this program's provenance line from
 * argc/argv and the sorted flag) and removed ones with a "reason" column to
 * opts->dups_path. Dies with the usual exit codes on errors. */
void dedupe_run(const dedupe_opts *o, rtn_reader *in, int argc, char **argv, dedupe_stats *st);
/* "prog: read N, kept N, removed N: exact N, ..." and the sort lines. */
void dedupe_print_stats(FILE *f, const dedupe_stats *st);

#endif
