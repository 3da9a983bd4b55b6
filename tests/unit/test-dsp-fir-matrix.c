/* SPDX-License-Identifier: MIT */
/*
 * Property: a convolution matrix (dsp_fir_set_routes) computes every output as the sum of its
 * routes' convolutions, as direct convolution in double does, to better than -120 dB, with a
 * non-uniform layout: fan-in (two inputs into one output), fan-out (one input into several),
 * one IR on two routes, and an output no route reaches, which is exact silence. A crossfade to
 * routes of another shape ends bit-identical to a matrix that had those routes from the start.
 * Routes that cannot be are refused with the error the header names, and nothing changes.
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
#include "dsp/fir-layout.h"
#include "dsp/fir.h"
#include "dsp/mem.h"
#include "tests/unit/fir-reference.h"
#include "tests/unit/test-fft-fixture.h"
#include "tests/unit/test-util.h"

#define BLOCK    64u
#define TAPS     6000u
#define INPUTS   2u
#define OUTPUTS  4u
#define N_IR     3u
#define FRAMES   (BLOCK * 200u)
#define LIMIT_DB (-120.0)

static float x[INPUTS][FRAMES], y[OUTPUTS][FRAMES];
static float h[N_IR][TAPS];

struct rig {
	struct dsp_fir_layout layout;
	struct dsp_fir_ir *ir[N_IR];
};

static void rig_init(struct rig *g, struct dsp_fft_cache *fft)
{
	struct test_rng rng;

	test_rng_init(&rng, 5);
	for (unsigned c = 0; c < INPUTS; c++)
		test_fill_noise(&rng, x[c], FRAMES, 0.5);
	/* partitions of 64, 128, 256 and 512: every kind of segment takes part, the later ones
	 * starting late (an extra partition before each: their input is delayed, fir.c) */
	static const unsigned extra[DSP_FIR_LAYOUT_MAX_SEGMENTS] = {1, 1};

	assert_int_equal(dsp_fir_layout_growing(BLOCK, TAPS, 2, 8 * BLOCK, extra, &g->layout), 0);
	assert_true(g->layout.count > 2);
	for (unsigned i = 0; i < N_IR; i++) {
		test_fir_make_room_ir(&rng, h[i], TAPS);
		assert_int_equal(
			dsp_fir_ir_new_layout(fft, &g->layout, h[i], TAPS, NULL, &g->ir[i]), 0);
	}
}

static void rig_done(struct rig *g)
{
	for (unsigned i = 0; i < N_IR; i++)
		dsp_fir_ir_free(g->ir[i]);
}

static struct dsp_fir *make_matrix(struct dsp_fft_cache *fft, const struct rig *g)
{
	struct dsp_fir_config cfg = {.block = BLOCK,
				     .max_taps = TAPS,
				     .cpu_flags = dsp_cpu_get_flags(),
				     .fft = fft,
				     .layout = &g->layout,
				     .inputs = INPUTS,
				     .outputs = OUTPUTS};
	struct dsp_fir *fir = NULL;

	assert_int_equal(dsp_fir_new(&cfg, &fir), 0);
	return fir;
}

/* Frames [from, to) of every input into every output, three blocks per call. */
static void run(struct dsp_fir *fir, size_t from, size_t to)
{
	for (size_t at = from; at < to; at += 3 * BLOCK) {
		const float *in[INPUTS] = {x[0] + at, x[1] + at};
		float *out[OUTPUTS] = {y[0] + at, y[1] + at, y[2] + at, y[3] + at};

		dsp_fir_process_matrix(fir, in, out, EL_MIN(3 * (size_t)BLOCK, to - at));
	}
}

/* Output o against the sum of its routes (ir index by route), in double, in dB. */
static double route_error_db(const struct dsp_fir_route *r, size_t n, const struct rig *g,
			     unsigned o)
{
	double *ref = calloc(FRAMES, sizeof(double)), db;

	assert_non_null(ref);
	for (size_t i = 0; i < n; i++) {
		unsigned k = 0;

		if (r[i].out != o)
			continue;
		while (g->ir[k] != r[i].ir)
			k++;
		for (size_t t = 0; t < FRAMES; t++)
			ref[t] += test_fir_reference_at(h[k], TAPS, x[r[i].in], t);
	}
	db = test_error_db(ref, y[o], FRAMES);
	free(ref);
	return db;
}

static void test_routes_sum_like_direct(void **state)
{
	struct rig g;
	struct dsp_fir *fir;

	rig_init(&g, *state);
	fir = make_matrix(*state, &g);
	{
		/* out 0: fan-in; input 0 fans out to 0, 1 and 2; ir 2 on two routes; out 3: none */
		const struct dsp_fir_route r[] = {{0, 0, g.ir[0]},
						  {1, 0, g.ir[1]},
						  {0, 1, g.ir[2]},
						  {0, 2, g.ir[1]},
						  {1, 2, g.ir[2]}};

		assert_int_equal(dsp_fir_set_routes(fir, r, EL_N_ELEMENTS(r), 0), 0);
		memset(y[3], 0x55, sizeof(y[3])); /* must be overwritten with zeros */
		run(fir, 0, FRAMES);
		for (unsigned o = 0; o < 3; o++) {
			double db = route_error_db(r, EL_N_ELEMENTS(r), &g, o);

			printf("# output %u: error %.1f dB\n", o + 1, db);
			assert_true(db < LIMIT_DB);
		}
		for (size_t t = 0; t < FRAMES; t++)
			assert_true(y[3][t] == 0.0f);
	}
	dsp_fir_free(fir);
	rig_done(&g);
}

