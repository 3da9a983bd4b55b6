/* SPDX-License-Identifier: MIT */
/*
 * dsp/biquad.h: second-order IIR sections (biquads) designed with Robert Bristow-Johnson's
 * "Audio EQ Cookbook", run as a cascade of sections on one channel.
 *
 * Designing (dsp_biquad_coefs_compute()) is separate from running (struct dsp_biquad_chain), so
 * the control thread computes coefficients and the RT thread only moves a section to them.
 * A section moves by interpolating its coefficients linearly, sample by sample, over a ramp the
 * caller chooses, so an EQ change never clicks or zippers. Sections run in Direct Form I with
 * double-precision state: its state is the plain input and output history, which stays
 * meaningful while the coefficients change, and double keeps low-frequency filters accurate.
 *
 * Pure DSP: no logging, no threads, no allocation after _new.
 */
#pragma once

#include <stddef.h>

#include "common/el-macros.h"

struct dsp_biquad_chain;

/* Most sections one chain may hold (a 32-band EQ, or 16 bands of 4th-order crossovers). */
#define DSP_BIQUAD_MAX_SECTIONS 32u
/* Largest boost or cut (dB) accepted for the peaking and shelving types. */
#define DSP_BIQUAD_MAX_GAIN_DB 48.0

enum dsp_biquad_type {
	DSP_BIQUAD_PEAKING,   /* bell around freq; gain_db at freq, bandwidth set by q */
	DSP_BIQUAD_LOWSHELF,  /* gain_db below freq, 0 dB above, gain_db / 2 at freq */
	DSP_BIQUAD_HIGHSHELF, /* 0 dB below freq, gain_db above, gain_db / 2 at freq */
	DSP_BIQUAD_LOWPASS,   /* 12 dB/octave; 20*log10(q) dB at freq */
	DSP_BIQUAD_HIGHPASS,  /* 12 dB/octave; 20*log10(q) dB at freq */
	DSP_BIQUAD_BANDPASS,  /* constant 0 dB peak gain at freq, bandwidth set by q */
	DSP_BIQUAD_NOTCH,     /* zero at freq, 0 dB far from it */
	DSP_BIQUAD_ALLPASS,   /* 0 dB everywhere; phase -180 degrees at freq */
};

struct dsp_biquad_params {
	enum dsp_biquad_type type;
	/* Hz, 0 < freq < rate / 2: corner, centre or shelf midpoint */
	double freq;
	/* > 0, finite; for shelves the cookbook's Q too (0.7071: steepest without a bump) */
	double q;
	/* dB, |gain_db| <= DSP_BIQUAD_MAX_GAIN_DB; peaking and shelves (others ignore it) */
	double gain_db;
};

/*
 * One section's transfer function, normalized so that a0 = 1:
 *   H(z) = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2)
 * The identity (bypass) is b0 = 1 and the rest 0.
 */
struct dsp_biquad_coefs {
	double b0, b1, b2, a1, a2;
};

/*
 * Thread: any (pure computation). Designs the section p describes (borrowed for the call) for
 * the sample rate rate (Hz, finite, > 0) into *ret. The result is always stable.
 * 0 with *ret set; -EINVAL when p or ret is NULL, the type is unknown, rate, freq or q is out
 * of range or not finite, or (peaking and shelves) gain_db is. *ret untouched on failure.
 */
int dsp_biquad_coefs_compute(const struct dsp_biquad_params *p, double rate,
			     struct dsp_biquad_coefs *ret);

/*
 * Thread: control (allocates). A cascade of nsections (1 <= nsections <=
 * DSP_BIQUAD_MAX_SECTIONS) sections for one channel at sample rate rate (Hz, finite, > 0), all
 * starting as identity and with silent history. 0 with *ret set; -EINVAL (nsections or rate out
 * of range, ret NULL); -ENOMEM. *ret untouched on failure.
 */
int dsp_biquad_chain_new(unsigned nsections, double rate, struct dsp_biquad_chain **ret);

/* Thread: control. Accepts NULL; returns NULL. */
struct dsp_biquad_chain *dsp_biquad_chain_free(struct dsp_biquad_chain *c);

/*
 * Thread: RT (never allocates, locks or blocks). Moves section (0 <= section < nsections) to
 * coefs (borrowed for the call; copied). From the next processed frame on, the coefficients go
 * from where they are now to coefs in a straight line over ramp_frames frames: frame k of the
 * ramp (k = 0 .. ramp_frames - 1) uses now + (coefs - now) * k / ramp_frames, and every frame
 * after it uses coefs exactly. ramp_frames == 0 switches at once. A set during a running ramp
 * starts a new ramp from the coefficients reached so far, so any sequence of sets is smooth.
 * 0; -EINVAL when c or coefs is NULL, section is out of range, a coefficient is not finite, or
 * the filter is unstable (its poles not strictly inside the unit circle); nothing changes then.
 */
int dsp_biquad_chain_set(struct dsp_biquad_chain *c, unsigned section,
			 const struct dsp_biquad_coefs *coefs, unsigned ramp_frames) EL_RT;

/*
 * Thread: RT (never allocates, locks or blocks). Filters n frames (any n >= 0) of in through
 * every section in order into out; in and out may be the same buffer. Output samples whose
 * magnitude is below 1e-30 (600 dB below full scale) are written as 0, and the state is
 * flushed the same way, so a decaying tail ends in exact zeros, never in denormals.
 */
void dsp_biquad_chain_process(struct dsp_biquad_chain *c, const float *in, float *out,
			      size_t n) EL_RT;

/*
 * Thread: RT. Advances the chain over n frames of in as dsp_biquad_chain_process() would, for a
 * caller that does not want the output (an EQ with no band copies its input instead, and keeps
 * the chain's history right for the band that may come). When every section is the identity
 * this costs a few stores, not n frames of arithmetic.
 */
void dsp_biquad_chain_follow(struct dsp_biquad_chain *c, const float *in, size_t n) EL_RT;

/*
 * Thread: RT. Forgets the history (as after silence); coefficients stay where they are and a
 * running ramp continues.
 */
void dsp_biquad_chain_reset(struct dsp_biquad_chain *c) EL_RT;

/* Thread: any. The section count and sample rate (Hz) the chain was made with. */
unsigned dsp_biquad_chain_get_sections(const struct dsp_biquad_chain *c);
double dsp_biquad_chain_get_rate(const struct dsp_biquad_chain *c);
