/* SPDX-License-Identifier: MIT */
/*
 * Property: the partitioned convolver equals direct-form convolution computed in double
 * precision, to better than -120 dB (error energy relative to the output's), for IR lengths
 * 1, 7, block-1, block, block+1, a prime, 65536 and 2^20, and blocks from 32 to 8192, with
 * every multiply-accumulate kernel this CPU can run.
 *
 * The reference is the textbook sum y[n] = Σ h[k] x[n-k] in double. For long IRs it is
 * evaluated at a spread of output positions (all partitions active, block edges included)
 * rather than at every sample, to keep the test fast; the convolver still runs on every sample.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/fir.h"
#include "dsp/mem.h"
#include "tests/unit/fir-reference.h"
#include "tests/unit/test-util.h"

#define LIMIT_DB (-120.0)
/* Reference work above which outputs are sampled instead of computed everywhere. */
#define FULL_REFERENCE_MACS 40000000.0
#define SAMPLED_POSITIONS   1500

static double worst_db = -400.0;

static void check_case(struct dsp_fft_cache *fft, unsigned block, size_t ntaps, uint32_t flags)
{
	size_t frames = EL_ALIGN_UP(ntaps + 3 * (size_t)block, block);
	float *h = malloc(ntaps * sizeof(float)), *x = malloc(frames * sizeof(float));
	float *y = dsp_mem_alloc(frames * sizeof(float));
	struct dsp_fir_config cfg = {
		.block = block, .max_taps = ntaps, .cpu_flags = flags, .fft = fft};
	struct dsp_fir_ir *ir = NULL;
	struct dsp_fir *fir = NULL;
	struct test_rng rng;
	double *ref;
	float *got;
	size_t npos, stride;
	double db;

	assert_non_null(h);
	assert_non_null(x);
	assert_non_null(y);
	test_rng_init(&rng, ntaps * 7919 + block);
	test_fir_make_room_ir(&rng, h, ntaps);
	test_fill_noise(&rng, x, frames, 0.5);

	assert_int_equal(dsp_fir_ir_new(fft, block, h, ntaps, &ir), 0);
	assert_int_equal(dsp_fir_new(&cfg, &fir), 0);
	assert_int_equal(dsp_fir_set_ir(fir, ir, 0), 0);
	/* Feed in chunks of several blocks and one block, as hosts do. */
	for (size_t done = 0; done < frames;) {
		size_t n = EL_MIN(frames - done,
				  (done / block) % 2 ? (size_t)block : 3 * (size_t)block);
		dsp_fir_process(fir, x + done, y + done, n);
		done += n;
	}

	npos = (double)ntaps * (double)frames > FULL_REFERENCE_MACS ? SAMPLED_POSITIONS : frames;
	stride = frames / npos;
	ref = malloc(npos * sizeof(double));
	got = malloc(npos * sizeof(float));
	assert_non_null(ref);
	assert_non_null(got);
	for (size_t i = 0; i < npos; i++) {
		/* An odd stride walks across every offset within the block. */
		size_t n = npos == frames ? i : (i * (stride | 1)) % frames;
		ref[i] = test_fir_reference_at(h, ntaps, x, n);
		got[i] = y[n];
	}
	db = test_error_db(ref, got, npos);
	printf("# block %5u taps %8zu kernel %-6s positions %6zu error %7.1f dB\n", block, ntaps,
	       dsp_cpu_get_variant_name(flags), npos, db);
	if (db > worst_db)
		worst_db = db;
	assert_true(db < LIMIT_DB);

	dsp_fir_free(fir);
	dsp_fir_ir_free(ir);
	free(ref);
	free(got);
	free(h);
	free(x);
	dsp_mem_free(y);
}

/* Kernels to try: portable C always, then each SIMD level the CPU has. */
static size_t kernel_flags(uint32_t *out)
{
	uint32_t cpu = dsp_cpu_get_flags();
	size_t n = 0;

	out[n++] = 0;
	if (cpu & DSP_CPU_AVX2_FMA)
		out[n++] = DSP_CPU_AVX2_FMA;
	if (cpu & DSP_CPU_AVX512F)
		out[n++] = cpu;
	return n;
}

static void test_short_irs(void **state)
{
	static const unsigned blocks[] = {32, 64, 256, 1024, 8192};
	struct dsp_fft_cache *fft = *state;
	uint32_t flags[3];
	size_t nk = kernel_flags(flags);

	for (size_t b = 0; b < EL_N_ELEMENTS(blocks); b++) {
		size_t lens[] = {1, 7, blocks[b] - 1, blocks[b], blocks[b] + 1, 1009, 4099};
		for (size_t l = 0; l < EL_N_ELEMENTS(lens); l++)
			for (size_t k = 0; k < nk; k++)
				check_case(fft, blocks[b], lens[l], flags[k]);
	}
}

static void test_65536_taps(void **state)
{
	static const unsigned blocks[] = {32, 64, 256, 4096};
	uint32_t flags[3];
	size_t nk = kernel_flags(flags);

	for (size_t b = 0; b < EL_N_ELEMENTS(blocks); b++)
		for (size_t k = 0; k < nk; k++)
			check_case(*state, blocks[b], 65536, flags[k]);
}

static void test_one_million_taps(void **state)
{
	check_case(*state, 1024, 1u << 20, dsp_cpu_get_flags());
}

static int setup(void **state)
{
	struct dsp_fft_cache *fft = NULL;

	if (dsp_fft_cache_new(DSP_FFT_ESTIMATE, &fft) < 0)
		return -1;
	*state = fft;
	return 0;
}

static int teardown(void **state)
{
	dsp_fft_cache_free(*state);
	printf("# worst error %.1f dB (limit %.0f dB)\n", worst_db, LIMIT_DB);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_irs),
		cmocka_unit_test(test_65536_taps),
		cmocka_unit_test(test_one_million_taps),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
