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
 * taps into the IR. A segment that starts D taps later than that (a layout with extra
 * partitions before it) is fed its input D samples late instead: block m's window is taken D
 * samples further back in the history, so its output lands on the same call and still carries
 * the taps' true delay. fir-schedule.c decides at which step of the window (call mod R) the forward
 * transform and the inverse come, and how many older partitions each step multiplies; those
 * need not wait for block m's input, so a block's sum runs from the step after the previous
 * inverse round to its own. The output block lands in one of two buffers (the one before may
 * still be read) and is added B samples per call.
 *
 * The FDL slot of input block j is n - 1 - (j mod n) (n the segment's capacity), so the newest
 * block comes first and X[m-p] for ascending p sits in ascending slots: the multiply-accumulate
 * walks the FDL and the IR in the same order, in at most two runs.
 *
 * Matrix: a convolver has inputs and outputs, and applies routes (input, output, IR). Each input
 * has its own history and FDLs, transformed once per block for every route it feeds; each
 * output has its own accumulators in each slot, transformed back once per block for every
 * route that feeds it; a route costs only its multiply-accumulate. A convolver of one input and
 * one output is the single-channel case (dsp_fir_set_ir: one route). The work of a call runs
 * phase by phase over the channels: all forward transforms, all multiply-accumulates, all
 * inverse transforms, so the transforms share a warm cache. Everything below that speaks of "the
 * IR" holds for each route; a tail cut is taken per route, and an output's block is silent (no
 * inverse) when no route into it has a partition left.
 *
 * Threads: a call is the same work whoever does it. What is shared by every channel — which
 * segments transform a block (and a tail cut's dormancy), every route's cut when a sum starts,
 * whether the call crossfades, the fades' progress and the call count — is decided once on the
 * caller's thread (the _plan functions, rt_call_end); what is a channel's own is a task: an
 * input's history and forward transforms, an output's sums and its inverse transforms, each
 * with the transform scratch of the lane (thread) it runs on. With a runner (dsp_fir_config.par)
 * the inputs are one batch and the outputs another (an output's sums and inverses together, so
 * the call waits twice); without one the daemon's cycle runs the same tasks in phase order. An
 * output's routes are summed in route order either way, so the output is the same bit for bit.
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
#include "common/el-par.h"
#include "dsp/fft.h"
#include "dsp/fir-inspect.h"
#include "dsp/fir-ir-private.h"
#include "dsp/fir-layout.h"
#include "dsp/fir-mac.h"
#include "dsp/fir-schedule.h"
#include "dsp/fir.h"
#include "dsp/mem.h"

/* What a route uses for one block's sum in a segment, taken when the sum starts. */
struct fir_cut {
	size_t keep;   /* partitions of the segment summed in full */
	size_t lo, hi; /* summed into acc_tail, weighted by the slot's gain (none: lo == hi) */
};

/* One output's sum in a segment for one slot. */
struct fir_sum {
	float *acc;          /* owned: 2 * size floats, the block's sum in split layout */
	float *acc_tail;     /* owned: 2 * size floats, the partitions a tail change fades */
	float nyq, nyq_tail; /* the Nyquist sums that go with them (fir-mac.h) */
	float *out[2];       /* tail segments, owned: size samples each, output blocks by parity */
	bool out_silent[2];  /* that block's sum had no partition (a tail cut): not computed */
	bool live;           /* this block's sum has a partition of some route */
	bool tailing;        /* ... and some of them fade (acc_tail in use) */
};

/* One IR set's state in a segment: slot 0 or 1 (struct dsp_fir.slot says which is current). */
struct fir_slot {
	struct fir_sum *sum; /* owned: one per output */
	struct fir_cut *cut; /* owned: one per route (max_routes) */
	float tail_gain;     /* the weight of every acc_tail in this block's sums */
	size_t valid_from;   /* tail segments: the first block summed whole with the slot's IRs */
};

struct fir_seg {
	unsigned size;   /* S: taps per partition */
	unsigned steps;  /* R = S / block */
	size_t capacity; /* partitions each FDL holds */
	size_t first;    /* index of its partition 0 among all the layout's partitions */
	size_t delay;    /* D: its first tap minus the earliest it may start at, 2S - B (DESIGN) */
	size_t pre_blocks; /* blocks m whose window reaches before time 0: m < ceil((S + D) / S) */
	const struct dsp_fft_plan *plan;   /* borrowed from the cache: 2S points */
	const struct dsp_fir_steps *sched; /* borrowed from the convolver's schedule */
	float **fdl; /* owned: one per input, capacity * 2 * size floats each */
	/* The first input block the FDLs hold: blocks before it count as silence (0 after a
	 * reset; later when the segment wakes from a tail cut that left it dormant, DESIGN). */
	size_t first_block;
	bool dormant; /* cut away whole: no forward transform, no sum */
	struct fir_slot slot[2];
};

/* A thread's scratch for transforms: one lane per thread a call's tasks may run on (DESIGN). */
struct fir_lane {
	float *spectrum; /* owned: largest + 1 complex values, interleaved */
	float *time;     /* owned: 2 × largest samples, inverse FFT output */
};

/*
 * What phase 2 of a call does in one segment for one slot, decided once for every output
 * (rt_accumulate_plan) and then carried out output by output.
 */
struct fir_acc_step {
	bool run;        /* a sum goes on in this call */
	bool begin;      /* ... and starts: the outputs' accumulators are cleared first */
	size_t m;        /* the input block summed */
	size_t p0, p1;   /* partitions summed */
	bool add_newest; /* and partition 0 (a tail segment's inverse step) */
};

/* The IRs a slot applies: its routes (borrowed, DESIGN: matrix). */
struct fir_set {
	const struct dsp_fir_route *route; /* count entries; NULL with count 0: silence */
	size_t count;
	unsigned reach; /* segments the longest of its IRs reaches */
};

/* The last answer of dsp_fir_ir_parts_for_limit() for a route (struct dsp_fir.memo). */
struct fir_memo {
	const struct dsp_fir_ir *ir;
	double limit;
	size_t parts;
};

struct dsp_fir {
	unsigned block;
	unsigned inputs, outputs; /* channels */
	size_t max_routes;        /* inputs × outputs */
	struct dsp_fir_layout layout;
	struct dsp_fir_schedule *schedule; /* owned */
	dsp_fir_mac_fn mac;
	struct dsp_fir_packers packers;
	unsigned nseg;
	struct fir_seg seg[DSP_FIR_LAYOUT_MAX_SEGMENTS];

	size_t calls;     /* blocks processed since the last reset (DESIGN) */
	size_t hist_len;  /* H: a power of two >= 4 × the largest partition and > 3S + D of each
			     segment: the oldest sample a window needs is never overwritten */
	float **hist;     /* owned: one per input, 2H samples, each written at i and i + H */
	float **out_next; /* owned: one per output, block samples: the incoming IRs' output */
	const struct el_par *par; /* borrowed: runs a call's tasks (DESIGN: threads); NULL: none */
	unsigned lanes;           /* el_par_lanes(par) */
	struct fir_lane *lane;    /* owned: lanes of them */

	/* The call under way, for its tasks (DESIGN: threads): set before each batch. */
	const float *const *call_in;
	float *const *call_out;
	size_t call_at;
	size_t fwd_block[DSP_FIR_LAYOUT_MAX_SEGMENTS]; /* tail segments: the block transformed
							   in phase 1, SIZE_MAX for none */
	struct fir_acc_step acc[DSP_FIR_LAYOUT_MAX_SEGMENTS][2]; /* phase 2, per slot */
	bool crossfading;                                        /* phase 3 crossfades */

	struct fir_set set[2];          /* slot 0 and 1's routes */
	struct dsp_fir_route single[2]; /* dsp_fir_set_ir()'s one route of each slot */
	unsigned slot;                  /* the slot in use; slot ^ 1 is faded to */
	int fading;
	size_t warm_until; /* calls: the fade proper starts here (every segment has output) */
	size_t fade_pos;   /* frames of the fade done */
	size_t fade_len;   /* frames of the whole fade, a multiple of the block */

	float tail_db;      /* the cut in force: keep partitions until this level; >= 0: all */
	float tail_db_from; /* while tail_fading: the cut faded from */
	/* their energy ratios (dsp_fir_tail_limit), computed when set so a block needs no pow() */
	double tail_limit, tail_limit_from;
	int tail_fading;
	size_t tail_fade_pos, tail_fade_len; /* frames, as fade_pos and fade_len */
	/* Per slot, per route (max_routes each, owned): the search reads ~log2(P) cold lines of
	 * the IR's decay table, every block of every route, for an answer that rarely changes.
	 * Forgotten whenever IRs are set, the only way in for an IR that could reuse the address
	 * of a freed one. */
	struct fir_memo *memo[2];
};

static int fir_block_is_valid(unsigned block)
{
	return EL_IS_POW2(block) && block >= DSP_FIR_MIN_BLOCK && block <= DSP_FIR_MAX_BLOCK;
}

/* An array of n buffers of floats each, every one allocated and NULL-checked: 0 or -ENOMEM. */
static int fir_bufs_alloc(float ***ret, unsigned n, size_t floats)
{
	float **b = calloc(n, sizeof(*b));

	*ret = b;
	if (!b)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		b[i] = dsp_mem_alloc(floats * sizeof(float));
		if (!b[i])
			return -ENOMEM;
	}
	return 0;
}

