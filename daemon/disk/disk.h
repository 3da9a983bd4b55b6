/* SPDX-License-Identifier: MIT */
/*
 * daemon/disk/disk.h: the disk thread — one io_uring that keeps every streaming player's ring
 * filled from its file, so the RT thread never touches a file descriptor.
 *
 * A reader streams a raw float file (daemon/disk/cache.h: decoded and rate-converted once,
 * interleaved frames after a header) into a ring of frames: the disk thread reads ahead into
 * the ring's free part, straight from the file into the ring's memory; the RT thread takes
 * frames out and never waits: what is not there yet is an underrun, counted. The disk thread
 * polls its readers at a bounded rate (DISK_POLL_MS) rather than being woken by the RT side, so
 * a cycle makes no system call for the disk at all; a ring holds many polls' worth of audio.
 * With no reader and no writer it sleeps until one is opened: an idle daemon pays nothing for
 * it (polling every 10 ms with nothing to do cost 0.4 % of a core here, 11 times the control
 * thread's idle cost).
 * Without io_uring (a kernel or seccomp filter that refuses io_uring_setup, or the environment
 * variable ECHOELD_DISK_IO=pread, to compare) the same thread reads with pread(2), and says so
 * (disk_get_method()).
 *
 * Threads: disk_new/free, disk_reader_open/close on the control thread; disk_reader_read,
 * _seek, _get_* on the RT thread (one reader is read by one thread at a time); the disk
 * thread is internal.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct disk;
struct disk_reader;
struct el_error;

/* The sample cache's directory in the state directory (cache.h). */
#define DISK_CACHE_DIR_NAME "cache"
/* Where a recorder's relative file names lie, in the state directory (writer.h). */
#define DISK_RECORDINGS_DIR_NAME "recordings"

/* How often the disk thread looks at its readers, at most (ms). */
#define DISK_POLL_MS 10u

/*
 * Starts the disk thread. cache_dir (copied; NULL: none) is where decoded files are kept
 * (cache.h), recordings_dir (copied; NULL: none) where a recorder's relative file names lie
 * (writer.h). 0 with *ret; -errno with a message (the thread could not start).
 */
int disk_new(const char *cache_dir, const char *recordings_dir, struct disk **ret,
	     struct el_error *reterr);

/* Stops and joins the thread. Every reader and writer must be closed. Accepts NULL; returns NULL. */
struct disk *disk_free(struct disk *d);

/*
 * Thread: any. For tests: while stalled the thread starts no read or write (one in flight
 * completes), as a disk that does not keep up would; players then underrun, recorders overrun.
 */
void disk_set_stalled(struct disk *d, bool stalled);

/*
 * How the thread reads and writes, for the log: "io_uring (recordings: pwrite(2))", or
 * "pread(2) and pwrite(2) (<why not io_uring>)".
 */
const char *disk_get_method(const struct disk *d);

/* The directories given to disk_new(), or NULL. */
const char *disk_get_cache_dir(const struct disk *d);
const char *disk_get_recordings_dir(const struct disk *d);

struct disk_reader_config {
	int fd;               /* a raw float file (cache.h), readable; duplicated, not kept */
	const char *name;     /* for messages */
	uint64_t offset;      /* bytes before frame 0 (the cache file's header) */
	unsigned channels;    /* interleaved in the file, 1 .. 64 */
	uint64_t frames;      /* in the file */
	bool loop;            /* after the last frame comes the first */
	uint64_t start;       /* the first frame read, < frames */
	uint32_t ring_frames; /* the ring's capacity: a power of two >= 4 * DISK_CHUNK_MIN */
};

/* The smallest read the thread makes (frames), unless the file ends first. */
#define DISK_CHUNK_MIN 1024u

/*
 * Thread: control. A reader of c (borrowed for the call) served by d; it starts filling at
 * once. 0 with *ret; -EINVAL (a bad config), -errno (dup(2), or the first read: the message
 * names the file), -ENOMEM.
 */
int disk_reader_open(struct disk *d, const struct disk_reader_config *c, struct disk_reader **ret,
		     struct el_error *reterr);

/*
 * Thread: control, once no thread reads r any more. Waits for a read in flight into its ring
 * to complete, then frees it. Accepts NULL.
 */
void disk_reader_close(struct disk_reader *r);

/*
 * Thread: RT. Up to frames frames into out[0 .. channels) at `at` (deinterleaved); returns how
 * many were there. Fewer than asked is an underrun (counted) unless the file ended (no loop).
 * Within a seek (until disk_reader_drop_old) it gives the old position's frames only, up to the
 * bound the seek set; those are neither underruns nor the position. Never blocks.
 */
size_t disk_reader_read(struct disk_reader *r, float *const *out, size_t at, size_t frames);

/*
 * Thread: RT. From now on the frames come from frame (< the file's frames). The old position's
 * frames already read ahead stay readable with disk_reader_read, at most keep more of them (a
 * crossfade's and a wait's worth; 0: none), until disk_reader_drop_old. Never blocks.
 */
void disk_reader_seek(struct disk_reader *r, uint64_t frame, uint64_t keep);

/* Frames a seek waits for at its new position before it counts as ready. */
#define DISK_SEEK_READY (4u * DISK_CHUNK_MIN)

/*
 * Thread: RT (the reading thread). True unless a seek is under way whose new position has not
 * got its first DISK_SEEK_READY frames (or the file's last) from the disk thread yet; true too
 * once a seek's old frames were dropped.
 */
bool disk_reader_seek_ready(const struct disk_reader *r);

/* Thread: RT (the reading thread). Old frames disk_reader_read still gives within a seek. */
uint64_t disk_reader_get_old(const struct disk_reader *r);

/*
 * Thread: RT, once disk_reader_seek_ready() within a seek. Up to frames of the new position's
 * frames from its skip-th on into out at `at`, beside the old ones (a crossfade); returns how many
 * were there (fewer: an underrun, counted, unless the file ended).
 */
size_t disk_reader_peek_new(struct disk_reader *r, float *const *out, size_t at, uint64_t skip,
			    size_t frames);

/*
 * Thread: RT, once disk_reader_seek_ready() within a seek. Ends the seek: the old frames left are
 * dropped and reading goes on at the new position's taken-th frame (what disk_reader_peek_new
 * gave in all; 0: from its first).
 */
void disk_reader_drop_old(struct disk_reader *r, uint64_t taken);

/*
 * Thread: any. Frames in the ring the reading thread will play next at the position it plays
 * or seeks to (none until the disk thread took a seek): how far ahead of the cycle it is.
 */
uint64_t disk_reader_get_buffered(const struct disk_reader *r);

/* Thread: any. Underruns: calls that found fewer frames than asked while playing on. */
uint64_t disk_reader_get_underruns(const struct disk_reader *r);

/* Thread: RT (the reading thread). True once every frame of a file without loop was read. */
bool disk_reader_at_end(const struct disk_reader *r);

/* Thread: any. The file frame the next read gives (what a seek asked for while it runs). */
uint64_t disk_reader_get_position(const struct disk_reader *r);

/* Thread: any. A read error the disk thread met (-errno; 0: none): the stream ends there. */
int disk_reader_get_error(const struct disk_reader *r);
