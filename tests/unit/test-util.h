/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-util.h: small helpers the unit tests share — a seeded random generator (the
 * tests must be reproducible, so no rand()), and error measures in dB.
 */
#pragma once

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "common/el-macros.h"

/* xorshift64*: reproducible, fast, good enough for test signals. */
struct test_rng {
	uint64_t s;
};

static inline void test_rng_init(struct test_rng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x9e3779b97f4a7c15ull;
}

static inline uint64_t test_rng_next(struct test_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ull;
}

/* Uniform in [-1, 1). */
static inline double test_rng_uniform(struct test_rng *r)
{
	return (double)(test_rng_next(r) >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

static inline void test_fill_noise(struct test_rng *r, float *buf, size_t n, double amplitude)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (float)(amplitude * test_rng_uniform(r));
}

/* 10*log10(error energy / reference energy): how far got is from ref, in dB (lower is better). */
static inline double test_error_db(const double *ref, const float *got, size_t n)
{
	double e = 0.0, s = 0.0;

	for (size_t i = 0; i < n; i++) {
		double d = (double)got[i] - ref[i];
		e += d * d;
		s += ref[i] * ref[i];
	}
	if (e == 0.0)
		return -400.0;
	return 10.0 * log10(e / s);
}
