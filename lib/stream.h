/* The retain record stream: header, blocks, records. This file and
 * stream.c own every byte of the format (documented in retain-stream(5));
 * programs open, read or write records, and close.
 *
 * Reading has three outcomes, as in htslib:
 *
 *	rtn_reader *r = rtn_reader_open(paths, n);   // n == 0: standard input
 *	rtn_value *v;
 *	int rc;
 *	while ((rc = rtn_read(r, &v)) == RTN_RECORD)
 *		use(v[col]);
 *	if (rc != RTN_END)
 *		rtn_die(rtn_reader_exit(r), "%s", rtn_reader_error(r));
 *
 * Writing:
 *
 *	rtn_header *h = rtn_header_derive(rtn_reader_header(r), argc, argv);
 *	int col = rtn_schema_add(&h->schema, "p_alive", RTN_FLOAT);
 *	rtn_writer *w = rtn_writer_open(out_path, h, level);  // -1 = default
 *	rtn_write(w, values);
 *	rtn_writer_close(w);   // end-of-stream block, fsync, rename
 */
#ifndef RETAIN_STREAM_H
#define RETAIN_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RTN_VERSION_MAJOR 2    /* written */
#define RTN_VERSION_MINOR 0
#define RTN_VERSION_OLDEST 1   /* the oldest major version read */

/* Limits checked before anything is allocated. */
#define RTN_BLOCK_TARGET (64u * 1024)      /* writers flush blocks at about this size */
#define RTN_BLOCK_MAX (1u << 20)           /* hard cap, uncompressed payload */
#define RTN_HEADER_TEXT_MAX (1u << 20)     /* schema + provenance + metadata text */
#define RTN_MAX_COLUMNS 4096
#define RTN_NAME_MAX 255                   /* column name length */

/* Record kinds. */
enum rtn_kind {
	RTN_KIND_GENERIC = 0,
	RTN_KIND_EVENTS = 1,    /* ingest, dedupe */
	RTN_KIND_CUSTOMERS = 2, /* rfm, churnscore */
	RTN_KIND_COHORT = 3,    /* cohort cells */
	RTN_KIND_MAX = 3
};

/* Header flags. */
enum rtn_flag {
	RTN_FLAG_SORTED = 1,   /* sorted by customer (bytes), then time */
	RTN_FLAG_PARTIAL = 2,  /* partial aggregate: combine before use */
	RTN_FLAG_SHARDED = 4   /* only customers with rtn_hash64(id) % shard_n == shard_i */
};

/* Column types. Null: INT64_MIN for int/time/money, NaN for float,
 * an empty string for string. */
enum rtn_type {
	RTN_INT = 1,    /* signed 64-bit integer */
	RTN_FLOAT = 2,  /* IEEE double */
	RTN_STRING = 3, /* bytes, UTF-8 by convention */
	RTN_TIME = 4,   /* seconds since 1970-01-01T00:00:00Z */
	RTN_MONEY = 5   /* fixed point, 4 decimals: 12.34 = 123400 */
};
#define RTN_NULL INT64_MIN
#define RTN_MONEY_SCALE 10000

typedef struct rtn_value {
	int64_t i;      /* int, time, money */
	double f;       /* float */
	const char *s;  /* string bytes (not NUL-terminated in a read record) */
	uint32_t len;   /* string length */
} rtn_value;

typedef struct rtn_column {
	char *name;
	int type;
} rtn_column;

typedef struct rtn_schema {
	int n;
	rtn_column *cols;
} rtn_schema;

typedef struct rtn_header {
	int kind;
	unsigned flags;
	uint32_t shard_i, shard_n;
	rtn_schema schema;
	int nprov;       /* provenance lines, oldest first: "prog version args" */
	char **prov;
	int nmeta;       /* metadata lines "key=value" (e.g. rfm breaks) */
	char **meta;
	int version[2];  /* format version: of the stream read; writers write the current one */
} rtn_header;

/* ---- schema and header ---- */
const char *rtn_type_name(int type);          /* "int", "float", ... */
int rtn_type_parse(const char *name);         /* 0 when unknown */
const char *rtn_kind_name(int kind);          /* "events", "customers", ... */
int rtn_schema_find(const rtn_schema *s, const char *name);   /* index or -1 */
/* Adds a column (or returns the existing one if name and type match;
 * dies with exit 2 if the name exists with another type). */
int rtn_schema_add(rtn_schema *s, const char *name, int type);
/* Finds a column that must exist with the given type, or dies with a message
 * naming the file ("... has no column 'x' (columns: ...)") and exit 2. */
int rtn_schema_need(const rtn_schema *s, const char *name, int type, const char *what);

/* Frees the column names and array and leaves an empty schema. */
void rtn_schema_free(rtn_schema *s);

rtn_header *rtn_header_new(int kind);
/* Copy of an input header for an output: same schema, flags, provenance,
 * metadata, plus one provenance line for this program (argc/argv). */
