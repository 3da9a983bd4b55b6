/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend/pipewire-ports.c: the PipeWire backend's ports — the table the RT callback
 * reads, and every change of it made one port per data-thread invoke (pipewire.c, DESIGN:
 * "Ports"); and the RT callback itself.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/backend/pipewire-private.h"
#include "daemon/engine/engine.h"
#include "daemon/engine/rt-check.h"
#include "daemon/log.h"
#include "dsp/cpu.h"

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
EL_RT void pwbe_rt_process(void *data, struct spa_io_position *pos)
{
	eng_rt_enter();
	rt_run(data, pos);
	eng_rt_exit();
}

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

int pwbe_ports_update(struct pwbe *b, struct el_error *reterr)
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

/* ---- what the filter's life cycle asks of the ports ---- */

void pwbe_ports_detach(struct pwbe *b)
{
	pw_data_loop_invoke(b->data_loop, do_clear_table, 0, NULL, 0, true, b);
}

void pwbe_ports_forget(struct pwbe *b)
{
	for (unsigned dir = 0; b->table && dir < 2; dir++)
		for (unsigned c = 0; c < (dir ? b->table->n_playback : b->table->n_capture); c++) {
			struct port_data *pd = *table_slot(b->table, dir, c);

			if (pd)
				free(pd->name); /* pw_filter_destroy() frees the ports */
		}
	b->table = table_free(b->table);
}
