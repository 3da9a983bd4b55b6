/* SPDX-License-Identifier: MIT */
/*
 * daemon/disk/cache.c: decoding an audio file once into a raw float cache file (cache.h).
 *
 * DESIGN: the decoded audio streams through in chunks — libsndfile reads DISK_CACHE_CHUNK
 * frames, soxr (when the rates differ) turns them into the engine's rate, write(2) appends
 * them — so a file of any length costs a chunk of memory, not its size. The header is written
 * last, after every frame, and the file renamed into place after that: an entry whose header
 * is valid was written whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sndfile.h>
#include <soxr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "common/el-pace.h"
#include "daemon/disk/cache.h"
#include "daemon/fs/beneath.h"

#define DISK_CACHE_MAGIC        "echoeld-cache-1"
#define DISK_CACHE_CHUNK        16384u /* source frames decoded per step */
#define DISK_CACHE_MAX_CHANNELS 64u
/* A header claiming more is corrupt (2^36 frames: a day at 768 kHz), so sizes never wrap. */
#define DISK_CACHE_MAX_FRAMES (1ull << 36)
/* File rates taken: a bound on how many frames resampling makes of one (768 at 1 kHz to 768 k) */
#define DISK_CACHE_MIN_RATE 1000
#define DISK_CACHE_MAX_RATE 768000

/* The header, at offset 0 of every cache file; the rest of the page is zero. */
struct cache_header {
	char magic[16];
	uint32_t channels, rate, file_rate, reserved;
	uint64_t frames;
	/* the source's stamp */
	uint64_t dev, ino, size, mtime_sec, mtime_nsec;
	char src[3072]; /* the header stays within DISK_CACHE_HEADER */
};

_Static_assert(sizeof(struct cache_header) <= DISK_CACHE_HEADER, "the header fits its page");

/* FNV-1a over the bytes of p: names a cache entry. */
static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static void header_fill(struct cache_header *h, const char *src, const struct stat *st,
			uint32_t rate)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, DISK_CACHE_MAGIC, sizeof(DISK_CACHE_MAGIC));
	h->rate = rate;
	h->dev = (uint64_t)st->st_dev;
	h->ino = (uint64_t)st->st_ino;
	h->size = (uint64_t)st->st_size;
	h->mtime_sec = (uint64_t)st->st_mtim.tv_sec;
	h->mtime_nsec = (uint64_t)st->st_mtim.tv_nsec;
	snprintf(h->src, sizeof(h->src), "%s", src);
}

/* The source's fields of two headers agree (what the name's hash stands for). */
static bool header_same_source(const struct cache_header *a, const struct cache_header *b)
{
	return memcmp(a->magic, b->magic, sizeof(a->magic)) == 0 && a->rate == b->rate &&
	       a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
	       strcmp(a->src, b->src) == 0;
}

static uint64_t cache_bytes(unsigned channels, uint64_t frames)
{
	return DISK_CACHE_HEADER + frames * channels * sizeof(float);
}

/* The entry at path if it is whole and of this source: 0 with e filled, else -errno. */
static int cache_open_existing(const char *path, const struct cache_header *want,
			       struct disk_cache_entry *e)
{
	struct cache_header h;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || !header_same_source(&h, want) ||
	    h.channels < 1 || h.channels > DISK_CACHE_MAX_CHANNELS || h.frames == 0 ||
	    h.frames > DISK_CACHE_MAX_FRAMES || fstat(fd, &st) < 0 ||
	    (uint64_t)st.st_size != cache_bytes(h.channels, h.frames)) {
		close(fd);
		return -ESTALE;
	}
	e->fd = fd;
	e->channels = h.channels;
	e->frames = h.frames;
	e->file_rate = h.file_rate;
	e->reused = true;
	return 0;
}

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The decoding under way: source, resampler, where it goes. */
struct decode {
	SNDFILE *sf;
	SF_INFO info;
	soxr_t soxr; /* NULL: same rate */
	float *in, *out;
	size_t out_frames; /* capacity of out */
	int fd;
	uint64_t frames; /* written */
};

/* n frames of out appended to the cache file. */
static int decode_put(struct decode *dc, const float *buf, size_t n)
{
	dc->frames += n;
	return write_all(dc->fd, buf, n * (size_t)dc->info.channels * sizeof(float));
}

/* The whole source through the resampler into the file; -errno, with *what the stage. */
static int decode_run(struct decode *dc, const struct el_pacer *pacer, const char **what)
{
	uint64_t since = el_pace_now_ns();
	bool flushed = false;
	int r;

	while (!flushed) {
		sf_count_t got = sf_readf_float(dc->sf, dc->in, DISK_CACHE_CHUNK);
		size_t used = 0, made = 0;

		if (got < 0 || (got == 0 && sf_error(dc->sf))) {
			*what = sf_strerror(dc->sf);
			return -EIO;
		}
		if (!dc->soxr) {
			if (got == 0)
				break;
			r = decode_put(dc, dc->in, (size_t)got);
			if (r < 0)
				return r;
			el_pace(pacer, &since);
			continue;
		}
		/* a NULL input (the source ended) asks soxr for what it still holds, until none */
		do {
			soxr_error_t err = soxr_process(dc->soxr, got ? dc->in : NULL, (size_t)got,
							&used, dc->out, dc->out_frames, &made);

			if (err) {
				*what = err;
				return -EINVAL;
			}
			r = decode_put(dc, dc->out, made);
			if (r < 0)
				return r;
			if (got == 0 && made == 0)
				flushed = true;
		} while (got == 0 && !flushed);
		el_pace(pacer, &since);
	}
	return 0;
}

