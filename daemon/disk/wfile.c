/* SPDX-License-Identifier: MIT */
/*
 * daemon/disk/wfile.c: a recording's file written behind through io_uring (wfile.h).
 *
 * DESIGN: two staging buffers. libsndfile's writes are copied into the one collecting (a write
 * that continues the last one's bytes extends its piece); a flush hands its pieces to io_uring as
 * one chain linked in order (IOSQE_IO_LINK), an fdatasync at its end when asked, and swaps
 * buffers, but only once the other buffer's chain has completed: one chain in flight per file,
 * so its buffer is never written into while the kernel reads it. A chain's completions come in
 * order; the first that fails (or writes short) records the error, the rest of the chain is
 * cancelled (-ECANCELED) and nothing is handed over after. `inflight` counts the chain's
 * operations not yet completed: the disk thread's completion loop decrements it (under the disk
 * lock); the control thread, to write directly, waits for it to reach zero on the disk's `idle`
 * condition, which that loop signals.
 */
#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/el-macros.h"
#include "daemon/disk/disk-private.h"
#include "daemon/disk/wfile.h"

/* A staging buffer: a few polls of many channels (a 10 ms poll of 64 float channels at 192 kHz
 * is 480 KiB); a write that does not fit waits for the other buffer. */
#define WFILE_STAGE_BYTES (1u << 20)
/* Pieces per chain: the audio's runs and the header rewritten after each (a few per poll). */
#define WFILE_PIECES 64u

struct wfile_piece {
	uint64_t offset;
	uint32_t at, len; /* in the stage's bytes */
};

struct wfile_stage {
	unsigned char *bytes; /* owned: WFILE_STAGE_BYTES */
	uint32_t used;
	unsigned n;
	struct wfile_piece piece[WFILE_PIECES];
	bool sync; /* an fdatasync ends its chain */
};

struct disk_wfile {
	struct disk_op op; /* first: its operations' user_data (disk-private.h) */
	struct disk *disk; /* NULL: direct */
	int fd;            /* borrowed */
	bool direct;       /* pwrite(2) from now on */
	sf_count_t pos, len;
	struct wfile_stage stage[2];
	unsigned cur;  /* the stage collecting */
	unsigned done; /* completions of the chain in flight, so far (disk thread) */
	atomic_uint inflight;
	_Atomic int error;
};

static void wfile_fail(struct disk_wfile *f, int error)
{
	int none = 0;

	atomic_compare_exchange_strong_explicit(&f->error, &none, error, memory_order_relaxed,
						memory_order_relaxed);
}

/* One of the chain's operations completed (disk_reap: the disk thread, d->lock held). */
static void wfile_op_complete(struct disk_op *op, int res)
{
	struct disk_wfile *f = (struct disk_wfile *)op;
	const struct wfile_stage *s = &f->stage[f->cur ^ 1]; /* the one in flight */
	unsigned i = f->done++;

	if (res == -ECANCELED)
		; /* an earlier one of the chain failed: its error is recorded */
	else if (res < 0)
		wfile_fail(f, res);
	else if (i < s->n && (uint32_t)res != s->piece[i].len)
		wfile_fail(f, -ENOSPC); /* a short write to a file: the device is full */
	atomic_fetch_sub_explicit(&f->inflight, 1, memory_order_release);
}

int disk_wfile_new(struct disk *d, int fd, struct disk_wfile **ret)
{
	struct disk_wfile *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->op.complete = wfile_op_complete;
	f->disk = d && d->uring_writes ? d : NULL;
	f->direct = !f->disk;
	f->fd = fd;
	atomic_init(&f->inflight, 0);
	atomic_init(&f->error, 0);
	for (unsigned i = 0; i < 2 && !f->direct; i++) {
		f->stage[i].bytes = malloc(WFILE_STAGE_BYTES);
		if (!f->stage[i].bytes) {
			free(f->stage[0].bytes);
			free(f);
			return -ENOMEM;
		}
	}
	*ret = f;
	return 0;
}

