/* Unit tests for the stream library: round trips of every type, block
 * boundaries, concatenation, determinism, and damage detection. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <zlib.h>

#include <dirent.h>

#include "stream.h"
#include "unit.h"
#include "util.h"
#include "../fuzz/fuzz_stream.c"

static char tmpdir[] = "/tmp/retain-unit-XXXXXX";

static rtn_header *events_header(void)
{
	rtn_header *h = rtn_header_new(RTN_KIND_EVENTS);
	rtn_schema_add(&h->schema, "customer", RTN_STRING);
	rtn_schema_add(&h->schema, "time", RTN_TIME);
	rtn_schema_add(&h->schema, "amount", RTN_MONEY);
	rtn_schema_add(&h->schema, "n", RTN_INT);
	rtn_schema_add(&h->schema, "score", RTN_FLOAT);
	rtn_header_set_meta(h, "unit", "week");
	char *argv[] = {"unit", "--x", "a b", NULL};
	rtn_header_add_prov(h, 3, argv);
	return h;
}

static void write_file(const char *path, int nrec, int level)
{
	FILE *f = fopen(path, "wb");
	rtn_header *h = events_header();
	rtn_writer *w = rtn_writer_open_file(f, path, h, level);
	char id[32];
	for (int i = 0; i < nrec; i++) {
		rtn_value v[5];
		memset(v, 0, sizeof v);
		snprintf(id, sizeof id, "c%05d", i);
		v[0] = rtn_str(id);
		v[1].i = 852076800 + i * 3600LL;
		v[2].i = i % 7 == 0 ? RTN_NULL : (i - 500) * 1234LL;
		v[3].i = i % 3 == 0 ? INT64_MIN + 1 : INT64_MAX - i;
		v[4].f = i % 5 == 0 ? NAN : i / 3.0;
		rtn_write(w, v);
	}
	rtn_writer_finish(w);
	rtn_writer_close(w);
	fclose(f);
	rtn_header_free(h);
}

static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc((size_t)len + 1);
	*n = fread(b, 1, (size_t)len, f);
	fclose(f);
	return b;
}

static void spit(const char *path, const unsigned char *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	fwrite(b, 1, n, f);
	fclose(f);
}

/* Reads a file to the end in a child process (errors die); returns the
 * exit status, 0 for a clean end. */
static int read_all(const char *path, long *records)
{
	fflush(stdout);
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		FILE *devnull = freopen("/dev/null", "w", stderr);
		(void)devnull;
		char *p = (char *)path;
		rtn_reader *r = rtn_reader_open(&p, 1);
		const rtn_value *v;
		int rc;
		long n = 0;
		while ((rc = rtn_read(r, &v)) == RTN_RECORD)
			n++;
		if (write(fds[1], &n, sizeof n) != sizeof n)
			_exit(99);
		_exit(rc == RTN_END ? 0 : rtn_reader_exit(r));
	}
	close(fds[1]);
	long n = -1;
	if (read(fds[0], &n, sizeof n) != sizeof n)
		n = -1;
	close(fds[0]);
	int st;
	waitpid(pid, &st, 0);
	if (records)
		*records = n;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void test_roundtrip(int level)
{
	char path[256];
	snprintf(path, sizeof path, "%s/rt%d.rtn", tmpdir, level);
	int nrec = 20000; /* several blocks */
	write_file(path, nrec, level);
	char *p = path;
	rtn_reader *r = rtn_reader_open(&p, 1);
	const rtn_header *h = rtn_reader_header(r);
	CHECK(h->kind == RTN_KIND_EVENTS && h->schema.n == 5, "level %d: header kind and schema", level);
	CHECK_STR(rtn_header_get_meta(h, "unit"), "week", "level %d: metadata kept", level);
	CHECK(h->nprov == 1 && strstr(h->prov[0], "'a b'") != NULL, "level %d: provenance quoted", level);
	const rtn_value *v;
	int i = 0, bad = 0, rc;
	char id[32];
	while ((rc = rtn_read(r, &v)) == RTN_RECORD) {
		snprintf(id, sizeof id, "c%05d", i);
		if (!rtn_value_streq(&v[0], id) || v[1].i != 852076800 + i * 3600LL ||
		    v[2].i != (i % 7 == 0 ? RTN_NULL : (i - 500) * 1234LL) ||
		    v[3].i != (i % 3 == 0 ? INT64_MIN + 1 : INT64_MAX - i) ||
		    (i % 5 == 0 ? !isnan(v[4].f) : v[4].f != i / 3.0))
			bad++;
		i++;
	}
	CHECK(rc == RTN_END, "level %d: clean end", level);
	CHECK(i == nrec && bad == 0, "level %d: %d records back intact (bad %d)", level, i, bad);
	CHECK(rtn_reader_blocks(r) > 1, "level %d: more than one block (%llu)", level,
	      (unsigned long long)rtn_reader_blocks(r));
	rtn_reader_close(r);
}

