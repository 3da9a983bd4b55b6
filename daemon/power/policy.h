/* SPDX-License-Identifier: MIT */
/*
 * daemon/power/policy.h: the power and heat policy on the control thread — runs the policy
 * thread (thread.h) from [policy], takes its snapshots, logs each decision once, and hands the
 * actions to whoever owns what they scale (the daemon: worker threads, the engine's quality,
 * the meter event rate; docs/policy.md). It also paces IR preparation and answers `status`,
 * `policy` and `policy.set`. It knows neither the engine nor the control socket.
 * Thread: control.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "policy/actions.h"

struct dpol_settings;
struct el_error;
struct ipc_error;
struct pwr_policy;

struct pwr_hooks {
	/*
	 * The actions in force changed: apply them (a borrowed for the call; workers already
	 * capped by the configured count). decided: a reading of the policy thread decided them,
	 * and they are worth announcing; false when the policy was turned off and the configured
	 * values (as on AC and cool) come back.
	 */
	void (*apply)(void *userdata, const struct pol_actions *a, bool decided);
};

/*
 * A policy that is not running yet, served on event (borrowed, outlives the policy); hooks and
 * userdata borrowed likewise. 0 with *ret; -ENOMEM.
 */
int pwr_policy_new(sd_event *event, const struct pwr_hooks *hooks, void *userdata,
		   struct pwr_policy **ret);

/* Stops the thread. Accepts NULL; returns NULL. */
struct pwr_policy *pwr_policy_free(struct pwr_policy *p);

/*
 * Starts the policy thread with s (copied) when s->enabled, or restarts it (a reload), keeping
 * the pins set over the socket; max_workers is the configured [engine] workers, which the
 * policy only ever scales down. With s->enabled false it stops, and if it had applied actions,
 * applies the configured ones. 0; -errno with a message.
 */
int pwr_policy_start(struct pwr_policy *p, const struct dpol_settings *s, uint32_t max_workers,
		     struct el_error *reterr);

/* Stops the thread (nothing when not running); what it applied stays. */
void pwr_policy_stop(struct pwr_policy *p);

/*
 * May low-priority background work (FFTW wisdom saving) run now? True when the policy is off or
 * has not decided yet; false while its actions say wait. Thread: control.
 */
bool pwr_policy_background_allowed(const struct pwr_policy *p);

/* Thread: control. Does the policy thread run (it is on, and its last start succeeded)? */
bool pwr_policy_is_running(const struct pwr_policy *p);

/*
 * IR preparation for a graph change is high-priority background work: after a chunk that took
 * work_ns, sleeps sleep_factor × work_ns (at most PWR_PREP_SLEEP_MAX_MS) while the actions
 * applied say throttle; never waits, since a user waits for it. Returns whether it slept (the
 * caller's event loop did not tick meanwhile: ping what must know it lives).
 */
#define PWR_PREP_SLEEP_MAX_MS 50
bool pwr_policy_pace_preparation(struct pwr_policy *p, uint64_t work_ns);

/* The policy as status shows it: inputs read, decision, actions in force; JSON null when off. */
json_t *pwr_policy_json(struct pwr_policy *p);

/*
 * `policy.set`: what is "mode" or "thermal", state a mode or thermal state name or "auto"; the
 * change reaches the policy thread at once and the decision it makes follows as usual (log
 * line, hooks->apply). check_only: only say whether it would be accepted. 0; -EINVAL with e
 * filled (bad_argument; conflict when the policy is off).
 */
int pwr_policy_override(struct pwr_policy *p, const char *what, const char *state,
			bool check_only, struct ipc_error *e);
