/* SPDX-License-Identifier: MIT */
/*
 * Property: a queued parameter change never outlives the plan it was queued against.
 *
 * - Stopped: a change queued while a backend ran cycles is still in the ring when the backend
 *   stops (a JACK server going away); while stopped, a reload drops the node and its instance is
 *   freed at once; when cycles resume, the stale change must not reach the freed instance
 *   (AddressSanitizer: heap-use-after-free before the fix). It is applied when the engine stops,
 *   so a value set while stopped is not undone by an older one when cycles resume.
 * - Order: a change queued before a batch is applied before the batch's own changes, in the
 *   cycle that adopts the batch's plan: the later request wins.
 * - Running: a real RT thread cycles while the control thread queues changes to a node and
 *   reloads between a graph with it and one without it, a hundred times each way; every change lands
 *   on a live instance or is dropped and counted (AddressSanitizer, and TSan in suite 'threads').
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "common/el-error.h"
#include "daemon/config/config.h"
#include "daemon/engine/engine.h"
#include "tests/unit/test-engine-harness.h"

static const char with_g[] = "[node.t]\ntype = tone\nfreq = 441\nlevel_db = -20\n"
			     "[node.g]\ntype = gain\ngain_db = -3\ninput = t\n"
			     "[node.out]\ntype = output\ninput = g\n";
static const char without_g[] = "[node.t]\ntype = tone\nfreq = 441\nlevel_db = -20\n"
				"[node.out]\ntype = output\ninput = t\n";

static void set_gain(struct eng_engine *e, double db)
{
	struct el_error err = {0};

	assert_int_equal(eng_engine_set_param(e, "g", "gain_db", db, &err), 0);
}

static double get_gain(struct eng_engine *e)
{
	struct el_error err = {0};
	double v = 0;

	assert_int_equal(eng_engine_get_param(e, "g", "gain_db", 0, &v, &err), 0);
	return v;
}

static void test_stale_command_after_stop(void **state)
{
	struct conf *a = test_engine_conf("cmd.conf", "", 0, with_g);
	struct conf *b = test_engine_conf("cmd.conf", "", 0, without_g);
	struct eng_engine *e = test_engine_new(a, "/tmp");
	struct el_error err = {0};
	static float l[BLOCK], r[BLOCK];
	float *playback[2] = {l, r};
	struct eng_stats st;

	(void)state;
	/* Running, but no cycle yet: the changes wait in the ring. */
	set_gain(e, -12);
	set_gain(e, -9);
	eng_engine_set_running(e, false); /* the server went away */
	assert_true(get_gain(e) == -9);   /* applied on stopping, in order */
	set_gain(e, -6);                  /* stopped: applied at once */
	assert_true(get_gain(e) == -6);

	/* Stopped, a reload without g frees g's instance at once; the server comes back. */
	assert_int_equal(eng_engine_configure(e, b, "/tmp", &err), 0);
	eng_engine_set_running(e, true);
	for (int i = 0; i < 4; i++)
		eng_engine_cycle(e, NULL, 0, playback, 2, BLOCK);
	eng_engine_get_stats(e, false, &st);
	assert_int_equal(st.cycles, 4);
	eng_engine_set_running(e, false);

	/* And back: g is a new instance with the file's value, not a stale one. */
	assert_int_equal(eng_engine_configure(e, a, "/tmp", &err), 0);
	assert_true(get_gain(e) == -3);
	e = eng_engine_free(e);
	conf_free(a);
	conf_free(b);
}

/*
 * A full command ring says -EAGAIN (try again: the control socket answers `busy`), not -ENOSPC,
 * which is an exhausted buffer pool (a graph that does not fit: `conflict`).
 */
