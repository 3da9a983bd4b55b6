/* SPDX-License-Identifier: MIT */
/*
 * ipc/client.c: the client side of the control protocol — connect, call, receive events.
 *
 * DESIGN
 * The socket is non-blocking; every wait is a poll(2) against one deadline per call, so a call
 * never takes longer than its timeout however the bytes trickle in. Input collects in one
 * growing buffer (buf[start..end)): a line may arrive in any number of reads, and several lines
 * may arrive in one. The buffer never grows beyond ECHOEL_CLIENT_MAX_LINE, which bounds what a
 * misbehaving peer can make us allocate. Each line is one JSON object: a response (it has "ok")
 * or an event (it has "event"). Responses are matched by id, so the late answer to a call that
 * timed out is recognised and dropped rather than mistaken for the next call's answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/el-macros.h"
#include "ipc/client.h"
#include "ipc/socket-path.h"

/* First buffer size: most responses and events fit in one page. */
#define BUF_INITIAL 4096u

struct echoel_client {
	int fd;
	json_int_t last_id; /* the id of the last request sent */
	int broken;         /* 0, or the error every entry point now returns */
	char *buf;          /* owned: bytes read and not yet consumed are buf[start..end) */
	size_t start, end, cap;
	size_t scanned; /* buf[start..scanned) holds no "\n" */
	json_t *events; /* owned: an array of queued events, oldest first */
};

enum msg_kind { MSG_RESPONSE, MSG_EVENT };

int echoel_client_connect(const char *path, struct echoel_client **ret)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char def[IPC_SOCKET_PATH_MAX];
	struct echoel_client *c;
	int r;

	if (!ret)
		return -EINVAL;
	if (!path) {
		if ((r = ipc_socket_path_default(def, sizeof(def))) < 0)
			return r;
		path = def;
	}
	if (path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path))
		return path[0] ? -ENAMETOOLONG : -EINVAL;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->buf = malloc(BUF_INITIAL);
	c->cap = BUF_INITIAL;
	c->events = json_array();
	/* A blocking connect (a local listener answers at once), then non-blocking I/O. */
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || !c->buf || !c->events) {
		r = c->fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	if (connect(c->fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto fail;
	}
	r = fcntl(c->fd, F_GETFL);
	if (r < 0 || fcntl(c->fd, F_SETFL, r | O_NONBLOCK) < 0) {
		r = -errno;
		goto fail;
	}
	*ret = c;
	return 0;
fail:
	echoel_client_free(c);
	return r;
}

struct echoel_client *echoel_client_free(struct echoel_client *c)
{
	if (!c)
		return NULL;
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	json_decref(c->events);
	free(c);
	return NULL;
}

int echoel_client_get_fd(const struct echoel_client *c)
{
	return c ? c->fd : -EINVAL;
}

/* Milliseconds on the monotonic clock. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The deadline for a timeout: -1 for none (timeout_ms < 0). */
static int64_t deadline_after(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* Waits until fd is ready for events (POLLIN/POLLOUT). 0, -ETIMEDOUT, or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};

	for (;;) {
		int64_t left = deadline < 0 ? -1 : EL_MAX(deadline - now_ms(), 0);
		int n = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);

		if (n > 0)
			return 0; /* also POLLHUP/POLLERR: the read or write says what happened */
		if (n == 0 && left == 0)
			return -ETIMEDOUT;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* Writes all of data. 0; -ETIMEDOUT with *ret_sent bytes gone; -ECONNRESET; -errno. */
static int send_all(int fd, const char *data, size_t len, int64_t deadline, size_t *ret_sent)
{
	size_t done = 0;
	int r;

	while (done < len) {
		ssize_t n = send(fd, data + done, len - done, MSG_NOSIGNAL);

		if (n >= 0) {
			done += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EPIPE || errno == ECONNRESET)
			return -ECONNRESET;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		*ret_sent = done;
		if ((r = wait_fd(fd, POLLOUT, deadline)) < 0)
			return r;
	}
	*ret_sent = done;
	return 0;
}

/* Makes room for at least one more byte at buf[end]. 0, -EMSGSIZE or -ENOMEM. */
static int make_room(struct echoel_client *c)
{
	size_t cap;
	char *b;

	if (c->end < c->cap)
		return 0;
	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->scanned -= c->start;
		c->start = 0;
		return 0;
	}
	if (c->cap >= ECHOEL_CLIENT_MAX_LINE)
		return -EMSGSIZE;
	cap = EL_MIN((size_t)c->cap * 2, (size_t)ECHOEL_CLIENT_MAX_LINE);
	b = realloc(c->buf, cap);
	if (!b)
		return -ENOMEM;
	c->buf = b;
	c->cap = cap;
	return 0;
}

/* Reads what the socket has (waiting until the deadline). 0, or a negative errno. */
static int fill(struct echoel_client *c, int64_t deadline)
{
	int r;

	if ((r = make_room(c)) < 0)
		return r;
	for (;;) {
		ssize_t n = read(c->fd, c->buf + c->end, c->cap - c->end);

		if (n > 0) {
			c->end += (size_t)n;
			return 0;
		}
		if (n == 0)
			return -ECONNRESET; /* closed, between lines or in the middle of one */
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return errno == EPIPE ? -ECONNRESET : -errno;
		if ((r = wait_fd(c->fd, POLLIN, deadline)) < 0)
			return r;
	}
}

