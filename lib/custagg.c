/* Per-customer aggregation: see custagg.h. */
#include <stdlib.h>
#include <string.h>

#include "custagg.h"
#include "timeparse.h"
#include "util.h"

#define CA_BATCH 64
#define KEY_DAY (1ULL << 63)

struct ca_batch {
	int n, ncols, nstr;
	int scol[CA_MAX_NAMES + 3];   /* string columns used: customer, order, type, carry */
	rtn_value *vals;              /* CA_BATCH * ncols */
	uint64_t *hash;
	uint64_t *okey;               /* the order key of each record (order_key) */
	uint64_t *soff;               /* CA_BATCH * nstr offsets into buf */
	char *buf;
	size_t len, cap;
};

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
	while (n >= 8) {
		memcpy(&w, b, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 29;
		b += 8;
		n -= 8;
	}
	if (n) {
		w = 0;
		memcpy(&w, b, n);
		h = (h ^ w) * 0x94d049bb133111ebULL;
	}
	return mix64(h);   /* multiplication only carries upwards: mix the high bits down */
}

/* The key of an order in a customer's key set: its id, or the purchase time
 * for rows without one (never tagged as a day). */
static uint64_t order_key(const rtn_value *o, int64_t t)
{
	uint64_t key = o->len ? fast_hash(o->s, o->len) : mix64((uint64_t)t ^ 0x5bd1e9955bd1e995ULL);
	return (key & ~KEY_DAY) | 1;
}

/* Distinct purchase days and orders of one customer: a small open-
 * addressing set per customer (days tagged with KEY_DAY), so that memory
 * stays with the customer and a lookup touches one cache line. Sets fill
 * to three quarters before they double (at one half, 10M events in time
 * order took 589 MB, now 523 MB: fresh memory is most of the cost). Sorted
 * input frees a set when the customer is complete. 1 when k was new. */

/* Key sets come from a pool: power-of-two sizes carved from 1 MiB blocks,
 * with a free list per size (a set that grows returns its old array), so
 * that a million customers cost no million mallocs and frees. Sets above
 * POOL_MAX_CAP keys use malloc directly. */
#define POOL_MAX_CAP 4096
#define POOL_BLOCK (32u << 20)   /* the largest block; huge pages */

struct ca_pool {
	uint64_t *free[16];      /* by log2(cap) */
	char **blocks;
	size_t nblocks;
	char *cur;
	size_t left;
};

static int cap_class(uint32_t cap)
{
	int k = 0;
	while ((1u << k) < cap)
		k++;
	return k;
}

static uint64_t *pool_get(custagg *a, uint32_t cap)
{
	struct ca_pool *p = a->pool;
	size_t bytes = (size_t)cap * sizeof(uint64_t);
	if (cap > POOL_MAX_CAP)
		return xcalloc(cap, sizeof(uint64_t));
	int k = cap_class(cap);
	uint64_t *r = p->free[k];
	if (r) {
		memcpy(&p->free[k], r, sizeof(void *)); /* free-list link kept in the block */
		memset(r, 0, bytes);
		return r;
	}
	if (p->left < bytes) {
		p->blocks = xrealloc(p->blocks, (p->nblocks + 1) * sizeof *p->blocks);
		/* blocks grow with the pool (1 MiB, 2, 4, ... up to POOL_BLOCK), so
		 * that sorted input, which reuses its few sets, stays small */
		size_t size = (size_t)1 << 20;
		while (size < POOL_BLOCK && size <= p->nblocks * ((size_t)1 << 20))
			size *= 2;
		p->cur = p->blocks[p->nblocks++] = xcalloc(1, size);
		p->left = size;
	}
	r = (uint64_t *)(void *)p->cur;
	p->cur += bytes;
	p->left -= bytes;
	return r;
}

static void pool_put(custagg *a, uint64_t *r, uint32_t cap)
{
	if (!r)
		return;
	if (cap > POOL_MAX_CAP) {
		free(r);
		return;
	}
	int k = cap_class(cap);
	memcpy(r, &a->pool->free[k], sizeof(void *));
	a->pool->free[k] = r;
}

