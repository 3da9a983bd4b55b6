/* SPDX-License-Identifier: MIT */
/*
 * dsp/mix-simd.h: the body of a SIMD mix variant, written once for any vector width.
 *
 * A variant file defines the vector type and operations below, then includes this file; the
 * AVX2 and AVX-512 variants differ only in those definitions, so one loop structure is all we
 * maintain (and test). Required before inclusion:
 *   MIX_V            vector type             MIX_VN          floats per vector
 *   MIX_LOAD(p)      unaligned load          MIX_STORE(p, v) unaligned store
 *   MIX_SET1(x)      broadcast               MIX_ZERO()      all zero
 *   MIX_ADD(a, b)    a + b                   MIX_MUL(a, b)   a * b
 *   MIX_FMA(a, b, c) a * b + c               MIX_IOTA()      {0, 1, 2, ...}
 *   MIX_ABS(a)       |a|                     MIX_MAX(a, b)   max, b when either is NaN
 *   MIX_COUNT_GT(a, b)  lanes where a > b (false for a NaN), as an unsigned count
 *   MIX_NAME(x)      x with the variant's suffix
 *
 * Loops run four vectors per iteration: enough independent adds to cover the FMA latency and
 * keep two load ports busy, which is what it takes to get near memcpy bandwidth. The remainder
 * (fewer than MIX_VN frames per step) falls back to scalar code computing the same formula.
 */
#include <stddef.h>

#include "common/el-macros.h"

#define MIX_STEP (4 * MIX_VN)

EL_RT static void MIX_NAME(clear)(float *dst, size_t n)
{
	MIX_V z = MIX_ZERO();
	size_t i = 0;

	for (; i + MIX_VN <= n; i += MIX_VN)
		MIX_STORE(dst + i, z);
	for (; i < n; i++)
		dst[i] = 0.0f;
}

EL_RT static void MIX_NAME(copy)(float *restrict dst, const float *restrict src, size_t n)
{
	size_t i = 0;

	for (; i + MIX_STEP <= n; i += MIX_STEP) {
		MIX_V a = MIX_LOAD(src + i), b = MIX_LOAD(src + i + MIX_VN);
		MIX_V c = MIX_LOAD(src + i + 2 * MIX_VN), d = MIX_LOAD(src + i + 3 * MIX_VN);
		MIX_STORE(dst + i, a);
		MIX_STORE(dst + i + MIX_VN, b);
		MIX_STORE(dst + i + 2 * MIX_VN, c);
		MIX_STORE(dst + i + 3 * MIX_VN, d);
	}
	for (; i < n; i++)
		dst[i] = src[i];
}

/*
 * One body for add, add_gain and the ramps: dst = (accumulate ? dst : 0) + src * gain, where
 * gain is a broadcast constant (step == 0) or the ramp g0 + step * i. The compiler folds the
 * constant flags away in each caller.
 */
EL_RT static inline void MIX_NAME(apply)(float *dst, const float *src, float g0, float step,
					 int accumulate, int ramp, size_t n)
{
	MIX_V gv = MIX_SET1(g0), sv = MIX_SET1(step), idx = MIX_IOTA();
	MIX_V vn = MIX_SET1((float)MIX_VN);
	size_t i = 0;

	for (; i + MIX_VN <= n; i += MIX_VN) {
		MIX_V g = ramp ? MIX_ADD(gv, MIX_MUL(sv, idx)) : gv;
		MIX_V s = MIX_LOAD(src + i);
		MIX_V r = accumulate ? MIX_FMA(s, g, MIX_LOAD(dst + i)) : MIX_MUL(s, g);
		MIX_STORE(dst + i, r);
		idx = MIX_ADD(idx, vn);
	}
	for (; i < n; i++) {
		float g = ramp ? g0 + step * (float)i : g0;
		dst[i] = accumulate ? dst[i] + src[i] * g : src[i] * g;
	}
}

EL_RT static void MIX_NAME(add)(float *restrict dst, const float *restrict src, size_t n)
{
	size_t i = 0;

	for (; i + MIX_STEP <= n; i += MIX_STEP) {
		MIX_V a = MIX_ADD(MIX_LOAD(dst + i), MIX_LOAD(src + i));
		MIX_V b = MIX_ADD(MIX_LOAD(dst + i + MIX_VN), MIX_LOAD(src + i + MIX_VN));
		MIX_V c = MIX_ADD(MIX_LOAD(dst + i + 2 * MIX_VN), MIX_LOAD(src + i + 2 * MIX_VN));
		MIX_V d = MIX_ADD(MIX_LOAD(dst + i + 3 * MIX_VN), MIX_LOAD(src + i + 3 * MIX_VN));
		MIX_STORE(dst + i, a);
		MIX_STORE(dst + i + MIX_VN, b);
		MIX_STORE(dst + i + 2 * MIX_VN, c);
		MIX_STORE(dst + i + 3 * MIX_VN, d);
	}
	for (; i < n; i++)
		dst[i] += src[i];
}

