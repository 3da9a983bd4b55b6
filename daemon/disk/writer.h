/* SPDX-License-Identifier: MIT */
/*
 * daemon/disk/writer.h: recording — frames the RT thread hands over, written to audio files by
 * the disk thread (disk.h), one file per take.
 *
 * The RT thread puts frames into an SPSC ring and never waits: a full ring (the disk too slow)
 * is an overrun, which ends the take. The disk thread opens a take's file when the RT thread
 * starts one (the name expanded with strftime(3) then, relative names under the recordings
 * directory; an existing file is never replaced: that take fails), writes what the ring holds
 * every poll through libsndfile (pwrite(2), or io_uring: wfile.h) with the header brought up to
 * date after every write (so a
 * daemon killed with SIGKILL leaves a file libsndfile opens, holding everything written), calls
 * fdatasync(2) about once a second (DISK_SYNC_MS: what a power cut may lose), and when the take
 * ends drains the ring and closes the file. A write that fails (a full disk) ends the take
 * with its file closed and valid up to there.
 *
 * Threads: disk_writer_open/close on the control thread; disk_writer_write/start/stop on the RT
 * thread (one at a time); the getters on any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct disk;
struct disk_writer;
struct el_error;

/* The longest a take's written frames stay unsynced to the device (ms). */
#define DISK_SYNC_MS 1000u

/* Why the last take ended (or is not running). */
enum disk_take_end {
	DISK_TAKE_NONE,    /* no take has run yet */
	DISK_TAKE_RUNNING, /* it runs */
	DISK_TAKE_STOPPED, /* stopped by disk_writer_stop(), or the writer closed */
	DISK_TAKE_OVERRUN, /* the ring was full: the disk did not keep up */
	DISK_TAKE_FAILED,  /* opening or writing the file failed (disk_writer_get_error()) */
};

struct disk_writer_config {
	const char *file;     /* a name for strftime(3); relative: under the recordings directory */
	unsigned channels;    /* 1 .. 64 */
	uint32_t rate;        /* Hz */
	int sample_format;    /* libsndfile's SF_FORMAT_PCM_16 .. _FLOAT; 0: the container's best */
	uint32_t ring_frames; /* a power of two, at least 4 blocks */
	/* borrowed, copied: the directories an absolute file must lie beneath when a client
	 * named it, each take's file made by a walk that follows no symlink (daemon/fs/beneath.h);
	 * NULL: the administrator's name, made as written */
	const char *const *beneath;
};

/*
 * Thread: control. Checks the name (its container from the extension: .wav (RF64, written as
 * WAV while small), .rf64, .w64, .flac, .caf; and the sample format the container takes) and
 * makes the writer; no file is made until a take starts. d NULL: the takes are written on the
 * RT thread's own calls (a render, whose cycle is not real-time). 0 with *ret; -EINVAL with a
 * message naming the file and what is possible; -ENOMEM.
 */
int disk_writer_open(struct disk *d, const struct disk_writer_config *c, struct disk_writer **ret,
		     struct el_error *reterr);

/*
 * Thread: control, once no thread writes to w any more. Ends a running take (its frames
 * written, its file closed and valid), then frees w. Accepts NULL.
 */
void disk_writer_close(struct disk_writer *w);

/* Thread: RT. Starts a take (a new file) unless one runs. */
void disk_writer_start(struct disk_writer *w);

/* Thread: RT. Ends the take: what was handed over is still written, then the file closed. */
void disk_writer_stop(struct disk_writer *w);

/*
 * Thread: RT. Hands frames of in[0 .. channels) to the running take (nothing without one).
 * Never blocks; a full ring ends the take (DISK_TAKE_OVERRUN). Returns whether a take runs.
 */
bool disk_writer_write(struct disk_writer *w, const float *const *in, size_t frames);

/* Thread: any. The state of the last take, its frames written, its file (borrowed until the
 * next take starts; "" before the first), takes started, overruns, the last error (-errno). */
enum disk_take_end disk_writer_get_state(const struct disk_writer *w);
uint64_t disk_writer_get_frames(const struct disk_writer *w);
uint64_t disk_writer_get_takes(const struct disk_writer *w);
uint64_t disk_writer_get_overruns(const struct disk_writer *w);
int disk_writer_get_error(const struct disk_writer *w);
/* Thread: control. The last take's file name into buf (size bytes), or the directory that could
 * not be made for it (the take failed, disk_writer_get_error() says why); "" before the first. */
void disk_writer_get_path(struct disk_writer *w, char *buf, size_t size);
