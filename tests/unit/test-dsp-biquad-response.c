/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-dsp-biquad-response.c: the frequency response of every biquad type, measured
 * by running sines through a chain, against an independent analytic reference.
 *
 * The reference is not the digital filter: it is the cookbook's analog prototype H(s), with
 * s = j * tan(pi f / rate) / tan(pi f0 / rate), which is where the bilinear transform with
 * pre-warping at f0 maps the frequency f. The cookbook derives its coefficients exactly this
 * way, so a correct implementation matches it to rounding, and any wrong coefficient shows.
 *
 * Measuring: a sine of an integer frequency f (Hz) at 48 kHz repeats exactly every second, so
 * after the transient has decayed, correlating one second (exactly f periods) of output with
 * sin and cos gives the complex gain with no leakage: H = (2/N) * sum(y * (sin + j cos)).
 * The sines come from a table of one second, so the input is exact to float rounding.
 */
#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dsp/biquad.h"
#include "tests/unit/test-util.h"

#define RATE  48000
#define BLOCK 1000 /* not a multiple of the chain's 256-frame chunks, on purpose */

/*
 * Bounds, where |H_ref| >= -60 dB: magnitude 0.001 dB, phase 0.01 degree. Float input and
 * output limit the measurement to about 1e-6 dB; a wrong coefficient (missing pre-warp,
 * shelf without its sqrt(A), Q misapplied) is off by 0.01 dB to whole dB.
 * Near a zero (|H_ref| < -60 dB) the ratio says little, so there the complex error
 * |H - H_ref| must be below -120 dB of the input instead.
 */
#define MAG_TOL_DB    0.001
#define PHASE_TOL_DEG 0.01
#define NEAR_ZERO     1e-3
#define ABS_TOL       1e-6
/* Transient left when measuring starts, relative to the input: far below the bounds. */
#define SETTLE_LEVEL 1e-12

static double sintab[RATE];

struct worst {
	double mag_db, phase_deg; /* where |H_ref| >= NEAR_ZERO */
	double abs_err;           /* where |H_ref| < NEAR_ZERO */
	unsigned near_zero;       /* how many points were near a zero */
};

static int setup_table(void **state)
{
	(void)state;
	for (int k = 0; k < RATE; k++)
		sintab[k] = sin(2.0 * M_PI * k / RATE);
	return 0;
}

/* The cookbook's analog prototypes, normalized to f0 = 1 rad/s. */
static double complex ref_analog(const struct dsp_biquad_params *p, double complex s)
{
	double Q = p->q, A = pow(10.0, p->gain_db / 40.0), sA = sqrt(A);
	double complex den = s * s + s / Q + 1.0;

	switch (p->type) {
	case DSP_BIQUAD_LOWPASS:
		return 1.0 / den;
	case DSP_BIQUAD_HIGHPASS:
		return s * s / den;
	case DSP_BIQUAD_BANDPASS:
		return (s / Q) / den;
	case DSP_BIQUAD_NOTCH:
		return (s * s + 1.0) / den;
	case DSP_BIQUAD_ALLPASS:
		return (s * s - s / Q + 1.0) / den;
	case DSP_BIQUAD_PEAKING:
		return (s * s + s * (A / Q) + 1.0) / (s * s + s / (A * Q) + 1.0);
	case DSP_BIQUAD_LOWSHELF:
		return A * (s * s + (sA / Q) * s + A) / (A * s * s + (sA / Q) * s + 1.0);
	case DSP_BIQUAD_HIGHSHELF:
		return A * (A * s * s + (sA / Q) * s + 1.0) / (s * s + (sA / Q) * s + A);
	}
	fail_msg("unknown type %d", (int)p->type);
	return 0.0;
}

/* Where the bilinear transform pre-warped at f0 puts the frequency f on the analog axis. */
static double complex ref_response(const struct dsp_biquad_params *p, double f)
{
	return ref_analog(p, I * tan(M_PI * f / RATE) / tan(M_PI * p->freq / RATE));
}

