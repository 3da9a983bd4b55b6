/* SPDX-License-Identifier: MIT */
/*
 * daemon/disk/disk.c: the disk thread and its readers (disk.h).
 *
 * DESIGN: a reader's ring is single-producer single-consumer: the disk thread advances w (frames
 * written) with a release store after its read landed, the RT thread advances r (frames taken)
 * with a release store after it copied them out; each reads the other's index with acquire, so
 * the frames between them are whole when seen. The disk thread only ever writes [w, r + cap),
 * the RT thread only reads [r, w).
 *
 * A seek is a request the RT thread posts (target, how far the old position may still be read,
 * then a generation number, release) and the disk thread answers between two reads: it restarts
 * its file position at the target and cuts the old position's frames at the bound the RT thread
 * gave (w moves back to it, never below r: the RT thread reads no old frame past that bound), then
 * posts where the new frames begin (seek_from, then the answered generation, release). The ring
 * stays one run of frames [r, w): the old position's up to seek_from, the new one's after it.
 * Until the reading thread drops the old frames (disk_reader_drop_old) it reads them only, and
 * may read the new ones beside them (disk_reader_peek_new) for a crossfade; the disk thread
 * counts both as taken only from r, so it overwrites neither. The RT thread never moves w, the
 * disk thread never moves r.
 *
 * The end of a file without loop is posted as the w at which it ended (end_w); the RT thread is
 * at the end when r reaches it. One read is in flight per reader at most, so completions come
 * in file order without bookkeeping; a read is at least DISK_CHUNK_MIN frames unless the file
 * or the ring's wrap-around ends it first, so a ring of 4 chunks or more is topped up in large
 * pieces while it still holds most of its audio.
 *
 * Closing: the control thread marks the reader (under the lock) and waits until no read is in
 * flight into its ring; only then is the ring freed. The lock is the control side's and the
 * disk thread's only: the RT thread touches atomics alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/disk/disk-private.h"
#include "daemon/disk/disk.h"
#include "daemon/disk/samples.h"
#include "dsp/mem.h"

#define DISK_METHOD_MAX   160
#define DISK_MAX_CHANNELS 64u
/* A ring's bytes at most: one read of it must fit io_uring's length and result (32 bits). */
#define DISK_RING_MAX_BYTES (1ull << 30)
/* io_uring's submission queue: one read per reader in flight; more readers wait a poll */
#define DISK_QUEUE_DEPTH 256u

struct disk_reader {
	struct disk_op op; /* first: its reads' user_data (disk-private.h) */
	struct disk *disk;
	int fd;
	uint64_t offset; /* bytes before frame 0 */
	unsigned channels;
	uint64_t frames;
	bool loop;
	float *ring; /* owned: cap frames, interleaved */
	uint64_t cap, mask;

	/* the disk thread's (under d->lock where the control side looks) */
	uint64_t file_pos;  /* the next file frame it reads */
	bool inflight;      /* a read into [w, ...) is under way */
	uint64_t seek_done; /* the last seek generation answered */
	bool closing;       /* the control thread waits to free it */
	bool broken;        /* a read failed: the stream ends there, loop or not (loop stays
			       constant: the RT thread reads it) */
	struct disk_reader *next;

	/* shared (DESIGN) */
	_Atomic uint64_t w, r;
	_Atomic uint64_t end_w;              /* UINT64_MAX while the file has not ended */
	_Atomic uint64_t seek_target;        /* written before seek_req */
	_Atomic uint64_t seek_keep_until;    /* the old frames' bound: written before seek_req */
	_Atomic uint64_t seek_req, seek_ack; /* 64 bits: never wrap back to 0 (no seek) */
	_Atomic uint64_t seek_from;          /* written before seek_ack */
	_Atomic uint64_t underruns;
	_Atomic uint64_t position; /* the file frame the RT thread reads next */
	_Atomic int error;

	/* the reading thread's */
	uint64_t seek_wanted;  /* the last seek generation posted */
	uint64_t seek_dropped; /* the last one whose old frames were dropped (== wanted: none) */
	uint64_t keep_until;   /* what the last seek posted as seek_keep_until */
};

