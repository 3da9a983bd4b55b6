/* SPDX-License-Identifier: MIT */
/*
 * Property: the plan compiler orders steps so every input is produced before it is read, groups
 * independent steps into levels, reuses pool buffers without two live channels ever sharing
 * one (checked on every graph here), refuses cycles and undersized pools, and across a
 * reconfiguration keeps unchanged instances, updates or replaces changed ones, and fades
 * exactly the connections that change.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/el-error.h"
#include "daemon/config/config.h"
#include "daemon/engine/graph.h"
#include "daemon/engine/inst.h"
#include "daemon/engine/node.h"
#include "daemon/engine/plan.h"
#include "daemon/nodes/nodes.h"
#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/mix.h"

static struct dsp_fft_cache *fft;
static struct dsp_mix_ops mix;

struct compiled {
	struct conf *conf;
	struct eng_plan *plan;
};

static int compile(const char *text, const struct eng_plan *prev, uint32_t pool,
		   struct compiled *ret, struct el_error *err)
{
	struct eng_node_env env = {.rate = 48000,
				   .block = 64,
				   .fade_frames = 256,
				   .mix = &mix,
				   .fft = fft,
				   .base_dir = "/tmp"};
	struct eng_graph *g = NULL;
	int r = conf_load_string(text, "test.conf", &ret->conf, err);

	if (r < 0)
		return r;
	r = eng_graph_new(ret->conf, node_types, &g, err);
	if (r == 0)
		r = eng_plan_compile(g, prev, &env, pool, 256, &ret->plan, err);
	eng_graph_free(g);
	if (r < 0)
		ret->conf = conf_free(ret->conf);
	return r;
}

static void compiled_done(struct compiled *c)
{
	c->plan = eng_plan_free(c->plan);
	c->conf = conf_free(c->conf);
}

static size_t step_index(const struct eng_plan *p, const char *name)
{
	const struct eng_plan_step *s = eng_plan_find(p, name);

	assert_non_null(s);
	return (size_t)(s - p->steps);
}

/* Inputs come from earlier steps of lower levels; no buffer is shared by live channels. */
static void check_plan(const struct eng_plan *p)
{
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct eng_plan_step *s = &p->steps[i];
		for (unsigned k = 0; k < s->n_in; k++) {
			const struct eng_plan_input *in = &s->inputs[k];
			if (in->src_step < 0)
				continue;
			assert_true((size_t)in->src_step < i);
			assert_true(p->steps[in->src_step].level < s->level);
			assert_true(in->buffer ==
				    p->steps[in->src_step].out_buffers[in->src_channel]);
		}
	}
	/* For every level: buffers written there, and buffers still to be read later, are distinct.
	 */
	for (unsigned l = 0; l < p->n_levels; l++) {
		uint32_t *owner = calloc(p->n_buffers + 1, sizeof(*owner));
		assert_non_null(owner);
		for (size_t i = 0; i < p->n_steps; i++) {
			const struct eng_plan_step *s = &p->steps[i];
			unsigned last = s->level; /* last level reading an output of s */
			for (size_t j = 0; j < p->n_steps; j++)
				for (unsigned k = 0; k < p->steps[j].n_in; k++)
					if (p->steps[j].inputs[k].src_step == (int32_t)i)
						last = last > p->steps[j].level ? last
										: p->steps[j].level;
			if (s->level > l || last < l)
				continue; /* not alive during level l */
			for (unsigned c = 0; c < s->n_out; c++) {
				uint32_t b = s->out_buffers[c];
				assert_true(b < p->n_buffers);
				assert_int_equal(owner[b], 0);
				owner[b] = (uint32_t)i + 1;
			}
		}
		for (size_t i = 0; i < p->n_steps; i++) {
			const struct eng_plan_step *s = &p->steps[i];
			for (unsigned k = 0; s->level == l && k < s->n_in; k++)
				if (s->inputs[k].scratch != ENG_NO_BUFFER) {
					assert_int_equal(owner[s->inputs[k].scratch], 0);
					owner[s->inputs[k].scratch] = UINT32_MAX;
				}
		}
		free(owner);
	}
}

