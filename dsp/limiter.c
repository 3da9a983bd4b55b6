/* SPDX-License-Identifier: MIT */
/*
 * dsp/limiter.c: the look-ahead peak limiter (limiter.h).
 *
 * DESIGN: with a window of W = lookahead + 1 frames, per frame t:
 *   r[t] = min(1, ceiling / max_c |x_c[t]|)       the gain frame t needs
 *   h[t] = min(r[t - W + 1 .. t])                  held over the window (a monotonic deque)
 *   s[t] = h[t] if h[t] < s[t-1], else s[t-1] + (h[t] - s[t-1]) a    (release; s <= h always)
 *   g[t] = mean(s[t - W + 1 .. t])                 the attack, a straight line over the window
 *   y_c[t] = x_c[t - lookahead] g[t]
 * A peak at p needs g <= r[p] when it comes out, at t = p + lookahead = p + W - 1: the average
 * then spans s[p .. p + W - 1], each <= h <= r[p] since the hold window of each covers p. The
 * running sum of s is recomputed from the ring every W frames, so rounding cannot drift, and a
 * window of exact 1s sums to exactly W: below the ceiling the output is the delayed input, bit
 * for bit. The gain is last capped at what the frame leaving needs (ceiling / its own peak):
 * that never binds but for the average's rounding when gains differ by 10^12 and more, and a
 * clip at the ceiling catches the last float rounding. A NaN (and infinity times a gain of 0) comes
 * out as silence.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp/limiter.h"
#include "dsp/true-peak.h"

#define LIMITER_MAX_CHANNELS 64u

struct dsp_limiter {
	unsigned channels;
	uint32_t w;     /* window: lookahead + 1 */
	uint32_t pos;   /* ring index of frame t (all rings share it) */
	float ceiling;  /* linear */
	double release; /* the one-pole's coefficient a */
	float *delay;   /* channels x w: input frames, the oldest at pos + 1 */
	float *s;       /* w: the released hold, the box average's window */
	float *need;    /* w: each frame's gain need when it came in (its ceiling / its peak) */
	float *top;     /* w: the ceiling in force when it came in */
	double sum;     /* of s[] */
	double s_last;  /* s[t - 1], in double: a long release's steps stay far above its ulp */
	float *dq_val;  /* w: the hold's monotonic deque (values rising front to back) */
	uint64_t *dq_t; /* w: their frame numbers */
	uint32_t dq_head, dq_n;
	uint64_t t;      /* frames processed */
	float min_gain;  /* since dsp_limiter_take_min_gain() */
	uint64_t clips;  /* samples the last clip moved by more than rounding */
	uint64_t caught; /* frames whose own peak needed less gain than the average gave */
	struct dsp_true_peak *tp; /* owned, or NULL: sample peaks */
};

int dsp_limiter_new(unsigned channels, uint32_t lookahead, bool true_peak, struct dsp_limiter **ret)
{
	struct dsp_limiter *l;
	int r;

	if (channels < 1 || channels > LIMITER_MAX_CHANNELS || lookahead < 1 ||
	    lookahead > DSP_LIMITER_MAX_LOOKAHEAD)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->channels = channels;
	l->w = lookahead + 1;
	l->delay = calloc((size_t)channels * l->w, sizeof(float));
	l->s = calloc(l->w, sizeof(float));
	l->need = calloc(l->w, sizeof(float));
	l->top = calloc(l->w, sizeof(float));
	l->dq_val = calloc(l->w, sizeof(float));
	l->dq_t = calloc(l->w, sizeof(uint64_t));
	if (!l->delay || !l->s || !l->need || !l->top || !l->dq_val || !l->dq_t) {
		dsp_limiter_free(l);
		return -ENOMEM;
	}
	if (true_peak && (r = dsp_true_peak_new(channels, &l->tp)) < 0) {
		dsp_limiter_free(l);
		return r;
	}
	dsp_limiter_set(l, 1.0f, 1.0);
	dsp_limiter_reset(l);
	*ret = l;
	return 0;
}

struct dsp_limiter *dsp_limiter_free(struct dsp_limiter *l)
{
	if (l) {
		free(l->delay);
		free(l->s);
		free(l->need);
		free(l->top);
		free(l->dq_val);
		free(l->dq_t);
		dsp_true_peak_free(l->tp);
		free(l);
	}
	return NULL;
}

void dsp_limiter_set(struct dsp_limiter *l, float ceiling, double release)
{
	l->ceiling = ceiling;
	l->release = 1.0 - exp(-1.0 / (release < 1.0 ? 1.0 : release));
}

