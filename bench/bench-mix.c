/* SPDX-License-Identifier: MIT */
/*
 * bench/bench-mix.c: add-with-gain throughput against memcpy of the same bytes, in one run.
 *
 * For 256-frame (1 KiB, an audio period) and 1 MiB buffers, each mix variant the CPU can run
 * does dst += gain * src over the buffer again and again; memcpy(dst, src) over the same number
 * of bytes is the reference. Both touch the same two buffers, so both have the same footprint
 * in the caches. Each figure is the median of several timed runs; the ratio is variant / memcpy
 * (1.00 = as fast as memcpy). A benchmark, not a test: it prints, it never fails on speed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dsp/cpu.h"
#include "dsp/mem.h"
#include "dsp/mix.h"

#define RUNS 9

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

enum op { OP_MEMCPY, OP_ADD_GAIN };

/* GB/s (of dst bytes) for one op, median of RUNS runs of `reps` passes over n frames. */
static double throughput(enum op op, const struct dsp_mix_ops *ops, float *dst, const float *src,
			 size_t n, size_t reps)
{
	double rates[RUNS];

	for (int r = 0; r < RUNS; r++) {
		double t0 = now();
		for (size_t i = 0; i < reps; i++) {
			if (op == OP_MEMCPY)
				memcpy(dst, src, n * sizeof(float));
			else
				ops->add_gain(dst, src, 0.999f, n);
			/* Keep the compiler from proving the repeated passes redundant. */
			__asm__ volatile("" : : "r"(dst) : "memory");
		}
		rates[r] = (double)(n * sizeof(float) * reps) / (now() - t0) / 1e9;
	}
	qsort(rates, RUNS, sizeof(rates[0]), cmp_double);
	return rates[RUNS / 2];
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {256, 256 * 1024}; /* frames: 1 KiB and 1 MiB */
	const struct dsp_mix_ops *variants[] = {&dsp_mix_ops_c, &dsp_mix_ops_avx2,
						&dsp_mix_ops_avx512};
	const uint32_t need[] = {0, DSP_CPU_AVX2_FMA, DSP_CPU_AVX512F};
	uint32_t cpu = dsp_cpu_get_flags();
	double scale = argc > 1 && strcmp(argv[1], "--quick") == 0 ? 0.1 : 1.0;

	printf("# bench-mix: add_gain (dst += g * src) vs memcpy of the same bytes, median of %d\n",
	       RUNS);
	printf("%10s  %-8s %10s %10s %7s\n", "buffer", "variant", "GB/s", "memcpy", "ratio");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		/* About 2 GB of traffic per run at full scale. */
		size_t reps = (size_t)(scale * 2e9 / (double)(n * sizeof(float))) + 1;
		float *src = dsp_mem_alloc(n * sizeof(float)),
		      *dst = dsp_mem_alloc(n * sizeof(float));

		if (!src || !dst)
			return 1;
		for (size_t i = 0; i < n; i++)
			src[i] = (float)(i % 97) * 1e-3f;
		for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
			if ((cpu & need[v]) != need[v])
				continue;
			double ref = throughput(OP_MEMCPY, NULL, dst, src, n, reps);
			double got = throughput(OP_ADD_GAIN, variants[v], dst, src, n, reps);
			printf("%8zu B  %-8s %10.1f %10.1f %7.2f\n", n * sizeof(float),
			       variants[v]->name, got, ref, got / ref);
		}
		dsp_mem_free(src);
		dsp_mem_free(dst);
	}
	return 0;
}
