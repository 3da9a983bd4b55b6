/* SPDX-License-Identifier: MIT */
/*
 * daemon/engine/engine.c: the engine's control-thread side — building it, switching plans,
 * queuing parameter changes, reading events and statistics.
 *
 * DESIGN: a switch publishes a plan with one atomic store; the RT thread adopts it at the start
 * of its next cycle and answers with another store. Only then may the previous plan be freed:
 * the RT thread never looks at it again. A reconfiguration is two such switches (plan.h): first
 * the current wiring with the connections that go away fading out, then the new wiring with the
 * new connections fading in; after each, the control thread waits for the fade to finish.
 */
#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <math.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "common/el-probe.h"
#include "daemon/config/config.h"
#include "daemon/engine/engine-private.h"
#include "daemon/engine/graph.h"
#include "daemon/engine/inst.h"
#include "daemon/engine/node.h"
#include "daemon/engine/plan.h"
#include "daemon/engine/ring.h"
#include "daemon/fs/beneath.h"
#include "daemon/engine/workers.h"
#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/mem.h"

#define COMMAND_RING_SIZE 4096
#define EVENT_RING_SIZE   4096
/* How long the control thread waits for the RT thread to adopt a plan before giving up. */
#define ADOPT_TIMEOUT_NS (5ull * 1000000000ull)
/* How long stopping waits for a worker still inside a step: far longer than any step. */
#define QUIESCE_TIMEOUT_NS (200ull * 1000000ull)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The buffer pool: zeroed pages of its own mapping (page-aligned, more than any kernel needs),
 * faulted in here when prefault is set, so that no cycle takes a page fault on a buffer it
 * touches for the first time (mlockall would fault them too, but may be refused or off). A
 * render passes false: a small graph touches a few of the 256 buffers, and faulting the rest
 * cost it ~13 ms of system time (docs/performance.md, render). NULL on failure.
 */
static float *pool_map(size_t bytes, bool prefault)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (prefault ? MAP_POPULATE : 0), -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int eng_engine_new(const struct eng_settings *s, const struct node_type *const *types,
		   struct eng_engine **ret, struct el_error *reterr)
{
	struct eng_engine *e = calloc(1, sizeof(*e));
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int r = -ENOMEM;

	if (!e)
		return -ENOMEM;
	e->settings = *s;
	e->types = types;
	e->prefetch = true;
	e->rt_fade_in_done = UINT32_MAX; /* no fade-in until a backend asks (eng_engine_fade_in) */
	atomic_init(&e->fade_in_asked, false);
	atomic_init(&e->drift_milli_ppm, INT32_MIN);
	/* Whole blocks: a ramp then always ends exactly on a block boundary. */
	e->fade_frames = EL_ALIGN_UP(eng_settings_get_fade_frames(s), s->block);
	e->cpu_flags = dsp_cpu_get_flags();
	dsp_mix_ops_init(&e->mix, e->cpu_flags);
	e->pool_bytes = (size_t)s->pool_buffers * s->block * sizeof(float);
	e->pool = pool_map(e->pool_bytes, !s->pool_on_use);
	e->zero = dsp_mem_alloc(s->block * sizeof(float));
	if (!e->pool || !e->zero)
		goto fail;
	if ((r = dsp_fft_cache_new((enum dsp_fft_rigor)s->fft_rigor, &e->fft)) < 0 ||
	    (r = eng_ring_new(sizeof(struct eng_command), COMMAND_RING_SIZE, &e->commands)) < 0 ||
	    (r = eng_ring_new(sizeof(struct eng_event), EVENT_RING_SIZE, &e->events)) < 0 ||
	    (r = eng_workers_new((uint32_t)EL_MAX(ncpu, 1L), eng_cycle_run_step, e,
				 &e->workers)) < 0)
		goto fail;
	if ((r = eng_workers_set_count(e->workers, s->workers)) < 0) {
		el_error_set(reterr, r, "cannot start %u worker threads: %s", s->workers,
			     strerror(-r));
		goto fail;
	}
	*ret = e;
	return 0;
fail:
	if (reterr && !reterr->code)
		el_error_set(reterr, r, "cannot create the engine: %s", strerror(-r));
	eng_engine_free(e);
	return r;
}

