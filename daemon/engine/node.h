/* SPDX-License-Identifier: MIT */
/*
 * daemon/engine/node.h: what a node type is — the contract between the engine and the files in
 * daemon/nodes/ (one type per file).
 *
 * A node instance has input channels (the sum of the channels of the references in its `input`
 * key, in order) and output channels (which the type decides, usually the same count). The
 * engine owns wiring, buffers, fades of connections and silence; a type only turns input
 * samples into output samples. Instances are created on the control thread from a config
 * section, processed on the RT thread (or a worker), and changed either by an update (a new
 * config section: prepared on the control thread, adopted on the RT thread, with a crossfade or
 * ramp inside the node where that is needed to avoid a click) or by a runtime parameter set
 * (a number, ramped inside the node).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/el-macros.h"

struct conf_section;
struct dsp_fft_cache;
struct dsp_fir_layout;
struct dsp_mix_ops;
struct el_error;
struct el_pacer;
struct el_par;
struct disk;

/*
 * The quality in force, engine-wide: the power policy scales it (docs/policy.md) and each node
 * type maps it onto its own knobs, so the policy never needs to know which nodes have them.
 * All zero is full quality.
 */
enum eng_quality_tier {
	ENG_QUALITY_HIGH,
	ENG_QUALITY_MEDIUM,
	ENG_QUALITY_LOW,
};

struct eng_quality {
	enum eng_quality_tier tier; /* EQ and resampler tiers, where a type has them */
	int fir_tail_db; /* FIR tail: 0 the whole IR, else cut where the energy still to come falls
			    below this many dB (< 0) */
};

/*
 * Chooses how a convolver cuts its IR (dsp/fir-layout.h): the daemon measures layouts on this
 * machine and remembers them (daemon/fir-layouts.c); without a planner, convolvers are uniform.
 * choose() runs on the control thread: for convolvers of block frames, holding taps taps, run
 * as channels channels, with the kernel cpu_flags picks and the engine's FFT cache. 0 with
 * *ret set (it holds at least taps); -errno (the caller falls back to uniform).
 */
struct eng_fir_planner {
	/* *ret_cost_ns (NULL: not wanted): the measured time per call, 0 when not measured */
	int (*choose)(void *ctx, unsigned block, size_t taps, unsigned channels, uint32_t cpu_flags,
		      struct dsp_fft_cache *fft, struct dsp_fir_layout *ret, double *ret_cost_ns);
	void *ctx;
};

/* One fact about an instance for `node.get` (get_details): a string or a number. */
#define NODE_DETAIL_TEXT_MAX 256
struct node_detail {
	const char *key; /* static storage: "layout", "taps" ... */
	bool is_number;
	double number;
	char text[NODE_DETAIL_TEXT_MAX];
};

/* Everything a type may need to build an instance. Borrowed for the duration of the call. */
struct eng_node_env {
	uint32_t rate;        /* Hz */
	uint32_t block;       /* frames per cycle, a power of two from 32 to 8192 */
	uint32_t fade_frames; /* the engine's click-free fade length: use it for ramps and
				 crossfades */
	unsigned in_channels; /* total input channels (0 for sources) */
	const unsigned
		*in_groups; /* channels of each `input` reference, in order (mix uses them) */
	size_t n_groups;
	uint32_t cpu_flags; /* enum dsp_cpu_flag */
	const struct dsp_mix_ops *mix;
	struct dsp_fft_cache *fft; /* control thread only: shared FFT plans */
	/* control thread only: paces long preparation (an IR's resampling and transforms) as the
	 * power policy's high-priority background work; NULL: full speed (common/el-pace.h) */
	const struct el_pacer *pacer;
	const char *base_dir; /* relative file paths (an IR) are resolved against this directory */
	const struct eng_quality *quality;         /* in force: a new instance starts with it */
	const struct eng_fir_planner *fir_planner; /* control thread only; NULL: uniform */
	/* borrowed, outlives the instance; NULL: none. A render's threads a node may run its
	 * channels on (common/el-par.h); never set when the cycle is real-time */
	const struct el_par *par;
	/* borrowed, outlives the instance: the disk thread that streams players' files
	 * (daemon/disk/disk.h); NULL where the cycle is not real-time (a render, a config check):
	 * a node then reads its files on the cycle's thread */
	struct disk *disk;
	/* control thread only: low-priority background work may run now (a waiting player's
	 * file decoded ahead); false on battery (the power policy): defer it (wants_update) */
	bool prefetch;
	/* borrowed for the call: [ipc] file_dirs, canonical, NULL-terminated; NULL: none. A file
	 * named by an entry a client set (conf_origin.client) opens only beneath them
	 * (node_file_beneath(), daemon/fs/beneath.h) */
	const char *const *file_dirs;
};

/* One cycle's buffers for one instance. All pointers are valid for this call only. */
struct eng_node_io {
	unsigned frames; /* == block */
	unsigned n_in;
	unsigned n_out;
	const float *const *in; /* n_in channels; a silent channel points at zeros */
	float *const *out;      /* n_out channels, to be written completely */
	bool in_silent;         /* every input channel is silence this cycle */
};

