/* SPDX-License-Identifier: MIT */
/*
 * bench/bench-disk.c: how many streams the disk thread keeps fed at block 64, and what a stream
 * costs it, io_uring against pread(2) in the same run.
 *
 * A cycle thread (SCHED_FIFO where allowed) wakes every 64 frames at 48 kHz on an absolute
 * clock, as the own clock does, and takes a block from every player's ring and hands a block
 * to every recorder's (daemon/disk/disk.h, writer.h: the daemon's own code). Players stream
 * distinct 12 s stereo float files in loop (raw cache files, as the sample cache makes them);
 * recorders write stereo float WAV (each run's files are removed after it). For each count of
 * players (with the recorders beside them) and each way of reading and writing (io_uring reads
 * with pwrite(2), the daemon's default; ECHOELD_DISK_IO=pread: pread(2) and pwrite(2);
 * ECHOELD_DISK_WRITE=io_uring: both through io_uring), for SECONDS: underruns, overruns, the disk
 * side's CPU (the process's but the cycle thread's: the disk thread and io_uring's kernel workers,
 * shown apart) per stream per second of audio, and the cycle thread's. --cold drops the page cache
 * before each run (root only), so the first pass of every file comes from the device.
 *
 * usage: bench-disk [--seconds S] [--recorders M] [--players N] [--cold] [--dir DIR]
 * --players N runs that count of players only (0: the recorders alone, what writing costs).
 * It ends with one line for scripts:
 *   summary: players without underrun io_uring 128 pread 128, cpu per stream us/s io_uring 12.3
 * pread 15.6
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/el-error.h"
#include "daemon/disk/cache.h"
#include "daemon/disk/disk.h"
#include "daemon/disk/writer.h"

#define RATE        48000u
#define BLOCK       64u
#define FILE_SECS   8u
#define MAX_PLAYERS 256u
#define MAX_RECS    64u

static const unsigned player_counts[] = {16, 64, 128, 256};

struct run_result {
	uint64_t underruns, overruns;
	double disk_cpu_s, cycle_cpu_s, audio_s;
	double workers_cpu_s; /* of disk_cpu_s: io_uring's kernel workers */
};

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds of this process's thread named name (schedstat), 0 when there is none. */
static double thread_cpu(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	double s = 0.0;

	while (d && (e = readdir(d))) {
		char p[300], comm[64] = "";
		unsigned long long ns = 0;
		FILE *f;

		snprintf(p, sizeof(p), "/proc/self/task/%s/comm", e->d_name);
		if (!(f = fopen(p, "r")))
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
		comm[strcspn(comm, "\n")] = '\0';
		if (strcmp(comm, name) != 0)
			continue;
		snprintf(p, sizeof(p), "/proc/self/task/%s/schedstat", e->d_name);
		if ((f = fopen(p, "r"))) {
			if (fscanf(f, "%llu", &ns) == 1)
				s += (double)ns * 1e-9;
			fclose(f);
		}
	}
	if (d)
		closedir(d);
	return s;
}

/* A raw cache file of FILE_SECS of stereo noise (header zeroed: the reader skips it). */
static int make_stream_file(const char *path, unsigned seed)
{
	size_t frames = (size_t)FILE_SECS * RATE, chunk = 4096;
	float *buf = malloc(chunk * 2 * sizeof(float));
	char header[DISK_CACHE_HEADER] = {0};
	uint32_t x = seed * 2654435761u + 1;
	FILE *f = fopen(path, "wb");
	int r = f && buf ? 0 : -1;

	if (r == 0 && fwrite(header, sizeof(header), 1, f) != 1)
		r = -1;
	for (size_t done = 0; r == 0 && done < frames; done += chunk) {
		for (size_t i = 0; i < chunk * 2; i++) {
			x = x * 1664525u + 1013904223u;
			buf[i] = (float)((int32_t)x) * (0.25f / 2147483648.0f);
		}
		if (fwrite(buf, sizeof(float), chunk * 2, f) != chunk * 2)
			r = -1;
	}
	if (f && fclose(f) != 0)
		r = -1;
	free(buf);
	return r;
}

