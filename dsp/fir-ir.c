/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir-ir.c: impulse responses prepared for the partitioned convolver (fir.c): cut into the
 * layout's partitions, each zero-padded, transformed and prescaled once, on the control thread,
 * with the energy decay table a tail cut reads.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-pace.h"
#include "dsp/fft.h"
#include "dsp/fir-ir-private.h"
#include "dsp/fir.h"
#include "dsp/fir-mac.h"
#include "dsp/mem.h"

/* The taps of partition p of the IR (all segments in order) and where they start. */
static size_t ir_part_taps(const struct dsp_fir_ir *ir, size_t p, size_t *ret_start)
{
	size_t start = 0;

	for (unsigned i = 0; i < ir->layout.count; i++) {
		const struct dsp_fir_segment *s = &ir->layout.seg[i];

		if (p < s->parts) {
			start += p * s->size;
			*ret_start = start;
			return EL_MIN((size_t)s->size, ir->taps - start);
		}
		p -= s->parts;
		start += s->parts * s->size;
	}
	*ret_start = ir->taps;
	return 0;
}

/*
 * The energy decay table of an IR (remaining[] in struct dsp_fir_ir), summed backwards. A
 * measured IR ends in a noise floor that would keep the "remaining energy" above any cut long
 * after the room has decayed (a floor 80 dB below the peak keeps nearly every partition at
 * -60 dB). So the floor is estimated as the mean energy per tap of the IR's last eighth; the
 * decay ends at the last partition still 3 dB above it, and only energy above the floor and
 * before that end counts. On an IR without a floor that end is within its faint last eighth,
 * so the cut does not move.
 */
static void fir_ir_fill_remaining(struct dsp_fir_ir *ir, const float *taps)
{
	double total = 0.0, floor = 0.0;
	size_t n_end = ir->nparts >= 8 ? ir->taps / 8 : 0, end = ir->nparts, start, n;

	for (size_t i = ir->taps - n_end; i < ir->taps; i++)
		floor += (double)taps[i] * taps[i];
	floor = n_end ? floor / (double)n_end : 0.0;
	for (size_t p = 0; p < ir->nparts; p++) { /* energy per partition, for now */
		n = ir_part_taps(ir, p, &start);
		ir->remaining[p] = 0.0;
		for (size_t i = start; i < start + n; i++)
			ir->remaining[p] += (double)taps[i] * taps[i];
		ir->remaining[p] = fmax(ir->remaining[p] - floor * (double)n, 0.0);
	}
	while (n_end && end > 1) { /* still within 3 dB of the floor: the decay has ended */
		n = ir_part_taps(ir, end - 1, &start);
		if (ir->remaining[end - 1] > floor * (double)n)
			break;
		end--;
	}
	ir->remaining[ir->nparts] = 0.0;
	for (size_t p = ir->nparts; p-- > 0;) {
		total += p < end ? ir->remaining[p] : 0.0;
		ir->remaining[p] = total;
	}
	for (size_t p = 0; p <= ir->nparts; p++)
		ir->remaining[p] = total > 0.0 ? ir->remaining[p] / total : 0.0;
}

double dsp_fir_tail_limit(float tail_db)
{
	return tail_db >= 0.0f ? 1.0 : pow(10.0, (double)tail_db / 10.0);
}

EL_RT size_t dsp_fir_ir_parts_for_limit(const struct dsp_fir_ir *ir, double limit)
{
	size_t lo = 1, hi;

	if (!ir)
		return 0;
	hi = ir->nparts;
	if (limit >= 1.0)
		return hi;
	/* the first K >= 1 with remaining[K] <= limit; remaining[nparts] = 0 always qualifies */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ir->remaining[mid] <= limit)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

size_t dsp_fir_ir_get_parts_for_tail(const struct dsp_fir_ir *ir, float tail_db)
{
	return dsp_fir_ir_parts_for_limit(ir, dsp_fir_tail_limit(tail_db));
}

/* Segment i of ir: its partitions from taps, transformed; *pending counts work for the pacer. */
static void fir_ir_fill_segment(struct dsp_fir_ir *ir, struct dsp_fft_cache *fft, unsigned i,
				const float *taps, float *window, float *spec,
				const struct el_pacer *pacer, uint64_t *chunk_start,
				size_t *pending)
{
	const struct dsp_fir_segment *s = &ir->layout.seg[i];
	const struct dsp_fft_plan *plan = NULL;
	const float scale = 1.0f / (2.0f * (float)s->size);
	size_t offset = dsp_fir_layout_get_offset(&ir->layout, i);

	(void)dsp_fft_cache_get(fft, 2 * (size_t)s->size, &plan); /* made by the caller */
	for (size_t p = 0; p < s->parts; p++) {
		size_t start = offset + p * s->size, n = EL_MIN((size_t)s->size, ir->taps - start);

		/* after every DSP_FIR_IR_PACE_PARTS partitions' worth of head-sized work */
		if (*pending >= DSP_FIR_IR_PACE_PARTS * (size_t)ir->layout.block) {
			el_pace(pacer, chunk_start);
			*pending = 0;
		}
		/* Taps in the first half, zeros in the second: linear, not circular, convolution.
		 */
		memset(window, 0, 2 * (size_t)s->size * sizeof(float));
		for (size_t k = 0; k < n; k++)
			window[k] = taps[start + k] * scale;
		dsp_fft_forward(plan, window, spec);
		dsp_fir_pack_c(spec, ir->spectra[i] + p * 2 * s->size, s->size);
		*pending += s->size;
	}
}

