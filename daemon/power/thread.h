/* SPDX-License-Identifier: MIT */
/*
 * daemon/power/thread.h: the policy thread (design.md, "Threads and data flow" 4). It reads the
 * power supplies, the platform profile and the thermal zones under [policy] sysfs_root, feeds
 * the decider (policy/decide.h) and publishes what it decided and what that scales
 * (policy/actions.h) as a snapshot, waking the control thread through an eventfd. It wakes on
 * kernel uevents for power supplies and thermal zones where the kernel sends them, polls at
 * [policy] poll_ms (× the actions' poll factor) otherwise, and never touches the engine or the
 * RT thread: the control thread applies the actions.
 *
 * The thread never logs: what went wrong is in the snapshot's flags, for the control thread to
 * log once. Object: `dpol` ("the daemon's policy"); every call is on the control thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy/actions.h"
#include "policy/decide.h"
#include "policy/sample.h"
#include "policy/trace.h"

struct dpol_settings;
struct el_error;
struct dpol;

/* What the policy thread last read and decided. */
struct dpol_snapshot {
	uint64_t seq;                 /* readings published since start; 0: none yet */
	struct pol_decision decision; /* the mode and thermal state in force, and why */
	struct pol_actions actions;   /* what they scale (workers not yet capped by [engine]) */
	struct pol_sample sample;     /* the last reading (as read, even a part that failed) */
	struct pol_trace trace;       /* the files read for it, with their values or errors */
	bool uevents;                 /* kernel uevents wake the thread (else polling only) */
	uint32_t poll_ms;             /* the interval in force */
	/* Since the control thread last took a snapshot, or'ed: POL_CHANGED_*, POL_ERROR_FIRST,
	 * POL_RECOVERED (which reader: decision.*_error). */
	int flags;
};

/*
 * Opens settings->sysfs_root and starts the thread for a machine of ncpu CPUs; settings is
 * copied. 0 with *ret set; -errno with a message naming the root when it cannot be opened or
 * the thread not started. A netlink socket that cannot be opened is not an error: the thread
 * then polls (snapshot.uevents says which).
 */
int dpol_new(const struct dpol_settings *settings, uint32_t ncpu, struct dpol **ret,
	     struct el_error *reterr);

/* Stops the thread and frees everything. Accepts NULL; returns NULL. */
struct dpol *dpol_free(struct dpol *p);

/* An eventfd that becomes readable when a snapshot with news is published. */
int dpol_get_fd(const struct dpol *p);

/*
 * Copies the last snapshot into *ret (the flags gathered since the previous call, which are
 * then cleared) and drains the eventfd. -EAGAIN before the first reading.
 */
int dpol_get_snapshot(struct dpol *p, struct dpol_snapshot *ret);

/*
 * Copies the last snapshot into *ret for display (status, `policy`), leaving its flags and the
 * eventfd for dpol_get_snapshot(). -EAGAIN before the first reading.
 */
int dpol_peek_snapshot(struct dpol *p, struct dpol_snapshot *ret);

/* What an override pins. */
enum dpol_pin {
	DPOL_PIN_MODE,    /* state is an enum pol_mode */
	DPOL_PIN_THERMAL, /* state is an enum pol_thermal_state */
};

/*
 * Pins (pinned) or releases what (its state: see enum dpol_pin). Applied by the thread at
 * once; the next snapshot shows it.
 */
void dpol_set_override(struct dpol *p, enum dpol_pin what, bool pinned, int state);
