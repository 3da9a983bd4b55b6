/* SPDX-License-Identifier: MIT */
/*
 * dsp/pcm-avx2.c: contiguous 3-byte little-endian samples to floats, 8 at a time, for
 * dsp_pcm_to_float() (pcm-simd.h). Built with -mavx2.
 *
 * Each 128-bit lane takes 4 samples (12 bytes): vpshufb places sample k's 3 bytes in the top 3
 * bytes of dword k, a zero below, which makes the exact int32 code * 2^8 the scalar loop makes by
 * shifting; converted and scaled by 2^-31 it is the same float.
 */
#include <immintrin.h>

#include "dsp/pcm-simd.h"

size_t dsp_pcm_s24_3_to_float_avx2(const unsigned char *p, float *y, size_t n)
{
	const __m256i order =
		_mm256_setr_epi8(-1, 0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1, 0, 1, 2,
				 -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11);
	const __m256 scale = _mm256_set1_ps(0x1p-31f);
	size_t i = 0;

	/* the upper lane's 16-byte load reads 4 bytes past its 4 samples: stop while 2 samples
	 * (6 bytes) are left after them */
	for (; i + 10 <= n; i += 8) {
		const unsigned char *q = p + 3 * i;
		__m256i raw = _mm256_inserti128_si256(
			_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)q)),
			_mm_loadu_si128((const __m128i *)(q + 12)), 1);
		__m256i codes = _mm256_shuffle_epi8(raw, order);

		_mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_cvtepi32_ps(codes), scale));
	}
	return i;
}
