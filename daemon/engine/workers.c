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
 *
 * Waking. Workers taking part wait on `wake`; the others (index >= active) are parked on
 * `park`, so the RT thread's futex wake of at most `active` threads reaches only workers that
 * will claim steps. A change of the count bumps both words and wakes everyone to re-sort.
 *
 * Priority. Workers run one below the cycle's thread (eng_workers_set_priority()), whatever
 * backend owns that thread; when either is not real-time nothing is shared (`realtime`).
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
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
	int priority; /* control thread only: SCHED_FIFO priority of the workers, 0 for none */
	uint32_t max;
	uint32_t started;          /* control thread only */
	_Atomic uint32_t active;   /* workers taking part */
	_Atomic bool realtime;     /* control -> RT: workers run real-time below the cycle */
	_Atomic bool stop;
	_Atomic uint32_t park;     /* futex word of the parked workers: bumped per count change */
	uint32_t fallback_left;    /* RT thread only: levels still to run alone after a late one */
	_Atomic uint32_t busy;     /* workers inside rt_drain_job() */
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

/* A worker not taking part sleeps on `park` until the count changes. */
static bool parked(struct worker *me)
{
	struct eng_workers *w = me->pool;
	/* acquire: pairs with eng_workers_set_count()'s release of park, after its store of active */
	uint32_t p = atomic_load_explicit(&w->park, memory_order_acquire);

	if (me->index < atomic_load_explicit(&w->active, memory_order_relaxed))
		return false;
	futex_wait(&w->park, p);
	return true;
}

static void *worker_main(void *arg)
{
	struct worker *me = arg;
	struct eng_workers *w = me->pool;
	uint32_t seen = atomic_load_explicit(&w->wake, memory_order_acquire);

	char name[16];

	/* Named, so a trace or a test can tell the workers apart (the kernel keeps 15 bytes). */
	snprintf(name, sizeof(name), "echoeld-work%u", me->index);
	pthread_setname_np(pthread_self(), name);
	on_worker = true;
	/* Same arithmetic as the RT thread: decaying tails must not fall into denormals here. */
	dsp_cpu_flush_denormals();

	for (;;) {
		uint32_t now = atomic_load_explicit(&w->wake, memory_order_acquire);

		if (atomic_load_explicit(&w->stop, memory_order_acquire))
			return NULL;
		if (parked(me))
			continue;
		if (now == seen) {
			futex_wait(&w->wake, seen);
			continue;
		}
		seen = now;
		/* seq_cst: with eng_workers_quiesce()'s store of a closed claim and load of busy, either
		 * this drain finds the job closed or the control thread sees it busy and waits */
		atomic_fetch_add_explicit(&w->busy, 1, memory_order_seq_cst);
		/* Steps run here under the same real-time rules as on the RT thread. */
		eng_rt_enter();
		rt_drain_job(w);
		eng_rt_exit();
		/* release: the steps' writes happen before quiesce() sees this worker idle */
		atomic_fetch_sub_explicit(&w->busy, 1, memory_order_release);
	}
}

EL_RT static uint64_t rt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Waits until every step of the job has finished: what remains are steps a worker claimed (see
 * eng_workers_run_level()). Returns how far past deadline_ns the level ended when a worker made
 * it late: the RT thread had finished its own share in time, or then waited longer than a whole
 * period. A cycle that was already late by its own work is not blamed on a worker (the backend
 * counts that as a late cycle or an xrun), so an overload does not switch sharing off.
 */
EL_RT static uint64_t rt_wait_done(struct eng_workers *w, uint32_t n, uint64_t deadline_ns,
				   uint64_t period_ns)
{
	uint64_t start, end;

	/* acquire: pairs with each worker's release of done, making its output visible */
	if (atomic_load_explicit(&w->done, memory_order_acquire) >= n)
		return 0;
	start = rt_now_ns();
	while (atomic_load_explicit(&w->done, memory_order_acquire) < n)
		cpu_relax();
	end = rt_now_ns();
	if (end > deadline_ns && (start <= deadline_ns || end - start > period_ns))
		return end - deadline_ns;
	return 0;
}

