/* SPDX-License-Identifier: MIT */
/*
 * Property: the player plays its file bit for bit, through a real disk thread and real files.
 *  - A long file (streamed by the disk thread through io_uring) comes out sample for sample,
 *    with no underrun when the disk thread has the time a real cycle gives it, and the player
 *    stops by itself after the last frame: silence, and `playing` reads 0.
 *  - A short file (played from memory) loops sample-exactly; a long one loops in the stream.
 *  - `start = wait` is silence until `playing` is set; the start fades in over the fade
 *    length and is the file exactly from there on.
 *  - A seek while playing is a crossfade (old + g (new - old), exactly): at once in memory, once
 *    the disk thread has the new position when streamed (the old one plays on meanwhile); after
 *    it the output is the file exactly from the new position. A streamed seek whose new position
 *    does not come in time (the disk stalled) fades out and in instead: no sample larger than
 *    the file's largest, exact after the fade-in.
 *  - A disk that does not keep up (the disk thread stalled): the ring plays out, then silence,
 *    underruns counted, and the cycle never waits.
 *  - A file at another rate plays as soxr (very high quality) resamples it.
 *  - A second player of the same file takes it from the sample cache; a file changed since is
 *    decoded again.
 *  - A missing file, a file that is not audio, a section without `file` are refused with a
 *    message naming the file or key.
 * The RT entry points run inside the RTSan brackets (test-node-util.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sndfile.h>
#include <soxr.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/disk/disk.h"
#include "daemon/disk/samples.h"
#include "tests/unit/test-node-util.h"
#include "tests/unit/test-tmpdir.h"

extern const struct node_type node_type_player;

enum { P_PLAYING, P_POSITION_S, P_GAIN_DB, P_UNDERRUNS, P_DURATION_S, P_BUFFERED_S };

#define LONG_FRAMES  (RATE * 12u) /* longer than PLAYER_MEMORY_SECONDS: streamed */
#define SHORT_FRAMES 30000u       /* played from memory; not a multiple of the block */

static char dir[256];
static struct disk *disk;
static float *long_x, *short_x; /* interleaved stereo */

static void path_of(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", dir, name);
}

