/* SPDX-License-Identifier: MIT */
/*
 * Property: replacing the IR of a running convolver does not click.
 *
 * A steady sine runs through IR A; the convolver is switched to IR B with a fade of F frames.
 * Two reference convolvers run A alone and B alone on the same input. During the fade the output
 * is (1-g) yA + g yB with g rising by 1/F per frame, so no sample-to-sample step may exceed
 *     max(|ΔyA|, |ΔyB|) + max|yB - yA| / F     (+ float rounding),
 * the signal's own slope plus the fade's. An instant switch (F = 0) is shown to break that bound,
 * so the test can tell a click from none. After the fade the output must be bit-identical to
 * the B-only reference: both filters ran on the same input history all along.
 * And a matrix on the diagonal (dsp_fir_process_matrix, phase by phase over channels) gives
 * bit-identical output to single convolvers, through swaps and tail cuts, in place or not.
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

#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/fir.h"
#include "dsp/mem.h"
#include "tests/unit/test-util.h"

#define BLOCK     64u
#define TAPS      3000u
#define FRAMES    (BLOCK * 400u)
#define SWITCH_AT (BLOCK * 200u) /* long after both IRs are fully "warm" */

struct fixture {
	struct dsp_fft_cache *fft;
	struct dsp_fir_ir *a, *b;
	float x[FRAMES], ya[FRAMES], yb[FRAMES], y[FRAMES];
};

/* A: a decaying low-pass-ish response; B: the same decay with alternating sign (high-pass-ish). */
static void make_irs(struct fixture *f)
{
	static float ha[TAPS], hb[TAPS];

	for (size_t i = 0; i < TAPS; i++) {
		double env = exp(-5.0 * (double)i / TAPS) * 0.02;
		ha[i] = (float)env;
		hb[i] = (float)(i % 2 ? -env : env * 0.5);
	}
	assert_int_equal(dsp_fir_ir_new(f->fft, BLOCK, ha, TAPS, &f->a), 0);
	assert_int_equal(dsp_fir_ir_new(f->fft, BLOCK, hb, TAPS, &f->b), 0);
}

static struct dsp_fir *make_fir(struct fixture *f, const struct dsp_fir_ir *ir)
{
	struct dsp_fir_config cfg = {
		.block = BLOCK, .max_taps = TAPS, .cpu_flags = dsp_cpu_get_flags(), .fft = f->fft};
	struct dsp_fir *fir = NULL;

	assert_int_equal(dsp_fir_new(&cfg, &fir), 0);
	assert_int_equal(dsp_fir_set_ir(fir, ir, 0), 0);
	return fir;
}

static void run_reference(struct fixture *f, const struct dsp_fir_ir *ir, float *out)
{
	struct dsp_fir *fir = make_fir(f, ir);

	dsp_fir_process(fir, f->x, out, FRAMES);
	dsp_fir_free(fir);
}

