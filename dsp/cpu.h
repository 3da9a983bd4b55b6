/* SPDX-License-Identifier: MIT */
/*
 * dsp/cpu.h: which SIMD kernels this CPU can run.
 *
 * The flags are read once by the caller and passed into every dsp object, so a test can force
 * the scalar or the AVX2 path on an AVX-512 machine and compare them.
 */
#pragma once

#include <stdint.h>

enum dsp_cpu_flag {
	DSP_CPU_AVX2_FMA = 1u << 0, /* AVX2 and FMA3 together (Haswell, Zen 1 and later) */
	DSP_CPU_AVX512F = 1u << 1,  /* AVX-512 Foundation (Skylake-SP, Zen 4 and later) */
};

/* Thread: any. The SIMD feature set of the running CPU, as enum dsp_cpu_flag bits. */
uint32_t dsp_cpu_get_flags(void);

/* Thread: any. A short name for the best variant the flags allow: "avx512", "avx2" or "c". */
const char *dsp_cpu_get_variant_name(uint32_t flags);

/*
 * Thread: the calling thread only (RT-safe). Makes the calling thread flush denormal results
 * and inputs to zero (SSE FTZ+DAZ), so decaying filter tails never hit the slow path. The
 * setting belongs to the thread, which is why dsp objects never change it themselves.
 */
void dsp_cpu_flush_denormals(void);