static void test_determinism(void)
{
	char a[256], b[256];
	snprintf(a, sizeof a, "%s/d1.rtn", tmpdir);
	snprintf(b, sizeof b, "%s/d2.rtn", tmpdir);
	write_file(a, 5000, 6);
	write_file(b, 5000, 6);
	size_t na, nb;
	unsigned char *ba = slurp(a, &na), *bb = slurp(b, &nb);
	CHECK(na == nb && memcmp(ba, bb, na) == 0, "equal input gives byte-identical output");
	free(ba);
	free(bb);
	/* deflated by worker threads or in the writer's: the same bytes, over
	 * more blocks than the workers' slots (they are reused) */
	for (int level = 1; level <= 9; level += 8) {
		setenv("RETAIN_THREADS", "1", 1);
		write_file(a, 60000, level);
		unsetenv("RETAIN_THREADS");
		write_file(b, 60000, level);
		ba = slurp(a, &na);
		bb = slurp(b, &nb);
		CHECK(na == nb && memcmp(ba, bb, na) == 0,
		      "level %d: blocks deflated in other threads give the bytes of one thread", level);
		free(ba);
		free(bb);
		long n = 0;
		CHECK(read_all(b, &n) == 0 && n == 60000, "level %d: %ld records read back", level, n);
	}
}

/* Reads paths in a child (as read_all) with RETAIN_THREADS=threads (NULL:
 * unset) and describes the outcome: records read, return, exit code and
 * message. */
static void read_outcome(char **paths, int n, const char *threads, char *out, size_t outlen)
{
	fflush(stdout);
	int fds[2];
	if (pipe(fds) != 0) {
		snprintf(out, outlen, "no pipe");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		FILE *devnull = freopen("/dev/null", "w", stderr);
		(void)devnull;
		if (threads)
			setenv("RETAIN_THREADS", threads, 1);
		else
			unsetenv("RETAIN_THREADS");
		rtn_reader *r = rtn_reader_open(paths, n);
		const rtn_value *v;
		int rc;
		long k = 0;
		while ((rc = rtn_read(r, &v)) == RTN_RECORD)
			k++;
		char buf[1024];
		int len = snprintf(buf, sizeof buf, "%ld records, rc %d, exit %d: %s", k, rc,
		                   rc == RTN_END ? 0 : rtn_reader_exit(r), rc == RTN_END ? "" : rtn_reader_error(r));
		if (write(fds[1], buf, (size_t)len) != len)
			_exit(99);
		_exit(0);
	}
	close(fds[1]);
	ssize_t got = read(fds[0], out, outlen - 1);
	out[got > 0 ? got : 0] = 0;
	close(fds[0]);
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {   /* died opening: the exit status */
		size_t l = strlen(out);
		snprintf(out + l, outlen - l, " (died %d)", WIFEXITED(st) ? WEXITSTATUS(st) : 128);
	}
}

/* Deflated blocks are read ahead and checked in worker threads: damage
 * anywhere in a file of many blocks gives the records before it and then
 * the same message (block number and offset included) as one thread. */
