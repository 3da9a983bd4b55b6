/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/noise.c: the "noise" node type — white or pink noise at a given RMS level, an
 * independent generator per output channel.
 *
 * DESIGN
 * - Random numbers: Marsaglia's xorshift32 per channel, seeded from `seed` and the channel
 *   index through a splitmix64 step, so channels are uncorrelated and a run is reproducible.
 *   A sample is the 32-bit state as a signed fraction: uniform in [-1, 1), RMS 1/sqrt(3).
 * - Pink: Paul Kellet's "refined" filter (a weighted sum of six first-order low-passes and a
 *   direct term) on the white sequence. Kellet states it is within +/-0.05 dB of a -3 dB/octave
 *   slope above 9.2 Hz at 44.1 kHz; its poles are fixed per sample, so at a rate R that corner
 *   moves to 9.2 * R / 44100 Hz (10 Hz at 48 kHz), and the slope is the same. Chosen over
 *   Voss-McCartney, whose octave-spaced rows leave ripples of about 1 dB in the spectrum.
 * - Level: the RMS of the output in dBFS. White is scaled by sqrt(3); pink by the RMS of the
 *   filter for a white input of RMS 1, computed once from its impulse response. Peaks exceed the
 *   RMS by about 4.8 dB (white, uniform) or 12 dB and more (pink): at high levels they clip.
 * - Level changes ramp the linear gain over the engine's fade length.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config/value.h"
#include "daemon/config/config.h"
#include "daemon/engine/node.h"
#include "daemon/nodes/node-util.h"
#include "dsp/mix.h"
#include "dsp/ramp.h"

#define NOISE_KEYS "color", "level_db", "channels", "seed"

static const char *const noise_keys[] = {NOISE_KEYS, NULL};
static const char *const noise_allowed[] = {"type", "input", NOISE_KEYS, NULL};

#define NOISE_MIN_DB (-120.0)

enum noise_color { NOISE_WHITE, NOISE_PINK };
static const char *const noise_colors[] = {[NOISE_WHITE] = "white", [NOISE_PINK] = "pink"};

enum { NOISE_PARAM_LEVEL_DB };

static const struct node_param noise_params[] = {
	[NOISE_PARAM_LEVEL_DB] = {.name = "level_db",
				  .unit = "dB",
				  .min = NOISE_MIN_DB,
				  .max = 0.0,
				  .settable = true},
};

/* Kellet's refined filter: six one-pole low-passes (pole, input weight), a direct term. */
static const double pink_pole[6] = {0.99886, 0.99332, 0.96900, 0.86650, 0.55000, -0.7616};
static const double pink_weight[6] = {0.0555179, 0.0750759, 0.1538520,
				      0.3104856, 0.5329522, -0.0168980};
#define PINK_DIRECT  0.5362   /* white[n] */
#define PINK_DELAYED 0.115926 /* white[n - 1] */

struct noise_settings {
	unsigned color; /* enum noise_color */
	double level_db;
	uint32_t channels, seed;
};

struct noise_chan {
	uint32_t x;     /* xorshift32 state, never 0 */
	double pink[7]; /* the six low-passes, then the delayed white term */
};

struct noise {
	unsigned channels;
	uint32_t fade_frames;
	const struct dsp_mix_ops *mix; /* borrowed: the engine's, outlives every node */
	/* RT thread only: */
	unsigned color;
	uint32_t seed;
	double pink_scale; /* 1 / RMS of the pink filter for a white input of RMS 1 */
	struct dsp_ramp level;
	struct noise_chan *chan; /* channels */
	/* The settings last applied (level_db as double bits), for get_param() and updates. */
	_Atomic uint64_t level_db_bits;
	_Atomic uint32_t color_now, seed_now;
};

/* RMS of Kellet's filter output for a white input of RMS 1: sqrt of its impulse energy. */
static double pink_rms(void)
{
	double p[6], h0 = PINK_DIRECT, h1 = PINK_DELAYED, e;

	for (int i = 0; i < 6; i++) {
		h0 += pink_weight[i];
		h1 += pink_weight[i] * pink_pole[i];
		p[i] = pink_weight[i] * pink_pole[i];
	}
	e = h0 * h0 + h1 * h1;
	/* The slowest pole (0.99886) falls below 1e-12 of its weight in 24,000 frames. */
	for (int n = 2; n < 100000; n++) {
		double h = 0.0;

		for (int i = 0; i < 6; i++) {
			p[i] *= pink_pole[i];
			h += p[i];
		}
		e += h * h;
	}
	return sqrt(e);
}