static uint64_t reader_bytes(const struct disk_reader *rd, uint64_t frames)
{
	return frames * rd->channels * sizeof(float);
}

/* The read that tops up rd's ring now: 0 frames when there is none to make. */
static uint64_t reader_next_read(struct disk_reader *rd)
{
	uint64_t w = atomic_load_explicit(&rd->w, memory_order_relaxed); /* ours */
	uint64_t r = atomic_load_explicit(&rd->r, memory_order_acquire);
	uint64_t free_frames, left, contiguous;

	free_frames = rd->cap - (w - r);

	if (rd->file_pos >= rd->frames) {
		if (!rd->loop || rd->broken) {
			if (atomic_load_explicit(&rd->end_w, memory_order_relaxed) == UINT64_MAX)
				atomic_store_explicit(&rd->end_w, w, memory_order_release);
			return 0;
		}
		rd->file_pos = 0;
	}
	left = rd->frames - rd->file_pos;
	contiguous = rd->cap - (w & rd->mask);
	if (free_frames < DISK_CHUNK_MIN && free_frames < left)
		return 0; /* wait for room: read in large pieces */
	return EL_MIN(EL_MIN(free_frames, left), contiguous);
}

/* Between reads: a seek the RT thread posted restarts the file position (DESIGN). */
static void reader_take_seek(struct disk_reader *rd)
{
	uint64_t req = atomic_load_explicit(&rd->seek_req, memory_order_acquire);
	uint64_t from;

	if (req == rd->seek_done)
		return;
	rd->file_pos = atomic_load_explicit(&rd->seek_target, memory_order_relaxed);
	/* the old frames end at the RT thread's bound (>= its r), or where they end now */
	from = EL_MIN(atomic_load_explicit(&rd->w, memory_order_relaxed),
		      atomic_load_explicit(&rd->seek_keep_until, memory_order_relaxed));
	atomic_store_explicit(&rd->end_w, UINT64_MAX, memory_order_relaxed);
	/* release: the frames below it stay published to a reader that sees this w */
	atomic_store_explicit(&rd->w, from, memory_order_release);
	atomic_store_explicit(&rd->seek_from, from, memory_order_relaxed);
	atomic_store_explicit(&rd->seek_ack, req, memory_order_release);
	rd->seek_done = req;
}

/* A read of frames into the ring at w finished with res (bytes, or -errno). */
static void reader_complete(struct disk_reader *rd, int res)
{
	uint64_t got = res > 0 ? (uint64_t)res / reader_bytes(rd, 1) : 0;
	uint64_t w = atomic_load_explicit(&rd->w, memory_order_relaxed);

	rd->inflight = false;
	if (res <= 0 || got == 0) { /* an error, or a file shorter than it said: it ends here */
		atomic_store_explicit(&rd->error, res < 0 ? res : -EIO, memory_order_relaxed);
		rd->file_pos = rd->frames;
		rd->broken = true;
		atomic_store_explicit(&rd->end_w, w, memory_order_release);
		return;
	}
	rd->file_pos += got;
	atomic_store_explicit(&rd->w, w + got, memory_order_release);
}

/* A read's completion (disk_reap). */
static void reader_op_complete(struct disk_op *op, int res)
{
	reader_complete((struct disk_reader *)op, res);
}

/* Starts rd's next read, if it has one to make (the lock held). */
static void reader_service(struct disk *d, struct disk_reader *rd)
{
	uint64_t frames, w;
	float *dst;
	off_t at;

again:
	if (rd->inflight || rd->closing)
		return;
	reader_take_seek(rd);
	frames = reader_next_read(rd);
	if (frames == 0)
		return;
	w = atomic_load_explicit(&rd->w, memory_order_relaxed);
	dst = rd->ring + (w & rd->mask) * rd->channels;
	at = (off_t)(rd->offset + reader_bytes(rd, rd->file_pos));
	if (d->uring_ok) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&d->uring);

		if (!sqe)
			return; /* the queue is full: the next poll */
		io_uring_prep_read(sqe, rd->fd, dst, (unsigned)reader_bytes(rd, frames),
				   (uint64_t)at);
		io_uring_sqe_set_data(sqe, rd);
		rd->inflight = true;
		return;
	}
	rd->inflight = true;
	ssize_t n = pread(rd->fd, dst, reader_bytes(rd, frames), at);

	reader_complete(rd, n < 0 ? -errno : (int)n);
	/* pread(2) completes at once: read on, or a looped file shorter than a poll's worth of
	 * frames (one read per file's end) would run dry; io_uring chains its reads on each
	 * completion instead (disk_main) */
	if (n > 0)
		goto again;
}