/* What the engine does with the instance's channels besides connecting them to other nodes. */
enum node_role {
	NODE_ROLE_PROCESS,  /* ordinary node */
	NODE_ROLE_CAPTURE,  /* io.in are the backend's capture channels (input node) */
	NODE_ROLE_PLAYBACK, /* io.out are the backend's playback channels (output node) */
};

/* A runtime parameter (echoelctl set/get): a number with a range and a unit. */
struct node_param {
	const char *name; /* "gain_db", "mute", "freq", "peak_db" */
	const char *unit; /* "dB", "Hz", "bool", "frames" ... */
	double min, max;
	bool settable;    /* false: read-only (meters) */
	bool per_channel; /* get with channel index (meters) */
};

struct node_type {
	const char *name; /* the config's `type = ...` */
	const char *description;
	enum node_role role;
	bool source; /* makes its own signal (tone, noise): an `input` is refused, not ignored */
	/* Keys a section of this type may hold besides `type` and `input`. NULL-terminated. */
	const char *const *keys;
	/* Runtime parameters, n_params of them (may be 0). */
	const struct node_param *params;
	size_t n_params;

	/*
	 * Thread: control. Reads sec (borrowed; `type`/`input` already handled), allocates
	 * everything the instance will ever need. 0 with *ret; -EINVAL with
	 * `FILE:LINE: key 'K': reason` in reterr for a bad value; -ENOENT etc. for a file named in
	 * the config (message names the file); -ENOMEM.
	 */
	int (*create)(const struct conf_section *sec, const struct eng_node_env *env, void **ret,
		      struct el_error *reterr);
	/* Thread: control. Accepts NULL. */
	void (*destroy)(void *inst);
	/* Thread: any. Output channel count, fixed for the life of the instance. */
	unsigned (*get_out_channels)(const void *inst);

	/*
	 * Thread: RT (or a worker). Writes all of io->out. Returns true when the type knows its
	 * output is entirely zero this cycle (lets the engine skip what follows); false otherwise.
	 */
	bool (*process)(void *inst, const struct eng_node_io *io);
	/*
	 * Thread: RT. Frames of output the instance still produces after its input falls silent
	 * (FIR length, delay, filter decay to -150 dB); SIZE_MAX for sources that never fall silent
	 * by themselves. The engine skips a node whose input has been silent for longer. While a
	 * crossfade or ramp started by update_apply() or set_param() runs, return SIZE_MAX: a
	 * skipped node's fade would stand still, and what it fades away from is freed once the
	 * engine's fade time has passed.
	 */
	size_t (*get_tail)(const void *inst);

	/*
	 * Thread: control. Prepares moving inst to the settings in sec without replacing it (state
	 * kept). 0 with *ret_update set (NULL when nothing changes); -EOPNOTSUPP when the change
	 * needs a new instance (e.g. the channel count changes: the engine then runs the old and
	 * the new instance side by side and crossfades them, plan.h); other -errno with a message.
	 * May be NULL: every change then replaces the instance.
	 */
	int (*update_prepare)(void *inst, const struct conf_section *sec,
			      const struct eng_node_env *env, void **ret_update,
			      struct el_error *reterr);
	/*
	 * Thread: RT, at the start of a cycle. Adopts update, starting a ramp or crossfade of at
	 * most env->fade_frames; afterwards update holds whatever the instance gave up.
	 */
	void (*update_apply)(void *inst, void *update);
	/*
	 * Thread: control. Frees an update, applied or not, and what it holds. The engine calls it
	 * only after fade_frames more frames have run, so anything the node was still fading out
	 * of is no longer in use.
	 */
	void (*update_free)(void *update);
	/*
	 * Thread: control. With its settings unchanged, whether the instance wants update_prepare
	 * anyway: work it deferred (a file not decoded on battery) is due now, in env. May be NULL.
	 */
	bool (*wants_update)(const void *inst, const struct eng_node_env *env);

	/* Thread: RT. Sets params[id] (already range-checked) with a ramp. 0 or -EINVAL. */
	int (*set_param)(void *inst, unsigned id, double value);
	/* Thread: any (reads atomics). Current value of params[id] (channel for per_channel). */
	int (*get_param)(const void *inst, unsigned id, unsigned channel, double *ret);
	/*
	 * Thread: control. The engine-wide quality changed to *q (borrowed for the call): move to
	 * it without a click (a ramp or crossfade the RT side runs). May be NULL: the type has no
	 * quality knobs.
	 */
	void (*set_quality)(void *inst, const struct eng_quality *q);
	/*
	 * Thread: control. What the instance is running, beyond its settings and parameters (a
	 * fir's layout, taps, IR rate): fills at most max entries, returns how many it has. May be
	 * NULL: nothing to say.
	 */
	size_t (*get_details)(const void *inst, struct node_detail *ret, size_t max);
	/*
	 * Thread: control (reads atomics). Frames the instance delays its output behind its input
	 * (a limiter's look-ahead, a delay's delay): what it adds to the latency of every path
	 * through it. May be NULL: none.
	 */
	size_t (*get_latency)(const void *inst);
};

/*
 * The type called name in types (a NULL-terminated list, e.g. daemon/nodes/nodes.h's registry),
 * or NULL. Thread: any.
 */
const struct node_type *eng_node_type_find(const struct node_type *const *types, const char *name);