EL_RT static void MIX_NAME(add_gain)(float *restrict dst, const float *restrict src, float gain,
				     size_t n)
{
	MIX_V g = MIX_SET1(gain);
	size_t i = 0;

	for (; i + MIX_STEP <= n; i += MIX_STEP) {
		MIX_V a = MIX_FMA(MIX_LOAD(src + i), g, MIX_LOAD(dst + i));
		MIX_V b = MIX_FMA(MIX_LOAD(src + i + MIX_VN), g, MIX_LOAD(dst + i + MIX_VN));
		MIX_V c =
			MIX_FMA(MIX_LOAD(src + i + 2 * MIX_VN), g, MIX_LOAD(dst + i + 2 * MIX_VN));
		MIX_V d =
			MIX_FMA(MIX_LOAD(src + i + 3 * MIX_VN), g, MIX_LOAD(dst + i + 3 * MIX_VN));
		MIX_STORE(dst + i, a);
		MIX_STORE(dst + i + MIX_VN, b);
		MIX_STORE(dst + i + 2 * MIX_VN, c);
		MIX_STORE(dst + i + 3 * MIX_VN, d);
	}
	MIX_NAME(apply)(dst + i, src + i, gain, 0.0f, 1, 0, n - i);
}

EL_RT static void MIX_NAME(gain_ramp)(float *dst, const float *src, float g0, float g1, size_t n)
{
	MIX_NAME(apply)(dst, src, g0, n ? (g1 - g0) / (float)n : 0.0f, 0, 1, n);
}

EL_RT static void MIX_NAME(add_gain_ramp)(float *restrict dst, const float *restrict src, float g0,
					  float g1, size_t n)
{
	MIX_NAME(apply)(dst, src, g0, n ? (g1 - g0) / (float)n : 0.0f, 1, 1, n);
}

/* Two vectors of lanes per step: two independent chains of adds and maxes, no dependency wait. */
EL_RT static void MIX_NAME(copy_measure)(float *restrict dst, const float *restrict src, size_t n,
					 float *ret_peak, float *ret_sum_sq)
{
	MIX_V pa = MIX_ZERO(), pb = MIX_ZERO(), sa = MIX_ZERO(), sb = MIX_ZERO();
	float lanes_peak[2 * MIX_VN], lanes_sum[2 * MIX_VN], peak = 0.0f, sum = 0.0f;
	size_t i = 0;

	for (; i + 2 * MIX_VN <= n; i += 2 * MIX_VN) {
		MIX_V a = MIX_LOAD(src + i), b = MIX_LOAD(src + i + MIX_VN);

		MIX_STORE(dst + i, a);
		MIX_STORE(dst + i + MIX_VN, b);
		/* the sample second: a NaN sample leaves the running peak as it was */
		pa = MIX_MAX(MIX_ABS(a), pa);
		pb = MIX_MAX(MIX_ABS(b), pb);
		sa = MIX_FMA(a, a, sa);
		sb = MIX_FMA(b, b, sb);
	}
	MIX_STORE(lanes_peak, pa);
	MIX_STORE(lanes_peak + MIX_VN, pb);
	MIX_STORE(lanes_sum, sa);
	MIX_STORE(lanes_sum + MIX_VN, sb);
	for (size_t k = 0; k < 2 * MIX_VN; k++) {
		peak = lanes_peak[k] > peak ? lanes_peak[k] : peak;
		sum += lanes_sum[k];
	}
	for (; i < n; i++) {
		float a = src[i] < 0.0f ? -src[i] : src[i];

		dst[i] = src[i];
		peak = a > peak ? a : peak;
		sum += src[i] * src[i];
	}
	*ret_peak = peak;
	*ret_sum_sq = sum;
}

EL_RT static size_t MIX_NAME(count_over)(const float *x, float limit, size_t n)
{
	MIX_V l = MIX_SET1(limit);
	size_t k = 0, i = 0;

	for (; i + 2 * MIX_VN <= n; i += 2 * MIX_VN)
		k += MIX_COUNT_GT(MIX_ABS(MIX_LOAD(x + i)), l) +
		     MIX_COUNT_GT(MIX_ABS(MIX_LOAD(x + i + MIX_VN)), l);
	for (; i < n; i++)
		k += (x[i] < 0.0f ? -x[i] : x[i]) > limit;
	return k;
}

#define MIX_OPS_INITIALIZER(variant_name)                                                          \
	{                                                                                          \
		.name = variant_name, .clear = MIX_NAME(clear), .copy = MIX_NAME(copy),            \
		.add = MIX_NAME(add), .add_gain = MIX_NAME(add_gain),                              \
		.gain_ramp = MIX_NAME(gain_ramp), .add_gain_ramp = MIX_NAME(add_gain_ramp),        \
		.copy_measure = MIX_NAME(copy_measure), .count_over = MIX_NAME(count_over),        \
	}
