/* SPDX-License-Identifier: MIT */
/*
 * daemon/control/server.c: the control socket's server — binding, accepting, reading lines, queueing
 * answers and events, and every limit that keeps a client from hurting the daemon.
 *
 * DESIGN: one sd-event I/O source per client. Input is read into a buffer bounded by
 * max_line; each complete line is answered at once (commands are short: a graph change waits
 * for its fades, a few tens of milliseconds). Output goes into a per-client queue written with
 * non-blocking sends; a queue past max_queue means the client is not reading, and it is
 * dropped — the daemon never waits for a client. Meter and load events are produced by a
 * per-client timer from the latest values, and skipped while the client still has unsent
 * output, so a slow reader gets fresh values late rather than a growing backlog.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/control/listen.h"
#include "daemon/control/server.h"
#include "daemon/log.h"
#include "ipc/protocol.h"
#include "ipc/socket-path.h"

#define READ_CHUNK 65536

struct ctl_client {
	struct ctl_client *next, *prev;
	struct ctl_server *srv;
	int fd;
	sd_event_source *io;
	sd_event_source *idle;      /* closes a connection whose half-sent line goes stale */
	sd_event_source *sub_timer; /* meters/load at the subscribed rate */
	uid_t uid;
	gid_t gid;
	char *in; /* owned: received bytes not yet a whole line */
	size_t in_len, in_cap;
	char *out; /* owned: bytes not yet sent */
	size_t out_len, out_off, out_cap;
	bool closing; /* close once the queue is sent */
	bool dead;    /* dropped: freed by the server's reaper, touched by nobody */
	unsigned events;
	double rate;          /* Hz the client asked for meters/load */
	uint64_t period_usec; /* the period served: rate, capped by the server's max rate */
};

struct ctl_server {
	sd_event *event; /* borrowed */
	uint64_t epoch_usec;
	const struct ctl_server_hooks *hooks; /* borrowed */
	void *userdata;
	struct ctl_settings s;
	struct ctl_listener *listener;
	struct ctl_client *clients;
	unsigned n_clients;
	sd_event_source *reaper; /* frees dropped clients once no callback is using them */
	double max_event_hz;     /* meter/load events per client at most (the policy's tier) */
};

static void client_free(struct ctl_client *c)
{
	struct ctl_server *srv = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		srv->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->n_clients--;
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->idle);
	sd_event_source_disable_unref(c->sub_timer);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

/*
 * Drops a client without freeing it: a command (a reload, say) may broadcast to every client
 * while one of them is still being served, so freeing waits for the reaper.
 */
static void client_kill(struct ctl_client *c)
{
	if (c->dead)
		return;
	c->dead = true;
	sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
	if (c->idle)
		sd_event_source_set_enabled(c->idle, SD_EVENT_OFF);
	if (c->sub_timer)
		sd_event_source_set_enabled(c->sub_timer, SD_EVENT_OFF);
	sd_event_source_set_enabled(c->srv->reaper, SD_EVENT_ONESHOT);
}

static int on_reap(sd_event_source *s, void *userdata)
{
	struct ctl_server *srv = userdata;

	(void)s;
	for (struct ctl_client *c = srv->clients, *next; c; c = next) {
		next = c->next;
		if (c->dead)
			client_free(c);
	}
	return 0;
}

/* Sends what is queued; 0, or -errno when the client is gone. */
static int client_flush(struct ctl_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			return -errno;
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	return sd_event_source_set_io_events(c->io, (c->closing ? 0 : EPOLLIN) |
							    (c->out_len ? EPOLLOUT : 0));
}

/* Queues a line. -ENOBUFS (and the caller drops the client) past max_queue. */
static int client_queue(struct ctl_client *c, const char *line, size_t len)
{
	size_t pending = c->out_len - c->out_off;

	if (pending + len > c->srv->s.max_queue)
		return -ENOBUFS;
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_len = pending;
		c->out_off = 0;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = EL_MAX(c->out_cap * 2, c->out_len + len);
		char *p = realloc(c->out, cap);

		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, line, len);
	c->out_len += len;
	return client_flush(c);
}

