/* Per-customer aggregation: see custagg.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "custagg.h"
#include "handoff.h"
#include "timeparse.h"

/* ---- records ------------------------------------------------------------ */

/* Ids up to KEY_INLINE bytes sit in the record, zero-padded (so they are
 * NUL-terminated) with their length in the last byte; a longer id is an
 * offset into a->strings (bytes 0-7) and its length (bytes 8-11), with
 * KEY_LONG in the last byte. Two word compares find a short id. */
#define KEY_INLINE 14
#define KEY_LONG 0xff

/* A customer while events come in: one cache line. Amounts are summed as
 * they come; purchases are kept as runs: rows of one order on one day (the
 * line items of an order, which exports write one after the other) make
 * the current run; another order or day moves the run to the log (see
 * run_push), which ca_finish turns into distinct days and orders (see
 * finalize). */
typedef struct ca_rec {
	unsigned char key[16];
	int64_t first_t;     /* earliest purchase, INT64_MAX: none */
	int64_t last_t;      /* latest purchase, RTN_NULL: none */
	uint64_t okey;       /* the current run: order key, 0: no purchase yet */
	int64_t total;       /* all purchases */
	int64_t first_day_amount;   /* purchases on first_day */
	int32_t day;         /* the current run's day */
	int32_t first_day;   /* the earliest purchase day, INT32_MAX: none */
} ca_rec;
_Static_assert(sizeof(ca_rec) == 64, "a customer record is one cache line");

/* The same line after finalize: the customer's totals. */
typedef struct ca_fin {
	unsigned char key[16];
	int64_t first_t, last_t;
	int64_t total, first_day_amount;
	uint32_t ndays, orders, win_orders;
	int32_t prev_day;    /* the second latest purchase day, INT32_MIN: none */
} ca_fin;
_Static_assert(sizeof(ca_fin) == sizeof(ca_rec), "totals replace the record");

/* Records (and the refunds beside them) and the chunks of the log are
 * faulted in this many at a time, ahead of use (rtn_big_prefault): 2 MiB
 * of records, 1.5 MiB of log. */
#define PREFAULT_CUST 32768u
#define PREFAULT_CHUNKS 256u

/* Refunds, beside the records (a->cold, a->cold_size bytes a customer),
 * and with --window or --recent what they add (ca_cold_win): purchases
 * inside the window (while events come in) and the order counts. Memory
 * is time: without those options a customer takes 16 bytes here. */
typedef struct ca_cold {
	int64_t win_refunds, last_refund;
} ca_cold;

typedef struct ca_cold_win {
	ca_cold c;
	int64_t win_amount;
	uint32_t recent, prior;
} ca_cold_win;

static inline ca_cold *cold(const custagg *a, uint32_t ci)
{
	return (ca_cold *)(void *)(a->cold + (size_t)ci * a->cold_size);
}

static inline ca_cold_win *cold_win(const custagg *a, uint32_t ci)
{
	return (ca_cold_win *)(void *)(a->cold + (size_t)ci * a->cold_size);
}

/* A run: order key, day and the customer (index / NPART; the log of
 * partition ci % NPART holds it). In the log a run takes 12 bytes while
 * the day is within 32767 of a->base_day and j < 65536 (narrow: the order
 * key, then the day less base_day and j, 16 bits each), and 16 bytes (as
 * ca_run) once one is not: the log is converted then. */
typedef struct ca_run {
	uint64_t okey;
	int32_t day;
	uint32_t j;
} ca_run;

#define RUN_NARROW 12
#define RUN_WIDE 16
_Static_assert(sizeof(ca_run) == RUN_WIDE, "a wide run is a ca_run");

static inline const char *key_bytes(const custagg *a, const unsigned char *k, uint32_t *len)
{
	if (k[15] != KEY_LONG) {
		*len = k[15];
		return (const char *)k;
	}
	uint64_t off;
	memcpy(&off, k, 8);
	memcpy(len, k + 8, 4);
	return a->strings + off;
}

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Word-at-a-time hash for order ids and the customer table (internal: the
 * documented shard hash is rtn_hash64). */
static uint64_t fast_hash(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL), w;
	if (n >= 8) {   /* whole words, the last one overlapping the one before */
		const unsigned char *last = b + n - 8;
		for (; b < last; b += 8) {
			memcpy(&w, b, 8);
			h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
			h ^= h >> 29;
		}
		memcpy(&w, last, 8);
	} else if (n >= 4) {   /* two overlapping halves */
		uint32_t x, y;
		memcpy(&x, b, 4);
		memcpy(&y, b + n - 4, 4);
		w = (uint64_t)x << 32 | y;
	} else {   /* 0, n / 2 and n - 1 cover 1 to 3 bytes */
		w = n ? (uint64_t)b[0] << 16 | (uint64_t)b[n / 2] << 8 | b[n - 1] : 0;
	}
	h = (h ^ w) * 0x94d049bb133111ebULL;
	return mix64(h);   /* multiplication only carries upwards: mix the high bits down */
}

int64_t ca_day(const custagg *a, int64_t t)
{
	if (a->tz_fixed)
		return time_floor_div(t + a->tz_off, 86400);
	return time_local_day(t, a->o.tz);
}

/* ---- set-up ------------------------------------------------------------- */

/* Events are classified when read (kind), then wait in a batch. */
enum { K_PURCHASE, K_REFUND, K_TRACKED, K_OTHER, K_LATE };
#define BATCH 4096
#define AHEAD_SLOT 64   /* events ahead; tuned on the 10M bench events (96/48 and 128/64 slower) */
#define AHEAD_REC 32

typedef struct ca_pend {
	uint64_t hash, okey;
	int64_t t, amount;
	uint64_t types;      /* bit k: the event is of --events type k */
	int32_t day;
	uint8_t kind;
	uint8_t same;        /* the customer of the event before (no hash, no search) */
	uint32_t klen, koff; /* koff: a long id, in the batch arena */
	uint32_t cand;       /* index + 1 of the customer its slot names, 0: none */
	unsigned char key16[16];   /* short ids as in the record */
} ca_pend;

struct ca_batch {
	ca_pend ev[BATCH];
	uint32_t n;
	uint32_t *cval;      /* BATCH * ncarry (offset, length) pairs into arena */
	char *arena;
	size_t used, cap;
};

