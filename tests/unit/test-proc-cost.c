/* SPDX-License-Identifier: MIT */
/*
 * Property: daemon/proc-cost.h reads what /proc says, as `top` would.
 *  - /proc/PID/status: VmRSS and VmLck in bytes (the kernel writes kB), voluntary context
 *    switches; other lines, odd spacing and a missing field are harmless; text with none of
 *    them, a number too long for 64 bits or a field without digits is refused or skipped.
 *  - schedstat: the first number, nanoseconds on a CPU.
 *  - pcost_read() of this process: a thread that burns 200 ms of CPU shows (read until it
 *    has burnt 150 ms; it lives on until then) that much more in the process's sum and in its own
 * figure as the RT thread; a thread that sleeps and is woken 20 times adds at least 20 wake-ups;
 * RSS is non-zero.
 *  - pcost_between(): shares of a core and rates over the window; a sum that went down (a
 *    thread ended) is no change; an RT thread that changed gives no RT figure.
 *  - The meter keeps windows of a second or more: asked twice at once it answers the same.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/proc-cost.h"

static void test_parse_status(void **state)
{
	static const char real[] = "Name:\techoeld\nVmPeak:\t  300000 kB\nVmLck:\t   45512 kB\n"
				   "VmRSS:\t   45528 kB\nThreads:\t4\n"
				   "voluntary_ctxt_switches:\t1234\n"
				   "nonvoluntary_ctxt_switches:\t56\n";
	struct pcost_status st;

	(void)state;
	assert_int_equal(pcost_parse_status(real, strlen(real), &st), 0);
	assert_int_equal(st.rss_bytes, 45528ull * 1024);
	assert_int_equal(st.locked_bytes, 45512ull * 1024);
	assert_int_equal(st.voluntary, 1234);
	/* the last line without its newline, and a length that cuts the text short */
	assert_int_equal(pcost_parse_status("VmRSS: 8 kB", 11, &st), 0);
	assert_int_equal(st.rss_bytes, 8192);
	assert_int_equal(pcost_parse_status("VmRSS: 81 kB", 8, &st), 0);
	assert_int_equal(st.rss_bytes, 8);
	/* nothing we read, or only fields without numbers */
	assert_int_equal(pcost_parse_status("Name: x\n", 8, &st), -EINVAL);
	assert_int_equal(pcost_parse_status("VmRSS:\tkB\nVmLck:", 16, &st), -EINVAL);
	assert_int_equal(pcost_parse_status("", 0, &st), -EINVAL);
	/* a prefix of a key is not the key */
	assert_int_equal(pcost_parse_status("VmRSSx: 5\n", 10, &st), -EINVAL);
	/* 2^64 does not fit: not trusted */
	assert_int_equal(pcost_parse_status("VmRSS: 18446744073709551616\n", 28, &st), -EINVAL);
	assert_int_equal(pcost_parse_status("VmRSS: 18446744073709551615\n", 28, &st), 0);
	assert_int_equal(st.rss_bytes, UINT64_MAX);
}

static void test_parse_schedstat(void **state)
{
	uint64_t ns = 0;

	(void)state;
	assert_int_equal(pcost_parse_schedstat("123456789 2000 17\n", 18, &ns), 0);
	assert_int_equal(ns, 123456789);
	assert_int_equal(pcost_parse_schedstat("x 1 2\n", 6, &ns), -EINVAL);
	assert_int_equal(pcost_parse_schedstat("", 0, &ns), -EINVAL);
}

