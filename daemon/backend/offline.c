/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend/offline.c: file-to-file rendering through the engine.
 *
 * Samples are read as floats (libsndfile scales integers by 1/2^(bits-1)); 16-, 24- and 32-bit
 * little-endian PCM is read raw instead and converted by dsp/pcm, the conversion ALSA's path
 * uses: the same values (code / 2^(bits-1), exact), 5x faster than libsndfile's generic loop,
 * which was ~6 % of a 60 s render. They are written
 * back by our own conversion for integer formats: libsndfile's float-to-int write scales by
 * 2^(bits-1) - 1, not 2^(bits-1), so a file read and written unchanged would come back one step
 * quieter near full scale. Rounding to the output's resolution here, then handing libsndfile
 * left-justified 32-bit integers, makes a transparent graph bit-exact.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "common/el-pace.h"
#include "daemon/backend/offline.h"
#include "daemon/engine/engine.h"
#include "dsp/dither.h"
#include "dsp/mem.h"
#include "dsp/pcm.h"

#define MAX_CHANNELS 64

struct render {
	SNDFILE *in, *out;
	char *tmp_path; /* owned: the output until it is renamed into place; NULL before */
	int tmp_fd;     /* the temporary file, kept open to fsync it; -1 when closed */
	SF_INFO in_info, out_info;
	unsigned n_in, n_out, block;
	int out_bits;      /* integer bits of the output, 0 for float formats */
	bool dither;       /* the integer output is dithered: one generator per channel */
	struct dsp_dither dithers[MAX_CHANNELS];
	bool in_raw; /* the input is read raw, as in_pcm (raw_pcm_format()) */
	enum dsp_pcm_format in_pcm;
	float *in_frames;  /* owned: block * n_in, interleaved: floats, or the file's raw samples */
	float *out_frames; /* owned: block * n_out, interleaved */
	int32_t *out_ints; /* owned: block * n_out */
	float *planar;     /* owned: (n_in + n_out) * block */
	const float *capture[MAX_CHANNELS];
	float *playback[MAX_CHANNELS];
};

int offline_probe(const char *path, struct offline_file_info *ret, struct el_error *reterr)
{
	SF_INFO info = {0};
	SNDFILE *f = sf_open(path, SFM_READ, &info);

	if (!f)
		return el_error_set(reterr, -EINVAL, "'%s': cannot read: %s", path,
				    sf_strerror(NULL));
	ret->format = info.format;
	ret->rate = (uint32_t)info.samplerate;
	ret->channels = (unsigned)info.channels;
	ret->frames = (uint64_t)info.frames;
	sf_close(f);
	return 0;
}

int offline_check_distinct(const char *in_path, const char *out_path, struct el_error *reterr)
{
	struct stat in_st, out_st;

	/* stat() follows symlinks on both sides, so a link either way compares the target. An
	 * unreadable IN or an OUT that cannot be stat'ed is reported by the open that follows. */
	if (stat(in_path, &in_st) < 0 || stat(out_path, &out_st) < 0)
		return 0;
	if (in_st.st_dev != out_st.st_dev || in_st.st_ino != out_st.st_ino)
		return 0;
	return el_error_set(reterr, -EEXIST,
			    "'%s' is the same file as '%s': the render would overwrite its own "
			    "input; name another output file",
			    out_path, in_path);
}

static int subtype_bits(int format)
{
	switch (format & SF_FORMAT_SUBMASK) {
	case SF_FORMAT_PCM_S8:
	case SF_FORMAT_PCM_U8:
		return 8;
	case SF_FORMAT_PCM_16:
		return 16;
	case SF_FORMAT_PCM_24:
		return 24;
	case SF_FORMAT_PCM_32:
		return 32;
	default:
		return 0; /* float, double, or a codec: let libsndfile convert */
	}
}

static const char *const format_names[] = {"same", "pcm16", "pcm24", "pcm32", "float"};

static const int subtypes[] = {
	[OFFLINE_FORMAT_PCM16] = SF_FORMAT_PCM_16,
	[OFFLINE_FORMAT_PCM24] = SF_FORMAT_PCM_24,
	[OFFLINE_FORMAT_PCM32] = SF_FORMAT_PCM_32,
	[OFFLINE_FORMAT_FLOAT] = SF_FORMAT_FLOAT,
};