/* The log of runs (unsorted input): NPART partitions by customer index,
 * each a chain of chunks of CHUNK_RUNS runs in one array (a->runs) that
 * grows in place; chunk 0 is none. Appending is sequential in each of the
 * NPART chunks being filled, so it does not miss the cache; ca_finish
 * takes one partition at a time, whose runs and customers fit the cache. */
#define NPART 256
#define CHUNK_RUNS 512

struct ca_part {
	uint32_t first, last;   /* chunks */
	uint32_t fill;          /* runs in the last chunk */
};

struct ca_scratch {
	ca_run *e;           /* a customer's orders: a set of order keys */
	size_t cap;
	int32_t *days;
	size_t dcap;
	ca_run *buf;         /* a partition's runs, by customer */
	size_t bcap;
	uint32_t *cnt;       /* where each customer's runs start in buf */
	size_t ccap;
};

static void scratch_free(struct ca_scratch *s)
{
	free(s->e);
	free(s->days);
	free(s->buf);
	free(s->cnt);
}

static void run_slot(void *ctx, int slot);

custagg *ca_new(const ca_opts *o)
{
	custagg *a = xcalloc(1, sizeof *a);
	a->o = *o;
	a->tz_fixed = !o->tz || tz_is_fixed(o->tz);
	a->tz_off = o->tz ? tz_offset_utc(o->tz, 0) : 0;
	a->asof_end_t = INT64_MAX;
	if (o->have_asof)
		a->asof_end_t = time_day_start(o->asof_day + 1, o->tz);
	a->max_t = INT64_MIN;
	a->type_len = UINT32_MAX;
	a->last_key[15] = KEY_LONG;   /* no event before */
	a->last_seen_t = INT64_MIN;
	a->run_size = RUN_NARROW;
	a->narrow_j_max = UINT16_MAX;
	a->has_win = o->window_start_day != INT64_MIN || o->recent_start_day != INT64_MIN;
	a->cold_size = a->has_win ? sizeof(ca_cold_win) : sizeof(ca_cold);
	a->scratch = xcalloc(1, sizeof *a->scratch);
	a->batch = xcalloc(RTN_HANDOFF_SLOTS, sizeof *a->batch);
	rtn_handoff_init(&a->ho, run_slot, a);
	if (!o->sorted) {
		a->tcap = 1024;
		a->tbits = 10;
		rtn_big_grow((void **)&a->table, &a->table_bytes, a->tcap * sizeof *a->table);
		a->part = xcalloc(NPART, sizeof *a->part);
		for (int p = 0; p < NPART; p++)
			a->part[p].fill = CHUNK_RUNS;   /* full: the first run takes a chunk */
	}
	return a;
}

void ca_free(custagg *a)
{
	if (!a)
		return;
	rtn_big_free(a->runs, a->runs_bytes);
	free(a->chunk_next);
	free(a->part);
	free(a->cur);
	rtn_big_free(a->rec, a->rec_bytes);
	rtn_big_free(a->cold, a->cold_bytes);
	rtn_big_free(a->carry, a->carry_bytes);
	rtn_big_free(a->types, a->types_bytes);
	rtn_big_free(a->strings, a->capstrings);
	rtn_big_free(a->table, a->table_bytes);
	free(a->order);
	rtn_handoff_free(&a->ho);
	for (int i = 0; a->batch && i < RTN_HANDOFF_SLOTS; i++) {
		free(a->batch[i].cval);
		free(a->batch[i].arena);
	}
	free(a->batch);
	scratch_free(a->scratch);
	free(a->scratch);
	free(a);
}

void ca_bind(custagg *a, const rtn_schema *s, const char *what)
{
	a->c_cust = rtn_schema_need(s, "customer", RTN_STRING, what);
	a->c_time = rtn_schema_need(s, "time", RTN_TIME, what);
	a->c_amount = rtn_schema_need(s, "amount", RTN_MONEY, what);
	a->c_order = rtn_schema_need(s, "order", RTN_STRING, what);
	a->c_type = rtn_schema_need(s, "type", RTN_STRING, what);
	for (int i = 0; i < a->o.ncarry; i++)
		a->c_carry[i] = rtn_schema_need(s, a->o.carry[i], RTN_STRING, what);
	/* --events names types, not columns: nothing to find. */
	for (int i = 0; a->o.ncarry && i < RTN_HANDOFF_SLOTS; i++)
		a->batch[i].cval = xcalloc((size_t)BATCH * a->o.ncarry * 2, sizeof *a->batch[i].cval);
}

static uint64_t str_store(custagg *a, const char *p, uint32_t n)
{
	rtn_big_grow((void **)&a->strings, &a->capstrings, a->nstrings + n + 1);
	uint64_t off = a->nstrings;
	memcpy(a->strings + off, p, n);
	a->strings[off + n] = 0;
	a->nstrings += n + 1;
	return off;
}

/* A short id (n <= KEY_INLINE) as the record holds it, in two words made
 * in registers (bytes stored one by one and read back as words would stall
 * the load). */
static inline void key_words(const char *p, uint32_t n, uint64_t w[2])
{
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	unsigned char k[16] = {0};
	if (n)
		memcpy(k, p, n);
	k[15] = (unsigned char)n;
	memcpy(w, k, 16);
	return;
#endif
	const unsigned char *b = (const unsigned char *)p;
	w[0] = 0;
	w[1] = (uint64_t)n << 56;
	if (n >= 8) {   /* bytes 8 to n - 1: the top of the last 8 */
		uint64_t x, y;
		memcpy(&x, b, 8);
		memcpy(&y, b + n - 8, 8);
		w[0] = x;
		w[1] |= y >> (8 * (15 - n)) >> 8;
	} else if (n >= 4) {   /* two overlapping halves */
		uint32_t x, y;
		memcpy(&x, b, 4);
		memcpy(&y, b + n - 4, 4);
		w[0] = x | (uint64_t)y << (8 * (n - 4));
	} else if (n) {   /* 0, n / 2 and n - 1 cover 1 to 3 bytes */
		w[0] = b[0] | (uint64_t)b[n / 2] << (8 * (n / 2)) | (uint64_t)b[n - 1] << (8 * (n - 1));
	}
}

/* The hash of a short id from its two key words: one 64 x 64 -> 128-bit
 * product folded, and a second to spread the few bits of short ids over
 * all 64 (the table's home is the top bits, the order set the low ones). */