static void test_read_ahead(void)
{
	char a[256], c[256], d[256];
	snprintf(a, sizeof a, "%s/ahead.rtn", tmpdir);
	snprintf(c, sizeof c, "%s/ahead-bad.rtn", tmpdir);
	snprintf(d, sizeof d, "%s/ahead-two.rtn", tmpdir);
	write_file(a, 60000, 1);
	size_t n;
	unsigned char *b = slurp(a, &n);
	char one[1100], two[1100];
	char *pa[2] = {a, a};
	read_outcome(pa, 2, NULL, two, sizeof two);
	CHECK(strcmp(two, "120000 records, rc 0, exit 0: ") == 0, "two files read ahead: %s", two);
	unsigned char *cat = malloc(2 * n);
	memcpy(cat, b, n);
	memcpy(cat + n, b, n);
	spit(d, cat, 2 * n);
	char *pd = d;
	read_outcome(&pd, 1, NULL, two, sizeof two);
	CHECK(strcmp(two, "120000 records, rc 0, exit 0: ") == 0, "two streams in one file read ahead: %s", two);
	free(cat);
	int cuts = 0, cut_same = 0, flips = 0, flip_same = 0;
	char *pc = c;
	for (size_t k = 300; k < n; k += n / 37) {   /* cuts, most inside a block's bytes */
		spit(c, b, k);
		read_outcome(&pc, 1, "1", one, sizeof one);
		read_outcome(&pc, 1, NULL, two, sizeof two);
		cuts++;
		if (strcmp(one, two) == 0 && strstr(one, "rc 0") == NULL)
			cut_same++;
		else
			printf("# cut at %zu: one thread '%s', workers '%s'\n", k, one, two);
	}
	for (size_t k = 500; k < n; k += n / 29) {   /* flipped bits */
		b[k] ^= 0x10;
		spit(c, b, n);
		read_outcome(&pc, 1, "1", one, sizeof one);
		read_outcome(&pc, 1, NULL, two, sizeof two);
		b[k] ^= 0x10;
		flips++;
		if (strcmp(one, two) == 0 && strstr(one, "rc 0") == NULL)
			flip_same++;
		else
			printf("# flip at %zu: one thread '%s', workers '%s'\n", k, one, two);
	}
	CHECK(cuts > 30 && cut_same == cuts, "read ahead: %d of %d cuts fail as with one thread", cut_same, cuts);
	CHECK(flips > 25 && flip_same == flips, "read ahead: %d of %d flips fail as with one thread", flip_same, flips);
	free(b);
}

static void test_concat_and_damage(void)
{
	char a[256], c[256];
	snprintf(a, sizeof a, "%s/small.rtn", tmpdir);
	snprintf(c, sizeof c, "%s/cut.rtn", tmpdir);
	write_file(a, 50, 6);
	size_t n;
	unsigned char *b = slurp(a, &n);
	long recs;
	CHECK(read_all(a, &recs) == 0 && recs == 50, "small file reads cleanly (%ld)", recs);

	unsigned char *two = malloc(2 * n);
	memcpy(two, b, n);
	memcpy(two + n, b, n);
	spit(c, two, 2 * n);
	CHECK(read_all(c, &recs) == 0 && recs == 100, "concatenated streams read as one (%ld)", recs);
	spit(c, two, n + 5);
	CHECK(read_all(c, NULL) == 3, "a concatenated stream cut in its header is an error");
	memcpy(two + n, "garbage!", 8);
	spit(c, two, n + 8);
	CHECK(read_all(c, NULL) == 3, "garbage after the end is an error");
	free(two);

	int cut_ok = 1, flip_ok = 1;
	for (size_t k = 0; k < n; k++) {
		spit(c, b, k);
		if (read_all(c, NULL) != 3) {
			cut_ok = 0;
			printf("# cut at %zu not detected\n", k);
		}
	}
	CHECK(cut_ok, "a cut at every byte offset (0..%zu) is detected", n - 1);
	for (size_t k = 0; k < n; k++) {
		for (int bit = 0; bit < 8; bit++) {
			b[k] ^= (unsigned char)(1 << bit);
			spit(c, b, n);
			if (read_all(c, NULL) != 3) {
				flip_ok = 0;
				printf("# flip byte %zu bit %d not detected\n", k, bit);
			}
			b[k] ^= (unsigned char)(1 << bit);
		}
	}
	CHECK(flip_ok, "single bit flips are detected");
	free(b);
}

static void test_bounds(void)
{
	char a[256];
	snprintf(a, sizeof a, "%s/huge.rtn", tmpdir);
	write_file(a, 10, 0);
	size_t n;
	unsigned char *b = slurp(a, &n);
	/* find the first block and declare a 4 GiB payload, with a valid header CRC */
	unsigned char *blk = NULL;
	for (size_t k = 0; k + 4 < n; k++)
		if (memcmp(b + k, "RTNB", 4) == 0) {
			blk = b + k;
			break;
		}
	CHECK(blk != NULL, "block found");
	if (blk) {
		blk[12] = blk[13] = blk[14] = blk[15] = 0xff;
		blk[16] = blk[17] = blk[18] = blk[19] = 0xff;
		unsigned long cr = crc32(0, blk, 36);
		for (int i = 0; i < 4; i++)
			blk[36 + i] = (unsigned char)(cr >> (8 * i));
		spit(a, b, n);
		CHECK(read_all(a, NULL) == 3, "a 4 GiB declared block is refused before allocation");
	}
	free(b);
}