/* Largest pole radius of the section: how slowly its transient decays. */
static double pole_radius(const struct dsp_biquad_coefs *c)
{
	double disc = c->a1 * c->a1 - 4.0 * c->a2;

	if (disc < 0.0)
		return sqrt(c->a2);
	return fmax(fabs(-c->a1 + sqrt(disc)), fabs(-c->a1 - sqrt(disc))) / 2.0;
}

/*
 * Frames until a transient of poles at radius r is below SETTLE_LEVEL, with margin for the
 * n * r^n decay of a double pole.
 */
static size_t settle_frames(double r)
{
	assert_true(r < 1.0);
	if (r < 1e-3)
		return 1000;
	return (size_t)(1.5 * log(SETTLE_LEVEL) / log(r)) + 1000;
}

/*
 * Runs a sine of f Hz through c for settle frames, then one second more, and returns the
 * complex gain measured over that second. Every second block is filtered in place.
 */
static double complex measure(struct dsp_biquad_chain *c, int f, size_t settle)
{
	static float in[BLOCK], out[BLOCK];
	size_t total = settle + RATE;
	double si = 0.0, co = 0.0;
	unsigned idx = 0;

	for (size_t n0 = 0, blk = 0; n0 < total; n0 += BLOCK, blk++) {
		size_t m = total - n0 < BLOCK ? total - n0 : BLOCK;
		unsigned start = idx;
		float *o = blk % 2 ? in : out;

		for (size_t i = 0; i < m; i++, idx = (idx + (unsigned)f) % RATE)
			in[i] = (float)sintab[idx];
		dsp_biquad_chain_process(c, in, o, m);
		idx = start;
		for (size_t i = 0; i < m; i++, idx = (idx + (unsigned)f) % RATE) {
			if (n0 + i < settle)
				continue;
			si += o[i] * sintab[idx];
			co += o[i] * sintab[(idx + RATE / 4) % RATE];
		}
	}
	return (2.0 / RATE) * (si + I * co);
}

static double db(double x)
{
	return 20.0 * log10(x);
}

static double phase_deg(double complex h)
{
	return carg(h) * 180.0 / M_PI;
}

/* Compares a measured gain with its reference, asserts the bounds, and keeps the worst. */
static void check_point(const char *what, double f, double complex got, double complex ref,
			struct worst *w)
{
	double abs_err = cabs(got - ref);

	if (cabs(ref) >= NEAR_ZERO) {
		double mag = fabs(db(cabs(got) / cabs(ref)));
		double ph = fabs(phase_deg(got / ref));

		if (mag > MAG_TOL_DB || ph > PHASE_TOL_DEG)
			fail_msg("%s, %g Hz: |H| %.6f dB (ref %.6f dB), phase %.5f deg (ref %.5f)",
				 what, f, db(cabs(got)), db(cabs(ref)), phase_deg(got),
				 phase_deg(ref));
		w->mag_db = fmax(w->mag_db, mag);
		w->phase_deg = fmax(w->phase_deg, ph);
		return;
	}
	if (abs_err > ABS_TOL)
		fail_msg("%s, %g Hz: |H - H_ref| = %g dB near a zero (|H_ref| = %.2f dB)", what, f,
			 db(abs_err), db(cabs(ref)));
	w->abs_err = fmax(w->abs_err, abs_err);
	w->near_zero++;
}

/* The test frequencies around f0: a decade below to a decade above, within (0, rate / 2). */
static int test_freqs(double f0, int *ret)
{
	static const double ratio[] = {0.1, 0.5, 0.9, 1.0, 1.1, 2.0, 10.0};
	int n = 0;

	for (size_t i = 0; i < sizeof(ratio) / sizeof(ratio[0]); i++) {
		double f = f0 * ratio[i];

		ret[n++] = f < 23000.0 ? (int)lround(f) : 23000;
	}
	return n;
}

