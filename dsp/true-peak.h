/* SPDX-License-Identifier: MIT */
/*
 * dsp/true-peak.h: the peak of a signal between its samples (the "true peak" of ITU-R BS.1770),
 * estimated by 8x oversampling with a windowed-sinc interpolator — what a DAC's reconstruction
 * filter makes of the samples. A sine at a quarter of the rate sampled 45 degrees off its peak
 * has samples of 0.707 and a true peak of 1.0: a limiter looking at samples lets it through
 * 3 dB over its ceiling.
 *
 * For frame m the detector gives the largest |x| on [m - 1, m + 1] (the samples and the seven
 * points between each pair), every channel together: a peak between two frames is charged to
 * both, since both carry it. It needs x up to m + DSP_TRUE_PEAK_DELAY, so it runs that many
 * frames behind its input: push a frame, get the frame and peak of DSP_TRUE_PEAK_DELAY frames ago.
 *
 * Threads: _new/_free anywhere (allocates), _push on the one thread that runs it (RT-safe).
 */
#pragma once

#include <stddef.h>

struct dsp_true_peak;

/* Half the interpolator's length: the taps on each side, and the detector's delay (frames). */
#define DSP_TRUE_PEAK_HALF  12u
#define DSP_TRUE_PEAK_DELAY DSP_TRUE_PEAK_HALF

/* channels 1 .. 64. 0 with *ret (its history silent); -EINVAL, -ENOMEM. */
int dsp_true_peak_new(unsigned channels, struct dsp_true_peak **ret);

/* Accepts NULL; returns NULL. */
struct dsp_true_peak *dsp_true_peak_free(struct dsp_true_peak *t);

/*
 * Takes frame t (x[c], c < channels) and gives frame t - DSP_TRUE_PEAK_DELAY in out[c] with its
 * true peak over all channels (the return value, >= every |out[c]|; a NaN in the window counts
 * as infinite).
 */
float dsp_true_peak_push(struct dsp_true_peak *t, const float *x, float *out);

/* Forgets the history: silence. */
void dsp_true_peak_reset(struct dsp_true_peak *t);
