/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-dsp-delay.c: the delay line delays by exactly the frames set, for any block
 * size and in place; a change of delay crossfades without a step; bad arguments are refused.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dsp/delay.h"
#include "tests/unit/test-util.h"

#define RATE  48000
#define MAX   4096
#define TOTAL 20000 /* frames per run: the ring wraps several times */

static float sig[TOTAL], got[TOTAL];

/* Runs sig through d into got in blocks of `block` frames (the last one shorter). */
static void run(struct dsp_delay *d, size_t from, size_t to, size_t block, int in_place)
{
	for (size_t n = from; n < to; n += block) {
		size_t m = EL_MIN(block, to - n);

		if (in_place) {
			memcpy(got + n, sig + n, m * sizeof(float));
			dsp_delay_process(d, got + n, got + n, m);
		} else {
			dsp_delay_process(d, sig + n, got + n, m);
		}
	}
}

/* got[n] must be sig[n - delay] bit for bit (silence before the start) over [from, to). */
static void assert_delayed(size_t delay, size_t from, size_t to)
{
	for (size_t n = from; n < to; n++) {
		float want = n >= delay ? sig[n - delay] : 0.0f;

		if (memcmp(&got[n], &want, sizeof(float)) != 0)
			fail_msg("delay %zu, frame %zu: got %g, want %g", delay, n, got[n], want);
	}
}

/* An impulse comes out exactly `delay` frames later, and nothing else does. */
static void test_impulse(void **state)
{
	static const size_t delays[] = {0, 1, 2, 7, 100, 1000, 4095, MAX};
	static const size_t blocks[] = {1, 3, 64, 100, 999, 5000, TOTAL};

	(void)state;
	for (size_t i = 0; i < EL_N_ELEMENTS(delays); i++)
		for (size_t b = 0; b < EL_N_ELEMENTS(blocks); b++)
			for (int in_place = 0; in_place < 2; in_place++) {
				struct dsp_delay *d = NULL;

				memset(sig, 0, sizeof(sig));
				sig[5] = 1.0f;
				sig[5 + 3 * MAX] = -0.5f; /* once the ring has wrapped */
				assert_int_equal(dsp_delay_new(MAX, &d), 0);
				assert_int_equal(dsp_delay_set(d, delays[i], 0), 0);
				assert_int_equal(dsp_delay_get_frames(d), delays[i]);
				run(d, 0, TOTAL, blocks[b], in_place);
				assert_true(got[5 + delays[i]] == 1.0f);
				assert_true(got[5 + 3 * MAX + delays[i]] == -0.5f);
				assert_delayed(delays[i], 0, TOTAL);
				dsp_delay_free(d);
			}
}

/* Noise through blocks of random length, some in place: always exactly the delayed input. */
static void test_noise_random_blocks(void **state)
{
	struct dsp_delay *d = NULL;
	struct test_rng rng;
	size_t delay = 1234;

	(void)state;
	test_rng_init(&rng, 9);
	test_fill_noise(&rng, sig, TOTAL, 1.0);
	assert_int_equal(dsp_delay_new(MAX, &d), 0);
	assert_int_equal(dsp_delay_set(d, delay, 0), 0);
	for (size_t n = 0; n < TOTAL;) {
		size_t m = EL_MIN(TOTAL - n, 1 + test_rng_next(&rng) % 700);

		run(d, n, n + m, m, (int)(test_rng_next(&rng) % 2));
		n += m;
	}
	assert_delayed(delay, 0, TOTAL);
	/* A zero-length call changes nothing. */
	dsp_delay_process(d, sig, got, 0);
	dsp_delay_free(d);
}

struct steps {
	double step;  /* largest |y[n] - y[n-1]| during the change */
	double bound; /* the most a faded change may step */
};

/*
 * A 100 Hz sine of amplitude 1 at delay d0; from frame 10000 the delay is d1, faded over fade
 * frames. With g the fade gain, y = (1 - g) a + g b, so a step of y is at most
 * max|step of the sine| + |b - a| / fade: the sine's own step S = 2 sin(pi f / rate) plus the
 * gap between the two read positions D = 2 |sin(pi f (d1 - d0) / rate)|, spread over the fade,
 * plus float rounding.
 */
