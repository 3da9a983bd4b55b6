/* SPDX-License-Identifier: MIT */
/*
 * Property: layouts are built and checked by the rules of fir-layout.h (every tail segment
 * starts within its budget, 2S - block taps in or later), and the schedule of a layout is a
 * pure function of the layout and the cost table: the same table gives the same schedule, the
 * older partitions of every segment are each summed exactly once per block, the transforms
 * come in order (forward no later than inverse), and on the flop model the phases stay within
 * 1.5× of their mean for the layouts the bench runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "common/el-macros.h"

#include "dsp/fir-layout.h"
#include "dsp/fir-schedule.h"
#include "dsp/fir.h"

static void test_growing_layout(void **state)
{
	struct dsp_fir_layout l;
	char text[128];
	unsigned extra[DSP_FIR_LAYOUT_MAX_SEGMENTS] = {2, 0, 1};

	(void)state;
	assert_int_equal(dsp_fir_layout_growing(64, 65536, 2, 1024, NULL, &l), 0);
	dsp_fir_layout_format(&l, text, sizeof(text));
	printf("# 65536 taps, block 64, step 2 up to 1024: %s\n", text);
	/* head 3 × 64 = 192 = 2·128 - 64; then 2 of each size: 192 + 256 = 448 = 2·256 - 64 ... */
	assert_string_equal(text, "64x3 128x2 256x2 512x2 1024x63");
	assert_int_equal(dsp_fir_layout_get_taps(&l), 65536 + 960);
	assert_int_equal(dsp_fir_layout_get_offset(&l, 4), 2 * 1024 - 64); /* just in budget */
	assert_int_equal(dsp_fir_layout_get_period(&l), 16);

	assert_int_equal(dsp_fir_layout_growing(64, 65536, 2, 1024, extra, &l), 0);
	dsp_fir_layout_format(&l, text, sizeof(text));
	/* a longer head lets the next segment reach its budget sooner */
	assert_string_equal(text, "64x5 128x1 256x3 512x2 1024x62");

	assert_int_equal(dsp_fir_layout_growing(256, 65536, 4, 4096, NULL, &l), 0);
	dsp_fir_layout_format(&l, text, sizeof(text));
	printf("# 65536 taps, block 256, step 4 up to 4096: %s\n", text);
	assert_string_equal(text, "256x7 1024x6 4096x15");

	/* step 8: two sizes, the head long enough (15 × 256 = 2·2048 - 256) for the 2048s */
	assert_int_equal(dsp_fir_layout_growing(256, 65536, 8, 2048, NULL, &l), 0);
	dsp_fir_layout_format(&l, text, sizeof(text));
	printf("# 65536 taps, block 256, step 8 up to 2048: %s\n", text);
	assert_string_equal(text, "256x15 2048x31");
	assert_int_equal(dsp_fir_layout_get_offset(&l, 1), 2 * 2048 - 256);
	assert_int_equal(dsp_fir_layout_get_period(&l), 8);

	/* an IR that ends before a segment could start needs none */
	assert_int_equal(dsp_fir_layout_growing(64, 150, 2, 1024, NULL, &l), 0);
	dsp_fir_layout_format(&l, text, sizeof(text));
	assert_string_equal(text, "64x3");
}

static void test_checks(void **state)
{
	struct dsp_fir_layout l, fit;

	(void)state;
	assert_int_equal(dsp_fir_layout_uniform(64, 1000, &l), 0);
	assert_int_equal(l.seg[0].parts, 16);
	assert_int_equal(dsp_fir_layout_uniform(48, 1000, &l), -EINVAL);
	assert_int_equal(dsp_fir_layout_uniform(64, 0, &l), -EINVAL);
	assert_int_equal(dsp_fir_layout_growing(64, 1000, 3, 1024, NULL, &l), -EINVAL);
	assert_int_equal(dsp_fir_layout_growing(64, 1000, 16, 1024, NULL, &l), -EINVAL);
	/* 32, 64, ... 2^19: fifteen sizes, more segments than a layout holds (ASan sees a write
	 * past them) */
	assert_int_equal(dsp_fir_layout_growing(32, DSP_FIR_MAX_TAPS, 2, 1u << 19, NULL, &l),
			 -EINVAL);
	assert_int_equal(dsp_fir_layout_growing(32, DSP_FIR_MAX_TAPS, 2, 1u << 16, NULL, &l), 0);
	assert_int_equal(l.count, DSP_FIR_LAYOUT_MAX_SEGMENTS);

	/* a segment that starts before its budget allows */
	memset(&l, 0, sizeof(l));
	l.block = 64;
	l.count = 2;
	l.seg[0] = (struct dsp_fir_segment){64, 2};
	l.seg[1] = (struct dsp_fir_segment){128, 4};
	assert_int_equal(dsp_fir_layout_check(&l), -EINVAL);
	l.seg[0].parts = 3;
	assert_int_equal(dsp_fir_layout_check(&l), 0);
	l.seg[1].size = 96;
	assert_int_equal(dsp_fir_layout_check(&l), -EINVAL);
	l.seg[1].size = 128;

	/* cut to an IR: the head and part of the segment */
	assert_int_equal(dsp_fir_layout_fit(&l, 200, &fit), 0);
	assert_int_equal(fit.count, 2);
	assert_int_equal(fit.seg[1].parts, 1);
	assert_true(dsp_fir_layout_contains(&l, &fit));
	assert_int_equal(dsp_fir_layout_fit(&l, 100, &fit), 0);
	assert_int_equal(fit.count, 1);
	assert_int_equal(fit.seg[0].parts, 2);
	assert_true(dsp_fir_layout_contains(&l, &fit)); /* a shorter head: the last segment */
	assert_int_equal(dsp_fir_layout_fit(&l, 192 + 4 * 128 + 1, &fit), -E2BIG);
}

