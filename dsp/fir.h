/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir.h: partitioned FIR convolution (overlap-save, frequency-domain delay lines), uniform
 * or non-uniform (dsp/fir-layout.h).
 *
 * The first partition is the block, so the convolver adds no latency beyond the block: the
 * output of a call already contains the input of that call. Later, longer partitions are
 * computed a slice per call (dsp/fir-schedule.h), so every call costs about the same. An
 * impulse response is prepared once into a struct dsp_fir_ir (its partition spectra) on the
 * control thread; it is immutable afterwards and may be shared by any number of convolvers of
 * the same layout (the two channels of a stereo pair, say). A convolver switches to another IR
 * without a click: both filters run on the same input history and their outputs are crossfaded, so
 * after the fade the output is exactly what the new filter alone would give.
 *
 * Pure DSP: no logging, no threads of its own (a caller may lend some: dsp_fir_config.par), no
 * allocation after _new.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct dsp_fft_cache;
struct el_par;
struct dsp_fir_costs;
struct dsp_fir_ir;
struct dsp_fir_layout;
struct dsp_fir;

/* Block sizes (frames per call) are powers of two in this range. */
#define DSP_FIR_MIN_BLOCK 32u
#define DSP_FIR_MAX_BLOCK 8192u
/* Longest IR accepted (taps): 2^24, about 5.8 minutes at 48 kHz. */
#define DSP_FIR_MAX_TAPS (1u << 24)
/* Most inputs, and most outputs, of one convolver (a matrix, dsp_fir_set_routes). */
#define DSP_FIR_MAX_CHANNELS 64u

/*
 * Thread: control. Prepares an IR of ntaps taps (1 <= ntaps <= DSP_FIR_MAX_TAPS) for
 * convolvers of the given block with a uniform layout. taps is borrowed for the call only. fft is
 * borrowed and must outlive the IR's use in a convolver. 0 with *ret set; -EINVAL (NULL, block or
 * ntaps out of range); -ENOMEM. *ret untouched on failure.
 */
int dsp_fir_ir_new(struct dsp_fft_cache *fft, unsigned block, const float *taps, size_t ntaps,
		   struct dsp_fir_ir **ret);

/* Partitions transformed between two calls of the pacer by dsp_fir_ir_new_paced(). */
#define DSP_FIR_IR_PACE_PARTS 64u

/*
 * Thread: control. dsp_fir_ir_new() as background work: after every DSP_FIR_IR_PACE_PARTS
 * partitions (not after the last) it calls pacer (common/el-pace.h; borrowed, NULL: none),
 * which may sleep. The IR is the same as dsp_fir_ir_new() makes.
 */
struct el_pacer;
int dsp_fir_ir_new_paced(struct dsp_fft_cache *fft, unsigned block, const float *taps, size_t ntaps,
			 const struct el_pacer *pacer, struct dsp_fir_ir **ret);

/*
 * Thread: control. An IR for convolvers of the given layout (borrowed for the call), cut down to
 * the taps it has (dsp_fir_layout_fit); pacer as dsp_fir_ir_new_paced() (NULL: none). 0 with
 * *ret set; -EINVAL (NULL, an invalid layout, ntaps out of range); -E2BIG (more taps than the
 * layout holds); -ENOMEM.
 */
int dsp_fir_ir_new_layout(struct dsp_fft_cache *fft, const struct dsp_fir_layout *layout,
			  const float *taps, size_t ntaps, const struct el_pacer *pacer,
			  struct dsp_fir_ir **ret);

/* Thread: control. Accepts NULL; returns NULL. Must not be in use by any convolver. */
struct dsp_fir_ir *dsp_fir_ir_free(struct dsp_fir_ir *ir);