static void change_delay(size_t d0, size_t d1, unsigned fade, struct steps *ret)
{
	const double f = 100.0;
	struct dsp_delay *d = NULL;

	for (size_t n = 0; n < TOTAL; n++)
		sig[n] = (float)sin(2.0 * M_PI * f * (double)n / RATE);
	assert_int_equal(dsp_delay_new(MAX, &d), 0);
	assert_int_equal(dsp_delay_set(d, d0, 0), 0);
	run(d, 0, 10000, 256, 0);
	assert_int_equal(dsp_delay_set(d, d1, fade), 0);
	assert_int_equal(dsp_delay_get_frames(d), d1);
	run(d, 10000, TOTAL, 256, 1);
	ret->step = 0.0;
	for (size_t n = 10000; n < 10000 + fade + 1; n++)
		ret->step = fmax(ret->step, fabs((double)got[n] - got[n - 1]));
	ret->bound =
		2.0 * sin(M_PI * f / RATE) +
		2.0 * fabs(sin(M_PI * f * ((double)d1 - (double)d0) / RATE)) / (fade ? fade : 1) +
		1e-6;
	/* From the end of the fade on, exactly the new delay. */
	assert_delayed(d1, 10000 + fade, TOTAL);
	dsp_delay_free(d);
}

static void test_fade_has_no_step(void **state)
{
	static const size_t pairs[][2] = {{50, 290}, {290, 50}, {0, MAX}, {MAX, 1}};
	struct steps faded, jump;

	(void)state;
	for (size_t i = 0; i < EL_N_ELEMENTS(pairs); i++) {
		size_t d0 = pairs[i][0], d1 = pairs[i][1];

		change_delay(d0, d1, 480, &faded);
		change_delay(d0, d1, 0, &jump);
		printf("# delay %4zu -> %4zu: fade 480 step %.5f (bound %.5f), jump step %.5f\n",
		       d0, d1, faded.step, faded.bound, jump.step);
		assert_true(faded.step <= faded.bound);
		/* the jump is a click: far beyond the sine's own step (0.0131) */
		assert_true(jump.step > 10.0 * (2.0 * sin(M_PI * 100.0 / RATE)));
	}
}

/*
 * The fade follows the documented formula: frame k of a fade of F frames is
 * old + (new - old) * k / F, in float as the header's arithmetic implies.
 */
static void test_fade_formula(void **state)
{
	struct dsp_delay *d = NULL;
	struct test_rng rng;
	const unsigned fade = 300;

	(void)state;
	test_rng_init(&rng, 4);
	test_fill_noise(&rng, sig, TOTAL, 1.0);
	assert_int_equal(dsp_delay_new(MAX, &d), 0);
	assert_int_equal(dsp_delay_set(d, 10, 0), 0);
	run(d, 0, 5000, 77, 0);
	assert_int_equal(dsp_delay_set(d, 700, fade), 0);
	run(d, 5000, TOTAL, 77, 0);
	for (unsigned k = 0; k < fade; k++) {
		size_t n = 5000 + k;
		double g = (double)k / fade;
		double want = sig[n - 10] + g * ((double)sig[n - 700] - sig[n - 10]);

		if (fabs(got[n] - want) > 1e-6)
			fail_msg("fade frame %u: got %.8f, want %.8f", k, got[n], want);
	}
	assert_delayed(10, 0, 5000);
	assert_delayed(700, 5000 + fade, TOTAL);
	dsp_delay_free(d);
}

/*
 * Sets during a fade: queued behind it (a later one replacing the queue), dropped when they
 * ask for where the fade already goes, and obeyed at once when they ask for a jump.
 */
static void test_set_during_fade(void **state)
{
	struct dsp_delay *d = NULL;
	struct test_rng rng;

	(void)state;
	test_rng_init(&rng, 6);
	test_fill_noise(&rng, sig, TOTAL, 1.0);
	assert_int_equal(dsp_delay_new(MAX, &d), 0);

	/*
	 * 0 -> 100 over 200 frames from frame 1000; at 1050, 300 then 500 (replacing 300) over
	 * 100 frames: the second fade runs 1200..1299 from 100 to 500, then 500 alone.
	 */
	run(d, 0, 1000, 64, 0);
	assert_int_equal(dsp_delay_set(d, 100, 200), 0);
	run(d, 1000, 1050, 64, 0);
	assert_int_equal(dsp_delay_set(d, 300, 100), 0);
	assert_int_equal(dsp_delay_set(d, 500, 100), 0);
	assert_int_equal(dsp_delay_get_frames(d), 500);
	run(d, 1050, 3000, 64, 1);
	assert_delayed(0, 0, 1000);
	assert_true(got[1200] == sig[1200 - 100]); /* k = 0 of the second fade: the old tap */
	for (size_t n = 1201; n < 1300; n++)
		assert_true(got[n] != sig[n - 100] && got[n] != sig[n - 500]);
	assert_delayed(500, 1300, 3000);

	/* A plain fade after the queued one: nothing stale is left queued. 500 -> 50 by 3100. */
	assert_int_equal(dsp_delay_set(d, 50, 100), 0);
	run(d, 3000, 3500, 64, 0);
	assert_delayed(50, 3100, 3500);

	/* Asking during a fade for where it goes anyway changes nothing: 50 -> 80 by 3600. */
	assert_int_equal(dsp_delay_set(d, 80, 100), 0);
	run(d, 3500, 3510, 64, 0);
	assert_int_equal(dsp_delay_set(d, 80, 1000), 0);
	run(d, 3510, 4000, 64, 0);
	assert_delayed(80, 3600, 4000);

	/* A jump during a fade is at once, and drops any queued fade. */
	assert_int_equal(dsp_delay_set(d, 2000, 500), 0);
	run(d, 4000, 4100, 64, 0);
	assert_int_equal(dsp_delay_set(d, 7, 500), 0);
	assert_int_equal(dsp_delay_set(d, 30, 0), 0);
	run(d, 4100, 6000, 64, 0);
	assert_delayed(30, 4100, 6000);

	/* Setting the delay in use, with a fade, changes nothing at all. */
	assert_int_equal(dsp_delay_set(d, 30, 400), 0);
	run(d, 6000, 7000, 64, 0);
	assert_delayed(30, 6000, 7000);
	dsp_delay_free(d);
}

