/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir-schedule.h: which call does which slice of a layout's work, so every call costs the
 * same (fir-layout.h).
 *
 * A segment of partition size S has R = S / block calls per S input samples. In them it must
 * transform the input forward once (the `fwd` step), multiply-accumulate its partitions, and
 * transform back once (the `inv` step, which also adds the newest input's product, partition
 * 0). The products of the older partitions do not need the newest input, so they are spread
 * over all R calls: those after the inverse start the next block's sum. Segments of different
 * sizes repeat with different periods, and the whole schedule repeats every P = largest / block
 * calls; "phase" is the call's position in that period.
 *
 * The schedule is computed once, on the control thread, from a table of what each piece of
 * work costs: first the transforms are placed, largest first, each where it raises the most
 * loaded phase least; then the multiply-accumulates fill the phases, the segments with the
 * fewest steps first (they have the least choice). The costs come from a model or from
 * measurement (the layout search); with the same table and layout the schedule is always the
 * same.
 */
#pragma once

#include <stddef.h>

#include "dsp/fir-layout.h"

/* Indexed by log2 of the partition size. */
#define DSP_FIR_COST_SIZES 32u

/*
 * What one piece of a segment's work costs, in any unit (the same for all): fwd[k] the forward
 * transform of a 2^k partition with its packing, inv[k] the inverse with its unpacking, mac[k]
 * the multiply-accumulate of one partition.
 */
struct dsp_fir_costs {
	double fwd[DSP_FIR_COST_SIZES];
	double inv[DSP_FIR_COST_SIZES];
	double mac[DSP_FIR_COST_SIZES];
};

/*
 * Thread: any. Costs by a model in units of a flop of FFTW: a 2S-point real transform
 * 2.5·2S·log2(2S)/2 (half a complex one); a partition's multiply-accumulate 2.4 per bin (S
 * bins). A complex multiply-add is 8 flops, but the kernel runs them at ~0.12 ns per bin where
 * FFTW reaches 15-26 GFLOP/s on this class of machine, so at FFTW's rate a bin costs ~2.4 flops'
 * time; weighing it as 8 left the phases with the large transforms 1.5x the mean, 2.4 gives
 * 1.1x (bench-fir, block 64, 65,536 taps).
 */
void dsp_fir_costs_model(struct dsp_fir_costs *ret);

/* One segment's slice of each call: step k = call number mod (size / block). */
struct dsp_fir_steps {
	unsigned steps;    /* R = size / block (1 for the head: all its work in every call) */
	unsigned fwd, inv; /* the steps of the two transforms, fwd <= inv < steps */
	size_t *first;     /* owned: steps entries, the first older partition done at step k */
	size_t *count;     /* owned: steps entries, how many (partitions 1..parts-1 in all) */
};

struct dsp_fir_schedule {
	unsigned period; /* P: calls after which the schedule repeats */
	unsigned count;  /* segments, as the layout's */
	struct dsp_fir_steps seg[DSP_FIR_LAYOUT_MAX_SEGMENTS];
	double *phase_cost; /* owned: period entries, the modelled cost of each phase */
};

/*
 * Thread: control. The schedule of a valid layout (dsp_fir_layout_check) under costs. 0 with
 * *ret set; -EINVAL; -ENOMEM. Free with dsp_fir_schedule_free().
 */
int dsp_fir_schedule_new(const struct dsp_fir_layout *layout, const struct dsp_fir_costs *costs,
			 struct dsp_fir_schedule **ret);

/*
 * Thread: any. What one call of a convolver costs per channel under the model
 * (dsp_fir_costs_model: flops at FFTW's rate), averaged over the schedule's period: a forward
 * transform, an inverse and the partitions' multiply-accumulates of each segment, spread over its
 * calls. A valid layout (dsp_fir_layout_check).
 */
double dsp_fir_layout_model_flops(const struct dsp_fir_layout *layout);

/* Thread: control. Accepts NULL; returns NULL. */
struct dsp_fir_schedule *dsp_fir_schedule_free(struct dsp_fir_schedule *s);

/* Thread: any. The mean of the phase costs, and the largest over the mean (1.0: flat). */
double dsp_fir_schedule_get_mean(const struct dsp_fir_schedule *s);
double dsp_fir_schedule_get_flatness(const struct dsp_fir_schedule *s);