int dsp_fir_ir_new(struct dsp_fft_cache *fft, unsigned block, const float *taps, size_t ntaps,
		   struct dsp_fir_ir **ret)
{
	return dsp_fir_ir_new_paced(fft, block, taps, ntaps, NULL, ret);
}

int dsp_fir_ir_new_paced(struct dsp_fft_cache *fft, unsigned block, const float *taps, size_t ntaps,
			 const struct el_pacer *pacer, struct dsp_fir_ir **ret)
{
	struct dsp_fir_layout layout;
	int r = dsp_fir_layout_uniform(block, ntaps, &layout);

	if (r < 0)
		return r;
	return dsp_fir_ir_new_layout(fft, &layout, taps, ntaps, pacer, ret);
}

int dsp_fir_ir_new_layout(struct dsp_fft_cache *fft, const struct dsp_fir_layout *layout,
			  const float *taps, size_t ntaps, const struct el_pacer *pacer,
			  struct dsp_fir_ir **ret)
{
	const struct dsp_fft_plan *plan;
	struct dsp_fir_ir *ir = NULL;
	float *window = NULL, *spec = NULL;
	uint64_t chunk_start = el_pace_now_ns();
	size_t pending = 0;
	unsigned largest;
	int r;

	if (!fft || !taps || !ret || !layout || ntaps == 0 || ntaps > DSP_FIR_MAX_TAPS ||
	    dsp_fir_layout_check(layout) < 0)
		return -EINVAL;
	ir = calloc(1, sizeof(*ir));
	if (!ir)
		return -ENOMEM;
	r = dsp_fir_layout_fit(layout, ntaps, &ir->layout);
	if (r < 0)
		goto fail;
	for (unsigned i = 0; i < ir->layout.count; i++) {
		r = dsp_fft_cache_get(fft, 2 * (size_t)ir->layout.seg[i].size, &plan);
		if (r < 0)
			goto fail;
	}
	r = -ENOMEM;
	largest = ir->layout.seg[ir->layout.count - 1].size;
	window = dsp_mem_alloc(2 * (size_t)largest * sizeof(float));
	spec = dsp_mem_alloc((2 * (size_t)largest + 2) * sizeof(float));
	ir->taps = ntaps;
	for (unsigned i = 0; i < ir->layout.count; i++) {
		ir->nparts += ir->layout.seg[i].parts;
		ir->spectra[i] = dsp_mem_alloc(ir->layout.seg[i].parts * 2 *
					       ir->layout.seg[i].size * sizeof(float));
		if (!ir->spectra[i])
			goto fail;
	}
	ir->remaining = calloc(ir->nparts + 1, sizeof(double));
	if (!window || !spec || !ir->remaining)
		goto fail;
	fir_ir_fill_remaining(ir, taps);
	for (unsigned i = 0; i < ir->layout.count; i++)
		fir_ir_fill_segment(ir, fft, i, taps, window, spec, pacer, &chunk_start, &pending);
	dsp_mem_free(window);
	dsp_mem_free(spec);
	*ret = ir;
	return 0;
fail:
	dsp_mem_free(window);
	dsp_mem_free(spec);
	dsp_fir_ir_free(ir);
	return r;
}

struct dsp_fir_ir *dsp_fir_ir_free(struct dsp_fir_ir *ir)
{
	if (!ir)
		return NULL;
	for (unsigned i = 0; i < DSP_FIR_LAYOUT_MAX_SEGMENTS; i++)
		dsp_mem_free(ir->spectra[i]);
	free(ir->remaining);
	free(ir);
	return NULL;
}

size_t dsp_fir_ir_get_taps(const struct dsp_fir_ir *ir)
{
	return ir->taps;
}

size_t dsp_fir_ir_get_partitions(const struct dsp_fir_ir *ir)
{
	return ir->nparts;
}

unsigned dsp_fir_ir_get_block(const struct dsp_fir_ir *ir)
{
	return ir->layout.block;
}

const struct dsp_fir_layout *dsp_fir_ir_get_layout(const struct dsp_fir_ir *ir)
{
	return &ir->layout;
}
