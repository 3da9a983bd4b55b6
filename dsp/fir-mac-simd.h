/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir-mac-simd.h: the body of a SIMD multiply-accumulate kernel, for any vector width.
 *
 * DESIGN: the work is memory-bound — every x and h value is used exactly once per block, four
 * loads feed four FMAs — so the only lever is to never touch the accumulator in memory inside
 * the partition loop. Bins are therefore processed in tiles of four vectors: the tile's real and
 * imaginary sums (8 registers) stay in registers while the loop walks a chunk of partitions
 * (DSP_FIR_MAC_CHUNK, for accuracy), and are added to memory once per chunk. With 64 bins (block
 * 64) under AVX-512 one tile covers a whole partition and x and h stream strictly sequentially. A
 * one-vector tile handles what is left. The first tile also sums the packed Nyquist products
 * (fir-mac.h) from lane 0 of the vectors it has already loaded: a separate pass would fetch one
 * float per partition, a cache line each, 2 * nparts misses per block on a cold cache.
 * Required before inclusion: MAC_V vector type, MAC_VN floats per vector, MAC_LOAD(p) aligned
 * load, MAC_STORE(p, v), MAC_ZERO(), MAC_ADD(a, b), MAC_FMA(a, b, c) = a*b + c, MAC_FNMA(a, b, c)
 * = c - a*b, MAC_LANE0(v) its first float, MAC_NAME the kernel's name.
 */
#include <stdbool.h>
#include <stddef.h>

#include "common/el-macros.h"

#define MAC_TILE (4 * MAC_VN)

/* The packers (fir-mac.h) are the shared plain loops, vectorized for this variant's width. */
#define FIR_PACK_NAME   MAC_NAME_PACK
#define FIR_UNPACK_NAME MAC_NAME_UNPACK
#include "dsp/fir-pack-body.h"

/* One complex multiply-accumulate of vector j of the tile: (r, i) += (xr + j xi)(hr + j hi). */
#define MAC_STEP(j)                                                                                \
	do {                                                                                       \
		MAC_V xr_ = MAC_LOAD(xr + (j)*MAC_VN), xi_ = MAC_LOAD(xi + (j)*MAC_VN);            \
		MAC_V hr_ = MAC_LOAD(hr + (j)*MAC_VN), hi_ = MAC_LOAD(hi + (j)*MAC_VN);            \
		r##j = MAC_FMA(xr_, hr_, r##j);                                                    \
		r##j = MAC_FNMA(xi_, hi_, r##j);                                                   \
		i##j = MAC_FMA(xr_, hi_, i##j);                                                    \
		i##j = MAC_FMA(xi_, hr_, i##j);                                                    \
		if ((j) == 0 && with_nyq)                                                          \
			n0 = MAC_FMA(xi_, hi_, n0);                                                \
	} while (0)

#define MAC_ZERO4(v) v##0 = v##1 = v##2 = v##3 = MAC_ZERO()

/* Adds register sums to the accumulator in memory: once per chunk of partitions. */
#define MAC_FLUSH(ptr, v, j)                                                                       \
	MAC_STORE((ptr) + (j)*MAC_VN, MAC_ADD(MAC_LOAD((ptr) + (j)*MAC_VN), v##j))

/*
 * with_nyq: this is the tile of bin 0; *nyq += the Nyquist products, per chunk like the bins.
 * Always a constant where the tile is inlined, so the other tiles carry no trace of it.
 */
EL_RT static inline __attribute__((always_inline)) void
MAC_NAME_TILE4(float *restrict acc, const float *restrict x, const float *restrict h, size_t nparts,
	       size_t bins, size_t t, bool with_nyq, float *restrict nyq)
{
	float *are = acc + t, *aim = acc + bins + t;
	MAC_V r0, r1, r2, r3, i0, i1, i2, i3, n0;

	for (size_t p0 = 0; p0 < nparts; p0 += DSP_FIR_MAC_CHUNK) {
		size_t p1 = EL_MIN(nparts, p0 + DSP_FIR_MAC_CHUNK);

		MAC_ZERO4(r);
		MAC_ZERO4(i);
		n0 = MAC_ZERO();
		for (size_t p = p0; p < p1; p++) {
			const float *xr = x + p * 2 * bins + t, *xi = xr + bins;
			const float *hr = h + p * 2 * bins + t, *hi = hr + bins;

			MAC_STEP(0);
			MAC_STEP(1);
			MAC_STEP(2);
			MAC_STEP(3);
		}
		MAC_FLUSH(are, r, 0);
		MAC_FLUSH(are, r, 1);
		MAC_FLUSH(are, r, 2);
		MAC_FLUSH(are, r, 3);
		MAC_FLUSH(aim, i, 0);
		MAC_FLUSH(aim, i, 1);
		MAC_FLUSH(aim, i, 2);
		MAC_FLUSH(aim, i, 3);
		if (with_nyq)
			*nyq += MAC_LANE0(n0);
	}
}

EL_RT static inline __attribute__((always_inline)) void
MAC_NAME_TILE1(float *restrict acc, const float *restrict x, const float *restrict h, size_t nparts,
	       size_t bins, size_t t, bool with_nyq, float *restrict nyq)
{
	MAC_V r0, i0, n0;

	for (size_t p0 = 0; p0 < nparts; p0 += DSP_FIR_MAC_CHUNK) {
		size_t p1 = EL_MIN(nparts, p0 + DSP_FIR_MAC_CHUNK);

		r0 = i0 = n0 = MAC_ZERO();
		for (size_t p = p0; p < p1; p++) {
			const float *xr = x + p * 2 * bins + t, *xi = xr + bins;
			const float *hr = h + p * 2 * bins + t, *hi = hr + bins;

			MAC_STEP(0);
		}
		MAC_FLUSH(acc + t, r, 0);
		MAC_FLUSH(acc + bins + t, i, 0);
		if (with_nyq)
			*nyq += MAC_LANE0(n0);
	}
}

EL_RT void MAC_NAME(float *restrict acc, const float *restrict x, const float *restrict h,
		    size_t nparts, size_t bins, float *restrict nyq)
{
	size_t t = 0;

	if (bins >= MAC_TILE) {
		MAC_NAME_TILE4(acc, x, h, nparts, bins, 0, true, nyq);
		t = MAC_TILE;
	} else {
		MAC_NAME_TILE1(acc, x, h, nparts, bins, 0, true, nyq);
		t = MAC_VN;
	}
	for (; t + MAC_TILE <= bins; t += MAC_TILE)
		MAC_NAME_TILE4(acc, x, h, nparts, bins, t, false, NULL);
	for (; t < bins; t += MAC_VN)
		MAC_NAME_TILE1(acc, x, h, nparts, bins, t, false, NULL);
}
