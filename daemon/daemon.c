/* SPDX-License-Identifier: MIT */
/*
 * daemon/daemon.c: `echoeld` in the foreground — the control thread's main loop (sd-event):
 * signals (SIGHUP reloads, SIGINT/SIGTERM stop after a fade), and a timer that drains the RT
 * thread's events into the log, rate-limited.
 */
#include <errno.h>
#include <malloc.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-pace.h"
#include "common/el-macros.h"
#include "daemon/backend/backend.h"
#include "daemon/backend/modules.h"
#include "daemon/config/config.h"
#include "daemon/control/commands.h"
#include "daemon/control/server.h"
#include "daemon/daemon.h"
#include "daemon/disk/disk.h"
#include "daemon/disk/samples.h"
#include "daemon/engine/engine.h"
#include "daemon/engine/node.h"
#include "daemon/fir-layouts.h"
#include "daemon/log.h"
#include "daemon/media-events.h"
#include "daemon/power/policy.h"
#include "daemon/proc-cost.h"
#include "daemon/setup.h"
#include "daemon/systemd.h"
#include "daemon/wisdom.h"
#include "ipc/socket-path.h"

/* Events are drained ten times a second while cycles run: prompt enough for logs. */
#define TICK_USEC 100000
/*
 * While the own clock is stopped over a silent graph there is nothing to drain: housekeeping
 * then runs every 2 s (or at a quarter of the watchdog interval, if shorter), so that an idle
 * daemon wakes less than once a second. Anything the control loop does pulls it in (on_post).
 */
#define IDLE_TICK_USEC 2000000
/* Late cycles are summarized at most this often, so a struggling machine is not also flooded. */
#define LATE_REPORT_USEC 5000000

/* The running daemon. Thread: control only. */
struct daemon {
	sd_event *event;
	struct setup_config cfg; /* the running configuration (conf, path, base_dir, settings) */
	struct eng_engine *engine;
	const struct be_ops *be_ops;
	void *be;
	struct ctl_server *ctl;      /* the control socket, or NULL */
	const char *socket_override; /* --socket, or NULL */
	uint64_t started_usec;       /* CLOCK_MONOTONIC at start, for uptime */
	struct sysd_state sysd;      /* sd_notify and watchdog state */
	uint64_t late_count;         /* late cycles since the last report */
	double late_worst_ns;
	uint64_t late_reported_at;

