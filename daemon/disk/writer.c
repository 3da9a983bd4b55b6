/* SPDX-License-Identifier: MIT */
/*
 * daemon/disk/writer.c: recorders' rings and files (writer.h).
 *
 * DESIGN: the ring is SPSC the other way round from a reader's: the RT thread advances w after
 * copying frames in (release), the disk thread advances r after they are written (release).
 * A take's start and end are events the RT thread queues (a second SPSC ring, of struct
 * take_event) with the ring index they happen at: the disk thread writes the frames before an
 * event's index into the take that was open, then acts on the event, so no frame of one take
 * ever lands in another's file, however many starts and stops come between two polls. Frames
 * with no take open (a take that failed) are discarded up to the next event, never past it.
 * A start is queued only with room left for its stop, so a take always ends. A take that fails
 * is posted back as the generation that failed (fail_gen): the RT thread stops handing frames to
 * it. The state the getters read is the disk thread's alone. With no disk thread (a render) the
 * RT side calls the same service itself after each change.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <limits.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "common/el-time.h"
#include "daemon/disk/disk-private.h"
#include "daemon/disk/disk.h"
#include "daemon/disk/wfile.h"
#include "daemon/disk/writer.h"
#include "daemon/fs/beneath.h"
#include "dsp/mem.h"

#define WRITER_MAX_CHANNELS 64u
/* Take starts and stops queued between two polls; a start needs two free (its stop's too). */
#define WRITER_EVENTS 64u

/* A take's start or end at ring index at (DESIGN). */
struct take_event {
	uint64_t at;
	uint64_t gen; /* start: the take's generation */
	bool start;
	bool overrun; /* stop: the ring was full */
};

struct disk_writer {
	struct disk *disk; /* NULL: direct (DESIGN) */
	char *pattern;     /* owned: the configured name */
	char **beneath;    /* owned: where an absolute name must lie (writer.h); NULL: anywhere */
	unsigned channels;
	uint32_t rate;
	int format; /* SF_FORMAT_* container | sample format */
	bool rf64_downgrade;
	float *ring; /* owned: cap frames, interleaved */
	uint64_t cap, mask;

	/* shared (DESIGN) */
	_Atomic uint64_t w, r;
	struct take_event events[WRITER_EVENTS];
	_Atomic uint64_t ev_w, ev_r; /* events queued (RT), acted on (disk thread) */
	_Atomic uint64_t fail_gen;   /* the last take generation that failed */
	_Atomic int state;           /* enum disk_take_end, the disk thread's */
	_Atomic uint64_t frames, takes, overruns;
	_Atomic int error;

	/* the RT thread's */
	bool rt_running;
	uint64_t rt_gen; /* takes started */

	/* the disk thread's (under d->wlock) */
	uint64_t gen; /* the open take's */
	SNDFILE *sf;
	struct disk_wfile *wf; /* sf's file, written behind through io_uring (wfile.h) */
	int fd;
	uint64_t synced_ms;
	bool closing;
	struct disk_writer *next;

	pthread_mutex_t plock; /* path only: read by the control thread without waiting for I/O */
	char path[PATH_MAX];
};

static const struct {
	const char *ext;
	int container;
	int best; /* the sample format when none is asked for */
} writer_containers[] = {
	{"wav", SF_FORMAT_RF64, SF_FORMAT_FLOAT}, /* downgraded to WAV at close while small */
	{"rf64", SF_FORMAT_RF64, SF_FORMAT_FLOAT},  {"w64", SF_FORMAT_W64, SF_FORMAT_FLOAT},
	{"flac", SF_FORMAT_FLAC, SF_FORMAT_PCM_24}, {"caf", SF_FORMAT_CAF, SF_FORMAT_FLOAT},
};

