/* SPDX-License-Identifier: MIT */
/*
 * daemon/control/commands.c: what each command of the control protocol does (docs/protocol.md).
 *
 * Queries read the engine's published state; `set` queues a ring command; graph changes edit a
 * copy of the running configuration and hand it to the engine, which switches with fades or
 * refuses it untouched. `batch` applies its graph changes to one copy and its `set`s travel
 * with the resulting plan, so everything lands in one cycle or nothing does.
 */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/config/config.h"
#include "daemon/config/node.h"
#include "daemon/control/commands.h"
#include "daemon/control/config-dump.h"
#include "daemon/control/edit.h"
#include "daemon/control/set-value.h"
#include "daemon/control/server.h"
#include "daemon/engine/engine.h"
#include "daemon/engine/node.h"
#include "daemon/proc-cost.h"
#include "daemon/power/policy.h"
#include "ipc/protocol.h"

#define MAX_BATCH   256

struct ctl_commands {
	const struct ctl_host *host; /* borrowed */
	/* the running configuration's file is one a client named with `load`: what it names is
	 * held to [ipc] file_dirs on every `reload` too, as a client may have rewritten it */
	bool config_from_client;
};

struct cmd_ctx {
	struct ctl_commands *cmds;
	const struct ctl_host *host;
	struct ctl_state st; /* taken once per request */
	struct ctl_client *client;
	const json_t *args;
	json_t *result; /* owned until returned */
	struct ipc_error *err;
};

typedef int (*cmd_fn)(struct cmd_ctx *x);

static const struct command *find_command(const char *name);

/*
 * What a client is told for a failure, by its errno: the one place a callee's -errno becomes a
 * protocol error code (docs/protocol.md). Anything not listed is a refused argument or
 * configuration.
 */
static const struct {
	int errno_value;
	enum ipc_error_code code;
} error_codes[] = {
	{ENOENT, IPC_ERR_NOT_FOUND},   /* no such node, parameter, channel or file */
	{EEXIST, IPC_ERR_CONFLICT},    /* a node by that name exists */
	{ELOOP, IPC_ERR_CONFLICT},     /* the change would close a cycle */
	{ENOSPC, IPC_ERR_CONFLICT},    /* the graph would not fit [engine] pool_buffers */
	{EBUSY, IPC_ERR_CONFLICT},     /* other nodes still read it */
	{EACCES, IPC_ERR_PERMISSION},  /* outside [ipc] file_dirs */
	{EAGAIN, IPC_ERR_BUSY},        /* a queue is full: try again */
	{ENOMEM, IPC_ERR_INTERNAL},    /* out of memory */
	{ETIMEDOUT, IPC_ERR_INTERNAL}, /* the RT thread did not answer */
};

/* A failure of the engine, the configuration or the host (r, why) as a protocol error. */
static int engine_error(struct ipc_error *e, int r, const struct el_error *why)
{
	enum ipc_error_code code = IPC_ERR_BAD_ARGUMENT;

	for (size_t i = 0; i < EL_N_ELEMENTS(error_codes); i++)
		if (r == -error_codes[i].errno_value)
			code = error_codes[i].code;
	ipc_error_set(e, code, "%s", why->message);
	return r;
}

static int cmd_hello(struct cmd_ctx *x);

/*
 * What the daemon costs (host->get_cost, daemon/proc-cost.h), with the buffer pool's use and the
 * sample cache's bytes; null when /proc cannot be read.
 */
static json_t *cost_json(const struct ctl_host *host, const struct ctl_state *s,
			 const struct eng_stats *st)
{
	const struct eng_settings *set = eng_engine_get_settings(s->engine);
	struct pcost_figures f;

	if (!host->get_cost || host->get_cost(host->ctx, &f) < 0)
		return json_null();
	return json_pack("{s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I}", "window_s", f.window_s,
			 "cpu", f.cpu, "rt_cpu", f.rt_cpu, "wakeups_per_s", f.wakeups_per_s,
			 "rss_bytes", (json_int_t)f.rss_bytes, "locked_bytes",
			 (json_int_t)f.locked_bytes, "pool_bytes", (json_int_t)st->pool_bytes,
			 "pool_used_bytes",
			 (json_int_t)((uint64_t)st->buffers_used * set->block * sizeof(float)),
			 "cache_bytes", (json_int_t)s->cache_bytes);
}

json_t *ctl_commands_load(void *commands)
{
	const struct ctl_host *host = ((struct ctl_commands *)commands)->host;
	struct ctl_state now;
	struct eng_stats st;
	json_t *o;

	host->get_state(host->ctx, &now);
	eng_engine_get_stats(now.engine, false, &st);
	o = json_pack("{s:f, s:f, s:f, s:I, s:I, s:I}", "time", now.uptime, "load", st.load,
		      "load_max", st.load_max, "cycles", (json_int_t)st.cycles, "late_cycles",
		      (json_int_t)st.late_cycles, "xruns", (json_int_t)st.xruns);
	if (o)
		json_object_set_new(o, "cost", cost_json(host, &now, &st));
	return o;
}