/* Frees the plans publish() kept for fades frozen while stopped. Thread: control. */
static void free_deferred(struct eng_engine *e)
{
	while (e->deferred) {
		struct eng_plan *p = e->deferred;

		e->deferred = p->deferred_next;
		eng_plan_free(p);
	}
}

struct eng_engine *eng_engine_free(struct eng_engine *e)
{
	if (!e)
		return NULL;
	eng_workers_free(e->workers);
	free_deferred(e);
	eng_plan_free(e->current);
	eng_ring_free(e->commands);
	eng_ring_free(e->events);
	dsp_fft_cache_free(e->fft);
	if (e->pool)
		munmap(e->pool, e->pool_bytes);
	dsp_mem_free(e->zero);
	fs_dirs_free(e->file_dirs);
	free(e);
	return NULL;
}

const struct eng_settings *eng_engine_get_settings(const struct eng_engine *e)
{
	return &e->settings;
}

void eng_engine_set_running(struct eng_engine *e, bool running)
{
	e->running = running;
	if (!running) {
		/* Nobody runs cycles: what is published counts as adopted, and what is queued is
		 * applied now, against that plan. Left in the ring, a command would be applied after
		 * the direct sets made while stopped (undoing newer values), on a later plan. A
		 * cycle cut off mid-level (a server killing its thread) may have left a worker inside
		 * a step: wait for it, and while it is still there touch no node and free no plan. */
		e->rt_plan = atomic_load_explicit(&e->pending, memory_order_relaxed);
		atomic_store_explicit(&e->adopted, e->rt_plan, memory_order_relaxed);
		e->workers_stalled = eng_workers_quiesce(e->workers, QUIESCE_TIMEOUT_NS) < 0;
		if (!e->workers_stalled)
			eng_cycle_apply_commands(e, e->rt_plan);
	}
}

/* Waits until the RT thread has adopted p and then run `frames` more frames. */
static int wait_adopted(struct eng_engine *e, const struct eng_plan *p, uint64_t frames)
{
	uint64_t deadline = now_ns() + ADOPT_TIMEOUT_NS;
	const struct timespec tick = {0, 1000000}; /* 1 ms: a fraction of any fade */

	if (!e->running)
		return 0;
	/* acquire: pairs with the RT's release in rt_adopt_plan() */
	while (atomic_load_explicit(&e->adopted, memory_order_acquire) != p) {
		if (now_ns() > deadline)
			return -ETIMEDOUT;
		nanosleep(&tick, NULL);
	}
	while (atomic_load_explicit(&e->frames, memory_order_relaxed) <
	       atomic_load_explicit(&e->adopted_at, memory_order_relaxed) + frames) {
		if (now_ns() > deadline)
			return -ETIMEDOUT;
		nanosleep(&tick, NULL);
	}
	return 0;
}

/* Waits until the RT thread has ended p's crossfades from replaced instances (plan.h). */
static int wait_partners(struct eng_engine *e, struct eng_plan *p)
{
	uint64_t deadline = now_ns() + ADOPT_TIMEOUT_NS;
	const struct timespec tick = {0, 1000000}; /* 1 ms: a fraction of any fade */

	/* acquire: pairs with the RT's release in eng_engine_cycle(): it reads partners no more */
	while (e->running && p->has_partners &&
	       !atomic_load_explicit(&p->partners_done, memory_order_acquire)) {
		if (now_ns() > deadline)
			return -ETIMEDOUT;
		nanosleep(&tick, NULL);
	}
	return 0;
}

static bool plan_has_updates(const struct eng_plan *p)
{
	for (size_t i = 0; i < p->n_steps; i++)
		if (p->steps[i].update)
			return true;
	return false;
}

/*
 * Publishes p (taking ownership) and waits for it and its fades; frees the plan it replaces and
 * the instances p replaced once they are crossfaded out. On a timeout the old plan (and those
 * instances) are kept alive (leaked) rather than freed under the RT thread.
 */
