/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir-pack-body.h: the packers of fir-mac.h, written once as plain loops for the compiler to
 * vectorize at each variant's width (its file's -m flags and -ftree-vectorize). Required before
 * inclusion: FIR_PACK_NAME, FIR_UNPACK_NAME, the functions' names.
 */
#include <stddef.h>

#include "common/el-macros.h"

EL_RT void FIR_PACK_NAME(const float *restrict spec, float *restrict dst, size_t bins)
{
	float *restrict re = dst, *restrict im = dst + bins;

	for (size_t k = 0; k < bins; k++) {
		re[k] = spec[2 * k];
		im[k] = spec[2 * k + 1];
	}
	im[0] = spec[2 * bins]; /* the real Nyquist value rides in DC's empty imaginary slot */
}

EL_RT void FIR_UNPACK_NAME(const float *restrict acc, float nyq, float *restrict spec, size_t bins)
{
	const float *re = acc, *im = acc + bins;

	for (size_t k = 0; k < bins; k++) {
		spec[2 * k] = re[k];
		spec[2 * k + 1] = im[k];
	}
	spec[0] = re[0] + nyq;
	spec[1] = 0.0f;
	spec[2 * bins] = nyq;
	spec[2 * bins + 1] = 0.0f;
}
