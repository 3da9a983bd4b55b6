/* SPDX-License-Identifier: MIT */
/*
 * daemon/power/policy.c: the control thread's side of the power and heat policy — take the policy
 * thread's snapshots, apply the actions, log and announce them, and show them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-event.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "common/el-pace.h"
#include "daemon/config/value.h"
#include "daemon/config/config.h"
#include "daemon/backend/backend.h"
#include "daemon/control/server.h"
#include "daemon/daemon-private.h"
#include "daemon/engine/engine.h"
#include "daemon/log.h"
#include "daemon/power/thread.h"
#include "daemon/power/policy.h"
#include "ipc/protocol.h"

/* A reader failing for the first time since it last worked, once per reader. */
static void log_reader_error(const struct dpol_snapshot *s, const char *what, int r)
{
	if (r < 0 && (s->flags & POL_ERROR_FIRST))
		log_warning("policy: cannot read the %s: %s; keeping the last decision", what,
			    strerror(-r));
}

static void log_reader_errors(const struct dpol_snapshot *s)
{
	log_reader_error(s, "power supplies", s->decision.power_error);
	log_reader_error(s, "platform profile", s->decision.profile_error);
	log_reader_error(s, "thermal zones", s->decision.thermal_error);
	if (s->flags & POL_RECOVERED)
		log_notice("policy: reading sysfs works again");
}

/* Workers are capped by [engine] workers: the policy only ever scales the configured count down. */
static uint32_t workers_for(const struct daemon *d, const struct pol_actions *a)
{
	return EL_MIN(d->cfg.settings.workers, a->workers);
}

/*
 * Every fir node of the running graph gets tail_db (its node type fades the change). Nodes
 * added later start with the whole IR: daemon_policy_graph_changed() calls this again.
 */
static void apply_fir_tail(struct daemon *d, int tail_db)
{
	size_t n = conf_get_n_sections(d->cfg.conf);

	for (size_t i = 0; i < n; i++) {
		const struct conf_section *sec = conf_get_section(d->cfg.conf, i);
		const char *type = conf_get_string(sec, "type", "");
		struct el_error err = {0};

		if (strncmp(sec->name, "node.", 5) || strcmp(type, "fir"))
			continue;
		if (eng_engine_set_param(d->engine, sec->name + 5, "tail_db", tail_db, &err) < 0)
			log_warning("policy: %s: cannot cut the FIR tail at %d dB: %s, ignoring",
				    sec->name + 5, tail_db, err.message);
	}
}

static void apply_actions(struct daemon *d, const struct pol_actions *a)
{
	uint32_t workers = workers_for(d, a);
	int r;

	if ((r = eng_engine_set_workers(d->engine, workers)) < 0)
		log_warning("policy: cannot run %u worker threads: %s, ignoring", workers,
			    strerror(-r));
	apply_fir_tail(d, a->fir_trunc_db);
	if (d->ctl)
		ctl_server_set_max_event_rate(d->ctl, a->meter_hz);
}

void daemon_policy_graph_changed(struct daemon *d)
{
	if (d->policy && d->policy_applied)
		apply_fir_tail(d, d->policy_snap->actions.fir_trunc_db);
}

static void describe_decision(const struct daemon *d, const struct dpol_snapshot *s)
{
	const struct pol_decision *dec = &s->decision;
	const struct pol_actions *a = &s->actions;
	char why_mode[64], why_thermal[96], fir[16] = "full";

	if (dec->mode_pinned)
		snprintf(why_mode, sizeof(why_mode), "pinned");
	else if (dec->capacity >= 0)
		snprintf(why_mode, sizeof(why_mode), "%s, battery %d %%",
			 pol_reason_to_string(dec->mode_reason), dec->capacity);
	else
		snprintf(why_mode, sizeof(why_mode), "%s", pol_reason_to_string(dec->mode_reason));
	if (dec->thermal_pinned)
		snprintf(why_thermal, sizeof(why_thermal), "pinned");
	else if (dec->zone[0])
		snprintf(why_thermal, sizeof(why_thermal), "%s, %s at %.1f °C",
			 pol_reason_to_string(dec->thermal_reason), dec->zone,
			 dec->zone_temp_mc / 1000.0);
	else
		snprintf(why_thermal, sizeof(why_thermal), "%s",
			 pol_reason_to_string(dec->thermal_reason));
	if (a->fir_trunc_db)
		snprintf(fir, sizeof(fir), "%d dB", a->fir_trunc_db);
	log_notice("policy: mode %s (%s), thermal %s (%s): %u worker threads, FIR tail %s, "
		   "meters %u/s, background work %s, IR preparation %s",
		   pol_mode_to_string(dec->mode), why_mode,
		   pol_thermal_state_to_string(dec->thermal), why_thermal, workers_for(d, a), fir,
		   a->meter_hz, pol_bg_run_to_string(a->bg[POL_BG_PRIO_LOW].run),
		   pol_bg_run_to_string(a->bg[POL_BG_PRIO_HIGH].run));
}

