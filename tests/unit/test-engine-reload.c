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
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "common/el-error.h"
#include "daemon/config/config.h"
#include "daemon/engine/engine.h"
#include "tests/unit/test-engine-harness.h"

#define MAX_FRAMES (RATE * 60)
#define FREQ       441.0
#define AMPLITUDE  0.5 /* -6.02 dB */

static const char graph_a[] = "[node.t]\ntype = tone\nfreq = 441\nlevel_db = -6.0206\n"
			      "[node.outA]\ntype = output\ninput = t\n";
static const char graph_b[] = "[node.t]\ntype = tone\nfreq = 441\nlevel_db = -6.0206\n"
			      "[node.outA]\ntype = output\ninput = t\n"
			      "[node.n]\ntype = noise\nlevel_db = -20\n"
			      "[node.g]\ntype = gain\ngain_db = -3\ninput = n\n"
			      "[node.outB]\ntype = output\ninput = g\n";

static void run(unsigned workers)
{
	struct conf *a = test_engine_conf("reload.conf", TEST_ENGINE_PACED, workers, graph_a);
	struct conf *b = test_engine_conf("reload.conf", TEST_ENGINE_PACED, workers, graph_b);
	struct test_engine_rt rt;
	struct el_error err = {0};
	const float *rec_a, *rec_b;
	const double slope = 2 * M_PI * FREQ / RATE * AMPLITUDE;
	double worst_step = 0, worst_curve = 0, peak = 0, worst_b = 0;

	test_engine_rt_start(&rt, a, "/tmp", MAX_FRAMES);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(eng_engine_configure(rt.engine, i % 2 ? a : b, "/tmp", &err), 0);
	}
	test_engine_rt_stop(&rt);
	rec_a = rt.rec[0];
	rec_b = rt.rec[1];

	/* each A->B->A round trip fades in once and out once (256 frames each, at least) */
	assert_true(rt.frames > 10 * 2 * 256);
	for (size_t n = 2; n < rt.frames; n++) {
		double x = rec_a[n], x1 = rec_a[n - 1], x2 = rec_a[n - 2];
		worst_step = fmax(worst_step, fabs(x - x1));
		worst_curve = fmax(worst_curve, fabs(x - 2 * x1 + x2));
		peak = fmax(peak, fabs(x));
		/* B fades over 240 frames: a step above its own noise swing means a jump. */
		worst_b = fmax(worst_b, fabs((double)rec_b[n] - rec_b[n - 1]));
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
	test_engine_rt_done(&rt);
	conf_free(a);
	conf_free(b);
}

int main(void)
{
	return test_engine_main(run);
}
