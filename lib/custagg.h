/* Per-customer aggregation of an events stream (the state behind rfm).
 *
 * Two modes, same results:
 *  - unsorted input: customers live in a hash table keyed by the customer
 *    bytes, and events reach them in batches, with the table slots, records
 *    and lists of the events ahead prefetched (a table of millions misses
 *    the cache on every lookup);
 *  - sorted input (RTN_FLAG_SORTED, after dedupe): customers arrive one at a
 *    time, so there is no hash lookup, and each customer's totals are made
 *    as soon as the next one starts. The order is verified; a stream that
 *    claims to be sorted but is not is an error.
 *
 * A purchase is an event of type "order" with an amount >= 0 or null; a
 * refund is an event of type "refund" or an "order" with a negative amount
 * (its magnitude is added to refunds). Every other type only feeds
 * --events counters. Orders are distinct order ids, or distinct purchase
 * times for rows without an order id; an order's day (for --window and
 * --recent) is the day of its earliest purchase row. Purchase days are
 * calendar days in the zone (NULL = UTC).
 *
 * Memory: one 64-byte record per customer (ids up to 14 bytes inline), 16
 * bytes of refunds (32 with a window), and a log of orders and days (12
 * bytes an order and day, 16 past 89 years of days or 16 million
 * customers; kept by customer index in partitions that each fit the
 * cache), turned into totals by ca_finish.
 *
 * Usage: ca_new(opts) -> ca_bind(schema) -> ca_add(record)... -> ca_finish
 * -> ca_get(agg, agg->order[i], &totals) in customer byte order. */
#ifndef RETAIN_CUSTAGG_H
#define RETAIN_CUSTAGG_H

#include <stdint.h>

#include "handoff.h"
#include "stream.h"
#include "tz.h"
#include "util.h"

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

/* A customer's totals, after ca_finish (ca_get). */
typedef struct ca_cust {
	const char *name;            /* NUL-terminated; name_len bytes */
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
	int c_carry[CA_MAX_NAMES];
	int64_t asof_end_t;          /* first instant after --asof; INT64_MAX when none */
	int64_t max_t;               /* latest event time read (default asof) */
	int tz_fixed, tz_off;        /* the zone has one offset: days by division */
	struct ca_rec *rec;          /* customer records, ncust of them */
	unsigned char *cold;         /* refunds, and --window and --recent totals */
	size_t cold_size;            /* bytes a customer in cold */
	int has_win;                 /* --window or --recent */
	uint32_t ncust, capcust;
	ca_carry *carry;             /* ncust * ncarry */
	ca_typecount *types;         /* ncust * nevents */
	size_t rec_bytes, cold_bytes, carry_bytes, types_bytes; /* rtn_big_grow capacities */
	char *strings;               /* long ids, carried values */
	uint64_t nstrings;
	size_t capstrings;
	uint64_t *table;             /* unsorted: hash tag << 32 | index + 1 */
	uint64_t tcap;
	size_t table_bytes;          /* rtn_big_grow capacity */
	int tbits;                   /* tcap = 2^tbits */
	uint32_t *order;             /* after ca_finish: customers in byte order */
	uint32_t ncust_out;          /* entries in order (customers with a purchase) */
	ca_stats st;
	struct ca_batch *batch;      /* events waiting to be added, RTN_HANDOFF_SLOTS */
	rtn_handoff ho;              /* hands them to a second thread (ca_threads) */
	struct ca_scratch *scratch;  /* ca_finish: a customer's orders */
	unsigned char *runs;         /* unsorted: the log of runs, in chunks (custagg.c) */
	size_t run_size;             /* bytes a run in it: 12 (narrow) or 16 */
	int64_t base_day;            /* narrow runs: days from this one */
	uint32_t narrow_j_max;       /* narrow runs: the largest j (tests lower it) */
	size_t runs_bytes;
	uint32_t nchunk;
	uint32_t *chunk_next;        /* the chunk after each in its partition */
	size_t cap_next;
	struct ca_part *part;        /* the partitions of the log */
	struct ca_run *cur;          /* sorted: the current customer's runs */
	size_t ncur, capcur;
	int64_t last_seen_t;         /* sorted: time of the previous event */
	unsigned char last_key[16];  /* unsorted: the id of the event before as the record
	                                holds it (KEY_LONG last: none, or a long one) */
	uint32_t last_ci;            /* its customer, once that event is added */
	char type_last[32];          /* the last event type seen, and what it is */
	uint32_t type_len;           /* UINT32_MAX: none yet */
	int type_kind;
	uint64_t type_mask;
	char err[512];
};

custagg *ca_new(const ca_opts *o);
/* Finds the events columns (customer, time, amount, order, type and the
 * named attributes). Dies with exit 2 naming what is missing. */
void ca_bind(custagg *a, const rtn_schema *s, const char *what);
/* Adds events in a second thread while the caller reads and decodes (call
 * before the first ca_add), with two or more processors, unsorted input
 * and, when piped, RETAIN_THREADS=2 or more (see rfm(1)). RETAIN_THREADS=1:
 * never. The results are the same. */
void ca_threads(custagg *a, int piped);
/* Adds one record. Returns 0, or -1 with a message in a->err when sorted
 * input is out of order. */
int ca_add(custagg *a, const rtn_value *v);
/* Adds what is still batched, makes every customer's totals, then orders
 * the customers by bytes (memcmp, shorter first on a tie) into a->order;
 * customers without a purchase are left out (and counted). */
void ca_finish(custagg *a);
/* Memory the aggregation no longer needs after ca_finish (*bytes of it,
 * maybe 0), for the caller's temporary arrays until ca_free: on this kind
 * of machine fresh memory is slow to touch the first time. */
void *ca_spare(const custagg *a, size_t *bytes);
/* The totals of customer ci (an entry of a->order), after ca_finish. */
void ca_get(const custagg *a, uint32_t ci, ca_cust *c);
/* The totals of the i-th customer in name order (a->order[i]). Name order
 * is not the order of the records: reading them in turn, this fetches the
 * one CA_AHEAD further ahead. */
#define CA_AHEAD 48
void ca_get_nth(const custagg *a, uint32_t i, ca_cust *c);
/* Day number of a time in the zone of the options. */
int64_t ca_day(const custagg *a, int64_t t);
void ca_free(custagg *a);

#endif
