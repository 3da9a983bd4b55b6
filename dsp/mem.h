/* SPDX-License-Identifier: MIT */
/* dsp/mem.h: zeroed, SIMD-aligned allocation for sample and spectrum buffers. Control thread. */
#pragma once

#include <stddef.h>

/*
 * Returns a zeroed block of at least size bytes aligned to EL_SIMD_ALIGN, or NULL when out of
 * memory or size is 0. Never call from the RT thread. Free with dsp_mem_free().
 */
void *dsp_mem_alloc(size_t size);

/* Frees a block from dsp_mem_alloc(); accepts NULL; returns NULL for `p = dsp_mem_free(p);`. */
void *dsp_mem_free(void *p);