static const struct {
	const char *ext;
	int container;
} containers[] = {
	{"wav", SF_FORMAT_WAV},   {"flac", SF_FORMAT_FLAC}, {"w64", SF_FORMAT_W64},
	{"rf64", SF_FORMAT_RF64}, {"aiff", SF_FORMAT_AIFF}, {"aif", SF_FORMAT_AIFF},
	{"ogg", SF_FORMAT_OGG},
};

/* SF_FORMAT_* container for the path's extension; 0 when there is none we write. */
static int container_of(const char *path)
{
	const char *base = strrchr(path, '/'), *dot = strrchr(base ? base : path, '.');

	for (size_t i = 0; dot && i < EL_N_ELEMENTS(containers); i++)
		if (strcasecmp(dot + 1, containers[i].ext) == 0)
			return containers[i].container;
	return 0;
}

/* The --format values container takes at rate and channels, as "--format a or b" in buf. */
static void possible_formats(int container, int rate, int channels, char *buf, size_t size)
{
	const char *names[EL_N_ELEMENTS(subtypes)];
	size_t n = 0;

	for (size_t f = OFFLINE_FORMAT_PCM16; f < EL_N_ELEMENTS(subtypes); f++) {
		SF_INFO t = {.samplerate = rate,
			     .channels = channels,
			     .format = container | subtypes[f]};
		if (sf_format_check(&t))
			names[n++] = format_names[f];
	}
	if (n == 0) /* OGG: Vorbis has no sample format to choose */
		snprintf(buf, size, "--format same");
	else if (n == 1)
		snprintf(buf, size, "--format %s", names[0]);
	else if (n == 2)
		snprintf(buf, size, "--format %s or %s", names[0], names[1]);
	else
		snprintf(buf, size, "--format %s, %s%s%s or %s", names[0], names[1],
			 n > 3 ? ", " : "", n > 3 ? names[2] : "", names[n - 1]);
}

/* container | the sample format f asks for (same: in_format's, Vorbis in OGG). */
static int combine(int container, int in_format, enum offline_format f)
{
	if (f != OFFLINE_FORMAT_SAME)
		return container | subtypes[f];
	if (container == SF_FORMAT_OGG)
		return SF_FORMAT_OGG | SF_FORMAT_VORBIS;
	return container | (in_format & SF_FORMAT_SUBMASK);
}

int offline_output_format(const struct offline_file_info *in, const char *out_path,
			  enum offline_format f, int *ret_format, struct el_error *reterr)
{
	int container = container_of(out_path);
	SF_INFO t = {.samplerate = (int)in->rate, .channels = (int)in->channels};
	char possible[96];

	if (!container)
		return el_error_set(reterr, -EINVAL,
				    "'%s': the output's format comes from its extension: .wav, "
				    ".flac, .w64, .rf64, .aiff, .aif, .ogg",
				    out_path);
	t.format = combine(container, in->format, f);
	if (!sf_format_check(&t)) {
		possible_formats(container, t.samplerate, t.channels, possible, sizeof(possible));
		return el_error_set(reterr, -EINVAL, "'%s' cannot hold %s%s sample format; use %s",
				    out_path, f == OFFLINE_FORMAT_SAME ? "the input's" : "the ",
				    f == OFFLINE_FORMAT_SAME ? "" : format_names[f], possible);
	}
	*ret_format = t.format;
	return 0;
}

/*
 * float -> left-justified int32 at `bits` of resolution, dithered by d (NULL: none), rounded and
 * clipped (dsp_dither_quantize(): a sample already on the grid is not dithered, so a transparent
 * render of an integer file stays bit-perfect).
 */
static int32_t to_int(float x, int bits, struct dsp_dither *d)
{
	double scale = ldexp(1.0, bits - 1);
	int64_t v = dsp_dither_quantize(d, (double)x * scale, scale);

	return (int32_t)(v * (int64_t)(1ll << (32 - bits)));
}

/*
 * Creates the temporary output beside out_path (same directory, so the final rename is atomic
 * and never crosses a filesystem) with the mode a new file would get, or the older file's.
 */
