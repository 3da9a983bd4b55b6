/* SPDX-License-Identifier: MIT */
/*
 * bench/bench-control.c: the control socket under load, while the daemon runs a FIR graph.
 *
 *  1. `set` round trip: one request, wait for its answer, 2000 times: p50/p99 latency.
 *  2. Throughput: 20000 `set` requests pipelined on one connection: requests per second.
 *  3. Command to audio: `set` a gain from -20 to 0 dB, then poll the meter after it until the
 *     level moves: the delay in cycles of the own clock (block 256 at 48 kHz, 5.33 ms), 40 times.
 *
 * It starts its own echoeld (path in argv[1]) on a private socket with a tone -> 65536-tap FIR
 * -> gain -> meter -> output graph, and stops it after. A benchmark: it prints, never fails on
 * speed.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/bench-control-XXXXXX";
static char sock_path[100];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double q)
{
	qsort(v, n, sizeof(*v), cmp);
	return v[(size_t)(q * (double)(n - 1) + 0.5)];
}

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

/* Buffered line reader over fd. */
static char rbuf[1 << 16];
static size_t rlen;

static int read_line(int fd, char *out, size_t size)
{
	for (;;) {
		char *nl = memchr(rbuf, '\n', rlen);
		ssize_t n;

		if (nl) {
			size_t len = (size_t)(nl - rbuf);
			snprintf(out, size, "%.*s", (int)len, rbuf);
			memmove(rbuf, nl + 1, rlen - len - 1);
			rlen -= len + 1;
			return 0;
		}
		n = recv(fd, rbuf + rlen, sizeof(rbuf) - rlen, 0);
		if (n <= 0)
			return -1;
		rlen += (size_t)n;
	}
}

static json_t *call(int fd, const char *line)
{
	char buf[65536];

	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0 || read_line(fd, buf, sizeof(buf)) < 0)
		return NULL;
	return json_loads(buf, 0, NULL);
}

static double meter_peak(int fd)
{
	json_t *r = call(fd, "{\"id\":1,\"cmd\":\"get\",\"args\":{\"node\":\"meter\",\"param\":"
			     "\"peak_db\",\"channel\":1}}\n");
	double v = json_number_value(json_object_get(json_object_get(r, "result"), "value"));

	json_decref(r);
	return v;
}

static void bench_round_trip(int fd)
{
	enum { N = 2000 };
	static double t[N];

	for (int i = 0; i < N; i++) {
		double t0 = now();
		json_decref(call(fd, "{\"id\":1,\"cmd\":\"set\",\"args\":{\"node\":\"vol\","
				     "\"param\":\"gain_db\",\"value\":-1}}\n"));
		t[i] = (now() - t0) * 1e6;
	}
	printf("set round trip (%d requests):      p50 %7.1f us   p99 %7.1f us\n", N,
	       pct(t, N, 0.5), pct(t, N, 0.99));
}

static void bench_throughput(int fd)
{
	enum { N = 20000 };
	static const char line[] =
		"{\"id\":1,\"cmd\":\"set\",\"args\":{\"node\":\"vol\",\"param\":\"gain_db\","
		"\"value\":-1}}\n";
	char buf[4096];
	int answered = 0, busy = 0;
	double t0 = now();

	for (int sent = 0; sent < N || answered < N;) {
		while (sent < N && sent - answered < 64) { /* keep 64 in flight */
			if (send(fd, line, sizeof(line) - 1, MSG_NOSIGNAL) < 0)
				return;
			sent++;
		}
		if (read_line(fd, buf, sizeof(buf)) < 0)
			return;
		busy += strstr(buf, "\"busy\"") != NULL;
		answered++;
	}
	printf("set throughput (%d pipelined):   %9.0f requests/s (%d answered busy)\n", N,
	       N / (now() - t0), busy);
}

static void bench_to_audio(int fd)
{
	enum { N = 40 };
	const double period = 256.0 / 48000.0;
	double cycles[N];
	char line[256];

	for (int i = 0; i < N; i++) {
		double level = i % 2 ? -20.0 : 0.0, before, t0;

		snprintf(line, sizeof(line),
			 "{\"id\":1,\"cmd\":\"set\",\"args\":{\"node\":\"vol\",\"param\":\"gain_"
			 "db\","
			 "\"value\":%g}}\n",
			 level);
		usleep(100000); /* settle */
		before = meter_peak(fd);
		t0 = now();
		json_decref(call(fd, line));
		while (fabs(meter_peak(fd) - before) < 0.5 && now() - t0 < 1.0)
			;
		cycles[i] = (now() - t0) / period;
	}
	printf("set -> meter moves (%d changes):    p50 %7.2f cycles   p99 %7.2f cycles "
	       "(block 256, 5.33 ms)\n",
	       N, pct(cycles, N, 0.5), pct(cycles, N, 0.99));
}

static int write_files(void)
{
	static float h[65536];
	char path[256];
	SF_INFO info = {
		.samplerate = 48000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
	SNDFILE *f;
	FILE *c;

	for (size_t i = 0; i < 65536; i++)
		h[i] = (float)(exp(-7.0 * (double)i / 65536.0) * (i % 7 ? 0.01 : -0.02));
	h[0] = 1.0f;
	snprintf(path, sizeof(path), "%s/ir.wav", dir);
	if (!(f = sf_open(path, SFM_WRITE, &info)))
		return -1;
	sf_writef_float(f, h, 65536);
	sf_close(f);
	snprintf(path, sizeof(path), "%s/bench.conf", dir);
	if (!(c = fopen(path, "w")))
		return -1;
	fprintf(c, "[engine]\nblock = 256\nfade_ms = 1\n"
		   "[node.t]\ntype = tone\nfreq = 1000\nlevel_db = -6\nchannels = 2\n"
		   "[node.room]\ntype = fir\nir = ir.wav\ninput = t\n"
		   "[node.vol]\ntype = gain\ninput = room\n"
		   "[node.meter]\ntype = meter\ninput = vol\n"
		   "[node.out]\ntype = output\ninput = meter\n");
	return fclose(c);
}

int main(int argc, char **argv)
{
	char conf[256];
	pid_t pid;
	int fd = -1;

	if (argc != 2 || !mkdtemp(dir) || write_files() < 0) {
		fprintf(stderr, "usage: bench-control ECHOELD\n");
		return 2;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/control", dir);
	snprintf(conf, sizeof(conf), "%s/bench.conf", dir);
	pid = fork();
	if (pid == 0) {
		execl(argv[1], argv[1], "--config", conf, "--socket", sock_path, "--backend",
		      "dummy", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && fd < 0; i++, usleep(50000))
		fd = connect_socket();
	if (fd >= 0) {
		printf("# bench-control: echoeld on its own clock, tone -> 65536-tap FIR (stereo) "
		       "-> "
		       "gain -> meter\n");
		bench_round_trip(fd);
		bench_throughput(fd);
		bench_to_audio(fd);
		close(fd);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	snprintf(conf, sizeof(conf), "rm -rf '%s'", dir);
	return system(conf) == 0 && fd >= 0 ? 0 : 1;
}
