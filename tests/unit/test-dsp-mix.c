/* SPDX-License-Identifier: MIT */
/*
 * Property: every SIMD mix variant computes what the portable C variant computes.
 *
 * Bound: the variants may fuse a multiply and an add (FMA) where the C code rounds twice, which
 * moves a result by at most one rounding of the product. So the allowed difference is
 * 2 ulp-of-float (2 * FLT_EPSILON) times the magnitude of the operands (|dst| + |gain * src|),
 * not of the result, because a sum that cancels has no meaningful ulp of its own. Copy, clear
 * and add must be bit-exact. copy_measure copies bit-exactly and finds the same peak; its sum of
 * squares (positive terms, summed per lane in float) may differ from the reference's double sum
 * by (n + 1) roundings of the sum. Lengths cover empty, shorter than a vector, every remainder, and
 * unaligned starts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dsp/cpu.h"
#include "dsp/mix.h"
#include "tests/unit/test-util.h"

#define MAXN      1100
#define ULP_BOUND 2.0f

struct bufs {
	float src[MAXN + 16];
	float dst0[MAXN + 16]; /* initial dst */
	float ref[MAXN + 16];  /* C variant result */
	float got[MAXN + 16];  /* SIMD variant result */
	float mag[MAXN + 16];  /* operand magnitude per frame, for the bound */
};

static const size_t lengths[] = {0, 1, 3, 7, 8, 15, 16, 17, 31, 63, 64, 65, 255, 256, 1024, 1031};

static void check_close(const float *ref, const float *got, const float *mag, size_t n,
			const char *what, const char *variant, int exact)
{
	for (size_t i = 0; i < n; i++) {
		float tol = exact ? 0.0f : ULP_BOUND * FLT_EPSILON * mag[i];
		if (!(fabsf(ref[i] - got[i]) <= tol)) {
			printf("# %s/%s n=%zu i=%zu ref=%.9g got=%.9g tol=%.3g\n", variant, what, n,
			       i, ref[i], got[i], tol);
			fail();
		}
	}
}

static void check_measure(const struct dsp_mix_ops *v, const float *src, float *got, size_t n)
{
	float peak_ref = -1.0f, sum_ref = -1.0f, peak = -1.0f, sum = -1.0f, tol;

	dsp_mix_ops_c.copy_measure(got, src, n, &peak_ref, &sum_ref);
	memset(got, 0, n * sizeof(float));
	v->copy_measure(got, src, n, &peak, &sum);
	assert_memory_equal(got, src, n * sizeof(float));
	tol = (float)(n + 1) * FLT_EPSILON * sum_ref;
	if (peak != peak_ref || !(fabsf(sum - sum_ref) <= tol)) {
		printf("# %s/copy_measure n=%zu peak ref %.9g got %.9g, sum ref %.9g got %.9g\n",
		       v->name, n, peak_ref, peak, sum_ref, sum);
		fail();
	}
}

