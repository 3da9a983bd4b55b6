/* SPDX-License-Identifier: MIT */
/*
 * dsp/ramp.h: a linear gain that moves to a new value over a number of frames, handed out in
 * pieces for the gain_ramp and add_gain_ramp of dsp/mix.h (a volume, a mixer input's gain, a
 * generator's level).
 *
 * A piece starts at g0 and reaches g1 on the frame after its last, as dsp_mix_ops gain_ramp
 * counts: consecutive pieces join exactly (one piece's g1 is the next one's g0), whatever their
 * sizes. Every piece ends on the straight line from where the ramp started to its target (to
 * double rounding), and the piece that ends the ramp ends exactly on the target, `frames` frames
 * after dsp_ramp_to().
 *
 * Header-only: a ramp is a small value its owner embeds and alone touches. Gains are linear
 * factors (not dB) and finite. Pure DSP: no logging, no threads, no allocation.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/el-macros.h"

/*
 * A linear gain moving from cur to target over left more frames; left == 0: steady at cur,
 * which then equals target. An all-zero struct is a ramp steady at 0. Read and change it only
 * through the functions below.
 */
struct dsp_ramp {
	double cur;    /* the gain at the next frame handed out */
	double target; /* the gain once left reaches 0 */
	uint32_t left; /* frames until the gain is target (0: not running) */
};

/* Thread: RT. Jumps to value at once: no ramp, and any ramp still running is dropped. */
EL_RT static inline void dsp_ramp_set(struct dsp_ramp *r, double value)
{
	r->cur = r->target = value;
	r->left = 0;
}

/*
 * Thread: RT. Ramps from the current gain (mid-ramp: where the running ramp has got to, so the
 * gain never steps) to target over frames frames. frames == 0, or a target equal to the current
 * gain, jumps as dsp_ramp_set() does: there is nothing to ramp.
 */
EL_RT static inline void dsp_ramp_to(struct dsp_ramp *r, double target, uint32_t frames)
{
	r->target = target;
	r->left = target != r->cur ? frames : 0;
	if (!r->left)
		r->cur = target;
}

/*
 * Thread: RT. The next piece, of at most n frames, and moves the ramp past it. Its gain goes
 * from *ret_g0 towards *ret_g1, reached on the frame after the piece: pass both with the length
 * to gain_ramp (equal when the ramp is steady). Returns the length: n while steady, else at
 * most the frames left, so a piece never runs past the target; callers loop until they have
 * covered their n frames. n == 0 gives an empty piece and changes nothing.
 */
EL_RT static inline size_t dsp_ramp_next(struct dsp_ramp *r, size_t n, float *ret_g0, float *ret_g1)
{
	size_t m;
	double end;

	*ret_g0 = (float)r->cur;
	if (!r->left) {
		*ret_g1 = *ret_g0;
		return n;
	}
	m = EL_MIN(n, (size_t)r->left);
	/* From cur, not from the start: each piece lands on the line, the last on the target. */
	end = r->cur + (r->target - r->cur) * (double)m / (double)r->left;
	r->left -= (uint32_t)m;
	r->cur = r->left ? end : r->target;
	*ret_g1 = (float)r->cur;
	return m;
}

/* Thread: RT (the ramp's owner). The gain at the next frame, and the one it moves to. */
EL_RT static inline double dsp_ramp_get(const struct dsp_ramp *r)
{
	return r->cur;
}

EL_RT static inline double dsp_ramp_get_target(const struct dsp_ramp *r)
{
	return r->target;
}

/* Thread: RT (the ramp's owner). True while the gain is still moving towards the target. */
EL_RT static inline bool dsp_ramp_is_running(const struct dsp_ramp *r)
{
	return r->left != 0;
}
