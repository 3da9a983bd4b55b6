/* SPDX-License-Identifier: MIT */
/*
 * Property: a convolver with a non-uniform layout equals direct-form convolution computed in
 * double precision, to better than -120 dB, for growing layouts of step 2, 4 and 8 up to
 * partitions of 64 × the block, layouts with extra partitions (segments that start later than
 * they must, as the measured search picks them), IRs from a tap to 2^21 taps, IRs shorter than
 * the layout, and input fed in chunks of several blocks; and it keeps the convolver's promises
 * across its tail segments:
 * - a crossfade to another IR ends with exactly the new filter's output (against a convolver
 *   that had the new IR from the start), and the output never stops during the fade;
 * - after dsp_fir_reset() the output is bit-identical to a fresh convolver's on the same input,
 *   with segments that start late too;
 * - a tail cut with its fade ends at the cut IR's output (the partitions kept, to -120 dB);
 *   segments it leaves out whole go dormant (no transform), and when the cut is lifted they
 *   wake with history from then on: once the IR's length has passed, the output is the full
 *   filter's, bit for bit;
 * - history kept without output (dsp_fir_keep_history, a pass-through's way) is the history a
 *   convolver that ran all along has: an IR set afterwards gives its output bit for bit (for
 *   the long partitions once their first whole block is summed), for a one-partition
 *   convolver (which then only copies its input) too.
 *
 * The reference is the textbook sum y[n] = Σ h[k] x[n-k] in double, evaluated at a spread of
 * output positions for long IRs (every segment active, block edges included).
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
#include "dsp/fir-layout.h"
#include "dsp/fir.h"
#include "dsp/mem.h"
#include "tests/unit/test-fft-fixture.h"
#include "tests/unit/fir-reference.h"
#include "tests/unit/test-util.h"

#define LIMIT_DB            (-120.0)
#define FULL_REFERENCE_MACS 40000000.0
#define SAMPLED_POSITIONS   1500

/* A convolver of layout l with ir set; both freed by the caller. */
static struct dsp_fir *make_fir(struct dsp_fft_cache *fft, const struct dsp_fir_layout *l,
				const float *h, size_t ntaps, struct dsp_fir_ir **ret_ir)
{
	struct dsp_fir_config cfg = {.block = l->block,
				     .max_taps = dsp_fir_layout_get_taps(l),
				     .cpu_flags = dsp_cpu_get_flags(),
				     .fft = fft,
				     .layout = l,
				     .costs = NULL};
	struct dsp_fir *fir = NULL;

	assert_int_equal(dsp_fir_ir_new_layout(fft, l, h, ntaps, NULL, ret_ir), 0);
	assert_int_equal(dsp_fir_new(&cfg, &fir), 0);
	assert_int_equal(dsp_fir_set_ir(fir, *ret_ir, 0), 0);
	return fir;
}

/* Feeds x through fir in chunks of one and three blocks, as hosts do. */
static void run(struct dsp_fir *fir, unsigned block, const float *x, float *y, size_t frames)
{
	for (size_t done = 0; done < frames;) {
		size_t n = EL_MIN(frames - done,
				  (done / block) % 2 ? (size_t)block : 3 * (size_t)block);
		dsp_fir_process(fir, x + done, y + done, n);
		done += n;
	}
}

/* Error of y against h * x in dB, over all or a spread of positions from `from` on. */
static double error_db(const float *h, size_t ntaps, const float *x, const float *y, size_t from,
		       size_t frames)
{
	size_t span = frames - from;
	size_t npos = (double)ntaps * (double)span > FULL_REFERENCE_MACS ? SAMPLED_POSITIONS : span;
	size_t stride = span / npos;
	double *ref = malloc(npos * sizeof(double));
	float *got = malloc(npos * sizeof(float));
	double db;

	assert_non_null(ref);
	assert_non_null(got);
	for (size_t i = 0; i < npos; i++) {
		size_t n = from + (npos == span ? i : (i * (stride | 1)) % span);

		ref[i] = test_fir_reference_at(h, ntaps, x, n);
		got[i] = y[n];
	}
	db = test_error_db(ref, got, npos);
	free(ref);
	free(got);
	return db;
}

