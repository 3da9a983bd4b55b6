/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/ir-file.c: reads an impulse response with libsndfile, resamples it with soxr to
 * the engine's rate when needed, and splits it into one float array per channel.
 *
 * The file is opened with open(2) first, so a missing or unreadable file reports its errno
 * (-ENOENT, -EACCES) rather than libsndfile's generic text, and the stamp comes from the very
 * descriptor that is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>
#include <soxr.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "common/el-pace.h"
#include "daemon/disk/cache.h"
#include "daemon/fs/beneath.h"
#include "daemon/nodes/ir-file.h"
#include "dsp/fir.h"

/* The file's samples as read: interleaved, frames * channels. */
struct ir_raw {
	float *buf; /* owned */
	size_t frames;
	unsigned channels;
	uint32_t rate;
};

int node_ir_resolve(const char *name, const char *base_dir, char **ret)
{
	char *p;

	if (name[0] == '/' || !base_dir || !base_dir[0])
		p = strdup(name);
	else if (asprintf(&p, "%s/%s", base_dir, name) < 0)
		p = NULL;
	if (!p)
		return -ENOMEM;
	*ret = p;
	return 0;
}

static void stamp_from(const struct stat *st, struct node_ir_stamp *ret)
{
	*ret = (struct node_ir_stamp){
		.dev = st->st_dev, .ino = st->st_ino, .size = st->st_size, .mtime = st->st_mtim};
}

int node_ir_stat(const char *path, struct node_ir_stamp *ret)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	stamp_from(&st, ret);
	return 0;
}

