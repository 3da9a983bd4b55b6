/* SPDX-License-Identifier: MIT */
/*
 * Property: planar floats go to every sound-card format and back as pcm.h says.
 *  - Byte layout: little-endian, interleaved, a 3-byte sample packed, S24_LE in the low three
 *    bytes of four (the top byte the sign's; ignored when read back), FLOAT_LE the float's own
 *    bits.
 *  - Scale: x * 2^(bits-1), rounded to nearest, clipped: +1.0 is the top code, -1.0 the bottom,
 *    beyond them clipped, NaN silence (0); back as code / 2^(bits-1).
 *  - Every code of a 16- and 24-bit format comes back to itself through float (the engine loses
 *    nothing it was given), dithered or not (a sample on the grid gets no dither: bit-perfect);
 *    floats pass bit for bit.
 *  - Channels: a NULL input is silence; device channels past the engine's are silence; engine
 *    channels past the device's are dropped, and on the way in left alone.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dsp/dither.h"
#include "dsp/pcm.h"

static void test_layout_and_scale(void **state)
{
	const float x[] = {1.0f, -1.0f, 0.5f, -0.25f, 2.0f, -3.0f, NAN, 0.0f};
	const float *in[1] = {x};
	unsigned char out[8 * 4];

	(void)state;
	dsp_pcm_from_float(DSP_PCM_S16, in, 1, out, 1, 8);
	/* 32767, -32768, 16384, -8192, clipped 32767, clipped -32768, NaN 0 (silence), 0 */
	static const unsigned char s16[] = {0xff, 0x7f, 0x00, 0x80, 0x00, 0x40, 0x00, 0xe0,
					    0xff, 0x7f, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00};
	assert_memory_equal(out, s16, sizeof(s16));
	dsp_pcm_from_float(DSP_PCM_S24_3, in, 1, out, 1, 4);
	static const unsigned char s24_3[] = {0xff, 0xff, 0x7f, 0x00, 0x00, 0x80,
					      0x00, 0x00, 0x40, 0x00, 0x00, 0xe0};
	assert_memory_equal(out, s24_3, sizeof(s24_3));
	dsp_pcm_from_float(DSP_PCM_S24, in, 1, out, 1, 2);
	static const unsigned char s24[] = {0xff, 0xff, 0x7f, 0x00, 0x00, 0x00, 0x80, 0xff};
	assert_memory_equal(out, s24, sizeof(s24));
	dsp_pcm_from_float(DSP_PCM_S32, in, 1, out, 1, 3);
	static const unsigned char s32[] = {0xff, 0xff, 0xff, 0x7f, 0x00, 0x00,
					    0x00, 0x80, 0x00, 0x00, 0x00, 0x40};
	assert_memory_equal(out, s32, sizeof(s32));
	dsp_pcm_from_float(DSP_PCM_F32, in, 1, out, 1, 8);
	assert_memory_equal(out, x, 6 * sizeof(float));
}

/* Every code of f (16 or 24 bits) to float and back is itself. */
static void round_trip_codes(enum dsp_pcm_format f)
{
	const unsigned bits = dsp_pcm_bits(f);
	const size_t bytes = dsp_pcm_sample_bytes(f);
	static unsigned char in[4096 * 4], back[4096 * 4];
	static float y[4096];
	float *out[1] = {y};
	const float *yin[1] = {y};
	const int64_t lo = -(INT64_C(1) << (bits - 1)), hi = (INT64_C(1) << (bits - 1)) - 1;
	struct dsp_dither d;

	dsp_dither_init(&d, 3);

	for (int64_t code = lo; code <= hi; code += 4096) {
		size_t n = 0;

		for (int64_t c = code; c <= hi && n < 4096; c++, n++)
			for (size_t b = 0; b < bytes; b++)
				in[n * bytes + b] = (unsigned char)((uint64_t)c >> (8 * b));
		dsp_pcm_to_float(f, in, 1, out, 1, n);
		dsp_pcm_from_float(f, yin, 1, back, 1, n);
		if (memcmp(in, back, n * bytes) != 0)
			fail_msg("%u-bit codes from %lld do not come back", bits, (long long)code);
		dsp_pcm_from_float_dither(f, yin, 1, back, 1, n, &d);
		if (memcmp(in, back, n * bytes) != 0)
			fail_msg("%u-bit codes from %lld change when dithered", bits,
				 (long long)code);
	}
}

