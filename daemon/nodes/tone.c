/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/tone.c: the "tone" node type — a sine source (test tone, calibration), the same
 * signal on every output channel.
 *
 * The phase is kept in double, in cycles, and wrapped every cycle, so the frequency does not
 * drift and the phase stays accurate to about 1e-16 of a cycle per frame even after hours.
 * A level change ramps the linear amplitude over the engine's fade length; a frequency change
 * keeps the phase continuous (the waveform bends, it does not jump).
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

#define TONE_KEYS "freq", "level_db", "channels"

static const char *const tone_keys[] = {TONE_KEYS, NULL};
static const char *const tone_allowed[] = {"type", "input", TONE_KEYS, NULL};

#define TONE_MIN_DB (-120.0)

enum { TONE_PARAM_FREQ, TONE_PARAM_LEVEL_DB };

static const struct node_param tone_params[] = {
	/* The upper bound here is the highest any rate allows; set_param() checks rate / 2. */
	[TONE_PARAM_FREQ] =
		{.name = "freq", .unit = "Hz", .min = 1.0, .max = 192000.0, .settable = true},
	[TONE_PARAM_LEVEL_DB] = {.name = "level_db",
				 .unit = "dB",
				 .min = TONE_MIN_DB,
				 .max = 0.0,
				 .settable = true},
};

struct tone_settings {
	double freq;     /* Hz */
	double level_db; /* peak amplitude, dBFS */
	uint32_t channels;
};

struct tone {
	unsigned channels;
	uint32_t rate, fade_frames;
	const struct dsp_mix_ops *mix; /* borrowed: the engine's, outlives every node */
	double phase;                  /* cycles, in [0, 1); RT thread only */
	double inc;                    /* cycles per frame; RT thread only */
	struct dsp_ramp level;         /* RT thread only */
	/* Bits of the freq and level_db doubles: written by the RT thread, read anywhere. */
	_Atomic uint64_t freq_bits, level_db_bits;
};

static int tone_read(const struct conf_section *sec, const struct eng_node_env *env,
		     struct tone_settings *ret, struct el_error *reterr)
{
	int r = conf_check_keys(sec, tone_allowed, reterr);

	if (r < 0)
		return r;
	r = conf_get_double(sec, "freq", 1000.0, 1.0, env->rate / 2.0 - 1.0, &ret->freq, reterr);
	if (r < 0)
		return r;
	r = conf_get_double(sec, "level_db", -20.0, TONE_MIN_DB, 0.0, &ret->level_db, reterr);
	if (r < 0)
		return r;
	return conf_get_u32(sec, "channels", 1, 1, 64, &ret->channels, reterr);
}

static int tone_create(const struct conf_section *sec, const struct eng_node_env *env, void **ret,
		       struct el_error *reterr)
{
	struct tone_settings s;
	struct tone *t;
	int r;

	r = tone_read(sec, env, &s, reterr);
	if (r < 0)
		return r;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->channels = s.channels;
	t->rate = env->rate;
	t->fade_frames = env->fade_frames;
	t->mix = env->mix;
	t->inc = s.freq / env->rate;
	dsp_ramp_set(&t->level, pow(10.0, s.level_db / 20.0));
	atomic_init(&t->freq_bits, node_double_to_bits(s.freq));
	atomic_init(&t->level_db_bits, node_double_to_bits(s.level_db));
	*ret = t;
	return 0;
}

static unsigned tone_get_out_channels(const void *inst)
{
	const struct tone *t = inst;

	return t->channels;
}

EL_RT static bool rt_tone_process(void *inst, const struct eng_node_io *io)
{
	struct tone *t = inst;
	float *y = io->out[0], g0, g1;
	double ph = t->phase;

	for (unsigned i = 0; i < io->frames; i++) {
		y[i] = (float)sin(2.0 * M_PI * ph);
		ph += t->inc;
		if (ph >= 1.0)
			ph -= 1.0;
	}
	t->phase = ph;
	for (size_t done = 0, m; done < io->frames; done += m) {
		m = dsp_ramp_next(&t->level, io->frames - done, &g0, &g1);
		t->mix->gain_ramp(y + done, y + done, g0, g1, m);
	}
	for (unsigned c = 1; c < io->n_out; c++)
		t->mix->copy(io->out[c], y, io->frames);
	return false;
}

/* relaxed (all): lone values; pair with the relaxed loads in tone_load(). */
EL_RT static void rt_tone_set(struct tone *t, double freq, double level_db)
{
	t->inc = freq / t->rate;
	dsp_ramp_to(&t->level, pow(10.0, level_db / 20.0), t->fade_frames);
	atomic_store_explicit(&t->freq_bits, node_double_to_bits(freq), memory_order_relaxed);
	atomic_store_explicit(&t->level_db_bits, node_double_to_bits(level_db),
			      memory_order_relaxed);
}

/* relaxed (both): pair with rt_tone_set(); a reader may see one new and one old value. */
static void tone_load(const struct tone *t, double *ret_freq, double *ret_level_db)
{
	*ret_freq = node_bits_to_double(atomic_load_explicit(&t->freq_bits, memory_order_relaxed));
	*ret_level_db =
		node_bits_to_double(atomic_load_explicit(&t->level_db_bits, memory_order_relaxed));
}

static int tone_update_prepare(void *inst, const struct conf_section *sec,
			       const struct eng_node_env *env, void **ret_update,
			       struct el_error *reterr)
{
	struct tone_settings s;
	struct tone *t = inst;
	double freq, level_db;
	bool same;
	int r;

	r = tone_read(sec, env, &s, reterr);
	if (r < 0)
		return r;
	if (s.channels != t->channels || env->rate != t->rate)
		return -EOPNOTSUPP;
	tone_load(t, &freq, &level_db);
	same = s.freq == freq && s.level_db == level_db;
	return node_update_new(same ? NULL : &s, sizeof(s), ret_update);
}

EL_RT static void rt_tone_update_apply(void *inst, void *update)
{
	const struct tone_settings *s = update;

	rt_tone_set(inst, s->freq, s->level_db);
}

EL_RT static int rt_tone_set_param(void *inst, unsigned id, double value)
{
	struct tone *t = inst;
	double freq, level_db;

	tone_load(t, &freq, &level_db);
	if (id == TONE_PARAM_FREQ && value >= 1.0 && value <= t->rate / 2.0 - 1.0)
		freq = value;
	else if (id == TONE_PARAM_LEVEL_DB)
		level_db = value;
	else
		return -EINVAL;
	rt_tone_set(t, freq, level_db);
	return 0;
}

static int tone_get_param(const void *inst, unsigned id, unsigned channel, double *ret)
{
	double freq, level_db;

	(void)channel;
	tone_load(inst, &freq, &level_db);
	if (id == TONE_PARAM_FREQ)
		*ret = freq;
	else if (id == TONE_PARAM_LEVEL_DB)
		*ret = level_db;
	else
		return -EINVAL;
	return 0;
}

const struct node_type node_type_tone = {
	.name = "tone",
	.description = "sine generator",
	.role = NODE_ROLE_PROCESS,
	.source = true,
	.keys = tone_keys,
	.params = tone_params,
	.n_params = EL_N_ELEMENTS(tone_params),
	.create = tone_create,
	.destroy = free,
	.get_out_channels = tone_get_out_channels,
	.process = rt_tone_process,
	.get_tail = node_get_tail_endless, /* a source never falls silent by itself */
	.update_prepare = tone_update_prepare,
	.update_apply = rt_tone_update_apply,
	.update_free = free, /* one malloc'ed block */
	.set_param = rt_tone_set_param,
	.get_param = tone_get_param,
};