int node_ir_stamp_equal(const struct node_ir_stamp *a, const struct node_ir_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Frames at out_rate that frames at in_rate become (soxr's output length), rounded up. */
static double resampled_length(size_t frames, uint32_t in_rate, uint32_t out_rate)
{
	return ceil((double)frames * out_rate / in_rate);
}

/* Checks what libsndfile says about the file before anything is allocated for it. */
static int check_info(const char *path, const SF_INFO *info, uint32_t rate, struct el_error *reterr)
{
	double taps;

	if (info->frames <= 0)
		return el_error_set(reterr, -EINVAL, "'%s': empty impulse response", path);
	if (info->channels < 1 || (unsigned)info->channels > NODE_IR_MAX_CHANNELS)
		return el_error_set(reterr, -EINVAL, "'%s': %d channels, at most %u are supported",
				    path, info->channels, NODE_IR_MAX_CHANNELS);
	if (info->samplerate < 1)
		return el_error_set(reterr, -EINVAL, "'%s': invalid sample rate %d", path,
				    info->samplerate);
	taps = (uint32_t)info->samplerate == rate
		       ? (double)info->frames
		       : resampled_length((size_t)info->frames, (uint32_t)info->samplerate, rate);
	if (taps > DSP_FIR_MAX_TAPS)
		return el_error_set(reterr, -E2BIG,
				    "'%s': %.0f taps at %u Hz, more than the %u a FIR "
				    "accepts",
				    path, taps, rate, DSP_FIR_MAX_TAPS);
	return 0;
}

/* Opens and reads the whole file into raw. */
static int read_file(const char *path, const char *const *beneath, uint32_t rate,
		     struct ir_raw *raw, struct node_ir_stamp *ret_stamp, struct el_error *reterr)
{
	SF_INFO info = {0};
	struct stat st;
	SNDFILE *sf;
	sf_count_t got;
	int fd, r;

	/* O_NONBLOCK: a FIFO named by mistake must not hang the control thread in open(). */
	fd = fs_open_beneath(beneath, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = fd < 0 ? fd : -errno;
		if (fd >= 0)
			close(fd);
		return el_error_set(reterr, r, "'%s': cannot open: %s", path, strerror(-r));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return el_error_set(reterr, -EINVAL, "'%s': not a regular file", path);
	}
	stamp_from(&st, ret_stamp);
	sf = sf_open_fd(fd, SFM_READ, &info, 1); /* closes fd, even when it fails */
	if (!sf)
		return el_error_set(reterr, -EINVAL, "'%s': cannot open: %s", path,
				    sf_strerror(NULL));
	r = check_info(path, &info, rate, reterr);
	if (r == 0) {
		raw->buf = malloc((size_t)info.frames * (size_t)info.channels * sizeof(float));
		if (!raw->buf)
			r = el_error_set(reterr, -ENOMEM, "'%s': out of memory", path);
	}
	if (r == 0) {
		got = sf_readf_float(sf, raw->buf, info.frames);
		/* A header may promise more frames than the file holds: keep what was there. */
		if (got <= 0 && sf_error(sf))
			r = el_error_set(reterr, -EIO, "'%s': cannot read: %s", path,
					 sf_strerror(sf));
		else if (got <= 0)
			r = el_error_set(reterr, -EINVAL, "'%s': empty impulse response", path);
		raw->frames = got > 0 ? (size_t)got : 0;
	}
	raw->channels = (unsigned)info.channels;
	raw->rate = (uint32_t)info.samplerate;
	sf_close(sf);
	return r;
}

/*
 * Streams raw's frames through resampler s into out (olen frames), in chunks with the pacer
 * called between them, then flushes it. Frames written; soxr's message in *ret_err on failure.
 */
static size_t resample_stream(soxr_t s, const struct ir_raw *raw, float *out, size_t olen,
			      const struct el_pacer *pacer, soxr_error_t *ret_err)
{
	size_t in_pos = 0, odone = 0;
	uint64_t chunk_start = el_pace_now_ns();

	*ret_err = NULL;
	while (odone < olen) {
		size_t n = EL_MIN((size_t)NODE_IR_PACE_FRAMES, raw->frames - in_pos), used = 0,
		       made = 0;

		/* no input left: NULL asks soxr for what it still holds */
		*ret_err = soxr_process(s, n ? raw->buf + in_pos * raw->channels : NULL, n, &used,
					out + odone * raw->channels, olen - odone, &made);
		if (*ret_err)
			break;
		in_pos += used;
		odone += made;
		if (n == 0 && made == 0)
			break;
		el_pace(pacer, &chunk_start);
	}
	return odone;
}

/* Replaces raw's samples by their resampling to rate, scaled by raw->rate / rate. */
static int resample(const char *path, struct ir_raw *raw, uint32_t rate,
		    const struct el_pacer *pacer, struct el_error *reterr)
{
	soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
	soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
	size_t olen = (size_t)resampled_length(raw->frames, raw->rate, rate), odone = 0;
	soxr_error_t err;
	soxr_t s;
	float *out;

	/* Keep the frequency response: an IR's taps are its response's samples times 1/rate. */
	io.scale = (double)raw->rate / rate;
	out = malloc(olen * raw->channels * sizeof(float));
	if (!out)
		return el_error_set(reterr, -ENOMEM, "'%s': out of memory", path);
	s = soxr_create(raw->rate, rate, raw->channels, &err, &io, &q, NULL);
	if (!err)
		odone = resample_stream(s, raw, out, olen, pacer, &err);
	if (s)
		soxr_delete(s);
	if (err || odone == 0) {
		free(out);
		return el_error_set(reterr, -EINVAL, "'%s': cannot resample from %u to %u Hz: %s",
				    path, raw->rate, rate, err ? err : "no output");
	}
	free(raw->buf);
	raw->buf = out;
	raw->frames = odone;
	raw->rate = rate;
	return 0;
}

/*
 * raw resampled to rate through the sample cache in cache_dir (daemon/disk/cache.h: soxr at its
 * very-high quality, as resample(), done once and kept as floats, so a later load — a rate
 * switch back, a restart — reads it), scaled as resample() scales. 0 with *ret_reused telling
 * whether the cache held it; 1 when the cache cannot serve it (the caller resamples); -ENOMEM.
 */
static int resample_cached(const char *path, const char *const *beneath, const char *cache_dir,
			   struct ir_raw *raw, uint32_t rate, const struct el_pacer *pacer,
			   bool *ret_reused)
{
	struct disk_cache_entry e = {.fd = -1};
	struct el_error ignored = {0};
	const float scale = (float)raw->rate / (float)rate;
	float *out = NULL;
	int r = 1;

	if (disk_cache_prepare(cache_dir, path, beneath, rate, pacer, &e, &ignored) < 0)
		return 1;
	if (e.channels == raw->channels && e.frames > 0 && e.frames <= DSP_FIR_MAX_TAPS) {
		out = malloc((size_t)e.frames * e.channels * sizeof(float));
		r = !out ? -ENOMEM : disk_cache_read(&e, 0, e.frames, out) < 0 ? 1 : 0;
	}
	if (r == 0) {
		for (size_t i = 0; i < (size_t)e.frames * e.channels; i++)
			out[i] *= scale;
		free(raw->buf);
		raw->buf = el_steal_ptr(out);
		raw->frames = (size_t)e.frames;
		raw->rate = rate;
		*ret_reused = e.reused;
	}
	free(out);
	disk_cache_entry_done(&e);
	return r;
}

/* Splits raw's interleaved samples into ir->data. */
static int split(const char *path, const struct ir_raw *raw, struct node_ir *ir,
		 struct el_error *reterr)
{
	ir->data = calloc(raw->channels, sizeof(*ir->data));
	if (!ir->data)
		return el_error_set(reterr, -ENOMEM, "'%s': out of memory", path);
	ir->channels = raw->channels;
	ir->frames = raw->frames;
	for (unsigned c = 0; c < raw->channels; c++) {
		ir->data[c] = malloc(raw->frames * sizeof(float));
		if (!ir->data[c])
			return el_error_set(reterr, -ENOMEM, "'%s': out of memory", path);
		for (size_t i = 0; i < raw->frames; i++)
			ir->data[c][i] = raw->buf[i * raw->channels + c];
	}
	return 0;
}

int node_ir_load(const char *name, const char *base_dir, uint32_t rate, struct node_ir **ret,
		 struct el_error *reterr)
{
	return node_ir_load_paced(name, base_dir, rate, NULL, ret, reterr);
}

int node_ir_load_paced(const char *name, const char *base_dir, uint32_t rate,
		       const struct el_pacer *pacer, struct node_ir **ret, struct el_error *reterr)
{
	return node_ir_load_cached(name, base_dir, NULL, rate, NULL, pacer, ret, reterr);
}

int node_ir_load_cached(const char *name, const char *base_dir, const char *const *beneath,
			uint32_t rate, const char *cache_dir, const struct el_pacer *pacer,
			struct node_ir **ret, struct el_error *reterr)
{
	struct ir_raw raw = {0};
	struct node_ir *ir;
	int r;

	ir = calloc(1, sizeof(*ir));
	if (!ir)
		return el_error_set(reterr, -ENOMEM, "'%s': out of memory", name);
	r = node_ir_resolve(name, base_dir, &ir->path);
	if (r < 0) {
		node_ir_free(ir);
		return el_error_set(reterr, r, "'%s': out of memory", name);
	}
	r = read_file(ir->path, beneath, rate, &raw, &ir->stamp, reterr);
	ir->file_rate = raw.rate;
	if (r == 0 && raw.rate != rate && cache_dir &&
	    (r = resample_cached(ir->path, beneath, cache_dir, &raw, rate, pacer, &ir->cached)) < 0)
		el_error_set(reterr, r, "'%s': out of memory", ir->path);
	if (r == 1 || (r == 0 && raw.rate != rate))
		r = resample(ir->path, &raw, rate, pacer, reterr);
	if (r == 0)
		r = split(ir->path, &raw, ir, reterr);
	free(raw.buf);
	if (r < 0) {
		node_ir_free(ir);
		return r;
	}
	*ret = ir;
	return 0;
}

struct node_ir *node_ir_free(struct node_ir *ir)
{
	if (!ir)
		return NULL;
	for (unsigned c = 0; ir->data && c < ir->channels; c++)
		free(ir->data[c]);
	free(ir->data);
	free(ir->path);
	free(ir);
	return NULL;
}
