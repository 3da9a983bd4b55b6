/* SPDX-License-Identifier: MIT */
/*
 * Property: the graph's edges pass audio unchanged and report on it — the input node copies the
 * capture channels and says "silent" exactly when every sample is zero; the output node copies
 * to the playback channels and counts the samples beyond full scale; both refuse what cannot
 * work; and the registry lists every type, in order, each with a complete interface.
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

extern const struct node_type node_type_input;
extern const struct node_type node_type_output;

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

#define FRAMES (BLOCK * 8u)

static float sig[3][FRAMES], got[3][FRAMES];
static float *const in[3] = {sig[0], sig[1], sig[2]}, *const out[3] = {got[0], got[1], got[2]};

static void test_input(void **state)
{
	struct test_rng rng;
	struct harness h;
	void *n;

	(void)state;
	harness_init(&h, NULL, 0);
	n = harness_create(&h, &node_type_input, "[node.in]\ntype = input\n");
	assert_int_equal(node_type_input.get_out_channels(n), 2);
	assert_int_equal(harness_tail(&node_type_input, n), 0);
	node_type_input.destroy(n);

	n = harness_create(&h, &node_type_input, "[node.in]\ntype = input\nchannels = 3\n");
	assert_int_equal(node_type_input.get_out_channels(n), 3);
	test_rng_init(&rng, 8);
	for (unsigned c = 0; c < 3; c++)
		test_fill_noise(&rng, sig[c], FRAMES, 1.0);
	assert_false(harness_run(&node_type_input, n, in, 3, out, 3, 0, FRAMES));
	assert_memory_equal(sig, got, sizeof(sig));
	/* Zeros of either sign are silence; one sample anywhere is not. */
	memset(sig, 0, sizeof(sig));
	sig[1][7] = -0.0f;
	assert_true(harness_run(&node_type_input, n, in, 3, out, 3, 0, BLOCK));
	sig[2][BLOCK - 1] = 1e-30f;
	assert_false(harness_run(&node_type_input, n, in, 3, out, 3, 0, BLOCK));
	assert_true(got[2][BLOCK - 1] == 1e-30f);
	node_type_input.destroy(n);

	assert_string_equal(
		harness_error(&h, &node_type_input, "[node.in]\ntype = input\nchannels = 65\n",
			      -EINVAL),
		"test.conf:3: key 'channels': expected an integer from 1 to 64, got '65'");
	harness_done(&h);
}

static void test_output(void **state)
{
	static const unsigned groups[] = {2, 1};
	struct test_rng rng;
	struct harness h;
	double clips;
	void *n, *u = NULL;

	(void)state;
	harness_init(&h, groups, 2);
	n = harness_create(&h, &node_type_output, "[node.out]\ntype = output\ninput = a, b\n");
	assert_int_equal(node_type_output.get_out_channels(n), 3);
	assert_int_equal(harness_tail(&node_type_output, n), 0);
	test_rng_init(&rng, 9);
	for (unsigned c = 0; c < 3; c++)
		test_fill_noise(&rng, sig[c], FRAMES, 1.0);
	sig[0][3] = 1.5f;
	sig[2][FRAMES - 1] = -1.01f;
	sig[1][100] = 1.0f; /* full scale is not a clip */
	sig[1][101] = -1.0f;
	assert_false(harness_run(&node_type_output, n, in, 3, out, 3, 0, FRAMES));
	assert_memory_equal(sig, got, sizeof(sig));
	assert_int_equal(node_type_output.get_param(n, 0, 0, &clips), 0);
	assert_true(clips == 2.0);
	harness_run(&node_type_output, n, in, 3, out, 3, 0, FRAMES);
	assert_int_equal(node_type_output.get_param(n, 0, 0, &clips), 0);
	assert_true(clips == 4.0);
	assert_int_equal(harness_call(&h, &node_type_output, n,
				      "[node.out]\ntype = output\ninput = a, b\n", &u),
			 0);
	assert_null(u);
	h.env.in_channels = 2;
	assert_int_equal(harness_call(&h, &node_type_output, n,
				      "[node.out]\ntype = output\ninput = a\n", &u),
			 -EOPNOTSUPP);
	node_type_output.destroy(n);
	assert_string_equal(harness_error(&h, &node_type_output,
					  "[node.out]\ntype = output\ninput = a\nchannels = 2\n",
					  -EINVAL),
			    "test.conf:4: key 'channels': unknown key in [node.out]");
	harness_done(&h);
	harness_init(&h, NULL, 0);
	assert_string_equal(
		harness_error(&h, &node_type_output, "[node.out]\ntype = output\n", -EINVAL),
		"test.conf:1: [node.out]: an output needs an input");
	harness_done(&h);
}

/* Every type is listed, found by name, and has what the engine calls. */
static void test_registry(void **state)
{
	static const char *const names[] = {"input", "output", "gain", "mix",   "tone",
					    "noise", "fir",    "eq",   "delay", "meter"};
	size_t n = 0;

	(void)state;
	for (; node_types[n]; n++) {
		const struct node_type *t = node_types[n];

		assert_true(n < EL_N_ELEMENTS(names));
		assert_string_equal(t->name, names[n]);
		assert_ptr_equal(node_type_find(names[n]), t);
		assert_non_null(t->description);
		assert_non_null(t->keys);
		for (size_t k = 0; t->keys[k]; k++)
			assert_true(strcmp(t->keys[k], "type") && strcmp(t->keys[k], "input"));
		assert_true(t->create && t->destroy && t->get_out_channels && t->process &&
			    t->get_tail);
		assert_true(!t->update_prepare || (t->update_apply && t->update_free));
		for (size_t p = 0; p < t->n_params; p++) {
			assert_true(t->get_param != NULL);
			assert_true(!t->params[p].settable || t->set_param != NULL);
			assert_true(t->params[p].min <= t->params[p].max);
		}
	}
	assert_int_equal(n, EL_N_ELEMENTS(names));
	assert_ptr_equal(node_type_find("input"), &node_type_input);
	assert_null(node_type_find("reverb"));
	assert_null(node_type_find(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_input),
		cmocka_unit_test(test_output),
		cmocka_unit_test(test_registry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
