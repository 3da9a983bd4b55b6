/* SPDX-License-Identifier: MIT */
/*
 * dsp/dither.h: TPDF dither — what makes quantizing to a sound card's or a file's integers add
 * noise instead of distortion.
 *
 * Each sample gets the sum of two independent uniform values in [-1/2, 1/2) LSB: a triangular
 * density over (-1, 1) LSB with mean 0 and variance 1/6 LSB^2, which makes the rounding error's
 * first two moments independent of the signal (Wannamaker, Lipshitz, Vanderkooy). It is added
 * in double precision to the scaled sample just before the rounding to nearest
 * (dsp_dither_quantize(): dsp_pcm_from_float_dither(), a render's writer): added to the float
 * sample instead, a 24-bit LSB would be lost in a loud float's own rounding. The noise is white,
 * or, shaped, pushed up the spectrum: the total error (dither and rounding) is fed back through
 * Wannamaker's 3-tap filter (the quantizer's noise transfer function 1 - 1.623 z^-1 + 0.982 z^-2
 * - 0.109 z^-3: 12 dB less noise at low frequencies, less where hearing is most sensitive, more
 * above 15 kHz). The generator is a small xorshift per channel: no allocation, no locks,
 * deterministic for a seed (a render dithers the same way every time). Thread: any (RT-safe);
 * one dsp_dither per thread at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dsp_dither {
	uint32_t state; /* never 0 */
	bool shaped;    /* the error fed back (noise shaping) */
	double e[3];    /* shaped: the last three total errors, newest first (LSB) */
};

/* seed: any value (0 is replaced); channels of one stream take different seeds. White TPDF. */
void dsp_dither_init(struct dsp_dither *d, uint32_t seed);

/*
 * The lowest rate shaping is for: the filter puts its noise above 10 kHz at 44.1-48 kHz (and
 * higher still at higher rates); at 32 kHz and below that would be in the band heard, so
 * callers dither those rates with white TPDF instead.
 */
#define DSP_DITHER_SHAPED_MIN_RATE 44100u

/* As dsp_dither_init(), noise-shaped when shaped is true. */
void dsp_dither_init_shaped(struct dsp_dither *d, uint32_t seed, bool shaped);

/* The next dither value in LSB: triangular over (-1, 1), mean 0, variance 1/6. */
double dsp_dither_next(struct dsp_dither *d);

/*
 * s (a sample times 2^(bits-1), in LSB) rounded to an integer code in [-scale, scale - 1], with
 * d's dither (NULL: none, round to nearest). A sample already on the grid is passed as it is,
 * undithered: a bit-perfect path stays bit-perfect. A NaN is 0 (silence, not full-scale DC).
 */
int32_t dsp_dither_quantize(struct dsp_dither *d, double s, double scale);
