/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-engine-harness.h: the fixture the threaded engine tests (test-engine-reload.c,
 * test-engine-replace.c, test-engine-clip.c) share — engines built from real config text
 * (conf_load_string), an RT thread paced like a sound card that records two playback channels,
 * and the main() of a test run once with no worker thread and once with one.
 *
 * The paced thread runs cycles of BLOCK frames at RATE in real time, so the control thread's
 * waits for a fade take as long as they would in the daemon; its graphs set the [engine] keys
 * TEST_ENGINE_PACED. Failures are cmocka assertions, on the control thread only.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>

#include "common/el-error.h"
#include "common/el-rt-thread.h"
#include "daemon/config/config.h"
#include "daemon/engine/engine.h"
#include "daemon/nodes/nodes.h"

#define RATE  48000
#define BLOCK 64
/* [engine] keys for the paced thread: its BLOCK, and fades of 5 ms (240 frames at RATE). */
#define TEST_ENGINE_PACED "block = 64\nfade_ms = 5\n"

/* In the RTSan build the daemon library carries the runtime: test_engine_rtsan_init(). */
void __rtsan_init(void) __attribute__((weak));

/* Turns RTSan's checks on in the RTSan build; does nothing in the others. */
static inline void test_engine_rtsan_init(void)
{
	if (__rtsan_init)
		__rtsan_init();
}

/*
 * Loads "[engine]\n" engine "workers = <workers>\n" graph, under the file name name (it appears
 * in error messages). engine: more [engine] keys, each line ending in "\n", or "". Fails the test
 * on any error. Owned by the caller: conf_free().
 */
static inline struct conf *test_engine_conf(const char *name, const char *engine, unsigned workers,
					    const char *graph)
{
	char text[2048];
	struct conf *c = NULL;
	struct el_error err = {0};
	int n;

	n = snprintf(text, sizeof(text), "[engine]\n%sworkers = %u\n%s", engine, workers, graph);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	assert_int_equal(conf_load_string(text, name, &c, &err), 0);
	return c;
}

/*
 * Thread: control. An engine with c's settings, configured to c's graph (files relative to
 * base_dir) and marked running, for the caller's RT thread to cycle. Fails the test on any error.
 * Owned by the caller: eng_engine_set_running(false) once its RT thread has stopped, then
 * eng_engine_free().
 */
static inline struct eng_engine *test_engine_new(const struct conf *c, const char *base_dir)
{
	struct eng_settings s;
	struct eng_engine *e = NULL;
	struct el_error err = {0};

	assert_int_equal(eng_settings_from_conf(c, &s, &err), 0);
	assert_int_equal(eng_engine_new(&s, node_types, &e, &err), 0);
	assert_int_equal(eng_engine_configure(e, c, base_dir, &err), 0);
	eng_engine_set_running(e, true);
	return e;
}

/* A paced RT thread cycling an engine, and what it recorded. */
struct test_engine_rt {
	struct eng_engine *engine; /* owned */
	pthread_t thread;
	_Atomic bool stop;
	size_t max_frames; /* the thread stops by itself when the recordings are full */
	size_t frames;     /* written by the RT thread, read after test_engine_rt_stop() */
	float *rec[2];     /* owned, max_frames each: playback channels 0 and 1, frame by frame */
};

/* Thread: RT. Cycles at RATE until told to stop or the recordings are full. */
static inline void *rt_test_engine_main(void *arg)
{
	struct test_engine_rt *rt = arg;
	static float a[BLOCK], b[BLOCK];
	float *playback[2] = {a, b};
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load_explicit(&rt->stop, memory_order_relaxed) &&
	       rt->frames + BLOCK <= rt->max_frames) {
		/* Paced like a sound card, so the control thread's waits measure real fades. */
		next.tv_nsec += BLOCK * 1000000000L / RATE;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		eng_engine_cycle(rt->engine, NULL, 0, playback, 2, BLOCK);
		for (size_t i = 0; i < BLOCK; i++) {
			rt->rec[0][rt->frames + i] = a[i];
			rt->rec[1][rt->frames + i] = b[i];
		}
		rt->frames += BLOCK;
	}
	return NULL;
}

/* The SCHED_FIFO priority the tests' RT threads ask for (workers then run one below). */
#define TEST_ENGINE_RT_PRIORITY 10

/*
 * Thread: control. Starts fn(arg) as e's RT thread: SCHED_FIFO when this process may (as root),
 * so levels are shared with e's workers as under a real backend; an ordinary thread otherwise,
 * and the engine runs every level itself. Fails the test on any other error.
 */
static inline void test_engine_rt_thread(struct eng_engine *e, pthread_t *ret,
					 void *(*fn)(void *), void *arg)
{
	bool realtime;

	assert_int_equal(el_rt_thread_start(ret, TEST_ENGINE_RT_PRIORITY, fn, arg, &realtime), 0);
	if (!realtime) {
		printf("# SCHED_FIFO refused: the cycle runs every level itself\n");
		return;
	}
	/* Workers that cannot be real-time are the daemon's warning, not a failure here. */
	eng_engine_set_rt_priority(e, TEST_ENGINE_RT_PRIORITY);
}

/*
 * Thread: control. Zeroes *rt, builds an engine from c (test_engine_new()) and starts the paced
 * thread on it, recording up to max_frames frames (> 0). Fails the test on any error.
 */
static inline void test_engine_rt_start(struct test_engine_rt *rt, const struct conf *c,
					const char *base_dir, size_t max_frames)
{
	*rt = (struct test_engine_rt){.max_frames = max_frames};
	rt->rec[0] = calloc(max_frames, sizeof(float));
	rt->rec[1] = calloc(max_frames, sizeof(float));
	assert_true(rt->rec[0] && rt->rec[1]);
	rt->engine = test_engine_new(c, base_dir);
	test_engine_rt_thread(rt->engine, &rt->thread, rt_test_engine_main, rt);
}

/* Thread: control. Stops and joins the paced thread; the engine is no longer running. */
static inline void test_engine_rt_stop(struct test_engine_rt *rt)
{
	atomic_store_explicit(&rt->stop, true, memory_order_relaxed);
	pthread_join(rt->thread, NULL);
	eng_engine_set_running(rt->engine, false);
}

/* Thread: control, after test_engine_rt_stop(). Frees the engine and the recordings. */
static inline void test_engine_rt_done(struct test_engine_rt *rt)
{
	rt->engine = eng_engine_free(rt->engine);
	free(rt->rec[0]);
	free(rt->rec[1]);
	rt->rec[0] = rt->rec[1] = NULL;
}

/* One case of test_engine_main(): run(workers). */
struct test_engine_case {
	void (*run)(unsigned workers);
	unsigned workers;
};

static inline void test_engine_case_run(void **state)
{
	const struct test_engine_case *c = *state;

	c->run(c->workers);
}

/*
 * The whole main() of a test that is run(0) and run(1), as test_no_workers and test_one_worker:
 * with no worker thread and with one. Turns RTSan's checks on first. Returns the exit code.
 */
static inline int test_engine_main(void (*run)(unsigned workers))
{
	struct test_engine_case none = {run, 0}, one = {run, 1};
	const struct CMUnitTest tests[] = {
		{"test_no_workers", test_engine_case_run, NULL, NULL, &none},
		{"test_one_worker", test_engine_case_run, NULL, NULL, &one},
	};

	test_engine_rtsan_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
