/* SPDX-License-Identifier: MIT */
/*
 * daemon/power/policy.h: the power and heat policy inside the daemon — starts the policy thread
 * (thread.h) from [policy], applies what it decides to the engine and the control socket
 * (worker threads, FIR tail, meter event rate; docs/policy.md), logs each decision once,
 * announces it as a `policy` event, and answers `status`, `policy` and `policy.set`.
 * Thread: control.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

struct daemon;
struct el_error;
struct ipc_error;

/*
 * Starts the policy when [policy] enabled (d->cfg.policy); restarts it with the current settings
 * when it runs (after a reload), keeping overrides set over the socket. 0; -errno with a message.
 */
int daemon_policy_start(struct daemon *d, struct el_error *reterr);

/* The graph changed (reload, node.add ...): new fir nodes get the FIR tail in force. */
void daemon_policy_graph_changed(struct daemon *d);

/*
 * May low-priority background work (FFTW wisdom saving) run now? True without a policy; false
 * while its actions say wait (docs/policy.md). Work held back is done when they change.
 */
bool daemon_policy_background_allowed(const struct daemon *d);

/*
 * The engine's preparation pacer (common/el-pace.h; ctx: the daemon): IR preparation for a
 * graph change is high-priority background work. Between chunks it sleeps sleep_factor × the
 * chunk's time (at most DPOL_PREP_SLEEP_MAX_MS) while the actions applied say throttle; never
 * waits, since a user waits for it. Thread: control — the event loop, which does not tick
 * meanwhile, so each throttled chunk also feeds the watchdog while the engine's cycles run.
 * (`echoeld render` paces its IRs with the render's own low-priority rules instead.)
 */
#define DPOL_PREP_SLEEP_MAX_MS 50
void daemon_policy_pace_preparation(void *ctx, uint64_t work_ns);

/* Stops it (nothing when not running). */
void daemon_policy_stop(struct daemon *d);

/* The policy as status shows it: inputs read, decision, actions in force; JSON null when off. */
json_t *daemon_policy_json(struct daemon *d);

/*
 * `policy.set`: what is "mode" or "thermal", state a mode or thermal state name or "auto"; the
 * change reaches the policy thread at once and the decision it makes follows as usual (log
 * line, `policy` event). check_only: only say whether it would be accepted. 0; -EINVAL with e
 * filled (bad_argument; conflict when the policy is off).
 */
int daemon_policy_override(struct daemon *d, const char *what, const char *state, bool check_only,
			   struct ipc_error *e);
