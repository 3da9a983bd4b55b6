/* SPDX-License-Identifier: MIT */
/*
 * Property: the worker pool follows the cycle's thread and never leaves it hanging silently.
 *
 * - Priority: workers run SCHED_FIFO one below the priority the cycle's thread has, and as
 *   ordinary threads when that thread is not real-time; then no level is shared (every step
 *   runs on the calling thread), since the caller could spin on a worker waiting for a CPU.
 * - Deadline: a step a worker holds past the deadline makes the level late (its lateness is
 *   returned, for the engine to count and report), and the next levels run on the calling
 *   thread alone.
 * - Quiesce: a worker still inside a step of a cycle that was cut off (a server killed its
 *   thread mid-level) makes eng_workers_quiesce() answer -EBUSY and the pool share nothing,
 *   until the step is over.
 * - Parking: workers beyond the active count are not woken by the levels' wake-ups (their
 *   voluntary context switches do not grow while two hundred levels are shared).
 *
 * Real-time scheduling needs root (or CAP_SYS_NICE): without it the test skips (77).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/engine/plan.h"
#include "daemon/engine/workers.h"

#define MAX_STEPS 8

struct record {
	_Atomic pid_t ran_on[MAX_STEPS];
	_Atomic uint64_t hold_ns; /* a step on a worker busy-waits this long */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A step: notes which thread ran it; on a worker, holds it for hold_ns (spinning, as RT code may). */
static void step(void *userdata, const struct eng_plan_level *level, uint32_t i)
{
	struct record *r = userdata;
	uint64_t hold = atomic_load(&r->hold_ns), t0 = now_ns();

	(void)level;
	atomic_store(&r->ran_on[i], gettid());
	while (eng_workers_on_worker() && now_ns() - t0 < hold)
		;
}

/* The tids of this process's threads named name (prefix match), at most n. */
static size_t find_threads(const char *name, pid_t *ret, size_t n)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	size_t found = 0;

	assert_non_null(d);
	while ((de = readdir(d)) && found < n) {
		char path[300], comm[32] = "";
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (f && fgets(comm, sizeof(comm), f) && strncmp(comm, name, strlen(name)) == 0)
			ret[found++] = (pid_t)atoi(de->d_name);
		if (f)
			fclose(f);
	}
	closedir(d);
	return found;
}

