/* SPDX-License-Identifier: MIT */
/*
 * Property: the recorder writes what it is given, bit for bit, and loses nothing it could keep.
 *  - Its input, recorded through the real disk thread into a float WAV, reads back sample for
 *    sample with libsndfile; the input passes through unchanged.
 *  - `recording` 0 then 1 is a second take; a take never overwrites a file (that take fails,
 *    the first file keeps every frame); `%` patterns are expanded (strftime).
 *  - A disk too slow (the disk thread stalled, so the ring fills) ends the take as an overrun:
 * `recording` reads 0, the file is closed and holds a whole prefix of what was given.
 *  - A process killed with SIGKILL while recording leaves a file libsndfile opens, holding all
 *    but at most the last second of what was handed over.
 *  - A full disk (a 1 MiB tmpfs; skipped where mount(2) is refused) ends the take as failed,
 *    saying why, with a valid file up to there.
 *  - Bad sections are refused naming the key or the file.
 * The RT entry points run inside the RTSan brackets (test-node-util.h).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sndfile.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/disk/disk.h"
#include "tests/unit/test-node-util.h"
#include "tests/unit/test-tmpdir.h"

extern const struct node_type node_type_recorder;

#if defined(__SANITIZE_THREAD__)
#define TEST_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEST_UNDER_TSAN 1
#endif
#endif

enum { R_RECORDING, R_FRAMES, R_TAKES, R_OVERRUNS };

#define HALF (94u * BLOCK) /* about half a second */

static char dir[256];
static struct disk *disk;

static void path_of(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", dir, name);
}

static int group_setup(void **state)
{
	struct el_error err = {0};

	(void)state;
	if (test_tmpdir_make(dir, sizeof(dir), "test-node-recorder") < 0 ||
	    disk_new(NULL, dir, &disk, &err) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	disk = disk_free(disk);
	return test_tmpdir_remove(dir);
}

struct rig {
	struct harness h;
	void *rec;
	float *in[2], *out[2];
	size_t frames;
};

static const unsigned stereo[] = {2};

static void rig_init(struct rig *g, const char *text, size_t frames, uint64_t seed)
{
	struct test_rng rng;

	harness_init(&g->h, stereo, 1);
	g->h.env.disk = disk;
	g->rec = harness_create(&g->h, &node_type_recorder, text);
	g->frames = (frames + BLOCK - 1) / BLOCK * BLOCK; /* whole blocks are processed */
	test_rng_init(&rng, seed);
	for (unsigned c = 0; c < 2; c++) {
		g->in[c] = malloc(g->frames * sizeof(float));
		g->out[c] = malloc(g->frames * sizeof(float));
		assert_true(g->in[c] && g->out[c]);
		test_fill_noise(&rng, g->in[c], g->frames, 0.5);
	}
}

static void rig_free(struct rig *g)
{
	for (unsigned c = 0; c < 2; c++) {
		free(g->in[c]);
		free(g->out[c]);
	}
	harness_done(&g->h);
}

/* Ends the node: its take's file closed. */
static void rig_done(struct rig *g)
{
	node_type_recorder.destroy(g->rec);
	rig_free(g);
}

/* Blocks [from, to), 32 at a time with a disk poll's time after each: a real cycle's pace. */
static void rig_run(struct rig *g, size_t from, size_t to)
{
	const struct timespec pause = {.tv_nsec = 2L * DISK_POLL_MS * 1000000L};

	for (size_t at = from; at < to; at += 32 * BLOCK) {
		size_t end = at + 32 * BLOCK < to ? at + 32 * BLOCK : to;

		harness_run(&node_type_recorder, g->rec, g->in, 2, g->out, 2, at, end);
		nanosleep(&pause, NULL);
	}
}

static double param(struct rig *g, unsigned id)
{
	double v = -1.0;

	assert_int_equal(node_type_recorder.get_param(g->rec, id, 0, &v), 0);
	return v;
}

static const char *detail(struct rig *g, const char *key, char *buf)
{
	struct node_detail d[8];
	size_t n = node_type_recorder.get_details(g->rec, d, 8);

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].key, key) == 0)
			snprintf(buf, NODE_DETAIL_TEXT_MAX, "%s", d[i].text);
	return buf;
}

