/* SPDX-License-Identifier: MIT */
/*
 * Property: a disk reader's ring hands every frame over whole and in order, through seeks, with
 * the disk thread (real io_uring, and pread(2)) running beside the reading thread.
 *  - Reads, seeks with and without old frames kept, peeks of the new position beside the old
 *    one and drops, in a random order, thousands of times: every frame read is the one the
 *    position says (old frames continue the old position; peeked ones are the target's; after a
 *    drop the stream goes on from the target plus what was peeked). Each frame carries its file
 *    index, so a frame the disk thread overwrote too early, or one from the wrong side of a
 *    seek, shows. Under TSan (suite 'threads') the handoff itself is checked.
 *  - A looped file much shorter than a poll's worth of frames streams without an underrun at a
 *    real cycle's pace, with io_uring and with pread(2) (one read per file's end).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/el-error.h"
#include "daemon/disk/disk.h"
#include "tests/unit/test-tmpdir.h"

#define HEADER   64u /* bytes before frame 0, as a cache file has */
#define CHANNELS 2u
#define BLOCK    64u

static char dir[256];

/* A raw float file of n frames: frame i is (i, -i) — exact in a float up to 2^24. */
static int make_file(const char *name, uint32_t n)
{
	char path[300];
	float *x = calloc((size_t)n * CHANNELS, sizeof(float));
	char header[HEADER] = {0};
	int fd;

	assert_non_null(x);
	for (uint32_t i = 0; i < n; i++) {
		x[i * CHANNELS] = (float)i;
		x[i * CHANNELS + 1] = -(float)i;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, header, HEADER), HEADER);
	assert_int_equal(write(fd, x, (size_t)n * CHANNELS * sizeof(float)),
			 (ssize_t)((size_t)n * CHANNELS * sizeof(float)));
	free(x);
	return fd;
}

static struct disk *start_disk(const char *io)
{
	struct el_error err = {0};
	struct disk *d = NULL;

	if (io)
		setenv("ECHOELD_DISK_IO", io, 1);
	else
		unsetenv("ECHOELD_DISK_IO");
	if (disk_new(NULL, NULL, &d, &err) < 0)
		fail_msg("%s", err.message);
	printf("# disk thread: %s\n", disk_get_method(d));
	return d;
}

static struct disk_reader *open_reader(struct disk *d, int fd, uint32_t frames, bool loop,
				       uint32_t ring)
{
	struct disk_reader_config c = {.fd = fd,
				       .name = "test",
				       .offset = HEADER,
				       .channels = CHANNELS,
				       .frames = frames,
				       .loop = loop,
				       .ring_frames = ring};
	struct el_error err = {0};
	struct disk_reader *r = NULL;

	if (disk_reader_open(d, &c, &r, &err) < 0)
		fail_msg("%s", err.message);
	return r;
}