/* Queues an owned line (freed here); drops the client when it cannot take it. */
static bool client_send(struct ctl_client *c, char *line, size_t len)
{
	int r = line ? client_queue(c, line, len) : -ENOMEM;

	free(line);
	if (r < 0) {
		log_debug("control: dropping a client (uid %u): %s", (unsigned)c->uid,
			  strerror(-r));
		client_kill(c);
		return false;
	}
	return true;
}

static bool client_send_error(struct ctl_client *c, const json_t *id, enum ipc_error_code code,
			      const char *message)
{
	struct ipc_error e = {.code = code};
	size_t len = 0;
	char *line;

	snprintf(e.message, sizeof(e.message), "%s", message);
	/* Two statements: the length is set by the call, so it cannot be read in the same call. */
	line = ipc_response_error(id, &e, &len);
	return client_send(c, line, len);
}

static bool client_handle_line(struct ctl_client *c, const char *line, size_t len)
{
	struct ipc_request req;
	struct ipc_error err = {0};
	json_t *result = NULL;
	char *out;
	size_t n = 0;

	if (ipc_request_parse(line, len, &req, &err) < 0 ||
	    c->srv->hooks->dispatch(c->srv->userdata, c, &req, &result, &err) < 0)
		out = ipc_response_error(req.id, &err, &n);
	else
		out = ipc_response_ok(req.id, result, &n);
	ipc_request_done(&req);
	return client_send(c, out, n);
}

static int on_idle_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ctl_client *c = userdata;

	(void)s, (void)usec;
	log_debug("control: closing a client whose line stayed unfinished");
	client_kill(c);
	return 0;
}

/*
 * A half-sent line must not sit forever: arm (or disarm) its timeout. The deadline counts from
 * the moment the current partial line began — line_began says this read finished a line and
 * started the next — so a client streaming request after request is never dropped, while one
 * that trickles a single line a byte at a time still is.
 */
static int client_arm_idle(struct ctl_client *c, bool line_began)
{
	uint64_t now;

	if (c->in_len == 0)
		return c->idle ? sd_event_source_set_enabled(c->idle, SD_EVENT_OFF) : 0;
	if (!line_began && c->idle && sd_event_source_get_enabled(c->idle, NULL) > 0)
		return 0; /* still the same line: its deadline stands */
	sd_event_now(c->srv->event, CLOCK_MONOTONIC, &now);
	now += (uint64_t)c->srv->s.idle_timeout_ms * 1000;
	if (!c->idle)
		return sd_event_add_time(c->srv->event, &c->idle, CLOCK_MONOTONIC, now, 0,
					 on_idle_timeout, c);
	sd_event_source_set_time(c->idle, now);
	return sd_event_source_set_enabled(c->idle, SD_EVENT_ONESHOT);
}

