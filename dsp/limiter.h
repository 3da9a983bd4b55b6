/* SPDX-License-Identifier: MIT */
/*
 * dsp/limiter.h: a look-ahead brick-wall peak limiter — no sample leaves above the ceiling,
 * whatever comes in, and the gain moves without clicks.
 *
 * The channels are limited together (one gain for all: the image does not move). The output is
 * the input delayed by `lookahead` frames (the latency to report) times a gain that is already
 * low enough when a peak comes out: the gain each sample needs (ceiling / peak, at most 1) is
 * held at its minimum over the look-ahead window, released towards 1 with a one-pole of
 * `release` frames, and averaged over the window, so every gain in the average that reaches a
 * peak is the peak's own or lower (and the average of gains is a straight-line attack, no step).
 * The frame leaving is then held to the gain its own peak needs, which binds only where the
 * average's rounding fails (gains 10^12 apart: a peak 240 dB over the ceiling), and a last clip
 * at the ceiling catches float rounding (tested: never more than 8 ulp).
 *
 * With true_peak, the gain each frame needs is taken from the true peak around it (the
 * largest of the signal between the frames on either side, as a DAC reconstructs it): the
 * output's true peak then stays at the ceiling to within the interpolator's accuracy and the
 * gain's movement between two frames (tested: 0.15 dB), where a sample-peak limiter lets a
 * quarter-rate sine 45 degrees off (samples 3 dB below its true peak) through unlimited. The final
 * clip still holds every sample.
 *
 * Threads: dsp_limiter_new/free on any thread (allocates); _process, _set, _get on the one
 * thread that runs it (RT-safe).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dsp_limiter;

/* Frames of look-ahead at most (a second at 48 kHz). */
#define DSP_LIMITER_MAX_LOOKAHEAD 48000u

/*
 * channels 1 .. 64, lookahead 1 .. DSP_LIMITER_MAX_LOOKAHEAD frames; true_peak: limit the peaks
 * between samples (dsp/true-peak.h: 8x oversampled) rather than the samples, at the cost of
 * DSP_TRUE_PEAK_DELAY frames more latency. 0 with *ret (ceiling 1, release 1 frame: call
 * dsp_limiter_set); -EINVAL, -ENOMEM.
 */
int dsp_limiter_new(unsigned channels, uint32_t lookahead, bool true_peak,
		    struct dsp_limiter **ret);

/* Accepts NULL; returns NULL. */
struct dsp_limiter *dsp_limiter_free(struct dsp_limiter *l);

/*
 * ceiling: the largest |output| (linear, > 0); release: frames for the gain to recover 1 - 1/e
 * of its way back to 1 (>= 1). Takes effect from the next frame; a lower ceiling is reached as
 * any peak is (within the look-ahead), so nothing clicks.
 */
void dsp_limiter_set(struct dsp_limiter *l, float ceiling, double release);

/* Frames [0, n) of in[0 .. channels) to out (may be the same buffers). */
void dsp_limiter_process(struct dsp_limiter *l, const float *const *in, float *const *out,
			 size_t n);

/* The lowest gain applied since the last call (linear, 1: none), then starts again at 1. */
float dsp_limiter_take_min_gain(struct dsp_limiter *l);

/* Forgets the history: silence in the delay line, gain 1. */
void dsp_limiter_reset(struct dsp_limiter *l);

/*
 * Samples the final clip moved by more than float rounding (8 ulp of the ceiling): 0 unless the
 * gain design failed somewhere (a test's check). A NaN or an infinity in comes out as silence.
 */
uint64_t dsp_limiter_get_clips(const struct dsp_limiter *l);

/* Frames the gain had to be capped at their own peak's need beyond rounding (see above). */
uint64_t dsp_limiter_get_caught(const struct dsp_limiter *l);

/* The delay of the output behind the input, in frames. */
uint32_t dsp_limiter_get_latency(const struct dsp_limiter *l);
