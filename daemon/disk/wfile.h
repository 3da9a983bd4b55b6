/* SPDX-License-Identifier: MIT */
/*
 * daemon/disk/wfile.h: a recording's file as libsndfile writes it (its virtual I/O), written
 * behind through the disk thread's io_uring.
 *
 * libsndfile's writes (the audio, and the header it brings up to date after each) are copied
 * into a staging buffer; the disk thread hands a buffer's writes to io_uring as one linked chain
 * (in order: a later header lands after an earlier one), with an fdatasync(2) at its end when
 * asked, and goes on with the other buffer while the kernel writes. A write that fails is
 * reported by the next disk_wfile_flush() or disk_wfile_close(); the writes chained after it are
 * cancelled and none is made after, so the file ends where the failed write stopped. Without
 * io_uring (no disk thread, pread(2) mode, or a close from the control thread:
 * disk_wfile_set_direct) the same writes go straight to pwrite(2).
 *
 * Threads: the disk thread's, or one other thread's once direct (or made without a disk).
 */
#pragma once

#include <sndfile.h>
#include <stdbool.h>
#include <stdint.h>

struct disk;
struct disk_wfile;

/*
 * A wfile for fd (borrowed; open for writing, empty) served by d's io_uring, or written directly
 * when d is NULL or has no io_uring. 0 with *ret; -ENOMEM.
 */
int disk_wfile_new(struct disk *d, int fd, struct disk_wfile **ret);

/* libsndfile's open of the wfile for writing (sf_open_virtual); NULL as sf_open's. */
SNDFILE *disk_wfile_sf_open(struct disk_wfile *f, SF_INFO *info);

/*
 * Disk thread: the writes staged so far handed to io_uring (when the other buffer's are done;
 * else at the next flush), followed by an fdatasync(2) when sync. 0, or the first error a write
 * or sync met since (-errno; -ENOSPC for a short write); the wfile writes nothing more then.
 */
int disk_wfile_flush(struct disk_wfile *f, bool sync);

/*
 * Any thread but the disk thread, when the disk thread no longer flushes f: waits until no write
 * of f is in flight, then writes directly from now on.
 */
void disk_wfile_set_direct(struct disk_wfile *f);

/* The first error met (-errno), or 0. */
int disk_wfile_get_error(const struct disk_wfile *f);

/*
 * The staged writes written and waited for (by the disk thread through io_uring, else directly),
 * then f freed; fd stays open. The first error met, or 0. Accepts NULL.
 */
int disk_wfile_close(struct disk_wfile *f);
