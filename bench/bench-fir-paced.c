/* SPDX-License-Identifier: MIT */
/*
 * bench/bench-fir-paced.c: what a convolver costs per call when it is called the way the daemon's
 * cycle calls it — once per block period, after its thread slept — instead of in a hot loop.
 *
 * bench-fir times calls back to back, so FFTW's code and twiddles, the kernels and the spectra a
 * call reads stay in the caches. The daemon's RT thread sleeps a period (5.3 ms at 256 frames,
 * 48 kHz) between calls, and on a shared VM it wakes to caches that other work has emptied: a
 * call then costs several times what the hot loop shows, and a fixed part of that cost (code,
 * twiddles, the head's spectra) does not shrink with the taps. This is what the power policy's
 * tail cut can save (bench/bench-policy.sh), measured without the rest of the daemon.
 *
 * Each CASE is a layout (dsp_fir_layout_parse: "256x3 512x2 1024x2 2048x31", or "256x8"), a tail
 * cut in dB (0: the whole IR; dsp_fir_set_tail_db, what the policy's `low` sets) and the taps of
 * the IR (default: what the layout holds, at most 65,536). Two inputs through one mono IR to two
 * outputs, like bench-policy's stereo graph. The IR is room-like and seeded: a unit direct sound,
 * then noise decaying with RT60 0.5 s. The cases take turns, one call per period (case i on
 * periods i, i + K, ...), so the machine's slow and fast minutes fall on all of them alike; a
 * case is therefore called every K periods, after the other cases' calls (which share FFTW's
 * code and twiddles with it), and every period after a sleep. A period whose call came late is
 * not made up for by calls back to back: the next call waits a whole period again. Per case:
 * the thread's CPU time per call (CLOCK_THREAD_CPUTIME_ID): median, mean, 90th percentile, and
 * the median against the first case's.
 *
 * usage: bench-fir-paced [--calls N] [--rate HZ] CASE...     CASE = LAYOUT[@TAIL_DB[@TAPS]]
 * A benchmark: it prints; it exits non-zero on bad arguments (2) or when a convolver cannot be
 * built (1).
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/fir-layout.h"
#include "dsp/fir.h"
#include "dsp/mem.h"

#define PACED_MAX_CASES    16
#define PACED_DEFAULT_TAPS 65536u
#define PACED_RT60_S       0.5
#define PACED_FIFO_PRIO    70 /* the daemon's default rt_priority */

struct paced_case {
	const char *spec; /* borrowed from argv */
	struct dsp_fir_layout layout;
	float tail_db;
	size_t taps;
	size_t kept; /* partitions the tail cut keeps */
	struct dsp_fir_ir *ir;
	struct dsp_fir *fir;
	struct dsp_fir_route routes[2];
	double *us; /* CPU µs of each call */
};

static double thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Unit direct sound, then uniform noise under an exponential decay of RT60 PACED_RT60_S. */
static float *room_ir(size_t n, double rate)
{
	float *ir = malloc(n * sizeof(*ir));
	uint32_t s = 20261208u;

	if (!ir)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s = s * 1664525u + 1013904223u;
		ir[i] = (float)(((double)s / 4294967296.0 - 0.5) * 0.5 *
				pow(10.0, -3.0 * (double)i / rate / PACED_RT60_S));
	}
	ir[0] = 1.0f;
	return ir;
}

/* LAYOUT[@TAIL_DB[@TAPS]] into *c; -EINVAL with the reason on stderr. */
static int parse_case(const char *spec, struct paced_case *c)
{
	char buf[512], *at, *at2, *end;

	if (strlen(spec) >= sizeof(buf))
		goto bad;
	strcpy(buf, spec);
	c->spec = spec;
	c->tail_db = 0.0f;
	at = strchr(buf, '@');
	if (at) {
		*at++ = '\0';
		at2 = strchr(at, '@');
		if (at2)
			*at2++ = '\0';
		c->tail_db = strtof(at, &end);
		if (end == at || *end || !isfinite(c->tail_db) || c->tail_db > 0.0f)
			goto bad;
		if (at2) {
			c->taps = strtoul(at2, &end, 10);
			if (end == at2 || *end || at2[0] == '-' || c->taps == 0)
				goto bad;
		}
	}
	if (dsp_fir_layout_parse(buf, &c->layout) < 0)
		goto bad;
	if (c->taps == 0)
		c->taps = dsp_fir_layout_get_taps(&c->layout) < PACED_DEFAULT_TAPS
				  ? dsp_fir_layout_get_taps(&c->layout)
				  : PACED_DEFAULT_TAPS;
	if (c->taps > dsp_fir_layout_get_taps(&c->layout))
		goto bad;
	return 0;
bad:
	fprintf(stderr,
		"bench-fir-paced: case '%s': expected LAYOUT[@TAIL_DB[@TAPS]], e.g. "
		"'256x3 512x2 1024x2 2048x31@-60' (TAIL_DB <= 0, 0 < TAPS <= what the layout "
		"holds)\n",
		spec);
	return -EINVAL;
}

