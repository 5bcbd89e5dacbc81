/* The retain record stream. Byte layout (all integers little-endian),
 * documented for users in man/man5/retain-stream.5:
 *
 * Stream header
 *   0  8  magic 89 52 54 4E 0D 0A 1A 0A
 *   8  1  major version, 1 minor version, 1 record kind, 1 flags
 *  12  4  shard index, 4 shard count
 *  20  4  text length L (<= 1 MiB)
 *  24  4  CRC-32 of bytes 0..23 (checked before L is used)
 *  28  L  text: "col NAME TYPE", "pg PROVENANCE", "meta KEY=VALUE" lines
 *  28+L 4 CRC-32 of bytes 0..27+L
 *
 * Block
 *   0  4  "RTNB"
 *   4  1  codec (0 stored, 1 deflate), 1 flags (bit 0 end of stream), 2 zero
 *   8  4  record count
 *  12  4  uncompressed length (<= 1 MiB), 4 stored length
 *  20  8  smallest, 8 largest customer hash in the block (0 if none)
 *  36  4  CRC-32 of bytes 0..35 (checked before any length is used)
 *  40  .  payload (stored length bytes)
 *  ..  4  deflate blocks only: CRC-32 of the stored (compressed) bytes, so a
 *         flipped padding bit that inflates to the same payload is caught
 *  ..  4  CRC-32 of the uncompressed payload
 * The end-of-stream block is stored, carries no records and a 16-byte
 * payload: the stream's record count and data block count (u64 each).
 *
 * Record: the columns in schema order. int, money: zigzag varint; float:
 * 8 bytes IEEE-754. Version 2: time: zigzag varint of the step from the
 * column's value in the record before in the block (0 before the first
 * record of a block, 64-bit wrap-around); string: varint 0 (empty), 1 (the
 * column's value in the record before in the block, the empty string for
 * the first), or n + 1, then the n bytes. Version 1 (still read): time as
 * int; string: varint length, then the bytes. */
#include "stream.h"
#include "crc32.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util.h"
#include "varint.h"
#include "workers.h"

static const unsigned char MAGIC[8] = {0x89, 'R', 'T', 'N', 0x0D, 0x0A, 0x1A, 0x0A};
static const unsigned char BLOCK_MAGIC[4] = {'R', 'T', 'N', 'B'};
#define HDR_FIXED 28
#define BLK_HDR 40
#define EOS_PAYLOAD 16

/* ---- little-endian helpers ---- */

/* One store each (the byte loops they replace were compiled as loops). */
static void put32(unsigned char *p, uint32_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	memcpy(p, &v, 4);
}
static void put64(unsigned char *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, 8);
}
static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}
static uint32_t crc(const unsigned char *p, size_t n)
{
	return rtn_crc32(0, p, n);
}

/* A fuzzing build ignores CRC mismatches so that mutated inputs reach the
 * parsing behind them; every other check still applies. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define CRC_BAD(computed, stored) ((void)(computed), (void)(stored), 0)
#else
#define CRC_BAD(computed, stored) ((computed) != (stored))
#endif

/* ---- types, schema, header ---- */

static const char *const TYPE_NAMES[] = {NULL, "int", "float", "string", "time", "money"};
static const char *const KIND_NAMES[] = {"generic", "events", "customers", "cohort"};

const char *rtn_type_name(int type)
{
	return type >= RTN_INT && type <= RTN_MONEY ? TYPE_NAMES[type] : "?";
}

int rtn_type_parse(const char *name)
{
	for (int t = RTN_INT; t <= RTN_MONEY; t++)
		if (strcmp(name, TYPE_NAMES[t]) == 0)
			return t;
	return 0;
}

const char *rtn_kind_name(int kind)
{
	return kind >= 0 && kind <= RTN_KIND_MAX ? KIND_NAMES[kind] : "unknown";
}

int rtn_schema_find(const rtn_schema *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->cols[i].name, name) == 0)
			return i;
	return -1;
}

static int name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > RTN_NAME_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

int rtn_schema_add(rtn_schema *s, const char *name, int type)
{
	int i = rtn_schema_find(s, name);
	if (i >= 0) {
		if (s->cols[i].type != type)
			rtn_die(RTN_EXIT_USAGE, "column '%s' exists already with type %s, not %s", name,
				rtn_type_name(s->cols[i].type), rtn_type_name(type));
		return i;
	}
	if (!name_ok(name))
		rtn_die(RTN_EXIT_USAGE, "'%s' is not a valid column name (1-255 bytes, no spaces)", name);
	if (s->n >= RTN_MAX_COLUMNS)
		rtn_die(RTN_EXIT_USAGE, "more than %d columns", RTN_MAX_COLUMNS);
	s->cols = xrealloc(s->cols, (size_t)(s->n + 1) * sizeof *s->cols);
	s->cols[s->n].name = xstrdup(name);
	s->cols[s->n].type = type;
	return s->n++;
}

int rtn_schema_need(const rtn_schema *s, const char *name, int type, const char *what)
{
	int i = rtn_schema_find(s, name);
	if (i >= 0 && s->cols[i].type == type)
		return i;
	size_t cap = 256, len = 0;
	char *list = xmalloc(cap);
	list[0] = 0;
	for (int k = 0; k < s->n; k++) {
		xgrow((void **)&list, &cap, len + strlen(s->cols[k].name) + 3, 1);
		len += (size_t)sprintf(list + len, "%s%s", k ? ", " : "", s->cols[k].name);
	}
	if (i >= 0)
		rtn_die(RTN_EXIT_USAGE, "%s: column '%s' has type %s, expected %s", what, name,
			rtn_type_name(s->cols[i].type), rtn_type_name(type));
	rtn_die(RTN_EXIT_USAGE, "%s: no column '%s' (columns: %s)", what, name, list);
}

rtn_header *rtn_header_new(int kind)
{
	rtn_header *h = xcalloc(1, sizeof *h);
	h->kind = kind;
	h->version[0] = RTN_VERSION_MAJOR;
	h->version[1] = RTN_VERSION_MINOR;
	return h;
}

static char **lines_copy(char **src, int n)
{
	char **dst = xmalloc((size_t)(n ? n : 1) * sizeof *dst);
	for (int i = 0; i < n; i++)
		dst[i] = xstrdup(src[i]);
	return dst;
}

rtn_header *rtn_header_derive(const rtn_header *in, int kind, int argc, char **argv)
{
	rtn_header *h = rtn_header_new(kind >= 0 ? kind : in->kind);
	h->flags = in->flags;
	h->shard_i = in->shard_i;
	h->shard_n = in->shard_n;
	for (int i = 0; i < in->schema.n; i++)
		rtn_schema_add(&h->schema, in->schema.cols[i].name, in->schema.cols[i].type);
	h->prov = lines_copy(in->prov, in->nprov);
	h->nprov = in->nprov;
	h->meta = lines_copy(in->meta, in->nmeta);
	h->nmeta = in->nmeta;
	if (argv)
		rtn_header_add_prov(h, argc, argv);
	return h;
}

void rtn_header_add_prov(rtn_header *h, int argc, char **argv)
{
	h->prov = xrealloc(h->prov, (size_t)(h->nprov + 1) * sizeof *h->prov);
	h->prov[h->nprov++] = rtn_cmdline(argc, argv);
}

void rtn_header_set_meta(rtn_header *h, const char *key, const char *value)
{
	size_t klen = strlen(key);
	size_t n = klen + strlen(value) + 2;
	char *line = xmalloc(n);
	snprintf(line, n, "%s=%s", key, value);
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	for (int i = 0; i < h->nmeta; i++)
		if (strncmp(h->meta[i], key, klen) == 0 && h->meta[i][klen] == '=') {
			free(h->meta[i]);
			h->meta[i] = line;
			return;
		}
	h->meta = xrealloc(h->meta, (size_t)(h->nmeta + 1) * sizeof *h->meta);
	h->meta[h->nmeta++] = line;
}

const char *rtn_header_get_meta(const rtn_header *h, const char *key)
{
	size_t klen = strlen(key);
	for (int i = h->nmeta - 1; i >= 0; i--)
		if (strncmp(h->meta[i], key, klen) == 0 && h->meta[i][klen] == '=')
			return h->meta[i] + klen + 1;
	return NULL;
}

void rtn_schema_free(rtn_schema *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->cols[i].name);
	free(s->cols);
	s->cols = NULL;
	s->n = 0;
}