/* The take's file name: the pattern through strftime(3), under the recordings directory. */
static int take_path(const struct disk_writer *w, char *buf, size_t size)
{
	const char *dir = w->disk ? w->disk->recordings_dir : NULL;
	char name[PATH_MAX];
	time_t t = time(NULL);
	struct tm tm;
	size_t n;

	localtime_r(&t, &tm);
	/* the pattern is the configuration's by design; strftime reads no argument list, so no
	 * pattern can make it read memory it should not */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	n = strchr(w->pattern, '%') ? strftime(name, sizeof(name), w->pattern, &tm)
				    : (size_t)snprintf(name, sizeof(name), "%s", w->pattern);
#pragma GCC diagnostic pop
	if (n == 0 || n >= sizeof(name))
		return -ENAMETOOLONG;
	if (name[0] == '/' || !dir)
		n = (size_t)snprintf(buf, size, "%s", name);
	else
		n = (size_t)snprintf(buf, size, "%s/%s", dir, name);
	return n < size ? 0 : -ENAMETOOLONG;
}

/* Ends the open take with state end, error (-errno) when it failed. */
static void take_end(struct disk_writer *w, enum disk_take_end end, int error)
{
	if (w->sf) {
		int e;

		sf_close(w->sf); /* stages the final header */
		w->sf = NULL;
		e = disk_wfile_close(w->wf); /* written, and waited for */
		w->wf = NULL;
		close(w->fd);
		w->fd = -1;
		if (e < 0 && !error) { /* the final writes failed: the take did */
			end = DISK_TAKE_FAILED;
			error = e;
		}
	}
	if (error) {
		atomic_store_explicit(&w->error, error, memory_order_relaxed);
		atomic_store_explicit(&w->fail_gen, w->gen, memory_order_release);
	}
	atomic_store_explicit(&w->state, end, memory_order_relaxed);
}

