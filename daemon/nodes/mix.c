/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/mix.c: the "mix" node type — sums N inputs of the same width C into one output
 * of C channels, each input with its own gain: out[c] = sum over g of gain_g * input_g[c].
 *
 * The inputs are the references of the section's `input` key, in order (env->in_groups gives
 * each one's width). Gains ramp over the engine's fade length when an update changes them.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "daemon/config/value.h"
#include "daemon/config/config.h"
#include "daemon/engine/node.h"
#include "daemon/nodes/node-util.h"
#include "dsp/mix.h"
#include "dsp/ramp.h"

#define MIX_KEYS "gains"

static const char *const mix_keys[] = {MIX_KEYS, NULL};
static const char *const mix_allowed[] = {"type", "input", MIX_KEYS, NULL};

#define MIX_MIN_DB (-120.0)
#define MIX_MAX_DB 24.0

struct mix_update {
	size_t n_groups;
	double gains_db[];
};

struct mix {
	unsigned width; /* C: channels of every input and of the output */
	size_t n_groups;
	uint32_t fade_frames;
	const struct dsp_mix_ops *mix; /* borrowed: the engine's, outlives every node */
	struct dsp_ramp *ramps;        /* n_groups; RT thread only */
	/* Bits of each gain (dB) last applied: written by the RT thread, read by updates. */
	_Atomic uint64_t *gains_db_bits;
};

/* Every input group must have the same width; returns it. */
static int mix_check_inputs(const struct conf_section *sec, const struct eng_node_env *env,
			    unsigned *ret_width, struct el_error *reterr)
{
	const struct conf_entry *e = conf_section_find(sec, "input");

	if (env->n_groups < 1 || env->in_channels < 1 || !e)
		return conf_error_section(reterr, -EINVAL, sec, "a mix needs an input");
	for (size_t g = 1; g < env->n_groups; g++)
		if (env->in_groups[g] != env->in_groups[0])
			return conf_error_entry(reterr, -EINVAL, e,
						"channel mismatch: mix inputs must have the same "
						"channel count (input 1 has %u, input %zu has %u)",
						env->in_groups[0], g + 1, env->in_groups[g]);
	*ret_width = env->in_groups[0];
	return 0;
}

/*
 * Reads and checks sec into a new update (the gains in dB, one per input group). A list longer
 * than the inputs is refused by conf_get_double_list() ("at most N numbers"), a shorter one
 * here.
 */
static int mix_read(const struct conf_section *sec, const struct eng_node_env *env,
		    unsigned *ret_width, struct mix_update **ret, struct el_error *reterr)
{
	struct mix_update *u;
	size_t n = 0;
	int r;

	r = conf_check_keys(sec, mix_allowed, reterr);
	if (r < 0)
		return r;
	r = mix_check_inputs(sec, env, ret_width, reterr);
	if (r < 0)
		return r;
	u = calloc(1, sizeof(*u) + env->n_groups * sizeof(u->gains_db[0]));
	if (!u)
		return -ENOMEM;
	u->n_groups = env->n_groups;
	r = conf_get_double_list(sec, "gains", MIX_MIN_DB, MIX_MAX_DB, u->gains_db, u->n_groups, &n,
				 reterr);
	if (r == 0 && n != 0 && n != u->n_groups)
		r = conf_error_entry(reterr, -EINVAL, conf_section_find(sec, "gains"),
				     "expected %zu values (one per input), got %zu", u->n_groups,
				     n);
	if (r < 0) {
		free(u);
		return r;
	}
	*ret = u;
	return 0;
}

static void mix_destroy(void *inst)
{
	struct mix *m = inst;

	if (!m)
		return;
	free(m->ramps);
	free(m->gains_db_bits);
	free(m);
}

static int mix_create(const struct conf_section *sec, const struct eng_node_env *env, void **ret,
		      struct el_error *reterr)
{
	struct mix_update *u = NULL;
	struct mix *m;
	unsigned width;
	int r;