static void test_full_queue_is_eagain(void **state)
{
	struct conf *a = test_engine_conf("cmd.conf", "", 0, with_g);
	struct eng_engine *e = test_engine_new(a, "/tmp");
	struct el_error err = {0};
	int r = 0;

	(void)state;
	eng_engine_set_running(e, true); /* no cycle runs: the ring fills */
	for (int i = 0; i < 1 << 20 && r == 0; i++)
		r = eng_engine_set_param(e, "g", "gain_db", -1, &err);
	assert_int_equal(r, -EAGAIN);
	assert_string_equal(err.message, "too many changes queued; try again");
	eng_engine_set_running(e, false);
	e = eng_engine_free(e);
	conf_free(a);
}

struct batch_call {
	struct eng_engine *engine;
	const struct conf *conf;
	_Atomic bool done;
	int result;
};

static void *batch_main(void *arg)
{
	struct batch_call *b = arg;
	const struct eng_param_set set = {"g", "gain_db", -6};
	struct el_error err = {0};

	b->result = eng_engine_configure_batch(b->engine, b->conf, "/tmp", &set, 1, &err);
	atomic_store(&b->done, true);
	return NULL;
}

static void test_queued_before_batch(void **state)
{
	struct conf *a = test_engine_conf("cmd.conf", "", 0, with_g);
	struct batch_call b = {.conf = a};
	static float l[BLOCK], r[BLOCK];
	float *playback[2] = {l, r};
	const struct timespec compile_time = {0, 100000000};
	pthread_t t;

	(void)state;
	b.engine = test_engine_new(a, "/tmp");
	set_gain(b.engine, -12); /* queued: no cycle has run */
	/* The batch (the same graph, so its plan is published at once) comes after the set: the
	 * cycles start only once it has had time to be compiled, so the first cycle finds both. */
	assert_int_equal(pthread_create(&t, NULL, batch_main, &b), 0);
	nanosleep(&compile_time, NULL);
	while (!atomic_load(&b.done))
		eng_engine_cycle(b.engine, NULL, 0, playback, 2, BLOCK);
	pthread_join(t, NULL);
	assert_int_equal(b.result, 0);
	eng_engine_set_running(b.engine, false);
	assert_true(get_gain(b.engine) == -6); /* the later request wins */
	b.engine = eng_engine_free(b.engine);
	conf_free(a);
}

static void run_racing_reloads(unsigned workers)
{
	struct conf *a = test_engine_conf("cmd.conf", TEST_ENGINE_PACED, workers, with_g);
	struct conf *b = test_engine_conf("cmd.conf", TEST_ENGINE_PACED, workers, without_g);
	struct test_engine_rt rt;
	struct el_error err = {0};
	struct eng_stats st;

	test_engine_rt_start(&rt, a, "/tmp", RATE * 60);
	for (int i = 0; i < 100; i++) {
		/* The changes are still queued when the reload that drops g is published. */
		for (int k = 0; k < 8; k++)
			set_gain(rt.engine, -(double)(k + i % 20));
		assert_int_equal(eng_engine_configure(rt.engine, b, "/tmp", &err), 0);
		assert_int_equal(eng_engine_configure(rt.engine, a, "/tmp", &err), 0);
	}
	test_engine_rt_stop(&rt);
	eng_engine_get_stats(rt.engine, false, &st);
	printf("# workers %u: %llu cycles, %llu changes dropped\n", workers,
	       (unsigned long long)st.cycles, (unsigned long long)st.commands_dropped);
	test_engine_rt_done(&rt);
	conf_free(a);
	conf_free(b);
}

static void test_racing_reloads_no_workers(void **state)
{
	(void)state;
	run_racing_reloads(0);
}

static void test_racing_reloads_one_worker(void **state)
{
	(void)state;
	run_racing_reloads(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stale_command_after_stop),
		cmocka_unit_test(test_full_queue_is_eagain),
		cmocka_unit_test(test_queued_before_batch),
		cmocka_unit_test(test_racing_reloads_no_workers),
		cmocka_unit_test(test_racing_reloads_one_worker),
	};

	test_engine_rtsan_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