struct worker {
	pid_t tid;
	int phase; /* 0: starting, 1: tid known, 2: may end; guarded by lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static uint64_t thread_cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Names itself, burns 200 ms of its own CPU time, then lives on until told to end. */
static void *burn(void *arg)
{
	struct worker *w = arg;
	volatile uint64_t x = 0;
	uint64_t start;

	pthread_mutex_lock(&w->lock);
	w->tid = gettid();
	w->phase = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	start = thread_cpu_ns();
	while (thread_cpu_ns() - start < 200000000u)
		x = x + 1;
	pthread_mutex_lock(&w->lock);
	while (w->phase != 2)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void test_wakeups(void **state)
{
	struct pcost_sample a, b;

	(void)state;
	assert_int_equal(pcost_read(0, &a), 0);
	for (int i = 0; i < 20; i++) /* 20 sleeps of this thread, each a wake-up */
		usleep(1000);
	assert_int_equal(pcost_read(0, &b), 0);
	assert_true(a.rss_bytes > 0);
	assert_true(b.wakeups >= a.wakeups + 20);
	assert_int_equal(b.rt_cpu_ns, 0); /* no RT thread named */
}

static void test_cpu(void **state)
{
	struct worker w = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
	struct pcost_sample a, c;
	struct pcost_figures f;
	pthread_t t;

	(void)state;
	/* a thread that ends takes its time out of the sum: read while it runs */
	assert_int_equal(pthread_create(&t, NULL, burn, &w), 0);
	pthread_mutex_lock(&w.lock);
	while (w.phase == 0)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	assert_int_equal(pcost_read(w.tid, &a), 0);
	for (;;) { /* until it has burnt 150 ms of its 200 */
		assert_int_equal(pcost_read(w.tid, &c), 0);
		if (c.rt_cpu_ns >= a.rt_cpu_ns + 150000000u)
			break;
		usleep(2000);
	}
	pthread_mutex_lock(&w.lock);
	w.phase = 2;
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
	assert_true(c.cpu_ns >= a.cpu_ns + 150000000u);
	pcost_between(&a, &c, &f);
	assert_true(f.window_s > 0.0);
	assert_true(f.rt_cpu > 0.0 && f.cpu >= f.rt_cpu);
	pthread_join(t, NULL);
}

static void test_between(void **state)
{
	struct pcost_sample a = {
		.at_ns = 1000000000, .cpu_ns = 100, .rt_tid = 7, .rt_cpu_ns = 50, .wakeups = 10};
	struct pcost_sample b = {.at_ns = 3000000000,
				 .cpu_ns = 100 + 20000000,
				 .rt_tid = 7,
				 .rt_cpu_ns = 50 + 2000000,
				 .wakeups = 14,
				 .rss_bytes = 5,
				 .locked_bytes = 4};
	struct pcost_figures f;

	(void)state;
	pcost_between(&a, &b, &f);
	assert_float_equal(f.window_s, 2.0, 1e-12);
	assert_float_equal(f.cpu, 0.01, 1e-12);
	assert_float_equal(f.rt_cpu, 0.001, 1e-12);
	assert_float_equal(f.wakeups_per_s, 2.0, 1e-12);
	assert_int_equal(f.rss_bytes, 5);
	assert_int_equal(f.locked_bytes, 4);
	b.cpu_ns = 50; /* a thread ended */
	b.rt_tid = 8;  /* another RT thread */
	pcost_between(&a, &b, &f);
	assert_float_equal(f.cpu, 0.0, 0.0);
	assert_float_equal(f.rt_cpu, 0.0, 0.0);
	pcost_between(&b, &b, &f); /* no time: nothing divided by zero */
	assert_float_equal(f.cpu, 0.0, 0.0);
}

static void test_meter(void **state)
{
	struct pcost_meter m = {0};
	struct pcost_figures f1, f2;

	(void)state;
	assert_int_equal(pcost_meter_get(&m, 0, &f1), 0);
	assert_int_equal(m.have, 1);
	assert_int_equal(pcost_meter_get(&m, 0, &f1), 0); /* too soon: not kept */
	assert_int_equal(m.have, 1);
	usleep(1050000);
	assert_int_equal(pcost_meter_get(&m, 0, &f1), 0);
	assert_int_equal(m.have, 2);
	assert_true(f1.window_s >= 1.0);
	assert_int_equal(pcost_meter_get(&m, 0, &f2), 0); /* the same window again */
	assert_float_equal(f1.window_s, f2.window_s, 0.0);
	assert_float_equal(f1.wakeups_per_s, f2.wakeups_per_s, 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_status), cmocka_unit_test(test_parse_schedstat),
		cmocka_unit_test(test_wakeups),      cmocka_unit_test(test_cpu),
		cmocka_unit_test(test_between),      cmocka_unit_test(test_meter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