/* The convolver of c, its IR cut as asked; -errno with the case named on stderr. */
static int setup_case(struct paced_case *c, struct dsp_fft_cache *fft, const float *ir,
		      size_t calls)
{
	struct dsp_fir_config config = {.block = c->layout.block,
					.max_taps = dsp_fir_layout_get_taps(&c->layout),
					.cpu_flags = dsp_cpu_get_flags(),
					.fft = fft,
					.layout = &c->layout,
					.inputs = 2,
					.outputs = 2};
	int r = dsp_fir_ir_new_layout(fft, &c->layout, ir, c->taps, NULL, &c->ir);

	if (r == 0)
		r = dsp_fir_new(&config, &c->fir);
	if (r == 0) {
		c->routes[0] = (struct dsp_fir_route){.in = 0, .out = 0, .ir = c->ir};
		c->routes[1] = (struct dsp_fir_route){.in = 1, .out = 1, .ir = c->ir};
		r = dsp_fir_set_routes(c->fir, c->routes, 2, 0);
	}
	if (r == 0 && c->tail_db < 0.0f)
		r = dsp_fir_set_tail_db(c->fir, c->tail_db, 0);
	if (r == 0 && !(c->us = calloc(calls, sizeof(*c->us))))
		r = -ENOMEM;
	if (r < 0) {
		fprintf(stderr, "bench-fir-paced: case '%s': %s\n", c->spec, strerror(-r));
		return r;
	}
	c->kept = dsp_fir_ir_get_parts_for_tail(c->ir, c->tail_db);
	return 0;
}

static void print_cpu_model(void)
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
			const char *name = strchr(line, ':') + 1;

			name += strspn(name, " \t");
			printf("# %.*s\n", (int)strcspn(name, "\n"), name);
			break;
		}
	if (f)
		fclose(f);
}