static int temp_open(struct render *r, const char *out_path, struct el_error *reterr)
{
	const char *slash = strrchr(out_path, '/');
	int dir_len = slash ? (int)(slash - out_path + 1) : 0;
	mode_t mask = umask(0), mode = 0666 & ~mask;
	struct stat st;

	umask(mask); /* only read: the render is the process's only thread */
	if (stat(out_path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return el_error_set(reterr, -EISDIR, "'%s' is a directory", out_path);
		mode = st.st_mode & 0777; /* the older file's permissions, never its set-id bits */
	}
	if (asprintf(&r->tmp_path, "%.*s.%s.XXXXXX", dir_len, out_path, out_path + dir_len) < 0) {
		r->tmp_path = NULL;
		return el_error_set(reterr, -ENOMEM, "out of memory");
	}
	r->tmp_fd = mkostemp(r->tmp_path, O_CLOEXEC);
	if (r->tmp_fd < 0) {
		int e = -errno;

		free(r->tmp_path);
		r->tmp_path = NULL;
		return el_error_set(reterr, e, "'%s': cannot create a file in its directory: %s",
				    out_path, strerror(-e));
	}
	if (fchmod(r->tmp_fd, mode) < 0)
		return el_error_set(reterr, -errno, "'%s': %s", r->tmp_path, strerror(errno));
	return 0;
}

/* Makes the finished temporary file durable and gives it the output's name. */
static int temp_commit(struct render *r, const char *out_path, struct el_error *reterr)
{
	int ret = fsync(r->tmp_fd) < 0 ? -errno : 0;

	if (close(r->tmp_fd) < 0 && ret == 0)
		ret = -errno;
	r->tmp_fd = -1;
	if (ret == 0 && rename(r->tmp_path, out_path) < 0)
		ret = -errno;
	if (ret < 0)
		return el_error_set(reterr, ret, "'%s': cannot finish writing: %s", out_path,
				    strerror(-ret));
	free(r->tmp_path);
	r->tmp_path = NULL; /* nothing left to remove */
	return 0;
}

/*
 * Whether f's samples can be read raw and converted by dsp/pcm, and as which format: integers
 * of 16, 24 or 32 bits stored as plain little-endian samples (WAV, WAVEX, W64, RF64, CAF; AIFF
 * is big-endian, so SFC_RAW_DATA_NEEDS_ENDSWAP excludes it on this host). A compressed container
 * (FLAC, Ogg) names the same subtypes but has no raw samples: it is not listed.
 */
static bool raw_pcm_format(SNDFILE *f, int format, enum dsp_pcm_format *ret)
{
	switch (format & SF_FORMAT_TYPEMASK) {
	case SF_FORMAT_WAV:
	case SF_FORMAT_WAVEX:
	case SF_FORMAT_W64:
	case SF_FORMAT_RF64:
	case SF_FORMAT_CAF:
		break;
	default:
		return false;
	}
	switch (format & SF_FORMAT_SUBMASK) {
	case SF_FORMAT_PCM_16:
		*ret = DSP_PCM_S16;
		break;
	case SF_FORMAT_PCM_24:
		*ret = DSP_PCM_S24_3;
		break;
	case SF_FORMAT_PCM_32:
		*ret = DSP_PCM_S32;
		break;
	default:
		return false;
	}
	return __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&
	       sf_command(f, SFC_RAW_DATA_NEEDS_ENDSWAP, NULL, 0) == SF_FALSE;
}

static int render_open(struct render *r, struct eng_engine *engine, const char *in_path,
		       const char *out_path, int out_format, int dither, struct el_error *reterr)
{
	const struct eng_settings *s = eng_engine_get_settings(engine);
	int ret;

	r->in = sf_open(in_path, SFM_READ, &r->in_info);
	if (!r->in)
		return el_error_set(reterr, -EINVAL, "'%s': cannot read: %s", in_path,
				    sf_strerror(NULL));
	r->in_raw = raw_pcm_format(r->in, r->in_info.format, &r->in_pcm);
	r->n_in = eng_engine_get_capture_channels(engine);
	r->n_out = eng_engine_get_playback_channels(engine);
	r->block = s->block;
	if ((unsigned)r->in_info.channels != r->n_in)
		return el_error_set(reterr, -EINVAL,
				    "'%s' has %d channel%s but the graph's input nodes take %u",
				    in_path, r->in_info.channels,
				    r->in_info.channels == 1 ? "" : "s", r->n_in);
	if ((uint32_t)r->in_info.samplerate != s->rate)
		return el_error_set(reterr, -EINVAL,
				    "'%s' is at %d Hz but the engine runs at %u Hz; resample the "
				    "file, or leave [engine] rate unset to follow the file",
				    in_path, r->in_info.samplerate, s->rate);
	if (r->n_out == 0 || r->n_out > MAX_CHANNELS || r->n_in > MAX_CHANNELS)
		return el_error_set(reterr, -EINVAL,
				    "the graph has %u output channels (expected 1 to %d)", r->n_out,
				    MAX_CHANNELS);
	r->out_info = (SF_INFO){.samplerate = r->in_info.samplerate,
				.channels = (int)r->n_out,
				.format = out_format};
	/* checked before the engine was built for the input's channels; the graph's may differ */
	if (!sf_format_check(&r->out_info))
		return el_error_set(reterr, -EINVAL, "'%s' cannot hold %u channels at %d Hz",
				    out_path, r->n_out, r->in_info.samplerate);
	r->out_bits = subtype_bits(r->out_info.format);
	r->dither = r->out_bits > 0 && r->out_bits <= 24 &&
		    (dither < 0 ? r->out_bits == 16 : dither > 0);
	for (unsigned c = 0; c < MAX_CHANNELS; c++)
		dsp_dither_init_shaped(&r->dithers[c], c + 1,
				       dither == 2 && (uint32_t)r->in_info.samplerate >=
							      DSP_DITHER_SHAPED_MIN_RATE);
	ret = temp_open(r, out_path, reterr);
	if (ret < 0)
		return ret;
	r->out = sf_open_fd(r->tmp_fd, SFM_WRITE, &r->out_info, SF_FALSE);
	if (!r->out)
		return el_error_set(reterr, -EINVAL, "'%s': cannot write: %s", out_path,
				    sf_strerror(NULL));
	/* no PEAK chunk in a float file: it holds the time of writing, so the same render made
	 * different files, and finding it scanned every sample again (~1.5 % of a render) */
	sf_command(r->out, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
	return 0;
}

static int render_alloc(struct render *r)
{
	size_t b = r->block;

	r->in_frames = dsp_mem_alloc(b * (r->n_in + 1) * sizeof(float));
	r->out_frames = dsp_mem_alloc(b * r->n_out * sizeof(float));
	r->out_ints = dsp_mem_alloc(b * r->n_out * sizeof(int32_t));
	r->planar = dsp_mem_alloc(b * (r->n_in + r->n_out) * sizeof(float));
	if (!r->in_frames || !r->out_frames || !r->out_ints || !r->planar)
		return -ENOMEM;
	for (unsigned c = 0; c < r->n_in; c++)
		r->capture[c] = r->planar + c * b;
	for (unsigned c = 0; c < r->n_out; c++)
		r->playback[c] = r->planar + (r->n_in + c) * b;
	return 0;
}

static int render_write(struct render *r, sf_count_t n)
{
	size_t samples = (size_t)n * r->n_out;
	/* one channel is its own interleaving: no copy (a 60 s mono render copied 11 MB here) */
	const float *frames = r->n_out == 1 ? r->playback[0] : r->out_frames;

	if (r->n_out > 1)
		for (sf_count_t i = 0; i < n; i++)
			for (unsigned c = 0; c < r->n_out; c++)
				r->out_frames[(size_t)i * r->n_out + c] = r->playback[c][i];
	if (r->out_bits == 0)
		return sf_writef_float(r->out, frames, n) == n ? 0 : -EIO;
	for (size_t i = 0; i < samples; i++)
		r->out_ints[i] = to_int(frames[i], r->out_bits,
					r->dither ? &r->dithers[i % r->n_out] : NULL);
	return sf_writef_int(r->out, r->out_ints, n) == n ? 0 : -EIO;
}

/*
 * The input's next block into the capture channels, silence after it to the block's end.
 * Returns the frames read, 0 at the end (or on a read error, which libsndfile reports as an
 * end: as sf_readf_float() did before).
 */
static sf_count_t render_read(struct render *r)
{
	float *const *capture = (float *const *)r->capture;
	sf_count_t n;

	if (r->in_raw) {
		sf_count_t frame = (sf_count_t)(dsp_pcm_sample_bytes(r->in_pcm) * r->n_in);

		/* a partial frame at a truncated file's end is dropped, as sf_readf_*() do */
		n = sf_read_raw(r->in, r->in_frames, frame * (sf_count_t)r->block) / frame;
	} else {
		n = sf_readf_float(r->in, r->in_frames, r->block);
	}
	if (n <= 0)
		return 0;
	/* libsndfile's floats are this host's, which F32's copy passes as they are */
	dsp_pcm_to_float(r->in_raw ? r->in_pcm : DSP_PCM_F32, r->in_frames, r->n_in, capture,
			 r->n_in, (size_t)n);
	for (unsigned c = 0; c < r->n_in; c++)
		memset(capture[c] + n, 0, (r->block - (size_t)n) * sizeof(float));
	return n;
}

/* Work between two calls to the pacer: short enough to notice a wait soon, long enough that
 * reading the clock costs nothing. */
#define PACE_EVERY_NS 50000000u

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The graph on silent input after the input ended, block by block, until a block leaves it
 * idle (every node skipped or silent, no fade running: what follows is silence) or the cap.
 * The block that found it idle is silent and not written.
 */
static int render_tail(struct render *r, struct eng_engine *engine, const char *out_path,
		       const struct offline_options *o, struct el_error *reterr)
{
	uint64_t max = (uint64_t)OFFLINE_TAIL_MAX_SECONDS * r->in_info.samplerate, done = 0;

	for (unsigned c = 0; c < r->n_in; c++)
		memset((float *)r->capture[c], 0, r->block * sizeof(float));
	while (done < max && !eng_engine_is_idle(engine)) {
		/* relaxed: as in render_loop() */
		if (o->stop && atomic_load_explicit(o->stop, memory_order_relaxed))
			return el_error_set(reterr, -EINTR, "'%s': interrupted, not written",
					    out_path);
		eng_engine_cycle(engine, r->capture, r->n_in, r->playback, r->n_out, r->block);
		if (eng_engine_is_idle(engine))
			break;
		if (render_write(r, r->block) < 0)
			return el_error_set(reterr, -EIO, "'%s': write failed: %s", out_path,
					    sf_strerror(r->out));
		done += r->block;
	}
	return 0;
}

static int render_loop(struct render *r, struct eng_engine *engine, const char *out_path,
		       const struct offline_options *o, struct el_error *reterr)
{
	const struct el_pacer *pacer = o->pacer;
	const atomic_int *stop = o->stop;
	bool progress = o->progress;
	sf_count_t total = r->in_info.frames, done = 0, n;
	uint64_t chunk_start;
	int last_pct = -1;

	/* background work asks before it starts, not only between chunks */
	if (pacer && pacer->pace)
		pacer->pace(pacer->ctx, 0);
	chunk_start = mono_ns();

	while ((n = render_read(r)) > 0) {
		uint64_t now = mono_ns();

		/* relaxed: a flag set by a signal handler on this very thread, nothing to order */
		if (stop && atomic_load_explicit(stop, memory_order_relaxed))
			return el_error_set(reterr, -EINTR, "'%s': interrupted, not written",
					    out_path);

		if (now - chunk_start >= PACE_EVERY_NS)
			el_pace(pacer, &chunk_start);
		eng_engine_cycle(engine, r->capture, r->n_in, r->playback, r->n_out, r->block);
		/* with the tail, a last short block is written whole: what follows is the tail */
		if (render_write(r, o->tail ? (sf_count_t)r->block : n) < 0)
			return el_error_set(reterr, -EIO, "'%s': write failed: %s", out_path,
					    sf_strerror(r->out));
		done += n;
		if (progress && total > 0 && (int)(100 * done / total) != last_pct) {
			last_pct = (int)(100 * done / total);
			fprintf(stderr, "\rrendering: %3d%%", last_pct);
		}
	}
	if (progress)
		fputc('\n', stderr);
	return o->tail ? render_tail(r, engine, out_path, o, reterr) : 0;
}

int offline_render(struct eng_engine *engine, const char *in_path, const char *out_path,
		   const struct offline_options *o, struct el_error *reterr)
{
	struct render r = {.tmp_fd = -1};
	int ret = render_open(&r, engine, in_path, out_path, o->out_format, o->dither, reterr);

	if (ret == 0 && render_alloc(&r) < 0)
		ret = el_error_set(reterr, -ENOMEM, "out of memory");
	if (ret == 0)
		ret = render_loop(&r, engine, out_path, o, reterr);
	if (r.out && sf_close(r.out) != 0 && ret == 0)
		ret = el_error_set(reterr, -EIO, "'%s': cannot finish writing", out_path);
	if (ret == 0)
		ret = temp_commit(&r, out_path, reterr);
	if (r.tmp_fd >= 0)
		close(r.tmp_fd);
	if (r.tmp_path) /* failed or interrupted: an older output keeps its name and contents */
		unlink(r.tmp_path);
	free(r.tmp_path);
	if (r.in)
		sf_close(r.in);
	dsp_mem_free(r.in_frames);
	dsp_mem_free(r.out_frames);
	dsp_mem_free(r.out_ints);
	dsp_mem_free(r.planar);
	return ret;
}
