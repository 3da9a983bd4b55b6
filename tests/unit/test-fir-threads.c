/* SPDX-License-Identifier: MIT */
/*
 * Property: a convolver whose channels run on a render's threads (dsp_fir_config.par, a
 * daemon/par-pool.h runner) gives the same output, bit for bit, as one that runs them on the
 * caller's thread alone, call after call, through everything that carries state from one call to
 * the next: a matrix of routes with fan-in and fan-out on a non-uniform layout whose segments
 * start late, a crossfade to routes of another shape, a tail cut and its lifting (both faded,
 * the segment going dormant and waking), a reset, and history kept without output. And the
 * runner itself runs every task of every batch exactly once, on a lane no other task of the
 * batch holds at that time, over thousands of batches of 0 to 9 tasks — where a thread that
 * wakes late for one batch must not take tasks of the next. In the TSan build (suite
 * 'threads') every handoff here is checked for races.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/el-macros.h"
#include "common/el-par.h"
#include "daemon/par-pool.h"
#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/fir-inspect.h"
#include "dsp/fir-layout.h"
#include "dsp/fir.h"
#include "tests/unit/fir-reference.h"
#include "tests/unit/test-fft-fixture.h"
#include "tests/unit/test-util.h"

#define BLOCK   64u
#define TAPS    6000u
#define INPUTS  2u
#define OUTPUTS 3u
#define N_IR    3u
#define CALLS   400u
#define THREADS 2u /* beside the caller: three lanes for two inputs, three outputs */

static float x[INPUTS][CALLS * BLOCK];
static float h[N_IR][TAPS];

/* ---- the runner ---- */

#define MAX_TASKS 9u

struct batch_check {
	atomic_uint ran[MAX_TASKS];
	atomic_uint on_lane[THREADS + 1]; /* tasks of this batch running on each lane now */
	atomic_uint lane_clash;
	uint64_t batch;
	uint64_t seen[MAX_TASKS]; /* each task's batch number, as its task saw it */
};

static void check_task(void *arg, unsigned task, unsigned lane)
{
	struct batch_check *c = arg;

	if (lane > THREADS || atomic_fetch_add(&c->on_lane[lane], 1) != 0)
		atomic_fetch_add(&c->lane_clash, 1);
	c->seen[task] = c->batch; /* a plain write: the runner must order it before its return */
	atomic_fetch_add(&c->ran[task], 1);
	if (lane <= THREADS)
		atomic_fetch_sub(&c->on_lane[lane], 1);
}

static void test_runner_runs_each_task_once(void **state)
{
	struct par_pool *pool = NULL;
	const struct el_par *par;
	struct batch_check *c = calloc(1, sizeof(*c));
	struct test_rng rng;

	(void)state;
	assert_non_null(c);
	test_rng_init(&rng, 11);
	assert_int_equal(par_pool_new(THREADS, &pool), 0);
	par = par_pool_get(pool);
	assert_int_equal(el_par_lanes(par), THREADS + 1);
	for (unsigned b = 1; b <= 5000; b++) {
		unsigned tasks = (unsigned)(test_rng_next(&rng) % (MAX_TASKS + 1)); /* 0 .. 9 */

		for (unsigned t = 0; t < MAX_TASKS; t++)
			atomic_store(&c->ran[t], 0);
		c->batch = b;
		el_par_run(par, tasks, check_task, c);
		for (unsigned t = 0; t < MAX_TASKS; t++) {
			if (atomic_load(&c->ran[t]) != (t < tasks ? 1u : 0u) ||
			    (t < tasks && c->seen[t] != b)) {
				printf("# batch %u of %u tasks: task %u ran %u times (batch seen "
				       "%llu)\n",
				       b, tasks, t, atomic_load(&c->ran[t]),
				       (unsigned long long)c->seen[t]);
				fail();
			}
		}
	}
	assert_int_equal(atomic_load(&c->lane_clash), 0);
	printf("# 5000 batches of 0-9 tasks on %u lanes: every task once, no lane shared\n",
	       THREADS + 1);
	par_pool_free(pool);
	free(c);
}

/* ---- the convolver ---- */

struct rig {
	struct dsp_fir_layout layout;
	struct dsp_fir_ir *ir[N_IR];
	struct par_pool *pool;
	struct dsp_fir *serial, *shared;
	float y[2][OUTPUTS][BLOCK * 3]; /* [serial, shared] */
};

static struct dsp_fir *make_matrix(struct dsp_fft_cache *fft, const struct rig *g,
				   const struct el_par *par)
{
	struct dsp_fir_config cfg = {.block = BLOCK,
				     .max_taps = TAPS,
				     .cpu_flags = dsp_cpu_get_flags(),
				     .fft = fft,
				     .layout = &g->layout,
				     .inputs = INPUTS,
				     .outputs = OUTPUTS,
				     .par = par};
	struct dsp_fir *fir = NULL;

	assert_int_equal(dsp_fir_new(&cfg, &fir), 0);
	return fir;
}

