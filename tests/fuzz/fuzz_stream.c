/* libFuzzer target: the stream reader on arbitrary bytes. It must end in a
 * record, a clean end or an error, never a crash, hang or huge allocation.
 * tests/unit/test_stream.c replays tests/fuzz/regress/stream/ through it. */
#include <stdint.h>
#include <stdio.h>

#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	FILE *f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	rtn_reader *r = rtn_reader_from_file(f, "fuzz");
	if (rtn_reader_header(r)) {
		const rtn_value *v;
		char buf[512];
		const rtn_schema *s = &rtn_reader_header(r)->schema;
		while (rtn_read(r, &v) == RTN_RECORD)
			for (int c = 0; c < s->n; c++)
				rtn_value_format(&v[c], s->cols[c].type, buf, sizeof buf);
	}
	rtn_reader_close(r);
	fclose(f);
	return 0;
}
