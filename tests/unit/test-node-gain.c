/* SPDX-License-Identifier: MIT */
/*
 * Property: the gain node is bit-exact at unity, applies a fixed gain exactly, and every change
 * (set_param or a config update) moves the gain in a straight line over fade_frames, so the
 * output never steps by more than the signal's own slope plus the ramp's (|g1 - g0| / fade).
 * Bad keys and values are refused with `FILE:LINE: key 'K': ...`.
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

#include "common/el-error.h"
#include "daemon/config.h"
#include "daemon/engine/node.h"
#include "daemon/engine/rt-check.h"
#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/mix.h"
#include "tests/unit/test-util.h"

extern const struct node_type node_type_gain;

/*
 * Harness: instances built from real config text (conf_load_string), run block by block. The
 * RT entry points (process, update_apply, set_param, get_tail) run between eng_rt_enter() and
 * eng_rt_exit(), so a build with EL_WITH_RTSAN aborts on any allocation, lock or blocking call
 * they make.
 */
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
static void harness_init(struct harness *h, const unsigned *groups, size_t n_groups)
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
				       .fft = h->fft};
}

static void harness_done(struct harness *h)
{
	h->fft = dsp_fft_cache_free(h->fft);
}

/* create() (inst NULL) or update_prepare() (inst set) on the first section of text. */
static int harness_call(struct harness *h, const struct node_type *t, void *inst, const char *text,
			void **ret)
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

static void *harness_create(struct harness *h, const struct node_type *t, const char *text)
{
	void *inst = NULL;

	if (harness_call(h, t, NULL, text, &inst) < 0)
		fail_msg("create: %s", h->err.message);
	return inst;
}

/* The message create() gives for text, which must fail with code. */
static const char *harness_error(struct harness *h, const struct node_type *t, const char *text,
				 int code)
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
static bool harness_run(const struct node_type *t, void *inst, float *const *in, unsigned n_in,
			float *const *out, unsigned n_out, size_t from, size_t to)
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
EL_UNUSED static void harness_apply(const struct node_type *t, void *inst, void *update)
{
	eng_rt_enter();
	t->update_apply(inst, update);
	eng_rt_exit();
}

EL_UNUSED static int harness_set(const struct node_type *t, void *inst, unsigned id, double v)
{
	int r;

	eng_rt_enter();
	r = t->set_param(inst, id, v);
	eng_rt_exit();
	return r;
}

EL_UNUSED static size_t harness_tail(const struct node_type *t, const void *inst)
{
	size_t r;

	eng_rt_enter();
	r = t->get_tail(inst);
	eng_rt_exit();
	return r;
}
/* End of harness. */

#define FRAMES (BLOCK * 40u)

static float sig[2][FRAMES], got[2][FRAMES];
static float *const in[2] = {sig[0], sig[1]}, *const out[2] = {got[0], got[1]};

static const unsigned stereo[] = {2};

static void fill_noise(uint64_t seed)
{
	struct test_rng rng;

	test_rng_init(&rng, seed);
	test_fill_noise(&rng, sig[0], FRAMES, 1.0);
	test_fill_noise(&rng, sig[1], FRAMES, 1.0);
}

/* 0 dB, default and explicit: output bit-identical to the input. */
static void test_unity_bit_exact(void **state)
{
	static const char *const texts[] = {
		"[node.g]\ntype = gain\ninput = a\n",
		"[node.g]\ntype = gain\ninput = a\ngain_db = 0\nmute = no\n",
	};
	struct harness h;

	(void)state;
	harness_init(&h, stereo, 1);
	fill_noise(1);
	for (size_t i = 0; i < EL_N_ELEMENTS(texts); i++) {
		void *g = harness_create(&h, &node_type_gain, texts[i]);

		assert_int_equal(node_type_gain.get_out_channels(g), 2);
		assert_int_equal(harness_tail(&node_type_gain, g), 0);
		harness_run(&node_type_gain, g, in, 2, out, 2, 0, FRAMES);
		assert_memory_equal(sig, got, sizeof(sig));
		node_type_gain.destroy(g);
	}
	harness_done(&h);
}

/* -6 dB: every sample is the input times 10^(-6/20) (one float multiply). */
static void test_fixed_gain(void **state)
{
	const float g = (float)pow(10.0, -6.0 / 20.0);
	struct harness h;
	void *inst;

	(void)state;
	harness_init(&h, stereo, 1);
	fill_noise(2);
	inst = harness_create(&h, &node_type_gain,
			      "[node.g]\ntype = gain\ninput = a\ngain_db = -6\n");
	harness_run(&node_type_gain, inst, in, 2, out, 2, 0, FRAMES);
	for (unsigned c = 0; c < 2; c++)
		for (size_t i = 0; i < FRAMES; i++)
			assert_true(got[c][i] == sig[c][i] * g);
	node_type_gain.destroy(inst);
	harness_done(&h);
}

/*
 * DC of 1.0 through the gain while it changes from g0 to g1 at frame `at`: the output is the
 * gain itself. It must hold g0 before, move by exactly (g1 - g0) / FADE per frame (float
 * rounding aside) for FADE frames, and then hold g1 exactly. Returns the largest step.
 */
