/* SPDX-License-Identifier: MIT */
/*
 * daemon/disk/disk-private.h: the disk thread's state, shared by its readers (disk.c) and its
 * writers (writer.c). Not for use outside daemon/disk/.
 */
#pragma once

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define DISK_METHOD_MAX 160

struct disk_reader;
struct disk_sample;
struct disk_writer;

struct disk {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t idle; /* a closing reader's read completed */
	bool stop;
	atomic_bool stalled;         /* disk_set_stalled(): serve no reader or writer */
	unsigned users;              /* readers and writers open, under lock */
	pthread_cond_t wake;         /* the first user opened, or stop */
	struct disk_reader *readers; /* under lock */
	bool uring_ok;
	bool uring_writes; /* recordings written through it too (ECHOELD_DISK_WRITE=io_uring) */
	struct io_uring uring;
	char method[DISK_METHOD_MAX];
	char *cache_dir;      /* owned, NULL: none */
	char *recordings_dir; /* owned, NULL: none */

	/* Writers have their own lock: the disk thread holds it while it writes and syncs their
	 * files (which may take long), and readers' opens and closes need not wait for that. */
	pthread_mutex_t wlock;
	pthread_cond_t wdone;        /* a closing writer's file was closed */
	struct disk_writer *writers; /* under wlock */

	/* Samples kept in RAM and the cache's figures (samples.c), under slock. */
	pthread_mutex_t slock;
	struct disk_sample *samples;
	uint64_t sample_bytes, sample_count, release_seq, evictions, memory_budget;
	uint64_t lookups, hits;
};

/* A reader or writer opened (+1) or closed (-1); the first wakes the thread. d->lock held. */
static inline void disk_use(struct disk *d, int delta)
{
	d->users += (unsigned)delta;
	if (d->users == 1 && delta > 0)
		pthread_cond_signal(&d->wake);
}

/*
 * What an io_uring operation's user_data points at: its maker (a reader, disk.c; a recording's
 * file, wfile.c) says how it completes, so the completion loop calls up into neither.
 */
struct disk_op {
	void (*complete)(struct disk_op *op, int res); /* d->lock held, disk thread */
};

/* Every completion there is (d->lock held; disk thread): each op's complete(). */
void disk_reap(struct disk *d);

/* The disk thread, once per poll: every writer's due work (writer.c). Takes wlock. */
void disk_writers_service(struct disk *d);