/* Thread: any. Taps, partitions and block size of a prepared IR. */
size_t dsp_fir_ir_get_taps(const struct dsp_fir_ir *ir);
size_t dsp_fir_ir_get_partitions(const struct dsp_fir_ir *ir); /* over all segments */
unsigned dsp_fir_ir_get_block(const struct dsp_fir_ir *ir);
/* Thread: any. Borrowed, valid while ir lives. */
const struct dsp_fir_layout *dsp_fir_ir_get_layout(const struct dsp_fir_ir *ir);

struct dsp_fir_config {
	unsigned block;     /* frames per call and per head partition, a power of two */
	size_t max_taps;    /* longest IR this convolver will ever take (sizes its history) */
	uint32_t cpu_flags; /* enum dsp_cpu_flag: which multiply-accumulate kernel to use */
	struct dsp_fft_cache *fft; /* borrowed: must outlive the convolver */
	/* borrowed for the call; NULL: uniform. Holds at least max_taps; IRs must be prepared
	 * for it (dsp_fir_ir_new_layout). */
	const struct dsp_fir_layout *layout;
	/* borrowed for the call; NULL: the flop model. What the schedule balances (per channel:
	 * the convolver scales it by its inputs and outputs). */
	const struct dsp_fir_costs *costs;
	/* channels, 0 counting as 1, at most DSP_FIR_MAX_CHANNELS each (dsp_fir_set_routes) */
	unsigned inputs, outputs;
	/* borrowed, must outlive the convolver; NULL: every call on the caller's thread alone. A
	 * runner (common/el-par.h) the calls hand their channels to: the forward transforms one
	 * task per input, the sums and inverses one per output. The output is bit for bit the
	 * same either way. Not for the RT thread: a runner may block. */
	const struct el_par *par;
};

/*
 * Thread: control. A convolver with no IR (it outputs silence until dsp_fir_set_ir()).
 * 0 with *ret set; -EINVAL (NULL, block not a power of two in range, max_taps 0 or too large,
 * a layout that is invalid, of another block or shorter than max_taps); -ENOMEM. *ret untouched on
 * failure; nothing is left allocated.
 */
int dsp_fir_new(const struct dsp_fir_config *config, struct dsp_fir **ret);

/* Thread: control. Accepts NULL or a half-built convolver; returns NULL. IRs are not freed. */
struct dsp_fir *dsp_fir_free(struct dsp_fir *fir);

/*
 * Thread: RT. Switch to ir (borrowed), crossfading from the current IR over fade_frames frames
 * (0 switches at once, right for the first IR; rounded up to whole blocks otherwise). With
 * a non-uniform layout the fade starts once the longer partitions have a whole block of the
 * new IR to give (up to three blocks of the longest partition; fir.c); a switch at once
 * leaves their part of the output silent until then.
 * ir == NULL fades to silence. The convolver reads ir until a later switch away from it has
 * ended (dsp_fir_is_fading() false again; at once for a fade of 0), or until it is freed: the
 * caller owns every IR and keeps it that long. The convolver keeps no list of them.
 * 0; -EINVAL when ir was prepared for another block size or layout; -E2BIG when ir is longer
 * than the layout; -EBUSY while a previous fade is still running; -EINVAL for a convolver of
 * more than one input or output (those take routes).
 */
int dsp_fir_set_ir(struct dsp_fir *fir, const struct dsp_fir_ir *ir, unsigned fade_frames);

/*
 * A convolution matrix is a list of routes: input channel `in` convolved with `ir` into output
 * channel `out`. Any input may feed any outputs and any output sum any inputs; each input is
 * transformed once for all its routes and each output transformed back once for all of its
 * (fir.c, DESIGN). A pair of channels may appear more than once (the products add up).
 */
struct dsp_fir_route {
	unsigned in, out; /* channels, from 0, below the convolver's inputs and outputs */
	const struct dsp_fir_ir *ir; /* borrowed: kept as dsp_fir_set_ir() says */
};

