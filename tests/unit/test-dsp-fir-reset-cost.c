/* SPDX-License-Identifier: MIT */
/*
 * Property: dsp_fir_reset() costs a block, not the history. A convolver's frequency-domain
 * delay line (FDL) is filled with the spectra of noise by processing it; after a reset, at
 * most one partition of it (2 * block floats, what one cycle writes anyway) may differ from
 * before: clearing it all, O(max_taps) on the RT thread, was the spike of the first cycle after
 * a silence. Counted, not timed: a byte count is the same on any machine and any load. And the
 * multiply-accumulate reads only what was written since: its reach starts at zero and grows by
 * one partition per block up to the capacity.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/fir-inspect.h"
#include "dsp/fir.h"
#include "tests/unit/test-fft-fixture.h"
#include "tests/unit/test-util.h"

#define BLOCK 64u
#define PARTS 512u /* the FDL's capacity: 256 KiB of spectra */
#define TAPS  (BLOCK * 300u)

static void test_reset_writes_no_history(void **state)
{
	struct dsp_fir_config cfg = {.block = BLOCK,
				     .max_taps = (size_t)BLOCK * PARTS,
				     .cpu_flags = dsp_cpu_get_flags(),
				     .fft = *state};
	static float taps[TAPS], x[BLOCK], y[BLOCK];
	struct dsp_fir_ir *ir = NULL;
	struct dsp_fir *fir = NULL;
	struct test_rng rng;
	const float *fdl;
	float *before;
	size_t n, changed = 0, nonzero = 0;

	test_rng_init(&rng, 11);
	test_fill_noise(&rng, taps, TAPS, 0.01);
	assert_int_equal(dsp_fir_ir_new(*state, BLOCK, taps, TAPS, &ir), 0);
	assert_int_equal(dsp_fir_new(&cfg, &fir), 0);
	assert_int_equal(dsp_fir_set_ir(fir, ir, 0), 0);
	assert_int_equal(dsp_fir_get_filled(fir), 0);
	for (unsigned b = 0; b < PARTS + 7; b++) { /* every slot written, and the ring wrapped */
		test_fill_noise(&rng, x, BLOCK, 0.5);
		dsp_fir_process(fir, x, y, BLOCK);
		assert_int_equal(dsp_fir_get_filled(fir), b + 1 < PARTS ? b + 1 : PARTS);
	}

	fdl = dsp_fir_get_fdl(fir, &n);
	assert_int_equal(n, (size_t)PARTS * 2 * BLOCK);
	before = malloc(n * sizeof(float));
	assert_non_null(before);
	memcpy(before, fdl, n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		nonzero += before[i] != 0.0f;
	assert_true(nonzero > n / 2); /* else a clearing reset would change little to see */

	dsp_fir_reset(fir);
	for (size_t i = 0; i < n; i++)
		changed += memcmp(&before[i], &fdl[i], sizeof(float)) != 0;
	printf("# reset changed %zu of %zu FDL floats (%zu nonzero before)\n", changed, n, nonzero);
	assert_true(changed <= 2 * BLOCK);

	/* What the multiply-accumulate reads restarts at nothing and grows a partition a block. */
	assert_int_equal(dsp_fir_get_filled(fir), 0);
	for (unsigned b = 1; b <= 3; b++) {
		dsp_fir_process(fir, x, y, BLOCK);
		assert_int_equal(dsp_fir_get_filled(fir), b);
	}

	free(before);
	dsp_fir_free(fir);
	dsp_fir_ir_free(ir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_writes_no_history),
	};

	return cmocka_run_group_tests(tests, test_fft_setup, test_fft_teardown);
}
