/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/limiter.c: the "limiter" node type — a look-ahead brick-wall peak limiter
 * (dsp/limiter.h) over all its channels at once.
 *
 * No sample leaves above `ceiling_db` (with `true_peak`, no peak between samples either:
 * dsp/true-peak.h); the output lags the input by the look-ahead (and the true-peak detector's
 * delay), which node.get reports (`latency_frames`, `latency_ms`). `gain_reduction_db` reads how
 * far the gain went down in the last cycle. A change of the ceiling or the release (a set, or an
 * update) takes effect at the next frame: the ceiling is met the way any peak is, through the
 * look-ahead, so nothing clicks; a new look-ahead or channel count is a new instance (crossfaded by
 * the engine). The engine may stop calling the node once its input has been silent for longer than
 * its tail (the look-ahead); the next call then starts from a clean state (the delay holds only
 * silence by then, so nothing is heard of the reset).
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/el-error.h"
#include "daemon/config/config.h"
#include "daemon/config/value.h"
#include "daemon/engine/node.h"
#include "daemon/nodes/node-util.h"
#include "dsp/limiter.h"

#define LIMITER_KEYS "ceiling_db", "release_ms", "lookahead_ms", "true_peak"

static const char *const limiter_keys[] = {LIMITER_KEYS, NULL};
static const char *const limiter_allowed[] = {"type", "input", LIMITER_KEYS, NULL};

#define LIMITER_MIN_CEILING_DB   (-60.0)
#define LIMITER_MIN_RELEASE_MS   1.0
#define LIMITER_MAX_RELEASE_MS   5000.0
#define LIMITER_MIN_LOOKAHEAD_MS 0.05
#define LIMITER_MAX_LOOKAHEAD_MS 100.0

enum { LIMITER_PARAM_CEILING_DB, LIMITER_PARAM_RELEASE_MS, LIMITER_PARAM_GAIN_REDUCTION_DB };

static const struct node_param limiter_params[] = {
	[LIMITER_PARAM_CEILING_DB] = {.name = "ceiling_db",
				      .unit = "dB",
				      .min = LIMITER_MIN_CEILING_DB,
				      .max = 0.0,
				      .settable = true},
	[LIMITER_PARAM_RELEASE_MS] = {.name = "release_ms",
				      .unit = "ms",
				      .min = LIMITER_MIN_RELEASE_MS,
				      .max = LIMITER_MAX_RELEASE_MS,
				      .settable = true},
	/* how far the gain went down in the last cycle (0: not at all) */
	[LIMITER_PARAM_GAIN_REDUCTION_DB] = {.name = "gain_reduction_db",
					     .unit = "dB",
					     .min = -200.0,
					     .max = 0.0},
};

/* What a limiter is set to; also the update a new config section becomes. */
struct limiter_settings {
	double ceiling_db, release_ms, lookahead_ms;
	bool true_peak;
};

struct limiter {
	unsigned channels;
	uint32_t rate, latency;
	struct dsp_limiter *dsp; /* owned */
	/* RT thread only */
	size_t quiet; /* frames of silent input in a row */
	bool stale;   /* reset before the next cycle (top comment) */
	/* for get_param and update_prepare on other threads (relaxed: lone values) */
	_Atomic uint64_t ceiling_bits, release_bits, reduction_bits;
	double lookahead_ms; /* constant */
	bool true_peak;      /* constant */
};

static int limiter_read(const struct conf_section *sec, const struct eng_node_env *env,
			struct limiter_settings *ret, struct el_error *reterr)
{
	int r = node_check_input(sec, limiter_allowed, env, "a limiter needs an input", reterr);

	if (r < 0 ||
	    (r = conf_get_double(sec, "ceiling_db", -1.0, LIMITER_MIN_CEILING_DB, 0.0,
				 &ret->ceiling_db, reterr)) < 0 ||
	    (r = conf_get_double(sec, "release_ms", 100.0, LIMITER_MIN_RELEASE_MS,
				 LIMITER_MAX_RELEASE_MS, &ret->release_ms, reterr)) < 0 ||
	    (r = conf_get_double(sec, "lookahead_ms", 5.0, LIMITER_MIN_LOOKAHEAD_MS,
				 LIMITER_MAX_LOOKAHEAD_MS, &ret->lookahead_ms, reterr)) < 0 ||
	    (r = conf_get_bool(sec, "true_peak", false, &ret->true_peak, reterr)) < 0)
		return r;
	if (env->in_channels > 64)
		return conf_error_section(reterr, -EINVAL, sec,
					  "a limiter takes at most 64 channels, got %u",
					  env->in_channels);
	return 0;
}

/* The look-ahead in frames at rate: at least one. */
static uint32_t lookahead_frames(double ms, uint32_t rate)
{
	double f = round(ms * rate / 1000.0);

	return f < 1.0 ? 1u : (uint32_t)fmin(f, DSP_LIMITER_MAX_LOOKAHEAD);
}

EL_RT static void rt_limiter_set(struct limiter *l, double ceiling_db, double release_ms)
{
	dsp_limiter_set(l->dsp, (float)pow(10.0, ceiling_db / 20.0), release_ms * l->rate / 1000.0);
	atomic_store_explicit(&l->ceiling_bits, node_double_to_bits(ceiling_db),
			      memory_order_relaxed);
	atomic_store_explicit(&l->release_bits, node_double_to_bits(release_ms),
			      memory_order_relaxed);
}

static void limiter_destroy(void *inst)
{
	struct limiter *l = inst;

	if (!l)
		return;
	dsp_limiter_free(l->dsp);
	free(l);
}

