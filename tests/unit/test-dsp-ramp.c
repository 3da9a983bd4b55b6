/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-dsp-ramp.c: a ramp cut into pieces of any sizes is one straight line to its
 * target. Consecutive pieces join exactly, every piece ends on the line, the ramp reaches the
 * target exactly `frames` frames after it starts, a new target mid-ramp starts from where the
 * gain is, and a jump has no ramp.
 */
#include <math.h>
#include <stdio.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dsp/ramp.h"
#include "tests/unit/test-util.h"

/* Piece sizes a caller may ask for: single frames, odd sizes, blocks, more than any ramp. */
static const size_t sizes[] = {1, 2, 3, 7, 64, 100, 256, 999, 4096, 100000};

/* Random piece sizes in [1, max]: rng 0 asks for the fixed size max every time. */
static size_t next_size(struct test_rng *rng, size_t max)
{
	return rng ? 1 + (size_t)(test_rng_next(rng) % max) : max;
}

/* The gain `at` frames into a ramp from g0 to g1 over frames frames, as a float would hold it. */
static double line(double g0, double g1, uint32_t frames, size_t at)
{
	return at >= frames ? g1 : g0 + (g1 - g0) * (double)at / (double)frames;
}

/*
 * Runs r (ramping from `from` to `to` over frames) piece by piece until it stops, checking each
 * piece: it joins the last one exactly, is no longer than asked, ends on the line, and the ramp
 * runs exactly until `frames` frames, ending exactly on (float)to. *prev_g1 is the gain the
 * caller's last piece reached.
 */
static void run_to_end(struct dsp_ramp *r, double from, double to, uint32_t frames,
		       struct test_rng *rng, size_t max, float *prev_g1)
{
	size_t done = 0;
	float g0, g1;

	while (dsp_ramp_is_running(r)) {
		size_t want = next_size(rng, max);
		size_t m = dsp_ramp_next(r, want, &g0, &g1);

		assert_true(m >= 1 && m <= want);
		if (g0 != *prev_g1)
			fail_msg("frame %zu: piece starts at %.9g, last one reached %.9g", done, g0,
				 *prev_g1);
		done += m;
		assert_true(done <= frames);
		if (fabs(g1 - line(from, to, frames, done)) > 1e-6 * fmax(1.0, fabs(to - from)))
			fail_msg("frame %zu of %u: reached %.9g, the line is at %.9g", done, frames,
				 g1, line(from, to, frames, done));
		*prev_g1 = g1;
	}
	assert_int_equal(done, frames);
	assert_true(*prev_g1 == (float)to);
	/* Steady afterwards: whole pieces of the target. */
	assert_int_equal(dsp_ramp_next(r, 123, &g0, &g1), 123);
	assert_true(g0 == (float)to && g1 == (float)to);
}

/* Up and down, to and from 0, over short and long ramps, in fixed and random piece sizes. */
static void test_pieces_join_and_end_on_target(void **state)
{
	static const double ends[][2] = {{1.0, 0.1}, {0.0, 1.0}, {0.5, 0.0}, {2.0, 15.85}};
	static const uint32_t lengths[] = {1, 2, 480, 1000, 65536};
	struct test_rng rng;

	(void)state;
	test_rng_init(&rng, 7);
	for (size_t e = 0; e < EL_N_ELEMENTS(ends); e++) {
		for (size_t l = 0; l < EL_N_ELEMENTS(lengths); l++) {
			for (size_t s = 0; s < 2 * EL_N_ELEMENTS(sizes); s++) {
				struct test_rng *pick = s % 2 ? &rng : NULL;
				struct dsp_ramp r;
				float prev = (float)ends[e][0];

				dsp_ramp_set(&r, ends[e][0]);
				dsp_ramp_to(&r, ends[e][1], lengths[l]);
				assert_true(dsp_ramp_is_running(&r));
				run_to_end(&r, ends[e][0], ends[e][1], lengths[l], pick,
					   sizes[s / 2], &prev);
			}
		}
	}
}

/* A new target mid-ramp: the next piece starts where the last one ended, then a new line. */
static void test_retarget_starts_from_current(void **state)
{
	struct test_rng rng;

	(void)state;
	test_rng_init(&rng, 11);
	for (size_t s = 0; s < EL_N_ELEMENTS(sizes); s++) {
		struct dsp_ramp r;
		size_t done = 0;
		float g0, g1 = 1.0f;

		dsp_ramp_set(&r, 1.0);
		dsp_ramp_to(&r, 0.0, 1000);
		/* Part of the way: a third of the ramp, in pieces of at most sizes[s]. */
		while (done < 333)
			done += dsp_ramp_next(&r, EL_MIN(sizes[s], 333 - done), &g0, &g1);
		assert_true(dsp_ramp_is_running(&r));
		assert_true(fabs(g1 - line(1.0, 0.0, 1000, done)) < 1e-6);
		dsp_ramp_to(&r, 0.5, 480);
		run_to_end(&r, g1, 0.5, 480, &rng, sizes[s], &g1);
	}
}

/* dsp_ramp_set(), a ramp over 0 frames and a ramp to where the gain already is: no ramp. */
static void test_jump_has_no_ramp(void **state)
{
	struct dsp_ramp r = {0};
	float g0, g1;

	(void)state;
	/* All zero: steady at 0. */
	assert_false(dsp_ramp_is_running(&r));
	assert_int_equal(dsp_ramp_next(&r, 256, &g0, &g1), 256);
	assert_true(g0 == 0.0f && g1 == 0.0f);
	/* A jump mid-ramp drops the ramp. */
	dsp_ramp_to(&r, 1.0, 480);
	assert_int_equal(dsp_ramp_next(&r, 100, &g0, &g1), 100);
	dsp_ramp_set(&r, 0.25);
	assert_false(dsp_ramp_is_running(&r));
	assert_int_equal(dsp_ramp_next(&r, 256, &g0, &g1), 256);
	assert_true(g0 == 0.25f && g1 == 0.25f);
	/* Over 0 frames: a jump. */
	dsp_ramp_to(&r, 0.75, 0);
	assert_false(dsp_ramp_is_running(&r));
	assert_int_equal(dsp_ramp_next(&r, 256, &g0, &g1), 256);
	assert_true(g0 == 0.75f && g1 == 0.75f);
	/* To the gain it already has: nothing to ramp. */
	dsp_ramp_to(&r, 0.75, 480);
	assert_false(dsp_ramp_is_running(&r));
	/* An empty piece changes nothing, mid-ramp too. */
	dsp_ramp_to(&r, 0.0, 480);
	assert_int_equal(dsp_ramp_next(&r, 0, &g0, &g1), 0);
	assert_true(g0 == 0.75f && g1 == 0.75f);
	assert_int_equal(dsp_ramp_next(&r, 480, &g0, &g1), 480);
	assert_true(g0 == 0.75f && g1 == 0.0f);
	assert_false(dsp_ramp_is_running(&r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pieces_join_and_end_on_target),
		cmocka_unit_test(test_retarget_starts_from_current),
		cmocka_unit_test(test_jump_has_no_ramp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
