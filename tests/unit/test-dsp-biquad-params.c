/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-dsp-biquad-params.c: every invalid argument of the biquad API is refused
 * with -EINVAL and changes nothing: *ret stays untouched, a chain keeps running as before.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dsp/biquad.h"
#include "tests/unit/test-util.h"

#define RATE 48000.0

static const enum dsp_biquad_type all_types[] = {
	DSP_BIQUAD_PEAKING,  DSP_BIQUAD_LOWSHELF, DSP_BIQUAD_HIGHSHELF, DSP_BIQUAD_LOWPASS,
	DSP_BIQUAD_HIGHPASS, DSP_BIQUAD_BANDPASS, DSP_BIQUAD_NOTCH,     DSP_BIQUAD_ALLPASS,
};

/* Expects -EINVAL and *ret untouched (a sentinel pattern survives). */
static void assert_refused(const struct dsp_biquad_params *p, double rate)
{
	struct dsp_biquad_coefs ret, sentinel;

	memset(&sentinel, 0x5a, sizeof(sentinel));
	ret = sentinel;
	assert_int_equal(dsp_biquad_coefs_compute(p, rate, &ret), -EINVAL);
	assert_memory_equal(&ret, &sentinel, sizeof(ret));
}

static void assert_accepted(const struct dsp_biquad_params *p, double rate)
{
	struct dsp_biquad_coefs ret;

	assert_int_equal(dsp_biquad_coefs_compute(p, rate, &ret), 0);
	assert_true(isfinite(ret.b0) && isfinite(ret.b1) && isfinite(ret.b2));
	assert_true(fabs(ret.a2) < 1.0 && fabs(ret.a1) < 1.0 + ret.a2);
}

static void test_compute_null(void **state)
{
	struct dsp_biquad_params p = {DSP_BIQUAD_PEAKING, 1000.0, 1.0, 6.0};
	struct dsp_biquad_coefs ret;

	(void)state;
	assert_int_equal(dsp_biquad_coefs_compute(NULL, RATE, &ret), -EINVAL);
	assert_int_equal(dsp_biquad_coefs_compute(&p, RATE, NULL), -EINVAL);
}

static void test_compute_rate_freq_q(void **state)
{
	static const double bad_rate[] = {0.0, -48000.0, NAN, INFINITY};
	/* relative to the rate: 0, below 0, Nyquist, above it, NaN, infinite */
	static const double bad_freq[] = {0.0, -100.0, RATE / 2, RATE, NAN, INFINITY};
	static const double bad_q[] = {0.0, -0.7, NAN, INFINITY};

	(void)state;
	for (size_t t = 0; t < EL_N_ELEMENTS(all_types); t++) {
		struct dsp_biquad_params p = {all_types[t], 1000.0, 0.7071, 6.0};

		assert_accepted(&p, RATE);
		for (size_t i = 0; i < EL_N_ELEMENTS(bad_rate); i++)
			assert_refused(&p, bad_rate[i]);
		/* 1000 Hz is above Nyquist at 1500 Hz */
		assert_refused(&p, 1500.0);
		for (size_t i = 0; i < EL_N_ELEMENTS(bad_freq); i++) {
			p.freq = bad_freq[i];
			assert_refused(&p, RATE);
		}
		p.freq = 1000.0;
		for (size_t i = 0; i < EL_N_ELEMENTS(bad_q); i++) {
			p.q = bad_q[i];
			assert_refused(&p, RATE);
		}
		/* The edges that are fine: near DC, near Nyquist, tiny and large Q. */
		p.q = 0.7071;
		p.freq = 1.0;
		assert_accepted(&p, RATE);
		p.freq = 23900.0;
		assert_accepted(&p, RATE);
		p.freq = 1000.0, p.q = 0.01;
		assert_accepted(&p, RATE);
		p.q = 100.0;
		assert_accepted(&p, RATE);
		/* A frequency lost in rounding gives a marginal filter: refused, not unstable. */
		p.freq = 1e-300, p.q = 0.7071;
		assert_refused(&p, RATE);
	}
}