rtn_header *rtn_header_derive(const rtn_header *in, int kind, int argc, char **argv);
void rtn_header_add_prov(rtn_header *h, int argc, char **argv);
void rtn_header_set_meta(rtn_header *h, const char *key, const char *value);
const char *rtn_header_get_meta(const rtn_header *h, const char *key); /* value or NULL */
void rtn_header_free(rtn_header *h);

/* ---- reading ---- */
enum { RTN_RECORD = 1, RTN_END = 0, RTN_ERROR = -1 };

typedef struct rtn_reader rtn_reader;
/* Opens the files in order as one stream (npaths == 0 or "-": standard input).
 * Reads the first header; on failure dies with a message and exit 2
 * (cannot open) or 3 (not a stream, damaged). */
rtn_reader *rtn_reader_open(char **paths, int npaths);
/* A reader on an open FILE that never exits the program: when the header is
 * bad, rtn_reader_header returns NULL and rtn_reader_error says why. f is
 * not closed. (Fuzzing, tests, and tools that keep going after an error.) */
rtn_reader *rtn_reader_from_file(FILE *f, const char *name);
const rtn_header *rtn_reader_header(const rtn_reader *r);
/* Next record: RTN_RECORD (*vals points at one rtn_value per column, valid
 * until the next call), RTN_END (end-of-stream block seen and verified, no
 * more input), RTN_ERROR. */
int rtn_read(rtn_reader *r, const rtn_value **vals);
/* After RTN_ERROR: "FILE: block N at byte OFFSET: reason", and the exit code
 * (3 for damage, 2 for unreadable input). */
const char *rtn_reader_error(const rtn_reader *r);
int rtn_reader_exit(const rtn_reader *r);
/* Position for messages and progress. */
uint64_t rtn_reader_offset(const rtn_reader *r);  /* bytes consumed, all files */
uint64_t rtn_reader_records(const rtn_reader *r); /* records returned so far */
uint64_t rtn_reader_blocks(const rtn_reader *r);
uint64_t rtn_reader_size(const rtn_reader *r);    /* total input size if known, else 0 */
void rtn_reader_close(rtn_reader *r);

/* ---- writing ---- */
typedef struct rtn_writer rtn_writer;
/* path NULL or "-": standard output, stored blocks unless level > 0;
 * refuses a terminal (exit 2, hint: pipe into inspect). A path: written
 * atomically (see rtn_out_open), deflate blocks at level 1 unless level
 * is 0. level -1 = that default; 0 = stored (-u); 1..9 = deflate level. */
rtn_writer *rtn_writer_open(const char *path, const rtn_header *h, int level);
/* Same, on an output opened earlier with rtn_out_open (programs open -o
 * first, so a second run on the same file is refused before any work). */
struct rtn_out;
rtn_writer *rtn_writer_open_out(struct rtn_out *o, const rtn_header *h, int level);
/* Same, but on an already open FILE (used for temporary spill files). */
rtn_writer *rtn_writer_open_file(FILE *f, const char *name, const rtn_header *h, int level);
/* Appends one record: one value per schema column. Dies (exit 4) on write
 * errors with the output's name. */
void rtn_write(rtn_writer *w, const rtn_value *vals);
/* Writes the final block and end-of-stream block, then commits the output
 * (flush, fsync, rename). Dies with exit 4 on failure. */
void rtn_writer_close(rtn_writer *w);
/* Writes the final blocks now (rtn_writer_close does it if not done yet).
 * For rtn_writer_open_file, rtn_writer_close then frees the writer and
 * leaves f open. */
int rtn_writer_finish(rtn_writer *w);
void rtn_writer_abort(rtn_writer *w);
uint64_t rtn_writer_records(const rtn_writer *w);
/* Writes rows 0..n-1, row i's values filled by row(ctx, i, vals, scratch);
 * the values may point into scratch (RTN_ROW_SCRATCH bytes) and into
 * memory that outlives the call. Rows go in chunks of RTN_ROWS_CHUNK, each
 * ending its block, so the stream is the same byte for byte however it
 * was made: with two processors (rtn_threads_allowed) a second thread
 * encodes (and compresses) every other chunk while the first writes. row
 * is then called from both threads, for different rows. */
#define RTN_ROWS_CHUNK 16384
#define RTN_ROW_SCRATCH 256
typedef void (*rtn_row_fn)(void *ctx, uint64_t i, rtn_value *vals, char *scratch);
void rtn_write_rows(rtn_writer *w, uint64_t n, rtn_row_fn row, void *ctx);

/* ---- values ---- */
/* Formats a value as text (no quoting): ints decimal, floats shortest
 * round-trip ("%.17g" fallback), money with 2-4 decimals, time ISO-8601 UTC
 * ("2023-01-02T03:04:05Z"), null as empty. Returns length written (< n). */
size_t rtn_value_format(const rtn_value *v, int type, char *buf, size_t n);
int rtn_value_is_null(const rtn_value *v, int type);
/* Column name and customer id helpers. */
rtn_value rtn_str(const char *s);
int rtn_value_streq(const rtn_value *v, const char *s);

#endif
