/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir.c: partitioned overlap-save convolution, uniform or non-uniform, with crossfaded IR
 * swaps, tail cuts and an O(block) reset.
 *
 * DESIGN: the IR is cut as the layout says (fir-layout.h): the head in partitions of the block
 * B, later segments in partitions of larger sizes S. Every partition is zero-padded to 2S,
 * transformed once (dsp_fir_ir_new_layout) and prescaled by 1/2S so the unnormalized inverse
 * needs no extra pass. A segment keeps a frequency-domain delay line (FDL): the spectra of its
 * last input blocks of S samples, each made from a window of 2S samples of input history.
 * The history is one ring of input samples, written twice (at i and i + H) so that any window
 * is one contiguous run for the FFT, however it falls on the ring.
 *
 * The head runs whole in every call: transform the newest window, multiply-accumulate
 * Σ X[t-p]·H[p] over its partitions (the hot loop, fir-mac*.c), repair the packed DC/Nyquist
 * pair, transform back, keep the last B samples. Its partition 0 holds the first B taps, so the
 * output of a call already contains that call's input: no latency beyond the block.
 *
 * A tail segment of R = S / B calls per block works on block m (input samples [mS, (m+1)S),
 * complete after call (m+1)R - 1) in "window m", calls (m+1)R .. (m+2)R - 1; its output is due
 * from call (m+2)R - 1 on, which the layout guarantees by starting the segment at least 2S - B
 * taps into the IR. fir-schedule.c decides at which step of the window (call mod R) the forward
 * transform and the inverse come, and how many older partitions each step multiplies; those
 * need not wait for block m's input, so a block's sum runs from the step after the previous
 * inverse round to its own. The output block lands in one of two buffers (the one before may
 * still be read) and is added B samples per call.
 *
 * The FDL slot of input block j is n - 1 - (j mod n) (n the segment's capacity), so the newest
 * block comes first and X[m-p] for ascending p sits in ascending slots: the multiply-accumulate
 * walks the FDL and the IR in the same order, in at most two runs.
 *
 * dsp_fir_process_many() runs calls phase by phase over several convolvers (a node's channels):
 * all forward transforms, all multiply-accumulates, all inverse transforms, so the transforms
 * share a warm cache.
 *
 * An IR swap keeps the FDLs: during the fade both IRs are applied to the same input history and
 * the two outputs are crossfaded, so after the fade the output is exactly the new filter's. A
 * segment's output needs its whole block sum, which for the incoming IR starts only at the swap;
 * the fade therefore waits until every segment has a whole block of the new IR to give (at most
 * three windows of the longest segment; none for a uniform layout). Each IR has its own
 * accumulators and output buffers in one of two slots, which trade roles when a fade ends.
 *
 * A tail cut (dsp_fir_set_tail_db, the power policy's FIR tiers) keeps only the partitions
 * before the point where the IR's remaining energy falls below a level, which the IR knows from
 * its energy decay table (computed once, from the taps). The FDLs keep receiving every input
 * spectrum, so the partitions cut away can come back later with the right history. A change of
 * cut is faded: the partitions that stop (or start) counting are summed into a second
 * accumulator and added with a gain that steps linearly over the fade, one value per block of
 * the segment (the sum is in the frequency domain, so the gain must be constant within a block);
 * they are at most -60 dB of the output, so the steps are far below anything audible. A tail
 * segment takes the cut and its gain when a block's sum starts, so every block is summed under
 * one cut. A segment a cut leaves out whole for every IR in use goes dormant: no forward
 * transform, no sum, no inverse (the power policy's cut then saves transforms, not only
 * products). When the cut is lifted it wakes, and its history starts there: its partitions
 * add the input since, which is what they would have added to the cut filter's output anyway;
 * an IR's length later the output is the whole filter's again, bit for bit. An IR that merely
 * does not reach a segment leaves it running, so a longer IR faded to finds its history.
 *
 * A reset (forget the history, on the RT thread when input resumes after a silence) must cost no
 * more than a block, so it does not clear the FDLs (megabytes for a long IR). It restarts the
 * call count instead: input block j exists only for j >= 0, every multiply-accumulate stops at
 * the partitions written since, a window reaching before the reset is zeroed where it does (in
 * the step that transforms it, proportional to that step's work), and output blocks from before
 * the reset are not read. Skipping the partitions is bit-exact, not just close: after a reset the
 * newest block sits at slot n - 1 - m, so the partitions written since are exactly the first run
 * of the ring walk (same chunk boundaries in the kernel), and the zeros of a cleared FDL were the
 * second run, a kernel call of their own. That call added +0.0 to every sum, which changes
 * nothing but a -0.0 (a flush-to-zero result) into +0.0; rt_add_silence() does that much.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-macros.h"
#include "common/el-pace.h"
#include "dsp/fft.h"
#include "dsp/fir-inspect.h"
#include "dsp/fir-layout.h"
#include "dsp/fir-mac.h"
#include "dsp/fir-schedule.h"
#include "dsp/fir.h"
#include "dsp/mem.h"

struct dsp_fir_ir {
	struct dsp_fir_layout layout; /* fitted to the taps (dsp_fir_layout_fit) */
	size_t taps;
	size_t nparts;                               /* Σ parts over the segments */
	float *spectra[DSP_FIR_LAYOUT_MAX_SEGMENTS]; /* owned: parts * 2 * size floats each,
						      * split packed layout (fir-mac.h) */
	/* owned: nparts + 1 values over all partitions in order; remaining[p] = energy of
	 * partitions p.. / total energy (non-increasing, remaining[0] = 1, remaining[nparts] = 0;
	 * all 0 for a silent IR) */
	double *remaining;
};

/* What an IR slot of a segment uses for one block's sum, taken when the sum starts. */
struct fir_cut {
	size_t keep;   /* partitions of the segment summed in full */
	size_t lo, hi; /* those summed into acc_tail and weighted by gain (none: lo == hi) */
	float gain;
};

/* One IR's state in a segment: slot 0 or 1 (struct dsp_fir.slot says which is current). */
struct fir_slot {
	float *acc;          /* owned: 2 * size floats, the block's sum in split layout */
	float *acc_tail;     /* owned: 2 * size floats, the partitions a tail change fades */
	float nyq, nyq_tail; /* the Nyquist sums that go with them (fir-mac.h) */
	float *out[2];       /* tail segments, owned: size samples each, output blocks by parity */
	bool out_silent[2];  /* that block's sum had no partition (a tail cut): not computed */
	struct fir_cut cut;
	size_t valid_from; /* tail segments: the first block summed whole with the slot's IR */
};

struct fir_seg {
	unsigned size;   /* S: taps per partition */
	unsigned steps;  /* R = S / block */
	size_t capacity; /* partitions the FDL holds */
	size_t first;    /* index of its partition 0 among all the layout's partitions */
	const struct dsp_fft_plan *plan;   /* borrowed from the cache: 2S points */
	const struct dsp_fir_steps *sched; /* borrowed from the convolver's schedule */
	float *fdl;                        /* owned: capacity * 2 * size floats */
	/* The first input block the FDL holds: blocks before it count as silence (0 after a
	 * reset; later when the segment wakes from a tail cut that left it dormant, DESIGN). */
	size_t first_block;
	bool dormant; /* cut away whole: no forward transform, no sum */
	struct fir_slot slot[2];
};

struct dsp_fir {
	unsigned block;
	struct dsp_fir_layout layout;
	struct dsp_fir_schedule *schedule; /* owned */
	dsp_fir_mac_fn mac;
	unsigned nseg;
	struct fir_seg seg[DSP_FIR_LAYOUT_MAX_SEGMENTS];

	size_t calls;    /* blocks processed since the last reset (DESIGN) */
	size_t hist_len; /* H: a power of two >= 4 × the largest partition */
	float *hist;     /* owned: 2H samples, each written at i and i + H */
	float *spectrum; /* owned: largest + 1 complex values, interleaved, FFT scratch */
	float *time;     /* owned: 2 × largest samples, inverse FFT output */
	float *out_next; /* owned: block samples, the incoming IR's output during a fade */

	const struct dsp_fir_ir *ir[2]; /* borrowed: slot 0 and 1's IRs (NULL: silence) */
	unsigned slot;                  /* the slot of the IR in use; slot ^ 1 is faded to */
	int fading;
	size_t warm_until; /* calls: the fade proper starts here (every segment has output) */
	size_t fade_pos;   /* frames of the fade done */
	size_t fade_len;   /* frames of the whole fade, a multiple of the block */

	float tail_db;      /* the cut in force: keep partitions until this level; >= 0: all */
	float tail_db_from; /* while tail_fading: the cut faded from */
	/* their energy ratios (fir_tail_limit), computed when set so a block needs no pow() */
	double tail_limit, tail_limit_from;
	int tail_fading;
	size_t tail_fade_pos, tail_fade_len; /* frames, as fade_pos and fade_len */
	/* The last answer of rt_parts_for_limit() for each slot: the search reads ~log2(P) cold
	 * lines of the IR's decay table, every block of every channel, for an answer that rarely
	 * changes. Forgotten by dsp_fir_set_ir(), the only way in for an IR that could reuse the
	 * address of a freed one. */
	const struct dsp_fir_ir *memo_ir[2];
	double memo_limit[2];
	size_t memo_parts[2];
};

static int fir_block_is_valid(unsigned block)
{
	return EL_IS_POW2(block) && block >= DSP_FIR_MIN_BLOCK && block <= DSP_FIR_MAX_BLOCK;
}

/* Interleaved r2c output (bins + 1 complex) -> split packed layout (see fir-mac.h). */
EL_RT static void rt_pack(const float *restrict spec, float *restrict dst, size_t bins)
{
	float *re = dst, *im = dst + bins;

	re[0] = spec[0];
	im[0] = spec[2 * bins]; /* the real Nyquist value rides in DC's empty imaginary slot */
	for (size_t k = 1; k < bins; k++) {
		re[k] = spec[2 * k];
		im[k] = spec[2 * k + 1];
	}
}

/* Split packed accumulator -> interleaved c2r input, repairing bin 0 with nyq (fir-mac.h). */
EL_RT static void rt_unpack(const float *restrict acc, float nyq, float *restrict spec, size_t bins)
{
	const float *re = acc, *im = acc + bins;

	spec[0] = re[0] + nyq;
	spec[1] = 0.0f;
	for (size_t k = 1; k < bins; k++) {
		spec[2 * k] = re[k];
		spec[2 * k + 1] = im[k];
	}
	spec[2 * bins] = nyq;
	spec[2 * bins + 1] = 0.0f;
}

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

/* The energy ratio a cut at tail_db leaves; 1 (or more) keeps the whole IR. */
static double fir_tail_limit(float tail_db)
{
	return tail_db >= 0.0f ? 1.0 : pow(10.0, (double)tail_db / 10.0);
}

/* Partitions of ir a cut at the energy ratio limit keeps (fir_tail_limit()). */
EL_RT static size_t rt_parts_for_limit(const struct dsp_fir_ir *ir, double limit)
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
	return rt_parts_for_limit(ir, fir_tail_limit(tail_db));
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
		rt_pack(spec, ir->spectra[i] + p * 2 * s->size, s->size);
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

static int fir_seg_init(struct dsp_fir *f, struct dsp_fft_cache *fft, unsigned i, size_t first)
{
	struct fir_seg *s = &f->seg[i];
	size_t size = f->layout.seg[i].size;
	int r;

	s->size = (unsigned)size;
	s->steps = (unsigned)(size / f->block);
	s->capacity = f->layout.seg[i].parts;
	s->first = first;
	s->sched = &f->schedule->seg[i];
	r = dsp_fft_cache_get(fft, 2 * size, &s->plan);
	if (r < 0)
		return r;
	s->fdl = dsp_mem_alloc(s->capacity * 2 * size * sizeof(float));
	if (!s->fdl)
		return -ENOMEM;
	for (unsigned k = 0; k < 2; k++) {
		struct fir_slot *sl = &s->slot[k];

		sl->acc = dsp_mem_alloc(2 * size * sizeof(float));
		sl->acc_tail = dsp_mem_alloc(2 * size * sizeof(float));
		if (!sl->acc || !sl->acc_tail)
			return -ENOMEM;
		for (unsigned b = 0; i > 0 && b < 2; b++) {
			sl->out[b] = dsp_mem_alloc(size * sizeof(float));
			if (!sl->out[b])
				return -ENOMEM;
		}
	}
	return 0;
}

int dsp_fir_new(const struct dsp_fir_config *config, struct dsp_fir **ret)
{
	struct dsp_fir_costs model;
	struct dsp_fir *f;
	size_t first = 0, largest;
	int r;

	if (!config || !ret || !config->fft || !fir_block_is_valid(config->block) ||
	    config->max_taps == 0 || config->max_taps > DSP_FIR_MAX_TAPS)
		return -EINVAL;
	if (config->layout &&
	    (config->layout->block != config->block || dsp_fir_layout_check(config->layout) < 0 ||
	     dsp_fir_layout_get_taps(config->layout) < config->max_taps))
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->block = config->block;
	f->tail_limit = f->tail_limit_from = 1.0; /* the whole IR */
	f->mac = dsp_fir_mac_select(config->cpu_flags);
	if (config->layout)
		f->layout = *config->layout;
	else
		(void)dsp_fir_layout_uniform(config->block, config->max_taps, &f->layout);
	dsp_fir_costs_model(&model);
	r = dsp_fir_schedule_new(&f->layout, config->costs ? config->costs : &model, &f->schedule);
	if (r < 0)
		goto fail;
	f->nseg = f->layout.count;
	for (unsigned i = 0; i < f->nseg; i++) {
		r = fir_seg_init(f, config->fft, i, first);
		if (r < 0)
			goto fail;
		first += f->layout.seg[i].parts;
	}
	largest = f->layout.seg[f->nseg - 1].size;
	f->hist_len = 4 * largest;
	f->hist = dsp_mem_alloc(2 * f->hist_len * sizeof(float));
	f->spectrum = dsp_mem_alloc((2 * largest + 2) * sizeof(float));
	f->time = dsp_mem_alloc(2 * largest * sizeof(float));
	f->out_next = dsp_mem_alloc(f->block * sizeof(float));
	r = -ENOMEM;
	if (!f->hist || !f->spectrum || !f->time || !f->out_next)
		goto fail;
	memset(f->hist, 0, 2 * f->hist_len * sizeof(float));
	*ret = f;
	return 0;
fail:
	dsp_fir_free(f);
	return r;
}

struct dsp_fir *dsp_fir_free(struct dsp_fir *fir)
{
	if (!fir)
		return NULL;
	for (unsigned i = 0; i < DSP_FIR_LAYOUT_MAX_SEGMENTS; i++) {
		struct fir_seg *s = &fir->seg[i];

		dsp_mem_free(s->fdl);
		for (unsigned k = 0; k < 2; k++) {
			dsp_mem_free(s->slot[k].acc);
			dsp_mem_free(s->slot[k].acc_tail);
			dsp_mem_free(s->slot[k].out[0]);
			dsp_mem_free(s->slot[k].out[1]);
		}
	}
	dsp_fir_schedule_free(fir->schedule);
	dsp_mem_free(fir->hist);
	dsp_mem_free(fir->spectrum);
	dsp_mem_free(fir->time);
	dsp_mem_free(fir->out_next);
	free(fir);
	return NULL;
}

/*
 * Slot k takes a new IR in this call: in each tail segment, the first block whose sum starts
 * from now on is the first it gives (the sum of block m starts in call mR + inv + 1, DESIGN).
 * Returns the call from which every segment has output of it: block m is read from call
 * (m + 2)R - 1 on.
 */
EL_RT static size_t rt_slot_restart(struct dsp_fir *f, unsigned k)
{
	size_t warm = f->calls;

	for (unsigned i = 1; i < f->nseg; i++) {
		struct fir_seg *s = &f->seg[i];
		size_t lead = s->sched->inv + 1, m;

		/* the first m with m R + lead >= calls */
		m = f->calls > lead ? (f->calls - lead + s->steps - 1) / s->steps : 0;
		s->slot[k].valid_from = m;
		warm = EL_MAX(warm, (m + 2) * s->steps - 1);
	}
	return warm;
}

EL_RT int dsp_fir_set_ir(struct dsp_fir *fir, const struct dsp_fir_ir *ir, unsigned fade_frames)
{
	if (ir && ir->layout.block != fir->block)
		return -EINVAL;
	if (ir && !dsp_fir_layout_contains(&fir->layout, &ir->layout))
		return ir->taps > dsp_fir_layout_get_taps(&fir->layout) ? -E2BIG : -EINVAL;
	if (fir->fading)
		return -EBUSY;
	fir->memo_ir[0] = fir->memo_ir[1] = NULL;
	if (fade_frames == 0) { /* the tail segments' output starts with their next blocks */
		fir->ir[fir->slot] = ir;
		(void)rt_slot_restart(fir, fir->slot);
		return 0;
	}
	fir->ir[fir->slot ^ 1] = ir;
	fir->fading = 1;
	fir->warm_until = rt_slot_restart(fir, fir->slot ^ 1);
	fir->fade_pos = 0;
	fir->fade_len = EL_ALIGN_UP((size_t)fade_frames, fir->block);
	return 0;
}

EL_RT int dsp_fir_is_fading(const struct dsp_fir *fir)
{
	return fir->fading;
}

/*
 * What a run of silent partitions adds to an accumulator: +0.0 to every value, which is not
 * nothing, since -0.0 + +0.0 is +0.0 (a flush-to-zero sum can end at -0.0). Done once where
 * their multiply-accumulate over a cleared FDL did it at least once, so no bit differs (DESIGN).
 */
EL_RT static void rt_add_silence(float *acc, float *nyq, size_t size)
{
	for (size_t i = 0; i < 2 * size; i++)
		acc[i] += 0.0f;
	*nyq += 0.0f;
}

/*
 * acc += Σ X[m-p]·H[p] for partitions p0 <= p < p1 of a segment (spectra: the IR's), m the
 * block summed; input blocks the FDL does not hold (m - p < first_block: before the reset, or
 * before the segment woke) are silence, skipped (DESIGN).
 */
EL_RT static void rt_mac_range(const struct dsp_fir *f, const struct fir_seg *s,
			       const float *spectra, float *acc, float *nyq, size_t m, size_t p0,
			       size_t p1)
{
	size_t held = m >= s->first_block ? m - s->first_block + 1 : 0;
	size_t sz = s->size, end = EL_MIN(p1, held), slot, run;

	if (p0 < end) {
		slot = s->capacity - 1 - (m - p0) % s->capacity;
		run = EL_MIN(end - p0, s->capacity - slot);
		f->mac(acc, s->fdl + slot * 2 * sz, spectra + p0 * 2 * sz, run, sz, nyq);
		if (run < end - p0)
			f->mac(acc, s->fdl, spectra + (p0 + run) * 2 * sz, end - p0 - run, sz, nyq);
	}
	if (EL_MAX(p0, end) < p1)
		rt_add_silence(acc, nyq, sz);
}

/*
 * Partitions of ir kept in full, and those [*ret_lo, *ret_hi) weighted by *ret_gain while a
 * change of tail cut fades (none otherwise: lo == hi); all counted over the whole layout.
 */
EL_RT static size_t rt_tail_parts(struct dsp_fir *f, unsigned k, size_t *ret_lo, size_t *ret_hi,
				  float *ret_gain)
{
	const struct dsp_fir_ir *ir = f->ir[k];
	size_t now, from;
	float g;

	if (ir != f->memo_ir[k] || f->tail_limit != f->memo_limit[k]) {
		f->memo_ir[k] = ir;
		f->memo_limit[k] = f->tail_limit;
		f->memo_parts[k] = rt_parts_for_limit(ir, f->tail_limit);
	}
	now = f->memo_parts[k];

	*ret_lo = *ret_hi = now;
	*ret_gain = 0.0f;
	if (!f->tail_fading)
		return now;
	from = rt_parts_for_limit(ir, f->tail_limit_from);
	/* the gain at the middle of this block: halfway steps, never 0 or 1 at the ends */
	g = ((float)f->tail_fade_pos + 0.5f * (float)f->block) / (float)f->tail_fade_len;
	if (from > now) { /* cutting: partitions now..from fade out */
		*ret_hi = from;
		*ret_gain = 1.0f - g;
	} else { /* restoring: partitions from..now fade in */
		*ret_lo = from;
		*ret_gain = g;
		return from;
	}
	return now;
}

/* Partition g of the whole layout as one of segment s's n partitions (clamped to 0..n). */
EL_RT static size_t rt_local_part(const struct fir_seg *s, size_t n, size_t g)
{
	return EL_MIN(n, g > s->first ? g - s->first : 0);
}

/* The cut of slot k for a block of segment s, in the segment's own partition numbers. */
EL_RT static void rt_take_cut(struct dsp_fir *f, const struct fir_seg *s, unsigned k,
			      struct fir_cut *cut)
{
	const struct dsp_fir_ir *ir = f->ir[k];
	size_t lo, hi, keep, n = 0, i = (size_t)(s - f->seg);

	keep = rt_tail_parts(f, k, &lo, &hi, &cut->gain);
	if (ir && i < ir->layout.count)
		n = ir->layout.seg[i].parts;
	cut->keep = rt_local_part(s, n, keep);
	cut->lo = rt_local_part(s, n, lo);
	cut->hi = rt_local_part(s, n, hi);
}

/* The slots whose IR is in use in a call: the current one, and the next while fading. */
EL_RT static int rt_slot_active(const struct dsp_fir *f, unsigned k)
{
	return k == f->slot || f->fading;
}

/*
 * Partitions [p0, p1) of block m into slot k's sums, split by its cut: those kept in full into
 * acc, those fading into acc_tail.
 */
EL_RT static void rt_slot_mac(const struct dsp_fir *f, struct fir_seg *s, unsigned k, size_t m,
			      size_t p0, size_t p1)
{
	struct fir_slot *sl = &s->slot[k];
	const float *spectra = f->ir[k]->spectra[s - f->seg];
	const struct fir_cut *c = &sl->cut;
	size_t a = EL_MIN(p1, c->keep), lo = EL_MAX(p0, c->lo), hi = EL_MIN(p1, c->hi);

	if (p0 < a)
		rt_mac_range(f, s, spectra, sl->acc, &sl->nyq, m, p0, a);
	if (lo < hi)
		rt_mac_range(f, s, spectra, sl->acc_tail, &sl->nyq_tail, m, lo, hi);
}

/* Starts slot k's sum of a block of segment s: the cut taken, the accumulators cleared. */
EL_RT static void rt_slot_begin(struct dsp_fir *f, struct fir_seg *s, unsigned k)
{
	struct fir_slot *sl = &s->slot[k];

	rt_take_cut(f, s, k, &sl->cut);
	memset(sl->acc, 0, 2 * (size_t)s->size * sizeof(float));
	sl->nyq = 0.0f;
	if (sl->cut.lo < sl->cut.hi) {
		memset(sl->acc_tail, 0, 2 * (size_t)s->size * sizeof(float));
		sl->nyq_tail = 0.0f;
	}
}

/* A slot's finished sum, back to time: the last `size` samples of the inverse transform. */
EL_RT static void rt_slot_inverse(struct dsp_fir *f, struct fir_seg *s, unsigned k, float *dst)
{
	struct fir_slot *sl = &s->slot[k];
	size_t sz = s->size;

	if (sl->cut.lo < sl->cut.hi) {
		for (size_t i = 0; i < 2 * sz; i++)
			sl->acc[i] += sl->cut.gain * sl->acc_tail[i];
		sl->nyq += sl->cut.gain * sl->nyq_tail;
	}
	rt_unpack(sl->acc, sl->nyq, f->spectrum, sz);
	dsp_fft_inverse(s->plan, f->spectrum, f->time);
	/* Overlap-save: the first half of the window wrapped around; the second half is valid. */
	memcpy(dst, f->time + sz, sz * sizeof(float));
}

/* Input block m of segment s into its FDL: the window [(m - 1)S, (m + 1)S) transformed. */
EL_RT static void rt_seg_forward(struct dsp_fir *f, struct fir_seg *s, size_t m)
{
	size_t sz = s->size, h = f->hist_len, slot = s->capacity - 1 - m % s->capacity;
	/* the window's start on the ring: before sample 0 for block 0, where it wraps */
	size_t start = m ? ((m - 1) * sz) % h : h - sz;
	float *dst = s->fdl + slot * 2 * sz;

	if (m == 0) /* the samples before the reset, as silence (DESIGN) */
		memset(f->hist + h - sz, 0, sz * sizeof(float));
	for (size_t i = 0; i < 2 * sz; i += EL_CACHE_LINE / sizeof(float))
		__builtin_prefetch(dst + i, 1, 3); /* a cold slot: let the misses overlap the FFT */
	dsp_fft_forward(s->plan, f->hist + start, f->spectrum);
	rt_pack(f->spectrum, dst, sz);
}

/* The input of this call into the history ring, at i and i + H (DESIGN). */
EL_RT static void rt_call_history(struct dsp_fir *f, const float *in)
{
	size_t b = f->block, h = f->hist_len, pos = (f->calls * b) % h;

	memcpy(f->hist + pos, in, b * sizeof(float));
	memcpy(f->hist + h + pos, in, b * sizeof(float));
}

/*
 * Whether a tail cut leaves segment s out whole for every IR in use (DESIGN: dormant). Only a
 * cut does: an IR that does not reach a segment keeps it running, so that a longer IR faded to
 * later finds its history.
 */
EL_RT static bool rt_seg_cut_away(struct dsp_fir *f, const struct fir_seg *s)
{
	if (f->tail_limit >= 1.0 && !f->tail_fading)
		return false;
	for (unsigned k = 0; k < 2; k++) {
		size_t lo, hi, keep;
		float gain;

		if (!rt_slot_active(f, k) || !f->ir[k])
			continue;
		keep = rt_tail_parts(f, k, &lo, &hi, &gain);
		if (keep > s->first || (lo < hi && hi > s->first))
			return false;
	}
	return true;
}

/*
 * Call phase 1: the input into the history; the head's spectrum; tail segments' forward step,
 * unless a tail cut left the segment dormant (and every_segment is false: history kept for a
 * later IR whatever the cut).
 */
EL_RT static void rt_call_forward(struct dsp_fir *f, const float *in, bool every_segment)
{
	rt_call_history(f, in);
	rt_seg_forward(f, &f->seg[0], f->calls);
	for (unsigned i = 1; i < f->nseg; i++) {
		struct fir_seg *s = &f->seg[i];
		size_t k = f->calls % s->steps, w = f->calls / s->steps;

		/* window w works on block w - 1 (none before the first window ends) */
		if (k != s->sched->fwd || w < 1)
			continue;
		if (!every_segment && rt_seg_cut_away(f, s)) {
			s->dormant = true;
			continue;
		}
		if (s->dormant) { /* awake: the history starts with this block */
			s->dormant = false;
			s->first_block = w - 1;
		}
		rt_seg_forward(f, s, w - 1);
	}
}

/* Call phase 2, the head: its whole sum for this call's block, for each slot in use. */
EL_RT static void rt_head_accumulate(struct dsp_fir *f)
{
	struct fir_seg *s = &f->seg[0];

	for (unsigned k = 0; k < 2; k++) {
		if (!rt_slot_active(f, k) || !f->ir[k])
			continue;
		rt_slot_begin(f, s, k);
		rt_slot_mac(f, s, k, f->calls, 0, s->capacity);
	}
}

/* Call phase 2, a tail segment: this step's slice of the older partitions, and partition 0. */
EL_RT static void rt_seg_accumulate(struct dsp_fir *f, struct fir_seg *s)
{
	size_t k = f->calls % s->steps, w = f->calls / s->steps;
	const struct dsp_fir_steps *st = s->sched;
	/* the block summed: block w - 1 up to its inverse, block w after it */
	size_t m1 = k <= st->inv ? w : w + 1;

	if (m1 == 0)
		return; /* block -1: before the reset, nothing */
	for (unsigned j = 0; j < 2; j++) {
		if (!rt_slot_active(f, j) || !f->ir[j] || s - f->seg >= f->ir[j]->layout.count ||
		    m1 - 1 < s->slot[j].valid_from)
			continue;
		if (k == (st->inv + 1) % s->steps)
			rt_slot_begin(f, s, j);
		rt_slot_mac(f, s, j, m1 - 1, st->first[k], st->first[k] + st->count[k]);
		if (k == st->inv)
			rt_slot_mac(f, s, j, m1 - 1, 0, 1);
	}
}

/* The block of output of slot k's head sum: block samples into dst. */
EL_RT static void rt_head_inverse(struct dsp_fir *f, unsigned k, float *dst)
{
	if (!f->ir[k]) {
		memset(dst, 0, f->block * sizeof(float));
		return;
	}
	rt_slot_inverse(f, &f->seg[0], k, dst);
}

/* Call phase 3, a tail segment: its inverse step, then this call's share of its output. */
EL_RT static void rt_seg_inverse(struct dsp_fir *f, struct fir_seg *s, unsigned k, float *dst)
{
	size_t step = f->calls % s->steps, w = f->calls / s->steps, r = s->steps;
	size_t read = (f->calls + 1) / r; /* block read + 2 */
	struct fir_slot *sl = &s->slot[k];

	if (!f->ir[k] || s - f->seg >= f->ir[k]->layout.count)
		return;
	if (step == s->sched->inv && w >= 1 && w - 1 >= sl->valid_from) {
		/* a block whose sum had no partition (cut away) is silence: no transform */
		sl->out_silent[(w - 1) % 2] = sl->cut.keep == 0 && sl->cut.lo >= sl->cut.hi;
		if (!sl->out_silent[(w - 1) % 2])
			rt_slot_inverse(f, s, k, sl->out[(w - 1) % 2]);
	}
	if (read >= 2 && read - 2 >= sl->valid_from && !sl->out_silent[(read - 2) % 2])
		for (size_t i = 0, at = ((f->calls + 1) % r) * f->block; i < f->block; i++)
			dst[i] += sl->out[(read - 2) % 2][at + i];
}

/* The IR of slot k's whole output for this call: the head, then every tail segment. */
EL_RT static void rt_slot_output(struct dsp_fir *f, unsigned k, float *dst)
{
	rt_head_inverse(f, k, dst);
	for (unsigned i = 1; i < f->nseg; i++)
		rt_seg_inverse(f, &f->seg[i], k, dst);
}

EL_RT int dsp_fir_set_tail_db(struct dsp_fir *fir, float tail_db, unsigned fade_frames)
{
	if (tail_db >= 0.0f)
		tail_db = 0.0f;
	if (fir->tail_fading)
		return -EBUSY;
	if (tail_db == fir->tail_db)
		return 0;
	fir->tail_db_from = fir->tail_db;
	fir->tail_limit_from = fir->tail_limit;
	fir->tail_db = tail_db;
	fir->tail_limit = fir_tail_limit(tail_db);
	if (fade_frames == 0)
		return 0;
	fir->tail_fading = 1;
	fir->tail_fade_pos = 0;
	fir->tail_fade_len = EL_ALIGN_UP((size_t)fade_frames, fir->block);
	return 0;
}

EL_RT float dsp_fir_get_tail_db(const struct dsp_fir *fir)
{
	return fir->tail_db;
}

EL_RT static void rt_tail_fade_advance(struct dsp_fir *f)
{
	if (!f->tail_fading)
		return;
	f->tail_fade_pos += f->block;
	if (f->tail_fade_pos >= f->tail_fade_len)
		f->tail_fading = 0;
}

/* Linear crossfade of out (old IR) towards next over the current block of the fade. */
EL_RT static void rt_crossfade(struct dsp_fir *f, float *out)
{
	const float inv_len = 1.0f / (float)f->fade_len;

	for (size_t i = 0; i < f->block; i++) {
		float g = (float)(f->fade_pos + i + 1) * inv_len;

		out[i] += g * (f->out_next[i] - out[i]);
	}
	f->fade_pos += f->block;
	if (f->fade_pos >= f->fade_len) {
		f->ir[f->slot] = NULL;
		f->slot ^= 1;
		f->fading = 0;
	}
}

/* Call phase 2: every slot's multiply-accumulates. */
EL_RT static void rt_call_accumulate(struct dsp_fir *f)
{
	rt_head_accumulate(f);
	for (unsigned i = 1; i < f->nseg; i++)
		rt_seg_accumulate(f, &f->seg[i]);
}

/* Call phase 3: back to time, the crossfade once the incoming IR is warm, the fades' progress. */
EL_RT static void rt_call_inverse(struct dsp_fir *f, float *out)
{
	rt_slot_output(f, f->slot, out);
	if (f->fading) {
		rt_slot_output(f, f->slot ^ 1, f->out_next);
		if (f->calls >= f->warm_until)
			rt_crossfade(f, out);
	}
	rt_tail_fade_advance(f);
	f->calls++;
}

/*
 * Why phases across convolvers: each one's multiply-accumulate streams its whole FDL and IR
 * through the cache (megabytes for a long IR), evicting FFTW's code and twiddles. Run channel
 * after channel, every transform of every channel starts cold; run phase after phase, the
 * first forward transform fetches them and the others find them hot, and so do the inverses.
 */
EL_RT void dsp_fir_process_many(struct dsp_fir *const *firs, size_t count, const float *const *in,
				float *const *out, size_t n)
{
	size_t b = count ? firs[0]->block : 0;

	for (size_t done = 0; count && done + b <= n; done += b) {
		for (size_t c = 0; c < count; c++)
			rt_call_forward(firs[c], in[c] + done, false);
		for (size_t c = 0; c < count; c++)
			rt_call_accumulate(firs[c]);
		for (size_t c = 0; c < count; c++)
			rt_call_inverse(firs[c], out[c] + done);
	}
}

EL_RT void dsp_fir_process(struct dsp_fir *fir, const float *in, float *out, size_t n)
{
	dsp_fir_process_many(&fir, 1, &in, &out, n);
}

EL_RT void dsp_fir_keep_history(struct dsp_fir *fir, const float *in, size_t n)
{
	/* one head partition and no segment: each call's spectrum is made from the window alone */
	int window_only = fir->nseg == 1 && fir->seg[0].capacity == 1;

	for (size_t done = 0; done + fir->block <= n; done += fir->block) {
		if (window_only)
			rt_call_history(fir, in + done);
		else
			rt_call_forward(fir, in + done, true);
		rt_tail_fade_advance(fir); /* a cut's fade keeps time with the calls */
		fir->calls++;
	}
	/* a sum under way missed these calls: an IR set now starts every segment's sums anew */
	for (unsigned k = 0; k < 2; k++)
		(void)rt_slot_restart(fir, k);
}

/* O(block): no FDL, sum or output buffer is cleared, only no longer read (DESIGN). */
EL_RT void dsp_fir_reset(struct dsp_fir *fir)
{
	fir->calls = 0;
	/* every block's sum starts after the reset, so every slot is whole from block 0 on */
	fir->warm_until = 0;
	for (unsigned i = 1; i < fir->nseg; i++) {
		struct fir_seg *s = &fir->seg[i];

		s->slot[0].valid_from = s->slot[1].valid_from = 0;
		s->first_block = 0;
		s->dormant = false;
	}
}

unsigned dsp_fir_get_block(const struct dsp_fir *fir)
{
	return fir->block;
}

const struct dsp_fir_layout *dsp_fir_get_layout(const struct dsp_fir *fir)
{
	return &fir->layout;
}

const struct dsp_fir_schedule *dsp_fir_get_schedule(const struct dsp_fir *fir)
{
	return fir->schedule;
}

void dsp_fir_prime(struct dsp_fir *fir)
{
	size_t period = dsp_fir_layout_get_period(&fir->layout), need = 0;

	memset(fir->hist, 0, 2 * fir->hist_len * sizeof(float));
	for (unsigned i = 0; i < fir->nseg; i++) {
		struct fir_seg *s = &fir->seg[i];

		memset(s->fdl, 0, s->capacity * 2 * s->size * sizeof(float));
		for (unsigned k = 0; k < 2; k++) {
			memset(s->slot[k].acc, 0, 2 * (size_t)s->size * sizeof(float));
			memset(s->slot[k].acc_tail, 0, 2 * (size_t)s->size * sizeof(float));
			for (unsigned b = 0; i > 0 && b < 2; b++)
				memset(s->slot[k].out[b], 0, s->size * sizeof(float));
			s->slot[k].valid_from = 0;
			s->slot[k].out_silent[0] = s->slot[k].out_silent[1] = false;
		}
		s->first_block = 0;
		s->dormant = false;
		/* every partition written, and two windows more for the sums under way */
		need = EL_MAX(need, (s->capacity + 2) * s->steps);
	}
	fir->calls = (need + period - 1) / period * period;
	fir->warm_until = 0;
}

unsigned dsp_fir_get_dormant(const struct dsp_fir *fir)
{
	unsigned n = 0;

	for (unsigned i = 1; i < fir->nseg; i++)
		n += fir->seg[i].dormant;
	return n;
}

const float *dsp_fir_get_fdl(const struct dsp_fir *fir, size_t *ret_floats)
{
	*ret_floats = fir->seg[0].capacity * 2 * fir->block;
	return fir->seg[0].fdl;
}

size_t dsp_fir_get_filled(const struct dsp_fir *fir)
{
	return EL_MIN(fir->calls, fir->seg[0].capacity);
}
