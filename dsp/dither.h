/* SPDX-License-Identifier: MIT */
/*
 * dsp/dither.h: TPDF dither — what makes quantizing to a sound card's or a file's integers add
 * noise instead of distortion.
 *
 * Each sample gets the sum of two independent uniform values in [-1/2, 1/2) LSB: a triangular
 * density over (-1, 1) LSB with mean 0 and variance 1/6 LSB^2, which makes the rounding error's
 * first two moments independent of the signal (Wannamaker, Lipshitz, Vanderkooy). It is added
 * in double precision to the scaled sample just before the rounding to nearest
 * (dsp_pcm_from_float_dither(), a render's writer): added to the float sample instead, a 24-bit
 * LSB would be lost in a loud float's own rounding. The noise is white (no noise shaping). The
 * generator is a small xorshift per channel: no allocation, no locks, deterministic for a seed (a
 * render dithers the same way every time). Thread: any (RT-safe); one dsp_dither per thread at a
 * time.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct dsp_dither {
	uint32_t state; /* never 0 */
};

/* seed: any value (0 is replaced); channels of one stream take different seeds. */
void dsp_dither_init(struct dsp_dither *d, uint32_t seed);

/* The next dither value in LSB: triangular over (-1, 1), mean 0, variance 1/6. */
double dsp_dither_next(struct dsp_dither *d);
