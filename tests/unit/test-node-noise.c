/* SPDX-License-Identifier: MIT */
/*
 * Property: the noise node produces noise of the configured RMS level (within 0.05 dB) and
 * colour: white is flat and pink falls 3.01 dB per octave, measured as the least-squares slope
 * of the power density over the eight octave bands from 62.5 Hz to 16 kHz (Welch average, Hann
 * window, 2^14-point FFTs over 2^21 frames), within 0.1 dB/octave, no band more than 0.3 dB off
 * the fitted line. Channels are uncorrelated, a seed reproduces its sequence, a level change
 * ramps.
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
#include "dsp/fft.h"
#include "dsp/mem.h"
#include "tests/unit/test-node-util.h"

extern const struct node_type node_type_noise;

#define FRAMES   (1u << 21)
#define FFT_SIZE (1u << 14)
#define N_BANDS  8 /* octaves from 62.5 Hz: the last is 8 to 16 kHz */

static float got[2][FRAMES];
static float *const out[2] = {got[0], got[1]};

static double rms_db(const float *x, size_t n)
{
	double s = 0.0;

	for (size_t i = 0; i < n; i++)
		s += (double)x[i] * x[i];
	return 10.0 * log10(s / (double)n);
}

/* Welch PSD of x (Hann, half overlap), averaged into octave bands: dB per Hz, arbitrary ref. */
static void octave_bands(struct dsp_fft_cache *fft, const float *x, double *ret_db)
{
	const struct dsp_fft_plan *plan;
	float *buf = dsp_mem_alloc(FFT_SIZE * sizeof(float));
	float *spec = dsp_mem_alloc((FFT_SIZE + 2) * sizeof(float));
	double *psd = calloc(FFT_SIZE / 2 + 1, sizeof(double));

	assert_non_null(buf);
	assert_non_null(spec);
	assert_non_null(psd);
	assert_int_equal(dsp_fft_cache_get(fft, FFT_SIZE, &plan), 0);
	for (size_t at = 0; at + FFT_SIZE <= FRAMES; at += FFT_SIZE / 2) {
		for (size_t i = 0; i < FFT_SIZE; i++)
			buf[i] = x[at + i] * (float)(0.5 - 0.5 * cos(2.0 * M_PI * i / FFT_SIZE));
		dsp_fft_forward(plan, buf, spec);
		for (size_t k = 0; k <= FFT_SIZE / 2; k++)
			psd[k] += (double)spec[2 * k] * spec[2 * k] +
				  (double)spec[2 * k + 1] * spec[2 * k + 1];
	}
	for (int b = 0; b < N_BANDS; b++) {
		double lo = 62.5 * pow(2.0, b), sum = 0.0;
		size_t k0 = (size_t)ceil(lo * FFT_SIZE / RATE),
		       k1 = (size_t)ceil(2 * lo * FFT_SIZE / RATE);

		for (size_t k = k0; k < k1; k++)
			sum += psd[k];
		ret_db[b] = 10.0 * log10(sum / (double)(k1 - k0));
	}
	dsp_mem_free(buf);
	dsp_mem_free(spec);
	free(psd);
}

/* Least-squares slope (dB per octave) of the bands, and the largest deviation from the line. */
static void fit(const double *db, double *ret_slope, double *ret_dev)
{
	double mx = (N_BANDS - 1) / 2.0, my = 0.0, sxy = 0.0, sxx = 0.0, dev = 0.0;

	for (int b = 0; b < N_BANDS; b++)
		my += db[b] / N_BANDS;
	for (int b = 0; b < N_BANDS; b++) {
		sxy += (b - mx) * (db[b] - my);
		sxx += (b - mx) * (b - mx);
	}
	*ret_slope = sxy / sxx;
	for (int b = 0; b < N_BANDS; b++)
		dev = fmax(dev, fabs(db[b] - (my + *ret_slope * (b - mx))));
	*ret_dev = dev;
}

static void check_color(const char *text, double want_slope)
{
	double db[N_BANDS], slope, dev, rms0, rms1, rho = 0.0, e0 = 0.0, e1 = 0.0;
	struct harness h;
	void *n;

	harness_init(&h, NULL, 0);
	n = harness_create(&h, &node_type_noise, text);
	assert_int_equal(node_type_noise.get_out_channels(n), 2);
	assert_true(harness_tail(&node_type_noise, n) == SIZE_MAX);
	assert_false(harness_run(&node_type_noise, n, NULL, 0, out, 2, 0, FRAMES));
	rms0 = rms_db(got[0], FRAMES);
	rms1 = rms_db(got[1], FRAMES);
	octave_bands(h.fft, got[0], db);
	fit(db, &slope, &dev);
	for (size_t i = 0; i < FRAMES; i++) {
		rho += (double)got[0][i] * got[1][i];
		e0 += (double)got[0][i] * got[0][i];
		e1 += (double)got[1][i] * got[1][i];
	}
	rho /= sqrt(e0 * e1);
	printf("# %s: RMS %.3f / %.3f dB, slope %.3f dB/octave (want %.2f), worst band %.3f dB "
	       "off, "
	       "channel correlation %.4f\n",
	       strstr(text, "pink") ? "pink" : "white", rms0, rms1, slope, want_slope, dev, rho);
	assert_true(fabs(rms0 + 20.0) < 0.05 && fabs(rms1 + 20.0) < 0.05);
	assert_true(fabs(slope - want_slope) < 0.1);
	assert_true(dev < 0.3);
	assert_true(fabs(rho) < 0.01);
	node_type_noise.destroy(n);
	harness_done(&h);
}

