/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend/pipewire-private.h: what the PipeWire backend's three files share — its state
 * and the functions one calls in another. The arrows point one way: pipewire.c (life cycle,
 * settings, tick) -> pipewire-link.c (connection, the filter, linking, reconnection) ->
 * pipewire-ports.c (port tables changed on the data thread, and the RT callback). The DESIGN
 * block is in pipewire.c. Nothing outside these files includes this.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <pipewire/filter.h>
#include <pipewire/pipewire.h>
#include <spa/param/latency-utils.h>

#include "daemon/backend/backend.h"

struct el_error;
struct eng_engine;

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 5000
/* A daemon that accepted the connection answers a sync in microseconds; 2 s means it hangs. */
#define SYNC_TIMEOUT_MS 2000
/* The engine's block limits (daemon/engine/settings.h: a power of two from 32 to 8192). */
#define BLOCK_MIN 32u
#define BLOCK_MAX 8192u
/* A wrong-sized graph is reported at most this often. */
#define MISFIT_REPORT_MS 10000
/* Cycles at another rate for this long are a switch of the graph's rate, not a glitch (ms). */
#define RATE_SWITCH_MS 500
/* ... with no pause longer than this in them (two ticks; ms). */
#define RATE_SWITCH_GAP_MS 250

/* Each port's user data: allocated and freed by pw_filter with the port. */
struct port_data {
	char *name;    /* owned: "<node>_<channel>" */
	bool playback; /* a PipeWire output port */
	/* the latency the graph reported for what is linked to it (an input port: upstream, in
	 * the output direction; an output port: downstream, in the input direction); under the
	 * loop lock */
	struct spa_latency_info peer;
	bool have_peer;
};

/* Ports by engine channel number (NULL: no port), and the RT thread's buffer pointers. */
struct port_table {
	unsigned n_capture, n_playback;
	struct port_data **capture_ports;
	struct port_data **playback_ports;
	const float **capture; /* RT thread only */
	float **playback;      /* RT thread only */
};

/* A node or port the registry announced. */
struct reg_obj {
	uint32_t id;
	uint32_t node_id; /* ports: their node; nodes: SPA_ID_INVALID */
	uint32_t port_id; /* ports: their index in the node, the order in which we link */
	bool output;      /* ports: port.direction "out" */
	char *name;       /* owned: node.name or port.name */
};

struct pwbe {
	/* [pipewire], owned */
	char *node_name, *description, *target, *latency;
	uint32_t rate, block;
	struct eng_engine *engine; /* borrowed, from start() on */

	struct pw_thread_loop *loop;
	struct pw_context *context;
	struct pw_data_loop *data_loop; /* the context's */
	struct pw_core *core;           /* NULL while disconnected */
	struct spa_hook core_listener;
	struct pw_filter *filter; /* NULL while disconnected or stopped */
	uint32_t graph_latency;   /* frames (pwbe_filter_set_latency); under the loop lock */
	struct spa_hook filter_listener;
	struct port_table *table;     /* control thread, under the loop lock */
	struct port_table *rt_table;  /* data thread: set only in invokes on it */
	struct pw_registry *registry; /* only with a target: to link our outputs to it */
	struct spa_hook registry_listener;

	/* Written by the loop thread in callbacks, read under the loop lock. */
	int sync_seq;
	bool synced;
	uint32_t graph_rate, min_quantum, max_quantum;
	char error[256];
	struct reg_obj *objs; /* the nodes and ports the registry announced */
	size_t n_objs, cap_objs;
	bool graph_dirty; /* objects came or went since we last linked */

	/*
	 * Atomics, all relaxed: each is a standalone flag, figure or counter; whatever a flag
	 * concerns (b->error, the core, the filter) is read under the loop lock, which orders it.
	 */
	_Atomic bool lost;            /* the connection or the filter failed */
	_Atomic int rt_sched;         /* the data thread's scheduling policy, -1 unknown */
	_Atomic uint64_t rt_misfits;  /* cycles of a size or rate the engine was not built for */
	_Atomic uint32_t rt_misfit_n; /* the last such cycle's frames and rate */
	_Atomic uint32_t rt_misfit_rate;

	bool started;
	uint64_t next_try_ms, sync_sent_ms, misfit_report_ms, misfits_reported;
	/* control thread: the graph runs at another rate (a switch): since when, seen at which
	 * count of cycles not fitting, and the rate to rebuild for (0: none) */
	uint64_t other_rate_ms, other_rate_seen_ms, other_rate_misfits;
	uint32_t switch_rate;
	unsigned backoff_ms;
};

static inline uint64_t pwbe_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- pipewire-ports.c ---- */

/* The filter's process callback (data thread). */
void pwbe_rt_process(void *data, struct spa_io_position *pos) EL_RT;
/* Under the loop lock, with a filter: makes the ports follow the engine's channels. */
int pwbe_ports_update(struct pwbe *b, struct el_error *reterr);
/* Under the loop lock: from here on no cycle touches our ports (one invoke on the data thread). */
void pwbe_ports_detach(struct pwbe *b);
/* Under the loop lock, after pwbe_ports_detach() and before pw_filter_destroy() frees the
 * ports: frees what we hung on them, and the table. */
void pwbe_ports_forget(struct pwbe *b);

/* ---- pipewire-link.c ---- */

/*
 * Control thread, under the loop lock, with a filter: takes the latency the running graph adds
 * (a limiter's look-ahead, delays: eng_engine_get_latency), in frames, and publishes every
 * port's: an output port's capture latency is the largest its inputs' peers reported plus the
 * graph's, an input port's playback latency the largest its outputs' peers reported plus the
 * graph's (as JACK's latency callback does; the filter runs with PW_FILTER_FLAG_CUSTOM_LATENCY
 * and hears the peers' in param_changed, which publishes again). Also the filter's
 * ProcessLatency, for a reader of the node. Called after every change of ports or graph.
 */
void pwbe_filter_set_latency(struct pwbe *b);

/* Connects the core and asks for a round trip (its info comes first). Under the loop lock. */
int pwbe_core_connect(struct pwbe *b, struct el_error *reterr);
/* Waits, under the loop lock, for the answer to pwbe_core_connect()'s round trip. */
int pwbe_core_wait(struct pwbe *b, struct el_error *reterr);
void pwbe_core_disconnect(struct pwbe *b);
/* The graph's rate, and the configured block fitted into its quantum limits. */
int pwbe_follow_graph(struct pwbe *b, struct el_error *reterr);
/* Under the loop lock: the filter, its ports, connected; the engine's cycle runs from here on. */
int pwbe_filter_create(struct pwbe *b, struct el_error *reterr);
/* Under the loop lock. Returns when no cycle runs or will run any more. */
void pwbe_filter_destroy(struct pwbe *b);
/* Under the loop lock: links our outputs to [pipewire] target when the graph changed. */
void pwbe_apply_target(struct pwbe *b);
/* Drops the filter and the core after a failure; the next try comes after the backoff. */
void pwbe_drop_connection(struct pwbe *b, uint64_t now);
/* Disconnected: connect when the backoff allows, then wait for the answer over the next ticks. */
enum be_state pwbe_reconnect(struct pwbe *b, uint64_t now);
