/* SPDX-License-Identifier: MIT */
/* dsp/mix-avx512.c: the AVX-512 mix variant (16 floats per vector). Built with -mavx512f. */
#include <immintrin.h>

#include "dsp/mix.h"

#define MIX_V            __m512
#define MIX_VN           16
#define MIX_LOAD(p)      _mm512_loadu_ps(p)
#define MIX_STORE(p, v)  _mm512_storeu_ps((p), (v))
#define MIX_SET1(x)      _mm512_set1_ps(x)
#define MIX_ZERO()       _mm512_setzero_ps()
#define MIX_ADD(a, b)    _mm512_add_ps((a), (b))
#define MIX_MUL(a, b)    _mm512_mul_ps((a), (b))
#define MIX_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define MIX_IOTA()       _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define MIX_ABS(a)       _mm512_abs_ps(a)
#define MIX_MAX(a, b)    _mm512_max_ps((a), (b))
#define MIX_COUNT_GT(a, b) ((unsigned)__builtin_popcount(_mm512_cmp_ps_mask((a), (b), _CMP_GT_OQ)))
#define MIX_NAME(x)      mix_##x##_avx512

#include "dsp/mix-simd.h"

const struct dsp_mix_ops dsp_mix_ops_avx512 = MIX_OPS_INITIALIZER("avx512");
