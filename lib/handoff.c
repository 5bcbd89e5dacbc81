/* Batches handed to a second thread: see handoff.h. */
#include "handoff.h"

#include <string.h>

#include "util.h"

void rtn_handoff_init(rtn_handoff *h, void (*run)(void *ctx, int slot), void *ctx)
{
	memset(h, 0, sizeof *h);
	h->run = run;
	h->ctx = ctx;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
}

static void *worker_main(void *arg)
{
	rtn_handoff *h = arg;
	for (;;) {
		int slot = (int)(h->cons % RTN_HANDOFF_SLOTS);
		pthread_mutex_lock(&h->mu);
		while (h->state[slot] != 1 && !h->stop)
			pthread_cond_wait(&h->cv, &h->mu);
		int have = h->state[slot] == 1;
		pthread_mutex_unlock(&h->mu);
		if (!have)
			return NULL;   /* stopped, nothing left */
		h->run(h->ctx, slot);
		pthread_mutex_lock(&h->mu);
		h->state[slot] = 0;
		h->cons++;
		pthread_cond_broadcast(&h->cv);
		pthread_mutex_unlock(&h->mu);
	}
}

int rtn_handoff_start(rtn_handoff *h)
{
	if (h->threaded)
		return 0;
	h->threaded = rtn_thread_start(&h->worker, worker_main, h, 0) == 0;
	return h->threaded ? 0 : -1;
}

void rtn_handoff_submit(rtn_handoff *h)
{
	if (!h->threaded) {
		h->run(h->ctx, rtn_handoff_slot(h));
		return;
	}
	pthread_mutex_lock(&h->mu);
	h->state[h->prod % RTN_HANDOFF_SLOTS] = 1;
	h->prod++;
	pthread_cond_broadcast(&h->cv);
	while (h->state[h->prod % RTN_HANDOFF_SLOTS] != 0)
		pthread_cond_wait(&h->cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
}

void rtn_handoff_stop(rtn_handoff *h)
{
	if (h->threaded) {
		pthread_mutex_lock(&h->mu);
		h->stop = 1;
		pthread_cond_broadcast(&h->cv);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->worker, NULL);
		h->threaded = 0;
	}
	h->stop = 0;
}

void rtn_handoff_free(rtn_handoff *h)
{
	rtn_handoff_stop(h);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
}
