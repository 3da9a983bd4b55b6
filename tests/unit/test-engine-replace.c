/* SPDX-License-Identifier: MIT */
/*
 * Property: a node that a reconfiguration must replace (its type cannot adopt the change in
 * place) is crossfaded from its old instance to its new one: a steady tone through it shows no
 * dip while it changes, and afterwards it is exactly the new node.
 *
 * A real RT thread runs cycles while the control thread reconfigures. The tone also feeds a
 * reference output directly, recorded in the same cycles, so every frame of the node's output
 * can be compared with what it should be:
 * - fir: no `ir` (identity, one tap) -> a 4096-tap IR that is the identity padded with zeros
 *   (beyond the instance's max_taps: replaced) -> a 16384-tap IR of 0.5 then zeros (beyond
 *   again: replaced) -> identity and the 4096 taps again (they fit now: updated in place). An
 *   equivalent IR must leave the output equal to the tone through the change (a fade out and
 *   in would dip it to silence); towards 0.5 the gain must move monotonically between the two;
 *   between changes the output is the tone times the IR's gain.
 * - mix: `input = t` -> `input = t, b` and back (its input channels change, 1 -> 2 -> 1: a new
 *   instance each time), b a quiet second tone: the output may differ from the tone by no more
 *   than b's amplitude at any time, and between changes equals t alone or t + b.
 * Run with 0 and 1 worker threads; in the TSan build (suite 'threads') for the hand-over of the
 * replaced instance from the RT thread back to the control thread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <sndfile.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/config/config.h"
#include "daemon/engine/engine.h"
#include "tests/unit/test-engine-harness.h"

#define MAX_FRAMES (RATE * 30)
#define AMPLITUDE  0.5  /* the tone t: -6.02 dB */
#define B_AMP      0.01 /* the tone b: -40 dB */
/* Float convolution by FFT against the exact tone: far below any audible change (-74 dB). */
#define TOL 1e-4

static char dir[64];

