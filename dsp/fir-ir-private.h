/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir-ir-private.h: a prepared impulse response as the convolver (fir.c) reads it, and the
 * helpers both sides share. Internal to dsp/ (like fir-mac.h): everyone else sees
 * struct dsp_fir_ir opaque through dsp/fir.h.
 */
#pragma once

#include <stddef.h>

#include "common/el-macros.h"
#include "dsp/fir-layout.h"

struct dsp_fir_ir {
	struct dsp_fir_layout layout; /* fitted to the taps (dsp_fir_layout_fit) */
	size_t taps;
	size_t nparts;                               /* Σ parts over the segments */
	float *spectra[DSP_FIR_LAYOUT_MAX_SEGMENTS]; /* owned: parts * 2 * size floats each,
						      * split packed layout (fir-mac.h) */
	/* owned: nparts + 1 values over all partitions in order; remaining[p] = energy of
	 * partitions p.. / total energy (non-increasing, remaining[0] = 1, remaining[nparts] = 0;
	 * all 0 for a silent IR) */
	double *remaining;
};

/* Thread: any. The energy ratio a cut at tail_db leaves; 1 (or more) keeps the whole IR. */
double dsp_fir_tail_limit(float tail_db);

/*
 * Thread: RT. Partitions of ir a cut at the energy ratio limit (dsp_fir_tail_limit()) keeps: at
 * least one, all for limit >= 1; 0 for ir NULL.
 */
EL_RT size_t dsp_fir_ir_parts_for_limit(const struct dsp_fir_ir *ir, double limit);