static void *disk_main(void *userdata)
{
	struct disk *d = userdata;

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		bool stalled = atomic_load_explicit(&d->stalled, memory_order_relaxed);

		if (d->users == 0) { /* nothing to serve: sleep until there is (disk.h) */
			pthread_cond_wait(&d->wake, &d->lock);
			continue;
		}
		for (struct disk_reader *rd = d->readers; rd && !stalled; rd = rd->next)
			reader_service(d, rd);
		pthread_mutex_unlock(&d->lock);
		if (!stalled)
			disk_writers_service(d);
		if (d->uring_ok) {
			struct __kernel_timespec ts = {.tv_nsec = DISK_POLL_MS * 1000000L};
			struct io_uring_cqe *cqe;

			io_uring_submit(&d->uring);
			(void)io_uring_wait_cqe_timeout(&d->uring, &cqe, &ts);
		} else {
			struct timespec ts = {.tv_nsec = DISK_POLL_MS * 1000000L};

			nanosleep(&ts, NULL);
		}
		pthread_mutex_lock(&d->lock);
		if (d->uring_ok)
			disk_reap(d);
		else
			pthread_cond_broadcast(&d->idle);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* io_uring with the one operation we need, or why not (then pread(2)). */
static void disk_uring_init(struct disk *d)
{
	const char *io = getenv("ECHOELD_DISK_IO");
	struct io_uring_probe *probe;
	int r;

	if (io && strcmp(io, "pread") == 0) {
		snprintf(d->method, sizeof(d->method),
			 "pread(2) and pwrite(2) (ECHOELD_DISK_IO=pread)");
		return;
	}
	r = io_uring_queue_init(DISK_QUEUE_DEPTH, &d->uring, 0);
	if (r < 0) {
		snprintf(d->method, sizeof(d->method),
			 "pread(2) and pwrite(2) (io_uring_setup: %s)", strerror(-r));
		return;
	}
	probe = io_uring_get_probe_ring(&d->uring);
	if (!probe || !io_uring_opcode_supported(probe, IORING_OP_READ) ||
	    !io_uring_opcode_supported(probe, IORING_OP_WRITE) ||
	    !io_uring_opcode_supported(probe, IORING_OP_FSYNC)) {
		snprintf(d->method, sizeof(d->method),
			 "pread(2) and pwrite(2) (io_uring without READ, WRITE or FSYNC on this "
			 "kernel)");
		io_uring_free_probe(probe);
		io_uring_queue_exit(&d->uring);
		return;
	}
	io_uring_free_probe(probe);
	d->uring_ok = true;
	/* Buffered writes through io_uring cost here twice what pwrite(2) does: Linux 6.1 cannot
	 * make a buffered write to ext4 without blocking, so each goes to a kernel worker thread
	 * (docs/performance.md, "Disk"). Where that changes, ECHOELD_DISK_WRITE=io_uring. */
	io = getenv("ECHOELD_DISK_WRITE");
	d->uring_writes = io && strcmp(io, "io_uring") == 0;
	snprintf(d->method, sizeof(d->method), "io_uring (recordings: %s)",
		 d->uring_writes ? "io_uring, ECHOELD_DISK_WRITE" : "pwrite(2)");
}

int disk_new(const char *cache_dir, const char *recordings_dir, struct disk **ret,
	     struct el_error *reterr)
{
	struct disk *d = calloc(1, sizeof(*d));
	int r;

	if (!d || (cache_dir && !(d->cache_dir = strdup(cache_dir))) ||
	    (recordings_dir && !(d->recordings_dir = strdup(recordings_dir)))) {
		if (d)
			free(d->cache_dir);
		free(d);
		return el_error_set(reterr, -ENOMEM, "out of memory");
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->idle, NULL);
	pthread_cond_init(&d->wake, NULL);
	pthread_mutex_init(&d->wlock, NULL);
	pthread_cond_init(&d->wdone, NULL);
	pthread_mutex_init(&d->slock, NULL);
	d->memory_budget = (uint64_t)DISK_DEFAULT_MEMORY_MB << 20;
	disk_uring_init(d);
	r = -pthread_create(&d->thread, NULL, disk_main, d);
	if (r < 0) {
		if (d->uring_ok)
			io_uring_queue_exit(&d->uring);
		free(d->cache_dir);
		free(d->recordings_dir);
		free(d);
		return el_error_set(reterr, r, "cannot start the disk thread: %s", strerror(-r));
	}
	pthread_setname_np(d->thread, "echoeld-disk");
	*ret = d;
	return 0;
}

struct disk *disk_free(struct disk *d)
{
	if (!d)
		return NULL;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	if (d->uring_ok)
		io_uring_queue_exit(&d->uring);
	pthread_cond_destroy(&d->idle);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->wdone);
	pthread_mutex_destroy(&d->wlock);
	disk_samples_free_all(d);
	pthread_mutex_destroy(&d->slock);
	free(d->recordings_dir);
	free(d->cache_dir);
	free(d);
	return NULL;
}

