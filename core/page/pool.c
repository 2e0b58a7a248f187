/*
 * pool.c - worker threads that share the pages of one large read.
 *
 * Decompression is the bottleneck of a sequential read, and the kernel
 * sends FUSE one readahead request at a time, so a 1 MiB request of a
 * single `cat` would use one core.  pool_run() cuts it into tasks that the
 * caller and the workers take from a shared counter; the caller helps
 * rather than sleeps, so a busy pool never makes a read slower than doing
 * it alone.  Several callers (FUSE threads) may run jobs at once: jobs wait
 * in a FIFO and workers serve the oldest with tasks left.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "page/page.h"

#define MAX_WORKERS 16

struct pool_job {
	pool_task_fn fn;
	void *arg;
	size_t ntasks, next, done;
	struct pool_job *queue_next;
	pthread_cond_t finished;
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct pool_job *head, *tail;   /* jobs with tasks not yet taken */
	pthread_t threads[MAX_WORKERS];
	size_t nthreads;
	bool stopping;
};

/* Take the next task of the oldest job; called with the lock held. */
static struct pool_job *take_task(struct pool *p, size_t *task)
{
	struct pool_job *j = p->head;
	if (!j)
		return NULL;
	*task = j->next++;
	if (j->next == j->ntasks) {
		p->head = j->queue_next;
		if (!p->head)
			p->tail = NULL;
	}
	return j;
}

static void finish_task(struct pool *p, struct pool_job *j)
{
	if (++j->done == j->ntasks)
		pthread_cond_signal(&j->finished);
	(void)p;
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		size_t task;
		struct pool_job *j = take_task(p, &task);
		if (!j) {
			if (p->stopping)
				break;
			pthread_cond_wait(&p->work, &p->lock);
			continue;
		}
		pthread_mutex_unlock(&p->lock);
		j->fn(j->arg, task);
		pthread_mutex_lock(&p->lock);
		finish_task(p, j);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct pool *pool_new(size_t nthreads)
{
	struct pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	if (nthreads > MAX_WORKERS)
		nthreads = MAX_WORKERS;
	for (; p->nthreads < nthreads; p->nthreads++)
		if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) != 0)
			break;
	return p;
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void pool_run(struct pool *p, pool_task_fn fn, void *arg, size_t ntasks)
{
	if (!p || !p->nthreads || ntasks < 2) {
		for (size_t i = 0; i < ntasks; i++)
			fn(arg, i);
		return;
	}
	struct pool_job j = { .fn = fn, .arg = arg, .ntasks = ntasks };
	pthread_cond_init(&j.finished, NULL);
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->queue_next = &j;
	else
		p->head = &j;
	p->tail = &j;
	pthread_cond_broadcast(&p->work);
	/* Help with our own job (not others': our caller is waiting). */
	while (j.next < j.ntasks) {
		size_t task = j.next++;
		if (j.next == j.ntasks) {
			/* unlink: we took the last task */
			struct pool_job **pp = &p->head, *prev = NULL;
			while (*pp != &j) {
				prev = *pp;
				pp = &(*pp)->queue_next;
			}
			*pp = j.queue_next;
			if (p->tail == &j)
				p->tail = prev;
		}
		pthread_mutex_unlock(&p->lock);
		fn(arg, task);
		pthread_mutex_lock(&p->lock);
		finish_task(p, &j);
	}
	while (j.done < j.ntasks)
		pthread_cond_wait(&j.finished, &p->lock);
	pthread_mutex_unlock(&p->lock);
	pthread_cond_destroy(&j.finished);
}

size_t pool_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	/* The caller works too: one worker per other core. */
	return n > 1 ? (size_t)n - 1 : 0;
}
