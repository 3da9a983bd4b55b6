/* SPDX-License-Identifier: MIT */
/*
 * Property: the tone node is a pure sine of the configured frequency and level, measured by
 * correlation with a reference sine (level within 0.001 dB, frequency within 1e-6 Hz, residual
 * below -120 dB), the same on every channel; a level change ramps over fade_frames and a
 * frequency change keeps the phase continuous, so neither steps beyond the signal's own slope.
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

extern const struct node_type node_type_tone;

#define FRAMES (BLOCK * 375u) /* 96000: 2 s, a whole number of cycles of 1 kHz */

static float got[2][FRAMES];
static float *const out[2] = {got[0], got[1]};

/* Amplitude and phase (radians) of x[from, from + n) at freq Hz, by correlation. */
static void correlate(const float *x, size_t from, size_t n, double freq, double *ret_amp,
		      double *ret_phase)
{
	double i_sum = 0.0, q_sum = 0.0;

	for (size_t k = from; k < from + n; k++) {
		double w = 2.0 * M_PI * freq * (double)k / RATE;

		i_sum += x[k] * sin(w);
		q_sum += x[k] * cos(w);
	}
	*ret_amp = 2.0 * hypot(i_sum, q_sum) / (double)n;
	*ret_phase = atan2(q_sum, i_sum);
}

static void test_level_and_frequency(void **state)
{
	const double freq = 1000.0, level_db = -6.0, half = FRAMES / 2;
	double amp, ph0, ph1, a0, a1, res = 0.0, sig = 0.0, ferr;
	struct harness h;
	void *t;

	(void)state;
	harness_init(&h, NULL, 0);
	t = harness_create(&h, &node_type_tone,
			   "[node.t]\ntype = tone\nfreq = 1000\nlevel_db = -6\nchannels = 2\n");
	assert_int_equal(node_type_tone.get_out_channels(t), 2);
	assert_true(harness_tail(&node_type_tone, t) == SIZE_MAX);
	assert_false(harness_run(&node_type_tone, t, NULL, 0, out, 2, 0, FRAMES));
	correlate(got[0], 0, FRAMES, freq, &amp, &ph0);
	correlate(got[0], 0, (size_t)half, freq, &a0, &ph0);
	correlate(got[0], (size_t)half, (size_t)half, freq, &a1, &ph1);
	/* A frequency error df turns the phase by 2 pi df T between the halves (T = 1 s). */
	ferr = remainder(ph1 - ph0, 2.0 * M_PI) / (2.0 * M_PI * (half / RATE));
	for (size_t k = 0; k < FRAMES; k++) {
		double want = amp * sin(2.0 * M_PI * freq * (double)k / RATE + ph0);

		res += (got[0][k] - want) * (got[0][k] - want);
		sig += want * want;
	}
	printf("# level %.6f dB (want %.1f), frequency error %.3g Hz, residual %.1f dB\n",
	       20.0 * log10(amp), level_db, ferr, 10.0 * log10(res / sig));
	assert_true(fabs(20.0 * log10(amp) - level_db) < 0.001);
	assert_true(fabs(ferr) < 1e-6);
	assert_true(10.0 * log10(res / sig) < -120.0);
	assert_memory_equal(got[0], got[1], sizeof(got[0]));
	node_type_tone.destroy(t);
	harness_done(&h);
}

/*
 * At frame `at` the level goes from -6 to -26 dB and the frequency from 1000 to 1500 Hz. The
 * output must be g(n) sin(phi(n)) with g linear over FADE frames and phi accumulating the new
 * increment from where the old one left it: nothing restarts, nothing jumps.
 */
