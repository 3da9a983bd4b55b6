/* SPDX-License-Identifier: MIT */
/*
 * ipc/client.h: the client library of echoeld's control protocol (docs/protocol.md). It
 * connects to the daemon's Unix socket, sends requests with increasing ids, matches responses
 * by id and queues the events that arrive in between.
 *
 * Thread: a client is used by one thread at a time (no locks inside). Non-logging: every
 * failure is a negative errno, and the daemon's refusals come back as a struct ipc_error.
 *
 * Return codes shared by the calls below:
 *   -ETIMEDOUT    nothing arrived in time (the connection stays usable: a late response is
 *                 recognised by its id and dropped; but a request left half-written resets
 *                 the connection, and later calls return -ECONNRESET)
 *   -ECONNRESET   the daemon closed the connection (also mid-line)
 *   -EPROTO       the daemon sent something that is not a protocol message
 *   -EMSGSIZE     the daemon sent a line longer than ECHOEL_CLIENT_MAX_LINE
 *   -ENOMEM, or another -errno from poll/read/write
 * After -ECONNRESET, -EPROTO or -EMSGSIZE the client is broken: every later call returns the
 * same error; free it and connect again.
 */
#pragma once

#include <jansson.h>

#include "ipc/protocol.h"

/* The longest line the client accepts from the daemon, "\n" included (16 MiB). */
#define ECHOEL_CLIENT_MAX_LINE (16u * 1024u * 1024u)

/* Events kept while nobody reads them; the oldest is dropped beyond this. */
#define ECHOEL_CLIENT_MAX_EVENTS 4096u

struct echoel_client; /* opaque */

/*
 * Connects to the socket at path (borrowed; NULL: ipc_socket_path_default()). The descriptor
 * is close-on-exec and non-blocking. 0 with *ret set; -ENAMETOOLONG, -ENOMEM, or -errno from
 * socket/connect (-ENOENT: no socket there, -ECONNREFUSED: nobody listens, -EACCES) with *ret
 * untouched.
 */
int echoel_client_connect(const char *path, struct echoel_client **ret);

/* Closes the connection and frees queued events. Accepts NULL; always returns NULL. */
struct echoel_client *echoel_client_free(struct echoel_client *c);

/*
 * Sends {"id":N,"cmd":cmd,"args":args} and waits for the response with id N; events arriving
 * meanwhile are queued for echoel_client_next_event(). cmd is borrowed; args (an object, or
 * NULL for none) is stolen, even on failure. timeout_ms bounds the whole call (writing and
 * reading); negative waits forever.
 *
 * 0 with *ret_result set to the result (owned by the caller; may be NULL to drop it);
 * -EREMOTEIO when the daemon refused, with *reterr (may be NULL) filled from its error object
 * (an unknown code reads as internal); -EINVAL for a NULL client or cmd; or a code listed at
 * the top of this file. A response with a null id that refuses is taken as the answer: the
 * daemon could not read the request's id (too_large, for one).
 */
int echoel_client_call(struct echoel_client *c, const char *cmd, json_t *args, int timeout_ms,
		       json_t **ret_result, struct ipc_error *reterr);

/*
 * The oldest queued event, else the next one to arrive within timeout_ms (0: do not wait,
 * negative: wait forever). 0 with *ret_event set to the whole event object ({"event":name,
 * ...}, owned by the caller); -ETIMEDOUT when none came; or a code listed at the top. Responses
 * that arrive here (to calls that timed out) are dropped.
 */
int echoel_client_next_event(struct echoel_client *c, int timeout_ms, json_t **ret_event);

/*
 * The socket, for the caller's own poll loop: readable means echoel_client_next_event(c, 0, ...)
 * may find an event (or -ETIMEDOUT when only part of a line came). Events queued during a call
 * do not make it readable: after each call, take events with a timeout of 0 until -ETIMEDOUT
 * before polling again. Borrowed: valid until echoel_client_free(). -EINVAL for a NULL client.
 */
int echoel_client_get_fd(const struct echoel_client *c);