/* The file at path as libsndfile reads it: frames, and the first n frames equal in[] from 0. */
static sf_count_t assert_file_holds(const char *path, float *const *in, size_t max_frames)
{
	SF_INFO info = {0};
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	float *x;

	if (!f) {
		printf("# '%s': %s\n", path, sf_strerror(NULL));
		fail();
	}
	assert_int_equal(info.channels, 2);
	assert_true((size_t)info.frames <= max_frames);
	x = malloc((size_t)info.frames * 2 * sizeof(float) + 1);
	assert_non_null(x);
	assert_int_equal(sf_readf_float(f, x, info.frames), info.frames);
	sf_close(f);
	for (sf_count_t i = 0; i < info.frames; i++)
		for (unsigned c = 0; c < 2; c++)
			if (x[i * 2 + c] != in[c][i]) {
				printf("# '%s' frame %lld channel %u: %g, given %g\n", path,
				       (long long)i, c, x[i * 2 + c], in[c][i]);
				fail();
			}
	free(x);
	return info.frames;
}

static void test_records_bit_exact(void **state)
{
	const size_t frames = 563 * BLOCK; /* 3 s */
	char p[PATH_MAX];
	struct rig g;

	(void)state;
	rig_init(&g, "[node.r]\ntype = recorder\nfile = take.wav\nsample_format = float\n", frames,
		 1);
	rig_run(&g, 0, frames);
	assert_memory_equal(g.in[0], g.out[0], frames * sizeof(float)); /* passed through */
	assert_float_equal(param(&g, R_RECORDING), 1.0, 0.0);
	rig_done(&g);
	path_of(p, "take.wav");
	rig_init(&g, "[node.r]\ntype = recorder\nfile = unused.wav\nrecording = no\n", frames, 1);
	assert_int_equal(assert_file_holds(p, g.in, frames), (sf_count_t)frames);
	printf("# %zu frames recorded and read back bit-exact\n", frames);
	rig_done(&g);
	path_of(p, "unused.wav");
	assert_int_equal(access(p, F_OK), -1); /* recording = no: no take, no file */
}

static void test_takes_never_overwrite(void **state)
{
	char p[PATH_MAX], buf[NODE_DETAIL_TEXT_MAX], year[16];
	time_t t = time(NULL);
	struct tm tm;
	struct rig g;

	(void)state;
	rig_init(&g, "[node.r]\ntype = recorder\nfile = again.wav\nsample_format = float\n",
		 HALF + 64 * BLOCK, 2);
	rig_run(&g, 0, HALF);
	assert_int_equal(harness_set(&node_type_recorder, g.rec, R_RECORDING, 0.0), 0);
	rig_run(&g, HALF, HALF + 32 * BLOCK);
	assert_string_equal(detail(&g, "state", buf), "stopped");
	assert_int_equal(harness_set(&node_type_recorder, g.rec, R_RECORDING, 1.0), 0);
	rig_run(&g, HALF + 32 * BLOCK, HALF + 48 * BLOCK);
	rig_run(&g, HALF + 48 * BLOCK, HALF + 64 * BLOCK); /* cycles after the take failed */
	assert_float_equal(param(&g, R_TAKES), 2.0, 0.0);
	assert_float_equal(param(&g, R_RECORDING), 0.0, 0.0);
	assert_string_equal(detail(&g, "state", buf), "failed: File exists");
	rig_done(&g);
	path_of(p, "again.wav");
	rig_init(&g, "[node.r]\ntype = recorder\nfile = x.wav\nrecording = no\n", HALF + 64 * BLOCK,
		 2);
	assert_int_equal(assert_file_holds(p, g.in, g.frames), HALF);
	rig_free(&g);
	node_type_recorder.destroy(g.rec);

	rig_init(&g, "[node.r]\ntype = recorder\nfile = sub/rec-%Y.flac\n", 8 * BLOCK, 3);
	rig_run(&g, 0, 8 * BLOCK);
	rig_done(&g);
	localtime_r(&t, &tm);
	strftime(year, sizeof(year), "%Y", &tm);
	snprintf(buf, sizeof(buf), "sub/rec-%s.flac", year);
	path_of(p, buf);
	assert_int_equal(access(p, F_OK), 0);
}

/* The frames of file p are all `value`, and there are n of them. */
static void assert_take(const char *p, float value, sf_count_t n)
{
	SF_INFO info = {0};
	SNDFILE *f = sf_open(p, SFM_READ, &info);
	float x[2];

	if (!f)
		fail_msg("'%s': %s", p, sf_strerror(NULL));
	if (info.frames != n)
		fail_msg("'%s': %lld frames, expected %lld", p, (long long)info.frames,
			 (long long)n);
	while (sf_readf_float(f, x, 1) == 1)
		assert_true(x[0] == value && x[1] == value);
	sf_close(f);
}