static void write_float_wav(const char *name, unsigned rate, const float *x, size_t frames)
{
	SF_INFO info = {
		.samplerate = (int)rate, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
	char p[PATH_MAX];
	SNDFILE *f;

	path_of(p, name);
	f = sf_open(p, SFM_WRITE, &info);
	assert_non_null(f);
	assert_int_equal(sf_writef_float(f, x, (sf_count_t)frames), (sf_count_t)frames);
	sf_close(f);
}

static float *noise(size_t frames, uint64_t seed)
{
	float *x = malloc(frames * 2 * sizeof(float));
	struct test_rng rng;

	assert_non_null(x);
	test_rng_init(&rng, seed);
	test_fill_noise(&rng, x, frames * 2, 0.5);
	return x;
}

static int group_setup(void **state)
{
	struct el_error err = {0};
	char cache[PATH_MAX];

	(void)state;
	if (test_tmpdir_make(dir, sizeof(dir), "test-node-player") < 0)
		return -1;
	long_x = noise(LONG_FRAMES, 1);
	short_x = noise(SHORT_FRAMES, 2);
	write_float_wav("long.wav", RATE, long_x, LONG_FRAMES);
	write_float_wav("short.wav", RATE, short_x, SHORT_FRAMES);
	path_of(cache, "cache");
	if (disk_new(cache, NULL, &disk, &err) < 0) {
		printf("# %s\n", err.message);
		return -1;
	}
	printf("# disk thread: %s\n", disk_get_method(disk));
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	disk = disk_free(disk);
	free(long_x);
	free(short_x);
	return test_tmpdir_remove(dir);
}

struct rig {
	struct harness h;
	void *p;
	float *out[2];
	size_t frames;
	bool streams; /* the disk thread reads it (source "stream") */
};

/* What rig_init's env says of background prefetch (false: on battery). */
static bool rig_prefetch = true;

static void rig_init(struct rig *g, const char *text, size_t frames)
{
	harness_init(&g->h, NULL, 0);
	g->h.env.disk = disk;
	g->h.env.prefetch = rig_prefetch;
	g->h.env.base_dir = dir;
	g->p = harness_create(&g->h, &node_type_player, text);
	g->frames = (frames + BLOCK - 1) / BLOCK * BLOCK; /* whole blocks are processed */
	{
		struct node_detail d[8];
		size_t n = node_type_player.get_details(g->p, d, 8);

		g->streams = false;
		for (size_t i = 0; i < n; i++)
			if (strcmp(d[i].key, "source") == 0)
				g->streams = strcmp(d[i].text, "stream") == 0;
	}
	for (unsigned c = 0; c < 2; c++) {
		g->out[c] = calloc(g->frames, sizeof(float));
		assert_non_null(g->out[c]);
	}
}

static void rig_done(struct rig *g)
{
	node_type_player.destroy(g->p);
	free(g->out[0]);
	free(g->out[1]);
	harness_done(&g->h);
}

static double param(struct rig *g, unsigned id);

/*
 * Until the disk thread has read `frames` ahead, or has read nothing more for a second (the
 * file ended): what a real cycle's pace gives it, whatever the load on this machine.
 */
static void wait_buffered(struct rig *g, size_t frames)
{
	const struct timespec ms = {.tv_nsec = 1000000L};
	double last = -1.0;

	if (!g->streams)
		return; /* played from memory: nothing to wait for */
	for (unsigned still = 0; still < 1000; still++) {
		double b = param(g, P_BUFFERED_S) * RATE;

		if (b >= (double)frames)
			return;
		if (b != last)
			still = 0;
		last = b;
		nanosleep(&ms, NULL);
	}
}

/*
 * Blocks [from, to), step blocks at a time, each time once the disk thread has read 32 blocks
 * ahead (so a step of 1 block also waits out a seek before the next block).
 */
static void rig_run_by(struct rig *g, size_t from, size_t to, size_t step)
{
	for (size_t at = from; at < to; at += step * BLOCK) {
		size_t end = at + step * BLOCK < to ? at + step * BLOCK : to;

		wait_buffered(g, 32 * BLOCK);
		harness_run(&node_type_player, g->p, NULL, 0, g->out, 2, at, end);
	}
}

static void rig_run(struct rig *g, size_t from, size_t to)
{
	rig_run_by(g, from, to, 32);
}

static double param(struct rig *g, unsigned id)
{
	double v = -1.0;

	assert_int_equal(node_type_player.get_param(g->p, id, 0, &v), 0);
	return v;
}

/* out[from, from + n) is x (interleaved stereo) from frame first, wrapping at x_frames. */
static void assert_plays(struct rig *g, size_t from, size_t n, const float *x, size_t x_frames,
			 size_t first)
{
	for (size_t i = 0; i < n; i++) {
		size_t k = (first + i) % x_frames;

		for (unsigned c = 0; c < 2; c++) {
			if (g->out[c][from + i] != x[k * 2 + c]) {
				printf("# frame %zu, channel %u: %g, expected file frame %zu: %g\n",
				       from + i, c, g->out[c][from + i], k, x[k * 2 + c]);
				fail();
			}
		}
	}
}

static float peak(const float *x, size_t n)
{
	float m = 0.0f;

	for (size_t i = 0; i < n; i++)
		m = fmaxf(m, fabsf(x[i]));
	return m;
}

static void test_stream_plays_file_exactly(void **state)
{
	const size_t frames = LONG_FRAMES + 40 * BLOCK;
	struct rig g;

	(void)state;
	rig_init(&g, "[node.p]\ntype = player\nfile = long.wav\n", frames);
	assert_float_equal(param(&g, P_DURATION_S), 12.0, 1e-9);
	rig_run(&g, 0, frames);
	assert_plays(&g, 0, LONG_FRAMES, long_x, LONG_FRAMES, 0);
	for (size_t i = LONG_FRAMES; i < frames; i++)
		assert_true(g.out[0][i] == 0.0f && g.out[1][i] == 0.0f);
	assert_float_equal(param(&g, P_PLAYING), 0.0, 0.0);
	assert_float_equal(param(&g, P_UNDERRUNS), 0.0, 0.0);
	printf("# streamed %u frames bit-exact, then silence; 0 underruns\n", LONG_FRAMES);
	rig_done(&g);
}

static void test_loops_are_sample_exact(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, "[node.p]\ntype = player\nfile = short.wav\nloop = yes\n", 4 * SHORT_FRAMES);
	rig_run(&g, 0, g.frames);
	assert_plays(&g, 0, g.frames, short_x, SHORT_FRAMES, 0);
	rig_done(&g);

	rig_init(&g, "[node.p]\ntype = player\nfile = long.wav\nloop = yes\n",
		 2 * LONG_FRAMES + 1000 * BLOCK);
	rig_run(&g, 0, g.frames);
	assert_plays(&g, 0, g.frames, long_x, LONG_FRAMES, 0);
	assert_float_equal(param(&g, P_UNDERRUNS), 0.0, 0.0);
	printf("# loops: memory 4 x %u frames, stream 2.4 x %u frames, sample-exact\n",
	       SHORT_FRAMES, LONG_FRAMES);
	rig_done(&g);
}