static inline uint64_t fold_mul(uint64_t x, uint64_t y)
{
#ifdef __SIZEOF_INT128__
	__extension__ unsigned __int128 m = (unsigned __int128)x * y;
	return (uint64_t)m ^ (uint64_t)(m >> 64);
#else
	return mix64(x ^ mix64(y));
#endif
}

static inline uint64_t words_hash(const uint64_t w[2])
{
	uint64_t h = fold_mul(w[0] ^ 0x9e3779b97f4a7c15ULL, w[1] ^ 0xbf58476d1ce4e5b9ULL);
	return fold_mul(h ^ 0x94d049bb133111ebULL, 0xff51afd7ed558ccdULL);
}

/* The hash of an id: of its key words when short, of its bytes when long
 * (customers in the table, and orders; ca_add hashes the words it has). */
static inline uint64_t id_hash(const char *p, uint32_t n)
{
	if (n > KEY_INLINE)
		return fast_hash(p, n);
	uint64_t w[2];
	key_words(p, n, w);
	return words_hash(w);
}

/* The key of an order: a hash of its id, or of the purchase time for rows
 * without one; never 0 (0 marks "no run"). */
static uint64_t order_key(const rtn_value *o, int64_t t)
{
	uint64_t key = o->len ? id_hash(o->s, o->len) : mix64((uint64_t)t ^ 0x5bd1e9955bd1e995ULL);
	return key | 1;
}

static void key_short(unsigned char k[16], const char *p, uint32_t n)
{
	uint64_t w[2];
	key_words(p, n, w);
	memcpy(k, w, 16);
}

static uint32_t cust_new(custagg *a, const char *p, uint32_t n, const unsigned char *k16)
{
	if (a->ncust == UINT32_MAX - 1)
		rtn_die(RTN_EXIT_SYSTEM, "more than %u customers", UINT32_MAX - 1);
	if (a->ncust == a->capcust) {
		/* 4 KiB pages, though read at random: records are appended in
		 * order, and fresh huge pages cost more to fault in than the TLB
		 * misses save (measured: ingest | rfm on 10M rows, 1.22 -> 1.18 s;
		 * the table, read at random and smaller, stays on huge pages) */
		rtn_big_grow_small((void **)&a->rec, &a->rec_bytes, ((size_t)a->ncust + 1) * sizeof *a->rec);
		size_t cap = a->rec_bytes / sizeof *a->rec;
		if (cap > UINT32_MAX - 1)
			cap = UINT32_MAX - 1;
		if (a->has_win)   /* touched by purchases in the window: at random */
			rtn_big_grow((void **)&a->cold, &a->cold_bytes, cap * a->cold_size);
		else              /* touched by refunds only */
			rtn_big_grow_small((void **)&a->cold, &a->cold_bytes, cap * a->cold_size);
		if (a->o.ncarry)
			rtn_big_grow((void **)&a->carry, &a->carry_bytes, cap * a->o.ncarry * sizeof *a->carry);
		if (a->o.nevents)
			rtn_big_grow((void **)&a->types, &a->types_bytes, cap * a->o.nevents * sizeof *a->types);
		a->capcust = (uint32_t)cap;
	}
	uint32_t i = a->ncust++;
	if (i % PREFAULT_CUST == 0) {   /* the next records, in one batch */
		rtn_big_prefault(a->rec, a->rec_bytes, (size_t)i * sizeof *a->rec,
		                 (size_t)PREFAULT_CUST * sizeof *a->rec);
		rtn_big_prefault(a->cold, a->cold_bytes, (size_t)i * a->cold_size,
		                 (size_t)PREFAULT_CUST * a->cold_size);
	}
	ca_rec *c = &a->rec[i];
	memset(c, 0, sizeof *c);
	if (n <= KEY_INLINE) {
		if (k16)
			memcpy(c->key, k16, 16);
		else
			key_short(c->key, p, n);
	} else {
		uint64_t off = str_store(a, p, n);
		memcpy(c->key, &off, 8);
		memcpy(c->key + 8, &n, 4);
		c->key[15] = KEY_LONG;
	}
	c->first_t = INT64_MAX;
	c->last_t = RTN_NULL;
	c->first_day = INT32_MAX;
	memset(cold(a, i), 0, a->cold_size);
	cold(a, i)->last_refund = RTN_NULL;
	for (int k = 0; k < a->o.ncarry; k++)
		a->carry[(size_t)i * a->o.ncarry + k] = (ca_carry){RTN_NULL, 0, 0};
	for (int k = 0; k < a->o.nevents; k++)
		a->types[(size_t)i * a->o.nevents + k] = (ca_typecount){0, RTN_NULL};
	a->st.customers_seen++;
	return i;
}

/* memcmp order, shorter first on a tie (the order dedupe writes). */
static int name_cmp(const char *a, uint32_t na, const char *b, uint32_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);
	if (c)
		return c;
	return na < nb ? -1 : na > nb;
}

/* ---- the hash table (unsorted input) ------------------------------------ */

/* Table slot: the high 32 bits of the hash (a tag compared before the
 * customer record is touched) and the customer index + 1. A customer's
 * home slot is the top tbits bits of its hash, so the tag holds it: the
 * table doubles in one pass over the old slots, in order, without the
 * records (up to 2^32 slots). */
#define SLOT(h, i) ((h) >> 32 << 32 | ((uint64_t)(i) + 1))

static inline uint64_t home(const custagg *a, uint64_t h)
{
	return h >> (64 - a->tbits);
}

/* Puts slot x at the first free place from s on. */
static inline void slot_put(uint64_t *t, uint64_t m, uint64_t s, uint64_t x)
{
	while (t[s])
		s = (s + 1) & m;
	t[s] = x;
}

/* Doubles the table where it is (the old slots are not fresh memory, on
 * this kind of machine slow to touch the first time). A slot's new home
 * is 2h or 2h + 1 for old home h: taken from the top down, a slot whose new
 * home is at or above its old place goes there at once, as nothing not
 * yet moved lies above it; the few others (homes below their probe
 * distance, or probing past the end) are put in afterwards. */