/* Disk thread: completions until f's chain is done (waiting as long as it takes). */
static void wfile_wait_own(struct disk_wfile *f)
{
	struct disk *d = f->disk;

	pthread_mutex_lock(&d->lock);
	while (atomic_load_explicit(&f->inflight, memory_order_acquire) > 0) {
		struct io_uring_cqe *cqe;

		io_uring_submit(&d->uring);
		(void)io_uring_wait_cqe(&d->uring, &cqe);
		disk_reap(d);
	}
	pthread_mutex_unlock(&d->lock);
}

/* Disk thread: the collecting stage's chain to io_uring (none in flight); swaps the stages. */
static int wfile_submit(struct disk_wfile *f)
{
	struct wfile_stage *s = &f->stage[f->cur];
	struct io_uring *ring = &f->disk->uring;
	unsigned ops = s->n + (s->sync ? 1u : 0u);

	if (ops == 0)
		return 0;
	if (io_uring_sq_space_left(ring) < ops)
		io_uring_submit(ring); /* room for the whole chain: a chain cannot span submits */
	if (io_uring_sq_space_left(ring) < ops)
		return -EAGAIN;
	for (unsigned i = 0; i < ops; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

		if (i < s->n)
			io_uring_prep_write(sqe, f->fd, s->bytes + s->piece[i].at, s->piece[i].len,
					    s->piece[i].offset);
		else
			io_uring_prep_fsync(sqe, f->fd, IORING_FSYNC_DATASYNC);
		if (i + 1 < ops)
			sqe->flags |= IOSQE_IO_LINK;
		io_uring_sqe_set_data(sqe, &f->op);
	}
	f->done = 0;
	atomic_store_explicit(&f->inflight, ops, memory_order_relaxed);
	f->cur ^= 1;
	f->stage[f->cur].used = 0;
	f->stage[f->cur].n = 0;
	f->stage[f->cur].sync = false;
	return 0;
}

int disk_wfile_flush(struct disk_wfile *f, bool sync)
{
	int e = atomic_load_explicit(&f->error, memory_order_relaxed);

	if (e < 0 || f->direct) {
		if (e == 0 && sync && fdatasync(f->fd) < 0)
			wfile_fail(f, -errno);
		return atomic_load_explicit(&f->error, memory_order_relaxed);
	}
	f->stage[f->cur].sync |= sync;
	if (atomic_load_explicit(&f->inflight, memory_order_acquire) == 0)
		(void)wfile_submit(f); /* -EAGAIN: the queue is full, the next poll */
	return 0;
}

/* Writes straight to the file (direct mode). */
static sf_count_t wfile_pwrite(struct disk_wfile *f, const void *p, sf_count_t n)
{
	sf_count_t done = 0;

	while (done < n) {
		ssize_t w =
			pwrite(f->fd, (const char *)p + done, (size_t)(n - done), f->pos + done);

		if (w <= 0) {
			wfile_fail(f, w < 0 ? -errno : -ENOSPC);
			break;
		}
		done += w;
	}
	return done;
}

/* Disk thread: n bytes staged at pos; false when the stage has no room (waited for, submitted). */
static bool wfile_stage(struct disk_wfile *f, const void *p, sf_count_t n)
{
	struct wfile_stage *s = &f->stage[f->cur];
	struct wfile_piece *last = s->n ? &s->piece[s->n - 1] : NULL;

	if ((uint64_t)n > WFILE_STAGE_BYTES - s->used ||
	    (s->n == WFILE_PIECES && !(last && last->offset + last->len == (uint64_t)f->pos)))
		return false;
	memcpy(s->bytes + s->used, p, (size_t)n);
	if (last && last->offset + last->len == (uint64_t)f->pos && last->at + last->len == s->used)
		last->len += (uint32_t)n;
	else
		s->piece[s->n++] = (struct wfile_piece){
			.offset = (uint64_t)f->pos, .at = s->used, .len = (uint32_t)n};
	s->used += (uint32_t)n;
	return true;
}