static void test_wait_then_play_fades_in(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g, "[node.p]\ntype = player\nfile = short.wav\nstart = wait\n", 20 * BLOCK);
	assert_true(harness_run(&node_type_player, g.p, NULL, 0, g.out, 2, 0, 4 * BLOCK));
	assert_float_equal(param(&g, P_PLAYING), 0.0, 0.0);
	assert_int_equal(harness_set(&node_type_player, g.p, P_PLAYING, 1.0), 0);
	rig_run(&g, 4 * BLOCK, g.frames);
	for (size_t i = 0; i < 4 * BLOCK; i++)
		assert_true(g.out[0][i] == 0.0f);
	/* the fade-in scales frames 0 .. FADE; then the file itself */
	assert_plays(&g, 4 * BLOCK + FADE, g.frames - 4 * BLOCK - FADE, short_x, SHORT_FRAMES,
		     FADE);
	assert_true(peak(g.out[0], 4 * BLOCK + FADE) <= peak(short_x, 2 * SHORT_FRAMES));
	rig_done(&g);
}

/* Plays, seeks to `to` at frame at, and checks the output is the file from `to` after the fades. */
static void check_seek(const char *text, const float *x, size_t x_frames, size_t at, size_t to)
{
	struct rig g;
	size_t settled = 0;

	rig_init(&g, text, at + 200 * BLOCK);
	rig_run(&g, 0, at);
	assert_plays(&g, 0, at, x, x_frames, 0);
	assert_int_equal(harness_set(&node_type_player, g.p, P_POSITION_S, (double)to / RATE), 0);
	rig_run_by(&g, at, g.frames, 1);
	/* the new position starts at a block boundary after the fade-out: the first one from which
	 * on the output is the file from `to` once the fade-in is over */
	for (size_t s = at; s + FADE + 3 < g.frames && !settled; s += BLOCK) {
		bool same = true;

		for (size_t k = 0; k < 3; k++)
			same = same && g.out[0][s + FADE + k] == x[(to + FADE + k) * 2];
		if (same)
			settled = s;
	}
	assert_true(settled >= at);
	/* until then the old position played on; then a crossfade: old + g (new - old),
	 * g = (i + 1) / FADE */
	assert_plays(&g, 0, settled, x, x_frames, 0);
	for (size_t i = 0; i < FADE; i++) {
		float gain = (float)(i + 1) * (1.0f / (float)FADE);
		float old = x[(settled + i) % x_frames * 2], young = x[(to + i) * 2];

		assert_true(g.out[0][settled + i] == old + gain * (young - old));
	}
	/* to the end of the output, or of the file (no loop: silence after it) */
	assert_plays(&g, settled + FADE, EL_MIN(g.frames - settled - FADE, x_frames - to - FADE), x,
		     x_frames, to + FADE);
	assert_true(peak(g.out[0] + at, settled + FADE - at) <= peak(x, 2 * x_frames));
	printf("# seek at %zu to %zu: crossfaded %zu frames later, exact after it\n", at, to,
	       settled - at);
	rig_done(&g);
}