static void drop_page_cache(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	sync();
	if (fd >= 0) {
		if (write(fd, "3\n", 2) != 2)
			fprintf(stderr, "bench-disk: drop_caches: %s\n", strerror(errno));
		close(fd);
	}
}

static int run_once(const char *dir, unsigned players, unsigned recorders, double seconds,
		    bool cold, struct run_result *res)
{
	static struct disk_reader *rd[MAX_PLAYERS];
	static struct disk_writer *wr[MAX_RECS];
	static float buf[2][BLOCK];
	float *out[2] = {buf[0], buf[1]};
	const float *in[2] = {buf[0], buf[1]};
	struct el_error err = {0};
	struct disk *disk = NULL;
	struct timespec next;
	uint64_t cycles = (uint64_t)(seconds * RATE / BLOCK);
	static unsigned run_id;
	double disk0, cyc0, proc0;
	int r = 0;

	run_id++;
	if (cold)
		drop_page_cache();
	if (disk_new(NULL, dir, &disk, &err) < 0) {
		fprintf(stderr, "bench-disk: %s\n", err.message);
		return -1;
	}
	for (unsigned i = 0; i < players && r == 0; i++) {
		char p[PATH_MAX];
		int fd;

		snprintf(p, sizeof(p), "%s/stream-%03u.f32", dir, i);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		struct disk_reader_config c = {.fd = fd,
					       .name = p,
					       .offset = DISK_CACHE_HEADER,
					       .channels = 2,
					       .frames = (uint64_t)FILE_SECS * RATE,
					       .loop = true,
					       .start = (uint64_t)i * 977 %
							((uint64_t)FILE_SECS * RATE),
					       .ring_frames = 1u << 17};
		r = fd >= 0 ? disk_reader_open(disk, &c, &rd[i], &err) : -1;
		if (fd >= 0)
			close(fd);
	}
	for (unsigned i = 0; i < recorders && r == 0; i++) {
		char name[64];

		snprintf(name, sizeof(name), "rec-%03u-run%u.wav", i, run_id);
		struct disk_writer_config c = {.file = name,
					       .channels = 2,
					       .rate = RATE,
					       .sample_format = 0,
					       .ring_frames = 1u << 17};
		r = disk_writer_open(disk, &c, &wr[i], &err);
		if (r == 0)
			disk_writer_start(wr[i]);
	}
	if (r < 0) {
		fprintf(stderr, "bench-disk: %s\n", err.message);
		return -1;
	}
	usleep(100000); /* the writers' takes open */
	disk0 = thread_cpu("echoeld-disk");
	cyc0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	proc0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (uint64_t c = 0; c < cycles; c++) {
		next.tv_nsec += (long)(1000000000ull * BLOCK / RATE);
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		for (unsigned i = 0; i < players; i++)
			(void)disk_reader_read(rd[i], out, 0, BLOCK);
		for (unsigned i = 0; i < recorders; i++)
			(void)disk_writer_write(wr[i], in, BLOCK);
	}
	res->cycle_cpu_s = now_s(CLOCK_THREAD_CPUTIME_ID) - cyc0;
	/* the disk side: everything but this (the cycle) thread — the disk thread and io_uring's
	 * kernel workers (iou-wrk-*, which take the writes that would block and may have exited) */
	res->disk_cpu_s = now_s(CLOCK_PROCESS_CPUTIME_ID) - proc0 - res->cycle_cpu_s;
	res->workers_cpu_s = res->disk_cpu_s - (thread_cpu("echoeld-disk") - disk0);
	res->audio_s = (double)cycles * BLOCK / RATE;
	res->underruns = res->overruns = 0;
	for (unsigned i = 0; i < players; i++) {
		res->underruns += disk_reader_get_underruns(rd[i]);
		disk_reader_close(rd[i]);
	}
	for (unsigned i = 0; i < recorders; i++) {
		char p[PATH_MAX];

		res->overruns += disk_writer_get_overruns(wr[i]);
		disk_writer_get_path(wr[i], p, sizeof(p));
		disk_writer_close(wr[i]);
		unlink(p);
	}
	disk_free(disk);
	return 0;
}