static const char branches[] = "[node.in]\ntype = input\nchannels = 2\n"
			       "[node.out]\ntype = output\ninput = mix\n"
			       "[node.a]\ntype = gain\ninput = in\n"
			       "[node.b]\ntype = gain\ninput = a\n"
			       "[node.c]\ntype = gain\ngain_db = -6\ninput = in\n"
			       "[node.t]\ntype = tone\nchannels = 2\n"
			       "[node.mix]\ntype = mix\ninput = b, c, t\n";

static void test_order_and_levels(void **state)
{
	struct compiled c = {0};
	struct el_error err = {0};
	const struct eng_plan *p;

	(void)state;
	assert_int_equal(compile(branches, NULL, 64, &c, &err), 0);
	p = c.plan;
	check_plan(p);
	assert_int_equal(p->n_steps, 7);
	assert_int_equal(p->steps[step_index(p, "in")].level, 0);
	assert_int_equal(p->steps[step_index(p, "t")].level, 0);
	assert_int_equal(p->steps[step_index(p, "a")].level, 1);
	assert_int_equal(p->steps[step_index(p, "c")].level, 1);
	assert_int_equal(p->steps[step_index(p, "b")].level, 2);
	assert_int_equal(p->steps[step_index(p, "mix")].level, 3);
	assert_int_equal(p->steps[step_index(p, "out")].level, 4);
	assert_int_equal(p->n_levels, 5);
	assert_int_equal(p->levels[0].count, 2); /* in and t: parallel */
	assert_int_equal(p->levels[1].count, 2); /* a and c: parallel */
	assert_int_equal(p->n_capture, 2);
	assert_int_equal(p->n_playback, 2);
	assert_int_equal(p->steps[step_index(p, "mix")].n_in, 6);
	compiled_done(&c);
}

static void test_buffer_reuse(void **state)
{
	char text[8192];
	size_t used = 0;
	struct compiled c = {0};
	struct el_error err = {0};

	(void)state;
	used += (size_t)snprintf(text + used, sizeof(text) - used,
				 "[node.in]\ntype = input\nchannels = 1\n"
				 "[node.g0]\ntype = gain\ninput = in\n");
	for (int i = 1; i < 40; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "[node.g%d]\ntype = gain\ninput = g%d\n", i, i - 1);
	snprintf(text + used, sizeof(text) - used, "[node.out]\ntype = output\ninput = g39\n");
	/* 42 nodes of one channel each, in a pool of 8: only possible with reuse. */
	assert_int_equal(compile(text, NULL, 8, &c, &err), 0);
	check_plan(c.plan);
	printf("# chain of 42 mono nodes uses %u buffers\n", c.plan->n_buffers);
	assert_true(c.plan->n_buffers <= 3);
	compiled_done(&c);
}

static void test_pool_too_small(void **state)
{
	struct compiled c = {0};
	struct el_error err = {0};

	(void)state;
	assert_int_equal(compile("[node.in]\ntype = input\nchannels = 16\n"
				 "[node.out]\ntype = output\ninput = in\n",
				 NULL, 8, &c, &err),
			 -ENOSPC);
	assert_string_equal(err.message,
			    "the graph needs more than the 8 buffers of [engine] pool_buffers");
}

static void test_cycle(void **state)
{
	struct compiled c = {0};
	struct el_error err = {0};

	(void)state;
	assert_int_equal(compile("[node.a]\ntype = gain\ninput = b\n"
				 "[node.b]\ntype = gain\ninput = c\n"
				 "[node.c]\ntype = gain\ninput = a\n",
				 NULL, 64, &c, &err),
			 -ELOOP); /* its own errno: the control socket answers `conflict` */
	assert_string_equal(err.message, "test.conf:9: key 'input': cycle: a -> b -> c -> a");
}

static const char before[] = "[node.in]\ntype = input\nchannels = 2\n"
			     "[node.keep]\ntype = gain\ninput = in\n"
			     "[node.upd]\ntype = gain\ngain_db = -3\ninput = keep\n"
			     "[node.gone]\ntype = gain\ninput = in\n"
			     "[node.out]\ntype = output\ninput = upd\n"
			     "[node.out2]\ntype = output\ninput = gone\n";