void disk_set_stalled(struct disk *d, bool stalled)
{
	atomic_store_explicit(&d->stalled, stalled, memory_order_relaxed);
}

const char *disk_get_method(const struct disk *d)
{
	return d->method;
}

const char *disk_get_cache_dir(const struct disk *d)
{
	return d->cache_dir;
}

const char *disk_get_recordings_dir(const struct disk *d)
{
	return d->recordings_dir;
}

/* The first ring's worth on the caller's thread, so a player has audio from its first cycle. */
static int reader_prefill(struct disk_reader *rd)
{
	uint64_t frames;

	while ((frames = reader_next_read(rd)) > 0) {
		uint64_t w = atomic_load_explicit(&rd->w, memory_order_relaxed);
		ssize_t n = pread(rd->fd, rd->ring + (w & rd->mask) * rd->channels,
				  reader_bytes(rd, frames),
				  (off_t)(rd->offset + reader_bytes(rd, rd->file_pos)));

		reader_complete(rd, n < 0 ? -errno : (int)n);
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
	}
	return 0;
}

int disk_reader_open(struct disk *d, const struct disk_reader_config *c, struct disk_reader **ret,
		     struct el_error *reterr)
{
	struct disk_reader *rd;
	int r;

	if (!c->name || c->channels < 1 || c->channels > DISK_MAX_CHANNELS || c->frames == 0 ||
	    c->start >= c->frames || c->ring_frames < 4 * DISK_CHUNK_MIN ||
	    (c->ring_frames & (c->ring_frames - 1)) ||
	    (uint64_t)c->ring_frames * c->channels * sizeof(float) > DISK_RING_MAX_BYTES)
		return el_error_set(reterr, -EINVAL, "invalid disk reader configuration");
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	rd->op.complete = reader_op_complete;
	rd->disk = d;
	rd->offset = c->offset;
	rd->channels = c->channels;
	rd->frames = c->frames;
	rd->loop = c->loop;
	rd->cap = c->ring_frames;
	rd->mask = rd->cap - 1;
	rd->file_pos = c->start;
	atomic_init(&rd->w, 0);
	atomic_init(&rd->r, 0);
	atomic_init(&rd->end_w, UINT64_MAX);
	atomic_init(&rd->seek_target, 0);
	atomic_init(&rd->seek_keep_until, 0);
	atomic_init(&rd->seek_req, 0);
	atomic_init(&rd->seek_ack, 0);
	atomic_init(&rd->seek_from, 0);
	atomic_init(&rd->underruns, 0);
	atomic_init(&rd->position, c->start);
	atomic_init(&rd->error, 0);
	rd->ring = dsp_mem_alloc(reader_bytes(rd, rd->cap));
	rd->fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0);
	if (!rd->ring || rd->fd < 0) {
		r = rd->fd < 0 ? el_error_set(reterr, -errno, "'%s': %s", c->name, strerror(errno))
			       : el_error_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	r = reader_prefill(rd);
	if (r < 0) {
		el_error_set(reterr, r, "'%s': cannot read: %s", c->name, strerror(-r));
		goto fail;
	}
	rd->inflight = false;
	pthread_mutex_lock(&d->lock);
	rd->next = d->readers;
	d->readers = rd;
	disk_use(d, 1);
	pthread_mutex_unlock(&d->lock);
	*ret = rd;
	return 0;
fail:
	if (rd->fd >= 0)
		close(rd->fd);
	dsp_mem_free(rd->ring);
	free(rd);
	return r;
}

