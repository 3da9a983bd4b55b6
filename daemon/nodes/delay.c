/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/delay.c: the "delay" node type — a whole-frame delay per channel (time alignment
 * of crossover ways or speakers), on dsp/delay.h.
 *
 * The delay is given in frames or in milliseconds (rounded to the nearest frame). A change, by
 * update or by setting delay_ms, crossfades from the old read position to the new one over the
 * engine's fade length; the line is sized once for max_delay_ms.
 *
 * The engine stops calling a node whose input has been silent for longer than its tail (the
 * delay). The line then still holds older input beyond the delay, which a longer delay set
 * later would play back: so once a silence has lasted the delay, the next call first makes the
 * line forget its history (dsp_delay_reset, O(1)), skipped or not.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "daemon/config/value.h"
#include "daemon/config/config.h"
#include "daemon/engine/node.h"
#include "daemon/nodes/node-util.h"
#include "dsp/delay.h"

#define DELAY_KEYS "delay_frames", "delay_ms", "max_delay_ms"

static const char *const delay_keys[] = {DELAY_KEYS, NULL};
static const char *const delay_allowed[] = {"type", "input", DELAY_KEYS, NULL};

/* The default line holds at least this much (ms), so small changes never need a new one. */
#define DELAY_DEFAULT_MAX_MS 1000.0

enum { DELAY_PARAM_DELAY_MS };

static const struct node_param delay_params[] = {
	/* The upper bound here is for any rate; set_param() checks the line's max_delay_ms. */
	[DELAY_PARAM_DELAY_MS] =
		{.name = "delay_ms", .unit = "ms", .min = 0.0, .max = 600000.0, .settable = true},
};

struct delay_settings {
	size_t frames;     /* the delay */
	double ms;         /* the delay as asked for (or frames in ms) */
	size_t max_frames; /* the line's length */
};

struct delay {
	unsigned channels;
	uint32_t rate, fade_frames;
	size_t max_frames;
	struct dsp_delay **line; /* channels */
	/* RT thread only: the most the output may still lag (old delays while fades run). */
	size_t hold_frames, hold_left;
	size_t quiet; /* RT thread only: frames of silent input in a row */
	bool stale;   /* RT thread only: forget the line's history before the next cycle */
	/* The delay last set: frames, and ms as double bits. Written by the RT thread. */
	_Atomic uint64_t frames_now, ms_bits;
};

/* The delay: delay_frames or delay_ms (not both), 0 when neither. */
static int delay_read_delay(const struct conf_section *sec, const struct eng_node_env *env,
			    struct delay_settings *ret, struct el_error *reterr)
{
	const double max_ms = (double)DSP_DELAY_MAX_FRAMES * 1000.0 / env->rate;
	const struct conf_entry *ef = conf_section_find(sec, "delay_frames");
	const struct conf_entry *em = conf_section_find(sec, "delay_ms");
	uint32_t frames;
	int r;

	if (ef && em)
		return conf_error_entry(reterr, -EINVAL, em,
					"give delay_frames or delay_ms, not both");
	if (em) {
		r = conf_get_double(sec, "delay_ms", 0.0, 0.0, max_ms, &ret->ms, reterr);
		if (r < 0)
			return r;
		ret->frames =
			EL_MIN((size_t)llround(ret->ms * env->rate / 1000.0), DSP_DELAY_MAX_FRAMES);
		return 0;
	}
	r = conf_get_u32(sec, "delay_frames", 0, 0, DSP_DELAY_MAX_FRAMES, &frames, reterr);
	if (r < 0)
		return r;
	ret->frames = frames;
	ret->ms = frames * 1000.0 / env->rate;
	return 0;
}

static int delay_read(const struct conf_section *sec, const struct eng_node_env *env,
		      struct delay_settings *ret, struct el_error *reterr)
{
	const double max_ms = (double)DSP_DELAY_MAX_FRAMES * 1000.0 / env->rate;
	double ms;
	int r;

	r = node_check_input(sec, delay_allowed, env, "a delay needs an input", reterr);
	if (r < 0)
		return r;
	r = delay_read_delay(sec, env, ret, reterr);
	if (r < 0)
		return r;
	r = conf_get_double(sec, "max_delay_ms", fmax(DELAY_DEFAULT_MAX_MS, ret->ms), 0.0, max_ms,
			    &ms, reterr);
	if (r < 0)
		return r;
	ret->max_frames = EL_MAX((size_t)ceil(ms * env->rate / 1000.0), (size_t)1);
	ret->max_frames = EL_MIN(ret->max_frames, DSP_DELAY_MAX_FRAMES);
	if (ret->frames > ret->max_frames)
		return conf_error_entry(reterr, -EINVAL, conf_section_find(sec, "max_delay_ms"),
					"expected at least the delay (%g ms), got %g", ret->ms, ms);
	return 0;
}

static void delay_destroy(void *inst)
{
	struct delay *d = inst;

	if (!d)
		return;
	for (unsigned c = 0; d->line && c < d->channels; c++)
		dsp_delay_free(d->line[c]);
	free(d->line);
	free(d);
}

static int delay_create(const struct conf_section *sec, const struct eng_node_env *env, void **ret,
			struct el_error *reterr)
{
	struct delay_settings s;
	struct delay *d;
	int r;