static void table_grow(custagg *a)
{
	uint64_t old = a->tcap, cap = old * 2, m = cap - 1;
	int bits = a->tbits + 1;
	if (bits > 32) {   /* the tag no longer holds the home: hash the ids again */
		uint64_t *t = NULL;
		size_t bytes = 0;
		rtn_big_grow((void **)&t, &bytes, cap * sizeof *t);
		for (uint32_t i = 0; i < a->ncust; i++) {
			uint32_t n;
			const char *p = key_bytes(a, a->rec[i].key, &n);
			uint64_t h = id_hash(p, n);
			slot_put(t, m, h >> (64 - bits), SLOT(h, i));
		}
		rtn_big_free(a->table, a->table_bytes);
		a->table = t;
		a->table_bytes = bytes;
	} else {
		rtn_big_grow((void **)&a->table, &a->table_bytes, cap * sizeof *a->table);
		uint64_t *t = a->table, *later = NULL;
		size_t nlater = 0, caplater = 0;
		for (uint64_t p = old; p-- > 0;) {
			uint64_t x = t[p];
			if (!x)
				continue;
			t[p] = 0;
			uint64_t s = x >> 32 >> (32 - bits);
			while (s >= p && s <= m && t[s])
				s++;
			if (s >= p && s <= m) {
				t[s] = x;
			} else {
				xgrow((void **)&later, &caplater, nlater + 1, sizeof *later);
				later[nlater++] = x;
			}
		}
		for (size_t i = 0; i < nlater; i++)
			slot_put(t, m, later[i] >> 32 >> (32 - bits), later[i]);
		free(later);
	}
	a->tcap = cap;
	a->tbits = bits;
}

static int rec_is(const custagg *a, const ca_rec *c, const ca_pend *p, const char *arena)
{
	if (p->klen <= KEY_INLINE)
		return memcmp(c->key, p->key16, 16) == 0;
	uint32_t n;
	const char *s = key_bytes(a, c->key, &n);
	return c->key[15] == KEY_LONG && n == p->klen && memcmp(s, arena + p->koff, n) == 0;
}

/* The customer of a pending event: the one its slot named when prefetched,
 * else a search, else a new customer. */
static uint32_t cust_find(custagg *a, const ca_pend *p, const char *arena)
{
	if (p->cand && rec_is(a, &a->rec[p->cand - 1], p, arena))
		return p->cand - 1;
	uint64_t m = a->tcap - 1, s = home(a, p->hash), x;
	while ((x = a->table[s])) {
		if (x >> 32 == p->hash >> 32 && rec_is(a, &a->rec[(uint32_t)x - 1], p, arena))
			return (uint32_t)x - 1;
		s = (s + 1) & m;
	}
	uint32_t i = cust_new(a, p->klen > KEY_INLINE ? arena + p->koff : NULL, p->klen, p->key16);
	a->table[s] = SLOT(p->hash, i);
	if ((uint64_t)a->ncust * 10 > a->tcap * 7)
		table_grow(a);
	return i;
}

/* ---- adding events ------------------------------------------------------ */

static void run_put(custagg *a, size_t pos, const ca_run *r)
{
	unsigned char *q = a->runs + pos * a->run_size;
	if (a->run_size == RUN_WIDE) {
		memcpy(q, r, sizeof *r);
		return;
	}
	int16_t d = (int16_t)(r->day - a->base_day);
	uint16_t j = (uint16_t)r->j;
	memcpy(q, &r->okey, 8);
	memcpy(q + 8, &d, 2);
	memcpy(q + 10, &j, 2);
}

static inline void run_get(const custagg *a, size_t pos, ca_run *r)
{
	const unsigned char *q = a->runs + pos * a->run_size;
	if (a->run_size == RUN_WIDE) {
		memcpy(r, q, sizeof *r);
		return;
	}
	int16_t d;
	uint16_t j;
	memcpy(&r->okey, q, 8);
	memcpy(&d, q + 8, 2);
	memcpy(&j, q + 10, 2);
	r->day = a->base_day + d;
	r->j = j;
}

static inline uint32_t run_j(const custagg *a, size_t pos)
{
	const unsigned char *q = a->runs + pos * a->run_size;
	if (a->run_size == RUN_WIDE)
		return ((const ca_run *)(const void *)q)->j;
	uint16_t j;
	memcpy(&j, q + 10, 2);
	return j;
}

/* A run does not fit the narrow form: the log becomes wide, chunk for
 * chunk (the chunks keep their numbers). */
static void log_widen(custagg *a)
{
	unsigned char *wide = NULL;
	size_t bytes = 0;
	if (a->nchunk)
		rtn_big_grow_small((void **)&wide, &bytes, (size_t)a->nchunk * CHUNK_RUNS * RUN_WIDE);
	for (size_t pos = CHUNK_RUNS; pos < (size_t)a->nchunk * CHUNK_RUNS; pos++) {
		ca_run r;
		run_get(a, pos, &r);
		memcpy(wide + pos * RUN_WIDE, &r, sizeof r);
	}
	rtn_big_free(a->runs, a->runs_bytes);
	a->runs = wide;
	a->runs_bytes = bytes;
	a->run_size = RUN_WIDE;
}

static uint32_t chunk_new(custagg *a)
{
	if (a->nchunk == UINT32_MAX)
		rtn_die(RTN_EXIT_SYSTEM, "more than %u chunks of orders", UINT32_MAX - 1);
	if (!a->nchunk)
		a->nchunk = 1;   /* 0 means none */
	/* appended in order (in each partition), read in order at the end */
	rtn_big_grow_small((void **)&a->runs, &a->runs_bytes,
	                   ((size_t)a->nchunk + 1) * CHUNK_RUNS * a->run_size);
	if (a->nchunk >= a->cap_next)
		xgrow((void **)&a->chunk_next, &a->cap_next, (size_t)a->nchunk + 1,
		      sizeof *a->chunk_next);
	a->chunk_next[a->nchunk] = 0;
	if (a->nchunk % PREFAULT_CHUNKS == 0) {   /* the next chunks, in one batch */
		size_t bytes = (size_t)CHUNK_RUNS * a->run_size;
		rtn_big_prefault(a->runs, a->runs_bytes, a->nchunk * bytes, PREFAULT_CHUNKS * bytes);
	}
	return a->nchunk++;
}

/* The current run of customer ci ends: to its partition's log, or with
 * sorted input to the list of the customer being read. */