/* A stream from a newer major version: a valid header CRC, refused. */
static void test_newer_version(void)
{
	char a[256];
	snprintf(a, sizeof a, "%s/newer.rtn", tmpdir);
	write_file(a, 3, 0);
	size_t n;
	unsigned char *b = slurp(a, &n);
	b[8] = RTN_VERSION_MAJOR + 1;
	unsigned long cr = crc32(0, b, 24);
	for (int i = 0; i < 4; i++)
		b[24 + i] = (unsigned char)(cr >> (8 * i));
	FILE *f = fmemopen(b, n, "rb");
	rtn_reader *r = rtn_reader_from_file(f, "newer");
	CHECK(rtn_reader_header(r) == NULL && rtn_reader_exit(r) == 3, "a newer major version is refused (exit 3)");
	CHECK(strstr(rtn_reader_error(r), "newer than this program reads") != NULL, "message: %s", rtn_reader_error(r));
	const rtn_value *v;
	CHECK(rtn_read(r, &v) == RTN_ERROR, "reading after a bad header is an error");
	rtn_reader_close(r);
	fclose(f);
	free(b);
}

static void test_format(void)
{
	char buf[64];
	rtn_value v;
	memset(&v, 0, sizeof v);
	v.i = 123400;
	rtn_value_format(&v, RTN_MONEY, buf, sizeof buf);
	CHECK_STR(buf, "12.34", "money 12.34");
	v.i = -5000;
	rtn_value_format(&v, RTN_MONEY, buf, sizeof buf);
	CHECK_STR(buf, "-0.50", "money -0.50");
	v.i = 12345;
	rtn_value_format(&v, RTN_MONEY, buf, sizeof buf);
	CHECK_STR(buf, "1.2345", "money 1.2345");
	v.i = 852076800;
	rtn_value_format(&v, RTN_TIME, buf, sizeof buf);
	CHECK_STR(buf, "1997-01-01T00:00:00Z", "time ISO");
	v.i = -1;
	rtn_value_format(&v, RTN_TIME, buf, sizeof buf);
	CHECK_STR(buf, "1969-12-31T23:59:59Z", "time before epoch");
	v.i = -86400;
	rtn_value_format(&v, RTN_TIME, buf, sizeof buf);
	CHECK_STR(buf, "1969-12-31T00:00:00Z", "time a whole day before epoch");
	v.i = INT64_MIN + 1;   /* no overflow (UBSan in make asan) */
	CHECK(rtn_value_format(&v, RTN_TIME, buf, sizeof buf) > 0 && buf[0] == '-', "the earliest time: %s", buf);
	v.f = 0.1;
	rtn_value_format(&v, RTN_FLOAT, buf, sizeof buf);
	CHECK_STR(buf, "0.1", "float shortest");
	CHECK(rtn_hash64("", 0) != rtn_hash64("a", 1), "hash differs");
}

/* Replays the fuzz regression inputs (seeds and once-crashing inputs). */
static void test_fuzz_regressions(void)
{
	const char *dir = "tests/fuzz/regress/stream";
	DIR *d = opendir(dir);
	CHECK(d != NULL, "fuzz regression folder %s exists", dir);
	if (!d)
		return;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		size_t len;
		unsigned char *b = slurp(path, &len);
		LLVMFuzzerTestOneInput(b, len);
		free(b);
		n++;
	}
	closedir(d);
	CHECK(n >= 3, "replayed %d stream fuzz inputs without a crash", n);
}

/* Integers of every varint length (1 to 10 bytes, both signs) and strings
 * with lengths of one and two varint bytes, with records placed so that some
 * end right at a block's end (the reader's careful path) and most do not
 * (its word-at-a-time path). */