static int publish(struct eng_engine *e, struct eng_plan *p, struct el_error *reterr)
{
	struct eng_plan *old = e->current;
	int r;

	eng_plan_commit(p);
	EL_PROBE1(plan_publish, p->n_steps);
	/* release: the plan is fully built before the RT thread can see the pointer */
	atomic_store_explicit(&e->pending, p, memory_order_release);
	e->current = p;
	eng_engine_wake(e);
	if (!e->running) {
		e->rt_plan = p;
		for (size_t i = 0; i < p->n_steps && !p->updates_applied; i++)
			if (p->steps[i].update)
				p->steps[i].inst->type->update_apply(p->steps[i].inst->state,
								     p->steps[i].update);
		for (size_t i = 0; i < p->n_sets && !p->updates_applied; i++)
			p->sets[i].inst->type->set_param(p->sets[i].inst->state, p->sets[i].param,
							 p->sets[i].value);
		p->applied_stopped = !p->updates_applied && plan_has_updates(p);
		p->updates_applied = true;
		atomic_store_explicit(&e->adopted, p, memory_order_relaxed);
	}
	/* Fades of connections, and fades inside updated nodes, last fade_frames of cycles (a node
	 * in the middle of a fade is never skipped, node.h). Only then may what they fade away
	 * from be freed. A fade started while stopped runs only once cycles run again, which is
	 * before p is adopted: fade_frames past that adoption, it is over too. */
	r = wait_adopted(e, p,
			 p->has_ramps || plan_has_updates(p) || e->deferred ||
					 (old && old->applied_stopped)
				 ? e->fade_frames
				 : 0);
	if (r == 0)
		r = wait_partners(e, p);
	if (r < 0)
		return el_error_set(reterr, r, "the real-time thread did not take the new graph");
	/* A stalled worker may still be inside a step of old (eng_engine_set_running()): keep it
	 * (leaked) rather than free it under the worker. */
	if (!e->running && e->workers_stalled)
		e->workers_stalled = eng_workers_quiesce(e->workers, 0) < 0;
	if (!e->running && e->workers_stalled)
		return 0;
	eng_plan_drop_partners(p);
	if (!e->running && old && old->applied_stopped) {
		/* its updates hold what a frozen fade reads: keep it until cycles ran that fade */
		old->deferred_next = e->deferred;
		e->deferred = old;
		return 0;
	}
	eng_plan_free(old);
	if (e->running)
		free_deferred(e); /* wait_adopted() let every frozen fade run to its end */
	return 0;
}

/* The control thread's clock for timing its own work (status: compile_ms, switch_ms). */
static uint64_t control_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void node_env_init(struct eng_engine *e, const char *base_dir, struct eng_node_env *env)
{
	*env = (struct eng_node_env){
		.rate = e->settings.rate,
		.block = e->settings.block,
		.fade_frames = e->fade_frames,
		.cpu_flags = e->cpu_flags,
		.mix = &e->mix,
		.fft = e->fft,
		.pacer = &e->prep_pacer,
		.base_dir = base_dir,
		.quality = &e->quality,
		.fir_planner = e->fir_planner.choose ? &e->fir_planner : NULL,
		.par = e->settings.par,
		.disk = e->disk,
		.prefetch = e->prefetch,
		.file_dirs = (const char *const *)e->file_dirs,
	};
}

/* The pool is too small: say where its size is set (or would be). */
static void pool_error(const struct conf *c, struct el_error *reterr)
{
	const struct conf_section *sec = conf_find_section(c, "engine");
	const struct conf_entry *e = conf_section_find(sec, "pool_buffers");
	char msg[EL_ERROR_MAX];

	snprintf(msg, sizeof(msg), "%s", reterr ? reterr->message : "");
	if (e)
		conf_error_entry(reterr, -ENOSPC, e, "too small: %s", msg);
	else if (conf_get_n_sections(c) > 0)
		el_error_set(reterr, -ENOSPC, "%s: %s (default %u); raise it in [engine]",
			     conf_get_section(c, 0)->origin.file, msg, ENG_DEFAULT_POOL_BUFFERS);
}

static int find_param_in(const struct eng_plan *p, const char *node, const char *param,
			 size_t *ret_step, unsigned *ret_id, struct el_error *reterr);
static int check_value(const struct eng_inst *inst, unsigned id, const char *node,
		       const char *param, double value, struct el_error *reterr);

