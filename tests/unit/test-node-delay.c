/* SPDX-License-Identifier: MIT */
/*
 * Property: the delay node delays every channel by exactly the configured frames (or ms,
 * rounded to the nearest frame), bit for bit; a change by update or by delay_ms crossfades
 * linearly from the old delay to the new one over fade_frames and is exact afterwards; its
 * tail is the delay, and after a silence that long (when the engine may skip it) it does not
 * play back what preceded the silence; conflicting or out-of-range keys give `FILE:LINE: key 'K':
 * ...`.
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

extern const struct node_type node_type_delay;

#define FRAMES (BLOCK * 200u)

static float sig[2][FRAMES], got[2][FRAMES];
static float *const in[2] = {sig[0], sig[1]}, *const out[2] = {got[0], got[1]};
static const unsigned stereo[] = {2};

/* got[c][n] is sig[c][n - d] bit for bit over [from, to) (zeros before the start). */
static void assert_delayed(size_t d, size_t from, size_t to)
{
	for (unsigned c = 0; c < 2; c++)
		for (size_t n = from; n < to; n++) {
			float want = n >= d ? sig[c][n - d] : 0.0f;

			if (memcmp(&got[c][n], &want, sizeof(float)) != 0)
				fail_msg("delay %zu, channel %u, frame %zu: got %g, want %g", d, c,
					 n, got[c][n], want);
		}
}

/*
 * Frames [at, at + FADE) fade linearly from delay d0 to d1 (frame k is old + (new - old) k /
 * FADE, as dsp/delay.h documents); exact d1 from then to end.
 */
static void assert_faded(size_t d0, size_t d1, size_t at, size_t end)
{
	for (unsigned c = 0; c < 2; c++)
		for (unsigned k = 0; k < FADE; k++) {
			size_t n = at + k;
			double g = (double)k / FADE;
			double want =
				sig[c][n - d0] + g * ((double)sig[c][n - d1] - sig[c][n - d0]);

			if (fabs(got[c][n] - want) > 1e-6)
				fail_msg("fade frame %u: got %.8f, want %.8f", k, got[c][n], want);
		}
	assert_delayed(d1, at + FADE, end);
}

static void test_exact(void **state)
{
	static const char *const texts[] = {
		"[node.d]\ntype = delay\ninput = a\ndelay_frames = 100\n",
		"[node.d]\ntype = delay\ninput = a\ndelay_ms = 2.5\n",
		"[node.d]\ntype = delay\ninput = a\n",
		"[node.d]\ntype = delay\ninput = a\ndelay_ms = 1500\n",
	};
	static const size_t want[] = {100, 120, 0, 72000};
	struct harness h;

	(void)state;
	harness_init(&h, stereo, 1);
	harness_fill_noise(in, 2, FRAMES, 1.0, 1);
	for (size_t i = 0; i < EL_N_ELEMENTS(texts); i++) {
		void *d = harness_create(&h, &node_type_delay, texts[i]);

		assert_int_equal(node_type_delay.get_out_channels(d), 2);
		assert_int_equal(harness_tail(&node_type_delay, d), want[i]);
		harness_run(&node_type_delay, d, in, 2, out, 2, 0, FRAMES);
		assert_delayed(want[i], 0, FRAMES);
		node_type_delay.destroy(d);
	}
	harness_done(&h);
}