/* Two fan-in routes become a diagonal with a fade: after it, the fresh matrix's bits. */
static void test_fade_to_other_routes(void **state)
{
	enum { SWITCH = BLOCK * 60u, FADE = BLOCK * 8u };
	static float ref[OUTPUTS][FRAMES];
	struct rig g;
	struct dsp_fir *fir, *fresh;
	const struct dsp_fir_route *a, *b;
	size_t settled = 0;

	rig_init(&g, *state);
	{
		const struct dsp_fir_route ra[] = {{0, 0, g.ir[0]}, {1, 0, g.ir[1]}};
		const struct dsp_fir_route rb[] = {
			{0, 0, g.ir[2]}, {1, 1, g.ir[0]}, {1, 3, g.ir[1]}};

		a = ra;
		b = rb;
		fresh = make_matrix(*state, &g);
		assert_int_equal(dsp_fir_set_routes(fresh, b, 3, 0), 0);
		run(fresh, 0, FRAMES);
		memcpy(ref, y, sizeof(ref));

		fir = make_matrix(*state, &g);
		assert_int_equal(dsp_fir_set_routes(fir, a, 2, 0), 0);
		run(fir, 0, SWITCH);
		assert_int_equal(dsp_fir_set_routes(fir, b, 3, FADE), 0);
		assert_int_equal(dsp_fir_set_routes(fir, a, 2, 0), -EBUSY);
		for (size_t at = SWITCH; at < FRAMES; at += BLOCK) {
			run(fir, at, at + BLOCK);
			if (!settled && !dsp_fir_is_fading(fir))
				settled = at + BLOCK;
		}
		assert_true(settled > SWITCH && settled < FRAMES - BLOCK * 20);
		for (unsigned o = 0; o < OUTPUTS; o++)
			assert_memory_equal(y[o] + settled, ref[o] + settled,
					    (FRAMES - settled) * sizeof(float));
		printf("# fade from 2 routes to 3 ended %zu blocks after the switch; then exact\n",
		       (settled - SWITCH) / BLOCK);
	}
	dsp_fir_free(fir);
	dsp_fir_free(fresh);
	rig_done(&g);
}

static void test_refused_routes(void **state)
{
	struct dsp_fir_ir *other = NULL;
	struct rig g;
	struct dsp_fir *fir;
	float tap = 1.0f;

	rig_init(&g, *state);
	fir = make_matrix(*state, &g);
	assert_int_equal(dsp_fir_ir_new(*state, 2 * BLOCK, &tap, 1, &other), 0);
	{
		const struct dsp_fir_route in_range = {INPUTS, 0, g.ir[0]};
		const struct dsp_fir_route out_range = {0, OUTPUTS, g.ir[0]};
		const struct dsp_fir_route no_ir = {0, 0, NULL};
		const struct dsp_fir_route other_block = {0, 0, other};
		struct dsp_fir_route many[INPUTS * OUTPUTS + 1];

		for (size_t i = 0; i < EL_N_ELEMENTS(many); i++)
			many[i] = (struct dsp_fir_route){0, 0, g.ir[0]};
		assert_int_equal(dsp_fir_set_routes(fir, &in_range, 1, 0), -EINVAL);
		assert_int_equal(dsp_fir_set_routes(fir, &out_range, 1, 0), -EINVAL);
		assert_int_equal(dsp_fir_set_routes(fir, &no_ir, 1, 0), -EINVAL);
		assert_int_equal(dsp_fir_set_routes(fir, &other_block, 1, 0), -EINVAL);
		assert_int_equal(dsp_fir_set_routes(fir, NULL, 1, 0), -EINVAL);
		assert_int_equal(dsp_fir_set_routes(fir, many, EL_N_ELEMENTS(many), 0), -EINVAL);
		assert_int_equal(dsp_fir_set_routes(fir, many, EL_N_ELEMENTS(many) - 1, 0), 0);
		assert_int_equal(dsp_fir_set_routes(fir, NULL, 0, 0), 0); /* silence */
	}
	run(fir, 0, 6 * BLOCK);
	for (unsigned o = 0; o < OUTPUTS; o++)
		for (size_t t = 0; t < 6 * BLOCK; t++)
			assert_true(y[o][t] == 0.0f);
	dsp_fir_ir_free(other);
	dsp_fir_free(fir);
	rig_done(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_sum_like_direct),
		cmocka_unit_test(test_fade_to_other_routes),
		cmocka_unit_test(test_refused_routes),
	};

	return cmocka_run_group_tests(tests, test_fft_setup, test_fft_teardown);
}
