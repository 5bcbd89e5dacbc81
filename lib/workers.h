/* Jobs numbered 0, 1, 2, ... run by worker threads, each job once, in any
 * order and any worker; the caller waits for the ones it needs, in its own
 * order. The writer's deflating and the reader's inflating threads
 * (stream.c) are such pools: job seq works on slot seq % RTN_WORKERS_SLOTS.
 *
 *	if (rtn_workers_start(&w, run, ctx, 2) > 0) {
 *		... fill slot; rtn_workers_submit(&w);          (job filled - 1)
 *		rtn_workers_wait(&w, seq); ... use slot; rtn_workers_release(&w, seq);
 *		rtn_workers_stop(&w);
 *	}
 *
 * run(ctx, worker, seq) is called without the lock; worker (0..) tells
 * which worker's own state to use. At most RTN_WORKERS_SLOTS jobs may be
 * submitted and not yet released. */
#ifndef RETAIN_WORKERS_H
#define RETAIN_WORKERS_H

#include <pthread.h>
#include <stdint.h>

#define RTN_WORKERS_MAX 4
#define RTN_WORKERS_SLOTS 8

typedef struct rtn_workers {
	void (*run)(void *ctx, int worker, uint64_t seq);
	void *ctx;
	int n, stop;
	uint64_t filled, taken;            /* jobs submitted, jobs started */
	unsigned char done[RTN_WORKERS_SLOTS];
	pthread_mutex_t mu;
	pthread_cond_t work, finished;
	pthread_t th[RTN_WORKERS_MAX];
	struct rtn_worker_arg {
		struct rtn_workers *w;
		int i;
	} arg[RTN_WORKERS_MAX];
} rtn_workers;

/* Starts up to max workers (and RTN_WORKERS_MAX), one per processor; 0
 * when none could run (one processor, RETAIN_THREADS=1, or none started):
 * then nothing is left to stop. Returns the number started. */
int rtn_workers_start(rtn_workers *w, void (*run)(void *ctx, int worker, uint64_t seq), void *ctx, int max);
/* Job number w->filled (its slot filled by the caller) may run. */
void rtn_workers_submit(rtn_workers *w);
/* Waits until job seq has run; 1 if it had already (no wait), 0 if not and
 * wait is 0. */
int rtn_workers_done(rtn_workers *w, uint64_t seq, int wait);
/* The slot of job seq may take a new job. */
void rtn_workers_release(rtn_workers *w, uint64_t seq);
/* Ends the workers (a job running finishes first; those not started never
 * run). */
void rtn_workers_stop(rtn_workers *w);

#endif
