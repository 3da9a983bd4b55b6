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

/*
 * ref[0..n) = h * x in double, x (nx samples) silent before 0 and from nx on: with n = nx +
 * ntaps - 1, the whole linear convolution, decay included.
 */
static inline void test_fir_reference(const float *h, size_t ntaps, const float *x, size_t nx,
				      double *ref, size_t n)
{
	for (size_t t = 0; t < n; t++) {
		double y = 0.0;

		for (size_t k = t >= nx ? t - nx + 1 : 0; k < ntaps && k <= t; k++)
			y += (double)h[k] * (double)x[t - k];
		ref[t] = y;
	}
}

/* An IR with the shape of a room response: noise under an exponential decay of ~60 dB. */
static inline void test_fir_make_room_ir(struct test_rng *rng, float *h, size_t ntaps)
{
	for (size_t i = 0; i < ntaps; i++)
		h[i] = (float)(test_rng_uniform(rng) * exp(-6.9 * (double)i / (double)ntaps));
}
