/* SPDX-License-Identifier: MIT */
/*
 * common/el-rt-thread.h: starting a thread at SCHED_FIFO, or at the caller's policy where the
 * right to real-time scheduling is missing (the caller decides what to say about it).
 */
#pragma once

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>

/*
 * Starts fn(arg) as *ret at SCHED_FIFO priority; where that is refused (EPERM), at the caller's
 * own policy. 0 with *ret_realtime saying which; a positive errno of pthread_create() otherwise.
 */
static inline int el_rt_thread_start(pthread_t *ret, int priority, void *(*fn)(void *), void *arg,
				     bool *ret_realtime)
{
	struct sched_param sp = {.sched_priority = priority};
	pthread_attr_t attr;
	int r;

	pthread_attr_init(&attr);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
	pthread_attr_setschedparam(&attr, &sp);
	r = pthread_create(ret, &attr, fn, arg);
	*ret_realtime = r == 0;
	if (r == EPERM) {
		pthread_attr_setinheritsched(&attr, PTHREAD_INHERIT_SCHED);
		r = pthread_create(ret, &attr, fn, arg);
	}
	pthread_attr_destroy(&attr);
	return r;
}