static const char after[] = "[node.in]\ntype = input\nchannels = 2\n"
			    "[node.keep]\ntype = gain\ninput = in\n"
			    "[node.upd]\ntype = gain\ngain_db = -9\ninput = keep\n"
			    "[node.new]\ntype = gain\ninput = in:1\n"
			    "[node.out]\ntype = output\ninput = upd\n"
			    "[node.out2]\ntype = output\ninput = new\n";

static void test_reconfigure(void **state)
{
	struct compiled a = {0}, b = {0};
	struct el_error err = {0};
	struct eng_plan *fade = NULL;
	const struct eng_plan_step *s;

	(void)state;
	assert_int_equal(compile(before, NULL, 64, &a, &err), 0);
	assert_false(a.plan->has_ramps); /* the first plan starts steady */
	assert_int_equal(compile(after, a.plan, 64, &b, &err), 0);
	check_plan(b.plan);
	/* unchanged: same instance, no update; changed gain: same instance, with an update */
	assert_ptr_equal(eng_plan_find(b.plan, "keep")->inst, eng_plan_find(a.plan, "keep")->inst);
	assert_null(eng_plan_find(b.plan, "keep")->update);
	assert_ptr_equal(eng_plan_find(b.plan, "upd")->inst, eng_plan_find(a.plan, "upd")->inst);
	assert_non_null(eng_plan_find(b.plan, "upd")->update);
	/* out2 now reads a one-channel node: its channel count changed, so it is a new instance */
	assert_ptr_not_equal(eng_plan_find(b.plan, "out2")->inst,
			     eng_plan_find(a.plan, "out2")->inst);
	/* new connections fade in, shared ones stay steady */
	s = eng_plan_find(b.plan, "new");
	assert_int_equal(s->inputs[0].ramp, ENG_RAMP_IN);
	assert_int_equal(eng_plan_find(b.plan, "upd")->inputs[0].ramp, ENG_RAMP_STEADY);
	assert_int_equal(eng_plan_find(b.plan, "out2")->inputs[0].ramp, ENG_RAMP_IN);
	/* the first step of the switch fades out exactly what goes away */
	assert_int_equal(eng_plan_fade_out_to(a.plan, b.plan, 64, &fade, &err), 0);
	assert_non_null(fade);
	check_plan(fade);
	assert_int_equal(eng_plan_find(fade, "gone")->inputs[0].ramp, ENG_RAMP_OUT);
	assert_int_equal(eng_plan_find(fade, "out2")->inputs[1].ramp, ENG_RAMP_OUT);
	assert_int_equal(eng_plan_find(fade, "keep")->inputs[0].ramp, ENG_RAMP_STEADY);
	assert_int_equal(eng_plan_find(fade, "out")->inputs[0].ramp, ENG_RAMP_STEADY);
	assert_true(eng_plan_find(fade, "gone")->inputs[0].scratch != ENG_NO_BUFFER);
	eng_plan_free(fade);
	compiled_done(&b);
	compiled_done(&a);
}

static void test_same_graph_needs_no_fade(void **state)
{
	struct compiled a = {0}, b = {0};
	struct el_error err = {0};
	struct eng_plan *fade = (void *)0x1;

	(void)state;
	assert_int_equal(compile(branches, NULL, 64, &a, &err), 0);
	assert_int_equal(compile(branches, a.plan, 64, &b, &err), 0);
	assert_false(b.plan->has_ramps);
	assert_int_equal(eng_plan_fade_out_to(a.plan, b.plan, 64, &fade, &err), 0);
	assert_null(fade);
	compiled_done(&b);
	compiled_done(&a);
}

static int setup(void **state)
{
	(void)state;
	dsp_mix_ops_init(&mix, dsp_cpu_get_flags());
	return dsp_fft_cache_new(DSP_FFT_ESTIMATE, &fft);
}

static int teardown(void **state)
{
	(void)state;
	fft = dsp_fft_cache_free(fft);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_levels),
		cmocka_unit_test(test_buffer_reuse),
		cmocka_unit_test(test_pool_too_small),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_reconfigure),
		cmocka_unit_test(test_same_graph_needs_no_fade),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
