/* SPDX-License-Identifier: MIT */
/* dsp/mix-avx2.c: the AVX2/FMA mix variant (8 floats per vector). Built with -mavx2 -mfma. */
#include <immintrin.h>

#include "dsp/mix.h"

#define MIX_V            __m256
#define MIX_VN           8
#define MIX_LOAD(p)      _mm256_loadu_ps(p)
#define MIX_STORE(p, v)  _mm256_storeu_ps((p), (v))
#define MIX_SET1(x)      _mm256_set1_ps(x)
#define MIX_ZERO()       _mm256_setzero_ps()
#define MIX_ADD(a, b)    _mm256_add_ps((a), (b))
#define MIX_MUL(a, b)    _mm256_mul_ps((a), (b))
#define MIX_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define MIX_IOTA()       _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7)
#define MIX_ABS(a)       _mm256_andnot_ps(_mm256_set1_ps(-0.0f), (a))
#define MIX_MAX(a, b)    _mm256_max_ps((a), (b))
#define MIX_COUNT_GT(a, b)                                                                         \
	((unsigned)__builtin_popcount(                                                             \
		(unsigned)_mm256_movemask_ps(_mm256_cmp_ps((a), (b), _CMP_GT_OQ))))
#define MIX_NAME(x)      mix_##x##_avx2

#include "dsp/mix-simd.h"

const struct dsp_mix_ops dsp_mix_ops_avx2 = MIX_OPS_INITIALIZER("avx2");
