/* SPDX-License-Identifier: MIT */
/*
 * common/el-time.h: the monotonic clock in milliseconds, for the control side's backoffs,
 * dwell times and sync intervals (not for the RT cycle's timing, which wants nanoseconds).
 */
#pragma once

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in milliseconds. Thread: any. */
static inline uint64_t el_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
