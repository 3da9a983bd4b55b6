/* SPDX-License-Identifier: MIT */
/*
 * Property: the layout search is deterministic on a fixed cost table and finds what the table
 * says is cheapest among flat layouts, stopping early: with the flop model as the table, a
 * 65,536-tap IR at block 64 gets a non-uniform layout several times cheaper than uniform, in
 * fewer candidates than an exhaustive walk; a table in which long partitions cost far more than
 * they save keeps it uniform; a candidate that is not flat is never chosen. The real measuring
 * function times convolvers and reports a cost and a flatness it can stand behind. Costing
 * candidates on several threads changes how many are costed, never which layout is chosen, and
 * measuring on several threads at once is safe (this test also runs under ThreadSanitizer).
 */
#include <stdarg.h>
#include <stdatomic.h>
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
	atomic_uint calls; /* the search may cost candidates on several threads */
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
	atomic_fetch_add(&t->calls, 1);
	*ret_cost = dsp_fir_schedule_get_mean(s);
	*ret_flatness = dsp_fir_schedule_get_flatness(s);
	if (t->flat_limit_size && l->seg[l->count - 1].size >= t->flat_limit_size)
		*ret_flatness = 9.0;
	dsp_fir_schedule_free(s);
	return 0;
}

static struct dsp_fir_search_result search_on(struct table *t, unsigned block, size_t taps,
					      unsigned threads)
{
	struct dsp_fir_search s = {.block = block,
				   .taps = taps,
				   .max_size = 16384,
				   .patience = 2,
				   .max_flatness = 1.5,
				   .cost = table_cost,
				   .cost_ctx = t,
				   .threads = threads};
	struct dsp_fir_search_result r;
	char text[160];

	atomic_store(&t->calls, 0);
	assert_int_equal(dsp_fir_search_run(&s, &r), 0);
	assert_int_equal(r.costed, atomic_load(&t->calls));
	assert_true(r.tried <= r.costed);
	if (threads <= 1)
		assert_int_equal(r.tried, r.costed); /* one at a time: nothing costed in vain */
	dsp_fir_layout_format(&r.layout, text, sizeof(text));
	printf("# block %u, %zu taps, %u thread(s): %s, cost %.0f, flatness %.2f, %u candidates "
	       "(%u costed)\n",
	       block, taps, threads, text, r.cost, r.flatness, r.tried, r.costed);
	return r;
}

static struct dsp_fir_search_result search(struct table *t, unsigned block, size_t taps)
{
	return search_on(t, block, taps, 1);
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

/* The answer of a search on several threads is the answer on one, field for field. */
static void check_threads_agree(struct table *t, unsigned block, size_t taps)
{
	struct dsp_fir_search_result one = search_on(t, block, taps, 1);
	unsigned threads[] = {2, 3, 4, 7, 64};

	for (size_t k = 0; k < EL_N_ELEMENTS(threads); k++) {
		struct dsp_fir_search_result many = search_on(t, block, taps, threads[k]);

		assert_memory_equal(&many.layout, &one.layout, sizeof(one.layout));
		assert_true(many.cost == one.cost && many.flatness == one.flatness);
		assert_int_equal(many.tried, one.tried);
	}
}

static void test_threads_same_answer(void **state)
{
	struct table t = {0};

	(void)state;
	dsp_fir_costs_model(&t.costs);
	check_threads_agree(&t, 64, 65536);
	check_threads_agree(&t, 256, 65536);
	check_threads_agree(&t, 32, 1u << 20);
	check_threads_agree(&t, 1024, 200000);
	t.flat_limit_size = 512; /* the round-1 and round-2 stops fall elsewhere */
	check_threads_agree(&t, 64, 65536);
	check_threads_agree(&t, 128, 30000);
}

static void test_measure_on_threads(void **state)
{
	struct dsp_fir_measure m = {
		.fft = *state, .cpu_flags = dsp_cpu_get_flags(), .channels = 1, .periods = 8};
	struct dsp_fir_search s = {.block = 64,
				   .taps = 8192,
				   .max_size = 1024,
				   .patience = 2,
				   .max_flatness = 1.5,
				   .cost = dsp_fir_search_measure,
				   .cost_ctx = &m,
				   .threads = 2};
	struct dsp_fir_search_result r;
	char text[160];

	(void)state;
	/* building rigs plans FFTs in the shared cache: the measure takes turns at that */
	assert_int_equal(dsp_fir_search_run(&s, &r), 0);
	dsp_fir_layout_format(&r.layout, text, sizeof(text));
	printf("# measured on 2 threads: %s, %.0f ns per call, flatness %.2f, %u tried, %u costed\n",
	       text, r.cost, r.flatness, r.tried, r.costed);
	assert_true(r.cost > 0.0 && r.flatness <= 1.5);
	assert_true(r.tried >= 1 && r.costed >= r.tried);
	assert_int_equal(dsp_fir_layout_get_taps(&r.layout) >= 8192, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_table),
		cmocka_unit_test(test_not_flat_never_chosen),
		cmocka_unit_test(test_uniform_when_cheapest),
		cmocka_unit_test(test_measure),
		cmocka_unit_test(test_threads_same_answer),
		cmocka_unit_test(test_measure_on_threads),
	};

	return cmocka_run_group_tests(tests, test_fft_setup, test_fft_teardown);
}
