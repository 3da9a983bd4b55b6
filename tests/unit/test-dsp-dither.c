/* SPDX-License-Identifier: MIT */
/*
 * Property: TPDF dither turns quantization distortion into noise.
 *  - Its values are triangular over (-1, 1) LSB: mean 0, variance 1/6, the histogram the
 *    triangle's (10^6 values, 20 bins, each within 3 % of its expected count).
 *  - A -90 dBFS sine (about one 16-bit LSB) quantized to 16 bits with dither: no harmonic (2nd
 *    to 9th) stands above the noise floor by more than 10 dB, and the sine itself does by 30 dB
 *    (the reference: without dither the 3rd harmonic of the three-level wave stands 15 dB or
 *    more above that floor). Levels from a DFT bin (Goertzel) centred on each frequency, the floor
 *    the mean of 200 bins away from them, all stated in dB.
 *  - Noise-shaped: the error's spectrum follows the analytic |1 - H|^2 (test_noise_shaped).
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "dsp/dither.h"
#include "dsp/pcm.h"

#define N  (1u << 17)
#define K0 1000u /* the sine's bin: 366 Hz at 48 kHz, an integer number of periods in N */

static void test_triangular(void **state)
{
	const unsigned n = 1000000, bins = 20;
	unsigned count[20] = {0};
	struct dsp_dither d;
	double sum = 0.0, sq = 0.0;

	(void)state;
	dsp_dither_init(&d, 1);
	for (unsigned i = 0; i < n; i++) {
		double v = dsp_dither_next(&d);

		assert_true(v > -1.0 && v < 1.0);
		sum += v;
		sq += v * v;
		count[(unsigned)((v + 1.0) / 2.0 * bins)]++;
	}
	printf("# mean %.5f, variance %.5f (1/6 = %.5f)\n", sum / n, sq / n, 1.0 / 6.0);
	assert_true(fabs(sum / n) < 0.002);
	assert_true(fabs(sq / n - 1.0 / 6.0) < 0.002);
	for (unsigned b = 0; b < bins; b++) {
		/* the triangle's mass over [lo, hi) of (-1, 1) */
		double lo = -1.0 + 2.0 * b / bins, hi = lo + 2.0 / bins;
		double cdf_hi = hi <= 0 ? (1 + hi) * (1 + hi) / 2 : 1 - (1 - hi) * (1 - hi) / 2;
		double cdf_lo = lo <= 0 ? (1 + lo) * (1 + lo) / 2 : 1 - (1 - lo) * (1 - lo) / 2;
		double want = (cdf_hi - cdf_lo) * n;

		if (fabs(count[b] - want) > 0.03 * want)
			fail_msg("bin %u: %u values, the triangle gives %.0f", b, count[b], want);
	}
}

/* Power of DFT bin k of x[0 .. N) (Goertzel), in dB relative to a full-scale sine's. */
static double bin_db(const float *x, unsigned k)
{
	const double w = 2.0 * M_PI * k / N, c = 2.0 * cos(w);
	double s1 = 0.0, s2 = 0.0, p;

	for (unsigned i = 0; i < N; i++) {
		double s0 = x[i] + c * s1 - s2;

		s2 = s1;
		s1 = s0;
	}
	p = s1 * s1 + s2 * s2 - c * s1 * s2;
	return 10.0 * log10(p / ((double)N * N / 4.0) + 1e-300);
}

static float x[N];

/* The sine at -90 dBFS to 16 bits (dithered, noise-shaped or not) and back to float. */
static void quantize_shaped(float *y, bool dither, bool shaped)
{
	static int16_t q[N];
	const float *in[1] = {x};
	float *out[1] = {y};
	struct dsp_dither d;

	for (unsigned i = 0; i < N; i++)
		x[i] = (float)(pow(10.0, -90.0 / 20.0) * sin(2.0 * M_PI * K0 * i / N));
	dsp_dither_init_shaped(&d, 7, shaped);
	dsp_pcm_from_float_dither(DSP_PCM_S16, in, 1, q, 1, N, dither ? &d : NULL);
	dsp_pcm_to_float(DSP_PCM_S16, q, 1, out, 1, N);
}

static void quantize(float *y, bool dither)
{
	quantize_shaped(y, dither, false);
}