/* The growing layout of step up to max_size for layout_taps, with extra partitions (NULL: none). */
static void check_layout(struct dsp_fft_cache *fft, unsigned block, size_t ntaps, unsigned step,
			 unsigned max_size, size_t layout_taps, const unsigned *extra)
{
	size_t frames = EL_ALIGN_UP(ntaps + 3 * (size_t)max_size + 4 * (size_t)block, block);
	float *h = malloc(ntaps * sizeof(float)), *x = malloc(frames * sizeof(float));
	float *y = dsp_mem_alloc(frames * sizeof(float));
	struct dsp_fir_layout l;
	struct dsp_fir_ir *ir = NULL;
	struct dsp_fir *fir;
	struct test_rng rng;
	char desc[128];
	double db;

	assert_non_null(h);
	assert_non_null(x);
	assert_non_null(y);
	test_rng_init(&rng, ntaps * 7919 + block + step);
	test_fir_make_room_ir(&rng, h, ntaps);
	test_fill_noise(&rng, x, frames, 0.5);
	assert_int_equal(dsp_fir_layout_growing(block, layout_taps, step, max_size, extra, &l), 0);
	fir = make_fir(fft, &l, h, ntaps, &ir);
	run(fir, block, x, y, frames);
	db = error_db(h, ntaps, x, y, 0, frames);
	dsp_fir_layout_format(&l, desc, sizeof(desc));
	printf("# block %4u taps %7zu layout %-40s error %7.1f dB\n", block, ntaps, desc, db);
	assert_true(db < LIMIT_DB);
	dsp_fir_free(fir);
	dsp_fir_ir_free(ir);
	free(h);
	free(x);
	dsp_mem_free(y);
}

static void check_case(struct dsp_fft_cache *fft, unsigned block, size_t ntaps, unsigned step,
		       unsigned max_size, size_t layout_taps)
{
	check_layout(fft, block, ntaps, step, max_size, layout_taps, NULL);
}

static void test_layouts(void **state)
{
	static const unsigned blocks[] = {32, 64, 256};
	static const size_t lens[] = {1, 100, 1000, 4099, 20000, 65536};

	for (size_t b = 0; b < EL_N_ELEMENTS(blocks); b++)
		for (size_t i = 0; i < EL_N_ELEMENTS(lens); i++) {
			check_case(*state, blocks[b], lens[i], 2, 16 * blocks[b], lens[i]);
			check_case(*state, blocks[b], lens[i], 4, 64 * blocks[b], lens[i]);
			check_case(*state, blocks[b], lens[i], 8, 64 * blocks[b], lens[i]);
		}
}

/*
 * Extra partitions delay the segments after them past their earliest start: each of those
 * takes its input that much later (64x8 256x6 1024x62 is what a daemon's search chose here; it
 * was 64 samples early before that delay existed).
 */
static void test_layouts_with_extras(void **state)
{
	static const unsigned one[DSP_FIR_LAYOUT_MAX_SEGMENTS] = {1};
	static const unsigned many[DSP_FIR_LAYOUT_MAX_SEGMENTS] = {64, 3, 1};
	static const unsigned inner[DSP_FIR_LAYOUT_MAX_SEGMENTS] = {0, 2, 0, 5};

	check_layout(*state, 64, 65536, 4, 1024, 65536, one);
	check_layout(*state, 64, 65536, 4, 1024, 65536, many);
	check_layout(*state, 64, 65536, 2, 1024, 65536, inner);
	check_layout(*state, 256, 65536, 4, 4096, 65536, one);
	check_layout(*state, 256, 65536, 8, 2048, 65536, one); /* 256x16 2048x30 */
	check_layout(*state, 32, 20000, 2, 512, 20000, many);
	check_layout(*state, 32, 3000, 2, 512, 20000, inner); /* an IR shorter than the layout */
}

/* The IR shorter than the layout: segments it does not reach stay silent. */
static void test_short_ir_in_long_layout(void **state)
{
	check_case(*state, 64, 3000, 2, 1024, 65536);
	check_case(*state, 64, 300, 2, 1024, 65536);
}

static void test_two_million_taps(void **state)
{
	check_case(*state, 64, 1u << 21, 2, 1024, 1u << 21);
}

