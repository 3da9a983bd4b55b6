/* SPDX-License-Identifier: MIT */
/*
 * Property: the control socket does what docs/protocol.md says, and garbage cannot hurt the
 * daemon. Black box: the real echoeld on its own clock (a tone -> gains -> mix -> meter ->
 * output graph, so audio really runs), the real socket, raw bytes.
 *  - every command answers, and each error code comes back where it should;
 *  - abuse while audio runs (random bytes, invalid JSON, wrong shapes, a 10 MiB line, 500
 *    connections at once, clients vanishing mid-line, a subscriber that never reads, 10 000
 *    sets as fast as possible): afterwards the daemon answers, its late-cycle count did not move
 *    and the graph is unchanged;
 *  - a batch lands in one cycle: unmuting one of two identical tones while muting the other
 *    keeps the mixed peak constant; sent as two separate commands it bumps (the control case);
 *  - permissions: a uid not allowed is refused, a file outside file_dirs is refused, the socket
 *    has its configured mode; a second daemon on the same socket refuses to start, a stale
 *    socket file is replaced.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/integration/test-proc.h"

static struct test_proc proc;
static pid_t daemon_pid;
static char sock_path[100]; /* fits sockaddr_un */

static const char graph[] = "[engine]\nblock = 256\nfade_ms = 40\n"
			    "[ipc]\nmode = 0600\nallow_uids = 4242\nmax_clients = 64\n"
			    "max_line = 65536\nidle_timeout_ms = 500\n"
			    "[node.a]\ntype = tone\nfreq = 997\nlevel_db = -6.0206\n"
			    "[node.b]\ntype = tone\nfreq = 997\nlevel_db = -6.0206\n"
			    "[node.ga]\ntype = gain\ninput = a\n"
			    "[node.gb]\ntype = gain\nmute = yes\ninput = b\n"
			    "[node.sum]\ntype = mix\ninput = ga, gb\n"
			    "[node.meter]\ntype = meter\ninput = sum\n"
			    "[node.out]\ntype = output\ninput = meter\n";

static int connect_socket(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads one line (up to 1 MiB) with a timeout; returns its length or -1. */
static ssize_t read_line(int fd, char *buf, size_t size, int timeout_ms)
{
	size_t used = 0;
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (used + 1 < size) {
		ssize_t n = recv(fd, buf + used, 1, 0);
		if (n <= 0)
			return -1;
		if (buf[used] == '\n') {
			buf[used] = '\0';
			return (ssize_t)used;
		}
		used++;
	}
	return -1;
}

/* Sends a request line, returns the parsed response (owned) skipping events; NULL on failure. */
static json_t *call_fd(int fd, const char *line)
{
	static char buf[1 << 20];

	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0)
		return NULL;
	for (;;) {
		json_t *j;
		if (read_line(fd, buf, sizeof(buf), 5000) < 0)
			return NULL;
		j = json_loads(buf, 0, NULL);
		if (j && !json_object_get(j, "event"))
			return j;
		json_decref(j);
	}
}

static json_t *call(const char *line)
{
	int fd = connect_socket();
	json_t *r;

	assert_true(fd >= 0);
	r = call_fd(fd, line);
	close(fd);
	return r;
}

/* The error code of a response, or "ok". */
static const char *code_of(const json_t *r)
{
	if (json_is_true(json_object_get(r, "ok")))
		return "ok";
	return json_string_value(json_object_get(json_object_get(r, "error"), "code"));
}

static void expect(const char *line, const char *code)
{
	json_t *r = call(line);

	assert_non_null(r);
	if (strcmp(code_of(r), code) != 0) {
		char *s = json_dumps(r, JSON_COMPACT);
		printf("# %s\n#   -> %s (expected %s)\n", line, s, code);
		free(s);
		fail();
	}
	json_decref(r);
}

static json_int_t status_int(const char *key)
{
	json_t *r = call("{\"id\":1,\"cmd\":\"status\"}");
	json_int_t v;

	assert_non_null(r);
	v = json_integer_value(json_object_get(json_object_get(r, "result"), key));
	json_decref(r);
	return v;
}

