/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-dsp-biquad-smooth.c: coefficient ramps of a biquad chain are smooth, do
 * exactly what the header promises, never go unstable, and decaying tails end in exact zeros.
 */
#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dsp/biquad.h"
#include "tests/unit/test-util.h"

#define RATE  48000
#define BLOCK 128

/* |H(e^jw)| of one section at f Hz, straight from its coefficients. */
static double coefs_mag(const struct dsp_biquad_coefs *c, double f)
{
	double complex z1 = cexp(-I * 2.0 * M_PI * f / RATE);
	double complex num = c->b0 + c->b1 * z1 + c->b2 * z1 * z1;
	double complex den = 1.0 + c->a1 * z1 + c->a2 * z1 * z1;

	return cabs(num / den);
}

static void peaking(double f0, double q, double gain_db, struct dsp_biquad_coefs *ret)
{
	struct dsp_biquad_params p = {DSP_BIQUAD_PEAKING, f0, q, gain_db};

	assert_int_equal(dsp_biquad_coefs_compute(&p, RATE, ret), 0);
}

struct steps {
	double step; /* largest |y[n] - y[n-1]| */
	double curv; /* largest |y[n] - 2 y[n-1] + y[n-2]|: where a click shows most */
};

static void steps_of(const float *y, size_t n, struct steps *ret)
{
	*ret = (struct steps){0};
	for (size_t i = 2; i < n; i++) {
		ret->step = fmax(ret->step, fabs((double)y[i] - y[i - 1]));
		ret->curv = fmax(ret->curv, fabs((double)y[i] - 2.0 * y[i - 1] + y[i - 2]));
	}
}

/*
 * One second of a sine of f Hz through a peaking filter at 1 kHz, Q 1, that is at g0 dB and
 * is set to g1 dB after half a second with the given ramp. Returns the steps and curvatures of
 * the half second after the change.
 */
static void switch_gain(double f, double g0, double g1, unsigned ramp, struct steps *ret)
{
	static float x[RATE], y[RATE];
	struct dsp_biquad_chain *c = NULL;
	struct dsp_biquad_coefs a, b;

	peaking(1000.0, 1.0, g0, &a);
	peaking(1000.0, 1.0, g1, &b);
	for (size_t n = 0; n < RATE; n++)
		x[n] = (float)(0.25 * sin(2.0 * M_PI * f * (double)n / RATE + 0.3));
	assert_int_equal(dsp_biquad_chain_new(1, RATE, &c), 0);
	assert_int_equal(dsp_biquad_chain_set(c, 0, &a, 0), 0);
	dsp_biquad_chain_process(c, x, y, RATE / 2);
	assert_int_equal(dsp_biquad_chain_set(c, 0, &b, ramp), 0);
	for (size_t n = RATE / 2; n < RATE; n += BLOCK)
		dsp_biquad_chain_process(c, x + n, y + n, EL_MIN(BLOCK, RATE - n));
	/* From two frames before the change, so its first two frames count in curv too. */
	steps_of(y + RATE / 2 - 2, RATE / 2 + 2, ret);
	dsp_biquad_chain_free(c);
}

/*
 * A sine of amplitude B at f moves at most B * 2 sin(pi f / rate) per frame and curves at most
 * B * (2 sin(pi f / rate))^2. While the gain ramps, B lies between the two filters' gains at f
 * (times the input amplitude), and grows by at most 1/512 of the difference per frame, which
 * is well inside the 5 % allowed on top. An instant switch must break that bound (DF-I keeps
 * even an instant switch fairly tame, so the margin is modest for the step, large for the
 * curvature), which shows that the ramp is what keeps it smooth.
 */
static void test_ramp_is_smooth(void **state)
{
	static const double freqs[] = {100.0, 500.0, 2000.0};
	struct dsp_biquad_coefs a, b;

	(void)state;
	peaking(1000.0, 1.0, 0.0, &a);
	peaking(1000.0, 1.0, 12.0, &b);
	for (size_t i = 0; i < EL_N_ELEMENTS(freqs); i++) {
		double f = freqs[i], d = 2.0 * sin(M_PI * f / RATE);
		double amp = 0.25 * fmax(coefs_mag(&a, f), coefs_mag(&b, f));
		struct steps ramped, instant;

		switch_gain(f, 0.0, 12.0, 512, &ramped);
		switch_gain(f, 0.0, 12.0, 0, &instant);
		printf("# %4g Hz: bound step %.5f curv %.6f; ramp 512: %.5f %.6f; instant: %.5f "
		       "%.6f\n",
		       f, 1.05 * amp * d, 1.05 * amp * d * d, ramped.step, ramped.curv,
		       instant.step, instant.curv);
		assert_true(ramped.step <= 1.05 * amp * d);
		assert_true(ramped.curv <= 1.05 * amp * d * d);
		assert_true(instant.step > 1.05 * amp * d || instant.curv > 1.05 * amp * d * d);
	}
}