static void test_codes_round_trip(void **state)
{
	(void)state;
	round_trip_codes(DSP_PCM_S16);
	round_trip_codes(DSP_PCM_S24_3);
	round_trip_codes(DSP_PCM_S24);
}

/*
 * Reading any format, one to three channels per frame and an odd count (the 3-byte loop's last
 * sample is read apart, lest a 4-byte load run past the buffer): every sample is its code
 * decoded here independently, / 2^(bits - 1), rounded once to float. Bytes are random, so a
 * 4-byte S24 container's top byte must be ignored and S32's low bits must round.
 */
static void test_to_float_matches_reference(void **state)
{
	static const enum dsp_pcm_format formats[] = {DSP_PCM_S16, DSP_PCM_S24_3, DSP_PCM_S24,
						      DSP_PCM_S32};
	const size_t n = 37;
	unsigned char in[37 * 3 * 4];
	float y[3][37];
	float *out[3] = {y[0], y[1], y[2]};
	uint32_t seed = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++) {
		seed = seed * 1664525u + 1013904223u;
		in[i] = (unsigned char)(seed >> 24);
	}
	for (size_t fi = 0; fi < sizeof(formats) / sizeof(formats[0]); fi++) {
		const enum dsp_pcm_format f = formats[fi];
		const size_t bytes = dsp_pcm_sample_bytes(f);
		const unsigned bits = dsp_pcm_bits(f);

		for (unsigned chans = 1; chans <= 3; chans++) {
			dsp_pcm_to_float(f, in, chans, out, chans, n);
			for (unsigned c = 0; c < chans; c++) {
				for (size_t i = 0; i < n; i++) {
					const unsigned char *q = in + (i * chans + c) * bytes;
					int64_t code = 0;

					for (unsigned b = 0; b < bits / 8; b++)
						code |= (int64_t)q[b] << (8 * b);
					if (code >= (INT64_C(1) << (bits - 1)))
						code -= INT64_C(1) << bits;
					if (y[c][i] !=
					    (float)((double)code / ldexp(1.0, (int)bits - 1)))
						fail_msg("%u-bit in %zu bytes, %u channels: sample "
							 "%zu "
							 "of channel %u is %.9g",
							 bits, bytes, chans, i, c, (double)y[c][i]);
				}
			}
		}
	}
}

static void test_channels(void **state)
{
	float a[3] = {0.5f, 0.5f, 0.5f}, b[3] = {-0.5f, -0.5f, -0.5f}, c[3] = {1, 1, 1};
	const float *in[3] = {a, NULL, b};
	int16_t out[3 * 4];
	float ra[3], rb[3] = {7, 7, 7}, keep[3] = {9, 9, 9};
	float *back[5] = {ra, NULL, rb, keep, NULL};

	(void)state;
	/* 3 engine channels into 4 device channels: a, silence, b, silence */
	dsp_pcm_from_float(DSP_PCM_S16, in, 3, out, 4, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(out[i * 4 + 0], 16384);
		assert_int_equal(out[i * 4 + 1], 0);
		assert_int_equal(out[i * 4 + 2], -16384);
		assert_int_equal(out[i * 4 + 3], 0);
	}
	/* 3 engine channels into 2: the third is dropped */
	in[1] = c;
	dsp_pcm_from_float(DSP_PCM_S16, in, 3, out, 2, 3);
	assert_int_equal(out[0], 16384);
	assert_int_equal(out[1], 32767);
	/* 2 device channels into 5 engine channels: channel 0 from the device's first, channel 1
	 * (NULL) skipped, channels 2 and 3 past the device's two left alone */
	dsp_pcm_to_float(DSP_PCM_S16, out, 2, back, 5, 3);
	assert_true(ra[0] == 0.5f && ra[2] == 0.5f);
	assert_true(rb[0] == 7.0f && keep[0] == 9.0f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_and_scale),
		cmocka_unit_test(test_codes_round_trip),
		cmocka_unit_test(test_to_float_matches_reference),
		cmocka_unit_test(test_channels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
