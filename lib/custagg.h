/* Per-customer aggregation of an events stream (the state behind rfm).
 *
 * Two modes, same results:
 *  - unsorted input: customers live in a hash table keyed by the customer
 *    bytes; each customer keeps a small set of 64-bit keys of its distinct
 *    purchase days and orders;
 *  - sorted input (RTN_FLAG_SORTED, after dedupe): customers arrive one at a
 *    time, so there is no hash lookup, days are counted as they change and
 *    the customer's key set is freed when the next customer starts (memory
 *    for keys bounded by the largest customer). The order is verified; a
 *    stream that claims to be sorted but is not is an error.
 *
 * A purchase is an event of type "order" with an amount >= 0 or null; a
 * refund is an event of type "refund" or an "order" with a negative amount
 * (its magnitude is added to refunds). Every other type only feeds
 * --events counters. Orders are distinct order ids, or distinct purchase
 * times for rows without an order id. Purchase days are calendar days in
 * the zone (NULL = UTC).
 *
 * Usage: ca_new(opts) -> ca_bind(schema) -> ca_add(record)... -> ca_finish
 * -> read agg->cust[agg->order[i]] in customer byte order. */
#ifndef RETAIN_CUSTAGG_H
#define RETAIN_CUSTAGG_H

#include <stdint.h>

#include "stream.h"
#include "tz.h"

#define CA_MAX_NAMES 64   /* --carry attributes, --events types */

typedef struct ca_opts {
	tz_zone *tz;                 /* calendar days; NULL = UTC; not owned */
	int have_asof;
	int64_t asof_day;            /* local day number, inclusive */
	int64_t window_start_day;    /* first day inside --window, or INT64_MIN */
	int64_t recent_start_day;    /* first day of --recent, or INT64_MIN */
	int sorted;                  /* input is sorted by customer, time */
	int ncarry;                  /* --carry attribute names */
	const char *carry[CA_MAX_NAMES];
	int nevents;                 /* --events type names */
	const char *events[CA_MAX_NAMES];
} ca_opts;

/* Carried attribute: value on the customer's earliest event (time, then
 * smallest bytes) among events where it is not empty. */
typedef struct ca_carry {
	int64_t t;                   /* RTN_NULL: none yet */
	uint64_t off;                /* into ca->strings */
	uint32_t len;
} ca_carry;

typedef struct ca_typecount {
	int64_t count;
	int64_t last;                /* RTN_NULL when count == 0 */
} ca_typecount;

typedef struct ca_cust {
	uint64_t hash;
	uint64_t name_off;           /* into ca->strings */
	uint32_t name_len;
	int64_t first_t, last_t;     /* purchase times, RTN_NULL when none */
	int64_t first_day, last_day, prev_day;  /* prev_day: second latest distinct day */
	int64_t ndays;               /* distinct purchase days */
	int64_t orders;              /* distinct orders, all history */
	int64_t win_orders;          /* distinct orders inside --window */
	int64_t recent_orders, prior_orders;   /* --recent split */
	int64_t purchase_amount;     /* all purchases, money */
	int64_t first_day_amount;    /* purchases on first_day, money */
	int64_t win_amount, win_refunds;       /* inside --window, money */
	int64_t last_refund;         /* time, RTN_NULL */
	int64_t last_seen_t;         /* any event (sorted check) */
	uint64_t *keys;              /* distinct days and order keys (custagg.c) */
	uint32_t nkeys, capkeys;
} ca_cust;

typedef struct ca_stats {
	uint64_t read, after_asof, purchases, refunds, tracked, other;
	uint64_t no_time;            /* events with a null time (ignored) */
	uint64_t customers_seen, customers_without_purchase;
} ca_stats;

typedef struct custagg custagg;
struct custagg {
	ca_opts o;
	int c_cust, c_time, c_amount, c_order, c_type;
	int c_carry[CA_MAX_NAMES], c_events[CA_MAX_NAMES];
	int64_t asof_end_t;          /* first instant after --asof; INT64_MAX when none */
	int64_t max_t;               /* latest event time read (default asof) */
	ca_cust *cust;
	uint32_t ncust, capcust;
	ca_carry *carry;             /* ncust * ncarry */
	ca_typecount *types;         /* ncust * nevents */
	size_t cust_bytes, carry_bytes, types_bytes; /* rtn_big_grow capacities */
	char *strings;
	uint64_t nstrings;
	size_t capstrings;
	uint64_t *table;             /* unsorted: hash tag << 32 | index + 1 */
	uint64_t tcap;
	uint32_t *order;             /* after ca_finish: customers in byte order */
	uint32_t ncust_out;          /* entries in order (customers with a purchase) */
	ca_stats st;
	struct ca_batch *batch;      /* unsorted: records waiting to be added */
	struct ca_pool *pool;        /* key set memory */
	char *last_order;            /* order id of the last purchase row (fast path) */
	uint32_t last_olen, last_ocap, last_ci;
	int64_t last_ot;
	char err[512];
};

custagg *ca_new(const ca_opts *o);
/* Finds the events columns (customer, time, amount, order, type and the
 * named attributes). Dies with exit 2 naming what is missing. */
void ca_bind(custagg *a, const rtn_schema *s, const char *what);
/* Adds one record. Returns 0, or -1 with a message in a->err when sorted
 * input is out of order. */
int ca_add(custagg *a, const rtn_value *v);
/* Adds what is still batched, then orders the customers by bytes (memcmp, shorter first on a tie) into
 * a->order; customers without a purchase are left out (and counted). */
void ca_finish(custagg *a);
/* Day number of a time in the zone of the options. */
int64_t ca_day(const custagg *a, int64_t t);
static inline const char *ca_name(const custagg *a, const ca_cust *c) { return a->strings + c->name_off; }
void ca_free(custagg *a);

#endif
