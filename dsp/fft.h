/* SPDX-License-Identifier: MIT */
/*
 * dsp/fft.h: a cache of single-precision FFTW real<->complex plans, keyed by transform size.
 *
 * FFTW's planner is neither thread-safe nor real-time safe; executing a plan is both. So plans
 * are made here, on the thread that builds dsp objects (the control thread), and the RT thread
 * only calls dsp_fft_forward()/dsp_fft_inverse(), which use FFTW's new-array execute functions
 * so one plan serves every buffer of that size. Wisdom (FFTW's record of measured plans) is
 * loaded from and saved to a path the caller gives, so a restarted daemon does not measure
 * again. FFTW keeps wisdom per process, so it is shared by every cache in the process.
 *
 * Buffers passed to the execute functions must be aligned to EL_SIMD_ALIGN (dsp_mem_alloc()),
 * because FFTW requires new arrays to have the alignment of the arrays it planned with.
 */
#pragma once

#include <stddef.h>

struct dsp_fft_cache;
struct dsp_fft_plan; /* borrowed from its cache, valid until the cache is freed */

enum dsp_fft_rigor {
	DSP_FFT_ESTIMATE, /* no measuring: instant, slower transforms (tests, fallbacks) */
	DSP_FFT_MEASURE,  /* FFTW_MEASURE: fast transforms, planning takes time without wisdom */
	DSP_FFT_PATIENT,  /* FFTW_PATIENT: slower planning still, for offline wisdom building */
	/* FFTW_MEASURE's plan where wisdom already holds it, else FFTW_ESTIMATE's: instant either
	 * way, measured transforms when a run before measured them (a short render) */
	DSP_FFT_WISDOM,
};

/* Sizes are powers of two in this range (real samples per transform). */
#define DSP_FFT_MIN_SIZE 2u
#define DSP_FFT_MAX_SIZE (1u << 24)

/* Thread: control. 0 with *ret set, -EINVAL for an unknown rigor, -ENOMEM. */
int dsp_fft_cache_new(enum dsp_fft_rigor rigor, struct dsp_fft_cache **ret);

/* Thread: control. Frees every plan of the cache; accepts NULL; returns NULL. */
struct dsp_fft_cache *dsp_fft_cache_free(struct dsp_fft_cache *cache);

/*
 * Thread: control. The plan pair for n-point real transforms, made on first use and the same
 * pointer ever after. 0 with *ret set; -EINVAL when n is not a power of two within
 * [DSP_FFT_MIN_SIZE, DSP_FFT_MAX_SIZE]; -ENOMEM. *ret untouched on failure.
 */
int dsp_fft_cache_get(struct dsp_fft_cache *cache, size_t n, const struct dsp_fft_plan **ret);

/* Thread: any. The number of plan pairs the cache holds. */
size_t dsp_fft_cache_get_count(const struct dsp_fft_cache *cache);

/* Thread: any. Real samples per transform. */
size_t dsp_fft_plan_get_size(const struct dsp_fft_plan *plan);

/*
 * Thread: control. Merge the wisdom in the file at path into the process's wisdom.
 * 0; -ENOENT when there is no such file; -EINVAL when FFTW cannot parse it; other -errno.
 */
int dsp_fft_wisdom_load(const char *path);

/*
 * Thread: control. Write the process's wisdom to path, atomically (temporary file + rename),
 * so a crash never leaves half a wisdom file. 0 or -errno.
 */
int dsp_fft_wisdom_save(const char *path);

/* Thread: any. FFTW's version string ("fftw-3.3.10-sse2-avx"): what wisdom is valid for. */
const char *dsp_fft_get_version(void);

/*
 * Thread: control. Forget all wisdom of the process (tests use it to prove a load works).
 */
void dsp_fft_wisdom_forget(void);

/*
 * Thread: RT. Forward transform: in holds n real samples; out receives n/2+1 complex values
 * interleaved (re, im), unnormalized. in is preserved.
 */
void dsp_fft_forward(const struct dsp_fft_plan *plan, float *in, float *out);

/*
 * Thread: RT. Inverse transform: in holds n/2+1 interleaved complex values and is destroyed;
 * out receives n real samples, scaled by n (no normalization, as FFTW).
 */
void dsp_fft_inverse(const struct dsp_fft_plan *plan, float *in, float *out);
