/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/gain.c: the "gain" node type — a volume control with mute and polarity for any
 * number of channels, passed through one to one.
 *
 * Every change (a runtime set or a config update) ramps the linear gain over the engine's fade
 * length, so nothing clicks or zippers. Polarity is the gain's sign: inverting ramps from +g
 * through zero to -g, a crossfade between the two polarities. At exactly unity with no ramp
 * running the node copies, so a gain of 0 dB is bit-exact (and -1 negates exactly).
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

#define GAIN_KEYS "gain_db", "mute", "invert"

static const char *const gain_keys[] = {GAIN_KEYS, NULL};
static const char *const gain_allowed[] = {"type", "input", GAIN_KEYS, NULL};

#define GAIN_MIN_DB (-120.0)
#define GAIN_MAX_DB 24.0

enum { GAIN_PARAM_GAIN_DB, GAIN_PARAM_MUTE, GAIN_PARAM_INVERT };

static const struct node_param gain_params[] = {
	[GAIN_PARAM_GAIN_DB] = {.name = "gain_db",
				.unit = "dB",
				.min = GAIN_MIN_DB,
				.max = GAIN_MAX_DB,
				.settable = true},
	[GAIN_PARAM_MUTE] =
		{.name = "mute", .unit = "bool", .min = 0.0, .max = 1.0, .settable = true},
	[GAIN_PARAM_INVERT] =
		{.name = "invert", .unit = "bool", .min = 0.0, .max = 1.0, .settable = true},
};

/* What a gain is set to; also the update a new config section becomes. */
struct gain_settings {
	double gain_db;
	bool mute;
	bool invert; /* polarity */
};

struct gain {
	unsigned channels;
	uint32_t fade_frames;
	const struct dsp_mix_ops *mix; /* borrowed: the engine's, outlives every node */
	struct dsp_ramp ramp;          /* RT thread only */
	/*
	 * The settings for get_param() and update_prepare() on other threads: the bits of the
	 * gain_db double, mute and invert. Written only by the RT thread (or create).
	 */
	_Atomic uint64_t gain_db_bits;
	_Atomic uint32_t mute;
	_Atomic uint32_t invert;
};

static double settings_linear(const struct gain_settings *s)
{
	return s->mute ? 0.0 : (s->invert ? -1.0 : 1.0) * pow(10.0, s->gain_db / 20.0);
}

static int gain_read(const struct conf_section *sec, const struct eng_node_env *env,
		     struct gain_settings *ret, struct el_error *reterr)
{
	int r = conf_check_keys(sec, gain_allowed, reterr);

	if (r < 0)
		return r;
	r = conf_get_double(sec, "gain_db", 0.0, GAIN_MIN_DB, GAIN_MAX_DB, &ret->gain_db, reterr);
	if (r < 0)
		return r;
	r = conf_get_bool(sec, "mute", false, &ret->mute, reterr);
	if (r < 0)
		return r;
	r = conf_get_bool(sec, "invert", false, &ret->invert, reterr);
	if (r < 0)
		return r;
	if (env->in_channels < 1)
		return conf_error_section(reterr, -EINVAL, sec, "a gain needs an input");
	return 0;
}

/* relaxed (both): the values stand alone; pair with the relaxed loads in gain_load(). */
EL_RT static void rt_gain_publish(struct gain *g, const struct gain_settings *s)
{
	atomic_store_explicit(&g->gain_db_bits, node_double_to_bits(s->gain_db),
			      memory_order_relaxed);
	atomic_store_explicit(&g->mute, s->mute, memory_order_relaxed);
	atomic_store_explicit(&g->invert, s->invert, memory_order_relaxed);
}

/* relaxed (both): pair with rt_gain_publish(); a reader may see one new and one old value. */
static void gain_load(const struct gain *g, struct gain_settings *ret)
{
	ret->gain_db =
		node_bits_to_double(atomic_load_explicit(&g->gain_db_bits, memory_order_relaxed));
	ret->mute = atomic_load_explicit(&g->mute, memory_order_relaxed) != 0;
	ret->invert = atomic_load_explicit(&g->invert, memory_order_relaxed) != 0;
}

static int gain_create(const struct conf_section *sec, const struct eng_node_env *env, void **ret,
		       struct el_error *reterr)
{
	struct gain_settings s;
	struct gain *g;
	int r;