/* Resolves the batch's parameter changes against the plan about to run them. */
static int attach_sets(struct eng_plan *p, const struct eng_param_set *sets, size_t n,
		       struct el_error *reterr)
{
	if (n == 0)
		return 0;
	p->sets = calloc(n, sizeof(*p->sets));
	if (!p->sets)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct eng_plan_set *cmd = &p->sets[i];
		size_t step;
		int r = find_param_in(p, sets[i].node, sets[i].param, &step, &cmd->param, reterr);

		if (r == 0) {
			cmd->inst = p->steps[step].inst;
			r = check_value(cmd->inst, cmd->param, sets[i].node, sets[i].param,
					sets[i].value, reterr);
		}
		if (r < 0) {
			char where[32];

			snprintf(where, sizeof(where), "change %zu", i + 1);
			el_error_prefix(reterr, sets[i].where ? sets[i].where : where);
			return r;
		}
		cmd->value = sets[i].value;
		p->n_sets++;
	}
	return 0;
}

int eng_engine_configure(struct eng_engine *e, const struct conf *c, const char *base_dir,
			 struct el_error *reterr)
{
	return eng_engine_configure_batch(e, c, base_dir, NULL, 0, reterr);
}

int eng_engine_configure_batch(struct eng_engine *e, const struct conf *c, const char *base_dir,
			       const struct eng_param_set *sets, size_t n, struct el_error *reterr)
{
	struct eng_plan *next = NULL, *step1 = NULL;
	struct eng_graph *g = NULL;
	struct eng_node_env env;
	uint64_t t0 = control_now_ns(), t1;
	int r;

	node_env_init(e, base_dir, &env);
	r = eng_graph_new(c, e->types, &g, reterr);
	if (r == 0)
		r = eng_plan_compile(g, e->current, &env, e->settings.pool_buffers, e->fade_frames,
				     &next, reterr);
	if (r == 0)
		r = attach_sets(next, sets, n, reterr);
	if (r == 0 && e->current)
		r = eng_plan_fade_out_to(e->current, next, e->settings.pool_buffers, &step1,
					 reterr);
	eng_graph_free(g); /* the plans borrow nothing from it */
	if (r == -ENOSPC)
		pool_error(c, reterr);
	if (r < 0) {
		eng_plan_free(next);
		return r;
	}
	t1 = control_now_ns();
	e->last_compile_ns = t1 - t0; /* nodes made: IRs loaded, prepared, layouts chosen */
	if (step1 && (r = publish(e, step1, reterr)) < 0) {
		eng_plan_free(next);
		return r;
	}
	r = publish(e, next, reterr);
	e->last_switch_ns = control_now_ns() - t1; /* fades run, old plans reclaimed */
	return r;
}

int eng_engine_fade_out(struct eng_engine *e)
{
	struct eng_plan *last = NULL;
	int r;

	if (!e->current)
		return 0;
	r = eng_plan_fade_out_all(e->current, e->settings.pool_buffers, &last, NULL);
	if (r < 0)
		return r;
	return publish(e, last, NULL);
}

unsigned eng_engine_get_capture_channels(const struct eng_engine *e)
{
	return e->current ? e->current->n_capture : 0;
}

unsigned eng_engine_get_playback_channels(const struct eng_engine *e)
{
	return e->current ? e->current->n_playback : 0;
}

int eng_engine_read_event(struct eng_engine *e, struct eng_event *ret)
{
	return eng_ring_pop(e->events, ret);
}

const char *eng_engine_get_node_name(const struct eng_engine *e, uint32_t id)
{
	for (size_t i = 0; e->current && i < e->current->n_steps; i++)
		if (e->current->steps[i].inst->id == id)
			return e->current->steps[i].inst->name;
	return NULL;
}

