/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir-search.h: the layout of a convolver found by measuring candidates on this machine.
 *
 * Which layout is cheapest depends on the IR length, the block, the channels and the machine:
 * FFTW's speed at each size, the multiply-accumulate kernel, the caches. A table cannot know;
 * timing can. The search walks the candidates in rounds: growing layouts (fir-layout.h) of
 * step 2, then 4, then 8, with a longer largest partition each step, then, around the best of
 * those, heads and segments made longer (extra partitions) one at a time. A round stops when
 * its best has not improved for `patience` candidates in a row (the costs are unimodal in the
 * largest partition, so more
 * steps would only confirm it), and a candidate whose calls are not flat (its worst phase above
 * max_flatness × the mean) is never chosen. What a candidate costs is asked of a function: the
 * real one times a convolver (dsp_fir_search_measure); a test gives a fixed table, and then the
 * same table always gives the same layout.
 *
 * Where cores allow, candidates are costed several at once, one per thread: the next ones of a
 * round, costed before it is known whether the round goes on that far (and, in the second
 * round, as if none of them were taken). They are then looked at in the order a search of one
 * thread would look at them, so the answer does not depend on the threads: what is costed
 * beyond the end of a round is thrown away.
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
	/* candidates costed at once, each on a thread (the caller's among them); 0 or 1: one at a
	 * time on the caller's thread. Above 1, cost must be safe to call from several threads at
	 * once (dsp_fir_search_model and dsp_fir_search_measure are). At most
	 * DSP_FIR_SEARCH_MAX_THREADS are used. */
	unsigned threads;
};

#define DSP_FIR_SEARCH_MAX_THREADS 16u

/* Which candidates a search looks at. A layout remembered from a search of another version may
 * not be what this one would find (2: growing layouts of step 8 too). */
#define DSP_FIR_SEARCH_VERSION 2u

struct dsp_fir_search_result {
	struct dsp_fir_layout layout;
	double cost, flatness; /* of the layout chosen */
	unsigned tried;        /* candidates looked at: the same whatever the threads */
	unsigned costed;       /* candidates costed: tried and those thrown away (>= tried) */
};

/*
 * Thread: control. The cheapest flat candidate; the uniform layout when no other is flat.
 * 0 with *ret filled; -EINVAL (bad parameters); or the cost function's error. A thread that
 * cannot be started leaves its candidates to the caller's thread.
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
 * Thread: control, or the search's threads. A dsp_fir_cost_fn (ctx: struct dsp_fir_measure):
 * builds convolvers of the layout with an IR of decaying noise, runs them on noise, and times
 * every call. The cost is the mean of the per-phase medians in ns per call; the flatness is the
 * largest of those medians over their mean. Medians, because this machine may be shared: a
 * preempted call is an outlier, not a cost. Building takes FFT plans from m->fft, which is not
 * thread-safe: calls building at once take turns (a lock of this file); the timed runs overlap.
 * No other thread may plan with FFTW meanwhile (FFTW's planner is the process's). -ENOMEM.
 */
int dsp_fir_search_measure(void *ctx, const struct dsp_fir_layout *layout, double *ret_cost,
			   double *ret_flatness);