static void check_setting(const struct dsp_biquad_params *p, struct worst *w)
{
	struct dsp_biquad_chain *c = NULL;
	struct dsp_biquad_coefs coefs;
	char what[128];
	int freqs[8], nf;
	size_t settle;

	assert_int_equal(dsp_biquad_coefs_compute(p, RATE, &coefs), 0);
	settle = settle_frames(pole_radius(&coefs));
	assert_true(settle < 8 * RATE); /* keeps the test fast; the settings are chosen for it */
	assert_int_equal(dsp_biquad_chain_new(1, RATE, &c), 0);
	assert_int_equal(dsp_biquad_chain_set(c, 0, &coefs, 0), 0);
	snprintf(what, sizeof(what), "type %d f0 %g Hz q %g gain %g dB", (int)p->type, p->freq,
		 p->q, p->gain_db);
	nf = test_freqs(p->freq, freqs);
	for (int i = 0; i < nf; i++) {
		dsp_biquad_chain_reset(c);
		check_point(what, freqs[i], measure(c, freqs[i], settle), ref_response(p, freqs[i]),
			    w);
	}
	dsp_biquad_chain_free(c);
}

struct setting {
	double q, gain_db;
};

static const double f0s[] = {50.0, 1000.0, 10000.0};

static void check_type(enum dsp_biquad_type type, const struct setting *set, size_t nset,
		       const char *name)
{
	struct worst w = {0};

	for (size_t k = 0; k < EL_N_ELEMENTS(f0s); k++)
		for (size_t i = 0; i < nset; i++) {
			struct dsp_biquad_params p = {type, f0s[k], set[i].q, set[i].gain_db};

			check_setting(&p, &w);
		}
	printf("# %-9s worst: %.2e dB, %.2e deg; near zeros (%u points) |H - H_ref| %.1f dB\n",
	       name, w.mag_db, w.phase_deg, w.near_zero, w.near_zero ? db(w.abs_err) : -INFINITY);
}

/* Plain types: gain is ignored, so a nonsense value must not matter. */
static const struct setting plain[] = {{0.5, 99.0}, {0.7071, 0.0}, {2.0, 0.0}, {6.0, 0.0}};
static const struct setting peaking[] = {{0.7071, 6.0}, {2.0, -12.0}, {4.0, 24.0}, {1.0, -48.0}};
static const struct setting shelf[] = {{0.7071, 6.0}, {0.5, -12.0}, {1.5, 15.0}, {0.7071, -48.0}};

static void test_lowpass(void **state)
{
	(void)state;
	check_type(DSP_BIQUAD_LOWPASS, plain, EL_N_ELEMENTS(plain), "lowpass");
}

static void test_highpass(void **state)
{
	(void)state;
	check_type(DSP_BIQUAD_HIGHPASS, plain, EL_N_ELEMENTS(plain), "highpass");
}

static void test_bandpass(void **state)
{
	(void)state;
	check_type(DSP_BIQUAD_BANDPASS, plain, EL_N_ELEMENTS(plain), "bandpass");
}

static void test_notch(void **state)
{
	(void)state;
	check_type(DSP_BIQUAD_NOTCH, plain, EL_N_ELEMENTS(plain), "notch");
}

static void test_allpass(void **state)
{
	(void)state;
	check_type(DSP_BIQUAD_ALLPASS, plain, EL_N_ELEMENTS(plain), "allpass");
}

static void test_peaking(void **state)
{
	(void)state;
	check_type(DSP_BIQUAD_PEAKING, peaking, EL_N_ELEMENTS(peaking), "peaking");
}

static void test_lowshelf(void **state)
{
	(void)state;
	check_type(DSP_BIQUAD_LOWSHELF, shelf, EL_N_ELEMENTS(shelf), "lowshelf");
}

static void test_highshelf(void **state)
{
	(void)state;
	check_type(DSP_BIQUAD_HIGHSHELF, shelf, EL_N_ELEMENTS(shelf), "highshelf");
}