	r = gain_read(sec, env, &s, reterr);
	if (r < 0)
		return r;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->channels = env->in_channels;
	g->fade_frames = env->fade_frames;
	g->mix = env->mix;
	/* No ramp at creation: the engine fades a new node in. */
	dsp_ramp_set(&g->ramp, settings_linear(&s));
	atomic_init(&g->gain_db_bits, node_double_to_bits(s.gain_db));
	atomic_init(&g->mute, s.mute);
	atomic_init(&g->invert, s.invert);
	*ret = g;
	return 0;
}

static unsigned gain_get_out_channels(const void *inst)
{
	const struct gain *g = inst;

	return g->channels;
}

EL_RT static void rt_apply(const struct dsp_mix_ops *mix, float *dst, const float *src, float g0,
			   float g1, size_t n)
{
	if (g0 != g1)
		mix->gain_ramp(dst, src, g0, g1, n);
	else if (g0 == 1.0f)
		mix->copy(dst, src, n); /* bit-exact unity */
	else if (g0 == 0.0f)
		mix->clear(dst, n);
	else
		mix->gain_ramp(dst, src, g0, g0, n);
}

EL_RT static bool rt_gain_process(void *inst, const struct eng_node_io *io)
{
	struct gain *g = inst;
	size_t done = 0, m;
	float g0, g1;

	while (done < io->frames) {
		m = dsp_ramp_next(&g->ramp, io->frames - done, &g0, &g1);
		for (unsigned c = 0; c < io->n_out && c < io->n_in; c++)
			rt_apply(g->mix, io->out[c] + done, io->in[c] + done, g0, g1, m);
		done += m;
	}
	return io->in_silent;
}

EL_RT static void rt_gain_set(struct gain *g, const struct gain_settings *s)
{
	rt_gain_publish(g, s);
	dsp_ramp_to(&g->ramp, settings_linear(s), g->fade_frames);
}

static int gain_update_prepare(void *inst, const struct conf_section *sec,
			       const struct eng_node_env *env, void **ret_update,
			       struct el_error *reterr)
{
	struct gain_settings s, now;
	struct gain *g = inst;
	bool same;
	int r;

	r = gain_read(sec, env, &s, reterr);
	if (r < 0)
		return r;
	if (env->in_channels != g->channels)
		return -EOPNOTSUPP;
	gain_load(g, &now);
	same = s.gain_db == now.gain_db && s.mute == now.mute && s.invert == now.invert;
	return node_update_new(same ? NULL : &s, sizeof(s), ret_update);
}

EL_RT static void rt_gain_update_apply(void *inst, void *update)
{
	rt_gain_set(inst, update);
}

EL_RT static int rt_gain_set_param(void *inst, unsigned id, double value)
{
	struct gain *g = inst;
	struct gain_settings s;

	gain_load(g, &s);
	if (id == GAIN_PARAM_GAIN_DB)
		s.gain_db = value;
	else if (id == GAIN_PARAM_MUTE)
		s.mute = value != 0.0;
	else if (id == GAIN_PARAM_INVERT)
		s.invert = value != 0.0;
	else
		return -EINVAL;
	rt_gain_set(g, &s);
	return 0;
}

static int gain_get_param(const void *inst, unsigned id, unsigned channel, double *ret)
{
	struct gain_settings s;

	(void)channel;
	gain_load(inst, &s);
	if (id == GAIN_PARAM_GAIN_DB)
		*ret = s.gain_db;
	else if (id == GAIN_PARAM_MUTE)
		*ret = s.mute;
	else if (id == GAIN_PARAM_INVERT)
		*ret = s.invert;
	else
		return -EINVAL;
	return 0;
}

/* Never skipped mid-ramp: a skipped ramp would stand still (node.h). */
EL_RT static size_t rt_gain_get_tail(const void *inst)
{
	const struct gain *g = inst;

	return dsp_ramp_is_running(&g->ramp) ? SIZE_MAX : 0;
}

const struct node_type node_type_gain = {
	.name = "gain",
	.description = "volume, mute and polarity, ramped",
	.role = NODE_ROLE_PROCESS,
	.keys = gain_keys,
	.params = gain_params,
	.n_params = EL_N_ELEMENTS(gain_params),
	.create = gain_create,
	.destroy = free,
	.get_out_channels = gain_get_out_channels,
	.process = rt_gain_process,
	.get_tail = rt_gain_get_tail,
	.update_prepare = gain_update_prepare,
	.update_apply = rt_gain_update_apply,
	.update_free = free, /* one malloc'ed block */
	.set_param = rt_gain_set_param,
	.get_param = gain_get_param,
};
