/* SPDX-License-Identifier: MIT */
/*
 * daemon/engine/workers.c: the worker pool.
 *
 * DESIGN: one job at a time. `claim` packs the job's sequence number (high 32 bits) and the next
 * unclaimed step (low 32 bits). The RT thread writes the job's level and step count into the slot
 * jobs[seq & 1], resets `done`, then publishes claim = seq << 32 (release) and bumps the futex
 * word. A worker reads claim, reads that slot's count, and takes a step with a CAS on claim;
 * the CAS succeeds only while the job is still the current one, and while a claimed step is
 * unfinished the RT thread cannot leave the job, so the level (and its plan) the worker then
 * reads is alive. A slot is rewritten only two jobs later, which also changes claim, so a
 * worker that read a stale slot fails its CAS. Slot fields are atomics: a stale read is then a
 * harmless value, not a data race.
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/el-macros.h"
#include "daemon/engine/plan.h"
#include "daemon/engine/rt-check.h"
#include "daemon/engine/workers.h"
#include "dsp/cpu.h"

struct job_slot {
	_Atomic(const struct eng_plan_level *) level;
	_Atomic uint32_t count;
};

struct worker {
	struct eng_workers *pool;
	uint32_t index;
	pthread_t thread;
	bool started;
};

struct eng_workers {
	eng_step_fn fn;
	void *userdata;
	int rt_priority;
	uint32_t max;
	uint32_t started;        /* control thread only */
	_Atomic uint32_t active; /* workers taking part */
	_Atomic int rt_refused;
	_Atomic bool stop;
	_Alignas(64) _Atomic uint64_t claim; /* seq << 32 | next step */
	_Alignas(64) _Atomic uint32_t done;  /* steps finished in the current job */
	_Alignas(64) _Atomic uint32_t wake;  /* futex word: bumped per job */
	struct job_slot jobs[2];
	uint32_t seq; /* RT thread only */
	struct worker *threads;
};

/* Set once in each worker thread: lets the RT-only paths assert they are not on one. */
static _Thread_local bool on_worker;

static void futex_wait(_Atomic uint32_t *word, uint32_t expected)
{
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word, int n)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Claims and runs steps of the current job until it has none left. Returns how many it ran. */
EL_RT static uint32_t rt_drain_job(struct eng_workers *w)
{
	uint32_t ran = 0;

	for (;;) {
		/* acquire: pairs with the RT's release of claim, so the slot written before is seen
		 */
		uint64_t c = atomic_load_explicit(&w->claim, memory_order_acquire);
		const struct job_slot *slot = &w->jobs[(c >> 32) & 1];
		/* relaxed: validated by the CAS below; a stale count only makes the CAS fail */
		uint32_t count = atomic_load_explicit(&slot->count, memory_order_relaxed);
		const struct eng_plan_level *level;

		if ((uint32_t)c >= count)
			return ran;
		/* acq_rel: the claim orders our reads of the slot before anyone can reuse it */
		if (!atomic_compare_exchange_weak_explicit(
			    &w->claim, &c, c + 1, memory_order_acq_rel, memory_order_relaxed))
			continue;
		level = atomic_load_explicit(&slot->level, memory_order_relaxed);
		w->fn(w->userdata, level, (uint32_t)c);
		/* release: the step's writes happen before the RT sees it done */
		atomic_fetch_add_explicit(&w->done, 1, memory_order_release);
		ran++;
	}
}

static void *worker_main(void *arg)
{
	struct worker *me = arg;
	struct eng_workers *w = me->pool;
	uint32_t seen = atomic_load_explicit(&w->wake, memory_order_acquire);

	on_worker = true;
	/* Same arithmetic as the RT thread: decaying tails must not fall into denormals here. */
	dsp_cpu_flush_denormals();

	for (;;) {
		uint32_t now = atomic_load_explicit(&w->wake, memory_order_acquire);

		if (atomic_load_explicit(&w->stop, memory_order_acquire))
			return NULL;
		if (now == seen) {
			futex_wait(&w->wake, seen);
			continue;
		}
		seen = now;
		if (me->index < atomic_load_explicit(&w->active, memory_order_relaxed)) {
			/* Steps run here under the same real-time rules as on the RT thread. */
			eng_rt_enter();
			rt_drain_job(w);
			eng_rt_exit();
		}
	}
}

