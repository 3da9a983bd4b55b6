/* SPDX-License-Identifier: MIT */
/*
 * Property: preparing an IR as background work (dsp_fir_ir_new_paced) calls the pacer between
 * every DSP_FIR_IR_PACE_PARTS partitions and never after the last, with the chunk's time, and
 * makes the same IR: a convolver gives bit-identical output with it and with dsp_fir_ir_new's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/el-pace.h"
#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/fir.h"
#include "tests/unit/test-fft-fixture.h"
#include "tests/unit/test-util.h"

#define BLOCK 64u

struct count {
	unsigned calls;
	uint64_t total_ns;
};

static void count_pace(void *ctx, uint64_t work_ns)
{
	struct count *c = ctx;

	c->calls++;
	c->total_ns += work_ns;
}

/* Output of an impulse-and-noise input through ir, n frames. */
static void convolve(struct dsp_fft_cache *fft, const struct dsp_fir_ir *ir, size_t taps,
		     const float *in, float *out, size_t n)
{
	struct dsp_fir_config cfg = {
		.block = BLOCK, .max_taps = taps, .cpu_flags = dsp_cpu_get_flags(), .fft = fft};
	struct dsp_fir *fir = NULL;

	assert_int_equal(dsp_fir_new(&cfg, &fir), 0);
	assert_int_equal(dsp_fir_set_ir(fir, ir, 0), 0);
	dsp_fir_process(fir, in, out, n);
	dsp_fir_free(fir);
}

static void test_paced(void **state)
{
	/* partitions: one, exactly one chunk, one more than a chunk, several and a bit */
	static const size_t parts[] = {1, DSP_FIR_IR_PACE_PARTS, DSP_FIR_IR_PACE_PARTS + 1,
				       3 * DSP_FIR_IR_PACE_PARTS + 5};
	struct dsp_fft_cache *fft = *state;
	enum { N = BLOCK * 16 };
	static float in[N], out_plain[N], out_paced[N];
	struct test_rng rng;

	test_rng_init(&rng, 3);
	test_fill_noise(&rng, in, N, 0.5);
	in[0] = 1.0f;
	for (size_t i = 0; i < EL_N_ELEMENTS(parts); i++) {
		size_t taps = parts[i] * BLOCK - 7;
		float *h = malloc(taps * sizeof(float));
		struct count c = {0};
		struct el_pacer pacer = {.pace = count_pace, .ctx = &c};
		struct dsp_fir_ir *plain = NULL, *paced = NULL;

		assert_non_null(h);
		test_fill_noise(&rng, h, taps, 0.1);
		assert_int_equal(dsp_fir_ir_new(fft, BLOCK, h, taps, &plain), 0);
		assert_int_equal(dsp_fir_ir_new_paced(fft, BLOCK, h, taps, &pacer, &paced), 0);
		assert_int_equal(c.calls, (parts[i] - 1) / DSP_FIR_IR_PACE_PARTS);
		assert_true(c.calls == 0 || c.total_ns > 0);
		convolve(fft, plain, taps, in, out_plain, N);
		convolve(fft, paced, taps, in, out_paced, N);
		assert_memory_equal(out_plain, out_paced, sizeof(out_plain));
		/* no pacer, or one without a callback: full speed, same IR */
		dsp_fir_ir_free(paced);
		assert_int_equal(dsp_fir_ir_new_paced(fft, BLOCK, h, taps, NULL, &paced), 0);
		dsp_fir_ir_free(paced);
		assert_int_equal(
			dsp_fir_ir_new_paced(fft, BLOCK, h, taps, &(struct el_pacer){0}, &paced),
			0);
		dsp_fir_ir_free(paced);
		dsp_fir_ir_free(plain);
		free(h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paced),
	};

	return cmocka_run_group_tests(tests, test_fft_setup, test_fft_teardown);
}