static void test_seek_crossfades_and_lands_exactly(void **state)
{
	(void)state;
	check_seek("[node.p]\ntype = player\nfile = short.wav\n", short_x, SHORT_FRAMES, 40 * BLOCK,
		   1234);
	check_seek("[node.p]\ntype = player\nfile = long.wav\n", long_x, LONG_FRAMES, 400 * BLOCK,
		   9 * RATE + 17);
}

/*
 * A streamed seek whose new position does not come (the disk stalled): the old position plays on
 * while its kept frames last, fades out in time, and the new one fades in once the disk is back.
 */
static void test_stream_seek_without_disk_fades(void **state)
{
	const size_t at = 100 * BLOCK, to = 3 * RATE + 5, stalled_for = 80 * BLOCK;
	size_t quiet = 0, settled = 0;
	struct rig g;

	(void)state;
	rig_init(&g, "[node.p]\ntype = player\nfile = long.wav\n", at + stalled_for + 100 * BLOCK);
	rig_run(&g, 0, at);
	disk_set_stalled(disk, true);
	assert_int_equal(harness_set(&node_type_player, g.p, P_POSITION_S, (double)to / RATE), 0);
	harness_run(&node_type_player, g.p, NULL, 0, g.out, 2, at, at + stalled_for);
	disk_set_stalled(disk, false);
	rig_run_by(&g, at + stalled_for, g.frames, 1);
	/* the old position went on, then faded out to silence before the stall ended */
	for (size_t i = at; i < at + stalled_for && !quiet; i++)
		if (g.out[0][i] != long_x[i * 2])
			quiet = i;
	assert_true(quiet > at);
	assert_plays(&g, 0, quiet, long_x, LONG_FRAMES, 0);
	assert_true(g.out[0][at + stalled_for - 1] == 0.0f);
	for (size_t s = at + stalled_for; s + FADE + 3 < g.frames && !settled; s += BLOCK)
		if (g.out[0][s + FADE] == long_x[(to + FADE) * 2] &&
		    g.out[0][s + FADE + 1] == long_x[(to + FADE + 1) * 2])
			settled = s;
	assert_true(settled > 0);
	assert_plays(&g, settled + FADE, g.frames - settled - FADE, long_x, LONG_FRAMES, to + FADE);
	assert_true(peak(g.out[0] + at, g.frames - at) <= peak(long_x, 2 * LONG_FRAMES));
	printf("# stalled seek: the old position played %zu more frames, faded out; the new one "
	       "faded in %zu frames after the disk came back, exact after it\n",
	       quiet - at, settled - at - stalled_for);
	rig_done(&g);
}

static const char *detail(struct rig *g, const char *key, char *buf)
{
	struct node_detail d[8];
	size_t n = node_type_player.get_details(g->p, d, 8);

	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].key, key) == 0)
			return strcpy(buf, d[i].text);
	return "";
}

/*
 * On battery (no prefetch) a waiting player of a file not in the cache is made without decoding
 * it: silent, deferred; asked to play, it wants an update, which decodes the file and hands the
 * instance its source in the cycle; it fades in and plays the file exactly. A change of its
 * settings is a new instance, not such an update.
 */
