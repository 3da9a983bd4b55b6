/* SPDX-License-Identifier: MIT */
/*
 * Property: reconfiguring a running engine leaves the untouched part of the graph
 * sample-continuous. A real RT thread runs cycles while the control thread switches twenty
 * times between a graph with one branch (tone -> output A) and one with a second branch added
 * (noise -> gain -> output B). Output A, recorded across all switches, must stay a clean sine:
 * no sample-to-sample step beyond the sine's own slope and no second difference beyond its
 * curvature (a dropped, repeated or faded block would break either by an order of magnitude).
 * Output B (noise) is only checked for a sane level. Run with 0 and 1 worker threads, and in the
 * TSan build, since the control thread, the RT thread and the workers all meet here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>

#include "common/el-error.h"
#include "daemon/config.h"
#include "daemon/engine/engine.h"

#define BLOCK      64
#define RATE       48000
#define MAX_FRAMES (RATE * 60)
#define FREQ       441.0
#define AMPLITUDE  0.5 /* -6.02 dB */

/* In the RTSan build the daemon library carries the runtime: turn its checks on. */
void __rtsan_init(void) __attribute__((weak));

static const char graph_a[] = "[node.t]\ntype = tone\nfreq = 441\nlevel_db = -6.0206\n"
			      "[node.outA]\ntype = output\ninput = t\n";
static const char graph_b[] = "[node.t]\ntype = tone\nfreq = 441\nlevel_db = -6.0206\n"
			      "[node.outA]\ntype = output\ninput = t\n"
			      "[node.n]\ntype = noise\nlevel_db = -20\n"
			      "[node.g]\ntype = gain\ngain_db = -3\ninput = n\n"
			      "[node.outB]\ntype = output\ninput = g\n";

struct rt {
	struct eng_engine *engine;
	_Atomic bool stop;
	size_t frames; /* written by the RT thread, read after join */
	float *rec_a, *rec_b;
};

static void *rt_main(void *arg)
{
	struct rt *rt = arg;
	static float a[BLOCK], b[BLOCK];
	float *playback[2] = {a, b};
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load_explicit(&rt->stop, memory_order_relaxed) &&
	       rt->frames + BLOCK <= MAX_FRAMES) {
		/* Paced like a sound card, so the control thread's waits measure real fades. */
		next.tv_nsec += BLOCK * 1000000000L / RATE;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		eng_engine_cycle(rt->engine, NULL, 0, playback, 2, BLOCK);
		for (size_t i = 0; i < BLOCK; i++) {
			rt->rec_a[rt->frames + i] = a[i];
			rt->rec_b[rt->frames + i] = b[i];
		}
		rt->frames += BLOCK;
	}
	return NULL;
}

static struct conf *load(const char *graph, unsigned workers)
{
	char text[1024];
	struct conf *c = NULL;
	struct el_error err = {0};

	snprintf(text, sizeof(text), "[engine]\nblock = 64\nfade_ms = 5\nworkers = %u\n%s", workers,
		 graph);
	assert_int_equal(conf_load_string(text, "reload.conf", &c, &err), 0);
	return c;
}

static void run(unsigned workers)
{
	struct conf *a = load(graph_a, workers), *b = load(graph_b, workers);
	struct eng_settings s;
	struct rt rt = {0};
	struct el_error err = {0};
	pthread_t t;
	const double slope = 2 * M_PI * FREQ / RATE * AMPLITUDE;
	double worst_step = 0, worst_curve = 0, peak = 0, worst_b = 0;

	rt.rec_a = calloc(MAX_FRAMES, sizeof(float));
	rt.rec_b = calloc(MAX_FRAMES, sizeof(float));
	assert_true(rt.rec_a && rt.rec_b);
	assert_int_equal(eng_settings_from_conf(a, &s, &err), 0);
	assert_int_equal(eng_engine_new(&s, &rt.engine, &err), 0);
	assert_int_equal(eng_engine_configure(rt.engine, a, "/tmp", &err), 0);
	eng_engine_set_running(rt.engine, true);
	assert_int_equal(pthread_create(&t, NULL, rt_main, &rt), 0);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(eng_engine_configure(rt.engine, i % 2 ? a : b, "/tmp", &err), 0);
	}
	atomic_store_explicit(&rt.stop, true, memory_order_relaxed);
	pthread_join(t, NULL);
	eng_engine_set_running(rt.engine, false);

	/* each A->B->A round trip fades in once and out once (256 frames each, at least) */
	assert_true(rt.frames > 10 * 2 * 256);
	for (size_t n = 2; n < rt.frames; n++) {
		double x = rt.rec_a[n], x1 = rt.rec_a[n - 1], x2 = rt.rec_a[n - 2];
		worst_step = fmax(worst_step, fabs(x - x1));
		worst_curve = fmax(worst_curve, fabs(x - 2 * x1 + x2));
		peak = fmax(peak, fabs(x));
		/* B fades over 240 frames: a step above its own noise swing means a jump. */
		worst_b = fmax(worst_b, fabs((double)rt.rec_b[n] - rt.rec_b[n - 1]));
	}
	printf("# workers %u: %zu frames, A peak %.4f, worst step %.5f (sine slope %.5f), "
	       "worst 2nd difference %.6f (curvature %.6f); B worst step %.4f\n",
	       workers, rt.frames, peak, worst_step, slope, worst_curve,
	       slope * 2 * M_PI * FREQ / RATE, worst_b);
	assert_true(fabs(peak - AMPLITUDE) < 1e-3);
	assert_true(worst_step <= slope * 1.001 + 1e-6);
	assert_true(worst_curve <= slope * 2 * M_PI * FREQ / RATE * 1.01 + 1e-6);
	/* Uniform noise at -20 dB RMS peaks at 0.1 * sqrt(3); after -3 dB no two samples differ
	 * more than twice that. A sanity check of B's level, not of its fades. */
	assert_true(worst_b <= 2 * 0.1 * sqrt(3.0) * pow(10, -3 / 20.0) + 1e-4);
	eng_engine_free(rt.engine);
	conf_free(a);
	conf_free(b);
	free(rt.rec_a);
	free(rt.rec_b);
}

static void test_no_workers(void **state)
{
	(void)state;
	run(0);
}

static void test_one_worker(void **state)
{
	(void)state;
	run(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_workers),
		cmocka_unit_test(test_one_worker),
	};

	if (__rtsan_init)
		__rtsan_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