EL_RT void eng_workers_run_level(struct eng_workers *w, const struct eng_plan_level *level,
				 bool share)
{
	uint32_t n = level->count;
	/* relaxed: the count is a hint; a worker outside it just stays asleep */
	uint32_t active = atomic_load_explicit(&w->active, memory_order_relaxed);
	struct job_slot *slot;

	if (n < 2 || active == 0 || !share) {
		for (uint32_t i = 0; i < n; i++)
			w->fn(w->userdata, level, i);
		return;
	}
	w->seq++;
	slot = &w->jobs[w->seq & 1];
	atomic_store_explicit(&slot->level, level, memory_order_relaxed);
	atomic_store_explicit(&slot->count, n, memory_order_relaxed);
	atomic_store_explicit(&w->done, 0, memory_order_relaxed);
	/* release: the slot and done are written before any worker can claim from this job */
	atomic_store_explicit(&w->claim, (uint64_t)w->seq << 32, memory_order_release);
	atomic_fetch_add_explicit(&w->wake, 1, memory_order_release);
	futex_wake(&w->wake, (int)EL_MIN(active, n - 1));
	rt_drain_job(w);
	/*
	 * The bound of this wait. The RT thread has itself run every step nobody had claimed, so
	 * what remains are steps a worker claimed, and a worker claims a step only while it is
	 * awake and running, just before running it: the wait is never for a sleeping thread
	 * (a worker woken too late finds the job drained and claims nothing). It lasts at most the
	 * longest of those steps' processing time, which is at most the level's work that the RT
	 * thread would otherwise have done alone, provided the worker keeps its CPU. Workers run
	 * SCHED_FIFO at [engine] rt_priority - 1, so only real-time threads of higher priority can
	 * preempt them (not the RT thread: it spins here on another CPU, or the worker could not
	 * have run to claim anything). Where real-time scheduling was refused (the daemon warns),
	 * the bound becomes the kernel's scheduling latency for a normal thread.
	 *
	 * There is no sound fallback beyond that: a claimed step's node state and output buffers
	 * are in use by the worker, so the RT thread can neither run the step again nor go on to
	 * the levels that read its output. A stalled worker therefore makes the cycle late (the
	 * backend counts it), exactly as a preempted RT thread would; it never makes it wrong.
	 */
	/* acquire: pairs with each worker's release of done, making its output visible */
	while (atomic_load_explicit(&w->done, memory_order_acquire) < n)
		cpu_relax();
}

bool eng_workers_on_worker(void)
{
	return on_worker;
}

static int worker_start(struct eng_workers *w, struct worker *t)
{
	pthread_attr_t attr;
	struct sched_param sp = {.sched_priority = w->rt_priority};
	int r;

	pthread_attr_init(&attr);
	if (w->rt_priority > 0) {
		pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
		pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
		pthread_attr_setschedparam(&attr, &sp);
	}
	r = pthread_create(&t->thread, &attr, worker_main, t);
	if (r == EPERM && w->rt_priority > 0) {
		/* No right to real-time scheduling: run anyway, and let the caller warn. */
		atomic_store_explicit(&w->rt_refused, 1, memory_order_relaxed);
		pthread_attr_setinheritsched(&attr, PTHREAD_INHERIT_SCHED);
		r = pthread_create(&t->thread, &attr, worker_main, t);
	}
	pthread_attr_destroy(&attr);
	if (r)
		return -r;
	t->started = true;
	return 0;
}

int eng_workers_new(uint32_t max, int rt_priority, eng_step_fn fn, void *userdata,
		    struct eng_workers **ret)
{
	struct eng_workers *w = aligned_alloc(64, EL_ALIGN_UP(sizeof(*w), 64));

	if (!w)
		return -ENOMEM;
	*w = (struct eng_workers){
		.fn = fn, .userdata = userdata, .rt_priority = rt_priority, .max = max};
	w->threads = calloc(max + 1, sizeof(*w->threads));
	if (!w->threads) {
		free(w);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < max; i++) {
		w->threads[i].pool = w;
		w->threads[i].index = i;
	}
	*ret = w;
	return 0;
}

struct eng_workers *eng_workers_free(struct eng_workers *w)
{
	if (!w)
		return NULL;
	atomic_store_explicit(&w->stop, true, memory_order_release);
	atomic_fetch_add_explicit(&w->wake, 1, memory_order_release);
	futex_wake(&w->wake, (int)w->max);
	for (uint32_t i = 0; i < w->started; i++)
		pthread_join(w->threads[i].thread, NULL);
	free(w->threads);
	free(w);
	return NULL;
}

int eng_workers_set_count(struct eng_workers *w, uint32_t n)
{
	if (n > w->max)
		return -EINVAL;
	while (w->started < n) {
		int r = worker_start(w, &w->threads[w->started]);
		if (r < 0)
			return r;
		w->started++;
	}
	atomic_store_explicit(&w->active, n, memory_order_relaxed);
	return 0;
}

uint32_t eng_workers_get_count(const struct eng_workers *w)
{
	return atomic_load_explicit(&((struct eng_workers *)w)->active, memory_order_relaxed);
}

int eng_workers_rt_refused(const struct eng_workers *w)
{
	return atomic_load_explicit(&((struct eng_workers *)w)->rt_refused, memory_order_relaxed);
}
