/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir-mac-c.c: the portable multiply-accumulate kernel and the kernel choice.
 *
 * Tiles of bins outer, chunks of partitions inside, bins innermost: the partial sums stay in L1
 * and restrict lets the compiler vectorize the innermost loop for the baseline ISA. This is
 * also the reference the SIMD kernels are tested against, summing in the same order.
 */
#include "common/el-macros.h"
#include "dsp/cpu.h"
#include "dsp/fir-mac.h"

#define FIR_PACK_NAME   dsp_fir_pack_c
#define FIR_UNPACK_NAME dsp_fir_unpack_c
#include "dsp/fir-pack-body.h"

/* Bins per tile: the tile's partial sums (512 bytes) stay in L1 across a chunk of partitions. */
#define MAC_C_TILE 64

/* nyq: the tile holds bin 0; *nyq += the packed Nyquist products, chunked like the bins. */
EL_RT static void mac_c_tile(float *restrict acc, const float *restrict x, const float *restrict h,
			     size_t nparts, size_t bins, size_t t, size_t w, float *restrict nyq)
{
	float sr[MAC_C_TILE], si[MAC_C_TILE], sn;

	for (size_t p0 = 0; p0 < nparts; p0 += DSP_FIR_MAC_CHUNK) {
		size_t p1 = EL_MIN(nparts, p0 + DSP_FIR_MAC_CHUNK);

		for (size_t k = 0; k < w; k++)
			sr[k] = si[k] = 0.0f;
		sn = 0.0f;
		for (size_t p = p0; p < p1; p++) {
			const float *xr = x + p * 2 * bins + t, *xi = xr + bins;
			const float *hr = h + p * 2 * bins + t, *hi = hr + bins;

			for (size_t k = 0; k < w; k++) {
				sr[k] += xr[k] * hr[k] - xi[k] * hi[k];
				si[k] += xr[k] * hi[k] + xi[k] * hr[k];
			}
			sn += xi[0] * hi[0];
		}
		for (size_t k = 0; k < w; k++) {
			acc[t + k] += sr[k];
			acc[bins + t + k] += si[k];
		}
		if (nyq)
			*nyq += sn;
	}
}

EL_RT void dsp_fir_mac_c(float *restrict acc, const float *restrict x, const float *restrict h,
			 size_t nparts, size_t bins, float *restrict nyq)
{
	for (size_t t = 0; t < bins; t += MAC_C_TILE)
		mac_c_tile(acc, x, h, nparts, bins, t, EL_MIN((size_t)MAC_C_TILE, bins - t),
			   t == 0 ? nyq : NULL);
}

dsp_fir_mac_fn dsp_fir_mac_select(uint32_t cpu_flags)
{
#if defined(__x86_64__)
	if (cpu_flags & DSP_CPU_AVX512F)
		return dsp_fir_mac_avx512;
	if (cpu_flags & DSP_CPU_AVX2_FMA)
		return dsp_fir_mac_avx2;
#else
	(void)cpu_flags;
#endif
	return dsp_fir_mac_c;
}

struct dsp_fir_packers dsp_fir_packers_select(uint32_t cpu_flags)
{
#if defined(__x86_64__)
	if (cpu_flags & DSP_CPU_AVX512F)
		return (struct dsp_fir_packers){dsp_fir_pack_avx512, dsp_fir_unpack_avx512};
	if (cpu_flags & DSP_CPU_AVX2_FMA)
		return (struct dsp_fir_packers){dsp_fir_pack_avx2, dsp_fir_unpack_avx2};
#else
	(void)cpu_flags;
#endif
	return (struct dsp_fir_packers){dsp_fir_pack_c, dsp_fir_unpack_c};
}