static void run_push(custagg *a, uint32_t ci, uint64_t okey, int32_t day)
{
	if (a->o.sorted) {
		if (a->ncur == a->capcur)
			xgrow((void **)&a->cur, &a->capcur, a->ncur + 1, sizeof *a->cur);
		a->cur[a->ncur++] = (ca_run){okey, day, 0};
		return;
	}
	ca_run r = {okey, day, ci / NPART};
	if (a->run_size == RUN_NARROW) {
		if (!a->nchunk)
			a->base_day = day;   /* the first run */
		int64_t d = (int64_t)day - a->base_day;
		if (r.j > a->narrow_j_max || d < INT16_MIN || d > INT16_MAX)
			log_widen(a);
	}
	struct ca_part *pt = &a->part[ci % NPART];
	if (pt->fill == CHUNK_RUNS) {
		uint32_t c = chunk_new(a);
		if (pt->last)
			a->chunk_next[pt->last] = c;
		else
			pt->first = c;
		pt->last = c;
		pt->fill = 0;
	}
	run_put(a, (size_t)pt->last * CHUNK_RUNS + pt->fill++, &r);
}

/* A purchase inside --window: it adds to the window amount (cold_win). */
static inline int win_purchase(const custagg *a, const ca_pend *p)
{
	return p->kind == K_PURCHASE && a->o.window_start_day != INT64_MIN &&
	       p->day >= a->o.window_start_day;
}

static void add_purchase(custagg *a, uint32_t ci, const ca_pend *p)
{
	ca_rec *c = &a->rec[ci];
	if (p->t < c->first_t)
		c->first_t = p->t;
	if (p->t > c->last_t)
		c->last_t = p->t;
	c->total += p->amount;
	if (p->day < c->first_day) {
		c->first_day = p->day;
		c->first_day_amount = p->amount;
	} else if (p->day == c->first_day) {
		c->first_day_amount += p->amount;
	}
	if (win_purchase(a, p))
		cold_win(a, ci)->win_amount += p->amount;
	if (c->okey == p->okey && c->day == p->day)
		return;
	if (c->okey)
		run_push(a, ci, c->okey, c->day);
	c->okey = p->okey;
	c->day = p->day;
}

/* The parts of an event other than its purchase: --events counts, carried
 * values and refunds. */
static void add_rest(custagg *a, uint32_t ci, const ca_pend *p, const uint32_t *cval,
                     const char *arena)
{
	for (uint64_t m = p->types; m; m &= m - 1) {
		ca_typecount *tc = &a->types[(size_t)ci * a->o.nevents + __builtin_ctzll(m)];
		tc->count++;
		if (tc->last == RTN_NULL || p->t > tc->last)
			tc->last = p->t;
	}
	for (int k = 0; k < a->o.ncarry; k++) {
		uint32_t off = cval[2 * k], len = cval[2 * k + 1];
		ca_carry *cc = &a->carry[(size_t)ci * a->o.ncarry + k];
		if (!len)
			continue;
		const char *x = arena + off;
		if (cc->t == RTN_NULL || p->t < cc->t ||
		    (p->t == cc->t && name_cmp(x, len, a->strings + cc->off, cc->len) < 0)) {
			cc->off = str_store(a, x, len);
			cc->len = len;
			cc->t = p->t;
		}
	}
	if (p->kind == K_REFUND) {
		ca_cold *cd = cold(a, ci);
		if (p->amount != RTN_NULL && p->day >= a->o.window_start_day)
			cd->win_refunds += p->amount < 0 ? -p->amount : p->amount;
		if (cd->last_refund == RTN_NULL || p->t > cd->last_refund)
			cd->last_refund = p->t;
	}
}

static void apply(custagg *a, uint32_t ci, const ca_pend *p, const uint32_t *cval,
                  const char *arena)
{
	if (p->kind == K_LATE)
		return;
	if (p->types | (uint64_t)a->o.ncarry | (p->kind == K_REFUND))
		add_rest(a, ci, p, cval, arena);
	if (p->kind == K_PURCHASE)
		add_purchase(a, ci, p);
}

/* Second stage of the pipeline: the slot is in cache; note the customer it
 * names and prefetch the record (and what else the event will touch). */
static void prefetch_rec(const custagg *a, ca_pend *p)
{
	uint64_t m = a->tcap - 1, x;
	p->cand = 0;
	for (uint64_t s = home(a, p->hash), k = 0; k < 4 && (x = a->table[s]); k++, s = (s + 1) & m)
		if (x >> 32 == p->hash >> 32) {
			uint32_t ci = (uint32_t)x - 1;
			p->cand = (uint32_t)x;
			__builtin_prefetch(&a->rec[ci], 1);
			if (p->kind == K_REFUND || win_purchase(a, p))
				__builtin_prefetch(cold(a, ci), 1);
			if (a->o.ncarry)
				__builtin_prefetch(&a->carry[(size_t)ci * a->o.ncarry], 1);
			if (p->types)
				__builtin_prefetch(&a->types[(size_t)ci * a->o.nevents], 1);
			return;
		}
}

/* Applies the batch in order, prefetching ahead: slots AHEAD_SLOT events
 * ahead, records AHEAD_REC. */
static void batch_run(custagg *a, struct ca_batch *b)
{
	uint32_t n = b->n;
	ca_pend *ev = b->ev;
	uint32_t ci = a->last_ci;
	for (uint32_t i = 0; i < n && i < AHEAD_SLOT; i++)
		if (!ev[i].same)
			__builtin_prefetch(&a->table[home(a, ev[i].hash)]);
	for (uint32_t i = 0; i < n && i < AHEAD_REC; i++)
		if (!ev[i].same)
			prefetch_rec(a, &ev[i]);
	for (uint32_t i = 0; i < n; i++) {
		if (i + AHEAD_SLOT < n && !ev[i + AHEAD_SLOT].same)
			__builtin_prefetch(&a->table[home(a, ev[i + AHEAD_SLOT].hash)]);
		if (i + AHEAD_REC < n && !ev[i + AHEAD_REC].same)
			prefetch_rec(a, &ev[i + AHEAD_REC]);
		const uint32_t *cval = b->cval ? b->cval + (size_t)i * a->o.ncarry * 2 : NULL;
		if (!ev[i].same)
			ci = cust_find(a, &ev[i], b->arena);
		apply(a, ci, &ev[i], cval, b->arena);
	}
	a->last_ci = ci;
	b->n = 0;
	b->used = 0;
}

