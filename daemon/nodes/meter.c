/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/meter.c: the "meter" node type — passes its input through unchanged and
 * publishes, per channel, the peak and RMS level of every cycle and a peak hold that falls
 * 20 dB per second, as read-only parameters (dBFS; silence reads -200).
 *
 * The values are floats stored as bits in _Atomic uint32_t, written with relaxed stores and
 * read with relaxed loads. That is enough: each value stands alone (nothing else is published
 * with it, no reader follows it to other data), a 32-bit atomic is never torn, and a reader
 * that sees one channel's value from this cycle and another's from the last is fine for a
 * meter.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/node.h"
#include "daemon/nodes/node-util.h"
#include "dsp/mix.h"

static const char *const meter_keys[] = {NULL};
static const char *const meter_allowed[] = {"type", "input", NULL};

/* How fast the peak hold falls, and what silence (or less) reads as. */
#define METER_HOLD_DECAY_DB_S 20.0
#define METER_FLOOR_DB        (-200.0)
#define METER_FLOOR_LINEAR    1e-10f /* METER_FLOOR_DB as an amplitude */

enum { METER_PARAM_PEAK_DB, METER_PARAM_RMS_DB, METER_PARAM_HOLD_DB };

static const struct node_param meter_params[] = {
	[METER_PARAM_PEAK_DB] = {.name = "peak_db",
				 .unit = "dB",
				 .min = METER_FLOOR_DB,
				 .max = 200.0,
				 .per_channel = true},
	[METER_PARAM_RMS_DB] = {.name = "rms_db",
				.unit = "dB",
				.min = METER_FLOOR_DB,
				.max = 200.0,
				.per_channel = true},
	[METER_PARAM_HOLD_DB] = {.name = "hold_db",
				 .unit = "dB",
				 .min = METER_FLOOR_DB,
				 .max = 200.0,
				 .per_channel = true},
};

struct meter_chan {
	float hold;                /* RT thread only: the peak hold, linear */
	_Atomic uint32_t value[3]; /* float bits, linear, by enum METER_PARAM_* */
};

struct meter {
	unsigned channels;
	uint32_t rate;
	double decay_block; /* the hold's factor per block (20 dB/s) */
	unsigned block;
	const struct dsp_mix_ops *mix; /* borrowed: the engine's, outlives every node */
	struct meter_chan *chan;       /* channels */
};

static int meter_check(const struct conf_section *sec, const struct eng_node_env *env,
		       struct el_error *reterr)
{
	return node_check_input(sec, meter_allowed, env, "a meter needs an input", reterr);
}

static void meter_destroy(void *inst)
{
	struct meter *m = inst;

	if (!m)
		return;
	free(m->chan);
	free(m);
}

static int meter_create(const struct conf_section *sec, const struct eng_node_env *env, void **ret,
			struct el_error *reterr)
{
	struct meter *m;
	int r;

	r = meter_check(sec, env, reterr);
	if (r < 0)
		return r;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->chan = calloc(env->in_channels, sizeof(*m->chan));
	if (!m->chan) {
		meter_destroy(m);
		return -ENOMEM;
	}
	m->channels = env->in_channels;
	m->rate = env->rate;
	m->block = env->block;
	m->decay_block = pow(10.0, -METER_HOLD_DECAY_DB_S / 20.0 * env->block / env->rate);
	m->mix = env->mix;
	for (unsigned c = 0; c < m->channels; c++)
		for (unsigned k = 0; k < 3; k++)
			atomic_init(&m->chan[c].value[k], 0); /* the bits of 0.0f */
	*ret = m;
	return 0;
}

static unsigned meter_get_out_channels(const void *inst)
{
	const struct meter *m = inst;

	return m->channels;
}

/* relaxed: a lone value, see the file comment; pairs with the relaxed load in get_param. */
EL_RT static void rt_publish(_Atomic uint32_t *a, float v)
{
	uint32_t u;

	memcpy(&u, &v, sizeof(u));
	atomic_store_explicit(a, u, memory_order_relaxed);
}

EL_RT static bool rt_meter_process(void *inst, const struct eng_node_io *io)
{
	struct meter *m = inst;
	double decay = io->frames == m->block
			       ? m->decay_block
			       : pow(10.0, -METER_HOLD_DECAY_DB_S / 20.0 * io->frames / m->rate);

	for (unsigned c = 0; c < m->channels; c++) {
		struct meter_chan *ch = &m->chan[c];
		float peak = 0.0f, sum_sq = 0.0f;
		double ms = 0.0;

		if (io->in_silent) {
			m->mix->clear(io->out[c], io->frames);
		} else {
			/* the copy and the measurement in one pass over the block */
			m->mix->copy_measure(io->out[c], io->in[c], io->frames, &peak, &sum_sq);
			ms = io->frames ? (double)sum_sq / (double)io->frames : 0.0;
		}
		ch->hold = fmaxf(peak, (float)(ch->hold * decay));
		if (ch->hold <= METER_FLOOR_LINEAR)
			ch->hold = 0.0f; /* at the floor: the hold has finished falling */
		rt_publish(&ch->value[METER_PARAM_PEAK_DB], peak);
		rt_publish(&ch->value[METER_PARAM_RMS_DB], (float)sqrt(ms));
		rt_publish(&ch->value[METER_PARAM_HOLD_DB], ch->hold);
	}
	return io->in_silent;
}

/* Keep running on silence while a hold is still falling, so readers see it reach the floor. */
EL_RT static size_t rt_meter_get_tail(const void *inst)
{
	const struct meter *m = inst;

	for (unsigned c = 0; c < m->channels; c++)
		if (m->chan[c].hold > METER_FLOOR_LINEAR)
			return SIZE_MAX;
	return 0;
}

/* No keys: nothing to change, unless the input's channel count did (a new instance then). */
static int meter_update_prepare(void *inst, const struct conf_section *sec,
				const struct eng_node_env *env, void **ret_update,
				struct el_error *reterr)
{
	struct meter *m = inst;
	int r = meter_check(sec, env, reterr);

	if (r < 0)
		return r;
	if (env->in_channels != m->channels)
		return -EOPNOTSUPP;
	*ret_update = NULL;
	return 0;
}

static int meter_get_param(const void *inst, unsigned id, unsigned channel, double *ret)
{
	const struct meter *m = inst;
	uint32_t u;
	float v;

	if (id >= EL_N_ELEMENTS(meter_params) || channel >= m->channels)
		return -EINVAL;
	/* relaxed: pairs with rt_publish(); a lone value, see the file comment */
	u = atomic_load_explicit(&m->chan[channel].value[id], memory_order_relaxed);
	memcpy(&v, &u, sizeof(v));
	*ret = v > 0.0f ? fmax(20.0 * log10(v), METER_FLOOR_DB) : METER_FLOOR_DB;
	return 0;
}

const struct node_type node_type_meter = {
	.name = "meter",
	.description = "peak, RMS and peak-hold levels per channel; passes its input through",
	.role = NODE_ROLE_PROCESS,
	.keys = meter_keys,
	.params = meter_params,
	.n_params = EL_N_ELEMENTS(meter_params),
	.create = meter_create,
	.destroy = meter_destroy,
	.get_out_channels = meter_get_out_channels,
	.process = rt_meter_process,
	.get_tail = rt_meter_get_tail,
	.update_prepare = meter_update_prepare,
	/* Never called: meter_update_prepare() never makes an update. */
	.update_apply = node_update_apply_none,
	.update_free = free,
	.get_param = meter_get_param,
};
