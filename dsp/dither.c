/* SPDX-License-Identifier: MIT */
/*
 * dsp/dither.c: TPDF dither (dither.h).
 *
 * xorshift32 (Marsaglia): period 2^32 - 1, three shifts per value — far more than audio needs
 * (it only has to be white and independent of the signal at the LSB's scale). Two 32-bit values
 * become the two uniforms: their difference, scaled by 2^-32 LSB, is triangular over (-1, 1).
 */
#include <math.h>

#include "dsp/dither.h"

/* Wannamaker's 3-tap error filter (F-weighted, for 44.1-48 kHz): H(z) fed back, so the noise
 * transfer function is 1 - H(z). */
static const double shape[3] = {1.623, -0.982, 0.109};
/* The total error is within 1.5 LSB but where the code clipped: held there, so a clipped run
 * cannot drive the feedback loop unstable. */
#define ERROR_MAX 1.5

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
	dsp_dither_init_shaped(d, seed, false);
}

void dsp_dither_init_shaped(struct dsp_dither *d, uint32_t seed, bool shaped)
{
	*d = (struct dsp_dither){.shaped = shaped};
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

int32_t dsp_dither_quantize(struct dsp_dither *d, double s, double scale)
{
	double v = nearbyint(s);

	if (s != s)
		return 0;
	if (v != s && d && !d->shaped) {
		v = nearbyint(s + dsp_dither_next(d));
	} else if (v != s && d) {
		/* w: the sample less the filtered past errors; the error is the code less w */
		double w = s - (shape[0] * d->e[0] + shape[1] * d->e[1] + shape[2] * d->e[2]), e;

		v = nearbyint(w + dsp_dither_next(d));
		v = v > scale - 1.0 ? scale - 1.0 : v < -scale ? -scale : v;
		e = v - w;
		d->e[2] = d->e[1];
		d->e[1] = d->e[0];
		d->e[0] = e > ERROR_MAX ? ERROR_MAX : e < -ERROR_MAX ? -ERROR_MAX : e;
	}
	if (!(v < scale))
		return (int32_t)(scale - 1.0);
	if (v < -scale)
		return (int32_t)-scale;
	return (int32_t)v;
}
