/* SPDX-License-Identifier: MIT */
/*
 * daemon/disk/samples.h: short cache entries kept in RAM — mapped, faulted in and locked once,
 * shared by every player of the same file, and kept after the last one lets go until the RAM
 * budget (`[cache] memory_mb`) needs the room: least recently used first.
 *
 * Also the sample cache's figures for `status`: lookups and how many found the file already
 * decoded, the bytes kept in RAM, evictions.
 *
 * Thread: control (players are made and freed there); the data a sample maps is read by the
 * RT thread for as long as it holds it.
 */
#pragma once

#include <stdint.h>

struct disk;
struct disk_cache_entry;
struct disk_sample;
struct el_error;

/*
 * The frames of cache entry e (cache.h) in RAM: the mapping another player holds, or one made
 * now (populated and locked) and then kept within the budget. 0 with *ret (release with
 * disk_sample_put()); -errno with a message: -ENOMEM, -EPERM, -EAGAIN when it cannot be
 * locked (RLIMIT_MEMLOCK): the caller then streams it instead.
 */
int disk_sample_get(struct disk *d, const struct disk_cache_entry *e, struct disk_sample **ret,
		    struct el_error *reterr);

/* The interleaved frames (the entry's channels × frames floats). Valid while held. */
const float *disk_sample_get_data(const struct disk_sample *s);

/* Lets go of s; it stays mapped for a later player unless the budget needs its room. */
void disk_sample_put(struct disk *d, struct disk_sample *s);

/* The RAM budget of samples no player holds, in bytes (default DISK_DEFAULT_MEMORY_MB MiB). */
#define DISK_DEFAULT_MEMORY_MB 256u
void disk_set_memory_budget(struct disk *d, uint64_t bytes);

/* One lookup of the sample cache by a player: found decoded (reused) or decoded now. */
void disk_count_lookup(struct disk *d, int reused);

struct disk_cache_stats {
	uint64_t lookups, hits;  /* players made, and how many found their file decoded */
	uint64_t bytes, samples; /* kept in RAM now (held or not) */
	uint64_t held;           /* samples a player holds */
	uint64_t evictions;      /* samples unmapped for the budget */
	uint64_t budget;         /* bytes */
};

void disk_get_cache_stats(struct disk *d, struct disk_cache_stats *ret);

/* Unmaps every sample (disk_free(): none may be held). */
void disk_samples_free_all(struct disk *d);