/* Answers every whole line in the buffer; false when the client was dropped. */
static bool client_process_lines(struct ctl_client *c)
{
	size_t start = 0;
	char *nl;

	while (!c->closing && (nl = memchr(c->in + start, '\n', c->in_len - start))) {
		size_t len = (size_t)(nl - (c->in + start));

		if (len > c->srv->s.max_line)
			break; /* whole, but too long all the same */
		if (len && c->in[start + len - 1] == '\r')
			len--; /* tolerate CRLF from hand-typed sessions (socat, nc) */
		if (!client_handle_line(c, c->in + start, len))
			return false;
		start = (size_t)(nl - c->in) + 1;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	if (c->in_len > c->srv->s.max_line && !c->closing) {
		char msg[128];

		snprintf(msg, sizeof(msg), "request line longer than %zu bytes ([ipc] max_line)",
			 c->srv->s.max_line);
		c->in_len = 0;
		if (!client_send_error(c, json_null(), IPC_ERR_TOO_LARGE, msg))
			return false;
		c->closing = true; /* answered; close once it is sent */
		if (client_flush(c) < 0 || c->out_len == 0) {
			client_kill(c);
			return false;
		}
	}
	return client_arm_idle(c, start > 0) >= 0;
}

static int client_read(struct ctl_client *c)
{
	ssize_t n;

	if (c->in_cap - c->in_len < READ_CHUNK) {
		/* Never more than max_line plus one chunk: a longer line is refused above. */
		size_t cap = EL_MIN(EL_MAX(c->in_cap * 2, c->in_len + READ_CHUNK),
				    c->srv->s.max_line + 2 * READ_CHUNK);
		char *p = realloc(c->in, cap);

		if (!p)
			return -ENOMEM;
		c->in = p;
		c->in_cap = cap;
	}
	n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 1 : -errno;
	if (n == 0)
		return -ECONNRESET;
	c->in_len += (size_t)n;
	return 0;
}

static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ctl_client *c = userdata;
	int r;

	(void)s, (void)fd;
	if (c->dead)
		return 0;
	if (revents & EPOLLOUT) {
		if (client_flush(c) < 0 || (c->closing && c->out_len == 0)) {
			client_kill(c);
			return 0;
		}
	}
	if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) || c->closing)
		return 0;
	r = client_read(c);
	if (r < 0) {
		client_kill(c);
		return 0;
	}
	if (r == 0)
		client_process_lines(c);
	return 0;
}

static bool gid_allowed(const struct ctl_settings *s, gid_t gid)
{
	for (size_t i = 0; i < s->n_allow_gids; i++)
		if (s->allow_gids[i] == gid)
			return true;
	return false;
}

/*
 * Is one of the peer's supplementary groups allowed? They come from SO_PEERGROUPS (Linux 4.13):
 * what the process really held at connect(), as the kernel recorded it. Not getgrouplist(),
 * which asks the group database (maybe NSS over the network, on this thread) and ignores what
 * the process dropped or was never given, nor /proc/PID/status, whose pid may already be gone
 * or reused. Unavailable: false (the primary gid was checked already).
 */
static bool peer_groups_allowed(const struct ctl_settings *s, int fd)
{
	gid_t stack[64], *groups = stack;
	socklen_t len = sizeof(stack);
	bool ok = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		/* ERANGE: len now says how much the peer's groups need */
		if (errno != ERANGE || !(groups = malloc(len)) ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
			log_debug("control: cannot read the peer's supplementary groups");
			len = 0;
		}
	}
	for (size_t i = 0; !ok && i < len / sizeof(gid_t); i++)
		ok = gid_allowed(s, groups[i]);
	if (groups != stack)
		free(groups);
	return ok;
}

static bool peer_allowed(const struct ctl_settings *s, int fd, const struct ucred *cred)
{
	if (cred->uid == 0 || cred->uid == geteuid() ||
	    (s->n_allow_uids == 0 && s->n_allow_gids == 0))
		return true;
	for (size_t i = 0; i < s->n_allow_uids; i++)
		if (s->allow_uids[i] == cred->uid)
			return true;
	return gid_allowed(s, cred->gid) || (s->n_allow_gids > 0 && peer_groups_allowed(s, fd));
}