/*
 * Where the decoded audio goes: a temporary file in cache_dir (its name in tmp_path), else an
 * unnamed one in $TMPDIR or /tmp (tmp_path empty). An fd, or -errno.
 */
static int cache_create(const char *cache_dir, char *tmp_path, size_t size)
{
	const char *tmpdir = getenv("TMPDIR");
	int fd = -1;

	tmp_path[0] = '\0';
	if (cache_dir && cache_dir[0]) {
		(void)mkdir(cache_dir, 0700);
		if (snprintf(tmp_path, size, "%s/.decoding-XXXXXX", cache_dir) < (int)size)
			fd = mkostemp(tmp_path, O_CLOEXEC);
		if (fd >= 0)
			return fd;
		tmp_path[0] = '\0';
	}
	fd = open(tmpdir && tmpdir[0] == '/' ? tmpdir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC,
		  0600);
	return fd < 0 ? -errno : fd;
}

/* Decodes src into a new entry (e filled). */
static int cache_decode(const char *cache_dir, const char *src, int src_fd, const char *final_path,
			struct cache_header *h, const struct el_pacer *pacer,
			struct disk_cache_entry *e, struct el_error *reterr)
{
	struct decode dc = {.fd = -1};
	char tmp[PATH_MAX];
	const char *what = NULL;
	int r = 0;

	dc.sf = sf_open_fd(src_fd, SFM_READ, &dc.info, SF_FALSE);
	if (!dc.sf)
		return el_error_set(reterr, -EINVAL, "'%s': cannot open: %s", src,
				    sf_strerror(NULL));
	if (dc.info.channels < 1 || dc.info.channels > (int)DISK_CACHE_MAX_CHANNELS ||
	    dc.info.frames <= 0) {
		sf_close(dc.sf);
		return el_error_set(reterr, -EINVAL,
				    dc.info.frames <= 0
					    ? "'%s': no audio in it"
					    : "'%s': %d channels, at most 64 are supported",
				    src, dc.info.channels);
	}
	if (dc.info.samplerate < DISK_CACHE_MIN_RATE || dc.info.samplerate > DISK_CACHE_MAX_RATE) {
		sf_close(dc.sf);
		return el_error_set(reterr, -EINVAL, "'%s': a rate of %d Hz is out of range (%u to %u)",
				    src, dc.info.samplerate, DISK_CACHE_MIN_RATE, DISK_CACHE_MAX_RATE);
	}
	h->channels = (uint32_t)dc.info.channels;
	h->file_rate = (uint32_t)dc.info.samplerate;
	if (h->file_rate != h->rate) {
		soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
		soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
		soxr_error_t err;

		dc.soxr = soxr_create(h->file_rate, h->rate, h->channels, &err, &io, &q, NULL);
		if (err) {
			sf_close(dc.sf);
			return el_error_set(reterr, -EINVAL,
					    "'%s': cannot resample from %u to %u Hz: %s", src,
					    h->file_rate, h->rate, err);
		}
	}
	dc.out_frames = (size_t)((double)DISK_CACHE_CHUNK * h->rate / h->file_rate) + 64;
	dc.in = malloc((size_t)DISK_CACHE_CHUNK * h->channels * sizeof(float));
	dc.out = malloc(dc.out_frames * h->channels * sizeof(float));
	dc.fd = cache_create(cache_dir, tmp, sizeof(tmp));
	if (!dc.in || !dc.out)
		r = el_error_set(reterr, -ENOMEM, "'%s': out of memory", src);
	else if (dc.fd < 0)
		r = el_error_set(reterr, dc.fd, "'%s': cannot write the decoded audio anywhere: %s",
				 cache_dir ? cache_dir : "/tmp", strerror(-dc.fd));
	if (r == 0 && lseek(dc.fd, DISK_CACHE_HEADER, SEEK_SET) < 0)
		r = el_error_set(reterr, -errno, "'%s': %s", tmp, strerror(errno));
	if (r == 0 && (r = decode_run(&dc, pacer, &what)) < 0)
		el_error_set(reterr, r, "'%s': %s", what ? src : (tmp[0] ? tmp : "/tmp"),
			     what ? what : strerror(-r));
	h->frames = dc.frames;
	if (r == 0 && dc.frames == 0)
		r = el_error_set(reterr, -EINVAL, "'%s': no audio in it", src);
	if (r == 0 && pwrite(dc.fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h))
		r = el_error_set(reterr, -EIO, "'%s': cannot write: %s", tmp, strerror(errno));
	/* on the device before it has its name: after a power cut a named entry is whole */
	if (r == 0 && tmp[0] && fdatasync(dc.fd) < 0)
		r = el_error_set(reterr, -errno, "'%s': cannot write: %s", tmp, strerror(errno));
	if (r == 0 && tmp[0] && rename(tmp, final_path) == 0) {
		e->path = strdup(final_path);
		tmp[0] = '\0';
	}
	if (tmp[0])
		unlink(tmp); /* a failure, or a cache that would not take it: used once, unnamed */
	sf_close(dc.sf);
	if (dc.soxr)
		soxr_delete(dc.soxr);
	free(dc.in);
	free(dc.out);
	if (r < 0) {
		if (dc.fd >= 0)
			close(dc.fd);
		return r;
	}
	e->fd = dc.fd;
	e->channels = h->channels;
	e->frames = h->frames;
	e->file_rate = h->file_rate;
	e->reused = false;
	return 0;
}

