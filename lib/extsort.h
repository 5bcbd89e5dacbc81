/* External merge sort of stream records in bounded memory.
 *
 *	int cols[] = {cust, time};
 *	extsort *s = extsort_new(&hdr->schema, cols, 2, 256 << 20, "/tmp");
 *	while ((rc = rtn_read(r, &v)) == RTN_RECORD)
 *		extsort_add(s, v);           // copies the record
 *	extsort_finish(s);
 *	while (extsort_next(s, &v) == RTN_RECORD)
 *		use(v);
 *	extsort_free(s);                     // removes any temporary files
 *
 * Records are copied into memory until about `memory` bytes are in use; then
 * that buffer is sorted and written ("spilled") as a run to a temporary
 * stream file (stored blocks) in tmpdir, named retain-sort.XXXXXX and
 * registered with rtn_temp_register so rtn_die and SIGINT/SIGTERM/SIGHUP
 * remove it. Runs are merged (at most EXTSORT_FANIN at a time) when the
 * records are read back. Without spills nothing touches the disk.
 *
 * Order: the listed columns in turn; strings by bytes (memcmp, the shorter
 * first when one is a prefix of the other), int/time/money as signed 64-bit
 * integers (so null, INT64_MIN, sorts first), floats by IEEE-754 total order
 * (-NaN < -inf < ... < -0 < +0 < ... < +inf < NaN). The sort is stable:
 * records equal in every listed column come out in the order they were added.
 */
#ifndef RETAIN_EXTSORT_H
#define RETAIN_EXTSORT_H

#include <stddef.h>
#include <stdint.h>

#include "stream.h"
#include "util.h"

#define EXTSORT_FANIN 32            /* runs merged at once */
#define EXTSORT_MIN_MEMORY (64u * 1024)

typedef struct extsort extsort;

typedef struct extsort_stats {
	uint64_t records;       /* records added */
	uint64_t runs;          /* runs spilled to temporary files (0: all in memory) */
	uint64_t spilled;       /* records written to temporary files, merges included */
	uint64_t spill_bytes;   /* bytes written to temporary files */
	uint64_t merges;        /* intermediate merge passes */
	size_t peak_memory;     /* largest sort buffer in bytes */
} extsort_stats;

/* cols: column indexes of schema giving the order (copied). memory is
 * raised to EXTSORT_MIN_MEMORY when smaller. tmpdir NULL: $TMPDIR or /tmp. */
extsort *extsort_new(const rtn_schema *schema, const int *cols, int ncols, size_t memory,
	const char *tmpdir);
/* Shows spill and merge phases on p (may be NULL). */
void extsort_set_progress(extsort *s, rtn_progress *p);
/* Copies one record (one value per schema column). */
void extsort_add(extsort *s, const rtn_value *v);
/* No more records: sorts what is in memory and prepares the merge. */
void extsort_finish(extsort *s);
/* Next record in order: RTN_RECORD (*v valid until the second call after
 * this one, so a caller can compare a record with the previous one) or
 * RTN_END. Dies (exit 4) when a temporary file cannot be read back. */
int extsort_next(extsort *s, rtn_value **v);
const extsort_stats *extsort_get_stats(const extsort *s);
/* Frees everything and removes the temporary files still present. */
void extsort_free(extsort *s);

/* The order above on decoded values: <0, 0, >0. */
int extsort_cmp(const rtn_schema *schema, const int *cols, int ncols, const rtn_value *a,
	const rtn_value *b);
/* Exact equality of one column: same bytes, same integer, same float bits. */
int extsort_value_eq(int type, const rtn_value *a, const rtn_value *b);

/* Temporary directory: dir if not NULL/empty, else $TMPDIR, else /tmp. */
const char *extsort_tmpdir(const char *dir);

#endif
