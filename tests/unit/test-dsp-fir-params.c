/* SPDX-License-Identifier: MIT */
/*
 * Property: bad parameters are refused with -EINVAL (or -E2BIG for an IR longer than the
 * convolver was sized for), the out-parameter is left untouched, and nothing is left allocated
 * (the ASan build's leak checker fails the test otherwise).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include "dsp/fft.h"
#include "dsp/fir.h"
#include "tests/unit/test-fft-fixture.h"

static float taps[300];

static void test_ir_new(void **state)
{
	struct dsp_fir_ir *const sentinel = (void *)0x1;
	struct dsp_fir_ir *ir = sentinel;
	struct dsp_fft_cache *fft = *state;
	static const unsigned bad_blocks[] = {0, 1, 16, 48, 100, 16384};

	for (size_t i = 0; i < sizeof(bad_blocks) / sizeof(bad_blocks[0]); i++)
		assert_int_equal(dsp_fir_ir_new(fft, bad_blocks[i], taps, 300, &ir), -EINVAL);
	assert_int_equal(dsp_fir_ir_new(fft, 64, taps, 0, &ir), -EINVAL);
	assert_int_equal(dsp_fir_ir_new(fft, 64, taps, (size_t)DSP_FIR_MAX_TAPS + 1, &ir), -EINVAL);
	assert_int_equal(dsp_fir_ir_new(fft, 64, NULL, 300, &ir), -EINVAL);
	assert_int_equal(dsp_fir_ir_new(NULL, 64, taps, 300, &ir), -EINVAL);
	assert_ptr_equal(ir, sentinel);
	assert_int_equal(dsp_fir_ir_new(fft, 64, taps, 300, NULL), -EINVAL);
	assert_null(dsp_fir_ir_free(NULL));
}

static void test_fir_new(void **state)
{
	struct dsp_fir *const sentinel = (void *)0x1;
	struct dsp_fir *fir = sentinel;
	struct dsp_fir_config cfg = {.block = 64, .max_taps = 300, .fft = *state};

	cfg.block = 96;
	assert_int_equal(dsp_fir_new(&cfg, &fir), -EINVAL);
	cfg.block = 16;
	assert_int_equal(dsp_fir_new(&cfg, &fir), -EINVAL);
	cfg.block = 64, cfg.max_taps = 0;
	assert_int_equal(dsp_fir_new(&cfg, &fir), -EINVAL);
	cfg.max_taps = (size_t)DSP_FIR_MAX_TAPS + 1;
	assert_int_equal(dsp_fir_new(&cfg, &fir), -EINVAL);
	cfg.max_taps = 300, cfg.fft = NULL;
	assert_int_equal(dsp_fir_new(&cfg, &fir), -EINVAL);
	assert_int_equal(dsp_fir_new(NULL, &fir), -EINVAL);
	assert_ptr_equal(fir, sentinel);
	assert_null(dsp_fir_free(NULL));
}

static void test_set_ir(void **state)
{
	struct dsp_fft_cache *fft = *state;
	struct dsp_fir_config cfg = {.block = 64, .max_taps = 128, .fft = fft};
	struct dsp_fir_ir *other_block = NULL, *too_long = NULL, *fits = NULL;
	struct dsp_fir *fir = NULL;

	assert_int_equal(dsp_fir_new(&cfg, &fir), 0);
	assert_int_equal(dsp_fir_ir_new(fft, 128, taps, 100, &other_block), 0);
	assert_int_equal(dsp_fir_ir_new(fft, 64, taps, 129, &too_long), 0);
	assert_int_equal(dsp_fir_ir_new(fft, 64, taps, 128, &fits), 0);
	assert_int_equal(dsp_fir_set_ir(fir, other_block, 0), -EINVAL);
	assert_int_equal(dsp_fir_set_ir(fir, too_long, 0), -E2BIG);
	assert_int_equal(dsp_fir_set_ir(fir, fits, 0), 0);
	assert_int_equal(dsp_fir_get_block(fir), 64);
	assert_int_equal(dsp_fir_ir_get_partitions(fits), 2);
	assert_int_equal(dsp_fir_ir_get_taps(fits), 128);
	dsp_fir_free(fir);
	dsp_fir_ir_free(other_block);
	dsp_fir_ir_free(too_long);
	dsp_fir_ir_free(fits);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ir_new),
		cmocka_unit_test(test_fir_new),
		cmocka_unit_test(test_set_ir),
	};

	return cmocka_run_group_tests(tests, test_fft_setup, test_fft_teardown);
}
