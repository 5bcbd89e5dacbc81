/* Worker threads for numbered jobs: see workers.h. */
#include "workers.h"

#include <string.h>
#include <unistd.h>

#include "util.h"

static void *worker_main(void *p)
{
	struct rtn_worker_arg *a = p;
	rtn_workers *w = a->w;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && w->taken == w->filled)
			pthread_cond_wait(&w->work, &w->mu);
		if (w->stop)
			break;
		uint64_t seq = w->taken++;
		pthread_mutex_unlock(&w->mu);
		w->run(w->ctx, a->i, seq);
		pthread_mutex_lock(&w->mu);
		w->done[seq % RTN_WORKERS_SLOTS] = 1;
		pthread_cond_broadcast(&w->finished);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int rtn_workers_start(rtn_workers *w, void (*run)(void *ctx, int worker, uint64_t seq), void *ctx, int max)
{
	memset(w, 0, sizeof *w);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (!rtn_threads_allowed() || ncpu < 2)
		return 0;
	if (max > ncpu)
		max = (int)ncpu;
	if (max > RTN_WORKERS_MAX)
		max = RTN_WORKERS_MAX;
	w->run = run;
	w->ctx = ctx;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->finished, NULL);
	while (w->n < max) {
		w->arg[w->n] = (struct rtn_worker_arg){w, w->n};
		if (rtn_thread_start(&w->th[w->n], worker_main, &w->arg[w->n], (size_t)256 << 10) != 0)
			break;
		w->n++;
	}
	if (!w->n) {
		rtn_workers_stop(w);
		return 0;
	}
	return w->n;
}

void rtn_workers_submit(rtn_workers *w)
{
	pthread_mutex_lock(&w->mu);
	w->filled++;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
}

int rtn_workers_done(rtn_workers *w, uint64_t seq, int wait)
{
	pthread_mutex_lock(&w->mu);
	while (wait && !w->done[seq % RTN_WORKERS_SLOTS])
		pthread_cond_wait(&w->finished, &w->mu);
	int done = w->done[seq % RTN_WORKERS_SLOTS];
	pthread_mutex_unlock(&w->mu);
	return done;
}

void rtn_workers_release(rtn_workers *w, uint64_t seq)
{
	pthread_mutex_lock(&w->mu);
	w->done[seq % RTN_WORKERS_SLOTS] = 0;
	pthread_mutex_unlock(&w->mu);
}

void rtn_workers_stop(rtn_workers *w)
{
	if (!w->run)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->n; i++)
		pthread_join(w->th[i], NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->finished);
	w->run = NULL;
	w->n = 0;
}
