/* SPDX-License-Identifier: MIT */
/* dsp/fir-mac-avx512.c: the AVX-512 multiply-accumulate kernel (16 floats per vector). */
#include <immintrin.h>

#include "dsp/fir-mac.h"

#define MAC_V             __m512
#define MAC_VN            16
#define MAC_LOAD(p)       _mm512_load_ps(p)
#define MAC_STORE(p, v)   _mm512_store_ps((p), (v))
#define MAC_ZERO()        _mm512_setzero_ps()
#define MAC_ADD(a, b)     _mm512_add_ps((a), (b))
#define MAC_FMA(a, b, c)  _mm512_fmadd_ps((a), (b), (c))
#define MAC_FNMA(a, b, c) _mm512_fnmadd_ps((a), (b), (c))
#define MAC_LANE0(v)      _mm512_cvtss_f32(v)
#define MAC_NAME          dsp_fir_mac_avx512
#define MAC_NAME_TILE4    mac_tile4_avx512
#define MAC_NAME_TILE1    mac_tile1_avx512
#define MAC_NAME_PACK     dsp_fir_pack_avx512
#define MAC_NAME_UNPACK   dsp_fir_unpack_avx512

#include "dsp/fir-mac-simd.h"