/* One section designed from p, measured at f. */
static double complex measure_one(const struct dsp_biquad_params *p, int f)
{
	struct dsp_biquad_chain *c = NULL;
	struct dsp_biquad_coefs coefs;
	double complex h;

	assert_int_equal(dsp_biquad_coefs_compute(p, RATE, &coefs), 0);
	assert_int_equal(dsp_biquad_chain_new(1, RATE, &c), 0);
	assert_int_equal(dsp_biquad_chain_set(c, 0, &coefs, 0), 0);
	h = measure(c, f, settle_frames(pole_radius(&coefs)));
	dsp_biquad_chain_free(c);
	return h;
}

/* want_deg NAN: the cookbook promises no round phase there; only the magnitude is checked. */
static void assert_landmark(const char *what, double complex h, double want_db, double want_deg)
{
	/* remainder() folds the difference into [-180, 180], so -180 and +180 agree. */
	double dph = isnan(want_deg) ? 0.0 : fabs(remainder(phase_deg(h) - want_deg, 360.0));

	printf("# %-30s %+.6f dB (want %+.6f), %+9.4f deg (want %+.1f)\n", what, db(cabs(h)),
	       want_db, phase_deg(h), want_deg);
	if (fabs(db(cabs(h)) - want_db) > MAG_TOL_DB || dph > PHASE_TOL_DEG)
		fail_msg("%s: landmark missed", what);
}

/*
 * Values the cookbook promises at f0, independent of both the coefficients and H(s) above:
 * a check on the reference as much as on the filter.
 */
static void test_landmarks(void **state)
{
	static const double gains[] = {-24.0, -6.0, 6.0, 24.0};
	static const double qs[] = {0.5, 0.7071, 3.0};
	char what[64];

	(void)state;
	for (size_t i = 0; i < EL_N_ELEMENTS(gains); i++) {
		struct dsp_biquad_params pk = {DSP_BIQUAD_PEAKING, 1000.0, 1.4, gains[i]};
		struct dsp_biquad_params ls = {DSP_BIQUAD_LOWSHELF, 200.0, 0.7071, gains[i]};
		struct dsp_biquad_params hs = {DSP_BIQUAD_HIGHSHELF, 5000.0, 0.7071, gains[i]};

		snprintf(what, sizeof(what), "peaking %+g dB at f0", gains[i]);
		assert_landmark(what, measure_one(&pk, 1000), gains[i], 0.0);
		snprintf(what, sizeof(what), "lowshelf %+g dB at f0", gains[i]);
		assert_landmark(what, measure_one(&ls, 200), gains[i] / 2.0, NAN);
		snprintf(what, sizeof(what), "highshelf %+g dB at f0", gains[i]);
		assert_landmark(what, measure_one(&hs, 5000), gains[i] / 2.0, NAN);
	}
	for (size_t i = 0; i < EL_N_ELEMENTS(qs); i++) {
		struct dsp_biquad_params lp = {DSP_BIQUAD_LOWPASS, 2000.0, qs[i], 0.0};
		struct dsp_biquad_params hp = {DSP_BIQUAD_HIGHPASS, 2000.0, qs[i], 0.0};
		struct dsp_biquad_params bp = {DSP_BIQUAD_BANDPASS, 2000.0, qs[i], 0.0};
		struct dsp_biquad_params ap = {DSP_BIQUAD_ALLPASS, 2000.0, qs[i], 0.0};
		struct dsp_biquad_params no = {DSP_BIQUAD_NOTCH, 2000.0, qs[i], 0.0};
		double notch;

		snprintf(what, sizeof(what), "lowpass q %g at f0", qs[i]);
		assert_landmark(what, measure_one(&lp, 2000), db(qs[i]), -90.0);
		snprintf(what, sizeof(what), "highpass q %g at f0", qs[i]);
		assert_landmark(what, measure_one(&hp, 2000), db(qs[i]), 90.0);
		snprintf(what, sizeof(what), "bandpass q %g at f0", qs[i]);
		assert_landmark(what, measure_one(&bp, 2000), 0.0, 0.0);
		snprintf(what, sizeof(what), "allpass q %g at f0", qs[i]);
		assert_landmark(what, measure_one(&ap, 2000), 0.0, -180.0);
		for (int f = 100; f <= 22000; f *= 3) {
			snprintf(what, sizeof(what), "allpass q %g at %d Hz", qs[i], f);
			assert_landmark(what, measure_one(&ap, f), 0.0, NAN);
		}
		notch = db(cabs(measure_one(&no, 2000)));
		printf("# notch q %g at f0: %.1f dB (want below -120 dB)\n", qs[i], notch);
		assert_true(notch < -120.0);
	}
}