/* The disk thread and the sample cache, for status; null without a disk thread. */
static json_t *cache_json(const struct ctl_state *s)
{
	if (!s->disk_io)
		return json_null();
	return json_pack("{s:s, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I}", "io", s->disk_io,
			 "lookups", (json_int_t)s->cache_lookups, "hits",
			 (json_int_t)s->cache_hits, "hit_rate",
			 s->cache_lookups ? (double)s->cache_hits / (double)s->cache_lookups : 0.0,
			 "bytes", (json_int_t)s->cache_bytes, "samples",
			 (json_int_t)s->cache_samples, "held", (json_int_t)s->cache_held,
			 "evictions", (json_int_t)s->cache_evictions, "budget",
			 (json_int_t)s->cache_budget);
}

/* A path's latency (eng_engine_get_latency: to node, or to the outputs with NULL). */
static json_t *latency_json(struct cmd_ctx *x, const char *node)
{
	uint64_t frames = 0;

	(void)eng_engine_get_latency(x->st.engine, node, &frames);
	return json_pack("{s:I, s:f}", "frames", (json_int_t)frames, "ms",
			 1000.0 * (double)frames / eng_engine_get_settings(x->st.engine)->rate);
}

static int cmd_status(struct cmd_ctx *x)
{
	const struct eng_settings *s = eng_engine_get_settings(x->st.engine);
	struct eng_stats st;

	eng_engine_get_stats(x->st.engine, false, &st);
	x->result = json_pack(
		"{s:s, s:i, s:i, s:f, s:f, s:I, s:I, s:I, s:f, s:i, s:i, s:b, s:I, s:I, s:s?, s:o, "
		"s:{s:f, s:f, s:f}}",
		"backend", x->st.backend, "rate", (int)s->rate,
		"block", (int)s->block, "load", st.load, "load_max", st.load_max, "cycles",
		(json_int_t)st.cycles, "late_cycles", (json_int_t)st.late_cycles, "xruns",
		(json_int_t)st.xruns, "uptime", x->st.uptime,
		"nodes", (int)st.nodes, "workers", (int)st.workers, "workers_realtime",
		st.workers_realtime, "late_levels", (json_int_t)st.late_levels,
		"commands_dropped", (json_int_t)st.commands_dropped, "config", x->st.config_path,
		"policy", pwr_policy_json(x->st.power), "timings", "compile_ms", st.compile_ms,
		"switch_ms", st.switch_ms, "layout_search_ms", x->st.layout_search_ms);
	if (x->result) {
		json_object_set_new(x->result, "idle",
				    json_boolean(eng_engine_is_asleep(x->st.engine)));
		json_object_set_new(x->result, "cost", cost_json(x->host, &x->st, &st));
		json_object_set_new(x->result, "drift_ppm",
				    isnan(st.drift_ppm) ? json_null() : json_real(st.drift_ppm));
		json_object_set_new(x->result, "cache", cache_json(&x->st));
		json_object_set_new(x->result, "latency", latency_json(x, NULL));
	}
	return 0;
}

/* The policy alone: what status shows under "policy" (null when it is off). */
static int cmd_policy(struct cmd_ctx *x)
{
	x->result = pwr_policy_json(x->st.power);
	return 0;
}

static const char *const policy_set_args[] = {"mode", "thermal", NULL};

/* Pins the mode and/or the thermal state ("auto" releases); answers with the policy after it. */
static int cmd_policy_set(struct cmd_ctx *x)
{
	const char *mode = NULL, *thermal = NULL;
	int r;

	if ((r = ipc_arg_string(x->args, "mode", false, &mode, x->err)) < 0 ||
	    (r = ipc_arg_string(x->args, "thermal", false, &thermal, x->err)) < 0)
		return r;
	if (!mode && !thermal)
		return ipc_error_set(x->err, IPC_ERR_BAD_ARGUMENT,
				     "give 'mode' or 'thermal' (or both)");
	/* check both before changing either: all or nothing */
	if ((mode && (r = pwr_policy_override(x->st.power, "mode", mode, true, x->err)) < 0) ||
	    (thermal && (r = pwr_policy_override(x->st.power, "thermal", thermal, true, x->err)) < 0))
		return r;
	if (mode)
		pwr_policy_override(x->st.power, "mode", mode, false, x->err);
	if (thermal)
		pwr_policy_override(x->st.power, "thermal", thermal, false, x->err);
	x->result = json_object();
	return 0;
}

/* The references of a section's `input`, as a JSON array of strings. */
static json_t *input_array(const struct conf_section *sec)
{
	const struct conf_entry *e = conf_section_find(sec, "input");
	json_t *a = json_array();
	char *copy, *save = NULL;

	if (!e || !a)
		return a;
	copy = strdup(e->value);
	for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t;
	     t = strtok_r(NULL, ",", &save)) {
		json_array_append_new(a, json_string(conf_trim(t)));
	}
	free(copy);
	return a;
}

