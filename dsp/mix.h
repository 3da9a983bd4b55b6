/* SPDX-License-Identifier: MIT */
/*
 * dsp/mix.h: the buffer primitives every node is built from — clear, copy, add, add with gain,
 * and linear gain ramps.
 *
 * One ops table per SIMD variant (portable C that the compiler vectorizes, AVX2/FMA, AVX-512),
 * chosen once from the CPU flags, as PipeWire's mix_ops_init() picks among its variants.
 * All functions: Thread: RT. Buffers may have any alignment and any length n >= 0 (frames);
 * `dst` and `src` must not overlap unless they are equal where the doc says so.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct dsp_mix_ops {
	const char *name; /* "c", "avx2" or "avx512", for logs and benchmarks */

	/* dst[i] = 0 */
	void (*clear)(float *dst, size_t n);
	/* dst[i] = src[i] */
	void (*copy)(float *restrict dst, const float *restrict src, size_t n);
	/* dst[i] += src[i] */
	void (*add)(float *restrict dst, const float *restrict src, size_t n);
	/* dst[i] += gain * src[i] (gain linear, not dB) */
	void (*add_gain)(float *restrict dst, const float *restrict src, float gain, size_t n);
	/*
	 * dst[i] = src[i] * g(i), g(i) = g0 + (g1 - g0) * i / n: a linear ramp that starts at g0
	 * and would reach g1 on the frame after the last, so consecutive ramps join without a
	 * repeat. dst == src is allowed (in place).
	 */
	void (*gain_ramp)(float *dst, const float *src, float g0, float g1, size_t n);
	/* dst[i] += src[i] * g(i), with g(i) as for gain_ramp */
	void (*add_gain_ramp)(float *restrict dst, const float *restrict src, float g0, float g1,
			      size_t n);
	/*
	 * dst[i] = src[i], and while the samples pass: *ret_peak = max |src[i]| (a NaN is
	 * ignored; 0 when n is 0) and *ret_sum_sq = Σ src[i]^2 (float sums, one per vector lane,
	 * added at the end: a meter's block needs no more). A meter in one pass.
	 */
	void (*copy_measure)(float *restrict dst, const float *restrict src, size_t n,
			     float *ret_peak, float *ret_sum_sq);
	/* The number of i with |x[i]| > limit (a NaN is not counted): an output's clips. */
	size_t (*count_over)(const float *x, float limit, size_t n);
};

/*
 * Thread: any. Fills *ops with the fastest variant that cpu_flags (enum dsp_cpu_flag) allow.
 * Always succeeds: the portable C variant needs nothing.
 */
void dsp_mix_ops_init(struct dsp_mix_ops *ops, uint32_t cpu_flags);

/* The individual variants, for tests and benchmarks that compare them. */
extern const struct dsp_mix_ops dsp_mix_ops_c;
extern const struct dsp_mix_ops dsp_mix_ops_avx2;
extern const struct dsp_mix_ops dsp_mix_ops_avx512;