/*
 * After the ramp the filter is the target filter: a sine at f0 settles at exactly +12 dB.
 * Amplitude and phase come from correlating whole periods (48 frames at 1 kHz) with sin, cos.
 */
static void test_ramp_lands_on_target(void **state)
{
	static float x[RATE], y[RATE];
	struct dsp_biquad_chain *c = NULL;
	struct dsp_biquad_coefs b;
	double si = 0.0, co = 0.0, got_db;

	(void)state;
	peaking(1000.0, 1.0, 12.0, &b);
	for (size_t n = 0; n < RATE; n++)
		x[n] = (float)sin(2.0 * M_PI * 1000.0 * (double)n / RATE);
	assert_int_equal(dsp_biquad_chain_new(1, RATE, &c), 0);
	dsp_biquad_chain_process(c, x, y, 4800);
	assert_int_equal(dsp_biquad_chain_set(c, 0, &b, 512), 0);
	dsp_biquad_chain_process(c, x + 4800, y + 4800, RATE - 4800);
	/* The last half second: the ramp ended 0.39 s earlier, 60 time constants of the poles. */
	for (size_t n = RATE / 2; n < RATE; n++) {
		si += y[n] * sin(2.0 * M_PI * 1000.0 * (double)n / RATE);
		co += y[n] * cos(2.0 * M_PI * 1000.0 * (double)n / RATE);
	}
	got_db = 20.0 * log10(hypot(si, co) * 2.0 / (RATE / 2));
	printf("# settled at f0 after the ramp: %+.6f dB (want +12), phase %+.5f deg (want 0)\n",
	       got_db, atan2(co, si) * 180.0 / M_PI);
	assert_true(fabs(got_db - 12.0) < 0.001);
	assert_true(fabs(atan2(co, si) * 180.0 / M_PI) < 0.01);
	dsp_biquad_chain_free(c);
}

/*
 * A plain double-precision Direct Form I cascade that follows the header's promise word for
 * word: frame k of a ramp uses now + (target - now) * k / len, a set starts from the
 * coefficients the next frame would have used. Written for clarity, not speed.
 */
struct ref_section {
	double start[5], target[5];
	unsigned k, len;
	double x1, x2, y1, y2;
};

static void ref_now(const struct ref_section *r, double *c)
{
	for (int i = 0; i < 5; i++)
		c[i] = r->len ? r->start[i] + (r->target[i] - r->start[i]) * r->k / r->len
			      : r->target[i];
}

static void ref_set(struct ref_section *r, const struct dsp_biquad_coefs *coefs, unsigned ramp)
{
	double now[5];

	ref_now(r, now);
	memcpy(r->start, now, sizeof(now));
	r->target[0] = coefs->b0, r->target[1] = coefs->b1, r->target[2] = coefs->b2;
	r->target[3] = coefs->a1, r->target[4] = coefs->a2;
	r->k = 0;
	r->len = ramp;
}

static double ref_step(struct ref_section *r, double x)
{
	double c[5], y;

	ref_now(r, c);
	y = c[0] * x + c[1] * r->x1 + c[2] * r->x2 - c[3] * r->y1 - c[4] * r->y2;
	r->x2 = r->x1, r->x1 = x, r->y2 = r->y1, r->y1 = y;
	if (r->len && ++r->k == r->len)
		r->len = 0;
	return y;
}

/* A random set: any type, or the identity; ramps from instant to longer than a block. */
static void random_set(struct test_rng *rng, struct dsp_biquad_chain *c, struct ref_section *ref,
		       unsigned nsec)
{
	static const unsigned ramps[] = {0, 1, 7, 255, 256, 512, 3000};
	struct dsp_biquad_coefs coefs = {.b0 = 1.0};
	unsigned sec = (unsigned)(test_rng_next(rng) % nsec);
	unsigned ramp = ramps[test_rng_next(rng) % EL_N_ELEMENTS(ramps)];
	int type = (int)(test_rng_next(rng) % 9);

	if (type < 8) {
		struct dsp_biquad_params p = {
			.type = (enum dsp_biquad_type)type,
			.freq = 30.0 * pow(500.0, 0.5 + 0.5 * test_rng_uniform(rng)),
			.q = 0.5 + 2.0 * (1.0 + test_rng_uniform(rng)),
			.gain_db = 12.0 * test_rng_uniform(rng),
		};

		assert_int_equal(dsp_biquad_coefs_compute(&p, RATE, &coefs), 0);
	}
	assert_int_equal(dsp_biquad_chain_set(c, sec, &coefs, ramp), 0);
	ref_set(&ref[sec], &coefs, ramp);
}

