/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir-mac.h: the convolver's hot loop — complex multiply-accumulate over the
 * frequency-domain delay line. Internal to dsp/ (the convolver and its tests use it).
 *
 * Layout ("split, packed"): a partition spectrum of an n = 2 * bins point real FFT has bins + 1
 * complex values, of which the first (DC) and last (Nyquist) are real. It is stored as
 * `bins` real parts followed by `bins` imaginary parts, with the Nyquist value packed into the
 * unused imaginary slot of DC. That gives exactly `bins` (a multiple of 32) lanes of each part:
 * whole vectors, no ragged edge. A kernel multiplies bin 0 as if it were complex, which is wrong
 * for the packed pair; it therefore also returns nyq = Σ x_im[0] * h_im[0], from which the
 * caller repairs it: DC = re[0] + nyq, Nyquist = nyq (the unpack below does).
 */
#pragma once

/*
 * Partitions summed in registers before being added to the accumulator in memory. Summing a long
 * FDL into one float accumulator lets rounding error grow like sqrt(nparts) (-119 dB at 2048
 * partitions); summing chunks first makes it about sqrt(chunk) + sqrt(nparts / chunk), some
 * 10 dB better, for one extra load/add/store per chunk. Every kernel sums in this same order.
 */
#define DSP_FIR_MAC_CHUNK 32

#include <stddef.h>
#include <stdint.h>

/*
 * Thread: RT. acc[0..bins) += Re Σ x_p·h_p and acc[bins..2 bins) += Im Σ x_p·h_p over nparts
 * partitions, x and h each holding nparts consecutive partitions of 2 * bins floats; *nyq +=
 * Σ x_p[bins] * h_p[bins] (summed per DSP_FIR_MAC_CHUNK, like the bins). bins is a multiple of 32;
 * all pointers aligned to EL_SIMD_ALIGN.
 */
typedef void (*dsp_fir_mac_fn)(float *restrict acc, const float *restrict x,
			       const float *restrict h, size_t nparts, size_t bins,
			       float *restrict nyq);

void dsp_fir_mac_c(float *restrict acc, const float *restrict x, const float *restrict h,
		   size_t nparts, size_t bins, float *restrict nyq);
void dsp_fir_mac_avx2(float *restrict acc, const float *restrict x, const float *restrict h,
		      size_t nparts, size_t bins, float *restrict nyq);
void dsp_fir_mac_avx512(float *restrict acc, const float *restrict x, const float *restrict h,
			size_t nparts, size_t bins, float *restrict nyq);

/* Thread: any. The fastest kernel the cpu_flags (enum dsp_cpu_flag) allow. */
dsp_fir_mac_fn dsp_fir_mac_select(uint32_t cpu_flags);

/*
 * Thread: RT. pack: FFTW's r2c output (bins + 1 interleaved complex values) into the split,
 * packed layout. unpack: back, for FFTW's c2r, from an accumulator and its nyq sum, with the
 * repair (DC = re[0] + nyq, Nyquist = nyq, both imaginary parts 0). Plain loops, compiled per
 * variant with its vector width: a scalar (de)interleave of every block's spectrum was ~4 % of a
 * render's CPU, the vectorized one (vpermt2ps under AVX-512) a fraction of that.
 */
typedef void (*dsp_fir_pack_fn)(const float *restrict spec, float *restrict dst, size_t bins);
typedef void (*dsp_fir_unpack_fn)(const float *restrict acc, float nyq, float *restrict spec,
				  size_t bins);

struct dsp_fir_packers {
	dsp_fir_pack_fn pack;
	dsp_fir_unpack_fn unpack;
};

void dsp_fir_pack_c(const float *restrict spec, float *restrict dst, size_t bins);
void dsp_fir_pack_avx2(const float *restrict spec, float *restrict dst, size_t bins);
void dsp_fir_pack_avx512(const float *restrict spec, float *restrict dst, size_t bins);
void dsp_fir_unpack_c(const float *restrict acc, float nyq, float *restrict spec, size_t bins);
void dsp_fir_unpack_avx2(const float *restrict acc, float nyq, float *restrict spec, size_t bins);
void dsp_fir_unpack_avx512(const float *restrict acc, float nyq, float *restrict spec, size_t bins);

/* Thread: any. The fastest packers the cpu_flags allow. */
struct dsp_fir_packers dsp_fir_packers_select(uint32_t cpu_flags);
