/* SPDX-License-Identifier: MIT */
/*
 * daemon/engine/plan.h: the compiled, immutable form of a graph that the RT thread runs.
 *
 * A plan lists steps (one per node instance) in topological order, grouped into levels whose
 * steps do not depend on each other (so workers may run them at once), with every channel
 * assigned a buffer of the preallocated pool. Buffers are reused by liveness: a buffer is free
 * again once the last level that reads it has run, and a level never reuses a buffer that
 * another step of the same level still reads or writes.
 *
 * Reconfiguration: each input channel of a step reads exactly one source channel, steadily, or
 * fading in (0 -> 1) or out (1 -> 0) over the plan's first fade_frames frames. The engine goes
 * from plan A to plan B in two steps: A' (A's wiring, every connection B lacks fading out),
 * then B (every connection A lacked fading in). What both share runs on, sample-continuous.
 *
 * Replacement: a node that B must give a new instance (its type cannot adopt the new settings in
 * place, or its input channels changed) keeps its place in the graph: for A' and B its
 * connections count as the old instance's. B's step runs the new instance and, beside it on the
 * same inputs, the old one (the step's partner) for the first fade_frames, and crossfades their
 * outputs (equal-gain linear: see rt_run_partner() in cycle.c). A steady signal through a
 * replaced filter therefore does not dip. Input channels are matched by reference and channel
 * within it; a channel the partner's layout lacks reads silence, an output channel only the new
 * instance has is new (its connections fade in). Capture and playback nodes are not partnered
 * (they own backend channels): replacing one still fades out, then in.
 *
 * Thread: control for everything here, except the fields marked RT, which only the RT thread
 * (and workers, inside a level) touch while the plan is current.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct eng_graph;
struct eng_inst;
struct eng_node_env;
struct eng_settings;
struct el_error;

/* A batch's parameter change: inst is one of the plan's own steps, alive as long as the plan. */
struct eng_plan_set {
	struct eng_inst *inst; /* borrowed from the plan's steps */
	unsigned param;
	double value;
};

enum eng_ramp {
	ENG_RAMP_STEADY,
	ENG_RAMP_IN,  /* 0 -> 1 over fade_frames, then steady */
	ENG_RAMP_OUT, /* 1 -> 0 over fade_frames, then silent */
};

#define ENG_NO_BUFFER UINT32_MAX

struct eng_plan_input {
	int32_t src_step;     /* step producing it, -1 when unconnected (reads silence) */
	uint32_t src_channel; /* 0-based output channel of that step */
	enum eng_ramp ramp;
	uint32_t buffer;  /* pool buffer of the source channel */
	uint32_t scratch; /* pool buffer for the ramped copy, ENG_NO_BUFFER when steady */
};

struct eng_plan_step {
	struct eng_inst *inst; /* reference held by the plan */
	unsigned level;
	unsigned n_in, n_out;
	struct eng_plan_input *inputs; /* n_in */
	uint32_t *out_buffers;         /* n_out pool buffers (unused for playback steps) */
	unsigned io_base;              /* first backend channel (capture and playback steps) */
	bool io_placed; /* io_base is assigned */
	void *update;                  /* owned: the type's update (applied or not), or NULL */
	char *signature; /* owned: the instance's settings once this plan is published */
	int clip_param;  /* playback steps: index of the type's "clips" param, or -1 */
	/* RT: the per-cycle pointer arrays handed to the type's process() */
	const float **in_ptrs;
	float **out_ptrs;

	/*
	 * The instance this step replaces (reference held), crossfaded out over the plan's first
	 * fade_frames; NULL when there is none, and set to NULL (reference dropped) by
	 * eng_plan_drop_partners() once the RT thread has reported the fades done. The RT thread
	 * reads the pointer only while frames_run < fade_frames, which is before that report.
	 */
	struct eng_inst *partner;
	int32_t *partner_in;    /* owned: per partner input, the step input it reads, or -1 */
	uint32_t *partner_bufs; /* owned: per partner output, a pool buffer of this level */
	const float **partner_in_ptrs; /* RT: partner->n_in */
	float **partner_out_ptrs;      /* RT: partner->n_out */
};