/* Runs A, switches to B at SWITCH_AT with the given fade; returns the worst step/bound ratio. */
static double run_switch(struct fixture *f, unsigned fade)
{
	struct dsp_fir *fir = make_fir(f, f->a);
	double worst = 0.0, diff = 0.0;
	/* The convolver rounds a fade up to whole blocks. */
	size_t span = fade ? EL_ALIGN_UP((size_t)fade, BLOCK) : BLOCK;

	dsp_fir_process(fir, f->x, f->y, SWITCH_AT);
	assert_int_equal(dsp_fir_set_ir(fir, f->b, fade), 0);
	assert_int_equal(dsp_fir_is_fading(fir), fade > 0);
	if (fade) {
		/* One fade at a time. */
		assert_int_equal(dsp_fir_set_ir(fir, f->a, fade), -EBUSY);
	}
	dsp_fir_process(fir, f->x + SWITCH_AT, f->y + SWITCH_AT, FRAMES - SWITCH_AT);
	assert_false(dsp_fir_is_fading(fir));
	/* The fade ended: A is no longer read, and the next switch is taken at once. */
	assert_int_equal(dsp_fir_set_ir(fir, f->a, 0), 0);
	dsp_fir_free(fir);

	for (size_t n = SWITCH_AT - BLOCK; n < SWITCH_AT + span + BLOCK; n++)
		diff = fmax(diff, fabs((double)f->yb[n] - f->ya[n]));
	for (size_t n = SWITCH_AT - BLOCK; n < SWITCH_AT + span + BLOCK; n++) {
		double step = fabs((double)f->y[n] - f->y[n - 1]);
		double own = fmax(fabs((double)f->ya[n] - f->ya[n - 1]),
				  fabs((double)f->yb[n] - f->yb[n - 1]));
		double bound = own + diff / (double)span + 1e-5;
		worst = fmax(worst, step / bound);
	}
	/* After the fade: exactly the B-only output. */
	assert_memory_equal(f->y + SWITCH_AT + span, f->yb + SWITCH_AT + span,
			    (FRAMES - SWITCH_AT - span) * sizeof(float));
	return worst;
}

static void test_crossfade_has_no_step(void **state)
{
	struct fixture *f = *state;
	static const unsigned fades[] = {BLOCK, 4 * BLOCK, 1000 /* rounded up to 16 blocks */};

	for (size_t i = 0; i < EL_N_ELEMENTS(fades); i++) {
		double worst = run_switch(f, fades[i]);
		printf("# fade %4u frames: worst step %.3f of the bound\n", fades[i], worst);
		assert_true(worst <= 1.0);
	}
}

static void test_instant_switch_clicks(void **state)
{
	double worst = run_switch(*state, 0);

	printf("# instant switch: worst step %.1f x the bound\n", worst);
	assert_true(worst > 2.0);
}

static void test_fade_to_silence_and_back(void **state)
{
	struct fixture *f = *state;
	struct dsp_fir *fir = make_fir(f, f->a);

	dsp_fir_process(fir, f->x, f->y, SWITCH_AT);
	assert_int_equal(dsp_fir_set_ir(fir, NULL, 4 * BLOCK), 0);
	dsp_fir_process(fir, f->x + SWITCH_AT, f->y + SWITCH_AT, 8 * BLOCK);
	assert_false(dsp_fir_is_fading(fir));
	for (size_t n = SWITCH_AT + 4 * BLOCK; n < SWITCH_AT + 8 * BLOCK; n++)
		assert_true(f->y[n] == 0.0f);
	/* Fading in from silence: the history kept running, so B is warm at once. */
	assert_int_equal(dsp_fir_set_ir(fir, f->b, BLOCK), 0);
	dsp_fir_process(fir, f->x + SWITCH_AT + 8 * BLOCK, f->y, 2 * BLOCK);
	assert_memory_equal(f->y + BLOCK, f->yb + SWITCH_AT + 9 * BLOCK, BLOCK * sizeof(float));
	dsp_fir_free(fir);
}

/*
 * A matrix of three channels on the diagonal, and three single convolvers given the same IRs
 * at the same calls: at first channel 2 has no route (silence) and channel 1 runs in place;
 * then every channel swaps with a fade (A to B, A to B, silence to A), then a tail cut is
 * faded in; two blocks per call. The same bits: a route of a matrix is a convolver of its own.
 */
