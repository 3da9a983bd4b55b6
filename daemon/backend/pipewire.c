/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend/pipewire.c: the PipeWire backend — echoeld as one pw_filter node whose DSP ports
 * (32 bit float mono) are the graph's input and output channels: port.name "<node>_<channel>",
 * port.alias "<node_name>:<node>_<channel>", like the JACK backend's port names.
 *
 * DESIGN
 *
 * Threads. PipeWire's main loop runs in a pw_thread_loop ("echoeld-pw"); the control thread
 * calls into PipeWire only under its lock. The filter's process callback runs on the context's
 * data thread (PW_FILTER_FLAG_RT_PROCESS), whose priority PipeWire's module-rt sets (the client
 * config is client-rt.conf); [engine] rt_priority does not apply here.
 *
 * Rate and block. open() connects and waits for the core's info (one round trip, which also
 * proves the daemon answers). DSP ports are never resampled, so the engine takes the graph's
 * rate (default.clock.rate); it keeps the configured block, fitted into the graph's quantum
 * limits, and asks the graph to run at it with node.force-quantum = block (plus node.latency =
 * block/rate and node.rate = 1/rate). With [pipewire] latency set, only that node.latency is
 * requested and the graph may choose another quantum. A cycle of another size or rate plays
 * silence; tick() says so in the log. A server that comes back at another rate makes tick()
 * return BE_STATE_RESTART, and the daemon rebuilds the engine for it.
 *
 * Ports. The RT callback reads one port table (engine channel -> port, NULL where none). Every
 * change of ports runs on the data thread between two cycles, in blocking pw_data_loop_invoke()s,
 * because PipeWire 0.3.65's pw_filter does not allow it anywhere else (src/pipewire/filter.c):
 * impl_node_process() walks the filter's port_list on the data thread every cycle without a
 * lock; pw_filter_add_port() appends to that list (alloc_port(): a plain spa_list_append, no
 * barrier) and pw_filter_remove_port() unlinks the port and frees it, its buffers and params at
 * once, on the caller's thread. Holding the thread-loop lock does not stop the data thread, so
 * from the control thread a remove could free a port under a running cycle and an add could be
 * seen half-linked. Neither call can be split (the allocation and the list change are one call),
 * so the smallest data-thread step is one port: the control thread plans everything (names,
 * properties, the next table), then invokes one step per port added, one for the table pointer,
 * one per port removed, and cycles run between the steps; the table switches only after every
 * new port exists, and a port is removed only after the switch. A failed add undoes the ones
 * before it the same way. Each step's time on the data thread is measured there and logged at
 * debug level; tests/integration/test-pipewire.sh prints it. Measured (2 vCPU, gcc -O2): the
 * first port of a fresh filter 110-150 us (cold), later steps 3-50 us; one invoke for a whole
 * change held the thread for their sum (e.g. 169 us for 4 ports and the switch), which grows
 * with the ports a change touches. The process callback itself never allocates, locks or
 * logs.
 *
 * Scheduling. The node sets node.always-process: PipeWire runs it with a driver even while
 * nothing is linked, so the engine's plan switches, tones and meters always progress (as with
 * JACK) and a reconfiguration never waits for a link.
 *
 * Linking. The node carries node.autoconnect = true (and target.object when [pipewire] target is
 * set) for a session manager that links DSP filters; WirePlumber 0.4 does not (it links only
 * Stream/... nodes, and its adapter item cannot configure a filter's DSP ports), and no media.class
 * is set, so it leaves the node alone: WirePlumber 0.4's create-item.lua makes an adapter item
 * for any media.class containing "Audio" and treats "Audio/Sink" or "Audio/Duplex" as a device
 * it may pick as the default sink, so every desktop stream would be routed into echoeld.
 * media.type/category/role (Audio, Filter, DSP, as PipeWire's own DSP filter example) say what
 * it is instead. With a target, we link ourselves: a registry listener
 * keeps the nodes and ports the daemon announces, and tick() links our outputs, in channel
 * order, to the target's inputs, in port order, whenever either side changes (like [jack]
 * connect). Links the user made are not restored after a daemon restart.
 *
 * Connection. A core error -EPIPE (the daemon went away) or a filter error sets an atomic flag;
 * tick() then drops the filter and the core (keeping the context, the loops and the engine) and
 * reconnects with backoff (0.5 s doubling to 5 s) without blocking the control thread: connect,
 * wait for the core's info over the next ticks, then recreate the filter and its ports.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pipewire/filter.h>
#include <pipewire/pipewire.h>
#include <spa/utils/result.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/backend/backend.h"
#include "daemon/config/value.h"
#include "daemon/config/config.h"
#include "daemon/engine/engine.h"
#include "daemon/engine/rt-check.h"
#include "daemon/log.h"
#include "dsp/cpu.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 5000
/* A daemon that accepted the connection answers a sync in microseconds; 2 s means it hangs. */
#define SYNC_TIMEOUT_MS 2000
/* The engine's block limits (daemon/engine/settings.h: a power of two from 32 to 8192). */
#define BLOCK_MIN 32u
#define BLOCK_MAX 8192u
/* A wrong-sized graph is reported at most this often. */
#define MISFIT_REPORT_MS 10000

/* Each port's user data: allocated and freed by pw_filter with the port. */
struct port_data {
	char *name;    /* owned: "<node>_<channel>" */
	bool playback; /* a PipeWire output port */
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
	unsigned backoff_ms;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the RT side ---- */

/* Fetches every port's buffer for this cycle (NULL: no port, or no buffer yet). */
EL_RT static void rt_get_buffers(struct port_table *t, uint32_t n)
{
	for (unsigned c = 0; c < t->n_capture; c++)
		t->capture[c] = t->capture_ports[c]
					? pw_filter_get_dsp_buffer(t->capture_ports[c], n)
					: NULL;
	for (unsigned c = 0; c < t->n_playback; c++)
		t->playback[c] = t->playback_ports[c]
					 ? pw_filter_get_dsp_buffer(t->playback_ports[c], n)
					 : NULL;
}

/* A cycle the engine was not built for: silence out, and a note for tick(). */
EL_RT static void rt_misfit(struct pwbe *b, struct port_table *t, uint32_t n, uint32_t rate)
{
	for (unsigned c = 0; c < t->n_playback; c++)
		if (t->playback[c])
			memset(t->playback[c], 0, EL_MIN(n, BLOCK_MAX) * sizeof(float));
	if (n == 0)
		return; /* no position yet: not the graph's doing */
	/* relaxed: figures for a log line; values from two different cycles would do no harm */
	atomic_store_explicit(&b->rt_misfit_n, n, memory_order_relaxed);
	atomic_store_explicit(&b->rt_misfit_rate, rate, memory_order_relaxed);
	atomic_fetch_add_explicit(&b->rt_misfits, 1, memory_order_relaxed);
}

EL_RT static void rt_run(struct pwbe *b, struct spa_io_position *pos)
{
	struct port_table *t = b->rt_table;
	uint32_t n = pos ? (uint32_t)pos->clock.duration : 0;
	uint32_t rate = pos ? pos->clock.rate.denom : 0;

	if (!t)
		return; /* being torn down */
	/* relaxed: a standalone value; one syscall in the first cycle only */
	if (EL_UNLIKELY(atomic_load_explicit(&b->rt_sched, memory_order_relaxed) < 0))
		atomic_store_explicit(&b->rt_sched, sched_getscheduler(0), memory_order_relaxed);
	dsp_cpu_flush_denormals(); /* PipeWire's thread: set our MXCSR every time (cheap) */
	rt_get_buffers(t, n);
	if (EL_LIKELY(n == b->block && rate == b->rate))
		eng_engine_cycle(b->engine, t->capture, t->n_capture, t->playback, t->n_playback,
				 n);
	else
		rt_misfit(b, t, n, rate);
}

/* The filter's process callback. The RTSan bracket (RTSan builds only) covers what we do here
 * around the engine's cycle too: fetching the DSP buffers is part of our RT path. */
EL_RT static void rt_process(void *data, struct spa_io_position *pos)
{
	eng_rt_enter();
	rt_run(data, pos);
	eng_rt_exit();
}

/* ---- callbacks on the loop thread (the loop lock is held) ---- */

static uint32_t dict_u32(const struct spa_dict *d, const char *key, uint32_t def)
{
	const char *s = spa_dict_lookup(d, key);
	unsigned long v;
	char *end;

	if (!s)
		return def;
	errno = 0;
	v = strtoul(s, &end, 10);
	return errno || end == s || v > UINT32_MAX ? def : (uint32_t)v;
}

static void on_core_info(void *data, const struct pw_core_info *info)
{
	struct pwbe *b = data;

	if (!info->props)
		return;
	b->graph_rate = dict_u32(info->props, "default.clock.rate", b->graph_rate);
	b->min_quantum = dict_u32(info->props, "default.clock.min-quantum", b->min_quantum);
	b->max_quantum = dict_u32(info->props, "default.clock.max-quantum", b->max_quantum);
}

static void on_core_done(void *data, uint32_t id, int seq)
{
	struct pwbe *b = data;

	if (id != PW_ID_CORE || seq != b->sync_seq)
		return;
	b->synced = true;
	pw_thread_loop_signal(b->loop, false);
}

static void on_core_error(void *data, uint32_t id, int seq, int res, const char *message)
{
	struct pwbe *b = data;

	(void)seq;
	if (id != PW_ID_CORE || res != -EPIPE)
		return;
	snprintf(b->error, sizeof(b->error), "%s", message ? message : "connection closed");
	/* relaxed: see struct pwbe */
	atomic_store_explicit(&b->lost, true, memory_order_relaxed);
	pw_thread_loop_signal(b->loop, false);
}

static const struct pw_core_events core_events = {
	.version = PW_VERSION_CORE_EVENTS,
	.info = on_core_info,
	.done = on_core_done,
	.error = on_core_error,
};

static void on_filter_state(void *data, enum pw_filter_state old, enum pw_filter_state state,
			    const char *error)
{
	struct pwbe *b = data;

	(void)old;
	if (state != PW_FILTER_STATE_ERROR)
		return;
	snprintf(b->error, sizeof(b->error), "%s", error ? error : "filter error");
	atomic_store_explicit(&b->lost, true, memory_order_relaxed); /* relaxed: see pwbe */
}

static const struct pw_filter_events filter_events = {
	.version = PW_VERSION_FILTER_EVENTS,
	.state_changed = on_filter_state,
	.process = rt_process,
};

static void on_global(void *data, uint32_t id, uint32_t permissions, const char *type,
		      uint32_t version, const struct spa_dict *props)
{
	struct pwbe *b = data;
	bool port = strcmp(type, PW_TYPE_INTERFACE_Port) == 0;
	const char *name =
		props ? spa_dict_lookup(props, port ? PW_KEY_PORT_NAME : PW_KEY_NODE_NAME) : NULL;
	const char *dir = props ? spa_dict_lookup(props, PW_KEY_PORT_DIRECTION) : NULL;
	struct reg_obj *o;

	(void)permissions, (void)version;
	if (!name || (!port && strcmp(type, PW_TYPE_INTERFACE_Node) != 0))
		return;
	if (b->n_objs == b->cap_objs) {
		size_t cap = b->cap_objs ? 2 * b->cap_objs : 64;
		struct reg_obj *objs = realloc(b->objs, cap * sizeof(*objs));

		if (!objs)
			return;
		b->objs = objs;
		b->cap_objs = cap;
	}
	o = &b->objs[b->n_objs];
	*o = (struct reg_obj){
		.id = id,
		.node_id = port ? dict_u32(props, PW_KEY_NODE_ID, SPA_ID_INVALID) : SPA_ID_INVALID,
		.port_id = port ? dict_u32(props, PW_KEY_PORT_ID, 0) : 0,
		.output = dir && strcmp(dir, "out") == 0,
		.name = strdup(name),
	};
	if (o->name)
		b->n_objs++;
	b->graph_dirty = true;
}

static void on_global_remove(void *data, uint32_t id)
{
	struct pwbe *b = data;

	for (size_t i = 0; i < b->n_objs; i++)
		if (b->objs[i].id == id) {
			free(b->objs[i].name);
			b->objs[i] = b->objs[--b->n_objs];
			b->graph_dirty = true;
			return;
		}
}

static const struct pw_registry_events registry_events = {
	.version = PW_VERSION_REGISTRY_EVENTS,
	.global = on_global,
	.global_remove = on_global_remove,
};

/* ---- port tables ---- */

static struct port_table *table_free(struct port_table *t)
{
	if (!t)
		return NULL;
	free(t->capture_ports);
	free(t->playback_ports);
	free(t->capture);
	free(t->playback);
	free(t);
	return NULL;
}

static struct port_table *table_new(unsigned n_capture, unsigned n_playback)
{
	struct port_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->n_capture = n_capture;
	t->n_playback = n_playback;
	/* +1: calloc(0) may return NULL, which would read as a failure */
	t->capture_ports = calloc(n_capture + 1, sizeof(*t->capture_ports));
	t->playback_ports = calloc(n_playback + 1, sizeof(*t->playback_ports));
	t->capture = calloc(n_capture + 1, sizeof(*t->capture));
	t->playback = calloc(n_playback + 1, sizeof(*t->playback));
	if (!t->capture_ports || !t->playback_ports || !t->capture || !t->playback)
		return table_free(t);
	return t;
}

/* The slot of channel index in t's capture or playback ports. */
static struct port_data **table_slot(struct port_table *t, bool playback, unsigned index)
{
	return playback ? &t->playback_ports[index] : &t->capture_ports[index];
}

/* A port to create, planned on the control thread, made on the data thread. */
struct new_port {
	bool playback;
	unsigned index;
	char *name;                  /* owned until the port takes it */
	struct pw_properties *props; /* owned until pw_filter_add_port() takes it */
};

/* One change of ports: plan (control thread), then run step by step on the data thread. */
struct port_job {
	struct pwbe *b;
	struct port_table *old;  /* borrowed: b->table */
	struct port_table *next; /* owned until adopted */
	struct eng_io_channel *io;
	size_t n_io;
	struct new_port *adds;
	size_t n_adds;
	size_t step;            /* the add, or the port removed, by the current invoke */
	struct port_data *gone; /* the port the current removal invoke removes */
	/* How long the data thread was held (DESIGN), measured there: the longest step, all */
	uint64_t hold_max_ns, hold_ns;
	unsigned n_invokes;
};

static void job_done(struct port_job *j)
{
	for (size_t i = 0; i < j->n_adds; i++) {
		free(j->adds[i].name);
		if (j->adds[i].props)
			pw_properties_free(j->adds[i].props);
	}
	free(j->adds);
	free(j->io);
	j->next = table_free(j->next);
}

/* audio.channel for channel i of io[]: MONO, FL/FR for a pair, else AUX0, AUX1, ... */
static void channel_label(const struct eng_io_channel *io, size_t n, size_t i, char *buf,
			  size_t size)
{
	unsigned count = 0;

	for (size_t k = 0; k < n; k++)
		if (io[k].playback == io[i].playback && strcmp(io[k].node, io[i].node) == 0)
			count++;
	if (count == 1)
		snprintf(buf, size, "MONO");
	else if (count == 2)
		snprintf(buf, size, "%s", io[i].channel == 1 ? "FL" : "FR");
	else
		snprintf(buf, size, "AUX%u", io[i].channel - 1);
}

static struct pw_properties *port_props(const struct pwbe *b, const char *name, const char *label)
{
	struct pw_properties *p =
		pw_properties_new(PW_KEY_FORMAT_DSP, "32 bit float mono audio", PW_KEY_PORT_NAME,
				  name, PW_KEY_AUDIO_CHANNEL, label, NULL);

	if (p)
		pw_properties_setf(p, PW_KEY_PORT_ALIAS, "%s:%s", b->node_name, name);
	return p;
}

/* Our port of that direction called name in t, or NULL. */
static struct port_data *table_find(const struct port_table *t, bool playback, const char *name)
{
	unsigned n = t ? (playback ? t->n_playback : t->n_capture) : 0;

	for (unsigned c = 0; c < n; c++) {
		struct port_data *pd = playback ? t->playback_ports[c] : t->capture_ports[c];

		if (pd && strcmp(pd->name, name) == 0)
			return pd;
	}
	return NULL;
}

/* Keeps the existing port for channel i of the job's io, or plans a new one. */
static int plan_channel(struct port_job *j, size_t i)
{
	const struct eng_io_channel *io = &j->io[i];
	struct new_port *a = &j->adds[j->n_adds];
	char name[256], label[16];
	struct port_data *pd;

	snprintf(name, sizeof(name), "%s_%u", io->node, io->channel);
	pd = table_find(j->old, io->playback, name);
	if (pd) {
		*table_slot(j->next, io->playback, io->index) = pd;
		return 0;
	}
	channel_label(j->io, j->n_io, i, label, sizeof(label));
	a->playback = io->playback;
	a->index = io->index;
	a->name = strdup(name);
	a->props = port_props(j->b, name, label);
	j->n_adds++;
	return a->name && a->props ? 0 : -ENOMEM;
}

/* Plans the ports of the engine's current channels against the ones we have. */
static int job_plan(struct port_job *j, struct el_error *reterr)
{
	size_t n = eng_engine_get_io(j->b->engine, NULL, 0);
	unsigned n_capture = 0, n_playback = 0;
	int r = 0;

	j->io = calloc(n + 1, sizeof(*j->io));
	j->adds = calloc(n + 1, sizeof(*j->adds));
	if (!j->io || !j->adds)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	j->n_io = EL_MIN(eng_engine_get_io(j->b->engine, j->io, n), n);
	for (size_t i = 0; i < j->n_io; i++)
		if (j->io[i].playback)
			n_playback = EL_MAX(n_playback, j->io[i].index + 1);
		else
			n_capture = EL_MAX(n_capture, j->io[i].index + 1);
	j->next = table_new(n_capture, n_playback);
	for (size_t i = 0; j->next && r == 0 && i < j->n_io; i++)
		r = plan_channel(j, i);
	if (!j->next || r < 0)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Data thread, between two cycles: adds the job's planned port number j->step. */
static int do_port_add(struct spa_loop *loop, bool async, uint32_t seq, const void *data,
		       size_t size, void *user_data)
{
	struct port_job *j = user_data;
	struct new_port *a = &j->adds[j->step];
	struct port_data *pd;

	(void)loop, (void)async, (void)seq, (void)data, (void)size;
	pd = pw_filter_add_port(
		j->b->filter, a->playback ? PW_DIRECTION_OUTPUT : PW_DIRECTION_INPUT,
		PW_FILTER_PORT_FLAG_MAP_BUFFERS, sizeof(*pd), el_steal_ptr(a->props), NULL, 0);
	if (!pd)
		return -ENOMEM;
	pd->name = el_steal_ptr(a->name);
	pd->playback = a->playback;
	*table_slot(j->next, a->playback, a->index) = pd;
	return 0;
}

/* Data thread, between two cycles: the RT side reads the next table from the next cycle on. */
static int do_port_switch(struct spa_loop *loop, bool async, uint32_t seq, const void *data,
			  size_t size, void *user_data)
{
	struct port_job *j = user_data;

	(void)loop, (void)async, (void)seq, (void)data, (void)size;
	j->b->rt_table = j->next;
	return 0;
}

/* Data thread, between two cycles: removes j->gone, which no table the RT side reads has. */
static int do_port_remove(struct spa_loop *loop, bool async, uint32_t seq, const void *data,
			  size_t size, void *user_data)
{
	struct port_job *j = user_data;

	(void)loop, (void)async, (void)seq, (void)data, (void)size;
	pw_filter_remove_port(j->gone);
	return 0;
}

/*
 * Control thread: one blocking step on the data thread (see DESIGN). The hold is timed around
 * the call there, through a wrapper, so the wait for the cycle in progress does not count.
 */
struct timed_step {
	struct port_job *j;
	spa_invoke_func_t fn;
	int result;
};

static int do_timed(struct spa_loop *loop, bool async, uint32_t seq, const void *data, size_t size,
		    void *user_data)
{
	struct timed_step *t = user_data;
	uint64_t t0 = now_ns(), dt;

	t->result = t->fn(loop, async, seq, data, size, t->j);
	dt = now_ns() - t0;
	t->j->hold_ns += dt;
	t->j->hold_max_ns = EL_MAX(t->j->hold_max_ns, dt);
	t->j->n_invokes++;
	return 0;
}

static int job_step(struct port_job *j, spa_invoke_func_t fn)
{
	struct timed_step t = {.j = j, .fn = fn};

	pw_data_loop_invoke(j->b->data_loop, do_timed, 0, NULL, 0, true, &t);
	return t.result;
}

/* Control thread, after the switch: removes the ports of old that next does not have. */
static void remove_stale(struct port_job *j)
{
	for (unsigned dir = 0; j->old && dir < 2; dir++)
		for (unsigned c = 0; c < (dir ? j->old->n_playback : j->old->n_capture); c++) {
			struct port_data *pd = *table_slot(j->old, dir, c);

			if (pd && table_find(j->next, dir, pd->name) != pd) {
				free(pd->name); /* only this thread reads names */
				j->gone = pd;
				(void)job_step(j, do_port_remove);
			}
		}
}

/* Control thread: undoes the first n additions of a failed job. */
static void undo_adds(struct port_job *j, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct port_data **slot =
			table_slot(j->next, j->adds[i].playback, j->adds[i].index);

		free((*slot)->name);
		j->gone = *slot;
		(void)job_step(j, do_port_remove);
		*slot = NULL;
	}
}

/*
 * Control thread: adds the planned ports, switches the RT side to the next table, removes the
 * ports it no longer has: one port or the switch per step on the data thread (see DESIGN).
 */
static int job_run(struct port_job *j)
{
	int r;

	for (j->step = 0; j->step < j->n_adds; j->step++) {
		r = job_step(j, do_port_add);
		if (r < 0) {
			undo_adds(j, j->step);
			return r;
		}
	}
	(void)job_step(j, do_port_switch);
	remove_stale(j);
	return 0;
}

static int do_clear_table(struct spa_loop *loop, bool async, uint32_t seq, const void *data,
			  size_t size, void *user_data)
{
	struct pwbe *b = user_data;

	(void)loop, (void)async, (void)seq, (void)data, (void)size;
	b->rt_table = NULL;
	return 0;
}

/* Under the loop lock, with a filter: makes the ports follow the engine's channels. */
static int ports_update(struct pwbe *b, struct el_error *reterr)
{
	struct port_job j = {.b = b, .old = b->table};
	int r = job_plan(&j, reterr);

	if (r == 0) {
		r = job_run(&j);
		if (r < 0)
			el_error_set(reterr, r, "cannot add PipeWire ports: %s", strerror(-r));
		log_debug("pipewire: ports changed in %u steps on the data thread: longest %" PRIu64
			  " us, %" PRIu64 " us in all",
			  j.n_invokes, j.hold_max_ns / 1000u, j.hold_ns / 1000u);
	}
	if (r == 0) {
		table_free(b->table);
		b->table = el_steal_ptr(j.next);
	}
	job_done(&j);
	return r;
}

/* ---- connection ---- */

static void init_pipewire(void)
{
	pw_init(NULL, NULL);
}

/* Connects the core and asks for a round trip (its info comes first). Under the loop lock. */
static int core_connect(struct pwbe *b, struct el_error *reterr)
{
	const char *remote = getenv("PIPEWIRE_REMOTE");
	const char *runtime = getenv("XDG_RUNTIME_DIR");

	b->synced = false;
	atomic_store_explicit(&b->lost, false, memory_order_relaxed); /* relaxed: see pwbe */
	b->core = pw_context_connect(b->context, NULL, 0);
	if (!b->core)
		return el_error_set(reterr, -ECONNREFUSED,
				    "no PipeWire daemon answers (XDG_RUNTIME_DIR=%s%s%s)",
				    runtime ? runtime : "unset", remote ? ", PIPEWIRE_REMOTE=" : "",
				    remote ? remote : "");
	pw_core_add_listener(b->core, &b->core_listener, &core_events, b);
	if (b->target && (b->registry = pw_core_get_registry(b->core, PW_VERSION_REGISTRY, 0)))
		pw_registry_add_listener(b->registry, &b->registry_listener, &registry_events, b);
	b->sync_seq = pw_core_sync(b->core, PW_ID_CORE, 0);
	b->sync_sent_ms = now_ms();
	return 0;
}

/* Waits, under the loop lock, for the answer to core_connect()'s round trip. */
static int core_wait(struct pwbe *b, struct el_error *reterr)
{
	struct timespec abstime;

	pw_thread_loop_get_time(b->loop, &abstime, SYNC_TIMEOUT_MS * SPA_NSEC_PER_MSEC);
	/* relaxed: see struct pwbe */
	while (!b->synced && !atomic_load_explicit(&b->lost, memory_order_relaxed))
		if (pw_thread_loop_timed_wait_full(b->loop, &abstime) < 0)
			return el_error_set(
				reterr, -ETIMEDOUT,
				"the PipeWire daemon does not answer (no reply in %u ms)",
				SYNC_TIMEOUT_MS);
	if (!b->synced)
		return el_error_set(reterr, -ECONNREFUSED, "the PipeWire daemon hung up: %s",
				    b->error);
	return 0;
}

static void core_disconnect(struct pwbe *b)
{
	if (!b->core)
		return;
	if (b->registry) {
		spa_hook_remove(&b->registry_listener);
		pw_proxy_destroy((struct pw_proxy *)b->registry);
		b->registry = NULL;
	}
	for (size_t i = 0; i < b->n_objs; i++)
		free(b->objs[i].name);
	b->n_objs = 0;
	spa_hook_remove(&b->core_listener);
	pw_core_disconnect(b->core);
	b->core = NULL;
}

/* The graph's rate, and the configured block fitted into its quantum limits. */
static int follow_graph(struct pwbe *b, struct el_error *reterr)
{
	uint32_t block = b->block, lo = EL_MAX(b->min_quantum, BLOCK_MIN);
	uint32_t hi = b->max_quantum ? EL_MIN(b->max_quantum, BLOCK_MAX) : BLOCK_MAX;

	while (block < lo && block < BLOCK_MAX)
		block *= 2;
	while (block > hi && block > BLOCK_MIN)
		block /= 2;
	if (block < lo || block > hi)
		return el_error_set(
			reterr, -EINVAL,
			"PipeWire's quantum limits (%u to %u frames) leave no block for "
			"echoeld (a power of two from %u to %u)",
			b->min_quantum, b->max_quantum, BLOCK_MIN, BLOCK_MAX);
	if (b->graph_rate)
		b->rate = b->graph_rate;
	b->block = block;
	return 0;
}

static struct pw_properties *filter_props(const struct pwbe *b)
{
	struct pw_properties *p = pw_properties_new(
		PW_KEY_MEDIA_TYPE, "Audio", PW_KEY_MEDIA_CATEGORY, "Filter", PW_KEY_MEDIA_ROLE,
		"DSP", PW_KEY_NODE_NAME, b->node_name, PW_KEY_NODE_DESCRIPTION, b->description,
		PW_KEY_NODE_ALWAYS_PROCESS, "true", PW_KEY_NODE_AUTOCONNECT, "true", NULL);

	if (!p)
		return NULL;
	pw_properties_setf(p, PW_KEY_NODE_RATE, "1/%u", b->rate);
	if (b->latency) {
		pw_properties_set(p, PW_KEY_NODE_LATENCY, b->latency);
	} else {
		pw_properties_setf(p, PW_KEY_NODE_LATENCY, "%u/%u", b->block, b->rate);
		pw_properties_setf(p, PW_KEY_NODE_FORCE_QUANTUM, "%u", b->block);
	}
	if (b->target)
		pw_properties_set(p, PW_KEY_TARGET_OBJECT, b->target);
	return p;
}

/* The data thread's scheduling policy, asked on that thread (-1 if it does not run yet). */
struct sched_probe {
	pthread_t caller;
	int policy;
	int priority;
};

static int do_probe_sched(struct spa_loop *loop, bool async, uint32_t seq, const void *data,
			  size_t size, void *user_data)
{
	struct sched_probe *p = user_data;
	struct sched_param sp;

	(void)loop, (void)async, (void)seq, (void)data, (void)size;
	if (!pthread_equal(pthread_self(), p->caller)) {
		p->policy = sched_getscheduler(0);
		p->priority = sched_getparam(0, &sp) == 0 ? sp.sched_priority : 0;
	}
	return 0;
}

/* Under the loop lock: the filter, its ports, connected; the engine's cycle runs from here on. */
static int filter_create(struct pwbe *b, struct el_error *reterr)
{
	struct pw_properties *props = filter_props(b);
	struct sched_probe probe = {.caller = pthread_self(), .policy = -1};
	int r;

	if (!props)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	b->filter = pw_filter_new(b->core, b->node_name, props); /* takes props */
	if (!b->filter) {
		r = errno ? -errno : -ENOMEM;
		return el_error_set(reterr, r, "cannot create the PipeWire filter: %s",
				    strerror(-r));
	}
	pw_filter_add_listener(b->filter, &b->filter_listener, &filter_events, b);
	if ((r = ports_update(b, reterr)) < 0)
		return r;
	eng_engine_set_running(b->engine, true);
	r = pw_filter_connect(b->filter, PW_FILTER_FLAG_RT_PROCESS, NULL, 0);
	if (r < 0)
		return el_error_set(reterr, r, "cannot connect the PipeWire filter: %s",
				    spa_strerror(r));
	pw_data_loop_invoke(b->data_loop, do_probe_sched, 0, NULL, 0, true, &probe);
	if (probe.policy >= 0) /* relaxed: see struct pwbe */
		atomic_store_explicit(&b->rt_sched, probe.policy, memory_order_relaxed);
	/* Workers run one below the data thread (the daemon warns when they cannot). */
	eng_engine_set_rt_priority(b->engine, probe.policy == SCHED_FIFO || probe.policy == SCHED_RR
						      ? probe.priority
						      : 0);
	return 0;
}

/* Under the loop lock. Returns when no cycle runs or will run any more. */
static void filter_destroy(struct pwbe *b)
{
	if (!b->filter)
		return;
	/* From here on a cycle (if any still comes) touches neither the engine nor our ports. */
	pw_data_loop_invoke(b->data_loop, do_clear_table, 0, NULL, 0, true, b);
	if (b->engine)
		eng_engine_set_running(b->engine, false);
	spa_hook_remove(&b->filter_listener);
	for (unsigned dir = 0; b->table && dir < 2; dir++)
		for (unsigned c = 0; c < (dir ? b->table->n_playback : b->table->n_capture); c++) {
			struct port_data *pd = *table_slot(b->table, dir, c);

			if (pd)
				free(pd->name); /* pw_filter_destroy() frees the ports */
		}
	pw_filter_destroy(b->filter);
	b->filter = NULL;
	b->table = table_free(b->table);
}

/* ---- linking to [pipewire] target (control thread, under the loop lock) ---- */

/* Most input ports of a target we link to; a sink has one per channel. */
#define MAX_TARGET_PORTS 64

static const struct reg_obj *reg_find_port(const struct pwbe *b, uint32_t node, bool output,
					   const char *name)
{
	for (size_t i = 0; i < b->n_objs; i++) {
		const struct reg_obj *o = &b->objs[i];

		if (o->node_id == node && o->output == output && strcmp(o->name, name) == 0)
			return o;
	}
	return NULL;
}

static int by_port_id(const void *a, const void *b)
{
	const struct reg_obj *x = *(const struct reg_obj *const *)a;
	const struct reg_obj *y = *(const struct reg_obj *const *)b;

	return (x->port_id > y->port_id) - (x->port_id < y->port_id);
}

/* A lingering link: it lives as long as both ports do, not as long as our proxy. */
static void link_ports(struct pwbe *b, uint32_t out_node, uint32_t out_port, uint32_t in_node,
		       uint32_t in_port)
{
	struct pw_properties *p = pw_properties_new(PW_KEY_OBJECT_LINGER, "true", NULL);
	struct pw_proxy *proxy;

	if (!p)
		return;
	pw_properties_setf(p, PW_KEY_LINK_OUTPUT_NODE, "%u", out_node);
	pw_properties_setf(p, PW_KEY_LINK_OUTPUT_PORT, "%u", out_port);
	pw_properties_setf(p, PW_KEY_LINK_INPUT_NODE, "%u", in_node);
	pw_properties_setf(p, PW_KEY_LINK_INPUT_PORT, "%u", in_port);
	/* An existing link is refused (-EEXIST) by the server: nothing to check here. */
	proxy = pw_core_create_object(b->core, "link-factory", PW_TYPE_INTERFACE_Link,
				      PW_VERSION_LINK, &p->dict, 0);
	pw_properties_free(p);
	if (proxy)
		pw_proxy_destroy(proxy);
}

/*
 * Links our output ports, in channel order, to the target node's input ports in port order,
 * pairwise (like [jack] connect), whenever the graph changed: a target that appears later, or
 * comes back with the server, is linked then.
 */
static void apply_target(struct pwbe *b)
{
	uint32_t me = pw_filter_get_node_id(b->filter), them = SPA_ID_INVALID;
	const struct reg_obj *out[MAX_TARGET_PORTS], *in[MAX_TARGET_PORTS];
	size_t n_out = 0, n_in = 0;

	if (!b->graph_dirty || me == SPA_ID_INVALID)
		return;
	for (size_t i = 0; i < b->n_objs; i++)
		if (b->objs[i].node_id == SPA_ID_INVALID && strcmp(b->objs[i].name, b->target) == 0)
			them = b->objs[i].id;
	if (them == SPA_ID_INVALID) {
		b->graph_dirty = false; /* not there (yet): its arrival makes the graph dirty */
		return;
	}
	for (size_t i = 0; i < b->n_objs && n_in < MAX_TARGET_PORTS; i++)
		if (b->objs[i].node_id == them && !b->objs[i].output)
			in[n_in++] = &b->objs[i];
	qsort(in, n_in, sizeof(*in), by_port_id);
	for (unsigned c = 0; c < b->table->n_playback && n_out < n_in; c++) {
		const struct port_data *pd = b->table->playback_ports[c];

		if (pd && !(out[n_out++] = reg_find_port(b, me, true, pd->name)))
			return; /* not announced yet: try again at the next tick */
	}
	b->graph_dirty = false;
	for (size_t i = 0; i < n_out; i++)
		link_ports(b, me, out[i]->id, them, in[i]->id);
}

/* ---- life cycle ---- */

static void pwbe_free(struct pwbe *b)
{
	if (!b)
		return;
	if (b->loop) {
		pw_thread_loop_lock(b->loop);
		filter_destroy(b);
		core_disconnect(b);
		pw_thread_loop_unlock(b->loop);
		pw_thread_loop_stop(b->loop);
	}
	if (b->context)
		pw_context_destroy(b->context);
	if (b->loop)
		pw_thread_loop_destroy(b->loop);
	free(b->node_name);
	free(b->description);
	free(b->target);
	free(b->latency);
	free(b->objs);
	free(b);
}

static const char *const pipewire_keys[] = {"node_name", "description", "target", "latency", NULL};

/* [pipewire]: its keys, node_name without blanks or ':', latency "FRAMES/RATE" (both positive,
 * as node.latency takes it). */
static int pipewire_check_config(const struct conf *conf, struct el_error *reterr)
{
	const struct conf_section *sec = conf_find_section(conf, "pipewire");
	const struct conf_entry *name = conf_section_find(sec, "node_name");
	const struct conf_entry *latency = conf_section_find(sec, "latency");
	unsigned num, denom;
	char extra;
	int r = conf_check_keys(sec, pipewire_keys, reterr);

	if (r < 0)
		return r;
	if (name && (!name->value[0] || strpbrk(name->value, ": ")))
		return conf_error_entry(reterr, -EINVAL, name,
					"expected a node name without blanks or ':', got '%s'",
					name->value);
	if (latency && (sscanf(latency->value, "%u/%u%c", &num, &denom, &extra) != 2 || num == 0 ||
			denom == 0))
		return conf_error_entry(reterr, -EINVAL, latency,
					"expected FRAMES/RATE such as 256/48000, got '%s'",
					latency->value);
	return 0;
}

static int read_settings(struct pwbe *b, const struct conf *conf, struct el_error *reterr)
{
	const struct conf_section *sec = conf_find_section(conf, "pipewire");
	const char *target = conf_get_string(sec, "target", NULL);
	const char *latency = conf_get_string(sec, "latency", NULL);
	int r = pipewire_check_config(conf, reterr);

	if (r < 0)
		return r;
	b->node_name = strdup(conf_get_string(sec, "node_name", "echoeld"));
	b->description = strdup(conf_get_string(sec, "description", "echoeld audio engine"));
	if (target && target[0])
		b->target = strdup(target);
	if (latency)
		b->latency = strdup(latency);
	if (!b->node_name || !b->description || (target && target[0] && !b->target) ||
	    (latency && !b->latency))
		return el_error_set(reterr, -ENOMEM, "out of memory");
	return 0;
}

/* The thread loop and the context (client-rt.conf: module-rt makes the data thread RT). */
static int loop_new(struct pwbe *b, struct el_error *reterr)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct pw_properties *props;

	pthread_once(&once, init_pipewire);
	b->loop = pw_thread_loop_new("echoeld-pw", NULL);
	props = pw_properties_new(PW_KEY_CONFIG_NAME, "client-rt.conf", NULL);
	if (!b->loop || !props) {
		if (props)
			pw_properties_free(props);
		return el_error_set(reterr, -ENOMEM, "out of memory");
	}
	b->context = pw_context_new(pw_thread_loop_get_loop(b->loop), props, 0); /* takes props */
	if (!b->context) /* no client-rt.conf (newer PipeWire merged it into client.conf) */
		b->context = pw_context_new(pw_thread_loop_get_loop(b->loop), NULL, 0);
	if (!b->context) {
		int r = errno ? -errno : -ENOMEM;

		return el_error_set(reterr, r, "cannot create a PipeWire context: %s",
				    strerror(-r));
	}
	b->data_loop = pw_context_get_data_loop(b->context);
	if (pw_thread_loop_start(b->loop) < 0)
		return el_error_set(reterr, -EIO, "cannot start the PipeWire loop thread");
	return 0;
}

static int pwbe_open(const struct conf *conf, void **ret, uint32_t *ret_rate, uint32_t *ret_block,
		     struct el_error *reterr)
{
	struct pwbe *b = calloc(1, sizeof(*b));
	int r;

	if (!b)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	atomic_init(&b->rt_sched, -1);
	b->rate = *ret_rate;
	b->block = *ret_block;
	b->backoff_ms = BACKOFF_MIN_MS;
	if ((r = read_settings(b, conf, reterr)) < 0 || (r = loop_new(b, reterr)) < 0)
		goto fail;
	pw_thread_loop_lock(b->loop);
	if ((r = core_connect(b, reterr)) == 0 && (r = core_wait(b, reterr)) == 0)
		r = follow_graph(b, reterr);
	pw_thread_loop_unlock(b->loop);
	if (r < 0)
		goto fail;
	*ret_rate = b->rate;
	*ret_block = b->block;
	*ret = b;
	return 0;
fail:
	pwbe_free(b);
	return r;
}

static int pwbe_start(void *be, struct eng_engine *engine, struct el_error *reterr)
{
	struct pwbe *b = be;
	int r;

	b->engine = engine;
	pw_thread_loop_lock(b->loop);
	r = filter_create(b, reterr);
	if (r < 0)
		filter_destroy(b);
	pw_thread_loop_unlock(b->loop);
	b->started = r == 0;
	return r;
}

static int pwbe_ports_changed(void *be, struct el_error *reterr)
{
	struct pwbe *b = be;
	int r = 0;

	pw_thread_loop_lock(b->loop);
	if (b->filter) /* else the ports are made when the filter is (again) */
		r = ports_update(b, reterr);
	pw_thread_loop_unlock(b->loop);
	return r;
}

/* ---- reconnection (control thread) ---- */

/* Drops the filter and the core after a failure; the next try comes after the backoff. */
static void drop_connection(struct pwbe *b, uint64_t now)
{
	pw_thread_loop_lock(b->loop);
	filter_destroy(b);
	core_disconnect(b);
	pw_thread_loop_unlock(b->loop);
	b->next_try_ms = now + b->backoff_ms;
	b->backoff_ms = EL_MIN(b->backoff_ms * 2, (unsigned)BACKOFF_MAX_MS);
}

/*
 * Under the loop lock, connected and answered: rebuilds the filter. 0; 1 when the server came
 * back at another rate or quantum range (the engine must be rebuilt); -errno with a message.
 */
static int finish_reconnect(struct pwbe *b, struct el_error *reterr)
{
	uint32_t rate = b->rate, block = b->block;
	int r = follow_graph(b, reterr);

	if (r < 0 || b->rate != rate || b->block != block) {
		b->rate = rate;
		b->block = block;
		return 1;
	}
	return filter_create(b, reterr);
}

/* Disconnected: connect when the backoff allows, then wait for the answer over the next ticks. */
static enum be_state reconnect(struct pwbe *b, uint64_t now)
{
	struct el_error err = {0};
	bool failed = false;
	int r = -EAGAIN;

	if (!b->core && now < b->next_try_ms)
		return BE_STATE_DISCONNECTED;
	pw_thread_loop_lock(b->loop);
	if (!b->core)
		failed = core_connect(b, NULL) < 0;
	else if (atomic_load_explicit(&b->lost, memory_order_relaxed)) /* relaxed: see pwbe */
		failed = true;
	else if (b->synced)
		failed = (r = finish_reconnect(b, &err)) < 0;
	else
		failed = now - b->sync_sent_ms > SYNC_TIMEOUT_MS;
	pw_thread_loop_unlock(b->loop);
	if (failed && err.code)
		log_warning("pipewire: reconnected, but %s; trying again", err.message);
	if (failed)
		drop_connection(b, now);
	if (r == 1)
		log_notice("pipewire: the server came back with other settings: rebuilding the "
			   "engine");
	else if (r == 0)
		log_notice("pipewire: reconnected to the server");
	return r == 1 ? BE_STATE_RESTART : r == 0 ? BE_STATE_RUNNING : BE_STATE_DISCONNECTED;
}

/* Says (rarely) that the graph runs cycles the engine was not built for. */
static void report_misfits(struct pwbe *b, uint64_t now)
{
	/* relaxed: counters for a log line */
	uint64_t n = atomic_load_explicit(&b->rt_misfits, memory_order_relaxed);

	if (n == b->misfits_reported || now - b->misfit_report_ms < MISFIT_REPORT_MS)
		return;
	log_warning("pipewire: the graph ran %" PRIu64 " cycles of %u frames at %u Hz, but echoeld "
		    "runs blocks of %u at %u Hz: those played silence (see [pipewire] latency)",
		    n - b->misfits_reported,
		    atomic_load_explicit(&b->rt_misfit_n, memory_order_relaxed),
		    atomic_load_explicit(&b->rt_misfit_rate, memory_order_relaxed), b->block,
		    b->rate);
	b->misfits_reported = n;
	b->misfit_report_ms = now;
}

static enum be_state pwbe_tick(void *be)
{
	struct pwbe *b = be;
	uint64_t now = now_ms();

	if (!b->started)
		return BE_STATE_RUNNING;
	/* relaxed: see struct pwbe */
	if (b->filter && atomic_load_explicit(&b->lost, memory_order_relaxed)) {
		pw_thread_loop_lock(b->loop);
		log_warning("pipewire: lost the server (%s); reconnecting", b->error);
		pw_thread_loop_unlock(b->loop);
		b->backoff_ms = BACKOFF_MIN_MS;
		drop_connection(b, now);
	}
	if (!b->filter)
		return reconnect(b, now);
	if (b->target) {
		pw_thread_loop_lock(b->loop);
		apply_target(b);
		pw_thread_loop_unlock(b->loop);
	}
	report_misfits(b, now);
	return BE_STATE_RUNNING;
}

static void pwbe_stop(void *be)
{
	struct pwbe *b = be;

	pw_thread_loop_lock(b->loop);
	filter_destroy(b);
	pw_thread_loop_unlock(b->loop);
	b->started = false;
}

static void pwbe_destroy(void *be)
{
	pwbe_free(be);
}

static bool pwbe_is_realtime(void *be)
{
	struct pwbe *b = be;
	/* relaxed: a standalone value */
	int policy = atomic_load_explicit(&b->rt_sched, memory_order_relaxed);

	if (policy < 0)
		return false; /* not known yet */
	/* module-rt sets SCHED_RESET_ON_FORK along with the policy */
	policy &= ~SCHED_RESET_ON_FORK;
	return policy == SCHED_FIFO || policy == SCHED_RR;
}

const struct be_ops be_pipewire_ops = {
	.check_config = pipewire_check_config,
	.name = "pipewire",
	.open = pwbe_open,
	.start = pwbe_start,
	.ports_changed = pwbe_ports_changed,
	.tick = pwbe_tick,
	.stop = pwbe_stop,
	.destroy = pwbe_destroy,
	.is_realtime = pwbe_is_realtime,
};
