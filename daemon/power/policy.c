/* SPDX-License-Identifier: MIT */
/*
 * daemon/power/policy.c: the control thread's side of the power and heat policy — take the policy
 * thread's snapshots, log each decision, hand the actions to the hooks, and show them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-event.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/log.h"
#include "daemon/power/settings.h"
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

struct pwr_policy {
	sd_event *event; /* borrowed */
	const struct pwr_hooks *hooks;
	void *userdata;
	struct dpol *thread; /* NULL while off */
	sd_event_source *source;
	uint32_t max_workers;       /* [engine] workers: the policy only scales it down */
	char *sysfs_root;           /* owned: for status */
	struct dpol_snapshot snap;  /* the last snapshot taken and applied */
	struct dpol_snapshot view;  /* the latest one, for status */
	bool applied;               /* this thread's actions were applied at least once */
	int mode, thermal;          /* enum pol_mode / pol_thermal_state last applied */
	int pin[2];                 /* set over the socket, by enum dpol_pin: -1 none, else the state */
	/* IR preparation throttled (pwr_policy_pace_preparation): chunks slept after, time slept */
	uint64_t prep_throttled_chunks, prep_slept_ns;
};

/* The actions as they reach the hook: workers capped by [engine] workers. */
static struct pol_actions capped(const struct pwr_policy *p, const struct pol_actions *a)
{
	struct pol_actions c = *a;

	c.workers = EL_MIN(p->max_workers, a->workers);
	return c;
}

static void describe_decision(const struct pwr_policy *p, const struct dpol_snapshot *s)
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
		   pol_thermal_state_to_string(dec->thermal), why_thermal, capped(p, a).workers, fir,
		   a->meter_hz, pol_bg_run_to_string(a->bg[POL_BG_PRIO_LOW].run),
		   pol_bg_run_to_string(a->bg[POL_BG_PRIO_HIGH].run));
}

static int on_policy(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct pwr_policy *p = userdata;
	const struct pol_decision *dec = &p->snap.decision;
	struct pol_actions a;
	bool changed;

	(void)s, (void)fd, (void)revents;
	if (dpol_get_snapshot(p->thread, &p->snap) < 0)
		return 0;
	log_reader_errors(&p->snap);
	changed = !p->applied || (int)dec->mode != p->mode || (int)dec->thermal != p->thermal ||
		  (p->snap.flags & (POL_CHANGED_MODE | POL_CHANGED_THERMAL));
	if (!changed)
		return 0;
	if (!p->applied || (int)dec->mode != p->mode || (int)dec->thermal != p->thermal ||
	    dec->mode_pinned || dec->thermal_pinned)
		describe_decision(p, &p->snap);
	p->applied = true;
	p->mode = (int)dec->mode;
	p->thermal = (int)dec->thermal;
	a = capped(p, &p->snap.actions);
	p->hooks->apply(p->userdata, &a, true);
	return 0;
}

bool pwr_policy_background_allowed(const struct pwr_policy *p)
{
	return !p || !p->thread || !p->applied ||
	       p->snap.actions.bg[POL_BG_PRIO_LOW].run != POL_BG_WAIT;
}

bool pwr_policy_pace_preparation(struct pwr_policy *p, uint64_t work_ns)
{
	const struct pol_bg *bg;
	uint64_t ns;

	if (!p || !p->thread || !p->applied)
		return false; /* off, or no reading yet: as on AC and cool */
	bg = &p->snap.actions.bg[POL_BG_PRIO_HIGH];
	if (bg->run == POL_BG_RUN)
		return false;
	/* The table never makes it wait (a user waits for this); if it did, throttle hardest. */
	ns = work_ns * (bg->run == POL_BG_THROTTLE ? bg->sleep_factor : 4u);
	ns = EL_MIN(ns, (uint64_t)PWR_PREP_SLEEP_MAX_MS * 1000000u);
	nanosleep(&(struct timespec){.tv_sec = (time_t)(ns / 1000000000u),
				     .tv_nsec = (long)(ns % 1000000000u)},
		  NULL);
	p->prep_throttled_chunks++;
	p->prep_slept_ns += ns;
	return true;
}

int pwr_policy_new(sd_event *event, const struct pwr_hooks *hooks, void *userdata,
		   struct pwr_policy **ret)
{
	struct pwr_policy *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->event = event;
	p->hooks = hooks;
	p->userdata = userdata;
	p->pin[DPOL_PIN_MODE] = p->pin[DPOL_PIN_THERMAL] = -1;
	*ret = p;
	return 0;
}

struct pwr_policy *pwr_policy_free(struct pwr_policy *p)
{
	if (!p)
		return NULL;
	pwr_policy_stop(p);
	free(p->sysfs_root);
	free(p);
	return NULL;
}