/* Refuses a connection with one error line, never waiting for the peer. */
static void refuse(int fd, enum ipc_error_code code, const char *message)
{
	struct ipc_error e = {.code = code};
	size_t len = 0;
	char *line;

	snprintf(e.message, sizeof(e.message), "%s", message);
	line = ipc_response_error(json_null(), &e, &len);
	if (line && send(fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("control: could not tell a refused client why: %s", strerror(errno));
	free(line);
	close(fd);
}

static void accept_one(struct ctl_server *srv, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct ctl_client *c;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return refuse(fd, IPC_ERR_PERMISSION, "cannot identify the peer");
	if (!peer_allowed(&srv->s, fd, &cred)) {
		log_notice("control: refused uid %u gid %u (not in [ipc] allow_uids/allow_gids)",
			   (unsigned)cred.uid, (unsigned)cred.gid);
		return refuse(fd, IPC_ERR_PERMISSION,
			      "this user may not control echoeld "
			      "([ipc] allow_uids, allow_gids)");
	}
	if (srv->n_clients >= srv->s.max_clients)
		return refuse(fd, IPC_ERR_BUSY, "too many clients ([ipc] max_clients)");
	c = calloc(1, sizeof(*c));
	if (!c)
		return refuse(fd, IPC_ERR_INTERNAL, "out of memory");
	*c = (struct ctl_client){.srv = srv, .fd = fd, .uid = cred.uid, .gid = cred.gid};
	if (sd_event_add_io(srv->event, &c->io, fd, EPOLLIN, on_client_io, c) < 0) {
		free(c);
		return refuse(fd, IPC_ERR_INTERNAL, "cannot watch the connection");
	}
	c->next = srv->clients;
	if (c->next)
		c->next->prev = c;
	srv->clients = c;
	srv->n_clients++;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct ctl_server *srv = userdata;

	(void)s, (void)revents;
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warning("control: accept failed: %s", strerror(errno));
			if (errno != EINTR && errno != ECONNABORTED)
				return 0; /* transient errors must not disable the source */
			continue;
		}
		accept_one(srv, cfd);
	}
}

/* ---- subscriptions ---- */

static int on_sub_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ctl_client *c = userdata;
	struct ctl_server *srv = c->srv;
	size_t len = 0;
	uint64_t now;

	if (c->dead)
		return 0;
	/* From when it was due, so the rate does not drift; but after a late wake-up (a long
	 * command, a stopped process) from now: catching up would send a burst of equal values. */
	if (sd_event_now(srv->event, CLOCK_MONOTONIC, &now) >= 0 && usec + c->period_usec <= now)
		usec = now;
	sd_event_source_set_time(s, usec + c->period_usec);
	/* Unsent output means the client lags: skip, and send fresh values next time. */
	if (c->out_len - c->out_off > 0)
		return 0;
	if (c->events & CTL_EVENT_METERS) {
		char *line = ipc_event_build("meters", srv->hooks->meters(srv->userdata), &len);

		if (!client_send(c, line, len))
			return 0;
	}
	if (c->events & CTL_EVENT_LOAD) {
		char *line = ipc_event_build("load", srv->hooks->load(srv->userdata), &len);

		client_send(c, line, len);
	}
	return 0;
}

int ctl_client_subscribe(struct ctl_client *c, unsigned events, double rate)
{
	uint64_t now;
	int r;

	c->events |= events;
	c->rate = rate;
	c->period_usec = (uint64_t)(1e6 / EL_MIN(rate, c->srv->max_event_hz));
	if (!(c->events & (CTL_EVENT_METERS | CTL_EVENT_LOAD)))
		return 0;
	sd_event_now(c->srv->event, CLOCK_MONOTONIC, &now);
	if (!c->sub_timer) {
		/* Slack of a twentieth of the period: 0 means sd-event's default, 250 ms, which
		 * bunches events into bursts of equal values four times a second at any rate. */
		r = sd_event_add_time(c->srv->event, &c->sub_timer, CLOCK_MONOTONIC,
				      now + c->period_usec, EL_MAX(c->period_usec / 20, 1),
				      on_sub_timer, c);
		if (r < 0)
			return r;
	} else {
		sd_event_source_set_time(c->sub_timer, now + c->period_usec);
		sd_event_source_set_time_accuracy(c->sub_timer, EL_MAX(c->period_usec / 20, 1));
	}
	return sd_event_source_set_enabled(c->sub_timer, SD_EVENT_ON);
}

