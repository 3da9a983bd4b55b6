/* SPDX-License-Identifier: MIT */
/* dsp/mem.c: aligned allocation shared by the dsp objects. */
#include <stdlib.h>
#include <string.h>

#include "common/el-macros.h"
#include "dsp/mem.h"

void *dsp_mem_alloc(size_t size)
{
	void *p = NULL;

	if (size == 0)
		return NULL;
	/* Round up so a vector loop may read a full last vector without leaving the block. */
	size = EL_ALIGN_UP(size, EL_SIMD_ALIGN);
	if (posix_memalign(&p, EL_SIMD_ALIGN, size) != 0)
		return NULL;
	memset(p, 0, size);
	return p;
}

void *dsp_mem_free(void *p)
{
	free(p);
	return NULL;
}
