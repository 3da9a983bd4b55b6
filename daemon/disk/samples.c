/* SPDX-License-Identifier: MIT */
/*
 * daemon/disk/samples.c: cache entries kept in RAM within a budget (samples.h).
 *
 * DESIGN: a sample is named by its cache file's device and inode, so two players of one file
 * share its mapping whatever path named it. A held sample is never unmapped (a player's RT
 * thread reads it); one nobody holds is kept, and unmapped least recently let go first while
 * the samples nobody holds take more than the budget. Everything here runs on the control
 * thread, under the disk's samples lock (disk-private.h) only so that `status` may read the
 * figures from any thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "common/el-error.h"
#include "daemon/disk/cache.h"
#include "daemon/disk/disk-private.h"
#include "daemon/disk/samples.h"

struct disk_sample {
	dev_t dev;
	ino_t ino;
	void *map; /* owned: the whole cache file */
	size_t bytes;
	unsigned held;
	uint64_t released; /* when the last holder let go (a sequence number: LRU) */
	struct disk_sample *next;
};

/* Bytes of the samples nobody holds. */
static uint64_t idle_bytes(const struct disk *d)
{
	uint64_t n = 0;

	for (const struct disk_sample *s = d->samples; s; s = s->next)
		if (!s->held)
			n += s->bytes;
	return n;
}

static void sample_unmap(struct disk *d, struct disk_sample **link)
{
	struct disk_sample *s = *link;

	*link = s->next;
	munmap(s->map, s->bytes);
	d->sample_bytes -= s->bytes;
	d->sample_count--;
	free(s);
}

/* Unmaps samples nobody holds, least recently let go first, until they fit the budget. */
static void samples_trim(struct disk *d)
{
	while (idle_bytes(d) > d->memory_budget) {
		struct disk_sample **oldest = NULL;

		for (struct disk_sample **p = &d->samples; *p; p = &(*p)->next)
			if (!(*p)->held && (!oldest || (*p)->released < (*oldest)->released))
				oldest = p;
		if (!oldest)
			return;
		sample_unmap(d, oldest);
		d->evictions++;
	}
}

int disk_sample_get(struct disk *d, const struct disk_cache_entry *e, struct disk_sample **ret,
		    struct el_error *reterr)
{
	struct disk_sample *s;
	struct stat st;

	if (fstat(e->fd, &st) < 0)
		return el_error_set(reterr, -errno, "the decoded file: %s", strerror(errno));
	pthread_mutex_lock(&d->slock);
	for (s = d->samples; s; s = s->next)
		if (s->dev == st.st_dev && s->ino == st.st_ino)
			break;
	if (!s && (s = calloc(1, sizeof(*s)))) {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
		s->bytes = DISK_CACHE_HEADER + e->frames * e->channels * sizeof(float);
		s->map = mmap(NULL, s->bytes, PROT_READ, MAP_SHARED | MAP_POPULATE, e->fd, 0);
		if (s->map == MAP_FAILED) {
			int r = -errno;

			free(s);
			pthread_mutex_unlock(&d->slock);
			return el_error_set(reterr, r, "cannot map the decoded file: %s",
					    strerror(-r));
		}
		/* resident for good, or not at all: unlocked pages may be reclaimed and the RT
		 * thread would fault them back in from the disk */
		if (mlock(s->map, s->bytes) < 0) {
			int r = -errno;

			munmap(s->map, s->bytes);
			free(s);
			pthread_mutex_unlock(&d->slock);
			return el_error_set(
				reterr, r,
				"cannot lock the decoded file in RAM: %s (RLIMIT_MEMLOCK)",
				strerror(-r));
		}
		s->next = d->samples;
		d->samples = s;
		d->sample_bytes += s->bytes;
		d->sample_count++;
	}
	if (s)
		s->held++;
	pthread_mutex_unlock(&d->slock);
	if (!s)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	*ret = s;
	return 0;
}

const float *disk_sample_get_data(const struct disk_sample *s)
{
	return (const float *)((const char *)s->map + DISK_CACHE_HEADER);
}

void disk_sample_put(struct disk *d, struct disk_sample *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&d->slock);
	if (--s->held == 0)
		s->released = ++d->release_seq;
	samples_trim(d);
	pthread_mutex_unlock(&d->slock);
}

void disk_set_memory_budget(struct disk *d, uint64_t bytes)
{
	pthread_mutex_lock(&d->slock);
	d->memory_budget = bytes;
	samples_trim(d);
	pthread_mutex_unlock(&d->slock);
}

void disk_count_lookup(struct disk *d, int reused)
{
	pthread_mutex_lock(&d->slock);
	d->lookups++;
	d->hits += reused != 0;
	pthread_mutex_unlock(&d->slock);
}

void disk_get_cache_stats(struct disk *d, struct disk_cache_stats *ret)
{
	uint64_t held = 0;

	pthread_mutex_lock(&d->slock);
	for (const struct disk_sample *s = d->samples; s; s = s->next)
		held += s->held > 0;
	*ret = (struct disk_cache_stats){.lookups = d->lookups,
					 .hits = d->hits,
					 .bytes = d->sample_bytes,
					 .samples = d->sample_count,
					 .held = held,
					 .evictions = d->evictions,
					 .budget = d->memory_budget};
	pthread_mutex_unlock(&d->slock);
}

void disk_samples_free_all(struct disk *d)
{
	pthread_mutex_lock(&d->slock);
	while (d->samples)
		sample_unmap(d, &d->samples);
	pthread_mutex_unlock(&d->slock);
}