static int on_policy(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	struct dpol_snapshot *snap = d->policy_snap;
	bool changed;

	(void)s, (void)fd, (void)revents;
	if (dpol_get_snapshot(d->policy, snap) < 0)
		return 0;
	log_reader_errors(snap);
	changed = !d->policy_applied || (int)snap->decision.mode != d->policy_mode ||
		  (int)snap->decision.thermal != d->policy_thermal ||
		  (snap->flags & (POL_CHANGED_MODE | POL_CHANGED_THERMAL));
	if (!changed)
		return 0;
	apply_actions(d, &snap->actions);
	if (!d->policy_applied || (int)snap->decision.mode != d->policy_mode ||
	    (int)snap->decision.thermal != d->policy_thermal || snap->decision.mode_pinned ||
	    snap->decision.thermal_pinned)
		describe_decision(d, snap);
	d->policy_applied = true;
	d->policy_mode = (int)snap->decision.mode;
	d->policy_thermal = (int)snap->decision.thermal;
	if (d->ctl)
		ctl_server_broadcast(d->ctl, CTL_EVENT_POLICY, "policy", daemon_policy_json(d));
	if (d->wisdom_pending && daemon_policy_background_allowed(d))
		daemon_save_wisdom(d);
	return 0;
}

bool daemon_policy_background_allowed(const struct daemon *d)
{
	return !d->policy || !d->policy_applied ||
	       d->policy_snap->actions.bg[POL_BG_PRIO_LOW].run != POL_BG_WAIT;
}

void daemon_policy_pace_preparation(void *ctx, uint64_t work_ns)
{
	struct daemon *d = ctx;
	const struct pol_bg *bg;
	uint64_t ns;

	if (!d->policy || !d->policy_applied)
		return; /* off, or no reading yet: as on AC and cool */
	bg = &d->policy_snap->actions.bg[POL_BG_PRIO_HIGH];
	if (bg->run == POL_BG_RUN)
		return;
	/* The table never makes it wait (a user waits for this); if it did, throttle hardest. */
	ns = work_ns * (bg->run == POL_BG_THROTTLE ? bg->sleep_factor : 4u);
	ns = EL_MIN(ns, (uint64_t)DPOL_PREP_SLEEP_MAX_MS * 1000000u);
	nanosleep(&(struct timespec){.tv_sec = (time_t)(ns / 1000000000u),
				     .tv_nsec = (long)(ns % 1000000000u)},
		  NULL);
	d->prep_throttled_chunks++;
	d->prep_slept_ns += ns;
	/*
	 * This runs on the event loop, which does not tick while it prepares: a long throttled
	 * preparation (a reload with many long IRs) must not look like a hang to the watchdog.
	 * The tick still pings only if the running engine's cycles moved. No engine: it is being
	 * built (a start or restart), and systemd's start timeout covers that.
	 */
	if (d->engine && d->be_ops)
		sysd_tick(&d->sysd, d->engine, d->be_ops->name, false, el_pace_now_ns() / 1000u);
}

static void repost_overrides(struct daemon *d)
{
	if (d->policy_mode_pin >= 0)
		dpol_set_override(d->policy, 'm', true, d->policy_mode_pin);
	if (d->policy_thermal_pin >= 0)
		dpol_set_override(d->policy, 't', true, d->policy_thermal_pin);
}

int daemon_policy_start(struct daemon *d, struct el_error *reterr)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int r;

	daemon_policy_stop(d);
	if (!d->cfg.policy.enabled) {
		/* off: the engine runs as configured, as if the machine were on AC and cool */
		if (d->policy_applied)
			apply_actions(d, &(struct pol_actions){.workers = d->cfg.settings.workers,
							       .meter_hz = 0});
		d->policy_applied = false;
		return 0;
	}
	if (!d->policy_snap && !(d->policy_snap = calloc(1, sizeof(*d->policy_snap))))
		return el_error_set(reterr, -ENOMEM, "out of memory");
	if (!d->policy_view && !(d->policy_view = calloc(1, sizeof(*d->policy_view))))
		return el_error_set(reterr, -ENOMEM, "out of memory");
	if ((r = dpol_new(&d->cfg.policy, ncpu > 0 ? (uint32_t)ncpu : 1, &d->policy, reterr)) < 0)
		return r;
	r = sd_event_add_io(d->event, &d->policy_source, dpol_get_fd(d->policy), EPOLLIN, on_policy,
			    d);
	if (r < 0) {
		d->policy = dpol_free(d->policy);
		return el_error_set(reterr, r, "cannot watch the policy thread: %s", strerror(-r));
	}
	repost_overrides(d);
	d->policy_applied =
		false; /* the first snapshot of this thread is applied whatever it says */
	return 0;
}

