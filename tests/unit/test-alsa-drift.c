/* SPDX-License-Identifier: MIT */
/*
 * Property: daemon/backend/alsa-drift.h measures how far a capture clock runs from a playback
 * clock from what the mover can read (capture frames waiting − playback room).
 *  - No estimate before a whole window (5 s) has passed; the first is that window's slope.
 *  - Capture 300 ppm fast, the reading jittered by ±48 frames (a USB card's position moves in
 *    1 ms bursts) and taken every cycle of 256 frames for a minute: the estimate is within
 *    20 ppm of 300 (a window's fit is good to ~13 ppm, the smoothing to ~5: 4 sigma); the
 *    same clocks give |estimate| < 20 ppm; a slow capture is negative, as closely.
 *  - After an xrun the fill jumps: restarting the window keeps the jump out of the estimate.
 *  - A clock that goes back (it must not, but) restarts the window rather than dividing by
 *    a negative time.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "daemon/backend/alsa-drift.h"
#include "tests/unit/test-util.h"

#define RATE     48000u
#define CYCLE_NS (256ull * 1000000000ull / RATE)

/* A minute of readings with the given drift and jitter; the final estimate. */
static double run(double ppm, double jitter, uint32_t seed)
{
	struct alsa_drift d = {0};
	struct test_rng rng;

	test_rng_init(&rng, seed);
	for (uint64_t t = 0; t < 60000000000ull; t += CYCLE_NS) {
		double s = ppm * 1e-6 * RATE * (double)t * 1e-9 + 512.0 +
			   jitter * (2.0 * test_rng_uniform(&rng) - 1.0);

		alsa_drift_sample(&d, t, (int64_t)llround(s), RATE);
	}
	assert_true(d.known);
	return d.ppm;
}

static void test_first_window(void **state)
{
	struct alsa_drift d = {0};
	uint64_t t;

	(void)state;
	for (t = 0; t < ALSA_DRIFT_WINDOW_NS; t += CYCLE_NS)
		assert_false(alsa_drift_sample(&d, t, (int64_t)(t / 1000000), RATE));
	assert_false(d.known);
	/* s grew 1 frame per ms: 1000 frames a second, at 48 kHz 20833 ppm */
	assert_true(alsa_drift_sample(&d, t, (int64_t)(t / 1000000), RATE));
	assert_float_equal(d.ppm, 1e6 * 1000.0 / RATE, 20.0);
}

static void test_drift_through_jitter(void **state)
{
	(void)state;
	for (uint32_t seed = 1; seed <= 5; seed++) {
		double fast = run(300.0, 48.0, seed), same = run(0.0, 48.0, seed),
		       slow = run(-120.0, 48.0, seed);

		printf("# seed %u: +300 ppm read %.1f, 0 read %.1f, -120 read %.1f\n", seed, fast,
		       same, slow);
		assert_true(fabs(fast - 300.0) < 20.0);
		assert_true(fabs(same) < 20.0);
		assert_true(fabs(slow + 120.0) < 20.0);
	}
}

static void test_restart_after_xrun(void **state)
{
	struct alsa_drift d = {0};
	int64_t jump = 0;

	(void)state;
	for (uint64_t t = 0; t < 30000000000ull; t += CYCLE_NS) {
		if (t >= 7000000000ull && !jump) {
			jump = 1024; /* the device restarted on a buffer of silence */
			alsa_drift_restart(&d);
		}
		alsa_drift_sample(&d, t, jump + (int64_t)(100e-6 * RATE * (double)t * 1e-9), RATE);
	}
	assert_true(d.known);
	assert_float_equal(d.ppm, 100.0, 5.0);
}

static void test_clock_back(void **state)
{
	struct alsa_drift d = {0};
	uint64_t t = 1000000000ull;

	(void)state;
	alsa_drift_sample(&d, 10000000000ull, 0, RATE);
	assert_false(alsa_drift_sample(&d, t, 5000, RATE)); /* back: a new window from here */
	assert_false(d.known);
	while (!alsa_drift_sample(&d, t += CYCLE_NS, 5000, RATE))
		assert_true(t <= 1000000000ull + ALSA_DRIFT_WINDOW_NS + CYCLE_NS);
	assert_float_equal(d.ppm, 0.0, 1e-9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_window),
		cmocka_unit_test(test_drift_through_jitter),
		cmocka_unit_test(test_restart_after_xrun),
		cmocka_unit_test(test_clock_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