	r = mix_read(sec, env, &width, &u, reterr);
	if (r < 0)
		return r;
	m = calloc(1, sizeof(*m));
	if (!m) {
		free(u);
		return -ENOMEM;
	}
	m->width = width;
	m->n_groups = u->n_groups;
	m->fade_frames = env->fade_frames;
	m->mix = env->mix;
	m->ramps = calloc(m->n_groups, sizeof(*m->ramps));
	m->gains_db_bits = calloc(m->n_groups, sizeof(*m->gains_db_bits));
	if (!m->ramps || !m->gains_db_bits) {
		free(u);
		mix_destroy(m);
		return -ENOMEM;
	}
	for (size_t g = 0; g < m->n_groups; g++) {
		dsp_ramp_set(&m->ramps[g], pow(10.0, u->gains_db[g] / 20.0));
		atomic_init(&m->gains_db_bits[g], node_double_to_bits(u->gains_db[g]));
	}
	free(u);
	*ret = m;
	return 0;
}

static unsigned mix_get_out_channels(const void *inst)
{
	const struct mix *m = inst;

	return m->width;
}

/* dst = g * src (first input) or dst += g * src (the others), g ramping from g0 to g1. */
EL_RT static void rt_mix_one(const struct dsp_mix_ops *ops, bool first, float *dst,
			     const float *src, float g0, float g1, size_t n)
{
	if (first && g0 == g1 && g0 == 1.0f)
		ops->copy(dst, src, n);
	else if (first)
		ops->gain_ramp(dst, src, g0, g1, n);
	else if (g0 != g1)
		ops->add_gain_ramp(dst, src, g0, g1, n);
	else if (g0 == 1.0f)
		ops->add(dst, src, n);
	else if (g0 != 0.0f)
		ops->add_gain(dst, src, g0, n);
}

EL_RT static bool rt_mix_process(void *inst, const struct eng_node_io *io)
{
	struct mix *m = inst;
	float g0, g1;

	for (size_t g = 0; g < m->n_groups; g++) {
		for (size_t done = 0, k; done < io->frames; done += k) {
			k = dsp_ramp_next(&m->ramps[g], io->frames - done, &g0, &g1);
			for (unsigned c = 0; c < m->width; c++)
				rt_mix_one(m->mix, g == 0, io->out[c] + done,
					   io->in[g * m->width + c] + done, g0, g1, k);
		}
	}
	return io->in_silent;
}

static int mix_update_prepare(void *inst, const struct conf_section *sec,
			      const struct eng_node_env *env, void **ret_update,
			      struct el_error *reterr)
{
	struct mix_update *u = NULL;
	struct mix *m = inst;
	unsigned width;
	bool same = true;
	int r;

	r = mix_read(sec, env, &width, &u, reterr);
	if (r < 0)
		return r;
	if (width != m->width || u->n_groups != m->n_groups) {
		free(u);
		return -EOPNOTSUPP;
	}
	/* relaxed: pairs with the relaxed store in rt_mix_update_apply(); lone values */
	for (size_t g = 0; g < m->n_groups && same; g++) {
		uint64_t bits = atomic_load_explicit(&m->gains_db_bits[g], memory_order_relaxed);

		same = u->gains_db[g] == node_bits_to_double(bits);
	}
	if (same) {
		free(u);
		u = NULL;
	}
	*ret_update = u;
	return 0;
}

EL_RT static void rt_mix_update_apply(void *inst, void *update)
{
	struct mix *m = inst;
	const struct mix_update *u = update;

	for (size_t g = 0; g < m->n_groups; g++) {
		dsp_ramp_to(&m->ramps[g], pow(10.0, u->gains_db[g] / 20.0), m->fade_frames);
		/* relaxed: pairs with the relaxed load in mix_update_prepare(); lone values */
		atomic_store_explicit(&m->gains_db_bits[g], node_double_to_bits(u->gains_db[g]),
				      memory_order_relaxed);
	}
}

/* Never skipped mid-ramp: a skipped ramp would stand still (node.h). */
EL_RT static size_t rt_mix_get_tail(const void *inst)
{
	const struct mix *m = inst;

	for (size_t g = 0; g < m->n_groups; g++)
		if (dsp_ramp_is_running(&m->ramps[g]))
			return SIZE_MAX;
	return 0;
}

const struct node_type node_type_mix = {
	.name = "mix",
	.description = "sum of inputs of the same width, each with its own gain",
	.role = NODE_ROLE_PROCESS,
	.keys = mix_keys,
	.create = mix_create,
	.destroy = mix_destroy,
	.get_out_channels = mix_get_out_channels,
	.process = rt_mix_process,
	.get_tail = rt_mix_get_tail,
	.update_prepare = mix_update_prepare,
	.update_apply = rt_mix_update_apply,
	.update_free = free, /* one malloc'ed block */
};