int pwr_policy_start(struct pwr_policy *p, const struct dpol_settings *s, uint32_t max_workers,
		     struct el_error *reterr)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char *root;
	int r;

	pwr_policy_stop(p);
	p->max_workers = max_workers;
	if (!s->enabled) {
		/* off: the engine runs as configured, as if the machine were on AC and cool */
		if (p->applied)
			p->hooks->apply(p->userdata,
					&(struct pol_actions){.workers = max_workers, .meter_hz = 0},
					false);
		p->applied = false;
		return 0;
	}
	if (!(root = strdup(s->sysfs_root)))
		return el_error_set(reterr, -ENOMEM, "out of memory");
	free(p->sysfs_root);
	p->sysfs_root = root;
	if ((r = dpol_new(s, ncpu > 0 ? (uint32_t)ncpu : 1, &p->thread, reterr)) < 0)
		return r;
	r = sd_event_add_io(p->event, &p->source, dpol_get_fd(p->thread), EPOLLIN, on_policy, p);
	if (r < 0) {
		p->thread = dpol_free(p->thread);
		return el_error_set(reterr, r, "cannot watch the policy thread: %s", strerror(-r));
	}
	for (int w = DPOL_PIN_MODE; w <= DPOL_PIN_THERMAL; w++)
		if (p->pin[w] >= 0)
			dpol_set_override(p->thread, (enum dpol_pin)w, true, p->pin[w]);
	p->applied = false; /* the first snapshot of this thread is applied whatever it says */
	return 0;
}

bool pwr_policy_is_running(const struct pwr_policy *p)
{
	return p && p->thread;
}

void pwr_policy_stop(struct pwr_policy *p)
{
	p->source = sd_event_source_disable_unref(p->source);
	p->thread = dpol_free(p->thread);
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

static json_t *actions_json(const struct pwr_policy *p, const struct pol_actions *a)
{
	return json_pack("{s:i, s:i, s:i, s:i, s:i, s:s, s:s, s:s}", "level", (int)a->level,
			 "workers", (int)capped(p, a).workers, "cores", (int)a->cores, "fir_tail_db",
			 a->fir_trunc_db, "meter_hz", (int)a->meter_hz, "quality",
			 pol_quality_to_string(a->quality), "background",
			 pol_bg_run_to_string(a->bg[POL_BG_PRIO_LOW].run), "ir_preparation",
			 pol_bg_run_to_string(a->bg[POL_BG_PRIO_HIGH].run));
}

json_t *pwr_policy_json(struct pwr_policy *p)
{
	const struct dpol_snapshot *s = &p->view;
	const struct pol_decision *dec;
	json_t *j;

	/* the latest reading, even one that changed nothing (the applied one is p->snap) */
	if (!p->thread || dpol_peek_snapshot(p->thread, &p->view) < 0)
		return json_null();
	dec = &s->decision;
	j = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:b, s:s, s:i, s:s, s:b, s:i}", "mode",
		      pol_mode_to_string(dec->mode), "mode_reason",
		      pol_reason_to_string(dec->mode_reason), "mode_pinned", dec->mode_pinned,
		      "thermal", pol_thermal_state_to_string(dec->thermal), "thermal_reason",
		      pol_reason_to_string(dec->thermal_reason), "profile",
		      pol_profile_to_string(dec->profile), "thermal_pinned", dec->thermal_pinned,
		      "sysfs_root", p->sysfs_root, "capacity", dec->capacity, "zone",
		      dec->zone, "uevents", s->uevents, "poll_ms", (int)s->poll_ms);
	if (dec->zone[0])
		json_object_set_new(j, "zone_temp_c", json_real(dec->zone_temp_mc / 1000.0));
	json_object_set_new(j, "actions", actions_json(p, &s->actions));
	json_object_set_new(j, "ir_preparation_throttled",
			    json_pack("{s:I, s:f}", "chunks", (json_int_t)p->prep_throttled_chunks,
				      "slept_ms", (double)p->prep_slept_ns / 1e6));
	json_object_set_new(j, "inputs", inputs_json(&s->trace));
	return j;
}

int pwr_policy_override(struct pwr_policy *p, const char *what, const char *state,
			bool check_only, struct ipc_error *e)
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
	if (!p->thread)
		return ipc_error_set(e, IPC_ERR_CONFLICT,
				     "the policy is off ([policy] enabled = no)");
	if (check_only)
		return 0;
	p->pin[mode ? DPOL_PIN_MODE : DPOL_PIN_THERMAL] = automatic ? -1 : v;
	dpol_set_override(p->thread, mode ? DPOL_PIN_MODE : DPOL_PIN_THERMAL, !automatic, v);
	return 0;
}
