/* External merge sort of stream records (see extsort.h).
 *
 * In memory a record is a "row": one 8-aligned allocation in an arena,
 *   u32 row length, u32 zero, then one 8-byte slot per column
 *   (int/time/money: int64; float: the double; string: u32 offset from the
 *   row start and u32 length, the bytes following the slots).
 * The sort array holds 32-byte entries: a 24-byte order-preserving prefix
 * of the sort columns (unequal prefixes decide without touching the row)
 * and the row pointer. Sorting is a stable bottom-up merge sort;
 * runs are merged with a binary heap that breaks ties by run age. */
#include "extsort.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROW_HDR 8

#define KEY_WORDS 3

typedef struct entry {
	uint64_t key[KEY_WORDS];
	const unsigned char *row;
} entry;

typedef struct run {
	char *path;
	int level;     /* 0: spilled buffer, n: merge of runs of level n-1 */
} run;

typedef struct source {
	rtn_reader *r; /* a run being read back, or NULL: in-memory entries */
	run *run;
	const entry *mem;
	size_t mem_i, mem_n;
	unsigned char *buf; /* copy of the current row of a run */
	size_t cap;
	entry cur;
} source;

typedef struct merger {
	source *src;
	int nsrc;
	int *heap;
	int nheap;
	int pending;   /* source whose row was returned last: advance first */
} merger;

struct extsort {
	int ncols, nkey;
	int *types, *cols;
	rtn_header *hdr;       /* schema of the spill files */
	size_t memory;
	char *tmpdir;
	uint64_t key_mask[KEY_WORDS];
	/* arena: equal-sized chunks reused after a spill, big rows apart */
	unsigned char **chunks;
	int nchunks, cur_chunk;
	size_t chunk_size, chunk_used, arena_bytes;
	unsigned char **big;
	int nbig;
	size_t big_bytes;
	entry *ents, *tmp;
	size_t nents, cap;
	run **runs;
	int nruns, runs_cap;
	merger final;
	int finished;
	unsigned char *out[2];
	size_t outcap[2];
	rtn_value *vals[2];
	int outk;
	rtn_value *scratch;
	rtn_progress *prog;
	extsort_stats st;
};

/* ---- value order ---- */

static inline uint64_t float_order(double f)
{
	uint64_t x;
	memcpy(&x, &f, 8);
	return (x >> 63) ? ~x : x | (1ULL << 63);
}

static inline int cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

static inline int cmp_bytes(const void *a, size_t la, const void *b, size_t lb)
{
	int r = memcmp(a, b, la < lb ? la : lb);
	if (r)
		return r;
	return (la > lb) - (la < lb);
}

int extsort_cmp(const rtn_schema *schema, const int *cols, int ncols, const rtn_value *a,
	const rtn_value *b)
{
	for (int k = 0; k < ncols; k++) {
		int c = cols[k], r;
		switch (schema->cols[c].type) {
		case RTN_STRING:
			r = cmp_bytes(a[c].s, a[c].len, b[c].s, b[c].len);
			break;
		case RTN_FLOAT:
			r = cmp_u64(float_order(a[c].f), float_order(b[c].f));
			break;
		default:
			r = (a[c].i > b[c].i) - (a[c].i < b[c].i);
		}
		if (r)
			return r;
	}
	return 0;
}

int extsort_value_eq(int type, const rtn_value *a, const rtn_value *b)
{
	switch (type) {
	case RTN_STRING:
		return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
	case RTN_FLOAT:
		return memcmp(&a->f, &b->f, 8) == 0;
	default:
		return a->i == b->i;
	}
}

const char *extsort_tmpdir(const char *dir)
{
	if (dir && *dir)
		return dir;
	const char *env = getenv("TMPDIR");
	return env && *env ? env : "/tmp";
}

/* ---- rows ---- */

static inline size_t row_size(const extsort *s, const rtn_value *v)
{
	size_t n = ROW_HDR + 8 * (size_t)s->ncols;
	for (int c = 0; c < s->ncols; c++)
		if (s->types[c] == RTN_STRING)
			n += v[c].len;
	return (n + 7) & ~(size_t)7;
}

