/* SPDX-License-Identifier: MIT */
/*
 * dsp/dither.c: TPDF dither (dither.h).
 *
 * xorshift32 (Marsaglia): period 2^32 - 1, three shifts per value — far more than audio needs
 * (it only has to be white and independent of the signal at the LSB's scale). Two 32-bit values
 * become the two uniforms: their difference, scaled by 2^-32 LSB, is triangular over (-1, 1).
 */
#include "dsp/dither.h"

static uint32_t next(struct dsp_dither *d)
{
	uint32_t x = d->state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	d->state = x;
	return x;
}

void dsp_dither_init(struct dsp_dither *d, uint32_t seed)
{
	/* spread the seed (a channel number works) and keep the state off 0, xorshift's fixed point
	 */
	d->state = (seed ^ 0x9e3779b9u) * 0x85ebca6bu;
	if (d->state == 0)
		d->state = 0x6d2b79f5u;
}

double dsp_dither_next(struct dsp_dither *d)
{
	/* u1 - u2 for u1, u2 uniform on [0, 2^32): triangular over (-2^32, 2^32) */
	return ((double)next(d) - (double)next(d)) * 0x1p-32;
}
