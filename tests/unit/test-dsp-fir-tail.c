/* SPDX-License-Identifier: MIT */
/*
 * Property: cutting a running convolver's IR tail (the policy's FIR tiers) is exact and does
 * not click.
 *
 * The IR decays exponentially (60 dB of energy in about a third of its length), so a cut at
 * -60 dB keeps roughly a third of the partitions and one at -90 dB about half.
 *   1. The partition count a cut keeps is the smallest for which the energy left is at most the
 *      cut below the total (checked against the taps, in double).
 *   2. After a cut (and its fade), the output equals direct-form convolution in double with
 *      the IR truncated at that partition: error below -120 dB of the signal.
 *   3. While the cut fades in (full -> -60 dB) and out again (-> full), no sample-to-sample step
 *      of a steady sine exceeds the sine's own slope plus the faded part's: the largest change
 *      of the tail contribution in one block step. After fading back, the output is again the
 *      full IR's, bit for bit.
 * Every kernel the CPU has (portable, AVX2, AVX-512) is checked.
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

#include "common/el-macros.h"
#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/fir.h"

#define BLOCK   64u
#define TAPS    4096u
#define PARTS   (TAPS / BLOCK)
#define FRAMES  (BLOCK * 320u)
#define CUT_AT  (BLOCK * 100u) /* after the IR is fully "warm" */
#define BACK_AT (BLOCK * 200u)
#define FADE    (BLOCK * 4u)

static float ir_taps[TAPS];
static float x[FRAMES], y[FRAMES], y_full[FRAMES];

static void make_signals(void)
{
	uint32_t seed = 12345;

	for (size_t i = 0; i < TAPS; i++) {
		/* noise under an envelope falling 60 dB every TAPS / 3 taps */
		seed = seed * 1664525u + 1013904223u;
		ir_taps[i] = (float)(((double)(seed >> 8) / 16777216.0 - 0.5) *
				     pow(10.0, -3.0 * (double)i / (TAPS / 3.0)));
	}
	for (size_t i = 0; i < FRAMES; i++)
		x[i] = (float)(0.5 * sin(2.0 * M_PI * 997.0 * (double)i / 48000.0));
}

/* Energy of taps from partition p on, over the total, in double. */
static double remaining(size_t p)
{
	double part = 0.0, total = 0.0;

	for (size_t i = 0; i < TAPS; i++) {
		total += (double)ir_taps[i] * ir_taps[i];
		if (i >= p * BLOCK)
			part += (double)ir_taps[i] * ir_taps[i];
	}
	return part / total;
}

static void test_parts_for_tail(void **state)
{
	struct dsp_fft_cache *fft = *state;
	struct dsp_fir_ir *ir = NULL;

	assert_int_equal(dsp_fir_ir_new(fft, BLOCK, ir_taps, TAPS, &ir), 0);
	assert_int_equal(dsp_fir_ir_get_parts_for_tail(ir, 0.0f), PARTS);
	for (float db = -30.0f; db >= -120.0f; db -= 30.0f) {
		size_t k = dsp_fir_ir_get_parts_for_tail(ir, db);
		double limit = pow(10.0, db / 10.0);

		print_message("cut at %.0f dB keeps %zu of %u partitions\n", db, k, PARTS);
		assert_true(k >= 1 && k <= PARTS);
		assert_true(remaining(k) <= limit * (1 + 1e-9));
		assert_true(k == 1 || remaining(k - 1) > limit);
	}
	/* the tiers the policy uses save work on a decaying IR */
	assert_true(dsp_fir_ir_get_parts_for_tail(ir, -60.0f) < PARTS * 2 / 3);
	dsp_fir_ir_free(ir);

	/* A noise floor 80 dB below the peak under the same decay, as a measurement leaves: the
	 * cut still falls where the decay ends (within two partitions of the clean IR's), not at
	 * the end of the floor. */
	{
		static float noisy[TAPS];
		struct dsp_fir_ir *clean = NULL;
		uint32_t seed = 777;
		size_t k_clean, k_noisy;

		for (size_t i = 0; i < TAPS; i++) {
			seed = seed * 1664525u + 1013904223u;
			noisy[i] = ir_taps[i] +
				   (float)(((double)(seed >> 8) / 16777216.0 - 0.5) * 1e-4);
		}
		assert_int_equal(dsp_fir_ir_new(fft, BLOCK, ir_taps, TAPS, &clean), 0);
		assert_int_equal(dsp_fir_ir_new(fft, BLOCK, noisy, TAPS, &ir), 0);
		k_clean = dsp_fir_ir_get_parts_for_tail(clean, -60.0f);
		k_noisy = dsp_fir_ir_get_parts_for_tail(ir, -60.0f);
		print_message("-60 dB cut: %zu partitions clean, %zu over an -80 dB floor\n",
			      k_clean, k_noisy);
		assert_true(k_noisy <= k_clean + 2);
		assert_true(dsp_fir_ir_get_parts_for_tail(clean, -90.0f) > k_clean);
		dsp_fir_ir_free(clean);
		dsp_fir_ir_free(ir);
	}
}

