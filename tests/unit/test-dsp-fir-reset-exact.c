/* SPDX-License-Identifier: MIT */
/*
 * Property: after dsp_fir_reset() the output is bit-identical to that of a convolver whose
 * history was really cleared, though the reset leaves the old history in place (fir.c DESIGN:
 * the multiply-accumulate reads only what was written since).
 *
 * The reference's history is cleared by processing capacity blocks of silence, so every one of
 * its FDL slots holds a real zero spectrum, its multiply-accumulate reads them all, and its
 * head is back at slot 0: exactly what the old clearing reset left. The convolver under test
 * first fills its FDL with loud noise, then is reset. Both then run the same script on two
 * channels of a matrix on the diagonal (dsp_fir_process_matrix): a tail cut faded in, a crossfade
 * to an IR as long as the capacity (whose far partitions would replay the old noise if it were
 * read), the cut faded out again, and a crossfade to a faint IR on faint input whose products flush
 * to zero (the thread flushes denormals, as the RT thread does), through the point where the
 * history fills the whole capacity. Every kernel the CPU has runs it, and every output float
 * must match bit for bit. (The -0.0 that rt_add_silence() turns into +0.0 needs two chunk sums
 * cancelling to a denormal; this script does not reach it, and no output would show it unless
 * a whole block's spectrum were zeros.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/el-macros.h"
#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/fir.h"
#include "tests/unit/test-fft-fixture.h"
#include "tests/unit/test-util.h"

#define BLOCK    64u
#define PARTS    48u /* the capacity */
#define CHANNELS 2u
#define BLOCKS   (PARTS + 40u) /* past the point where the history fills the capacity */

/* Three IR sets, one IR per channel, each with its diagonal routes (borrowed by the matrix). */
struct irs {
	struct dsp_fir_ir *shortir[CHANNELS], *longir[CHANNELS], *faint[CHANNELS];
	struct dsp_fir_route to_short[CHANNELS], to_long[CHANNELS], to_faint[CHANNELS];
};

/* Noise decaying to -60 dB over ntaps, times scale, so a tail cut has a place to cut. */
static struct dsp_fir_ir *make_ir(struct dsp_fft_cache *fft, size_t ntaps, double scale,
				  uint64_t seed)
{
	float *t = malloc(ntaps * sizeof(float));
	struct dsp_fir_ir *ir = NULL;
	struct test_rng rng;

	assert_non_null(t);
	test_rng_init(&rng, seed);
	test_fill_noise(&rng, t, ntaps, 1.0);
	for (size_t i = 0; i < ntaps; i++)
		t[i] = (float)(t[i] * scale * exp(-6.9 * (double)i / (double)ntaps));
	assert_int_equal(dsp_fir_ir_new(fft, BLOCK, t, ntaps, &ir), 0);
	free(t);
	return ir;
}

/* A matrix of CHANNELS on the diagonal, starting with the short IRs. */
static struct dsp_fir *make_fir(struct dsp_fft_cache *fft, uint32_t cpu_flags,
				const struct irs *irs)
{
	struct dsp_fir_config cfg = {.block = BLOCK,
				     .max_taps = (size_t)BLOCK * PARTS,
				     .cpu_flags = cpu_flags,
				     .fft = fft,
				     .inputs = CHANNELS,
				     .outputs = CHANNELS};
	struct dsp_fir *fir = NULL;

	assert_int_equal(dsp_fir_new(&cfg, &fir), 0);
	assert_int_equal(dsp_fir_set_routes(fir, irs->to_short, CHANNELS, 0), 0);
	return fir;
}

/* blocks blocks of noise at amplitude (0: silence) through fir, the output dropped. */
static void feed(struct dsp_fir *fir, unsigned blocks, double amplitude, uint64_t seed)
{
	static float x[CHANNELS][BLOCK], y[CHANNELS][BLOCK];
	const float *in[CHANNELS] = {x[0], x[1]};
	float *out[CHANNELS] = {y[0], y[1]};
	struct test_rng rng;

	test_rng_init(&rng, seed);
	for (unsigned b = 0; b < blocks; b++) {
		for (unsigned c = 0; c < CHANNELS; c++)
			test_fill_noise(&rng, x[c], BLOCK, amplitude);
		dsp_fir_process_matrix(fir, in, out, BLOCK);
	}
}

static void tail_all(struct dsp_fir *fir, float db, unsigned fade)
{
	assert_int_equal(dsp_fir_set_tail_db(fir, db, fade), 0);
}

