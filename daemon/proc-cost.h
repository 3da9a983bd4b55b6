/* SPDX-License-Identifier: MIT */
/*
 * daemon/proc-cost.h: what the daemon costs the machine, read from /proc/self as `top` and
 * the seed's performance monitor read it — CPU time of every thread and of the RT thread alone
 * (schedstat: nanoseconds on a CPU, exact, unlike the clock ticks of /proc/PID/stat), resident
 * and locked memory (VmRSS, VmLck), and wake-ups (voluntary context switches: a thread that
 * sleeps and is woken; preemption by a busy machine is not counted). Rates come from two
 * samples at least PCOST_MIN_WINDOW_NS apart, taken on demand: nothing runs while nobody asks.
 *
 * The parsers take any text (fuzz-proc-cost feeds them garbage): /proc is the kernel's, but a
 * parser that trusts its input is one a future kernel can break.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A window shorter than this gives rates of little meaning (and costs reads for nothing). */
#define PCOST_MIN_WINDOW_NS 1000000000ull

/* The fields of a /proc/PID/status this module reads; missing ones stay 0. */
struct pcost_status {
	uint64_t rss_bytes;    /* VmRSS */
	uint64_t locked_bytes; /* VmLck */
	uint64_t voluntary;    /* voluntary_ctxt_switches */
};

/* One reading of the process. */
struct pcost_sample {
	uint64_t at_ns;     /* CLOCK_MONOTONIC */
	uint64_t cpu_ns;    /* every live thread's time on a CPU */
	pid_t rt_tid;       /* the RT thread read (0: not known) */
	uint64_t rt_cpu_ns; /* its time on a CPU */
	uint64_t wakeups;   /* every live thread's voluntary context switches */
	uint64_t rss_bytes, locked_bytes;
};

/* What one window of two samples says. */
struct pcost_figures {
	double window_s;
	double cpu;    /* share of one core, every thread: 0.01 is 1 % */
	double rt_cpu; /* the RT thread's share of one core */
	double wakeups_per_s;
	uint64_t rss_bytes, locked_bytes; /* at the window's end */
};

/* text (len bytes, not terminated) of /proc/PID/status: 0 with *ret; -EINVAL when it holds
 * none of the fields. */
int pcost_parse_status(const char *text, size_t len, struct pcost_status *ret);

/* text of /proc/PID/task/TID/schedstat ("run_ns wait_ns slices"): 0 with *ret_ns; -EINVAL. */
int pcost_parse_schedstat(const char *text, size_t len, uint64_t *ret_ns);

/*
 * Thread: any. Reads /proc/self: every thread's schedstat and status, rt_tid's schedstat (0:
 * none), the process's status. 0 with *ret; -errno when /proc cannot be read.
 */
int pcost_read(pid_t rt_tid, struct pcost_sample *ret);

/*
 * The figures between a and b (b later). A thread that ended in between takes its counts with
 * it: a sum that went down counts as no change rather than a negative rate.
 */
void pcost_between(const struct pcost_sample *a, const struct pcost_sample *b,
		   struct pcost_figures *ret);

/* On-demand sampling: the last two samples, the newer taken when a reader asks and the older
 * one is PCOST_MIN_WINDOW_NS old or more. Thread: one (the control thread). */
struct pcost_meter {
	struct pcost_sample older, newer;
	int have; /* samples taken: 0, 1, 2 (more count as 2) */
};

/*
 * The figures of the meter's latest window, sampling first if the last sample is old enough.
 * Before two samples exist the window is the time since the first (the meter's start). 0 with
 * *ret; -errno from pcost_read().
 */
int pcost_meter_get(struct pcost_meter *m, pid_t rt_tid, struct pcost_figures *ret);
