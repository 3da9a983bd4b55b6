/* SPDX-License-Identifier: MIT */
/*
 * Property: the gain node is bit-exact at unity, applies a fixed gain exactly, and every change
 * (set_param or a config update) moves the gain in a straight line over fade_frames, so the
 * output never steps by more than the signal's own slope plus the ramp's (|g1 - g0| / fade).
 * Polarity (`invert`) negates exactly, and a switch at run time ramps through zero (DC of 1.0
 * goes 1 -> -1 in a straight line over fade_frames): no click.
 * Bad keys and values are refused with `FILE:LINE: key 'K': ...`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/engine/node.h"
#include "tests/unit/test-node-util.h"

extern const struct node_type node_type_gain;

#define FRAMES (BLOCK * 40u)

static float sig[2][FRAMES], got[2][FRAMES];
static float *const in[2] = {sig[0], sig[1]}, *const out[2] = {got[0], got[1]};

static const unsigned stereo[] = {2};

/* 0 dB, default and explicit: output bit-identical to the input. */
static void test_unity_bit_exact(void **state)
{
	static const char *const texts[] = {
		"[node.g]\ntype = gain\ninput = a\n",
		"[node.g]\ntype = gain\ninput = a\ngain_db = 0\nmute = no\n",
	};
	struct harness h;

	(void)state;
	harness_init(&h, stereo, 1);
	harness_fill_noise(in, 2, FRAMES, 1.0, 1);
	for (size_t i = 0; i < EL_N_ELEMENTS(texts); i++) {
		void *g = harness_create(&h, &node_type_gain, texts[i]);

		assert_int_equal(node_type_gain.get_out_channels(g), 2);
		assert_int_equal(harness_tail(&node_type_gain, g), 0);
		harness_run(&node_type_gain, g, in, 2, out, 2, 0, FRAMES);
		assert_memory_equal(sig, got, sizeof(sig));
		node_type_gain.destroy(g);
	}
	harness_done(&h);
}

/* -6 dB: every sample is the input times 10^(-6/20) (one float multiply). */
static void test_fixed_gain(void **state)
{
	const float g = (float)pow(10.0, -6.0 / 20.0);
	struct harness h;
	void *inst;

	(void)state;
	harness_init(&h, stereo, 1);
	harness_fill_noise(in, 2, FRAMES, 1.0, 2);
	inst = harness_create(&h, &node_type_gain,
			      "[node.g]\ntype = gain\ninput = a\ngain_db = -6\n");
	harness_run(&node_type_gain, inst, in, 2, out, 2, 0, FRAMES);
	for (unsigned c = 0; c < 2; c++)
		for (size_t i = 0; i < FRAMES; i++)
			assert_true(got[c][i] == sig[c][i] * g);
	node_type_gain.destroy(inst);
	harness_done(&h);
}

/*
 * DC of 1.0 through the gain while it changes from g0 to g1 at frame `at`: the output is the
 * gain itself. It must hold g0 before, move by exactly (g1 - g0) / FADE per frame (float
 * rounding aside) for FADE frames, and then hold g1 exactly. Returns the largest step.
 */
static double check_ramp(double g0, double g1, size_t at)
{
	double want_step = (g1 - g0) / FADE, worst = 0.0;

	for (size_t i = 0; i < FRAMES; i++) {
		double want = i < at ? g0 : i < at + FADE ? g0 + want_step * (double)(i - at) : g1;

		if (fabs(got[0][i] - want) > 1e-6)
			fail_msg("frame %zu: got %.9f, want %.9f", i, got[0][i], want);
		if (i > 0)
			worst = fmax(worst, fabs((double)got[0][i] - got[0][i - 1]));
	}
	assert_true(got[0][FRAMES - 1] == (float)g1);
	return worst;
}

/* set_param(gain_db) in the middle of a block's worth of cycles: a ramp, not a step. */
static void test_set_param_ramps(void **state)
{
	const size_t at = BLOCK * 10;
	struct harness h;
	double step, value;
	void *g;

	(void)state;
	harness_init(&h, stereo, 1);
	for (size_t i = 0; i < FRAMES; i++)
		sig[0][i] = sig[1][i] = 1.0f;
	g = harness_create(&h, &node_type_gain, "[node.g]\ntype = gain\ninput = a\n");
	harness_run(&node_type_gain, g, in, 2, out, 2, 0, at);
	assert_int_equal(harness_set(&node_type_gain, g, 0, -20.0), 0);
	assert_int_equal(node_type_gain.get_param(g, 0, 0, &value), 0);
	assert_true(value == -20.0);
	harness_run(&node_type_gain, g, in, 2, out, 2, at, FRAMES);
	step = check_ramp(1.0, 0.1, at);
	printf("# 0 dB -> -20 dB: largest step %.6f, ramp slope %.6f\n", step, 0.9 / FADE);
	assert_true(step <= 0.9 / FADE + 1e-6);
	/* Unity again after a ramp back: bit-exact once it has run. */
	assert_int_equal(harness_set(&node_type_gain, g, 0, 0.0), 0);
	harness_run(&node_type_gain, g, in, 2, out, 2, 0, FRAMES);
	harness_fill_noise(in, 2, FRAMES, 1.0, 3);
	harness_run(&node_type_gain, g, in, 2, out, 2, 0, FRAMES);
	assert_memory_equal(sig, got, sizeof(sig));
	node_type_gain.destroy(g);
	harness_done(&h);
}