static void pool_free(custagg *a)
{
	for (uint32_t i = 0; i < a->ncust; i++)
		if (a->cust[i].capkeys > POOL_MAX_CAP)
			free(a->cust[i].keys);
	for (size_t i = 0; a->pool && i < a->pool->nblocks; i++)
		free(a->pool->blocks[i]);
	if (a->pool)
		free(a->pool->blocks);
	free(a->pool);
}

static int key_insert(custagg *a, ca_cust *c, uint64_t k)
{
	if ((uint64_t)(c->nkeys + 1) * 4 > (uint64_t)c->capkeys * 3) {
		uint64_t *old = c->keys;
		uint32_t oldcap = c->capkeys, cap = oldcap ? oldcap * 2 : 8;
		if (!cap)
			rtn_die(RTN_EXIT_SYSTEM, "too many orders for one customer");
		c->keys = pool_get(a, cap);
		c->capkeys = cap;
		for (uint32_t i = 0; i < oldcap; i++)
			if (old[i]) {
				uint32_t j = (uint32_t)mix64(old[i]) & (cap - 1);
				while (c->keys[j])
					j = (j + 1) & (cap - 1);
				c->keys[j] = old[i];
			}
		pool_put(a, old, oldcap);
	}
	uint32_t m = c->capkeys - 1, i = (uint32_t)mix64(k) & m;
	while (c->keys[i]) {
		if (c->keys[i] == k)
			return 0;
		i = (i + 1) & m;
	}
	c->keys[i] = k;
	c->nkeys++;
	return 1;
}

/* Sorted input: the customer is complete. A small key set is cleared and
 * handed to the next customer (saves an allocation per customer). */
static void keys_release(custagg *a, ca_cust *c, ca_cust *next)
{
	if (next && c->keys && c->capkeys <= 256) {
		memset(c->keys, 0, c->capkeys * sizeof *c->keys);
		next->keys = c->keys;
		next->capkeys = c->capkeys;
	} else {
		pool_put(a, c->keys, c->capkeys);
	}
	c->keys = NULL;
	c->nkeys = c->capkeys = 0;
}

custagg *ca_new(const ca_opts *o)
{
	custagg *a = xcalloc(1, sizeof *a);
	a->o = *o;
	a->asof_end_t = INT64_MAX;
	if (o->have_asof)
		a->asof_end_t = time_day_start(o->asof_day + 1, o->tz);
	a->max_t = INT64_MIN;
	a->pool = xcalloc(1, sizeof *a->pool);
	a->last_ci = UINT32_MAX;
	if (!o->sorted) {
		a->tcap = 1024;
		a->table = xcalloc(a->tcap, sizeof *a->table);
	}
	return a;
}

void ca_free(custagg *a)
{
	if (!a)
		return;
	pool_free(a);
	rtn_big_free(a->cust, a->cust_bytes);
	rtn_big_free(a->carry, a->carry_bytes);
	rtn_big_free(a->types, a->types_bytes);
	rtn_big_free(a->strings, a->capstrings);
	free(a->table);
	free(a->order);
	free(a->last_order);
	if (a->batch) {
		free(a->batch->vals);
		free(a->batch->hash);
		free(a->batch->okey);
		free(a->batch->soff);
		free(a->batch->buf);
		free(a->batch);
	}
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
	if (!a->o.sorted) {
		struct ca_batch *b = a->batch = xcalloc(1, sizeof *b);
		b->ncols = s->n;
		b->scol[b->nstr++] = a->c_cust;
		b->scol[b->nstr++] = a->c_order;
		b->scol[b->nstr++] = a->c_type;
		for (int i = 0; i < a->o.ncarry; i++)
			b->scol[b->nstr++] = a->c_carry[i];
		b->vals = xcalloc((size_t)CA_BATCH * b->ncols, sizeof *b->vals);
		b->hash = xcalloc(CA_BATCH, sizeof *b->hash);
		b->okey = xcalloc(CA_BATCH, sizeof *b->okey);
		b->soff = xcalloc((size_t)CA_BATCH * b->nstr, sizeof *b->soff);
	}
}

