/* SPDX-License-Identifier: MIT */
/*
 * Property: the layout search is deterministic on a fixed cost table and finds what the table
 * says is cheapest among flat layouts, stopping early: with the flop model as the table, a
 * 65,536-tap IR at block 64 gets a non-uniform layout several times cheaper than uniform, in
 * fewer candidates than an exhaustive walk; a table in which long partitions cost far more than
 * they save keeps it uniform; a candidate that is not flat is never chosen. The real measuring
 * function times convolvers and reports a cost and a flatness it can stand behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "common/el-macros.h"
#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/fir-layout.h"
#include "dsp/fir-schedule.h"
#include "dsp/fir-search.h"
#include "tests/unit/test-fft-fixture.h"

struct table {
	struct dsp_fir_costs costs;
	unsigned calls;
	double flat_limit_size; /* layouts with partitions of this size or more are "not flat" */
};

/* A cost function from a fixed table: the schedule's modelled mean and flatness. */
static int table_cost(void *ctx, const struct dsp_fir_layout *l, double *ret_cost,
		      double *ret_flatness)
{
	struct table *t = ctx;
	struct dsp_fir_schedule *s = NULL;
	int r = dsp_fir_schedule_new(l, &t->costs, &s);

	if (r < 0)
		return r;
	t->calls++;
	*ret_cost = dsp_fir_schedule_get_mean(s);
	*ret_flatness = dsp_fir_schedule_get_flatness(s);
	if (t->flat_limit_size && l->seg[l->count - 1].size >= t->flat_limit_size)
		*ret_flatness = 9.0;
	dsp_fir_schedule_free(s);
	return 0;
}

static struct dsp_fir_search_result search(struct table *t, unsigned block, size_t taps)
{
	struct dsp_fir_search s = {.block = block,
				   .taps = taps,
				   .max_size = 16384,
				   .patience = 2,
				   .max_flatness = 1.5,
				   .cost = table_cost,
				   .cost_ctx = t};
	struct dsp_fir_search_result r;
	char text[160];

	t->calls = 0;
	assert_int_equal(dsp_fir_search_run(&s, &r), 0);
	assert_int_equal(r.tried, t->calls);
	dsp_fir_layout_format(&r.layout, text, sizeof(text));
	printf("# block %u, %zu taps: %s, cost %.0f, flatness %.2f, %u candidates\n", block, taps,
	       text, r.cost, r.flatness, r.tried);
	return r;
}

static void test_model_table(void **state)
{
	struct table t = {0};
	struct dsp_fir_search_result a, b;
	struct dsp_fir_layout uniform;
	struct dsp_fir_schedule *s = NULL;

	(void)state;
	dsp_fir_costs_model(&t.costs);
	a = search(&t, 64, 65536);
	b = search(&t, 64, 65536);
	assert_memory_equal(&a, &b, sizeof(a)); /* same table, same answer */
	assert_true(a.layout.count > 1);
	assert_true(a.flatness <= 1.5);
	assert_int_equal(dsp_fir_layout_uniform(64, 65536, &uniform), 0);
	assert_int_equal(dsp_fir_schedule_new(&uniform, &t.costs, &s), 0);
	printf("# uniform cost %.0f: %.1fx the layout found\n", dsp_fir_schedule_get_mean(s),
	       dsp_fir_schedule_get_mean(s) / a.cost);
	assert_true(dsp_fir_schedule_get_mean(s) > 4.0 * a.cost);
	dsp_fir_schedule_free(s);
	/* early termination: far fewer than every size × step × extra */
	assert_true(a.tried < 40);

	a = search(&t, 256, 65536);
	assert_true(a.layout.count > 1 && a.flatness <= 1.5);
	a = search(&t, 64, 1u << 20);
	assert_true(a.layout.count > 1 && a.flatness <= 1.5);
}

static void test_not_flat_never_chosen(void **state)
{
	struct table t = {0};
	struct dsp_fir_search_result a;

	(void)state;
	dsp_fir_costs_model(&t.costs);
	t.flat_limit_size = 512;
	a = search(&t, 64, 65536);
	assert_true(a.layout.seg[a.layout.count - 1].size < 512);
}

static void test_uniform_when_cheapest(void **state)
{
	struct table t = {0};
	struct dsp_fir_search_result a;

	(void)state;
	for (unsigned k = 0; k < DSP_FIR_COST_SIZES; k++) {
		/* transforms ruinous beyond the block's size: nothing but the head pays */
		t.costs.fwd[k] = t.costs.inv[k] = k > 6 ? 1e9 : 1.0;
		t.costs.mac[k] = 1.0;
	}
	a = search(&t, 64, 65536);
	assert_int_equal(a.layout.count, 1);
}

static void test_measure(void **state)
{
	struct dsp_fir_measure m = {
		.fft = *state, .cpu_flags = dsp_cpu_get_flags(), .channels = 2, .periods = 8};
	struct dsp_fir_layout l;
	double cost = 0, flatness = 0;

	assert_int_equal(dsp_fir_layout_growing(64, 20000, 2, 512, NULL, &l), 0);
	assert_int_equal(dsp_fir_search_measure(&m, &l, &cost, &flatness), 0);
	printf("# measured 64x3..512: %.0f ns per call, flatness %.2f\n", cost, flatness);
	assert_true(cost > 0.0);
	assert_true(flatness >= 1.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_table),
		cmocka_unit_test(test_not_flat_never_chosen),
		cmocka_unit_test(test_uniform_when_cheapest),
		cmocka_unit_test(test_measure),
	};

	return cmocka_run_group_tests(tests, test_fft_setup, test_fft_teardown);
}
