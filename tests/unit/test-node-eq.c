/* SPDX-License-Identifier: MIT */
/*
 * Property: the eq node is bit-exact with no bands; a band's gain at its frequency, measured
 * with a sine by correlation, is the analytic magnitude of its RBJ design there (peaking and
 * shelves: gain_db and gain_db / 2; low/high-pass: 20 log10 Q; notch: a deep null) within
 * 0.01 dB, on every channel; a band change by update ramps the coefficients over fade_frames
 * (bit-identical to a bare chain ramped so) with no step beyond the signal's own slope plus the
 * ramp's; the tail covers the response's decay (140 dB below
 * its peak at least); bad band values give `FILE:LINE: key 'bandN': ...` saying what is
 * expected; `bandN.chM` gives channel M its own band N (the others keep `bandN`), and a channel
 * the node does not have is an unknown key.
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
#include "dsp/biquad.h"
#include "tests/unit/test-node-util.h"

extern const struct node_type node_type_eq;

#define FRAMES (BLOCK * 375u) /* 2 s */
#define SETTLE (BLOCK * 94u)  /* about 0.5 s: every band below has decayed far below -150 dB */

static float sig[2][FRAMES], got[2][FRAMES];
static float *const in[2] = {sig[0], sig[1]}, *const out[2] = {got[0], got[1]};
static const unsigned stereo[] = {2};

static void fill_sine(double freq, double amp)
{
	for (size_t i = 0; i < FRAMES; i++)
		sig[0][i] = sig[1][i] = (float)(amp * sin(2.0 * M_PI * freq * (double)i / RATE));
}

/* Amplitude of x[from, to) at freq, by correlation over whole cycles of 1 s windows. */
static double amplitude(const float *x, size_t from, size_t to, double freq)
{
	double i_sum = 0.0, q_sum = 0.0;

	for (size_t k = from; k < to; k++) {
		double w = 2.0 * M_PI * freq * (double)k / RATE;

		i_sum += x[k] * sin(w);
		q_sum += x[k] * cos(w);
	}
	return 2.0 * hypot(i_sum, q_sum) / (double)(to - from);
}

static void test_flat_bit_exact(void **state)
{
	static float zero[2][FRAMES];
	float *const z[2] = {zero[0], zero[1]};
	struct harness h;
	void *q;

	(void)state;
	harness_fill_noise(in, 2, FRAMES, 1.0, 3);
	harness_init(&h, stereo, 1);
	q = harness_create(&h, &node_type_eq, "[node.q]\ntype = eq\ninput = a\n");
	assert_int_equal(node_type_eq.get_out_channels(q), 2);
	assert_int_equal(harness_tail(&node_type_eq, q), 0);
	assert_false(harness_run(&node_type_eq, q, in, 2, out, 2, 0, FRAMES));
	assert_memory_equal(sig, got, sizeof(sig));
	assert_true(harness_run(&node_type_eq, q, z, 2, out, 2, 0, FRAMES));
	node_type_eq.destroy(q);
	harness_done(&h);
}

struct band_case {
	const char *band;
	double freq, want_db;
};

