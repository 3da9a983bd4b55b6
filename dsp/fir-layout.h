/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir-layout.h: how a convolver cuts an impulse response into partitions.
 *
 * A layout is a list of segments. Segment 0, the head, has partitions of the block size and is
 * computed whole in every call, so its output holds that call's input (no latency). Each later
 * segment has partitions of a larger power of two S; it transforms S input samples at a time and
 * has S / block calls to do so before its output is due, which it spends doing the work in even
 * slices (fir-schedule.h). That needs the segment to start at least 2S - block taps into the IR
 * (the taps before it belong to earlier segments): a segment of S whose input is complete after
 * call c owes its first output sample in call c + S / block, and the calls in between are its
 * budget.
 *
 * A uniform layout is the head alone. Long IRs want long partitions (fewer products per sample,
 * larger but fewer transforms); how long is a matter of this machine's costs, which a measured
 * search decides. A layout is a small value: copy it freely.
 */
#pragma once

#include <stddef.h>

/* At most this many segments: block .. block * 2^(N-1) covers every block and IR we accept. */
#define DSP_FIR_LAYOUT_MAX_SEGMENTS 12u

struct dsp_fir_segment {
	unsigned size; /* taps per partition, a power of two; segment 0: the block */
	size_t parts;  /* partitions of the segment, >= 1 */
};

struct dsp_fir_layout {
	unsigned block;
	unsigned count; /* segments in use, 1..DSP_FIR_LAYOUT_MAX_SEGMENTS */
	struct dsp_fir_segment seg[DSP_FIR_LAYOUT_MAX_SEGMENTS];
};

/*
 * Thread: any. The head alone, with enough partitions for ntaps (at least one). 0; -EINVAL
 * (block not a power of two in the convolver's range, ntaps 0 or above DSP_FIR_MAX_TAPS).
 */
int dsp_fir_layout_uniform(unsigned block, size_t ntaps, struct dsp_fir_layout *ret);

/*
 * Thread: any. Segments of block, step * block, step^2 * block, ... up to max_size (step 2, 4 or 8,
 * max_size a power of two >= block), each with the fewest partitions that let the next one
 * start where its budget needs (at least 2S - block), the last one with as many as ntaps
 * needs; a size the IR does not reach is left out. extra[i] (NULL: none; else max_size's
 * segment count entries) adds partitions to segment i, which delays the segments after it:
 * the search uses it to trade head work for tail work. 0; -EINVAL as dsp_fir_layout_uniform,
 * a step or max_size out of range, or more than DSP_FIR_LAYOUT_MAX_SEGMENTS segments.
 */
int dsp_fir_layout_growing(unsigned block, size_t ntaps, unsigned step, unsigned max_size,
			   const unsigned *extra, struct dsp_fir_layout *ret);

/*
 * Thread: any. 0 when the layout is one a convolver can run: a valid block, sizes increasing
 * powers of two starting at the block, every segment's start within its budget, at most
 * DSP_FIR_MAX_TAPS taps in all. -EINVAL otherwise.
 */
int dsp_fir_layout_check(const struct dsp_fir_layout *layout);

/* Thread: any. Taps the layout holds: Σ size × parts. */
size_t dsp_fir_layout_get_taps(const struct dsp_fir_layout *layout);

/* Thread: any. The first tap of segment i (0 for the head). */
size_t dsp_fir_layout_get_offset(const struct dsp_fir_layout *layout, unsigned i);

/* Thread: any. The largest partition: the schedule repeats every largest / block calls. */
unsigned dsp_fir_layout_get_period(const struct dsp_fir_layout *layout);

/*
 * Thread: any. The same layout cut down to the partitions ntaps needs (segments the IR does
 * not reach dropped, the last one shortened); ntaps beyond the layout's taps: -E2BIG.
 */
int dsp_fir_layout_fit(const struct dsp_fir_layout *layout, size_t ntaps,
		       struct dsp_fir_layout *ret);

/*
 * Thread: any. Whether a convolver built for `outer` can run an IR prepared for `inner`:
 * same block, and inner is outer cut down (every segment of inner but the last equal to
 * outer's, the last of the same size and no more partitions).
 */
int dsp_fir_layout_contains(const struct dsp_fir_layout *outer, const struct dsp_fir_layout *inner);

/*
 * Thread: any. The layout text says ("64x3 128x2 256x2 1024x61": SIZExPARTS per segment,
 * separated by spaces or commas; the block is the first size), checked as
 * dsp_fir_layout_check(). 0 with *ret set; -EINVAL for anything else (*ret untouched).
 */
int dsp_fir_layout_parse(const char *text, struct dsp_fir_layout *ret);

/*
 * Thread: any. "64x3 128x2 256x2 1024x61" into buf (at most size bytes, always terminated);
 * returns the length it wanted, as snprintf.
 */
int dsp_fir_layout_format(const struct dsp_fir_layout *layout, char *buf, size_t size);
