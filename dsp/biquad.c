/* SPDX-License-Identifier: MIT */
/*
 * dsp/biquad.c: RBJ Audio EQ Cookbook biquad design and a cascade of Direct Form I sections
 * whose coefficients move by per-sample linear interpolation.
 *
 * DESIGN
 * - Why Direct Form I: its state is the last two inputs and outputs, which mean the same thing
 *   whatever the coefficients are, so changing coefficients under a running signal never puts
 *   the state in a place no input could have led to. Transposed forms keep mixtures of past
 *   samples weighted by the old coefficients, which jump when the coefficients do.
 * - Why interpolating coefficients is safe: a section is stable exactly when (a1, a2) lies
 *   strictly inside the stability triangle |a2| < 1, |a1| < 1 + a2. The triangle is convex, so
 *   every point on the straight line between two stable filters is a stable filter: no frozen
 *   moment of a ramp has a pole outside the unit circle. dsp_biquad_chain_set() refuses
 *   unstable targets so both ends of every ramp are inside. A ramp is evaluated as
 *   start + delta * k rather than by adding delta k times, so rounding cannot walk it out.
 *   (Stable at every frozen moment is not a theorem about the time-varying filter, but with
 *   coefficients that move slowly against the poles' decay it is what holds in practice;
 *   test-dsp-biquad-smooth ramps between extreme filters to check.)
 * - Why double: at 48 kHz a 20 Hz filter has poles within 3e-3 of z = 1, where float state
 *   loses most of its precision; double state and coefficients keep the response within the
 *   accuracy of float input and output.
 * - The cascade runs chunk by chunk through a double scratch buffer, each section over the
 *   whole chunk, so samples stay in double between sections and each loop is tight.
 * - Identity sections (the unused bands of an EQ) are skipped, but their history is still
 *   updated, so a later ramp away from identity starts from the true history.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/el-macros.h"
#include "dsp/biquad.h"
#include "dsp/mem.h"

/* Frames per pass through the cascade: 2 KiB of doubles stays in L1 with the section state. */
#define CHUNK 256u

/*
 * Below this magnitude samples and state are flushed to zero: 600 dB under full scale, far
 * below any audible or measurable signal, and far above the denormal range of float (1e-38)
 * and double (1e-308), so a decaying tail reaches exact zero before it can go denormal.
 */
#define FLUSH_THRESHOLD 1e-30

static const struct dsp_biquad_coefs identity = {.b0 = 1.0};

struct section {
	struct dsp_biquad_coefs cur;    /* in use when no ramp runs */
	struct dsp_biquad_coefs start;  /* ramp: coefficients of its frame 0 */
	struct dsp_biquad_coefs delta;  /* ramp: change per frame */
	struct dsp_biquad_coefs target; /* ramp: where it ends (cur afterwards) */
	unsigned ramp_pos;              /* ramp: frames already done */
	unsigned ramp_len;              /* ramp: frames in all; 0 when no ramp runs */
	bool bypass;                    /* cur is the identity and no ramp runs */
	double x1, x2, y1, y2;          /* Direct Form I history: last inputs and outputs */
};

struct dsp_biquad_chain {
	double scratch[CHUNK]; /* first, so it inherits the allocation's alignment */
	double rate;
	unsigned nsections;
	struct section sec[];
};

/* Unnormalized cookbook coefficients, before dividing by a0. */
struct raw_coefs {
	double b0, b1, b2, a0, a1, a2;
};

static bool coefs_finite(const struct dsp_biquad_coefs *c)
{
	return isfinite(c->b0) && isfinite(c->b1) && isfinite(c->b2) && isfinite(c->a1) &&
	       isfinite(c->a2);
}

/* Poles strictly inside the unit circle: (a1, a2) strictly inside the stability triangle. */
static bool coefs_stable(const struct dsp_biquad_coefs *c)
{
	return fabs(c->a2) < 1.0 && fabs(c->a1) < 1.0 + c->a2;
}

static bool coefs_is_identity(const struct dsp_biquad_coefs *c)
{
	return c->b0 == 1.0 && c->b1 == 0.0 && c->b2 == 0.0 && c->a1 == 0.0 && c->a2 == 0.0;
}

/*
 * The types without gain. sin^2 and cos^2 of w0/2 replace the cookbook's (1 -/+ cos w0) / 2,
 * which cancels catastrophically for low corner frequencies.
 */
