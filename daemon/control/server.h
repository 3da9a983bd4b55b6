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
#include <stdint.h>
#include <systemd/sd-event.h>

#include "daemon/control/settings.h"

struct el_error;
struct ipc_error;
struct ipc_request;
struct ctl_server;
struct ctl_client;

/*
 * What the server asks of whoever runs the commands; userdata is given to ctl_server_new().
 * The server knows the transport only: lines, clients, limits, subscriptions.
 */
struct ctl_server_hooks {
	/*
	 * Runs one request for client c (borrowed for the call). 0 with *ret_result (owned, NULL
	 * for {}); -errno with *reterr set.
	 */
	int (*dispatch)(void *userdata, struct ctl_client *c, const struct ipc_request *req,
			json_t **ret_result, struct ipc_error *reterr);
	/* The current meters / load, as event fields (owned), for subscribers' timers. */
	json_t *(*meters)(void *userdata);
	json_t *(*load)(void *userdata);
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
	CTL_EVENT_UNDERRUN = 1u << 8, /* a player's disk did not keep up */
	CTL_EVENT_OVERRUN = 1u << 9,  /* a recorder's disk did not keep up: the take ended */
	CTL_EVENT_RECORD = 1u << 10,  /* a take started or stopped */
	CTL_EVENT_BACKEND = 1u << 11, /* the server or device went away, or came back */
};

/*
 * Serves listen_fd (a socket systemd passed, taken) or, when it is negative, binds
 * s->socket_path (replacing a stale socket of a dead daemon, refusing when a live daemon answers
 * on it), on event (borrowed, outlives the server). Events carry `time` in seconds since
 * epoch_usec (CLOCK_MONOTONIC µs). Takes ownership of *s; hooks and userdata borrowed. 0 with
 * *ret; -errno with a message naming the path.
 */
int ctl_server_new(sd_event *event, int listen_fd, uint64_t epoch_usec,
		   const struct ctl_server_hooks *hooks, void *userdata, struct ctl_settings *s,
		   struct ctl_server **ret, struct el_error *reterr);

/*
 * The daemon stops normally (SIGTERM, SIGINT): tells `stopping` subscribers, as far as their
 * sockets take it now, so they can tell a stop from a crash before the connection closes.
 */
void ctl_server_announce_stop(struct ctl_server *srv);

/* Closes every client and the socket, removes the socket file. Accepts NULL; returns NULL. */
struct ctl_server *ctl_server_free(struct ctl_server *srv);

/* Sends event `name` with fields (stolen) to every client subscribed to bit. */
void ctl_server_broadcast(struct ctl_server *srv, unsigned bit, const char *name, json_t *fields);

/* The path of the socket the server bound (borrowed), or NULL for one systemd passed. */
const char *ctl_server_get_path(const struct ctl_server *srv);

/* The settings the server runs with (borrowed). */
const struct ctl_settings *ctl_server_get_settings(const struct ctl_server *srv);

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
