/* SPDX-License-Identifier: MIT */
/*
 * Property: the look-ahead limiter never lets a sample out above its ceiling, and never needs
 * its last-resort clip to get there, on signals chosen to break it.
 *  - Worst cases, for look-aheads of 1, 64 and 240 frames and ceilings of 1, -1 dB and -6 dB:
 *    one +20 dB sample in silence, a step to +18 dB, a +12 dB square wave at Nyquist, +12 dB
 *    noise, impulses closer than the look-ahead that grow each time, a peak on the last frame of
 *    a call and on the first of the next, huge values, infinities and NaNs (silence out):
 *    every |y| <= ceiling, and the gain got there by itself: the cap at a frame's own need never
 *    bound (but for the wild case's 1e30s) and the last clip moved nothing beyond rounding.
 *  - Below the ceiling the output is the input delayed by the look-ahead, bit for bit.
 *  - The attack is a straight line over the window (a DC step's gain never moves by more than
 *    the needed reduction / window per frame); the release recovers 1 - 1/e of the way in
 *    `release` frames (within 2 %); the lowest gain is reported.
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dsp/limiter.h"

#define N 48000u

static float x[2][N], y[2][N];

static uint64_t rng = 88172645463325252ull;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) * 0x1p-53 * 2.0 - 1.0;
}

enum shape { IMPULSE, STEP, SQUARE, NOISE, GROWING, EDGES, WILD, N_SHAPES };
static const char *const shape_names[] = {"impulse", "step",  "square", "noise",
					  "growing", "edges", "wild"};

static void make(enum shape s, uint32_t lookahead)
{
	memset(x, 0, sizeof(x));
	for (size_t i = 0; i < N; i++) {
		float v = 0.0f;

		switch (s) {
		case IMPULSE:
			v = i == N / 2 ? 10.0f : 0.0f;
			break;
		case STEP:
			v = i >= N / 3 ? 8.0f : 0.1f;
			break;
		case SQUARE:
			v = i & 1 ? -4.0f : 4.0f;
			break;
		case NOISE:
			v = (float)(4.0 * uniform());
			break;
		case GROWING: /* each impulse inside the last one's look-ahead, larger */
			v = i % (lookahead / 2 + 1) == 0 ? (float)(1.0 + i * 1e-3) : 0.2f;
			break;
		case EDGES: /* peaks on a call's last frame and the next call's first */
			v = (i % 256 == 255 || i % 256 == 0) ? (float)(2.0 + (i % 7)) : 0.0f;
			break;
		case WILD:
			v = (float)(uniform() * (i % 97 == 0 ? 1e30 : 3.0));
			if (i % 1009 == 0)
				v = INFINITY;
			if (i % 2003 == 0)
				v = -INFINITY;
			if (i % 3001 == 0)
				v = NAN;
			break;
		default:
			break;
		}
		x[0][i] = v;
		x[1][i] = s == SQUARE ? -v : v * 0.5f;
	}
}

/* x through a limiter, in calls of 256 frames; |y| <= ceiling and no clip. */
static void run_case(enum shape s, uint32_t lookahead, float ceiling)
{
	struct dsp_limiter *l = NULL;
	float peak = 0.0f;

	make(s, lookahead);
	assert_int_equal(dsp_limiter_new(2, lookahead, false, &l), 0);
	dsp_limiter_set(l, ceiling, 4800.0);
	for (size_t at = 0; at < N; at += 256) {
		const float *in[2] = {x[0] + at, x[1] + at};
		float *out[2] = {y[0] + at, y[1] + at};

		dsp_limiter_process(l, in, out, 256 < N - at ? 256 : N - at);
	}
	for (unsigned c = 0; c < 2; c++)
		for (size_t i = 0; i < N; i++) {
			assert_false(isnan(y[c][i]));
			peak = fmaxf(peak, fabsf(y[c][i]));
		}
	/* the average alone does it (but for gains 10^12 apart: the wild case's 1e30s) */
	if (peak > ceiling || dsp_limiter_get_clips(l) != 0 ||
	    (s != WILD && dsp_limiter_get_caught(l) != 0))
		fail_msg("%s, look-ahead %u, ceiling %g: peak %.9g, %llu frames capped, %llu "
			 "samples clipped",
			 shape_names[s], lookahead, ceiling, peak,
			 (unsigned long long)dsp_limiter_get_caught(l),
			 (unsigned long long)dsp_limiter_get_clips(l));
	dsp_limiter_free(l);
}