static void test_no_distortion_above_noise(void **state)
{
	static float y[N];
	double floor = 0.0, sine, worst = -400.0, h3;

	(void)state;
	quantize(y, true);
	for (unsigned b = 0; b < 200; b++) /* bins between the harmonics */
		floor += pow(10.0, bin_db(y, K0 / 2 + 1 + 97 * b) / 10.0);
	floor = 10.0 * log10(floor / 200.0);
	sine = bin_db(y, K0);
	for (unsigned h = 2; h <= 9; h++)
		worst = fmax(worst, bin_db(y, h * K0));
	printf("# dithered: sine %.1f dB, noise floor %.1f dB per bin, worst harmonic %.1f dB\n",
	       sine, floor, worst);
	assert_true(fabs(sine + 90.0) < 1.0);
	assert_true(sine > floor + 30.0);
	assert_true(worst < floor + 10.0);

	quantize(y, false);
	sine = bin_db(y, K0);
	h3 = bin_db(y, 3 * K0);
	printf("# undithered: sine %.1f dB, 3rd harmonic %.1f dB (%.1f dB above the dithered "
	       "floor)\n",
	       sine, h3, h3 - floor);
	assert_true(h3 > floor + 15.0);
}

/* |1 - H(e^jw)|^2 of the shaping filter (dsp/dither.c's taps, written out independently). */
static double ntf_power(double w)
{
	double re = 1.0 - 1.623 * cos(w) + 0.982 * cos(2 * w) - 0.109 * cos(3 * w);
	double im = 1.623 * sin(w) - 0.982 * sin(2 * w) + 0.109 * sin(3 * w);

	return re * re + im * im;
}

/* The mean periodogram of the error e over bins [k - 32, k + 32), in dB of LSB^2. */
static double band_db(const double *e, unsigned k)
{
	double sum = 0.0;

	for (unsigned b = k - 32; b < k + 32; b++) {
		double re = 0.0, im = 0.0;

		for (unsigned i = 0; i < N; i++) {
			double ph = 2.0 * M_PI * (double)b * i / N;

			re += e[i] * cos(ph);
			im -= e[i] * sin(ph);
		}
		sum += (re * re + im * im) / N;
	}
	return 10.0 * log10(sum / 64.0);
}

/*
 * Noise shaping: the error's spectrum is the TPDF quantizer's white 1/4 LSB^2 (dither 1/6 plus
 * rounding 1/12) times |1 - H|^2, within 1.5 dB at 1, 3, 6, 10, 15 and 20 kHz (48 kHz) — 16 dB
 * below white TPDF at 3 kHz, 11 dB above at 20 kHz; and the -90 dBFS sine still shows no harmonic
 * more than 10 dB over the (shaped) floor around it.
 */
static void test_noise_shaped(void **state)
{
	static const double khz[] = {1.0, 3.0, 6.0, 10.0, 15.0, 20.0};
	static float y[N];
	static double e[N];
	double worst = 0.0, worst_h = -400.0;

	(void)state;
	quantize_shaped(y, true, true);
	for (unsigned i = 0; i < N; i++)
		e[i] = ((double)y[i] - x[i]) * 32768.0;
	for (size_t f = 0; f < sizeof(khz) / sizeof(khz[0]); f++) {
		unsigned k = (unsigned)lround(khz[f] * 1000.0 / 48000.0 * N);
		double got = band_db(e, k), want = 10.0 * log10(0.25 * ntf_power(2 * M_PI * k / N));

		printf("# shaped error at %4.1f kHz: %6.2f dB (analytic %6.2f)\n", khz[f], got,
		       want);
		worst = fmax(worst, fabs(got - want));
	}
	assert_true(worst < 1.5);
	for (unsigned h = 2; h <= 9; h++) {
		double floor = 0.0;

		for (unsigned b = 0; b < 40; b++) /* the floor beside the harmonic */
			floor += pow(10.0, bin_db(y, h * K0 - 60 + 3 * b) / 10.0);
		worst_h = fmax(worst_h, bin_db(y, h * K0) - 10.0 * log10(floor / 40.0));
	}
	printf("# shaped, -90 dBFS sine: worst harmonic %.1f dB over the floor beside it\n",
	       worst_h);
	assert_true(worst_h < 10.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_triangular),
		cmocka_unit_test(test_no_distortion_above_noise),
		cmocka_unit_test(test_noise_shaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
