/* SPDX-License-Identifier: MIT */
/*
 * dsp/delay.c: integer-sample delay line with linear crossfades between read positions.
 *
 * DESIGN
 * - The ring holds max_frames + 1 frames. Each frame is written first and read second, so a
 *   delay of 0 reads the frame just written, and a delay of max_frames reads the oldest frame,
 *   the one the next write replaces. Writing before reading also makes in == out safe.
 *   The size is not rounded up to a power of two: a maximal line would then take twice the
 *   memory (128 MiB instead of 64), and a compare per wrap costs nothing next to that.
 * - `filled` counts frames written since the last reset (saturating at the ring size); a read
 *   further back than that returns silence. That makes reset O(1) instead of clearing up to
 *   64 MiB on the RT thread.
 * - A change of delay crossfades two read positions (old and new). A set during a fade is
 *   queued rather than started at once: starting it would need a third read position for the
 *   fade in progress, and a fourth for the next one, without bound.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/el-macros.h"
#include "dsp/delay.h"
#include "dsp/mem.h"

/*
 * The ring and its positions. The loops work on a local copy, which the compiler keeps in
 * registers: through the object's pointer it would reload them after every store to buf,
 * since the build allows any store to alias (-fno-strict-aliasing).
 */
struct ring {
	float *buf;    /* owned: size frames */
	size_t size;   /* max + 1 */
	size_t w;      /* where the next frame is written */
	size_t filled; /* frames written since reset, at most size */
};

struct dsp_delay {
	struct ring r;
	size_t max;           /* longest delay */
	size_t cur;           /* delay in use; during a fade, the one faded from */
	size_t target;        /* delay last set */
	size_t next;          /* fade: the delay faded to */
	unsigned fade_pos;    /* fade: frames done */
	unsigned fade_len;    /* fade: frames in all; 0 when no fade runs */
	float fade_step;      /* fade: 1 / fade_len */
	bool queued;          /* a set arrived during the fade, to start after it */
	size_t queued_frames; /* queued: its delay */
	unsigned queued_fade; /* queued: its fade */
};

int dsp_delay_new(size_t max_frames, struct dsp_delay **ret)
{
	struct dsp_delay *d;

	if (!ret || max_frames < 1 || max_frames > DSP_DELAY_MAX_FRAMES)
		return -EINVAL;
	d = dsp_mem_alloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->max = max_frames;
	d->r.size = max_frames + 1;
	d->r.buf = dsp_mem_alloc(d->r.size * sizeof(float));
	if (!d->r.buf) {
		dsp_delay_free(d);
		return -ENOMEM;
	}
	*ret = d;
	return 0;
}

struct dsp_delay *dsp_delay_free(struct dsp_delay *d)
{
	if (d) {
		dsp_mem_free(d->r.buf);
		dsp_mem_free(d);
	}
	return NULL;
}

static void rt_fade_start(struct dsp_delay *d, size_t frames, unsigned fade_frames)
{
	if (frames == d->cur)
		return;
	d->next = frames;
	d->fade_pos = 0;
	d->fade_len = fade_frames;
	d->fade_step = 1.0f / (float)fade_frames;
}

int dsp_delay_set(struct dsp_delay *d, size_t frames, unsigned fade_frames)
{
	if (!d || frames > d->max)
		return -EINVAL;
	d->target = frames;
	if (fade_frames == 0) {
		d->cur = frames;
		d->fade_len = 0;
		d->queued = false;
	} else if (d->fade_len > 0) {
		/* Queued even when equal to the fade's end: rt_fade_start() then does nothing. */
		d->queued = true;
		d->queued_frames = frames;
		d->queued_fade = fade_frames;
	} else {
		rt_fade_start(d, frames, fade_frames);
	}
	return 0;
}

/* The frame written `delay` frames before the last one written, or silence before a reset. */
static inline float rt_tap(const struct ring *r, size_t delay)
{
	if (delay >= r->filled)
		return 0.0f;
	return r->buf[r->w >= delay ? r->w - delay : r->w + r->size - delay];
}

static inline void rt_write(struct ring *r, float x)
{
	r->buf[r->w] = x;
	r->filled += r->filled < r->size;
}

static inline void rt_advance(struct ring *r)
{
	r->w = r->w + 1 == r->size ? 0 : r->w + 1;
}

static void rt_run_steady(struct dsp_delay *d, const float *in, float *out, size_t n)
{
	struct ring r = d->r;
	const size_t cur = d->cur;

	for (size_t i = 0; i < n; i++) {
		rt_write(&r, in[i]);
		out[i] = rt_tap(&r, cur);
		rt_advance(&r);
	}
	d->r = r;
}

/* n frames, at most the frames left in the fade. */
static void rt_run_fade(struct dsp_delay *d, const float *in, float *out, size_t n)
{
	struct ring r = d->r;
	const size_t from = d->cur, to = d->next;
	const unsigned pos = d->fade_pos;
	const float step = d->fade_step;

	for (size_t i = 0; i < n; i++) {
		float g = (float)(pos + i) * step;
		float a, b;

		rt_write(&r, in[i]);
		a = rt_tap(&r, from);
		b = rt_tap(&r, to);
		out[i] = a + g * (b - a);
		rt_advance(&r);
	}
	d->r = r;
	d->fade_pos += (unsigned)n;
	if (d->fade_pos < d->fade_len)
		return;
	d->cur = d->next;
	d->fade_len = 0;
	if (d->queued) {
		d->queued = false;
		rt_fade_start(d, d->queued_frames, d->queued_fade);
	}
}

void dsp_delay_process(struct dsp_delay *d, const float *in, float *out, size_t n)
{
	while (n > 0) {
		size_t m = n;

		if (d->fade_len > 0) {
			m = EL_MIN(n, (size_t)(d->fade_len - d->fade_pos));
			rt_run_fade(d, in, out, m);
		} else {
			rt_run_steady(d, in, out, m);
		}
		in += m;
		out += m;
		n -= m;
	}
}

void dsp_delay_reset(struct dsp_delay *d)
{
	d->r.filled = 0;
	d->cur = d->target;
	d->fade_len = 0;
	d->queued = false;
}

size_t dsp_delay_get_frames(const struct dsp_delay *d)
{
	return d->target;
}

size_t dsp_delay_get_max_frames(const struct dsp_delay *d)
{
	return d->max;
}