/* The next line, without its "\n": valid until the next fill(). 0, or a negative errno. */
static int next_line(struct echoel_client *c, int64_t deadline, const char **ret, size_t *ret_len)
{
	int r;

	for (;;) {
		char *nl = memchr(c->buf + c->scanned, '\n', c->end - c->scanned);

		if (nl) {
			*ret = c->buf + c->start;
			*ret_len = (size_t)(nl - *ret);
			c->start = c->scanned = (size_t)(nl - c->buf) + 1;
			return 0;
		}
		c->scanned = c->end;
		if (c->start == c->end)
			c->start = c->end = c->scanned = 0;
		if (c->end - c->start >= ECHOEL_CLIENT_MAX_LINE)
			return -EMSGSIZE;
		if ((r = fill(c, deadline)) < 0)
			return r;
	}
}

/* One message from the daemon, classified. 0 with *ret (owned), or a negative errno. */
static int read_message(struct echoel_client *c, int64_t deadline, json_t **ret,
			enum msg_kind *ret_kind)
{
	const char *line;
	size_t len;
	json_t *m;
	int r;

	if ((r = next_line(c, deadline, &line, &len)) < 0)
		return r;
	m = json_loadb(line, len, 0, NULL);
	if (!m)
		return -EPROTO;
	if (json_is_object(m) && json_is_string(json_object_get(m, "event"))) {
		*ret_kind = MSG_EVENT;
	} else if (json_is_object(m) && json_is_boolean(json_object_get(m, "ok"))) {
		*ret_kind = MSG_RESPONSE;
	} else {
		json_decref(m);
		return -EPROTO;
	}
	*ret = m;
	return 0;
}

/* Errors after which the byte stream can no longer be trusted make the client broken. */
static int fail(struct echoel_client *c, int r)
{
	if (r != -ETIMEDOUT && r != -ENOMEM && r != -EINVAL)
		c->broken = r;
	return r;
}

static int queue_event(struct echoel_client *c, json_t *ev)
{
	if (json_array_append_new(c->events, ev) < 0)
		return -ENOMEM;
	/* A caller that never reads events must not grow us without bound: drop the oldest. */
	if (json_array_size(c->events) > ECHOEL_CLIENT_MAX_EVENTS)
		json_array_remove(c->events, 0);
	return 0;
}

/* Is m the answer to request id? A refusal with a null id answers whatever we sent. */
static bool response_matches(const json_t *m, json_int_t id)
{
	const json_t *rid = json_object_get(m, "id");

	if (json_is_integer(rid))
		return json_integer_value(rid) == id;
	return json_is_null(rid) && json_is_false(json_object_get(m, "ok"));
}

/* Hands out the result, or fills reterr from the error object. */
static int take_response(json_t *m, json_t **ret_result, struct ipc_error *reterr)
{
	json_t *err, *code, *msg, *result;
	int k;

	if (json_is_true(json_object_get(m, "ok"))) {
		result = json_object_get(m, "result");
		result = result ? json_incref(result) : json_object();
		if (!result)
			return -ENOMEM;
		if (ret_result)
			*ret_result = result;
		else
			json_decref(result);
		return 0;
	}
	err = json_object_get(m, "error");
	code = json_object_get(err, "code");
	msg = json_object_get(err, "message");
	if (!json_is_string(code) || !json_is_string(msg))
		return -EPROTO;
	if (reterr) {
		k = ipc_error_code_from_name(json_string_value(code));
		reterr->code = k < 0 ? IPC_ERR_INTERNAL : (enum ipc_error_code)k;
		snprintf(reterr->message, sizeof(reterr->message), "%s", json_string_value(msg));
	}
	return -EREMOTEIO;
}

/* Sends one request line; a partial line left behind by a timeout would corrupt the stream. */
static int send_request(struct echoel_client *c, const char *line, size_t len, int64_t deadline)
{
	size_t sent = 0;
	int r = send_all(c->fd, line, len, deadline, &sent);

	if (r == -ETIMEDOUT && sent > 0) {
		shutdown(c->fd, SHUT_RDWR);
		c->broken = -ECONNRESET;
	}
	return r;
}

int echoel_client_call(struct echoel_client *c, const char *cmd, json_t *args, int timeout_ms,
		       json_t **ret_result, struct ipc_error *reterr)
{
	int64_t deadline = deadline_after(timeout_ms);
	enum msg_kind kind;
	char *line;
	size_t len;
	json_t *m;
	int r;

	if (!c || !cmd || c->broken) {
		json_decref(args);
		return !c || !cmd ? -EINVAL : c->broken;
	}
	line = ipc_request_build(++c->last_id, cmd, args, &len); /* steals args */
	if (!line)
		return -ENOMEM;
	r = send_request(c, line, len, deadline);
	free(line);
	if (r < 0)
		return fail(c, r);
	for (;;) {
		if ((r = read_message(c, deadline, &m, &kind)) < 0)
			return fail(c, r);
		if (kind == MSG_EVENT) {
			if ((r = queue_event(c, m)) < 0)
				return r;
			continue;
		}
		if (response_matches(m, c->last_id)) {
			r = take_response(m, ret_result, reterr);
			json_decref(m);
			return r == -EPROTO ? fail(c, r) : r;
		}
		json_decref(m); /* the late answer to a call that timed out */
	}
}

int echoel_client_next_event(struct echoel_client *c, int timeout_ms, json_t **ret_event)
{
	int64_t deadline = deadline_after(timeout_ms);
	enum msg_kind kind;
	json_t *m;
	int r;

	if (!c || !ret_event)
		return -EINVAL;
	if (json_array_size(c->events) > 0) {
		*ret_event = json_incref(json_array_get(c->events, 0));
		json_array_remove(c->events, 0);
		return 0;
	}
	if (c->broken)
		return c->broken;
	for (;;) {
		if ((r = read_message(c, deadline, &m, &kind)) < 0)
			return fail(c, r);
		if (kind == MSG_EVENT) {
			*ret_event = m;
			return 0;
		}
		json_decref(m); /* the late answer to a call that timed out */
	}
}