void rtn_header_free(rtn_header *h)
{
	if (!h)
		return;
	rtn_schema_free(&h->schema);
	for (int i = 0; i < h->nprov; i++)
		free(h->prov[i]);
	free(h->prov);
	for (int i = 0; i < h->nmeta; i++)
		free(h->meta[i]);
	free(h->meta);
	free(h);
}

/* Serialises a header into a malloc'd buffer; *n gets its length. */
static unsigned char *header_encode(const rtn_header *h, size_t *n)
{
	size_t cap = 256, len = 0;
	char *text = xmalloc(cap);
	text[0] = 0;
	for (int i = 0; i < h->schema.n; i++) {
		xgrow((void **)&text, &cap, len + strlen(h->schema.cols[i].name) + 16, 1);
		len += (size_t)sprintf(text + len, "col %s %s\n", h->schema.cols[i].name,
			rtn_type_name(h->schema.cols[i].type));
	}
	for (int pass = 0; pass < 2; pass++) {
		int cnt = pass ? h->nmeta : h->nprov;
		char **lines = pass ? h->meta : h->prov;
		for (int i = 0; i < cnt; i++) {
			xgrow((void **)&text, &cap, len + strlen(lines[i]) + 8, 1);
			len += (size_t)sprintf(text + len, "%s %s\n", pass ? "meta" : "pg", lines[i]);
		}
	}
	if (len > RTN_HEADER_TEXT_MAX)
		rtn_die(RTN_EXIT_USAGE, "stream header larger than %u bytes", RTN_HEADER_TEXT_MAX);
	unsigned char *b = xmalloc(HDR_FIXED + len + 4);
	memcpy(b, MAGIC, 8);
	b[8] = RTN_VERSION_MAJOR;
	b[9] = RTN_VERSION_MINOR;
	b[10] = (unsigned char)h->kind;
	b[11] = (unsigned char)h->flags;
	put32(b + 12, h->shard_i);
	put32(b + 16, h->shard_n);
	put32(b + 20, (uint32_t)len);
	put32(b + 24, crc(b, 24));
	memcpy(b + HDR_FIXED, text, len);
	put32(b + HDR_FIXED + len, crc(b, HDR_FIXED + len));
	free(text);
	*n = HDR_FIXED + len + 4;
	return b;
}

/* Parses header text into h; returns NULL or a reason. */
static const char *header_parse_text(rtn_header *h, char *text)
{
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (!next)
			return "header text does not end with a newline";
		*next++ = 0;
		if (strncmp(line, "col ", 4) == 0) {
			char *name = line + 4, *sp = strrchr(name, ' ');
			if (!sp)
				return "malformed column line";
			*sp = 0;
			int t = rtn_type_parse(sp + 1);
			if (!t)
				return "unknown column type";
			if (!name_ok(name) || rtn_schema_find(&h->schema, name) >= 0)
				return "bad or duplicate column name";
			if (h->schema.n >= RTN_MAX_COLUMNS)
				return "too many columns";
			rtn_schema_add(&h->schema, name, t);
		} else if (strncmp(line, "pg ", 3) == 0) {
			h->prov = xrealloc(h->prov, (size_t)(h->nprov + 1) * sizeof *h->prov);
			h->prov[h->nprov++] = xstrdup(line + 3);
		} else if (strncmp(line, "meta ", 5) == 0) {
			h->meta = xrealloc(h->meta, (size_t)(h->nmeta + 1) * sizeof *h->meta);
			h->meta[h->nmeta++] = xstrdup(line + 5);
		} /* other line types: added by a later minor version, ignored */
	}
	if (h->schema.n == 0)
		return "stream has no columns";
	return NULL;
}

/* ---- record encoding ---- */

/* A varint of at most 8 bytes from a word, without a loop: p must have 8
 * readable bytes. Returns the length, 0 when the varint is longer (the caller
 * takes the careful path). */
static inline unsigned varint8(const unsigned char *p, uint64_t *v)
{
	uint64_t w, stop;
	memcpy(&w, p, 8);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	stop = ~w & 0x8080808080808080ULL;
	if (!stop)
		return 0;
	unsigned bits = (unsigned)__builtin_ctzll(stop) + 1;   /* through the last byte's top bit */
	if (bits < 64)
		w &= (1ULL << bits) - 1;
	w &= 0x7f7f7f7f7f7f7f7fULL;
	/* pack the 7-bit groups: pairs, quads, then the two halves */
	w = (w & 0x007f007f007f007fULL) | (w & 0x7f007f007f007f00ULL) >> 1;
	w = (w & 0x00003fff00003fffULL) | (w & 0x3fff00003fff0000ULL) >> 2;
	w = (w & 0x000000000fffffffULL) | (w & 0x0fffffff00000000ULL) >> 4;
	*v = w;
	return bits / 8;
}

/* Reads a varint: one byte inline, up to eight from a word, else the
 * careful loop. NULL when malformed. */
static inline const unsigned char *varint_next(const unsigned char *p, const unsigned char *end,
                                               uint64_t *v)
{
	unsigned k;
	if (p < end && *p < 0x80) {
		*v = *p;
		return p + 1;
	}
	if (end - p >= 8 && (k = varint8(p, v)))
		return p + k;
	return get_varint(p, end, v);
}

/* ---- reader ---- */

struct rtn_reader {
	char **paths;
	int npaths, cur;
	FILE *f;
	const char *name;
	rtn_header *hdr;
	uint64_t off;        /* offset in the current file */
	uint64_t done_bytes; /* bytes of earlier files */
	uint64_t size;       /* total size of regular files, 0 if any unknown */
	uint64_t stream_records, stream_blocks; /* since the current stream header */
	uint64_t records, blocks;
	uint64_t block_no;   /* 1-based number of the current block within its file */
	uint64_t block_off;
	struct rawblk *blk;  /* the block being read (when there is no pool) */
	struct ipool *ip;    /* blocks read ahead and checked in other threads, or NULL */
	int ip_tried;
	const unsigned char *p, *end;
	uint32_t left;
	int v2;              /* the current stream has format version 2 */
	rtn_value *vals;     /* the last record (version 2 refers to it), read only for callers */
	unsigned char *types;  /* column types, for rtn_read */
	int ncols;
	z_stream z;
	int zinit;
	int ended;
	int exitcode;
	int borrowed;        /* f belongs to the caller (rtn_reader_from_file) */
	char err[768];
};