/* out[0..n) holds frames pos, pos + 1, ... of a file of `frames` (looped). */
static void assert_frames(float *const *out, size_t n, uint64_t pos, uint32_t frames,
			  const char *what)
{
	for (size_t i = 0; i < n; i++) {
		float want = (float)((pos + i) % frames);

		if (out[0][i] != want || out[1][i] != -want)
			fail_msg("%s: frame %zu of %zu is %g, expected %g", what, i, n, out[0][i],
				 want);
	}
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void seeks_keep_every_frame(const char *io)
{
	const uint32_t frames = 50000, ring = 8192;
	float a[BLOCK], b[BLOCK];
	float *out[CHANNELS] = {a, b};
	int fd = make_file("seek.raw", frames);
	struct disk *d = start_disk(io);
	struct disk_reader *r = open_reader(d, fd, frames, true, ring);
	uint64_t seed = 0x9e3779b97f4a7c15ull, pos = 0, target = 0, peeked = 0;
	unsigned seeks = 0, crossfades = 0, old_reads = 0;
	bool in_seek = false;
	const struct timespec pause = {.tv_nsec = 20000};

	for (unsigned step = 0; step < 40000; step++) {
		unsigned what = (unsigned)(rnd(&seed) % 100);
		size_t n = 1 + rnd(&seed) % BLOCK, got;

		/* a seek, keeping 0 .. 3000 old frames; now and then one over a seek under way */
		if (what < 4 && (!in_seek || rnd(&seed) % 8 == 0)) {
			target = rnd(&seed) % frames;
			disk_reader_seek(r, target, rnd(&seed) % 4 == 0 ? 0 : rnd(&seed) % 3000);
			in_seek = true;
			peeked = 0;
			seeks++;
		} else if (in_seek && disk_reader_seek_ready(r) && what < 40) {
			got = disk_reader_peek_new(r, out, 0, peeked, n);
			assert_frames(out, got, target + peeked, frames, "peeked");
			peeked += got;
			if (what < 12) {
				disk_reader_drop_old(r, peeked);
				pos = target + peeked;
				in_seek = false;
				crossfades += peeked > 0;
			}
		} else {
			got = disk_reader_read(r, out, 0, n);
			assert_frames(out, got, pos, frames, in_seek ? "old" : "read");
			pos += got;
			old_reads += in_seek && got > 0;
		}
		if (step % 16 == 0 || (in_seek && !disk_reader_seek_ready(r)))
			nanosleep(&pause, NULL); /* let the disk thread in, at varying points */
	}
	printf("# %s: %u seeks, %u crossfades dropped after peeking, %u reads of old frames; "
	       "every frame in place; %llu underruns\n",
	       io ? io : "io_uring", seeks, crossfades, old_reads,
	       (unsigned long long)disk_reader_get_underruns(r));
	assert_true(seeks > 200 && crossfades > 100 && old_reads > 100);
	disk_reader_close(r);
	disk_free(d);
	close(fd);
}

static void test_seeks_keep_every_frame_uring(void **state)
{
	(void)state;
	seeks_keep_every_frame(NULL);
}

static void test_seeks_keep_every_frame_pread(void **state)
{
	(void)state;
	seeks_keep_every_frame("pread");
}

/* A 100-frame looped file at a 48 kHz cycle's pace for a second: sample-exact, no underrun. */
static void short_loop_streams(const char *io)
{
	const uint32_t frames = 100;
	const struct timespec cycle = {.tv_nsec = (long)BLOCK * 1000000000L / 48000};
	float a[BLOCK], b[BLOCK];
	float *out[CHANNELS] = {a, b};
	int fd = make_file("short.raw", frames);
	struct disk *d = start_disk(io);
	struct disk_reader *r = open_reader(d, fd, frames, true, 4 * DISK_CHUNK_MIN);
	uint64_t pos = 0;

	for (unsigned i = 0; i < 48000 / BLOCK; i++) {
		size_t got = disk_reader_read(r, out, 0, BLOCK);

		assert_frames(out, got, pos, frames, "short loop");
		pos += got;
		nanosleep(&cycle, NULL);
	}
	printf("# %s: a %u-frame loop for %llu frames, %llu underruns\n", io ? io : "io_uring",
	       frames, (unsigned long long)pos, (unsigned long long)disk_reader_get_underruns(r));
	assert_int_equal(disk_reader_get_underruns(r), 0);
	disk_reader_close(r);
	disk_free(d);
	close(fd);
}

static void test_short_loop_streams_uring(void **state)
{
	(void)state;
	short_loop_streams(NULL);
}

static void test_short_loop_streams_pread(void **state)
{
	(void)state;
	short_loop_streams("pread");
}

static int setup(void **state)
{
	(void)state;
	return test_tmpdir_make(dir, sizeof(dir), "test-disk-reader");
}

static int teardown(void **state)
{
	(void)state;
	return test_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seeks_keep_every_frame_uring),
		cmocka_unit_test(test_seeks_keep_every_frame_pread),
		cmocka_unit_test(test_short_loop_streams_uring),
		cmocka_unit_test(test_short_loop_streams_pread),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
