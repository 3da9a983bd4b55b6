/* SPDX-License-Identifier: MIT */
/*
 * Property: the AVX2 and AVX-512 multiply-accumulate kernels equal the portable one.
 *
 * All kernels sum in the same order (chunks of DSP_FIR_MAC_CHUNK partitions, fir-mac.h); they
 * differ only where a vector FMA rounds once and the portable code rounds twice. The bound is
 * therefore relative to the sum of the magnitudes of the products, Σ(|xr hr| + |xi hi|) per bin:
 * at most 4 roundings per partition, 4 * FLT_EPSILON of that sum, far below any audible level.
 * The packed Nyquist sum (a real product per partition) is held to the same bound, relative to
 * Σ |xi[0] hi[0]|.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "dsp/cpu.h"
#include "dsp/fir-mac.h"
#include "dsp/mem.h"
#include "tests/unit/test-util.h"

static void check_kernel(dsp_fir_mac_fn kernel, const char *name, size_t bins, size_t nparts)
{
	size_t nf = nparts * 2 * bins;
	float *x = dsp_mem_alloc(nf * sizeof(float)), *h = dsp_mem_alloc(nf * sizeof(float));
	float *ref = dsp_mem_alloc(2 * bins * sizeof(float)),
	      *got = dsp_mem_alloc(2 * bins * sizeof(float));
	double *mag = calloc(2 * bins, sizeof(double)), nyq_mag = 0.0, nyq_tol;
	float nyq_ref = 0.25f, nyq_got = 0.25f;
	struct test_rng rng;
	double worst = 0.0;

	assert_true(x && h && ref && got && mag);
	test_rng_init(&rng, bins * 131 + nparts);
	test_fill_noise(&rng, x, nf, 100.0);
	test_fill_noise(&rng, h, nf, 0.01);
	/* Non-zero starting accumulators: the kernels must add to them, not overwrite them. */
	test_fill_noise(&rng, ref, 2 * bins, 1.0);
	for (size_t k = 0; k < 2 * bins; k++)
		got[k] = ref[k];
	for (size_t p = 0; p < nparts; p++)
		for (size_t k = 0; k < bins; k++) {
			const float *xp = x + p * 2 * bins, *hp = h + p * 2 * bins;
			double m = fabs((double)xp[k] * hp[k]) +
				   fabs((double)xp[bins + k] * hp[bins + k]) +
				   fabs((double)xp[k] * hp[bins + k]) +
				   fabs((double)xp[bins + k] * hp[k]);
			mag[k] += m;
			mag[bins + k] += m;
			if (k == 0)
				nyq_mag += fabs((double)xp[bins] * hp[bins]);
		}
	dsp_fir_mac_c(ref, x, h, nparts, bins, &nyq_ref);
	kernel(got, x, h, nparts, bins, &nyq_got);
	nyq_tol = 4.0 * FLT_EPSILON * (nyq_mag + 1.0);
	if (fabs((double)nyq_ref - nyq_got) > nyq_tol) {
		printf("# %s bins %zu parts %zu Nyquist ref %.9g got %.9g\n", name, bins, nparts,
		       nyq_ref, nyq_got);
		fail();
	}
	for (size_t k = 0; k < 2 * bins; k++) {
		double tol = 4.0 * FLT_EPSILON * (mag[k] + 1.0);
		double d = fabs((double)ref[k] - got[k]);
		if (d / tol > worst)
			worst = d / tol;
		if (d > tol) {
			printf("# %s bins %zu parts %zu k %zu ref %.9g got %.9g\n", name, bins,
			       nparts, k, ref[k], got[k]);
			fail();
		}
	}
	printf("# %-6s bins %5zu partitions %5zu: worst difference %.3f of the bound\n", name, bins,
	       nparts, worst);
	dsp_mem_free(x);
	dsp_mem_free(h);
	dsp_mem_free(ref);
	dsp_mem_free(got);
	free(mag);
}

static void check_all_shapes(dsp_fir_mac_fn kernel, const char *name)
{
	static const size_t bins[] = {32, 64, 96, 128, 256, 8192};
	static const size_t parts[] = {1, 2, 31, 32, 33, 100};

	for (size_t b = 0; b < EL_N_ELEMENTS(bins); b++)
		for (size_t p = 0; p < EL_N_ELEMENTS(parts); p++)
			check_kernel(kernel, name, bins[b], parts[p]);
}

/* The reference must itself be a complex multiply-accumulate, or agreeing with it proves nothing.
 */
