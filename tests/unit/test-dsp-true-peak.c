/* SPDX-License-Identifier: MIT */
/*
 * Property: with true_peak, the limiter holds the peaks between samples, not only the samples,
 * against an independent reference: the output reconstructed 64 times oversampled with a long
 * windowed sinc in double precision.
 *  - The detector (dsp/true-peak.h) reads a sine's true peak within 0.12 dB (under, never over
 *    by more than 0.01 dB) for frequencies up to 0.4 of the rate and any phase; it delays the
 *    frames by DSP_TRUE_PEAK_DELAY exactly.
 *  - A sine at a quarter of the rate, 45 degrees off its peak (samples of 0.707, a true peak of
 *    1.0), under a -1 dB ceiling: the sample-peak limiter leaves it alone, its true peak 1 dB
 *    over the ceiling; the true-peak limiter brings the true peak to within 0.15 dB of it. So do
 * sines from 100 Hz to 0.4 of the rate at +6 dB and two-tone signals.
 *  - Below the ceiling its output is the input delayed by lookahead + DSP_TRUE_PEAK_DELAY, bit
 *    for bit; the latency says so. A NaN comes out as silence.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "dsp/limiter.h"
#include "dsp/true-peak.h"

#define N        24000u
#define RATE     48000.0
#define REF_UP   64 /* reference oversampling */
#define REF_HALF 64 /* reference sinc taps each side */

static float x[2][N], y[2][N];

static double bessel_i0(double v)
{
	double sum = 1.0, term = 1.0;

	for (int k = 1; k < 60; k++) {
		term *= (v / (2.0 * k)) * (v / (2.0 * k));
		sum += term;
	}
	return sum;
}

/* The reference's kernel: kernel[k][j] weighs frame m - REF_HALF + 1 + j for the point m + k/UP. */
static double kernel[REF_UP][2 * REF_HALF];

static void make_kernel(void)
{
	for (int k = 0; k < REF_UP; k++)
		for (int j = 0; j < 2 * REF_HALF; j++) {
			double d = (double)k / REF_UP - (double)(j - REF_HALF + 1);
			double r = d / (REF_HALF + 1.0);
			double sinc = fabs(d) < 1e-12 ? 1.0 : sin(M_PI * d) / (M_PI * d);

			kernel[k][j] = sinc * bessel_i0(10.0 * sqrt(1.0 - r * r)) / bessel_i0(10.0);
		}
}

/* The largest |s| between frames from and to, reconstructed REF_UP times oversampled. */
static double reference_peak(const float *s, size_t n, size_t from, size_t to)
{
	double peak = 0.0;

	for (size_t m = from; m < to && m + REF_HALF < n; m++)
		for (int k = 0; k < REF_UP; k++) {
			double v = 0.0;

			for (int j = 0; j < 2 * REF_HALF; j++)
				v += s[m - REF_HALF + 1 + j] * kernel[k][j];
			peak = fmax(peak, fabs(v));
		}
	return peak;
}

static void sine(double freq, double phase, double amp)
{
	for (size_t i = 0; i < N; i++)
		x[0][i] = x[1][i] = (float)(amp * sin(2.0 * M_PI * freq * i / RATE + phase));
}

static double db(double v)
{
	return 20.0 * log10(v);
}

/* Runs x through a limiter (true_peak or not), 512-frame calls; y holds the output. */
static uint32_t limit(bool true_peak, float ceiling, uint32_t lookahead)
{
	struct dsp_limiter *l;
	uint32_t latency;

	assert_int_equal(dsp_limiter_new(2, lookahead, true_peak, &l), 0);
	dsp_limiter_set(l, ceiling, 4800.0);
	for (size_t i = 0; i < N; i += 512) {
		const float *in[2] = {x[0] + i, x[1] + i};
		float *out[2] = {y[0] + i, y[1] + i};

		dsp_limiter_process(l, in, out, i + 512 <= N ? 512 : N - i);
	}
	latency = dsp_limiter_get_latency(l);
	dsp_limiter_free(l);
	return latency;
}