static void test_varint_lengths(void)
{
	char path[256];
	snprintf(path, sizeof path, "%s/varint.rtn", tmpdir);
	FILE *f = fopen(path, "wb");
	rtn_header *h = rtn_header_new(RTN_KIND_GENERIC);
	rtn_schema_add(&h->schema, "n", RTN_INT);
	rtn_schema_add(&h->schema, "s", RTN_STRING);
	rtn_writer *w = rtn_writer_open_file(f, path, h, 0);
	static char text[300];
	memset(text, 'x', sizeof text);
	int64_t vals[200];
	int nv = 0;
	for (int k = 0; k < 63; k++) {
		vals[nv++] = (int64_t)1 << k;
		vals[nv++] = ((int64_t)1 << k) - 1;
		vals[nv++] = -((int64_t)1 << k);
	}
	vals[nv++] = INT64_MAX;
	vals[nv++] = INT64_MIN;
	int nrec = 30000;
	for (int i = 0; i < nrec; i++) {
		rtn_value v[2];
		memset(v, 0, sizeof v);
		v[0].i = vals[i % nv];
		v[1].s = text;
		v[1].len = (uint32_t)(i % 7 == 0 ? 200 + i % 97 : i % 13);
		rtn_write(w, v);
	}
	rtn_writer_finish(w);
	rtn_writer_close(w);
	fclose(f);
	rtn_header_free(h);
	char *p = path;
	rtn_reader *r = rtn_reader_open(&p, 1);
	const rtn_value *v;
	int i = 0, bad = 0, rc;
	while ((rc = rtn_read(r, &v)) == RTN_RECORD) {
		if (v[0].i != vals[i % nv] || v[1].len != (uint32_t)(i % 7 == 0 ? 200 + i % 97 : i % 13))
			bad++;
		i++;
	}
	CHECK(rc == RTN_END && i == nrec && bad == 0,
	      "integers of every varint length and long strings read back (%d of %d, bad %d)", i,
	      nrec, bad);
	rtn_reader_close(r);
}

/* Version 2: strings that repeat the record before are one byte, times
 * are steps from the time before; both start again in every block. Values
 * of every string length (repeating or not), extreme and null times, over
 * many blocks, stored and deflated, read back as written. */
static const uint32_t rep_lens[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 40, 200};
#define NREP_LENS (sizeof rep_lens / sizeof *rep_lens)

/* Writes nrec records of events_header's schema, record i made by fill. */
typedef void fill_fn(int i, rtn_value *v, void *ctx);

static void write_filled(const char *path, const rtn_header *h, int level, int nrec, fill_fn *fill, void *ctx)
{
	FILE *f = fopen(path, "wb");
	rtn_writer *w = rtn_writer_open_file(f, path, h, level);
	rtn_value v[5];
	for (int i = 0; i < nrec; i++) {
		fill(i, v, ctx);
		rtn_write(w, v);
	}
	rtn_writer_close(w);
	fclose(f);
}

/* The five columns of events_header equal. */
static int values_same(const rtn_value *a, const rtn_value *b)
{
	return a[0].len == b[0].len && (a[0].len == 0 || memcmp(a[0].s, b[0].s, a[0].len) == 0) &&
	       a[1].i == b[1].i && a[2].i == b[2].i && a[3].i == b[3].i && a[4].f == b[4].f;
}

static void rep_fill(int i, rtn_value *v, void *ctx)
{
	char (*ids)[256] = ctx;
	static const int64_t times[] = {0, 1, -1, 852076800, INT64_MAX, RTN_NULL, INT64_MIN + 1, 4102444800};
	int k = i / 3;   /* a new value every third record, the same one between */
	uint32_t n = rep_lens[k % NREP_LENS];
	char *id = ids[k % 2];
	for (uint32_t j = 0; j < n; j++)
		id[j] = (char)('a' + (k + j) % 26);
	memset(v, 0, 5 * sizeof *v);
	v[0].s = id;
	v[0].len = n;
	v[1].i = i % 5 == 4 ? times[k % 8] : 852076800 + (int64_t)i * 37;
	v[2].i = i % 2 ? RTN_NULL : (int64_t)i;
	v[3].i = INT64_MIN + i;
	v[4].f = i / 8.0;
}

static uint64_t get_le(const unsigned char *q, int n)
{
	uint64_t x = 0;
	for (int i = n; i-- > 0;)
		x = x << 8 | q[i];
	return x;
}

/* Every block header of the stream at path (stored blocks) holds the
 * smallest and largest rtn_hash64 of its records' customers, as fill gives
 * them; returns the number of blocks that do not. */
