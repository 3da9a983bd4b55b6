/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend/pipewire-link.c: the PipeWire backend's link to the server — the core and its
 * round trip, the loop thread's callbacks, the filter, linking our outputs to [pipewire] target,
 * and reconnecting with backoff when the server goes away (pipewire.c, DESIGN).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <spa/param/latency-utils.h>
#include <spa/utils/result.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/backend/pipewire-private.h"
#include "daemon/engine/engine.h"
#include "daemon/log.h"

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

static void on_param_changed(void *data, void *port_data, uint32_t id, const struct spa_pod *param);

static const struct pw_filter_events filter_events = {
	.version = PW_VERSION_FILTER_EVENTS,
	.state_changed = on_filter_state,
	.param_changed = on_param_changed,
	.process = pwbe_rt_process,
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

/* ---- connection ---- */

int pwbe_core_connect(struct pwbe *b, struct el_error *reterr)
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
	b->sync_sent_ms = pwbe_now_ms();
	return 0;
}

int pwbe_core_wait(struct pwbe *b, struct el_error *reterr)
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

void pwbe_core_disconnect(struct pwbe *b)
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

int pwbe_follow_graph(struct pwbe *b, struct el_error *reterr)
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

/* A port's own latency: info (its direction the port's own), as its Latency param. */
static void set_port_latency(struct pwbe *b, struct port_data *pd,
			     const struct spa_latency_info *info)
{
	const struct spa_pod *param;
	struct spa_pod_builder pb;
	uint8_t buf[256];

	spa_pod_builder_init(&pb, buf, sizeof(buf));
	if ((param = spa_latency_build(&pb, SPA_PARAM_Latency, info)))
		pw_filter_update_params(b->filter, pd, &param, 1);
}

/*
 * The latency of the other side's peers (ports: n of them, the side opposite to dir) combined
 * (the largest), plus the graph's, in direction dir, onto each of the side's own ports.
 */
static void publish_side(struct pwbe *b, struct port_data *const *from, unsigned n_from,
			 struct port_data *const *to, unsigned n_to, enum spa_direction dir)
{
	struct spa_latency_info info;

	spa_latency_info_combine_start(&info, dir);
	for (unsigned c = 0; c < n_from; c++)
		if (from[c] && from[c]->have_peer)
			spa_latency_info_combine(&info, &from[c]->peer);
	spa_latency_info_combine_finish(&info);
	info.min_rate += (int32_t)b->graph_latency;
	info.max_rate += (int32_t)b->graph_latency;
	for (unsigned c = 0; c < n_to; c++)
		if (to[c])
			set_port_latency(b, to[c], &info);
}

/* Every port's latency from the peers' and the graph's (pwbe_filter_set_latency). */
static void publish_latency(struct pwbe *b)
{
	const struct port_table *t = b->table;

	if (!t || !b->filter)
		return;
	/* outputs: capture latency, from what feeds the inputs */
	publish_side(b, t->capture_ports, t->n_capture, t->playback_ports, t->n_playback,
		     SPA_DIRECTION_OUTPUT);
	/* inputs: playback latency, from what the outputs feed */
	publish_side(b, t->playback_ports, t->n_playback, t->capture_ports, t->n_capture,
		     SPA_DIRECTION_INPUT);
}

void pwbe_filter_set_latency(struct pwbe *b)
{
	struct spa_process_latency_info process = {0};
	const struct spa_pod *param;
	struct spa_pod_builder pb;
	uint8_t buf[256];
	uint64_t frames = 0;

	(void)eng_engine_get_latency(b->engine, NULL, &frames);
	b->graph_latency = (uint32_t)EL_MIN(frames, (uint64_t)INT32_MAX);
	process.rate = (int32_t)b->graph_latency; /* `rate`: in samples */
	spa_pod_builder_init(&pb, buf, sizeof(buf));
	if ((param = spa_process_latency_build(&pb, SPA_PARAM_ProcessLatency, &process)))
		pw_filter_update_params(b->filter, NULL, &param, 1);
	publish_latency(b);
}

/*
 * The graph reports the latency of what a port is linked to (PW_FILTER_FLAG_CUSTOM_LATENCY):
 * kept on the port, and every port's published again. On PipeWire's thread, under the lock.
 */