void disk_reader_close(struct disk_reader *rd)
{
	struct disk *d;

	if (!rd)
		return;
	d = rd->disk;
	pthread_mutex_lock(&d->lock);
	rd->closing = true;
	while (rd->inflight)
		pthread_cond_wait(&d->idle, &d->lock);
	for (struct disk_reader **p = &d->readers; *p; p = &(*p)->next) {
		if (*p == rd) {
			*p = rd->next;
			break;
		}
	}
	disk_use(d, -1);
	pthread_mutex_unlock(&d->lock);
	close(rd->fd);
	dsp_mem_free(rd->ring);
	free(rd);
}

/* Thread: RT. The position after n more frames read from pos. */
EL_RT static uint64_t rt_advance(const struct disk_reader *rd, uint64_t pos, uint64_t n)
{
	pos += n;
	return rd->loop ? pos % rd->frames : EL_MIN(pos, rd->frames);
}

/* Thread: RT, within a seek (seek_wanted != seek_dropped). Where the old frames end. */
EL_RT static uint64_t rt_old_end(const struct disk_reader *rd)
{
	/* w before the ack: a w read after an unanswered ack is the old position's (the disk
	 * thread moves w to seek_from before it acks, and adds the new frames after); read the
	 * other way round, the answer and the new frames could both come in between */
	uint64_t w = atomic_load_explicit(&rd->w, memory_order_acquire);

	if (rd->seek_wanted != atomic_load_explicit(&rd->seek_ack, memory_order_acquire))
		return EL_MIN(w, rd->keep_until);
	return atomic_load_explicit(&rd->seek_from, memory_order_relaxed); /* before the ack */
}

/* Thread: RT. frames [from, from + n) of the ring into out at `at` (deinterleaved). */
EL_RT static void rt_copy_out(const struct disk_reader *rd, float *const *out, size_t at,
			      uint64_t from, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		const float *f = rd->ring + ((from + i) & rd->mask) * rd->channels;

		for (unsigned c = 0; c < rd->channels; c++)
			out[c][at + i] = f[c];
	}
}

/* Thread: RT. n frames of the playing position were taken: its file frame moves on. */
EL_RT static void rt_played(struct disk_reader *rd, uint64_t n)
{
	atomic_store_explicit(
		&rd->position,
		rt_advance(rd, atomic_load_explicit(&rd->position, memory_order_relaxed), n),
		memory_order_relaxed);
}

EL_RT size_t disk_reader_read(struct disk_reader *rd, float *const *out, size_t at, size_t frames)
{
	uint64_t r = atomic_load_explicit(&rd->r, memory_order_relaxed); /* ours */
	bool old = rd->seek_wanted != rd->seek_dropped;
	uint64_t bound = old ? rt_old_end(rd) : atomic_load_explicit(&rd->w, memory_order_acquire);
	uint64_t n = EL_MIN(bound - r, (uint64_t)frames);

	rt_copy_out(rd, out, at, r, n);
	if (!old) { /* the old position's frames are neither underruns nor its position */
		if (n < frames && r + n != atomic_load_explicit(&rd->end_w, memory_order_acquire))
			atomic_fetch_add_explicit(&rd->underruns, 1, memory_order_relaxed);
		rt_played(rd, n);
	}
	atomic_store_explicit(&rd->r, r + n, memory_order_release);
	return (size_t)n;
}