int64_t ca_day(const custagg *a, int64_t t)
{
	if (!a->o.tz)
		return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	return time_local_day(t, a->o.tz);
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

static uint32_t cust_new(custagg *a, const char *p, uint32_t n, uint64_t h)
{
	if (a->ncust == UINT32_MAX - 1)
		rtn_die(RTN_EXIT_SYSTEM, "more than %u customers", UINT32_MAX - 1);
	if (a->ncust == a->capcust) {
		rtn_big_grow((void **)&a->cust, &a->cust_bytes, ((size_t)a->ncust + 1) * sizeof *a->cust);
		size_t cap = a->cust_bytes / sizeof *a->cust;
		if (cap > UINT32_MAX - 1)
			cap = UINT32_MAX - 1;
		if (a->o.ncarry)
			rtn_big_grow((void **)&a->carry, &a->carry_bytes, cap * a->o.ncarry * sizeof *a->carry);
		if (a->o.nevents)
			rtn_big_grow((void **)&a->types, &a->types_bytes, cap * a->o.nevents * sizeof *a->types);
		a->capcust = (uint32_t)cap;
	}
	uint32_t i = a->ncust++;
	ca_cust *c = &a->cust[i];
	memset(c, 0, sizeof *c);
	c->hash = h;
	c->name_off = str_store(a, p, n);
	c->name_len = n;
	c->first_t = c->last_t = c->last_refund = RTN_NULL;
	c->first_day = c->last_day = c->prev_day = RTN_NULL;
	c->last_seen_t = INT64_MIN;
	for (int k = 0; k < a->o.ncarry; k++)
		a->carry[(size_t)i * a->o.ncarry + k] = (ca_carry){RTN_NULL, 0, 0};
	for (int k = 0; k < a->o.nevents; k++)
		a->types[(size_t)i * a->o.nevents + k] = (ca_typecount){0, RTN_NULL};
	a->st.customers_seen++;
	return i;
}

/* Table slot: the high 32 bits of the hash (a tag compared before the
 * customer record is touched) and the customer index + 1. */
#define SLOT(h, i) ((h) >> 32 << 32 | ((uint64_t)(i) + 1))

static void table_grow(custagg *a)
{
	uint64_t cap = a->tcap * 2, m = cap - 1;
	uint64_t *t = xcalloc(1, cap * sizeof *t);
	for (uint32_t i = 0; i < a->ncust; i++) {
		uint64_t s = a->cust[i].hash & m;
		while (t[s])
			s = (s + 1) & m;
		t[s] = SLOT(a->cust[i].hash, i);
	}
	free(a->table);
	a->table = t;
	a->tcap = cap;
}

static uint32_t cust_lookup(custagg *a, const char *p, uint32_t n, uint64_t h)
{
	uint64_t m = a->tcap - 1, s = h & m, x;
	while ((x = a->table[s])) {
		if (x >> 32 == h >> 32) {
			const ca_cust *c = &a->cust[(uint32_t)x - 1];
			if (c->hash == h && c->name_len == n && memcmp(a->strings + c->name_off, p, n) == 0)
				return (uint32_t)x - 1;
		}
		s = (s + 1) & m;
	}
	uint32_t i = cust_new(a, p, n, h);
	a->table[s] = SLOT(h, i);
	if ((uint64_t)a->ncust * 10 > a->tcap * 7)
		table_grow(a);
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

/* Sorted input: the current customer is the last one; a new id starts the
 * next customer after checking the order. */
static int cust_sorted(custagg *a, const char *p, uint32_t n, int64_t t, uint32_t *out)
{
	if (a->ncust) {
		ca_cust *c = &a->cust[a->ncust - 1];
		int cmp = name_cmp(a->strings + c->name_off, c->name_len, p, n);
		if (cmp == 0) {
			if (t < c->last_seen_t) {
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
			         (int)(n > 64 ? 64 : n), p, (int)(c->name_len > 64 ? 64 : c->name_len),
			         a->strings + c->name_off, (unsigned long long)a->st.read);
			return -1;
		}
	}
	*out = cust_new(a, p, n, 0);
	if (a->ncust > 1)
		keys_release(a, &a->cust[a->ncust - 2], &a->cust[a->ncust - 1]);
	return 0;
}

static int is_type(const rtn_value *v, const char *s, uint32_t n)
{
	return v->len == n && memcmp(v->s, s, n) == 0;
}

static void add_purchase(custagg *a, uint32_t ci, ca_cust *c, const rtn_value *v, int64_t t,
                         int64_t amount, const uint64_t *okey)
{
	int64_t day = ca_day(a, t);
	a->st.purchases++;
	if (c->first_t == RTN_NULL || t < c->first_t)
		c->first_t = t;
	if (c->last_t == RTN_NULL || t > c->last_t)
		c->last_t = t;
	c->purchase_amount += amount;
	/* distinct days, first day's amount, two latest days */
	int newday;
	if (day == c->last_day || day == c->first_day || day == c->prev_day)
		newday = 0;
	else if (a->o.sorted)
		newday = 1;   /* days only grow within a customer */
	else if (c->ndays && (day > c->last_day || day < c->first_day))
		newday = 1, key_insert(a, c, KEY_DAY | (uint32_t)day);
	else
		newday = key_insert(a, c, KEY_DAY | (uint32_t)day);
	if (newday) {
		c->ndays++;
		if (c->first_day == RTN_NULL || day < c->first_day) {
			c->first_day = day;
			c->first_day_amount = 0;
		}
		if (c->last_day == RTN_NULL || day > c->last_day) {
			c->prev_day = c->last_day;
			c->last_day = day;
		} else if (c->prev_day == RTN_NULL || day > c->prev_day) {
			c->prev_day = day;
		}
	}
	if (day == c->first_day)
		c->first_day_amount += amount;
	int inwin = day >= a->o.window_start_day;
	if (inwin)
		c->win_amount += amount;
	/* distinct orders: order id, else the purchase time; the line items of
	 * one order usually follow each other, so compare with the last row first */
	const rtn_value *o = &v[a->c_order];
	if (ci == a->last_ci && o->len == a->last_olen &&
	    (o->len ? memcmp(o->s, a->last_order, o->len) == 0 : t == a->last_ot))
		return;
	if (o->len > a->last_ocap) {
		size_t cap = a->last_ocap;
		xgrow((void **)&a->last_order, &cap, o->len, 1);
		a->last_ocap = (uint32_t)cap;
	}
	if (o->len)
		memcpy(a->last_order, o->s, o->len);
	a->last_olen = o->len;
	a->last_ot = t;
	a->last_ci = ci;
	if (!key_insert(a, c, okey ? *okey : order_key(o, t)))
		return;
	c->orders++;
	if (inwin)
		c->win_orders++;
	if (a->o.recent_start_day != INT64_MIN) {
		if (day >= a->o.recent_start_day)
			c->recent_orders++;
		else
			c->prior_orders++;
	}
}

/* One record of a known customer (in stream order). */
/* okey: the record's order key when already known, else NULL */
static void add_one(custagg *a, uint32_t ci, const rtn_value *v, const uint64_t *okey)
{
	int64_t t = v[a->c_time].i;
	if (t >= a->asof_end_t) {
		a->st.after_asof++;
		return;
	}
	if (t > a->max_t)
		a->max_t = t;
	ca_cust *c = &a->cust[ci];
	const rtn_value *ty = &v[a->c_type];
	int64_t amount = v[a->c_amount].i;
	int tracked = 0;
	for (int k = 0; k < a->o.nevents; k++) {
		const char *name = a->o.events[k];
		if (is_type(ty, name, (uint32_t)strlen(name))) {
			ca_typecount *tc = &a->types[(size_t)ci * a->o.nevents + k];
			tc->count++;
			if (tc->last == RTN_NULL || t > tc->last)
				tc->last = t;
			tracked = 1;
		}
	}
	for (int k = 0; k < a->o.ncarry; k++) {
		const rtn_value *x = &v[a->c_carry[k]];
		ca_carry *cc = &a->carry[(size_t)ci * a->o.ncarry + k];
		if (!x->len)
			continue;
		if (cc->t == RTN_NULL || t < cc->t ||
		    (t == cc->t && name_cmp(x->s, x->len, a->strings + cc->off, cc->len) < 0)) {
			cc->off = str_store(a, x->s, x->len);
			cc->len = x->len;
			cc->t = t;
			c = &a->cust[ci];
		}
	}
	int is_order = is_type(ty, "order", 5);
	if (is_order && (amount == RTN_NULL || amount >= 0)) {
		add_purchase(a, ci, c, v, t, amount == RTN_NULL ? 0 : amount, okey);
	} else if (is_order || is_type(ty, "refund", 6)) {
		a->st.refunds++;
		if (amount != RTN_NULL && ca_day(a, t) >= a->o.window_start_day)
			c->win_refunds += amount < 0 ? -amount : amount;
		if (c->last_refund == RTN_NULL || t > c->last_refund)
			c->last_refund = t;
	} else if (tracked) {
		a->st.tracked++;
	} else {
		a->st.other++;
	}
}

/* Unsorted input goes through a batch: the records are copied, their
 * customers' table slots, records, names and key sets are prefetched in
 * passes over the batch, then the records are added in stream order. With
 * customers in random order this turns a chain of cache misses per record
 * into misses that overlap. */
static void batch_flush(custagg *a)
{
	struct ca_batch *b = a->batch;
	uint32_t cand[CA_BATCH];
	uint64_t m = a->tcap - 1;
	for (int i = 0; i < b->n; i++) {
		rtn_value *v = b->vals + (size_t)i * b->ncols;
		for (int j = 0; j < b->nstr; j++)
			v[b->scol[j]].s = b->buf + b->soff[(size_t)i * b->nstr + j];
		uint64_t x, s = b->hash[i] & m;
		cand[i] = UINT32_MAX;
		while ((x = a->table[s])) {
			if (x >> 32 == b->hash[i] >> 32) {
				cand[i] = (uint32_t)x - 1;
				const char *c = (const char *)&a->cust[cand[i]];
				for (size_t off = 0; off < sizeof(ca_cust) + 63; off += 64)   /* every line */
					__builtin_prefetch(c + (off < sizeof(ca_cust) ? off : sizeof(ca_cust) - 1));
				break;
			}
			s = (s + 1) & m;
		}
	}
	for (int i = 0; i < b->n; i++) {
		const rtn_value *v = b->vals + (size_t)i * b->ncols;
		int64_t t = v[a->c_time].i;
		b->okey[i] = order_key(&v[a->c_order], t);
		if (cand[i] == UINT32_MAX)
			continue;
		const ca_cust *c = &a->cust[cand[i]];
		__builtin_prefetch(a->strings + c->name_off);
		if (a->o.ncarry)
			__builtin_prefetch(&a->carry[(size_t)cand[i] * a->o.ncarry]);
		if (a->o.nevents)
			__builtin_prefetch(&a->types[(size_t)cand[i] * a->o.nevents]);
		if (c->capkeys) {   /* the slots of this record's day and order keys */
			uint64_t kd = KEY_DAY | (uint32_t)ca_day(a, t);
			__builtin_prefetch(c->keys + (mix64(kd) & (c->capkeys - 1)));
			__builtin_prefetch(c->keys + (mix64(b->okey[i]) & (c->capkeys - 1)));
		}
	}
	for (int i = 0; i < b->n; i++) {
		rtn_value *v = b->vals + (size_t)i * b->ncols;
		const rtn_value *cv = &v[a->c_cust];
		add_one(a, cust_lookup(a, cv->s, cv->len, b->hash[i]), v, &b->okey[i]);
	}
	b->n = 0;
	b->len = 0;
}

static void batch_push(custagg *a, const rtn_value *v)
{
	struct ca_batch *b = a->batch;
	memcpy(b->vals + (size_t)b->n * b->ncols, v, (size_t)b->ncols * sizeof *v);
	for (int j = 0; j < b->nstr; j++) {
		const rtn_value *x = &v[b->scol[j]];
		if (b->len + x->len > b->cap)
			xgrow((void **)&b->buf, &b->cap, b->len + x->len, 1);
		memcpy(b->buf + b->len, x->s, x->len);
		b->soff[(size_t)b->n * b->nstr + j] = b->len;
		b->len += x->len;
	}
	const rtn_value *cv = &v[a->c_cust];
	uint64_t h = b->hash[b->n] = fast_hash(cv->s, cv->len);
	__builtin_prefetch(&a->table[h & (a->tcap - 1)]);
	if (++b->n == CA_BATCH)
		batch_flush(a);
}

int ca_add(custagg *a, const rtn_value *v)
{
	a->st.read++;
	int64_t t = v[a->c_time].i;
	if (t == RTN_NULL) {
		a->st.no_time++;
		return 0;
	}
	if (!a->o.sorted) {
		batch_push(a, v);
		return 0;
	}
	const rtn_value *cv = &v[a->c_cust];
	uint32_t ci;
	if (cust_sorted(a, cv->s, cv->len, t, &ci) < 0)
		return -1;
	a->cust[ci].last_seen_t = t;
	add_one(a, ci, v, NULL);
	return 0;
}

/* Sorting customers by name: the first 8 bytes, big-endian and zero-padded,
 * decide most comparisons without touching the names (a zero-padded prefix
 * orders like memcmp with shorter-first); equal prefixes compare in full. */
typedef struct name_key {
	uint64_t prefix;
	uint32_t idx;
} name_key;

static const custagg *sort_ctx;

static int name_key_cmp(const void *x, const void *y)
{
	const name_key *p = x, *q = y;
	if (p->prefix != q->prefix)
		return p->prefix < q->prefix ? -1 : 1;
	const ca_cust *a = &sort_ctx->cust[p->idx], *b = &sort_ctx->cust[q->idx];
	return name_cmp(sort_ctx->strings + a->name_off, a->name_len, sort_ctx->strings + b->name_off,
	                b->name_len);
}

static void sort_by_name(custagg *a, uint32_t *idx, uint32_t n)
{
	name_key *k = xmalloc((n ? n : 1) * sizeof *k);
	for (uint32_t i = 0; i < n; i++) {
		const ca_cust *c = &a->cust[idx[i]];
		const unsigned char *p = (const unsigned char *)a->strings + c->name_off;
		uint64_t v = 0;
		for (uint32_t j = 0; j < 8; j++)
			v = v << 8 | (j < c->name_len ? p[j] : 0);
		k[i].prefix = v;
		k[i].idx = idx[i];
	}
	sort_ctx = a;
	qsort(k, n, sizeof *k, name_key_cmp);
	sort_ctx = NULL;
	for (uint32_t i = 0; i < n; i++)
		idx[i] = k[i].idx;
	free(k);
}

void ca_finish(custagg *a)
{
	if (a->batch)
		batch_flush(a);
	a->order = xmalloc(((size_t)a->ncust + 1) * sizeof *a->order);
	uint32_t n = 0;
	for (uint32_t i = 0; i < a->ncust; i++) {
		if (a->cust[i].orders)
			a->order[n++] = i;
		else
			a->st.customers_without_purchase++;
	}
	if (!a->o.sorted)
		sort_by_name(a, a->order, n);
	a->ncust_out = n;
}