static int block_keys_wrong(const char *path, fill_fn *fill, void *ctx, int *blocks)
{
	size_t n;
	unsigned char *b = slurp(path, &n);
	size_t q = 28 + get_le(b + 20, 4) + 4;   /* past the header */
	int i = 0, wrong = 0;
	*blocks = 0;
	while (q + 44 <= n && !(b[q + 5] & 1)) {
		uint32_t nrec = (uint32_t)get_le(b + q + 8, 4), clen = (uint32_t)get_le(b + q + 16, 4);
		uint64_t kmin = UINT64_MAX, kmax = 0;
		for (uint32_t j = 0; j < nrec; j++) {
			rtn_value v[5];
			fill(i++, v, ctx);
			uint64_t k = rtn_hash64(v[0].s, v[0].len);
			kmin = k < kmin ? k : kmin;
			kmax = k > kmax ? k : kmax;
		}
		wrong += get_le(b + q + 20, 8) != kmin || get_le(b + q + 28, 8) != kmax;
		++*blocks;
		q += 44 + clen;
	}
	free(b);
	return wrong;
}

static void key_fill(int i, rtn_value *v, void *ctx)
{
	char (*ids)[256] = ctx;
	int k = i / 2;
	static const char *fmt[] = {"c%d", "cust%06d", "customer-number-%08d"};
	char *id = ids[k % 2];
	memset(v, 0, 5 * sizeof *v);
	v[0].len = (uint32_t)snprintf(id, 256, fmt[k / 4 % 3], k * 7919 % 100003);
	v[0].s = id;
	v[1].i = 852076800 + i;
}

static void test_repeats(void)
{
	char path[256], ids[2][256], back[2][256];
	rtn_header *h = events_header();
	for (int level = 0; level <= 1; level++) {
		snprintf(path, sizeof path, "%s/repeats%d.rtn", tmpdir, level);
		int nrec = 30000;
		write_filled(path, h, level, nrec, rep_fill, ids);
		char *p = path;
		rtn_reader *r = rtn_reader_open(&p, 1);
		const rtn_value *got;
		rtn_value v[5];
		int i = 0, bad = 0, rc;
		while ((rc = rtn_read(r, &got)) == RTN_RECORD)
			bad += !values_same(got, (rep_fill(i++, v, back), v));
		CHECK(rc == RTN_END && i == nrec && bad == 0 && rtn_reader_blocks(r) > 4,
		      "level %d: repeated strings and time steps read back over %llu blocks (%d of %d, %d differ)",
		      level, (unsigned long long)rtn_reader_blocks(r), i, nrec, bad);
		rtn_reader_close(r);
	}
	/* block keys: customers in pairs, four pairs in a row of the same
	 * length (short, 4-16 bytes and long), the writer hashing only new ones */
	snprintf(path, sizeof path, "%s/keys.rtn", tmpdir);
	write_filled(path, h, 0, 30000, key_fill, ids);
	int blocks, wrong = block_keys_wrong(path, key_fill, back, &blocks);
	CHECK(blocks > 4 && wrong == 0, "customer keys of %d of %d blocks wrong", wrong, blocks);
	/* the same 16-byte id and time in every record: 1 byte each, the
	 * amount (3), n (10) and score (8) */
	snprintf(path, sizeof path, "%s/same.rtn", tmpdir);
	FILE *f = fopen(path, "wb");
	rtn_writer *w = rtn_writer_open_file(f, path, h, 0);
	for (int i = 0; i < 10000; i++) {
		rtn_value v[5];
		memset(v, 0, sizeof v);
		v[0] = rtn_str("customer-0000001");
		v[1].i = 852076800;
		v[2].i = 123400;
		v[3].i = INT64_MAX;
		v[4].f = 1.5;
		rtn_write(w, v);
	}
	rtn_writer_close(w);
	fclose(f);
	size_t n;
	free(slurp(path, &n));
	CHECK(n < 10000 * 24 + 4096, "a repeated id and time take a byte each: %zu bytes for 10000 records", n);
	rtn_header_free(h);
}

/* Version 1 streams (strings as a length and the bytes, times as integers)
 * are still read: a header and a block written here by hand. */
static unsigned char *v1_put_str(unsigned char *q, const char *s)
{
	size_t n = strlen(s);
	*q++ = (unsigned char)n;
	memcpy(q, s, n);
	return q + n;
}

static unsigned char *v1_put_int(unsigned char *q, int64_t x)
{
	uint64_t z = ((uint64_t)x << 1) ^ (uint64_t)(x >> 63);
	while (z >= 0x80) {
		*q++ = (unsigned char)(z | 0x80);
		z >>= 7;
	}
	*q++ = (unsigned char)z;
	return q;
}