/* After a crossfade the output is the new IR's, exactly as a convolver that had it all along. */
static void test_crossfade_ends_at_new_filter(void **state)
{
	const unsigned block = 64;
	const size_t ntaps = 12000, frames = 64 * 400;
	float *a = malloc(ntaps * sizeof(float)), *b = malloc(ntaps * sizeof(float));
	float *x = malloc(frames * sizeof(float)), *y = dsp_mem_alloc(frames * sizeof(float));
	float *yref = dsp_mem_alloc(frames * sizeof(float));
	struct dsp_fir_ir *ir_a = NULL, *ir_b = NULL, *ir_b2 = NULL;
	struct dsp_fir *fir, *ref;
	struct dsp_fir_layout l;
	struct test_rng rng;
	size_t swap_at = 64 * 37, fade_end = 0;
	double quiet = 0.0;

	test_rng_init(&rng, 5);
	test_fir_make_room_ir(&rng, a, ntaps);
	test_fir_make_room_ir(&rng, b, ntaps);
	test_fill_noise(&rng, x, frames, 0.5);
	assert_int_equal(dsp_fir_layout_growing(block, ntaps, 2, 1024, NULL, &l), 0);
	fir = make_fir(*state, &l, a, ntaps, &ir_a);
	ref = make_fir(*state, &l, b, ntaps, &ir_b2);
	assert_int_equal(dsp_fir_ir_new_layout(*state, &l, b, ntaps, NULL, &ir_b), 0);
	for (size_t done = 0; done < frames; done += block) {
		if (done == swap_at)
			assert_int_equal(dsp_fir_set_ir(fir, ir_b, 2048), 0);
		dsp_fir_process(fir, x + done, y + done, block);
		dsp_fir_process(ref, x + done, yref + done, block);
		if (done >= swap_at && !fade_end && !dsp_fir_is_fading(fir))
			fade_end = done + block;
	}
	assert_true(fade_end > swap_at + 2048);
	/* the wait for the segments is bounded by three windows of the longest partition */
	assert_true(fade_end <= swap_at + 2048 + 3 * 1024 + block);
	for (size_t i = fade_end; i < frames; i++)
		assert_true(y[i] == yref[i]);
	for (size_t i = swap_at; i < fade_end; i++)
		quiet = EL_MAX(quiet, fabs((double)y[i]));
	assert_true(quiet > 0.01); /* the output went on through the fade */
	printf("# crossfade: swap at %zu, fade over at %zu, then bit-identical to the new filter\n",
	       swap_at, fade_end);
	dsp_fir_free(fir);
	dsp_fir_free(ref);
	dsp_fir_ir_free(ir_a);
	dsp_fir_ir_free(ir_b);
	dsp_fir_ir_free(ir_b2);
	free(a);
	free(b);
	free(x);
	dsp_mem_free(y);
	dsp_mem_free(yref);
}

/* After a reset, the output is a fresh convolver's, bit for bit, at every reset phase. */
static void test_reset_equals_fresh(void **state)
{
	const unsigned block = 64;
	const size_t ntaps = 9000, frames = 64 * 300;
	float *h = malloc(ntaps * sizeof(float)), *x = malloc(frames * sizeof(float));
	float *y = dsp_mem_alloc(frames * sizeof(float)),
	      *yref = dsp_mem_alloc(frames * sizeof(float));
	struct dsp_fir_ir *ir = NULL, *ir2 = NULL;
	struct dsp_fir_layout l;
	struct test_rng rng;

	test_rng_init(&rng, 9);
	test_fir_make_room_ir(&rng, h, ntaps);
	for (unsigned before = 1; before <= 21; before += 4) { /* reset at several phases */
		/* every other phase, segments that start late (extra partitions before them) */
		static const unsigned extra[DSP_FIR_LAYOUT_MAX_SEGMENTS] = {3, 1};

		assert_int_equal(dsp_fir_layout_growing(block, ntaps, 2, 512,
							before % 8 == 1 ? NULL : extra, &l),
				 0);
		struct dsp_fir *fir = make_fir(*state, &l, h, ntaps, &ir);
		struct dsp_fir *fresh = make_fir(*state, &l, h, ntaps, &ir2);

		test_fill_noise(&rng, x, frames, 0.8);
		for (unsigned i = 0; i < before + 40; i++) /* loud history, then the reset */
			dsp_fir_process(fir, x + (i % 100) * block, y, block);
		dsp_fir_reset(fir);
		test_fill_noise(&rng, x, frames, 0.5);
		run(fir, block, x, y, frames);
		run(fresh, block, x, yref, frames);
		assert_memory_equal(y, yref, frames * sizeof(float));
		dsp_fir_free(fir);
		dsp_fir_free(fresh);
		ir = dsp_fir_ir_free(ir);
		ir2 = dsp_fir_ir_free(ir2);
	}
	free(h);
	free(x);
	dsp_mem_free(y);
	dsp_mem_free(yref);
}

