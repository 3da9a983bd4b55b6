/* SPDX-License-Identifier: MIT */
/*
 * Property: the fir node convolves each channel with its impulse response as direct
 * convolution in double does, to better than -120 dB, for IRs read from real WAV files (one
 * per channel, one shared by all, resampled from 44.1 kHz to 48 kHz, scaled by gain_db); with
 * no IR it is bit-exact; an IR swap by update crossfades with no step beyond the signal's own
 * slope plus the fade's and then equals a fresh instance of the new IR bit for bit, also when
 * the update arrives during a running fade, and with no ghost of audio from before a pause in
 * which the engine skipped the node; bad values give `FILE:LINE: key 'K': ...`. All of it holds
 * with non-uniform layouts too (`layout` written out, or `auto` from the engine's planner), where
 * a swap's fade first waits for the long partitions and the displaced IR outlives the engine's
 * fade time until the convolvers stop reading it (ASan would see it otherwise). A `route` matrix
 * sums its routes per output as direct convolution does, to the same -120 dB.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sndfile.h>
#include <soxr.h>

#include "daemon/engine/node.h"
#include "dsp/fir-layout.h"
#include "tests/unit/test-node-util.h"
#include "tests/unit/test-util.h"

extern const struct node_type node_type_fir;

#define FRAMES (BLOCK * 100u)
#define TAPS   3000u

static char dir[64];
static float sig[2][FRAMES], got[2][FRAMES], ref_a[2][FRAMES], ref_b[2][FRAMES];
static float *const in[2] = {sig[0], sig[1]}, *const out[2] = {got[0], got[1]};
static float *const out_a[2] = {ref_a[0], ref_a[1]}, *const out_b[2] = {ref_b[0], ref_b[1]};
static float ir[2][TAPS];
static const unsigned stereo[] = {2};

/* Writes channels arrays of frames samples as a 32-bit float WAV at rate into dir/name. */
static void write_wav(const char *name, unsigned channels, unsigned rate, size_t frames,
		      const float *const *data)
{
	SF_INFO info = {.samplerate = (int)rate,
			.channels = (int)channels,
			.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
	float *buf = malloc(frames * channels * sizeof(float));
	char path[128];
	SNDFILE *sf;

	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (size_t i = 0; i < frames; i++)
		for (unsigned c = 0; c < channels; c++)
			buf[i * channels + c] = data[c][i];
	sf = sf_open(path, SFM_WRITE, &info);
	assert_non_null(sf);
	assert_int_equal(sf_writef_float(sf, buf, (sf_count_t)frames), (sf_count_t)frames);
	assert_int_equal(sf_close(sf), 0);
	free(buf);
}

/* A decaying random response (different per seed). */
static void make_ir(float *h, size_t n, uint64_t seed)
{
	struct test_rng rng;

	test_rng_init(&rng, seed);
	for (size_t i = 0; i < n; i++)
		h[i] = (float)(test_rng_uniform(&rng) * exp(-4.0 * (double)i / n) * 0.2);
}

/* out = x * (g h) in double, over FRAMES frames. */
static void direct(const float *x, const float *h, size_t n, double g, double *y)
{
	for (size_t i = 0; i < FRAMES; i++) {
		double s = 0.0;

		for (size_t k = 0; k < n && k <= i; k++)
			s += (double)h[k] * x[i - k];
		y[i] = g * s;
	}
}

static double check_direct(const float *x, const float *h, size_t n, double g, const float *y)
{
	double *want = malloc(FRAMES * sizeof(double)), db;

	assert_non_null(want);
	direct(x, h, n, g, want);
	db = test_error_db(want, y, FRAMES);
	free(want);
	assert_true(db < -120.0);
	return db;
}

static int setup(void **state)
{
	const float *pa[2] = {ir[0], ir[1]}, *pb[1] = {ir[1]};

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-node-fir-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	harness_fill_noise(in, 2, FRAMES, 0.5, 11);
	make_ir(ir[0], TAPS, 1);
	make_ir(ir[1], TAPS, 2);
	write_wav("stereo.wav", 2, RATE, TAPS, pa);
	write_wav("mono.wav", 1, RATE, TAPS, pb);
	return 0;
}

static int teardown(void **state)
{
	static const char *const names[] = {"stereo.wav", "mono.wav", "short.wav", "long.wav",
					    "three.wav",  "r44.wav",  "swap.wav"};
	char path[128];

	(void)state;
	for (size_t i = 0; i < EL_N_ELEMENTS(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	return rmdir(dir);
}

static void harness_dir(struct harness *h, const unsigned *groups, size_t n)
{
	harness_init(h, groups, n);
	h->env.base_dir = dir;
}

/* No ir: bit-exact, tail 1, silence reported. */
static void test_identity(void **state)
{
	static float zero[2][FRAMES];
	float *const z[2] = {zero[0], zero[1]};
	struct harness h;
	void *f;

	(void)state;
	harness_dir(&h, stereo, 1);
	f = harness_create(&h, &node_type_fir, "[node.f]\ntype = fir\ninput = a\n");
	assert_int_equal(node_type_fir.get_out_channels(f), 2);
	assert_int_equal(harness_tail(&node_type_fir, f), 1);
	assert_false(harness_run(&node_type_fir, f, in, 2, out, 2, 0, FRAMES));
	assert_memory_equal(sig, got, sizeof(sig));
	assert_true(harness_run(&node_type_fir, f, z, 2, out, 2, 0, FRAMES));
	node_type_fir.destroy(f);
	harness_done(&h);
}

/* One IR per channel from a stereo file, and -6 dB applied to it. */
static void test_per_channel(void **state)
{
	struct harness h;
	void *f;

	(void)state;
	harness_dir(&h, stereo, 1);
	f = harness_create(&h, &node_type_fir,
			   "[node.f]\ntype = fir\ninput = a\nir = stereo.wav\ngain_db = -6\n");
	assert_int_equal(harness_tail(&node_type_fir, f), TAPS);
	harness_run(&node_type_fir, f, in, 2, out, 2, 0, FRAMES);
	for (unsigned c = 0; c < 2; c++)
		printf("# per-channel IR, channel %u: error %.1f dB\n", c,
		       check_direct(sig[c], ir[c], TAPS, pow(10.0, -6.0 / 20.0), got[c]));
	node_type_fir.destroy(f);
	harness_done(&h);
}

/* A mono file is shared by both channels. */
static void test_shared(void **state)
{
	struct harness h;
	void *f;

	(void)state;
	harness_dir(&h, stereo, 1);
	f = harness_create(&h, &node_type_fir, "[node.f]\ntype = fir\ninput = a\nir = mono.wav\n");
	harness_run(&node_type_fir, f, in, 2, out, 2, 0, FRAMES);
	for (unsigned c = 0; c < 2; c++)
		printf("# shared IR, channel %u: error %.1f dB\n", c,
		       check_direct(sig[c], ir[1], TAPS, 1.0, got[c]));
	node_type_fir.destroy(f);
	harness_done(&h);
}

/* A 44.1 kHz file: the node convolves with what soxr (VHQ, scaled 44100/48000) makes of it. */
static void test_resampled(void **state)
{
	const size_t n44 = 2000;
	soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
	soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
	static float h44[2000], h48[2200];
	const float *p[1] = {h44};
	size_t idone = 0, odone = 0;
	struct harness h;
	void *f;

	(void)state;
	make_ir(h44, n44, 3);
	write_wav("r44.wav", 1, 44100, n44, p);
	io.scale = 44100.0 / 48000.0;
	assert_null(soxr_oneshot(44100, 48000, 1, h44, n44, &idone, h48, EL_N_ELEMENTS(h48), &odone,
				 &io, &q, NULL));
	assert_int_equal(odone, (size_t)ceil(n44 * 48000.0 / 44100.0));
	harness_dir(&h, (const unsigned[]){1}, 1);
	f = harness_create(&h, &node_type_fir, "[node.f]\ntype = fir\ninput = a\nir = r44.wav\n");
	assert_int_equal(harness_tail(&node_type_fir, f), odone);
	harness_run(&node_type_fir, f, in, 1, out, 1, 0, FRAMES);
	printf("# 44.1 kHz IR at 48 kHz (%zu -> %zu taps): error %.1f dB against soxr by hand\n",
	       n44, odone, check_direct(sig[0], h48, odone, 1.0, got[0]));
	node_type_fir.destroy(f);
	harness_done(&h);
}

/*
 * Runs f over the whole input, applying update u at frame `at`; returns the largest step of
 * the output during the fade over the bound max(|dA|, |dB|) + max|B - A| / fade (A and B the
 * outputs of the old and the new IR alone), as a ratio (<= 1 means no click).
 */
/*
 * Runs f to `at`, applies u, and frees u `free_after` frames later as the engine does
 * (SIZE_MAX: the caller frees it); then the largest step of the output in [at, at + fade) over
 * what the two filters' own slopes and gap allow (at most 1 for a click-free swap).
 */
static double swap_ratio_freeing(void *f, void *u, size_t at, size_t fade, size_t free_after)
{
	double step = 0.0, slope = 0.0, gap = 0.0;

	harness_run(&node_type_fir, f, in, 2, out, 2, 0, at);
	harness_apply(&node_type_fir, f, u);
	if (free_after != SIZE_MAX) {
		harness_run(&node_type_fir, f, in, 2, out, 2, at, at + free_after);
		node_type_fir.update_free(u);
		harness_run(&node_type_fir, f, in, 2, out, 2, at + free_after, FRAMES);
	} else {
		harness_run(&node_type_fir, f, in, 2, out, 2, at, FRAMES);
	}
	for (unsigned c = 0; c < 2; c++)
		for (size_t i = at; i < at + fade; i++) {
			step = fmax(step, fabs((double)got[c][i] - got[c][i - 1]));
			slope = fmax(slope, fabs((double)ref_a[c][i] - ref_a[c][i - 1]));
			slope = fmax(slope, fabs((double)ref_b[c][i] - ref_b[c][i - 1]));
			gap = fmax(gap, fabs((double)ref_b[c][i] - ref_a[c][i]));
		}
	return step / (slope + gap / (double)fade + 1e-6);
}

static double swap_ratio(void *f, void *u, size_t at, size_t fade)
{
	return swap_ratio_freeing(f, u, at, fade, SIZE_MAX);
}

static void *run_fresh(struct harness *h, const char *text, float *const *dst)
{
	void *f = harness_create(h, &node_type_fir, text);

	harness_run(&node_type_fir, f, in, 2, dst, 2, 0, FRAMES);
	return f;
}

/* stereo.wav -> mono.wav by update: crossfaded, then exactly the mono.wav instance. */
static void test_swap(void **state)
{
	const char *a = "[node.f]\ntype = fir\ninput = a\nir = stereo.wav\n";
	const char *b = "[node.f]\ntype = fir\ninput = a\nir = mono.wav\n";
	const size_t at = BLOCK * 40, fade = EL_ALIGN_UP(FADE, BLOCK);
	struct harness h;
	void *f, *u = NULL;
	double ratio;

	(void)state;
	harness_dir(&h, stereo, 1);
	node_type_fir.destroy(run_fresh(&h, a, out_a));
	node_type_fir.destroy(run_fresh(&h, b, out_b));
	f = harness_create(&h, &node_type_fir, a);
	assert_int_equal(harness_call(&h, &node_type_fir, f, a, &u), 0);
	assert_null(u); /* same file, not rewritten: nothing to do */
	assert_int_equal(harness_call(&h, &node_type_fir, f, b, &u), 0);
	assert_non_null(u);
	ratio = swap_ratio(f, u, at, fade);
	printf("# IR swap: largest step %.3f of the bound\n", ratio);
	assert_true(ratio <= 1.0);
	assert_int_equal(harness_tail(&node_type_fir, f), TAPS);
	node_type_fir.update_free(u);
	assert_memory_equal(got[0] + at + fade, ref_b[0] + at + fade,
			    (FRAMES - at - fade) * sizeof(float));
	assert_memory_equal(got[1] + at + fade, ref_b[1] + at + fade,
			    (FRAMES - at - fade) * sizeof(float));
	node_type_fir.destroy(f);
	harness_done(&h);
}

/* From the identity to an IR: the convolvers kept the history, so the result is exact. */
static void test_swap_from_identity(void **state)
{
	const char *a = "[node.f]\ntype = fir\ninput = a\nmax_taps = 4096\n";
	const char *b = "[node.f]\ntype = fir\ninput = a\nir = stereo.wav\nmax_taps = 4096\n";
	const size_t at = BLOCK * 40, fade = EL_ALIGN_UP(FADE, BLOCK);
	struct harness h;
	void *f, *u = NULL;

	(void)state;
	harness_dir(&h, stereo, 1);
	node_type_fir.destroy(run_fresh(&h, a, out_a));
	node_type_fir.destroy(run_fresh(&h, b, out_b));
	f = harness_create(&h, &node_type_fir, a);
	assert_int_equal(harness_call(&h, &node_type_fir, f, b, &u), 0);
	assert_true(swap_ratio(f, u, at, fade) <= 1.0);
	node_type_fir.update_free(u);
	assert_memory_equal(got[0] + at + fade, ref_b[0] + at + fade,
			    (FRAMES - at - fade) * sizeof(float));
	/* Longer than the convolvers hold: a new instance is needed. */
	assert_int_equal(harness_call(&h, &node_type_fir, f,
				      "[node.f]\ntype = fir\ninput = a\nir = stereo.wav\n"
				      "max_taps = 5000\n",
				      &u),
			 -EOPNOTSUPP);
	node_type_fir.destroy(f);
	harness_done(&h);
}

/*
 * Two updates one cycle apart: the second arrives while the first fade runs and waits for it.
 * Once both fades are over the output is exactly the second IR's. Run under ASan, this also
 * shows that every displaced set is freed once and only after its fade.
 */
static void test_update_during_fade(void **state)
{
	const char *a = "[node.f]\ntype = fir\ninput = a\nir = stereo.wav\n";
	const char *b = "[node.f]\ntype = fir\ninput = a\nir = mono.wav\n";
	const char *c = "[node.f]\ntype = fir\ninput = a\nir = stereo.wav\ngain_db = -3\n";
	const size_t at = BLOCK * 40, fade = EL_ALIGN_UP(FADE, BLOCK);
	struct harness h;
	void *f, *u1 = NULL, *u2 = NULL;

	(void)state;
	harness_dir(&h, stereo, 1);
	node_type_fir.destroy(run_fresh(&h, c, out_b));
	f = harness_create(&h, &node_type_fir, a);
	assert_int_equal(harness_call(&h, &node_type_fir, f, b, &u1), 0);
	assert_int_equal(harness_call(&h, &node_type_fir, f, c, &u2), 0);
	harness_run(&node_type_fir, f, in, 2, out, 2, 0, at);
	harness_apply(&node_type_fir, f, u1);
	harness_run(&node_type_fir, f, in, 2, out, 2, at, at + BLOCK);
	harness_apply(&node_type_fir, f, u2);
	/* The engine frees an update fade_frames after its apply. */
	harness_run(&node_type_fir, f, in, 2, out, 2, at + BLOCK, at + fade);
	node_type_fir.update_free(u1);
	harness_run(&node_type_fir, f, in, 2, out, 2, at + fade, at + BLOCK + fade);
	node_type_fir.update_free(u2);
	harness_run(&node_type_fir, f, in, 2, out, 2, at + BLOCK + fade, FRAMES);
	assert_memory_equal(got[0] + at + 2 * fade, ref_b[0] + at + 2 * fade,
			    (FRAMES - at - 2 * fade) * sizeof(float));
	assert_memory_equal(got[1] + at + 2 * fade, ref_b[1] + at + 2 * fade,
			    (FRAMES - at - 2 * fade) * sizeof(float));
	/* A third swap after all that still works and frees what the deferred one displaced. */
	assert_int_equal(harness_call(&h, &node_type_fir, f, a, &u1), 0);
	harness_apply(&node_type_fir, f, u1);
	harness_run(&node_type_fir, f, in, 2, out, 2, 0, 2 * fade);
	node_type_fir.update_free(u1);
	node_type_fir.destroy(f);
	harness_done(&h);
}

/*
 * Three updates a block apart: the first fades, the second waits (queued), the third replaces
 * the second, which never reaches a convolver and goes with the third update. Once the first
 * fade and the one to the third set are over, the output is exactly the third IR's. Each update
 * is freed fade_frames after its apply, as the engine does: under ASan, nothing is read after
 * it is freed, nor freed twice.
 */
static void test_updates_pile_up(void **state)
{
	const char *a = "[node.f]\ntype = fir\ninput = a\nir = stereo.wav\n";
	const char *b = "[node.f]\ntype = fir\ninput = a\nir = mono.wav\n";
	const char *b2 = "[node.f]\ntype = fir\ninput = a\nir = stereo.wav\ngain_db = -6\n";
	const char *c = "[node.f]\ntype = fir\ninput = a\nir = stereo.wav\ngain_db = -3\n";
	const size_t at = BLOCK * 40, fade = EL_ALIGN_UP(FADE, BLOCK);
	struct harness h;
	void *f, *u[3] = {NULL, NULL, NULL};

	(void)state;
	harness_dir(&h, stereo, 1);
	node_type_fir.destroy(run_fresh(&h, c, out_b));
	f = harness_create(&h, &node_type_fir, a);
	assert_int_equal(harness_call(&h, &node_type_fir, f, b, &u[0]), 0);
	assert_int_equal(harness_call(&h, &node_type_fir, f, b2, &u[1]), 0);
	assert_int_equal(harness_call(&h, &node_type_fir, f, c, &u[2]), 0);
	harness_run(&node_type_fir, f, in, 2, out, 2, 0, at);
	/* block by block: update k applied at at + k blocks, freed fade_frames later */
	for (size_t n = at; n < FRAMES; n += BLOCK) {
		for (size_t k = 0; k < 3; k++) {
			if (n == at + k * BLOCK + fade)
				node_type_fir.update_free(u[k]);
			if (n == at + k * BLOCK)
				harness_apply(&node_type_fir, f, u[k]);
		}
		harness_run(&node_type_fir, f, in, 2, out, 2, n, n + BLOCK);
	}
	/* the queued fade starts when the first ends (at + fade) and lasts a fade: over by
	 * at + 2 fades, at the latest at + 2 blocks + fade (a block's schedule) */
	assert_memory_equal(got[0] + at + 2 * BLOCK + fade, ref_b[0] + at + 2 * BLOCK + fade,
			    (FRAMES - at - 2 * BLOCK - fade) * sizeof(float));
	assert_memory_equal(got[1] + at + 2 * BLOCK + fade, ref_b[1] + at + 2 * BLOCK + fade,
			    (FRAMES - at - 2 * BLOCK - fade) * sizeof(float));
	node_type_fir.destroy(f);
	harness_done(&h);
}

/*
 * The engine stops calling a node whose input has been silent for longer than its tail. Here a
 * bypassed fir (identity, but room for 4096 taps) hears noise, two silent blocks, is skipped
 * for 18 blocks, and as input resumes it is given a 3000-tap IR. What comes out after the fade
 * must be the IR applied to the input since the resumption alone, as if the pause had been
 * processed: no ghost of the audio from before the pause (to -120 dB, against direct
 * convolution).
 */
static void test_resume_after_skip(void **state)
{
	const size_t quiet = BLOCK * 40, skip = BLOCK * 42, resume = BLOCK * 60;
	const size_t fade = EL_ALIGN_UP(FADE, BLOCK);
	static float x[2][FRAMES], x0[FRAMES];
	float *const xin[2] = {x[0], x[1]};
	double *want = malloc(FRAMES * sizeof(double)), db;
	struct harness h;
	void *f, *u = NULL;

	(void)state;
	assert_non_null(want);
	memcpy(x, sig, sizeof(x));
	memset(x[0] + quiet, 0, (resume - quiet) * sizeof(float));
	memset(x[1] + quiet, 0, (resume - quiet) * sizeof(float));
	harness_dir(&h, stereo, 1);
	f = harness_create(&h, &node_type_fir,
			   "[node.f]\ntype = fir\ninput = a\nmax_taps = 4096\n");
	harness_run(&node_type_fir, f, xin, 2, out, 2, 0, skip);
	assert_true(harness_tail(&node_type_fir, f) <=
		    skip - quiet); /* the engine would skip now */
	assert_int_equal(harness_call(&h, &node_type_fir, f,
				      "[node.f]\ntype = fir\ninput = a\nir = stereo.wav\n"
				      "max_taps = 4096\n",
				      &u),
			 0);
	harness_apply(&node_type_fir, f, u);
	harness_run(&node_type_fir, f, xin, 2, out, 2, resume, FRAMES);
	node_type_fir.update_free(u);
	/* The reference hears nothing before the resumption. */
	memcpy(x0 + resume, x[0] + resume, (FRAMES - resume) * sizeof(float));
	direct(x0, ir[0], TAPS, 1.0, want);
	db = test_error_db(want + resume + fade, got[0] + resume + fade, FRAMES - resume - fade);
	printf("# after a skipped pause: error %.1f dB against the resumed input alone\n", db);
	assert_true(db < -120.0);
	free(want);
	node_type_fir.destroy(f);
	harness_done(&h);
}

/* A rewritten file is a change even under the same name. */
static void test_rewritten_file(void **state)
{
	const char *s = "[node.f]\ntype = fir\ninput = a\nir = swap.wav\n";
	const float *p1[1] = {ir[0]}, *p2[1] = {ir[1]};
	struct harness h;
	void *f, *u = NULL;

	(void)state;
	harness_dir(&h, stereo, 1);
	write_wav("swap.wav", 1, RATE, TAPS, p1);
	f = harness_create(&h, &node_type_fir, s);
	usleep(20000); /* a later mtime on any file system with sub-second stamps */
	write_wav("swap.wav", 1, RATE, TAPS / 2, p2);
	assert_int_equal(harness_call(&h, &node_type_fir, f, s, &u), 0);
	assert_non_null(u);
	harness_apply(&node_type_fir, f, u);
	harness_run(&node_type_fir, f, in, 2, out, 2, 0, FRAMES);
	node_type_fir.update_free(u);
	assert_int_equal(harness_tail(&node_type_fir, f), TAPS / 2);
	node_type_fir.destroy(f);
	harness_done(&h);
}

/* A planner that answers with a growing layout and remembers what it was asked. */
static unsigned planned_taps, planned_channels;

static int grow_planner(void *ctx, unsigned block, size_t taps, unsigned channels,
			uint32_t cpu_flags, struct dsp_fft_cache *fft, struct dsp_fir_layout *ret,
			double *ret_cost_ns)
{
	(void)ctx;
	*ret_cost_ns = 1234.0;
	(void)cpu_flags;
	(void)fft;
	planned_taps = (unsigned)taps;
	planned_channels = channels;
	return dsp_fir_layout_growing(block, taps, 2, 4 * block, NULL, ret);
}

/* Non-uniform layouts, written out or planned: the same convolution, to -120 dB. */
static void test_layouts(void **state)
{
	static const char *const texts[] = {
		"[node.f]\ntype = fir\ninput = a\nir = stereo.wav\nlayout = 256x3 512x2 1024x2\n",
		"[node.f]\ntype = fir\ninput = a\nir = stereo.wav\n",
	};
	struct eng_fir_planner planner = {.choose = grow_planner};
	struct node_detail d[12];
	struct harness h;

	(void)state;
	harness_dir(&h, stereo, 1);
	h.env.fir_planner = &planner;
	for (size_t t = 0; t < EL_N_ELEMENTS(texts); t++) {
		void *f = harness_create(&h, &node_type_fir, texts[t]);

		assert_int_equal(harness_tail(&node_type_fir, f), TAPS);
		harness_run(&node_type_fir, f, in, 2, out, 2, 0, FRAMES);
		for (unsigned c = 0; c < 2; c++)
			printf("# layout %s, channel %u: error %.1f dB\n", t ? "auto" : "written",
			       c, check_direct(sig[c], ir[c], TAPS, 1.0, got[c]));
		/* what node.get shows */
		assert_int_equal(node_type_fir.get_details(f, d, EL_N_ELEMENTS(d)), 12);
		assert_string_equal(d[9].key, "ir_cached");
		assert_true(d[9].number == 0.0); /* no disk thread here: no cache */
		assert_string_equal(d[10].key, "ir_prepare_ms");
		assert_string_equal(d[11].key, "routes");
		assert_true(d[11].number == 2); /* the diagonal */
		assert_true(d[8].number > 0.0 && d[10].number > 0.0);
		assert_string_equal(d[0].key, "layout");
		assert_string_equal(d[0].text, "256x3 512x2 1024x2");
		assert_string_equal(d[3].key, "ir_key");
		assert_string_equal(d[3].text, "ir"); /* the one `ir`: no ir_RATE in the section */
		assert_string_equal(d[4].key, "ir_file");
		assert_non_null(strstr(d[4].text, "stereo.wav"));
		assert_string_equal(d[5].key, "ir_taps");
		assert_true(d[5].number == TAPS);
		assert_true(d[6].number == 2 && d[7].number == RATE);
		assert_true(d[2].number == (t ? 1.234 : 0.0)); /* the planner's measure, µs */
		node_type_fir.destroy(f);
	}
	assert_int_equal(planned_taps, TAPS);
	assert_int_equal(planned_channels, 2);
	harness_done(&h);
}

/*
 * A swap between two IRs of a non-uniform layout: the fade waits for the long partitions (up
 * to three of their blocks), stays click-free, and ends exactly at the new IR; the set it left
 * is freed only with a later update, after the convolvers stopped reading it.
 */
static void test_swap_nonuniform(void **state)
{
	const char *a =
		"[node.f]\ntype = fir\ninput = a\nir = stereo.wav\nlayout = 256x3 512x2 1024x2\n";
	const char *b =
		"[node.f]\ntype = fir\ninput = a\nir = mono.wav\nlayout = 256x3 512x2 1024x2\n";
	const char *c = "[node.f]\ntype = fir\ninput = a\nir = mono.wav\ngain_db = -1\n"
			"layout = 256x3 512x2 1024x2\n";
	const size_t at = BLOCK * 40, settle = EL_ALIGN_UP(FADE, BLOCK) + 3 * 1024;
	struct harness h;
	void *f, *u = NULL, *u2 = NULL;
	double ratio;

	(void)state;
	harness_dir(&h, stereo, 1);
	node_type_fir.destroy(run_fresh(&h, a, out_a));
	node_type_fir.destroy(run_fresh(&h, b, out_b));
	f = harness_create(&h, &node_type_fir, a);
	assert_int_equal(harness_call(&h, &node_type_fir, f, b, &u), 0);
	/* the engine frees an update fade_frames after applying it: here, long before the
	 * convolvers' fade ends; under ASan a set freed with it would be read after free */
	ratio = swap_ratio_freeing(f, u, at, settle, EL_ALIGN_UP(FADE, BLOCK));
	printf("# non-uniform IR swap: largest step %.3f of the bound\n", ratio);
	assert_true(ratio <= 1.0);
	assert_memory_equal(got[0] + at + settle, ref_b[0] + at + settle,
			    (FRAMES - at - settle) * sizeof(float));
	assert_memory_equal(got[1] + at + settle, ref_b[1] + at + settle,
			    (FRAMES - at - settle) * sizeof(float));
	/* a third set: its update carries away the first, faded out by now */
	assert_int_equal(harness_call(&h, &node_type_fir, f, c, &u2), 0);
	harness_apply(&node_type_fir, f, u2);
	harness_run(&node_type_fir, f, in, 2, out, 2, 0, BLOCK * 4);
	node_type_fir.update_free(u2);
	/* another layout is another instance */
	assert_int_equal(harness_call(&h, &node_type_fir, f,
				      "[node.f]\ntype = fir\ninput = a\nir = mono.wav\n"
				      "layout = uniform\n",
				      &u),
			 -EOPNOTSUPP);
	node_type_fir.destroy(f);
	harness_done(&h);
}

static void test_bad_config(void **state)
{
	const float *p3[3] = {ir[0], ir[1], ir[0]};
	char want[256];
	struct harness h;

	(void)state;
	harness_dir(&h, stereo, 1);
	write_wav("three.wav", 3, RATE, 100, p3);
	snprintf(want, sizeof(want),
		 "test.conf:4: key 'ir': '%s/missing.wav': cannot open: No such file or directory",
		 dir);
	assert_string_equal(harness_error(&h, &node_type_fir,
					  "[node.f]\ntype = fir\ninput = a\nir = missing.wav\n",
					  -ENOENT),
			    want);
	snprintf(want, sizeof(want),
		 "test.conf:4: key 'ir': channel mismatch: '%s/three.wav' has 3 channels, the "
		 "input has 2",
		 dir);
	assert_string_equal(harness_error(&h, &node_type_fir,
					  "[node.f]\ntype = fir\ninput = a\nir = three.wav\n",
					  -EINVAL),
			    want);
	snprintf(want, sizeof(want),
		 "test.conf:5: key 'max_taps': expected at least 3000 (the taps of "
		 "'%s/mono.wav'), got 100",
		 dir);
	assert_string_equal(harness_error(&h, &node_type_fir,
					  "[node.f]\ntype = fir\ninput = a\nir = mono.wav\n"
					  "max_taps = 100\n",
					  -EINVAL),
			    want);
	assert_string_equal(
		harness_error(&h, &node_type_fir, "[node.f]\ntype = fir\ninput = a\ngain_db = x\n",
			      -EINVAL),
		"test.conf:4: key 'gain_db': expected a number from -120 to 24, got 'x'");
	assert_string_equal(
		harness_error(&h, &node_type_fir,
			      "[node.f]\ntype = fir\ninput = a\nlayout = 256x2 512x9\n", -EINVAL),
		"test.conf:4: key 'layout': expected auto, uniform or partitions as SIZExCOUNT "
		"(e.g. '256x3 512x2 1024x30'), sizes growing powers of two, each segment starting "
		"at least 2 x SIZE - 256 taps in; got '256x2 512x9'");
	assert_string_equal(
		harness_error(&h, &node_type_fir,
			      "[node.f]\ntype = fir\ninput = a\nlayout = 64x3 128x2\n", -EINVAL),
		"test.conf:4: key 'layout': the first partition size must be the block (256), got "
		"64");
	assert_string_equal(
		harness_error(&h, &node_type_fir,
			      "[node.f]\ntype = fir\ninput = a\nir = mono.wav\nlayout = 256x3 "
			      "512x1\n",
			      -EINVAL),
		"test.conf:5: key 'layout': '256x3 512x1' holds 1280 taps, fewer than the 3000 "
		"needed (max_taps or the impulse response)");
	harness_done(&h);
}

/* dst = a * ha + b * hb in double (b NULL: the first product alone). */
static double check_two(const float *a, const float *ha, const float *b, const float *hb,
			const float *y)
{
	double *want = malloc(FRAMES * sizeof(double)), *second = malloc(FRAMES * sizeof(double));
	double db;

	assert_non_null(want);
	assert_non_null(second);
	direct(a, ha, TAPS, 1.0, want);
	if (b) {
		direct(b, hb, TAPS, 1.0, second);
		for (size_t i = 0; i < FRAMES; i++)
			want[i] += second[i];
	}
	db = test_error_db(want, y, FRAMES);
	free(want);
	free(second);
	assert_true(db < -120.0);
	return db;
}

/*
 * A 2 x 3 matrix (`route`): output 3 sums both inputs through the file's two channels the
 * other way round, against direct convolution in double; then new routes to as many outputs
 * are an update, and routes to fewer outputs a new instance.
 */
static void test_route_matrix(void **state)
{
	static const char text[] = "[node.f]\ntype = fir\ninput = a\nir = stereo.wav\n"
				   "route = 1>1:1, 2 > 2 : 2,1>3:2, 2>3:1\n";
	static float third[FRAMES];
	float *const outs[3] = {got[0], got[1], third};
	struct node_detail d[12];
	struct harness h;
	void *f, *u = NULL;

	(void)state;
	harness_dir(&h, stereo, 1);
	f = harness_create(&h, &node_type_fir, text);
	assert_int_equal(node_type_fir.get_out_channels(f), 3);
	assert_int_equal(node_type_fir.get_details(f, d, EL_N_ELEMENTS(d)), 12);
	assert_true(d[11].number == 4);
	harness_run(&node_type_fir, f, in, 2, outs, 3, 0, FRAMES);
	printf("# route 1>1:1, error %.1f dB\n", check_two(sig[0], ir[0], NULL, NULL, got[0]));
	printf("# route 2>2:2, error %.1f dB\n", check_two(sig[1], ir[1], NULL, NULL, got[1]));
	printf("# routes 1>3:2 + 2>3:1, error %.1f dB\n",
	       check_two(sig[0], ir[1], sig[1], ir[0], third));
	/* the same key: nothing to do; other routes to three outputs: an update */
	assert_int_equal(harness_call(&h, &node_type_fir, f, text, &u), 0);
	assert_null(u);
	assert_int_equal(harness_call(&h, &node_type_fir, f,
				      "[node.f]\ntype = fir\ninput = a\nir = stereo.wav\n"
				      "route = 1>3:1, 2>1:2\n",
				      &u),
			 0);
	assert_non_null(u);
	node_type_fir.update_free(u);
	assert_int_equal(harness_call(&h, &node_type_fir, f,
				      "[node.f]\ntype = fir\ninput = a\nir = stereo.wav\n"
				      "route = 1>1:1, 2>2:2\n",
				      &u),
			 -EOPNOTSUPP);
	node_type_fir.destroy(f);
	harness_done(&h);
}

/* A `route` that cannot be: each message names the key, the route and what is wrong. */
static void test_route_errors(void **state)
{
	static const struct {
		const char *route, *want;
	} cases[] = {
		{"1>1", "test.conf:5: key 'route': item '1>1': expected IN>OUT:IR (input channel > "
			"output channel : IR channel)"},
		{"1>1:1, 1>0:2", "test.conf:5: key 'route': item '1>0:2': channels are numbered "
				 "from 1 to 64"},
		{"3>1:1",
		 "test.conf:5: key 'route': route 1 (3>1:1): no input channel 3, the input "
		 "has 2"},
		{"1>1:1,1>1:1,2>1:1", "test.conf:5: key 'route': 3 routes, more than the 2 x 1 "
				      "pairs of channels"},
		{",", "test.conf:5: key 'route': item '': expected IN>OUT:IR (input channel > "
		      "output channel : IR channel)"},
	};
	char text[256], want[256];
	struct harness h;

	(void)state;
	harness_dir(&h, stereo, 1);
	for (size_t i = 0; i < EL_N_ELEMENTS(cases); i++) {
		snprintf(text, sizeof(text),
			 "[node.f]\ntype = fir\ninput = a\nir = stereo.wav\nroute = %s\n",
			 cases[i].route);
		assert_string_equal(harness_error(&h, &node_type_fir, text, -EINVAL),
				    cases[i].want);
	}
	snprintf(want, sizeof(want),
		 "test.conf:5: key 'route': route 2 (2>2:3): no IR channel 3, '%s/stereo.wav' has "
		 "2",
		 dir);
	assert_string_equal(harness_error(&h, &node_type_fir,
					  "[node.f]\ntype = fir\ninput = a\nir = stereo.wav\n"
					  "route = 1>1:1, 2>2:3\n",
					  -EINVAL),
			    want);
	harness_done(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_per_channel),
		cmocka_unit_test(test_shared),
		cmocka_unit_test(test_resampled),
		cmocka_unit_test(test_swap),
		cmocka_unit_test(test_swap_from_identity),
		cmocka_unit_test(test_update_during_fade),
		cmocka_unit_test(test_updates_pile_up),
		cmocka_unit_test(test_resume_after_skip),
		cmocka_unit_test(test_rewritten_file),
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_swap_nonuniform),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_route_matrix),
		cmocka_unit_test(test_route_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