static void put_le(unsigned char *q, uint64_t x, int n)
{
	for (int i = 0; i < n; i++)
		q[i] = (unsigned char)(x >> (8 * i));
}

static void test_version1(void)
{
	static const char text[] = "col customer string\ncol time time\ncol amount money\n";
	static const char *ids[] = {"c1", "c1", "customer-0000002"};
	static const int64_t t[] = {852076800, 852080400, 852076800};
	unsigned char b[512], *q = b;
	size_t tl = sizeof text - 1;
	memcpy(q, "\x89RTN\r\n\x1a\n", 8);
	q[8] = 1;   /* version 1.0, events, no flags, no shards */
	q[9] = 0;
	q[10] = RTN_KIND_EVENTS;
	q[11] = 0;
	put_le(q + 12, 0, 8);
	put_le(q + 20, tl, 4);
	put_le(q + 24, crc32(0, q, 24), 4);
	memcpy(q + 28, text, tl);
	put_le(q + 28 + tl, crc32(0, q, 28 + tl), 4);
	q += 32 + tl;
	unsigned char pay[128], *e = pay;
	uint64_t kmin = UINT64_MAX, kmax = 0;
	for (int i = 0; i < 3; i++) {
		e = v1_put_str(e, ids[i]);
		e = v1_put_int(e, t[i]);
		e = v1_put_int(e, (i + 1) * 10000);
		uint64_t k = rtn_hash64(ids[i], strlen(ids[i]));
		kmin = k < kmin ? k : kmin;
		kmax = k > kmax ? k : kmax;
	}
	for (int eos = 0; eos <= 1; eos++) {
		unsigned char cnt[16];
		put_le(cnt, 3, 8);
		put_le(cnt + 8, 1, 8);
		const unsigned char *body = eos ? cnt : pay;
		size_t n = eos ? 16 : (size_t)(e - pay);
		memcpy(q, "RTNB", 4);
		q[4] = 0;
		q[5] = (unsigned char)eos;
		q[6] = q[7] = 0;
		put_le(q + 8, eos ? 0 : 3, 4);
		put_le(q + 12, n, 4);
		put_le(q + 16, n, 4);
		put_le(q + 20, eos ? 0 : kmin, 8);
		put_le(q + 28, eos ? 0 : kmax, 8);
		put_le(q + 36, crc32(0, q, 36), 4);
		memcpy(q + 40, body, n);
		put_le(q + 40 + n, crc32(0, body, n), 4);
		q += 44 + n;
	}
	FILE *f = fmemopen(b, (size_t)(q - b), "rb");
	rtn_reader *r = rtn_reader_from_file(f, "v1");
	const rtn_value *v;
	int i = 0, bad = 0, rc;
	while (rtn_reader_header(r) && (rc = rtn_read(r, &v)) == RTN_RECORD) {
		bad += !rtn_value_streq(&v[0], ids[i]) || v[1].i != t[i] || v[2].i != (i + 1) * 10000;
		i++;
	}
	CHECK(rtn_reader_header(r) && rc == RTN_END && i == 3 && bad == 0,
	      "a version 1 stream reads (%d records, %d differ): %s", i, bad, rtn_reader_error(r));
	rtn_reader_close(r);
	fclose(f);
}

/* Strings around and far past the length that rtn_write encodes in one
 * pass (4096), after blocks filled near their target: every record reads
 * back, and the records read, written again, give the same bytes. */
static void long_fill(int i, rtn_value *v, void *ctx)
{
	char *buf = ctx;
	static const uint32_t lens[] = {4095, 4096, 4097, 60000, 1000000, 1048000, 9, 0};
	uint32_t n = i % 40 == 39 ? lens[i / 40 % 8] : (uint32_t)(i % 13) * 150;
	for (uint32_t k = 0; k < n; k++)
		buf[k] = (char)('a' + (i + k) % 26);
	memset(v, 0, 5 * sizeof *v);
	v[0].s = buf;
	v[0].len = n;
	v[1].i = 852076800 + i;
	v[2].i = i * 10000LL;
	v[3].i = -i;
	v[4].f = i / 4.0;
}

