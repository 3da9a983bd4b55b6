/* SPDX-License-Identifier: MIT */
/* dsp/fir-mac-avx2.c: the AVX2/FMA multiply-accumulate kernel (8 floats per vector). */
#include <immintrin.h>

#include "dsp/fir-mac.h"

#define MAC_V             __m256
#define MAC_VN            8
#define MAC_LOAD(p)       _mm256_load_ps(p)
#define MAC_STORE(p, v)   _mm256_store_ps((p), (v))
#define MAC_ZERO()        _mm256_setzero_ps()
#define MAC_ADD(a, b)     _mm256_add_ps((a), (b))
#define MAC_FMA(a, b, c)  _mm256_fmadd_ps((a), (b), (c))
#define MAC_FNMA(a, b, c) _mm256_fnmadd_ps((a), (b), (c))
#define MAC_LANE0(v)      _mm256_cvtss_f32(v)
#define MAC_NAME          dsp_fir_mac_avx2
#define MAC_NAME_TILE4    mac_tile4_avx2
#define MAC_NAME_TILE1    mac_tile1_avx2
#define MAC_NAME_PACK     dsp_fir_pack_avx2
#define MAC_NAME_UNPACK   dsp_fir_unpack_avx2

#include "dsp/fir-mac-simd.h"
