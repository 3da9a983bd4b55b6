/* SPDX-License-Identifier: MIT */
/*
 * daemon/engine/engine.h: the engine — the graph's plans, the buffer pool, the rings between
 * threads, the worker threads and the statistics. Backends drive it by calling
 * eng_engine_cycle() once per period from their RT thread; the control thread configures it.
 *
 * Threads: functions say which thread may call them. "control" means the one thread that
 * configures the engine (the main loop); "RT" the backend's real-time thread.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/engine/settings.h"

struct conf;
struct el_error;
struct eng_engine;

enum eng_event_type {
	ENG_EVENT_LATE_CYCLE = 1, /* value: how late, ns (own clock) */
	ENG_EVENT_XRUN,           /* value: delay reported by the server, µs */
	ENG_EVENT_CLIP,           /* inst_id: the output node; value: clipped samples so far */
	ENG_EVENT_PLAN,           /* a new plan was adopted; value: its step count */
	ENG_EVENT_END_OF_STREAM,  /* inst_id: the node whose stream ended */
	ENG_EVENT_LATE_LEVEL,     /* a worker finished a level's step past the cycle's period;
				   * value: how late, ns */
};

/* What the RT thread reports, fixed size so it can travel through a ring. */
struct eng_event {
	uint32_t type;    /* enum eng_event_type */
	uint32_t inst_id; /* the node concerned, 0 for none */
	uint64_t frame;   /* engine frame counter when it happened */
	double value;
};

struct eng_stats {
	uint64_t cycles;
	uint64_t late_cycles;  /* periods the backend started late (own clock) */
	uint64_t xruns;        /* server-reported xruns */
	uint64_t frames;       /* frames processed since start */
	double load;           /* last cycle's processing time / period, 0..1+ */
	double load_max;       /* highest since the last eng_engine_get_stats(reset = true) */
	uint64_t events_lost;  /* events dropped because the ring was full */
	uint32_t workers;      /* worker threads taking part */
	unsigned nodes;        /* steps in the current plan */
	uint32_t buffers_used; /* pool buffers the current plan uses */
	uint64_t pool_bytes;   /* the pool's size; each buffer is block floats */
	uint64_t idle_waits;   /* times the own clock stopped because the graph was silent */
	uint64_t commands_dropped; /* queued changes whose node was gone when they were due */
	uint64_t late_levels;      /* levels a worker finished past the cycle's period */
	bool workers_realtime;     /* levels are shared: workers run real-time below the cycle */
	/* The last configure (start, reload, graph edit), control thread: building its plan
	 * (every new node made: IRs loaded and prepared, convolver layouts chosen) and switching
	 * to it (the fades run, the old plan reclaimed). */
	double compile_ms, switch_ms;
	/* The capture device's clock against the playback device's, ppm (capture faster:
	 * positive; eng_engine_report_drift); NAN when not measured (one device, or a server). */
	double drift_ppm;
};

/* Per-node figures for `stats`. */
struct eng_node_stats {
	const char *name; /* borrowed, valid until the next configure */
	const char *type;
	uint64_t runs, skips;
	double avg_us; /* mean processing time per run */
};

/*
 * Thread: control. An engine for settings s (copied): pool, rings, FFT cache, workers. No
 * graph yet (cycles output silence). Graphs may use the node types in types (NULL-terminated,
 * borrowed for the engine's life: daemon/nodes/nodes.h's registry, or a test's own). 0 with
 * *ret; -ENOMEM; -errno from thread creation.
 */
struct node_type;
int eng_engine_new(const struct eng_settings *s, const struct node_type *const *types,
		   struct eng_engine **ret, struct el_error *reterr);

/* Thread: control, after the backend stopped calling eng_engine_cycle(). Accepts NULL. */
struct eng_engine *eng_engine_free(struct eng_engine *e);

/* Thread: any. The settings the engine runs with. */
const struct eng_settings *eng_engine_get_settings(const struct eng_engine *e);

/*
 * Thread: control. Compiles the graph of c and switches to it: connections that go away fade
 * out, then new ones fade in; nodes in both keep their state; a node with changed settings is
 * updated in place (crossfaded) when its type can, else replaced (the old and new instances
 * run side by side and are crossfaded, see plan.h). Relative file paths resolve against
 * base_dir. Returns when the switch is complete. On any error the running graph is untouched.
 * 0; or with a message: -EINVAL (a bad value, an unknown input), -ELOOP (nodes reading one
 * another in a cycle), -ENOSPC ([engine] pool_buffers too small), a node's -errno (-ENOENT
 * for a file it names that does not exist), -ENOMEM; -ETIMEDOUT when the RT thread stopped
 * answering.
 */
int eng_engine_configure(struct eng_engine *e, const struct conf *c, const char *base_dir,
			 struct el_error *reterr);

/* Thread: control. Fades every output out and waits for it: the clean way to stop. */
int eng_engine_fade_out(struct eng_engine *e);

/*
 * Thread: control. Tells the engine whether a backend is calling eng_engine_cycle(): while not,
 * plan switches happen at once instead of waiting for the RT thread, and parameter changes are
 * applied at once. Stopping applies the changes still queued for the RT thread. Call it only
 * once the backend's RT thread has really stopped (or before it starts).
 */