struct eng_plan_level {
	struct eng_plan_step **steps;
	uint32_t count;
	bool share; /* RT: worth waking workers for (re-estimated from sampled node times) */
};

struct eng_plan {
	struct eng_plan_step *steps; /* owned, topological order */
	size_t n_steps;
	struct eng_plan_level *levels; /* owned */
	unsigned n_levels;
	uint32_t n_buffers;   /* pool buffers this plan uses (the high-water mark) */
	unsigned n_capture;   /* backend channels read by capture steps */
	unsigned n_playback;  /* backend channels written by playback steps */
	uint32_t fade_frames; /* length of every ramp in this plan */
	bool has_ramps;       /* any input fades in or out */
	bool has_partners;    /* any step crossfades from a replaced instance */

	/* Parameter changes applied when the RT thread adopts the plan (a batch). Owned. */
	struct eng_plan_set *sets;
	size_t n_sets;

	/* RT */
	bool updates_applied;
	/*
	 * Control thread: its updates were applied while no RT thread ran (eng_engine_publish()).
	 * A node's fade they started is frozen until cycles run again, and reads what the updates
	 * hold until fade_frames of cycles later; so the plan outlives that (engine.c, publish()).
	 */
	bool applied_stopped;
	struct eng_plan *deferred_next; /* control thread: the engine's list of such plans */
	uint64_t frames_run; /* frames since the RT thread adopted the plan */
	uint8_t *silent;     /* per pool buffer: its content this cycle is silence */

	/* RT -> control: set (release) after the cycle that ends the partners' crossfade; from then
	 * on the RT thread never reads a step's partner again. */
	_Atomic bool partners_done;
};

/*
 * Compiles graph g into a plan. Instances come from prev (the current plan, may be NULL):
 * a node with the same name and type, the same input channels and the same settings keeps its
 * instance; with changed settings it keeps it through an update when the type can do that;
 * otherwise, or when new, an instance is created with env (in_channels/in_groups filled in
 * per node), and a replaced processing node gets the old instance as its partner (see
 * "Replacement" above). Inputs that prev lacks fade in. pool_buffers bounds the buffers it may
 * use. 0 with *ret; -EINVAL with a message naming the node and port; the types' errors; -ENOMEM.
 */
int eng_plan_compile(const struct eng_graph *g, const struct eng_plan *prev,
		     const struct eng_node_env *env, uint32_t pool_buffers, uint32_t fade_frames,
		     struct eng_plan **ret, struct el_error *reterr);

/*
 * The first step from cur to next: cur's wiring with every connection next lacks fading out
 * (removed nodes included). 0 with *ret (NULL when nothing fades out, so the step is not
 * needed); -ENOMEM; -ENOSPC when the fades need more buffers than the pool has.
 */
int eng_plan_fade_out_to(const struct eng_plan *cur, const struct eng_plan *next,
			 uint32_t pool_buffers, struct eng_plan **ret, struct el_error *reterr);

/* A plan like cur with every connection fading out: the daemon's last words before exit. */
int eng_plan_fade_out_all(const struct eng_plan *cur, uint32_t pool_buffers, struct eng_plan **ret,
			  struct el_error *reterr);

/*
 * The plan is being published: instances updated by it now hold its settings (so the next
 * compile compares against them). Call once, just before publishing.
 */
void eng_plan_commit(struct eng_plan *p);

/*
 * Drops the partners' references (destroying the replaced instances no other plan holds). Call
 * once the RT thread has set partners_done, or when no RT thread runs the plan.
 */
void eng_plan_drop_partners(struct eng_plan *p);

/* Frees the plan, its unapplied updates, and its instance references. Accepts NULL; NULL. */
struct eng_plan *eng_plan_free(struct eng_plan *p);

/* The step running the instance called name, or NULL. */
struct eng_plan_step *eng_plan_find(const struct eng_plan *p, const char *name);