static void row_encode(const extsort *s, const rtn_value *v, unsigned char *dst, size_t n)
{
	uint32_t total = (uint32_t)n, zero = 0;
	memcpy(dst, &total, 4);
	memcpy(dst + 4, &zero, 4);
	unsigned char *slot = dst + ROW_HDR;
	uint32_t off = (uint32_t)(ROW_HDR + 8 * (size_t)s->ncols);
	for (int c = 0; c < s->ncols; c++, slot += 8) {
		switch (s->types[c]) {
		case RTN_STRING:
			memcpy(slot, &off, 4);
			memcpy(slot + 4, &v[c].len, 4);
			if (v[c].len)
				memcpy(dst + off, v[c].s, v[c].len);
			off += v[c].len;
			break;
		case RTN_FLOAT:
			memcpy(slot, &v[c].f, 8);
			break;
		default:
			memcpy(slot, &v[c].i, 8);
		}
	}
	if (off < n)
		memset(dst + off, 0, n - off);
}

static void row_decode(const extsort *s, const unsigned char *row, rtn_value *v)
{
	const unsigned char *slot = row + ROW_HDR;
	for (int c = 0; c < s->ncols; c++, slot += 8) {
		switch (s->types[c]) {
		case RTN_STRING: {
			uint32_t off;
			memcpy(&off, slot, 4);
			memcpy(&v[c].len, slot + 4, 4);
			v[c].s = (const char *)row + off;
			break;
		}
		case RTN_FLOAT:
			memcpy(&v[c].f, slot, 8);
			break;
		default:
			memcpy(&v[c].i, slot, 8);
		}
	}
}

static inline uint32_t row_len(const unsigned char *row)
{
	uint32_t n;
	memcpy(&n, row, 4);
	return n;
}

/* Order-preserving key prefix: the sort columns encoded so that memcmp
 * order is the sort order (strings: bytes with 00 escaped as 00 FF, ended
 * by 00 00; integers: a sign-and-length byte and the significant bytes;
 * floats: the total-order bits), cut to KEY_WORDS * 8 bytes and loaded as big-endian
 * words. Unequal prefixes decide the order without touching the rows;
 * equal ones fall back to comparing the rows. */
