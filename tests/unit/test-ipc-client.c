/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-ipc-client.c: the client library (ipc/client.c) black-box over a real Unix
 * socket in a temporary directory, served by a thread of this test that speaks the protocol
 * with ipc/protocol.c: responses matched by id, events queued during a call, lines split across
 * many writes or several in one, a line over the limit, a peer closing mid-line, timeouts, a
 * signal during a wait. Also the default socket path rule (ipc/socket-path.c).
 *
 * The server thread never asserts (cmocka is not thread-safe): it records what it saw in
 * struct server, and the test checks that after joining it.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/el-macros.h"
#include "ipc/client.h"
#include "ipc/protocol.h"
#include "ipc/socket-path.h"

#define MAX_SEEN 8

struct server;
typedef void script_fn(struct server *s, int fd);

struct server {
	char dir[PATH_MAX];
	char path[IPC_SOCKET_PATH_MAX];
	int listen_fd;
	pthread_t thread;
	pthread_t client_thread; /* for test_eintr: the thread to interrupt */
	script_fn *script;
	const char *reply; /* what script_reply sends; borrowed */
	/* What the script saw, checked after the join. */
	json_int_t ids[MAX_SEEN];
	char cmds[MAX_SEEN][32];
	int n_seen;
	int failed; /* the script could not do its part */
};

/* ---- the server side ------------------------------------------------------------------- */

static void send_str(struct server *s, int fd, const char *str, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, str, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			s->failed = -errno;
			return;
		}
		str += n;
		len -= (size_t)n;
	}
}

static void send_line(struct server *s, int fd, const char *line)
{
	send_str(s, fd, line, strlen(line));
}

/* Reads one request line (byte by byte: the test needs no speed) and records id and cmd. */
static int read_request(struct server *s, int fd, struct ipc_request *req)
{
	char line[4096];
	size_t len = 0;
	struct ipc_error err;

	for (;;) {
		ssize_t n = read(fd, line + len, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -ECONNRESET;
		if (line[len] == '\n')
			break;
		if (++len == sizeof(line))
			return -EMSGSIZE;
	}
	if (ipc_request_parse(line, len, req, &err) < 0) {
		ipc_request_done(req);
		s->failed = -EPROTO;
		return -EPROTO;
	}
	if (s->n_seen < MAX_SEEN) {
		s->ids[s->n_seen] = json_integer_value(req->id);
		snprintf(s->cmds[s->n_seen], sizeof(s->cmds[0]), "%s", req->cmd);
		s->n_seen++;
	}
	return 0;
}

/* Answers req with result (stolen), then forgets req. */
static void answer(struct server *s, int fd, struct ipc_request *req, json_t *result)
{
	size_t len;
	char *line = ipc_response_ok(req->id, result, &len);

	if (line)
		send_str(s, fd, line, len);
	free(line);
	ipc_request_done(req);
}

/* Waits until the client hangs up. */
static void drain(int fd)
{
	char b[256];

	while (read(fd, b, sizeof(b)) > 0)
		;
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		s->failed = -errno;
		return NULL;
	}
	s->script(s, fd);
	close(fd);
	return NULL;
}

static void server_start(struct server *s, script_fn *script, const char *reply)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *tmp = getenv("TMPDIR");

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s/test-ipc-client-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(s->dir));
	assert_true((size_t)snprintf(s->path, sizeof(s->path), "%s/control", s->dir) <
		    sizeof(s->path));
	s->script = script;
	s->reply = reply;
	s->client_thread = pthread_self();
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->listen_fd >= 0);
	memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
	assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->listen_fd, 4), 0);
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(struct server *s)
{
	assert_int_equal(pthread_join(s->thread, NULL), 0);
	close(s->listen_fd);
	unlink(s->path);
	rmdir(s->dir);
}

static struct echoel_client *connect_to(const struct server *s)
{
	struct echoel_client *c = NULL;