static void test_c_reference(void **state)
{
	float *x = dsp_mem_alloc(64 * sizeof(float)), *h = dsp_mem_alloc(64 * sizeof(float));
	float *acc = dsp_mem_alloc(64 * sizeof(float)), nyq = 0.0f;

	(void)state;
	/* bin 1: (1 + 2j)(3 + 4j) = -5 + 10j; bin 0 packed: DC 5*7, Nyquist 6*8 */
	x[1] = 1, x[32 + 1] = 2, h[1] = 3, h[32 + 1] = 4;
	x[0] = 5, x[32] = 6, h[0] = 7, h[32] = 8;
	dsp_fir_mac_c(acc, x, h, 1, 32, &nyq);
	assert_true(acc[1] == -5.0f && acc[32 + 1] == 10.0f);
	assert_true(nyq == 48.0f);
	assert_true(acc[0] + nyq == 35.0f); /* the repair the unpack does */
	dsp_mem_free(x);
	dsp_mem_free(h);
	dsp_mem_free(acc);
}

static void test_avx2(void **state)
{
	(void)state;
	if (!(dsp_cpu_get_flags() & DSP_CPU_AVX2_FMA))
		skip();
	check_all_shapes(dsp_fir_mac_avx2, "avx2");
}

static void test_avx512(void **state)
{
	(void)state;
	if (!(dsp_cpu_get_flags() & DSP_CPU_AVX512F))
		skip();
	check_all_shapes(dsp_fir_mac_avx512, "avx512");
}

/*
 * The packers, every variant at every block's bin count: pack puts FFTW's interleaved spectrum
 * (bins + 1 values, DC and Nyquist real) into split re/im with Nyquist in DC's imaginary slot;
 * unpack puts a MAC's result back (DC = re[0] + nyq, Nyquist = nyq), which undoes pack exactly
 * (small integers and halves: no rounding).
 */
static void test_packers(void **state)
{
	const struct {
		uint32_t flags;
		const char *name;
	} variants[] = {{0, "c"},
			{DSP_CPU_AVX2_FMA, "avx2"},
			{DSP_CPU_AVX2_FMA | DSP_CPU_AVX512F, "avx512"}};
	const size_t max_bins = 8192;
	float *spec = dsp_mem_alloc((2 * max_bins + 2) * sizeof(float));
	float *packed = dsp_mem_alloc(2 * max_bins * sizeof(float));
	float *back = dsp_mem_alloc((2 * max_bins + 2) * sizeof(float));

	(void)state;
	for (size_t v = 0; v < 3; v++) {
		struct dsp_fir_packers p = dsp_fir_packers_select(variants[v].flags);

		if ((variants[v].flags & ~dsp_cpu_get_flags()) != 0)
			continue;
		for (size_t bins = 32; bins <= max_bins; bins *= 2) {
			for (size_t i = 0; i < 2 * bins + 2; i++)
				spec[i] = (float)i + 0.5f;
			spec[1] = spec[2 * bins + 1] = 0.0f; /* DC and Nyquist are real */
			p.pack(spec, packed, bins);
			for (size_t k = 1; k < bins; k++)
				assert_true(packed[k] == spec[2 * k] &&
					    packed[bins + k] == spec[2 * k + 1]);
			assert_true(packed[0] == spec[0] && packed[bins] == spec[2 * bins]);
			/* as the MAC leaves bin 0: re = DC - Nyquist, nyq = Nyquist (fir-mac.h) */
			packed[0] = spec[0] - spec[2 * bins];
			p.unpack(packed, spec[2 * bins], back, bins);
			assert_memory_equal(back, spec, (2 * bins + 2) * sizeof(float));
		}
		printf("# packers %s: 32..%zu bins exact\n", variants[v].name, max_bins);
	}
	dsp_mem_free(spec);
	dsp_mem_free(packed);
	dsp_mem_free(back);
}

static void test_select(void **state)
{
	(void)state;
	assert_ptr_equal(dsp_fir_mac_select(0), dsp_fir_mac_c);
	assert_ptr_equal(dsp_fir_mac_select(DSP_CPU_AVX2_FMA), dsp_fir_mac_avx2);
	assert_ptr_equal(dsp_fir_mac_select(DSP_CPU_AVX2_FMA | DSP_CPU_AVX512F),
			 dsp_fir_mac_avx512);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_c_reference), cmocka_unit_test(test_avx2),
		cmocka_unit_test(test_avx512),      cmocka_unit_test(test_packers),
		cmocka_unit_test(test_select),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