static void test_detector(void **state)
{
	float frame[1], out[1];
	double worst_under = 0.0, worst_over = 0.0;

	(void)state;
	for (double nu = 0.01; nu <= 0.4001; nu += 0.013)
		for (double phase = 0.0; phase < M_PI; phase += M_PI / 7.3) {
			struct dsp_true_peak *t;
			double got = 0.0;

			assert_int_equal(dsp_true_peak_new(1, &t), 0);
			for (size_t i = 0; i < 400; i++) {
				float v;

				frame[0] = (float)(0.8 * sin(2.0 * M_PI * nu * i + phase));
				v = dsp_true_peak_push(t, frame, out);
				if (i >= 2 * DSP_TRUE_PEAK_DELAY + 200) /* past the start */
					got = fmax(got, v);
				if (i >= DSP_TRUE_PEAK_DELAY) /* the frame of DELAY ago, exactly */
					assert_true(out[0] ==
						    (float)(0.8 *
							    sin(2.0 * M_PI * nu *
									(i - DSP_TRUE_PEAK_DELAY) +
								phase)));
			}
			worst_under = fmax(worst_under, db(0.8) - db(got));
			worst_over = fmax(worst_over, db(got) - db(0.8));
			dsp_true_peak_free(t);
		}
	printf("# detector, sines to 0.4 fs: at most %.3f dB under, %.3f dB over\n", worst_under,
	       worst_over);
	assert_true(worst_under < 0.12);
	assert_true(worst_over < 0.01);
}

static void test_quarter_rate_sine(void **state)
{
	const float ceiling = (float)pow(10.0, -1.0 / 20.0);
	double sample_peak = 0.0, tp_plain, tp_true;

	(void)state;
	sine(RATE / 4.0, M_PI / 4.0, 1.0);
	limit(false, ceiling, 240);
	for (size_t i = 0; i < N; i++)
		sample_peak = fmax(sample_peak, fabs(y[0][i]));
	tp_plain = reference_peak(y[0], N, 4000, 6000);
	limit(true, ceiling, 240);
	tp_true = reference_peak(y[0], N, 4000, 6000);
	printf("# fs/4 sine at 45 deg, ceiling -1 dB: sample-peak limiter: samples %.2f dB, true "
	       "peak %.2f dB; true-peak limiter: %.3f dB\n",
	       db(sample_peak), db(tp_plain), db(tp_true));
	assert_true(db(tp_plain) > -1.0 + 0.9); /* what the sample-peak limiter lets through */
	assert_true(db(tp_true) < -1.0 + 0.15);
	assert_true(db(tp_true) > -1.0 - 0.5); /* and not much lower: it limits, not mutes */
}

static void test_sines_and_tones(void **state)
{
	const float ceiling = (float)pow(10.0, -1.0 / 20.0);
	static const double freqs[] = {100.0, 997.0, 5000.0, 11025.0, 15000.0, 19200.0};
	double worst = -100.0;

	(void)state;
	for (size_t f = 0; f < sizeof(freqs) / sizeof(freqs[0]); f++)
		for (double phase = 0.1; phase < M_PI; phase += 0.9) {
			sine(freqs[f], phase, 2.0); /* +6 dB */
			limit(true, ceiling, 240);
			worst = fmax(worst, db(reference_peak(y[0], N, 3000, 4500)) + 1.0);
		}
	for (size_t i = 0; i < N; i++) /* two tones, 13 and 17 kHz, each at 0 dB */
		x[0][i] = x[1][i] = (float)(sin(2.0 * M_PI * 13000.0 * i / RATE) +
					    sin(2.0 * M_PI * 17000.0 * i / RATE + 0.3));
	limit(true, ceiling, 240);
	worst = fmax(worst, db(reference_peak(y[0], N, 3000, 6000)) + 1.0);
	printf("# sines 100 Hz - 19.2 kHz at +6 dB, two tones: true peak at most %.3f dB over "
	       "the ceiling\n",
	       worst);
	assert_true(worst < 0.15);
}

static void test_transparent_and_nan(void **state)
{
	uint32_t latency;

	(void)state;
	sine(1000.0, 0.3, 0.5); /* -6 dB, true peak too */
	latency = limit(true, 1.0f, 64);
	assert_int_equal(latency, 64 + DSP_TRUE_PEAK_DELAY);
	for (size_t i = latency; i < N; i++)
		assert_true(y[0][i] == x[0][i - latency] && y[1][i] == x[1][i - latency]);
	x[0][1000] = NAN;
	limit(true, 1.0f, 64);
	for (size_t i = 0; i < N; i++)
		assert_true(y[0][i] == y[0][i] && fabsf(y[0][i]) <= 1.0f);
	assert_true(y[0][1000 + latency] == 0.0f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detector),
		cmocka_unit_test(test_quarter_rate_sine),
		cmocka_unit_test(test_sines_and_tones),
		cmocka_unit_test(test_transparent_and_nan),
	};

	make_kernel();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
