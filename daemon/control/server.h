/* SPDX-License-Identifier: MIT */
/*
 * daemon/control/server.h: the control socket — a Unix stream socket speaking the JSON Lines protocol
 * of docs/protocol.md, served from the control thread's sd-event loop.
 *
 * Nothing a client does can stall the RT cycle: requests only ever reach the RT thread as ring
 * commands or new plans. Nothing a client does can stall the daemon either: sockets are
 * non-blocking, lines and output queues are bounded, half-sent lines time out, and a client
 * that does not read its events is disconnected. Thread: control only.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct conf;
struct conf_section;
struct daemon;
struct el_error;
struct ipc_error;
struct ipc_request;
struct ctl_server;
struct ctl_client;

/* The [ipc] section. */
struct ctl_settings {
	char *socket_path; /* owned */
	mode_t mode;
	gid_t group;       /* (gid_t)-1: leave the socket's group alone */
	uid_t *allow_uids; /* owned, n_allow_uids of them; none: anyone */
	size_t n_allow_uids;
	gid_t *allow_gids; /* owned */
	size_t n_allow_gids;
	unsigned max_clients;
	size_t max_line;
	size_t max_queue;
	unsigned idle_timeout_ms;
	char **file_dirs; /* owned: absolute directories, NULL-terminated */
};

/* Events a client may subscribe to (bits). */
enum ctl_event {
	CTL_EVENT_METERS = 1u << 0,
	CTL_EVENT_LOAD = 1u << 1,
	CTL_EVENT_XRUN = 1u << 2,
	CTL_EVENT_LATE = 1u << 3,
	CTL_EVENT_CLIP = 1u << 4,
	CTL_EVENT_GRAPH = 1u << 5,
	CTL_EVENT_POLICY = 1u << 6,
	CTL_EVENT_STOPPING = 1u << 7,
};

/*
 * Reads [ipc] from c; socket_override (--socket) wins over [ipc] socket and the default path.
 * 0; -EINVAL with `FILE:LINE: key 'K': reason`.
 */
int ctl_settings_from_conf(const struct conf *c, const char *socket_override,
			   struct ctl_settings *ret, struct el_error *reterr);
void ctl_settings_done(struct ctl_settings *s);

/*
 * May this path (a file a client names) be read? Canonical (symlinks and ".." resolved, also
 * for a file that does not exist), under file_dirs. 0; -EACCES with *e set to `permission`, the
 * same message whether or not the file exists.
 */
int ctl_settings_check_path(const struct ctl_settings *s, const char *path, struct ipc_error *e);

/*
 * The same for every file a section (sec may be NULL) or a whole configuration names (`ir`),
 * relative ones resolved against base_dir as the nodes do. 0; -EACCES with *e naming the key
 * and where it was set.
 */
int ctl_settings_check_section_paths(const struct ctl_settings *s, const struct conf_section *sec,
				     const char *base_dir, struct ipc_error *e);
int ctl_settings_check_conf_paths(const struct ctl_settings *s, const struct conf *c,
				  const char *base_dir, struct ipc_error *e);

/*
 * Binds the socket (replacing a stale one from a dead daemon, refusing when a live daemon
 * answers on it) and serves it on d->event. Takes ownership of *s. 0 with *ret; -errno with a
 * message naming the path.
 */
int ctl_server_new(struct daemon *d, struct ctl_settings *s, struct ctl_server **ret,
		   struct el_error *reterr);

/*
 * The daemon stops normally (SIGTERM, SIGINT): tells `stopping` subscribers, as far as their
 * sockets take it now, so they can tell a stop from a crash before the connection closes.
 */
void ctl_server_announce_stop(struct ctl_server *srv);

/* Closes every client and the socket, removes the socket file. Accepts NULL; returns NULL. */
struct ctl_server *ctl_server_free(struct ctl_server *srv);

/* Sends event `name` with fields (stolen) to every client subscribed to bit. */
void ctl_server_broadcast(struct ctl_server *srv, unsigned bit, const char *name, json_t *fields);

/* The graph changed: tells `graph` subscribers. */
void ctl_server_notify_graph(struct ctl_server *srv);

/* The path of the socket the server bound (borrowed), or NULL for one systemd passed. */
const char *ctl_server_get_path(const struct ctl_server *srv);

/* The settings the server runs with (borrowed). */
const struct ctl_settings *ctl_server_get_settings(const struct ctl_server *srv);

/*
 * Whether the running configuration's file is one a client named with `load`: then what it
 * names is held to file_dirs on every `reload` too, as a client may have rewritten it.
 */
void ctl_server_set_config_from_client(struct ctl_server *srv, bool from_client);
bool ctl_server_get_config_from_client(const struct ctl_server *srv);

/* Meter and load events per client and second without a policy saying otherwise. */
#define CTL_MAX_EVENT_HZ 60.0

/*
 * Serves meter and load events at most hz times a second to every subscriber (0: the default,
 * CTL_MAX_EVENT_HZ); subscribers asking for less keep their rate. The power policy's tiers.
 */
void ctl_server_set_max_event_rate(struct ctl_server *srv, unsigned hz);

/* For command handlers: change what a client is subscribed to. rate in Hz (1..1000), served at
 * most at the server's max event rate. */
int ctl_client_subscribe(struct ctl_client *c, unsigned events, double rate);
void ctl_client_unsubscribe(struct ctl_client *c, unsigned events);

/*
 * commands.c: runs one request for client c. 0 with *ret_result (owned, may be NULL for
 * {}); -errno with *reterr set.
 */
int ctl_dispatch(struct daemon *d, struct ctl_client *c, const struct ipc_request *req,
		 json_t **ret_result, struct ipc_error *reterr);

/* commands.c: the names of every command, for `hello`. */
extern const char *const ctl_command_names[];

/* commands.c: the current meters / load, as event fields (owned). */
json_t *ctl_meters_fields(struct daemon *d);
json_t *ctl_load_fields(struct daemon *d);