static int cmd_node_list(struct cmd_ctx *x)
{
	x->result = json_array();
	for (size_t i = 0; i < conf_get_n_sections(x->st.conf); i++) {
		const struct conf_section *sec = conf_get_section(x->st.conf, i);
		const char *name = conf_node_name(sec);
		const struct node_type *t;
		unsigned in = 0, out = 0;

		if (!name || eng_engine_get_node_info(x->st.engine, name, &t, &in, &out) < 0)
			continue;
		json_array_append_new(x->result,
				      json_pack("{s:s, s:s, s:o, s:i, s:i}", "name", name, "type",
						t->name, "input", input_array(sec), "channels_in",
						(int)in, "channels_out", (int)out));
	}
	return 0;
}

/* Value(s) of param id of node: a number, or an array per channel. NULL when unreadable. */
static json_t *param_value(struct eng_engine *e, const char *node, const struct node_param *p,
			   unsigned channels)
{
	double v;
	json_t *a;

	if (!p->per_channel)
		return eng_engine_get_param(e, node, p->name, 0, &v, NULL) == 0
			       ? json_real(v)
			       : NULL;
	a = json_array();
	for (unsigned c = 0; a && c < channels; c++)
		if (eng_engine_get_param(e, node, p->name, c, &v, NULL) == 0)
			json_array_append_new(a, json_real(v));
	return a;
}

