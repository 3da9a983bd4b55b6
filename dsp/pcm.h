/* SPDX-License-Identifier: MIT */
/*
 * dsp/pcm.h: samples as a sound card takes and gives them — interleaved little-endian integers
 * or floats — to and from the engine's planar floats.
 *
 * Floats map to integers as x * 2^(bits-1), rounded to nearest and clipped to the format's
 * range (so +1.0 is the largest positive code, one step short of it; a NaN is 0); integers map back
 * as code / 2^(bits-1), exactly. dsp_pcm_from_float_dither() adds dither (TPDF, or noise-shaped:
 * dsp/dither.h) to the scaled sample before it rounds (not for FLOAT_LE, which does not round, nor
 * to a sample already on the format's grid, which needs no rounding: a bit-perfect path stays so).
 * Thread: any (RT-safe: no allocation, no locks).
 */
#pragma once

#include <stddef.h>

struct dsp_dither;

/* Little-endian sample formats, as ALSA names them. */
enum dsp_pcm_format {
	DSP_PCM_S16,   /* S16_LE: 16 bits in 2 bytes */
	DSP_PCM_S24_3, /* S24_3LE: 24 bits in 3 bytes */
	DSP_PCM_S24,   /* S24_LE: 24 bits in the low 3 bytes of 4 (the top one the sign's) */
	DSP_PCM_S32,   /* S32_LE: 32 bits */
	DSP_PCM_F32,   /* FLOAT_LE: IEEE single, passed as is */
	DSP_PCM_N_FORMATS
};

/* Bytes of one sample: 2, 3, 4, 4, 4. */
size_t dsp_pcm_sample_bytes(enum dsp_pcm_format f);

/* Significant bits: 16, 24, 24, 32, 24 (a float's mantissa). */
unsigned dsp_pcm_bits(enum dsp_pcm_format f);

/*
 * Frames [0, n) of in[0 .. channels) (NULL: a silent channel) into out, interleaved with
 * frame_channels samples per frame: channel c at sample c; channels >= frame_channels are
 * dropped, samples past channels are written as silence.
 */
void dsp_pcm_from_float(enum dsp_pcm_format f, const float *const *in, unsigned channels, void *out,
			unsigned frame_channels, size_t n);

/*
 * As dsp_pcm_from_float(), with channel c dithered by dither[c] (channels of them, one per engine
 * channel; NULL: none) at the format's bits.
 */
void dsp_pcm_from_float_dither(enum dsp_pcm_format f, const float *const *in, unsigned channels,
			       void *out, unsigned frame_channels, size_t n,
			       struct dsp_dither *dither);

/*
 * Frames [0, n) of in (interleaved, frame_channels samples per frame) into out[0 .. channels):
 * channel c from sample c; channels past frame_channels (or whose out[c] is NULL) get
 * nothing / are skipped.
 */
void dsp_pcm_to_float(enum dsp_pcm_format f, const void *in, unsigned frame_channels,
		      float *const *out, unsigned channels, size_t n);
