/* SPDX-License-Identifier: MIT */
/*
 * daemon/engine/engine-private.h: the engine's state, shared by engine.c (control thread) and
 * cycle.c (RT thread). Nothing outside daemon/engine/ includes this.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/el-pace.h"
#include "daemon/engine/engine.h"
#include "daemon/engine/node.h"
#include "daemon/engine/settings.h"
#include "dsp/mix.h"

struct dsp_fft_cache;
struct eng_plan;
struct eng_plan_level;
struct eng_ring;
struct eng_workers;

/*
 * One cycle in this many measures per-node processing time. Odd on purpose: a convolver's
 * schedule repeats every power-of-two number of cycles, and an interval sharing a factor with
 * it would time the same phase of it every time (test-engine-timing).
 */
#define ENG_NODE_TIMING_EVERY 15u

/*
 * After a level a worker made late, this many cycles' worth of levels run on the RT thread
 * alone before sharing is tried again: long enough that a stalled worker costs one report per
 * second, not one per cycle.
 */
#define ENG_FALLBACK_SECONDS 1u

/* A level whose steps take less than this together runs on the RT thread alone. */
#define ENG_SHARE_MIN_NS 20000u

/*
 * A parameter change on its way to the RT thread. It names its instance by id, never by
 * pointer: the RT thread resolves the id against the plan it runs when it applies the change,
 * so a command cannot outlive the instance it was queued for, whatever plans were adopted or
 * freed meanwhile (with or without a running backend). A command whose instance is gone is
 * dropped and counted.
 */
struct eng_command {
	uint32_t inst_id; /* struct eng_inst.id */
	uint32_t step;    /* the instance's step index when queued: a hint, checked against id */
	unsigned param;
	double value;
};

struct eng_engine {
	struct eng_settings settings;
	const struct node_type *const *types; /* borrowed: the node types graphs may use */
	uint32_t fade_frames;
	uint32_t cpu_flags;
	struct dsp_mix_ops mix;
	struct dsp_fft_cache *fft;  /* control thread only */
	struct el_pacer prep_pacer; /* control thread only: for node preparation (node.h) */
	bool prefetch;              /* control thread only: background prefetch may run (node.h) */
	struct eng_fir_planner fir_planner; /* control thread only: convolver layouts (node.h) */
	struct disk *disk;                  /* borrowed: players' streams (node.h); NULL: none */
	char **file_dirs;                   /* owned: [ipc] file_dirs (node.h); NULL: none */
	uint64_t last_compile_ns, last_switch_ns; /* control thread only: the last configure's */
	struct eng_quality quality; /* control thread only: in force (node.h) */

	float *pool;               /* owned: pool_bytes, mapped by pool_map() (engine.c) */
	size_t pool_bytes;
	float *zero;               /* owned: block zeros, read by every silent input */
	struct eng_ring *commands; /* control -> RT: struct eng_command */
	struct eng_ring *events;   /* RT -> control: struct eng_event */
	struct eng_workers *workers;

	/* Control thread. */
	struct eng_plan *current; /* published most recently (owned) */
	bool running;             /* a backend calls eng_engine_cycle() */
	bool workers_stalled;     /* stopped with a worker still inside a step: free no plan */
	/* Plans replaced while stopped whose updates a frozen fade may still read (plan.h,
	 * applied_stopped): freed once cycles have run fade_frames past a later adoption. Owned. */
	struct eng_plan *deferred;

	/* Control -> RT. */
	_Atomic(struct eng_plan *) pending;
	/* RT -> control. */
	_Atomic(struct eng_plan *) adopted;
	_Atomic uint64_t adopted_at; /* frame counter when it was adopted */

	/* RT thread only (and workers inside a level, which see them through the job's release). */
	struct eng_plan *rt_plan;
	bool rt_timing;        /* this cycle measures per-node time */
	bool rt_all_silent;    /* the last cycle produced only silence */
	_Atomic bool rt_heard; /* a step of this cycle produced sound or ran (RT thread, workers) */
	/* Control -> backend: bumped (and futex-woken) on every publish and queued change. */
	_Atomic uint32_t wake_seq;
	const float *const *rt_capture;
	unsigned rt_n_capture;
	float *const *rt_playback;
	unsigned rt_n_playback;
	uint64_t rt_xruns_seen;
	/* eng_engine_fade_in(): asked (any thread), and how far the RT thread is into it */
	atomic_bool fade_in_asked;
	uint32_t rt_fade_in_done; /* frames of the fade-in run; fade_frames or more: none */

	/* Statistics: written by the RT thread, read by anyone; relaxed, independent counters. */
	_Atomic uint64_t cycles;
	_Atomic uint64_t late_cycles;
	_Atomic uint64_t xruns;
	_Atomic uint64_t xrun_delay_us;
	_Atomic uint64_t frames;
	_Atomic uint32_t load_ppm;
	_Atomic uint32_t load_max_ppm;
	_Atomic uint64_t events_lost;
	_Atomic uint64_t idle_waits;
	/* the own clock waits in eng_engine_wait_while_idle(), on sleep_seq */
	_Atomic bool asleep;
	_Atomic uint32_t sleep_seq;
	_Atomic int32_t rt_tid; /* the thread that runs the cycles (eng_engine_set_rt_thread) */
	_Atomic uint64_t commands_dropped;
	_Atomic uint64_t late_levels;
	_Atomic int32_t drift_milli_ppm; /* eng_engine_report_drift(); INT32_MIN: none */
};

/* cycle.c: runs step i of a level (RT thread or worker). */
void eng_cycle_run_step(void *engine, const struct eng_plan_level *level, uint32_t i);

/*
 * cycle.c: applies the queued commands to the instances of e->rt_plan or of pending (the plan
 * about to be adopted, may be the same), dropping (and counting) those whose instance neither
 * has. Thread: RT; or control while no backend runs cycles (the ring's consumer then, as nobody
 * else reads it).
 */
void eng_cycle_apply_commands(struct eng_engine *e, const struct eng_plan *pending);

/* cycle.c: pushes an event, counting it as lost when the ring is full. Thread: RT. */
void eng_cycle_push_event(struct eng_engine *e, uint32_t type, uint32_t inst_id, double value);