EL_RT uint64_t eng_workers_run_level(struct eng_workers *w, const struct eng_plan_level *level,
				     bool share, uint64_t deadline_ns, uint64_t period_ns,
				     uint32_t fallback_levels)
{
	uint32_t n = level->count;
	/* relaxed: the count is a hint; a worker outside it just stays parked */
	uint32_t active = atomic_load_explicit(&w->active, memory_order_relaxed);
	/* relaxed: a hint too; the priorities it stands for were set before it was stored */
	bool realtime = atomic_load_explicit(&w->realtime, memory_order_relaxed);
	struct job_slot *slot;
	uint64_t late;

	bool alone = w->fallback_left > 0;

	if (alone)
		w->fallback_left--;
	if (n < 2 || active == 0 || !share || !realtime || alone) {
		for (uint32_t i = 0; i < n; i++)
			w->fn(w->userdata, level, i);
		return 0;
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
	 * longest of those steps' processing time, provided the worker keeps its CPU: workers run
	 * SCHED_FIFO one below the cycle's thread (levels are not shared otherwise), so only
	 * real-time threads above the cycle can preempt them.
	 *
	 * A claimed step's node state and output buffers are in use by the worker, so the RT
	 * thread can neither run the step again nor go on to the levels that read its output: it
	 * waits on. Past the deadline the level is late: the caller reports it, and the next levels
	 * run here alone, so a worker that stalls (a debugger, a higher real-time thread) costs one
	 * late level, not one per level, until sharing is tried again.
	 */
	late = rt_wait_done(w, n, deadline_ns, period_ns);
	if (late)
		w->fallback_left = fallback_levels;
	return late;
}

bool eng_workers_on_worker(void)
{
	return on_worker;
}

/* Thread: control. Sets thread t's scheduling to the pool's priority (normal when 0). */
static int worker_apply_priority(const struct eng_workers *w, pthread_t t)
{
	struct sched_param sp = {.sched_priority = w->priority};

	return -pthread_setschedparam(t, w->priority > 0 ? SCHED_FIFO : SCHED_OTHER, &sp);
}

static int worker_start(struct eng_workers *w, struct worker *t)
{
	int r = pthread_create(&t->thread, NULL, worker_main, t);

	if (r)
		return -r;
	t->started = true;
	/* A refusal here can only come after a successful set_priority() lost its right:
	 * share nothing rather than spin on an ordinary thread. */
	if (worker_apply_priority(w, t->thread) < 0)
		atomic_store_explicit(&w->realtime, false, memory_order_relaxed);
	return 0;
}

int eng_workers_new(uint32_t max, eng_step_fn fn, void *userdata, struct eng_workers **ret)
{
	struct eng_workers *w = aligned_alloc(64, EL_ALIGN_UP(sizeof(*w), 64));

	if (!w)
		return -ENOMEM;
	*w = (struct eng_workers){.fn = fn, .userdata = userdata, .max = max};
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

/* Every worker re-reads active: parked ones may take part now, others may have to park. */
static void wake_all(struct eng_workers *w)
{
	/* release: pairs with the workers' acquire of park and wake, after the store of active */
	atomic_fetch_add_explicit(&w->park, 1, memory_order_release);
	atomic_fetch_add_explicit(&w->wake, 1, memory_order_release);
	futex_wake(&w->park, (int)w->max);
	futex_wake(&w->wake, (int)w->max);
}

struct eng_workers *eng_workers_free(struct eng_workers *w)
{
	if (!w)
		return NULL;
	atomic_store_explicit(&w->stop, true, memory_order_release);
	wake_all(w);
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
	wake_all(w);
	return 0;
}

int eng_workers_quiesce(struct eng_workers *w, uint64_t timeout_ns)
{
	const struct timespec tick = {0, 1000000}; /* 1 ms: a step is far shorter */
	uint64_t waited = 0;

	/* Close the job: no step left to claim. The RT thread, which owns claim, is stopped; its
	 * next level opens a new job. seq_cst: see worker_main(). */
	atomic_store_explicit(&w->claim, ((uint64_t)w->seq << 32) | UINT32_MAX,
			      memory_order_seq_cst);
	while (atomic_load_explicit(&w->busy, memory_order_seq_cst) > 0) {
		if (waited >= timeout_ns) {
			/* Share nothing until it comes back (eng_workers_set_priority()). */
			atomic_store_explicit(&w->realtime, false, memory_order_relaxed);
			return -EBUSY;
		}
		nanosleep(&tick, NULL);
		waited += 1000000;
	}
	return 0;
}

int eng_workers_set_priority(struct eng_workers *w, int priority)
{
	int r = 0;

	/* A worker still inside a step of a cycle that was cut off would count into the next
	 * job's done: share nothing until it has left. */
	if (atomic_load_explicit(&w->busy, memory_order_acquire) > 0) {
		atomic_store_explicit(&w->realtime, false, memory_order_relaxed);
		return -EBUSY;
	}

	/* Ordinary threads first: no level is shared while priorities change. */
	atomic_store_explicit(&w->realtime, false, memory_order_relaxed);
	w->priority = priority > 1 ? priority - 1 : priority > 0 ? 1 : 0;
	for (uint32_t i = 0; i < w->started && r == 0; i++)
		r = worker_apply_priority(w, w->threads[i].thread);
	if (r < 0) {
		w->priority = 0;
		for (uint32_t i = 0; i < w->started; i++)
			worker_apply_priority(w, w->threads[i].thread);
		return r;
	}
	/* relaxed: the RT thread only reads it as a hint; the priorities are set already */
	atomic_store_explicit(&w->realtime, w->priority > 0, memory_order_relaxed);
	return 0;
}

uint32_t eng_workers_get_count(const struct eng_workers *w)
{
	return atomic_load_explicit(&((struct eng_workers *)w)->active, memory_order_relaxed);
}

bool eng_workers_get_realtime(const struct eng_workers *w)
{
	return atomic_load_explicit(&((struct eng_workers *)w)->realtime, memory_order_relaxed);
}
