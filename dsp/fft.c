/* SPDX-License-Identifier: MIT */
/*
 * dsp/fft.c: the FFTW plan cache and wisdom persistence.
 *
 * DESIGN: a cache is a small array of plan pairs (r2c + c2r) kept sorted by nothing — a
 * daemon uses a handful of sizes, so a linear search on the control thread is cheaper than any
 * structure. Each pair is planned out of place on scratch arrays the pair owns, aligned like
 * every buffer the RT thread will later pass (EL_SIMD_ALIGN), because FFTW's new-array execute
 * functions require the alignment of the planning arrays. The scratch arrays are kept for the
 * life of the plan: FFTW does not need them after planning, but freeing and reusing their
 * addresses would only save a few kilobytes per size.
 */
#include <errno.h>
#include <fftw3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/el-macros.h"
#include "dsp/fft.h"
#include "dsp/mem.h"

struct dsp_fft_plan {
	size_t n;
	fftwf_plan forward; /* r2c, out of place */
	fftwf_plan inverse; /* c2r, out of place, destroys its input */
	float *scratch_real;
	float *scratch_complex;
};

struct dsp_fft_cache {
	unsigned planner_flags;
	size_t count;
	size_t capacity;
	struct dsp_fft_plan **plans; /* owned, as are the plans */
};

static struct dsp_fft_plan *fft_plan_free(struct dsp_fft_plan *p)
{
	if (!p)
		return NULL;
	if (p->forward)
		fftwf_destroy_plan(p->forward);
	if (p->inverse)
		fftwf_destroy_plan(p->inverse);
	dsp_mem_free(p->scratch_real);
	dsp_mem_free(p->scratch_complex);
	free(p);
	return NULL;
}

static int fft_plan_new(size_t n, unsigned flags, struct dsp_fft_plan **ret)
{
	struct dsp_fft_plan *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->n = n;
	p->scratch_real = dsp_mem_alloc(n * sizeof(float));
	p->scratch_complex = dsp_mem_alloc((n + 2) * sizeof(float));
	if (!p->scratch_real || !p->scratch_complex)
		goto fail;
	p->forward = fftwf_plan_dft_r2c_1d((int)n, p->scratch_real,
					   (fftwf_complex *)p->scratch_complex, flags);
	p->inverse = fftwf_plan_dft_c2r_1d((int)n, (fftwf_complex *)p->scratch_complex,
					   p->scratch_real, flags);
	/* DSP_FFT_WISDOM: no wisdom for this size is no plan; estimate one instead */
	if ((flags & FFTW_WISDOM_ONLY) && !p->forward)
		p->forward = fftwf_plan_dft_r2c_1d((int)n, p->scratch_real,
						   (fftwf_complex *)p->scratch_complex, FFTW_ESTIMATE);
	if ((flags & FFTW_WISDOM_ONLY) && !p->inverse)
		p->inverse = fftwf_plan_dft_c2r_1d((int)n, (fftwf_complex *)p->scratch_complex,
						   p->scratch_real, FFTW_ESTIMATE);
	/* FFTW returns NULL only when it cannot plan at all, which for r2c sizes means memory. */
	if (!p->forward || !p->inverse)
		goto fail;
	*ret = p;
	return 0;
fail:
	fft_plan_free(p);
	return -ENOMEM;
}

int dsp_fft_cache_new(enum dsp_fft_rigor rigor, struct dsp_fft_cache **ret)
{
	static const unsigned rigor_flags[] = {
		[DSP_FFT_ESTIMATE] = FFTW_ESTIMATE,
		[DSP_FFT_MEASURE] = FFTW_MEASURE,
		[DSP_FFT_PATIENT] = FFTW_PATIENT,
		[DSP_FFT_WISDOM] = FFTW_MEASURE | FFTW_WISDOM_ONLY,
	};
	struct dsp_fft_cache *c;

	if (!ret || (unsigned)rigor >= EL_N_ELEMENTS(rigor_flags))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->planner_flags = rigor_flags[rigor];
	*ret = c;
	return 0;
}

struct dsp_fft_cache *dsp_fft_cache_free(struct dsp_fft_cache *cache)
{
	if (!cache)
		return NULL;
	for (size_t i = 0; i < cache->count; i++)
		fft_plan_free(cache->plans[i]);
	free(cache->plans);
	free(cache);
	return NULL;
}

int dsp_fft_cache_get(struct dsp_fft_cache *cache, size_t n, const struct dsp_fft_plan **ret)
{
	struct dsp_fft_plan *p;
	int r;

	if (!cache || !ret || !EL_IS_POW2(n) || n < DSP_FFT_MIN_SIZE || n > DSP_FFT_MAX_SIZE)
		return -EINVAL;
	for (size_t i = 0; i < cache->count; i++) {
		if (cache->plans[i]->n == n) {
			*ret = cache->plans[i];
			return 0;
		}
	}
	if (cache->count == cache->capacity) {
		size_t cap = cache->capacity ? cache->capacity * 2 : 8;
		struct dsp_fft_plan **plans = realloc(cache->plans, cap * sizeof(*plans));

		if (!plans)
			return -ENOMEM;
		cache->plans = plans;
		cache->capacity = cap;
	}
	r = fft_plan_new(n, cache->planner_flags, &p);
	if (r < 0)
		return r;
	cache->plans[cache->count++] = p;
	*ret = p;
	return 0;
}

size_t dsp_fft_cache_get_count(const struct dsp_fft_cache *cache)
{
	return cache ? cache->count : 0;
}

size_t dsp_fft_plan_get_size(const struct dsp_fft_plan *plan)
{
	return plan->n;
}

int dsp_fft_wisdom_load(const char *path)
{
	FILE *f;
	int ok;

	if (!path)
		return -EINVAL;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fftwf_import_wisdom_from_file(f);
	fclose(f);
	return ok ? 0 : -EINVAL;
}

int dsp_fft_wisdom_save(const char *path)
{
	char *tmp;
	FILE *f;
	int r = 0;

	if (!path)
		return -EINVAL;
	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0)
		return -ENOMEM;
	f = fopen(tmp, "we");
	if (!f) {
		r = -errno;
		goto out;
	}
	fftwf_export_wisdom_to_file(f);
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0)
		r = -(errno ? errno : EIO);
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
out:
	free(tmp);
	return r;
}

const char *dsp_fft_get_version(void)
{
	return fftwf_version;
}

void dsp_fft_wisdom_forget(void)
{
	fftwf_forget_wisdom();
}

EL_RT void dsp_fft_forward(const struct dsp_fft_plan *plan, float *in, float *out)
{
	fftwf_execute_dft_r2c(plan->forward, in, (fftwf_complex *)out);
}

EL_RT void dsp_fft_inverse(const struct dsp_fft_plan *plan, float *in, float *out)
{
	fftwf_execute_dft_c2r(plan->inverse, (fftwf_complex *)in, out);
}