void eng_engine_set_running(struct eng_engine *e, bool running);

/* A backend channel of the running graph: which node's which channel it is. */
struct eng_io_channel {
	const char *node; /* borrowed, valid until the next configure */
	unsigned channel; /* 1-based channel of that node */
	unsigned index;   /* the engine's channel number (capture or playback) */
	bool playback;
};

/*
 * Thread: control. The backend channels of the running graph: capture channels first, then
 * playback, each by index. Fills at most n; returns how many there are.
 */
size_t eng_engine_get_io(const struct eng_engine *e, struct eng_io_channel *ret, size_t n);

/*
 * Thread: any (RT-safe: one atomic store). The playback output of the next cycles fades in from
 * silence over the fade length: a backend asks after it starts or restarts the cycle and after a
 * device recovered from an xrun, so the first sound is never a step. (A render does not.)
 */
void eng_engine_fade_in(struct eng_engine *e);

/*
 * Thread: control. The latency, in frames, of the longest path from a source or capture channel
 * through the running graph to node (its own delay included: node.h get_latency), or, with node
 * NULL, to any playback channel. Within the graph only: a backend's own buffering comes on top.
 * 0; -ENOENT (no such node).
 */
int eng_engine_get_latency(const struct eng_engine *e, const char *node, uint64_t *ret);

/* Thread: control. Backend channels the current graph reads and writes. */
unsigned eng_engine_get_capture_channels(const struct eng_engine *e);
unsigned eng_engine_get_playback_channels(const struct eng_engine *e);

/*
 * Thread: RT. Runs one period: adopts a newly published plan, applies queued parameter changes,
 * runs every node, publishes statistics. capture[i] (i < n_capture) and playback[i] hold frames
 * samples (frames == block); missing or NULL capture channels read as silence, playback channels
 * the graph does not write are zeroed, and a NULL playback channel is computed but discarded.
 * Never allocates, locks or blocks.
 */
void eng_engine_cycle(struct eng_engine *e, const float *const *capture, unsigned n_capture,
		      float *const *playback, unsigned n_playback, unsigned frames);

/*
 * Thread: RT, between cycles. True when the last cycle was entirely silent (every node skipped
 * or silent, no fade running) and nothing is queued for the next: running more cycles would
 * only compute silence. A backend that owns its clock (dummy) may then wait in
 * eng_engine_wait_while_idle() instead, as PipeWire suspends an unused graph.
 */
bool eng_engine_is_idle(struct eng_engine *e);

/*
 * Thread: the backend's RT thread, between cycles (it blocks). Sleeps until the control thread
 * publishes a plan or queues a change, or max_ns pass. Returns at once if not idle, or if *stop
 * (NULL: none) is set: a backend stopping its thread sets it, then calls eng_engine_wake(), and
 * the wait cannot miss both.
 */
void eng_engine_wait_while_idle(struct eng_engine *e, uint64_t max_ns, const _Atomic bool *stop);

/* Thread: any but the RT thread. Wakes a backend waiting in eng_engine_wait_while_idle(): the
 * engine does so itself for a plan or a change; a backend stopping its thread does too. */
void eng_engine_wake(struct eng_engine *e);

/*
 * Thread: any. True while the backend waits in eng_engine_wait_while_idle(): no cycle runs,
 * and none is owed (not a hang), so the control side may slow its own housekeeping. NULL: false.
 */
bool eng_engine_is_asleep(const struct eng_engine *e);

/*
 * Thread: any. The backend names the thread that runs the cycles (its kernel thread id, from
 * gettid() on that thread, outside a cycle), for the RT thread's own CPU time in `status`.
 */
void eng_engine_set_rt_thread(struct eng_engine *e, pid_t tid);
/* Thread: any. The tid set, or 0 when none was. */
pid_t eng_engine_get_rt_thread(const struct eng_engine *e);

/* Thread: control. A count that changes whenever the control side wakes the backend (a plan
 * published, a change queued); NULL: 0. */
uint32_t eng_engine_get_wakes(const struct eng_engine *e);

/* Thread: RT. The backend's estimate of its capture clock against its playback clock (ppm);
 * NAN: none (devices opened afresh). */
void eng_engine_report_drift(struct eng_engine *e, double ppm);

/* Thread: RT. The backend's clock started this period late by late_ns. */
void eng_engine_report_late(struct eng_engine *e, uint64_t late_ns);

/* Thread: any (JACK's notification thread). The server reported an xrun. */
void eng_engine_report_xrun(struct eng_engine *e, double delay_us);

/* Thread: control. The oldest event from the RT thread: 0, or -EAGAIN when there is none. */
int eng_engine_read_event(struct eng_engine *e, struct eng_event *ret);

/* Thread: control. The name of instance id in the current plan, or NULL. */
const char *eng_engine_get_node_name(const struct eng_engine *e, uint32_t id);

/* Thread: any. A snapshot of the counters; reset_max clears load_max. */
void eng_engine_get_stats(struct eng_engine *e, bool reset_max, struct eng_stats *ret);