static int design_plain(enum dsp_biquad_type type, double w0, double alpha, struct raw_coefs *r)
{
	double cw = cos(w0), s2 = sin(w0 / 2.0), c2 = cos(w0 / 2.0);

	s2 *= s2;
	c2 *= c2;
	*r = (struct raw_coefs){.a0 = 1.0 + alpha, .a1 = -2.0 * cw, .a2 = 1.0 - alpha};
	switch (type) {
	case DSP_BIQUAD_LOWPASS:
		r->b0 = s2, r->b1 = 2.0 * s2, r->b2 = s2;
		return 0;
	case DSP_BIQUAD_HIGHPASS:
		r->b0 = c2, r->b1 = -2.0 * c2, r->b2 = c2;
		return 0;
	case DSP_BIQUAD_BANDPASS:
		r->b0 = alpha, r->b1 = 0.0, r->b2 = -alpha;
		return 0;
	case DSP_BIQUAD_NOTCH:
		r->b0 = 1.0, r->b1 = -2.0 * cw, r->b2 = 1.0;
		return 0;
	case DSP_BIQUAD_ALLPASS:
		r->b0 = 1.0 - alpha, r->b1 = -2.0 * cw, r->b2 = 1.0 + alpha;
		return 0;
	default:
		return -EINVAL;
	}
}

/* The types with gain; A = 10^(gain_db / 40), the cookbook's amplitude. */
static int design_gain(enum dsp_biquad_type type, double w0, double alpha, double A,
		       struct raw_coefs *r)
{
	double cw = cos(w0), sa = 2.0 * sqrt(A) * alpha;

	switch (type) {
	case DSP_BIQUAD_PEAKING:
		*r = (struct raw_coefs){1.0 + alpha * A, -2.0 * cw, 1.0 - alpha * A,
					1.0 + alpha / A, -2.0 * cw, 1.0 - alpha / A};
		return 0;
	case DSP_BIQUAD_LOWSHELF:
		*r = (struct raw_coefs){A * ((A + 1.0) - (A - 1.0) * cw + sa),
					2.0 * A * ((A - 1.0) - (A + 1.0) * cw),
					A * ((A + 1.0) - (A - 1.0) * cw - sa),
					(A + 1.0) + (A - 1.0) * cw + sa,
					-2.0 * ((A - 1.0) + (A + 1.0) * cw),
					(A + 1.0) + (A - 1.0) * cw - sa};
		return 0;
	case DSP_BIQUAD_HIGHSHELF:
		*r = (struct raw_coefs){A * ((A + 1.0) + (A - 1.0) * cw + sa),
					-2.0 * A * ((A - 1.0) + (A + 1.0) * cw),
					A * ((A + 1.0) + (A - 1.0) * cw - sa),
					(A + 1.0) - (A - 1.0) * cw + sa,
					2.0 * ((A - 1.0) - (A + 1.0) * cw),
					(A + 1.0) - (A - 1.0) * cw - sa};
		return 0;
	default:
		return -EINVAL;
	}
}

static bool type_has_gain(enum dsp_biquad_type type)
{
	return type == DSP_BIQUAD_PEAKING || type == DSP_BIQUAD_LOWSHELF ||
	       type == DSP_BIQUAD_HIGHSHELF;
}

int dsp_biquad_coefs_compute(const struct dsp_biquad_params *p, double rate,
			     struct dsp_biquad_coefs *ret)
{
	struct dsp_biquad_coefs c;
	struct raw_coefs r;
	double w0, alpha;
	int k;

	/* Written so that NaN fails every comparison and lands in -EINVAL. */
	if (!p || !ret || !(rate > 0.0) || !isfinite(rate))
		return -EINVAL;
	if (!(p->freq > 0.0) || !(p->freq < rate / 2.0) || !(p->q > 0.0) || !isfinite(p->q))
		return -EINVAL;
	w0 = 2.0 * M_PI * p->freq / rate;
	alpha = sin(w0) / (2.0 * p->q);
	if (type_has_gain(p->type)) {
		if (!(fabs(p->gain_db) <= DSP_BIQUAD_MAX_GAIN_DB))
			return -EINVAL;
		k = design_gain(p->type, w0, alpha, pow(10.0, p->gain_db / 40.0), &r);
	} else {
		k = design_plain(p->type, w0, alpha, &r);
	}
	if (k < 0)
		return k;
	c = (struct dsp_biquad_coefs){r.b0 / r.a0, r.b1 / r.a0, r.b2 / r.a0, r.a1 / r.a0,
				      r.a2 / r.a0};
	/*
	 * Exact arithmetic keeps every cookbook filter stable; rounding may not when freq is
	 * within rounding of 0 or of Nyquist, or q is astronomically large. Refuse those.
	 */
	if (!coefs_finite(&c) || !coefs_stable(&c))
		return -EINVAL;
	*ret = c;
	return 0;
}