static void test_deferred_until_first_use(void **state)
{
	const size_t frames = 200 * BLOCK;
	char buf[NODE_DETAIL_TEXT_MAX];
	const char *text = "[node.p]\ntype = player\nfile = later.wav\nstart = wait\n";
	struct disk_cache_stats before, after;
	void *update = NULL;
	struct rig g;

	(void)state;
	write_float_wav("later.wav", RATE, long_x, LONG_FRAMES);
	disk_get_cache_stats(disk, &before);
	rig_prefetch = false;
	rig_init(&g, text, frames);
	rig_prefetch = true;
	assert_string_equal(detail(&g, "source", buf), "deferred");
	assert_float_equal(param(&g, P_DURATION_S), 12.0, 1e-9);
	disk_get_cache_stats(disk, &after);
	assert_int_equal(after.lookups, before.lookups); /* nothing decoded, nothing looked up */
	assert_false(node_type_player.wants_update(g.p, &g.h.env));

	/* asked to play: silent until the update, remembered */
	assert_true(harness_run(&node_type_player, g.p, NULL, 0, g.out, 2, 0, 4 * BLOCK));
	assert_int_equal(harness_set(&node_type_player, g.p, P_PLAYING, 1.0), 0);
	assert_true(harness_run(&node_type_player, g.p, NULL, 0, g.out, 2, 4 * BLOCK, 8 * BLOCK));
	assert_true(node_type_player.wants_update(g.p, &g.h.env));
	/* another file is another instance */
	assert_int_equal(harness_call(&g.h, &node_type_player, g.p,
				      "[node.p]\ntype = player\nfile = short.wav\nstart = wait\n",
				      &update),
			 -EOPNOTSUPP);
	assert_int_equal(harness_call(&g.h, &node_type_player, g.p, text, &update), 0);
	assert_non_null(update);
	harness_apply(&node_type_player, g.p, update);
	assert_false(node_type_player.wants_update(g.p, &g.h.env));
	assert_string_equal(detail(&g, "source", buf), "stream");
	rig_run(&g, 8 * BLOCK, frames);
	node_type_player.update_free(update);
	for (size_t i = 0; i < 8 * BLOCK; i++)
		assert_true(g.out[0][i] == 0.0f && g.out[1][i] == 0.0f);
	assert_plays(&g, 8 * BLOCK + FADE, frames - 8 * BLOCK - FADE, long_x, LONG_FRAMES, FADE);
	assert_true(peak(g.out[0], frames) <= peak(long_x, 2 * LONG_FRAMES));
	rig_done(&g);

	/* prefetch allowed again: due without being asked */
	rig_prefetch = false;
	write_float_wav("later2.wav", RATE, short_x, SHORT_FRAMES);
	rig_init(&g, "[node.p]\ntype = player\nfile = later2.wav\nstart = wait\n", BLOCK);
	rig_prefetch = true;
	assert_false(node_type_player.wants_update(g.p, &g.h.env));
	g.h.env.prefetch = true;
	assert_true(node_type_player.wants_update(g.p, &g.h.env));
	rig_done(&g);
	printf("# deferred: silent and undecoded until asked; then decoded, faded in, exact\n");
}

/* A disk that does not keep up: the ring runs dry, the cycle never waits, underruns counted. */
static void test_underrun_is_silence_and_counted(void **state)
{
	const size_t frames = 4 * RATE; /* more than the ring holds */
	size_t first_silent = 0;
	struct timespec t0, t1;
	struct rig g;

	(void)state;
	rig_init(&g, "[node.p]\ntype = player\nfile = long.wav\n", frames);
	disk_set_stalled(disk, true);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	harness_run(&node_type_player, g.p, NULL, 0, g.out, 2, 0, g.frames);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	disk_set_stalled(disk, false);
	for (size_t i = 0; i < g.frames && !first_silent; i++)
		if (g.out[0][i] == 0.0f && g.out[1][i] == 0.0f)
			first_silent = i;
	assert_true(first_silent > 0);
	assert_plays(&g, 0, first_silent, long_x, LONG_FRAMES, 0);
	for (size_t i = first_silent; i < g.frames; i++)
		assert_true(g.out[0][i] == 0.0f);
	assert_true(param(&g, P_UNDERRUNS) >= 1.0);
	printf("# stalled disk: %zu frames played from the ring, then silence; %.0f underruns; "
	       "%.1f ms for %zu frames (never waited)\n",
	       first_silent, param(&g, P_UNDERRUNS),
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
	       g.frames);
	rig_done(&g);
}