static void test_compute_gain_type(void **state)
{
	static const double bad_gain[] = {48.001, -48.001, 1000.0, NAN, INFINITY, -INFINITY};

	(void)state;
	for (size_t t = 0; t < EL_N_ELEMENTS(all_types); t++) {
		struct dsp_biquad_params p = {all_types[t], 1000.0, 0.7071, 48.0};
		int uses_gain = t < 3; /* peaking and the shelves come first in all_types */

		assert_accepted(&p, RATE);
		p.gain_db = -48.0;
		assert_accepted(&p, RATE);
		for (size_t i = 0; i < EL_N_ELEMENTS(bad_gain); i++) {
			p.gain_db = bad_gain[i];
			if (uses_gain)
				assert_refused(&p, RATE);
			else
				assert_accepted(&p, RATE); /* documented: ignored, not checked */
		}
	}
	{
		struct dsp_biquad_params p = {(enum dsp_biquad_type)(DSP_BIQUAD_ALLPASS + 1),
					      1000.0, 0.7071, 0.0};

		assert_refused(&p, RATE);
		p.type = (enum dsp_biquad_type)(-1);
		assert_refused(&p, RATE);
	}
}

static void test_chain_new(void **state)
{
	struct dsp_biquad_chain *sentinel = (struct dsp_biquad_chain *)&sentinel, *c = sentinel;

	(void)state;
	assert_int_equal(dsp_biquad_chain_new(0, RATE, &c), -EINVAL);
	assert_ptr_equal(c, sentinel);
	assert_int_equal(dsp_biquad_chain_new(DSP_BIQUAD_MAX_SECTIONS + 1, RATE, &c), -EINVAL);
	assert_ptr_equal(c, sentinel);
	assert_int_equal(dsp_biquad_chain_new(1, 0.0, &c), -EINVAL);
	assert_int_equal(dsp_biquad_chain_new(1, -1.0, &c), -EINVAL);
	assert_int_equal(dsp_biquad_chain_new(1, NAN, &c), -EINVAL);
	assert_int_equal(dsp_biquad_chain_new(1, INFINITY, &c), -EINVAL);
	assert_ptr_equal(c, sentinel);
	assert_int_equal(dsp_biquad_chain_new(1, RATE, NULL), -EINVAL);
	assert_null(dsp_biquad_chain_free(NULL));

	assert_int_equal(dsp_biquad_chain_new(DSP_BIQUAD_MAX_SECTIONS, RATE, &c), 0);
	assert_int_equal(dsp_biquad_chain_get_sections(c), DSP_BIQUAD_MAX_SECTIONS);
	assert_null(dsp_biquad_chain_free(c));
	assert_int_equal(dsp_biquad_chain_new(1, 44100.0, &c), 0);
	assert_true(dsp_biquad_chain_get_rate(c) == 44100.0);
	assert_null(dsp_biquad_chain_free(c));
}

/*
 * Refused sets: two chains get the same valid ramp; one of them is also offered every invalid
 * set halfway through. Their outputs must stay bit-identical.
 */
static void test_chain_set(void **state)
{
	static const struct dsp_biquad_coefs bad[] = {
		{NAN, 0, 0, 0, 0},    {1, INFINITY, 0, 0, 0}, {1, 0, 0, NAN, 0},
		{1, 0, 0, 0, 1.0},    {1, 0, 0, 0, -1.0},     {1, 0, 0, 1.6, 0.5},
		{1, 0, 0, -1.6, 0.5}, {1, 0, 0, 0, 1.5},      {1, 0, 0, -2.0, 0.99999},
	};
	struct dsp_biquad_params p = {DSP_BIQUAD_PEAKING, 1000.0, 1.0, 9.0};
	struct dsp_biquad_chain *a = NULL, *b = NULL;
	struct dsp_biquad_coefs good;
	float in[2048], out_a[2048], out_b[2048];
	struct test_rng rng;

	(void)state;
	test_rng_init(&rng, 5);
	test_fill_noise(&rng, in, EL_N_ELEMENTS(in), 1.0);
	assert_int_equal(dsp_biquad_coefs_compute(&p, RATE, &good), 0);
	assert_int_equal(dsp_biquad_chain_new(3, RATE, &a), 0);
	assert_int_equal(dsp_biquad_chain_new(3, RATE, &b), 0);
	assert_int_equal(dsp_biquad_chain_set(a, 2, &good, 1000), 0);
	assert_int_equal(dsp_biquad_chain_set(b, 2, &good, 1000), 0);
	dsp_biquad_chain_process(a, in, out_a, 500);
	dsp_biquad_chain_process(b, in, out_b, 500);

	assert_int_equal(dsp_biquad_chain_set(NULL, 0, &good, 0), -EINVAL);
	assert_int_equal(dsp_biquad_chain_set(b, 0, NULL, 0), -EINVAL);
	assert_int_equal(dsp_biquad_chain_set(b, 3, &good, 0), -EINVAL);
	assert_int_equal(dsp_biquad_chain_set(b, (unsigned)-1, &good, 0), -EINVAL);
	for (size_t i = 0; i < EL_N_ELEMENTS(bad); i++) {
		assert_int_equal(dsp_biquad_chain_set(b, 2, &bad[i], 0), -EINVAL);
		assert_int_equal(dsp_biquad_chain_set(b, 0, &bad[i], 100), -EINVAL);
	}
	dsp_biquad_chain_process(a, in + 500, out_a + 500, EL_N_ELEMENTS(in) - 500);
	dsp_biquad_chain_process(b, in + 500, out_b + 500, EL_N_ELEMENTS(in) - 500);
	assert_memory_equal(out_a, out_b, sizeof(out_a));
	/* and the ramp did run: the output is not the input */
	assert_memory_not_equal(in, out_a, sizeof(in));
	dsp_biquad_chain_free(a);
	dsp_biquad_chain_free(b);
}