static int noise_read(const struct conf_section *sec, struct noise_settings *ret,
		      struct el_error *reterr)
{
	int r = conf_check_keys(sec, noise_allowed, reterr);

	if (r < 0)
		return r;
	r = conf_get_enum(sec, "color", NOISE_WHITE, noise_colors, EL_N_ELEMENTS(noise_colors),
			  &ret->color, reterr);
	if (r < 0)
		return r;
	r = conf_get_double(sec, "level_db", -20.0, NOISE_MIN_DB, 0.0, &ret->level_db, reterr);
	if (r < 0)
		return r;
	r = conf_get_u32(sec, "channels", 1, 1, 64, &ret->channels, reterr);
	if (r < 0)
		return r;
	return conf_get_u32(sec, "seed", 1, 0, UINT32_MAX, &ret->seed, reterr);
}

/* splitmix64 of (seed, channel): well-spread, and never the forbidden xorshift state 0. */
EL_RT static uint32_t rt_seed_state(uint32_t seed, unsigned channel)
{
	uint64_t z = ((uint64_t)seed << 32 | channel) + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (uint32_t)z ? (uint32_t)z : 0x6d2b79f5u;
}

EL_RT static void rt_noise_seed(struct noise *n)
{
	for (unsigned c = 0; c < n->channels; c++) {
		n->chan[c] = (struct noise_chan){.x = rt_seed_state(n->seed, c)};
	}
}

static void noise_destroy(void *inst)
{
	struct noise *n = inst;

	if (!n)
		return;
	free(n->chan);
	free(n);
}

static int noise_create(const struct conf_section *sec, const struct eng_node_env *env, void **ret,
			struct el_error *reterr)
{
	struct noise_settings s;
	struct noise *n;
	int r;

	r = noise_read(sec, &s, reterr);
	if (r < 0)
		return r;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->chan = calloc(s.channels, sizeof(*n->chan));
	if (!n->chan) {
		noise_destroy(n);
		return -ENOMEM;
	}
	n->channels = s.channels;
	n->fade_frames = env->fade_frames;
	n->mix = env->mix;
	n->color = s.color;
	n->seed = s.seed;
	n->pink_scale = 1.0 / pink_rms();
	dsp_ramp_set(&n->level, pow(10.0, s.level_db / 20.0));
	rt_noise_seed(n);
	atomic_init(&n->level_db_bits, node_double_to_bits(s.level_db));
	atomic_init(&n->color_now, s.color);
	atomic_init(&n->seed_now, s.seed);
	*ret = n;
	return 0;
}

static unsigned noise_get_out_channels(const void *inst)
{
	const struct noise *n = inst;

	return n->channels;
}

/* Marsaglia's xorshift32 (13, 17, 5): period 2^32 - 1; the state as a fraction in [-1, 1). */
EL_RT static double rt_white(struct noise_chan *ch)
{
	uint32_t x = ch->x;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	ch->x = x;
	return (double)(int32_t)x * (1.0 / 2147483648.0);
}

/* n frames of noise with RMS 1 into y. */
EL_RT static void rt_generate(const struct noise *n, struct noise_chan *ch, float *y, size_t len)
{
	const double ws = sqrt(3.0), ps = n->pink_scale * sqrt(3.0);
	double *b = ch->pink;

	if (n->color == NOISE_WHITE) {
		for (size_t i = 0; i < len; i++)
			y[i] = (float)(rt_white(ch) * ws);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		double w = rt_white(ch), p = b[6] + PINK_DIRECT * w;

		for (int k = 0; k < 6; k++) {
			b[k] = pink_pole[k] * b[k] + pink_weight[k] * w;
			p += b[k];
		}
		b[6] = PINK_DELAYED * w;
		y[i] = (float)(p * ps);
	}
}