static float **fir_bufs_free(float **b, unsigned n)
{
	for (unsigned i = 0; b && i < n; i++)
		dsp_mem_free(b[i]);
	free(b);
	return NULL;
}

static int fir_slot_init(struct dsp_fir *f, struct fir_slot *sl, unsigned i, size_t size)
{
	sl->sum = calloc(f->outputs, sizeof(*sl->sum));
	sl->cut = calloc(f->max_routes, sizeof(*sl->cut));
	if (!sl->sum || !sl->cut)
		return -ENOMEM;
	for (unsigned o = 0; o < f->outputs; o++) {
		struct fir_sum *sum = &sl->sum[o];

		sum->acc = dsp_mem_alloc(2 * size * sizeof(float));
		sum->acc_tail = dsp_mem_alloc(2 * size * sizeof(float));
		if (!sum->acc || !sum->acc_tail)
			return -ENOMEM;
		for (unsigned b = 0; i > 0 && b < 2; b++) {
			sum->out[b] = dsp_mem_alloc(size * sizeof(float));
			if (!sum->out[b])
				return -ENOMEM;
		}
	}
	return 0;
}

static void fir_slot_done(struct dsp_fir *f, struct fir_slot *sl)
{
	for (unsigned o = 0; sl->sum && o < f->outputs; o++) {
		dsp_mem_free(sl->sum[o].acc);
		dsp_mem_free(sl->sum[o].acc_tail);
		dsp_mem_free(sl->sum[o].out[0]);
		dsp_mem_free(sl->sum[o].out[1]);
	}
	free(sl->sum);
	free(sl->cut);
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
	s->delay = i ? dsp_fir_layout_get_offset(&f->layout, i) - (2 * size - f->block) : 0;
	s->pre_blocks = (2 * size + s->delay - 1) / size;
	s->sched = &f->schedule->seg[i];
	r = dsp_fft_cache_get(fft, 2 * size, &s->plan);
	if (r < 0)
		return r;
	r = fir_bufs_alloc(&s->fdl, f->inputs, s->capacity * 2 * size);
	for (unsigned k = 0; r == 0 && k < 2; k++)
		r = fir_slot_init(f, &s->slot[k], i, size);
	return r;
}