/* Sections in series multiply their responses; unused sections are the identity. */
static void test_cascade(void **state)
{
	static const struct dsp_biquad_params p[] = {
		{DSP_BIQUAD_LOWSHELF, 100.0, 0.7071, 6.0},
		{DSP_BIQUAD_PEAKING, 1000.0, 1.4, -9.0},
		{DSP_BIQUAD_HIGHPASS, 30.0, 0.7071, 0.0},
		{DSP_BIQUAD_HIGHSHELF, 8000.0, 0.9, -3.0},
	};
	static const int freqs[] = {20, 30, 100, 440, 1000, 3000, 8000, 15000, 21000};
	struct dsp_biquad_chain *c = NULL;
	struct worst w = {0};
	double r = 0.0;

	(void)state;
	/* Six sections, the used ones spread out, so identity sections sit in between. */
	assert_int_equal(dsp_biquad_chain_new(6, RATE, &c), 0);
	for (size_t k = 0; k < EL_N_ELEMENTS(p); k++) {
		struct dsp_biquad_coefs coefs;

		assert_int_equal(dsp_biquad_coefs_compute(&p[k], RATE, &coefs), 0);
		assert_int_equal(dsp_biquad_chain_set(c, (unsigned)(k * 3 / 2), &coefs, 0), 0);
		r = fmax(r, pole_radius(&coefs));
	}
	for (size_t i = 0; i < EL_N_ELEMENTS(freqs); i++) {
		double complex ref = 1.0;

		for (size_t k = 0; k < EL_N_ELEMENTS(p); k++)
			ref *= ref_response(&p[k], freqs[i]);
		dsp_biquad_chain_reset(c);
		check_point("cascade", freqs[i], measure(c, freqs[i], settle_frames(r)), ref, &w);
	}
	printf("# cascade   worst error: %.2e dB, %.2e deg\n", w.mag_db, w.phase_deg);
	dsp_biquad_chain_free(c);
}

/* A new chain is the identity: every sample passes bit for bit, in place or not. */
static void test_identity(void **state)
{
	static float in[3000], out[3000];
	struct dsp_biquad_chain *c = NULL;
	struct test_rng rng;

	(void)state;
	test_rng_init(&rng, 42);
	test_fill_noise(&rng, in, EL_N_ELEMENTS(in), 1.0);
	assert_int_equal(dsp_biquad_chain_new(DSP_BIQUAD_MAX_SECTIONS, RATE, &c), 0);
	assert_int_equal(dsp_biquad_chain_get_sections(c), DSP_BIQUAD_MAX_SECTIONS);
	assert_true(dsp_biquad_chain_get_rate(c) == RATE);
	dsp_biquad_chain_process(c, in, out, 1);
	dsp_biquad_chain_process(c, in + 1, out + 1, EL_N_ELEMENTS(in) - 1);
	assert_memory_equal(in, out, sizeof(in));
	dsp_biquad_chain_process(c, out, out, EL_N_ELEMENTS(out));
	assert_memory_equal(in, out, sizeof(in));
	dsp_biquad_chain_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),  cmocka_unit_test(test_lowpass),
		cmocka_unit_test(test_highpass),  cmocka_unit_test(test_bandpass),
		cmocka_unit_test(test_notch),     cmocka_unit_test(test_allpass),
		cmocka_unit_test(test_peaking),   cmocka_unit_test(test_lowshelf),
		cmocka_unit_test(test_highshelf), cmocka_unit_test(test_landmarks),
		cmocka_unit_test(test_cascade),
	};

	return cmocka_run_group_tests(tests, setup_table, NULL);
}
