/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-node-util.h: the harness the node type tests (test-node-*.c) share —
 * instances built from real config text (conf_load_string), run block by block.
 *
 * The RT entry points (process, update_apply, set_param, get_tail) run between eng_rt_enter()
 * and eng_rt_exit(), so a build with EL_WITH_RTSAN aborts on any allocation, lock or blocking
 * call they make. Every test runs at RATE with blocks of BLOCK frames and fades of FADE frames.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/el-error.h"
#include "daemon/config/config.h"
#include "daemon/engine/node.h"
#include "daemon/engine/rt-check.h"
#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/mix.h"
#include "tests/unit/test-util.h"

#define RATE  48000u
#define BLOCK 256u
#define FADE  480u

struct harness {
	struct dsp_mix_ops mix;
	struct dsp_fft_cache *fft;
	unsigned groups[16];
	struct eng_node_env env;
	struct el_error err;
};

/* An environment with one input reference per entry of groups (its channel count). */
static inline void harness_init(struct harness *h, const unsigned *groups, size_t n_groups)
{
	unsigned total = 0;

	eng_rt_check_init();
	memset(h, 0, sizeof(*h));
	dsp_mix_ops_init(&h->mix, dsp_cpu_get_flags());
	assert_int_equal(dsp_fft_cache_new(DSP_FFT_ESTIMATE, &h->fft), 0);
	for (size_t g = 0; g < n_groups; g++)
		total += h->groups[g] = groups[g];
	h->env = (struct eng_node_env){.rate = RATE,
				       .block = BLOCK,
				       .fade_frames = FADE,
				       .in_channels = total,
				       .in_groups = h->groups,
				       .n_groups = n_groups,
				       .cpu_flags = dsp_cpu_get_flags(),
				       .mix = &h->mix,
				       .fft = h->fft,
				       .prefetch = true};
}

static inline void harness_done(struct harness *h)
{
	h->fft = dsp_fft_cache_free(h->fft);
}

/* create() (inst NULL) or update_prepare() (inst set) on the first section of text. */
static inline int harness_call(struct harness *h, const struct node_type *t, void *inst,
			       const char *text, void **ret)
{
	struct conf *c = NULL;
	int r;

	memset(&h->err, 0, sizeof(h->err));
	assert_int_equal(conf_load_string(text, "test.conf", &c, &h->err), 0);
	if (inst)
		r = t->update_prepare(inst, conf_get_section(c, 0), &h->env, ret, &h->err);
	else
		r = t->create(conf_get_section(c, 0), &h->env, ret, &h->err);
	conf_free(c);
	return r;
}

static inline void *harness_create(struct harness *h, const struct node_type *t, const char *text)
{
	void *inst = NULL;

	if (harness_call(h, t, NULL, text, &inst) < 0)
		fail_msg("create: %s", h->err.message);
	return inst;
}

/* The message create() gives for text, which must fail with code. */
static inline const char *harness_error(struct harness *h, const struct node_type *t,
					const char *text, int code)
{
	void *inst = NULL;

	assert_int_equal(harness_call(h, t, NULL, text, &inst), code);
	assert_null(inst);
	return h->err.message;
}

/*
 * Processes frames [from, to) of in[] (n_in channels) into out[] (n_out), one block at a time,
 * with io.in_silent set when a block of every input is zero. Returns whether process() called
 * every block silent.
 */
static inline bool harness_run(const struct node_type *t, void *inst, float *const *in,
			       unsigned n_in, float *const *out, unsigned n_out, size_t from,
			       size_t to)
{
	const float *ip[64];
	float *op[64];
	bool all = true;

	for (size_t n = from; n < to; n += BLOCK) {
		struct eng_node_io io = {
			.frames = BLOCK, .n_in = n_in, .n_out = n_out, .in = ip, .out = op};

		io.in_silent = true;
		for (unsigned c = 0; c < n_in; c++) {
			ip[c] = in[c] + n;
			for (unsigned i = 0; i < BLOCK; i++)
				io.in_silent = io.in_silent && ip[c][i] == 0.0f;
		}
		for (unsigned c = 0; c < n_out; c++)
			op[c] = out[c] + n;
		eng_rt_enter();
		all = t->process(inst, &io) && all;
		eng_rt_exit();
	}
	return all;
}

static inline void harness_apply(const struct node_type *t, void *inst, void *update)
{
	eng_rt_enter();
	t->update_apply(inst, update);
	eng_rt_exit();
}

static inline int harness_set(const struct node_type *t, void *inst, unsigned id, double v)
{
	int r;

	eng_rt_enter();
	r = t->set_param(inst, id, v);
	eng_rt_exit();
	return r;
}

static inline size_t harness_tail(const struct node_type *t, const void *inst)
{
	size_t r;

	eng_rt_enter();
	r = t->get_tail(inst);
	eng_rt_exit();
	return r;
}

/* Fills frames of each of the n channels of buf, in order, with one noise sequence from seed. */
static inline void harness_fill_noise(float *const *buf, unsigned n, size_t frames,
				      double amplitude, uint64_t seed)
{
	struct test_rng rng;

	test_rng_init(&rng, seed);
	for (unsigned c = 0; c < n; c++)
		test_fill_noise(&rng, buf[c], frames, amplitude);
}
