/* SPDX-License-Identifier: MIT */
/* dsp/mix.c: picks the mix variant once from the CPU flags (PipeWire's mix_ops_init()). */
#include "dsp/cpu.h"
#include "dsp/mix.h"

void dsp_mix_ops_init(struct dsp_mix_ops *ops, uint32_t cpu_flags)
{
	if (cpu_flags & DSP_CPU_AVX512F)
		*ops = dsp_mix_ops_avx512;
	else if (cpu_flags & DSP_CPU_AVX2_FMA)
		*ops = dsp_mix_ops_avx2;
	else
		*ops = dsp_mix_ops_c;
}