/* Reset: what was written before is never read again, even by a longer delay set later. */
static void test_reset(void **state)
{
	struct dsp_delay *d = NULL;
	struct test_rng rng;

	(void)state;
	test_rng_init(&rng, 8);
	test_fill_noise(&rng, sig, TOTAL, 1.0);
	assert_int_equal(dsp_delay_new(MAX, &d), 0);
	assert_int_equal(dsp_delay_set(d, 100, 0), 0);
	run(d, 0, 3 * MAX, 500, 0); /* fill the whole ring, and wrap it */
	assert_int_equal(dsp_delay_set(d, 200, 1000), 0);
	run(d, 3 * MAX, 3 * MAX + 10, 500, 0);
	dsp_delay_reset(d); /* the fade completes at once: 200 from here */
	assert_int_equal(dsp_delay_get_frames(d), 200);
	memset(sig, 0, (3 * MAX + 10) * sizeof(float)); /* as if it had seen only silence */
	run(d, 3 * MAX + 10, 3 * MAX + 1000, 333, 1);
	assert_int_equal(dsp_delay_set(d, MAX, 0), 0);
	run(d, 3 * MAX + 1000, TOTAL, 333, 0);
	for (size_t n = 3 * MAX + 10; n < 3 * MAX + 210; n++)
		assert_true(got[n] == 0.0f);
	assert_delayed(200, 3 * MAX + 10, 3 * MAX + 1000);
	/* only silence until the first frame after the reset comes out, MAX frames later */
	for (size_t n = 3 * MAX + 1000; n < 4 * MAX + 10; n++)
		assert_true(got[n] == 0.0f);
	assert_delayed(MAX, 4 * MAX + 10, TOTAL);
	dsp_delay_free(d);
}

static void test_bad_params(void **state)
{
	struct dsp_delay *sentinel = (struct dsp_delay *)&sentinel, *d = sentinel;

	(void)state;
	assert_int_equal(dsp_delay_new(0, &d), -EINVAL);
	assert_ptr_equal(d, sentinel);
	assert_int_equal(dsp_delay_new(DSP_DELAY_MAX_FRAMES + 1, &d), -EINVAL);
	assert_ptr_equal(d, sentinel);
	assert_int_equal(dsp_delay_new((size_t)-1, &d), -EINVAL);
	assert_ptr_equal(d, sentinel);
	assert_int_equal(dsp_delay_new(10, NULL), -EINVAL);
	assert_null(dsp_delay_free(NULL));

	assert_int_equal(dsp_delay_new(1, &d), 0);
	assert_int_equal(dsp_delay_get_max_frames(d), 1);
	assert_int_equal(dsp_delay_set(d, 1, 0), 0);
	assert_int_equal(dsp_delay_set(d, 2, 0), -EINVAL);
	assert_int_equal(dsp_delay_set(d, (size_t)-1, 10), -EINVAL);
	assert_int_equal(dsp_delay_set(NULL, 0, 0), -EINVAL);
	assert_int_equal(dsp_delay_get_frames(d), 1); /* refused sets changed nothing */
	assert_null(dsp_delay_free(d));

	/* The largest line is accepted (64 MiB). */
	assert_int_equal(dsp_delay_new(DSP_DELAY_MAX_FRAMES, &d), 0);
	assert_int_equal(dsp_delay_set(d, DSP_DELAY_MAX_FRAMES, 0), 0);
	assert_null(dsp_delay_free(d));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_impulse),          cmocka_unit_test(test_noise_random_blocks),
		cmocka_unit_test(test_fade_has_no_step), cmocka_unit_test(test_fade_formula),
		cmocka_unit_test(test_set_during_fade),  cmocka_unit_test(test_reset),
		cmocka_unit_test(test_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