static void test_worst_cases(void **state)
{
	static const uint32_t lookaheads[] = {1, 64, 240};
	static const float ceilings[] = {1.0f, 0.891251f, 0.501187f};

	(void)state;
	for (unsigned s = 0; s < N_SHAPES; s++)
		for (size_t a = 0; a < 3; a++)
			for (size_t c = 0; c < 3; c++)
				run_case((enum shape)s, lookaheads[a], ceilings[c]);
	printf("# %d shapes x 3 look-aheads x 3 ceilings: never above the ceiling, no clip\n",
	       N_SHAPES);
}

static void test_transparent_below_ceiling(void **state)
{
	struct dsp_limiter *l = NULL;
	const float *in[2] = {x[0], x[1]};
	float *out[2] = {y[0], y[1]};

	(void)state;
	for (size_t i = 0; i < N; i++)
		x[0][i] = x[1][i] = (float)(0.99 * uniform());
	assert_int_equal(dsp_limiter_new(2, 100, false, &l), 0);
	dsp_limiter_set(l, 1.0f, 1000.0);
	assert_int_equal(dsp_limiter_get_latency(l), 100);
	dsp_limiter_process(l, in, out, N);
	for (size_t i = 0; i < N; i++)
		assert_true(y[0][i] == (i < 100 ? 0.0f : x[0][i - 100]));
	assert_true(dsp_limiter_take_min_gain(l) == 1.0f);
	dsp_limiter_free(l);
}

static void test_attack_and_release(void **state)
{
	const uint32_t la = 240;
	const double release = 2400.0;
	struct dsp_limiter *l = NULL;
	const float *in[2] = {x[0], x[1]};
	float *out[2] = {y[0], y[1]};
	double worst = 0.0, back;

	(void)state;
	/* DC 2.0 for a while, then 0.5: the gain goes 1 -> 0.5 in a line, then back to 1 */
	for (size_t i = 0; i < N; i++)
		x[0][i] = x[1][i] = i >= 1000 && i < 10000 ? 2.0f : 0.5f;
	assert_int_equal(dsp_limiter_new(2, la, false, &l), 0);
	dsp_limiter_set(l, 1.0f, release);
	dsp_limiter_process(l, in, out, N);
	for (size_t i = la + 1; i < 10000 + la; i++) /* the gain, y / delayed x */
		worst = fmax(worst, fabs(y[0][i] / x[0][i - la] - y[0][i - 1] / x[0][i - 1 - la]));
	printf("# attack: largest gain step %.6f (0.5 / window = %.6f)\n", worst, 0.5 / (la + 1));
	assert_true(worst <= 0.5 / (la + 1) * 1.0001);
	assert_true(fabsf(dsp_limiter_take_min_gain(l) - 0.5f) < 1e-6f);
	/* `release` frames after the loud part left the hold and the average: 1 - 1/e of the way */
	back = y[0][10000 + 2 * la + (size_t)release] / 0.5;
	printf("# release: gain %.4f after %g frames (1 - 0.5/e = %.4f)\n", back, release,
	       1.0 - 0.5 / M_E);
	assert_true(fabs(back - (1.0 - 0.5 / M_E)) < 0.02);
	dsp_limiter_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worst_cases),
		cmocka_unit_test(test_transparent_below_ceiling),
		cmocka_unit_test(test_attack_and_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