void eng_engine_get_stats(struct eng_engine *e, bool reset_max, struct eng_stats *ret)
{
	int32_t drift = atomic_load_explicit(&e->drift_milli_ppm, memory_order_relaxed);

	/* relaxed throughout: independent counters, a snapshot need not be consistent */
	*ret = (struct eng_stats){
		.cycles = atomic_load_explicit(&e->cycles, memory_order_relaxed),
		.late_cycles = atomic_load_explicit(&e->late_cycles, memory_order_relaxed),
		.xruns = atomic_load_explicit(&e->xruns, memory_order_relaxed),
		.frames = atomic_load_explicit(&e->frames, memory_order_relaxed),
		.load = atomic_load_explicit(&e->load_ppm, memory_order_relaxed) * 1e-6,
		.load_max = atomic_load_explicit(&e->load_max_ppm, memory_order_relaxed) * 1e-6,
		.events_lost = atomic_load_explicit(&e->events_lost, memory_order_relaxed),
		.workers = eng_workers_get_count(e->workers),
		.nodes = e->current ? (unsigned)e->current->n_steps : 0,
		.buffers_used = e->current ? e->current->n_buffers : 0,
		.pool_bytes = e->pool_bytes,
		.idle_waits = atomic_load_explicit(&e->idle_waits, memory_order_relaxed),
		.commands_dropped =
			atomic_load_explicit(&e->commands_dropped, memory_order_relaxed),
		.late_levels = atomic_load_explicit(&e->late_levels, memory_order_relaxed),
		.compile_ms = (double)e->last_compile_ns / 1e6,
		.switch_ms = (double)e->last_switch_ns / 1e6,
		.workers_realtime = eng_workers_get_realtime(e->workers),
		.drift_ppm = drift == INT32_MIN ? NAN : drift / 1000.0,
	};
	if (reset_max)
		atomic_store_explicit(&e->load_max_ppm, 0, memory_order_relaxed);
}

size_t eng_engine_get_node_stats(const struct eng_engine *e, struct eng_node_stats *ret, size_t n)
{
	size_t count = e->current ? e->current->n_steps : 0;

	for (size_t i = 0; i < count && i < n; i++) {
		struct eng_inst *inst = e->current->steps[i].inst;
		uint64_t runs = atomic_load_explicit(&inst->runs, memory_order_relaxed);
		uint64_t timed = atomic_load_explicit(&inst->timed_runs, memory_order_relaxed);
		uint64_t ns = atomic_load_explicit(&inst->time_ns, memory_order_relaxed);

		ret[i] = (struct eng_node_stats){
			.name = inst->name,
			.type = inst->type->name,
			.runs = runs,
			.skips = atomic_load_explicit(&inst->skips, memory_order_relaxed),
			.avg_us = timed ? (double)ns / (double)timed / 1000.0 : 0.0,
		};
	}
	return count;
}

/* The step of p running node, and the index of its parameter param. */
static int find_param_in(const struct eng_plan *p, const char *node, const char *param,
			 size_t *ret_step, unsigned *ret_id, struct el_error *reterr)
{
	const struct eng_plan_step *s = eng_plan_find(p, node);

	if (!s)
		return el_error_set(reterr, -ENOENT, "no node named '%s'", node);
	for (size_t i = 0; i < s->inst->type->n_params; i++)
		if (strcmp(s->inst->type->params[i].name, param) == 0) {
			*ret_step = (size_t)(s - p->steps);
			*ret_id = (unsigned)i;
			return 0;
		}
	return el_error_set(reterr, -ENOENT, "node '%s' (%s) has no parameter '%s'", node,
			    s->inst->type->name, param);
}

static int check_value(const struct eng_inst *inst, unsigned id, const char *node,
		       const char *param, double value, struct el_error *reterr)
{
	const struct node_param *def = &inst->type->params[id];

	if (!def->settable || !inst->type->set_param)
		return el_error_set(reterr, -EINVAL, "'%s.%s' is read-only", node, param);
	if (!(value >= def->min && value <= def->max))
		return el_error_set(reterr, -EINVAL, "'%s.%s' must be from %g to %g %s, got %g",
				    node, param, def->min, def->max, def->unit, value);
	return 0;
}

int eng_engine_set_param(struct eng_engine *e, const char *node, const char *param, double value,
			 struct el_error *reterr)
{
	struct eng_command cmd = {.value = value};
	struct eng_inst *inst;
	size_t step;
	int r = find_param_in(e->current, node, param, &step, &cmd.param, reterr);

	if (r < 0)
		return r;
	inst = e->current->steps[step].inst;
	r = check_value(inst, cmd.param, node, param, value, reterr);
	if (r < 0)
		return r;
	if (!e->running)
		return inst->type->set_param(inst->state, cmd.param, value);
	cmd.inst_id = inst->id;
	cmd.step = (uint32_t)step;
	if (eng_ring_push(e->commands, &cmd) < 0)
		return el_error_set(reterr, -EAGAIN, "too many changes queued; try again");
	eng_engine_wake(e);
	return 0;
}