/* Descriptors this process has open. */
static unsigned open_fds(void)
{
	unsigned n = 0;
	DIR *d = opendir("/proc/self/fd");

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

/*
 * Three takes started and stopped while the disk thread is stalled (queued, served together
 * later, so all three want the same file name: the second and third fail, "File exists"): the
 * first take's file holds its own frames and no other take's, and every file is closed.
 */
static void test_takes_queued_stay_apart(void **state)
{
	char p[PATH_MAX], buf[NODE_DETAIL_TEXT_MAX];
	unsigned fds = open_fds();
	struct rig g;

	(void)state;
	rig_init(&g,
		 "[node.r]\ntype = recorder\nfile = queued.wav\nsample_format = float\n"
		 "recording = no\n",
		 4 * BLOCK, 7);
	disk_set_stalled(disk, true);
	for (unsigned k = 0; k < 3; k++) {
		for (size_t i = 0; i < g.frames; i++)
			g.in[0][i] = g.in[1][i] = (float)(k + 1);
		assert_int_equal(harness_set(&node_type_recorder, g.rec, R_RECORDING, 1.0), 0);
		harness_run(&node_type_recorder, g.rec, g.in, 2, g.out, 2, 0, g.frames);
		assert_int_equal(harness_set(&node_type_recorder, g.rec, R_RECORDING, 0.0), 0);
	}
	disk_set_stalled(disk, false);
	usleep(20 * DISK_POLL_MS * 1000);
	assert_float_equal(param(&g, R_TAKES), 3.0, 0.0);
	assert_string_equal(detail(&g, "state", buf), "failed: File exists");
	rig_done(&g);
	path_of(p, "queued.wav");
	assert_take(p, 1.0f, 4 * BLOCK);
	assert_int_equal(open_fds(), fds);
	printf("# 3 takes queued behind a stalled disk: the first file holds its own %u frames "
	       "only; no descriptor left open\n",
	       4 * BLOCK);
}

static void test_overrun_ends_take_cleanly(void **state)
{
	const size_t frames = 3 * RATE; /* more than the 2 s ring holds */
	char p[PATH_MAX], buf[NODE_DETAIL_TEXT_MAX];
	sf_count_t got;
	struct rig g;

	(void)state;
	rig_init(&g, "[node.r]\ntype = recorder\nfile = fast.wav\nsample_format = float\n", frames,
		 4);
	disk_set_stalled(disk, true); /* a disk that does not keep up */
	harness_run(&node_type_recorder, g.rec, g.in, 2, g.out, 2, 0, frames);
	disk_set_stalled(disk, false);
	assert_float_equal(param(&g, R_OVERRUNS), 1.0, 0.0);
	assert_float_equal(param(&g, R_RECORDING), 0.0, 0.0);
	assert_memory_equal(g.in[1], g.out[1], frames * sizeof(float)); /* the audio went on */
	usleep(4 * DISK_POLL_MS * 1000);
	assert_string_equal(detail(&g, "state", buf), "overrun");
	rig_free(&g);
	node_type_recorder.destroy(g.rec);
	path_of(p, "fast.wav");
	rig_init(&g, "[node.r]\ntype = recorder\nfile = y.wav\nrecording = no\n", frames, 4);
	got = assert_file_holds(p, g.in, frames);
	assert_true(got > 0 && got < (sf_count_t)frames);
	printf("# overrun: the take ended after %lld frames, file valid\n", (long long)got);
	rig_done(&g);
}

/* The child of test_kill9: a "daemon" of its own (threads do not survive fork) handing frames
 * over at 4x real time, counting them in *handed, until it is killed. */
static void kill9_child(const struct rig *g, _Atomic uint64_t *handed)
{
	const struct timespec gap = {.tv_nsec = 32L * BLOCK * 1000000000L / RATE / 4};
	struct el_error err = {0};
	struct harness h;
	void *rec;

	if (disk_new(NULL, dir, &disk, &err) < 0)
		_exit(1);
	harness_init(&h, stereo, 1);
	h.env.disk = disk;
	rec = harness_create(
		&h, &node_type_recorder,
		"[node.r]\ntype = recorder\nfile = killed.wav\nsample_format = float\n");
	for (size_t at = 0; at + 32 * BLOCK <= g->frames; at += 32 * BLOCK) {
		harness_run(&node_type_recorder, rec, g->in, 2, g->out, 2, at, at + 32 * BLOCK);
		atomic_store(handed, at + 32 * BLOCK);
		nanosleep(&gap, NULL);
	}
	for (;;)
		pause();
}

static void test_kill9_loses_at_most_a_second(void **state)
{
	_Atomic uint64_t *handed = mmap(NULL, sizeof(*handed), PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char p[PATH_MAX];
	sf_count_t got;
	struct rig g;
	pid_t pid;
	int status = 0;

	(void)state;
#ifdef TEST_UNDER_TSAN
	printf("# skipped: ThreadSanitizer cannot run threads in a child after fork()\n");
	skip();
#endif
	assert_true(handed != MAP_FAILED);
	atomic_store(handed, 0);
	rig_init(&g, "[node.r]\ntype = recorder\nfile = unused-k.wav\nrecording = no\n", 20 * RATE,
		 5);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		kill9_child(&g, handed);
	/* 2 s of audio, at 4x; the child's own failure (an exit) fails the test, never hangs it */
	for (unsigned ms = 0; atomic_load(handed) < 8 * (uint64_t)RATE; ms++) {
		if (waitpid(pid, &status, WNOHANG) == pid || ms > 60000) {
			kill(pid, SIGKILL);
			fail_msg("the recording child ended or stalled (status %d)", status);
		}
		usleep(1000);
	}
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	path_of(p, "killed.wav");
	got = assert_file_holds(p, g.in, g.frames);
	printf("# killed after %llu frames were handed over: the file holds %lld (%.2f s lost)\n",
	       (unsigned long long)atomic_load(handed), (long long)got,
	       (double)(atomic_load(handed) - (uint64_t)got) / RATE);
	assert_true(atomic_load(handed) - (uint64_t)got <= RATE);
	rig_done(&g);
	munmap((void *)handed, sizeof(*handed));
}

static void test_disk_full_ends_take_cleanly(void **state)
{
	const size_t frames = 10 * RATE; /* 3.7 MB of float stereo: more than the 1 MiB disk */
	char p[PATH_MAX], small[PATH_MAX], buf[NODE_DETAIL_TEXT_MAX];
	sf_count_t got;
	struct rig g;

	(void)state;
	path_of(small, "small");
	assert_int_equal(mkdir(small, 0700), 0);
	if (mount("tmpfs", small, "tmpfs", 0, "size=1m") < 0) {
		printf("# skipped: cannot mount a small tmpfs here: %s\n", strerror(errno));
		skip();
	}
	rig_init(&g, "[node.r]\ntype = recorder\nfile = small/full.wav\nsample_format = float\n",
		 frames, 6);
	rig_run(&g, 0, frames);
	assert_float_equal(param(&g, R_RECORDING), 0.0, 0.0);
	assert_string_equal(detail(&g, "state", buf), "failed: No space left on device");
	assert_memory_equal(g.in[0], g.out[0], frames * sizeof(float)); /* the audio went on */
	rig_free(&g);
	node_type_recorder.destroy(g.rec);
	path_of(p, "small/full.wav");
	rig_init(&g, "[node.r]\ntype = recorder\nfile = z.wav\nrecording = no\n", frames, 6);
	got = assert_file_holds(p, g.in, frames);
	printf("# disk full after %lld frames: the file is valid up to there\n", (long long)got);
	assert_true(got > 0);
	rig_done(&g);
	assert_int_equal(umount(small), 0);
}

static void test_bad_sections_refused(void **state)
{
	struct harness h;

	(void)state;
	harness_init(&h, stereo, 1);
	h.env.disk = disk;
	assert_non_null(strstr(
		harness_error(&h, &node_type_recorder, "[node.r]\ntype = recorder\n", -EINVAL),
		"file"));
	assert_non_null(strstr(harness_error(&h, &node_type_recorder,
					     "[node.r]\ntype = recorder\nfile = a.mp3\n", -EINVAL),
			       "a.mp3"));
	assert_non_null(strstr(
		harness_error(&h, &node_type_recorder,
			      "[node.r]\ntype = recorder\nfile = a.flac\nsample_format = float\n",
			      -EINVAL),
		"pcm16 or pcm24"));
	assert_non_null(strstr(
		harness_error(&h, &node_type_recorder,
			      "[node.r]\ntype = recorder\nfile = a.wav\nsample_format = mp3\n",
			      -EINVAL),
		"sample_format"));
	harness_done(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_bit_exact),
		cmocka_unit_test(test_takes_never_overwrite),
		cmocka_unit_test(test_takes_queued_stay_apart),
		cmocka_unit_test(test_overrun_ends_take_cleanly),
		cmocka_unit_test(test_kill9_loses_at_most_a_second),
		cmocka_unit_test(test_disk_full_ends_take_cleanly),
		cmocka_unit_test(test_bad_sections_refused),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