static void run_slot(void *ctx, int slot)
{
	custagg *a = ctx;
	batch_run(a, &a->batch[slot]);
}

void ca_threads(custagg *a, int piped)
{
	if (a->o.sorted || !rtn_threads_allowed() || (piped && rtn_threads_env() < 2) || a->st.read)
		return;
	rtn_handoff_start(&a->ho);
}

static void arena_put(struct ca_batch *b, const char *s, uint32_t n, uint32_t *off)
{
	*off = (uint32_t)b->used;
	if (!n)
		return;   /* an empty value: nothing to copy (s may be NULL) */
	if (b->used + n > UINT32_MAX)
		rtn_die(RTN_EXIT_SYSTEM, "ids too long");
	if (b->used + n > b->cap)
		xgrow((void **)&b->arena, &b->cap, b->used + n, 1);
	memcpy(b->arena + b->used, s, n);
	b->used += n;
}

static int type_is(const rtn_value *v, const char *s, size_t n)
{
	return v->len == n && memcmp(v->s, s, n) == 0;
}

/* What an event of this type is (kind bits: 1 order, 2 refund) and which
 * --events types it is; most events repeat the type of the one before. */
static void type_of(custagg *a, const rtn_value *ty, int *kind, uint64_t *mask)
{
	if (ty->len == a->type_len && rtn_bytes_eq(ty->s, a->type_last, ty->len)) {
		*kind = a->type_kind;
		*mask = a->type_mask;
		return;
	}
	*kind = type_is(ty, "order", 5) | type_is(ty, "refund", 6) << 1;
	*mask = 0;
	for (int k = 0; k < a->o.nevents; k++)
		if (type_is(ty, a->o.events[k], strlen(a->o.events[k])))
			*mask |= (uint64_t)1 << k;
	if (ty->len <= sizeof a->type_last) {
		if (ty->len)
			memcpy(a->type_last, ty->s, ty->len);
		a->type_len = ty->len;
		a->type_kind = *kind;
		a->type_mask = *mask;
	}
}

/* Classifies one event, counts it, and fills p (all but the customer). */
static void classify(custagg *a, const rtn_value *v, ca_pend *p)
{
	int64_t t = v[a->c_time].i, amount = v[a->c_amount].i;
	int kind;
	uint64_t mask;
	p->t = t;
	p->types = 0;
	if (t >= a->asof_end_t) {
		a->st.after_asof++;
		p->kind = K_LATE;
		return;
	}
	if (t > a->max_t)
		a->max_t = t;
	type_of(a, &v[a->c_type], &kind, &mask);
	p->types = mask;
	p->day = (int32_t)ca_day(a, t);
	if ((kind & 1) && (amount == RTN_NULL || amount >= 0)) {
		a->st.purchases++;
		p->kind = K_PURCHASE;
		p->amount = amount == RTN_NULL ? 0 : amount;
		p->okey = order_key(&v[a->c_order], t);
	} else if (kind) {
		a->st.refunds++;
		p->kind = K_REFUND;
		p->amount = amount;
	} else {
		p->kind = mask ? K_TRACKED : K_OTHER;
		if (mask)
			a->st.tracked++;
		else
			a->st.other++;
	}
}

/* Fills the batch's next event from a record (its customer id and carried
 * values copied to the batch arena). */
static ca_pend *batch_fill(custagg *a, struct ca_batch *b, const rtn_value *v)
{
	ca_pend *p = &b->ev[b->n];
	const rtn_value *cv = &v[a->c_cust];
	classify(a, v, p);
	p->klen = cv->len;
	p->koff = 0;
	if (cv->len <= KEY_INLINE) {
		/* Lines of one order come together: often the customer before.
		 * A long id leaves KEY_LONG in last_key, which no short id has. */
		uint64_t w[2], last[2];
		key_words(cv->s, cv->len, w);
		memcpy(last, a->last_key, 16);
		p->same = ((w[0] ^ last[0]) | (w[1] ^ last[1])) == 0;
		memcpy(p->key16, w, 16);
		memcpy(a->last_key, w, 16);
	} else {
		arena_put(b, cv->s, cv->len, &p->koff);
		p->same = 0;
		a->last_key[15] = KEY_LONG;
	}
	if (a->o.ncarry) {
		uint32_t *cval = b->cval + (size_t)b->n * a->o.ncarry * 2;
		for (int k = 0; k < a->o.ncarry; k++) {
			const rtn_value *x = &v[a->c_carry[k]];
			cval[2 * k + 1] = x->len;
			arena_put(b, x->s, x->len, &cval[2 * k]);
		}
	}
	return p;
}

/* Sorted input: the current customer is the last one; a new id completes
 * it (see finalize) and starts the next, after checking the order. */
static void finalize(custagg *a, struct ca_scratch *s, uint32_t ci, const ca_run *runs, size_t nr);

static int cust_sorted(custagg *a, const char *p, uint32_t n, int64_t t, uint32_t *out)
{
	if (a->ncust) {
		uint32_t ln;
		const char *last = key_bytes(a, a->rec[a->ncust - 1].key, &ln);
		int cmp = name_cmp(last, ln, p, n);
		if (cmp == 0) {
			if (t < a->last_seen_t) {
				snprintf(a->err, sizeof a->err,
				         "input is flagged sorted but customer '%.*s' has times out of order "
				         "(record %llu; sort it with dedupe)",
				         (int)(n > 64 ? 64 : n), p, (unsigned long long)a->st.read);
				return -1;
			}
			*out = a->ncust - 1;
			return 0;
		}
		if (cmp > 0) {
			snprintf(a->err, sizeof a->err,
			         "input is flagged sorted but customer '%.*s' comes after '%.*s' "
			         "(record %llu; sort it with dedupe)",
			         (int)(n > 64 ? 64 : n), p, (int)(ln > 64 ? 64 : ln), last,
			         (unsigned long long)a->st.read);
			return -1;
		}
		finalize(a, a->scratch, a->ncust - 1, a->cur, a->ncur);
		a->ncur = 0;
	}
	*out = cust_new(a, p, n, NULL);
	return 0;
}

