/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/ir-file.h: loading an impulse response from an audio file for the FIR node.
 *
 * Any format libsndfile reads; samples are converted to float (integer formats scaled to
 * [-1, 1), as libsndfile does). When the file's rate differs from the engine's, every channel is
 * resampled with soxr at its very-high quality (SOXR_VHQ, linear phase) and scaled by
 * file_rate / rate, so the filter's frequency response, not its sample values, is kept: a
 * unit impulse at 44.1 kHz stays a 0 dB filter at 48 kHz (its peak becomes 0.919).
 *
 * Thread: control only (reads files, allocates). Never logs: errors come back in a struct
 * el_error, each naming the file as `'PATH': reason`.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

struct el_error;

/* Most channels a file may have (one per input channel of a FIR node). */
#define NODE_IR_MAX_CHANNELS 64u

/* What identifies a file's contents cheaply: device, inode, size and modification time. */
struct node_ir_stamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct node_ir {
	char *path;                 /* owned: the path opened (relative ones resolved) */
	struct node_ir_stamp stamp; /* of the file that was read */
	uint32_t file_rate;         /* Hz, as stored in the file */
	unsigned channels;          /* 1 .. NODE_IR_MAX_CHANNELS */
	size_t frames; /* taps per channel at the engine's rate, 1 .. DSP_FIR_MAX_TAPS */
	float **data;  /* owned: channels arrays of frames samples */
	bool cached;   /* resampled earlier: read from the sample cache (node_ir_load_cached) */
};

/*
 * The path a configured name refers to: name itself when absolute or base_dir is NULL or empty,
 * else base_dir/name. 0 with *ret (owned, free()) set; -ENOMEM.
 */
int node_ir_resolve(const char *name, const char *base_dir, char **ret);

/*
 * Stamps the file at path (already resolved). 0 with *ret set; -errno (stat(2)) otherwise.
 * Two equal stamps mean the file was not replaced or rewritten in between (to the
 * timestamp resolution of the file system).
 */
int node_ir_stat(const char *path, struct node_ir_stamp *ret);

/* True when a and b stamp the same file contents. */
int node_ir_stamp_equal(const struct node_ir_stamp *a, const struct node_ir_stamp *b);

/*
 * Loads name (resolved against base_dir, see node_ir_resolve()) for an engine running at rate
 * Hz. 0 with *ret set (free with node_ir_free()); otherwise -errno with the message
 * `'PATH': reason` in reterr and *ret untouched:
 *   -ENOENT, -EACCES ... `cannot open: <strerror>` (open(2) failed)
 *   -EINVAL              `not a regular file`,
 *                        `cannot open: <libsndfile's error>` (not a format libsndfile reads),
 *                        `empty impulse response`, `N channels, at most 64 are supported`
 *   -E2BIG               `N taps at R Hz, more than the 16777216 a FIR accepts`
 *   -EIO                 `cannot read: <libsndfile's error>`
 *   -EINVAL              `cannot resample from F to R Hz: <soxr's error>`
 *   -ENOMEM              `out of memory`
 */
int node_ir_load(const char *name, const char *base_dir, uint32_t rate, struct node_ir **ret,
		 struct el_error *reterr);

/*
 * node_ir_load() as background work: the resampling, when there is one, calls pacer
 * (common/el-pace.h; borrowed; NULL: none) between chunks of NODE_IR_PACE_FRAMES input frames.
 * The result is the same.
 */
#define NODE_IR_PACE_FRAMES 16384u
struct el_pacer;
int node_ir_load_paced(const char *name, const char *base_dir, uint32_t rate,
		       const struct el_pacer *pacer, struct node_ir **ret, struct el_error *reterr);

/*
 * node_ir_load_paced() with the resampling, when there is one, done through the sample cache in
 * cache_dir (daemon/disk/cache.h; NULL: none, resampled every time): once per file, stamp and
 * rate, then read back — a rate switch back or a restart does not resample again. The same
 * resampler and scale; where the cache cannot serve, resampled here as without it. beneath
 * (borrowed; NULL: none): the directories the file must lie beneath, one a client named
 * (daemon/fs/beneath.h): -EACCES outside, or when a symlink on its way was swapped in.
 */
int node_ir_load_cached(const char *name, const char *base_dir, const char *const *beneath,
			uint32_t rate, const char *cache_dir, const struct el_pacer *pacer,
			struct node_ir **ret, struct el_error *reterr);

/* Accepts NULL; returns NULL. */
struct node_ir *node_ir_free(struct node_ir *ir);
