/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/fir.c: the "fir" node type — per-channel convolution with an impulse response
 * from a file (room correction, crossovers, cabinet and reverb responses), on the partitioned
 * convolver of dsp/fir.h, so it adds no latency beyond the engine's block.
 *
 * DESIGN
 * - IR sets. What one config section asks for (file, gain, routes) becomes a struct fir_set:
 *   the prepared dsp_fir_ir of each channel of the file, and the routes that apply them. A set
 *   is immutable once built and owned by exactly one holder: the instance (as cur, next,
 *   fading_out or done) or an update.
 * - Matrix. One convolver runs the whole node (dsp/fir.h: inputs x outputs, routes). Without a
 *   `route` key the routes are the diagonal: input channel c through IR channel c (or the one
 *   channel of a mono file) to output c. With one, any input goes through any IR channel to any
 *   output (fir-route.h), and the node has as many outputs as the highest one named. An update
 *   whose routes reach another number of outputs makes a new instance; other route changes
 *   crossfade like a new IR.
 * - Swapping: one state machine, enum fir_swap, owned by this node and checked by every RT entry
 *   point; the convolvers only crossfade what they are given and keep no IR of their own.
 *     STEADY  --update_apply-->  FADING: the convolvers crossfade to the new set; the set they
 *             leave is `fading_out` until their fade has ended.
 *     FADING  --update_apply-->  QUEUED: a convolver refuses a new IR while a fade runs, so the
 *             new set waits in `next`.
 *     QUEUED  --update_apply-->  QUEUED: the newer set replaces `next`, which never reached a
 *             convolver and goes into the update.
 *     FADING  --process, the fade ended-->  STEADY.
 *     QUEUED  --process, the fade ended-->  FADING to `next`.
 *   A fade can last longer than the engine's fade_frames (a non-uniform convolver first waits
 *   for its long partitions to hold the new IR, dsp/fir.h), and the engine frees an update
 *   fade_frames after applying it; so a set leaves the instance only once no convolver reads
 *   it: fading_out moves to `done` when its fade has ended (checked at the start of every
 *   cycle and of every apply), and each update applied takes every done set with it. At most
 *   two are ever done between two updates (one fade the apply started, one process started).
 * - Identity. With no `ir` (a single tap of 1.0) the node copies its input, so it is bit-exact
 *   transparent, and costs what the copy costs: the convolvers only keep the input history
 *   (dsp_fir_keep_history: no transform at all while they hold one partition, the default),
 *   so that when a real IR comes in they already hold it and the crossfade is exact.
 * - Silence. The engine stops calling a node whose input has been silent for longer than its
 *   tail. The convolvers' history is then silent for the current IR, but may still hold older
 *   input in the partitions beyond it (max_taps larger than the IR), which a longer IR swapped
 *   in later would play back as a ghost of audio from before the pause. So once a silence has
 *   lasted the tail, the next call forgets the history first, skipped or not (dsp_fir_reset:
 *   O(block), the convolver stops reading the old partitions instead of clearing them).
 * - Layout. Every convolver of an instance and every IR it ever takes share one layout
 *   (dsp/fir-layout.h), chosen when the instance is made for max_taps: the `layout` key's, by
 *   default `auto`, which asks the engine's planner (the daemon measures layouts on this machine
 *   and remembers them); uniform without one. An update whose IR is longer than the layout
 *   holds, or that changes the key, makes a new instance instead.
 * - update_prepare() compares the file's path, stamp (inode, size, mtime) and the gain with the
 *   set last applied and makes no update when they match.
 * - Tail cut. The runtime parameter tail_db cuts every IR where its remaining energy falls
 *   below that level (dsp_fir_set_tail_db), faded over fade_frames. The engine's quality
 *   (fir_tail_db, the power policy's FIR tiers, docs/policy.md) sets the same wish: a new
 *   instance starts with it, set_quality() moves a running one. set_param() and set_quality()
 *   only record the wish; process() hands it to the convolvers when none is fading, so a wish
 *   that arrives during a fade is applied after it.
 * - Threads. Offline (env->par: a render's threads) the convolver runs its channels on them when
 *   a channel's share of a call is worth a thread's wake-up (FIR_PAR_MIN_FLOPS); the output is
 *   the same bit for bit either way.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/el-error.h"
#include "common/el-probe.h"
#include "daemon/config/value.h"
#include "daemon/config/config.h"
#include "daemon/disk/disk.h"
#include "daemon/engine/node.h"
#include "daemon/nodes/fir-route.h"
#include "daemon/nodes/ir-file.h"
#include "daemon/nodes/node-util.h"
#include "dsp/fir-layout.h"
#include "dsp/fir-schedule.h"
#include "dsp/fir.h"
#include "dsp/mem.h"
#include "dsp/mix.h"

/* `ir_RATE`: the IR for an engine at RATE Hz (fir_ir_entry); these rates are the keys known. */
#define FIR_RATE_KEYS                                                                              \
	"ir_8000", "ir_11025", "ir_16000", "ir_22050", "ir_32000", "ir_44100", "ir_48000",         \
		"ir_88200", "ir_96000", "ir_176400", "ir_192000", "ir_352800", "ir_384000"
#define FIR_KEYS "ir", "max_taps", "gain_db", "layout", "route", FIR_RATE_KEYS

static const char *const fir_keys[] = {FIR_KEYS, NULL};
static const char *const fir_allowed[] = {"type", "input", FIR_KEYS, NULL};

#define FIR_MIN_DB (-120.0)
#define FIR_MAX_DB 24.0

enum { FIR_PARAM_TAIL_DB };

static const struct node_param fir_params[] = {
	/* 0: the whole IR; -60 keeps the IR until 60 dB of its energy are spent */
	[FIR_PARAM_TAIL_DB] =
		{.name = "tail_db", .unit = "dB", .min = -200.0, .max = 0.0, .settable = true},
};

struct fir_set {
	char *path;  /* owned: the resolved file, NULL for the identity (no `ir` key) */
	char *route; /* owned: the `route` key as written, NULL without one (the diagonal) */
	char key[16]; /* the key that named path (`ir`, `ir_44100`), "" for the identity */
	bool cached;  /* resampled earlier: read from the sample cache */
	struct node_ir_stamp stamp;
	double gain_db;
	size_t taps;             /* of its longest IR */
	uint32_t file_rate;      /* Hz, the file's (0 for the single tap) */
	double load_ms, prepare_ms; /* how long reading (and resampling) and preparing took */
	bool identity;           /* the diagonal, every IR one tap of exactly 1.0 */
	unsigned outputs;        /* channels its routes reach: the node's output channels */
	size_t n_routes;
	struct dsp_fir_route *routes; /* owned: n_routes, into ir[] (DESIGN: matrix) */
	unsigned n_ir;           /* the file's channels (1 for the single tap) */
	struct dsp_fir_ir *ir[]; /* owned */
};

struct fir_update {
	struct fir_set *set;     /* owned: the new set; NULL once applied */
	struct fir_set *gone[3]; /* owned: what the apply displaced (NULL or sets) */
};

/* Where an IR swap stands (see DESIGN). */
enum fir_swap {
	FIR_STEADY, /* the convolvers run cur */
	FIR_FADING, /* the convolvers fade to cur from the set before it */
	FIR_QUEUED, /* FIR_FADING, and next waits for that fade to end */
};

struct fir {
	unsigned inputs, outputs, block;
	uint32_t rate, fade_frames;
	struct dsp_fir_layout layout;  /* of every convolver and IR (DESIGN: layout) */
	char *layout_key;              /* owned: the `layout` key it was made for */
	double layout_cost_ns;         /* the planner's measure of it per call, 0: none */
	const struct dsp_mix_ops *mix; /* borrowed: the engine's, outlives every node */
	struct dsp_fir *conv;          /* owned: inputs x outputs, every IR set's routes */
	/* RT thread only (after create): */
	enum fir_swap swap;
	struct fir_set *cur;        /* in the convolvers, or being faded to */
	struct fir_set *next;       /* FIR_QUEUED only: the set to fade to when the fade ends */
	struct fir_set *fading_out; /* the set the running fade leaves: still read (DESIGN) */
	struct fir_set *done[2];    /* faded out, read no more: for the next update (DESIGN) */
	size_t quiet;               /* frames of silent input in a row (the engine may skip us) */
	bool stale;                 /* the history before that silence is to be forgotten */
	/* tail_db wished by set_param() (RT), read by get_param() on any thread */
	_Atomic float tail_db;
	/* The set last applied (cur or next), for update_prepare() on the control thread. */
	_Atomic(struct fir_set *) applied;
};

static struct fir_set *fir_set_free(struct fir_set *s)
{
	if (!s)
		return NULL;
	for (unsigned i = 0; i < s->n_ir; i++)
		dsp_fir_ir_free(s->ir[i]);
	free(s->routes);
	free(s->route);
	free(s->path);
	free(s);
	return NULL;
}

/*
 * Prepares n_ir IRs from data (n_ir arrays of frames taps, scaled by gain here) into s, for
 * convolvers of layout.
 */
static int fir_set_prepare(struct fir_set *s, const struct eng_node_env *env,
			   const struct dsp_fir_layout *layout, float *const *data, size_t frames,
			   double gain)
{
	int r;

	EL_PROBE2(ir_prepare_begin, frames, s->n_ir);
	s->taps = frames;
	s->identity = frames == 1;
	for (unsigned i = 0; i < s->n_ir; i++) {
		if (gain != 1.0)
			for (size_t k = 0; k < frames; k++)
				data[i][k] = (float)(data[i][k] * gain);
		s->identity = s->identity && data[i][0] == 1.0f;
		r = dsp_fir_ir_new_layout(env->fft, layout, data[i], frames, env->pacer, &s->ir[i]);
		if (r < 0)
			return r;
	}
	EL_PROBE2(ir_prepare_end, frames, s->n_ir);
	return 0;
}

/* The control thread's clock, for the preparation times node.get shows. */
static double fir_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* What a section's IR is before it is prepared: a file's channels, or one tap of 1.0. */
struct fir_source {
	struct node_ir *file;           /* owned; NULL: the single tap */
	const struct conf_entry *entry; /* the IR's key (fir_ir_entry), for messages; NULL: none */
	float tap, *tap_data;           /* the single tap, and an array of its one channel */
	size_t taps;
	const struct conf_entry *route_entry; /* the `route` key; NULL: the diagonal */
	struct node_fir_route *route;         /* owned: route_count entries, from route_entry */
	size_t route_count;
};

static void fir_source_free(struct fir_source *src)
{
	node_ir_free(src->file);
	src->file = NULL;
	free(src->route);
	src->route = NULL;
}

/*
 * The `route` key into src (none: the diagonal, nothing to read), its input channels checked;
 * at most one route per pair of channels in all (the convolver's limit).
 */
static int fir_source_route(const struct conf_section *sec, const struct eng_node_env *env,
			    struct fir_source *src, struct el_error *reterr)
{
	const struct conf_entry *e = conf_section_find(sec, "route");
	char why[160];
	unsigned outputs;
	int r;

	src->route_entry = e;
	if (!e)
		return 0;
	r = node_fir_route_parse(e->value, &src->route, &src->route_count, why, sizeof(why));
	if (r == -EINVAL)
		return conf_error_entry(reterr, r, e, "%s", why);
	if (r < 0)
		return r;
	for (size_t i = 0; i < src->route_count; i++)
		if (src->route[i].in > env->in_channels)
			return conf_error_entry(reterr, -EINVAL, e,
						"route %zu (%u>%u:%u): no input channel %u, the "
						"input has %u",
						i + 1, src->route[i].in, src->route[i].out,
						src->route[i].ir, src->route[i].in,
						env->in_channels);
	outputs = node_fir_route_get_outputs(src->route, src->route_count);
	if (src->route_count > (size_t)env->in_channels * outputs)
		return conf_error_entry(reterr, -EINVAL, e,
					"%zu routes, more than the %u x %u pairs of channels",
					src->route_count, env->in_channels, outputs);
	return 0;
}

/* The IR channels the routes name exist (n: the file's channels, 1 for the single tap). */
static int fir_source_check_route(const struct fir_source *src, unsigned n,
				  struct el_error *reterr)
{
	for (size_t i = 0; i < src->route_count; i++)
		if (src->route[i].ir > n)
			return conf_error_entry(
				reterr, -EINVAL, src->route_entry,
				"route %zu (%u>%u:%u): no IR channel %u, '%s' has %u", i + 1,
				src->route[i].in, src->route[i].out, src->route[i].ir,
				src->route[i].ir,
				src->file ? src->file->path : "the single tap (no ir)", n);
	return 0;
}

/*
 * The key naming the IR for an engine at rate: `ir_RATE` when the section has it, else `ir`,
 * else the `ir_R` of the nearest rate R (resampled as `ir` would be), else NULL (one tap). A
 * filter designed per rate (CamillaDSP's way) is taken as it is; one file serves every rate.
 */
static const struct conf_entry *fir_ir_entry(const struct conf_section *sec, uint32_t rate)
{
	static const char *const rate_keys[] = {FIR_RATE_KEYS};
	const struct conf_entry *e, *nearest = NULL;
	uint32_t best = UINT32_MAX;
	char key[24];

	snprintf(key, sizeof(key), "ir_%u", rate);
	if ((e = conf_section_find(sec, key)) || (e = conf_section_find(sec, "ir")))
		return e;
	for (size_t i = 0; i < EL_N_ELEMENTS(rate_keys); i++) {
		uint32_t r = (uint32_t)strtoul(rate_keys[i] + 3, NULL, 10);
		uint32_t d = r > rate ? r - rate : rate - r;

		if ((e = conf_section_find(sec, rate_keys[i])) && d < best) {
			nearest = e;
			best = d;
		}
	}
	return nearest;
}

/*
 * Loads the IR sec names for the engine's rate (fir_ir_entry; none: one tap) and its routes,
 * checked against the input's channel count: without routes, a mono IR serves every channel, else
 * one IR channel per input channel.
 */
static int fir_source_load(const struct conf_section *sec, const struct eng_node_env *env,
			   struct fir_source *src, struct el_error *reterr)
{
	struct el_error err = {0};
	const struct conf_entry *e = fir_ir_entry(sec, env->rate);
	int r;

	*src = (struct fir_source){.entry = e, .tap = 1.0f, .taps = 1};
	src->tap_data = &src->tap;
	r = fir_source_route(sec, env, src, reterr);
	if (r == 0 && e) {
		/* a resampled IR is kept in the sample cache: a rate switch back or a restart
		 * reads it (a render or a check, without the disk thread, resamples) */
		r = node_ir_load_cached(e->value, env->base_dir, node_file_beneath(e, env),
					env->rate, env->disk ? disk_get_cache_dir(env->disk) : NULL,
					env->pacer, &src->file, &err);
		if (r < 0)
			r = conf_error_entry(reterr, r, e, "%s", err.message);
	}
	if (r == 0 && src->route)
		r = fir_source_check_route(src, src->file ? src->file->channels : 1, reterr);
	else if (r == 0 && src->file && src->file->channels != 1 &&
		 src->file->channels != env->in_channels)
		r = conf_error_entry(reterr, -EINVAL, e,
				     "channel mismatch: '%s' has %u channels, the input has %u",
				     src->file->path, src->file->channels, env->in_channels);
	if (r < 0) {
		fir_source_free(src);
		return r;
	}
	if (src->file)
		src->taps = src->file->frames;
	return 0;
}

/*
 * s's routes into its IRs: src's (numbered from 1) or, without them, the diagonal (a mono IR on
 * every channel, or IR channel c on input channel c).
 */
static int fir_set_link_routes(struct fir_set *s, const struct fir_source *src, unsigned inputs)
{
	size_t n = src->route ? src->route_count : inputs;

	s->routes = calloc(n, sizeof(*s->routes));
	if (!s->routes || (src->route_entry && !(s->route = strdup(src->route_entry->value))))
		return -ENOMEM;
	s->n_routes = n;
	for (size_t i = 0; i < n; i++) {
		if (src->route)
			s->routes[i] = (struct dsp_fir_route){.in = src->route[i].in - 1,
							      .out = src->route[i].out - 1,
							      .ir = s->ir[src->route[i].ir - 1]};
		else
			s->routes[i] = (struct dsp_fir_route){
				.in = (unsigned)i, .out = (unsigned)i,
				.ir = s->ir[s->n_ir == 1 ? 0 : i]};
	}
	s->outputs = src->route ? node_fir_route_get_outputs(src->route, n) : inputs;
	s->identity = s->identity && !src->route;
	return 0;
}

/* The set of src (its file's data taken), prepared for convolvers of layout. */
static int fir_set_new(struct fir_source *src, const struct eng_node_env *env,
		       const struct dsp_fir_layout *layout, double gain_db, struct fir_set **ret,
		       struct el_error *reterr)
{
	unsigned n = src->file ? src->file->channels : 1;
	struct fir_set *s = calloc(1, sizeof(*s) + n * sizeof(s->ir[0]));
	int r;

	if (!s)
		return -ENOMEM;
	s->gain_db = gain_db;
	s->n_ir = n;
	if (src->file) {
		s->path = el_steal_ptr(src->file->path);
		snprintf(s->key, sizeof(s->key), "%s", src->entry ? src->entry->key : "ir");
		s->cached = src->file->cached;
		s->stamp = src->file->stamp;
		s->file_rate = src->file->file_rate;
	}
	r = fir_set_prepare(s, env, layout, src->file ? src->file->data : &src->tap_data, src->taps,
			    pow(10.0, gain_db / 20.0));
	if (r == 0)
		r = fir_set_link_routes(s, src, env->in_channels);
	if (r < 0) {
		fir_set_free(s);
		if (!src->entry)
			return r;
		return conf_error_entry(reterr, r, src->entry,
					"'%s': cannot prepare the impulse response: %s",
					src->entry->value, strerror(-r));
	}
	*ret = s;
	return 0;
}

/* max_taps (default: taps) into *ret: at least taps, the length of the IR of path. */
static int fir_read_max_taps(const struct conf_section *sec, size_t taps, const char *path,
			     uint32_t *ret, struct el_error *reterr)
{
	uint32_t v;
	int r;

	r = conf_get_u32(sec, "max_taps", (uint32_t)taps, 1, DSP_FIR_MAX_TAPS, &v, reterr);
	if (r < 0)
		return r;
	if (v < taps)
		return conf_error_entry(reterr, -EINVAL, conf_section_find(sec, "max_taps"),
					"expected at least %zu (the taps of '%s'), got %u", taps,
					path ? path : "the impulse response", v);
	*ret = v;
	return 0;
}

/* The layout's key as written (auto by default), for comparing an update with the instance. */
static const char *fir_layout_key(const struct conf_section *sec)
{
	return conf_get_string(sec, "layout", "auto");
}

/*
 * The layout of convolvers that hold max_taps taps, as the `layout` key says: `auto` asks the
 * planner (the daemon's measured, remembered choice; uniform without one or when it fails),
 * `uniform` is the head alone, anything else is a layout written out (dsp_fir_layout_parse).
 */
static int fir_choose_layout(const struct conf_section *sec, const struct eng_node_env *env,
			     size_t max_taps, struct dsp_fir_layout *ret, double *ret_cost_ns,
			     struct el_error *reterr)
{
	const char *v = fir_layout_key(sec);
	const struct conf_entry *e = conf_section_find(sec, "layout");
	const struct eng_fir_planner *p = env->fir_planner;

	*ret_cost_ns = 0.0;
	if (strcmp(v, "auto") == 0 && p &&
	    p->choose(p->ctx, env->block, max_taps, env->in_channels, env->cpu_flags, env->fft, ret,
		      ret_cost_ns) == 0 &&
	    ret->block == env->block && dsp_fir_layout_get_taps(ret) >= max_taps)
		return 0;
	if (strcmp(v, "auto") == 0 || strcmp(v, "uniform") == 0)
		return dsp_fir_layout_uniform(env->block, max_taps, ret);
	if (dsp_fir_layout_parse(v, ret) < 0)
		return conf_error_entry(reterr, -EINVAL, e,
					"expected auto, uniform or partitions as SIZExCOUNT (e.g. "
					"'%ux3 %ux2 %ux30'), sizes growing powers of two, each "
					"segment starting at least 2 x SIZE - %u taps in; got '%s'",
					env->block, 2 * env->block, 4 * env->block, env->block, v);
	if (ret->block != env->block)
		return conf_error_entry(reterr, -EINVAL, e,
					"the first partition size must be the block (%u), got %u",
					env->block, ret->block);
	if (dsp_fir_layout_get_taps(ret) < max_taps)
		return conf_error_entry(reterr, -EINVAL, e,
					"'%s' holds %zu taps, fewer than the %zu needed (max_taps "
					"or the impulse response)",
					v, dsp_fir_layout_get_taps(ret), max_taps);
	return 0;
}

/* The checks that need no file: keys, an input, gain_db. */
static int fir_check(const struct conf_section *sec, const struct eng_node_env *env,
		     double *ret_gain_db, struct el_error *reterr)
{
	int r = node_check_input(sec, fir_allowed, env, "a fir needs an input", reterr);

	if (r < 0)
		return r;
	return conf_get_double(sec, "gain_db", 0.0, FIR_MIN_DB, FIR_MAX_DB, ret_gain_db, reterr);
}

/*
 * Checks sec and builds its set: for convolvers of *layout when given (an update: -EOPNOTSUPP
 * when the IR or max_taps does not fit it), else of the layout sec asks for, into *ret_layout
 * with the planner's measure of it in *ret_cost_ns.
 */
static int fir_read(const struct conf_section *sec, const struct eng_node_env *env,
		    const struct dsp_fir_layout *layout, struct fir_set **ret,
		    struct dsp_fir_layout *ret_layout, double *ret_cost_ns, struct el_error *reterr)
{
	struct fir_source src;
	uint32_t max_taps;
	double gain_db, t0, t1;
	int r;

	r = fir_check(sec, env, &gain_db, reterr);
	if (r < 0)
		return r;
	t0 = fir_now_ms();
	r = fir_source_load(sec, env, &src, reterr);
	if (r < 0)
		return r;
	t1 = fir_now_ms();
	r = fir_read_max_taps(sec, src.taps, src.file ? src.file->path : NULL, &max_taps, reterr);
	if (r == 0 && layout && dsp_fir_layout_get_taps(layout) < max_taps)
		r = -EOPNOTSUPP; /* a longer IR than the convolvers hold: a new instance */
	if (r == 0 && !layout) {
		r = fir_choose_layout(sec, env, max_taps, ret_layout, ret_cost_ns, reterr);
		layout = ret_layout;
	}
	if (r == 0)
		r = fir_set_new(&src, env, layout, gain_db, ret, reterr);
	if (r == 0) { /* the layout's choice (a search, the first time) counts as preparing */
		(*ret)->load_ms = t1 - t0;
		(*ret)->prepare_ms = fir_now_ms() - t1;
	}
	fir_source_free(&src);
	return r;
}

static void fir_destroy(void *inst)
{
	struct fir *f = inst;

	if (!f)
		return;
	dsp_fir_free(f->conv);
	free(f->layout_key);
	fir_set_free(f->cur);
	fir_set_free(f->next);
	fir_set_free(f->fading_out);
	fir_set_free(f->done[0]);
	fir_set_free(f->done[1]);
	free(f);
}

/*
 * The convolver to s's routes, crossfading over fade frames (0: at once). Called only while no
 * fade runs (FIR_STEADY, or a fade just ended), with a set made for this instance's channels and
 * layout, so nothing refuses it.
 */
EL_RT static void rt_fir_switch(struct fir *f, const struct fir_set *s, unsigned fade)
{
	(void)dsp_fir_set_routes(f->conv, s->routes, s->n_routes, fade);
}

/*
 * Model flops per call and channel (dsp_fir_layout_model_flops) from which a render's convolver
 * shares its channels among threads. Measured with `echoeld render --threads 1|2` of a 60 s
 * stereo file at block 8192 on a 2-vCPU VM (docs/performance.md, "Render on several threads"):
 * at 0.73 M (65,536 taps) two threads cost 45 % more CPU for no less wall time, as waking a
 * thread for each batch costs about as much as a channel's share; at 1.2 M (262,144 taps) the
 * wall time is 10 % less for 40 % more CPU; at 2.5 M (1,048,576 taps) 20 % less for the same CPU.
 */
#define FIR_PAR_MIN_FLOPS 2.0e6

/* The threads the convolver of a layout may run its channels on: env's, when worth it. */
static const struct el_par *fir_threads(const struct eng_node_env *env,
					const struct dsp_fir_layout *layout, unsigned inputs,
					unsigned outputs)
{
	if (!env->par || EL_MAX(inputs, outputs) < 2 ||
	    dsp_fir_layout_model_flops(layout) < FIR_PAR_MIN_FLOPS)
		return NULL;
	return env->par;
}

static int fir_create(const struct conf_section *sec, const struct eng_node_env *env, void **ret,
		      struct el_error *reterr)
{
	struct dsp_fir_layout layout;
	struct fir_set *s = NULL;
	double cost_ns;
	struct fir *f;
	int r;

	r = fir_read(sec, env, NULL, &s, &layout, &cost_ns, reterr);
	if (r < 0)
		return r;
	f = calloc(1, sizeof(*f));
	if (!f) {
		fir_set_free(s);
		return -ENOMEM;
	}
	f->inputs = env->in_channels;
	f->outputs = s->outputs;
	f->block = env->block;
	f->rate = env->rate;
	f->fade_frames = env->fade_frames;
	f->mix = env->mix;
	f->cur = s;
	f->layout = layout;
	f->layout_cost_ns = cost_ns;
	f->layout_key = strdup(fir_layout_key(sec));
	struct dsp_fir_config cfg = {.block = env->block,
				     .max_taps = dsp_fir_layout_get_taps(&layout),
				     .cpu_flags = env->cpu_flags,
				     .fft = env->fft,
				     .layout = &layout,
				     .costs = NULL,
				     .inputs = f->inputs,
				     .outputs = f->outputs,
				     .par = fir_threads(env, &layout, f->inputs, f->outputs)};

	r = f->layout_key ? dsp_fir_new(&cfg, &f->conv) : -ENOMEM;
	if (r < 0) {
		fir_destroy(f);
		return r;
	}
	rt_fir_switch(f, s, 0);
	atomic_init(&f->applied, s);
	atomic_init(&f->tail_db, env->quality ? (float)env->quality->fir_tail_db : 0.0f);
	*ret = f;
	return 0;
}

static unsigned fir_get_out_channels(const void *inst)
{
	const struct fir *f = inst;

	return f->outputs;
}

/*
 * Whether the convolvers' fade has ended: then the set it left is done (DESIGN), and FADING is
 * STEADY. QUEUED stays for rt_fir_swap_step() to act on.
 */
EL_RT static bool rt_fir_fade_over(struct fir *f)
{
	if (f->swap == FIR_STEADY || dsp_fir_is_fading(f->conv))
		return false;
	if (f->fading_out) /* done[] has room: at most two between updates (DESIGN) */
		f->done[f->done[0] ? 1 : 0] = el_steal_ptr(f->fading_out);
	if (f->swap == FIR_FADING)
		f->swap = FIR_STEADY;
	return f->swap == FIR_QUEUED;
}

/*
 * A fade the convolvers ran has ended: FADING becomes STEADY, QUEUED starts the fade to next
 * (see DESIGN). Checked at the start of every cycle.
 */
EL_RT static void rt_fir_swap_step(struct fir *f)
{
	if (!rt_fir_fade_over(f))
		return;
	f->fading_out = f->cur;
	f->cur = el_steal_ptr(f->next);
	rt_fir_switch(f, f->cur, f->fade_frames);
	f->swap = FIR_FADING;
}

EL_RT static size_t rt_fir_get_tail(const void *inst);

/*
 * Called after each cycle: counts silent input, and marks the history stale once the silence
 * is as long as the tail, when the engine may stop calling (see DESIGN).
 */
EL_RT static void rt_fir_track_silence(struct fir *f, const struct eng_node_io *io)
{
	size_t tail;

	if (!node_quiet_count(&f->quiet, io))
		return;
	tail = rt_fir_get_tail(f);
	f->stale = f->quiet >= tail && dsp_fir_layout_get_taps(&f->layout) > tail;
}

/* Hands a tail_db wish to the convolvers once they are free to take it (see DESIGN). */
EL_RT static void rt_fir_apply_tail(struct fir *f)
{
	/* relaxed: written by set_param() on this same thread */
	float want = atomic_load_explicit(&f->tail_db, memory_order_relaxed);

	if (want != dsp_fir_get_tail_db(f->conv))
		(void)dsp_fir_set_tail_db(f->conv, want, f->fade_frames); /* -EBUSY: next cycle */
}

EL_RT static bool rt_fir_process(void *inst, const struct eng_node_io *io)
{
	struct fir *f = inst;

	rt_fir_apply_tail(f);

	if (f->stale) {
		/* After a silence we may have been skipped in: forget what preceded it. */
		dsp_fir_reset(f->conv);
		f->stale = false;
	}
	rt_fir_swap_step(f);
	if (f->cur->identity && f->swap == FIR_STEADY) {
		/* Keep the history for the next IR; the output is the input itself (the diagonal). */
		dsp_fir_keep_history_matrix(f->conv, io->in, io->frames);
		for (unsigned c = 0; c < f->inputs; c++)
			f->mix->copy(io->out[c], io->in[c], io->frames);
		rt_fir_track_silence(f, io);
		return io->in_silent;
	}
	dsp_fir_process_matrix(f->conv, io->in, io->out, io->frames);
	rt_fir_track_silence(f, io);
	return false;
}

EL_RT static size_t rt_fir_get_tail(const void *inst)
{
	const struct fir *f = inst;

	/* Never skipped mid-swap or with a tail change pending: a skipped fade would stand still
	 * (node.h). */
	if (f->swap != FIR_STEADY || atomic_load_explicit(&f->tail_db, memory_order_relaxed) !=
					     dsp_fir_get_tail_db(f->conv))
		return SIZE_MAX;
	return f->cur->taps;
}

/*
 * The set last applied when sec asks for exactly it (same file, not rewritten since, same gain),
 * else NULL. Valid until the next update_free() on this thread.
 */
static const struct fir_set *fir_same(const struct fir *f, const struct conf_section *sec,
				      const struct eng_node_env *env, double gain_db)
{
	/* acquire: pairs with the release in rt_fir_update_apply(), so *s is complete */
	const struct fir_set *s = atomic_load_explicit(&f->applied, memory_order_acquire);
	const struct conf_entry *ir = fir_ir_entry(sec, env->rate);
	const char *name = ir ? ir->value : NULL;
	const char *route = conf_get_string(sec, "route", NULL);
	struct node_ir_stamp stamp;
	char *path = NULL;
	bool same;

	if (gain_db != s->gain_db || !name != !s->path || !route != !s->route ||
	    (route && strcmp(route, s->route) != 0))
		return NULL;
	if (!name)
		return s;
	if (node_ir_resolve(name, env->base_dir, &path) < 0)
		return NULL;
	same = strcmp(path, s->path) == 0 && node_ir_stat(path, &stamp) == 0 &&
	       node_ir_stamp_equal(&stamp, &s->stamp);
	free(path);
	return same ? s : NULL;
}

/* An IR (or max_taps) longer than the convolvers hold, or another layout, needs a new instance. */
static bool fir_fits(const struct fir *f, const struct conf_section *sec, size_t taps)
{
	return taps <= dsp_fir_layout_get_taps(&f->layout) &&
	       strcmp(fir_layout_key(sec), f->layout_key) == 0;
}

static int fir_update_prepare(void *inst, const struct conf_section *sec,
			      const struct eng_node_env *env, void **ret_update,
			      struct el_error *reterr)
{
	const struct fir_set *same;
	struct fir_update *u;
	struct fir_set *s = NULL;
	struct fir *f = inst;
	uint32_t max_taps = 0;
	double gain_db;
	int r;

	if (env->in_channels != f->inputs || env->block != f->block || env->rate != f->rate)
		return -EOPNOTSUPP;
	r = fir_check(sec, env, &gain_db, reterr);
	if (r < 0)
		return r;
	same = fir_same(f, sec, env, gain_db);
	if (same) {
		r = fir_read_max_taps(sec, same->taps, same->path, &max_taps, reterr);
		if (r < 0)
			return r;
		*ret_update = NULL;
		return fir_fits(f, sec, max_taps) ? 0 : -EOPNOTSUPP;
	}
	if (!fir_fits(f, sec, 1))
		return -EOPNOTSUPP;
	r = fir_read(sec, env, &f->layout, &s, NULL, NULL, reterr);
	if (r < 0)
		return r;
	if (s->outputs != f->outputs) { /* routes to another number of outputs: a new instance */
		fir_set_free(s);
		return -EOPNOTSUPP;
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		fir_set_free(s);
		return -ENOMEM;
	}
	u->set = s;
	*ret_update = u;
	return 0;
}

EL_RT static void rt_fir_update_apply(void *inst, void *update)
{
	struct fir_update *u = update;
	struct fir *f = inst;

	/* A fade that ended since the last cycle; a queued set waits for process() to start it. */
	(void)rt_fir_fade_over(f);
	/* what no convolver reads any more leaves with this update (see DESIGN) */
	u->gone[1] = el_steal_ptr(f->done[0]);
	u->gone[2] = el_steal_ptr(f->done[1]);
	if (f->swap == FIR_STEADY) {
		/* cur fades out from now on */
		f->fading_out = f->cur;
		f->cur = el_steal_ptr(u->set);
		rt_fir_switch(f, f->cur, f->fade_frames);
		f->swap = FIR_FADING;
	} else {
		/* a fade runs: the new set waits; a set waiting before never reached a convolver */
		u->gone[0] = el_steal_ptr(f->next);
		f->next = el_steal_ptr(u->set);
		f->swap = FIR_QUEUED;
	}
	/* release: pairs with the acquire in fir_same(), publishing the set's contents */
	atomic_store_explicit(&f->applied, f->next ? f->next : f->cur, memory_order_release);
}

static void fir_update_free(void *update)
{
	struct fir_update *u = update;

	if (!u)
		return;
	fir_set_free(u->set);
	for (unsigned i = 0; i < EL_N_ELEMENTS(u->gone); i++)
		fir_set_free(u->gone[i]);
	free(u);
}

EL_RT static int rt_fir_set_param(void *inst, unsigned id, double value)
{
	struct fir *f = inst;

	if (id != FIR_PARAM_TAIL_DB)
		return -EINVAL;
	/* relaxed: process() on this thread reads it; get_param() wants only the value */
	atomic_store_explicit(&f->tail_db, (float)value, memory_order_relaxed);
	return 0;
}

static int fir_get_param(const void *inst, unsigned id, unsigned channel, double *ret)
{
	const struct fir *f = inst;

	(void)channel;
	if (id != FIR_PARAM_TAIL_DB)
		return -EINVAL;
	/* relaxed: a lone value, see rt_fir_set_param() */
	*ret = atomic_load_explicit(&f->tail_db, memory_order_relaxed);
	return 0;
}

/* The engine's quality tier cuts the tail like a `set tail_db` would (see DESIGN). */
static void fir_set_quality(void *inst, const struct eng_quality *q)
{
	struct fir *f = inst;

	/* relaxed: a lone value, see rt_fir_set_param() */
	atomic_store_explicit(&f->tail_db, (float)q->fir_tail_db, memory_order_relaxed);
}

/* What node.get shows beyond the settings: the layout and the IR it runs (see DESIGN). */
static size_t fir_get_details(const void *inst, struct node_detail *ret, size_t max)
{
	const struct fir *f = inst;
	/* acquire: pairs with the release in rt_fir_update_apply(), so *s is complete; valid
	 * until the next update_free() on this (the control) thread, as in fir_same() */
	const struct fir_set *s = atomic_load_explicit(&f->applied, memory_order_acquire);
	struct node_detail d[] = {
		{.key = "layout"},
		{.key = "layout_taps",
		 .is_number = true,
		 .number = (double)dsp_fir_layout_get_taps(&f->layout)},
		{.key = "layout_cost_us", .is_number = true, .number = f->layout_cost_ns / 1000.0},
		{.key = "ir_key"},
		{.key = "ir_file"},
		{.key = "ir_taps", .is_number = true, .number = (double)s->taps},
		{.key = "ir_channels", .is_number = true, .number = s->n_ir},
		{.key = "ir_rate",
		 .is_number = true,
		 .number = s->file_rate ? s->file_rate : f->rate},
		{.key = "ir_load_ms", .is_number = true, .number = s->load_ms},
		{.key = "ir_cached", .is_number = true, .number = s->cached ? 1.0 : 0.0},
		{.key = "ir_prepare_ms", .is_number = true, .number = s->prepare_ms},
		{.key = "routes", .is_number = true, .number = (double)s->n_routes},
	};
	size_t n = EL_MIN(max, EL_N_ELEMENTS(d));

	dsp_fir_layout_format(&f->layout, d[0].text, sizeof(d[0].text));
	snprintf(d[3].text, sizeof(d[3].text), "%s", s->key);
	snprintf(d[4].text, sizeof(d[4].text), "%s", s->path ? s->path : "");
	for (size_t i = 0; i < n; i++)
		ret[i] = d[i];
	return EL_N_ELEMENTS(d);
}

const struct node_type node_type_fir = {
	.name = "fir",
	.description = "partitioned convolution with an impulse response file",
	.role = NODE_ROLE_PROCESS,
	.keys = fir_keys,
	.params = fir_params,
	.n_params = EL_N_ELEMENTS(fir_params),
	.create = fir_create,
	.destroy = fir_destroy,
	.get_out_channels = fir_get_out_channels,
	.process = rt_fir_process,
	.get_tail = rt_fir_get_tail,
	.set_quality = fir_set_quality,
	.update_prepare = fir_update_prepare,
	.update_apply = rt_fir_update_apply,
	.update_free = fir_update_free,
	.set_param = rt_fir_set_param,
	.get_param = fir_get_param,
	.get_details = fir_get_details,
};