/* Text and back; everything that is not a valid layout refused. */
static void test_parse(void **state)
{
	static const char *const bad[] = {"", "64", "64x", "x3", "64x3 128", "64x3 100x2",
					  "64x3 128x2x", "64x0", "64x2 128x4", "-64x3",
					  "64x3 128x2 ", "64x9999999999", "48x3", "64x3;128x2"};
	struct dsp_fir_layout l, again;
	char text[128];

	(void)state;
	assert_int_equal(dsp_fir_layout_growing(64, 65536, 2, 1024, NULL, &l), 0);
	dsp_fir_layout_format(&l, text, sizeof(text));
	assert_int_equal(dsp_fir_layout_parse(text, &again), 0);
	assert_memory_equal(&l, &again, sizeof(l));
	assert_int_equal(dsp_fir_layout_parse("64x3,128x2, 256x7", &again), 0);
	assert_int_equal(again.count, 3);
	assert_int_equal(again.block, 64);
	for (size_t i = 0; i < EL_N_ELEMENTS(bad); i++) {
		int r = dsp_fir_layout_parse(bad[i], &again);

		/* a trailing separator is harmless; the rest must fail */
		if (strcmp(bad[i], "64x3 128x2 ") == 0)
			assert_int_equal(r, 0);
		else if (r != -EINVAL)
			fail_msg("'%s' parsed", bad[i]);
	}
}

/*
 * Every older partition of every segment once per block; fwd <= inv; the same schedule twice.
 * Returns the model's flatness (worst phase / mean).
 */
static double check_schedule(const struct dsp_fir_layout *l, const struct dsp_fir_costs *c)
{
	struct dsp_fir_schedule *s = NULL, *again = NULL;
	char text[128];
	double flatness, mean, piece = 0.0;

	assert_int_equal(dsp_fir_schedule_new(l, c, &s), 0);
	assert_int_equal(dsp_fir_schedule_new(l, c, &again), 0);
	for (unsigned i = 1; i < l->count; i++) {
		const struct dsp_fir_steps *st = &s->seg[i];
		size_t next = 1;

		assert_int_equal(st->steps, l->seg[i].size / l->block);
		assert_true(st->fwd <= st->inv && st->inv < st->steps);
		/* the block's sum: from the step after the inverse round to the inverse */
		for (unsigned j = 1; j <= st->steps; j++) {
			unsigned k = (st->inv + j) % st->steps;

			assert_int_equal(st->first[k], next);
			next += st->count[k];
		}
		assert_int_equal(next, l->seg[i].parts);
		assert_int_equal(st->fwd, again->seg[i].fwd);
		assert_int_equal(st->inv, again->seg[i].inv);
		assert_memory_equal(st->count, again->seg[i].count, st->steps * sizeof(size_t));
	}
	assert_memory_equal(s->phase_cost, again->phase_cost, s->period * sizeof(double));
	flatness = dsp_fir_schedule_get_flatness(s);
	dsp_fir_layout_format(l, text, sizeof(text));
	printf("# %-44s period %3u, modelled worst phase / mean %.3f\n", text, s->period, flatness);
	/*
	 * The bound of greedy list scheduling: no phase exceeds the mean by more than the largest
	 * single piece of work (a transform, with partition 0's product for the inverse). So a
	 * layout is flat exactly when its transforms are small beside a call's mean work.
	 */
	for (unsigned i = 1; i < l->count; i++) {
		unsigned k = (unsigned)__builtin_ctz(l->seg[i].size);

		piece = fmax(piece, fmax(c->fwd[k], c->inv[k] + c->mac[k]));
	}
	mean = dsp_fir_schedule_get_mean(s);
	assert_true(flatness * mean <= mean + piece + 1e-9 * mean);
	dsp_fir_schedule_free(s);
	dsp_fir_schedule_free(again);
	return flatness;
}

static void test_schedules(void **state)
{
	static const unsigned blocks[] = {32, 64, 256, 1024};
	struct dsp_fir_costs model, flat;
	struct dsp_fir_layout l;

	(void)state;
	dsp_fir_costs_model(&model);
	/* every schedule within the bound; a few huge transforms cannot be spread (they are not
	 * split), which is why the search discards the layouts that are not flat */
	for (size_t b = 0; b < EL_N_ELEMENTS(blocks); b++) {
		for (unsigned shift = 2; shift <= 5; shift++) {
			unsigned top = blocks[b] << shift;

			assert_int_equal(dsp_fir_layout_growing(blocks[b], 65536, 2, top, NULL, &l),
					 0);
			check_schedule(&l, &model);
			assert_int_equal(
				dsp_fir_layout_growing(blocks[b], 1u << 20, 2, top, NULL, &l), 0);
			check_schedule(&l, &model);
		}
	}
	/* the layouts bench-fir finds best at 65,536 taps are flat by the model too */
	assert_int_equal(dsp_fir_layout_growing(64, 65536, 2, 1024, NULL, &l), 0);
	assert_true(check_schedule(&l, &model) <= 1.5);
	assert_int_equal(dsp_fir_layout_growing(256, 65536, 2, 2048, NULL, &l), 0);
	assert_true(check_schedule(&l, &model) <= 1.5);
	/* a fixed table of unit costs: the same answer on every machine */
	for (unsigned k = 0; k < DSP_FIR_COST_SIZES; k++) {
		flat.fwd[k] = flat.inv[k] = (double)(k + 1);
		flat.mac[k] = 1.0;
	}
	assert_int_equal(dsp_fir_layout_growing(64, 65536, 2, 1024, NULL, &l), 0);
	check_schedule(&l, &flat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growing_layout),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_schedules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