void daemon_policy_stop(struct daemon *d)
{
	d->policy_source = sd_event_source_disable_unref(d->policy_source);
	d->policy = dpol_free(d->policy);
}

/* ---- what status and the policy event show ---- */

static json_t *inputs_json(const struct pol_trace *t)
{
	json_t *list = json_array();

	for (size_t i = 0; i < t->n_entries; i++) {
		const struct pol_trace_entry *e = &t->entries[i];

		json_array_append_new(list, e->error ? json_pack("{s:s, s:s}", "file", e->path,
								 "error", strerror(-e->error))
						     : json_pack("{s:s, s:s}", "file", e->path,
								 "value", e->value));
	}
	return list;
}

static json_t *actions_json(const struct daemon *d, const struct pol_actions *a)
{
	return json_pack("{s:i, s:i, s:i, s:i, s:i, s:s, s:s, s:s}", "level", (int)a->level,
			 "workers", (int)workers_for(d, a), "cores", (int)a->cores, "fir_tail_db",
			 a->fir_trunc_db, "meter_hz", (int)a->meter_hz, "quality",
			 pol_quality_to_string(a->quality), "background",
			 pol_bg_run_to_string(a->bg[POL_BG_PRIO_LOW].run), "ir_preparation",
			 pol_bg_run_to_string(a->bg[POL_BG_PRIO_HIGH].run));
}

json_t *daemon_policy_json(struct daemon *d)
{
	const struct dpol_snapshot *s = d->policy_view;
	const struct pol_decision *dec;
	json_t *j;

	/* the latest reading, even one that changed nothing (the applied one is policy_snap) */
	if (!d->policy || !s || dpol_peek_snapshot(d->policy, d->policy_view) < 0)
		return json_null();
	dec = &s->decision;
	j = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:b, s:s, s:i, s:s, s:b, s:i}", "mode",
		      pol_mode_to_string(dec->mode), "mode_reason",
		      pol_reason_to_string(dec->mode_reason), "mode_pinned", dec->mode_pinned,
		      "thermal", pol_thermal_state_to_string(dec->thermal), "thermal_reason",
		      pol_reason_to_string(dec->thermal_reason), "profile",
		      pol_profile_to_string(dec->profile), "thermal_pinned", dec->thermal_pinned,
		      "sysfs_root", d->cfg.policy.sysfs_root, "capacity", dec->capacity, "zone",
		      dec->zone, "uevents", s->uevents, "poll_ms", (int)s->poll_ms);
	if (dec->zone[0])
		json_object_set_new(j, "zone_temp_c", json_real(dec->zone_temp_mc / 1000.0));
	json_object_set_new(j, "actions", actions_json(d, &s->actions));
	json_object_set_new(j, "ir_preparation_throttled",
			    json_pack("{s:I, s:f}", "chunks", (json_int_t)d->prep_throttled_chunks,
				      "slept_ms", (double)d->prep_slept_ns / 1e6));
	json_object_set_new(j, "inputs", inputs_json(&s->trace));
	return j;
}

int daemon_policy_override(struct daemon *d, const char *what, const char *state, bool check_only,
			   struct ipc_error *e)
{
	bool mode = !strcmp(what, "mode");
	bool automatic = !strcmp(state, "auto");
	int v;

	if (!mode && strcmp(what, "thermal"))
		return ipc_error_set(e, IPC_ERR_BAD_ARGUMENT,
				     "'%.32s': expected 'mode' or 'thermal'", what);
	v = automatic ? 0
	    : mode    ? pol_mode_from_string(state)
		      : pol_thermal_state_from_string(state);
	if (v < 0)
		return ipc_error_set(e, IPC_ERR_BAD_ARGUMENT,
				     mode ? "argument 'mode': '%.32s' is not low, normal, "
					    "unrestricted or auto"
					  : "argument 'thermal': '%.32s' is not nominal, fair, "
					    "serious, critical or auto",
				     state);
	if (!d->policy)
		return ipc_error_set(e, IPC_ERR_CONFLICT,
				     "the policy is off ([policy] enabled = no)");
	if (check_only)
		return 0;
	if (mode)
		d->policy_mode_pin = automatic ? -1 : v;
	else
		d->policy_thermal_pin = automatic ? -1 : v;
	dpol_set_override(d->policy, mode ? 'm' : 't', !automatic, v);
	return 0;
}
