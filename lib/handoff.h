/* Batches handed from the reading thread to a second one, in order.
 *
 * The caller fills slot rtn_handoff_slot(h) (one of RTN_HANDOFF_SLOTS),
 * then rtn_handoff_submit: with a worker thread the batch is queued and the
 * call returns when the next slot is free; without one, run(ctx, slot)
 * runs there and then. Batches run one at a time, in the order submitted,
 * so the results do not depend on the thread. rtn_handoff_stop runs what
 * is queued and ends the worker. */
#ifndef RETAIN_HANDOFF_H
#define RETAIN_HANDOFF_H

#include <pthread.h>

#define RTN_HANDOFF_SLOTS 3

typedef struct rtn_handoff {
	void (*run)(void *ctx, int slot);
	void *ctx;
	int state[RTN_HANDOFF_SLOTS];  /* 0: free (the caller fills prod's), 1: queued */
	unsigned prod, cons;
	int threaded, stop;
	pthread_t worker;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} rtn_handoff;

void rtn_handoff_init(rtn_handoff *h, void (*run)(void *ctx, int slot), void *ctx);
/* Starts the worker thread; 0, or -1 when it could not be started (the
 * batches then run in the caller). Call before the first submit. */
int rtn_handoff_start(rtn_handoff *h);
static inline int rtn_handoff_slot(const rtn_handoff *h)
{
	return (int)(h->prod % RTN_HANDOFF_SLOTS);
}
void rtn_handoff_submit(rtn_handoff *h);
/* Waits for the queued batches and ends the worker. */
void rtn_handoff_stop(rtn_handoff *h);
/* Stops, then frees the lock. */
void rtn_handoff_free(rtn_handoff *h);

#endif