	assert_int_equal(echoel_client_connect(s->path, &c), 0);
	assert_non_null(c);
	return c;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- scripts and tests ----------------------------------------------------------------- */

/* Answers every request with {"cmd": cmd, "args": args}. */
static void script_echo(struct server *s, int fd)
{
	struct ipc_request req;

	while (read_request(s, fd, &req) == 0)
		answer(s, fd, &req, json_pack("{s:s, s:O}", "cmd", req.cmd, "args", req.args));
}

static void test_call(void **state)
{
	struct server s;
	struct echoel_client *c;
	struct ipc_error err = {0};
	json_t *result = NULL;

	(void)state;
	server_start(&s, script_echo, NULL);
	c = connect_to(&s);
	assert_true(echoel_client_get_fd(c) >= 0);
	assert_int_equal(echoel_client_call(c, "hello", NULL, 2000, &result, &err), 0);
	assert_string_equal(json_string_value(json_object_get(result, "cmd")), "hello");
	json_decref(result);
	assert_int_equal(echoel_client_call(c, "set",
					    json_pack("{s:s, s:s, s:f}", "node", "volume", "param",
						      "gain_db", "value", -6.0),
					    2000, &result, &err),
			 0);
	assert_string_equal(json_string_value(json_object_get(result, "cmd")), "set");
	assert_true(json_number_value(json_object_get(json_object_get(result, "args"), "value")) ==
		    -6.0);
	json_decref(result);
	assert_int_equal(echoel_client_call(c, "status", NULL, 2000, NULL, NULL), 0);
	/* Invalid calls take ownership of args all the same (ASan's leak check sees it). */
	assert_int_equal(echoel_client_call(c, NULL, json_object(), 100, NULL, NULL), -EINVAL);
	assert_int_equal(echoel_client_call(NULL, "x", json_object(), 100, NULL, NULL), -EINVAL);
	c = echoel_client_free(c);
	assert_null(c);
	server_stop(&s);
	assert_int_equal(s.failed, 0);
	assert_int_equal(s.n_seen, 3);
	assert_int_equal(s.ids[0], 1);
	assert_int_equal(s.ids[1], 2);
	assert_int_equal(s.ids[2], 3);
	assert_string_equal(s.cmds[1], "set");
	assert_null(echoel_client_free(NULL));
	assert_int_equal(echoel_client_get_fd(NULL), -EINVAL);
}

/* Events and a stale response come before the answer, all in one write; then a late event. */
static void script_events(struct server *s, int fd)
{
	struct ipc_request req;
	char buf[512];

	if (read_request(s, fd, &req) < 0)
		return;
	snprintf(buf, sizeof(buf),
		 "{\"event\":\"load\",\"time\":1,\"load\":0.25}\n"
		 "{\"id\":999,\"ok\":true,\"result\":{\"stale\":true}}\n"
		 "{\"event\":\"xrun\",\"time\":2,\"delay_us\":5}\n"
		 "{\"id\":%lld,\"ok\":true,\"result\":{\"fresh\":true}}\n",
		 (long long)json_integer_value(req.id));
	ipc_request_done(&req);
	send_line(s, fd, buf);
	usleep(50 * 1000);
	send_line(s, fd, "{\"event\":\"graph\",\"time\":3,\"nodes\":6}\n");
	drain(fd);
}

static void expect_event(struct echoel_client *c, int timeout_ms, const char *name)
{
	json_t *ev = NULL;

	assert_int_equal(echoel_client_next_event(c, timeout_ms, &ev), 0);
	assert_string_equal(json_string_value(json_object_get(ev, "event")), name);
	json_decref(ev);
}

static void test_events_queued(void **state)
{
	struct server s;
	struct echoel_client *c;
	json_t *result = NULL, *ev = NULL;

	(void)state;
	server_start(&s, script_events, NULL);
	c = connect_to(&s);
	assert_int_equal(echoel_client_call(c, "subscribe", NULL, 2000, &result, NULL), 0);
	assert_true(json_is_true(json_object_get(result, "fresh")));
	json_decref(result);
	expect_event(c, 0, "load");
	expect_event(c, 0, "xrun");
	expect_event(c, 2000, "graph");
	assert_int_equal(echoel_client_next_event(c, 0, &ev), -ETIMEDOUT);
	assert_null(ev);
	assert_int_equal(echoel_client_next_event(c, 30, &ev), -ETIMEDOUT);
	echoel_client_free(c);
	server_stop(&s);
	assert_int_equal(s.failed, 0);
}

/* More events during one call than the queue keeps: the oldest go. */
static void script_flood(struct server *s, int fd)
{
	struct ipc_request req;
	char buf[128];

	if (read_request(s, fd, &req) < 0)
		return;
	for (unsigned i = 0; i < ECHOEL_CLIENT_MAX_EVENTS + 10; i++) {
		snprintf(buf, sizeof(buf), "{\"event\":\"meters\",\"seq\":%u}\n", i);
		send_line(s, fd, buf);
	}
	answer(s, fd, &req, NULL);
	drain(fd);
}

static void test_event_queue_bounded(void **state)
{
	struct server s;
	struct echoel_client *c;
	json_t *ev = NULL;

	(void)state;
	server_start(&s, script_flood, NULL);
	c = connect_to(&s);
	assert_int_equal(echoel_client_call(c, "status", NULL, 5000, NULL, NULL), 0);
	for (unsigned i = 0; i < ECHOEL_CLIENT_MAX_EVENTS; i++) {
		assert_int_equal(echoel_client_next_event(c, 0, &ev), 0);
		assert_int_equal(json_integer_value(json_object_get(ev, "seq")), i + 10);
		json_decref(ev);
	}
	assert_int_equal(echoel_client_next_event(c, 0, &ev), -ETIMEDOUT);
	echoel_client_free(c);
	server_stop(&s);
	assert_int_equal(s.failed, 0);
}

/* A 200 kB response, one or a few bytes per write. */
static void script_split(struct server *s, int fd)
{
	struct ipc_request req;
	char *big = malloc(200001), *line;
	size_t len, off = 0;

	if (!big || read_request(s, fd, &req) < 0) {
		free(big);
		return;
	}
	memset(big, 'x', 200000);
	big[200000] = '\0';
	line = ipc_response_ok(req.id, json_pack("{s:s}", "big", big), &len);
	ipc_request_done(&req);
	for (size_t step = 1; line && off < len; step = step % 7 + 1) {
		size_t n = EL_MIN(step, len - off);

		send_str(s, fd, line + off, n);
		off += n;
		if (off < 64) /* the first bytes slowly, so they arrive in separate reads */
			usleep(2000);
	}
	free(line);
	free(big);
	drain(fd);
}

static void test_split_response(void **state)
{
	struct server s;
	struct echoel_client *c;
	json_t *result = NULL;

	(void)state;
	server_start(&s, script_split, NULL);
	c = connect_to(&s);
	assert_int_equal(echoel_client_call(c, "node.list", NULL, 10000, &result, NULL), 0);
	assert_int_equal(json_string_length(json_object_get(result, "big")), 200000);
	json_decref(result);
	echoel_client_free(c);
	server_stop(&s);
	assert_int_equal(s.failed, 0);
}

/* Sends n bytes of 'x', ignoring a peer that gave up. */
static void send_filler(int fd, size_t n)
{
	static char chunk[65536];

	memset(chunk, 'x', sizeof(chunk));
	while (n > 0) {
		ssize_t k = send(fd, chunk, EL_MIN(n, sizeof(chunk)), MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		n -= (size_t)k;
	}
}

/* A line of exactly ECHOEL_CLIENT_MAX_LINE bytes ("\n" included), then one a byte longer. */
static void script_long_lines(struct server *s, int fd)
{
	static const char prefix[] = "{\"id\":1,\"ok\":true,\"result\":\"", suffix[] = "\"}\n";
	struct ipc_request req;

	if (read_request(s, fd, &req) < 0)
		return;
	ipc_request_done(&req);
	send_line(s, fd, prefix);
	send_filler(fd, ECHOEL_CLIENT_MAX_LINE - strlen(prefix) - strlen(suffix));
	send_line(s, fd, suffix);
	if (read_request(s, fd, &req) < 0)
		return;
	ipc_request_done(&req);
	send_filler(fd, ECHOEL_CLIENT_MAX_LINE);
	send(fd, "\n", 1, MSG_NOSIGNAL);
	drain(fd);
}

static void test_line_limit(void **state)
{
	struct server s;
	struct echoel_client *c;
	json_t *result = NULL, *ev = NULL;

	(void)state;
	server_start(&s, script_long_lines, NULL);
	c = connect_to(&s);
	assert_int_equal(echoel_client_call(c, "status", NULL, 30000, &result, NULL), 0);
	assert_int_equal(json_string_length(result), ECHOEL_CLIENT_MAX_LINE - 31);
	json_decref(result);
	assert_int_equal(echoel_client_call(c, "status", NULL, 30000, &result, NULL), -EMSGSIZE);
	/* The stream lost its framing: the client stays broken. */
	assert_int_equal(echoel_client_call(c, "status", NULL, 1000, &result, NULL), -EMSGSIZE);
	assert_int_equal(echoel_client_next_event(c, 0, &ev), -EMSGSIZE);
	echoel_client_free(c);
	server_stop(&s);
	assert_int_equal(s.failed, 0);
}

/* Reads one request, sends s->reply (if any) and hangs up. */
static void script_reply(struct server *s, int fd)
{
	struct ipc_request req;

	if (read_request(s, fd, &req) < 0)
		return;
	ipc_request_done(&req);
	if (s->reply)
		send_line(s, fd, s->reply);
}

/* The answer to a call when the server replies reply and hangs up. */
static int call_with_reply(const char *reply)
{
	struct server s;
	struct echoel_client *c;
	struct ipc_error err;
	json_t *result = NULL, *ev = NULL;
	int r, again;

	server_start(&s, script_reply, reply);
	c = connect_to(&s);
	r = echoel_client_call(c, "status", NULL, 5000, &result, &err);
	assert_null(result);
	server_stop(&s);
	assert_int_equal(s.failed, 0);
	/* Whatever broke the client breaks every later call the same way; events that came
	 * before the break are still handed out. */
	again = echoel_client_call(c, "status", NULL, 1000, &result, &err);
	assert_int_equal(again, r);
	while (echoel_client_next_event(c, 0, &ev) == 0) {
		assert_string_equal(json_string_value(json_object_get(ev, "event")), "load");
		json_decref(ev);
	}
	assert_int_equal(echoel_client_next_event(c, 0, &ev), r);
	echoel_client_free(c);
	return r;
}

static void test_peer_closes(void **state)
{
	(void)state;
	assert_int_equal(call_with_reply("{\"id\":1,\"ok\":tr"), -ECONNRESET);
	assert_int_equal(call_with_reply(NULL), -ECONNRESET);
	assert_int_equal(call_with_reply("{\"event\":\"load\",\"time\":1}\n{\"id\":1,"),
			 -ECONNRESET);
}

static void test_garbage(void **state)
{
	(void)state;
	assert_int_equal(call_with_reply("hello\n"), -EPROTO);
	assert_int_equal(call_with_reply("{\"foo\":1}\n"), -EPROTO);
	assert_int_equal(call_with_reply("[1,2]\n"), -EPROTO);
	assert_int_equal(call_with_reply("{\"id\":1,\"ok\":false}\n"), -EPROTO);
	assert_int_equal(call_with_reply("{\"id\":1,\"ok\":false,\"error\":{\"code\":1}}\n"),
			 -EPROTO);
}

/* Refusals: a known code, an unknown one, and one with a null id (the daemon could not read
 * ours). */
static void script_errors(struct server *s, int fd)
{
	struct ipc_request req;
	struct ipc_error err;
	size_t len;
	char *line;

	if (read_request(s, fd, &req) < 0)
		return;
	ipc_error_set(&err, IPC_ERR_NOT_FOUND, "no node named '%s'", "vol");
	line = ipc_response_error(req.id, &err, &len);
	ipc_request_done(&req);
	if (line)
		send_str(s, fd, line, len);
	free(line);
	if (read_request(s, fd, &req) < 0)
		return;
	ipc_request_done(&req);
	send_line(s, fd,
		  "{\"id\":2,\"ok\":false,\"error\":{\"code\":\"weird\",\"message\":\"m\"}}\n");
	if (read_request(s, fd, &req) < 0)
		return;
	ipc_request_done(&req);
	send_line(s, fd,
		  "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"too_large\",\"message\":\"a "
		  "line exceeds max_line\"}}\n");
	drain(fd);
}

static void test_remote_errors(void **state)
{
	struct server s;
	struct echoel_client *c;
	struct ipc_error err = {0};
	json_t *result = NULL;

	(void)state;
	server_start(&s, script_errors, NULL);
	c = connect_to(&s);
	assert_int_equal(echoel_client_call(c, "node.get", json_pack("{s:s}", "node", "vol"), 2000,
					    &result, &err),
			 -EREMOTEIO);
	assert_null(result);
	assert_int_equal(err.code, IPC_ERR_NOT_FOUND);
	assert_string_equal(err.message, "no node named 'vol'");
	assert_int_equal(echoel_client_call(c, "x", NULL, 2000, &result, &err), -EREMOTEIO);
	assert_int_equal(err.code, IPC_ERR_INTERNAL);
	assert_string_equal(err.message, "m");
	assert_int_equal(echoel_client_call(c, "x", NULL, 2000, &result, &err), -EREMOTEIO);
	assert_int_equal(err.code, IPC_ERR_TOO_LARGE);
	assert_string_equal(err.message, "a line exceeds max_line");
	echoel_client_free(c);
	server_stop(&s);
	assert_int_equal(s.failed, 0);
	assert_int_equal(s.n_seen, 3);
}

/* Answers the first request only after the second came, then the second. */
static void script_late(struct server *s, int fd)
{
	struct ipc_request first, second;

	if (read_request(s, fd, &first) < 0)
		return;
	if (read_request(s, fd, &second) < 0) {
		ipc_request_done(&first);
		return;
	}
	answer(s, fd, &first, json_pack("{s:i}", "n", 1));
	answer(s, fd, &second, json_pack("{s:i}", "n", 2));
	drain(fd);
}

static void test_timeout(void **state)
{
	struct server s;
	struct echoel_client *c;
	json_t *result = NULL, *ev = NULL;
	int64_t t0, dt;

	(void)state;
	server_start(&s, script_late, NULL);
	c = connect_to(&s);
	t0 = now_ms();
	assert_int_equal(echoel_client_call(c, "status", NULL, 150, &result, NULL), -ETIMEDOUT);
	dt = now_ms() - t0;
	print_message("timed out after %lld ms\n", (long long)dt);
	assert_true(dt >= 149 && dt < 2000);
	assert_null(result);
	/* Still usable: the late answer to the first call is dropped, not taken for this one's. */
	assert_int_equal(echoel_client_call(c, "stats", NULL, 5000, &result, NULL), 0);
	assert_int_equal(json_integer_value(json_object_get(result, "n")), 2);
	json_decref(result);
	assert_int_equal(echoel_client_next_event(c, 0, &ev), -ETIMEDOUT);
	echoel_client_free(c);
	server_stop(&s);
	assert_int_equal(s.failed, 0);
	assert_string_equal(s.cmds[1], "stats");
	assert_int_equal(s.ids[1], 2);
}

static volatile sig_atomic_t n_signals; /* set by a signal handler: volatile is right here */

static void on_sigusr1(int sig)
{
	(void)sig;
	n_signals++;
}

/* Interrupts the client's wait with signals before answering. */
static void script_signals(struct server *s, int fd)
{
	struct ipc_request req;

	if (read_request(s, fd, &req) < 0)
		return;
	for (int i = 0; i < 5; i++) {
		usleep(20 * 1000);
		pthread_kill(s->client_thread, SIGUSR1);
	}
	usleep(20 * 1000);
	answer(s, fd, &req, NULL);
	drain(fd);
}

static void test_eintr(void **state)
{
	struct sigaction sa = {.sa_handler = on_sigusr1}, old; /* no SA_RESTART */
	struct server s;
	struct echoel_client *c;

	(void)state;
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	n_signals = 0;
	server_start(&s, script_signals, NULL);
	c = connect_to(&s);
	assert_int_equal(echoel_client_call(c, "status", NULL, 5000, NULL, NULL), 0);
	echoel_client_free(c);
	server_stop(&s);
	sigaction(SIGUSR1, &old, NULL);
	assert_int_equal(s.failed, 0);
	assert_true(n_signals >= 1);
}

static void test_connect_errors(void **state)
{
	struct echoel_client *c = (struct echoel_client *)&c; /* must stay untouched */
	struct echoel_client *const sentinel = c;
	char path[300], dir[PATH_MAX];
	const char *tmp = getenv("TMPDIR");
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/test-ipc-client-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	assert_true(snprintf(path, sizeof(path), "%s/none", dir) < (int)sizeof(path));
	assert_int_equal(echoel_client_connect(path, &c), -ENOENT);
	f = fopen(path, "w"); /* a file that is not a socket */
	assert_non_null(f);
	fclose(f);
	assert_int_equal(echoel_client_connect(path, &c), -ECONNREFUSED);
	unlink(path);
	rmdir(dir);
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(echoel_client_connect(path, &c), -ENAMETOOLONG);
	assert_int_equal(echoel_client_connect("", &c), -EINVAL);
	assert_int_equal(echoel_client_connect("/x", NULL), -EINVAL);
	assert_ptr_equal(c, sentinel);
}

/* With no path, the client finds the socket where the rule says (as a user: in the runtime
 * directory). Root's default is /run/echoeld/control, which a test must not use. */
static void test_connect_default(void **state)
{
	struct server s;
	struct echoel_client *c = NULL;
	char dir[PATH_MAX], sub[PATH_MAX + 16];
	const char *tmp = getenv("TMPDIR");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	(void)state;
	if (geteuid() == 0) {
		print_message("root: the default path is /run/echoeld/control, not tried\n");
		skip();
	}
	snprintf(dir, sizeof(dir), "%s/test-ipc-client-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/echoeld", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	setenv("XDG_RUNTIME_DIR", dir, 1);
	server_start(&s, script_echo, NULL);
	/* Move the listening socket to where the default path points. */
	assert_true(snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/echoeld/control", dir) <
		    (int)sizeof(sa.sun_path));
	assert_int_equal(rename(s.path, sa.sun_path), 0);
	assert_int_equal(echoel_client_connect(NULL, &c), 0);
	assert_int_equal(echoel_client_call(c, "hello", NULL, 2000, NULL, NULL), 0);
	echoel_client_free(c);
	server_stop(&s);
	unlink(sa.sun_path);
	rmdir(sub);
	rmdir(dir);
	unsetenv("XDG_RUNTIME_DIR");
}

struct path_case {
	bool root;
	const char *runtime_dir;
	size_t size;
	int r;
	const char *path;
};

/* 91 characters: with "/echoeld/control" 107, the most a sockaddr_un holds (NUL included). */
#define DIR_91                                                                                     \
	"/run/user/"                                                                               \
	"012345678901234567890123456789012345678901234567890123456789012345678901234567890"

static const struct path_case path_cases[] = {
	{false, "/run/user/1000", 108, 0, "/run/user/1000/echoeld/control"},
	{true, "/run/user/0", 108, 0, "/run/echoeld/control"},
	{false, NULL, 108, 0, "/run/echoeld/control"},
	{false, "", 108, 0, "/run/echoeld/control"},
	{false, "run/user/1000", 108, 0, "/run/echoeld/control"},
	{false, "/run/user/1000", 31, 0, "/run/user/1000/echoeld/control"},
	{false, "/run/user/1000", 30, -ENAMETOOLONG, ""},
	{true, NULL, 20, -ENAMETOOLONG, ""},
	/* One character more does not fit, however big the buffer. */
	{false, DIR_91, 200, 0, DIR_91 "/echoeld/control"},
	{false, DIR_91 "1", 200, -ENAMETOOLONG, ""},
};

static void test_socket_path(void **state)
{
	char buf[200], def[IPC_SOCKET_PATH_MAX];

	(void)state;
	for (size_t i = 0; i < EL_N_ELEMENTS(path_cases); i++) {
		const struct path_case *c = &path_cases[i];

		print_message("case %zu\n", i);
		memset(buf, 'z', sizeof(buf));
		assert_int_equal(ipc_socket_path_build(c->root, c->runtime_dir, buf, c->size),
				 c->r);
		assert_string_equal(buf, c->path);
	}
	assert_int_equal(ipc_socket_path_build(false, NULL, NULL, 0), -ENAMETOOLONG);
	assert_int_equal(ipc_socket_path_default(def, sizeof(def)), 0);
	assert_true(def[0] == '/');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call),
		cmocka_unit_test(test_events_queued),
		cmocka_unit_test(test_event_queue_bounded),
		cmocka_unit_test(test_split_response),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_peer_closes),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_remote_errors),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_eintr),
		cmocka_unit_test(test_connect_errors),
		cmocka_unit_test(test_connect_default),
		cmocka_unit_test(test_socket_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
