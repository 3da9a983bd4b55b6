/* SPDX-License-Identifier: MIT */
/*
 * bench/bench-engine.c: what the engine itself costs, measured against references in the same
 * run.
 *
 *  1. Overhead per node per cycle: a chain of 64 unity-gain nodes against a chain of 1, at
 *     block 64, so (t64 - t1) / 63 is what one more node costs; the reference is memcpy of one
 *     block (the work a unity gain does), so "overhead" = per-node cost - memcpy. Also a wide
 *     graph (64 gains side by side, mixed) with 0 and 1 worker threads.
 *  2. Render realtime factor (audio seconds per CPU second) of the default graph and of the
 *     default graph with a 65536-tap FIR, stereo, block 256, in memory (no file I/O).
 *
 * The bench thread drives eng_engine_cycle() itself, as the offline renderer does.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sndfile.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "common/el-error.h"
#include "daemon/config/config.h"
#include "daemon/default-graph.h"
#include "daemon/engine/engine.h"
#include "daemon/nodes/nodes.h"
#include "dsp/cpu.h"

#define RUNS 7

static double now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct eng_engine *engine_for(const char *text, const char *base_dir)
{
	struct conf *c = NULL;
	struct eng_settings s;
	struct eng_engine *e = NULL;
	struct el_error err = {0};

	if (conf_load_string(text, "bench.conf", &c, &err) < 0 ||
	    eng_settings_from_conf(c, &s, &err) < 0 || eng_engine_new(&s, node_types, &e, &err) < 0 ||
	    eng_engine_configure(e, c, base_dir, &err) < 0) {
		fprintf(stderr, "bench-engine: %s\n", err.message);
		exit(1);
	}
	conf_free(c);
	return e;
}

/* Median over RUNS of the CPU time per cycle (s) of `cycles` cycles. */
static double cycle_time(struct eng_engine *e, unsigned block, unsigned cycles)
{
	static float bufs[4][8192];
	const float *capture[2] = {bufs[0], bufs[1]};
	float *playback[2] = {bufs[2], bufs[3]};
	double t[RUNS];

	for (unsigned i = 0; i < block; i++)
		bufs[0][i] = bufs[1][i] =
			(float)sin(i * 0.05) * 0.5f; /* not silence: no skipping */
	for (int r = 0; r < RUNS; r++) {
		double t0 = now(CLOCK_PROCESS_CPUTIME_ID);
		for (unsigned c = 0; c < cycles; c++)
			eng_engine_cycle(e, capture, 2, playback, 2, block);
		t[r] = (now(CLOCK_PROCESS_CPUTIME_ID) - t0) / cycles;
	}
	qsort(t, RUNS, sizeof(t[0]), cmp);
	return t[RUNS / 2];
}

static char *chain(unsigned n, unsigned workers, int wide)
{
	size_t size = 256 + n * 96, used = 0;
	char *s = malloc(size);

	used += (size_t)snprintf(s + used, size - used,
				 "[engine]\nblock = 64\nworkers = %u\npool_buffers = 1024\n"
				 "[node.in]\ntype = input\nchannels = 1\n",
				 workers);
	for (unsigned i = 0; i < n; i++) {
		if (wide || i == 0)
			used += (size_t)snprintf(s + used, size - used,
						 "[node.g%u]\ntype = gain\ninput = in\n", i);
		else
			used += (size_t)snprintf(s + used, size - used,
						 "[node.g%u]\ntype = gain\ninput = g%u\n", i,
						 i - 1);
	}
	if (wide) {
		used += (size_t)snprintf(s + used, size - used,
					 "[node.sum]\ntype = mix\ninput = g0");
		for (unsigned i = 1; i < n; i++)
			used += (size_t)snprintf(s + used, size - used, ", g%u", i);
		snprintf(s + used, size - used, "\n[node.out]\ntype = output\ninput = sum\n");
	} else {
		snprintf(s + used, size - used, "[node.out]\ntype = output\ninput = g%u\n", n - 1);
	}
	return s;
}

static double graph_cycle(unsigned n, unsigned workers, int wide)
{
	char *text = chain(n, workers, wide);
	struct eng_engine *e = engine_for(text, ".");
	double t = cycle_time(e, 64, 20000);

	eng_engine_free(e);
	free(text);
	return t;
}

static double memcpy_time(void)
{
	static float a[64], b[64];
	double t0 = now(CLOCK_PROCESS_CPUTIME_ID);

	for (int i = 0; i < 10000000; i++) {
		memcpy(a, b, sizeof(a));
		__asm__ volatile("" : : "r"(a) : "memory");
	}
	return (now(CLOCK_PROCESS_CPUTIME_ID) - t0) / 1e7;
}

static void bench_overhead(void)
{
	double cp = memcpy_time();

	printf("# engine overhead, block 64, median of %d runs of 20000 cycles (CPU time)\n", RUNS);
	printf("%-28s %8s %12s %14s\n", "graph", "workers", "us/cycle", "ns/node");
	for (unsigned w = 0; w <= 1; w++) {
		double t1 = graph_cycle(1, w, 0), t64 = graph_cycle(64, w, 0);
		double per = (t64 - t1) / 63;
		printf("%-28s %8u %12.2f %14.1f\n", "chain of 64 gains", w, t64 * 1e6, per * 1e9);
		if (w == 0)
			printf("%-28s %8s %12s %14.1f  (per-node overhead %.1f ns = %.1fx "
			       "memcpy)\n",
			       "memcpy of one 64-frame block", "-", "-", cp * 1e9, (per - cp) * 1e9,
			       per / cp);
	}
	for (unsigned w = 0; w <= 1; w++)
		printf("%-28s %8u %12.2f\n", "64 gains side by side", w,
		       graph_cycle(64, w, 1) * 1e6);
}

static void bench_render(const char *label, const char *text)
{
	struct eng_engine *e = engine_for(text, "/tmp");
	double t = cycle_time(e, 256, 4000);

	printf("%-36s %10.1f\n", label, 256.0 / 48000.0 / t);
	eng_engine_free(e);
}

/* A 65536-tap IR file (decaying noise) for the FIR graph; returns its path. */
static const char *write_ir(void)
{
	static char path[] = "/tmp/bench-engine-ir.wav";
	SF_INFO info = {
		.samplerate = 48000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	static float h[65536];
	uint64_t x = 12345;

	if (!f)
		exit(1);
	for (size_t i = 0; i < 65536; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		h[i] = (float)(((double)(x >> 11) / 9007199254740992.0 - 0.5) *
			       exp(-6.9 * (double)i / 65536.0));
	}
	sf_writef_float(f, h, 65536);
	sf_close(f);
	return path;
}

int main(void)
{
	char fir_graph[1024];
	const char *ir = write_ir();

	bench_overhead();
	snprintf(fir_graph, sizeof(fir_graph),
		 "%s[node.room]\ntype = fir\nir = %s\ninput = volume\n"
		 "[node.out2]\ntype = output\ninput = room\n",
		 el_default_graph, ir);
	printf("# render realtime factor, stereo, block 256, in memory (audio s per CPU s)\n");
	bench_render("default graph", el_default_graph);
	bench_render("default graph + 65536-tap FIR", fir_graph);
	unlink(ir);
	return 0;
}
