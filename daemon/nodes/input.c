/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/input.c: the "input" node type — the backend's capture channels entering the
 * graph. The engine hands the capture buffers in as io->in; the node copies them out and tells
 * the engine when they are all digital silence, so silence propagates through the graph.
 */
#include <errno.h>
#include <stdlib.h>

#include "daemon/config/value.h"
#include "daemon/engine/node.h"
#include "daemon/nodes/node-util.h"
#include "dsp/mix.h"

#define INPUT_KEYS "channels"

static const char *const input_keys[] = {INPUT_KEYS, NULL};
static const char *const input_allowed[] = {"type", "input", INPUT_KEYS, NULL};

struct input {
	unsigned channels;
	const struct dsp_mix_ops *mix; /* borrowed: the engine's, outlives every node */
};

/* Checks sec and reads its channel count. */
static int input_read(const struct conf_section *sec, uint32_t *ret_channels,
		      struct el_error *reterr)
{
	int r = conf_check_keys(sec, input_allowed, reterr);

	if (r < 0)
		return r;
	return conf_get_u32(sec, "channels", 2, 1, 64, ret_channels, reterr);
}

static int input_create(const struct conf_section *sec, const struct eng_node_env *env, void **ret,
			struct el_error *reterr)
{
	struct input *in;
	uint32_t channels;
	int r;

	r = input_read(sec, &channels, reterr);
	if (r < 0)
		return r;
	in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	in->channels = channels;
	in->mix = env->mix;
	*ret = in;
	return 0;
}

/* A new channel count needs a new instance; the same one changes nothing. */
static int input_update_prepare(void *inst, const struct conf_section *sec,
				const struct eng_node_env *env, void **ret_update,
				struct el_error *reterr)
{
	struct input *in = inst;
	uint32_t channels;
	int r;

	(void)env;
	r = input_read(sec, &channels, reterr);
	if (r < 0)
		return r;
	if (channels != in->channels)
		return -EOPNOTSUPP;
	*ret_update = NULL;
	return 0;
}

static unsigned input_get_out_channels(const void *inst)
{
	const struct input *in = inst;

	return in->channels;
}

/* True when all n samples are exactly zero (either sign); stops at the first that is not. */
EL_RT static bool rt_is_zero(const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (x[i] != 0.0f)
			return false;
	return true;
}

EL_RT static bool rt_input_process(void *inst, const struct eng_node_io *io)
{
	struct input *in = inst;
	bool silent = true;

	for (unsigned c = 0; c < io->n_out; c++) {
		if (c < io->n_in) {
			in->mix->copy(io->out[c], io->in[c], io->frames);
			/* Once one sample is not zero the answer is known: scan no further. */
			if (silent)
				silent = rt_is_zero(io->in[c], io->frames);
		} else {
			in->mix->clear(io->out[c], io->frames);
		}
	}
	return silent;
}

const struct node_type node_type_input = {
	.name = "input",
	.description = "capture channels of the audio backend",
	.role = NODE_ROLE_CAPTURE,
	.keys = input_keys,
	.create = input_create,
	.destroy = free,
	.get_out_channels = input_get_out_channels,
	.process = rt_input_process,
	/*
	 * Not SIZE_MAX, though the capture never ends by itself: a tail of SIZE_MAX would keep the
	 * node from ever being skipped. The return value of process() reports silence instead.
	 */
	.get_tail = node_get_tail_none,
	.update_prepare = input_update_prepare,
	/* Never called: input_update_prepare() never makes an update. */
	.update_apply = node_update_apply_none,
	.update_free = free,
};