/* Thread: control. Per-node figures for the n first nodes; returns the node count. */
size_t eng_engine_get_node_stats(const struct eng_engine *e, struct eng_node_stats *ret, size_t n);

/*
 * Thread: control. Queues node.param = value for the RT thread (ramped by the node). 0;
 * -ENOENT (no such node or parameter), -EINVAL (out of range, read-only), -EAGAIN (ring
 * full: try again) with a message.
 */
int eng_engine_set_param(struct eng_engine *e, const char *node, const char *param, double value,
			 struct el_error *reterr);

/* Thread: control. Reads node.param (channel for per-channel values). */
int eng_engine_get_param(struct eng_engine *e, const char *node, const char *param,
			 unsigned channel, double *ret, struct el_error *reterr);

/* A parameter change that travels with a configuration (a `batch`). Borrowed strings. */
struct eng_param_set {
	const char *node;
	const char *param;
	double value;
	const char *where; /* names it in an error ("command 3"); NULL: "change K", by its place */
};

/*
 * Thread: control. Like eng_engine_configure(), and the n parameter changes sets[] are applied
 * by the RT thread in the very cycle that adopts the new graph: all at once or, on any error
 * (the message starts with the refused change's `where`), none.
 */
int eng_engine_configure_batch(struct eng_engine *e, const struct conf *c, const char *base_dir,
			       const struct eng_param_set *sets, size_t n, struct el_error *reterr);

/*
 * Thread: control. What the node called name says it runs (node.h get_details): fills at most
 * max, returns how many it has; 0 for a node without any or not in the running graph.
 */
struct node_detail;
size_t eng_engine_get_node_details(const struct eng_engine *e, const char *name,
				   struct node_detail *ret, size_t max);

/*
 * Thread: control. The type and channel counts of the node called name in the running graph.
 * 0, or -ENOENT.
 */
struct node_type;
int eng_engine_get_node_info(const struct eng_engine *e, const char *name,
			     const struct node_type **ret_type, unsigned *ret_in,
			     unsigned *ret_out);

/*
 * Thread: control. How many worker threads take part from the next cycle on (0 .. CPU count;
 * threads are started on first need and kept). 0, -EINVAL, or -errno from thread creation.
 */
int eng_engine_set_workers(struct eng_engine *e, uint32_t n);

/*
 * Thread: control. The quality every node works at (node.h; copied): instances running now
 * move to it with a fade, instances created later start with it. The default is full quality.
 */
struct eng_quality;
void eng_engine_set_quality(struct eng_engine *e, const struct eng_quality *q);
/* Thread: control. The quality in force (borrowed from the engine). */
const struct eng_quality *eng_engine_get_quality(const struct eng_engine *e);

/*
 * Thread: control. The backend says at what SCHED_FIFO priority its thread runs the cycle (0:
 * not real-time: a server without real-time scheduling, SCHED_FIFO refused, an offline render).
 * Workers then run one below it, and levels are shared with them only when both are real-time.
 * Call it whenever the cycle's thread may have changed (each start). 0; -errno when the workers
 * could not be made real-time (the cycle then runs every level itself: say so).
 */
int eng_engine_set_rt_priority(struct eng_engine *e, int priority);

/*
 * Thread: control. The pacer node types call while they prepare (common/el-pace.h): between
 * chunks of an IR's resampling and transforms. Copied; NULL: full speed (the default). Its ctx
 * is borrowed until the next call.
 */
struct el_pacer;
void eng_engine_set_prep_pacer(struct eng_engine *e, const struct el_pacer *pacer);

/*
 * Thread: control. Whether low-priority background work that nodes may defer — decoding a file
 * a waiting player will only need later (cache prefetch) — may run now (the default), or waits
 * (the power policy on battery). Graphs built from now on see it (node.h: env->prefetch).
 */
void eng_engine_set_prefetch(struct eng_engine *e, bool allowed);

/*
 * Thread: control. True when an instance of the running graph has deferred work it may do now
 * (node.h: wants_update): building the same configuration again lets it (eng_engine_configure:
 * everything else is kept as it runs). base_dir as that call takes it.
 */
bool eng_engine_wants_update(struct eng_engine *e, const char *base_dir);

/*
 * Thread: control. What chooses the layout of the convolvers nodes build (node.h). Copied;
 * NULL: uniform convolvers (the default). Its ctx is borrowed until the next call.
 */
struct eng_fir_planner;
void eng_engine_set_fir_planner(struct eng_engine *e, const struct eng_fir_planner *planner);

/*
 * Thread: control. The disk thread nodes stream their files with (node.h; borrowed, must
 * outlive every instance; NULL: none, only where the cycle is not real-time).
 */
struct disk;
void eng_engine_set_disk(struct eng_engine *e, struct disk *disk);

/*
 * Thread: control. The directories clients may name files in ([ipc] file_dirs: canonical,
 * NULL-terminated; copied): a node opens a file a client named only beneath them
 * (daemon/fs/beneath.h). NULL (the default): none. 0; -ENOMEM, the old list kept.
 */
int eng_engine_set_file_dirs(struct eng_engine *e, const char *const *dirs);