static void on_param_changed(void *data, void *port_data, uint32_t id, const struct spa_pod *param)
{
	struct pwbe *b = data;
	struct port_data *pd = port_data;
	struct spa_latency_info info;

	if (!pd || id != SPA_PARAM_Latency || !param || spa_latency_parse(param, &info) < 0)
		return;
	/* a port's own direction is ours to say; the other is its peers' */
	if (info.direction == (pd->playback ? SPA_DIRECTION_OUTPUT : SPA_DIRECTION_INPUT))
		return;
	pd->peer = info;
	pd->have_peer = true;
	publish_latency(b);
}

/* The data thread's scheduling policy, asked on that thread (-1 if it does not run yet). */
struct sched_probe {
	pthread_t caller;
	int policy;
	int priority;
	pid_t tid; /* the data thread's */
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
		p->tid = gettid();
	}
	return 0;
}

int pwbe_filter_create(struct pwbe *b, struct el_error *reterr)
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
	if ((r = pwbe_ports_update(b, reterr)) < 0)
		return r;
	pwbe_filter_set_latency(b);
	eng_engine_set_running(b->engine, true);
	eng_engine_fade_in(b->engine); /* the first sound after a start is not a step */
	/* our latency is the graph's plus the peers' (pwbe_filter_set_latency): we say it */
	r = pw_filter_connect(b->filter, PW_FILTER_FLAG_RT_PROCESS | PW_FILTER_FLAG_CUSTOM_LATENCY,
			      NULL, 0);
	if (r < 0)
		return el_error_set(reterr, r, "cannot connect the PipeWire filter: %s",
				    spa_strerror(r));
	pw_data_loop_invoke(b->data_loop, do_probe_sched, 0, NULL, 0, true, &probe);
	if (probe.tid > 0)
		eng_engine_set_rt_thread(b->engine, probe.tid);
	if (probe.policy >= 0) /* relaxed: see struct pwbe */
		atomic_store_explicit(&b->rt_sched, probe.policy, memory_order_relaxed);
	/* Workers run one below the data thread (the daemon warns when they cannot). */
	eng_engine_set_rt_priority(b->engine, probe.policy == SCHED_FIFO || probe.policy == SCHED_RR
						      ? probe.priority
						      : 0);
	return 0;
}

void pwbe_filter_destroy(struct pwbe *b)
{
	if (!b->filter)
		return;
	/* From here on a cycle (if any still comes) touches neither the engine nor our ports. */
	pwbe_ports_detach(b);
	if (b->engine)
		eng_engine_set_running(b->engine, false);
	spa_hook_remove(&b->filter_listener);
	pwbe_ports_forget(b);
	pw_filter_destroy(b->filter);
	b->filter = NULL;
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
void pwbe_apply_target(struct pwbe *b)
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

/* ---- reconnection (control thread) ---- */

void pwbe_drop_connection(struct pwbe *b, uint64_t now)
{
	pw_thread_loop_lock(b->loop);
	pwbe_filter_destroy(b);
	pwbe_core_disconnect(b);
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
	int r = pwbe_follow_graph(b, reterr);

	if (r < 0 || b->rate != rate || b->block != block) {
		b->rate = rate;
		b->block = block;
		return 1;
	}
	return pwbe_filter_create(b, reterr);
}

enum be_state pwbe_reconnect(struct pwbe *b, uint64_t now)
{
	struct el_error err = {0};
	bool failed = false;
	int r = -EAGAIN;

	if (!b->core && now < b->next_try_ms)
		return BE_STATE_DISCONNECTED;
	pw_thread_loop_lock(b->loop);
	if (!b->core)
		failed = pwbe_core_connect(b, NULL) < 0;
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
		pwbe_drop_connection(b, now);
	if (r == 1)
		log_notice("pipewire: the server came back with other settings: rebuilding the "
			   "engine");
	else if (r == 0)
		log_notice("pipewire: reconnected to the server");
	return r == 1 ? BE_STATE_RESTART : r == 0 ? BE_STATE_RUNNING : BE_STATE_DISCONNECTED;
}

