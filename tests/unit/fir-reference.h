/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/fir-reference.h: what the convolver tests measure against: direct-form
 * convolution in double precision, and impulse responses shaped like a room's.
 */
#pragma once

#include <math.h>
#include <stddef.h>

#include "tests/unit/test-util.h"

/* Output sample n of x through h (ntaps), in double: Σ h[k]·x[n-k], x silent before 0. */
static inline double test_fir_reference_at(const float *h, size_t ntaps, const float *x, size_t n)
{
	double y = 0.0;

	for (size_t k = 0; k < ntaps && k <= n; k++)
		y += (double)h[k] * (double)x[n - k];
	return y;
}

/* An IR with the shape of a room response: noise under an exponential decay of ~60 dB. */
static inline void test_fir_make_room_ir(struct test_rng *rng, float *h, size_t ntaps)
{
	for (size_t i = 0; i < ntaps; i++)
		h[i] = (float)(test_rng_uniform(rng) * exp(-6.9 * (double)i / (double)ntaps));
}
