/* libFuzzer target for lib/csv.c.
 *   clang -fsanitize=fuzzer,address -Ilib tests/fuzz/fuzz_csv.c lib/<every .c> -lz -lm
 * The first two bytes choose the options (delimiter, quoting, small limits);
 * the rest is parsed three times, with 1-byte and 4 KiB reads and with 4 KiB
 * reads splitting fields in place (ingest's mode), and all parses must give
 * identical rows (so neither buffer refills nor the in-place split change
 * the result; an in-place row's text must come back whole). Also
 * checks that fields are NUL-terminated with the right length, records and
 * lines only move forward, and every input byte is consumed at a clean end. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* fmemopen */
#endif
#include "csv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_csv: check failed: %s\n", #c); abort(); } } while (0)

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;
	for (i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h;
}

static uint64_t run(const uint8_t *d, size_t n, const csv_options *o, int *rc_out)
{
	FILE *f = fmemopen((void *)d, n, "r");
	csv_reader *r;
	csv_row row;
	uint64_t h = 14695981039346656037ull, rec = 0, line = 0;
	int rc;
	size_t i;
	if (!f)
		return 0;
	r = csv_open(f, "fuzz", o);
	CHECK(r != NULL);
	while ((rc = csv_next(r, &row)) == 1) {
		CHECK(row.recno == ++rec);
		CHECK(row.line > line);
		line = row.line;
		CHECK(row.raw != NULL || row.rawlen == 0);
		h = mix(h, &row.line, sizeof row.line);
		h = mix(h, &row.offset, sizeof row.offset);
		CHECK(row.offset + row.rawlen <= n || row.raw_truncated);
		if (row.error) {
			CHECK(row.nfields == 0 && !row.split);
		} else {
			CHECK(row.nfields >= 1 && row.nfields <= o->max_fields);
			for (i = 0; i < row.nfields; i++) {
				CHECK(row.len[i] <= o->max_field);
				CHECK(strlen(row.field[i]) == row.len[i]);
				CHECK(csv_utf8_check(row.field[i], row.len[i]) == row.len[i]);
				h = mix(h, row.field[i], row.len[i] + 1);
			}
		}
		CHECK(!row.split || o->in_place);
		if (row.split)
			csv_unsplit(&row);   /* the separators back in raw */
		h = mix(h, row.raw, row.rawlen);
		if (!row.raw_truncated)
			CHECK(memcmp(row.raw, d + row.offset, row.rawlen) == 0);
		if (row.error)
			h = mix(h, row.error, strlen(row.error));
	}
	if (rc == 0)
		CHECK(csv_bytes(r) == n);
	CHECK(csv_next(r, &row) == rc);
	h = mix(h, &rc, sizeof rc);
	*rc_out = rc;
	csv_close(r);
	fclose(f);
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const int delims[] = { ',', '\t', ';', '|', CSV_DELIM_WHITESPACE, ' ', ',', ',' };
	csv_options o;
	int rc1 = 0, rc2 = 0;
	uint64_t h1, h2;
	if (n < 2)
		return 0;
	csv_options_init(&o);
	o.delim = delims[d[0] & 7];
	if (d[0] & 8)
		o.quote = 0;
	if (d[0] & 16)
		o.max_field = 1 + (d[1] & 63);
	if (d[0] & 32)
		o.max_fields = 1 + (d[1] >> 4);
	if (d[0] & 64)
		o.max_record = 1; /* the minimum: 2 * max_field + 64 KiB */
	d += 2;
	n -= 2;
	if (n == 0)
		return 0; /* fmemopen needs a size */
	o.chunk = 1;
	h1 = run(d, n, &o, &rc1);
	o.chunk = 4096;
	h2 = run(d, n, &o, &rc2);
	CHECK(rc1 == rc2);
	CHECK(h1 == h2);
	o.in_place = 1;
	h2 = run(d, n, &o, &rc2);
	CHECK(rc1 == rc2);
	CHECK(h1 == h2);
	return 0;
}