EL_RT static bool rt_noise_process(void *inst, const struct eng_node_io *io)
{
	struct noise *n = inst;
	float g0, g1;

	for (unsigned c = 0; c < io->n_out; c++)
		rt_generate(n, &n->chan[c], io->out[c], io->frames);
	for (size_t done = 0, m; done < io->frames; done += m) {
		m = dsp_ramp_next(&n->level, io->frames - done, &g0, &g1);
		for (unsigned c = 0; c < io->n_out; c++)
			n->mix->gain_ramp(io->out[c] + done, io->out[c] + done, g0, g1, m);
	}
	return false;
}

/* relaxed (all): lone values; pair with the relaxed loads in noise_load(). */
EL_RT static void rt_noise_set(struct noise *n, const struct noise_settings *s)
{
	dsp_ramp_to(&n->level, pow(10.0, s->level_db / 20.0), n->fade_frames);
	if (s->seed != n->seed) {
		n->seed = s->seed;
		rt_noise_seed(n);
	} else if (s->color != n->color) {
		/* The pink filters start from rest rather than from a history white never had. */
		for (unsigned c = 0; c < n->channels; c++)
			memset(n->chan[c].pink, 0, sizeof(n->chan[c].pink));
	}
	n->color = s->color;
	atomic_store_explicit(&n->level_db_bits, node_double_to_bits(s->level_db),
			      memory_order_relaxed);
	atomic_store_explicit(&n->color_now, s->color, memory_order_relaxed);
	atomic_store_explicit(&n->seed_now, s->seed, memory_order_relaxed);
}

/* relaxed (all): pair with rt_noise_set(); a reader may see a mix of old and new values. */
static void noise_load(const struct noise *n, struct noise_settings *ret)
{
	ret->level_db =
		node_bits_to_double(atomic_load_explicit(&n->level_db_bits, memory_order_relaxed));
	ret->color = atomic_load_explicit(&n->color_now, memory_order_relaxed);
	ret->seed = atomic_load_explicit(&n->seed_now, memory_order_relaxed);
	ret->channels = n->channels;
}

static int noise_update_prepare(void *inst, const struct conf_section *sec,
				const struct eng_node_env *env, void **ret_update,
				struct el_error *reterr)
{
	struct noise_settings s, now;
	struct noise *n = inst;
	bool same;
	int r;

	(void)env;
	r = noise_read(sec, &s, reterr);
	if (r < 0)
		return r;
	if (s.channels != n->channels)
		return -EOPNOTSUPP;
	noise_load(n, &now);
	same = s.level_db == now.level_db && s.color == now.color && s.seed == now.seed;
	return node_update_new(same ? NULL : &s, sizeof(s), ret_update);
}

EL_RT static void rt_noise_update_apply(void *inst, void *update)
{
	rt_noise_set(inst, update);
}

EL_RT static int rt_noise_set_param(void *inst, unsigned id, double value)
{
	struct noise *n = inst;
	struct noise_settings s;

	if (id != NOISE_PARAM_LEVEL_DB)
		return -EINVAL;
	noise_load(n, &s);
	s.level_db = value;
	rt_noise_set(n, &s);
	return 0;
}

static int noise_get_param(const void *inst, unsigned id, unsigned channel, double *ret)
{
	struct noise_settings s;

	(void)channel;
	if (id != NOISE_PARAM_LEVEL_DB)
		return -EINVAL;
	noise_load(inst, &s);
	*ret = s.level_db;
	return 0;
}

const struct node_type node_type_noise = {
	.name = "noise",
	.description = "white or pink noise generator",
	.role = NODE_ROLE_PROCESS,
	.source = true,
	.keys = noise_keys,
	.params = noise_params,
	.n_params = EL_N_ELEMENTS(noise_params),
	.create = noise_create,
	.destroy = noise_destroy,
	.get_out_channels = noise_get_out_channels,
	.process = rt_noise_process,
	.get_tail = node_get_tail_endless, /* a source never falls silent by itself */
	.update_prepare = noise_update_prepare,
	.update_apply = rt_noise_update_apply,
	.update_free = free, /* one malloc'ed block */
	.set_param = rt_noise_set_param,
	.get_param = noise_get_param,
};