int main(int argc, char **argv)
{
	double seconds = 20.0;
	unsigned recorders = 16, only = UINT_MAX;
	bool cold = false;
	const char *base = "/var/tmp";
	char dir[512], cmd[600];
	unsigned best[2] = {0, 0};
	double per_stream[2] = {0.0, 0.0};
	struct sched_param sp = {.sched_priority = 70};

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--recorders") && i + 1 < argc)
			recorders = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--players") && i + 1 < argc)
			only = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--cold"))
			cold = true;
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			base = argv[++i];
		else {
			fprintf(stderr,
				"usage: bench-disk [--seconds S] [--recorders M] [--players N] "
				"[--cold] [--dir DIR]\n");
			return 2;
		}
	}
	if (recorders > MAX_RECS || seconds <= 0.0 || (only != UINT_MAX && only > MAX_PLAYERS) ||
	    (only == 0 && recorders == 0))
		return 2;
	snprintf(dir, sizeof(dir), "%s/bench-disk-XXXXXX", base);
	if (!mkdtemp(dir)) {
		perror("bench-disk: mkdtemp");
		return 1;
	}
	for (unsigned i = 0; i < MAX_PLAYERS; i++) {
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s/stream-%03u.f32", dir, i);
		if (make_stream_file(p, i) < 0) {
			fprintf(stderr, "bench-disk: cannot write %s\n", p);
			return 1;
		}
	}
	if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0)
		printf("# the cycle thread is not real-time (SCHED_FIFO refused)\n");
	printf("# bench-disk: block %u at %u Hz, players of distinct %u s stereo float files in "
	       "loop, %u stereo float recorders, %.0f s per run%s, files in %s\n",
	       BLOCK, RATE, FILE_SECS, recorders, seconds,
	       cold ? ", page cache dropped before each" : ", page cache warm", dir);
	printf("%-9s %7s %10s %9s %11s %10s %16s %12s\n", "io", "players", "underruns", "overruns",
	       "disk cpu %", "workers %", "per stream us/s", "cycle cpu %");
	for (unsigned k = 0; k < sizeof(player_counts) / sizeof(player_counts[0]); k++) {
		for (unsigned m = 0; m < 3; m++) {
			struct run_result res;
			unsigned n = only != UINT_MAX ? only : player_counts[k];
			double us;

			if (only != UINT_MAX && k > 0)
				break;
			static const char *const modes[] = {"io_uring", "pread", "uring-w"};

			if (m == 1)
				setenv("ECHOELD_DISK_IO", "pread", 1);
			else
				unsetenv("ECHOELD_DISK_IO");
			if (m == 2)
				setenv("ECHOELD_DISK_WRITE", "io_uring", 1);
			else
				unsetenv("ECHOELD_DISK_WRITE");
			if (run_once(dir, n, recorders, seconds, cold, &res) < 0)
				return 1;
			us = res.disk_cpu_s / res.audio_s / (n + recorders) * 1e6;
			printf("%-9s %7u %10llu %9llu %11.2f %10.2f %16.2f %12.2f\n", modes[m], n,
			       (unsigned long long)res.underruns, (unsigned long long)res.overruns,
			       100.0 * res.disk_cpu_s / res.audio_s,
			       100.0 * res.workers_cpu_s / res.audio_s, us,
			       100.0 * res.cycle_cpu_s / res.audio_s);
			fflush(stdout);
			if (m < 2 && res.underruns == 0 && res.overruns == 0 && n > best[m]) {
				best[m] = n;
				per_stream[m] = us;
			}
		}
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench-disk: could not remove %s\n", dir);
	printf("summary: players without underrun io_uring %u pread %u, cpu per stream us/s "
	       "io_uring %.1f pread %.1f (%u recorders beside them)\n",
	       best[0], best[1], per_stream[0], per_stream[1], recorders);
	return 0;
}