/* A mono 32-bit float WAV of taps samples: first, then zeros. */
static void write_ir(const char *name, size_t taps, float first)
{
	SF_INFO info = {
		.samplerate = RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
	float *buf = calloc(taps, sizeof(float));
	char path[128];
	SNDFILE *sf;

	assert_non_null(buf);
	buf[0] = first;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	sf = sf_open(path, SFM_WRITE, &info);
	assert_non_null(sf);
	assert_int_equal(sf_writef_float(sf, buf, (sf_count_t)taps), (sf_count_t)taps);
	assert_int_equal(sf_close(sf), 0);
	free(buf);
}

/* One configuration of a sequence and what the node's output must be while it runs. */
struct change {
	const char *graph;
	double gain;      /* output = gain * reference, once the change is complete */
	double extra;     /* ... plus at most this much (mix: tone b), 0 for none */
	bool replaces;    /* the node gets a new instance */
	const char *node; /* the node replaced or updated */
};

/* Frames the engine has run (what the RT thread has recorded, give or take the current cycle). */
static uint64_t engine_frames(struct eng_engine *e)
{
	struct eng_stats st;

	eng_engine_get_stats(e, false, &st);
	return st.frames;
}

static uint64_t node_runs(struct eng_engine *e, const char *name)
{
	struct eng_node_stats st[16];
	size_t n = eng_engine_get_node_stats(e, st, 16);

	for (size_t i = 0; i < n && i < 16; i++)
		if (strcmp(st[i].name, name) == 0)
			return st[i].runs;
	fail_msg("no node '%s'", name);
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/*
 * Checks frames [from, to) of the node's output (playback channel 1) against the reference
 * (channel 0): between g0 * ref and g1 * ref (in either order), plus at most extra. Returns the
 * worst excess beyond that band.
 */
static double band_excess(const struct test_engine_rt *rt, size_t from, size_t to, double g0,
			  double g1, double extra)
{
	const float *ref = rt->rec[0], *out = rt->rec[1];
	double lo = fmin(g0, g1), hi = fmax(g0, g1), worst = 0.0;

	for (size_t n = from; n < to && n < rt->frames; n++) {
		double r = ref[n], o = out[n];
		double a = lo * r, b = hi * r;
		double below = fmin(a, b) - o, above = o - fmax(a, b);

		worst = fmax(worst, fmax(below, above) - extra);
	}
	return worst;
}

static void run(const struct change *seq, size_t n_seq, unsigned workers)
{
	struct conf **confs = calloc(n_seq, sizeof(*confs));
	size_t *start = calloc(n_seq + 1, sizeof(*start)), *end = calloc(n_seq + 1, sizeof(*end));
	struct test_engine_rt rt;
	struct el_error err = {0};

	assert_true(confs && start && end);
	for (size_t i = 0; i < n_seq; i++)
		confs[i] =
			test_engine_conf("replace.conf", TEST_ENGINE_PACED, workers, seq[i].graph);
	test_engine_rt_start(&rt, confs[0], dir, MAX_FRAMES);
	for (size_t i = 1; i < n_seq; i++) {
		uint64_t before;

		sleep_ms(60); /* a steady stretch to check between changes */
		before = engine_frames(rt.engine);
		start[i] = before;
		assert_int_equal(eng_engine_configure(rt.engine, confs[i], dir, &err), 0);
		end[i] = engine_frames(rt.engine);
		/* A new instance has run only since the change began, a kept one for longer. */
		if (seq[i].replaces)
			assert_true(node_runs(rt.engine, seq[i].node) * BLOCK <= end[i] - before);
		else
			assert_true(node_runs(rt.engine, seq[i].node) * BLOCK > end[i] - before);
	}
	sleep_ms(60);
	test_engine_rt_stop(&rt);
	start[n_seq] = rt.frames;

	/* Change 0 is the graph the engine starts with: only its steady stretch is checked. */
	for (size_t i = 0; i < n_seq; i++) {
		/* While change i runs: between the old and the new gain. The fade cycles may also
		 * straddle the frame counts read around configure by one cycle each way. */
		size_t from = i ? (start[i] > BLOCK ? start[i] - BLOCK : 0) : 0;
		size_t to = i ? end[i] + BLOCK : 0;
		double during = i ? band_excess(&rt, from, to, seq[i - 1].gain, seq[i].gain,
						fmax(seq[i - 1].extra, seq[i].extra))
				  : 0.0;
		/* After it, until the next begins: exactly the new node. */
		double steady =
			band_excess(&rt, to, start[i + 1], seq[i].gain, seq[i].gain, seq[i].extra);

		printf("# workers %u, change %zu (%s): frames %zu..%zu; worst excess during %.2e, "
		       "after %.2e\n",
		       workers, i, seq[i].replaces ? "replaced" : "kept", from, to, during, steady);
		assert_true(during <= TOL);
		assert_true(steady <= TOL);
		if (seq[i].extra > 0.0 && start[i + 1] > to + RATE / 100) {
			/* The extra is really there: b, at its level, not faded away. */
			double peak = 0.0;

			for (size_t n = to; n < start[i + 1]; n++)
				peak = fmax(peak, fabs((double)rt.rec[1][n] - rt.rec[0][n]));
			assert_true(fabs(peak - seq[i].extra) < 0.05 * seq[i].extra);
		}
	}
	assert_true(rt.frames > 0.2 * RATE);
	test_engine_rt_done(&rt);
	for (size_t i = 0; i < n_seq; i++)
		conf_free(confs[i]);
	free(confs);
	free(start);
	free(end);
}

/* The tone t and the reference output come first (playback channel 0); the node's output is
 * channel 1. */
#define REF                                                                                        \
	"[node.t]\ntype = tone\nfreq = 441\nlevel_db = -6.0206\n"                                  \
	"[node.ref]\ntype = output\ninput = t\n"

#define FIR(ir) REF "[node.f]\ntype = fir\ninput = t\n" ir "[node.o]\ntype = output\ninput = f\n"

static const struct change fir_seq[] = {
	{FIR(""), 1.0, 0.0, false, "f"},
	{FIR("ir = pad4096.wav\n"), 1.0, 0.0, true, "f"},
	{FIR("ir = half16384.wav\n"), 0.5, 0.0, true, "f"},
	{FIR(""), 1.0, 0.0, false, "f"},
	{FIR("ir = pad4096.wav\n"), 1.0, 0.0, false, "f"},
};

#define MIX(in, extra)                                                                             \
	REF extra "[node.m]\ntype = mix\ninput = " in "\n[node.o]\ntype = output\ninput = m\n"
#define TONE_B "[node.b]\ntype = tone\nfreq = 1000\nlevel_db = -40\n"

static const struct change mix_seq[] = {
	{MIX("t", ""), 1.0, 0.0, false, "m"},
	{MIX("t, b", TONE_B), 1.0, B_AMP, true, "m"},
	{MIX("t", ""), 1.0, 0.0, true, "m"},
	{MIX("t, b", TONE_B), 1.0, B_AMP, true, "m"},
};

static void test_fir_no_workers(void **state)
{
	(void)state;
	run(fir_seq, EL_N_ELEMENTS(fir_seq), 0);
}

static void test_fir_one_worker(void **state)
{
	(void)state;
	run(fir_seq, EL_N_ELEMENTS(fir_seq), 1);
}

static void test_mix_no_workers(void **state)
{
	(void)state;
	run(mix_seq, EL_N_ELEMENTS(mix_seq), 0);
}

static void test_mix_one_worker(void **state)
{
	(void)state;
	run(mix_seq, EL_N_ELEMENTS(mix_seq), 1);
}

/* The tone through a fir of the IR in name (max_taps 16384: an IR change updates in place). */
static struct conf *fir_graph(const char *name, const char *gain_db)
{
	char graph[512];

	snprintf(graph, sizeof(graph),
		 "[node.t]\ntype = tone\nfreq = 375\nlevel_db = -6.0206\n"
		 "[node.f]\ntype = fir\ninput = t\nir = %s\nmax_taps = 16384\ngain_db = %s\n"
		 "[node.out]\ntype = output\ninput = f\n",
		 name, gain_db);
	return test_engine_conf("stopped.conf", TEST_ENGINE_PACED, 0, graph);
}

/* The peak of what the paced thread recorded from frame from to frame to. */
static double peak(const struct test_engine_rt *rt, size_t from, size_t to)
{
	double p = 0;

	for (size_t i = from; i < to && i < rt->frames; i++)
		p = fmax(p, fabs(rt->rec[0][i]));
	return p;
}

/*
 * The server goes away (a JACK restart: the engine is kept, stopped); two reloads change the
 * fir while stopped; the server comes back. The first reload's update started the node's fade
 * from the old IR, frozen until cycles run again: the plan holding that update must outlive
 * the fade, not be freed by the second reload (a use-after-free under ASan before). Then the
 * last IR plays, and a reload while running frees what was kept.
 */
static void test_fir_updates_while_stopped(void **state)
{
	struct conf *a = fir_graph("pad4096.wav", "0"), *b = fir_graph("half16384.wav", "0");
	struct conf *b6 = fir_graph("half16384.wav", "-6.0206");
	struct test_engine_rt rt;
	struct el_error err = {0};
	const struct timespec settle = {0, 100 * 1000000}; /* 100 ms: 20 fades of 5 ms */
	size_t resumed;

	(void)state;
	test_engine_rt_start(&rt, a, dir, RATE * 10);
	nanosleep(&settle, NULL);
	test_engine_rt_stop(&rt); /* the server goes away */
	assert_true(fabs(peak(&rt, rt.frames / 2, rt.frames) - AMPLITUDE) < TOL);
	assert_int_equal(eng_engine_configure(rt.engine, b, dir, &err), 0);
	assert_int_equal(eng_engine_configure(rt.engine, b6, dir, &err), 0);
	resumed = rt.frames;
	atomic_store_explicit(&rt.stop, false, memory_order_relaxed);
	eng_engine_set_running(rt.engine, true); /* the server comes back */
	test_engine_rt_thread(rt.engine, &rt.thread, rt_test_engine_main, &rt);
	nanosleep(&settle, NULL);
	assert_int_equal(eng_engine_configure(rt.engine, a, dir, &err), 0);
	test_engine_rt_stop(&rt);
	/* between the frozen fades' end and the last reload: the tone through 0.5, at -6 dB */
	assert_true(fabs(peak(&rt, resumed + RATE / 20, resumed + RATE / 12) - AMPLITUDE / 4) <
		    TOL);
	test_engine_rt_done(&rt);
	conf_free(a);
	conf_free(b);
	conf_free(b6);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-engine-replace-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	write_ir("pad4096.wav", 4096, 1.0f);
	write_ir("half16384.wav", 16384, 0.5f);
	return 0;
}

static int teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/pad4096.wav", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/half16384.wav", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fir_no_workers),
		cmocka_unit_test(test_fir_one_worker),
		cmocka_unit_test(test_mix_no_workers),
		cmocka_unit_test(test_mix_one_worker),
		cmocka_unit_test(test_fir_updates_while_stopped),
	};

	test_engine_rtsan_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
