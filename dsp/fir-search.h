/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir-search.h: the layout of a convolver found by measuring candidates on this machine.
 *
 * Which layout is cheapest depends on the IR length, the block, the channels and the machine:
 * FFTW's speed at each size, the multiply-accumulate kernel, the caches. A table cannot know;
 * timing can. The search walks the candidates in rounds: growing layouts (fir-layout.h) with a
 * longer largest partition each step, then, around the best of those, heads and segments made
 * longer (extra partitions) one at a time. A round stops when its best has not improved for
 * `patience` candidates in a row (the costs are unimodal in the largest partition, so more
 * steps would only confirm it), and a candidate whose calls are not flat (its worst phase above
 * max_flatness × the mean) is never chosen. What a candidate costs is asked of a function: the
 * real one times a convolver (dsp_fir_search_measure); a test gives a fixed table, and then the
 * same table always gives the same layout.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "dsp/fir-layout.h"

struct dsp_fft_cache;

/*
 * What a candidate costs: *ret_cost (any unit, lower is better) and *ret_flatness (worst phase
 * over the mean, 1.0: flat). 0, or -errno to abandon the search with that error.
 */
typedef int (*dsp_fir_cost_fn)(void *ctx, const struct dsp_fir_layout *layout, double *ret_cost,
			       double *ret_flatness);

struct dsp_fir_search {
	unsigned block;
	size_t taps;
	unsigned max_size;   /* the largest partition tried (a power of two >= block) */
	unsigned patience;   /* candidates without improvement that end a round (>= 1) */
	double max_flatness; /* e.g. 1.5 */
	dsp_fir_cost_fn cost;
	void *cost_ctx;
};

struct dsp_fir_search_result {
	struct dsp_fir_layout layout;
	double cost, flatness; /* of the layout chosen */
	unsigned tried;        /* candidates costed */
};

/*
 * Thread: control. The cheapest flat candidate; the uniform layout when no other is flat.
 * 0 with *ret filled; -EINVAL (bad parameters); or the cost function's error.
 */
int dsp_fir_search_run(const struct dsp_fir_search *search, struct dsp_fir_search_result *ret);

/*
 * Thread: any. A dsp_fir_cost_fn that measures nothing (ctx: const struct dsp_fir_costs *,
 * e.g. dsp_fir_costs_model()): the cost is the schedule's mean phase cost, the flatness its
 * worst phase over the mean (fir-schedule.h). For a quick choice where timing would cost more
 * than it saves (a short render). -ENOMEM.
 */
int dsp_fir_search_model(void *ctx, const struct dsp_fir_layout *layout, double *ret_cost,
			 double *ret_flatness);

/* What dsp_fir_search_measure() times with: borrowed for the search. */
struct dsp_fir_measure {
	struct dsp_fft_cache *fft;
	uint32_t cpu_flags;
	unsigned channels; /* inputs and outputs of the convolver, on the diagonal (a fir node) */
	unsigned periods;  /* whole schedule periods timed, per-phase medians over them (>= 8) */
};

/*
 * Thread: control. A dsp_fir_cost_fn (ctx: struct dsp_fir_measure): builds convolvers of the
 * layout with an IR of decaying noise, runs them on noise, and times every call. The cost is
 * the mean of the per-phase medians in ns per call; the flatness is the largest of those
 * medians over their mean. Medians, because this machine may be shared: a preempted call is an
 * outlier, not a cost. -ENOMEM.
 */
int dsp_fir_search_measure(void *ctx, const struct dsp_fir_layout *layout, double *ret_cost,
			   double *ret_flatness);
