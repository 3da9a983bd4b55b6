/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir-inspect.h: a look inside a convolver, internal to dsp/ and its tests (like
 * fir-mac.h): what a test needs to prove a reset costs a block and not the whole history.
 */
#pragma once

#include <stddef.h>

struct dsp_fir;
struct dsp_fir_schedule;

/* Thread: any. The schedule the convolver follows (fir-schedule.h); borrowed. */
const struct dsp_fir_schedule *dsp_fir_get_schedule(const struct dsp_fir *fir);

/*
 * Thread: control. Makes the convolver run from its next call as if it had been running on
 * silence long enough for every partition to hold input: so a measurement (fir-search.c) times
 * the steady state at once instead of after taps / block calls of warm-up. The next call is at
 * phase 0 of the schedule.
 */
void dsp_fir_prime(struct dsp_fir *fir);

/*
 * Thread: any, while nothing processes. How many tail segments a tail cut left dormant (no
 * transform, no sum) at the last call.
 */
unsigned dsp_fir_get_dormant(const struct dsp_fir *fir);

/*
 * Thread: any, while nothing processes. The head's frequency-domain delay line: *ret_floats
 * floats (its capacity of partitions of 2 * block), borrowed, valid while fir lives.
 */
const float *dsp_fir_get_fdl(const struct dsp_fir *fir, size_t *ret_floats);

/*
 * Thread: any, while nothing processes. Head partitions written since the last reset (or since
 * dsp_fir_new), at most its capacity: how far its multiply-accumulate reads.
 */
size_t dsp_fir_get_filled(const struct dsp_fir *fir);