/*
 * The schedule balances one forward transform per input, one inverse per output and a
 * multiply-accumulate per route: a matrix's routes are not known yet, so count one per input or
 * output, whichever is more (the diagonal, or a fan-out or fan-in of one channel).
 */
static void fir_costs_for_channels(struct dsp_fir_costs *c, unsigned inputs, unsigned outputs)
{
	for (unsigned k = 0; k < DSP_FIR_COST_SIZES; k++) {
		c->fwd[k] *= inputs;
		c->inv[k] *= outputs;
		c->mac[k] *= EL_MAX(inputs, outputs);
	}
}

static int fir_check_config(const struct dsp_fir_config *config)
{
	if (!config->fft || !fir_block_is_valid(config->block) || config->max_taps == 0 ||
	    config->max_taps > DSP_FIR_MAX_TAPS || config->inputs > DSP_FIR_MAX_CHANNELS ||
	    config->outputs > DSP_FIR_MAX_CHANNELS)
		return -EINVAL;
	if (config->layout &&
	    (config->layout->block != config->block || dsp_fir_layout_check(config->layout) < 0 ||
	     dsp_fir_layout_get_taps(config->layout) < config->max_taps))
		return -EINVAL;
	return 0;
}

int dsp_fir_new(const struct dsp_fir_config *config, struct dsp_fir **ret)
{
	struct dsp_fir_costs costs;
	struct dsp_fir *f;
	size_t first = 0, largest;
	int r;

	if (!config || !ret || fir_check_config(config) < 0)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->block = config->block;
	f->inputs = EL_MAX(config->inputs, 1u);
	f->outputs = EL_MAX(config->outputs, 1u);
	f->max_routes = (size_t)f->inputs * f->outputs;
	f->tail_limit = f->tail_limit_from = 1.0; /* the whole IR */
	f->mac = dsp_fir_mac_select(config->cpu_flags);
	f->packers = dsp_fir_packers_select(config->cpu_flags);
	if (config->layout)
		f->layout = *config->layout;
	else
		(void)dsp_fir_layout_uniform(config->block, config->max_taps, &f->layout);
	if (config->costs)
		costs = *config->costs;
	else
		dsp_fir_costs_model(&costs);
	fir_costs_for_channels(&costs, f->inputs, f->outputs);
	r = dsp_fir_schedule_new(&f->layout, &costs, &f->schedule);
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
	for (unsigned i = 1; i < f->nseg; i++)
		while (f->hist_len <= 3 * (size_t)f->seg[i].size + f->seg[i].delay)
			f->hist_len *= 2;
	r = fir_bufs_alloc(&f->hist, f->inputs, 2 * f->hist_len);
	if (r == 0)
		r = fir_bufs_alloc(&f->out_next, f->outputs, f->block);
	if (r < 0)
		goto fail;
	f->par = config->par;
	f->lanes = el_par_lanes(f->par);
	f->lane = calloc(f->lanes, sizeof(*f->lane));
	f->memo[0] = calloc(f->max_routes, sizeof(*f->memo[0]));
	f->memo[1] = calloc(f->max_routes, sizeof(*f->memo[1]));
	r = -ENOMEM;
	if (!f->lane || !f->memo[0] || !f->memo[1])
		goto fail;
	for (unsigned l = 0; l < f->lanes; l++) {
		f->lane[l].spectrum = dsp_mem_alloc((2 * largest + 2) * sizeof(float));
		f->lane[l].time = dsp_mem_alloc(2 * largest * sizeof(float));
		if (!f->lane[l].spectrum || !f->lane[l].time)
			goto fail;
	}
	for (unsigned c = 0; c < f->inputs; c++)
		memset(f->hist[c], 0, 2 * f->hist_len * sizeof(float));
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

		s->fdl = fir_bufs_free(s->fdl, fir->inputs);
		for (unsigned k = 0; k < 2; k++)
			fir_slot_done(fir, &s->slot[k]);
	}
	dsp_fir_schedule_free(fir->schedule);
	fir_bufs_free(fir->hist, fir->inputs);
	fir_bufs_free(fir->out_next, fir->outputs);
	for (unsigned l = 0; fir->lane && l < fir->lanes; l++) {
		dsp_mem_free(fir->lane[l].spectrum);
		dsp_mem_free(fir->lane[l].time);
	}
	free(fir->lane);
	free(fir->memo[0]);
	free(fir->memo[1]);
	free(fir);
	return NULL;
}