int dsp_biquad_chain_new(unsigned nsections, double rate, struct dsp_biquad_chain **ret)
{
	struct dsp_biquad_chain *c;

	if (!ret || nsections < 1 || nsections > DSP_BIQUAD_MAX_SECTIONS)
		return -EINVAL;
	if (!(rate > 0.0) || !isfinite(rate))
		return -EINVAL;
	c = dsp_mem_alloc(sizeof(*c) + nsections * sizeof(c->sec[0]));
	if (!c)
		return -ENOMEM;
	c->rate = rate;
	c->nsections = nsections;
	for (unsigned i = 0; i < nsections; i++) {
		c->sec[i].cur = identity;
		c->sec[i].bypass = true;
	}
	*ret = c;
	return 0;
}

struct dsp_biquad_chain *dsp_biquad_chain_free(struct dsp_biquad_chain *c)
{
	return dsp_mem_free(c);
}

/* out = a + d * t, field by field */
static void coefs_lerp(struct dsp_biquad_coefs *out, const struct dsp_biquad_coefs *a,
		       const struct dsp_biquad_coefs *d, double t)
{
	out->b0 = a->b0 + d->b0 * t;
	out->b1 = a->b1 + d->b1 * t;
	out->b2 = a->b2 + d->b2 * t;
	out->a1 = a->a1 + d->a1 * t;
	out->a2 = a->a2 + d->a2 * t;
}

int dsp_biquad_chain_set(struct dsp_biquad_chain *c, unsigned section,
			 const struct dsp_biquad_coefs *coefs, unsigned ramp_frames)
{
	struct section *q;
	struct dsp_biquad_coefs now;
	double inv;

	if (!c || !coefs || section >= c->nsections)
		return -EINVAL;
	if (!coefs_finite(coefs) || !coefs_stable(coefs))
		return -EINVAL;
	q = &c->sec[section];
	/* Where the section is now: the coefficients its next frame would use. */
	if (q->ramp_len > 0)
		coefs_lerp(&now, &q->start, &q->delta, (double)q->ramp_pos);
	else
		now = q->cur;
	q->target = *coefs;
	if (ramp_frames == 0) {
		q->cur = *coefs;
		q->ramp_len = 0;
		q->bypass = coefs_is_identity(coefs);
		return 0;
	}
	inv = 1.0 / (double)ramp_frames;
	q->start = now;
	q->delta = (struct dsp_biquad_coefs){(coefs->b0 - now.b0) * inv, (coefs->b1 - now.b1) * inv,
					     (coefs->b2 - now.b2) * inv, (coefs->a1 - now.a1) * inv,
					     (coefs->a2 - now.a2) * inv};
	q->ramp_pos = 0;
	q->ramp_len = ramp_frames;
	q->bypass = false;
	return 0;
}

/* Fixed coefficients over n frames of s, in place. */
static void rt_section_run_steady(struct section *q, double *s, size_t n)
{
	const double b0 = q->cur.b0, b1 = q->cur.b1, b2 = q->cur.b2;
	const double a1 = q->cur.a1, a2 = q->cur.a2;
	double x1 = q->x1, x2 = q->x2, y1 = q->y1, y2 = q->y2;

	for (size_t i = 0; i < n; i++) {
		double x = s[i];
		double y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;

		x2 = x1, x1 = x;
		y2 = y1, y1 = y;
		s[i] = y;
	}
	q->x1 = x1, q->x2 = x2, q->y1 = y1, q->y2 = y2;
}

/* Identity: the samples pass unchanged; only the history moves on, as the filter's would. */
static void rt_section_run_bypass(struct section *q, const double *s, size_t n)
{
	if (n >= 2) {
		q->x2 = q->y2 = s[n - 2];
		q->x1 = q->y1 = s[n - 1];
	} else if (n == 1) {
		q->x2 = q->x1, q->y2 = q->y1;
		q->x1 = q->y1 = s[0];
	}
}