static double check_ramp(double g0, double g1, size_t at)
{
	double want_step = (g1 - g0) / FADE, worst = 0.0;

	for (size_t i = 0; i < FRAMES; i++) {
		double want = i < at ? g0 : i < at + FADE ? g0 + want_step * (double)(i - at) : g1;

		if (fabs(got[0][i] - want) > 1e-6)
			fail_msg("frame %zu: got %.9f, want %.9f", i, got[0][i], want);
		if (i > 0)
			worst = fmax(worst, fabs((double)got[0][i] - got[0][i - 1]));
	}
	assert_true(got[0][FRAMES - 1] == (float)g1);
	return worst;
}

/* set_param(gain_db) in the middle of a block's worth of cycles: a ramp, not a step. */
static void test_set_param_ramps(void **state)
{
	const size_t at = BLOCK * 10;
	struct harness h;
	double step, value;
	void *g;

	(void)state;
	harness_init(&h, stereo, 1);
	for (size_t i = 0; i < FRAMES; i++)
		sig[0][i] = sig[1][i] = 1.0f;
	g = harness_create(&h, &node_type_gain, "[node.g]\ntype = gain\ninput = a\n");
	harness_run(&node_type_gain, g, in, 2, out, 2, 0, at);
	assert_int_equal(harness_set(&node_type_gain, g, 0, -20.0), 0);
	assert_int_equal(node_type_gain.get_param(g, 0, 0, &value), 0);
	assert_true(value == -20.0);
	harness_run(&node_type_gain, g, in, 2, out, 2, at, FRAMES);
	step = check_ramp(1.0, 0.1, at);
	printf("# 0 dB -> -20 dB: largest step %.6f, ramp slope %.6f\n", step, 0.9 / FADE);
	assert_true(step <= 0.9 / FADE + 1e-6);
	/* Unity again after a ramp back: bit-exact once it has run. */
	assert_int_equal(harness_set(&node_type_gain, g, 0, 0.0), 0);
	harness_run(&node_type_gain, g, in, 2, out, 2, 0, FRAMES);
	fill_noise(3);
	harness_run(&node_type_gain, g, in, 2, out, 2, 0, FRAMES);
	assert_memory_equal(sig, got, sizeof(sig));
	node_type_gain.destroy(g);
	harness_done(&h);
}

/* A config update ramps like a set; mute ramps to exactly 0; an unchanged section is no update. */
static void test_update_ramps(void **state)
{
	const size_t at = BLOCK * 7;
	struct harness h;
	void *g, *u = NULL;
	double value;

	(void)state;
	harness_init(&h, stereo, 1);
	for (size_t i = 0; i < FRAMES; i++)
		sig[0][i] = sig[1][i] = 1.0f;
	g = harness_create(&h, &node_type_gain, "[node.g]\ntype = gain\ninput = a\ngain_db = -6\n");
	assert_int_equal(harness_call(&h, &node_type_gain, g,
				      "[node.g]\ntype = gain\ninput = a\ngain_db = -6\n", &u),
			 0);
	assert_null(u);
	assert_int_equal(
		harness_call(&h, &node_type_gain, g,
			     "[node.g]\ntype = gain\ninput = a\ngain_db = -6\nmute = yes\n", &u),
		0);
	assert_non_null(u);
	harness_run(&node_type_gain, g, in, 2, out, 2, 0, at);
	harness_apply(&node_type_gain, g, u);
	node_type_gain.update_free(u);
	harness_run(&node_type_gain, g, in, 2, out, 2, at, FRAMES);
	check_ramp(pow(10.0, -6.0 / 20.0), 0.0, at);
	assert_int_equal(node_type_gain.get_param(g, 1, 0, &value), 0);
	assert_true(value == 1.0);
	/* A new channel count needs a new instance. */
	h.env.in_channels = 3;
	assert_int_equal(
		harness_call(&h, &node_type_gain, g, "[node.g]\ntype = gain\ninput = a\n", &u),
		-EOPNOTSUPP);
	node_type_gain.destroy(g);
	harness_done(&h);
}

static void test_bad_config(void **state)
{
	struct harness h;

	(void)state;
	harness_init(&h, stereo, 1);
	assert_string_equal(
		harness_error(&h, &node_type_gain,
			      "[node.g]\ntype = gain\ninput = a\ngain_db = 30\n", -EINVAL),
		"test.conf:4: key 'gain_db': expected a number from -120 to 24, got '30'");
	assert_string_equal(harness_error(&h, &node_type_gain,
					  "[node.g]\ntype = gain\ninput = a\nmute = maybe\n",
					  -EINVAL),
			    "test.conf:4: key 'mute': expected yes/no, true/false, on/off or 1/0, "
			    "got 'maybe'");
	assert_string_equal(harness_error(&h, &node_type_gain,
					  "[node.g]\ntype = gain\ninput = a\ngain_dB = 3\n",
					  -EINVAL),
			    "test.conf:4: key 'gain_dB': unknown key in [node.g] "
			    "(did you mean 'gain_db'?)");
	assert_string_equal(harness_error(&h, &node_type_gain,
					  "[node.g]\ntype = gain\ninput = a\nvolume = 3\n",
					  -EINVAL),
			    "test.conf:4: key 'volume': unknown key in [node.g]");
	h.env.in_channels = 0;
	h.env.n_groups = 0;
	assert_string_equal(harness_error(&h, &node_type_gain, "[node.g]\ntype = gain\n", -EINVAL),
			    "test.conf:1: [node.g]: a gain needs an input");
	harness_done(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unity_bit_exact), cmocka_unit_test(test_fixed_gain),
		cmocka_unit_test(test_set_param_ramps), cmocka_unit_test(test_update_ramps),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