int eng_engine_get_param(struct eng_engine *e, const char *node, const char *param,
			 unsigned channel, double *ret, struct el_error *reterr)
{
	struct eng_inst *inst;
	unsigned id;
	size_t step;
	int r = find_param_in(e->current, node, param, &step, &id, reterr);

	if (r < 0)
		return r;
	inst = e->current->steps[step].inst;
	if (!inst->type->get_param)
		return el_error_set(reterr, -EINVAL, "'%s.%s' cannot be read", node, param);
	r = inst->type->get_param(inst->state, id, channel, ret);
	if (r < 0)
		return el_error_set(reterr, r, "'%s.%s' channel %u: no such channel", node, param,
				    channel);
	return 0;
}

void eng_engine_set_prep_pacer(struct eng_engine *e, const struct el_pacer *pacer)
{
	e->prep_pacer = pacer ? *pacer : (struct el_pacer){0};
}

int eng_engine_get_latency(const struct eng_engine *e, const char *node, uint64_t *ret)
{
	const struct eng_plan *p = e->current;
	uint64_t *lat, worst = 0;
	int r = node ? -ENOENT : 0;

	if (!p) {
		*ret = 0;
		return r;
	}
	lat = calloc(p->n_steps + 1, sizeof(*lat));
	if (!lat)
		return -ENOMEM;
	/* topological order: every input's path is known before the step that reads it */
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct eng_plan_step *s = &p->steps[i];
		uint64_t in = 0;

		for (unsigned k = 0; k < s->n_in; k++)
			if (s->inputs[k].src_step >= 0)
				in = EL_MAX(in, lat[s->inputs[k].src_step]);
		lat[i] = in + (s->inst->type->get_latency
				       ? s->inst->type->get_latency(s->inst->state)
				       : 0);
		if (node && strcmp(s->inst->name, node) == 0) {
			worst = lat[i];
			r = 0;
		} else if (!node && s->inst->type->role == NODE_ROLE_PLAYBACK) {
			worst = EL_MAX(worst, lat[i]);
		}
	}
	free(lat);
	*ret = worst;
	return r;
}

void eng_engine_fade_in(struct eng_engine *e)
{
	/* relaxed: a lone request the RT thread takes at its next cycle */
	atomic_store_explicit(&e->fade_in_asked, true, memory_order_relaxed);
}

void eng_engine_set_prefetch(struct eng_engine *e, bool allowed)
{
	e->prefetch = allowed;
}

bool eng_engine_wants_update(struct eng_engine *e, const char *base_dir)
{
	struct eng_node_env env;

	if (!e->current)
		return false;
	node_env_init(e, base_dir, &env);
	for (size_t i = 0; i < e->current->n_steps; i++) {
		const struct eng_inst *inst = e->current->steps[i].inst;

		if (inst->type->wants_update && inst->type->wants_update(inst->state, &env))
			return true;
	}
	return false;
}

void eng_engine_set_disk(struct eng_engine *e, struct disk *disk)
{
	e->disk = disk;
}

int eng_engine_set_file_dirs(struct eng_engine *e, const char *const *dirs)
{
	char **copy;
	int r = fs_dirs_copy(dirs, &copy);

	if (r < 0)
		return r;
	fs_dirs_free(e->file_dirs);
	e->file_dirs = copy;
	return 0;
}

void eng_engine_set_fir_planner(struct eng_engine *e, const struct eng_fir_planner *planner)
{
	e->fir_planner = planner ? *planner : (struct eng_fir_planner){0};
}

void eng_engine_set_quality(struct eng_engine *e, const struct eng_quality *q)
{
	if (e->quality.tier == q->tier && e->quality.fir_tail_db == q->fir_tail_db)
		return;
	e->quality = *q;
	/* Instances of the most recent plan; any it dropped are fading out and go with it. */
	for (size_t i = 0; e->current && i < e->current->n_steps; i++) {
		struct eng_inst *inst = e->current->steps[i].inst;

		if (inst->type->set_quality)
			inst->type->set_quality(inst->state, &e->quality);
	}
}

const struct eng_quality *eng_engine_get_quality(const struct eng_engine *e)
{
	return &e->quality;
}

int eng_engine_set_workers(struct eng_engine *e, uint32_t n)
{
	return eng_workers_set_count(e->workers, n);
}

