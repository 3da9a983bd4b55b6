/* SPDX-License-Identifier: MIT */
/*
 * daemon/proc-cost.c: the daemon's CPU, memory and wake-ups from /proc/self (proc-cost.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/el-macros.h"
#include "daemon/proc-cost.h"

/* Longer than any /proc/PID/status of today's kernels (about 1.5 KiB). */
#define PROC_TEXT_MAX 4096

/* The unsigned decimal at *p (spaces and tabs first), advancing *p; false when none. */
static bool parse_u64(const char **p, const char *end, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end || *s < '0' || *s > '9')
		return false;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false; /* no kernel counts that far: not a number we can trust */
		v = v * 10 + d;
	}
	*p = s;
	*ret = v;
	return true;
}

/* "Key:\t123 kB" — the value in bytes when the line says kB, else as it is. */
static bool parse_field(const char *line, const char *end, const char *key, uint64_t *ret)
{
	size_t n = strlen(key);
	const char *p = line + n;
	uint64_t v;

	if ((size_t)(end - line) <= n || memcmp(line, key, n) != 0 || *p != ':')
		return false;
	p++;
	if (!parse_u64(&p, end, &v))
		return false;
	while (p < end && *p == ' ')
		p++;
	if (end - p >= 2 && memcmp(p, "kB", 2) == 0)
		v = v > UINT64_MAX / 1024 ? UINT64_MAX : v * 1024;
	*ret = v;
	return true;
}

int pcost_parse_status(const char *text, size_t len, struct pcost_status *ret)
{
	const char *p = text, *end = text + len;
	bool found = false;

	*ret = (struct pcost_status){0};
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end;
		found |= parse_field(p, eol, "VmRSS", &ret->rss_bytes) ||
			 parse_field(p, eol, "VmLck", &ret->locked_bytes) ||
			 parse_field(p, eol, "voluntary_ctxt_switches", &ret->voluntary);
		p = eol < end ? eol + 1 : end;
	}
	return found ? 0 : -EINVAL;
}

int pcost_parse_schedstat(const char *text, size_t len, uint64_t *ret_ns)
{
	const char *p = text;

	return parse_u64(&p, text + len, ret_ns) ? 0 : -EINVAL;
}

/* Reads path (relative to dirfd) into buf; its length, or -errno. */
static ssize_t read_text(int dirfd, const char *path, char *buf, size_t size)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size);
	n = n < 0 ? -errno : n;
	close(fd);
	return n;
}

/* One thread's CPU time and wake-ups into *ret; a thread gone meanwhile adds nothing. */
static void add_thread(int task_dir, const char *tid, pid_t rt_tid, struct pcost_sample *ret)
{
	char path[64], buf[PROC_TEXT_MAX];
	struct pcost_status st;
	uint64_t ns;
	ssize_t n;

	snprintf(path, sizeof(path), "%.20s/schedstat", tid);
	if ((n = read_text(task_dir, path, buf, sizeof(buf))) > 0 &&
	    pcost_parse_schedstat(buf, (size_t)n, &ns) == 0) {
		ret->cpu_ns += ns;
		if (rt_tid > 0 && atoi(tid) == rt_tid)
			ret->rt_cpu_ns = ns;
	}
	snprintf(path, sizeof(path), "%.20s/status", tid);
	if ((n = read_text(task_dir, path, buf, sizeof(buf))) > 0 &&
	    pcost_parse_status(buf, (size_t)n, &st) == 0)
		ret->wakeups += st.voluntary;
}

int pcost_read(pid_t rt_tid, struct pcost_sample *ret)
{
	char buf[PROC_TEXT_MAX];
	struct pcost_status st;
	struct timespec now;
	struct dirent *de;
	ssize_t n;
	DIR *tasks;
	int r;

	*ret = (struct pcost_sample){.rt_tid = rt_tid};
	if ((n = read_text(AT_FDCWD, "/proc/self/status", buf, sizeof(buf))) < 0)
		return (int)n;
	if ((r = pcost_parse_status(buf, (size_t)n, &st)) < 0)
		return r;
	ret->rss_bytes = st.rss_bytes;
	ret->locked_bytes = st.locked_bytes;
	if (!(tasks = opendir("/proc/self/task")))
		return -errno;
	while ((de = readdir(tasks)))
		if (de->d_name[0] != '.')
			add_thread(dirfd(tasks), de->d_name, rt_tid, ret);
	closedir(tasks);
	clock_gettime(CLOCK_MONOTONIC, &now);
	ret->at_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	return 0;
}

/* b - a, or 0 when a thread's end took more away than the others added. */
static double grew(uint64_t a, uint64_t b)
{
	return b > a ? (double)(b - a) : 0.0;
}

void pcost_between(const struct pcost_sample *a, const struct pcost_sample *b,
		   struct pcost_figures *ret)
{
	double ns = grew(a->at_ns, b->at_ns);

	*ret = (struct pcost_figures){
		.window_s = ns * 1e-9,
		.rss_bytes = b->rss_bytes,
		.locked_bytes = b->locked_bytes,
	};
	if (ns <= 0.0)
		return;
	ret->cpu = grew(a->cpu_ns, b->cpu_ns) / ns;
	/* the RT thread may be another one now (a backend restarted): then no figure */
	ret->rt_cpu = a->rt_tid > 0 && a->rt_tid == b->rt_tid
			      ? grew(a->rt_cpu_ns, b->rt_cpu_ns) / ns
			      : 0.0;
	ret->wakeups_per_s = grew(a->wakeups, b->wakeups) / (ns * 1e-9);
}

int pcost_meter_get(struct pcost_meter *m, pid_t rt_tid, struct pcost_figures *ret)
{
	struct pcost_sample s;
	int r;

	if (m->have >= 2) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec - m->newer.at_ns <
		    PCOST_MIN_WINDOW_NS) {
			pcost_between(&m->older, &m->newer, ret);
			return 0;
		}
	}
	if ((r = pcost_read(rt_tid, &s)) < 0)
		return r;
	if (m->have == 0) {
		m->older = s;
		m->have = 1;
	} else if (m->have == 1 && s.at_ns - m->older.at_ns < PCOST_MIN_WINDOW_NS) {
		pcost_between(&m->older, &s, ret); /* shorter than a window: not kept */
		return 0;
	} else {
		if (m->have == 2)
			m->older = m->newer;
		m->newer = s;
		m->have = 2;
	}
	pcost_between(&m->older, m->have == 2 ? &m->newer : &s, ret);
	return 0;
}
