/* SPDX-License-Identifier: MIT */
/*
 * daemon/control/commands.h: what each command of the control protocol does (docs/protocol.md),
 * run for the control socket's server (server.h) against a host: whoever owns the running
 * engine and configuration (the daemon). The commands reach the host only through struct
 * ctl_host, so they never call up into it. Thread: control.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct ctl_client;
struct ctl_commands;
struct ctl_server;
struct el_error;
struct eng_engine;
struct eng_param_set;
struct pcost_figures;
struct ipc_error;
struct ipc_request;
struct pwr_policy;

/* What the commands read, as it is now. Everything borrowed until the request returns. */
struct ctl_state {
	struct eng_engine *engine; /* the running engine */
	const struct conf *conf;   /* the running configuration */
	const char *config_path;   /* its file, NULL for the built-in default graph */
	const char *base_dir;      /* relative paths in it resolve against this */
	const char *backend;       /* the backend's name */
	double uptime;             /* seconds since the daemon started */
	struct ctl_server *server; /* the socket served: [ipc] settings */
	struct pwr_policy *power;  /* the power policy (not running: status shows null) */
	double layout_search_ms;   /* the last convolver layout search (0: none yet) */
	/* the disk thread and the sample cache (daemon/disk/samples.h), NULL io: none */
	const char *disk_io;
	uint64_t cache_lookups, cache_hits, cache_bytes, cache_samples, cache_held;
	uint64_t cache_evictions, cache_budget;
};

/* The host's side. ctx is passed back to every function. */
struct ctl_host {
	void *ctx;
	void (*get_state)(void *ctx, struct ctl_state *ret);
	/*
	 * Makes next (ownership taken, freed on failure) the running configuration, with n_sets
	 * parameter changes landing in the same cycle. 0; -errno with a message; the running
	 * graph is untouched on failure.
	 */
	int (*apply)(void *ctx, struct conf *next, const struct eng_param_set *sets, size_t n_sets,
		     struct el_error *reterr);
	/* Re-reads path (NULL: the running configuration's file) and switches to it (SIGHUP). */
	int (*reload)(void *ctx, const char *path, struct el_error *reterr);
	/*
	 * What the daemon costs (daemon/proc-cost.h): process and RT-thread CPU, RSS, locked
	 * memory, wake-ups, over the last window of at least a second. 0; -errno when /proc
	 * cannot be read.
	 */
	int (*get_cost)(void *ctx, struct pcost_figures *ret);
	/* Tests only: the RT cycle stops for ms. NULL, or -EOPNOTSUPP, when it cannot. */
	int (*test_stall)(void *ctx, unsigned ms);
	/* Tests only: the disk thread serves nothing while stalled (a disk that does not keep
	 * up). NULL, or -EOPNOTSUPP, when it cannot. */
	int (*test_disk_stall)(void *ctx, bool stalled);
};

/* Commands for host (borrowed, outlives them). 0 with *ret; -ENOMEM. */
int ctl_commands_new(const struct ctl_host *host, struct ctl_commands **ret);
/* Accepts NULL; returns NULL. */
struct ctl_commands *ctl_commands_free(struct ctl_commands *c);

/*
 * The server's hooks (struct ctl_server_hooks), with userdata a struct ctl_commands.
 * dispatch: runs one request for client (NULL: no connection, e.g. a fuzzer); 0 with
 * *ret_result (owned, NULL for {}); -errno with *reterr set. meters, load: the current values
 * as event fields (owned).
 */
int ctl_commands_dispatch(void *commands, struct ctl_client *client, const struct ipc_request *req,
			  json_t **ret_result, struct ipc_error *reterr);
json_t *ctl_commands_meters(void *commands);
json_t *ctl_commands_load(void *commands);