/* A sine at each band's frequency comes out at the band's analytic gain there. */
static void test_band_gain_at_f0(void **state)
{
	const struct band_case cases[] = {
		{"peaking 1000 1.0 6", 1000.0, 6.0},
		{"peaking 1000 4.0 -12", 1000.0, -12.0},
		{"lowshelf 200 0.7071 -8", 200.0, -4.0},
		{"highshelf 5000 0.7071 10", 5000.0, 5.0},
		{"lowpass 1000 0.7071", 1000.0, 20.0 * log10(0.7071)},
		{"highpass 100 2.0", 100.0, 20.0 * log10(2.0)},
		{"bandpass 3000 1.5", 3000.0, 0.0},
		{"allpass 2000 0.5", 2000.0, 0.0},
	};
	char text[256];
	struct harness h;

	(void)state;
	harness_init(&h, stereo, 1);
	for (size_t i = 0; i < EL_N_ELEMENTS(cases); i++) {
		double db0, db1;
		void *q;

		snprintf(text, sizeof(text), "[node.q]\ntype = eq\ninput = a\nband7 = %s\n",
			 cases[i].band);
		q = harness_create(&h, &node_type_eq, text);
		fill_sine(cases[i].freq, 0.25);
		harness_run(&node_type_eq, q, in, 2, out, 2, 0, FRAMES);
		db0 = 20.0 * log10(amplitude(got[0], FRAMES - RATE, FRAMES, cases[i].freq) / 0.25);
		db1 = 20.0 * log10(amplitude(got[1], FRAMES - RATE, FRAMES, cases[i].freq) / 0.25);
		printf("# %-26s at %6.0f Hz: %8.4f dB (want %8.4f)\n", cases[i].band, cases[i].freq,
		       db0, cases[i].want_db);
		assert_true(fabs(db0 - cases[i].want_db) < 0.01);
		assert_true(db0 == db1);
		node_type_eq.destroy(q);
	}
	/* The notch: a null far below the input. */
	{
		void *q = harness_create(&h, &node_type_eq,
					 "[node.q]\ntype = eq\ninput = a\nband1 = notch 1000 2\n");
		double db;

		fill_sine(1000.0, 0.25);
		harness_run(&node_type_eq, q, in, 2, out, 2, 0, FRAMES);
		db = 20.0 * log10(amplitude(got[0], FRAMES - RATE, FRAMES, 1000.0) / 0.25);
		printf("# notch 1000 2 at 1000 Hz: %.1f dB\n", db);
		assert_true(db < -100.0);
		node_type_eq.destroy(q);
	}
	harness_done(&h);
}

/*
 * What the eq should do to sig[0]: one chain of DSP_BIQUAD_MAX_SECTIONS sections, section 2 at
 * c0 (NULL: identity) until frame at, then ramped to c1 over fade frames.
 */
static void reference(const struct dsp_biquad_params *p0, const struct dsp_biquad_params *p1,
		      size_t at, unsigned fade, float *y)
{
	struct dsp_biquad_chain *c = NULL;
	struct dsp_biquad_coefs c0, c1;

	assert_int_equal(dsp_biquad_chain_new(DSP_BIQUAD_MAX_SECTIONS, RATE, &c), 0);
	if (p0) {
		assert_int_equal(dsp_biquad_coefs_compute(p0, RATE, &c0), 0);
		assert_int_equal(dsp_biquad_chain_set(c, 2, &c0, 0), 0);
	}
	assert_int_equal(dsp_biquad_coefs_compute(p1, RATE, &c1), 0);
	dsp_biquad_chain_process(c, sig[0], y, at);
	assert_int_equal(dsp_biquad_chain_set(c, 2, &c1, fade), 0);
	dsp_biquad_chain_process(c, sig[0] + at, y + at, FRAMES - at);
	dsp_biquad_chain_free(c);
}

/*
 * Runs a 50 Hz sine of amplitude 0.05 through an eq made from `from` and updated to `to` at
 * frame `at`; returns the largest step of the output after the update.
 */
static double run_change(struct harness *h, const char *from, const char *to, size_t at)
{
	double worst = 0.0;
	void *q, *u = NULL;

	fill_sine(50.0, 0.05);
	q = harness_create(h, &node_type_eq, from);
	assert_int_equal(harness_call(h, &node_type_eq, q, from, &u), 0);
	assert_null(u);
	assert_int_equal(harness_call(h, &node_type_eq, q, to, &u), 0);
	assert_non_null(u);
	harness_run(&node_type_eq, q, in, 2, out, 2, 0, at);
	harness_apply(&node_type_eq, q, u);
	node_type_eq.update_free(u);
	harness_run(&node_type_eq, q, in, 2, out, 2, at, FRAMES);
	for (size_t i = at; i < FRAMES; i++)
		worst = fmax(worst, fabs((double)got[0][i] - got[0][i - 1]));
	node_type_eq.destroy(q);
	return worst;
}

/*
 * A low shelf at 200 Hz moves from -12 to +12 dB under a 50 Hz sine (and a flat eq gains that
 * band). The node must ramp the coefficients over fade_frames: its output is bit-identical to
 * a bare chain given the same set with that ramp (test-dsp-biquad-smooth proves such ramps
 * smooth), including across the flat eq's switch from copying to filtering. As a check on the
 * whole, no step exceeds the sine's own slope at the larger level plus the level change spread
 * over the ramp, a1 d + (a1 - a0) / FADE with d = 2 sin(pi f / rate), 5 % allowed on top.
 */