/*
 * Thread: RT. dsp_fir_set_ir() for a matrix: switch to count routes (borrowed, like their IRs:
 * the array is read until a later switch away from it has ended), crossfading every output from
 * its current routes over fade_frames. count 0 (routes may then be NULL) fades to silence. 0;
 * -EINVAL (a route's channel out of range, an IR NULL or prepared for another block or layout,
 * more routes than inputs x outputs); -E2BIG (an IR longer than the layout); -EBUSY while a
 * previous fade is still running.
 */
int dsp_fir_set_routes(struct dsp_fir *fir, const struct dsp_fir_route *routes, size_t count,
		       unsigned fade_frames);

/* Thread: RT. True while a crossfade between two IRs is running. */
int dsp_fir_is_fading(const struct dsp_fir *fir);

/*
 * Thread: RT. Convolves n frames (n a multiple of the block) from in to out. in and out may be
 * the same buffer. Never allocates, locks or blocks.
 */
void dsp_fir_process(struct dsp_fir *fir, const float *in, float *out, size_t n);

/*
 * Thread: RT. dsp_fir_process() for a matrix: every input in[c] (c < inputs) through the routes
 * to every output out[o] (o < outputs), phase by phase: every forward transform, then every
 * multiply-accumulate, then every inverse transform, block by block, so the transforms share a
 * warm cache (fir.c); with a runner (config.par) the inputs' transforms, then each output's sums
 * and inverses, in parallel. An output no route reaches is silence. Any in[] may be any out[]: a
 * block's inputs are all read before its outputs are written.
 */
void dsp_fir_process_matrix(struct dsp_fir *fir, const float *const *in, float *const *out,
			    size_t n);

/*
 * Thread: RT. Takes n frames of input (n a multiple of the block) into the history without
 * computing any output: what a caller that has its output from elsewhere (a pass-through) does
 * to stay ready for an IR it may fade to later. It does only the work that history needs: the
 * forward transforms of partitions a later IR will read, none at all when the convolver holds
 * one partition (then the history is the input window alone, two copies of a block). No sum
 * in progress survives it: an IR set afterwards starts its long partitions' sums anew.
 */
void dsp_fir_keep_history(struct dsp_fir *fir, const float *in, size_t n);
/* Thread: RT. dsp_fir_keep_history() of every input in[c], c < inputs. */
void dsp_fir_keep_history_matrix(struct dsp_fir *fir, const float *const *in, size_t n);

/*
 * Thread: RT. Cut every IR this convolver uses (now and later) where the energy still to come
 * falls below tail_db (dB relative to the IR's total energy, e.g. -90 or -60; >= 0 keeps the
 * whole IR), so only the partitions before that point are computed. The partitions that stop
 * or start counting are faded over fade_frames frames (rounded up to whole blocks; 0: at once).
 * 0; -EBUSY while the previous change is still fading (try again at a later block).
 */
int dsp_fir_set_tail_db(struct dsp_fir *fir, float tail_db, unsigned fade_frames);

/* Thread: RT. The tail cut in force (0: the whole IR). */
float dsp_fir_get_tail_db(const struct dsp_fir *fir);

/*
 * Thread: any. How many of ir's partitions a cut at tail_db keeps: the fewest (at least one)
 * after which the IR's remaining energy is at most tail_db below its total; all for
 * tail_db >= 0. A silent IR keeps one. Energy counts above the IR's noise floor, estimated
 * from its last eighth (IRs of 8 partitions or more), so a measured IR is cut where its decay
 * ends, not where its noise floor does.
 */
size_t dsp_fir_ir_get_parts_for_tail(const struct dsp_fir_ir *ir, float tail_db);

/*
 * Thread: RT. Forgets the input history (silence from now on); keeps the IR. O(block): the
 * history is not cleared but no longer read, with the same output as if it were (fir.c).
 */
void dsp_fir_reset(struct dsp_fir *fir);

/* Thread: any. The block size the convolver was made for. */
unsigned dsp_fir_get_block(const struct dsp_fir *fir);

/* Thread: any. The layout it runs; borrowed, valid while fir lives. */
const struct dsp_fir_layout *dsp_fir_get_layout(const struct dsp_fir *fir);
