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

#include "daemon/engine/node.h"
#include "daemon/nodes/nodes.h"
#include "tests/unit/test-node-util.h"

extern const struct node_type node_type_input;
extern const struct node_type node_type_output;

#define FRAMES (BLOCK * 8u)

static float sig[3][FRAMES], got[3][FRAMES];
static float *const in[3] = {sig[0], sig[1], sig[2]}, *const out[3] = {got[0], got[1], got[2]};

static void test_input(void **state)
{
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
	harness_fill_noise(in, 3, FRAMES, 1.0, 8);
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
	struct harness h;
	double clips;
	void *n, *u = NULL;

	(void)state;
	harness_init(&h, groups, 2);
	n = harness_create(&h, &node_type_output, "[node.out]\ntype = output\ninput = a, b\n");
	assert_int_equal(node_type_output.get_out_channels(n), 3);
	assert_int_equal(harness_tail(&node_type_output, n), 0);
	harness_fill_noise(in, 3, FRAMES, 1.0, 9);
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
	static const char *const names[] = {"input",  "output",   "gain",   "mix",   "tone",
					    "noise",  "fir",      "eq",     "delay", "meter",
					    "player", "recorder", "limiter"};
	size_t n = 0;

	(void)state;
	for (; node_types[n]; n++) {
		const struct node_type *t = node_types[n];

		assert_true(n < EL_N_ELEMENTS(names));
		assert_string_equal(t->name, names[n]);
		assert_ptr_equal(eng_node_type_find(node_types, names[n]), t);
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
	assert_ptr_equal(eng_node_type_find(node_types, "input"), &node_type_input);
	assert_null(eng_node_type_find(node_types, "reverb"));
	assert_null(eng_node_type_find(node_types, NULL));
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