static void test_update_ramps(void **state)
{
	static float want[FRAMES];
	const struct dsp_biquad_params pcut = {DSP_BIQUAD_LOWSHELF, 200.0, 0.7071, -12.0};
	const struct dsp_biquad_params pboost = {DSP_BIQUAD_LOWSHELF, 200.0, 0.7071, 12.0};
	const char *flat = "[node.q]\ntype = eq\ninput = a\n";
	const char *cut = "[node.q]\ntype = eq\ninput = a\nband3 = lowshelf 200 0.7071 -12\n";
	const char *boost = "[node.q]\ntype = eq\ninput = a\nband3 = lowshelf 200 0.7071 12\n";
	const double a0 = 0.05 * pow(10.0, -12.0 / 20.0), a1 = 0.05 * pow(10.0, 12.0 / 20.0);
	const double bound = 1.05 * (a1 * 2.0 * sin(M_PI * 50.0 / RATE) + (a1 - a0) / FADE);
	const size_t at = BLOCK * 100;
	struct harness h;
	double step;
	void *q, *u = NULL;

	(void)state;
	harness_init(&h, stereo, 1);
	step = run_change(&h, cut, boost, at);
	printf("# lowshelf -12 -> +12 dB: largest step %.6f (bound %.6f)\n", step, bound);
	assert_true(step <= bound);
	reference(&pcut, &pboost, at, FADE, want);
	assert_memory_equal(got[0], want, sizeof(want));
	assert_memory_equal(got[1], want, sizeof(want));
	step = run_change(&h, flat, boost, at);
	printf("# flat -> +12 dB: largest step %.6f (bound %.6f)\n", step, bound);
	assert_true(step <= bound);
	reference(NULL, &pboost, at, FADE, want);
	assert_memory_equal(got[0], want, sizeof(want));
	/* A new channel count needs a new instance. */
	q = harness_create(&h, &node_type_eq, flat);
	h.env.in_channels = 1;
	assert_int_equal(harness_call(&h, &node_type_eq, q, flat, &u), -EOPNOTSUPP);
	node_type_eq.destroy(q);
	harness_done(&h);
}

/*
 * After the tail an impulse's response lies at least 140 dB below its peak. (The tail is where
 * each pole's mode has fallen by 150 dB; the peak of a slow low-pass response lies some dB
 * under its modes' starting amplitude, hence the margin.) Two identical bands, a double pole,
 * need about twice the time, and get it.
 */
static void test_tail(void **state)
{
	static const char *const bands[] = {
		"band2 = peaking 1000 1 6",
		"band2 = lowpass 20 0.7071",
		"band2 = highpass 30 5",
		"band2 = notch 50 5",
		"band2 = lowpass 20 0.7071\nband9 = lowpass 20 0.7071",
	};
	char text[256];
	struct harness h;

	(void)state;
	harness_init(&h, stereo, 1);
	for (size_t b = 0; b < EL_N_ELEMENTS(bands); b++) {
		double peak = 0.0, after = 0.0;
		size_t tail;
		void *q;

		snprintf(text, sizeof(text), "[node.q]\ntype = eq\ninput = a\n%s\n", bands[b]);
		q = harness_create(&h, &node_type_eq, text);
		memset(sig, 0, sizeof(sig));
		sig[0][0] = sig[1][0] = 1.0f;
		harness_run(&node_type_eq, q, in, 2, out, 2, 0, FRAMES);
		tail = harness_tail(&node_type_eq, q);
		assert_true(tail < FRAMES);
		for (size_t i = 0; i < FRAMES; i++) {
			if (i < tail)
				peak = fmax(peak, fabs(got[0][i]));
			else
				after = fmax(after, fabs(got[0][i]));
		}
		printf("# %-26s tail %6zu frames: after it %.1f dB below the peak\n",
		       strchr(bands[b], '\n') ? "2 x lowpass 20 0.7071" : bands[b] + 8, tail,
		       after > 0.0 ? 20.0 * log10(peak / after) : 999.0);
		assert_true(after <= peak * pow(10.0, -140.0 / 20.0));
		node_type_eq.destroy(q);
	}
	harness_done(&h);
}

struct bad_case {
	const char *value, *why;
};

