/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/output.c: the "output" node type — the graph leaving for the backend's playback
 * channels. The engine hands the playback buffers in as io->out; the node copies its input
 * there and counts the samples that will clip (|x| > 1.0) for the read-only parameter "clips".
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "daemon/engine/node.h"
#include "daemon/nodes/node-util.h"
#include "dsp/mix.h"

static const char *const output_keys[] = {NULL};
static const char *const output_allowed[] = {"type", "input", NULL};

enum { OUTPUT_PARAM_CLIPS };

static const struct node_param output_params[] = {
	[OUTPUT_PARAM_CLIPS] = {.name = "clips",
				.unit = "samples",
				.min = 0.0,
				.max = 9007199254740992.0 /* 2^53: exact in a double */},
};

struct output {
	unsigned channels;
	const struct dsp_mix_ops *mix; /* borrowed: the engine's, outlives every node */
	_Atomic uint64_t clips;        /* samples with |x| > 1.0 since creation */
};

/* The section must be valid and the node fed: an output without input would play nothing. */
static int output_check(const struct conf_section *sec, const struct eng_node_env *env,
			struct el_error *reterr)
{
	return node_check_input(sec, output_allowed, env, "an output needs an input", reterr);
}

static int output_create(const struct conf_section *sec, const struct eng_node_env *env, void **ret,
			 struct el_error *reterr)
{
	struct output *o;
	int r;

	r = output_check(sec, env, reterr);
	if (r < 0)
		return r;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->channels = env->in_channels;
	o->mix = env->mix;
	atomic_init(&o->clips, 0);
	*ret = o;
	return 0;
}

static unsigned output_get_out_channels(const void *inst)
{
	const struct output *o = inst;

	return o->channels;
}

EL_RT static bool rt_output_process(void *inst, const struct eng_node_io *io)
{
	struct output *o = inst;
	uint64_t clips = 0;

	for (unsigned c = 0; c < io->n_out; c++) {
		if (c < io->n_in && !io->in_silent) {
			float peak, sum_sq;

			/* the copy finds the peak on the way; only a block that clipped is
			 * counted (a pass over every block cost as much as the copy) */
			o->mix->copy_measure(io->out[c], io->in[c], io->frames, &peak, &sum_sq);
			if (peak > 1.0f)
				clips += o->mix->count_over(io->in[c], 1.0f, io->frames);
		} else {
			o->mix->clear(io->out[c], io->frames);
		}
	}
	/*
	 * relaxed: a lone counter, nothing else is published with it; pairs with the relaxed load
	 * in output_get_param(). Only this thread writes it, so load + store cannot lose counts.
	 */
	if (clips)
		atomic_store_explicit(&o->clips,
				      atomic_load_explicit(&o->clips, memory_order_relaxed) + clips,
				      memory_order_relaxed);
	return io->in_silent;
}

/* No keys: nothing to change, unless the input's channel count did (a new instance then). */
static int output_update_prepare(void *inst, const struct conf_section *sec,
				 const struct eng_node_env *env, void **ret_update,
				 struct el_error *reterr)
{
	struct output *o = inst;
	int r = output_check(sec, env, reterr);

	if (r < 0)
		return r;
	if (env->in_channels != o->channels)
		return -EOPNOTSUPP;
	*ret_update = NULL;
	return 0;
}

static int output_get_param(const void *inst, unsigned id, unsigned channel, double *ret)
{
	const struct output *o = inst;

	(void)channel;
	if (id != OUTPUT_PARAM_CLIPS)
		return -EINVAL;
	/* relaxed: pairs with the relaxed store in rt_output_process(); a lone counter */
	*ret = (double)atomic_load_explicit(&o->clips, memory_order_relaxed);
	return 0;
}

const struct node_type node_type_output = {
	.name = "output",
	.description = "playback channels of the audio backend",
	.role = NODE_ROLE_PLAYBACK,
	.keys = output_keys,
	.params = output_params,
	.n_params = EL_N_ELEMENTS(output_params),
	.create = output_create,
	.destroy = free,
	.get_out_channels = output_get_out_channels,
	.process = rt_output_process,
	.get_tail = node_get_tail_none,
	.update_prepare = output_update_prepare,
	/* Never called: output_update_prepare() never makes an update. */
	.update_apply = node_update_apply_none,
	.update_free = free,
	.get_param = output_get_param,
};
