/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir-inspect.h: a look inside a convolver, internal to dsp/ and its tests (like
 * fir-mac.h): what a test needs to prove a reset costs a block and not the whole history.
 */
#pragma once

#include <stddef.h>

struct dsp_fir;

/*
 * Thread: any, while nothing processes. The frequency-domain delay line: *ret_floats floats
 * (capacity partitions of 2 * block), borrowed, valid while fir lives.
 */
const float *dsp_fir_get_fdl(const struct dsp_fir *fir, size_t *ret_floats);

/*
 * Thread: any, while nothing processes. Partitions written since the last reset (or since
 * dsp_fir_new), at most the capacity: how far every multiply-accumulate reads.
 */
size_t dsp_fir_get_filled(const struct dsp_fir *fir);