/* n (<= frames left in the ramp) frames of a ramp over s, in place. */
static void rt_section_run_ramp(struct section *q, double *s, size_t n)
{
	const struct dsp_biquad_coefs st = q->start, d = q->delta;
	double x1 = q->x1, x2 = q->x2, y1 = q->y1, y2 = q->y2;
	double t = (double)q->ramp_pos;

	for (size_t i = 0; i < n; i++, t += 1.0) {
		double x = s[i];
		double y = (st.b0 + d.b0 * t) * x + (st.b1 + d.b1 * t) * x1 +
			   (st.b2 + d.b2 * t) * x2 - (st.a1 + d.a1 * t) * y1 -
			   (st.a2 + d.a2 * t) * y2;

		x2 = x1, x1 = x;
		y2 = y1, y1 = y;
		s[i] = y;
	}
	q->x1 = x1, q->x2 = x2, q->y1 = y1, q->y2 = y2;
	q->ramp_pos += (unsigned)n;
	if (q->ramp_pos == q->ramp_len) {
		/* Land exactly on the target, whatever the rounding of the last step. */
		q->cur = q->target;
		q->ramp_len = 0;
		q->bypass = coefs_is_identity(&q->cur);
	}
}

static double rt_flush(double v)
{
	return fabs(v) < FLUSH_THRESHOLD ? 0.0 : v;
}

static void rt_section_run(struct section *q, double *s, size_t n)
{
	size_t done = 0;

	if (q->ramp_len > 0) {
		done = EL_MIN(n, (size_t)(q->ramp_len - q->ramp_pos));
		rt_section_run_ramp(q, s, done);
	}
	if (q->bypass)
		rt_section_run_bypass(q, s + done, n - done);
	else
		rt_section_run_steady(q, s + done, n - done);
	q->x1 = rt_flush(q->x1), q->x2 = rt_flush(q->x2);
	q->y1 = rt_flush(q->y1), q->y2 = rt_flush(q->y2);
}

void dsp_biquad_chain_process(struct dsp_biquad_chain *c, const float *in, float *out, size_t n)
{
	double *s = c->scratch;

	while (n > 0) {
		size_t m = EL_MIN(n, (size_t)CHUNK);

		/* The whole chunk is read before any of it is written, so in == out works. */
		for (size_t i = 0; i < m; i++)
			s[i] = in[i];
		for (unsigned k = 0; k < c->nsections; k++)
			rt_section_run(&c->sec[k], s, m);
		for (size_t i = 0; i < m; i++)
			out[i] = (float)rt_flush(s[i]);
		in += m;
		out += m;
		n -= m;
	}
}

void dsp_biquad_chain_follow(struct dsp_biquad_chain *c, const float *in, size_t n)
{
	double last[2];
	bool all_bypass = true;

	for (unsigned k = 0; k < c->nsections && all_bypass; k++)
		all_bypass = c->sec[k].bypass;
	if (!all_bypass || n == 0) {
		while (n > 0) { /* some section filters: run the chain, drop what it writes */
			size_t m = EL_MIN(n, (size_t)CHUNK);
			double *s = c->scratch;

			for (size_t i = 0; i < m; i++)
				s[i] = in[i];
			for (unsigned k = 0; k < c->nsections; k++)
				rt_section_run(&c->sec[k], s, m);
			in += m;
			n -= m;
		}
		return;
	}
	/* Every section passes the input through: each one's history is the last input frames. */
	last[0] = n >= 2 ? in[n - 2] : 0.0;
	last[1] = in[n - 1];
	for (unsigned k = 0; k < c->nsections; k++) {
		struct section *q = &c->sec[k];

		rt_section_run_bypass(q, last + (n >= 2 ? 0 : 1), n >= 2 ? 2 : 1);
		q->x1 = rt_flush(q->x1), q->x2 = rt_flush(q->x2);
		q->y1 = rt_flush(q->y1), q->y2 = rt_flush(q->y2);
	}
}

void dsp_biquad_chain_reset(struct dsp_biquad_chain *c)
{
	for (unsigned k = 0; k < c->nsections; k++) {
		struct section *q = &c->sec[k];

		q->x1 = q->x2 = q->y1 = q->y2 = 0.0;
	}
}

unsigned dsp_biquad_chain_get_sections(const struct dsp_biquad_chain *c)
{
	return c->nsections;
}

double dsp_biquad_chain_get_rate(const struct dsp_biquad_chain *c)
{
	return c->rate;
}
