/* SPDX-License-Identifier: MIT */
/*
 * Property: the mix node outputs sum over inputs g of gain_g * input_g, channel by channel (to
 * float rounding; a single input at 0 dB bit-exact), and a gains update ramps each gain linearly
 * over fade_frames without a step. Inputs of unequal width and a gains list of the wrong
 * length are refused with `FILE:LINE: key 'K': ...`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/engine/node.h"
#include "tests/unit/test-node-util.h"

extern const struct node_type node_type_mix;

#define FRAMES (BLOCK * 20u)

static float sig[6][FRAMES], got[2][FRAMES];
static float *const in[6] = {sig[0], sig[1], sig[2], sig[3], sig[4], sig[5]};
static float *const out[2] = {got[0], got[1]};

/* Three stereo inputs at 0, -6 and +3.5 dB: each output sample within float rounding. */
static void test_weighted_sum(void **state)
{
	static const unsigned groups[] = {2, 2, 2};
	const double g[3] = {1.0, pow(10.0, -6.0 / 20.0), pow(10.0, 3.5 / 20.0)};
	struct harness h;
	double worst = 0.0;
	void *m;

	(void)state;
	harness_fill_noise(in, 6, FRAMES, 1.0, 5);
	harness_init(&h, groups, 3);
	m = harness_create(&h, &node_type_mix,
			   "[node.m]\ntype = mix\ninput = a, b, c\ngains = 0, -6, 3.5\n");
	assert_int_equal(node_type_mix.get_out_channels(m), 2);
	assert_int_equal(harness_tail(&node_type_mix, m), 0);
	harness_run(&node_type_mix, m, in, 6, out, 2, 0, FRAMES);
	for (unsigned c = 0; c < 2; c++)
		for (size_t i = 0; i < FRAMES; i++) {
			double want = 0.0, mag = 0.0;

			for (unsigned k = 0; k < 3; k++) {
				want += g[k] * sig[2 * k + c][i];
				mag += fabs(g[k] * sig[2 * k + c][i]);
			}
			/* three roundings of the products and two of the sums, each <= eps/2 */
			worst = fmax(worst, fabs(got[c][i] - want) / (mag * FLT_EPSILON));
			assert_true(fabs(got[c][i] - want) <= 3.0 * FLT_EPSILON * mag);
		}
	printf("# worst error %.2f float epsilons of the operands' magnitude\n", worst);
	node_type_mix.destroy(m);
	harness_done(&h);
}

/* One input, no gains: bit-exact; silent input reported silent. */
static void test_single_unity(void **state)
{
	static const unsigned groups[] = {2};
	struct harness h;
	void *m;

	(void)state;
	harness_fill_noise(in, 2, FRAMES, 1.0, 6);
	harness_init(&h, groups, 1);
	m = harness_create(&h, &node_type_mix, "[node.m]\ntype = mix\ninput = a\n");
	assert_false(harness_run(&node_type_mix, m, in, 2, out, 2, 0, FRAMES));
	assert_memory_equal(sig[0], got[0], sizeof(got[0]));
	assert_memory_equal(sig[1], got[1], sizeof(got[1]));
	memset(sig, 0, sizeof(sig));
	assert_true(harness_run(&node_type_mix, m, in, 2, out, 2, 0, FRAMES));
	node_type_mix.destroy(m);
	harness_done(&h);
}

/*
 * Two mono inputs of DC 1.0 and 0.5 at 0 dB; the update moves them to -6 dB and mute (-120).
 * The output is g_a + 0.5 g_b: it must move by a constant step for FADE frames and then hold,
 * with no step larger than the two ramps' slopes together.
 */
static void test_update_ramps(void **state)
{
	static const unsigned groups[] = {1, 1};
	const double ga = pow(10.0, -6.0 / 20.0), gb = 1e-6;
	const double y0 = 1.5, y1 = ga + 0.5 * gb, at = BLOCK * 4;
	struct harness h;
	void *m, *u = NULL;
	double worst = 0.0;

	(void)state;
	for (size_t i = 0; i < FRAMES; i++)
		sig[0][i] = 1.0f, sig[1][i] = 0.5f;
	harness_init(&h, groups, 2);
	m = harness_create(&h, &node_type_mix, "[node.m]\ntype = mix\ninput = a, b\n");
	assert_int_equal(harness_call(&h, &node_type_mix, m,
				      "[node.m]\ntype = mix\ninput = a, b\ngains = 0,0\n", &u),
			 0);
	assert_null(u);
	assert_int_equal(harness_call(&h, &node_type_mix, m,
				      "[node.m]\ntype = mix\ninput = a, b\ngains = -6, -120\n", &u),
			 0);
	assert_non_null(u);
	harness_run(&node_type_mix, m, in, 2, out, 1, 0, (size_t)at);
	harness_apply(&node_type_mix, m, u);
	node_type_mix.update_free(u);
	harness_run(&node_type_mix, m, in, 2, out, 1, (size_t)at, FRAMES);
	for (size_t i = 0; i < FRAMES; i++) {
		double k = fmin(fmax(((double)i - at) / FADE, 0.0), 1.0);
		double want = y0 + (y1 - y0) * k;

		if (fabs(got[0][i] - want) > 1e-6)
			fail_msg("frame %zu: got %.9f, want %.9f", i, got[0][i], want);
		if (i)
			worst = fmax(worst, fabs((double)got[0][i] - got[0][i - 1]));
	}
	printf("# largest step %.6f, ramp slope %.6f\n", worst, (y0 - y1) / FADE);
	assert_true(worst <= (y0 - y1) / FADE + 1e-6);
	node_type_mix.destroy(m);
	harness_done(&h);
}

static void test_bad_config(void **state)
{
	static const unsigned uneven[] = {2, 2, 1}, two[] = {2, 2};
	struct harness h;

	(void)state;
	harness_init(&h, uneven, 3);
	assert_string_equal(harness_error(&h, &node_type_mix,
					  "[node.m]\ntype = mix\ninput = a, b, c\n", -EINVAL),
			    "test.conf:3: key 'input': channel mismatch: mix inputs must have the "
			    "same channel count (input 1 has 2, input 3 has 1)");
	harness_done(&h);
	harness_init(&h, two, 2);
	assert_string_equal(harness_error(&h, &node_type_mix,
					  "[node.m]\ntype = mix\ninput = a, b\ngains = -3\n",
					  -EINVAL),
			    "test.conf:4: key 'gains': expected 2 values (one per input), got 1");
	assert_string_equal(
		harness_error(&h, &node_type_mix,
			      "[node.m]\ntype = mix\ninput = a, b\ngains = 0, 0, 0\n", -EINVAL),
		"test.conf:4: key 'gains': expected a comma-separated list of at most 2 "
		"numbers from -120 to 24, got '0, 0, 0'");
	assert_string_equal(
		harness_error(&h, &node_type_mix,
			      "[node.m]\ntype = mix\ninput = a, b\ngains = 0, 25\n", -EINVAL),
		"test.conf:4: key 'gains': expected a comma-separated list of at most 2 "
		"numbers from -120 to 24, got '0, 25'");
	harness_done(&h);
	harness_init(&h, NULL, 0);
	assert_string_equal(harness_error(&h, &node_type_mix, "[node.m]\ntype = mix\n", -EINVAL),
			    "test.conf:1: [node.m]: a mix needs an input");
	harness_done(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weighted_sum),
		cmocka_unit_test(test_single_unity),
		cmocka_unit_test(test_update_ramps),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