/* An update from 100 to 300 frames, then delay_ms = 5 (240 frames): both crossfaded. */
static void test_changes_fade(void **state)
{
	const size_t at1 = BLOCK * 50, at2 = BLOCK * 120;
	struct harness h;
	void *d, *u = NULL;
	double value;

	(void)state;
	harness_init(&h, stereo, 1);
	harness_fill_noise(in, 2, FRAMES, 1.0, 2);
	d = harness_create(&h, &node_type_delay,
			   "[node.d]\ntype = delay\ninput = a\n"
			   "delay_frames = 100\n");
	assert_int_equal(harness_call(&h, &node_type_delay, d,
				      "[node.d]\ntype = delay\ninput = a\ndelay_frames = 100\n",
				      &u),
			 0);
	assert_null(u);
	assert_int_equal(harness_call(&h, &node_type_delay, d,
				      "[node.d]\ntype = delay\ninput = a\ndelay_frames = 300\n",
				      &u),
			 0);
	assert_non_null(u);
	harness_run(&node_type_delay, d, in, 2, out, 2, 0, at1);
	harness_apply(&node_type_delay, d, u);
	node_type_delay.update_free(u);
	/* While the fade runs the old delay still counts for the tail. */
	assert_true(harness_tail(&node_type_delay, d) >= 300);
	harness_run(&node_type_delay, d, in, 2, out, 2, at1, at2);
	assert_int_equal(harness_set(&node_type_delay, d, 0, 5.0), 0);
	assert_int_equal(node_type_delay.get_param(d, 0, 0, &value), 0);
	assert_true(value == 5.0);
	harness_run(&node_type_delay, d, in, 2, out, 2, at2, FRAMES);
	assert_delayed(100, 0, at1);
	assert_faded(100, 300, at1, at2);
	assert_faded(300, 240, at2, FRAMES);
	assert_int_equal(harness_tail(&node_type_delay, d), 240);
	/* Beyond the line (max_delay_ms defaults to 1000 ms): refused, or a new instance. */
	assert_int_equal(harness_set(&node_type_delay, d, 0, 1001.0), -EINVAL);
	assert_int_equal(harness_call(&h, &node_type_delay, d,
				      "[node.d]\ntype = delay\ninput = a\ndelay_ms = 1200\n", &u),
			 -EOPNOTSUPP);
	node_type_delay.destroy(d);
	harness_done(&h);
}

/*
 * The engine stops calling a node whose input has been silent for longer than its tail. A
 * 100-frame delay hears noise, two silent blocks, is skipped for 18 blocks, and as input
 * resumes its delay is set to 100 ms (4800 frames): the line must not play back the noise from
 * before the pause, but silence, and then the resumed input 4800 frames late.
 */
static void test_resume_after_skip(void **state)
{
	const size_t quiet = BLOCK * 40, skip = BLOCK * 42, resume = BLOCK * 60;
	struct harness h;
	void *d;

	(void)state;
	harness_init(&h, stereo, 1);
	harness_fill_noise(in, 2, FRAMES, 1.0, 4);
	for (unsigned c = 0; c < 2; c++)
		memset(sig[c] + quiet, 0, (resume - quiet) * sizeof(float));
	d = harness_create(&h, &node_type_delay,
			   "[node.d]\ntype = delay\ninput = a\ndelay_frames = 100\n");
	harness_run(&node_type_delay, d, in, 2, out, 2, 0, skip);
	assert_true(harness_tail(&node_type_delay, d) <=
		    skip - quiet); /* the engine would skip now */
	assert_int_equal(harness_set(&node_type_delay, d, 0, 100.0), 0);
	harness_run(&node_type_delay, d, in, 2, out, 2, resume, FRAMES);
	for (unsigned c = 0; c < 2; c++)
		memset(sig[c], 0, resume * sizeof(float));
	assert_delayed(4800, resume, FRAMES);
	node_type_delay.destroy(d);
	harness_done(&h);
}

static void test_bad_config(void **state)
{
	struct harness h;

	(void)state;
	harness_init(&h, stereo, 1);
	assert_string_equal(harness_error(&h, &node_type_delay,
					  "[node.d]\ntype = delay\ninput = a\ndelay_frames = 10\n"
					  "delay_ms = 1\n",
					  -EINVAL),
			    "test.conf:5: key 'delay_ms': give delay_frames or delay_ms, not both");
	assert_string_equal(harness_error(&h, &node_type_delay,
					  "[node.d]\ntype = delay\ninput = a\ndelay_ms = 2000\n"
					  "max_delay_ms = 1500\n",
					  -EINVAL),
			    "test.conf:5: key 'max_delay_ms': expected at least the delay "
			    "(2000 ms), got 1500");
	assert_string_equal(harness_error(&h, &node_type_delay,
					  "[node.d]\ntype = delay\ninput = a\ndelay_frames = -1\n",
					  -EINVAL),
			    "test.conf:4: key 'delay_frames': expected an integer from 0 to "
			    "16777216, got '-1'");
	harness_done(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_changes_fade),
		cmocka_unit_test(test_resume_after_skip),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