/* Take gen's file made (never over an existing one) and opened for libsndfile. */
static void take_open_file(struct disk_writer *w, uint64_t gen)
{
	SF_INFO info = {
		.samplerate = (int)w->rate, .channels = (int)w->channels, .format = w->format};
	char path[PATH_MAX], dir[PATH_MAX];
	int fd, r;

	w->gen = gen;
	atomic_store_explicit(&w->frames, 0, memory_order_relaxed);
	atomic_store_explicit(&w->error, 0, memory_order_relaxed);
	r = take_path(w, path, sizeof(path));
	pthread_mutex_lock(&w->plock);
	snprintf(w->path, sizeof(w->path), "%s", r == 0 ? path : w->pattern);
	pthread_mutex_unlock(&w->plock);
	if (r < 0) {
		take_end(w, DISK_TAKE_FAILED, r);
		return;
	}
	/* A relative name lies in the daemon's own recordings directory, where no client makes a
	 * symlink; an absolute one a client named is walked beneath [ipc] file_dirs (writer.h). The
	 * missing directories are made (0700); a file that exists is never written over. */
	fd = fs_create_beneath(w->pattern[0] == '/' ? (const char *const *)w->beneath : NULL, path,
			       0640, dir, sizeof(dir));
	if (fd < 0) {
		if (dir[0]) { /* the directory it could not make says why, not the ENOENT after */
			pthread_mutex_lock(&w->plock);
			snprintf(w->path, sizeof(w->path), "%s", dir);
			pthread_mutex_unlock(&w->plock);
		}
		take_end(w, DISK_TAKE_FAILED, fd);
		return;
	}
	/* io_uring is the disk thread's alone: a take opened by a close (the control thread)
	 * writes directly (wfile.h) */
	r = disk_wfile_new(w->closing ? NULL : w->disk, fd, &w->wf);
	errno = 0;
	if (r == 0 && !(w->sf = disk_wfile_sf_open(w->wf, &info))) {
		r = errno ? -errno : -EINVAL;
		w->wf = (disk_wfile_close(w->wf), NULL);
	}
	if (r < 0) {
		close(fd);
		unlink(path);
		take_end(w, DISK_TAKE_FAILED, r);
		return;
	}
	w->fd = fd;
	/* a killed daemon leaves a file whose header counts what was written (writer.h) */
	sf_command(w->sf, SFC_SET_UPDATE_HEADER_AUTO, NULL, SF_TRUE);
	sf_command(w->sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
	if (w->rf64_downgrade)
		sf_command(w->sf, SFC_RF64_AUTO_DOWNGRADE, NULL, SF_TRUE);
	w->synced_ms = el_now_ms();
	atomic_store_explicit(&w->state, DISK_TAKE_RUNNING, memory_order_relaxed);
}

/*
 * Take gen starts (take_open_file), and only then is it counted: whoever sees the new count
 * (acquire) sees its state, running or failed, and its file's name.
 */
static void take_open(struct disk_writer *w, uint64_t gen)
{
	take_open_file(w, gen);
	atomic_fetch_add_explicit(&w->takes, 1, memory_order_release);
}

/*
 * The ring's frames up to index end into the open take's file, or discarded when none is open
 * (DESIGN); a failed write ends the take. Syncs about once a second.
 */
static void take_drain(struct disk_writer *w, uint64_t end)
{
	uint64_t r = atomic_load_explicit(&w->r, memory_order_relaxed);

	while (w->sf && r < end) {
		uint64_t n = EL_MIN(end - r, w->cap - (r & w->mask));
		sf_count_t put;

		put = sf_writef_float(w->sf, w->ring + (r & w->mask) * w->channels, (sf_count_t)n);
		if (put != (sf_count_t)n) { /* a write failed (wfile.h), or libsndfile did */
			int e = disk_wfile_get_error(w->wf);

			take_end(w, DISK_TAKE_FAILED, e < 0 ? e : -EIO);
			break;
		}
		r += n;
		atomic_fetch_add_explicit(&w->frames, n, memory_order_relaxed);
		atomic_store_explicit(&w->r, r, memory_order_release);
	}
	if (!w->sf) /* no take open: these frames have nowhere to go */
		atomic_store_explicit(&w->r, end, memory_order_release);
	if (w->sf) { /* handed to the kernel; synced about once a second */
		bool sync = el_now_ms() - w->synced_ms >= DISK_SYNC_MS;
		int e = disk_wfile_flush(w->wf, sync);

		if (sync)
			w->synced_ms = el_now_ms();
		if (e < 0) /* a write or sync failed: the take is lost from there */
			take_end(w, DISK_TAKE_FAILED, e);
	}
}

/* One writer's due work, event by event (disk thread, or the RT thread direct; DESIGN). */
static void writer_service(struct disk_writer *w)
{
	for (;;) {
		uint64_t er = atomic_load_explicit(&w->ev_r, memory_order_relaxed);
		bool have = er != atomic_load_explicit(&w->ev_w, memory_order_acquire);
		const struct take_event *ev = &w->events[er % WRITER_EVENTS];

		/* the frames before the event belong to the take open before it */
		take_drain(w, have ? ev->at : atomic_load_explicit(&w->w, memory_order_acquire));
		if (!have)
			break;
		if (ev->start) {
			if (w->sf) /* a stop always comes first; never leave a file open */
				take_end(w, DISK_TAKE_STOPPED, 0);
			take_open(w, ev->gen);
		} else if (w->sf) {
			take_end(w, ev->overrun ? DISK_TAKE_OVERRUN : DISK_TAKE_STOPPED, 0);
		} else if (ev->overrun) {
			atomic_store_explicit(&w->state, DISK_TAKE_OVERRUN, memory_order_relaxed);
		}
		atomic_store_explicit(&w->ev_r, er + 1, memory_order_release);
	}
}

void disk_writers_service(struct disk *d)
{
	pthread_mutex_lock(&d->wlock);
	for (struct disk_writer *w = d->writers; w; w = w->next)
		if (!w->closing)
			writer_service(w);
	pthread_mutex_unlock(&d->wlock);
}

/* container | sample format for name and the asked sample format; 0 with a message if none. */
static int writer_format(const char *name, unsigned channels, uint32_t rate, int sample_format,
			 int *ret_format, bool *ret_downgrade, struct el_error *reterr)
{
	const char *base = strrchr(name, '/'), *dot = strrchr(base ? base : name, '.');

	for (size_t i = 0; dot && i < EL_N_ELEMENTS(writer_containers); i++) {
		SF_INFO t = {.samplerate = (int)rate, .channels = (int)channels};

		if (strcasecmp(dot + 1, writer_containers[i].ext) != 0)
			continue;
		t.format = writer_containers[i].container |
			   (sample_format ? sample_format : writer_containers[i].best);
		if (!sf_format_check(&t))
			return el_error_set(reterr, -EINVAL,
					    "'%s': %s files cannot hold that sample format%s", name,
					    writer_containers[i].ext,
					    writer_containers[i].container == SF_FORMAT_FLAC
						    ? " (FLAC takes pcm16 or pcm24)"
						    : "");
		*ret_format = t.format;
		*ret_downgrade = strcasecmp(writer_containers[i].ext, "wav") == 0;
		return 0;
	}
	return el_error_set(reterr, -EINVAL,
			    "'%s': a recording's format comes from its extension: .wav, .rf64, "
			    ".w64, .flac, .caf",
			    name);
}

int disk_writer_open(struct disk *d, const struct disk_writer_config *c, struct disk_writer **ret,
		     struct el_error *reterr)
{
	struct disk_writer *w;
	int format = 0, r;
	bool downgrade = false;

	if (!c->file || !c->file[0] || c->channels < 1 || c->channels > WRITER_MAX_CHANNELS ||
	    c->ring_frames < 1024 || (c->ring_frames & (c->ring_frames - 1)))
		return el_error_set(reterr, -EINVAL, "invalid recorder configuration");
	r = writer_format(c->file, c->channels, c->rate, c->sample_format, &format, &downgrade,
			  reterr);
	if (r < 0)
		return r;
	w = calloc(1, sizeof(*w));
	if (!w)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	w->disk = d;
	w->channels = c->channels;
	w->rate = c->rate;
	w->format = format;
	w->rf64_downgrade = downgrade;
	w->cap = c->ring_frames;
	w->mask = w->cap - 1;
	w->fd = -1;
	w->pattern = strdup(c->file);
	w->ring = dsp_mem_alloc(w->cap * w->channels * sizeof(float));
	if (!w->pattern || !w->ring || fs_dirs_copy(c->beneath, &w->beneath) < 0) {
		free(w->pattern);
		dsp_mem_free(w->ring);
		free(w);
		return el_error_set(reterr, -ENOMEM, "out of memory");
	}
	atomic_init(&w->w, 0);
	atomic_init(&w->r, 0);
	atomic_init(&w->ev_w, 0);
	atomic_init(&w->ev_r, 0);
	atomic_init(&w->fail_gen, 0);
	pthread_mutex_init(&w->plock, NULL);
	atomic_init(&w->state, DISK_TAKE_NONE);
	atomic_init(&w->frames, 0);
	atomic_init(&w->takes, 0);
	atomic_init(&w->overruns, 0);
	atomic_init(&w->error, 0);
	if (d) {
		pthread_mutex_lock(&d->wlock);
		w->next = d->writers;
		d->writers = w;
		pthread_mutex_unlock(&d->wlock);
		pthread_mutex_lock(&d->lock);
		disk_use(d, 1);
		pthread_mutex_unlock(&d->lock);
	}
	*ret = w;
	return 0;
}

void disk_writer_close(struct disk_writer *w)
{
	struct disk *d;

	if (!w)
		return;
	d = w->disk;
	if (d)
		pthread_mutex_lock(&d->wlock);
	w->closing = true; /* the disk thread leaves it alone from now on */
	if (d) { /* its writes in flight completed, then written from this thread (wfile.h) */
		pthread_mutex_unlock(&d->wlock);
		if (w->wf)
			disk_wfile_set_direct(w->wf);
		pthread_mutex_lock(&d->wlock);
	}
	writer_service(w); /* what was handed over, written; the file closed */
	if (w->sf)
		take_end(w, DISK_TAKE_STOPPED, 0);
	pthread_mutex_destroy(&w->plock);
	if (d) {
		for (struct disk_writer **p = &d->writers; *p; p = &(*p)->next) {
			if (*p == w) {
				*p = w->next;
				break;
			}
		}
		pthread_mutex_unlock(&d->wlock);
		pthread_mutex_lock(&d->lock);
		disk_use(d, -1);
		pthread_mutex_unlock(&d->lock);
	}
	free(w->pattern);
	fs_dirs_free(w->beneath);
	dsp_mem_free(w->ring);
	free(w);
}

/* Thread: RT. Queues a take event at the ring's current end; false when there is no room. */
EL_RT static bool rt_post(struct disk_writer *w, bool start, bool overrun, uint64_t gen,
			  unsigned room)
{
	uint64_t ew = atomic_load_explicit(&w->ev_w, memory_order_relaxed); /* ours */
	struct take_event *ev = &w->events[ew % WRITER_EVENTS];

	if (WRITER_EVENTS - (ew - atomic_load_explicit(&w->ev_r, memory_order_acquire)) < room)
		return false;
	*ev = (struct take_event){.at = atomic_load_explicit(&w->w, memory_order_relaxed),
				  .gen = gen,
				  .start = start,
				  .overrun = overrun};
	atomic_store_explicit(&w->ev_w, ew + 1, memory_order_release);
	if (!w->disk)
		writer_service(w);
	return true;
}

EL_RT void disk_writer_start(struct disk_writer *w)
{
	if (w->rt_running)
		return;
	/* room for the start and its stop, so every take ends (DESIGN) */
	if (!rt_post(w, true, false, w->rt_gen + 1, 2)) {
		atomic_fetch_add_explicit(&w->overruns, 1, memory_order_relaxed);
		return; /* too many starts and stops unserved: the disk thread is far behind */
	}
	w->rt_gen++;
	w->rt_running = true;
}

/* The RT thread's end of a take; overran: the ring was full. The start kept its stop's room. */
EL_RT static void rt_writer_end(struct disk_writer *w, bool overran)
{
	w->rt_running = false;
	if (overran)
		atomic_fetch_add_explicit(&w->overruns, 1, memory_order_relaxed);
	(void)rt_post(w, false, overran, w->rt_gen, 1);
}

EL_RT void disk_writer_stop(struct disk_writer *w)
{
	if (w->rt_running)
		rt_writer_end(w, false);
}

EL_RT bool disk_writer_write(struct disk_writer *w, const float *const *in, size_t frames)
{
	uint64_t wi = atomic_load_explicit(&w->w, memory_order_relaxed); /* ours */
	uint64_t r;

	if (!w->rt_running)
		return false;
	if (atomic_load_explicit(&w->fail_gen, memory_order_acquire) == w->rt_gen) {
		rt_writer_end(w, false); /* the disk thread could not open or write it */
		return false;
	}
	r = atomic_load_explicit(&w->r, memory_order_acquire);
	if (w->cap - (wi - r) < frames) {
		rt_writer_end(w, true);
		return false;
	}
	for (size_t i = 0; i < frames; i++) {
		float *f = w->ring + ((wi + i) & w->mask) * w->channels;

		for (unsigned c = 0; c < w->channels; c++)
			f[c] = in[c][i];
	}
	atomic_store_explicit(&w->w, wi + frames, memory_order_release);
	if (!w->disk)
		writer_service(w);
	return true;
}

enum disk_take_end disk_writer_get_state(const struct disk_writer *w)
{
	return (enum disk_take_end)atomic_load_explicit(&w->state, memory_order_relaxed);
}

uint64_t disk_writer_get_frames(const struct disk_writer *w)
{
	return atomic_load_explicit(&w->frames, memory_order_relaxed);
}

uint64_t disk_writer_get_takes(const struct disk_writer *w)
{
	return atomic_load_explicit(&w->takes, memory_order_acquire);
}

uint64_t disk_writer_get_overruns(const struct disk_writer *w)
{
	return atomic_load_explicit(&w->overruns, memory_order_relaxed);
}

int disk_writer_get_error(const struct disk_writer *w)
{
	return atomic_load_explicit(&w->error, memory_order_relaxed);
}

void disk_writer_get_path(struct disk_writer *w, char *buf, size_t size)
{
	pthread_mutex_lock(&w->plock);
	snprintf(buf, size, "%s", w->path);
	pthread_mutex_unlock(&w->plock);
}
