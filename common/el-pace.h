/* SPDX-License-Identifier: MIT */
/*
 * common/el-pace.h: pacing long background work, for the power and heat policy.
 *
 * Work that runs for a long time off the RT thread — preparing an IR (resampling it,
 * transforming its partitions), an offline render — is split into chunks, and between chunks
 * it tells a pacer how long the chunk took. The pacer may sleep before the next one: the policy
 * throttles background work when the machine runs hot or on a low battery (docs/policy.md,
 * "Background work"). The library code that does the work (dsp/, the node types) knows nothing
 * of the policy, only this callback. A NULL pacer, or one without a callback, runs at full
 * speed. Thread: the worker's own (the callback runs on it and may block).
 */
#pragma once

#include <stdint.h>
#include <time.h>

struct el_pacer {
	/* after a chunk that took work_ns of wall time; may sleep; never fails */
	void (*pace)(void *ctx, uint64_t work_ns);
	void *ctx;
};

/* CLOCK_MONOTONIC in nanoseconds, to time chunks. */
static inline uint64_t el_pace_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The chunk that started at *since_ns is done: tell the pacer, and start the next one now. */
static inline void el_pace(const struct el_pacer *p, uint64_t *since_ns)
{
	if (!p || !p->pace)
		return;
	p->pace(p->ctx, el_pace_now_ns() - *since_ns);
	*since_ns = el_pace_now_ns();
}