static long voluntary_switches(pid_t tid)
{
	char path[64], line[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* A level of n dummy steps (the step function never looks at them). */
struct level_fixture {
	struct eng_plan_step *ptrs[MAX_STEPS];
	struct eng_plan_level level;
};

static void level_init(struct level_fixture *f, uint32_t n)
{
	memset(f, 0, sizeof(*f));
	f->level = (struct eng_plan_level){.steps = f->ptrs, .count = n, .share = true};
}

/* Until every worker thread exists and has named itself. */
static void wait_named(size_t n)
{
	pid_t tids[8];

	for (int i = 0; i < 2000 && find_threads("echoeld-work", tids, 8) < n; i++)
		usleep(1000);
	assert_int_equal(find_threads("echoeld-work", tids, 8), n);
}

static void test_priority_follows_the_cycle(void **state)
{
	struct record rec = {0};
	struct eng_workers *w = NULL;
	struct level_fixture f;
	struct sched_param sp;
	pid_t tids[8];
	size_t n;

	(void)state;
	assert_int_equal(eng_workers_new(2, step, &rec, &w), 0);
	assert_int_equal(eng_workers_set_count(w, 2), 0);
	wait_named(2);
	assert_int_equal(eng_workers_set_priority(w, 42), 0);
	assert_true(eng_workers_get_realtime(w));
	n = find_threads("echoeld-work", tids, 8);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(sched_getscheduler(tids[i]), SCHED_FIFO);
		assert_int_equal(sched_getparam(tids[i], &sp), 0);
		assert_int_equal(sp.sched_priority, 41);
	}

	/* A cycle without real-time scheduling: ordinary workers, nothing shared. */
	assert_int_equal(eng_workers_set_priority(w, 0), 0);
	assert_false(eng_workers_get_realtime(w));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(sched_getscheduler(tids[i]), SCHED_OTHER);
	level_init(&f, MAX_STEPS);
	for (int k = 0; k < 50; k++) {
		assert_int_equal(eng_workers_run_level(w, &f.level, true, UINT64_MAX, UINT64_MAX, 0), 0);
		for (int i = 0; i < MAX_STEPS; i++)
			assert_int_equal(atomic_load(&rec.ran_on[i]), gettid());
	}
	w = eng_workers_free(w);
}

static void test_late_level_reported(void **state)
{
	struct record rec = {0};
	struct eng_workers *w = NULL;
	struct level_fixture f;
	uint64_t late = 0, hold = 20000000; /* 20 ms: far past the 1 ms deadline below */
	uint64_t give_up = now_ns() + 20000000000ull; /* 20 s: a loaded machine's worst */
	int tries;

	(void)state;
	assert_int_equal(eng_workers_new(1, step, &rec, &w), 0);
	assert_int_equal(eng_workers_set_count(w, 1), 0);
	wait_named(1);
	assert_int_equal(eng_workers_set_priority(w, 20), 0);
	atomic_store(&rec.hold_ns, hold);
	level_init(&f, 2);
	/* The worker must wake in time to claim a step; on a loaded machine it may find the level
	 * drained by the caller (then nothing is late): try until one step ran on it, for as long
	 * as a loaded machine may take (200 tries were not always enough under a parallel build).
	 */
	for (tries = 0; !late && now_ns() < give_up; tries++) {
		memset(rec.ran_on, 0, sizeof(rec.ran_on));
		late = eng_workers_run_level(w, &f.level, true, now_ns() + 1000000, UINT64_MAX, 3);
	}
	printf("# late by %.2f ms after %d tries\n", late / 1e6, tries);
	assert_true(late > 0);
	assert_true(late < 10 * hold); /* it waited for the step, and no longer */
	assert_true(atomic_load(&rec.ran_on[0]) != gettid() ||
		    atomic_load(&rec.ran_on[1]) != gettid());
	/* The next three levels run here alone, in time. */
	for (int k = 0; k < 3; k++) {
		assert_int_equal(eng_workers_run_level(w, &f.level, true, 0, UINT64_MAX, 3), 0);
		assert_int_equal(atomic_load(&rec.ran_on[0]), gettid());
		assert_int_equal(atomic_load(&rec.ran_on[1]), gettid());
	}
	/* A cycle already past its deadline before its own share was done is late by its own
	 * work, not a worker's: nothing reported, sharing goes on (a wait under a period). */
	atomic_store(&rec.hold_ns, 2000000);
	for (int k = 0; k < 20; k++)
		assert_int_equal(eng_workers_run_level(w, &f.level, true, 1, 1000000000, 0), 0);
	w = eng_workers_free(w);
}

/* A cycle's thread running one level, which a test may treat as cut off while it waits. */
struct rt_call {
	struct eng_workers *w;
	struct level_fixture f;
	_Atomic pid_t tid;
};

static void *rt_call_main(void *arg)
{
	struct rt_call *c = arg;

	atomic_store(&c->tid, gettid());
	eng_workers_run_level(c->w, &c->f.level, true, UINT64_MAX, UINT64_MAX, 0);
	return NULL;
}

/*
 * Have both steps been taken, one by a worker (not the cycle's thread c)? Only then may the test
 * treat the cycle as cut off: closing the job while the cycle's thread still had a step to claim
 * would leave that step unrun and the thread waiting for it, which a real cut-off thread (the
 * only case eng_workers_quiesce() is for) never does.
 */
static bool worker_has_step(const struct record *rec, struct rt_call *c)
{
	pid_t a = atomic_load(&rec->ran_on[0]), b = atomic_load(&rec->ran_on[1]);
	pid_t rt = atomic_load(&c->tid);

	return a && b && (a != rt || b != rt);
}

static void test_quiesce_waits_for_a_step(void **state)
{
	struct record rec = {0};
	struct rt_call c = {0};
	pthread_t t;
	bool claimed = false;

	(void)state;
	assert_int_equal(eng_workers_new(1, step, &rec, &c.w), 0);
	assert_int_equal(eng_workers_set_count(c.w, 1), 0);
	wait_named(1);
	assert_int_equal(eng_workers_set_priority(c.w, 20), 0);
	level_init(&c.f, 2);
	/* 2 s steps on the worker: it outlasts the first quiesce below. A worker may wake too late
	 * to claim a step: try again until it has one. The cycle's thread is an ordinary thread: a
	 * worker spinning on its CPU may hold it off for a while before it runs its own step, so
	 * wait for both steps up to 1 s, less than the worker's step. */
	atomic_store(&rec.hold_ns, 2000000000);
	for (int tries = 0; tries < 50 && !claimed; tries++) {
		memset((void *)rec.ran_on, 0, sizeof(rec.ran_on));
		atomic_store(&c.tid, 0);
		assert_int_equal(pthread_create(&t, NULL, rt_call_main, &c), 0);
		for (int ms = 0; ms < 1000 && !worker_has_step(&rec, &c); ms++)
			usleep(1000);
		claimed = worker_has_step(&rec, &c);
		if (claimed) {
			/* The cycle is cut off here, as a server kills its thread mid-level. */
			assert_int_equal(eng_workers_quiesce(c.w, 10000000), -EBUSY);
			assert_false(eng_workers_get_realtime(c.w));
			assert_int_equal(eng_workers_set_priority(c.w, 20), -EBUSY);
		}
		pthread_join(t, NULL);
	}
	printf("# a worker claimed a step: %s\n", claimed ? "yes" : "no");
	assert_true(claimed);
	/* The step is over: the pool is idle, and sharing may come back. */
	assert_int_equal(eng_workers_quiesce(c.w, 1000000000), 0);
	assert_int_equal(eng_workers_set_priority(c.w, 20), 0);
	assert_true(eng_workers_get_realtime(c.w));
	c.w = eng_workers_free(c.w);
}

static void test_parked_workers_sleep(void **state)
{
	struct record rec = {0};
	struct eng_workers *w = NULL;
	struct level_fixture f;
	pid_t tids[8], parked = 0;
	long before, after;

	(void)state;
	assert_int_equal(eng_workers_new(2, step, &rec, &w), 0);
	assert_int_equal(eng_workers_set_count(w, 2), 0);
	wait_named(2);
	assert_int_equal(eng_workers_set_priority(w, 20), 0);
	assert_int_equal(eng_workers_set_count(w, 1), 0); /* worker 1 parks */
	assert_int_equal(find_threads("echoeld-work1", tids, 8), 1);
	parked = tids[0];
	usleep(20000); /* let it reach its futex */
	before = voluntary_switches(parked);
	level_init(&f, 2);
	for (int k = 0; k < 200; k++) {
		eng_workers_run_level(w, &f.level, true, UINT64_MAX, UINT64_MAX, 0);
		usleep(200); /* as between cycles: the active worker goes back to sleep */
	}
	after = voluntary_switches(parked);
	printf("# parked worker %d: %ld voluntary switches during 200 shared levels\n", parked,
	       after - before);
	assert_true(after - before <= 1);
	w = eng_workers_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_priority_follows_the_cycle),
		cmocka_unit_test(test_late_level_reported),
		cmocka_unit_test(test_quiesce_waits_for_a_step),
		cmocka_unit_test(test_parked_workers_sleep),
	};
	struct sched_param sp = {.sched_priority = 1};

	/* Can this process give threads SCHED_FIFO at all? Ask for it on this thread and drop it. */
	if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) {
		printf("# SKIP: no right to real-time scheduling (run as root or with CAP_SYS_NICE)\n");
		return 77;
	}
	sp.sched_priority = 0;
	sched_setscheduler(0, SCHED_OTHER, &sp);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