static struct dsp_fir *make_fir(struct dsp_fft_cache *fft, const struct dsp_fir_ir *ir,
				uint32_t flags)
{
	struct dsp_fir_config cfg = {
		.block = BLOCK, .max_taps = TAPS, .cpu_flags = flags, .fft = fft};
	struct dsp_fir *fir = NULL;

	assert_int_equal(dsp_fir_new(&cfg, &fir), 0);
	assert_int_equal(dsp_fir_set_ir(fir, ir, 0), 0);
	return fir;
}

/* Runs the sine through the IR; cut to -60 dB at CUT_AT, back to full at BACK_AT. */
static void run(struct dsp_fft_cache *fft, const struct dsp_fir_ir *ir, uint32_t flags)
{
	struct dsp_fir *fir = make_fir(fft, ir, flags), *full = make_fir(fft, ir, flags);

	for (size_t n = 0; n < FRAMES; n += BLOCK) {
		if (n == CUT_AT)
			assert_int_equal(dsp_fir_set_tail_db(fir, -60.0f, FADE), 0);
		if (n == CUT_AT + BLOCK) /* a second change while the first fades is refused */
			assert_int_equal(dsp_fir_set_tail_db(fir, -90.0f, FADE), -EBUSY);
		if (n == BACK_AT)
			assert_int_equal(dsp_fir_set_tail_db(fir, 0.0f, FADE), 0);
		dsp_fir_process(fir, x + n, y + n, BLOCK);
	}
	dsp_fir_process(full, x, y_full, FRAMES);
	dsp_fir_free(fir);
	dsp_fir_free(full);
}

/* Direct-form convolution in double of x with the first keep taps, at output n. */
static double direct(size_t n, size_t keep)
{
	double acc = 0.0;

	for (size_t k = 0; k < keep && k <= n; k++)
		acc += (double)ir_taps[k] * x[n - k];
	return acc;
}

static void check_flags(struct dsp_fft_cache *fft, uint32_t flags, const char *name)
{
	struct dsp_fir_ir *ir = NULL;
	size_t keep;
	double err = 0.0, sig = 0.0, worst = 0.0, tail_step = 0.0, slope = 0.0;

	assert_int_equal(dsp_fir_ir_new(fft, BLOCK, ir_taps, TAPS, &ir), 0);
	keep = dsp_fir_ir_get_parts_for_tail(ir, -60.0f) * BLOCK;
	run(fft, ir, flags);

	/* 2: exact after the fade, against the truncated IR in double */
	for (size_t n = CUT_AT + FADE + BLOCK; n < BACK_AT; n++) {
		double ref = direct(n, keep);

		err += (y[n] - ref) * (y[n] - ref);
		sig += ref * ref;
	}
	print_message("%s: cut output vs direct truncated convolution: %.1f dB\n", name,
		      10.0 * log10(err / sig));
	/* float transforms over 64 partitions give about -120 dB; 5 dB spare for other rounding */
	assert_true(10.0 * log10(err / sig) < -115.0);

	/* 3: continuity. Bound: the full output's own largest step, plus the largest jump of the
	 * faded tail part between two consecutive gain steps (its amplitude / fade blocks). */
	for (size_t n = 1; n < FRAMES; n++) {
		slope = fmax(slope, fabs((double)y_full[n] - y_full[n - 1]));
		if (n >= CUT_AT + FADE + BLOCK && n < BACK_AT)
			tail_step = fmax(tail_step, fabs((double)y_full[n] - y[n]));
	}
	tail_step = tail_step / (FADE / BLOCK) * 1.5 + 1e-6;
	for (size_t n = CUT_AT; n < BACK_AT + FADE + BLOCK; n++)
		worst = fmax(worst, fabs((double)y[n] - y[n - 1]) / (slope + tail_step));
	print_message("%s: worst step during the fades: %.3f of the bound\n", name, worst);
	assert_true(worst <= 1.0);

	/* back to the full IR: the same output as a convolver that never cut */
	assert_memory_equal(y + BACK_AT + FADE + BLOCK, y_full + BACK_AT + FADE + BLOCK,
			    (FRAMES - BACK_AT - FADE - BLOCK) * sizeof(float));
	dsp_fir_ir_free(ir);
}

static void test_cut_exact_and_smooth(void **state)
{
	uint32_t have = dsp_cpu_get_flags();

	check_flags(*state, 0, "c");
	if (have & DSP_CPU_AVX2_FMA)
		check_flags(*state, DSP_CPU_AVX2_FMA, "avx2");
	if (have & DSP_CPU_AVX512F)
		check_flags(*state, have, "avx512");
}

static int setup(void **state)
{
	struct dsp_fft_cache *fft = NULL;

	make_signals();
	if (dsp_fft_cache_new(DSP_FFT_ESTIMATE, &fft) < 0)
		return -1;
	*state = fft;
	return 0;
}

static int teardown(void **state)
{
	dsp_fft_cache_free(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parts_for_tail),
		cmocka_unit_test(test_cut_exact_and_smooth),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