int ca_add(custagg *a, const rtn_value *v)
{
	a->st.read++;
	int64_t t = v[a->c_time].i;
	if (t == RTN_NULL) {
		a->st.no_time++;
		return 0;
	}
	struct ca_batch *b = &a->batch[rtn_handoff_slot(&a->ho)];
	if (!a->o.sorted) {
		ca_pend *p = batch_fill(a, b, v);
		if (!p->same) {
			uint64_t w[2];
			memcpy(w, p->key16, 16);
			p->hash = p->klen <= KEY_INLINE ? words_hash(w) : fast_hash(v[a->c_cust].s, p->klen);
		}
		if (++b->n == BATCH)
			rtn_handoff_submit(&a->ho);
		return 0;
	}
	/* sorted: one event at a time through the batch's first entry */
	const rtn_value *cv = &v[a->c_cust];
	uint32_t ci;
	if (cust_sorted(a, cv->s, cv->len, t, &ci) < 0)
		return -1;
	a->last_seen_t = t;
	ca_pend *p = batch_fill(a, b, v);
	apply(a, ci, p, b->cval, b->arena);
	b->used = 0;
	return 0;
}

/* ---- totals ------------------------------------------------------------- */

static int day_cmp(const void *x, const void *y)
{
	int32_t p = *(const int32_t *)x, q = *(const int32_t *)y;
	return (p > q) - (p < q);
}

/* A customer is complete: its earlier runs (nr, in the order they ended)
 * and the current one become totals, in place of the record. The key
 * bytes are not written: the sort by name may read them meanwhile. */
static void finalize(custagg *a, struct ca_scratch *s, uint32_t ci, const ca_run *runs, size_t nr)
{
	ca_rec *c = &a->rec[ci];
	ca_fin f;
	uint32_t recent = 0, prior = 0;
	memset(&f, 0, sizeof f);
	f.first_t = f.last_t = RTN_NULL;
	if (!c->okey) {
		memcpy((char *)c + 16, (char *)&f + 16, sizeof f - 16);
		return;
	}
	size_t n = nr + 1;
	xgrow((void **)&s->days, &s->dcap, n, sizeof *s->days);
	/* distinct days (sorted when they came out of order) */
	int32_t *d = s->days;
	int in_order = 1;
	for (size_t i = 0; i < nr; i++) {
		d[i] = runs[i].day;
		if (i && d[i] < d[i - 1])
			in_order = 0;
	}
	d[nr] = c->day;
	if (nr && d[nr] < d[nr - 1])
		in_order = 0;
	if (!in_order)
		qsort(d, n, sizeof *d, day_cmp);
	int32_t prev = INT32_MIN;   /* the second latest day, none yet */
	uint32_t ndays = 1;
	for (size_t i = 1; i < n; i++)
		if (d[i] != d[i - 1]) {
			ndays++;
			prev = d[i - 1];
		}
	/* distinct orders, each on the day of its earliest run: a set of
	 * order keys (hashes, never 0) at most half full */
	size_t cap = 8;
	while (cap < 2 * n)
		cap *= 2;
	xgrow((void **)&s->e, &s->cap, cap, sizeof *s->e);
	ca_run *set = s->e;
	memset(set, 0, cap * sizeof *set);
	uint32_t orders = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t k = i < nr ? runs[i].okey : c->okey;
		int32_t day = i < nr ? runs[i].day : c->day;
		size_t h = (size_t)(k >> 1) & (cap - 1);
		while (set[h].okey && set[h].okey != k)
			h = (h + 1) & (cap - 1);
		if (!set[h].okey) {
			set[h].okey = k;
			set[h].day = day;
			orders++;
		} else if (day < set[h].day) {
			set[h].day = day;
		}
	}
	if (a->o.window_start_day == INT64_MIN && a->o.recent_start_day == INT64_MIN) {
		f.win_orders = orders;
	} else {
		for (size_t h = 0; h < cap; h++) {
			if (!set[h].okey)
				continue;
			f.win_orders += set[h].day >= a->o.window_start_day;
			if (a->o.recent_start_day != INT64_MIN) {
				if (set[h].day >= a->o.recent_start_day)
					recent++;
				else
					prior++;
			}
		}
	}
	f.first_t = c->first_t;
	f.last_t = c->last_t;
	f.total = c->total;
	f.first_day_amount = c->first_day_amount;
	f.ndays = ndays;
	f.orders = orders;
	f.prev_day = prev;
	if (a->has_win) {
		ca_cold_win *cw = cold_win(a, ci);
		if (a->o.window_start_day == INT64_MIN)
			cw->win_amount = c->total;
		cw->recent = recent;
		cw->prior = prior;
	}
	memcpy((char *)c + 16, (char *)&f + 16, sizeof f - 16);
}

/* Finalizes the customers of partition p (indexes p, p + NPART, ...): its
 * runs are counted and then placed by customer (a counting sort, in
 * cache), and the records, NPART apart, are prefetched FIN_AHEAD ahead. */
#define FIN_AHEAD 8
static void finalize_part(custagg *a, struct ca_scratch *s, uint32_t p)
{
	if (p >= a->ncust)
		return;
	uint32_t m = (a->ncust - p + NPART - 1) / NPART;
	const struct ca_part *pt = &a->part[p];
	xgrow((void **)&s->cnt, &s->ccap, (size_t)m + 1, sizeof *s->cnt);
	memset(s->cnt, 0, ((size_t)m + 1) * sizeof *s->cnt);
	size_t total = 0;
	for (uint32_t k = pt->first; k; k = a->chunk_next[k]) {
		uint32_t nk = k == pt->last ? pt->fill : CHUNK_RUNS;
		for (size_t i = (size_t)k * CHUNK_RUNS, e = i + nk; i < e; i++)
			s->cnt[run_j(a, i) + 1]++;
		total += nk;
	}
	for (uint32_t j = 1; j <= m; j++)
		s->cnt[j] += s->cnt[j - 1];   /* cnt[j]: where customer j's runs start */
	xgrow((void **)&s->buf, &s->bcap, total ? total : 1, sizeof *s->buf);
	for (uint32_t k = pt->first; k; k = a->chunk_next[k]) {
		uint32_t nk = k == pt->last ? pt->fill : CHUNK_RUNS;
		for (size_t i = (size_t)k * CHUNK_RUNS, e = i + nk; i < e; i++) {
			ca_run r;
			run_get(a, i, &r);
			s->buf[s->cnt[r.j]++] = r;
		}
	}
	/* now cnt[j] is where customer j's runs end */
	for (uint32_t j = 0; j < m; j++) {
		if (j + FIN_AHEAD < m) {
			size_t ahead = (size_t)(j + FIN_AHEAD) * NPART + p;
			__builtin_prefetch(&a->rec[ahead], 1);
			if (a->has_win)
				__builtin_prefetch(cold(a, (uint32_t)ahead), 1);
		}
		uint32_t lo = j ? s->cnt[j - 1] : 0;
		finalize(a, s, j * NPART + p, s->buf + lo, s->cnt[j] - lo);
	}
}