/*
 * Slot k takes new IRs in this call: in each tail segment, the first block whose sum starts
 * from now on is the first it gives (the sum of block m starts in call mR + inv + 1, DESIGN).
 * Returns the call from which every segment has output of them: block m is read from call
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

/* 0 when the convolver can take routes; *ret_reach: the segments their IRs reach. */
EL_RT static int rt_routes_check(const struct dsp_fir *f, const struct dsp_fir_route *routes,
				 size_t count, unsigned *ret_reach)
{
	unsigned reach = 0;

	if ((count && !routes) || count > f->max_routes)
		return -EINVAL;
	for (size_t i = 0; i < count; i++) {
		const struct dsp_fir_route *rt = &routes[i];

		if (rt->in >= f->inputs || rt->out >= f->outputs || !rt->ir ||
		    rt->ir->layout.block != f->block)
			return -EINVAL;
		if (dsp_fir_layout_contains(&f->layout, &rt->ir->layout))
			reach = EL_MAX(reach, rt->ir->layout.count);
		else if (rt->ir->taps > dsp_fir_layout_get_taps(&f->layout))
			return -E2BIG;
		else
			return -EINVAL;
	}
	*ret_reach = reach;
	return 0;
}

/* Slot k (the current one for fade_frames 0, else the other) takes routes (checked). */
EL_RT static void rt_routes_apply(struct dsp_fir *f, unsigned k, const struct dsp_fir_route *routes,
				  size_t count, unsigned reach, unsigned fade_frames)
{
	for (size_t i = 0; i < f->max_routes; i++)
		f->memo[0][i].ir = f->memo[1][i].ir = NULL;
	f->set[k] =
		(struct fir_set){.route = count ? routes : NULL, .count = count, .reach = reach};
	if (fade_frames == 0) { /* the tail segments' output starts with their next blocks */
		(void)rt_slot_restart(f, k);
		return;
	}
	f->fading = 1;
	f->warm_until = rt_slot_restart(f, k);
	f->fade_pos = 0;
	f->fade_len = EL_ALIGN_UP((size_t)fade_frames, f->block);
}

EL_RT int dsp_fir_set_routes(struct dsp_fir *fir, const struct dsp_fir_route *routes, size_t count,
			     unsigned fade_frames)
{
	unsigned reach;
	int r = rt_routes_check(fir, routes, count, &reach);

	if (r < 0)
		return r;
	if (fir->fading)
		return -EBUSY;
	rt_routes_apply(fir, fade_frames ? fir->slot ^ 1 : fir->slot, routes, count, reach,
			fade_frames);
	return 0;
}

