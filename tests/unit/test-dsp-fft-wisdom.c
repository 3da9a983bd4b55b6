/* SPDX-License-Identifier: MIT */
/*
 * Property: FFTW wisdom survives a round trip through a file. After measuring a plan and saving
 * the wisdom, forgetting it makes a wisdom-only plan impossible; loading the file makes it
 * possible again — so a restarted daemon does not measure again. Missing and garbage files are
 * reported (-ENOENT, -EINVAL), and saving into a missing directory fails cleanly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fftw3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dsp/fft.h"
#include "dsp/mem.h"

#define N 2048

static char dir[] = "/tmp/test-dsp-fft-wisdom-XXXXXX";

/* Can FFTW plan an N-point r2c from wisdom alone, without measuring? */
static int plannable_from_wisdom(void)
{
	float *in = dsp_mem_alloc(N * sizeof(float)), *out = dsp_mem_alloc((N + 2) * sizeof(float));
	fftwf_plan p =
		fftwf_plan_dft_r2c_1d(N, in, (fftwf_complex *)out, FFTW_MEASURE | FFTW_WISDOM_ONLY);
	int ok = p != NULL;

	if (p)
		fftwf_destroy_plan(p);
	dsp_mem_free(in);
	dsp_mem_free(out);
	return ok;
}

static void path_in_dir(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

static void test_round_trip(void **state)
{
	struct dsp_fft_cache *c = NULL;
	const struct dsp_fft_plan *p;
	char path[256];

	(void)state;
	path_in_dir(path, sizeof(path), "wisdom");
	dsp_fft_wisdom_forget();
	assert_false(plannable_from_wisdom());

	assert_int_equal(dsp_fft_cache_new(DSP_FFT_MEASURE, &c), 0);
	assert_int_equal(dsp_fft_cache_get(c, N, &p), 0);
	assert_true(plannable_from_wisdom());
	assert_int_equal(dsp_fft_wisdom_save(path), 0);
	c = dsp_fft_cache_free(c);

	dsp_fft_wisdom_forget();
	assert_false(plannable_from_wisdom());
	assert_int_equal(dsp_fft_wisdom_load(path), 0);
	assert_true(plannable_from_wisdom());
	unlink(path);
}

static void test_bad_files(void **state)
{
	char path[256];
	FILE *f;

	(void)state;
	path_in_dir(path, sizeof(path), "missing");
	assert_int_equal(dsp_fft_wisdom_load(path), -ENOENT);
	path_in_dir(path, sizeof(path), "garbage");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("this is not (fftw wisdom)\n", f);
	fclose(f);
	assert_int_equal(dsp_fft_wisdom_load(path), -EINVAL);
	unlink(path);
	path_in_dir(path, sizeof(path), "no-such-dir/wisdom");
	assert_int_equal(dsp_fft_wisdom_save(path), -ENOENT);
	assert_int_equal(dsp_fft_wisdom_load(NULL), -EINVAL);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