/* The script both convolvers run: BLOCKS blocks into out[c], changes at fixed blocks. */
static void run_script(struct dsp_fir *fir, const struct irs *irs, float (*out)[BLOCKS * BLOCK])
{
	static float x[CHANNELS][BLOCK];
	const float *in[CHANNELS] = {x[0], x[1]};
	struct test_rng rng;

	test_rng_init(&rng, 99);
	for (unsigned b = 0; b < BLOCKS; b++) {
		float *o[CHANNELS] = {out[0] + b * BLOCK, out[1] + b * BLOCK};

		if (b == 3)
			tail_all(fir, -30.0f, 4 * BLOCK);
		if (b == 10)
			assert_int_equal(dsp_fir_set_routes(fir, irs->to_long, CHANNELS, 6 * BLOCK),
					 0);
		if (b == 20)
			tail_all(fir, 0.0f, 8 * BLOCK);
		if (b == 32)
			assert_int_equal(
				dsp_fir_set_routes(fir, irs->to_faint, CHANNELS, 3 * BLOCK), 0);
		for (unsigned c = 0; c < CHANNELS; c++) /* faint from block 30: flushes to zeros */
			test_fill_noise(&rng, x[c], BLOCK, b >= 30 && b < PARTS + 20 ? 1e-18 : 0.5);
		dsp_fir_process_matrix(fir, in, o, BLOCK);
	}
}

static void check_kernel(struct dsp_fft_cache *fft, const struct irs *irs, uint32_t cpu_flags)
{
	static float want[CHANNELS][BLOCKS * BLOCK], got[CHANNELS][BLOCKS * BLOCK];
	struct dsp_fir *ref = make_fir(fft, cpu_flags, irs), *fir;
	size_t zeros = 0;

	feed(ref, PARTS, 0.0, 1); /* cleared: PARTS silent blocks, head back at slot 0 */
	run_script(ref, irs, want);

	fir = make_fir(fft, cpu_flags, irs);
	feed(fir, 3 * PARTS + 5, 1.0, 2); /* a loud history, wrapped around the ring */
	dsp_fir_reset(fir);
	run_script(fir, irs, got);

	for (unsigned c = 0; c < CHANNELS; c++) {
		for (size_t i = 0; i < BLOCKS * BLOCK; i++) {
			if (memcmp(&want[c][i], &got[c][i], sizeof(float)) != 0)
				fail_msg("cpu flags %#x, channel %u, frame %zu (block %zu): %a, "
					 "cleared history gives %a",
					 cpu_flags, c, i, i / BLOCK, (double)got[c][i],
					 (double)want[c][i]);
			zeros += want[c][i] == 0.0f;
		}
	}
	printf("# cpu flags %#x: %u x %u frames bit-identical (%zu exact zeros)\n", cpu_flags,
	       CHANNELS, BLOCKS * BLOCK, zeros);
	dsp_fir_free(ref);
	dsp_fir_free(fir);
}

static void test_reset_is_exact(void **state)
{
	uint32_t all = dsp_cpu_get_flags();
	uint32_t kernels[] = {0, all & DSP_CPU_AVX2_FMA, all};
	struct irs irs;

	dsp_cpu_flush_denormals();
	for (unsigned c = 0; c < CHANNELS; c++) {
		irs.shortir[c] = make_ir(*state, BLOCK * 20 - 7, 0.3, 10 + c);
		irs.longir[c] = make_ir(*state, BLOCK * PARTS, 0.3, 20 + c);
		irs.faint[c] = make_ir(*state, BLOCK * 10, 1e-20, 30 + c);
		irs.to_short[c] = (struct dsp_fir_route){c, c, irs.shortir[c]};
		irs.to_long[c] = (struct dsp_fir_route){c, c, irs.longir[c]};
		irs.to_faint[c] = (struct dsp_fir_route){c, c, irs.faint[c]};
	}
	for (unsigned k = 0; k < EL_N_ELEMENTS(kernels); k++)
		if (k == 0 || kernels[k] != kernels[k - 1])
			check_kernel(*state, &irs, kernels[k]);
	for (unsigned c = 0; c < CHANNELS; c++) {
		dsp_fir_ir_free(irs.shortir[c]);
		dsp_fir_ir_free(irs.longir[c]);
		dsp_fir_ir_free(irs.faint[c]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_is_exact),
	};

	return cmocka_run_group_tests(tests, test_fft_setup, test_fft_teardown);
}