EL_RT void disk_reader_seek(struct disk_reader *rd, uint64_t frame, uint64_t keep)
{
	uint64_t until = atomic_load_explicit(&rd->r, memory_order_relaxed) + keep;

	/* within a seek the bound only shrinks: the disk thread may answer with the earlier one */
	if (rd->seek_wanted != rd->seek_dropped)
		until = EL_MIN(until, rt_old_end(rd));
	if (frame >= rd->frames)
		frame = rd->frames - 1;
	rd->keep_until = until;
	atomic_store_explicit(&rd->seek_keep_until, until, memory_order_relaxed);
	atomic_store_explicit(&rd->seek_target, frame, memory_order_relaxed);
	atomic_store_explicit(&rd->position, frame, memory_order_relaxed);
	rd->seek_wanted++;
	atomic_store_explicit(&rd->seek_req, rd->seek_wanted, memory_order_release);
}

EL_RT uint64_t disk_reader_get_old(const struct disk_reader *rd)
{
	if (rd->seek_wanted == rd->seek_dropped)
		return 0;
	return rt_old_end(rd) - atomic_load_explicit(&rd->r, memory_order_relaxed);
}

EL_RT bool disk_reader_seek_ready(const struct disk_reader *rd)
{
	uint64_t from, w;

	if (rd->seek_wanted == rd->seek_dropped)
		return true;
	if (rd->seek_wanted != atomic_load_explicit(&rd->seek_ack, memory_order_acquire))
		return false;
	from = atomic_load_explicit(&rd->seek_from, memory_order_relaxed);
	w = atomic_load_explicit(&rd->w, memory_order_acquire);
	/* its first frames: DISK_SEEK_READY of them, or the file's last */
	return w - from >= DISK_SEEK_READY ||
	       w == atomic_load_explicit(&rd->end_w, memory_order_acquire);
}

EL_RT size_t disk_reader_peek_new(struct disk_reader *rd, float *const *out, size_t at,
				  uint64_t skip, size_t frames)
{
	uint64_t from = atomic_load_explicit(&rd->seek_from, memory_order_relaxed) + skip;
	uint64_t w = atomic_load_explicit(&rd->w, memory_order_acquire);
	uint64_t n = w > from ? EL_MIN(w - from, (uint64_t)frames) : 0;

	rt_copy_out(rd, out, at, from, n);
	if (n < frames && from + n != atomic_load_explicit(&rd->end_w, memory_order_acquire))
		atomic_fetch_add_explicit(&rd->underruns, 1, memory_order_relaxed);
	rt_played(rd, n);
	return (size_t)n;
}

EL_RT void disk_reader_drop_old(struct disk_reader *rd, uint64_t taken)
{
	uint64_t from = atomic_load_explicit(&rd->seek_from, memory_order_relaxed);

	rd->seek_dropped = rd->seek_wanted;
	atomic_store_explicit(&rd->r, from + taken, memory_order_release);
}

uint64_t disk_reader_get_buffered(const struct disk_reader *rd)
{
	uint64_t ack = atomic_load_explicit(&rd->seek_ack, memory_order_acquire);
	uint64_t w, start;

	if (atomic_load_explicit(&rd->seek_req, memory_order_relaxed) != ack)
		return 0;
	w = atomic_load_explicit(&rd->w, memory_order_acquire);
	start = EL_MAX(atomic_load_explicit(&rd->r, memory_order_acquire),
		       ack ? atomic_load_explicit(&rd->seek_from, memory_order_relaxed) : 0);
	return w > start ? w - start : 0;
}

uint64_t disk_reader_get_underruns(const struct disk_reader *rd)
{
	return atomic_load_explicit(&rd->underruns, memory_order_relaxed);
}

EL_RT bool disk_reader_at_end(const struct disk_reader *rd)
{
	/* end_w is reset before a seek's ack: one read after the old frames' drop is the new
	 * position's */
	if (rd->seek_wanted != rd->seek_dropped)
		return false;
	return atomic_load_explicit(&rd->r, memory_order_relaxed) ==
	       atomic_load_explicit(&rd->end_w, memory_order_acquire);
}

uint64_t disk_reader_get_position(const struct disk_reader *rd)
{
	return atomic_load_explicit(&rd->position, memory_order_relaxed);
}

int disk_reader_get_error(const struct disk_reader *rd)
{
	return atomic_load_explicit(&rd->error, memory_order_relaxed);
}