static char *node_list(void)
{
	json_t *r = call("{\"id\":1,\"cmd\":\"node.list\"}");
	char *s;

	assert_non_null(r);
	s = json_dumps(json_object_get(r, "result"), JSON_COMPACT);
	json_decref(r);
	return s;
}

static double meter_hold(void)
{
	json_t *r = call("{\"id\":1,\"cmd\":\"get\",\"args\":{\"node\":\"meter\",\"param\":"
			 "\"hold_db\",\"channel\":1}}");
	double v;

	assert_non_null(r);
	v = json_number_value(json_object_get(json_object_get(r, "result"), "value"));
	json_decref(r);
	return v;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void test_commands(void **state)
{
	char line[1024], path[512];

	(void)state;
	expect("{\"id\":1,\"cmd\":\"hello\"}", "ok");
	expect("{\"id\":\"x\",\"cmd\":\"status\"}", "ok");
	expect("{\"cmd\":\"node.list\"}", "ok");
	expect("{\"id\":1,\"cmd\":\"node.get\",\"args\":{\"node\":\"meter\"}}", "ok");
	expect("{\"id\":1,\"cmd\":\"stats\"}", "ok");
	expect("{\"id\":1,\"cmd\":\"get\",\"args\":{\"node\":\"meter\",\"param\":\"peak_db\"}}",
	       "ok");
	expect("{\"id\":1,\"cmd\":\"set\",\"args\":{\"node\":\"ga\",\"param\":\"gain_db\","
	       "\"value\":-1}}",
	       "ok");
	expect("{\"id\":1,\"cmd\":\"node.add\",\"args\":{\"node\":\"x\",\"type\":\"gain\","
	       "\"input\":\"a\",\"settings\":{\"gain_db\":-3}}}",
	       "ok");
	expect("{\"id\":1,\"cmd\":\"connect\",\"args\":{\"from\":\"x\",\"to\":\"sum\"}}", "ok");
	expect("{\"id\":1,\"cmd\":\"disconnect\",\"args\":{\"from\":\"x\",\"to\":\"sum\"}}", "ok");
	expect("{\"id\":1,\"cmd\":\"node.remove\",\"args\":{\"node\":\"x\"}}", "ok");
	expect("{\"id\":1,\"cmd\":\"subscribe\",\"args\":{\"events\":[\"graph\"]}}", "ok");
	expect("{\"id\":1,\"cmd\":\"unsubscribe\"}", "ok");
	expect("{\"id\":1,\"cmd\":\"reload\"}", "ok");
	test_proc_path(&proc, path, sizeof(path), "echoeld.conf");
	snprintf(line, sizeof(line), "{\"id\":1,\"cmd\":\"load\",\"args\":{\"path\":\"%s\"}}",
		 path);
	expect(line, "permission"); /* the test directory is not under file_dirs */
	/* each error code */
	expect("not json", "bad_request");
	expect("[1,2]", "bad_request");
	expect("{\"id\":{},\"cmd\":\"hello\"}", "bad_request");
	expect("{\"id\":1,\"cmd\":\"fly\"}", "unknown_command");
	expect("{\"id\":1,\"cmd\":\"set\",\"args\":{\"node\":\"ga\",\"param\":\"gain_db\"}}",
	       "bad_argument");
	expect("{\"id\":1,\"cmd\":\"set\",\"args\":{\"node\":\"ga\",\"param\":\"gain_db\","
	       "\"value\":99}}",
	       "bad_argument");
	expect("{\"id\":1,\"cmd\":\"hello\",\"args\":{\"x\":1}}", "bad_argument");
	expect("{\"id\":1,\"cmd\":\"node.get\",\"args\":{\"node\":\"nope\"}}", "not_found");
	expect("{\"id\":1,\"cmd\":\"get\",\"args\":{\"node\":\"ga\",\"param\":\"nope\"}}",
	       "not_found");
	expect("{\"id\":1,\"cmd\":\"node.add\",\"args\":{\"node\":\"ga\",\"type\":\"gain\"}}",
	       "conflict");
	expect("{\"id\":1,\"cmd\":\"node.remove\",\"args\":{\"node\":\"a\"}}", "conflict");
	expect("{\"id\":1,\"cmd\":\"connect\",\"args\":{\"from\":\"sum\",\"to\":\"ga\"}}",
	       "conflict");
	expect("{\"id\":1,\"cmd\":\"node.add\",\"args\":{\"node\":\"f\",\"type\":\"fir\",\"input\":"
	       "\"a\",\"settings\":{\"ir\":\"/etc/passwd\"}}}",
	       "permission");
}

static void test_too_large(void **state)
{
	size_t n = 100000; /* max_line is 65536 here */
	char *big = malloc(n + 2);
	char buf[1024];
	int fd = connect_socket();

	(void)state;
	assert_true(big && fd >= 0);
	memset(big, 'x', n);
	big[n] = '\n';
	send(fd, big, n + 1, MSG_NOSIGNAL);
	assert_true(read_line(fd, buf, sizeof(buf), 5000) > 0);
	assert_non_null(strstr(buf, "\"too_large\""));
	assert_true(read_line(fd, buf, sizeof(buf), 5000) < 0); /* then closed */
	close(fd);
	free(big);
}

static void test_busy(void **state)
{
	int fds[80], busy = 0;
	char buf[1024];

	(void)state;
	for (int i = 0; i < 80; i++)
		fds[i] = connect_socket();
	for (int i = 64; i < 80; i++)
		if (fds[i] >= 0 && read_line(fds[i], buf, sizeof(buf), 2000) > 0 &&
		    strstr(buf, "\"busy\""))
			busy++;
	for (int i = 0; i < 80; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	printf("# 80 connections with max_clients 64: %d told busy\n", busy);
	assert_true(busy >= 1);
	sleep_ms(100);
	expect("{\"id\":1,\"cmd\":\"hello\"}", "ok");
}

/* Writes everything, reading and discarding answers as needed so neither side stalls. */
static void pipeline(int fd, const char *data, size_t len, size_t *ret_answers)
{
	static char sink[1 << 16];
	size_t sent = 0;

	while (sent < len) {
		ssize_t n = send(fd, data + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		ssize_t got;

		if (n > 0)
			sent += (size_t)n;
		else if (n < 0 && errno != EAGAIN)
			break;
		while ((got = recv(fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
			for (ssize_t i = 0; i < got; i++)
				*ret_answers += sink[i] == '\n';
		if (n < 0)
			sleep_ms(1);
	}
}

static void abuse_garbage(void)
{
	static const char *const shapes[] = {
		"{\"id\":1}",
		"{\"cmd\":5}",
		"{\"cmd\":\"set\",\"args\":[]}",
		"null",
		"\"str\"",
		"{\"id\":1,\"cmd\":\"set\",\"args\":{\"node\":{},\"param\":[],\"value\":\"x\"}}",
		"{\"id\":1,\"cmd\":\"batch\",\"args\":{\"commands\":[1,2,{}]}}",
		"{\"id\":1,\"cmd\":\"subscribe\",\"args\":{\"events\":[\"x\"],\"rate\":5000}}",
		"{\"cmd\":\"hello\",\"cmd\":\"hello\"}",
		"{\"id\":1e999,\"cmd\":\"hello\"}",
	};
	unsigned seed = 7;
	char junk[4096];

	for (int k = 0; k < 20; k++) {
		int fd = connect_socket();
		size_t answers = 0;

		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (char)(rand_r(&seed) & 0xff);
		pipeline(fd, junk, sizeof(junk), &answers);
		close(fd);
	}
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		json_t *r = call(shapes[i]);
		assert_non_null(r); /* answered, whatever it was */
		assert_string_not_equal(code_of(r), "ok");
		json_decref(r);
	}
}

static void abuse_huge_and_many(void)
{
	size_t n = 10u << 20, answers = 0;
	char *big = malloc(n + 1);
	int fds[500];

	assert_non_null(big);
	memset(big, '{', n);
	big[n] = '\n';
	{
		int fd = connect_socket();
		pipeline(fd, big, n + 1, &answers); /* 10 MiB: too_large, then closed */
		close(fd);
	}
	free(big);
	for (int i = 0; i < 500; i++)
		fds[i] = connect_socket();
	for (int i = 0; i < 500; i++)
		if (fds[i] >= 0) {
			if (i % 3 == 0) /* vanish mid-line */
				send(fds[i], "{\"id\":1,\"cmd\":\"sta", 18, MSG_NOSIGNAL);
			close(fds[i]);
		}
}

static void abuse_sets(int slow_fd)
{
	size_t per = 128, n = 10000, used = 0, answers = 0;
	char *lines = malloc(n * per);

	assert_non_null(lines);
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(lines + used, per,
					 "{\"id\":%zu,\"cmd\":\"set\",\"args\":{\"node\":\"ga\","
					 "\"param\":\"gain_db\",\"value\":-%zu}}\n",
					 i, i % 20);
	{
		int fd = connect_socket();
		pipeline(fd, lines, used, &answers);
		close(fd);
	}
	free(lines);
	(void)slow_fd;
}

static void test_abuse_while_playing(void **state)
{
	json_int_t late0 = status_int("late_cycles"), cycles0 = status_int("cycles");
	char *graph0 = node_list(), *graph1;
	int slow = connect_socket();
	json_t *r;

	(void)state;
	/* A subscriber at 1000 Hz that never reads its events. */
	assert_true(slow >= 0);
	assert_non_null(r = call_fd(slow, "{\"id\":1,\"cmd\":\"subscribe\",\"args\":{\"events\":"
					  "[\"meters\",\"load\"],\"rate\":1000}}"));
	json_decref(r);
	abuse_garbage();
	abuse_huge_and_many();
	abuse_sets(slow);
	sleep_ms(600); /* past idle_timeout_ms: half-sent lines are closed by now */
	expect("{\"id\":1,\"cmd\":\"hello\"}", "ok");
	graph1 = node_list();
	assert_string_equal(graph0, graph1);
	printf("# abuse over %lld cycles: late cycles %lld -> %lld\n",
	       (long long)(status_int("cycles") - cycles0), (long long)late0,
	       (long long)status_int("late_cycles"));
	assert_true(status_int("cycles") > cycles0); /* the audio kept running */
	assert_int_equal(status_int("late_cycles"), late0);
	close(slow);
	free(graph0);
	free(graph1);
	/* leave the gain where the batch test expects it */
	expect("{\"id\":1,\"cmd\":\"set\",\"args\":{\"node\":\"ga\",\"param\":\"gain_db\","
	       "\"value\":0}}",
	       "ok");
	sleep_ms(200);
}

/* Peak hold of the mix after switching from tone a to tone b: in one batch, or as two sets. */
static double switch_tones(bool batch, const char *to_a_mute, const char *to_b_mute)
{
	char line[512];

	sleep_ms(1200); /* let the hold fall back to the steady -6 dB peak */
	if (batch) {
		snprintf(line, sizeof(line),
			 "{\"id\":1,\"cmd\":\"batch\",\"args\":{\"commands\":["
			 "{\"cmd\":\"set\",\"args\":{\"node\":\"gb\",\"param\":\"mute\",\"value\":%"
			 "s}},"
			 "{\"cmd\":\"set\",\"args\":{\"node\":\"ga\",\"param\":\"mute\",\"value\":%"
			 "s}}"
			 "]}}",
			 to_b_mute, to_a_mute);
		expect(line, "ok");
	} else {
		snprintf(line, sizeof(line),
			 "{\"id\":1,\"cmd\":\"set\",\"args\":{\"node\":\"gb\",\"param\":\"mute\","
			 "\"value\":%s}}",
			 to_b_mute);
		expect(line, "ok");
		sleep_ms(25); /* a few cycles: what a split batch would do, exaggerated */
		snprintf(line, sizeof(line),
			 "{\"id\":1,\"cmd\":\"set\",\"args\":{\"node\":\"ga\",\"param\":\"mute\","
			 "\"value\":%s}}",
			 to_a_mute);
		expect(line, "ok");
	}
	sleep_ms(150); /* both ramps (40 ms) done */
	return meter_hold();
}

static void test_batch_lands_in_one_cycle(void **state)
{
	double together, apart;

	(void)state;
	/* a on, b off -> a off, b on: the sum of two equal tones stays at -6.02 dB peak */
	together = switch_tones(true, "true", "false");
	/* and back, as two separate commands: b comes on before a goes off, the sum bumps */
	apart = switch_tones(false, "false", "true");
	apart = switch_tones(false, "true", "false");
	printf("# peak hold after the switch: batch %.2f dB, two commands %.2f dB\n", together,
	       apart);
	assert_true(together < -6.02 + 0.05);
	assert_true(apart > -6.02 + 1.0);
}

static void test_permissions(void **state)
{
	struct stat st;
	char buf[1024];
	pid_t pid;
	int status;

	(void)state;
	assert_int_equal(stat(sock_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	if (geteuid() != 0)
		skip(); /* refusing another uid needs a second uid */
	/* let the other uid reach the peer check itself */
	chmod(proc.dir, 0711);
	chmod(sock_path, 0666);
	pid = fork();
	if (pid == 0) {
		int fd;
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		fd = connect_socket();
		if (fd < 0 || read_line(fd, buf, sizeof(buf), 3000) < 0)
			_exit(3);
		_exit(strstr(buf, "\"permission\"") ? 0 : 4);
	}
	waitpid(pid, &status, 0);
	chmod(sock_path, 0600);
	chmod(proc.dir, 0700);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_second_daemon_refused(void **state)
{
	char conf[512];
	int code;

	(void)state;
	test_proc_path(&proc, conf, sizeof(conf), "echoeld.conf");
	code = test_proc_run(&proc, (const char *[]){"--config", conf, "--socket", sock_path,
						     "--backend", "dummy", NULL});
	assert_int_equal(code, 1);
	assert_non_null(strstr(proc.err, "another echoeld is running on"));
	expect("{\"id\":1,\"cmd\":\"hello\"}", "ok"); /* the first one is untouched */
}

static int start_daemon(void **state)
{
	char conf[512], log[512];

	(void)state;
	if (test_proc_init(&proc, "test-control") < 0 ||
	    test_proc_write(&proc, "echoeld.conf", graph) < 0)
		return -1;
	test_proc_path(&proc, conf, sizeof(conf), "echoeld.conf");
	test_proc_path(&proc, log, sizeof(log), "daemon.log");
	test_proc_path(&proc, sock_path, sizeof(sock_path), "control");
	/* A stale socket file, as a killed daemon leaves it: it must be replaced. */
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return -1;
		close(fd);
	}
	daemon_pid = fork();
	if (daemon_pid == 0) {
		if (!freopen(log, "w", stderr))
			_exit(127);
		execl(proc.binary, proc.binary, "--config", conf, "--socket", sock_path,
		      "--backend", "dummy", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		int fd = connect_socket();
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		sleep_ms(50);
	}
	return -1;
}

static int stop_daemon(void **state)
{
	int status = 0;

	(void)state;
	kill(daemon_pid, SIGTERM);
	waitpid(daemon_pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || access(sock_path, F_OK) == 0) {
		printf("# the daemon did not stop cleanly (status %d) or left its socket\n",
		       status);
		return -1;
	}
	return test_proc_done(&proc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_abuse_while_playing),
		cmocka_unit_test(test_batch_lands_in_one_cycle),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_second_daemon_refused),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start_daemon, stop_daemon);
}