static void test_changes_are_smooth(void **state)
{
	const size_t at = BLOCK * 10;
	const double g0 = pow(10.0, -6.0 / 20.0), g1 = pow(10.0, -26.0 / 20.0);
	double phase = 0.0, worst = 0.0, value;
	struct harness h;
	void *t;

	(void)state;
	harness_init(&h, NULL, 0);
	t = harness_create(&h, &node_type_tone, "[node.t]\ntype = tone\nlevel_db = -6\n");
	harness_run(&node_type_tone, t, NULL, 0, out, 1, 0, at);
	assert_int_equal(harness_set(&node_type_tone, t, 1, -26.0), 0);
	assert_int_equal(harness_set(&node_type_tone, t, 0, 1500.0), 0);
	assert_int_equal(harness_set(&node_type_tone, t, 0, 24000.0), -EINVAL);
	assert_int_equal(node_type_tone.get_param(t, 0, 0, &value), 0);
	assert_true(value == 1500.0);
	harness_run(&node_type_tone, t, NULL, 0, out, 1, at, FRAMES);
	for (size_t k = 0; k < FRAMES; k++) {
		double g = k < at          ? g0
			   : k < at + FADE ? g0 + (g1 - g0) * (double)(k - at) / FADE
					   : g1;
		double want = g * sin(2.0 * M_PI * phase);

		if (fabs(got[0][k] - want) > 1e-6)
			fail_msg("frame %zu: got %.9f, want %.9f", k, got[0][k], want);
		phase += (k < at ? 1000.0 : 1500.0) / RATE;
		phase -= floor(phase);
		if (k)
			worst = fmax(worst, fabs((double)got[0][k] - got[0][k - 1]));
	}
	/* The steepest a sine of amplitude g0 at 1500 Hz can move in one frame. */
	printf("# largest step %.6f, the signal's own bound %.6f\n", worst,
	       g0 * 2.0 * sin(M_PI * 1500.0 / RATE));
	assert_true(worst <= g0 * 2.0 * sin(M_PI * 1500.0 / RATE) + 1e-6);
	node_type_tone.destroy(t);
	harness_done(&h);
}

/* An update ramps the level like a set; an unchanged section is no update. */
static void test_update(void **state)
{
	struct harness h;
	void *t, *u = NULL;
	double value;

	(void)state;
	harness_init(&h, NULL, 0);
	t = harness_create(&h, &node_type_tone, "[node.t]\ntype = tone\n");
	assert_int_equal(harness_call(&h, &node_type_tone, t,
				      "[node.t]\ntype = tone\nfreq = 1000\nlevel_db = -20\n", &u),
			 0);
	assert_null(u);
	assert_int_equal(
		harness_call(&h, &node_type_tone, t, "[node.t]\ntype = tone\nfreq = 440\n", &u), 0);
	assert_non_null(u);
	assert_int_equal(
		harness_call(&h, &node_type_tone, t, "[node.t]\ntype = tone\nchannels = 2\n", &u),
		-EOPNOTSUPP);
	harness_apply(&node_type_tone, t, u);
	node_type_tone.update_free(u);
	assert_int_equal(node_type_tone.get_param(t, 0, 0, &value), 0);
	assert_true(value == 440.0);
	node_type_tone.destroy(t);
	harness_done(&h);
}

static void test_bad_config(void **state)
{
	struct harness h;

	(void)state;
	harness_init(&h, NULL, 0);
	assert_string_equal(
		harness_error(&h, &node_type_tone, "[node.t]\ntype = tone\nfreq = 24000\n",
			      -EINVAL),
		"test.conf:3: key 'freq': expected a number from 1 to 23999, got '24000'");
	assert_string_equal(
		harness_error(&h, &node_type_tone, "[node.t]\ntype = tone\nlevel_db = 1\n",
			      -EINVAL),
		"test.conf:3: key 'level_db': expected a number from -120 to 0, got '1'");
	assert_string_equal(
		harness_error(&h, &node_type_tone, "[node.t]\ntype = tone\nchannels = 0\n",
			      -EINVAL),
		"test.conf:3: key 'channels': expected an integer from 1 to 64, got '0'");
	harness_done(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_and_frequency),
		cmocka_unit_test(test_changes_are_smooth),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
