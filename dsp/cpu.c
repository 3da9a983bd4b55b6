/* SPDX-License-Identifier: MIT */
/* dsp/cpu.c: CPU feature detection for choosing SIMD kernels, and the denormal switch. */
#include "dsp/cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#include <pmmintrin.h>
#endif

uint32_t dsp_cpu_get_flags(void)
{
	uint32_t flags = 0;

#if defined(__x86_64__) || defined(__i386__)
	/* __builtin_cpu_supports also checks that the OS saves the wide registers (XCR0). */
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		flags |= DSP_CPU_AVX2_FMA;
	if (__builtin_cpu_supports("avx512f") && (flags & DSP_CPU_AVX2_FMA))
		flags |= DSP_CPU_AVX512F;
#endif
	return flags;
}

const char *dsp_cpu_get_variant_name(uint32_t flags)
{
	if (flags & DSP_CPU_AVX512F)
		return "avx512";
	if (flags & DSP_CPU_AVX2_FMA)
		return "avx2";
	return "c";
}

void dsp_cpu_flush_denormals(void)
{
#if defined(__x86_64__) || defined(__i386__)
	_MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
	_MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
#endif
}
