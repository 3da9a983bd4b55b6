/* SPDX-License-Identifier: MIT */
/*
 * dsp/pcm.c: planar floats to and from interleaved little-endian samples (pcm.h).
 *
 * Bytes are assembled by hand, not through casts: a 3-byte sample has no C type, and byte order
 * stays right on any host. The float-to-integer path works in double, so a 32-bit code rounds
 * from the exact product (a float has 24 bits: every float sample maps to one code exactly).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "dsp/cpu.h"
#include "dsp/dither.h"
#include "dsp/pcm-simd.h"
#include "dsp/pcm.h"

static const size_t pcm_bytes[DSP_PCM_N_FORMATS] = {2, 3, 4, 4, 4};
static const unsigned pcm_bits[DSP_PCM_N_FORMATS] = {16, 24, 24, 32, 24};

size_t dsp_pcm_sample_bytes(enum dsp_pcm_format f)
{
	return pcm_bytes[f];
}

unsigned dsp_pcm_bits(enum dsp_pcm_format f)
{
	return pcm_bits[f];
}

/* x as a code of `bits` bits, dithered by d (NULL: none): dsp_dither_quantize(). */
static int32_t to_code(float x, struct dsp_dither *d, unsigned bits)
{
	const double scale = (double)(1u << (bits - 1)); /* bits <= 32: 2^31 fits a double */

	return dsp_dither_quantize(d, (double)x * scale, scale);
}

static void put_le(unsigned char *p, uint32_t v, size_t bytes)
{
	for (size_t i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The little-endian integer at p of `bytes` bytes, sign-extended from `bits` bits. */
static int32_t get_le(const unsigned char *p, size_t bytes, unsigned bits)
{
	uint32_t v = 0;

	for (size_t i = 0; i < bytes; i++)
		v |= (uint32_t)p[i] << (8 * i);
	if (bits < 32) {
		uint32_t sign = 1u << (bits - 1);

		v &= (sign << 1) - 1u;
		return (int32_t)(v ^ sign) - (int32_t)sign;
	}
	return (int32_t)v;
}

static void put_sample(enum dsp_pcm_format f, unsigned char *p, float x, struct dsp_dither *d)
{
	if (f == DSP_PCM_F32) {
		memcpy(p, &x, sizeof(x)); /* little-endian hosts only (x86, arm64 as built here) */
		return;
	}
	put_le(p, (uint32_t)to_code(x, d, pcm_bits[f]), pcm_bytes[f]);
}

void dsp_pcm_from_float(enum dsp_pcm_format f, const float *const *in, unsigned channels, void *out,
			unsigned frame_channels, size_t n)
{
	dsp_pcm_from_float_dither(f, in, channels, out, frame_channels, n, NULL);
}

void dsp_pcm_from_float_dither(enum dsp_pcm_format f, const float *const *in, unsigned channels,
			       void *out, unsigned frame_channels, size_t n,
			       struct dsp_dither *dither)
{
	const size_t bytes = pcm_bytes[f], frame = bytes * frame_channels;
	unsigned char *o = out;

	for (unsigned c = 0; c < frame_channels; c++) {
		const float *x = c < channels ? in[c] : NULL;
		unsigned char *p = o + c * bytes;

		if (!x) {
			for (size_t i = 0; i < n; i++, p += frame)
				memset(p, 0, bytes); /* zero is silence in every format */
			continue;
		}
		for (size_t i = 0; i < n; i++, p += frame)
			put_sample(f, p, x[i], dither ? &dither[c] : NULL);
	}
}

/* Little-endian loads of 2 and 4 bytes, on a host of either order. */
static inline uint16_t load_le16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap16(v);
#endif
	return v;
}

static inline uint32_t load_le32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

/*
 * One channel's n samples, `frame` bytes apart, as floats: each read with one load and shifted
 * so its sign bit is bit 31 (an exact int32 of code * 2^(32 - bits)), then scaled by 2^-31 -
 * the same exact value as code / 2^(bits - 1). A 3-byte sample is loaded as 4 bytes, the 4th
 * shifted out, except the last, whose 4th byte may lie past the buffer. Inlined with a constant
 * frame for one channel, these loops cost ~0.3 ns a sample; libsndfile's general loop cost ~1.1
 * (a 60 s 24-bit file: ~3 ms of a render). The int conversions of unsigned values wrap
 * (modulo 2^N), as gcc and clang define.
 */
static inline void s16_to_float(const unsigned char *p, size_t frame, float *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		y[i] = (float)(int16_t)load_le16(p + i * frame) * 0x1p-15f;
}

/* 4-byte loads shifted left by `shift` (8: 24 bits in the low 3 bytes, the top byte dropped, as
 * get_le() masks it; 0: 32 bits), so each is an exact int32 of code * 2^(32 - bits). */
static inline void le32_to_float(const unsigned char *p, size_t frame, unsigned shift, float *y,
				 size_t n)
{
	for (size_t i = 0; i < n; i++)
		y[i] = (float)(int32_t)(load_le32(p + i * frame) << shift) * 0x1p-31f;
}

static inline void s24_3_to_float(const unsigned char *p, size_t frame, float *y, size_t n)
{
	if (n == 0)
		return;
	le32_to_float(p, frame, 8, y, n - 1);
	y[n - 1] = (float)get_le(p + (n - 1) * frame, 3, 24) * 0x1p-23f;
}

static inline void s24_to_float(const unsigned char *p, size_t frame, float *y, size_t n)
{
	le32_to_float(p, frame, 8, y, n);
}

static inline void s32_to_float(const unsigned char *p, size_t frame, float *y, size_t n)
{
	le32_to_float(p, frame, 0, y, n);
}

static inline void f32_to_float(const unsigned char *p, size_t frame, float *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		memcpy(&y[i], p + i * frame, sizeof(float));
}

/* conv for one channel: with the frame as a constant when the samples are contiguous */
#define PCM_CONVERT(conv, bytes)                                                                   \
	(frame_channels == 1 ? conv(p, (bytes), y, n) : conv(p, frame, y, n))

void dsp_pcm_to_float(enum dsp_pcm_format f, const void *in, unsigned frame_channels,
		      float *const *out, unsigned channels, size_t n)
{
	const size_t bytes = pcm_bytes[f], frame = bytes * frame_channels;
	const unsigned char *b = in;

	for (unsigned c = 0; c < channels && c < frame_channels; c++) {
		const unsigned char *p = b + c * bytes;
		float *y = out[c];

		if (!y)
			continue;
		switch (f) {
		case DSP_PCM_S16:
			PCM_CONVERT(s16_to_float, 2);
			break;
		case DSP_PCM_S24_3:
			if (frame_channels == 1 && (dsp_cpu_get_flags() & DSP_CPU_AVX2_FMA)) {
				size_t k = dsp_pcm_s24_3_to_float_avx2(p, y, n);

				s24_3_to_float(p + 3 * k, 3, y + k, n - k);
			} else {
				PCM_CONVERT(s24_3_to_float, 3);
			}
			break;
		case DSP_PCM_S24:
			PCM_CONVERT(s24_to_float, 4);
			break;
		case DSP_PCM_S32:
			PCM_CONVERT(s32_to_float, 4);
			break;
		case DSP_PCM_F32:
		case DSP_PCM_N_FORMATS:
			PCM_CONVERT(f32_to_float, 4);
			break;
		}
	}
}
