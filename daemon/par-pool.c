/* SPDX-License-Identifier: MIT */
/*
 * daemon/par-pool.c: a batch of tasks on a few threads and the caller (par-pool.h).
 *
 * DESIGN: tasks are claimed with one atomic counter, so a batch of n tasks costs n increments
 * and one wake-up of each thread. A thread joins a batch under the lock (it copies the batch's
 * function and counts itself active) and leaves under it, and the caller resets the counter for
 * a new batch only once no thread is active: a thread that woke late for the last batch, and
 * still holds its function, can then never claim a task of the next. The batch is over when the
 * caller's own claims run out and no thread is active, since a claimed task is always running
 * on an active thread. The lock's release and acquire carry the tasks' writes to the caller.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/el-par.h"
#include "daemon/par-pool.h"

struct par_thread {
	struct par_pool *pool;
	pthread_t thread;
	unsigned lane;
};

struct par_pool {
	struct el_par par;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* threads: a new batch, or stop */
	pthread_cond_t idle; /* the caller: active fell to 0 */
	/* under the lock */
	uint64_t batch; /* batches started */
	bool stop;
	el_par_task_fn fn;
	void *arg;
	unsigned tasks;
	unsigned active;           /* threads inside a batch */
	atomic_uint next;          /* the next task to claim */
	unsigned nthreads;         /* started */
	struct par_thread *thread; /* owned: room for every thread asked for */
};

/* Claims and runs tasks of the batch (fn, arg, tasks) until none is left. */
static void run_tasks(struct par_pool *p, el_par_task_fn fn, void *arg, unsigned tasks,
		      unsigned lane)
{
	unsigned t;

	/* relaxed: the claim only hands out numbers; the lock orders the data */
	while ((t = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed)) < tasks)
		fn(arg, t, lane);
}

static void *thread_main(void *userdata)
{
	struct par_thread *th = userdata;
	struct par_pool *p = th->pool;
	uint64_t seen = 0;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		el_par_task_fn fn;
		void *arg;
		unsigned tasks;

		while (!p->stop && p->batch == seen)
			pthread_cond_wait(&p->wake, &p->lock);
		if (p->stop)
			break;
		seen = p->batch;
		fn = p->fn;
		arg = p->arg;
		tasks = p->tasks;
		p->active++;
		pthread_mutex_unlock(&p->lock);
		run_tasks(p, fn, arg, tasks, th->lane);
		pthread_mutex_lock(&p->lock);
		if (--p->active == 0)
			pthread_cond_signal(&p->idle);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void pool_run(void *ctx, unsigned tasks, el_par_task_fn fn, void *arg)
{
	struct par_pool *p = ctx;

	pthread_mutex_lock(&p->lock);
	/* a late joiner of the last batch (DESIGN); it holds no task, so it leaves at once */
	while (p->active > 0)
		pthread_cond_wait(&p->idle, &p->lock);
	p->fn = fn;
	p->arg = arg;
	p->tasks = tasks;
	atomic_store_explicit(&p->next, 0, memory_order_relaxed);
	p->batch++;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);

	run_tasks(p, fn, arg, tasks, 0);

	pthread_mutex_lock(&p->lock);
	while (p->active > 0)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

int par_pool_new(unsigned threads, struct par_pool **ret)
{
	struct par_pool *p = calloc(1, sizeof(*p));
	int r = 0;

	if (!p || (threads && !(p->thread = calloc(threads, sizeof(*p->thread))))) {
		free(p);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	pthread_cond_init(&p->idle, NULL);
	atomic_init(&p->next, 0);
	p->par = (struct el_par){.lanes = 1 + threads, .run = pool_run, .ctx = p};
	for (unsigned i = 0; i < threads; i++) {
		struct par_thread *th = &p->thread[i];

		*th = (struct par_thread){.pool = p, .lane = 1 + i};
		r = -pthread_create(&th->thread, NULL, thread_main, th);
		if (r < 0)
			break;
		p->nthreads++;
	}
	if (r < 0) {
		par_pool_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

struct par_pool *par_pool_free(struct par_pool *p)
{
	if (!p)
		return NULL;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->thread[i].thread, NULL);
	pthread_cond_destroy(&p->idle);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p->thread);
	free(p);
	return NULL;
}

const struct el_par *par_pool_get(const struct par_pool *p)
{
	return &p->par;
}