static sf_count_t wfile_write(const void *p, sf_count_t n, void *userdata)
{
	struct disk_wfile *f = userdata;

	if (atomic_load_explicit(&f->error, memory_order_relaxed) < 0)
		return 0; /* libsndfile sees a short write: the take ends */
	if (!f->direct && !wfile_stage(f, p, n)) {
		/* full: the other stage's chain done, this one handed over, then once more */
		wfile_wait_own(f);
		(void)wfile_submit(f);
		wfile_wait_own(f);
		if (!wfile_stage(f, p, n)) { /* larger than a stage: the chains are done, so */
			n = wfile_pwrite(f, p, n); /* writing it directly keeps the order */
			f->pos += n;
			f->len = EL_MAX(f->len, f->pos);
			return n;
		}
	} else if (f->direct) {
		n = wfile_pwrite(f, p, n);
	}
	f->pos += n;
	f->len = EL_MAX(f->len, f->pos);
	return n;
}

static sf_count_t wfile_get_filelen(void *userdata)
{
	const struct disk_wfile *f = userdata;

	return f->len;
}

static sf_count_t wfile_seek(sf_count_t offset, int whence, void *userdata)
{
	struct disk_wfile *f = userdata;
	sf_count_t to = whence == SEEK_SET   ? offset
			: whence == SEEK_CUR ? f->pos + offset
					     : f->len + offset;

	if (to < 0)
		return -1;
	f->pos = to;
	return to;
}

/* libsndfile does not read a file it writes; should it, what it reads is what was written. */
static sf_count_t wfile_read(void *p, sf_count_t n, void *userdata)
{
	struct disk_wfile *f = userdata;
	ssize_t r;

	if (!f->direct) {
		wfile_wait_own(f);
		(void)wfile_submit(f);
		wfile_wait_own(f);
	}
	r = pread(f->fd, p, (size_t)n, f->pos);
	if (r < 0)
		return 0;
	f->pos += r;
	return r;
}

static sf_count_t wfile_tell(void *userdata)
{
	const struct disk_wfile *f = userdata;

	return f->pos;
}

SNDFILE *disk_wfile_sf_open(struct disk_wfile *f, SF_INFO *info)
{
	static SF_VIRTUAL_IO io = {
		.get_filelen = wfile_get_filelen,
		.seek = wfile_seek,
		.read = wfile_read,
		.write = wfile_write,
		.tell = wfile_tell,
	};

	return sf_open_virtual(&io, SFM_WRITE, info, f);
}

void disk_wfile_set_direct(struct disk_wfile *f)
{
	struct disk *d = f->disk;
	struct wfile_stage *s;
	sf_count_t pos = f->pos;

	if (f->direct)
		return;
	pthread_mutex_lock(&d->lock);
	while (atomic_load_explicit(&f->inflight, memory_order_acquire) > 0)
		pthread_cond_wait(&d->idle, &d->lock);
	pthread_mutex_unlock(&d->lock);
	/* what is staged, in order (unless a write failed: nothing after it), then directly */
	f->direct = true;
	s = &f->stage[f->cur];
	for (unsigned i = 0; i < s->n && disk_wfile_get_error(f) == 0; i++) {
		f->pos = (sf_count_t)s->piece[i].offset;
		if (wfile_pwrite(f, s->bytes + s->piece[i].at, s->piece[i].len) != s->piece[i].len)
			break;
	}
	s->n = 0;
	f->pos = pos; /* where libsndfile left it */
}

int disk_wfile_get_error(const struct disk_wfile *f)
{
	return atomic_load_explicit(&f->error, memory_order_relaxed);
}

int disk_wfile_close(struct disk_wfile *f)
{
	int e;

	if (!f)
		return 0;
	if (!f->direct) {
		wfile_wait_own(f);
		if (atomic_load_explicit(&f->error, memory_order_relaxed) == 0)
			(void)wfile_submit(f);
		wfile_wait_own(f);
	}
	e = atomic_load_explicit(&f->error, memory_order_relaxed);
	free(f->stage[0].bytes);
	free(f->stage[1].bytes);
	free(f);
	return e;
}