/* bandN.chM: channel M's own band N, over the band every channel has; other channels keep it. */
static void test_channel_bands(void **state)
{
	struct harness h;
	double db0, db1;
	void *q;

	(void)state;
	harness_init(&h, stereo, 1);
	q = harness_create(&h, &node_type_eq,
			   "[node.q]\ntype = eq\ninput = a\nband1 = peaking 1000 1.0 6\n"
			   "band1.ch2 = peaking 1000 1.0 -6\nband4.ch2 = notch 12000 5\n");
	fill_sine(1000.0, 0.25);
	harness_run(&node_type_eq, q, in, 2, out, 2, 0, FRAMES);
	db0 = 20.0 * log10(amplitude(got[0], FRAMES - RATE, FRAMES, 1000.0) / 0.25);
	db1 = 20.0 * log10(amplitude(got[1], FRAMES - RATE, FRAMES, 1000.0) / 0.25);
	printf("# band1 = +6 dB, band1.ch2 = -6 dB at 1 kHz: channel 1 %.4f dB, channel 2 %.4f "
	       "dB\n",
	       db0, db1);
	assert_true(fabs(db0 - 6.0) < 0.01);
	assert_true(fabs(db1 + 6.0) < 0.01); /* its notch is far above */
	fill_sine(12000.0, 0.25);
	harness_run(&node_type_eq, q, in, 2, out, 2, 0, FRAMES);
	assert_true(amplitude(got[1], FRAMES - RATE, FRAMES, 12000.0) < 0.25e-5);
	assert_true(amplitude(got[0], FRAMES - RATE, FRAMES, 12000.0) > 0.2);
	node_type_eq.destroy(q);
	assert_string_equal(
		harness_error(&h, &node_type_eq,
			      "[node.q]\ntype = eq\ninput = a\nband1.ch3 = notch 100 1\n", -EINVAL),
		"test.conf:4: key 'band1.ch3': unknown key in [node.q] (did you mean "
		"'band1.ch1'?)");
	harness_done(&h);
}

static void test_bad_config(void **state)
{
	static const struct bad_case cases[] = {
		{"wobble 100 1",
		 "unknown filter type 'wobble' (expected peaking, lowshelf, highshelf, "
		 "lowpass, highpass, bandpass, notch or allpass)"},
		{"peaking 100", "expected 'TYPE FREQ Q [GAIN_DB]', got 'peaking 100'"},
		{"peaking 100 1 2 3", "expected 'TYPE FREQ Q [GAIN_DB]', got 'peaking 100 1 2 3'"},
		{"peaking 100 1", "peaking needs a gain: expected 'peaking FREQ Q GAIN_DB', got "
				  "'peaking 100 1'"},
		{"lowpass 100 1 3", "lowpass takes no gain: expected 'lowpass FREQ Q', got "
				    "'lowpass 100 1 3'"},
		{"lowpass 24000 1", "expected a frequency in Hz above 0 and below 24000 (half the "
				    "rate), got '24000'"},
		{"lowpass 1k 1", "expected a frequency in Hz above 0 and below 24000 (half the "
				 "rate), got '1k'"},
		{"notch 100 0", "expected a Q above 0 and at most 1000, got '0'"},
		{"highshelf 100 1 60", "expected a gain in dB from -48 to 48, got '60'"},
	};
	char text[256], want[512];
	struct harness h;

	(void)state;
	harness_init(&h, stereo, 1);
	for (size_t i = 0; i < EL_N_ELEMENTS(cases); i++) {
		snprintf(text, sizeof(text),
			 "[node.q]\ntype = eq\ninput = a\nband1 = peaking 100 1 1\nband3 = %s\n",
			 cases[i].value);
		snprintf(want, sizeof(want), "test.conf:5: key 'band3': %s", cases[i].why);
		assert_string_equal(harness_error(&h, &node_type_eq, text, -EINVAL), want);
	}
	assert_string_equal(harness_error(&h, &node_type_eq,
					  "[node.q]\ntype = eq\ninput = a\nband33 = notch 100 1\n",
					  -EINVAL),
			    "test.conf:4: key 'band33': unknown key in [node.q] (did you mean "
			    "'band3'?)");
	harness_done(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flat_bit_exact), cmocka_unit_test(test_band_gain_at_f0),
		cmocka_unit_test(test_update_ramps),   cmocka_unit_test(test_tail),
		cmocka_unit_test(test_bad_config),     cmocka_unit_test(test_channel_bands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
