/* ingest: CSV, TSV and JSON Lines exports into the events stream.
 * Column mapping, row conversion, rejects and accounting. */
#ifndef RETAIN_INGEST_H
#define RETAIN_INGEST_H

#include <stdint.h>

enum ingest_format { ING_AUTO = 0, ING_CSV, ING_TSV, ING_JSONL };

typedef struct ingest_opts {
	int format;              /* enum ingest_format */
	int delim;               /* 0 = by format/guess, else a byte or CSV_DELIM_WHITESPACE */
	int no_header;
	/* column specs: header name or 1-based index; NULL = recognise */
	const char *customer, *time, *amount, *quantity, *price, *order, *type;
	char **attrs;            /* "NAME" or "NAME=COL" */
	int nattrs;
	const char *tz;          /* zone of naive times, default UTC */
	const char *time_format; /* NULL = auto */
	int decimal_comma;
	int thousands;           /* separator byte, 0 = none */
	int currency;            /* strip currency symbols */
	int accounting;          /* (25.00) means -25.00 */
	const char *type_map;    /* "old=new,..." */
	const char *rejects;     /* reject file path or NULL */
	long long max_rejects;   /* count, or per mille when max_rejects_pct */
	int max_rejects_pct;     /* max_rejects is a percentage x 1000 */
	int max_year;            /* rows dated after this year are rejected */
	int verbose, stats, progress;
	const char *out;         /* -o FILE or NULL */
	int level;               /* -1 default, 0 stored, 1-9 */
} ingest_opts;

void ingest_opts_init(ingest_opts *o);

/* Reads the files in order (none or "-": standard input) and writes the
 * events stream. Returns the exit status (0, or 1 when rejects exceed
 * --max-rejects); fatal problems end the program with a message. */
int ingest_run(const ingest_opts *o, char **files, int nfiles, int argc, char **argv);

#endif