void ctl_server_set_max_event_rate(struct ctl_server *srv, unsigned hz)
{
	double cap = hz ? (double)hz : CTL_MAX_EVENT_HZ;

	if (cap == srv->max_event_hz)
		return;
	srv->max_event_hz = cap;
	/* every subscriber at its own rate under the new cap, from its next tick on */
	for (struct ctl_client *c = srv->clients; c; c = c->next)
		if (!c->dead && c->sub_timer && (c->events & (CTL_EVENT_METERS | CTL_EVENT_LOAD)))
			ctl_client_subscribe(c, 0, c->rate);
}

void ctl_client_unsubscribe(struct ctl_client *c, unsigned events)
{
	c->events &= ~events;
	if (c->sub_timer && !(c->events & (CTL_EVENT_METERS | CTL_EVENT_LOAD)))
		sd_event_source_set_enabled(c->sub_timer, SD_EVENT_OFF);
}

void ctl_server_broadcast(struct ctl_server *srv, unsigned bit, const char *name, json_t *fields)
{
	char *line;
	size_t len = 0;
	uint64_t now;

	if (!srv) {
		json_decref(fields);
		return;
	}
	/* Every event has a `time` (docs/protocol.md): seconds since start, as the meters. */
	if (fields && !json_object_get(fields, "time") &&
	    sd_event_now(srv->event, CLOCK_MONOTONIC, &now) >= 0)
		json_object_set_new(fields, "time",
				    json_real((double)(now - srv->epoch_usec) / 1e6));
	line = ipc_event_build(name, fields, &len);
	for (struct ctl_client *c = srv->clients; line && c; c = c->next)
		if (!c->dead && (c->events & bit) && client_queue(c, line, len) < 0)
			client_kill(c);
	free(line);
}

void ctl_server_announce_stop(struct ctl_server *srv)
{
	/* client_queue() sends at once what the socket takes; the rest goes with the client */
	ctl_server_broadcast(srv, CTL_EVENT_STOPPING, "stopping", json_object());
}

const char *ctl_server_get_path(const struct ctl_server *srv)
{
	return srv ? ctl_listener_get_path(srv->listener) : NULL;
}

const struct ctl_settings *ctl_server_get_settings(const struct ctl_server *srv)
{
	return &srv->s;
}

/* ---- the socket ---- */

int ctl_server_new(sd_event *event, int listen_fd, uint64_t epoch_usec,
		   const struct ctl_server_hooks *hooks, void *userdata, struct ctl_settings *s,
		   struct ctl_server **ret, struct el_error *reterr)
{
	struct ctl_server *srv = calloc(1, sizeof(*srv));
	int r;

	if (!srv) {
		if (listen_fd >= 0)
			close(listen_fd);
		return el_error_set(reterr, -ENOMEM, "out of memory");
	}
	srv->event = event;
	srv->epoch_usec = epoch_usec;
	srv->hooks = hooks;
	srv->userdata = userdata;
	srv->s = *s;
	srv->max_event_hz = CTL_MAX_EVENT_HZ;
	memset(s, 0, sizeof(*s)); /* taken */
	r = ctl_listener_new(event, &srv->s, listen_fd, on_accept, srv, &srv->listener, reterr);
	if (r == 0 && ((r = sd_event_add_defer(event, &srv->reaper, on_reap, srv)) < 0 ||
		       (r = sd_event_source_set_enabled(srv->reaper, SD_EVENT_OFF)) < 0))
		el_error_set(reterr, r, "cannot serve the control socket: %s", strerror(-r));
	if (r < 0) {
		ctl_server_free(srv);
		return r;
	}
	*ret = srv;
	return 0;
}

struct ctl_server *ctl_server_free(struct ctl_server *srv)
{
	if (!srv)
		return NULL;
	while (srv->clients)
		client_free(srv->clients);
	srv->listener = ctl_listener_free(srv->listener);
	sd_event_source_disable_unref(srv->reaper);
	ctl_settings_done(&srv->s);
	free(srv);
	return NULL;
}
