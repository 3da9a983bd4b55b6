/* SPDX-License-Identifier: MIT */
/*
 * Property: the limiter node keeps every sample at or below its ceiling and says what it costs.
 *  - +12 dB noise on two channels at ceiling -1 dB: no sample above 10^(-1/20), and
 *    gain_reduction_db reads the reduction (below -12 dB); quiet input after it, once released,
 *    passes delayed by the look-ahead, bit for bit (the gain back at exactly 1), and
 *    gain_reduction_db reads 0.
 *  - node.get's details give the latency: lookahead_ms in frames (5 ms: 240 at 48 kHz).
 *  - A lower ceiling set at run time holds from the look-ahead on, without a step in the gain
 *    larger than the attack's straight line; an update of the ceiling is kept in place, a new
 *    look-ahead is a new instance.
 *  - Bad values are refused naming the key.
 * The RT entry points run inside the RTSan brackets (test-node-util.h).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test-node-util.h"

extern const struct node_type node_type_limiter;

enum { P_CEILING_DB, P_RELEASE_MS, P_GAIN_REDUCTION_DB };

#define FRAMES (BLOCK * 200u)

static float sig[2][FRAMES], got[2][FRAMES];
static float *const in[2] = {sig[0], sig[1]}, *const out[2] = {got[0], got[1]};
static const unsigned stereo[] = {2};

static double param(void *l, unsigned id)
{
	double v = 1.0;

	assert_int_equal(node_type_limiter.get_param(l, id, 0, &v), 0);
	return v;
}

static float peak(size_t from, size_t to)
{
	float m = 0.0f;

	for (unsigned c = 0; c < 2; c++)
		for (size_t i = from; i < to; i++)
			m = fmaxf(m, fabsf(got[c][i]));
	return m;
}

static void test_ceiling_held(void **state)
{
	const float ceiling = (float)pow(10.0, -1.0 / 20.0);
	struct node_detail d[4];
	struct harness h;
	void *l;

	(void)state;
	harness_init(&h, stereo, 1);
	l = harness_create(
		&h, &node_type_limiter,
		"[node.l]\ntype = limiter\ninput = a\nceiling_db = -1\nrelease_ms = 10\n");
	assert_int_equal(node_type_limiter.get_details(l, d, 4), 3);
	assert_string_equal(d[0].key, "latency_frames");
	assert_true(d[0].number == 240.0);
	assert_true(fabs(d[1].number - 5.0) < 1e-9);
	assert_string_equal(d[2].key, "true_peak");
	assert_true(d[2].number == 0.0);

	harness_fill_noise(in, 2, FRAMES, 4.0, 1);
	harness_run(&node_type_limiter, l, in, 2, out, 2, 0, FRAMES);
	printf("# +12 dB noise: peak out %.6f (ceiling %.6f), reduction %.1f dB\n", peak(0, FRAMES),
	       ceiling, param(l, P_GAIN_REDUCTION_DB));
	assert_true(peak(0, FRAMES) <= ceiling);
	assert_true(param(l, P_GAIN_REDUCTION_DB) < -12.0);

	harness_fill_noise(in, 2, FRAMES, 0.5, 2);
	harness_run(&node_type_limiter, l, in, 2, out, 2, 0, FRAMES);
	for (unsigned c = 0; c < 2; c++) /* once the loud part has been released (10 ms) */
		for (size_t i = FRAMES / 2; i < FRAMES; i++)
			if (got[c][i] != sig[c][i - 240])
				fail_msg("frame %zu: %g, not the input's %g", i, got[c][i],
					 sig[c][i - 240]);
	assert_true(param(l, P_GAIN_REDUCTION_DB) == 0.0);
	node_type_limiter.destroy(l);

	/* true_peak: the detector's 12 frames more latency, reported, and the ceiling held */
	l = harness_create(
		&h, &node_type_limiter,
		"[node.l]\ntype = limiter\ninput = a\nceiling_db = -1\ntrue_peak = yes\n");
	assert_int_equal(node_type_limiter.get_details(l, d, 4), 3);
	assert_true(d[0].number == 240.0 + 12.0 && d[2].number == 1.0);
	assert_int_equal(node_type_limiter.get_latency(l), 252);
	harness_fill_noise(in, 2, FRAMES, 4.0, 1);
	harness_run(&node_type_limiter, l, in, 2, out, 2, 0, FRAMES);
	assert_true(peak(0, FRAMES) <= ceiling);
	node_type_limiter.destroy(l);
	harness_done(&h);
}

static void test_set_and_update(void **state)
{
	const size_t at = BLOCK * 20;
	const double half = pow(10.0, -6.0 / 20.0);
	struct harness h;
	void *l, *update = NULL;
	double worst = 0.0;

	(void)state;
	harness_init(&h, stereo, 1);
	l = harness_create(&h, &node_type_limiter,
			   "[node.l]\ntype = limiter\ninput = a\nceiling_db = 0\n");
	for (size_t i = 0; i < FRAMES; i++)
		sig[0][i] = sig[1][i] = 0.9f;
	harness_run(&node_type_limiter, l, in, 2, out, 2, 0, at);
	assert_int_equal(harness_set(&node_type_limiter, l, P_CEILING_DB, -6.0), 0);
	harness_run(&node_type_limiter, l, in, 2, out, 2, at, FRAMES);
	assert_true(peak(at + 241, FRAMES) <= (float)half);
	for (size_t i = at + 1; i < FRAMES; i++)
		worst = fmax(worst, fabs((double)got[0][i] - got[0][i - 1]));
	printf("# ceiling 0 -> -6 dB on DC 0.9: largest step %.6f (the attack's line: %.6f)\n",
	       worst, (0.9 - half) / 241);
	assert_true(worst <= (0.9 - half) / 241 * 1.001);
	assert_true(param(l, P_CEILING_DB) == -6.0);
	/* an update of the ceiling stays in place; a new look-ahead does not */
	assert_int_equal(harness_call(&h, &node_type_limiter, l,
				      "[node.l]\ntype = limiter\ninput = a\nceiling_db = -3\n",
				      &update),
			 0);
	assert_non_null(update);
	harness_apply(&node_type_limiter, l, update);
	node_type_limiter.update_free(update);
	assert_true(param(l, P_CEILING_DB) == -3.0);
	assert_int_equal(harness_call(&h, &node_type_limiter, l,
				      "[node.l]\ntype = limiter\ninput = a\nlookahead_ms = 2\n",
				      &update),
			 -EOPNOTSUPP);
	node_type_limiter.destroy(l);
	harness_done(&h);
}

static void test_bad_config(void **state)
{
	struct harness h;

	(void)state;
	harness_init(&h, stereo, 1);
	assert_string_equal(
		harness_error(&h, &node_type_limiter,
			      "[node.l]\ntype = limiter\ninput = a\nceiling_db = 3\n", -EINVAL),
		"test.conf:4: key 'ceiling_db': expected a number from -60 to 0, got '3'");
	assert_string_equal(
		harness_error(&h, &node_type_limiter,
			      "[node.l]\ntype = limiter\ninput = a\nlookahead_ms = 500\n", -EINVAL),
		"test.conf:4: key 'lookahead_ms': expected a number from 0.05 to 100, got '500'");
	harness_done(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ceiling_held),
		cmocka_unit_test(test_set_and_update),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