void dsp_limiter_reset(struct dsp_limiter *l)
{
	memset(l->delay, 0, (size_t)l->channels * l->w * sizeof(float));
	for (uint32_t i = 0; i < l->w; i++) {
		l->s[i] = 1.0f;
		l->need[i] = 1.0f;
		l->top[i] = l->ceiling;
	}
	l->sum = l->w;
	l->s_last = 1.0f;
	l->dq_head = l->dq_n = 0;
	l->pos = 0;
	l->min_gain = 1.0f;
	if (l->tp)
		dsp_true_peak_reset(l->tp);
}

uint64_t dsp_limiter_get_clips(const struct dsp_limiter *l)
{
	return l->clips;
}

uint64_t dsp_limiter_get_caught(const struct dsp_limiter *l)
{
	return l->caught;
}

uint32_t dsp_limiter_get_latency(const struct dsp_limiter *l)
{
	return l->w - 1 + (l->tp ? DSP_TRUE_PEAK_DELAY : 0);
}

float dsp_limiter_take_min_gain(struct dsp_limiter *l)
{
	float g = l->min_gain;

	l->min_gain = 1.0f;
	return g;
}

/* The hold: r enters at frame t, what left the window goes; the minimum of the window. */
static float hold(struct dsp_limiter *l, float r)
{
	uint32_t back;

	if (l->dq_n > 0 && l->dq_t[l->dq_head] + l->w <= l->t) { /* left the window */
		l->dq_head = l->dq_head + 1 == l->w ? 0 : l->dq_head + 1;
		l->dq_n--;
	}
	while (l->dq_n > 0) { /* a later, lower gain makes the higher ones before it moot */
		back = (l->dq_head + l->dq_n - 1) % l->w;
		if (l->dq_val[back] < r)
			break;
		l->dq_n--;
	}
	back = (l->dq_head + l->dq_n) % l->w;
	l->dq_val[back] = r;
	l->dq_t[back] = l->t;
	l->dq_n++;
	return l->dq_val[l->dq_head];
}

/* The frame coming in has this peak: the gain for the frame leaving the delay now. */
static float next_gain(struct dsp_limiter *l, float peak)
{
	float r, h;
	double s;

	/* an infinity needs a gain of 0 */
	r = peak > l->ceiling ? l->ceiling / peak : 1.0f;
	l->need[l->pos] = r;
	l->top[l->pos] = l->ceiling;
	h = hold(l, r);
	s = h < l->s_last ? h : l->s_last + (h - l->s_last) * l->release;
	/* never above the hold; and where the release no longer moves (its step below half an
	 * ulp of a double) the last ulp is taken at once: in float it is 1 long before */
	if (s > h || s == l->s_last)
		s = h;
	l->s_last = s;
	l->sum += (double)(float)s - l->s[l->pos];
	l->s[l->pos] = (float)s;
	if (l->pos == l->w - 1) { /* once per window: the exact sum, no drift */
		double exact = 0.0;

		for (uint32_t k = 0; k < l->w; k++)
			exact += l->s[k];
		l->sum = exact;
	}
	return (float)fmax(fmin(l->sum / l->w, 1.0), 0.0); /* rounding: never negative */
}

void dsp_limiter_process(struct dsp_limiter *l, const float *const *in, float *const *out, size_t n)
{
	float frame[LIMITER_MAX_CHANNELS];

	for (size_t i = 0; i < n; i++) {
		float peak = 0.0f, g;

		for (unsigned c = 0; c < l->channels; c++) {
			frame[c] = in[c][i];
			peak = fmaxf(peak, fabsf(frame[c])); /* fmaxf skips a NaN */
		}
		/* true peaks: the frame of DSP_TRUE_PEAK_DELAY ago, with the peak around it */
		if (l->tp)
			peak = dsp_true_peak_push(l->tp, frame, frame);
		g = next_gain(l, peak);
		uint32_t oldest = l->pos + 1 == l->w ? 0 : l->pos + 1;
		/* the frame leaving now, with the ceiling it came in under: a ceiling lowered since
		 * is reached through the look-ahead, as a peak is, not at once */
		const float top = l->top[oldest], slack = top * (1.0f + 8.0f * FLT_EPSILON);

		/* it needs need[oldest]: the average gives that or less, but for its rounding when
		 * gains span more than ~10^12 (a peak 240 dB over the ceiling) */
		if (g > l->need[oldest]) {
			l->caught += g > l->need[oldest] * (1.0f + 1e-5f);
			g = l->need[oldest];
		}
		l->min_gain = fminf(l->min_gain, g);
		for (unsigned c = 0; c < l->channels; c++) {
			float *d = l->delay + (size_t)c * l->w;
			float x = frame[c], y = d[oldest] * g;

			d[l->pos] = x; /* written after the read: out may be in */
			l->clips += fabsf(y) > slack;
			out[c][i] = y > top ? top : y < -top ? -top : y == y ? y : 0.0f;
		}
		l->pos = oldest;
		l->t++;
	}
}