static void check_variant(const struct dsp_mix_ops *v)
{
	const struct dsp_mix_ops *c = &dsp_mix_ops_c;
	static struct bufs b;
	struct test_rng rng;

	test_rng_init(&rng, 42);
	for (size_t li = 0; li < EL_N_ELEMENTS(lengths); li++) {
		size_t n = lengths[li];
		for (size_t off = 0; off < 3; off++) {
			float *s = b.src + off, *d0 = b.dst0 + off;
			float *r = b.ref + off, *g = b.got + off;
			float gain = (float)test_rng_uniform(&rng) * 4.0f;
			float g0 = (float)test_rng_uniform(&rng),
			      g1 = (float)test_rng_uniform(&rng) * 2;

			test_fill_noise(&rng, b.src, MAXN + 16, 1.0);
			test_fill_noise(&rng, b.dst0, MAXN + 16, 1.0);
			for (size_t i = 0; i < n; i++)
				b.mag[i] = fabsf(d0[i]) + 4.0f * fabsf(s[i]);

#define RUN(call_c, call_v, exact)                                                                 \
	do {                                                                                       \
		memcpy(r, d0, n * sizeof(float));                                                  \
		memcpy(g, d0, n * sizeof(float));                                                  \
		call_c;                                                                            \
		call_v;                                                                            \
		check_close(r, g, b.mag, n, #call_v, v->name, exact);                              \
	} while (0)

			RUN(c->clear(r, n), v->clear(g, n), 1);
			RUN(c->copy(r, s, n), v->copy(g, s, n), 1);
			RUN(c->add(r, s, n), v->add(g, s, n), 1);
			RUN(c->add_gain(r, s, gain, n), v->add_gain(g, s, gain, n), 0);
			RUN(c->gain_ramp(r, s, g0, g1, n), v->gain_ramp(g, s, g0, g1, n), 0);
			RUN(c->gain_ramp(r, r, g0, g1, n), v->gain_ramp(g, g, g0, g1, n), 0);
			RUN(c->add_gain_ramp(r, s, g0, g1, n), v->add_gain_ramp(g, s, g0, g1, n),
			    0);
#undef RUN
			check_measure(v, s, g, n);
		}
	}
}

/* The reference itself must be right, or agreeing with it proves nothing. */
static void test_c_reference(void **state)
{
	float src[5] = {1, 2, 3, 4, 5}, dst[5] = {1, 1, 1, 1, 1};

	(void)state;
	dsp_mix_ops_c.add_gain(dst, src, 0.5f, 5);
	assert_true(dst[0] == 1.5f && dst[4] == 3.5f);
	dsp_mix_ops_c.gain_ramp(dst, src, 0.0f, 1.0f, 4);
	/* g(i) = i / 4: the ramp reaches g1 on the frame after the last */
	assert_true(dst[0] == 0.0f && dst[1] == 0.5f && dst[2] == 1.5f && dst[3] == 3.0f);
	assert_true(dst[4] == 3.5f); /* untouched beyond n */
}

/* The meter's primitive, on known values, in every variant: a NaN sample leaves the peak alone. */
static void test_copy_measure(void **state)
{
	const struct dsp_mix_ops *variants[] = {&dsp_mix_ops_c, &dsp_mix_ops_avx2,
						&dsp_mix_ops_avx512};
	uint32_t flags = dsp_cpu_get_flags();
	float src[40], dst[40], peak, sum;

	(void)state;
	for (size_t v = 0; v < EL_N_ELEMENTS(variants); v++) {
		if ((v == 1 && !(flags & DSP_CPU_AVX2_FMA)) ||
		    (v == 2 && !(flags & DSP_CPU_AVX512F)))
			continue;
		for (size_t i = 0; i < 40; i++)
			src[i] = i % 2 ? 0.5f : -0.25f;
		src[33] = -0.75f;
		variants[v]->copy_measure(dst, src, 40, &peak, &sum);
		assert_true(peak == 0.75f);
		/* odd frames 0.5 (one of them made -0.75), even frames -0.25 */
		assert_true(sum == 19 * 0.25f + 20 * 0.0625f + 0.5625f);
		src[33] = NAN;
		src[7] = 0.625f;
		variants[v]->copy_measure(dst, src, 40, &peak, &sum);
		assert_true(peak == 0.625f);
		variants[v]->copy_measure(dst, src, 0, &peak, &sum);
		assert_true(peak == 0.0f && sum == 0.0f);
	}
}

/* The output's clip count, in every variant: at the limit is not over it, a NaN is not counted,
 * and every length from 0 to 70 (the vector loop and the scalar rest) agrees with a count here. */
static void test_count_over(void **state)
{
	const struct dsp_mix_ops *variants[] = {&dsp_mix_ops_c, &dsp_mix_ops_avx2,
						&dsp_mix_ops_avx512};
	uint32_t flags = dsp_cpu_get_flags();
	float x[70];

	(void)state;
	for (size_t i = 0; i < 70; i++)
		x[i] = (float)((i * 37) % 11) * 0.25f - 1.25f; /* -1.25 .. 1.25 in steps of 0.25 */
	x[5] = NAN;
	x[6] = -INFINITY;
	x[40] = 1.0f;
	for (size_t v = 0; v < EL_N_ELEMENTS(variants); v++) {
		if ((v == 1 && !(flags & DSP_CPU_AVX2_FMA)) ||
		    (v == 2 && !(flags & DSP_CPU_AVX512F)))
			continue;
		for (size_t n = 0; n <= 70; n++) {
			size_t want = 0;

			for (size_t i = 0; i < n; i++)
				want += i != 5 && (x[i] > 1.0f || x[i] < -1.0f);
			assert_int_equal(variants[v]->count_over(x, 1.0f, n), want);
		}
		assert_int_equal(variants[v]->count_over(x, 2.0f, 70), 1); /* the -inf */
	}
}

static void test_avx2(void **state)
{
	(void)state;
	if (!(dsp_cpu_get_flags() & DSP_CPU_AVX2_FMA))
		skip();
	check_variant(&dsp_mix_ops_avx2);
}

static void test_avx512(void **state)
{
	(void)state;
	if (!(dsp_cpu_get_flags() & DSP_CPU_AVX512F))
		skip();
	check_variant(&dsp_mix_ops_avx512);
}

static void test_init_picks_best(void **state)
{
	struct dsp_mix_ops ops;

	(void)state;
	dsp_mix_ops_init(&ops, 0);
	assert_string_equal(ops.name, "c");
	dsp_mix_ops_init(&ops, DSP_CPU_AVX2_FMA);
	assert_string_equal(ops.name, "avx2");
	dsp_mix_ops_init(&ops, DSP_CPU_AVX2_FMA | DSP_CPU_AVX512F);
	assert_string_equal(ops.name, "avx512");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_c_reference), cmocka_unit_test(test_copy_measure),
		cmocka_unit_test(test_count_over),  cmocka_unit_test(test_avx2),
		cmocka_unit_test(test_avx512),      cmocka_unit_test(test_init_picks_best),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