static void test_white(void **state)
{
	(void)state;
	check_color("[node.n]\ntype = noise\nchannels = 2\n", 0.0);
}

static void test_pink(void **state)
{
	(void)state;
	check_color("[node.n]\ntype = noise\ncolor = pink\nchannels = 2\nseed = 7\n",
		    -10.0 * log10(2.0));
}

/* The same seed gives the same samples; another seed others. */
static void test_seed(void **state)
{
	static float a[BLOCK * 8], b[BLOCK * 8];
	float *pa[1] = {a}, *pb[1] = {b};
	struct harness h;
	void *n1, *n2;

	(void)state;
	harness_init(&h, NULL, 0);
	n1 = harness_create(&h, &node_type_noise, "[node.n]\ntype = noise\nseed = 42\n");
	n2 = harness_create(&h, &node_type_noise, "[node.n]\ntype = noise\nseed = 42\n");
	harness_run(&node_type_noise, n1, NULL, 0, pa, 1, 0, EL_N_ELEMENTS(a));
	harness_run(&node_type_noise, n2, NULL, 0, pb, 1, 0, EL_N_ELEMENTS(b));
	assert_memory_equal(a, b, sizeof(a));
	node_type_noise.destroy(n2);
	n2 = harness_create(&h, &node_type_noise, "[node.n]\ntype = noise\nseed = 43\n");
	harness_run(&node_type_noise, n2, NULL, 0, pb, 1, 0, EL_N_ELEMENTS(b));
	assert_memory_not_equal(a, b, sizeof(a));
	node_type_noise.destroy(n1);
	node_type_noise.destroy(n2);
	harness_done(&h);
}

/* set_param(level_db): the RMS follows after the ramp; an update to pink is applied. */
static void test_level_change(void **state)
{
	const size_t n1 = BLOCK * 200;
	struct harness h;
	void *n, *u = NULL;
	double value;

	(void)state;
	harness_init(&h, NULL, 0);
	n = harness_create(&h, &node_type_noise, "[node.n]\ntype = noise\n");
	assert_int_equal(harness_set(&node_type_noise, n, 0, -40.0), 0);
	assert_int_equal(node_type_noise.get_param(n, 0, 0, &value), 0);
	assert_true(value == -40.0);
	harness_run(&node_type_noise, n, NULL, 0, out, 1, 0, n1);
	printf("# after set_param(-40): RMS %.3f dB\n", rms_db(got[0] + FADE, n1 - FADE));
	assert_true(fabs(rms_db(got[0] + FADE, n1 - FADE) + 40.0) < 0.1);
	assert_int_equal(harness_call(&h, &node_type_noise, n,
				      "[node.n]\ntype = noise\nlevel_db = -40\n", &u),
			 0);
	assert_null(u);
	assert_int_equal(harness_call(&h, &node_type_noise, n,
				      "[node.n]\ntype = noise\nlevel_db = -40\ncolor = pink\n", &u),
			 0);
	assert_non_null(u);
	harness_apply(&node_type_noise, n, u);
	node_type_noise.update_free(u);
	harness_run(&node_type_noise, n, NULL, 0, out, 1, 0, FRAMES);
	printf("# pink after the update: RMS %.3f dB\n", rms_db(got[0] + 48000, FRAMES - 48000));
	assert_true(fabs(rms_db(got[0] + 48000, FRAMES - 48000) + 40.0) < 0.1);
	node_type_noise.destroy(n);
	harness_done(&h);
}

static void test_bad_config(void **state)
{
	struct harness h;

	(void)state;
	harness_init(&h, NULL, 0);
	assert_string_equal(harness_error(&h, &node_type_noise,
					  "[node.n]\ntype = noise\ncolor = brown\n", -EINVAL),
			    "test.conf:3: key 'color': expected one of: white, pink; got 'brown'");
	assert_string_equal(
		harness_error(&h, &node_type_noise, "[node.n]\ntype = noise\nseed = -1\n", -EINVAL),
		"test.conf:3: key 'seed': expected an integer from 0 to 4294967295, "
		"got '-1'");
	harness_done(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_white),      cmocka_unit_test(test_pink),
		cmocka_unit_test(test_seed),       cmocka_unit_test(test_level_change),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