static void test_long_strings(void)
{
	char a[256], b[256];
	snprintf(a, sizeof a, "%s/long-a.rtn", tmpdir);
	snprintf(b, sizeof b, "%s/long-b.rtn", tmpdir);
	int nrec = 40 * 8 * 4;
	char *buf = malloc(1048576);
	rtn_header *h = events_header();
	write_filled(a, h, 0, nrec, long_fill, buf);
	rtn_value v[5];
	const rtn_value *got;
	char *p = a;
	rtn_reader *r = rtn_reader_open(&p, 1);
	FILE *fb = fopen(b, "wb");
	rtn_writer *wb = rtn_writer_open_file(fb, b, h, 0);
	int i = 0, bad = 0, rc;
	while ((rc = rtn_read(r, &got)) == RTN_RECORD) {
		long_fill(i++, v, buf);
		bad += !values_same(got, v);
		rtn_write(wb, got);
	}
	CHECK(rc == RTN_END && i == nrec && bad == 0, "long strings: %d of %d records back, %d differ",
	      i, nrec, bad);
	CHECK(rtn_reader_blocks(r) > 16, "long strings: %llu blocks",
	      (unsigned long long)rtn_reader_blocks(r));
	rtn_reader_close(r);
	rtn_writer_close(wb);
	fclose(fb);
	size_t na, nb;
	unsigned char *da = slurp(a, &na), *db = slurp(b, &nb);
	CHECK(na == nb && memcmp(da, db, na) == 0, "long strings: the records read, written again, give the same bytes");
	free(da);
	free(db);
	free(buf);
	rtn_header_free(h);
}

/* rtn_write_rows: every row back in order, from one thread or two, and
 * the same bytes either way (chunks end blocks alike). */
static void rows_fill(void *ctx, uint64_t i, rtn_value *v, char *scratch)
{
	(void)ctx;
	int n = snprintf(scratch, RTN_ROW_SCRATCH, "row%08llu", (unsigned long long)i);
	v[0].s = scratch;
	v[0].len = (uint32_t)n;
	v[1].i = 852076800 + (int64_t)i * 60;
	v[2].i = i % 11 == 0 ? RTN_NULL : (int64_t)i * 100;
	v[3].i = -(int64_t)i;
	v[4].f = (double)i / 7;
}

static void test_write_rows(void)
{
	static const uint64_t sizes[] = {0, 1, RTN_ROWS_CHUNK, 5 * RTN_ROWS_CHUNK + 17};
	rtn_header *h = events_header();
	for (int level = 0; level <= 1; level++)
		for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
			char path[2][256];
			for (int t = 0; t < 2; t++) {
				snprintf(path[t], sizeof path[t], "%s/rows-%d.rtn", tmpdir, t);
				if (t == 1)
					setenv("RETAIN_THREADS", "1", 1);
				FILE *f = fopen(path[t], "wb");
				rtn_writer *w = rtn_writer_open_file(f, path[t], h, level);
				rtn_write_rows(w, sizes[si], rows_fill, NULL);
				rtn_writer_close(w);
				fclose(f);
				unsetenv("RETAIN_THREADS");
			}
			size_t na, nb;
			unsigned char *da = slurp(path[0], &na), *db = slurp(path[1], &nb);
			CHECK(na == nb && memcmp(da, db, na) == 0,
			      "rows: %llu rows, level %d: the same bytes from one thread and two",
			      (unsigned long long)sizes[si], level);
			free(da);
			free(db);
			char *p = path[0];
			rtn_reader *r = rtn_reader_open(&p, 1);
			const rtn_value *v;
			rtn_value want[5];
			char scratch[RTN_ROW_SCRATCH];
			uint64_t i = 0, bad = 0;
			int rc;
			while ((rc = rtn_read(r, &v)) == RTN_RECORD) {
				rows_fill(NULL, i++, want, scratch);
				bad += v[0].len != want[0].len || memcmp(v[0].s, want[0].s, want[0].len) != 0 ||
				       v[1].i != want[1].i || v[2].i != want[2].i || v[3].i != want[3].i ||
				       v[4].f != want[4].f;
			}
			CHECK(rc == RTN_END && i == sizes[si] && bad == 0,
			      "rows: %llu of %llu rows read back, %llu differ", (unsigned long long)i,
			      (unsigned long long)sizes[si], (unsigned long long)bad);
			rtn_reader_close(r);
		}
	rtn_header_free(h);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		return 1;
	rtn_init("test_stream");
	test_roundtrip(0);
	test_roundtrip(6);
	test_varint_lengths();
	test_repeats();
	test_version1();
	test_write_rows();
	test_long_strings();
	test_determinism();
	test_concat_and_damage();
	test_read_ahead();
	test_bounds();
	test_newer_version();
	test_format();
	test_fuzz_regressions();
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	return unit_done();
}