/*
 * Following a chain (dsp_biquad_chain_follow) leaves it where processing would: two chains, one
 * processed and one followed over blocks of odd lengths (1 frame among them), first all identity,
 * then with one band steady, must give bit-identical output once a band ramps in.
 */
static void test_chain_follow(void **state)
{
	static const size_t lens[] = {37, 1, 256, 2, 700, 1};
	struct dsp_biquad_params p = {DSP_BIQUAD_PEAKING, 200.0, 2.0, -6.0};
	struct dsp_biquad_params p2 = {DSP_BIQUAD_HIGHSHELF, 4000.0, 0.7071, 4.0};
	struct dsp_biquad_chain *a = NULL, *b = NULL;
	struct dsp_biquad_coefs band, band2;
	float in[4096], out_a[4096], out_b[4096];
	struct test_rng rng;

	(void)state;
	test_rng_init(&rng, 11);
	test_fill_noise(&rng, in, EL_N_ELEMENTS(in), 1.0);
	assert_int_equal(dsp_biquad_coefs_compute(&p, RATE, &band), 0);
	assert_int_equal(dsp_biquad_coefs_compute(&p2, RATE, &band2), 0);
	for (int steady_band = 0; steady_band < 2; steady_band++) {
		size_t at = 0;

		assert_int_equal(dsp_biquad_chain_new(4, RATE, &a), 0);
		assert_int_equal(dsp_biquad_chain_new(4, RATE, &b), 0);
		if (steady_band) {
			assert_int_equal(dsp_biquad_chain_set(a, 3, &band2, 0), 0);
			assert_int_equal(dsp_biquad_chain_set(b, 3, &band2, 0), 0);
		}
		for (size_t i = 0; i < EL_N_ELEMENTS(lens); i++) {
			dsp_biquad_chain_process(a, in + at, out_a, lens[i]);
			dsp_biquad_chain_follow(b, in + at, lens[i]);
			at += lens[i];
		}
		dsp_biquad_chain_follow(b, in, 0); /* nothing at all: no change */
		assert_int_equal(dsp_biquad_chain_set(a, 1, &band, 300), 0);
		assert_int_equal(dsp_biquad_chain_set(b, 1, &band, 300), 0);
		dsp_biquad_chain_process(a, in + at, out_a, 1000);
		dsp_biquad_chain_process(b, in + at, out_b, 1000);
		assert_memory_equal(out_a, out_b, 1000 * sizeof(float));
		assert_memory_not_equal(in + at, out_a, 1000 * sizeof(float));
		dsp_biquad_chain_free(a);
		dsp_biquad_chain_free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compute_null),
		cmocka_unit_test(test_compute_rate_freq_q),
		cmocka_unit_test(test_compute_gain_type),
		cmocka_unit_test(test_chain_new),
		cmocka_unit_test(test_chain_set),
		cmocka_unit_test(test_chain_follow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