static inline uint64_t load_be64(const unsigned char *p)
{
	uint64_t x;
	memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	x = __builtin_bswap64(x);
#elif !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__
	x = (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
		(uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 | (uint64_t)p[6] << 8 | p[7];
#endif
	return x;
}

static void row_key(const extsort *s, const unsigned char *row, uint64_t *key)
{
	unsigned char b[KEY_WORDS * 8];
	size_t n = 0;
	for (int k = 0; k < s->nkey && n < sizeof b; k++) {
		int c = s->cols[k];
		const unsigned char *slot = row + ROW_HDR + 8 * (size_t)c;
		uint64_t x;
		switch (s->types[c]) {
		case RTN_STRING: {
			uint32_t off, len;
			memcpy(&off, slot, 4);
			memcpy(&len, slot + 4, 4);
			const unsigned char *p = row + off;
			size_t room = sizeof b - n, take = len < room ? len : room;
			if (!memchr(p, 0, take)) {
				memcpy(b + n, p, take);
				n += take;
			} else {
				for (uint32_t i = 0; i < len && n < sizeof b; i++) {
					b[n++] = p[i];
					if (p[i] == 0 && n < sizeof b)
						b[n++] = 0xff;
				}
			}
			for (int i = 0; i < 2 && n < sizeof b; i++)
				b[n++] = 0;
			continue;
		}
		case RTN_FLOAT: {
			double f;
			memcpy(&f, slot, 8);
			x = float_order(f);
			break;
		}
		default: {
			/* Integers are mostly small (times, cents): a header byte
			 * giving sign and length, then the significant bytes
			 * (negative numbers: the bytes of the value, so that the
			 * more negative sorts first). */
			int64_t v;
			memcpy(&v, slot, 8);
			uint64_t w = v < 0 ? ~(uint64_t)v : (uint64_t)v;
			int nb = 0;
			while (nb < 8 && (w >> (8 * nb)))
				nb++;
			b[n++] = (unsigned char)(v < 0 ? 0x7f - nb : 0x80 + nb);
			for (int i = nb - 1; i >= 0 && n < sizeof b; i--)
				b[n++] = (unsigned char)((uint64_t)v >> (8 * i));
			continue;
		}
		}
		for (int i = 7; i >= 0 && n < sizeof b; i--)
			b[n++] = (unsigned char)(x >> (8 * i));
	}
	if (n < sizeof b)
		memset(b + n, 0, sizeof b - n);
	for (int w = 0; w < KEY_WORDS; w++)
		key[w] = load_be64(b + 8 * w) & s->key_mask[w];
}

static int row_cmp(const extsort *s, const unsigned char *a, const unsigned char *b)
{
	for (int k = 0; k < s->nkey; k++) {
		int c = s->cols[k], r;
		const unsigned char *sa = a + ROW_HDR + 8 * (size_t)c, *sb = b + ROW_HDR + 8 * (size_t)c;
		switch (s->types[c]) {
		case RTN_STRING: {
			uint32_t oa, la, ob, lb;
			memcpy(&oa, sa, 4);
			memcpy(&la, sa + 4, 4);
			memcpy(&ob, sb, 4);
			memcpy(&lb, sb + 4, 4);
			r = cmp_bytes(a + oa, la, b + ob, lb);
			break;
		}
		case RTN_FLOAT: {
			double x, y;
			memcpy(&x, sa, 8);
			memcpy(&y, sb, 8);
			r = cmp_u64(float_order(x), float_order(y));
			break;
		}
		default: {
			int64_t x, y;
			memcpy(&x, sa, 8);
			memcpy(&y, sb, 8);
			r = (x > y) - (x < y);
		}
		}
		if (r)
			return r;
	}
	return 0;
}

static inline int ent_cmp(const extsort *s, const entry *a, const entry *b)
{
	for (int w = 0; w < KEY_WORDS; w++)
		if (a->key[w] != b->key[w])
			return a->key[w] < b->key[w] ? -1 : 1;
	return row_cmp(s, a->row, b->row);
}

/* ---- in-memory sort ----
 * A stable LSD radix sort on the first key word (byte positions where all
 * entries agree are skipped), then a stable merge sort of each run of
 * entries whose first words are equal (the events of one customer, for
 * short ids), comparing the other words and, on a tie, the rows. */

/* Stable merge sort of a[lo..hi) using b[lo..hi) as scratch; the result is
 * left in a. */
static void merge_sort_range(const extsort *s, entry *a, entry *b, size_t lo0, size_t hi0)
{
	const size_t B = 16;
	size_t n = hi0 - lo0;
	for (size_t lo = lo0; lo < hi0; lo += B) {
		size_t hi = lo + B < hi0 ? lo + B : hi0;
		for (size_t i = lo + 1; i < hi; i++) {
			entry e = a[i];
			size_t j = i;
			while (j > lo && ent_cmp(s, &a[j - 1], &e) > 0) {
				a[j] = a[j - 1];
				j--;
			}
			a[j] = e;
		}
	}
	if (n <= B)
		return;
	entry *x = a, *y = b;
	for (size_t w = B; w < n; w *= 2) {
		for (size_t lo = lo0; lo < hi0; lo += 2 * w) {
			size_t mid = lo + w < hi0 ? lo + w : hi0, hi = lo + 2 * w < hi0 ? lo + 2 * w : hi0;
			if (mid == hi || ent_cmp(s, &x[mid - 1], &x[mid]) <= 0) {
				memcpy(y + lo, x + lo, (hi - lo) * sizeof *x);
				continue;
			}
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				y[k++] = ent_cmp(s, &x[j], &x[i]) < 0 ? x[j++] : x[i++];
			while (i < mid)
				y[k++] = x[i++];
			while (j < hi)
				y[k++] = x[j++];
		}
		entry *t = x;
		x = y;
		y = t;
	}
	if (x != a)
		memcpy(a + lo0, x + lo0, n * sizeof *a);
}

static void sort_entries(extsort *s)
{
	size_t n = s->nents;
	if (n < 1024) {
		merge_sort_range(s, s->ents, s->tmp, 0, n);
		return;
	}
	size_t cnt[8][256]; /* 16 KiB */
	memset(cnt, 0, sizeof cnt);
	entry *a = s->ents, *b = s->tmp;
	for (size_t i = 0; i < n; i++) {
		uint64_t k = a[i].key[0];
		for (int d = 0; d < 8; d++)
			cnt[d][(k >> (8 * d)) & 255]++;
	}
	for (int d = 0; d < 8; d++) {
		if (cnt[d][(a[0].key[0] >> (8 * d)) & 255] == n)
			continue; /* every entry has the same byte here */
		size_t off = 0;
		for (int v = 0; v < 256; v++) {
			size_t c = cnt[d][v];
			cnt[d][v] = off;
			off += c;
		}
		for (size_t i = 0; i < n; i++)
			b[cnt[d][(a[i].key[0] >> (8 * d)) & 255]++] = a[i];
		entry *t = a;
		a = b;
		b = t;
	}
	s->ents = a;
	s->tmp = b;
	for (size_t lo = 0; lo < n;) {
		size_t hi = lo + 1;
		while (hi < n && a[hi].key[0] == a[lo].key[0])
			hi++;
		if (hi - lo > 1)
			merge_sort_range(s, a, b, lo, hi);
		lo = hi;
	}
}

/* ---- memory ---- */

static size_t used_bytes(const extsort *s, size_t extra_cap)
{
	return s->arena_bytes + s->big_bytes + 2 * (s->cap + extra_cap) * sizeof(entry);
}

/* Room for n bytes, or NULL when that would pass the memory limit (never
 * when the buffer is empty: one record always fits). */
static unsigned char *arena_alloc(extsort *s, size_t n)
{
	if (n > s->chunk_size / 4) {
		if (s->nents && used_bytes(s, 0) + n > s->memory)
			return NULL;
		s->big = xrealloc(s->big, (size_t)(s->nbig + 1) * sizeof *s->big);
		s->big[s->nbig++] = xmalloc(n);
		s->big_bytes += n;
		return s->big[s->nbig - 1];
	}
	if (s->cur_chunk >= 0 && s->chunk_used + n <= s->chunk_size) {
		s->chunk_used += n;
		return s->chunks[s->cur_chunk] + s->chunk_used - n;
	}
	if (s->cur_chunk + 1 >= s->nchunks) {
		if (s->nents && used_bytes(s, 0) + s->chunk_size > s->memory)
			return NULL;
		s->chunks = xrealloc(s->chunks, (size_t)(s->nchunks + 1) * sizeof *s->chunks);
		s->chunks[s->nchunks++] = xmalloc(s->chunk_size);
		s->arena_bytes += s->chunk_size;
	}
	s->cur_chunk++;
	s->chunk_used = n;
	return s->chunks[s->cur_chunk];
}

static int ents_room(extsort *s)
{
	if (s->nents < s->cap)
		return 1;
	size_t ncap = s->cap ? s->cap * 2 : 1024;
	if (s->nents && used_bytes(s, ncap - s->cap) > s->memory) {
		/* Use the memory left rather than doubling past the limit. */
		size_t left = s->memory > used_bytes(s, 0) ? s->memory - used_bytes(s, 0) : 0;
		size_t more = left / (2 * sizeof(entry));
		if (more < 64)
			return 0;
		ncap = s->cap + more;
	}
	s->ents = xrealloc(s->ents, ncap * sizeof *s->ents);
	free(s->tmp);
	s->tmp = xmalloc(ncap * sizeof *s->tmp);
	s->cap = ncap;
	return 1;
}

static void arena_reset(extsort *s)
{
	for (int i = 0; i < s->nbig; i++)
		free(s->big[i]);
	s->nbig = 0;
	s->big_bytes = 0;
	s->cur_chunk = -1;
	s->chunk_used = 0;
	s->nents = 0;
}

/* ---- runs (temporary files) ---- */

static FILE *run_create(extsort *s, run *r)
{
	size_t n = strlen(s->tmpdir) + 32;
	r->path = xmalloc(n);
	snprintf(r->path, n, "%s/retain-sort.XXXXXX", s->tmpdir);
	/* No signal between creating and registering the file. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	int fd = mkstemp(r->path);
	int e = errno;
	if (fd >= 0)
		rtn_temp_register(r->path);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (fd < 0)
		rtn_die(RTN_EXIT_SYSTEM, "%s: cannot create a temporary file: %s", s->tmpdir, strerror(e));
	FILE *f = fdopen(fd, "wb");
	if (!f)
		rtn_die(RTN_EXIT_SYSTEM, "%s: %s", r->path, strerror(errno));
	return f;
}

static void run_close_file(extsort *s, run *r, FILE *f, rtn_writer *w)
{
	rtn_writer_close(w); /* end-of-stream block; leaves f open */
	errno = 0;
	long pos = ftell(f);
	if (fflush(f) != 0 || ferror(f) || fclose(f) != 0)
		rtn_die(RTN_EXIT_SYSTEM, "%s: write error%s%s", r->path, errno ? ": " : "",
			errno ? strerror(errno) : "");
	if (pos > 0)
		s->st.spill_bytes += (uint64_t)pos;
}

static void run_remove(run *r)
{
	if (!r || !r->path)
		return;
	unlink(r->path);
	rtn_temp_forget(r->path);
	free(r->path);
	r->path = NULL;
}

static void run_push(extsort *s, run *r)
{
	if (s->nruns == s->runs_cap) {
		s->runs_cap = s->runs_cap ? 2 * s->runs_cap : 16;
		s->runs = xrealloc(s->runs, (size_t)s->runs_cap * sizeof *s->runs);
	}
	s->runs[s->nruns++] = r;
}

/* ---- merging ---- */

static int source_advance(extsort *s, source *src)
{
	if (!src->r) {
		if (src->mem_i >= src->mem_n)
			return 0;
		if (src->mem_i + 16 < src->mem_n)
			__builtin_prefetch(src->mem[src->mem_i + 16].row);
		src->cur = src->mem[src->mem_i++];
		return 1;
	}
	const rtn_value *v;
	int rc = rtn_read(src->r, &v);
	if (rc == RTN_RECORD) {
		size_t n = row_size(s, v);
		xgrow((void **)&src->buf, &src->cap, n, 1);
		row_encode(s, v, src->buf, n);
		src->cur.row = src->buf;
		row_key(s, src->buf, src->cur.key);
		return 1;
	}
	if (rc != RTN_END)
		rtn_die(RTN_EXIT_SYSTEM, "temporary file damaged: %s", rtn_reader_error(src->r));
	rtn_reader_close(src->r);
	src->r = NULL;
	src->mem_n = 0;
	run_remove(src->run);
	return 0;
}

/* Heap order: smaller row first, then the older source. */
static inline int heap_less(const extsort *s, const merger *m, int a, int b)
{
	int r = ent_cmp(s, &m->src[a].cur, &m->src[b].cur);
	return r < 0 || (r == 0 && a < b);
}

static void sift_down(const extsort *s, merger *m, int i)
{
	int n = m->nheap, x = m->heap[i];
	for (;;) {
		int c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && heap_less(s, m, m->heap[c + 1], m->heap[c]))
			c++;
		if (!heap_less(s, m, m->heap[c], x))
			break;
		m->heap[i] = m->heap[c];
		i = c;
	}
	m->heap[i] = x;
}

/* Sources: runs[first .. first+nruns), then the in-memory entries if any. */
static void merger_init(extsort *s, merger *m, int first, int nruns, const entry *mem, size_t nmem)
{
	memset(m, 0, sizeof *m);
	m->src = xcalloc((size_t)nruns + 1, sizeof *m->src);
	m->heap = xcalloc((size_t)nruns + 1, sizeof *m->heap);
	m->pending = -1;
	for (int i = 0; i < nruns; i++) {
		source *src = &m->src[m->nsrc++];
		src->run = s->runs[first + i];
		src->r = rtn_reader_open(&src->run->path, 1);
		if (rtn_reader_header(src->r)->schema.n != s->ncols)
			rtn_die(RTN_EXIT_SYSTEM, "%s: temporary file has another schema", src->run->path);
	}
	if (nmem) {
		source *src = &m->src[m->nsrc++];
		src->mem = mem;
		src->mem_n = nmem;
	}
	for (int i = 0; i < m->nsrc; i++)
		if (source_advance(s, &m->src[i]))
			m->heap[m->nheap++] = i;
	for (int i = m->nheap / 2 - 1; i >= 0; i--)
		sift_down(s, m, i);
}

/* Next row in order (valid until the next call), or NULL. *from_mem says
 * whether it lives in the arena (stable until extsort_free). */
static const unsigned char *merger_next(extsort *s, merger *m, int *from_mem)
{
	if (m->pending >= 0) {
		if (source_advance(s, &m->src[m->pending])) {
			sift_down(s, m, 0);
		} else {
			m->heap[0] = m->heap[--m->nheap];
			if (m->nheap)
				sift_down(s, m, 0);
		}
		m->pending = -1;
	}
	if (!m->nheap)
		return NULL;
	source *src = &m->src[m->heap[0]];
	m->pending = m->heap[0];
	if (from_mem)
		*from_mem = src->r == NULL;
	return src->cur.row;
}

static void merger_free(merger *m)
{
	for (int i = 0; i < m->nsrc; i++) {
		if (m->src[i].r) {
			rtn_reader_close(m->src[i].r);
			run_remove(m->src[i].run);
		}
		free(m->src[i].buf);
	}
	free(m->src);
	free(m->heap);
	memset(m, 0, sizeof *m);
}

/* Writes rows from a merger (or the sorted buffer) to a new run. */
static run *write_run(extsort *s, merger *m, int level)
{
	run *r = xcalloc(1, sizeof *r);
	r->level = level;
	FILE *f = run_create(s, r);
	rtn_writer *w = rtn_writer_open_file(f, r->path, s->hdr, 0);
	if (m) {
		const unsigned char *row;
		while ((row = merger_next(s, m, NULL))) {
			row_decode(s, row, s->scratch);
			rtn_write(w, s->scratch);
			s->st.spilled++;
		}
	} else {
		for (size_t i = 0; i < s->nents; i++) {
			/* Rows are visited in sorted, not memory, order. */
			if (i + 16 < s->nents)
				__builtin_prefetch(s->ents[i + 16].row);
			row_decode(s, s->ents[i].row, s->scratch);
			rtn_write(w, s->scratch);
		}
		s->st.spilled += s->nents;
	}
	run_close_file(s, r, f, w);
	return r;
}

/* Merges runs[first .. first+n) into one run in their place. */
static void merge_runs(extsort *s, int first, int n)
{
	int level = 0;
	for (int i = first; i < first + n; i++)
		if (s->runs[i]->level >= level)
			level = s->runs[i]->level + 1;
	if (s->prog)
		rtn_progress_update(s->prog, "merge", s->st.spill_bytes, s->st.spilled);
	merger m;
	merger_init(s, &m, first, n, NULL, 0);
	run *r = write_run(s, &m, level);
	merger_free(&m);
	for (int i = first; i < first + n; i++)
		free(s->runs[i]);
	s->runs[first] = r;
	memmove(s->runs + first + 1, s->runs + first + n, (size_t)(s->nruns - first - n) * sizeof *s->runs);
	s->nruns -= n - 1;
	s->st.merges++;
}

static void spill(extsort *s)
{
	if (s->prog)
		rtn_progress_update(s->prog, "spill", s->st.spill_bytes, s->st.spilled);
	size_t used = used_bytes(s, 0);
	if (used > s->st.peak_memory)
		s->st.peak_memory = used;
	sort_entries(s);
	run_push(s, write_run(s, NULL, 0));
	s->st.runs++;
	arena_reset(s);
	/* Tiered merging keeps the number of files small: EXTSORT_FANIN runs of
	 * one level become one run of the next. */
	while (s->nruns >= EXTSORT_FANIN) {
		int first = s->nruns - EXTSORT_FANIN, same = 1;
		for (int i = first; i < s->nruns; i++)
			same &= s->runs[i]->level == s->runs[first]->level;
		if (!same)
			break;
		merge_runs(s, first, EXTSORT_FANIN);
	}
}

/* ---- public ---- */

extsort *extsort_new(const rtn_schema *schema, const int *cols, int ncols, size_t memory,
	const char *tmpdir)
{
	extsort *s = xcalloc(1, sizeof *s);
	s->ncols = schema->n;
	s->types = xmalloc((size_t)s->ncols * sizeof *s->types);
	s->hdr = rtn_header_new(RTN_KIND_GENERIC);
	for (int i = 0; i < s->ncols; i++) {
		s->types[i] = schema->cols[i].type;
		rtn_schema_add(&s->hdr->schema, schema->cols[i].name, schema->cols[i].type);
	}
	if (ncols < 1)
		rtn_die(RTN_EXIT_USAGE, "internal error: sort without columns");
	s->nkey = ncols;
	s->cols = xmalloc((size_t)ncols * sizeof *s->cols);
	memcpy(s->cols, cols, (size_t)ncols * sizeof *cols);
	s->memory = memory < EXTSORT_MIN_MEMORY ? EXTSORT_MIN_MEMORY : memory;
	s->tmpdir = xstrdup(extsort_tmpdir(tmpdir));
	size_t cs = s->memory / 16;
	s->chunk_size = cs < 16384 ? 16384 : cs > (4u << 20) ? (4u << 20) : cs;
	s->cur_chunk = -1;
	/* Test hook: keep only the first N bits of the key prefix, so that
	 * equal prefixes ("collisions") must be resolved on the full values. */
	const char *bits = getenv("RETAIN_TEST_HASH_BITS");
	long keep = bits && *bits ? strtol(bits, NULL, 10) : 64 * KEY_WORDS;
	for (int w = 0; w < KEY_WORDS; w++, keep -= 64)
		s->key_mask[w] = keep <= 0 ? 0 : keep >= 64 ? ~0ULL : ~0ULL << (64 - keep);
	s->scratch = xcalloc((size_t)s->ncols, sizeof *s->scratch);
	s->vals[0] = xcalloc((size_t)s->ncols, sizeof *s->vals[0]);
	s->vals[1] = xcalloc((size_t)s->ncols, sizeof *s->vals[1]);
	return s;
}

void extsort_set_progress(extsort *s, rtn_progress *p)
{
	s->prog = p;
}

void extsort_add(extsort *s, const rtn_value *v)
{
	size_t n = row_size(s, v);
	unsigned char *dst = NULL;
	if (!ents_room(s) || !(dst = arena_alloc(s, n))) {
		spill(s);
		ents_room(s);
		dst = arena_alloc(s, n);
	}
	row_encode(s, v, dst, n);
	entry *e = &s->ents[s->nents++];
	e->row = dst;
	row_key(s, dst, e->key);
	s->st.records++;
}

void extsort_finish(extsort *s)
{
	if (s->finished)
		return;
	s->finished = 1;
	size_t used = used_bytes(s, 0);
	if (used > s->st.peak_memory)
		s->st.peak_memory = used;
	sort_entries(s);
	int has_mem = s->nents > 0;
	while (s->nruns + has_mem > EXTSORT_FANIN) {
		int n = s->nruns + has_mem - EXTSORT_FANIN + 1;
		if (n > EXTSORT_FANIN)
			n = EXTSORT_FANIN;
		merge_runs(s, s->nruns - n, n);
	}
	if (s->prog && s->nruns)
		rtn_progress_update(s->prog, "merge", s->st.spill_bytes, s->st.spilled);
	merger_init(s, &s->final, 0, s->nruns, s->ents, s->nents);
}

int extsort_next(extsort *s, rtn_value **v)
{
	if (!s->finished)
		extsort_finish(s);
	int from_mem = 0;
	const unsigned char *row = merger_next(s, &s->final, &from_mem);
	if (!row)
		return RTN_END;
	int k = s->outk ^= 1;
	if (!from_mem) {
		size_t n = row_len(row);
		xgrow((void **)&s->out[k], &s->outcap[k], n, 1);
		memcpy(s->out[k], row, n);
		row = s->out[k];
	}
	row_decode(s, row, s->vals[k]);
	*v = s->vals[k];
	return RTN_RECORD;
}

const extsort_stats *extsort_get_stats(const extsort *s)
{
	return &s->st;
}

void extsort_free(extsort *s)
{
	if (!s)
		return;
	merger_free(&s->final);
	for (int i = 0; i < s->nruns; i++) {
		run_remove(s->runs[i]);
		free(s->runs[i]);
	}
	free(s->runs);
	arena_reset(s);
	for (int i = 0; i < s->nchunks; i++)
		free(s->chunks[i]);
	free(s->chunks);
	free(s->big);
	free(s->ents);
	free(s->tmp);
	free(s->out[0]);
	free(s->out[1]);
	free(s->vals[0]);
	free(s->vals[1]);
	free(s->scratch);
	free(s->types);
	free(s->cols);
	free(s->tmpdir);
	rtn_header_free(s->hdr);
	free(s);
}
