/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir.c: uniformly partitioned overlap-save convolution with crossfaded IR swaps.
 *
 * DESIGN: with block B, every transform has 2B points. The IR is cut into P partitions of B taps,
 * each zero-padded and transformed once (dsp_fir_ir_new), its spectrum prescaled by 1/2B so the
 * unnormalized inverse needs no extra pass. Per block the convolver:
 *   1. slides its 2B-sample input window by B and transforms it (one r2c);
 *   2. stores that spectrum at the head of the frequency-domain delay line (FDL), a ring of
 *      spectra in which the head moves backwards, so X[n-p] sits at slot (head + p) mod P and
 *      the multiply-accumulate walks x and h in the same ascending order in at most two runs;
 *   3. multiply-accumulates Σ X[n-p]·H[p] (the hot loop, fir-mac*.c), repairs the packed
 *      DC/Nyquist pair, and transforms back (one c2r), keeping the last B samples.
 * The first partition holds the first B taps, so the output of a block already contains the
 * input of that block: no latency beyond the block itself.
 * dsp_fir_process_many() runs these steps phase by phase over several convolvers (a node's
 * channels): all forward transforms, all multiply-accumulates, all inverse transforms.
 *
 * An IR swap keeps the FDL: during the fade both IRs are applied to the same input history and
 * the two outputs are crossfaded, so the new filter's output is already "warm" and after the
 * fade the output is exactly the new filter's. The FDL is sized for max_taps up front so no
 * swap ever allocates.
 *
 * A tail cut (dsp_fir_set_tail_db, the power policy's FIR tiers) keeps only the partitions
 * before the point where the IR's remaining energy falls below a level, which the IR knows from
 * its energy decay table (computed once, from the taps). The FDL keeps receiving every input
 * spectrum, so the partitions cut away can come back later with the right history. A change of
 * cut is faded: the partitions that stop (or start) counting are summed into a second
 * accumulator and added with a gain that steps linearly over the fade, one value per block (the
 * sum is in the frequency domain, so the gain must be constant within a block); they are at
 * most -60 dB of the output, so the steps are far below anything audible, and still one
 * inverse FFT per block.
 *
 * A reset (forget the history, on the RT thread when input resumes after a silence) must cost
 * no more than a block, so it does not clear the FDL (capacity partitions: megabytes for a long
 * max_taps). It counts instead: `filled` is how many partitions were written since the reset,
 * and every multiply-accumulate stops there (rt_mac_range), growing by one partition per block
 * until it reaches the partitions in use. It skips the partitions a cleared FDL would hold as
 * zeros, and skipping them is bit-exact, not just close: after a reset the head is back at slot
 * 0, so the partitions written since are exactly the first run of the ring walk (same chunk
 * boundaries in the kernel) and the zeros were the second run, a kernel call of their own. That
 * call added +0.0 to every sum, which changes nothing but a -0.0 (a flush-to-zero result) into
 * +0.0; rt_add_silence() does that much, O(block), and only while the clip is short. The IR
 * faded to during a swap and the partitions a tail change fades walk the same FDL through the
 * same clip. The write prefetch (rt_prefetch_for_write) stays on the one slot the forward
 * transform fills; the stale slots beyond `filled` are never read, so a reset touches no FDL.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-macros.h"
#include "common/el-pace.h"
#include "dsp/fft.h"
#include "dsp/fir-inspect.h"
#include "dsp/fir-mac.h"
#include "dsp/fir.h"
#include "dsp/mem.h"

struct dsp_fir_ir {
	unsigned block;
	size_t taps;
	size_t nparts;
	float *spectra; /* owned: nparts * 2 * block floats, split packed layout (fir-mac.h) */
	/* owned: nparts + 1 values; remaining[p] = energy of partitions p.. / total energy
	 * (non-increasing, remaining[0] = 1, remaining[nparts] = 0; all 0 for a silent IR) */
	double *remaining;
};

struct dsp_fir {
	unsigned block;
	size_t capacity;                 /* partitions the FDL holds: ceil(max_taps / block) */
	const struct dsp_fft_plan *plan; /* borrowed from the cache: 2 * block points */
	dsp_fir_mac_fn mac;

	size_t head;     /* FDL slot of the newest input spectrum */
	size_t filled;   /* partitions written since the last reset, at most capacity (DESIGN) */
	float *fdl;      /* owned: capacity * 2 * block floats */
	float *window;   /* owned: 2 * block input samples, the previous block then the current */
	float *spectrum; /* owned: block + 1 complex values, interleaved, FFT in/out scratch */
	float *acc;      /* owned: 2 * block floats, the accumulator in split layout */
	float *acc_next; /* owned: 2 * block floats, the incoming IR's accumulator during a fade */
	float nyq, nyq_next; /* the Nyquist sums that go with acc and acc_next (fir-mac.h) */
	float *time;         /* owned: 2 * block samples, inverse FFT output */
	float *out_next;     /* owned: block samples, the incoming IR's output during a fade */
	float *acc_tail; /* owned: 2 * block floats, the partitions being faded by a tail change */

	const struct dsp_fir_ir *cur;  /* borrowed: the IR in use (NULL: silence) */
	const struct dsp_fir_ir *next; /* borrowed: the IR faded to (NULL: silence) */
	int fading;
	size_t fade_pos; /* frames of the fade done */
	size_t fade_len; /* frames of the whole fade, a multiple of the block */

	float tail_db;      /* the cut in force: keep partitions until this level; >= 0: all */
	float tail_db_from; /* while tail_fading: the cut faded from */
	/* their energy ratios (fir_tail_limit), computed when set so a block needs no pow() */
	double tail_limit, tail_limit_from;
	int tail_fading;
	size_t tail_fade_pos, tail_fade_len; /* frames, as fade_pos and fade_len */
	/* The last answer of rt_parts_for_limit(): the search reads ~log2(P) cold lines of the
	 * IR's decay table, every block of every channel, for an answer that rarely changes.
	 * Forgotten by dsp_fir_set_ir(), the only way in for an IR that could reuse the address
	 * of a freed one. */
	const struct dsp_fir_ir *memo_ir;
	double memo_limit;
	size_t memo_parts;
};

static int fir_block_is_valid(unsigned block)
{
	return EL_IS_POW2(block) && block >= DSP_FIR_MIN_BLOCK && block <= DSP_FIR_MAX_BLOCK;
}

/* Interleaved r2c output (block + 1 complex) -> split packed layout (see fir-mac.h). */
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
	size_t n_end = ir->nparts >= 8 ? ir->taps / 8 : 0, end = ir->nparts;

	for (size_t i = ir->taps - n_end; i < ir->taps; i++)
		floor += (double)taps[i] * taps[i];
	floor = n_end ? floor / (double)n_end : 0.0;
	for (size_t p = 0; p < ir->nparts; p++) { /* energy per partition, for now */
		size_t n = EL_MIN(ir->block, ir->taps - p * ir->block);

		ir->remaining[p] = 0.0;
		for (size_t i = p * ir->block; i < p * ir->block + n; i++)
			ir->remaining[p] += (double)taps[i] * taps[i];
		ir->remaining[p] = fmax(ir->remaining[p] - floor * (double)n, 0.0);
	}
	while (n_end && end > 1 && ir->remaining[end - 1] <= floor * ir->block)
		end--; /* still within 3 dB of the floor: the decay has ended */
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

int dsp_fir_ir_new(struct dsp_fft_cache *fft, unsigned block, const float *taps, size_t ntaps,
		   struct dsp_fir_ir **ret)
{
	return dsp_fir_ir_new_paced(fft, block, taps, ntaps, NULL, ret);
}

int dsp_fir_ir_new_paced(struct dsp_fft_cache *fft, unsigned block, const float *taps, size_t ntaps,
			 const struct el_pacer *pacer, struct dsp_fir_ir **ret)
{
	const struct dsp_fft_plan *plan;
	struct dsp_fir_ir *ir = NULL;
	float *window = NULL, *spec = NULL;
	const float scale = 1.0f / (2.0f * (float)block);
	uint64_t chunk_start = el_pace_now_ns();
	int r;

	if (!fft || !taps || !ret || !fir_block_is_valid(block) || ntaps == 0 ||
	    ntaps > DSP_FIR_MAX_TAPS)
		return -EINVAL;
	r = dsp_fft_cache_get(fft, 2 * (size_t)block, &plan);
	if (r < 0)
		return r;
	ir = calloc(1, sizeof(*ir));
	window = dsp_mem_alloc(2 * block * sizeof(float));
	spec = dsp_mem_alloc((2 * (size_t)block + 2) * sizeof(float));
	if (!ir || !window || !spec)
		goto nomem;
	ir->block = block;
	ir->taps = ntaps;
	ir->nparts = (ntaps + block - 1) / block;
	ir->spectra = dsp_mem_alloc(ir->nparts * 2 * block * sizeof(float));
	ir->remaining = calloc(ir->nparts + 1, sizeof(double));
	if (!ir->spectra || !ir->remaining)
		goto nomem;
	fir_ir_fill_remaining(ir, taps);
	for (size_t p = 0; p < ir->nparts; p++) {
		size_t n = EL_MIN((size_t)block, ntaps - p * block);

		if (p > 0 && p % DSP_FIR_IR_PACE_PARTS == 0)
			el_pace(pacer, &chunk_start);

		/* Taps in the first half, zeros in the second: linear, not circular, convolution.
		 */
		memset(window, 0, 2 * block * sizeof(float));
		for (size_t i = 0; i < n; i++)
			window[i] = taps[p * block + i] * scale;
		dsp_fft_forward(plan, window, spec);
		rt_pack(spec, ir->spectra + p * 2 * block, block);
	}
	dsp_mem_free(window);
	dsp_mem_free(spec);
	*ret = ir;
	return 0;
nomem:
	dsp_mem_free(window);
	dsp_mem_free(spec);
	dsp_fir_ir_free(ir);
	return -ENOMEM;
}

struct dsp_fir_ir *dsp_fir_ir_free(struct dsp_fir_ir *ir)
{
	if (!ir)
		return NULL;
	dsp_mem_free(ir->spectra);
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
	return ir->block;
}

int dsp_fir_new(const struct dsp_fir_config *config, struct dsp_fir **ret)
{
	struct dsp_fir *f;
	size_t b;
	int r;

	if (!config || !ret || !config->fft || !fir_block_is_valid(config->block) ||
	    config->max_taps == 0 || config->max_taps > DSP_FIR_MAX_TAPS)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	b = f->block = config->block;
	f->tail_limit = f->tail_limit_from = 1.0; /* the whole IR */
	f->capacity = (config->max_taps + b - 1) / b;
	f->mac = dsp_fir_mac_select(config->cpu_flags);
	r = dsp_fft_cache_get(config->fft, 2 * b, &f->plan);
	if (r < 0)
		goto fail;
	f->fdl = dsp_mem_alloc(f->capacity * 2 * b * sizeof(float));
	f->window = dsp_mem_alloc(2 * b * sizeof(float));
	f->spectrum = dsp_mem_alloc((2 * b + 2) * sizeof(float));
	f->acc = dsp_mem_alloc(2 * b * sizeof(float));
	f->acc_next = dsp_mem_alloc(2 * b * sizeof(float));
	f->time = dsp_mem_alloc(2 * b * sizeof(float));
	f->out_next = dsp_mem_alloc(b * sizeof(float));
	f->acc_tail = dsp_mem_alloc(2 * b * sizeof(float));
	r = -ENOMEM;
	if (!f->fdl || !f->window || !f->spectrum || !f->acc || !f->acc_next || !f->time ||
	    !f->out_next || !f->acc_tail)
		goto fail;
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
	dsp_mem_free(fir->fdl);
	dsp_mem_free(fir->window);
	dsp_mem_free(fir->spectrum);
	dsp_mem_free(fir->acc);
	dsp_mem_free(fir->acc_next);
	dsp_mem_free(fir->time);
	dsp_mem_free(fir->out_next);
	dsp_mem_free(fir->acc_tail);
	free(fir);
	return NULL;
}

EL_RT int dsp_fir_set_ir(struct dsp_fir *fir, const struct dsp_fir_ir *ir, unsigned fade_frames)
{
	if (ir && ir->block != fir->block)
		return -EINVAL;
	if (ir && ir->nparts > fir->capacity)
		return -E2BIG;
	if (fir->fading)
		return -EBUSY;
	fir->memo_ir = NULL;
	if (fade_frames == 0) {
		fir->cur = ir;
		return 0;
	}
	fir->next = ir;
	fir->fading = 1;
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
EL_RT static void rt_add_silence(float *acc, float *nyq, size_t b)
{
	for (size_t i = 0; i < 2 * b; i++)
		acc[i] += 0.0f;
	*nyq += 0.0f;
}

/*
 * acc += Σ X[n-p]·H[p] for partitions p0 <= p < p1 of ir (the FDL is a ring from head); those
 * not written since the reset are silence, skipped (DESIGN).
 */
EL_RT static void rt_mac_range(struct dsp_fir *f, const struct dsp_fir_ir *ir, float *acc,
			       float *nyq, size_t p0, size_t p1)
{
	size_t b = f->block, end = EL_MIN(p1, f->filled), slot, run;

	if (p0 < end) {
		slot = (f->head + p0) % f->capacity;
		run = EL_MIN(end - p0, f->capacity - slot);
		f->mac(acc, f->fdl + slot * 2 * b, ir->spectra + p0 * 2 * b, run, b, nyq);
		if (run < end - p0)
			f->mac(acc, f->fdl, ir->spectra + (p0 + run) * 2 * b, end - p0 - run, b,
			       nyq);
	}
	if (EL_MAX(p0, end) < p1)
		rt_add_silence(acc, nyq, b);
}

/*
 * Partitions of ir kept in full, and those [*ret_lo, *ret_hi) weighted by *ret_gain this block
 * while a change of tail cut fades (none otherwise: lo == hi).
 */
EL_RT static size_t rt_tail_parts(struct dsp_fir *f, const struct dsp_fir_ir *ir, size_t *ret_lo,
				  size_t *ret_hi, float *ret_gain)
{
	size_t now, from;
	float g;

	if (ir != f->memo_ir || f->tail_limit != f->memo_limit) {
		f->memo_ir = ir;
		f->memo_limit = f->tail_limit;
		f->memo_parts = rt_parts_for_limit(ir, f->tail_limit);
	}
	now = f->memo_parts;

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

/* acc (and *nyq) := Σ X[n-p]·H[p] over the partitions of ir the tail cut keeps (none: no IR). */
EL_RT static void rt_accumulate(struct dsp_fir *f, const struct dsp_fir_ir *ir, float *acc,
				float *nyq)
{
	size_t b = f->block, lo, hi, keep;
	float gain;

	*nyq = 0.0f;
	if (!ir)
		return;
	keep = rt_tail_parts(f, ir, &lo, &hi, &gain);
	memset(acc, 0, 2 * b * sizeof(float));
	rt_mac_range(f, ir, acc, nyq, 0, keep);
	if (lo < hi) {
		float nyq_tail = 0.0f;

		memset(f->acc_tail, 0, 2 * b * sizeof(float));
		rt_mac_range(f, ir, f->acc_tail, &nyq_tail, lo, hi);
		for (size_t i = 0; i < 2 * b; i++)
			acc[i] += gain * f->acc_tail[i];
		*nyq += gain * nyq_tail;
	}
}

/* The block of output an accumulator stands for (rt_accumulate() of ir): block samples. */
EL_RT static void rt_transform_back(struct dsp_fir *f, const struct dsp_fir_ir *ir,
				    const float *acc, float nyq, float *dst)
{
	size_t b = f->block;

	if (!ir) {
		memset(dst, 0, b * sizeof(float));
		return;
	}
	rt_unpack(acc, nyq, f->spectrum, b);
	dsp_fft_inverse(f->plan, f->spectrum, f->time);
	/* Overlap-save: the first half of the window wrapped around; the second half is valid. */
	memcpy(dst, f->time + b, b * sizeof(float));
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
		f->cur = f->next;
		f->next = NULL;
		f->fading = 0;
	}
}

/*
 * The FDL slot a new spectrum goes to held the oldest input, which a tail cut leaves unread for
 * up to capacity blocks: it is cold, and packing into it stalled on every line. Asking for it
 * (for writing) before the forward FFT lets the misses overlap the transform.
 */
EL_RT static void rt_prefetch_for_write(const float *p, size_t n)
{
	for (size_t i = 0; i < n; i += EL_CACHE_LINE / sizeof(float))
		__builtin_prefetch(p + i, 1, 3);
}

/* Block phase 1: the input block's spectrum into the FDL. */
EL_RT static void rt_block_forward(struct dsp_fir *f, const float *in)
{
	size_t b = f->block;

	f->head = f->head ? f->head - 1 : f->capacity - 1;
	f->filled += f->filled < f->capacity;
	rt_prefetch_for_write(f->fdl + f->head * 2 * b, 2 * b);
	memmove(f->window, f->window + b, b * sizeof(float));
	memcpy(f->window + b, in, b * sizeof(float));
	dsp_fft_forward(f->plan, f->window, f->spectrum);
	rt_pack(f->spectrum, f->fdl + f->head * 2 * b, b);
}

/* Block phase 2: the multiply-accumulate of every IR in use. */
EL_RT static void rt_block_accumulate(struct dsp_fir *f)
{
	rt_accumulate(f, f->cur, f->acc, &f->nyq);
	if (f->fading)
		rt_accumulate(f, f->next, f->acc_next, &f->nyq_next);
}

/* Block phase 3: back to time, the crossfade, the fades' progress. */
EL_RT static void rt_block_inverse(struct dsp_fir *f, float *out)
{
	rt_transform_back(f, f->cur, f->acc, f->nyq, out);
	if (f->fading) {
		rt_transform_back(f, f->next, f->acc_next, f->nyq_next, f->out_next);
		rt_crossfade(f, out);
	}
	rt_tail_fade_advance(f);
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
			rt_block_forward(firs[c], in[c] + done);
		for (size_t c = 0; c < count; c++)
			rt_block_accumulate(firs[c]);
		for (size_t c = 0; c < count; c++)
			rt_block_inverse(firs[c], out[c] + done);
	}
}

EL_RT void dsp_fir_process(struct dsp_fir *fir, const float *in, float *out, size_t n)
{
	dsp_fir_process_many(&fir, 1, &in, &out, n);
}

/* O(block): the FDL is not cleared, only no longer read (DESIGN). */
EL_RT void dsp_fir_reset(struct dsp_fir *fir)
{
	memset(fir->window, 0, 2 * fir->block * sizeof(float));
	fir->head = 0;
	fir->filled = 0;
}

unsigned dsp_fir_get_block(const struct dsp_fir *fir)
{
	return fir->block;
}

const float *dsp_fir_get_fdl(const struct dsp_fir *fir, size_t *ret_floats)
{
	*ret_floats = fir->capacity * 2 * fir->block;
	return fir->fdl;
}

size_t dsp_fir_get_filled(const struct dsp_fir *fir)
{
	return fir->filled;
}