int eng_engine_set_rt_priority(struct eng_engine *e, int priority)
{
	return eng_workers_set_priority(e->workers, priority);
}

void eng_engine_wake(struct eng_engine *e)
{
	/* release: what was published before the bump is visible to the woken backend */
	atomic_fetch_add_explicit(&e->wake_seq, 1, memory_order_release);
	syscall(SYS_futex, &e->wake_seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

void eng_engine_wait_while_idle(struct eng_engine *e, uint64_t max_ns, const _Atomic bool *stop)
{
	/* acquire: pairs with eng_engine_wake(); a bump after this load makes the wait return, and
	 * one before it shows what was stored before it — the stop flag of a stopping backend */
	uint32_t seq = atomic_load_explicit(&e->wake_seq, memory_order_acquire);
	struct timespec timeout = {(time_t)(max_ns / 1000000000u), (long)(max_ns % 1000000000u)};

	if (!eng_engine_is_idle(e) || (stop && atomic_load_explicit(stop, memory_order_relaxed)))
		return;
	atomic_fetch_add_explicit(&e->idle_waits, 1, memory_order_relaxed);
	atomic_store_explicit(&e->sleep_seq, seq, memory_order_relaxed);
	atomic_store_explicit(&e->asleep, true, memory_order_release);
	syscall(SYS_futex, &e->wake_seq, FUTEX_WAIT_PRIVATE, seq, &timeout, NULL, 0);
	atomic_store_explicit(&e->asleep, false, memory_order_relaxed);
}

void eng_engine_set_rt_thread(struct eng_engine *e, pid_t tid)
{
	atomic_store_explicit(&e->rt_tid, (int32_t)tid, memory_order_relaxed);
}

pid_t eng_engine_get_rt_thread(const struct eng_engine *e)
{
	return e ? (pid_t)atomic_load_explicit(&e->rt_tid, memory_order_relaxed) : 0;
}

uint32_t eng_engine_get_wakes(const struct eng_engine *e)
{
	return e ? atomic_load_explicit(&e->wake_seq, memory_order_relaxed) : 0;
}

bool eng_engine_is_asleep(const struct eng_engine *e)
{
	/* acquire: pairs with the release of asleep, so sleep_seq is the one it sleeps on. Woken
	 * since (the seq moved on) is awake, even before the clock's thread has run to say so. */
	return e && atomic_load_explicit(&e->asleep, memory_order_acquire) &&
	       atomic_load_explicit(&e->sleep_seq, memory_order_relaxed) ==
		       atomic_load_explicit(&e->wake_seq, memory_order_relaxed);
}

int eng_engine_get_node_info(const struct eng_engine *e, const char *name,
			     const struct node_type **ret_type, unsigned *ret_in, unsigned *ret_out)
{
	const struct eng_plan_step *s = eng_plan_find(e->current, name);

	if (!s)
		return -ENOENT;
	if (ret_type)
		*ret_type = s->inst->type;
	if (ret_in)
		*ret_in = s->inst->n_in;
	if (ret_out)
		*ret_out = s->inst->n_out;
	return 0;
}

size_t eng_engine_get_node_details(const struct eng_engine *e, const char *name,
				   struct node_detail *ret, size_t max)
{
	const struct eng_plan_step *s = eng_plan_find(e->current, name);

	if (!s || !s->inst->type->get_details)
		return 0;
	return s->inst->type->get_details(s->inst->state, ret, max);
}

size_t eng_engine_get_io(const struct eng_engine *e, struct eng_io_channel *ret, size_t n)
{
	size_t count = 0;

	for (int playback = 0; playback < 2; playback++)
		for (size_t i = 0; e->current && i < e->current->n_steps; i++) {
			const struct eng_plan_step *s = &e->current->steps[i];
			enum node_role want = playback ? NODE_ROLE_PLAYBACK : NODE_ROLE_CAPTURE;

			if (s->inst->type->role != want)
				continue;
			for (unsigned c = 0; c < s->n_out; c++, count++)
				if (count < n)
					ret[count] = (struct eng_io_channel){
						.node = s->inst->name,
						.channel = c + 1,
						.index = s->io_base + c,
						.playback = playback,
					};
		}
	return count;
}