static void rig_init(struct rig *g, struct dsp_fft_cache *fft)
{
	/* partitions of 64, 128, 256 and 512, every later segment starting late (fir.c) */
	static const unsigned extra[DSP_FIR_LAYOUT_MAX_SEGMENTS] = {1, 1};
	struct test_rng rng;

	test_rng_init(&rng, 7);
	for (unsigned c = 0; c < INPUTS; c++)
		test_fill_noise(&rng, x[c], CALLS * BLOCK, 0.5);
	assert_int_equal(dsp_fir_layout_growing(BLOCK, TAPS, 2, 8 * BLOCK, extra, &g->layout), 0);
	assert_true(g->layout.count > 2);
	for (unsigned i = 0; i < N_IR; i++) {
		test_fir_make_room_ir(&rng, h[i], TAPS);
		assert_int_equal(
			dsp_fir_ir_new_layout(fft, &g->layout, h[i], TAPS, NULL, &g->ir[i]), 0);
	}
	assert_int_equal(par_pool_new(THREADS, &g->pool), 0);
	g->serial = make_matrix(fft, g, NULL);
	g->shared = make_matrix(fft, g, par_pool_get(g->pool));
}

static void rig_done(struct rig *g)
{
	dsp_fir_free(g->serial);
	dsp_fir_free(g->shared);
	par_pool_free(g->pool);
	for (unsigned i = 0; i < N_IR; i++)
		dsp_fir_ir_free(g->ir[i]);
}

/* Both convolvers take the same call of `blocks` blocks at call c: outputs compared. */
static void both_process(struct rig *g, unsigned c, unsigned blocks)
{
	const float *in[INPUTS] = {x[0] + c * BLOCK, x[1] + c * BLOCK};
	struct dsp_fir *fir[2] = {g->serial, g->shared};

	for (unsigned k = 0; k < 2; k++) {
		float *out[OUTPUTS] = {g->y[k][0], g->y[k][1], g->y[k][2]};

		memset(g->y[k], 0x55, sizeof(g->y[k])); /* every sample must be written */
		dsp_fir_process_matrix(fir[k], in, out, blocks * BLOCK);
	}
	for (unsigned o = 0; o < OUTPUTS; o++) {
		if (memcmp(g->y[0][o], g->y[1][o], blocks * BLOCK * sizeof(float)) != 0) {
			printf("# call at block %u: output %u differs with threads\n", c, o + 1);
			fail();
		}
	}
}

static void both_keep_history(struct rig *g, unsigned c)
{
	const float *in[INPUTS] = {x[0] + c * BLOCK, x[1] + c * BLOCK};

	dsp_fir_keep_history_matrix(g->serial, in, BLOCK);
	dsp_fir_keep_history_matrix(g->shared, in, BLOCK);
}

static void both_set_routes(struct rig *g, const struct dsp_fir_route *r, size_t n, unsigned fade)
{
	assert_int_equal(dsp_fir_set_routes(g->serial, r, n, fade), 0);
	assert_int_equal(dsp_fir_set_routes(g->shared, r, n, fade), 0);
}

static void both_set_tail(struct rig *g, float db, unsigned fade)
{
	assert_int_equal(dsp_fir_set_tail_db(g->serial, db, fade), 0);
	assert_int_equal(dsp_fir_set_tail_db(g->shared, db, fade), 0);
}

static void test_threads_change_no_bit(void **state)
{
	struct rig *g = calloc(1, sizeof(*g));
	unsigned c = 0, dormant = 0;

	assert_non_null(g);
	rig_init(g, *state);
	{
		/* out 1: fan-in; input 1 fans out; out 3 from input 2 alone */
		const struct dsp_fir_route ra[] = {
			{0, 0, g->ir[0]}, {1, 0, g->ir[1]}, {0, 1, g->ir[2]}, {1, 2, g->ir[0]}};
		const struct dsp_fir_route rb[] = {{0, 0, g->ir[2]}, {1, 1, g->ir[1]}};

		both_set_routes(g, ra, EL_N_ELEMENTS(ra), 0);
		for (; c < 60; c++)
			both_process(g, c, 1);
		both_set_routes(g, rb, EL_N_ELEMENTS(rb), 8 * BLOCK); /* out 3 fades to silence */
		for (; c < 120; c += 3)
			both_process(g, c, 3); /* three blocks per call, as a caller may */
		assert_false(dsp_fir_is_fading(g->shared));
		both_set_tail(g, -10.0f, 4 * BLOCK);
		for (; c < 200; c++) {
			both_process(g, c, 1);
			dormant += dsp_fir_get_dormant(g->shared) > 0;
		}
		both_set_tail(g, 0.0f, 4 * BLOCK);
		for (; c < 260; c++)
			both_process(g, c, 1);
		dsp_fir_reset(g->serial);
		dsp_fir_reset(g->shared);
		for (; c < 300; c++)
			both_process(g, c, 1);
		for (; c < 320; c++)
			both_keep_history(g, c);
		both_set_routes(g, ra, EL_N_ELEMENTS(ra), 0);
		for (; c < CALLS; c++)
			both_process(g, c, 1);
	}
	printf("# %u calls with routes, a fade, a tail cut (%u calls with a dormant segment), a "
	       "reset and kept history: bit-exact on %u lanes\n",
	       CALLS, dormant, THREADS + 1);
	rig_done(g);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runner_runs_each_task_once),
		cmocka_unit_test_setup_teardown(test_threads_change_no_bit, test_fft_setup,
						test_fft_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
