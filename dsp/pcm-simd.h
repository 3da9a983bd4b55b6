/* SPDX-License-Identifier: MIT */
/*
 * dsp/pcm-simd.h: the vector sample conversions pcm.c uses where the CPU has them. Internal to
 * dsp/.
 */
#pragma once

#include <stddef.h>

/*
 * Thread: any (RT-safe). Samples [0, k) of n contiguous 3-byte little-endian samples at p into
 * y as pcm.h scales them, for the largest k (a multiple of 8) the vector loop reaches without
 * reading past p + 3n; returns k, and the caller converts the rest. Needs AVX2.
 */
size_t dsp_pcm_s24_3_to_float_avx2(const unsigned char *p, float *y, size_t n);
