/* SPDX-License-Identifier: MIT */
/*
 * daemon/disk/cache.h: the sample cache — an audio file decoded (libsndfile) and, when its rate
 * is not the engine's, resampled (soxr, very high quality) once, kept as raw interleaved float
 * at the engine's rate, so that playing it is reading floats: the disk thread streams them into
 * a ring (disk.h), a short one is played from memory, and nothing is decoded or resampled while
 * the audio runs.
 *
 * A cached file is named by a hash of the source's path, its stamp (device, inode, size,
 * modification time) and the rate, and starts with a header (DISK_CACHE_HEADER bytes) that
 * repeats them: an entry is reused only when all match and its size is what the header says,
 * so an edited or replaced source is decoded again. It is written to a temporary file in the
 * cache directory and renamed into place, so a crash never leaves a half entry under a valid
 * name. Without a cache directory (or one that cannot be written) the decoded audio goes to an
 * unnamed temporary file (O_TMPFILE in $TMPDIR or /tmp), used once.
 *
 * Thread: control (reads and writes files). Errors come back in a struct el_error naming the
 * file.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct el_error;
struct el_pacer;

/* Bytes before the first frame of a cache file: a page, so reads of frames stay aligned. */
#define DISK_CACHE_HEADER 4096u

struct disk_cache_entry {
	int fd;     /* owned: the cache file, open read-only; frames from DISK_CACHE_HEADER */
	char *path; /* owned: its name in the cache directory; NULL for an unnamed file */
	unsigned channels;  /* 1 .. 64 */
	uint64_t frames;    /* at the engine's rate */
	uint32_t file_rate; /* the source's */
	bool reused;        /* found in the cache, not decoded now */
};

/*
 * The cache entry of the audio file src (resolved already) at rate Hz, decoded now unless the
 * cache in cache_dir (NULL: none) holds it. beneath (borrowed; NULL: none): the directories src
 * must lie beneath, a file a client named (daemon/fs/beneath.h; -EACCES outside). pacer (NULL:
 * none) is told of every chunk of the decoding (common/el-pace.h). 0 with *ret filled (release with
 * disk_cache_entry_done()); -errno with `'SRC': reason` (cannot open, not an audio file, empty,
 * more than 64 channels, cannot resample) or `'CACHE': reason` (cannot write the decoded audio
 * anywhere).
 */
int disk_cache_prepare(const char *cache_dir, const char *src, const char *const *beneath,
		       uint32_t rate, const struct el_pacer *pacer, struct disk_cache_entry *ret,
		       struct el_error *reterr);

/*
 * Like disk_cache_prepare() but never decodes: 0 with *ret as it gives when the cache holds the
 * file; 1 when it does not, with only channels, file_rate and frames (estimated at rate) filled
 * from the file's header (fd -1: nothing to release); -errno with a message as it gives.
 */
int disk_cache_probe(const char *cache_dir, const char *src, const char *const *beneath,
		     uint32_t rate, struct disk_cache_entry *ret, struct el_error *reterr);

/* Closes and frees what e holds. Accepts a zeroed entry (fd 0 is never ours: -1 marks none). */
void disk_cache_entry_done(struct disk_cache_entry *e);

/*
 * Reads frames [first, first + n) of e into dst (interleaved). 0; -errno (pread(2)), -EIO (the
 * file is shorter than its header says).
 */
int disk_cache_read(const struct disk_cache_entry *e, uint64_t first, uint64_t n, float *dst);
