/* SPDX-License-Identifier: MIT */
/*
 * dsp/delay.h: an integer-sample delay line for one channel, to time-align the ways of a
 * crossover or the speakers of a room.
 *
 * The delay can change while audio runs: the output crossfades linearly from the old read
 * position to the new one, so the change does not click. The ring buffer is allocated once,
 * for the longest delay the line will ever need.
 *
 * Pure DSP: no logging, no threads, no allocation after _new.
 */
#pragma once

#include <stddef.h>

#include "common/el-macros.h"

struct dsp_delay;

/* Longest delay accepted (frames): 2^24, about 5.8 minutes at 48 kHz. */
#define DSP_DELAY_MAX_FRAMES ((size_t)1 << 24)

/*
 * Thread: control (allocates (max_frames + 1) floats). A line that can delay by up to
 * max_frames frames (1 <= max_frames <= DSP_DELAY_MAX_FRAMES), starting at a delay of 0 with
 * silent history. 0 with *ret set; -EINVAL (max_frames out of range, ret NULL); -ENOMEM.
 * *ret untouched on failure.
 */
int dsp_delay_new(size_t max_frames, struct dsp_delay **ret);

/* Thread: control. Accepts NULL; returns NULL. */
struct dsp_delay *dsp_delay_free(struct dsp_delay *d);

/*
 * Thread: RT (never allocates, locks or blocks). Sets the delay to frames (0 <= frames <=
 * max_frames). fade_frames == 0 jumps at the next frame, cancelling any fade (a click, unless
 * nothing plays yet). Otherwise the output crossfades linearly from the current delay to the
 * new one over fade_frames frames: frame k of the fade (k = 0 .. fade_frames - 1) is
 * old * (1 - k / fade_frames) + new * k / fade_frames. A set while a fade runs is queued and
 * starts when that fade ends; a later set replaces the queued one, so at most two fades stand
 * between the line and the delay last set.
 * 0; -EINVAL when d is NULL or frames > max_frames; nothing changes then.
 */
int dsp_delay_set(struct dsp_delay *d, size_t frames, unsigned fade_frames) EL_RT;

/*
 * Thread: RT (never allocates, locks or blocks). Delays n frames (any n >= 0, unrelated to the
 * delay) of in into out. in and out may be the same buffer.
 */
void dsp_delay_process(struct dsp_delay *d, const float *in, float *out, size_t n) EL_RT;

/*
 * Thread: RT. Forgets the history (silence from now on). O(1): the ring is not cleared, the
 * line only stops reading what was written before. A fade in progress, or queued, completes
 * at once, since there is nothing left to fade between.
 */
void dsp_delay_reset(struct dsp_delay *d) EL_RT;

/* Thread: any. The delay (frames) last set: where the line is, or is fading to. */
size_t dsp_delay_get_frames(const struct dsp_delay *d);

/* Thread: any. The max_frames the line was made with. */
size_t dsp_delay_get_max_frames(const struct dsp_delay *d);