static int limiter_create(const struct conf_section *sec, const struct eng_node_env *env,
			  void **ret, struct el_error *reterr)
{
	struct limiter_settings s;
	struct limiter *l;
	int r = limiter_read(sec, env, &s, reterr);

	if (r < 0)
		return r;
	l = calloc(1, sizeof(*l));
	if (!l)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	l->channels = env->in_channels;
	l->rate = env->rate;
	l->lookahead_ms = s.lookahead_ms;
	l->true_peak = s.true_peak;
	r = dsp_limiter_new(l->channels, lookahead_frames(s.lookahead_ms, env->rate), s.true_peak,
			    &l->dsp);
	if (r < 0) {
		limiter_destroy(l);
		return el_error_set(reterr, r, "out of memory");
	}
	l->latency = dsp_limiter_get_latency(l->dsp);
	atomic_init(&l->reduction_bits, node_double_to_bits(0.0));
	rt_limiter_set(l, s.ceiling_db, s.release_ms); /* not yet shared: no cycle runs it */
	*ret = l;
	return 0;
}

static unsigned limiter_get_out_channels(const void *inst)
{
	const struct limiter *l = inst;

	return l->channels;
}

EL_RT static bool rt_limiter_process(void *inst, const struct eng_node_io *io)
{
	struct limiter *l = inst;
	float g;

	if (l->stale) { /* skipped through a silence: start clean (top comment) */
		dsp_limiter_reset(l->dsp);
		l->stale = false;
	}
	dsp_limiter_process(l->dsp, io->in, io->out, io->frames);
	g = dsp_limiter_take_min_gain(l->dsp);
	atomic_store_explicit(
		&l->reduction_bits,
		node_double_to_bits(g > 0.0f ? fmax(20.0 * log10(g), -200.0) : -200.0),
		memory_order_relaxed);
	if (node_quiet_count(&l->quiet, io))
		l->stale = l->quiet >= l->latency; /* as the engine skips: from quiet >= tail */
	return false;
}

EL_RT static size_t rt_limiter_get_tail(const void *inst)
{
	const struct limiter *l = inst;

	return l->latency; /* the delayed input still to come out */
}

static int limiter_update_prepare(void *inst, const struct conf_section *sec,
				  const struct eng_node_env *env, void **ret_update,
				  struct el_error *reterr)
{
	struct limiter *l = inst;
	struct limiter_settings s;
	int r = limiter_read(sec, env, &s, reterr);

	if (r < 0)
		return r;
	if (env->in_channels != l->channels || s.lookahead_ms != l->lookahead_ms ||
	    s.true_peak != l->true_peak || env->rate != l->rate)
		return -EOPNOTSUPP; /* another delay line: a new instance */
	return node_update_new(&s, sizeof(s), ret_update);
}

EL_RT static void rt_limiter_update_apply(void *inst, void *update)
{
	const struct limiter_settings *s = update;

	rt_limiter_set(inst, s->ceiling_db, s->release_ms);
}

EL_RT static int rt_limiter_set_param(void *inst, unsigned id, double value)
{
	struct limiter *l = inst;
	double ceiling = node_bits_to_double(
		       atomic_load_explicit(&l->ceiling_bits, memory_order_relaxed)),
	       release = node_bits_to_double(
		       atomic_load_explicit(&l->release_bits, memory_order_relaxed));

	if (id == LIMITER_PARAM_CEILING_DB)
		ceiling = value;
	else if (id == LIMITER_PARAM_RELEASE_MS)
		release = value;
	else
		return -EINVAL;
	rt_limiter_set(l, ceiling, release);
	return 0;
}

static int limiter_get_param(const void *inst, unsigned id, unsigned channel, double *ret)
{
	const struct limiter *l = inst;
	const _Atomic uint64_t *bits = id == LIMITER_PARAM_CEILING_DB          ? &l->ceiling_bits
				       : id == LIMITER_PARAM_RELEASE_MS        ? &l->release_bits
				       : id == LIMITER_PARAM_GAIN_REDUCTION_DB ? &l->reduction_bits
									       : NULL;

	(void)channel;
	if (!bits)
		return -EINVAL;
	*ret = node_bits_to_double(atomic_load_explicit(bits, memory_order_relaxed));
	return 0;
}

static size_t limiter_get_latency(const void *inst)
{
	const struct limiter *l = inst;

	return l->latency;
}

static size_t limiter_get_details(const void *inst, struct node_detail *ret, size_t max)
{
	const struct limiter *l = inst;
	size_t n = 0;

	if (n < max)
		ret[n++] = (struct node_detail){
			.key = "latency_frames", .is_number = true, .number = l->latency};
	if (n < max)
		ret[n++] = (struct node_detail){.key = "latency_ms",
						.is_number = true,
						.number = 1000.0 * l->latency / l->rate};
	if (n < max)
		ret[n++] = (struct node_detail){
			.key = "true_peak", .is_number = true, .number = l->true_peak ? 1.0 : 0.0};
	return n;
}

const struct node_type node_type_limiter = {
	.name = "limiter",
	.description = "look-ahead brick-wall peak limiter",
	.role = NODE_ROLE_PROCESS,
	.keys = limiter_keys,
	.params = limiter_params,
	.n_params = EL_N_ELEMENTS(limiter_params),
	.create = limiter_create,
	.destroy = limiter_destroy,
	.get_out_channels = limiter_get_out_channels,
	.process = rt_limiter_process,
	.get_tail = rt_limiter_get_tail,
	.update_prepare = limiter_update_prepare,
	.update_apply = rt_limiter_update_apply,
	.update_free = free, /* one malloc'ed block */
	.set_param = rt_limiter_set_param,
	.get_param = limiter_get_param,
	.get_details = limiter_get_details,
	.get_latency = limiter_get_latency,
};