EL_RT int dsp_fir_set_ir(struct dsp_fir *fir, const struct dsp_fir_ir *ir, unsigned fade_frames)
{
	struct dsp_fir_route one = {.in = 0, .out = 0, .ir = ir};
	unsigned reach, k = fade_frames ? fir->slot ^ 1 : fir->slot;
	int r;

	if (fir->max_routes != 1)
		return -EINVAL;
	r = rt_routes_check(fir, &one, ir ? 1 : 0, &reach);
	if (r < 0)
		return r;
	if (fir->fading)
		return -EBUSY;
	/* the slot's own copy: the caller's route would not outlive this call */
	fir->single[k] = one;
	rt_routes_apply(fir, k, &fir->single[k], ir ? 1 : 0, reach, fade_frames);
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
 * acc += Σ X[m-p]·H[p] for partitions p0 <= p < p1 of a segment (fdl: an input's, spectra: an
 * IR's), m the block summed; input blocks the FDL does not hold (m - p < first_block: before the
 * reset, or before the segment woke) are silence, skipped (DESIGN).
 */
EL_RT static void rt_mac_range(const struct dsp_fir *f, const struct fir_seg *s, const float *fdl,
			       const float *spectra, float *acc, float *nyq, size_t m, size_t p0,
			       size_t p1)
{
	size_t held = m >= s->first_block ? m - s->first_block + 1 : 0;
	size_t sz = s->size, end = EL_MIN(p1, held), slot, run;

	if (p0 < end) {
		slot = s->capacity - 1 - (m - p0) % s->capacity;
		run = EL_MIN(end - p0, s->capacity - slot);
		f->mac(acc, fdl + slot * 2 * sz, spectra + p0 * 2 * sz, run, sz, nyq);
		if (run < end - p0)
			f->mac(acc, fdl, spectra + (p0 + run) * 2 * sz, end - p0 - run, sz, nyq);
	}
	if (EL_MAX(p0, end) < p1)
		rt_add_silence(acc, nyq, sz);
}

/*
 * Partitions of route ri's IR in slot k kept in full, and those [*ret_lo, *ret_hi) weighted by
 * *ret_gain while a change of tail cut fades (none otherwise: lo == hi); all counted over the
 * whole layout.
 */
EL_RT static size_t rt_tail_parts(struct dsp_fir *f, unsigned k, size_t ri, size_t *ret_lo,
				  size_t *ret_hi, float *ret_gain)
{
	const struct dsp_fir_ir *ir = f->set[k].route[ri].ir;
	struct fir_memo *memo = &f->memo[k][ri];
	size_t now, from;
	float g;

	if (ir != memo->ir || f->tail_limit != memo->limit) {
		memo->ir = ir;
		memo->limit = f->tail_limit;
		memo->parts = dsp_fir_ir_parts_for_limit(ir, f->tail_limit);
	}
	now = memo->parts;

	*ret_lo = *ret_hi = now;
	*ret_gain = 0.0f;
	if (!f->tail_fading)
		return now;
	from = dsp_fir_ir_parts_for_limit(ir, f->tail_limit_from);
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

/*
 * The cut of route ri in slot k for a block of segment s, in the segment's own partition
 * numbers; *ret_gain the weight of its fading partitions.
 */
EL_RT static void rt_take_cut(struct dsp_fir *f, const struct fir_seg *s, unsigned k, size_t ri,
			      struct fir_cut *cut, float *ret_gain)
{
	const struct dsp_fir_ir *ir = f->set[k].route[ri].ir;
	size_t lo, hi, keep, n = 0, i = (size_t)(s - f->seg);

	keep = rt_tail_parts(f, k, ri, &lo, &hi, ret_gain);
	if (i < ir->layout.count)
		n = ir->layout.seg[i].parts;
	cut->keep = rt_local_part(s, n, keep);
	cut->lo = rt_local_part(s, n, lo);
	cut->hi = rt_local_part(s, n, hi);
}

/* The slots whose IRs are in use in a call: the current one, and the next while fading. */
EL_RT static int rt_slot_active(const struct dsp_fir *f, unsigned k)
{
	return (k == f->slot || f->fading) && f->set[k].count > 0;
}

/*
 * Partitions [p0, p1) of block m into slot k's sums of output o, route by route (those into o)
 * and split by each route's cut: those kept in full into acc, those fading into acc_tail.
 */
EL_RT static void rt_slot_mac(const struct dsp_fir *f, struct fir_seg *s, unsigned k, size_t m,
			      size_t p0, size_t p1, unsigned o)
{
	const struct fir_set *set = &f->set[k];
	struct fir_slot *sl = &s->slot[k];
	struct fir_sum *sum = &sl->sum[o];

	for (size_t ri = 0; ri < set->count; ri++) {
		const struct dsp_fir_route *rt = &set->route[ri];
		const struct fir_cut *c = &sl->cut[ri];
		size_t a = EL_MIN(p1, c->keep), lo = EL_MAX(p0, c->lo), hi = EL_MIN(p1, c->hi);

		if (rt->out != o)
			continue;
		/* a route whose IR does not reach the segment has a cut of nothing (rt_take_cut) */
		if (p0 < a)
			rt_mac_range(f, s, s->fdl[rt->in], rt->ir->spectra[s - f->seg], sum->acc,
				     &sum->nyq, m, p0, a);
		if (lo < hi)
			rt_mac_range(f, s, s->fdl[rt->in], rt->ir->spectra[s - f->seg],
				     sum->acc_tail, &sum->nyq_tail, m, lo, hi);
	}
}

/*
 * Starts slot k's sums of a block of segment s, for every output: every route's cut taken, and
 * which outputs have a partition to sum (live) and which a fading one (tailing).
 */
EL_RT static void rt_slot_take_cuts(struct dsp_fir *f, struct fir_seg *s, unsigned k)
{
	const struct fir_set *set = &f->set[k];
	struct fir_slot *sl = &s->slot[k];

	for (unsigned o = 0; o < f->outputs; o++)
		sl->sum[o].live = sl->sum[o].tailing = false;
	for (size_t ri = 0; ri < set->count; ri++) {
		struct fir_cut *c = &sl->cut[ri];
		struct fir_sum *sum = &sl->sum[set->route[ri].out];

		rt_take_cut(f, s, k, ri, c, &sl->tail_gain);
		sum->tailing = sum->tailing || c->lo < c->hi;
		sum->live = sum->live || c->keep > 0 || c->lo < c->hi;
	}
}

/* Output o's accumulators of slot k in segment s cleared for a block's sum (when live). */
EL_RT static void rt_sum_clear(struct fir_seg *s, unsigned k, unsigned o)
{
	struct fir_sum *sum = &s->slot[k].sum[o];
	size_t sz = s->size;

	if (!sum->live)
		return;
	memset(sum->acc, 0, 2 * sz * sizeof(float));
	sum->nyq = 0.0f;
	if (sum->tailing) {
		memset(sum->acc_tail, 0, 2 * sz * sizeof(float));
		sum->nyq_tail = 0.0f;
	}
}

/* Output o's finished sum in slot k, back to time: the last `size` samples of the inverse. */
EL_RT static void rt_sum_inverse(struct dsp_fir *f, struct fir_seg *s, unsigned k, unsigned o,
				 float *dst, unsigned lane)
{
	struct fir_lane *l = &f->lane[lane];
	struct fir_sum *sum = &s->slot[k].sum[o];
	float gain = s->slot[k].tail_gain;
	size_t sz = s->size;

	if (sum->tailing) {
		for (size_t i = 0; i < 2 * sz; i++)
			sum->acc[i] += gain * sum->acc_tail[i];
		sum->nyq += gain * sum->nyq_tail;
	}
	f->packers.unpack(sum->acc, sum->nyq, l->spectrum, sz);
	dsp_fft_inverse(s->plan, l->spectrum, l->time);
	/* Overlap-save: the first half of the window wrapped around; the second half is valid. */
	memcpy(dst, l->time + sz, sz * sizeof(float));
}

/*
 * Input block m of input c into segment s's FDL: the window [(m - 1)S - D, (m + 1)S - D)
 * transformed (D: the segment's delay, DESIGN).
 */
EL_RT static void rt_seg_forward(struct dsp_fir *f, struct fir_seg *s, unsigned c, size_t m,
				 unsigned lane)
{
	float *spectrum = f->lane[lane].spectrum;
	size_t sz = s->size, h = f->hist_len, slot = s->capacity - 1 - m % s->capacity;
	size_t back = sz + s->delay; /* from block m's first sample back to its window's */
	/* the window's start on the ring: before sample 0 for the first blocks, where it wraps */
	size_t start = (m * sz % h + h - back) % h;
	float *dst = s->fdl[c] + slot * 2 * sz, *hist = f->hist[c];

	/* the window's samples from before the reset, as silence (DESIGN); m is compared, not
	 * m * S, which a 32-bit size_t would wrap every 2^32 samples */
	if (m < s->pre_blocks)
		memset(hist + start, 0, EL_MIN(back - m * sz, 2 * sz) * sizeof(float));
	for (size_t i = 0; i < 2 * sz; i += EL_CACHE_LINE / sizeof(float))
		__builtin_prefetch(dst + i, 1, 3); /* a cold slot: let the misses overlap the FFT */
	dsp_fft_forward(s->plan, hist + start, spectrum);
	f->packers.pack(spectrum, dst, sz);
}

/* Input c of this call into its history ring, at i and i + H (DESIGN). */
EL_RT static void rt_call_history(struct dsp_fir *f, unsigned c, const float *in)
{
	size_t b = f->block, h = f->hist_len, pos = (f->calls * b) % h;

	memcpy(f->hist[c] + pos, in, b * sizeof(float));
	memcpy(f->hist[c] + h + pos, in, b * sizeof(float));
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
		for (size_t ri = 0; rt_slot_active(f, k) && ri < f->set[k].count; ri++) {
			size_t lo, hi, keep;
			float gain;

			keep = rt_tail_parts(f, k, ri, &lo, &hi, &gain);
			if (keep > s->first || (lo < hi && hi > s->first))
				return false;
		}
	}
	return true;
}

/*
 * Call phase 1, for every input at once: which tail segments transform a block in this call
 * (fwd_block), unless a tail cut left the segment dormant (and every_segment is false: history
 * kept for a later IR whatever the cut).
 */
EL_RT static void rt_forward_plan(struct dsp_fir *f, bool every_segment)
{
	for (unsigned i = 1; i < f->nseg; i++) {
		struct fir_seg *s = &f->seg[i];
		size_t k = f->calls % s->steps, w = f->calls / s->steps;

		f->fwd_block[i] = SIZE_MAX;
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
		f->fwd_block[i] = w - 1;
	}
}

/* Call phase 1, input c (a task): its block into the history; the head's spectrum; the tail
 * segments' forward transforms that rt_forward_plan() found due. */
EL_RT static void rt_forward_task(void *arg, unsigned c, unsigned lane)
{
	struct dsp_fir *f = arg;

	rt_call_history(f, c, f->call_in[c] + f->call_at);
	rt_seg_forward(f, &f->seg[0], c, f->calls, lane);
	for (unsigned i = 1; i < f->nseg; i++)
		if (f->fwd_block[i] != SIZE_MAX)
			rt_seg_forward(f, &f->seg[i], c, f->fwd_block[i], lane);
}

/* Call phase 1: the inputs (in[c] + at) into the histories and the FDLs. */
EL_RT static void rt_call_forward(struct dsp_fir *f, const float *const *in, size_t at,
				  bool every_segment)
{
	rt_forward_plan(f, every_segment);
	f->call_in = in;
	f->call_at = at;
	el_par_run(f->par, f->inputs, rt_forward_task, f);
}

/*
 * Call phase 2, for every output at once: what each segment sums for each slot in this call
 * (f->acc), and the cuts of the sums that start. The head sums its whole block every call; a
 * tail segment this step's slice of the older partitions, and partition 0 at its inverse step.
 */
EL_RT static void rt_accumulate_plan(struct dsp_fir *f)
{
	for (unsigned j = 0; j < 2; j++) {
		struct fir_acc_step *a = &f->acc[0][j];

		*a = (struct fir_acc_step){.run = rt_slot_active(f, j),
					   .begin = true,
					   .m = f->calls,
					   .p1 = f->seg[0].capacity};
		if (a->run)
			rt_slot_take_cuts(f, &f->seg[0], j);
	}
	for (unsigned i = 1; i < f->nseg; i++) {
		struct fir_seg *s = &f->seg[i];
		size_t k = f->calls % s->steps, w = f->calls / s->steps;
		const struct dsp_fir_steps *st = s->sched;
		/* the block summed: block w - 1 up to its inverse, block w after it */
		size_t m1 = k <= st->inv ? w : w + 1;

		for (unsigned j = 0; j < 2; j++) {
			struct fir_acc_step *a = &f->acc[i][j];

			/* m1 == 0: block -1, before the reset, nothing */
			*a = (struct fir_acc_step){
				.run = m1 > 0 && rt_slot_active(f, j) && i < f->set[j].reach &&
				       m1 - 1 >= s->slot[j].valid_from,
				.begin = k == (st->inv + 1) % s->steps,
				.m = m1 - 1,
				.p0 = st->first[k],
				.p1 = st->first[k] + st->count[k],
				.add_newest = k == st->inv,
			};
			if (a->run && a->begin)
				rt_slot_take_cuts(f, s, j);
		}
	}
}

/* Call phase 2, output o (a task): its multiply-accumulates, as rt_accumulate_plan() says. */
EL_RT static void rt_accumulate_task(void *arg, unsigned o, unsigned lane)
{
	struct dsp_fir *f = arg;

	(void)lane; /* the sums are the output's own */
	for (unsigned i = 0; i < f->nseg; i++) {
		struct fir_seg *s = &f->seg[i];

		for (unsigned j = 0; j < 2; j++) {
			const struct fir_acc_step *a = &f->acc[i][j];

			if (!a->run)
				continue;
			if (a->begin)
				rt_sum_clear(s, j, o);
			rt_slot_mac(f, s, j, a->m, a->p0, a->p1, o);
			if (a->add_newest)
				rt_slot_mac(f, s, j, a->m, 0, 1, o);
		}
	}
}

/* The head's block of output o in slot k: block samples into dst. */
EL_RT static void rt_head_inverse(struct dsp_fir *f, unsigned k, unsigned o, float *dst,
				  unsigned lane)
{
	if (f->set[k].count == 0 || !f->seg[0].slot[k].sum[o].live) {
		memset(dst, 0, f->block * sizeof(float));
		return;
	}
	rt_sum_inverse(f, &f->seg[0], k, o, dst, lane);
}

/* Call phase 3, a tail segment: output o's inverse step, then this call's share of its output. */
EL_RT static void rt_seg_inverse(struct dsp_fir *f, struct fir_seg *s, unsigned k, unsigned o,
				 float *dst, unsigned lane)
{
	size_t step = f->calls % s->steps, w = f->calls / s->steps, r = s->steps;
	size_t read = (f->calls + 1) / r; /* block read + 2 */
	struct fir_slot *sl = &s->slot[k];
	struct fir_sum *sum = &sl->sum[o];

	if (f->set[k].count == 0 || s - f->seg >= f->set[k].reach)
		return;
	if (step == s->sched->inv && w >= 1 && w - 1 >= sl->valid_from) {
		/* a block whose sum had no partition (cut away) is silence: no transform */
		sum->out_silent[(w - 1) % 2] = !sum->live;
		if (sum->live)
			rt_sum_inverse(f, s, k, o, sum->out[(w - 1) % 2], lane);
	}
	if (read >= 2 && read - 2 >= sl->valid_from && !sum->out_silent[(read - 2) % 2])
		for (size_t i = 0, at = ((f->calls + 1) % r) * f->block; i < f->block; i++)
			dst[i] += sum->out[(read - 2) % 2][at + i];
}

/* Slot k's whole output o for this call into dst: the head, then the tail. */
EL_RT static void rt_slot_output(struct dsp_fir *f, unsigned k, unsigned o, float *dst,
				 unsigned lane)
{
	rt_head_inverse(f, k, o, dst, lane);
	for (unsigned i = 1; i < f->nseg; i++)
		rt_seg_inverse(f, &f->seg[i], k, o, dst, lane);
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
	fir->tail_limit = dsp_fir_tail_limit(tail_db);
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

/* Linear crossfade of output o's block y (old IRs) towards out_next over this block of the fade. */
EL_RT static void rt_crossfade(const struct dsp_fir *f, unsigned o, float *y)
{
	const float inv_len = 1.0f / (float)f->fade_len;
	const float *next = f->out_next[o];

	for (size_t i = 0; i < f->block; i++) {
		float g = (float)(f->fade_pos + i + 1) * inv_len;

		y[i] += g * (next[i] - y[i]);
	}
}

/* The crossfade's progress after a block of it: the slots trade roles when it ends. */
EL_RT static void rt_crossfade_advance(struct dsp_fir *f)
{
	f->fade_pos += f->block;
	if (f->fade_pos >= f->fade_len) {
		f->set[f->slot] = (struct fir_set){0};
		f->slot ^= 1;
		f->fading = 0;
	}
}

/* Call phase 3, output o (a task): back to time, crossfaded once the incoming IRs are warm. */
EL_RT static void rt_inverse_task(void *arg, unsigned o, unsigned lane)
{
	struct dsp_fir *f = arg;
	float *y = f->call_out[o] + f->call_at;

	rt_slot_output(f, f->slot, o, y, lane);
	if (f->fading) {
		rt_slot_output(f, f->slot ^ 1, o, f->out_next[o], lane);
		if (f->crossfading)
			rt_crossfade(f, o, y);
	}
}

/* Call phase 3, before its tasks: where they write (out[o] + at), whether they crossfade. */
EL_RT static void rt_inverse_plan(struct dsp_fir *f, float *const *out, size_t at)
{
	f->call_out = out;
	f->call_at = at;
	f->crossfading = f->fading && f->calls >= f->warm_until;
}

/* The end of a call: the fades' progress. */
EL_RT static void rt_call_end(struct dsp_fir *f)
{
	if (f->crossfading)
		rt_crossfade_advance(f);
	rt_tail_fade_advance(f);
	f->calls++;
}

/* Call phases 2 and 3 of output o as one task, when a runner shares the call (DESIGN). */
EL_RT static void rt_output_task(void *arg, unsigned o, unsigned lane)
{
	rt_accumulate_task(arg, o, lane);
	rt_inverse_task(arg, o, lane);
}

/*
 * Why phases: each route's multiply-accumulate streams its whole FDL and IR through the cache
 * (megabytes for a long IR), evicting FFTW's code and twiddles. Run channel after channel, every
 * transform of every channel starts cold; run phase after phase, the first forward transform
 * fetches them and the others find them hot, and so do the inverses.
 */
EL_RT void dsp_fir_process_matrix(struct dsp_fir *fir, const float *const *in, float *const *out,
				  size_t n)
{
	for (size_t done = 0; done + fir->block <= n; done += fir->block) {
		rt_call_forward(fir, in, done, false);
		rt_accumulate_plan(fir);
		rt_inverse_plan(fir, out, done);
		if (fir->lanes > 1) {
			el_par_run(fir->par, fir->outputs, rt_output_task, fir);
		} else {
			for (unsigned o = 0; o < fir->outputs; o++)
				rt_accumulate_task(fir, o, 0);
			for (unsigned o = 0; o < fir->outputs; o++)
				rt_inverse_task(fir, o, 0);
		}
		rt_call_end(fir);
	}
}

EL_RT void dsp_fir_process(struct dsp_fir *fir, const float *in, float *out, size_t n)
{
	dsp_fir_process_matrix(fir, &in, &out, n);
}

EL_RT void dsp_fir_keep_history_matrix(struct dsp_fir *fir, const float *const *in, size_t n)
{
	/* one head partition and no segment: each call's spectrum is made from the window alone */
	int window_only = fir->nseg == 1 && fir->seg[0].capacity == 1;

	for (size_t done = 0; done + fir->block <= n; done += fir->block) {
		if (window_only)
			for (unsigned c = 0; c < fir->inputs; c++)
				rt_call_history(fir, c, in[c] + done);
		else
			rt_call_forward(fir, in, done, true);
		rt_tail_fade_advance(fir); /* a cut's fade keeps time with the calls */
		fir->calls++;
	}
	/* a sum under way missed these calls: IRs set now start every segment's sums anew */
	for (unsigned k = 0; k < 2; k++)
		(void)rt_slot_restart(fir, k);
}

EL_RT void dsp_fir_keep_history(struct dsp_fir *fir, const float *in, size_t n)
{
	dsp_fir_keep_history_matrix(fir, &in, n);
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

/* Segment i's sums of slot k cleared, as if every block so far had summed silence. */
static void fir_slot_prime(struct dsp_fir *f, unsigned i, unsigned k)
{
	struct fir_seg *s = &f->seg[i];
	struct fir_slot *sl = &s->slot[k];

	for (unsigned o = 0; o < f->outputs; o++) {
		struct fir_sum *sum = &sl->sum[o];

		memset(sum->acc, 0, 2 * (size_t)s->size * sizeof(float));
		memset(sum->acc_tail, 0, 2 * (size_t)s->size * sizeof(float));
		for (unsigned b = 0; i > 0 && b < 2; b++)
			memset(sum->out[b], 0, s->size * sizeof(float));
		sum->out_silent[0] = sum->out_silent[1] = false;
	}
	sl->valid_from = 0;
}

void dsp_fir_prime(struct dsp_fir *fir)
{
	size_t period = dsp_fir_layout_get_period(&fir->layout), need = 0;

	for (unsigned c = 0; c < fir->inputs; c++)
		memset(fir->hist[c], 0, 2 * fir->hist_len * sizeof(float));
	for (unsigned i = 0; i < fir->nseg; i++) {
		struct fir_seg *s = &fir->seg[i];

		for (unsigned c = 0; c < fir->inputs; c++)
			memset(s->fdl[c], 0, s->capacity * 2 * s->size * sizeof(float));
		for (unsigned k = 0; k < 2; k++)
			fir_slot_prime(fir, i, k);
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
	return fir->seg[0].fdl[0];
}

size_t dsp_fir_get_filled(const struct dsp_fir *fir)
{
	return EL_MIN(fir->calls, fir->seg[0].capacity);
}
