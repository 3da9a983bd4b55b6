/* SPDX-License-Identifier: MIT */
/*
 * dsp/mix-c.c: the portable mix variant — plain loops over restrict pointers that the compiler
 * vectorizes for the baseline ISA. It is also the reference the SIMD variants are tested
 * against, so it stays obviously correct rather than clever.
 */
#include <math.h>
#include <string.h>

#include "common/el-macros.h"
#include "dsp/mix.h"

EL_RT static void mix_clear_c(float *dst, size_t n)
{
	memset(dst, 0, n * sizeof(float));
}

EL_RT static void mix_copy_c(float *restrict dst, const float *restrict src, size_t n)
{
	memcpy(dst, src, n * sizeof(float));
}

EL_RT static void mix_add_c(float *restrict dst, const float *restrict src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] += src[i];
}

EL_RT static void mix_add_gain_c(float *restrict dst, const float *restrict src, float gain,
				 size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] += gain * src[i];
}

/*
 * The ramp value is computed from the index (g0 + step * i), not accumulated, so rounding does
 * not drift over long ramps and every variant computes the same gain for the same frame.
 */
EL_RT static void mix_gain_ramp_c(float *dst, const float *src, float g0, float g1, size_t n)
{
	float step = n ? (g1 - g0) / (float)n : 0.0f;

	for (size_t i = 0; i < n; i++)
		dst[i] = src[i] * (g0 + step * (float)i);
}

EL_RT static void mix_add_gain_ramp_c(float *restrict dst, const float *restrict src, float g0,
				      float g1, size_t n)
{
	float step = n ? (g1 - g0) / (float)n : 0.0f;

	for (size_t i = 0; i < n; i++)
		dst[i] += src[i] * (g0 + step * (float)i);
}

/* The reference: one running sum in double, so the SIMD variants are checked against better. */
EL_RT static void mix_copy_measure_c(float *restrict dst, const float *restrict src, size_t n,
				     float *ret_peak, float *ret_sum_sq)
{
	float peak = 0.0f;
	double sum = 0.0;

	for (size_t i = 0; i < n; i++) {
		float a = fabsf(src[i]);

		dst[i] = src[i];
		peak = a > peak ? a : peak;
		sum += (double)src[i] * src[i];
	}
	*ret_peak = peak;
	*ret_sum_sq = (float)sum;
}

EL_RT static size_t mix_count_over_c(const float *x, float limit, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += fabsf(x[i]) > limit;
	return k;
}

const struct dsp_mix_ops dsp_mix_ops_c = {
	.name = "c",
	.clear = mix_clear_c,
	.copy = mix_copy_c,
	.add = mix_add_c,
	.add_gain = mix_add_gain_c,
	.gain_ramp = mix_gain_ramp_c,
	.add_gain_ramp = mix_add_gain_ramp_c,
	.copy_measure = mix_copy_measure_c,
	.count_over = mix_count_over_c,
};