static void test_diagonal_matrix_equals_single(void **state)
{
	enum { CH = 3, CALL = 2 * BLOCK, SPAN = BLOCK * 60u };
	struct fixture *f = *state;
	struct dsp_fir_config cfg = {.block = BLOCK,
				     .max_taps = TAPS,
				     .cpu_flags = dsp_cpu_get_flags(),
				     .fft = f->fft,
				     .inputs = CH,
				     .outputs = CH};
	const struct dsp_fir_route first[] = {{0, 0, f->a}, {1, 1, f->a}};
	const struct dsp_fir_route second[] = {{0, 0, f->b}, {1, 1, f->b}, {2, 2, f->a}};
	struct dsp_fir *matrix = NULL, *one[CH];
	static float in[CH][SPAN], out_matrix[CH][SPAN], out_one[CH][SPAN];

	assert_int_equal(dsp_fir_new(&cfg, &matrix), 0);
	assert_int_equal(dsp_fir_set_ir(matrix, f->a, 0), -EINVAL); /* a matrix takes routes */
	assert_int_equal(dsp_fir_set_routes(matrix, first, 2, 0), 0);
	for (unsigned c = 0; c < CH; c++) {
		one[c] = make_fir(f, c == 2 ? NULL : f->a);
		for (size_t n = 0; n < SPAN; n++)
			in[c][n] = f->x[(n * (c + 1)) % FRAMES];
	}
	memcpy(out_matrix[1], in[1], sizeof(in[1])); /* channel 1 runs in place */
	memcpy(out_one[1], in[1], sizeof(in[1]));
	for (size_t at = 0; at < SPAN; at += CALL) {
		const float *ins[CH] = {in[0], out_matrix[1], in[2]};
		float *outs[CH] = {out_matrix[0], out_matrix[1], out_matrix[2]};

		if (at == 20 * BLOCK) {
			assert_int_equal(dsp_fir_set_routes(matrix, second, 3, 6 * BLOCK), 0);
			for (unsigned c = 0; c < CH; c++)
				assert_int_equal(dsp_fir_set_ir(one[c], second[c].ir, 6 * BLOCK),
						 0);
		}
		if (at == 40 * BLOCK) {
			assert_int_equal(dsp_fir_set_tail_db(matrix, -30.0f, 4 * BLOCK), 0);
			for (unsigned c = 0; c < CH; c++)
				assert_int_equal(dsp_fir_set_tail_db(one[c], -30.0f, 4 * BLOCK), 0);
		}
		for (unsigned c = 0; c < CH; c++)
			ins[c] += at, outs[c] += at;
		dsp_fir_process_matrix(matrix, ins, outs, CALL);
		dsp_fir_process(one[0], in[0] + at, out_one[0] + at, CALL);
		dsp_fir_process(one[1], out_one[1] + at, out_one[1] + at, CALL);
		dsp_fir_process(one[2], in[2] + at, out_one[2] + at, CALL);
	}
	assert_false(dsp_fir_is_fading(matrix));
	for (unsigned c = 0; c < CH; c++) {
		assert_memory_equal(out_matrix[c], out_one[c], sizeof(out_matrix[c]));
		dsp_fir_free(one[c]);
	}
	dsp_fir_free(matrix);
	/* the cut did cut: the output is no longer what the whole IR gives */
	assert_true(dsp_fir_ir_get_parts_for_tail(f->a, -30.0f) < dsp_fir_ir_get_partitions(f->a));
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct test_rng rng;

	if (!f || dsp_fft_cache_new(DSP_FFT_ESTIMATE, &f->fft) < 0)
		return -1;
	make_irs(f);
	test_rng_init(&rng, 7);
	/* A steady 200 Hz sine at 48 kHz plus a little noise: a smooth signal with a known slope.
	 */
	for (size_t n = 0; n < FRAMES; n++)
		f->x[n] = (float)(0.5 * sin(2.0 * M_PI * 200.0 * (double)n / 48000.0) +
				  1e-3 * test_rng_uniform(&rng));
	run_reference(f, f->a, f->ya);
	run_reference(f, f->b, f->yb);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	dsp_fir_ir_free(f->a);
	dsp_fir_ir_free(f->b);
	dsp_fft_cache_free(f->fft);
	free(f);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crossfade_has_no_step),
		cmocka_unit_test(test_instant_switch_clicks),
		cmocka_unit_test(test_fade_to_silence_and_back),
		cmocka_unit_test(test_diagonal_matrix_equals_single),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