/* A tail cut fades to the output of the partitions it keeps. */
static void test_tail_cut(void **state)
{
	const unsigned block = 64;
	const size_t ntaps = 30000, frames = 64 * 1200;
	float *h = malloc(ntaps * sizeof(float)), *x = malloc(frames * sizeof(float));
	float *y = dsp_mem_alloc(frames * sizeof(float));
	struct dsp_fir_ir *ir = NULL;
	struct dsp_fir_layout l;
	struct dsp_fir *fir;
	struct test_rng rng;
	static const unsigned late[DSP_FIR_LAYOUT_MAX_SEGMENTS] = {2, 0, 1};
	size_t parts, cut_taps = 0, settle = 64 * 500;
	double db;

	test_rng_init(&rng, 13);
	test_fir_make_room_ir(&rng, h, ntaps);
	test_fill_noise(&rng, x, frames, 0.5);
	/* with segments that start late: the cut is in partitions, whatever their delay */
	assert_int_equal(dsp_fir_layout_growing(block, ntaps, 2, 1024, late, &l), 0);
	fir = make_fir(*state, &l, h, ntaps, &ir);
	assert_int_equal(dsp_fir_set_tail_db(fir, -30.0f, 4096), 0);
	run(fir, block, x, y, frames);
	parts = dsp_fir_ir_get_parts_for_tail(ir, -30.0f);
	assert_true(parts > 1 && parts < dsp_fir_ir_get_partitions(ir));
	/* the taps of the partitions kept, segment by segment */
	for (unsigned i = 0, left = (unsigned)parts; i < l.count && left; i++) {
		size_t n = EL_MIN((size_t)left, l.seg[i].parts);

		cut_taps += n * l.seg[i].size;
		left -= (unsigned)n;
	}
	cut_taps = EL_MIN(cut_taps, ntaps);
	/* the cut IR's output, after the fade and every segment's last old block */
	db = error_db(h, cut_taps, x, y, settle, frames);
	printf("# tail cut at -30 dB: %zu of %zu partitions, %zu taps, error %.1f dB\n", parts,
	       dsp_fir_ir_get_partitions(ir), cut_taps, db);
	assert_true(db < LIMIT_DB);
	dsp_fir_free(fir);
	dsp_fir_ir_free(ir);
	free(h);
	free(x);
	dsp_mem_free(y);
}

/* keep_history() for `keep` calls, then an IR: the same output as a convolver that had it. */
static void check_keep_history(struct dsp_fft_cache *fft, const struct dsp_fir_layout *l,
			       size_t ntaps)
{
	const unsigned block = l->block;
	const size_t frames = 64 * (size_t)block, keep = 21 * (size_t)block;
	/* the long partitions' first whole block: three of the longest at most */
	const size_t settle = 3 * (size_t)l->seg[l->count - 1].size;
	float *h = malloc(ntaps * sizeof(float)), *x = malloc(frames * sizeof(float));
	float *y = dsp_mem_alloc(frames * sizeof(float)),
	      *yref = dsp_mem_alloc(frames * sizeof(float));
	struct dsp_fir_ir *ir = NULL, *ir2 = NULL;
	struct dsp_fir *fir, *ref;
	struct test_rng rng;

	test_rng_init(&rng, 17);
	test_fir_make_room_ir(&rng, h, ntaps);
	test_fill_noise(&rng, x, frames, 0.5);
	fir = make_fir(fft, l, h, ntaps, &ir);
	ref = make_fir(fft, l, h, ntaps, &ir2);
	assert_int_equal(dsp_fir_set_ir(fir, NULL, 0), 0);
	dsp_fir_keep_history(fir, x, keep);
	assert_int_equal(dsp_fir_set_ir(fir, ir, 0), 0);
	run(fir, block, x + keep, y + keep, frames - keep);
	run(ref, block, x, yref, frames);
	assert_true(keep + settle < frames);
	if (l->count == 1)
		assert_memory_equal(y + keep, yref + keep, (frames - keep) * sizeof(float));
	else
		assert_memory_equal(y + keep + settle, yref + keep + settle,
				    (frames - keep - settle) * sizeof(float));
	dsp_fir_free(fir);
	dsp_fir_free(ref);
	dsp_fir_ir_free(ir);
	dsp_fir_ir_free(ir2);
	free(h);
	free(x);
	dsp_mem_free(y);
	dsp_mem_free(yref);
}