/*
 * Random sets (instant, ramped, during ramps, back to identity) between blocks of random
 * length, in place or not: the chain's output must be the reference's to float rounding.
 */
static void test_ramp_semantics(void **state)
{
	enum { NSEC = 4, TOTAL = 400000, MAXN = 1000 };
	static float in[MAXN], out[MAXN], want[MAXN];
	struct ref_section ref[NSEC];
	struct dsp_biquad_chain *c = NULL;
	struct test_rng rng;
	double worst = 0.0;

	(void)state;
	memset(ref, 0, sizeof(ref));
	for (int k = 0; k < NSEC; k++)
		ref[k].target[0] = 1.0;
	test_rng_init(&rng, 7);
	assert_int_equal(dsp_biquad_chain_new(NSEC, RATE, &c), 0);
	for (size_t done = 0; done < TOTAL;) {
		size_t n = 1 + test_rng_next(&rng) % MAXN;
		float *got = test_rng_next(&rng) % 2 ? in : out; /* in: in place */

		if (test_rng_next(&rng) % 3 == 0)
			random_set(&rng, c, ref, NSEC);
		test_fill_noise(&rng, in, n, 0.5);
		for (size_t i = 0; i < n; i++) {
			double y = in[i];

			for (int k = 0; k < NSEC; k++)
				y = ref_step(&ref[k], y);
			want[i] = (float)y;
		}
		dsp_biquad_chain_process(c, in, got, n);
		for (size_t i = 0; i < n; i++)
			worst = fmax(worst,
				     fabs((double)got[i] - want[i]) / fmax(1.0, fabs(want[i])));
		done += n;
	}
	printf("# chain vs reference, %d frames of random sets: worst relative difference %.3g\n",
	       TOTAL, worst);
	assert_true(worst <= 1e-6);
	dsp_biquad_chain_free(c);
}

/*
 * Ramps between extreme stable filters stay stable: every intermediate (a1, a2) lies in the
 * convex stability triangle. From a 20 Hz peak of +48 dB at Q 20 (poles 1.3e-4 inside the unit
 * circle) to a 20 kHz lowpass and back, under full-scale noise, over short and long ramps.
 */
static void test_ramp_stays_stable(void **state)
{
	static const unsigned ramps[] = {1, 64, 4096, 48000};
	static float buf[4096];
	struct dsp_biquad_params pk = {DSP_BIQUAD_PEAKING, 20.0, 20.0, 48.0};
	struct dsp_biquad_params lp = {DSP_BIQUAD_LOWPASS, 20000.0, 0.5, 0.0};
	struct dsp_biquad_coefs a, b;
	struct test_rng rng;
	double peak = 0.0;

	(void)state;
	test_rng_init(&rng, 3);
	assert_int_equal(dsp_biquad_coefs_compute(&pk, RATE, &a), 0);
	assert_int_equal(dsp_biquad_coefs_compute(&lp, RATE, &b), 0);
	for (size_t i = 0; i < EL_N_ELEMENTS(ramps); i++) {
		struct dsp_biquad_chain *c = NULL;

		assert_int_equal(dsp_biquad_chain_new(1, RATE, &c), 0);
		for (int round = 0; round < 8; round++) {
			const struct dsp_biquad_coefs *to = round % 2 ? &a : &b;

			assert_int_equal(dsp_biquad_chain_set(c, 0, to, ramps[i]), 0);
			for (unsigned done = 0; done < 2 * ramps[i]; done += EL_N_ELEMENTS(buf)) {
				test_fill_noise(&rng, buf, EL_N_ELEMENTS(buf), 1.0);
				dsp_biquad_chain_process(c, buf, buf, EL_N_ELEMENTS(buf));
				for (size_t k = 0; k < EL_N_ELEMENTS(buf); k++)
					peak = fmax(peak, fabs(buf[k]));
			}
		}
		dsp_biquad_chain_free(c);
	}
	/*
	 * The peak's gain is 251 (+48 dB) and a resonance rings past its input's peak, so noise
	 * through it reaches several hundred; an unstable filter grows exponentially past 1e4.
	 */
	printf("# largest output while ramping between extremes: %.1f\n", peak);
	assert_true(isfinite(peak) && peak < 1e4);
}

/*
 * Loud noise, then silence: the output must reach exact zeros within twice the time the
 * slowest poles take to fall by 1e-40 (from a peak near 1e2 to below the 1e-30 floor, and
 * then some), and must never hold a subnormal sample. ramp_section >= 0 starts a ramp to the
 * identity on that section just as the silence starts.
 */
