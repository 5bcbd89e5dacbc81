/* libFuzzer target for lib/jsonl.c.
 *   clang -fsanitize=fuzzer,address -Ilib tests/fuzz/fuzz_jsonl.c lib/<every .c> -lz -lm
 * The first byte chooses small limits; the rest is parsed with 1-byte and
 * 4 KiB reads, which must agree. Checks keys/values are NUL-terminated with
 * the right length and valid UTF-8, keys are unique, and every byte is
 * consumed at a clean end. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* fmemopen */
#endif
#include "csv.h"
#include "jsonl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_jsonl: check failed: %s\n", #c); abort(); } } while (0)

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;
	for (i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h;
}

static uint64_t run(const uint8_t *d, size_t n, const jsonl_options *o, int *rc_out)
{
	FILE *f = fmemopen((void *)d, n, "r");
	jsonl_reader *r;
	jsonl_row row;
	uint64_t h = 14695981039346656037ull, rec = 0, line = 0;
	int rc;
	size_t i, j;
	if (!f)
		return 0;
	r = jsonl_open(f, "fuzz", o);
	CHECK(r != NULL);
	while ((rc = jsonl_next(r, &row)) == 1) {
		CHECK(row.recno == ++rec);
		CHECK(row.line > line);
		line = row.line;
		CHECK(row.offset + row.rawlen <= n);
		if (!row.raw_truncated)
			CHECK(memcmp(row.raw, d + row.offset, row.rawlen) == 0);
		h = mix(h, &row.line, sizeof row.line);
		h = mix(h, row.raw, row.rawlen);
		if (row.error) {
			CHECK(row.nmembers == 0);
			h = mix(h, row.error, strlen(row.error));
			continue;
		}
		for (i = 0; i < row.nmembers; i++) {
			const jsonl_member *m = &row.member[i];
			CHECK(strlen(m->key) == m->keylen && strlen(m->val) == m->vallen);
			CHECK(csv_utf8_check(m->key, m->keylen) == m->keylen);
			CHECK(csv_utf8_check(m->val, m->vallen) == m->vallen);
			CHECK(m->kind == JSONL_STRING || m->vallen > 0);
			for (j = 0; j < i && j < 64; j++)
				CHECK(row.member[j].keylen != m->keylen ||
				      memcmp(row.member[j].key, m->key, m->keylen) != 0);
			h = mix(h, m->key, m->keylen + 1);
			h = mix(h, m->val, m->vallen + 1);
			h = mix(h, &m->kind, sizeof m->kind);
		}
	}
	if (rc == 0)
		CHECK(jsonl_bytes(r) == n);
	CHECK(jsonl_next(r, &row) == rc);
	h = mix(h, &rc, sizeof rc);
	*rc_out = rc;
	jsonl_close(r);
	fclose(f);
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	jsonl_options o;
	int rc1 = 0, rc2 = 0;
	uint64_t h1, h2;
	if (n < 2)
		return 0;
	jsonl_options_init(&o);
	if (d[0] & 1)
		o.max_depth = 1 + (d[0] >> 4);
	if (d[0] & 2)
		o.max_line = 1 + (d[0] >> 2);
	d++;
	n--;
	o.chunk = 1;
	h1 = run(d, n, &o, &rc1);
	o.chunk = 4096;
	h2 = run(d, n, &o, &rc2);
	CHECK(rc1 == rc2);
	CHECK(h1 == h2);
	return 0;
}