/* A cut that leaves whole segments out puts them to sleep; lifted, they wake and catch up. */
static void test_dormant_segments(void **state)
{
	const unsigned block = 64;
	const size_t ntaps = 30000, frames = 64 * 1600, lift = 64 * 600;
	float *h = malloc(ntaps * sizeof(float)), *x = malloc(frames * sizeof(float));
	float *y = dsp_mem_alloc(frames * sizeof(float)),
	      *yref = dsp_mem_alloc(frames * sizeof(float));
	struct dsp_fir_ir *ir = NULL, *ir2 = NULL;
	struct dsp_fir_layout l;
	struct dsp_fir *fir, *ref;
	struct test_rng rng;
	size_t settle = lift + 4096 + ntaps + 3 * 1024 + 64;
	unsigned dormant = 0;

	test_rng_init(&rng, 19);
	test_fir_make_room_ir(&rng, h, ntaps);
	test_fill_noise(&rng, x, frames, 0.5);
	assert_int_equal(dsp_fir_layout_growing(block, ntaps, 2, 1024, NULL, &l), 0);
	fir = make_fir(*state, &l, h, ntaps, &ir);
	ref = make_fir(*state, &l, h, ntaps, &ir2);
	assert_int_equal(dsp_fir_set_tail_db(fir, -3.0f, 0), 0);
	for (size_t done = 0; done < frames; done += block) {
		if (done == lift) {
			dormant = dsp_fir_get_dormant(fir);
			assert_int_equal(dsp_fir_set_tail_db(fir, 0.0f, 4096), 0);
		}
		dsp_fir_process(fir, x + done, y + done, block);
		dsp_fir_process(ref, x + done, yref + done, block);
	}
	printf("# cut at -3 dB: %zu of %zu partitions, %u of %u tail segments dormant; after "
	       "the lift, %u\n",
	       dsp_fir_ir_get_parts_for_tail(ir, -3.0f), dsp_fir_ir_get_partitions(ir), dormant,
	       l.count - 1, dsp_fir_get_dormant(fir));
	assert_true(dormant >= 1);
	assert_int_equal(dsp_fir_get_dormant(fir), 0);
	assert_true(settle < frames);
	assert_memory_equal(y + settle, yref + settle, (frames - settle) * sizeof(float));
	dsp_fir_free(fir);
	dsp_fir_free(ref);
	dsp_fir_ir_free(ir);
	dsp_fir_ir_free(ir2);
	free(h);
	free(x);
	dsp_mem_free(y);
	dsp_mem_free(yref);
}

static void test_keep_history(void **state)
{
	struct dsp_fir_layout l;

	assert_int_equal(dsp_fir_layout_uniform(64, 64, &l), 0); /* one partition: copies only */
	check_keep_history(*state, &l, 50);
	assert_int_equal(dsp_fir_layout_uniform(64, 2000, &l), 0);
	check_keep_history(*state, &l, 2000);
	assert_int_equal(dsp_fir_layout_growing(64, 3000, 2, 512, NULL, &l), 0);
	check_keep_history(*state, &l, 3000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_layouts_with_extras),
		cmocka_unit_test(test_short_ir_in_long_layout),
		cmocka_unit_test(test_two_million_taps),
		cmocka_unit_test(test_crossfade_ends_at_new_filter),
		cmocka_unit_test(test_reset_equals_fresh),
		cmocka_unit_test(test_tail_cut),
		cmocka_unit_test(test_keep_history),
		cmocka_unit_test(test_dormant_segments),
	};

	return cmocka_run_group_tests(tests, test_fft_setup, test_fft_teardown);
}