static json_t *node_params(struct eng_engine *e, const char *node, const struct node_type *t,
			   unsigned channels)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < t->n_params; i++) {
		const struct node_param *p = &t->params[i];
		json_t *o = json_pack("{s:s, s:s, s:f, s:f, s:b}", "name", p->name, "unit", p->unit,
				      "min", p->min, "max", p->max, "settable", p->settable);
		json_t *v = param_value(e, node, p, channels);

		if (o && v)
			json_object_set_new(o, "value", v);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *node_stats(struct eng_engine *e, const char *node)
{
	struct eng_node_stats st[1024];
	size_t n = eng_engine_get_node_stats(e, st, EL_N_ELEMENTS(st));

	for (size_t i = 0; i < n && i < EL_N_ELEMENTS(st); i++)
		if (strcmp(st[i].name, node) == 0)
			return json_pack("{s:I, s:I, s:f}", "runs", (json_int_t)st[i].runs, "skips",
					 (json_int_t)st[i].skips, "avg_us", st[i].avg_us);
	return json_object();
}

/* What the node says it runs (node.h get_details), as an object of strings and numbers. */
static json_t *node_details(struct eng_engine *e, const char *node)
{
	struct node_detail d[16];
	size_t n = EL_MIN(eng_engine_get_node_details(e, node, d, EL_N_ELEMENTS(d)),
			  EL_N_ELEMENTS(d));
	json_t *o = json_object();

	for (size_t i = 0; o && i < n; i++)
		json_object_set_new(o, d[i].key,
				    d[i].is_number ? json_real(d[i].number) : json_string(d[i].text));
	return o;
}

static int cmd_node_get(struct cmd_ctx *x)
{
	const struct conf_section *sec;
	const struct node_type *t;
	const char *node;
	unsigned in, out;
	json_t *settings;
	int r;

	if ((r = ipc_arg_string(x->args, "node", true, &node, x->err)) < 0)
		return r;
	sec = conf_find_node(x->st.conf, node);
	if (!sec || eng_engine_get_node_info(x->st.engine, node, &t, &in, &out) < 0)
		return ipc_error_set(x->err, IPC_ERR_NOT_FOUND, "no node named '%s'", node);
	settings = json_object();
	for (size_t i = 0; i < sec->n_entries; i++)
		if (strcmp(sec->entries[i].key, "type") && strcmp(sec->entries[i].key, "input"))
			json_object_set_new(settings, sec->entries[i].key,
					    json_string(sec->entries[i].value));
	x->result = json_pack("{s:s, s:s, s:o, s:o, s:i, s:i, s:o, s:o, s:o}", "name", node,
			      "type", t->name, "input", input_array(sec), "settings", settings,
			      "channels_in", (int)in, "channels_out", (int)out, "params",
			      node_params(x->st.engine, node, t, out), "stats",
			      node_stats(x->st.engine, node), "details",
			      node_details(x->st.engine, node));
	if (x->result)
		json_object_set_new(x->result, "latency", latency_json(x, node));
	return 0;
}

/* Applies an edited copy (taken) with the batch's sets; maps errors. */
static int apply(struct cmd_ctx *x, struct conf *next, const struct eng_param_set *sets, size_t n)
{
	struct el_error why = {0};
	int r = x->host->apply(x->host->ctx, next, sets, n, &why);

	return r < 0 ? engine_error(x->err, r, &why) : 0;
}

/* A copy of the running configuration to edit. */
static int edit_copy(struct cmd_ctx *x, struct conf **ret)
{
	if (conf_copy(x->st.conf, ret) < 0)
		return ipc_error_set(x->err, IPC_ERR_INTERNAL, "out of memory");
	return 0;
}

static const char *const add_args[] = {"node", "type", "input", "settings", NULL};

/* node.add on conf (shared by the command and batch). */
static int edit_add(struct cmd_ctx *x, const json_t *args, struct conf *c)
{
	const char *node, *type;
	const json_t *input = NULL;
	json_t *settings;
	int r;

	if ((r = ipc_arg_string(args, "node", true, &node, x->err)) < 0 ||
	    (r = ipc_arg_string(args, "type", true, &type, x->err)) < 0 ||
	    (r = ipc_arg_strings(args, "input", false, &input, x->err)) < 0)
		return r;
	settings = json_object_get(args, "settings");
	if (settings && !json_is_object(settings))
		return ipc_error_set(x->err, IPC_ERR_BAD_ARGUMENT,
				     "argument 'settings' must be an object");
	if ((r = ctl_edit_node_add(c, node, type, input, settings, x->err)) < 0)
		return r;
	/* Files the new node names must lie under [ipc] file_dirs. Checked in the edited copy,
	 * where a number is already the string the node will open, resolved as the node will. */
	return ctl_settings_check_section_paths(ctl_server_get_settings(x->st.server),
						conf_find_node(c, node), x->st.base_dir, x->err);
}

static const char *const remove_args[] = {"node", "force", NULL};

static int edit_remove(struct cmd_ctx *x, const json_t *args, struct conf *c)
{
	const char *node;
	bool force = false;
	int r;

	if ((r = ipc_arg_string(args, "node", true, &node, x->err)) < 0 ||
	    (r = ipc_arg_bool(args, "force", false, &force, x->err)) < 0)
		return r;
	return ctl_edit_node_remove(c, node, force, x->err);
}

static const char *const link_args[] = {"from", "to", NULL};

static int edit_link(struct cmd_ctx *x, const json_t *args, struct conf *c, bool connect)
{
	const char *from, *to;
	int r;

	if ((r = ipc_arg_string(args, "from", true, &from, x->err)) < 0 ||
	    (r = ipc_arg_string(args, "to", true, &to, x->err)) < 0)
		return r;
	return connect ? ctl_edit_connect(c, from, to, x->err)
		       : ctl_edit_disconnect(c, from, to, x->err);
}

static int edit_connect(struct cmd_ctx *x, const json_t *args, struct conf *c)
{
	return edit_link(x, args, c, true);
}

static int edit_disconnect(struct cmd_ctx *x, const json_t *args, struct conf *c)
{
	return edit_link(x, args, c, false);
}

typedef int (*edit_fn)(struct cmd_ctx *x, const json_t *args, struct conf *c);

/* A row of the command table (at the end of this file). */
struct command {
	const char *name;
	const char *const *args; /* the arguments it takes, NULL-terminated */
	cmd_fn run;              /* or NULL for an edit */
	edit_fn edit;   /* a graph edit: run on a copy of the configuration, then applied */
	bool batchable; /* a batch may hold it: the edits and `set` */
	bool hidden;    /* tests only: left out of `hello` */
};

/* A graph command on its own: one edit, one switch. */
static int run_edit(struct cmd_ctx *x, edit_fn fn)
{
	struct conf *c;
	int r = edit_copy(x, &c);

	if (r < 0)
		return r;
	r = fn(x, x->args, c);
	if (r < 0) {
		conf_free(c);
		return r;
	}
	return apply(x, c, NULL, 0);
}

static const char *const set_args[] = {"node", "param", "value", NULL};

/*
 * A set's value given as text ("-6dB", "50%", "+3": set-value.h), read against the parameter and
 * its value now.
 */
static int read_set_text(struct cmd_ctx *x, const char *text, struct eng_param_set *s)
{
	const struct node_type *t = NULL;
	struct el_error why = {0};
	unsigned in, out;
	double now = 0.0;
	int r;

	if (eng_engine_get_node_info(x->st.engine, s->node, &t, &in, &out) < 0)
		return ipc_error_set(x->err, IPC_ERR_NOT_FOUND, "no node named '%s'", s->node);
	for (size_t i = 0; i < t->n_params; i++) {
		if (strcmp(t->params[i].name, s->param) != 0)
			continue;
		r = eng_engine_get_param(x->st.engine, s->node, s->param, 0, &now, &why);
		if (r == 0)
			r = ctl_set_value_parse(text, &t->params[i], now, &s->value, &why);
		return r < 0 ? ipc_error_set(x->err, IPC_ERR_BAD_ARGUMENT, "%s", why.message) : 0;
	}
	return ipc_error_set(x->err, IPC_ERR_NOT_FOUND, "'%s' has no parameter '%s'", s->node,
			     s->param);
}

/* Reads a set's arguments (for the command and batch). */
static int read_set(struct cmd_ctx *x, const json_t *args, struct eng_param_set *ret)
{
	const json_t *text = json_object_get(args, "value");
	int r;

	ret->where = NULL;
	if ((r = ipc_arg_string(args, "node", true, &ret->node, x->err)) < 0 ||
	    (r = ipc_arg_string(args, "param", true, &ret->param, x->err)) < 0)
		return r;
	if (json_is_string(text))
		return read_set_text(x, json_string_value(text), ret);
	if ((r = ipc_arg_number(args, "value", true, &ret->value, x->err)) < 0)
		return r;
	if (!isfinite(ret->value))
		return ipc_error_set(x->err, IPC_ERR_BAD_ARGUMENT,
				     "argument 'value' must be finite");
	return 0;
}

static int cmd_set(struct cmd_ctx *x)
{
	struct eng_param_set set;
	struct el_error why = {0};
	int r = read_set(x, x->args, &set);

	if (r < 0)
		return r;
	r = eng_engine_set_param(x->st.engine, set.node, set.param, set.value, &why);
	return r < 0 ? engine_error(x->err, r, &why) : 0;
}

static const char *const get_args[] = {"node", "param", "channel", NULL};

static int cmd_get(struct cmd_ctx *x)
{
	const char *node, *param;
	const struct node_type *t;
	double channel = 0, v;
	struct el_error why = {0};
	unsigned out;
	int r;

	if ((r = ipc_arg_string(x->args, "node", true, &node, x->err)) < 0 ||
	    (r = ipc_arg_string(x->args, "param", true, &param, x->err)) < 0 ||
	    (r = ipc_arg_number(x->args, "channel", false, &channel, x->err)) < 0)
		return r;
	if (eng_engine_get_node_info(x->st.engine, node, &t, NULL, &out) < 0)
		return ipc_error_set(x->err, IPC_ERR_NOT_FOUND, "no node named '%s'", node);
	if (channel != 0 && (channel < 1 || channel > out || channel != floor(channel)))
		return ipc_error_set(x->err, IPC_ERR_NOT_FOUND, "node '%s' has no channel %g", node,
				     channel);
	for (size_t i = 0; i < t->n_params; i++) {
		if (strcmp(t->params[i].name, param) != 0)
			continue;
		if (!t->params[i].per_channel || channel >= 1) {
			r = eng_engine_get_param(x->st.engine, node, param,
						 channel >= 1 ? (unsigned)channel - 1 : 0, &v,
						 &why);
			if (r < 0)
				return engine_error(x->err, r, &why);
			x->result = json_pack("{s:f}", "value", v);
		} else {
			x->result = json_pack("{s:o}", "value",
					      param_value(x->st.engine, node, &t->params[i], out));
		}
		return 0;
	}
	return ipc_error_set(x->err, IPC_ERR_NOT_FOUND, "node '%s' (%s) has no parameter '%s'",
			     node, t->name, param);
}

static const char *const load_args[] = {"path", NULL};

/* [ipc] file_dirs: what a file a client names must lie beneath (daemon/fs/beneath.h). */
static const char *const *client_dirs(const struct cmd_ctx *x)
{
	return (const char *const *)ctl_server_get_settings(x->st.server)->file_dirs;
}

/*
 * A configuration file a client chose (by `load`, or one it loaded earlier and may have
 * rewritten since, on `reload`) names files the daemon would open (IRs): each must lie under
 * [ipc] file_dirs, like the file itself. Read here to check it, before the host's reload reads it
 * again by path: a file rewritten between the two reads escapes the check, which is why
 * file_dirs should be writable only by those trusted to name any file (docs/protocol.md).
 */
static int check_config_paths(struct cmd_ctx *x, const char *path)
{
	struct el_error why = {0};
	struct conf *c = NULL;
	char *copy = strdup(path);
	int r;

	if (!copy)
		return ipc_error_set(x->err, IPC_ERR_INTERNAL, "out of memory");
	r = conf_load_beneath(path, client_dirs(x), &c, &why);
	if (r < 0)
		engine_error(x->err, r, &why);
	else /* relative to the file, as setup_config_load() sets base_dir */
		r = ctl_settings_check_conf_paths(ctl_server_get_settings(x->st.server), c,
						  dirname(copy), x->err);
	conf_free(c);
	free(copy);
	return r;
}

/* The `path` argument: absolute and under [ipc] file_dirs (else `permission`). */
static int read_client_path(struct cmd_ctx *x, const char **ret)
{
	int r = ipc_arg_string(x->args, "path", true, ret, x->err);

	if (r < 0)
		return r;
	if ((*ret)[0] != '/')
		return ipc_error_set(x->err, IPC_ERR_BAD_ARGUMENT,
				     "argument 'path' must be absolute, got '%s'", *ret);
	return ctl_settings_check_path(ctl_server_get_settings(x->st.server), *ret, x->err);
}

static int cmd_load(struct cmd_ctx *x)
{
	const char *path;
	struct el_error why = {0};
	int r;

	if ((r = read_client_path(x, &path)) < 0 || (r = check_config_paths(x, path)) < 0)
		return r;
	r = x->host->reload(x->host->ctx, path, &why);
	if (r < 0)
		return engine_error(x->err, r, &why);
	x->cmds->config_from_client = true;
	return 0;
}

/* The running configuration as text (control/config-dump.h). */
static int dump_text(struct cmd_ctx *x, char **ret)
{
	struct el_error why = {0};
	int r = ctl_config_dump(x->st.conf, x->st.engine, x->st.config_path, ret, &why);

	return r < 0 ? engine_error(x->err, r, &why) : 0;
}

static int cmd_config_dump(struct cmd_ctx *x)
{
	char *text = NULL;
	int r = dump_text(x, &text);

	if (r < 0)
		return r;
	x->result = json_pack("{s:s}", "text", text);
	free(text);
	return x->result ? 0 : ipc_error_set(x->err, IPC_ERR_INTERNAL, "out of memory");
}

static const char *const save_args[] = {"path", NULL};

/* Where the daemon reads its configuration from: never written over (an output is no input). */
static bool is_config_input(const struct cmd_ctx *x, const char *path)
{
	struct stat a, b;

	return x->st.config_path && stat(path, &a) == 0 && stat(x->st.config_path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int cmd_config_save(struct cmd_ctx *x)
{
	struct el_error why = {0};
	const char *path;
	char *text = NULL;
	int r;

	if ((r = read_client_path(x, &path)) < 0)
		return r;
	if (is_config_input(x, path))
		return ipc_error_set(
			x->err, IPC_ERR_BAD_ARGUMENT,
			"'%s' is the configuration the daemon runs from: save elsewhere", path);
	if ((r = dump_text(x, &text)) < 0)
		return r;
	r = ctl_config_save(text, path, client_dirs(x), &why);
	free(text);
	return r < 0 ? engine_error(x->err, r, &why) : 0;
}

static int cmd_reload(struct cmd_ctx *x)
{
	struct el_error why = {0};
	int r;

	if (x->cmds->config_from_client && x->st.config_path &&
	    (r = check_config_paths(x, x->st.config_path)) < 0)
		return r;
	r = x->host->reload(x->host->ctx, NULL, &why);
	return r < 0 ? engine_error(x->err, r, &why) : 0;
}

/* One element of a batch: an edit of c, or a set appended to sets. */
static int batch_one(struct cmd_ctx *x, const json_t *item, struct conf *c,
		     struct eng_param_set *sets, size_t *n_sets)
{
	const json_t *cmd = json_object_get(item, "cmd"), *args = json_object_get(item, "args");
	const struct command *entry;
	static const json_t *empty;
	int r;

	if (!json_is_object(item) || !json_is_string(cmd) || (args && !json_is_object(args)))
		return ipc_error_set(x->err, IPC_ERR_BAD_ARGUMENT,
				     "expected {\"cmd\": string, \"args\": object}");
	if (!args)
		args = empty ? empty : (empty = json_object());
	entry = find_command(json_string_value(cmd));
	if (entry && entry->batchable) {
		if ((r = ipc_args_check(args, entry->args, x->err)) < 0)
			return r;
		/* the graph edits, and `set`, whose change travels with the batch's plan */
		return entry->edit ? entry->edit(x, args, c) : read_set(x, args, &sets[(*n_sets)++]);
	}
	return ipc_error_set(x->err, IPC_ERR_BAD_ARGUMENT,
			     "'%.64s' cannot be batched (node.add, node.remove, connect, "
			     "disconnect, set)",
			     json_string_value(cmd));
}

static const char *const batch_args[] = {"commands", NULL};

static int cmd_batch(struct cmd_ctx *x)
{
	const json_t *list = json_object_get(x->args, "commands");
	struct eng_param_set sets[MAX_BATCH];
	char where[MAX_BATCH][32]; /* "command N", which names a set the engine refuses */
	size_t n_sets = 0, i;
	const json_t *item;
	struct conf *c;
	int r;

	if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > MAX_BATCH)
		return ipc_error_set(x->err, IPC_ERR_BAD_ARGUMENT,
				     "argument 'commands' must be an array of 1 to %d commands",
				     MAX_BATCH);
	if ((r = edit_copy(x, &c)) < 0)
		return r;
	json_array_foreach(list, i, item)
	{
		size_t had = n_sets;

		if ((r = batch_one(x, item, c, sets, &n_sets)) < 0) {
			char msg[sizeof(x->err->message)];

			snprintf(msg, sizeof(msg), "%s", x->err->message);
			snprintf(x->err->message, sizeof(x->err->message), "command %zu: %.480s",
				 i + 1, msg);
			conf_free(c);
			return r;
		}
		if (n_sets > had) { /* this command was a set */
			snprintf(where[had], sizeof(where[had]), "command %zu", i + 1);
			sets[had].where = where[had];
		}
	}
	if ((r = apply(x, c, sets, n_sets)) < 0)
		return r;
	x->result = json_pack("{s:i}", "applied", (int)json_array_size(list));
	return 0;
}

static const struct {
	const char *name;
	unsigned bit;
} event_names[] = {
	{"meters", CTL_EVENT_METERS},     {"load", CTL_EVENT_LOAD},
	{"xrun", CTL_EVENT_XRUN},         {"late", CTL_EVENT_LATE},
	{"clip", CTL_EVENT_CLIP},         {"graph", CTL_EVENT_GRAPH},
	{"policy", CTL_EVENT_POLICY},     {"stopping", CTL_EVENT_STOPPING},
	{"underrun", CTL_EVENT_UNDERRUN}, {"overrun", CTL_EVENT_OVERRUN},
	{"record", CTL_EVENT_RECORD},     {"backend", CTL_EVENT_BACKEND},
};

static int event_bit(struct cmd_ctx *x, const char *name, unsigned *bits)
{
	for (size_t k = 0; k < EL_N_ELEMENTS(event_names); k++)
		if (strcmp(event_names[k].name, name) == 0) {
			*bits |= event_names[k].bit;
			return 0;
		}
	return ipc_error_set(
		x->err, IPC_ERR_BAD_ARGUMENT,
		"unknown event '%.64s' (meters, load, xrun, late, clip, graph, policy, stopping, "
		"underrun, overrun, record, backend)",
		name);
}

/* The bits of an `events` argument (absent: all when allow_all, else an error). */
static int read_events(struct cmd_ctx *x, bool allow_all, unsigned *ret)
{
	const json_t *list = NULL, *v;
	size_t i;
	int r = ipc_arg_strings(x->args, "events", !allow_all, &list, x->err);

	if (r < 0)
		return r;
	*ret = list ? 0 : ~0u;
	if (json_is_string(list))
		return event_bit(x, json_string_value(list), ret);
	json_array_foreach(list && json_is_array(list) ? list : NULL, i,
			   v) if ((r = event_bit(x, json_string_value(v), ret)) < 0) return r;
	return 0;
}

static const char *const subscribe_args[] = {"events", "rate", NULL};

static int cmd_subscribe(struct cmd_ctx *x)
{
	double rate = 10;
	unsigned events;
	int r;

	if ((r = read_events(x, false, &events)) < 0 ||
	    (r = ipc_arg_number(x->args, "rate", false, &rate, x->err)) < 0)
		return r;
	if (!(rate >= 1 && rate <= 1000))
		return ipc_error_set(x->err, IPC_ERR_BAD_ARGUMENT,
				     "argument 'rate' must be from 1 to 1000 Hz, got %g", rate);
	/* Faster than a screen would only repeat the same values: ctl_client_subscribe() caps at
	 * the server's max event rate, it does not refuse. */
	if (!x->client || ctl_client_subscribe(x->client, events, rate) < 0)
		return ipc_error_set(x->err, IPC_ERR_INTERNAL, "cannot start the event timer");
	return 0;
}

static const char *const unsubscribe_args[] = {"events", NULL};

static int cmd_unsubscribe(struct cmd_ctx *x)
{
	unsigned events;
	int r;

	if ((r = read_events(x, true, &events)) < 0)
		return r;
	if (x->client)
		ctl_client_unsubscribe(x->client, events);
	return 0;
}

static int cmd_stats(struct cmd_ctx *x)
{
	static struct eng_node_stats st[1024];
	size_t n = eng_engine_get_node_stats(x->st.engine, st, EL_N_ELEMENTS(st));

	x->result = json_array();
	for (size_t i = 0; i < n && i < EL_N_ELEMENTS(st); i++)
		json_array_append_new(x->result,
				      json_pack("{s:s, s:s, s:I, s:I, s:f}", "name", st[i].name,
						"type", st[i].type, "runs", (json_int_t)st[i].runs,
						"skips", (json_int_t)st[i].skips, "avg_us",
						st[i].avg_us));
	return 0;
}

json_t *ctl_commands_meters(void *commands)
{
	const struct ctl_host *host = ((struct ctl_commands *)commands)->host;
	struct ctl_state now;
	static const char *const values[] = {"peak_db", "rms_db", "hold_db"};
	json_t *nodes = json_object();

	host->get_state(host->ctx, &now);
	for (size_t i = 0; nodes && i < conf_get_n_sections(now.conf); i++) {
		const char *name = conf_node_name(conf_get_section(now.conf, i));
		const struct node_type *t;
		unsigned out;
		json_t *m;

		if (!name || eng_engine_get_node_info(now.engine, name, &t, NULL, &out) < 0 ||
		    strcmp(t->name, "meter") != 0)
			continue;
		m = json_object();
		for (size_t k = 0; k < EL_N_ELEMENTS(values); k++)
			for (size_t p = 0; p < t->n_params; p++)
				if (strcmp(t->params[p].name, values[k]) == 0)
					json_object_set_new(
						m, values[k],
						param_value(now.engine, name, &t->params[p], out));
		json_object_set_new(nodes, name, m);
	}
	return json_pack("{s:f, s:o}", "time", now.uptime, "nodes", nodes);
}

static const char *const stall_args[] = {"ms", NULL};

/* Hidden commands exist only with ECHOELD_TEST_HOOKS=1 and a host that can stall. */
static bool test_hooks_enabled(const struct ctl_host *host)
{
	const char *hooks = getenv("ECHOELD_TEST_HOOKS");

	return hooks && strcmp(hooks, "1") == 0 && host->test_stall;
}

/* Tests only: the RT thread stops cycling for a while (watchdog tests). */
static int cmd_debug_stall(struct cmd_ctx *x)
{
	double ms = 0;
	int r;

	if ((r = ipc_arg_number(x->args, "ms", true, &ms, x->err)) < 0)
		return r;
	if (!(ms >= 0 && ms <= 60000))
		return ipc_error_set(x->err, IPC_ERR_BAD_ARGUMENT,
				     "argument 'ms' must be 0 to 60000");
	r = x->host->test_stall(x->host->ctx, (unsigned)ms);
	if (r < 0)
		return ipc_error_set(x->err, IPC_ERR_UNKNOWN_COMMAND,
				     "unknown command 'debug.stall'");
	return 0;
}

static const char *const disk_stall_args[] = {"stalled", NULL};

/* Tests only: the disk thread stops serving players and recorders (a slow disk). */
static int cmd_debug_disk_stall(struct cmd_ctx *x)
{
	bool stalled = false;
	int r;

	if ((r = ipc_arg_bool(x->args, "stalled", true, &stalled, x->err)) < 0)
		return r;
	if (!x->host->test_disk_stall || x->host->test_disk_stall(x->host->ctx, stalled) < 0)
		return ipc_error_set(x->err, IPC_ERR_UNKNOWN_COMMAND,
				     "unknown command 'debug.disk_stall'");
	return 0;
}

static const char *const no_args[] = {NULL};
static const char *const node_get_args[] = {"node", NULL};

/*
 * Every command: its name, the arguments it takes (checked before it runs, so a command reads
 * only what its schema names) and what runs it — a function, or a graph edit, which a batch may
 * hold too. Hidden commands are left out of `hello`.
 */
static const struct command commands[] = {
	{"hello", no_args, cmd_hello, NULL, false, false},
	{"status", no_args, cmd_status, NULL, false, false},
	{"node.list", no_args, cmd_node_list, NULL, false, false},
	{"node.get", node_get_args, cmd_node_get, NULL, false, false},
	{"node.add", add_args, NULL, edit_add, true, false},
	{"node.remove", remove_args, NULL, edit_remove, true, false},
	{"connect", link_args, NULL, edit_connect, true, false},
	{"disconnect", link_args, NULL, edit_disconnect, true, false},
	{"set", set_args, cmd_set, NULL, true, false},
	{"get", get_args, cmd_get, NULL, false, false},
	{"load", load_args, cmd_load, NULL, false, false},
	{"config.dump", no_args, cmd_config_dump, NULL, false, false},
	{"config.save", save_args, cmd_config_save, NULL, false, false},
	{"reload", no_args, cmd_reload, NULL, false, false},
	{"batch", batch_args, cmd_batch, NULL, false, false},
	{"subscribe", subscribe_args, cmd_subscribe, NULL, false, false},
	{"unsubscribe", unsubscribe_args, cmd_unsubscribe, NULL, false, false},
	{"stats", no_args, cmd_stats, NULL, false, false},
	{"policy", no_args, cmd_policy, NULL, false, false},
	{"policy.set", policy_set_args, cmd_policy_set, NULL, false, false},
	{"debug.stall", stall_args, cmd_debug_stall, NULL, false, true},
	{"debug.disk_stall", disk_stall_args, cmd_debug_disk_stall, NULL, false, true},
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < EL_N_ELEMENTS(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int cmd_hello(struct cmd_ctx *x)
{
	json_t *names = json_array();

	for (size_t i = 0; i < EL_N_ELEMENTS(commands); i++)
		if (!commands[i].hidden)
			json_array_append_new(names, json_string(commands[i].name));
	x->result = json_pack("{s:i, s:s, s:o}", "protocol", IPC_PROTOCOL_VERSION, "version",
			      ECHOELD_VERSION, "commands", names);
	return 0;
}

int ctl_commands_dispatch(void *commands_, struct ctl_client *client, const struct ipc_request *req,
			  json_t **ret_result, struct ipc_error *reterr)
{
	struct ctl_commands *cmds = commands_;
	struct cmd_ctx x = {.cmds = cmds, .host = cmds->host, .client = client, .args = req->args,
			    .err = reterr};
	const struct command *entry = find_command(req->cmd);
	int r;

	/* debug.stall answers as unknown unless the tests asked for it */
	if (!entry || (entry->hidden && !test_hooks_enabled(cmds->host)))
		return ipc_error_set(reterr, IPC_ERR_UNKNOWN_COMMAND, "unknown command '%.64s'",
				     req->cmd);
	if ((r = ipc_args_check(req->args, entry->args, reterr)) < 0)
		return r;
	cmds->host->get_state(cmds->host->ctx, &x.st);
	r = entry->run ? entry->run(&x) : run_edit(&x, entry->edit);
	if (r < 0) {
		json_decref(x.result);
		return r;
	}
	*ret_result = x.result;
	return 0;
}

int ctl_commands_new(const struct ctl_host *host, struct ctl_commands **ret)
{
	struct ctl_commands *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->host = host;
	*ret = c;
	return 0;
}

struct ctl_commands *ctl_commands_free(struct ctl_commands *c)
{
	free(c);
	return NULL;
}