static int rfail(rtn_reader *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int rfail(rtn_reader *r, int code, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	r->exitcode = code;
	if (r->block_no)
		snprintf(r->err, sizeof r->err, "%s: block %llu at byte %llu: %s", r->name,
			(unsigned long long)r->block_no, (unsigned long long)r->block_off, what);
	else
		snprintf(r->err, sizeof r->err, "%s: byte %llu: %s", r->name, (unsigned long long)r->off, what);
	return RTN_ERROR;
}

/* Reads exactly n bytes; returns the count read (short only at end of file).
 * Sets errno-based error on read failure (returns (size_t)-1). */
static size_t read_exact(rtn_reader *r, void *buf, size_t n)
{
	size_t got = n ? fread(buf, 1, n, r->f) : 0;
	if (got < n && ferror(r->f))
		return (size_t)-1;
	r->off += got;
	return got;
}

static int io_error(rtn_reader *r)
{
	return rfail(r, RTN_EXIT_USAGE, "read error: %s", strerror(errno));
}

/* Explains bytes that are not the stream magic. */
static int bad_magic(rtn_reader *r, const unsigned char *b, size_t n)
{
	if (n == 0)
		return rfail(r, RTN_EXIT_CORRUPT, "empty input: not a retain stream");
	if (n >= 4 && b[0] == 0x89 && memcmp(b + 1, "RTN", 3) == 0)
		return rfail(r, RTN_EXIT_CORRUPT,
			"stream damaged by a text-mode transfer (line endings converted); copy it in binary mode");
	int text = 1;
	for (size_t i = 0; i < n; i++)
		if (b[i] < 0x09 || (b[i] > 0x0d && b[i] < 0x20) || b[i] == 0x7f)
			text = 0;
	if (text)
		return rfail(r, RTN_EXIT_CORRUPT, "not a retain stream (this looks like text: did you forget ingest?)");
	return rfail(r, RTN_EXIT_CORRUPT, "not a retain stream (bad magic)");
}

/* Reads a stream header whose first `have` magic bytes are already in b. */
static int read_header(rtn_reader *r, unsigned char *b, size_t have, rtn_header **out)
{
	size_t got = read_exact(r, b + have, HDR_FIXED - have);
	if (got == (size_t)-1)
		return io_error(r);
	got += have;
	if (got < 8 || memcmp(b, MAGIC, 8) != 0)
		return bad_magic(r, b, got);
	if (got < HDR_FIXED)
		return rfail(r, RTN_EXIT_CORRUPT, "truncated stream header");
	if (b[8] < RTN_VERSION_OLDEST || b[8] > RTN_VERSION_MAJOR) {
		if (!CRC_BAD(crc(b, 24), get32(b + 24)) && b[8] > RTN_VERSION_MAJOR)
			return rfail(r, RTN_EXIT_CORRUPT, "stream format version %d.%d is newer than this program reads (%d.x); upgrade retain",
				b[8], b[9], RTN_VERSION_MAJOR);
		return rfail(r, RTN_EXIT_CORRUPT, "unsupported stream format version %d.%d", b[8], b[9]);
	}
	if (CRC_BAD(crc(b, 24), get32(b + 24)))
		return rfail(r, RTN_EXIT_CORRUPT, "stream header CRC mismatch");
	r->v2 = b[8] >= 2;
	uint32_t len = get32(b + 20);
	if (len > RTN_HEADER_TEXT_MAX)
		return rfail(r, RTN_EXIT_CORRUPT, "stream header declares %u bytes of text (limit %u)", len, RTN_HEADER_TEXT_MAX);
	if (b[10] > RTN_KIND_MAX || (b[11] & ~7u))
		return rfail(r, RTN_EXIT_CORRUPT, "unknown record kind or flags");
	unsigned char *all = xmalloc(HDR_FIXED + (size_t)len + 4);
	memcpy(all, b, HDR_FIXED);
	got = read_exact(r, all + HDR_FIXED, (size_t)len + 4);
	if (got == (size_t)-1) {
		free(all);
		return io_error(r);
	}
	if (got < (size_t)len + 4) {
		free(all);
		return rfail(r, RTN_EXIT_CORRUPT, "truncated stream header");
	}
	if (CRC_BAD(crc(all, HDR_FIXED + len), get32(all + HDR_FIXED + len))) {
		free(all);
		return rfail(r, RTN_EXIT_CORRUPT, "stream header CRC mismatch");
	}
	rtn_header *h = rtn_header_new(b[10]);
	h->version[0] = b[8];
	h->version[1] = b[9];
	h->flags = b[11];
	h->shard_i = get32(b + 12);
	h->shard_n = get32(b + 16);
	char *text = xmalloc((size_t)len + 1);
	memcpy(text, all + HDR_FIXED, len);
	text[len] = 0;
	free(all);
	const char *why = memchr(text, 0, len) ? "NUL byte in header text" : header_parse_text(h, text);
	free(text);
	if (!why && (h->flags & RTN_FLAG_SHARDED) && (h->shard_n == 0 || h->shard_i >= h->shard_n))
		why = "bad shard index or count";
	if (why) {
		rtn_header_free(h);
		return rfail(r, RTN_EXIT_CORRUPT, "bad stream header: %s", why);
	}
	*out = h;
	r->stream_records = r->stream_blocks = 0;
	return RTN_RECORD;
}

static int schemas_agree(const rtn_header *a, const rtn_header *b)
{
	if (a->kind != b->kind || a->schema.n != b->schema.n)
		return 0;
	for (int i = 0; i < a->schema.n; i++)
		if (a->schema.cols[i].type != b->schema.cols[i].type ||
		    strcmp(a->schema.cols[i].name, b->schema.cols[i].name) != 0)
			return 0;
	return 1;
}

/* Opens the next input and reads its header; RTN_END when there is none. */
static int next_file(rtn_reader *r)
{
	if (r->f && r->f != stdin && !r->borrowed)
		fclose(r->f);
	r->f = NULL;
	r->done_bytes += r->off;
	if (r->cur >= r->npaths)
		return RTN_END;
	const char *path = r->paths[r->cur++];
	r->name = rtn_in_name(path);
	r->off = r->block_no = r->block_off = 0;
	if (strcmp(path, "-") == 0) {
		r->f = stdin;
		rtn_pipe_grow(fileno(stdin));
	} else {
		r->f = fopen(path, "rb");
		if (!r->f)
			return rfail(r, RTN_EXIT_USAGE, "cannot open: %s", strerror(errno));
		struct stat st;
		if (fstat(fileno(r->f), &st) == 0 && S_ISDIR(st.st_mode))
			return rfail(r, RTN_EXIT_USAGE, "is a directory");
	}
	unsigned char b[HDR_FIXED];
	rtn_header *h = NULL;
	if (read_header(r, b, 0, &h) != RTN_RECORD)
		return RTN_ERROR;
	if (!r->hdr) {
		r->hdr = h;
	} else {
		int same = schemas_agree(r->hdr, h);
		rtn_header_free(h);
		if (!same)
			return rfail(r, RTN_EXIT_CORRUPT, "stream has a different kind or schema than the first input; cannot read them as one");
	}
	return RTN_RECORD;
}

/* The values of a record, and the column types as bytes for rtn_read. */
static void reader_columns(rtn_reader *r)
{
	const rtn_schema *s = &r->hdr->schema;
	r->vals = xcalloc((size_t)s->n, sizeof *r->vals);
	r->types = xmalloc((size_t)s->n);
	for (int c = 0; c < s->n; c++)
		r->types[c] = (unsigned char)s->cols[c].type;
	r->ncols = s->n;
}

rtn_reader *rtn_reader_open(char **paths, int npaths)
{
	static char *stdin_path[] = {"-"};
	rtn_reader *r = xcalloc(1, sizeof *r);
	if (npaths == 0) {
		paths = stdin_path;
		npaths = 1;
	}
	r->paths = paths;
	r->npaths = npaths;
	for (int i = 0; i < npaths; i++) {
		struct stat st;
		if (strcmp(paths[i], "-") != 0 && stat(paths[i], &st) == 0 && S_ISREG(st.st_mode)) {
			r->size += (uint64_t)st.st_size;
		} else {
			r->size = 0;
			break;
		}
	}
	if (next_file(r) != RTN_RECORD)
		rtn_die(r->exitcode, "%s", r->err);
	reader_columns(r);
	return r;
}

rtn_reader *rtn_reader_from_file(FILE *f, const char *name)
{
	rtn_reader *r = xcalloc(1, sizeof *r);
	r->f = f;
	r->name = name;
	r->borrowed = 1;
	unsigned char b[HDR_FIXED];
	if (read_header(r, b, 0, &r->hdr) != RTN_RECORD) {
		r->hdr = NULL;
		r->ended = -1;
		return r;
	}
	reader_columns(r);
	return r;
}

const rtn_header *rtn_reader_header(const rtn_reader *r) { return r->hdr; }
const char *rtn_reader_error(const rtn_reader *r) { return r->err; }
int rtn_reader_exit(const rtn_reader *r) { return r->exitcode ? r->exitcode : RTN_EXIT_CORRUPT; }
uint64_t rtn_reader_offset(const rtn_reader *r) { return r->done_bytes + r->off; }
uint64_t rtn_reader_records(const rtn_reader *r) { return r->records; }
uint64_t rtn_reader_blocks(const rtn_reader *r) { return r->blocks; }
uint64_t rtn_reader_size(const rtn_reader *r) { return r->size; }

/* Grows *buf to hold need bytes, at least doubling (a buffer appended to
 * block by block would otherwise be copied each time). */
static int ensure(unsigned char **buf, size_t *cap, size_t need)
{
	if (need > *cap) {
		size_t c = *cap * 2 > need ? *cap * 2 : need;
		*buf = xrealloc(*buf, c);
		*cap = c;
	}
	return 0;
}

/* A block as read: its header's fields and its bytes. */
struct rawblk {
	int codec, eos;
	uint32_t nrec, ulen, clen;
	unsigned char tail[8];
	unsigned char *cbuf, *ubuf;   /* the stored bytes (cbuf when deflated), the payload */
	size_t ccap, ucap;
};

/* What checking a block's bytes found (check_block). */
enum { CHK_OK, CHK_ZINIT, CHK_CCRC, CHK_ZDATA, CHK_ZLEN, CHK_CRC };

/* Checks a block's CRCs and inflates it: CHK_OK, or what failed (zlib's
 * words in zmsg). Touches only b and z: worker threads call it too. */
static int check_block(struct rawblk *b, z_stream *z, int *zinit, char *zmsg, size_t zmsglen)
{
	if (b->codec == 1) {   /* tail: the CRC of the stored bytes, then of the payload */
		if (CRC_BAD(crc(b->cbuf, b->clen), get32(b->tail)))
			return CHK_CCRC;
		if (!*zinit) {
			memset(z, 0, sizeof *z);
			if (inflateInit2(z, -15) != Z_OK)
				return CHK_ZINIT;
			*zinit = 1;
		} else {
			inflateReset(z);
		}
		z->next_in = b->cbuf;
		z->avail_in = b->clen;
		z->next_out = b->ubuf;
		z->avail_out = b->ulen;
		int zrc = inflate(z, Z_FINISH);
		if (zrc != Z_STREAM_END) {
			snprintf(zmsg, zmsglen, "%s", zrc == Z_BUF_ERROR ? "more data than declared" : z->msg ? z->msg : "error");
			return CHK_ZDATA;
		}
		if (z->avail_out != 0 || z->avail_in != 0)
			return CHK_ZLEN;
		if (CRC_BAD(crc(b->ubuf, b->ulen), get32(b->tail + 4)))
			return CHK_CRC;
		return CHK_OK;
	}
	return CRC_BAD(crc(b->ubuf, b->ulen), get32(b->tail)) ? CHK_CRC : CHK_OK;
}

static int check_fail(rtn_reader *r, int what, const char *zmsg)
{
	switch (what) {
	case CHK_ZINIT: return rfail(r, RTN_EXIT_SYSTEM, "cannot initialise zlib");
	case CHK_CCRC: return rfail(r, RTN_EXIT_CORRUPT, "compressed payload CRC mismatch");
	case CHK_ZDATA: return rfail(r, RTN_EXIT_CORRUPT, "deflate data damaged or incomplete (zlib: %s)", zmsg);
	case CHK_ZLEN: return rfail(r, RTN_EXIT_CORRUPT, "uncompressed length differs from the block header");
	default: return rfail(r, RTN_EXIT_CORRUPT, "payload CRC mismatch");
	}
}

/* After an end-of-stream block: another stream header, the end of this
 * file (then the next file), or garbage. */
static int after_eos(rtn_reader *r)
{
	for (;;) {
		unsigned char b[HDR_FIXED];
		uint64_t at = r->off;
		size_t got = read_exact(r, b, 1);
		if (got == (size_t)-1)
			return io_error(r);
		if (got == 0) {
			int rc = next_file(r);
			if (rc != RTN_RECORD)
				return rc;
			return RTN_RECORD;
		}
		r->block_no = 0;
		if (b[0] != MAGIC[0]) {
			r->off = at;
			return rfail(r, RTN_EXIT_CORRUPT, "garbage after the end of the stream");
		}
		rtn_header *h = NULL;
		if (read_header(r, b, 1, &h) != RTN_RECORD) {
			if (strstr(r->err, "magic") || strstr(r->err, "text"))
				return rfail(r, RTN_EXIT_CORRUPT, "garbage after the end of the stream");
			return RTN_ERROR;
		}
		int same = schemas_agree(r->hdr, h);
		rtn_header_free(h);
		if (!same)
			return rfail(r, RTN_EXIT_CORRUPT, "concatenated stream has a different kind or schema");
		return RTN_RECORD;
	}
}

/* Reads the next block's header, stored bytes and CRCs into b, checking
 * the header (not the bytes: check_block). r->block_no and r->block_off
 * name the block in messages. */
static int read_block(rtn_reader *r, struct rawblk *b)
{
	unsigned char h[BLK_HDR];
	size_t got = read_exact(r, h, BLK_HDR);
	if (got == (size_t)-1)
		return io_error(r);
	if (got == 0)
		return rfail(r, RTN_EXIT_CORRUPT, "truncated: input ends without an end-of-stream block");
	if (got < BLK_HDR)
		return rfail(r, RTN_EXIT_CORRUPT, "truncated block header");
	if (memcmp(h, BLOCK_MAGIC, 4) != 0)
		return rfail(r, RTN_EXIT_CORRUPT, "bad block magic");
	if (CRC_BAD(crc(h, 36), get32(h + 36)))
		return rfail(r, RTN_EXIT_CORRUPT, "block header CRC mismatch");
	unsigned codec = h[4], flags = h[5];
	uint32_t nrec = get32(h + 8), ulen = get32(h + 12), clen = get32(h + 16);
	uint64_t kmin = get64(h + 20), kmax = get64(h + 28);
	int eos = flags & 1;
	if (codec > 1 || (flags & ~1u) || h[6] || h[7])
		return rfail(r, RTN_EXIT_CORRUPT, "unknown block codec or flags");
	if (ulen > RTN_BLOCK_MAX)
		return rfail(r, RTN_EXIT_CORRUPT, "block declares %u bytes (limit %u)", ulen, RTN_BLOCK_MAX);
	if ((codec == 0 && clen != ulen) || (codec == 1 && (clen == 0 || clen > compressBound(ulen))))
		return rfail(r, RTN_EXIT_CORRUPT, "stored length %u does not fit uncompressed length %u", clen, ulen);
	if (eos ? (codec || nrec || ulen != EOS_PAYLOAD || kmin || kmax) : (nrec == 0 || nrec > ulen || kmin > kmax))
		return rfail(r, RTN_EXIT_CORRUPT, "inconsistent block header");
	ensure(&b->ubuf, &b->ucap, ulen + 4);
	if (codec == 1)
		ensure(&b->cbuf, &b->ccap, clen);
	got = read_exact(r, codec ? b->cbuf : b->ubuf, clen);
	if (got == (size_t)-1)
		return io_error(r);
	if (got < clen)
		return rfail(r, RTN_EXIT_CORRUPT, "truncated block payload");
	size_t ntail = codec ? 8 : 4;
	got = read_exact(r, b->tail, ntail);
	if (got == (size_t)-1)
		return io_error(r);
	if (got < ntail)
		return rfail(r, RTN_EXIT_CORRUPT, "truncated block payload");
	b->codec = (int)codec;
	b->eos = eos;
	b->nrec = nrec;
	b->ulen = ulen;
	b->clen = clen;
	return RTN_RECORD;
}

/* An end-of-stream block b was reached: its counts, then what follows. */
static int end_of_stream(rtn_reader *r, const struct rawblk *b)
{
	uint64_t nr = get64(b->ubuf), nb = get64(b->ubuf + 8);
	if (nr != r->stream_records || nb != r->stream_blocks)
		return rfail(r, RTN_EXIT_CORRUPT,
			"end-of-stream block counts %llu records in %llu blocks, read %llu in %llu",
			(unsigned long long)nr, (unsigned long long)nb,
			(unsigned long long)r->stream_records, (unsigned long long)r->stream_blocks);
	return after_eos(r);
}

/* The records of a checked data block are next. */
static int block_ready(rtn_reader *r, const struct rawblk *b)
{
	r->p = b->ubuf;
	r->end = b->ubuf + b->ulen;
	r->left = b->nrec;
	for (int c = 0; c < r->ncols; c++)   /* version 2 refers to records before in the block only */
		r->vals[c] = (rtn_value){0, 0, (const char *)b->ubuf, 0};
	r->stream_blocks++;
	r->blocks++;
	return RTN_RECORD;
}

/* ---- blocks read ahead and checked in other threads ---- */

/* Reading deflated blocks, with two processors or more: this thread reads
 * up to RTN_WORKERS_SLOTS blocks ahead (all reading, and so every read
 * error, stays here); worker threads check and inflate them (workers.h);
 * the records are taken from the slots in order. A slot that could not be
 * read keeps the message, given when the records before it are read;
 * reading ahead stops there, and at an end-of-stream block until it is
 * reached. */
typedef struct ip_slot {
	struct rawblk b;
	uint64_t block_no, block_off;
	int rc;            /* reading it: RTN_RECORD, or RTN_ERROR with err and code */
	int code;
	char err[768];
	int what;          /* what check_block found */
	char zmsg[128];
} ip_slot;

struct ipool {
	rtn_workers w;
	int ahead_stopped, holding;
	uint64_t used;                  /* slots whose records were taken */
	uint64_t ahead_no;              /* number of the last block read ahead */
	ip_slot s[RTN_WORKERS_SLOTS];
	struct { z_stream z; int zinit; } wk[RTN_WORKERS_MAX];
};

static void ip_run(void *ctx, int worker, uint64_t seq)
{
	struct ipool *p = ctx;
	ip_slot *sl = &p->s[seq % RTN_WORKERS_SLOTS];
	if (sl->rc == RTN_RECORD)
		sl->what = check_block(&sl->b, &p->wk[worker].z, &p->wk[worker].zinit, sl->zmsg, sizeof sl->zmsg);
}

static void ip_free(struct ipool *p)
{
	rtn_workers_stop(&p->w);
	for (int i = 0; i < RTN_WORKERS_MAX; i++)
		if (p->wk[i].zinit)
			inflateEnd(&p->wk[i].z);
	for (int i = 0; i < RTN_WORKERS_SLOTS; i++) {
		free(p->s[i].b.cbuf);
		free(p->s[i].b.ubuf);
	}
	free(p);
}

/* The pool, after a first deflated block was read here, or NULL. */
static struct ipool *ip_new(const rtn_reader *r)
{
	struct ipool *p = xcalloc(1, sizeof *p);
	if (rtn_workers_start(&p->w, ip_run, p, RTN_WORKERS_MAX) == 0) {
		free(p);
		return NULL;
	}
	p->ahead_no = r->block_no;
	return p;
}

/* Reads blocks ahead into the free slots. */
static void ip_fill(rtn_reader *r)
{
	struct ipool *p = r->ip;
	uint64_t no = r->block_no, off = r->block_off;
	while (!p->ahead_stopped && p->w.filled - p->used < RTN_WORKERS_SLOTS) {
		ip_slot *sl = &p->s[p->w.filled % RTN_WORKERS_SLOTS];
		r->block_off = sl->block_off = r->off;
		r->block_no = sl->block_no = ++p->ahead_no;
		sl->rc = read_block(r, &sl->b);
		if (sl->rc != RTN_RECORD) {   /* the message waits in the slot */
			memcpy(sl->err, r->err, sizeof sl->err);
			sl->code = r->exitcode;
			r->err[0] = 0;
			r->exitcode = 0;
		}
		if (sl->rc != RTN_RECORD || sl->b.eos)
			p->ahead_stopped = 1;
		rtn_workers_submit(&p->w);
	}
	r->block_no = no;
	r->block_off = off;
}

static int ip_next(rtn_reader *r)
{
	struct ipool *p = r->ip;
	if (p->holding) {   /* the records of the slot before are all read */
		rtn_workers_release(&p->w, p->used++);
		p->holding = 0;
	}
	for (;;) {
		ip_fill(r);
		ip_slot *sl = &p->s[p->used % RTN_WORKERS_SLOTS];
		rtn_workers_done(&p->w, p->used, 1);
		r->block_no = sl->block_no;
		r->block_off = sl->block_off;
		if (sl->rc != RTN_RECORD) {
			memcpy(r->err, sl->err, sizeof r->err);
			r->exitcode = sl->code;
			return sl->rc;
		}
		if (sl->what != CHK_OK)
			return check_fail(r, sl->what, sl->zmsg);
		if (sl->b.eos) {
			rtn_workers_release(&p->w, p->used++);
			int rc = end_of_stream(r, &sl->b);
			if (rc != RTN_RECORD)
				return rc;
			p->ahead_no = r->block_no;   /* a new stream or file numbers from 0 */
			p->ahead_stopped = 0;
			continue;
		}
		p->holding = 1;
		return block_ready(r, &sl->b);
	}
}

/* Reads the next block header and payload. RTN_RECORD when a data block is
 * ready, RTN_END at the clean end of all input. */
static int next_block(rtn_reader *r)
{
	if (r->ip)
		return ip_next(r);
	for (;;) {
		r->block_off = r->off;
		r->block_no++;
		if (!r->blk)
			r->blk = xcalloc(1, sizeof *r->blk);
		struct rawblk *b = r->blk;
		int rc = read_block(r, b);
		if (rc != RTN_RECORD)
			return rc;
		char zmsg[128];
		int what = check_block(b, &r->z, &r->zinit, zmsg, sizeof zmsg);
		if (what != CHK_OK)
			return check_fail(r, what, zmsg);
		if (b->eos) {
			rc = end_of_stream(r, b);
			if (rc != RTN_RECORD)
				return rc;
			continue;
		}
		if (b->codec == 1 && !r->ip_tried) {   /* the next blocks are read ahead */
			r->ip_tried = 1;
			r->ip = ip_new(r);
		}
		return block_ready(r, b);
	}
}

int rtn_read(rtn_reader *r, const rtn_value **vals)
{
	if (r->ended)
		return r->ended > 0 ? RTN_END : RTN_ERROR;
	while (r->left == 0) {
		if (r->p != r->end)
			return r->ended = -1, rfail(r, RTN_EXIT_CORRUPT, "block has bytes after its last record");
		int rc = next_block(r);
		if (rc != RTN_RECORD) {
			r->ended = rc == RTN_END ? 1 : -1;
			return rc;
		}
	}
	const unsigned char *p = r->p, *end = r->end;
	rtn_value *v = r->vals;
	const int v2 = r->v2;
	/* locals: stores through v may not change them, so they stay in registers */
	for (const unsigned char *ty = r->types, *tend = ty + r->ncols; ty < tend; ty++, v++) {
		uint64_t x;
		if (*ty == RTN_STRING) {
			if (p < end && *p < 0x80)
				x = *p++;
			else if (!(p = varint_next(p, end, &x)))
				goto bad;
			if (v2) {   /* 1: as in the record before, v as it is (chosen without a branch) */
				int again = x == 1;
				x -= x > 0;
				if (x > (uint64_t)(end - p))
					goto bad;
				v->s = again ? v->s : (const char *)p;
				v->len = again ? v->len : (uint32_t)x;
				p += x;
				continue;
			}
			if (x > (uint64_t)(end - p))
				goto bad;
			v->s = (const char *)p;
			v->len = (uint32_t)x;
			p += x;
		} else if (*ty == RTN_TIME && v2) {
			if (!(p = varint_next(p, end, &x)))
				goto bad;
			v->i = (int64_t)((uint64_t)v->i + (uint64_t)unzigzag(x));
		} else if (*ty != RTN_FLOAT) {
			if (!(p = varint_next(p, end, &x)))
				goto bad;
			v->i = unzigzag(x);
		} else {
			if (end - p < 8)
				goto bad;
			x = get64(p);
			memcpy(&v->f, &x, 8);
			p += 8;
		}
	}
	r->p = p;
	r->left--;
	r->stream_records++;
	r->records++;
	*vals = r->vals;
	return RTN_RECORD;
bad:
	r->ended = -1;
	return rfail(r, RTN_EXIT_CORRUPT, "malformed record %llu", (unsigned long long)r->stream_records + 1);
}

void rtn_reader_close(rtn_reader *r)
{
	if (!r)
		return;
	if (r->f && r->f != stdin && !r->borrowed)
		fclose(r->f);
	if (r->ip)
		ip_free(r->ip);
	if (r->zinit)
		inflateEnd(&r->z);
	rtn_header_free(r->hdr);
	if (r->blk) {
		free(r->blk->cbuf);
		free(r->blk->ubuf);
		free(r->blk);
	}
	free(r->vals);
	free(r->types);
	free(r);
}

/* ---- writer ---- */

/* Strings up to this long take the one-pass path of write_record, which
 * encodes first and checks after: a block under RTN_BLOCK_TARGET has room
 * for any record of such strings when the buffer is large enough
 * (w->one_pass_need). */
#define ONE_PASS_STR 4096u

struct rtn_writer {
	rtn_out *out;   /* NULL for rtn_writer_open_file */
	FILE *f;
	char *name;
	int level;
	int ncols;
	int *types;
	int nstr;       /* string columns, listed in strcols */
	int *strcols;
	int cust;       /* customer column for block keys, or -1 */
	size_t one_pass_need;   /* with cap at least this, write_record may encode
	                           before it checks the size (strings up to ONE_PASS_STR) */
	unsigned char *buf, *zbuf;
	size_t len, cap, zcap;
	/* each column's value in the record before in the block: a string as
	 * an offset in buf, a time; st[cur] for the records written, st[!cur]
	 * for the one being encoded (kept only if it fits) */
	struct wprev { int64_t t; uint32_t off, len; } *st[2];
	int cur;
	uint32_t nrec;
	uint64_t kmin, kmax;
	uint64_t records, blocks;
	unsigned char *mem;   /* writer_mem: the encoded blocks, in memory */
	size_t mlen, mcap;
	z_stream z;
	int zinit;
	struct zpool *zp;     /* deflating threads (flush_block), or NULL */
	int zp_tried;
	int finished;
};

static void wfail(rtn_writer *w, const char *what)
{
	int e = errno;
	rtn_die(RTN_EXIT_SYSTEM, "%s: %s%s%s", w->name, what, e ? ": " : "", e ? strerror(e) : "");
}

static void wbytes(rtn_writer *w, const void *p, size_t n)
{
	if (!w->f) {   /* writer_mem */
		ensure(&w->mem, &w->mcap, w->mlen + n);
		memcpy(w->mem + w->mlen, p, n);
		w->mlen += n;
		return;
	}
	errno = 0;
	if (rtn_fwrite(p, n, w->f) != 0)
		wfail(w, "write error");
}

/* Deflates a payload into *buf (grown to fit); returns the stored length,
 * or UINT32_MAX when zlib fails. *zinit: z is set up. */
static uint32_t deflate_block(z_stream *z, int *zinit, int level, const unsigned char *payload,
                              uint32_t ulen, unsigned char **buf, size_t *cap)
{
	if (!*zinit) {
		if (deflateInit2(z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return UINT32_MAX;
		*zinit = 1;
	} else {
		deflateReset(z);
	}
	ensure(buf, cap, deflateBound(z, ulen));
	z->next_in = (unsigned char *)payload;
	z->avail_in = ulen;
	z->next_out = *buf;
	z->avail_out = (uInt)*cap;
	if (deflate(z, Z_FINISH) != Z_STREAM_END)
		return UINT32_MAX;
	return (uint32_t)(*cap - z->avail_out);
}

/* One block to the output: header, the stored bytes (body, clen: the
 * payload itself when codec is 0) and the CRCs. */
static void emit_block(rtn_writer *w, int eos, int codec, uint32_t nrec, uint64_t kmin, uint64_t kmax,
                       const unsigned char *payload, uint32_t ulen, const unsigned char *body,
                       uint32_t clen)
{
	unsigned char h[BLK_HDR];
	memcpy(h, BLOCK_MAGIC, 4);
	h[4] = (unsigned char)codec;
	h[5] = (unsigned char)(eos ? 1 : 0);
	h[6] = h[7] = 0;
	put32(h + 8, nrec);
	put32(h + 12, ulen);
	put32(h + 16, clen);
	put64(h + 20, kmin);
	put64(h + 28, kmax);
	put32(h + 36, crc(h, 36));
	unsigned char tail[8];
	size_t ntail = 4;
	if (codec == 1) {
		put32(tail, crc(body, clen));
		ntail = 8;
	}
	put32(tail + ntail - 4, crc(payload, ulen));
	wbytes(w, h, BLK_HDR);
	wbytes(w, body, clen);
	wbytes(w, tail, ntail);
}

static void write_block(rtn_writer *w, int eos, const unsigned char *payload, uint32_t ulen)
{
	if (eos || w->level == 0) {
		emit_block(w, eos, 0, eos ? 0 : w->nrec, eos ? 0 : w->kmin, eos ? 0 : w->kmax, payload, ulen,
		           payload, ulen);
		return;
	}
	uint32_t clen = deflate_block(&w->z, &w->zinit, w->level, payload, ulen, &w->zbuf, &w->zcap);
	if (clen == UINT32_MAX)
		rtn_die(RTN_EXIT_SYSTEM, "%s: compression failed", w->name);
	emit_block(w, 0, 1, w->nrec, w->kmin, w->kmax, payload, ulen, w->zbuf, clen);
}

/* ---- blocks deflated in other threads ---- */

/* A writer with a deflate level, writing to a file, with two processors or
 * more: full blocks go to slots (the writer's buffer swapped for the slot's)
 * that worker threads deflate (workers.h) while the writer encodes the
 * next. The writer emits the slots in the order they were filled, so the
 * bytes are those of one thread, and all output (and so every write error)
 * stays in the writer's thread. */
typedef struct zp_slot {
	unsigned char *in, *out;   /* in: a writer's buf, of incap bytes */
	size_t incap, outcap;
	uint32_t ulen, clen, nrec;   /* clen UINT32_MAX: deflate failed */
	uint64_t kmin, kmax;
} zp_slot;

struct zpool {
	rtn_workers w;
	int level;
	uint64_t emitted;          /* slots written */
	zp_slot s[RTN_WORKERS_SLOTS];
	struct { z_stream z; int zinit; } wk[RTN_WORKERS_MAX];
};

static void zp_run(void *ctx, int worker, uint64_t seq)
{
	struct zpool *p = ctx;
	zp_slot *sl = &p->s[seq % RTN_WORKERS_SLOTS];
	sl->clen = deflate_block(&p->wk[worker].z, &p->wk[worker].zinit, p->level, sl->in, sl->ulen,
	                         &sl->out, &sl->outcap);
}

static void zp_free(struct zpool *p)
{
	rtn_workers_stop(&p->w);
	for (int i = 0; i < RTN_WORKERS_MAX; i++)
		if (p->wk[i].zinit)
			deflateEnd(&p->wk[i].z);
	for (int i = 0; i < RTN_WORKERS_SLOTS; i++) {
		free(p->s[i].in);
		free(p->s[i].out);
	}
	free(p);
}

/* The pool for w, or NULL (deflate in the writer's thread): made at the
 * first full block, with every buffer allocated in this thread. */
static struct zpool *zp_new(rtn_writer *w)
{
	struct zpool *p = xcalloc(1, sizeof *p);
	p->level = w->level;
	for (int i = 0; i < RTN_WORKERS_SLOTS; i++) {
		p->s[i].in = xmalloc(w->cap);
		p->s[i].incap = w->cap;
	}
	if (rtn_workers_start(&p->w, zp_run, p, RTN_WORKERS_MAX) == 0) {
		zp_free(p);
		return NULL;
	}
	return p;
}

/* Writes the oldest slot handed over, waiting for it when wait is set;
 * returns 0 when it was not ready. */
static int zp_emit(rtn_writer *w, int wait)
{
	struct zpool *p = w->zp;
	zp_slot *sl = &p->s[p->emitted % RTN_WORKERS_SLOTS];
	if (!rtn_workers_done(&p->w, p->emitted, wait))
		return 0;
	if (sl->clen == UINT32_MAX)
		rtn_die(RTN_EXIT_SYSTEM, "%s: compression failed", w->name);
	emit_block(w, 0, 1, sl->nrec, sl->kmin, sl->kmax, sl->in, sl->ulen, sl->out, sl->clen);
	rtn_workers_release(&p->w, p->emitted++);
	return 1;
}

/* Hands w's full block to the pool, then writes what is ready. */
static void zp_put(rtn_writer *w)
{
	struct zpool *p = w->zp;
	if (p->w.filled - p->emitted == RTN_WORKERS_SLOTS)
		zp_emit(w, 1);
	zp_slot *sl = &p->s[p->w.filled % RTN_WORKERS_SLOTS];
	unsigned char *t = sl->in;
	size_t tc = sl->incap;
	sl->in = w->buf;
	sl->incap = w->cap;
	w->buf = t;
	w->cap = tc;
	/* room for any deflated form, allocated here: the workers never do */
	ensure(&sl->out, &sl->outcap, compressBound((uLong)w->len));
	sl->ulen = (uint32_t)w->len;
	sl->nrec = w->nrec;
	sl->kmin = w->kmin;
	sl->kmax = w->kmax;
	rtn_workers_submit(&p->w);
	while (p->emitted < p->w.filled && zp_emit(w, 0))
		;
}

/* Writes every block handed over, in order. */
static void zp_drain(rtn_writer *w)
{
	if (w->zp)
		while (w->zp->emitted < w->zp->w.filled)
			zp_emit(w, 1);
}

static void flush_block(rtn_writer *w)
{
	if (!w->nrec)
		return;
	if (w->level > 0 && w->f && !w->zp_tried) {
		w->zp_tried = 1;
		w->zp = zp_new(w);
	}
	if (w->zp)
		zp_put(w);
	else
		write_block(w, 0, w->buf, (uint32_t)w->len);
	w->blocks++;
	w->len = 0;
	w->nrec = 0;
	memset(w->st[w->cur], 0, (size_t)w->ncols * sizeof *w->st[0]);
}

static rtn_writer *writer_new(FILE *f, const char *name, const rtn_header *h, int level)
{
	rtn_writer *w = xcalloc(1, sizeof *w);
	w->f = f;
	rtn_pipe_grow(fileno(f));
	w->name = xstrdup(name);
	w->level = level;
	w->ncols = h->schema.n;
	if (w->ncols < 1)
		rtn_die(RTN_EXIT_USAGE, "internal error: writing a stream with no columns");
	w->types = xmalloc((size_t)w->ncols * sizeof *w->types);
	w->strcols = xmalloc((size_t)w->ncols * sizeof *w->strcols);
	for (int i = 0; i < w->ncols; i++) {
		w->types[i] = h->schema.cols[i].type;
		if (w->types[i] == RTN_STRING)
			w->strcols[w->nstr++] = i;
	}
	w->cust = rtn_schema_find(&h->schema, "customer");
	if (w->cust >= 0 && w->types[w->cust] != RTN_STRING)
		w->cust = -1;
	for (int k = 0; k < 2; k++)
		w->st[k] = xcalloc((size_t)w->ncols, sizeof *w->st[k]);
	w->cap = RTN_BLOCK_TARGET * 2;
	w->buf = xmalloc(w->cap);
	w->one_pass_need = RTN_BLOCK_TARGET + 10 * (size_t)w->ncols + (5 + ONE_PASS_STR) * (size_t)w->nstr;
	size_t n;
	unsigned char *hb = header_encode(h, &n);
	wbytes(w, hb, n);
	free(hb);
	return w;
}

rtn_writer *rtn_writer_open_out(rtn_out *o, const rtn_header *h, int level)
{
	int is_stdout = rtn_out_is_stdout(o);
	if (is_stdout && isatty(STDOUT_FILENO))
		rtn_die(RTN_EXIT_USAGE, "refusing to write a binary stream to a terminal (pipe it into inspect, or use -o FILE)");
	if (level < 0)
		level = is_stdout ? 0 : 1;
	rtn_writer *w = writer_new(rtn_out_file(o), rtn_out_name(o), h, level);
	w->out = o;
	return w;
}

rtn_writer *rtn_writer_open(const char *path, const rtn_header *h, int level)
{
	return rtn_writer_open_out(rtn_out_open(path, 0644), h, level);
}

rtn_writer *rtn_writer_open_file(FILE *f, const char *name, const rtn_header *h, int level)
{
	return writer_new(f, name, h, level < 0 ? 0 : level);
}

/* A string of 4 to 16 bytes at p, with its value before (old) in buf:
 * copied and compared a word at a time, and whether it repeats (about
 * half the time for ids) chosen without a branch. */
static inline unsigned char *short_string(const unsigned char *buf, unsigned char *p, const char *src,
                                          uint32_t n, const struct wprev *old, struct wprev *now)
{
	int eq = 0;
	if (n >= 8) {
		uint64_t a, b, x, y;
		memcpy(&a, src, 8);
		memcpy(&b, src + n - 8, 8);
		memcpy(p + 1, &a, 8);
		memcpy(p + 1 + n - 8, &b, 8);
		if (old->len == n) {
			memcpy(&x, buf + old->off, 8);
			memcpy(&y, buf + old->off + n - 8, 8);
			eq = ((a ^ x) | (b ^ y)) == 0;
		}
	} else {
		uint32_t a, b, x, y;
		memcpy(&a, src, 4);
		memcpy(&b, src + n - 4, 4);
		memcpy(p + 1, &a, 4);
		memcpy(p + 1 + n - 4, &b, 4);
		if (old->len == n) {
			memcpy(&x, buf + old->off, 4);
			memcpy(&y, buf + old->off + n - 4, 4);
			eq = ((a ^ x) | (b ^ y)) == 0;
		}
	}
	/* as in the record before: code 1 (the bytes copied are written over) */
	p[0] = (unsigned char)(eq ? 1 : n + 1);
	now->off = eq ? old->off : (uint32_t)(p + 1 - buf);
	now->len = n;
	return p + (eq ? 1 : 1 + n);
}

/* Encodes the record v at p (in w->buf), its columns' values into
 * w->st[!w->cur]; NULL (nothing kept) when a string is longer than maxstr. */
static inline unsigned char *encode_cols(const rtn_writer *w, unsigned char *p, const rtn_value *v,
                                         uint32_t maxstr)
{
	const struct wprev *old = w->st[w->cur];
	struct wprev *now = w->st[!w->cur];
	for (int c = 0; c < w->ncols; c++) {
		switch (w->types[c]) {
		case RTN_FLOAT: {
			uint64_t x;
			memcpy(&x, &v[c].f, 8);
			put64(p, x);
			p += 8;
			break;
		}
		case RTN_STRING: {
			uint32_t n = v[c].len;
			const char *src = v[c].s;
			if (n > maxstr)
				return NULL;
			if (n >= 4 && n <= 16) {
				p = short_string(w->buf, p, src, n, &old[c], &now[c]);
				break;
			}
			if (n == 0) {
				*p++ = 0;
				now[c].len = 0;
				break;
			}
			if (old[c].len == n && rtn_bytes_eq(w->buf + old[c].off, src, n)) {
				*p++ = 1;   /* as in the record before */
				now[c] = old[c];
				break;
			}
			p = put_varint(p, (uint64_t)n + 1);
			now[c].off = (uint32_t)(p - w->buf);
			now[c].len = n;
			if (n < 4) {   /* 0, n / 2 and n - 1 cover 1 to 3 bytes, without a call */
				unsigned char x = (unsigned char)src[0], y = (unsigned char)src[n / 2],
				              z = (unsigned char)src[n - 1];
				p[0] = x;
				p[n / 2] = y;
				p[n - 1] = z;
			} else {
				memcpy(p, src, n);
			}
			p += n;
			break;
		}
		case RTN_TIME:   /* the step from the time before (wrapping) */
			now[c].t = v[c].i;
			p = put_varint(p, zigzag((int64_t)((uint64_t)v[c].i - (uint64_t)old[c].t)));
			break;
		default:
			p = put_varint(p, zigzag(v[c].i));
		}
	}
	return p;
}

/* Block keys and counts of a record just encoded, ending at p. */
static inline void record_done(rtn_writer *w, unsigned char *p, const rtn_value *v)
{
	if (w->cust >= 0) {
		/* the customer of the record before (the same bytes in the block)
		 * leaves the keys as they are */
		const struct wprev *now = &w->st[!w->cur][w->cust], *old = &w->st[w->cur][w->cust];
		if (w->nrec == 0 || now->off != old->off || now->len != old->len) {
			uint64_t k = rtn_hash64(v[w->cust].s, v[w->cust].len);
			if (w->nrec == 0 || k < w->kmin)
				w->kmin = k;
			if (w->nrec == 0 || k > w->kmax)
				w->kmax = k;
		}
	}
	w->len = (size_t)(p - w->buf);
	w->cur = !w->cur;   /* the record's values are now the ones before */
	w->nrec++;
	w->records++;
}

void rtn_write(rtn_writer *w, const rtn_value *v)
{
	unsigned char *p;
	if (w->one_pass_need <= w->cap && w->len < RTN_BLOCK_TARGET &&
	    (p = encode_cols(w, w->buf + w->len, v, ONE_PASS_STR))) {
		record_done(w, p, v);
		return;
	}
	/* Upper bound of the encoded size, to keep records inside one block. */
	size_t need = 10 * (size_t)w->ncols;
	for (int k = 0; k < w->nstr; k++)
		need += v[w->strcols[k]].len;
	if (need > RTN_BLOCK_MAX)
		rtn_die(RTN_EXIT_USAGE, "%s: record larger than the %u-byte block limit", w->name, RTN_BLOCK_MAX);
	if (w->len + need > RTN_BLOCK_MAX || (w->len >= RTN_BLOCK_TARGET))
		flush_block(w);
	if (w->len + need > w->cap) {
		w->cap = RTN_BLOCK_MAX + 64;
		w->buf = xrealloc(w->buf, w->cap);
	}
	record_done(w, encode_cols(w, w->buf + w->len, v, UINT32_MAX), v);
}

int rtn_writer_finish(rtn_writer *w)
{
	if (w->finished)
		return 0;
	w->finished = 1;
	flush_block(w);
	zp_drain(w);
	unsigned char eos[EOS_PAYLOAD];
	put64(eos, w->records);
	put64(eos + 8, w->blocks);
	write_block(w, 1, eos, EOS_PAYLOAD);
	return 0;
}

static void writer_free(rtn_writer *w)
{
	if (w->zp)
		zp_free(w->zp);
	if (w->zinit)
		deflateEnd(&w->z);
	free(w->name);
	free(w->types);
	free(w->strcols);
	free(w->st[0]);
	free(w->st[1]);
	free(w->buf);
	free(w->zbuf);
	free(w->mem);
	free(w);
}

void rtn_writer_close(rtn_writer *w)
{
	rtn_writer_finish(w);
	if (w->out)
		rtn_out_commit(w->out);
	writer_free(w);
}

void rtn_writer_abort(rtn_writer *w)
{
	if (!w)
		return;
	if (w->out)
		rtn_out_abort(w->out);
	writer_free(w);
}

uint64_t rtn_writer_records(const rtn_writer *w) { return w->records; }

/* ---- rows in parallel ---- */

/* A writer like w that encodes blocks into memory (no header, no end), for
 * a second thread; writer_take moves them to w. */
static rtn_writer *writer_mem(const rtn_writer *w)
{
	rtn_writer *m = xcalloc(1, sizeof *m);
	m->name = xstrdup(w->name);
	m->level = w->level;
	m->ncols = w->ncols;
	m->types = xmalloc((size_t)w->ncols * sizeof *m->types);
	memcpy(m->types, w->types, (size_t)w->ncols * sizeof *m->types);
	m->nstr = w->nstr;
	m->strcols = xmalloc((size_t)w->ncols * sizeof *m->strcols);
	memcpy(m->strcols, w->strcols, (size_t)w->ncols * sizeof *m->strcols);
	m->cust = w->cust;
	for (int k = 0; k < 2; k++)
		m->st[k] = xcalloc((size_t)w->ncols, sizeof *m->st[k]);
	m->one_pass_need = w->one_pass_need;
	m->cap = w->cap;
	m->buf = xmalloc(m->cap);
	return m;
}

static void writer_take(rtn_writer *w, rtn_writer *m)
{
	flush_block(m);
	flush_block(w);
	zp_drain(w);
	wbytes(w, m->mem, m->mlen);
	w->records += m->records;
	w->blocks += m->blocks;
	m->mlen = 0;
	m->records = m->blocks = 0;
}

typedef struct rows_job {
	rtn_writer *w;
	uint64_t n, nchunks;
	rtn_row_fn row;
	void *ctx;
	rtn_writer *mem[2];
	uint64_t held[2];     /* the chunk mem[k] holds, encoded; UINT64_MAX: free */
	pthread_mutex_t mu;
	pthread_cond_t cv;
} rows_job;

static void encode_chunk(rows_job *j, rtn_writer *w, uint64_t c, rtn_value *v, char *scratch)
{
	uint64_t hi = (c + 1) * RTN_ROWS_CHUNK < j->n ? (c + 1) * RTN_ROWS_CHUNK : j->n;
	for (uint64_t i = c * RTN_ROWS_CHUNK; i < hi; i++) {
		j->row(j->ctx, i, v, scratch);
		rtn_write(w, v);
	}
	flush_block(w);
}

/* The second thread: the odd chunks, into mem[0] and mem[1] in turn. */
static void *rows_main(void *arg)
{
	rows_job *j = arg;
	rtn_value *v = xcalloc((size_t)j->w->ncols, sizeof *v);
	char scratch[RTN_ROW_SCRATCH];
	for (uint64_t c = 1, k = 0; c < j->nchunks; c += 2, k ^= 1) {
		pthread_mutex_lock(&j->mu);
		while (j->held[k] != UINT64_MAX)
			pthread_cond_wait(&j->cv, &j->mu);
		pthread_mutex_unlock(&j->mu);
		encode_chunk(j, j->mem[k], c, v, scratch);
		pthread_mutex_lock(&j->mu);
		j->held[k] = c;
		pthread_cond_broadcast(&j->cv);
		pthread_mutex_unlock(&j->mu);
	}
	free(v);
	return NULL;
}

void rtn_write_rows(rtn_writer *w, uint64_t n, rtn_row_fn row, void *ctx)
{
	rows_job j = {w, n, (n + RTN_ROWS_CHUNK - 1) / RTN_ROWS_CHUNK, row, ctx, {NULL, NULL},
	              {UINT64_MAX, UINT64_MAX}, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
	rtn_value *v = xcalloc((size_t)w->ncols, sizeof *v);
	char scratch[RTN_ROW_SCRATCH];
	pthread_t th;
	int two = 0;
	if (j.nchunks > 1 && rtn_threads_allowed()) {
		j.mem[0] = writer_mem(w);
		j.mem[1] = writer_mem(w);
		two = rtn_thread_start(&th, rows_main, &j, 0) == 0;
	}
	for (uint64_t c = 0; c < j.nchunks; c++) {
		if (!two || c % 2 == 0) {
			encode_chunk(&j, w, c, v, scratch);
			continue;
		}
		int k = (int)(c / 2 % 2);
		pthread_mutex_lock(&j.mu);
		while (j.held[k] != c)
			pthread_cond_wait(&j.cv, &j.mu);
		pthread_mutex_unlock(&j.mu);
		writer_take(w, j.mem[k]);
		pthread_mutex_lock(&j.mu);
		j.held[k] = UINT64_MAX;
		pthread_cond_broadcast(&j.cv);
		pthread_mutex_unlock(&j.mu);
	}
	if (two)
		pthread_join(th, NULL);
	for (int k = 0; k < 2; k++)
		if (j.mem[k])
			writer_free(j.mem[k]);
	pthread_mutex_destroy(&j.mu);
	pthread_cond_destroy(&j.cv);
	free(v);
}

/* ---- values ---- */

int rtn_value_is_null(const rtn_value *v, int type)
{
	switch (type) {
	case RTN_FLOAT: return isnan(v->f);
	case RTN_STRING: return v->len == 0;
	default: return v->i == RTN_NULL;
	}
}

rtn_value rtn_str(const char *s)
{
	rtn_value v;
	memset(&v, 0, sizeof v);
	v.s = s ? s : "";
	v.len = (uint32_t)strlen(v.s);
	return v;
}

int rtn_value_streq(const rtn_value *v, const char *s)
{
	size_t n = strlen(s);
	return v->len == n && memcmp(v->s, s, n) == 0;
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned doe = (unsigned)(days - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

size_t rtn_value_format(const rtn_value *v, int type, char *buf, size_t n)
{
	int len = 0;
	if (rtn_value_is_null(v, type)) {
		buf[0] = 0;
		return 0;
	}
	switch (type) {
	case RTN_INT:
		len = snprintf(buf, n, "%lld", (long long)v->i);
		break;
	case RTN_FLOAT:
		len = snprintf(buf, n, "%.15g", v->f);
		if (strtod(buf, NULL) != v->f)
			len = snprintf(buf, n, "%.17g", v->f);
		break;
	case RTN_STRING:
		len = snprintf(buf, n, "%.*s", (int)v->len, v->s);
		break;
	case RTN_TIME: {
		int64_t t = v->i, days = t / 86400 - (t % 86400 < 0);   /* floor, for any t */
		int64_t sec = t % 86400 + (t % 86400 < 0 ? 86400 : 0), y;
		unsigned m, d;
		civil(days, &y, &m, &d);
		len = snprintf(buf, n, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
			(int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
		break;
	}
	case RTN_MONEY: {
		uint64_t a = v->i < 0 ? (uint64_t)0 - (uint64_t)v->i : (uint64_t)v->i;
		unsigned frac = (unsigned)(a % RTN_MONEY_SCALE);
		len = snprintf(buf, n, "%s%llu.%04u", v->i < 0 ? "-" : "", (unsigned long long)(a / RTN_MONEY_SCALE), frac);
		while (len > 0 && (size_t)len < n && buf[len - 1] == '0' && buf[len - 3] != '.')
			buf[--len] = 0;
		break;
	}
	}
	if (len < 0)
		len = 0;
	if ((size_t)len >= n)
		len = (int)n - 1;
	return (size_t)len;
}