/* Partitions are taken in turn by both threads (next). */
typedef struct fin_job {
	custagg *a;
	atomic_uint next;
	struct ca_scratch s;
} fin_job;

static void finalize_parts(fin_job *j, struct ca_scratch *s)
{
	unsigned p;
	while ((p = atomic_fetch_add(&j->next, 1)) < NPART)
		finalize_part(j->a, s, p);
}

static void *fin_main(void *arg)
{
	fin_job *j = arg;
	finalize_parts(j, &j->s);
	return NULL;
}

void ca_get_nth(const custagg *a, uint32_t i, ca_cust *c)
{
	if (i + CA_AHEAD < a->ncust_out) {
		__builtin_prefetch(&a->rec[a->order[i + CA_AHEAD]]);
		__builtin_prefetch(cold(a, a->order[i + CA_AHEAD]));
	}
	ca_get(a, a->order[i], c);
}

void ca_get(const custagg *a, uint32_t ci, ca_cust *c)
{
	const ca_fin *f = (const ca_fin *)(const void *)&a->rec[ci];
	const ca_cold *cd = cold(a, ci);
	c->name = key_bytes(a, f->key, &c->name_len);
	c->first_t = f->first_t;
	c->last_t = f->last_t;
	c->ndays = f->ndays;
	c->first_day = f->ndays ? ca_day(a, f->first_t) : RTN_NULL;
	c->last_day = f->ndays ? ca_day(a, f->last_t) : RTN_NULL;
	c->prev_day = f->prev_day == INT32_MIN ? RTN_NULL : f->prev_day;
	c->orders = f->orders;
	c->win_orders = f->win_orders;
	c->recent_orders = a->has_win ? cold_win(a, ci)->recent : 0;
	c->prior_orders = a->has_win ? cold_win(a, ci)->prior : 0;
	c->first_day_amount = f->first_day_amount;
	c->purchase_amount = f->total;
	c->win_amount = a->has_win ? cold_win(a, ci)->win_amount : f->total;
	c->win_refunds = cd->win_refunds;
	c->last_refund = cd->last_refund;
}

/* Sorting customers by name: the first 8 bytes, big-endian and zero-padded,
 * order most of them (a zero-padded prefix orders like memcmp with
 * shorter-first); runs of equal prefixes are then sorted in full. */
static const custagg *sort_ctx;

static int idx_name_cmp(const void *x, const void *y)
{
	uint32_t na, nb;
	const char *pa = key_bytes(sort_ctx, sort_ctx->rec[*(const uint32_t *)x].key, &na);
	const char *pb = key_bytes(sort_ctx, sort_ctx->rec[*(const uint32_t *)y].key, &nb);
	return name_cmp(pa, na, pb, nb);
}

static uint64_t name_prefix(const custagg *a, uint32_t ci)
{
	uint32_t len;
	const unsigned char *p = (const unsigned char *)key_bytes(a, a->rec[ci].key, &len);
	uint64_t v = 0;
	for (uint32_t j = 0; j < 8; j++)
		v = v << 8 | (j < len ? p[j] : 0);
	return v;
}

/* idx (n customers) by name, k their prefixes (sorted with them). Reads
 * only the key bytes of the records, which finalize leaves alone. */
static void sort_by_name(custagg *a, uint64_t *k, uint32_t *idx, uint32_t n)
{
	rtn_radix_sort_u64(k, idx, n);
	sort_ctx = a;
	for (uint32_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && k[j] == k[i]; j++)
			;
		if (j - i > 1)
			qsort(idx + i, j - i, sizeof *idx, idx_name_cmp);
	}
	sort_ctx = NULL;
}

/* Unsorted input, all read: the customers with a purchase are sorted by
 * name while a second thread makes totals, partition by partition; then
 * this one takes partitions too (one thread with RETAIN_THREADS=1 or one
 * processor). The customers are independent: the result is the same. */
static uint32_t finish_unsorted(custagg *a)
{
	uint64_t *k = a->table;   /* no longer needed, and larger than ncust */
	uint32_t n = 0;
	for (uint32_t i = 0; i < a->ncust; i++) {
		if (a->rec[i].okey) {
			a->order[n] = i;
			k[n++] = name_prefix(a, i);
		} else {
			a->st.customers_without_purchase++;
		}
	}
	fin_job j = {a, 0, {0}};
	pthread_t th;
	int two = a->ncust >= 4096 && rtn_threads_allowed() &&
	          rtn_thread_start(&th, fin_main, &j, 0) == 0;
	sort_by_name(a, k, a->order, n);
	finalize_parts(&j, a->scratch);
	if (two)
		pthread_join(th, NULL);
	scratch_free(&j.s);
	rtn_big_free(a->table, a->table_bytes);
	a->table = NULL;
	a->table_bytes = 0;
	a->tcap = 0;
	return n;
}

void ca_finish(custagg *a)
{
	if (a->batch[rtn_handoff_slot(&a->ho)].n)
		rtn_handoff_submit(&a->ho);
	rtn_handoff_stop(&a->ho);
	a->order = xmalloc(((size_t)a->ncust + 1) * sizeof *a->order);
	uint32_t n = 0;
	if (a->o.sorted) {   /* the others are complete, and in order */
		if (a->ncust)
			finalize(a, a->scratch, a->ncust - 1, a->cur, a->ncur);
		a->ncur = 0;
		for (uint32_t i = 0; i < a->ncust; i++) {
			if (((const ca_fin *)(const void *)&a->rec[i])->ndays)
				a->order[n++] = i;
			else
				a->st.customers_without_purchase++;
		}
	} else {
		n = finish_unsorted(a);
	}
	a->ncust_out = n;
}

void *ca_spare(const custagg *a, size_t *bytes)
{
	/* the pages of the log that were written: the rest would be fresh */
	*bytes = a->runs ? (size_t)a->nchunk * CHUNK_RUNS * a->run_size : 0;
	return a->runs;
}