static void check_silence(const struct dsp_biquad_params *p, unsigned np, int ramp_section)
{
	static float buf[480];
	struct dsp_biquad_chain *c = NULL;
	struct test_rng rng;
	size_t first_zero = 0, subnormal = 0, limit = 0;

	test_rng_init(&rng, 11);
	assert_int_equal(dsp_biquad_chain_new(np, RATE, &c), 0);
	for (unsigned k = 0; k < np; k++) {
		struct dsp_biquad_coefs coefs;

		assert_int_equal(dsp_biquad_coefs_compute(&p[k], RATE, &coefs), 0);
		assert_int_equal(dsp_biquad_chain_set(c, k, &coefs, 0), 0);
		/* every filter used here has complex poles, of radius sqrt(a2) */
		limit = EL_MAX(limit, (size_t)(2.0 * log(1e-40) / log(sqrt(coefs.a2))));
	}
	test_fill_noise(&rng, buf, EL_N_ELEMENTS(buf), 1.0);
	dsp_biquad_chain_process(c, buf, buf, EL_N_ELEMENTS(buf));
	if (ramp_section >= 0)
		assert_int_equal(dsp_biquad_chain_set(c, (unsigned)ramp_section,
						      &(struct dsp_biquad_coefs){.b0 = 1.0}, 1000),
				 0);
	for (size_t n = 0; n < limit + RATE; n += EL_N_ELEMENTS(buf)) {
		memset(buf, 0, sizeof(buf));
		dsp_biquad_chain_process(c, buf, buf, EL_N_ELEMENTS(buf));
		for (size_t i = 0; i < EL_N_ELEMENTS(buf); i++) {
			subnormal += fpclassify(buf[i]) == FP_SUBNORMAL;
			if (buf[i] != 0.0f)
				first_zero = n + i + 1;
		}
	}
	printf("# silence: exact zeros from frame %zu on (limit %zu), %zu subnormal samples\n",
	       first_zero, limit, subnormal);
	assert_int_equal(subnormal, 0);
	assert_true(first_zero > 0 && first_zero < limit);
	dsp_biquad_chain_free(c);
}

/*
 * Slow poles (a 20 Hz resonance, ~30 s to reach the floor) with a ramp running when the
 * silence starts, and fast poles alone (a 15 kHz lowpass falls through the whole float range
 * within one call, so only the flush of the output, not of the state, can catch it).
 */
static void test_silence_ends_in_zeros(void **state)
{
	static const struct dsp_biquad_params slow[] = {
		{DSP_BIQUAD_PEAKING, 20.0, 8.0, 24.0},
		{DSP_BIQUAD_LOWPASS, 15000.0, 0.5, 0.0},
		{DSP_BIQUAD_HIGHSHELF, 3000.0, 0.7071, -12.0},
	};
	static const struct dsp_biquad_params fast[] = {
		{DSP_BIQUAD_LOWPASS, 15000.0, 0.6, 0.0},
	};

	(void)state;
	check_silence(slow, EL_N_ELEMENTS(slow), 1);
	check_silence(fast, EL_N_ELEMENTS(fast), -1);
}

/* Reset forgets the history: a ringing filter goes silent at once, and rings again after. */
static void test_reset(void **state)
{
	struct dsp_biquad_params p = {DSP_BIQUAD_BANDPASS, 1000.0, 10.0, 0.0};
	struct dsp_biquad_chain *c = NULL;
	struct dsp_biquad_coefs coefs;
	float buf[256] = {1.0f};

	(void)state;
	assert_int_equal(dsp_biquad_coefs_compute(&p, RATE, &coefs), 0);
	assert_int_equal(dsp_biquad_chain_new(1, RATE, &c), 0);
	assert_int_equal(dsp_biquad_chain_set(c, 0, &coefs, 0), 0);
	dsp_biquad_chain_process(c, buf, buf, EL_N_ELEMENTS(buf));
	memset(buf, 0, sizeof(buf));
	dsp_biquad_chain_process(c, buf, buf, 1);
	assert_true(buf[0] != 0.0f); /* still ringing */
	dsp_biquad_chain_reset(c);
	memset(buf, 0, sizeof(buf));
	dsp_biquad_chain_process(c, buf, buf, EL_N_ELEMENTS(buf));
	for (size_t i = 0; i < EL_N_ELEMENTS(buf); i++)
		assert_true(buf[i] == 0.0f);
	dsp_biquad_chain_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ramp_is_smooth),
		cmocka_unit_test(test_ramp_lands_on_target),
		cmocka_unit_test(test_ramp_semantics),
		cmocka_unit_test(test_ramp_stays_stable),
		cmocka_unit_test(test_silence_ends_in_zeros),
		cmocka_unit_test(test_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
