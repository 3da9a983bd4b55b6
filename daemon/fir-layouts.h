/* SPDX-License-Identifier: MIT */
/*
 * daemon/fir-layouts.h: the convolver layouts this machine measured, remembered across restarts.
 *
 * A fir node with `layout = auto` asks the engine's planner (node.h), which is this: a layout
 * found by timing candidates (dsp/fir-search.h) for the block, the IR length (rounded up to a
 * power of two, so IRs of similar length share a search) and the channel count, on this CPU
 * with this FFTW, by this version of the search. The first time costs a search (tens of
 * milliseconds to a few seconds, most of it FFTW planning the sizes tried); the answer is kept
 * in `fir-layouts` beside the FFTW wisdom (daemon/wisdom.h), so a restart plans in
 * milliseconds. An entry made on another CPU,
 * with another FFTW or by another search is never used: it is a different key.
 *
 * File: one entry per line, eight fields separated by tabs:
 *   CPU  FFTW  BLOCK  TAPS  CHANNELS  LAYOUT  COST_NS  FLATNESS
 * CPU is the kernel variant, the search's version (DSP_FIR_SEARCH_VERSION: a newer search
 * may find other layouts) and the CPU's model name ("avx512/search2/Intel(R) Xeon(R) ..."),
 * FFTW its version string, LAYOUT as dsp_fir_layout_format() writes it, COST_NS the measured mean
 * time per call and FLATNESS the worst phase over the mean. Lines starting with '#' are
 * comments. A line that does not parse is skipped with a warning; the file is rewritten whole
 * (temporary file and rename) when an entry is added.
 *
 * Thread: control, like everything that plans.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dsp/fir-layout.h"

struct eng_fir_planner;
struct fir_layouts;

#define FIR_LAYOUTS_KEY_MAX 160

struct fir_layouts_entry {
	char cpu[FIR_LAYOUTS_KEY_MAX];
	char fftw[FIR_LAYOUTS_KEY_MAX];
	unsigned block;
	size_t taps;
	unsigned channels;
	struct dsp_fir_layout layout;
	double cost_ns, flatness;
};

/*
 * Loads the remembered layouts of path (NULL: `fir-layouts` in the state directory; none there
 * is normal). 0 with *ret set; -ENOMEM.
 */
int fir_layouts_new(const char *path, struct fir_layouts **ret);

/* Accepts NULL; returns NULL. */
struct fir_layouts *fir_layouts_free(struct fir_layouts *l);

/* The planner to give the engine (eng_engine_set_fir_planner); ctx is l. */
struct eng_fir_planner fir_layouts_get_planner(struct fir_layouts *l);

/*
 * Whether a layout not remembered is measured (the default: a search timing candidates, then
 * remembered) or taken from the cost model at once and not remembered (a short render, where
 * measuring would cost more than it saves).
 */
void fir_layouts_set_measuring(struct fir_layouts *l, bool measuring);

/* Entries held (loaded and found), and searches run since fir_layouts_new(). */
size_t fir_layouts_get_count(const struct fir_layouts *l);
unsigned fir_layouts_get_searches(const struct fir_layouts *l);

/* How long the last search took, ms (0: none yet); for `status`. */
double fir_layouts_get_last_search_ms(const struct fir_layouts *l);

/*
 * One line of the file (without its newline) into *ret. 0; -EINVAL for anything that is not an
 * entry (a comment or an empty line included). Public for the fuzzer.
 */
int fir_layouts_parse_line(const char *line, struct fir_layouts_entry *ret);