/* Every case in turn, one call per period, until each has had `calls`. */
static void run_paced(struct paced_case *cases, unsigned n, size_t calls, double rate)
{
	unsigned block = cases[0].layout.block;
	long period_ns = (long)llround((double)block / rate * 1e9);
	float *in[2], *out[2];
	struct timespec next;
	uint32_t s = 1;

	for (unsigned c = 0; c < 2; c++) {
		in[c] = dsp_mem_alloc((size_t)block * sizeof(float));
		out[c] = dsp_mem_alloc((size_t)block * sizeof(float));
		if (!in[c] || !out[c]) {
			fprintf(stderr, "bench-fir-paced: out of memory\n");
			exit(1);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (size_t k = 0; k < calls * n; k++) {
		struct paced_case *pc = &cases[k % n];
		struct timespec now;
		double t0;

		/* late (preempted): the next call still waits a whole period, never runs hot */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec ||
		    (now.tv_sec == next.tv_sec && now.tv_nsec > next.tv_nsec))
			next = now;
		next.tv_nsec += period_ns;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		for (unsigned c = 0; c < 2; c++)
			for (unsigned i = 0; i < block; i++) {
				s = s * 1664525u + 1013904223u;
				in[c][i] = (float)(int32_t)s * 2.3283064e-10f;
			}
		t0 = thread_cpu_us();
		dsp_fir_process_matrix(pc->fir, (const float *const *)in, out, block);
		pc->us[k / n] = thread_cpu_us() - t0;
	}
	for (unsigned c = 0; c < 2; c++) {
		dsp_mem_free(in[c]);
		dsp_mem_free(out[c]);
	}
}

int main(int argc, char **argv)
{
	struct paced_case cases[PACED_MAX_CASES] = {0};
	struct sched_param sp = {.sched_priority = PACED_FIFO_PRIO};
	struct dsp_fft_cache *fft = NULL;
	size_t calls = 1000, longest = 0;
	double rate = 48000.0, first_median = 0.0;
	unsigned n = 0;
	bool fifo;
	float *ir;
	int i;

	for (i = 1; i < argc; i++) {
		bool calls_opt = strcmp(argv[i], "--calls") == 0;
		char *end = NULL;

		if ((calls_opt || strcmp(argv[i], "--rate") == 0) && i + 1 == argc) {
			fprintf(stderr, "bench-fir-paced: '%s' needs a value\n", argv[i]);
			return 2;
		} else if (calls_opt) {
			i++;
			calls = argv[i][0] == '-' ? 0 : strtoul(argv[i], &end, 10);
			if (end && *end)
				calls = 0; /* refused below */
		} else if (strcmp(argv[i], "--rate") == 0) {
			rate = strtod(argv[++i], &end);
			if (*end)
				rate = 0.0; /* refused below */
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			fprintf(stderr, "bench-fir-paced: unknown option '%s'\n", argv[i]);
			return 2;
		} else if (n == PACED_MAX_CASES) {
			fprintf(stderr, "bench-fir-paced: at most %u cases\n", PACED_MAX_CASES);
			return 2;
		} else if (parse_case(argv[i], &cases[n++]) < 0) {
			return 2;
		}
	}
	if (n == 0 || calls < 10 || !(rate >= 8000.0 && rate <= 384000.0)) {
		fprintf(stderr, "usage: bench-fir-paced [--calls N>=10] [--rate HZ] "
				"LAYOUT[@TAIL_DB[@TAPS]]...\n");
		return 2;
	}
	for (unsigned c = 1; c < n; c++)
		if (cases[c].layout.block != cases[0].layout.block) {
			fprintf(stderr,
				"bench-fir-paced: case '%s': block %u, the first case's is %u\n",
				cases[c].spec, cases[c].layout.block, cases[0].layout.block);
			return 2;
		}
	for (unsigned c = 0; c < n; c++)
		longest = cases[c].taps > longest ? cases[c].taps : longest;
	ir = room_ir(longest, rate);
	if (!ir || dsp_fft_cache_new(DSP_FFT_MEASURE, &fft) < 0) {
		fprintf(stderr, "bench-fir-paced: cannot make the IR or the FFT plan cache\n");
		return 1;
	}
	for (unsigned c = 0; c < n; c++)
		if (setup_case(&cases[c], fft, ir, calls) < 0)
			return 1;
	dsp_cpu_flush_denormals();
	fifo = sched_setscheduler(0, SCHED_FIFO, &sp) == 0;

	print_cpu_model();
	printf("# block %u at %.0f Hz: one call every %.3f ms, %zu calls per case, taking turns; "
	       "%s\n",
	       cases[0].layout.block, rate, cases[0].layout.block / rate * 1e3, calls,
	       fifo ? "SCHED_FIFO" : "SCHED_OTHER (SCHED_FIFO refused)");
	run_paced(cases, n, calls, rate);

	printf("# %-42s %7s %6s %10s %8s %8s %9s\n", "case (layout@tail_db@taps)", "taps", "kept",
	       "median us", "mean us", "p90 us", "median/1st");
	for (unsigned c = 0; c < n; c++) {
		struct paced_case *pc = &cases[c];
		double sum = 0.0, median;

		for (size_t k = 0; k < calls; k++)
			sum += pc->us[k];
		qsort(pc->us, calls, sizeof(*pc->us), cmp_double);
		median = pc->us[calls / 2];
		if (c == 0)
			first_median = median;
		printf("  %-42s %7zu %6zu %10.2f %8.2f %8.2f %9.2f\n", pc->spec, pc->taps, pc->kept,
		       median, sum / (double)calls, pc->us[calls * 9 / 10],
		       first_median > 0.0 ? median / first_median : 0.0);
	}
	for (unsigned c = 0; c < n; c++) {
		free(cases[c].us);
		dsp_fir_free(cases[c].fir);
		dsp_fir_ir_free(cases[c].ir);
	}
	dsp_fft_cache_free(fft);
	free(ir);
	return 0;
}