/* A config update ramps like a set; mute ramps to exactly 0; an unchanged section is no update. */
static void test_update_ramps(void **state)
{
	const size_t at = BLOCK * 7;
	struct harness h;
	void *g, *u = NULL;
	double value;

	(void)state;
	harness_init(&h, stereo, 1);
	for (size_t i = 0; i < FRAMES; i++)
		sig[0][i] = sig[1][i] = 1.0f;
	g = harness_create(&h, &node_type_gain, "[node.g]\ntype = gain\ninput = a\ngain_db = -6\n");
	assert_int_equal(harness_call(&h, &node_type_gain, g,
				      "[node.g]\ntype = gain\ninput = a\ngain_db = -6\n", &u),
			 0);
	assert_null(u);
	assert_int_equal(
		harness_call(&h, &node_type_gain, g,
			     "[node.g]\ntype = gain\ninput = a\ngain_db = -6\nmute = yes\n", &u),
		0);
	assert_non_null(u);
	harness_run(&node_type_gain, g, in, 2, out, 2, 0, at);
	harness_apply(&node_type_gain, g, u);
	node_type_gain.update_free(u);
	harness_run(&node_type_gain, g, in, 2, out, 2, at, FRAMES);
	check_ramp(pow(10.0, -6.0 / 20.0), 0.0, at);
	assert_int_equal(node_type_gain.get_param(g, 1, 0, &value), 0);
	assert_true(value == 1.0);
	/* A new channel count needs a new instance. */
	h.env.in_channels = 3;
	assert_int_equal(
		harness_call(&h, &node_type_gain, g, "[node.g]\ntype = gain\ninput = a\n", &u),
		-EOPNOTSUPP);
	node_type_gain.destroy(g);
	harness_done(&h);
}

/* invert = yes: exactly -x; set at run time: 1 -> -1 in a straight line, then exactly -1. */
static void test_invert(void **state)
{
	const size_t at = BLOCK * 5;
	struct harness h;
	double value;
	void *g;

	(void)state;
	harness_init(&h, stereo, 1);
	harness_fill_noise(in, 2, FRAMES, 1.0, 4);
	g = harness_create(&h, &node_type_gain, "[node.g]\ntype = gain\ninput = a\ninvert = yes\n");
	harness_run(&node_type_gain, g, in, 2, out, 2, 0, FRAMES);
	for (unsigned c = 0; c < 2; c++)
		for (size_t i = 0; i < FRAMES; i++)
			assert_true(got[c][i] == -sig[c][i]);
	node_type_gain.destroy(g);

	for (size_t i = 0; i < FRAMES; i++)
		sig[0][i] = sig[1][i] = 1.0f;
	g = harness_create(&h, &node_type_gain, "[node.g]\ntype = gain\ninput = a\n");
	harness_run(&node_type_gain, g, in, 2, out, 2, 0, at);
	assert_int_equal(harness_set(&node_type_gain, g, 2, 1.0), 0);
	assert_int_equal(node_type_gain.get_param(g, 2, 0, &value), 0);
	assert_true(value == 1.0);
	harness_run(&node_type_gain, g, in, 2, out, 2, at, FRAMES);
	printf("# polarity 1 -> -1: largest step %.6f (ramp slope %.6f)\n",
	       check_ramp(1.0, -1.0, at), 2.0 / FADE);
	node_type_gain.destroy(g);
	harness_done(&h);
}
static void test_bad_config(void **state)
{
	struct harness h;

	(void)state;
	harness_init(&h, stereo, 1);
	assert_string_equal(
		harness_error(&h, &node_type_gain,
			      "[node.g]\ntype = gain\ninput = a\ngain_db = 30\n", -EINVAL),
		"test.conf:4: key 'gain_db': expected a number from -120 to 24, got '30'");
	assert_string_equal(harness_error(&h, &node_type_gain,
					  "[node.g]\ntype = gain\ninput = a\nmute = maybe\n",
					  -EINVAL),
			    "test.conf:4: key 'mute': expected yes/no, true/false, on/off or 1/0, "
			    "got 'maybe'");
	assert_string_equal(harness_error(&h, &node_type_gain,
					  "[node.g]\ntype = gain\ninput = a\ngain_dB = 3\n",
					  -EINVAL),
			    "test.conf:4: key 'gain_dB': unknown key in [node.g] "
			    "(did you mean 'gain_db'?)");
	assert_string_equal(harness_error(&h, &node_type_gain,
					  "[node.g]\ntype = gain\ninput = a\nvolume = 3\n",
					  -EINVAL),
			    "test.conf:4: key 'volume': unknown key in [node.g]");
	h.env.in_channels = 0;
	h.env.n_groups = 0;
	assert_string_equal(harness_error(&h, &node_type_gain, "[node.g]\ntype = gain\n", -EINVAL),
			    "test.conf:1: [node.g]: a gain needs an input");
	harness_done(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unity_bit_exact), cmocka_unit_test(test_fixed_gain),
		cmocka_unit_test(test_set_param_ramps), cmocka_unit_test(test_update_ramps),
		cmocka_unit_test(test_invert),          cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
