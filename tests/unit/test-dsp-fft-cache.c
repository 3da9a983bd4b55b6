/* SPDX-License-Identifier: MIT */
/*
 * Property: the plan cache hands out one plan per size — the same pointer for the same size,
 * a different one for another — and those plans transform correctly: a cosine at bin k comes
 * out as a single spectral line, and forward then inverse gives the input back scaled by n.
 * Sizes that are not powers of two, or out of range, are refused with -EINVAL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <cmocka.h>

#include "dsp/fft.h"
#include "dsp/mem.h"
#include "tests/unit/test-util.h"

static void test_same_size_same_plan(void **state)
{
	struct dsp_fft_cache *c = *state;
	const struct dsp_fft_plan *a = NULL, *b = NULL, *d = NULL;

	assert_int_equal(dsp_fft_cache_get(c, 128, &a), 0);
	assert_int_equal(dsp_fft_cache_get(c, 128, &b), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(dsp_fft_cache_get(c, 256, &d), 0);
	assert_ptr_not_equal(a, d);
	assert_int_equal(dsp_fft_plan_get_size(a), 128);
	assert_int_equal(dsp_fft_plan_get_size(d), 256);
	assert_int_equal(dsp_fft_cache_get_count(c), 2);
}

static void test_bad_sizes(void **state)
{
	static const size_t bad[] = {0, 1, 3, 100, 129, (size_t)DSP_FFT_MAX_SIZE * 2};
	const struct dsp_fft_plan *sentinel = (const void *)0x1, *p = sentinel;
	struct dsp_fft_cache *c = *state;
	size_t before = dsp_fft_cache_get_count(c);

	for (size_t i = 0; i < EL_N_ELEMENTS(bad); i++) {
		assert_int_equal(dsp_fft_cache_get(c, bad[i], &p), -EINVAL);
		assert_ptr_equal(p, sentinel);
	}
	assert_int_equal(dsp_fft_cache_get(NULL, 64, &p), -EINVAL);
	assert_int_equal(dsp_fft_cache_get(c, 64, NULL), -EINVAL);
	assert_int_equal(dsp_fft_cache_get_count(c), before);
	assert_int_equal(dsp_fft_cache_new((enum dsp_fft_rigor)99, &c), -EINVAL);
	assert_ptr_equal(c, *state);
}

static void test_transforms(void **state)
{
	const size_t n = 512, k = 37;
	const struct dsp_fft_plan *p;
	float *x = dsp_mem_alloc(n * sizeof(float)), *y = dsp_mem_alloc(n * sizeof(float));
	float *spec = dsp_mem_alloc((n + 2) * sizeof(float));

	assert_int_equal(dsp_fft_cache_get(*state, n, &p), 0);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)cos(2.0 * M_PI * (double)(k * i) / (double)n);
	dsp_fft_forward(p, x, spec);
	for (size_t b = 0; b <= n / 2; b++) {
		double want = b == k ? n / 2.0 : 0.0;
		assert_true(fabs(spec[2 * b] - want) < 1e-3 * n);
		assert_true(fabs(spec[2 * b + 1]) < 1e-3 * n);
	}
	dsp_fft_inverse(p, spec, y);
	for (size_t i = 0; i < n; i++)
		assert_true(fabs(y[i] / (double)n - x[i]) < 1e-5);
	dsp_mem_free(x);
	dsp_mem_free(y);
	dsp_mem_free(spec);
}

static int setup(void **state)
{
	struct dsp_fft_cache *c = NULL;
	int r = dsp_fft_cache_new(DSP_FFT_ESTIMATE, &c);

	*state = c;
	return r;
}

static int teardown(void **state)
{
	assert_null(dsp_fft_cache_free(*state));
	assert_null(dsp_fft_cache_free(NULL));
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_size_same_plan),
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_transforms),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