static void test_other_rate_is_resampled_by_soxr(void **state)
{
	const size_t in_frames = 44100, out_frames = 48000;
	float *x = noise(in_frames, 3), *ref = calloc(out_frames * 2 + 64, sizeof(float));
	soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
	soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
	size_t done = 0;
	struct rig g;

	(void)state;
	write_float_wav("at44k.wav", 44100, x, in_frames);
	assert_null(soxr_oneshot(44100, RATE, 2, x, in_frames, NULL, ref, out_frames, &done, &io,
				 &q, NULL));
	rig_init(&g, "[node.p]\ntype = player\nfile = at44k.wav\n", out_frames);
	rig_run(&g, 0, out_frames);
	assert_plays(&g, 0, done, ref, done, 0);
	printf("# 44.1 kHz file: %zu frames at 48 kHz, as soxr_oneshot gives them\n", done);
	rig_done(&g);
	free(x);
	free(ref);
}

/* The "cached" detail of a new player of file: 1 when it came from the sample cache. */
static double cached(const char *file)
{
	struct node_detail d[8];
	char text[256];
	double v = -1.0;
	struct rig g;
	size_t n;

	snprintf(text, sizeof(text), "[node.p]\ntype = player\nfile = %s\n", file);
	rig_init(&g, text, BLOCK);
	n = node_type_player.get_details(g.p, d, 8);
	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].key, "cached") == 0)
			v = d[i].number;
	rig_done(&g);
	return v;
}

static void test_cache_reused_until_the_file_changes(void **state)
{
	struct timespec times[2] = {{.tv_nsec = UTIME_NOW}, {.tv_nsec = UTIME_NOW}};
	float *x = noise(RATE, 4);
	char p[PATH_MAX];

	(void)state;
	write_float_wav("cache-me.wav", RATE, x, RATE);
	assert_float_equal(cached("cache-me.wav"), 0.0, 0.0);
	assert_float_equal(cached("cache-me.wav"), 1.0, 0.0);
	path_of(p, "cache-me.wav");
	assert_int_equal(utimensat(AT_FDCWD, p, times, 0), 0); /* as an editor saving it */
	assert_float_equal(cached("cache-me.wav"), 0.0, 0.0);
	assert_float_equal(cached("cache-me.wav"), 1.0, 0.0);
	free(x);
}

static void test_bad_files_refused(void **state)
{
	struct harness h;
	char p[PATH_MAX];
	FILE *f;

	(void)state;
	harness_init(&h, NULL, 0);
	h.env.disk = disk;
	h.env.base_dir = dir;
	assert_non_null(strstr(harness_error(&h, &node_type_player,
					     "[node.p]\ntype = player\nfile = nope.wav\n", -ENOENT),
			       "nope.wav"));
	path_of(p, "text.wav");
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("not audio\n", f);
	fclose(f);
	assert_non_null(strstr(harness_error(&h, &node_type_player,
					     "[node.p]\ntype = player\nfile = text.wav\n", -EINVAL),
			       "text.wav"));
	assert_non_null(
		strstr(harness_error(&h, &node_type_player, "[node.p]\ntype = player\n", -EINVAL),
		       "file"));
	assert_non_null(
		strstr(harness_error(&h, &node_type_player,
				     "[node.p]\ntype = player\nfile = short.wav\nstart = later\n",
				     -EINVAL),
		       "start"));
	harness_done(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_plays_file_exactly),
		cmocka_unit_test(test_loops_are_sample_exact),
		cmocka_unit_test(test_wait_then_play_fades_in),
		cmocka_unit_test(test_seek_crossfades_and_lands_exactly),
		cmocka_unit_test(test_stream_seek_without_disk_fades),
		cmocka_unit_test(test_deferred_until_first_use),
		cmocka_unit_test(test_underrun_is_silence_and_counted),
		cmocka_unit_test(test_other_rate_is_resampled_by_soxr),
		cmocka_unit_test(test_cache_reused_until_the_file_changes),
		cmocka_unit_test(test_bad_files_refused),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