	r = delay_read(sec, env, &s, reterr);
	if (r < 0)
		return r;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->channels = env->in_channels;
	d->rate = env->rate;
	d->fade_frames = env->fade_frames;
	d->max_frames = s.max_frames;
	d->line = calloc(d->channels, sizeof(*d->line));
	r = d->line ? 0 : -ENOMEM;
	for (unsigned c = 0; r == 0 && c < d->channels; c++) {
		r = dsp_delay_new(s.max_frames, &d->line[c]);
		if (r == 0)
			r = dsp_delay_set(d->line[c], s.frames, 0);
	}
	if (r < 0) {
		delay_destroy(d);
		return r;
	}
	atomic_init(&d->frames_now, s.frames);
	atomic_init(&d->ms_bits, node_double_to_bits(s.ms));
	*ret = d;
	return 0;
}

static unsigned delay_get_out_channels(const void *inst)
{
	const struct delay *d = inst;

	return d->channels;
}

EL_RT static size_t rt_delay_get_tail(const void *inst);

/* After each cycle: once a silence has lasted the tail, the line is stale (top comment). */
EL_RT static void rt_delay_track_silence(struct delay *d, const struct eng_node_io *io)
{
	size_t tail;

	if (!node_quiet_count(&d->quiet, io))
		return;
	tail = rt_delay_get_tail(d);
	d->stale = d->quiet >= tail && d->max_frames > tail;
}

EL_RT static bool rt_delay_process(void *inst, const struct eng_node_io *io)
{
	struct delay *d = inst;

	for (unsigned c = 0; c < d->channels; c++) {
		/* After a silence we may have been skipped in: forget what preceded it. */
		if (d->stale)
			dsp_delay_reset(d->line[c]);
		dsp_delay_process(d->line[c], io->in[c], io->out[c], io->frames);
	}
	d->stale = false;
	rt_delay_track_silence(d, io);
	d->hold_left -= EL_MIN(d->hold_left, (size_t)io->frames);
	return false;
}

EL_RT static size_t rt_delay_get_tail(const void *inst)
{
	const struct delay *d = inst;
	size_t now = dsp_delay_get_frames(d->line[0]);

	return d->hold_left ? EL_MAX(now, d->hold_frames) + d->hold_left : now;
}

/* relaxed (both): lone values; pair with the relaxed loads in the readers. */
EL_RT static void rt_delay_set(struct delay *d, size_t frames, double ms)
{
	size_t before = dsp_delay_get_frames(d->line[0]);

	for (unsigned c = 0; c < d->channels; c++)
		(void)dsp_delay_set(d->line[c], frames, d->fade_frames); /* frames <= max */
	/* A fade may queue behind a running one: the old delays matter for up to 3 fades. */
	d->hold_frames = EL_MAX(before, d->hold_left ? d->hold_frames : 0);
	d->hold_left = 3 * (size_t)d->fade_frames;
	atomic_store_explicit(&d->frames_now, frames, memory_order_relaxed);
	atomic_store_explicit(&d->ms_bits, node_double_to_bits(ms), memory_order_relaxed);
}

static int delay_update_prepare(void *inst, const struct conf_section *sec,
				const struct eng_node_env *env, void **ret_update,
				struct el_error *reterr)
{
	struct delay_settings s;
	struct delay *d = inst;
	bool same;
	int r;

	if (env->in_channels != d->channels || env->rate != d->rate)
		return -EOPNOTSUPP;
	r = delay_read(sec, env, &s, reterr);
	if (r < 0)
		return r;
	if (s.max_frames > d->max_frames)
		return -EOPNOTSUPP;
	/* relaxed: pairs with rt_delay_set(); a lone value */
	same = s.frames == atomic_load_explicit(&d->frames_now, memory_order_relaxed);
	return node_update_new(same ? NULL : &s, sizeof(s), ret_update);
}

EL_RT static void rt_delay_update_apply(void *inst, void *update)
{
	const struct delay_settings *s = update;

	rt_delay_set(inst, s->frames, s->ms);
}

EL_RT static int rt_delay_set_param(void *inst, unsigned id, double value)
{
	struct delay *d = inst;
	double frames = round(value * d->rate / 1000.0);

	if (id != DELAY_PARAM_DELAY_MS || !(frames >= 0.0) || frames > (double)d->max_frames)
		return -EINVAL;
	rt_delay_set(d, (size_t)frames, value);
	return 0;
}

static int delay_get_param(const void *inst, unsigned id, unsigned channel, double *ret)
{
	const struct delay *d = inst;

	(void)channel;
	if (id != DELAY_PARAM_DELAY_MS)
		return -EINVAL;
	/* relaxed: pairs with rt_delay_set(); a lone value */
	*ret = node_bits_to_double(atomic_load_explicit(&d->ms_bits, memory_order_relaxed));
	return 0;
}

/* The delay set now (relaxed: a lone value the RT thread publishes). */
static size_t delay_get_latency(const void *inst)
{
	const struct delay *d = inst;

	return (size_t)atomic_load_explicit(&d->frames_now, memory_order_relaxed);
}

const struct node_type node_type_delay = {
	.name = "delay",
	.description = "whole-frame delay per channel",
	.role = NODE_ROLE_PROCESS,
	.keys = delay_keys,
	.params = delay_params,
	.n_params = EL_N_ELEMENTS(delay_params),
	.create = delay_create,
	.destroy = delay_destroy,
	.get_out_channels = delay_get_out_channels,
	.process = rt_delay_process,
	.get_tail = rt_delay_get_tail,
	.update_prepare = delay_update_prepare,
	.update_apply = rt_delay_update_apply,
	.update_free = free, /* one malloc'ed block */
	.set_param = rt_delay_set_param,
	.get_param = delay_get_param,
	.get_latency = delay_get_latency,
};
