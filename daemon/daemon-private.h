/* SPDX-License-Identifier: MIT */
/*
 * daemon/daemon-private.h: the running daemon's state, shared by its main loop (daemon.c) and
 * the control server (control*.c). Thread: control only.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "daemon/engine/engine.h"
#include "daemon/setup.h"
#include "daemon/systemd.h"

struct be_ops;
struct conf;
struct ctl_server;
struct el_error;
struct eng_engine;
struct eng_param_set;

struct dpol;
struct dpol_snapshot;

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

	/* The power and heat policy (daemon/power/policy.c); NULL/off when [policy] enabled = no. */
	struct dpol *policy;
	sd_event_source *policy_source;
	struct dpol_snapshot *policy_snap; /* owned: the last snapshot taken and applied */
	struct dpol_snapshot *policy_view; /* owned: the latest one, for status */
	bool policy_applied;               /* its actions were applied at least once */
	int policy_mode;                   /* enum pol_mode last applied */
	int policy_thermal;                /* enum pol_thermal_state last applied */
	int policy_mode_pin;               /* set over the socket: -1 none, else the state */
	int policy_thermal_pin;
	bool wisdom_pending; /* FFTW wisdom to save once background work may run */
	/* IR preparation throttled by the policy (daemon_policy_pace_preparation): chunks slept
	 * after, and the time slept, since start */
	uint64_t prep_throttled_chunks, prep_slept_ns;
	struct eng_event clips[8]; /* clipping outputs seen this tick, the latest of each */
	size_t n_clips;
	uint64_t clip_logged_at; /* µs of the last clip log lines */
};

/*
 * Saves FFTW wisdom (new transform sizes were planned) now, or once the power policy lets
 * low-priority background work run again.
 */
void daemon_save_wisdom(struct daemon *d);

/* "the built-in default graph" or the configuration file's path. */
const char *daemon_graph_name(const struct daemon *d);

/*
 * Makes next (ownership taken, freed on failure) the running configuration, with n_sets
 * parameter changes landing in the same cycle. 0; -errno with a message; the running graph is
 * untouched on failure.
 */
int daemon_apply(struct daemon *d, struct conf *next, const struct eng_param_set *sets,
		 size_t n_sets, struct el_error *reterr);

/* Re-reads path (NULL: the running configuration's file) and switches to it, as SIGHUP does. */
int daemon_reload(struct daemon *d, const char *path, struct el_error *reterr);