	struct ctl_commands *commands; /* what the control socket's requests run */
	struct ctl_host host;          /* the commands' way back to this daemon */
	struct pwr_policy *power;      /* the power and heat policy (running or not) */
	bool wisdom_pending; /* FFTW wisdom to save once background work may run */
	/* the running configuration's file is one a client named with `load`: what it names is
	 * a client's, opened only beneath [ipc] file_dirs, also when SIGHUP reads it again */
	bool config_from_client;
	struct disk *disk;             /* the disk thread: players' streams (disk/disk.h) */
	struct media_events *media;    /* players' and recorders' events (media-events.h) */
	struct fir_layouts *layouts;   /* convolver layouts measured here (fir-layouts.h) */
	struct eng_event clips[8]; /* clipping outputs seen this tick, the latest of each */
	size_t n_clips;
	uint64_t clip_logged_at; /* µs of the last clip log lines */
	sd_event_source *tick;   /* borrowed: the housekeeping timer (floating, the loop's) */
	struct pcost_meter cost; /* what the daemon costs, sampled when status or load asks */
	bool tick_idle;          /* the tick is set IDLE_TICK_USEC ahead */
	bool be_away;            /* the backend's server or device is away (the last tick saw) */
	uint32_t tick_wakes;     /* eng_engine_get_wakes() when it was */
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static const char *graph_name(const struct setup_config *c)
{
	return c->path ? c->path : "the built-in default graph";
}

static void lock_memory(bool wanted)
{
	struct rlimit rl;
	int flags = MCL_CURRENT | MCL_FUTURE;

	if (!wanted)
		return;
	/*
	 * With a finite RLIMIT_MEMLOCK, MCL_FUTURE would make every later allocation past the limit
	 * fail (a reload would then run out of memory): lock what exists and no more.
	 */
	if (geteuid() != 0 && getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		flags = MCL_CURRENT;
	if (mlockall(flags) < 0)
		log_warning("cannot lock memory (%s): audio may glitch when memory is paged out; "
			    "raise LimitMEMLOCK= or run with CAP_IPC_LOCK",
			    strerror(errno));
	else if (flags == MCL_CURRENT)
		log_notice("memory locked, but only what is allocated now (RLIMIT_MEMLOCK is "
			   "finite): memory allocated by a reload is not locked");
}

/*
 * Saves FFTW wisdom (new transform sizes were planned) now, or once the power policy lets
 * low-priority background work run again.
 */
static void save_wisdom(struct daemon *d)
{
	d->wisdom_pending = !pwr_policy_background_allowed(d->power);
	if (!d->wisdom_pending)
		wisdom_save();
}

static void daemon_ports_changed(struct daemon *d)
{
	struct el_error err = {0};

	if (d->be && d->be_ops->ports_changed && d->be_ops->ports_changed(d->be, &err) < 0)
		log_warning("%s: cannot update the ports: %s", d->be_ops->name, err.message);
}

/* What follows every switch to another graph, by a reload or by a command's edit. */
static void graph_switched(struct daemon *d)
{
	struct eng_stats st;

	save_wisdom(d); /* a new FIR may have planned a new size */
	daemon_ports_changed(d);
	eng_engine_get_stats(d->engine, false, &st);
	ctl_server_broadcast(d->ctl, CTL_EVENT_GRAPH, "graph", json_pack("{s:i}", "nodes", st.nodes));
}

/* The commands' apply (commands.h): next (taken) becomes the running configuration. */
static int apply_config(void *ctx, struct conf *next, const struct eng_param_set *sets,
			size_t n_sets, struct el_error *reterr)
{
	struct daemon *d = ctx;
	int r = eng_engine_configure_batch(d->engine, next, d->cfg.base_dir, sets, n_sets, reterr);

	if (r < 0) {
		conf_free(next);
		return r;
	}
	/* The plans own what they need; the new conf is kept to edit and diff against. */
	conf_free(d->cfg.conf);
	d->cfg.conf = next;
	graph_switched(d);
	return 0;
}

/* The power policy's actions (power/policy.h): what they scale belongs to the daemon. */
static void apply_power(void *userdata, const struct pol_actions *a, bool decided)
{
	struct daemon *d = userdata;
	/* the policy's tier and FIR cut, engine-wide: every node maps them onto its own knobs */
	struct eng_quality q = {.tier = a->quality == POL_QUALITY_LOW	   ? ENG_QUALITY_LOW
					: a->quality == POL_QUALITY_MEDIUM ? ENG_QUALITY_MEDIUM
									   : ENG_QUALITY_HIGH,
				.fir_tail_db = a->fir_trunc_db};
	int r;

	if ((r = eng_engine_set_workers(d->engine, a->workers)) < 0)
		log_warning("policy: cannot run %u worker threads: %s, ignoring", a->workers,
			    strerror(-r));
	eng_engine_set_quality(d->engine, &q);
	/* decoding a waiting player's file ahead is low-priority background work (docs/policy.md)
	 */
	eng_engine_set_prefetch(d->engine, pwr_policy_background_allowed(d->power));
	if (d->ctl)
		ctl_server_set_max_event_rate(d->ctl, a->meter_hz);
	if (!decided)
		return;
	ctl_server_broadcast(d->ctl, CTL_EVENT_POLICY, "policy", pwr_policy_json(d->power));
	if (d->wisdom_pending && pwr_policy_background_allowed(d->power))
		save_wisdom(d);
}

static const struct pwr_hooks power_hooks = {.apply = apply_power};

/*
 * The engine's preparation pacer (common/el-pace.h): the policy may throttle IR preparation.
 * This runs on the event loop, which does not tick while it prepares: a long throttled
 * preparation (a reload with many long IRs) must not look like a hang to the watchdog. The
 * tick still pings only if the running engine's cycles moved. No engine: it is being built (a
 * start or restart), and systemd's start timeout covers that.
 */
static void pace_preparation(void *ctx, uint64_t work_ns)
{
	struct daemon *d = ctx;

	if (pwr_policy_pace_preparation(d->power, work_ns) && d->engine && d->be_ops)
		sysd_tick(&d->sysd, d->engine, d->be_ops->name, false, el_pace_now_ns() / 1000u);
}

/* ---- what the control socket's commands see of the daemon (control/commands.h) ---- */

static void get_state(void *ctx, struct ctl_state *ret)
{
	struct daemon *d = ctx;

	*ret = (struct ctl_state){
		.engine = d->engine,
		.conf = d->cfg.conf,
		.config_path = d->cfg.path,
		.base_dir = d->cfg.base_dir,
		.backend = d->be_ops ? d->be_ops->name : "none",
		.uptime = (double)(now_usec() - d->started_usec) / 1e6,
		.server = d->ctl,
		.power = d->power,
		.layout_search_ms = d->layouts ? fir_layouts_get_last_search_ms(d->layouts) : 0.0,
	};
	if (d->disk) {
		struct disk_cache_stats cs;

		disk_get_cache_stats(d->disk, &cs);
		ret->disk_io = disk_get_method(d->disk);
		ret->cache_lookups = cs.lookups;
		ret->cache_hits = cs.hits;
		ret->cache_bytes = cs.bytes;
		ret->cache_samples = cs.samples;
		ret->cache_held = cs.held;
		ret->cache_evictions = cs.evictions;
		ret->cache_budget = cs.budget;
	}
}

static int test_disk_stall(void *ctx, bool stalled)
{
	struct daemon *d = ctx;

	if (!d->disk)
		return -EOPNOTSUPP;
	disk_set_stalled(d->disk, stalled);
	return 0;
}

static int get_cost(void *ctx, struct pcost_figures *ret)
{
	struct daemon *d = ctx;

	return pcost_meter_get(&d->cost, eng_engine_get_rt_thread(d->engine), ret);
}

static int test_stall(void *ctx, unsigned ms)
{
	struct daemon *d = ctx;

	if (!d->be_ops || !d->be_ops->test_stall)
		return -EOPNOTSUPP;
	d->be_ops->test_stall(d->be, ms);
	return 0;
}

static const struct ctl_server_hooks server_hooks = {
	.dispatch = ctl_commands_dispatch,
	.meters = ctl_commands_meters,
	.load = ctl_commands_load,
};

/* (Re)starts the power policy with the running configuration's [policy]. */
static int start_policy(struct daemon *d, struct el_error *reterr)
{
	return pwr_policy_start(d->power, &d->cfg.policy, d->cfg.settings.workers, reterr);
}

static void warn_to_log(void *ctx, const char *message)
{
	(void)ctx;
	log_warning("%s", message);
}

static int reload_config(struct daemon *d, const char *path, struct el_error *reterr)
{
	struct el_error perr = {0};
	struct setup_config next = {0};
	/* only `load` names a path: a client's file, and what it names is the client's too */
	bool client = path || d->config_from_client;
	int r = setup_config_load_beneath(
		path ? path : d->cfg.path,
		client ? (const char *const *)ctl_server_get_settings(d->ctl)->file_dirs : NULL,
		&next, reterr);

	if (r == 0 && client)
		conf_mark_client(next.conf, NULL);
	if (r == 0) {
		if (next.settings.rate != d->cfg.settings.rate ||
		    next.settings.block != d->cfg.settings.block ||
		    next.settings.pool_buffers != d->cfg.settings.pool_buffers)
			log_warning("[engine] rate, block and pool_buffers take effect on restart; "
				    "keeping %u Hz, block %u",
				    d->cfg.settings.rate, d->cfg.settings.block);
		r = eng_engine_configure(d->engine, next.conf, next.base_dir, reterr);
	}
	if (r < 0) {
		setup_config_done(&next);
		return r;
	}
	/* The policy keeps running (its hysteresis, dwell and last reading with it) unless
	 * [policy] or the worker cap changed (or it is not running: a failed start is tried
	 * again): a restarted one decides afresh from one reading,
	 * so a battery at 78 % after a reload would turn "unrestricted" into "normal". */
	bool policy_same = dpol_settings_equal(&next.policy, &d->cfg.policy) &&
			   next.settings.workers == d->cfg.settings.workers &&
			   (pwr_policy_is_running(d->power) || !next.policy.enabled);
	if (next.settings.workers != d->cfg.settings.workers &&
	    eng_engine_set_workers(d->engine, next.settings.workers) < 0)
		log_warning("cannot start %u worker threads, ignoring", next.settings.workers);
	/* Engine-level settings stay what the engine runs with. */
	next.settings.rate = d->cfg.settings.rate;
	next.settings.block = d->cfg.settings.block;
	next.settings.pool_buffers = d->cfg.settings.pool_buffers;
	setup_config_done(&d->cfg);
	d->cfg = next;
	d->config_from_client |= path != NULL;
	disk_set_memory_budget(d->disk, d->cfg.cache_memory_bytes);
	setup_config_warn(&d->cfg, d->engine, warn_to_log, NULL);
	log_info("reloaded %s", graph_name(&d->cfg));
	/* [policy] changed: restart the thread with it (overrides set over the socket stay); the
	 * engine keeps what was applied until the new thread's first reading */
	if (!policy_same && start_policy(d, &perr) < 0)
		log_warning("policy: %s; running without it", perr.message);
	graph_switched(d);
	return 0;
}

/* systemd sees RELOADING=1 ... READY=1 around every reload, refused or not. */
static int reload(void *ctx, const char *path, struct el_error *reterr)
{
	struct daemon *d = ctx;
	int r;

	sysd_notify_reloading(&d->sysd);
	r = reload_config(d, path, reterr);
	sysd_notify_reloaded(&d->sysd);
	return r;
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;
	struct el_error err = {0};

	(void)s, (void)si;
	if (reload(d, NULL, &err) < 0)
		log_error("reload failed, the running graph is unchanged: %s", err.message);
	return 0; /* a failed reload must not disable the signal source */
}

static int on_stop(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	(void)s;
	log_info("received %s, stopping", strsignal((int)si->ssi_signo));
	sysd_notify_stopping();
	return sd_event_exit(d->event, 0);
}

/*
 * An output that keeps clipping reports every cycle (about 190 events a second): gather them
 * per tick, one per node, the latest count; sent by report_clips().
 */
static void note_clip(struct daemon *d, const struct eng_event *ev)
{
	size_t i = 0;

	while (i < d->n_clips && d->clips[i].inst_id != ev->inst_id)
		i++;
	if (i == d->n_clips) {
		if (d->n_clips == EL_N_ELEMENTS(d->clips))
			return; /* more outputs clipping in one tick: the next tick tells */
		d->n_clips++;
	}
	d->clips[i] = *ev;
}

/* One clip event per clipping output and tick; a log line per output at most every 5 s. */
static void report_clips(struct daemon *d, uint64_t now)
{
	bool log_now = now - d->clip_logged_at >= LATE_REPORT_USEC;

	for (size_t i = 0; i < d->n_clips; i++) {
		const char *name = eng_engine_get_node_name(d->engine, d->clips[i].inst_id);

		if (log_now)
			log_warning("output '%s' clipped (%.0f samples so far)", name ? name : "?",
				    d->clips[i].value);
		ctl_server_broadcast(d->ctl, CTL_EVENT_CLIP, "clip",
				     json_pack("{s:s, s:f}", "node", name ? name : "?", "clips",
					       d->clips[i].value));
	}
	if (log_now && d->n_clips)
		d->clip_logged_at = now;
	d->n_clips = 0;
}

static void handle_event(struct daemon *d, const struct eng_event *ev, uint64_t now)
{
	switch (ev->type) {
	case ENG_EVENT_LATE_CYCLE:
		d->late_count++;
		if (ev->value > d->late_worst_ns)
			d->late_worst_ns = ev->value;
		ctl_server_broadcast(d->ctl, CTL_EVENT_LATE, "late",
				     json_pack("{s:f}", "late_ms", ev->value / 1e6));
		break;
	case ENG_EVENT_XRUN:
		/* JACK's xrun callback gives its delay; an ALSA device's recovery gives none */
		if (ev->value > 0)
			log_warning("xrun reported by %s (%.0f µs)", d->be_ops->name, ev->value);
		else
			log_warning("xrun reported by %s", d->be_ops->name);
		ctl_server_broadcast(d->ctl, CTL_EVENT_XRUN, "xrun",
				     json_pack("{s:f}", "delay_us", ev->value));
		break;
	case ENG_EVENT_CLIP:
		note_clip(d, ev);
		break;
	case ENG_EVENT_LATE_LEVEL:
		log_warning("a worker thread held the audio cycle up %.2f ms past its period; "
			    "levels run on the audio thread alone for a second",
			    ev->value / 1e6);
		ctl_server_broadcast(d->ctl, CTL_EVENT_LATE, "late_level",
				     json_pack("{s:f}", "late_ms", ev->value / 1e6));
		break;
	case ENG_EVENT_PLAN:
		log_debug("the real-time thread runs a new plan of %.0f nodes", ev->value);
		break;
	default:
		break;
	}
	if (d->late_count && now - d->late_reported_at >= LATE_REPORT_USEC) {
		log_warning("%" PRIu64 " late cycles (worst %.2f ms late)", d->late_count,
			    d->late_worst_ns / 1e6);
		d->late_count = 0;
		d->late_worst_ns = 0;
		d->late_reported_at = now;
	}
}

static int open_backend(struct daemon *d, const struct be_ops *ops, struct el_error *err);
static int start_engine(struct daemon *d, struct el_error *err);

/*
 * The server changed its rate or block: rebuild the engine for the new ones from the running
 * configuration, keeping the control socket and its clients. The graph restarts from silence.
 * A backend that can report the new format keeps its client, ports and connections; any other
 * is reopened.
 */
static void restart_engine(struct daemon *d)
{
	struct el_error err = {0};
	uint32_t rate = d->cfg.settings.rate, block = d->cfg.settings.block;
	const struct be_ops *ops = d->be_ops;
	int r;

	d->be_ops->stop(d->be);
	if (ops->get_format) {
		r = ops->get_format(d->be, &d->cfg.settings.rate, &d->cfg.settings.block, &err);
	} else {
		d->be_ops->destroy(d->be);
		d->be = NULL;
		r = open_backend(d, ops, &err);
	}
	d->engine = eng_engine_free(d->engine);
	if (r < 0 || start_engine(d, &err) < 0) {
		log_error("cannot restart after the server changed from %u Hz, block %u: %s", rate,
			  block, err.message);
		sd_event_exit(d->event, -EIO);
		return;
	}
	log_notice("restarted the engine at %u Hz, block %u", d->cfg.settings.rate,
		   d->cfg.settings.block);
	/* the new engine runs as configured: let a fresh reading apply the policy to it */
	if (start_policy(d, &err) < 0)
		log_warning("policy: %s; running without it", err.message);
}

/*
 * Work nodes deferred that is due now (engine.h: eng_engine_wants_update): a waiting player asked
 * to play, or prefetch allowed again. The same configuration built again lets them do it; every
 * other node is kept as it runs. A failure is logged once: the node does not ask again.
 */
static void run_deferred(struct daemon *d)
{
	struct el_error err = {0};

	if (!eng_engine_wants_update(d->engine, d->cfg.base_dir))
		return;
	if (eng_engine_configure(d->engine, d->cfg.conf, d->cfg.base_dir, &err) < 0)
		log_warning("cannot decode a waiting player's file: %s", err.message);
	else
		log_info("decoded a waiting player's file, deferred until now");
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	struct eng_event ev;

	while (eng_engine_read_event(d->engine, &ev) == 0)
		handle_event(d, &ev, usec);
	report_clips(d, usec);
	media_events_tick(d->media, d->engine, d->ctl);
	run_deferred(d);
	enum be_state state = d->be_ops->tick ? d->be_ops->tick(d->be) : BE_STATE_RUNNING;

	if (state == BE_STATE_RESTART)
		restart_engine(d);
	if ((state == BE_STATE_DISCONNECTED) != d->be_away) {
		/* a client showing the audio path hears of it, as the log says it */
		d->be_away = state == BE_STATE_DISCONNECTED;
		ctl_server_broadcast(d->ctl, CTL_EVENT_BACKEND, "backend",
				     json_pack("{s:s, s:s}", "backend", d->be_ops->name, "state",
					       d->be_away ? "away" : "running"));
	}
	sysd_tick(&d->sysd, d->engine, d->be_ops->name, state == BE_STATE_DISCONNECTED, usec);
	d->tick_idle = eng_engine_is_asleep(d->engine);
	if (!d->tick_idle)
		return sd_event_source_set_time(s, usec + TICK_USEC);
	uint64_t idle = d->sysd.watchdog_usec ? EL_MIN(IDLE_TICK_USEC, d->sysd.watchdog_usec / 4)
					      : IDLE_TICK_USEC;

	d->tick_wakes = eng_engine_get_wakes(d->engine);
	return sd_event_source_set_time(s, usec + EL_MAX(idle, TICK_USEC));
}

/*
 * After each pass of the loop: if it woke the stopped engine (a request published a plan or
 * queued a change), housekeeping goes back to TICK_USEC pace at once, so the events of the
 * sound that follows are not held back; the next tick slows it again if the clock stops.
 */
static int on_post(sd_event_source *s, void *userdata)
{
	struct daemon *d = userdata;
	uint64_t now;

	(void)s;
	if (!d->tick_idle || eng_engine_get_wakes(d->engine) == d->tick_wakes ||
	    sd_event_now(d->event, CLOCK_MONOTONIC, &now) < 0)
		return 0;
	d->tick_idle = false;
	return sd_event_source_set_time(d->tick, now + TICK_USEC);
}

/* Opens one backend; on success the engine settings follow what it asks for. */
static int open_backend(struct daemon *d, const struct be_ops *ops, struct el_error *err)
{
	uint32_t rate = d->cfg.settings.rate, block = d->cfg.settings.block;
	int r = ops->open(d->cfg.conf, &d->be, &rate, &block, err);

	if (r < 0)
		return r;
	if (rate != d->cfg.settings.rate || block != d->cfg.settings.block)
		log_info("%s runs at %u Hz, block %u: the engine follows", ops->name, rate, block);
	d->be_ops = ops;
	d->cfg.settings.rate = rate;
	d->cfg.settings.block = block;
	return 0;
}

/* Opens the backend of that name, its module loaded first when it has one (modules.h). */
static int open_named_backend(struct daemon *d, const char *name, struct el_error *err)
{
	const struct be_ops *ops;
	int r = be_modules_get(name, &ops, err);

	return r < 0 ? r : open_backend(d, ops, err);
}

/*
 * auto: JACK if a server answers, else PipeWire if one answers, else the ALSA device of [alsa]
 * (`default` unless set) if it opens, else the own clock; the log says why each was passed (a
 * module that does not load is passed like a server that does not answer).
 */
static int choose_backend(struct daemon *d, int override, struct el_error *err)
{
	enum eng_backend_kind kind =
		override >= 0 ? (enum eng_backend_kind) override : d->cfg.settings.backend;
	const struct be_ops *alsa;
	struct el_error why = {0};

	switch (kind) {
	case ENG_BACKEND_AUTO:
		if (open_named_backend(d, "jack", &why) == 0)
			return 0;
		log_info("backend auto: no JACK server (%s)", why.message);
		if (open_named_backend(d, "pipewire", &why) == 0)
			return 0;
		log_info("backend auto: no PipeWire either (%s)", why.message);
		if (be_modules_get("alsa", &alsa, &why) == 0) {
			/* a mistake in [alsa] is the configuration's, not a missing device */
			if (alsa->check_config(d->cfg.conf, err) < 0)
				return -EINVAL;
			if (open_backend(d, alsa, &why) == 0)
				return 0;
		}
		log_info("backend auto: no ALSA device either (%s), using the own clock",
			 why.message);
		/* fall through */
	case ENG_BACKEND_DUMMY:
		return open_backend(d, &be_dummy_ops, err);
	case ENG_BACKEND_JACK:
	case ENG_BACKEND_ALSA:
	case ENG_BACKEND_PIPEWIRE:
		return open_named_backend(d, eng_backend_names[kind], err);
	default:
		return el_error_set(err, -EINVAL, "no backend of kind %d", (int)kind);
	}
}

/*
 * Says at start, once, that dir (made when first needed) cannot be written: a read-only state
 * directory costs what `consequence` says, never the audio.
 */
static void warn_unwritable(const char *dir, const char *what, const char *consequence)
{
	char parent[PATH_MAX];
	const char *check = dir;
	char *slash;

	if (access(dir, F_OK) < 0) { /* not made yet: could it be? */
		snprintf(parent, sizeof(parent), "%s", dir);
		slash = strrchr(parent, '/');
		if (!slash || slash == parent)
			return;
		*slash = '\0';
		check = parent;
	}
	if (access(check, W_OK | X_OK) < 0)
		log_warning("%s '%s' cannot be written ('%s': %s): %s", what, dir, check,
			    strerror(errno), consequence);
}

/* The disk thread, its sample cache in the state directory (docs/config.md, [cache]). */
static int start_disk(struct daemon *d, struct el_error *err)
{
	char cache[PATH_MAX], recordings[PATH_MAX];
	const char *unit_cache = getenv("CACHE_DIRECTORY"); /* systemd's CacheDirectory= */
	bool have_cache = unit_cache && unit_cache[0] == '/'
				  /* several may be given, separated by ':': ours is the first */
				  ? snprintf(cache, sizeof(cache), "%.*s", (int)strcspn(unit_cache, ":"),
					     unit_cache) < (int)sizeof(cache)
				  : wisdom_state_path(DISK_CACHE_DIR_NAME, cache, sizeof(cache)) == 0;
	bool have_rec = wisdom_state_path(DISK_RECORDINGS_DIR_NAME, recordings,
					  sizeof(recordings)) == 0;
	int r = disk_new(have_cache ? cache : NULL, have_rec ? recordings : NULL, &d->disk, err);

	if (r < 0)
		return r;
	log_info("disk: %s, sample cache %s, recordings in %s", disk_get_method(d->disk),
		 have_cache ? cache : "none (no state directory): decoded files are used once",
		 have_rec ? recordings : "the working directory");
	if (have_cache)
		warn_unwritable(
			cache, "the sample cache",
			"decoded files and resampled IRs are kept only while they are used");
	if (have_rec)
		warn_unwritable(recordings, "the recordings directory",
				"recordings with a relative file name will fail");
	return 0;
}

/* Builds the engine for the backend's rate and block, and starts the cycle. */
static int start_engine(struct daemon *d, struct el_error *err)
{
	/* IR preparation is the policy's high-priority background work (docs/policy.md) */
	struct el_pacer pacer = {.pace = pace_preparation, .ctx = d};
	struct eng_fir_planner planner = fir_layouts_get_planner(d->layouts);
	int r = setup_engine(&d->cfg, &pacer, &planner, d->disk, &d->engine, err);

	if (r < 0)
		return r;
	/* files clients name open only beneath [ipc] file_dirs (daemon/fs/beneath.h) */
	if ((r = eng_engine_set_file_dirs(
		     d->engine, (const char *const *)ctl_server_get_settings(d->ctl)->file_dirs)) <
	    0)
		return el_error_set(err, r, "out of memory");
	/* its first graph decoded every file: the policy's first reading comes later */
	eng_engine_set_prefetch(d->engine, pwr_policy_background_allowed(d->power));
	lock_memory(d->cfg.settings.lock_memory);
	return d->be_ops->start(d->be, d->engine, err);
}

static int daemon_setup_loop(struct daemon *d)
{
	sd_event_source *tick = NULL;
	uint64_t now;
	int r;

	if ((r = sd_event_add_signal(d->event, NULL, SIGHUP, on_reload, d)) < 0 ||
	    (r = sd_event_add_signal(d->event, NULL, SIGTERM, on_stop, d)) < 0 ||
	    (r = sd_event_add_signal(d->event, NULL, SIGINT, on_stop, d)) < 0 ||
	    (r = sd_event_now(d->event, CLOCK_MONOTONIC, &now)) < 0)
		return r;
	if ((r = sd_event_add_time(d->event, &tick, CLOCK_MONOTONIC, now + TICK_USEC, 0, on_tick,
				   d)) < 0)
		return r;
	/* A time source fires once by default; on_tick re-arms it, so keep it enabled. */
	r = sd_event_source_set_enabled(tick, SD_EVENT_ON);
	sd_event_source_set_floating(tick, 1); /* owned by the loop */
	sd_event_source_unref(tick);
	d->tick = tick;
	return r < 0 ? r : sd_event_add_post(d->event, NULL, on_post, d);
}

/*
 * On the own clock nothing reaches a sound card: a first user who hears nothing should read
 * why, and where echoelctl finds the daemon, rather than guess.
 */
static void log_where_sound_goes(const struct daemon *d)
{
	const struct conf_entry *f =
		conf_section_find(conf_find_section(d->cfg.conf, "dummy"), "capture_file");
	const char *path = ctl_server_get_path(d->ctl);
	char sock[IPC_SOCKET_PATH_MAX + 32];

	if (path)
		snprintf(sock, sizeof(sock), "'%s'", path);
	else
		snprintf(sock, sizeof(sock), "passed by systemd");
	if (d->be_ops == &be_dummy_ops)
		log_notice("own clock (backend dummy, no sound card or server): playback is "
			   "discarded, capture %s%s%s; control socket %s",
			   f ? "plays '" : "is silence", f ? f->value : "", f ? "'" : "", sock);
	else
		log_info("control socket %s", sock);
}

static int daemon_start(struct daemon *d, const struct daemon_options *o, struct el_error *err)
{
	struct ctl_settings ctl = {0};
	struct eng_stats st;
	int r;

	if ((r = setup_config_load(o->config_path, &d->cfg, err)) < 0 ||
	    (r = choose_backend(d, o->backend, err)) < 0)
		return r;
	if ((r = ctl_settings_from_conf(d->cfg.conf, o->socket_path, &ctl, err)) < 0 ||
	    (r = ctl_server_new(d->event, sysd_listen_fd(), d->started_usec, &server_hooks,
				d->commands, &ctl, &d->ctl, err)) < 0) {
		ctl_settings_done(&ctl);
		return r;
	}
	wisdom_load(); /* before the engine plans its transforms */
	if ((r = fir_layouts_new(NULL, &d->layouts)) < 0)
		return el_error_set(err, r, "out of memory");
	if ((r = start_disk(d, err)) < 0)
		return r;
	disk_set_memory_budget(d->disk, d->cfg.cache_memory_bytes);
	if ((r = media_events_new(&d->media)) < 0)
		return el_error_set(err, r, "out of memory");
	if ((r = start_engine(d, err)) < 0)
		return r;
	setup_config_warn(&d->cfg, d->engine, warn_to_log, NULL);
	save_wisdom(d);
	if ((r = start_policy(d, err)) < 0)
		return r;
	if (!d->be_ops->is_realtime(d->be))
		log_warning(
			"no real-time scheduling (SCHED_FIFO refused): audio may drop out under "
			"load; grant CAP_SYS_NICE or LimitRTPRIO=");
	eng_engine_get_stats(d->engine, false, &st);
	if (st.workers > 0 && !st.workers_realtime)
		log_warning("%u worker threads cannot run real-time below the audio thread: every "
			    "level runs on the audio thread itself",
			    st.workers);
	log_info("running %s: backend %s, %u Hz, block %u (%.1f ms), %u nodes, %u in / %u out, "
		 "%u workers",
		 graph_name(&d->cfg), d->be_ops->name, d->cfg.settings.rate, d->cfg.settings.block,
		 1000.0 * d->cfg.settings.block / d->cfg.settings.rate, st.nodes,
		 eng_engine_get_capture_channels(d->engine),
		 eng_engine_get_playback_channels(d->engine), st.workers);
	log_where_sound_goes(d);
	return 0;
}

/*
 * Large blocks (an IR's spectra, a convolver's delay lines: hundreds of KiB to MiB) always get
 * a mapping of their own, given back to the kernel when freed. glibc would otherwise raise its
 * mmap threshold to the size of each mapped block freed, and from then on serve such blocks
 * from the heap, whose free space a daemon that swaps IRs keeps and fragments: RSS then wanders
 * by a MiB and more over a minute of reloads (bench/soak). Setting the threshold turns that
 * adjustment off; 128 KiB is glibc's own starting value.
 */
static void keep_large_blocks_mapped(void)
{
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

int daemon_run(const struct daemon_options *o)
{
	struct daemon d = {0};
	struct el_error err = {0};
	sigset_t mask;
	int r;

	keep_large_blocks_mapped();
	/* Block the signals sd-event handles before any thread exists, so all inherit the mask. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d.started_usec = now_usec();
	d.host = (struct ctl_host){.ctx = &d,
				   .get_state = get_state,
				   .get_cost = get_cost,
				   .apply = apply_config,
				   .reload = reload,
				   .test_stall = test_stall,
				   .test_disk_stall = test_disk_stall};
	sysd_init(&d.sysd);
	r = sd_event_default(&d.event); /* 1: newly made, as it is here */
	if (r < 0)
		el_error_set(&err, r, "cannot create the main loop: %s", strerror(-r));
	else if ((r = pwr_policy_new(d.event, &power_hooks, &d, &d.power)) < 0 ||
		 (r = ctl_commands_new(&d.host, &d.commands)) < 0)
		el_error_set(&err, r, "out of memory");
	if (r >= 0)
		r = daemon_start(&d, o, &err);
	if (r == 0 && (r = daemon_setup_loop(&d)) < 0)
		el_error_set(&err, r, "cannot set up the main loop: %s", strerror(-r));
	if (r == 0) {
		struct pcost_figures unused;

		/* the first window of `status`'s cost starts here, every thread running */
		(void)pcost_meter_get(&d.cost, eng_engine_get_rt_thread(d.engine), &unused);
		r = sd_event_loop(d.event);
	}
	if (r < 0)
		log_error("%s", err.message[0] ? err.message : strerror(-r));
	else
		ctl_server_announce_stop(d.ctl);
	d.power = pwr_policy_free(d.power);
	d.ctl = ctl_server_free(d.ctl);
	d.commands = ctl_commands_free(d.commands);
	if (d.engine && d.be && eng_engine_fade_out(d.engine) < 0)
		log_warning("could not fade out before stopping");
	if (d.be)
		d.be_ops->destroy(d.be);
	eng_engine_free(d.engine);
	fir_layouts_free(d.layouts); /* after the engine: its planner points here */
	disk_free(d.disk);           /* after the engine: its players read through it */
	media_events_free(d.media);
	setup_config_done(&d.cfg);
	sd_event_unref(d.event);
	return r < 0 ? 1 : 0;
}

/*
 * Every backend's section of conf, whichever runs: a mistake in one is a mistake. A backend
 * whose module does not load can check nothing: that is an error only when conf has its section.
 */
static int check_backend_sections(const struct conf *conf, struct el_error *err)
{
	static const char *const names[] = {"dummy", "jack", "pipewire", "alsa"};

	for (size_t i = 0; i < EL_N_ELEMENTS(names); i++) {
		const struct be_ops *ops;
		struct el_error why = {0};
		int r = be_modules_get(names[i], &ops, &why);

		if (r < 0 && conf_find_section(conf, names[i]))
			return el_error_set(err, r, "cannot check [%s]: %s", names[i], why.message);
		if (r == 0 && (r = ops->check_config(conf, err)) < 0)
			return r;
	}
	return 0;
}

int daemon_check_config(const char *path)
{
	struct setup_config c = {0};
	struct eng_engine *e = NULL;
	struct el_error err = {0};
	int r = setup_config_load(path, &c, &err);

	if (r == 0)
		/* uniform: checking needs no search; files are decoded, never played */
		r = setup_engine(&c, NULL, NULL, NULL, &e, &err);
	if (r == 0) {
		struct ctl_settings ctl = {0};

		r = ctl_settings_from_conf(c.conf, NULL, &ctl, &err); /* [ipc] too */
		ctl_settings_done(&ctl);
	}
	if (r == 0)
		r = check_backend_sections(c.conf, &err);
	if (r < 0) {
		log_error("%s", err.message);
	} else {
		setup_config_warn(&c, e, warn_to_log, NULL);
		log_info("%s: configuration is valid", graph_name(&c));
	}
	eng_engine_free(e);
	setup_config_done(&c);
	return r < 0 ? 1 : 0;
}