/* What the source says of itself, for a probe that finds no cache file: 1 (not cached). */
static int cache_probe_source(const char *src, int src_fd, uint32_t rate,
			      struct disk_cache_entry *ret, struct el_error *reterr)
{
	SF_INFO info = {0};
	SNDFILE *sf = sf_open_fd(src_fd, SFM_READ, &info, SF_FALSE);

	if (!sf)
		return el_error_set(reterr, -EINVAL, "'%s': cannot open: %s", src,
				    sf_strerror(NULL));
	sf_close(sf);
	if (info.channels < 1 || info.channels > (int)DISK_CACHE_MAX_CHANNELS || info.frames <= 0 ||
	    info.samplerate <= 0)
		return el_error_set(reterr, -EINVAL,
				    "'%s': %d channels, %lld frames: not a file a player plays",
				    src, info.channels, (long long)info.frames);
	ret->channels = (unsigned)info.channels;
	ret->file_rate = (uint32_t)info.samplerate;
	/* at the engine's rate, as the decoding will give it within a frame or two */
	ret->frames = ((uint64_t)info.frames * rate + ret->file_rate - 1) / ret->file_rate;
	return 1;
}

/*
 * disk_cache_prepare(), or with decode false disk_cache_probe(). The source is opened once
 * (beneath its directories when a client named it) and everything after reads that descriptor:
 * its identity for the key, its header, its samples.
 */
static int cache_lookup(const char *cache_dir, const char *src, const char *const *beneath,
			uint32_t rate, const struct el_pacer *pacer, bool decode,
			struct disk_cache_entry *ret, struct el_error *reterr)
{
	struct cache_header *h = calloc(1, sizeof(*h));
	char path[PATH_MAX] = "";
	struct stat st;
	uint64_t key;
	int r, fd;

	*ret = (struct disk_cache_entry){.fd = -1};
	if (!h)
		return el_error_set(reterr, -ENOMEM, "'%s': out of memory", src);
	/* O_NONBLOCK: a FIFO named by mistake must not hang the thread in open() */
	fd = fs_open_beneath(beneath, src, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = fd < 0 ? fd : -errno;
		el_error_set(reterr, r, "'%s': cannot open: %s", src, strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = el_error_set(reterr, -EINVAL, "'%s': not a regular file", src);
		goto out;
	}
	header_fill(h, src, &st, rate);
	key = hash_bytes(0xcbf29ce484222325ull, h, sizeof(*h));
	if (cache_dir && cache_dir[0])
		snprintf(path, sizeof(path), "%s/%016llx.f32", cache_dir, (unsigned long long)key);
	if (path[0] && cache_open_existing(path, h, ret) == 0) {
		ret->path = strdup(path);
		r = 0;
		goto out;
	}
	r = decode ? cache_decode(path[0] ? cache_dir : NULL, src, fd, path, h, pacer, ret, reterr)
		   : cache_probe_source(src, fd, rate, ret, reterr);
out:
	if (fd >= 0)
		close(fd);
	free(h);
	return r;
}

int disk_cache_prepare(const char *cache_dir, const char *src, const char *const *beneath,
		       uint32_t rate, const struct el_pacer *pacer, struct disk_cache_entry *ret,
		       struct el_error *reterr)
{
	return cache_lookup(cache_dir, src, beneath, rate, pacer, true, ret, reterr);
}

int disk_cache_probe(const char *cache_dir, const char *src, const char *const *beneath,
		     uint32_t rate, struct disk_cache_entry *ret, struct el_error *reterr)
{
	return cache_lookup(cache_dir, src, beneath, rate, NULL, false, ret, reterr);
}

void disk_cache_entry_done(struct disk_cache_entry *e)
{
	if (e->fd >= 0)
		close(e->fd);
	free(e->path);
	*e = (struct disk_cache_entry){.fd = -1};
}

int disk_cache_read(const struct disk_cache_entry *e, uint64_t first, uint64_t n, float *dst)
{
	size_t bytes = n * e->channels * sizeof(float), done = 0;
	off_t at = (off_t)cache_bytes(e->channels, first);

	while (done < bytes) {
		ssize_t got = pread(e->fd, (char *)dst + done, bytes - done, at + (off_t)done);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			return -EIO;
		done += (size_t)got;
	}
	return 0;
}
