/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/player.c: the "player" node type — an audio file played into the graph.
 *
 * DESIGN
 * - The file is decoded and rate-converted once, when the instance is made, into the sample
 *   cache (daemon/disk/cache.h: raw float at the engine's rate), so the cycle only ever copies
 *   floats. Where they come from depends on the file and the engine:
 *   - memory: a file of at most PLAYER_MEMORY_SECONDS is held in RAM (daemon/disk/samples.h:
 *     mapped, faulted in and locked when first wanted, shared by players of the same file,
 *     kept within the RAM budget afterwards): the cycle reads memory that is already there and
 *     the disk thread never hears of it;
 *   - stream: a longer one is streamed by the disk thread into a ring (daemon/disk/disk.h)
 *     holding PLAYER_RING_SECONDS; frames not there in time are an underrun (counted, played as
 *     silence), never a wait;
 *   - direct: without a disk thread (a render, whose cycle is not real-time) the cycle reads
 *     the cache file itself;
 *   - deferred: a player that waits (`start = wait`) whose file is not in the cache yet, made
 *     while the power policy holds low-priority background work (on battery): decoding it now
 *     would be a prefetch. It knows its channels from the file's header and is silent until its
 *     file is decoded, which happens once it is asked to play (its first use) or background
 *     work may run again: it then wants an update (wants_update), the daemon builds the same
 *     graph again, and the update carries a player made as usual whose source the instance
 *     takes over in the cycle (update_apply). Until then `playing` 1 is remembered, silently.
 * - Starting, stopping and seeking are faded over the engine's fade length: `playing` ramps the
 *   output in or out (a stop pauses: the position stays). A seek while heard is a crossfade: the
 *   new position comes in as the old one goes on under it and fades out (old + g (new - old)).
 *   In memory it starts at once. Streamed, the old position plays on from the ring (up to
 *   PLAYER_SEEK_WAIT_S of it is kept, disk.h) until the disk thread has the new one's first
 *   frames, then both are read side by side; if the old frames would run out first, or the
 *   player is not heard, the seek fades out, jumps and fades in instead. After the last frame of
 *   a file without loop the player stops by itself (playing reads 0 again); playing it again
 *   starts from the top.
 * - Looping is sample-exact: the frame after the last is the first, in every mode.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-error.h"
#include "daemon/config/config.h"
#include "daemon/config/value.h"
#include "daemon/disk/cache.h"
#include "daemon/disk/disk.h"
#include "daemon/disk/samples.h"
#include "daemon/engine/node.h"
#include "daemon/nodes/ir-file.h"
#include "daemon/nodes/node-util.h"
#include "dsp/mix.h"
#include "dsp/ramp.h"

/* Files up to this long play from memory; longer ones stream (DESIGN). */
#define PLAYER_MEMORY_SECONDS 10u
/* What a stream's ring holds: many disk polls (DISK_POLL_MS) and slow reads' worth. */
#define PLAYER_RING_SECONDS 2u
/* How long a streamed seek's old position may play on while the disk thread reads the new one:
 * a few polls (DISK_POLL_MS) and a slow read; longer only delays the seek. */
#define PLAYER_SEEK_WAIT_S  0.25
#define PLAYER_MIN_DB       (-120.0)
#define PLAYER_MAX_DB       24.0

#define PLAYER_KEYS "file", "loop", "gain_db", "start", "playing"

static const char *const player_keys[] = {PLAYER_KEYS, NULL};
static const char *const player_allowed[] = {"type", PLAYER_KEYS, NULL};
static const char *const player_starts[] = {"now", "wait"};

enum {
	PLAYER_PARAM_PLAYING,
	PLAYER_PARAM_POSITION_S,
	PLAYER_PARAM_GAIN_DB,
	PLAYER_PARAM_UNDERRUNS,
	PLAYER_PARAM_DURATION_S,
	PLAYER_PARAM_BUFFERED_S,
};

static const struct node_param player_params[] = {
	[PLAYER_PARAM_PLAYING] =
		{.name = "playing", .unit = "bool", .min = 0.0, .max = 1.0, .settable = true},
	[PLAYER_PARAM_POSITION_S] =
		{.name = "position_s", .unit = "s", .min = 0.0, .max = 1e9, .settable = true},
	[PLAYER_PARAM_GAIN_DB] = {.name = "gain_db",
				  .unit = "dB",
				  .min = PLAYER_MIN_DB,
				  .max = PLAYER_MAX_DB,
				  .settable = true},
	[PLAYER_PARAM_UNDERRUNS] = {.name = "underruns", .unit = "count", .min = 0.0, .max = 1e18},
	[PLAYER_PARAM_DURATION_S] = {.name = "duration_s", .unit = "s", .min = 0.0, .max = 1e9},
	/* stream: audio the disk thread has read ahead; memory, direct: the rest of the file */
	[PLAYER_PARAM_BUFFERED_S] = {.name = "buffered_s", .unit = "s", .min = 0.0, .max = 1e9},
};

enum player_mode { PLAYER_MEMORY, PLAYER_STREAM, PLAYER_DIRECT, PLAYER_DEFERRED };

struct player_settings {
	char *path; /* owned: resolved */
	bool loop;
	double gain_db;
	bool start;
};

/* A streamed seek's state (DESIGN). */
enum player_seek {
	SEEK_NONE,  /* no seek under way */
	SEEK_WAIT,  /* posted; the old position plays on until the new one is there */
	SEEK_CROSS, /* crossfading from the old position's frames to the new one's */
	SEEK_JUMP,  /* posted or fading out; the new position fades in once there */
};

struct player {
	enum player_mode mode;
	unsigned channels;
	uint32_t rate, fade_frames;
	uint64_t frames; /* the file's, at the engine's rate */
	bool loop;
	const struct dsp_mix_ops *mix; /* borrowed: the engine's */
	struct disk_cache_entry entry; /* owned: the decoded file */
	const float *data;             /* memory: the sample's frames */
	struct disk *disk;             /* borrowed: the engine's (NULL: direct) */
	struct disk_sample *sample;    /* memory: held, shared with players of the same file */
	struct disk_reader *reader;    /* stream: owned */
	float *scratch;                /* direct: owned, a block of interleaved frames */
	size_t scratch_frames;
	float *old_buf;     /* memory, stream: owned, channels x block, a crossfade's old frames */
	float **old;        /* owned: channel c at old_buf + c * block */
	size_t block;       /* the engine's */
	uint64_t seek_keep; /* stream: old frames a seek may still play (disk_reader_seek) */

	/* RT thread only */
	uint64_t pos;      /* memory, direct: the next frame */
	bool want_playing; /* what `playing` asks for */
	bool seek_pending; /* fading out to jump to seek_to */
	uint64_t seek_to;
	bool seek_next;           /* stream: a seek asked for during a crossfade, for after it */
	enum player_seek seek;    /* stream */
	uint64_t xf_from;         /* memory: the old position's next frame */
	uint64_t xf_new;          /* stream: the new position's frames taken so far */
	uint32_t xf_done, xf_len; /* frames of the crossfade done, and in all (0: none) */
	bool ended;               /* played the last frame of a file without loop */
	struct dsp_ramp fade, level;

	/* deferred (DESIGN): control thread only */
	struct player_settings
		*settings;   /* owned: the section's, to tell an update from a change */
	uint64_t est_frames; /* the file's frames at the engine's rate, from its header */
	uint32_t est_file_rate;
	bool prefetch_failed; /* the decoding failed once: not again for this instance */
	/* any thread: the source is there (release after update_apply took it); until then the
	 * source's fields are the RT thread's alone */
	atomic_bool ready;

	/* for get_param, on any thread (relaxed: lone values) */
	atomic_bool playing;
	_Atomic uint64_t position; /* memory, direct: the next frame */
	_Atomic uint64_t gain_db_bits;
};

static int player_read(const struct conf_section *sec, const struct eng_node_env *env,
		       struct player_settings *ret, struct el_error *reterr)
{
	const char *file = conf_get_string(sec, "file", NULL);
	unsigned start;
	bool playing;
	int r = conf_check_keys(sec, player_allowed, reterr);

	if (r < 0)
		return r;
	if (!file || !file[0])
		return conf_error_section(reterr, -EINVAL, sec, "a player needs a 'file'");
	if ((r = conf_get_bool(sec, "loop", false, &ret->loop, reterr)) < 0 ||
	    (r = conf_get_double(sec, "gain_db", 0.0, PLAYER_MIN_DB, PLAYER_MAX_DB, &ret->gain_db,
				 reterr)) < 0 ||
	    (r = conf_get_enum(sec, "start", 0, player_starts, EL_N_ELEMENTS(player_starts), &start,
			       reterr)) < 0 ||
	    (r = conf_get_bool(sec, "playing", true, &playing, reterr)) < 0)
		return r;
	ret->start = start == 0 && playing;
	if (node_ir_resolve(file, env->base_dir, &ret->path) < 0)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	return 0;
}

/* memory mode: the file in RAM, faulted in now, not in a cycle (disk/samples.h). */
static int player_map(struct player *p, struct el_error *reterr)
{
	int r = disk_sample_get(p->disk, &p->entry, &p->sample, reterr);

	if (r == 0)
		p->data = disk_sample_get_data(p->sample);
	return r;
}

/* stream mode: a reader of the disk thread with a ring of PLAYER_RING_SECONDS. */
static int player_stream(struct player *p, const struct eng_node_env *env, const char *name,
			 struct el_error *reterr)
{
	uint32_t ring = 4 * DISK_CHUNK_MIN;
	struct disk_reader_config c = {.fd = p->entry.fd,
				       .name = name,
				       .offset = DISK_CACHE_HEADER,
				       .channels = p->channels,
				       .frames = p->frames,
				       .loop = p->loop};

	while (ring < PLAYER_RING_SECONDS * env->rate)
		ring *= 2;
	c.ring_frames = ring;
	p->mode = PLAYER_STREAM;
	return disk_reader_open(env->disk, &c, &p->reader, reterr);
}

/* The old position's frames of a crossfade: a block of each channel. */
static int player_alloc_crossfade(struct player *p, const struct eng_node_env *env,
				  struct el_error *reterr)
{
	p->block = env->block;
	p->seek_keep = p->fade_frames + (uint64_t)(PLAYER_SEEK_WAIT_S * env->rate);
	p->old_buf = calloc((size_t)p->channels * p->block, sizeof(float));
	p->old = calloc(p->channels, sizeof(*p->old));
	if (!p->old_buf || !p->old)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	for (unsigned c = 0; c < p->channels; c++)
		p->old[c] = p->old_buf + (size_t)c * p->block;
	return 0;
}

static void player_destroy(void *inst)
{
	struct player *p = inst;

	if (!p)
		return;
	disk_reader_close(p->reader);
	if (p->sample)
		disk_sample_put(p->disk, p->sample);
	free(p->scratch);
	free(p->old);
	free(p->old_buf);
	if (p->settings)
		free(p->settings->path);
	free(p->settings);
	disk_cache_entry_done(&p->entry);
	free(p);
}

static int player_create(const struct conf_section *sec, const struct eng_node_env *env, void **ret,
			 struct el_error *reterr)
{
	struct player_settings s = {0};
	const char *const *beneath;
	struct player *p;
	int r = player_read(sec, env, &s, reterr);

	if (r < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p) {
		free(s.path);
		return el_error_set(reterr, -ENOMEM, "out of memory");
	}
	p->entry.fd = -1;
	beneath = node_file_beneath(conf_section_find(sec, "file"), env);
	if (env->disk && !env->prefetch && !s.start) /* deferred unless cached (DESIGN) */
		r = disk_cache_probe(disk_get_cache_dir(env->disk), s.path, beneath, env->rate,
				     &p->entry, reterr);
	else
		r = disk_cache_prepare(env->disk ? disk_get_cache_dir(env->disk) : NULL, s.path,
				       beneath, env->rate, env->pacer, &p->entry, reterr);
	if (r < 0)
		goto fail;
	if (r == 1) {
		p->mode = PLAYER_DEFERRED;
		p->settings = malloc(sizeof(*p->settings));
		if (!p->settings) {
			r = el_error_set(reterr, -ENOMEM, "out of memory");
			goto fail;
		}
		*p->settings = s;
		s.path = NULL; /* the settings' now */
		p->est_frames = p->entry.frames;
		p->est_file_rate = p->entry.file_rate;
	}
	p->disk = env->disk;
	if (p->disk && p->mode != PLAYER_DEFERRED)
		disk_count_lookup(p->disk, p->entry.reused);
	p->channels = p->entry.channels;
	p->frames = p->entry.frames;
	p->rate = env->rate;
	p->fade_frames = env->fade_frames;
	p->loop = s.loop;
	p->mix = env->mix;
	if (p->mode == PLAYER_DEFERRED) {
		r = 0; /* its source comes with an update (DESIGN) */
	} else if (!env->disk) {
		p->mode = PLAYER_DIRECT;
		p->scratch_frames = env->block;
		p->scratch = malloc(p->scratch_frames * p->channels * sizeof(float));
		r = p->scratch ? 0 : el_error_set(reterr, -ENOMEM, "out of memory");
	} else {
		/* short: from RAM, unless it cannot be locked there (then streamed like a long
		 * one: a page the RT thread faults in would come from the disk) */
		struct el_error ignored = {0};

		if (p->frames <= (uint64_t)PLAYER_MEMORY_SECONDS * env->rate &&
		    player_map(p, &ignored) == 0)
			p->mode = PLAYER_MEMORY;
		else
			r = player_stream(p, env, s.path, reterr);
	}
	if (r == 0 && p->mode != PLAYER_DIRECT)
		r = player_alloc_crossfade(p, env, reterr);
	atomic_init(&p->ready, p->mode != PLAYER_DEFERRED);
	if (r < 0)
		goto fail;
	p->want_playing = s.start;
	if (s.start)
		dsp_ramp_set(&p->fade, 1.0);
	dsp_ramp_set(&p->level, pow(10.0, s.gain_db / 20.0));
	atomic_init(&p->playing, s.start);
	atomic_init(&p->position, 0);
	atomic_init(&p->gain_db_bits, node_double_to_bits(s.gain_db));
	free(s.path);
	*ret = p;
	return 0;
fail:
	player_destroy(p);
	free(s.path);
	return r;
}

static unsigned player_get_out_channels(const void *inst)
{
	const struct player *p = inst;

	return p->channels;
}

/* memory, direct: frames [pos, pos + n) of the file (no wrap) into out at `at`. */
EL_RT static void rt_copy_frames(struct player *p, float *const *out, size_t at, size_t n)
{
	const float *src = p->data;

	if (p->mode == PLAYER_DIRECT) {
		if (disk_cache_read(&p->entry, p->pos, n, p->scratch) < 0)
			memset(p->scratch, 0, n * p->channels * sizeof(float));
		src = p->scratch;
	} else {
		src += p->pos * p->channels;
	}
	for (size_t i = 0; i < n; i++)
		for (unsigned c = 0; c < p->channels; c++)
			out[c][at + i] = src[i * p->channels + c];
	p->pos += n;
	if (p->loop && p->pos == p->frames)
		p->pos = 0;
}

/*
 * Frames [0, n) of out (the new position's) crossfaded from p->old's over the crossfade's next n
 * frames, g rising from 1/len to 1: old + g (new - old) (DESIGN).
 */
EL_RT static void rt_crossfade(struct player *p, float *const *out, size_t at, size_t n)
{
	const float inv = 1.0f / (float)p->xf_len;

	for (size_t i = 0; i < n; i++) {
		float g = (float)(p->xf_done + i + 1) * inv;

		for (unsigned c = 0; c < p->channels; c++) {
			float old = p->old[c][i];

			out[c][at + i] = old + g * (out[c][at + i] - old);
		}
	}
	p->xf_done += (uint32_t)n;
}

/* Memory mode: the old position's next n frames (zero past the end of a file without loop). */
EL_RT static void rt_memory_old(struct player *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool there = p->xf_from < p->frames;

		for (unsigned c = 0; c < p->channels; c++)
			p->old[c][i] = there ? p->data[p->xf_from * p->channels + c] : 0.0f;
		if (there && ++p->xf_from == p->frames && p->loop)
			p->xf_from = 0;
	}
}

/* Streamed: a seek posted to the disk thread; with keep 0 the old frames are not heard. */
EL_RT static void rt_stream_seek(struct player *p, uint64_t keep)
{
	disk_reader_seek(p->reader, p->seek_to, keep);
	p->seek = keep ? SEEK_WAIT : SEEK_JUMP;
	p->seek_next = false;
	p->xf_done = p->xf_len = 0;
}

/*
 * Streamed, a crossfade under way: its next frames (at most a block) into out, the new
 * position's beside the old one's; then on from the new position. How many frames there are.
 */
EL_RT static size_t rt_stream_crossfade(struct player *p, float *const *out, size_t frames)
{
	size_t m = (size_t)EL_MIN((uint64_t)frames, (uint64_t)(p->xf_len - p->xf_done));
	size_t got;

	m = EL_MIN(m, p->block);
	got = disk_reader_peek_new(p->reader, out, 0, p->xf_new, m);
	p->xf_new += got;
	for (unsigned c = 0; c < p->channels; c++)
		memset(out[c] + got, 0, (m - got) * sizeof(float));
	got = disk_reader_read(p->reader, p->old, 0, m);
	for (unsigned c = 0; c < p->channels; c++)
		memset(p->old[c] + got, 0, (m - got) * sizeof(float));
	rt_crossfade(p, out, 0, m);
	if (p->xf_done < p->xf_len)
		return m;
	disk_reader_drop_old(p->reader, p->xf_new);
	p->seek = SEEK_NONE;
	if (p->seek_next) /* asked for during the crossfade */
		rt_stream_seek(p, p->seek_keep);
	return m + disk_reader_read(p->reader, out, m, frames - m);
}

/* Up to frames frames into out; how many there were (the rest is the caller's silence). */
EL_RT static size_t rt_source_read(struct player *p, float *const *out, size_t frames)
{
	size_t done = 0;

	if (p->mode == PLAYER_STREAM) {
		done = p->seek == SEEK_CROSS ? rt_stream_crossfade(p, out, frames)
					     : disk_reader_read(p->reader, out, 0, frames);
		p->ended = disk_reader_at_end(p->reader);
		return done;
	}
	while (done < frames && p->pos < p->frames) {
		size_t n = (size_t)EL_MIN((uint64_t)(frames - done), p->frames - p->pos);

		rt_copy_frames(p, out, done, n);
		done += n;
	}
	p->ended = !p->loop && p->pos >= p->frames;
	atomic_store_explicit(&p->position, p->pos, memory_order_relaxed);
	return done;
}

/* The jump of a seek, once faded out (DESIGN). */
EL_RT static void rt_seek_now(struct player *p)
{
	p->seek_pending = false;
	p->ended = false;
	if (p->mode == PLAYER_STREAM) {
		rt_stream_seek(p, 0);
		return;
	}
	p->pos = p->seek_to;
	atomic_store_explicit(&p->position, p->pos, memory_order_relaxed);
}

/* Memory mode: the crossfade of a seek over frames [0, n) of out (DESIGN). */
EL_RT static void rt_memory_crossfade(struct player *p, float *const *out, size_t n)
{
	for (size_t done = 0, m; done < n && p->xf_done < p->xf_len; done += m) {
		m = EL_MIN(EL_MIN(n - done, p->block), (size_t)(p->xf_len - p->xf_done));
		rt_memory_old(p, m);
		rt_crossfade(p, out, done, m);
	}
}

/*
 * Streamed: a seek's next step, before the cycle's frames are read (DESIGN). A waiting seek
 * crossfades once the new position is there, or gives up on the crossfade (fades out) while the
 * old frames still last a fade; a jumping one ends once faded out and the new frames are there.
 */
EL_RT static void rt_stream_seek_step(struct player *p, size_t frames)
{
	struct disk_reader *rd = p->reader;
	bool ready = disk_reader_seek_ready(rd);
	uint64_t old = disk_reader_get_old(rd);

	if (p->seek == SEEK_WAIT && ready) {
		/* a whole fade even when fewer old frames are left (a file's end, a dry ring): the
		 * old side is silence past them, so the new position still fades in */
		p->seek = SEEK_CROSS;
		p->xf_len = p->fade_frames;
		p->xf_done = 0;
		p->xf_new = 0;
	} else if (p->seek == SEEK_WAIT && old < (uint64_t)p->fade_frames + frames) {
		p->seek = SEEK_JUMP;
	} else if (p->seek == SEEK_JUMP && ready && !dsp_ramp_is_running(&p->fade) &&
		   dsp_ramp_get(&p->fade) == 0.0) {
		disk_reader_drop_old(rd, 0);
		p->seek = SEEK_NONE;
	}
}

/* Whether the output should be heard now: the fade's target. */
EL_RT static bool rt_audible(const struct player *p)
{
	return p->want_playing && !p->seek_pending && !p->ended && p->seek != SEEK_JUMP &&
	       p->mode != PLAYER_DEFERRED;
}

/* Every output channel through ramp g, piece by piece (the same gains for every channel). */
EL_RT static void rt_apply_ramp(struct player *p, struct dsp_ramp *g, const struct eng_node_io *io)
{
	float g0, g1;

	for (size_t done = 0, m; done < io->frames; done += m) {
		m = dsp_ramp_next(g, io->frames - done, &g0, &g1);
		if (g0 == 1.0f && g1 == 1.0f)
			continue;
		for (unsigned c = 0; c < io->n_out; c++)
			p->mix->gain_ramp(io->out[c] + done, io->out[c] + done, g0, g1, m);
	}
}

EL_RT static bool rt_player_process(void *inst, const struct eng_node_io *io)
{
	struct player *p = inst;
	double target;
	size_t n = 0;

	if (p->seek_pending && !dsp_ramp_is_running(&p->fade) && dsp_ramp_get(&p->fade) == 0.0)
		rt_seek_now(p);
	if (p->mode == PLAYER_STREAM && p->seek != SEEK_NONE)
		rt_stream_seek_step(p, io->frames);
	target = rt_audible(p) ? 1.0 : 0.0;
	if (target != dsp_ramp_get_target(&p->fade))
		dsp_ramp_to(&p->fade, target, p->fade_frames);
	if (dsp_ramp_is_running(&p->fade) || dsp_ramp_get(&p->fade) > 0.0)
		n = rt_source_read(p, io->out, io->frames);
	for (unsigned c = 0; c < io->n_out; c++)
		memset(io->out[c] + n, 0, (io->frames - n) * sizeof(float));
	if (p->mode == PLAYER_MEMORY && p->xf_done < p->xf_len)
		rt_memory_crossfade(p, io->out, io->frames);
	if (p->ended && p->want_playing) { /* the last frame played: stopped by itself */
		p->want_playing = false;
		atomic_store_explicit(&p->playing, false, memory_order_relaxed);
	}
	if (n == 0 && !dsp_ramp_is_running(&p->fade))
		return true;
	rt_apply_ramp(p, &p->fade, io);
	rt_apply_ramp(p, &p->level, io);
	return false;
}

EL_RT static int rt_player_set_param(void *inst, unsigned id, double value)
{
	struct player *p = inst;

	switch (id) {
	case PLAYER_PARAM_PLAYING:
		p->want_playing = value >= 0.5;
		if (p->want_playing && p->ended) { /* again from the top */
			p->seek_pending = true;
			p->seek_to = 0;
		}
		atomic_store_explicit(&p->playing, p->want_playing, memory_order_relaxed);
		return 0;
	case PLAYER_PARAM_POSITION_S:
		p->seek_to = (uint64_t)llround(value * p->rate);
		if (p->seek_to >= p->frames)
			return -EINVAL;
		if (!rt_audible(p) || dsp_ramp_get(&p->fade) == 0.0 || p->mode == PLAYER_DIRECT) {
			p->seek_pending =
				true; /* not heard, or a render: fade out, jump, fade in */
			return 0;
		}
		if (p->mode == PLAYER_STREAM) { /* heard: crossfade (DESIGN) */
			if (p->seek == SEEK_CROSS)
				p->seek_next = true;
			else
				rt_stream_seek(p, p->seek_keep);
			return 0;
		}
		p->xf_from = p->pos; /* memory */
		p->xf_done = 0;
		p->xf_len = p->fade_frames;
		p->pos = p->seek_to;
		atomic_store_explicit(&p->position, p->pos, memory_order_relaxed);
		return 0;
	case PLAYER_PARAM_GAIN_DB:
		dsp_ramp_to(&p->level, pow(10.0, value / 20.0), p->fade_frames);
		atomic_store_explicit(&p->gain_db_bits, node_double_to_bits(value),
				      memory_order_relaxed);
		return 0;
	default:
		return -EINVAL;
	}
}

/* Deferred (DESIGN): its file is due to be decoded now, in env. */
static bool player_wants_update(const void *inst, const struct eng_node_env *env)
{
	const struct player *p = inst;

	return p->settings && !p->prefetch_failed && env->disk &&
	       !atomic_load_explicit(&p->ready, memory_order_acquire) &&
	       (env->prefetch || atomic_load_explicit(&p->playing, memory_order_relaxed));
}

static bool player_settings_same(const struct player_settings *a, const struct player_settings *b)
{
	return strcmp(a->path, b->path) == 0 && a->loop == b->loop && a->gain_db == b->gain_db &&
	       a->start == b->start;
}

/*
 * A deferred player's source, due now: a player made as usual from the same section (its file
 * decoded), whose source update_apply takes. Any other change makes a new instance.
 */
static int player_update_prepare(void *inst, const struct conf_section *sec,
				 const struct eng_node_env *env, void **ret_update,
				 struct el_error *reterr)
{
	struct player *p = inst, *donor = NULL;
	struct player_settings s = {0};
	struct eng_node_env due = *env;
	bool same;
	int r;

	if (!player_wants_update(p, env))
		return -EOPNOTSUPP;
	r = player_read(sec, env, &s, reterr);
	if (r < 0)
		return r;
	same = player_settings_same(&s, p->settings);
	free(s.path);
	if (!same)
		return -EOPNOTSUPP;
	due.prefetch = true;
	r = player_create(sec, &due, (void **)&donor, reterr);
	if (r < 0) {
		p->prefetch_failed = true; /* said once; a new instance (a reload) tries again */
		return r;
	}
	if (donor->channels != p->channels) { /* the file changed: a new instance */
		player_destroy(donor);
		return -EOPNOTSUPP;
	}
	*ret_update = donor;
	return 0;
}

#define PLAYER_SWAP(a, b)                                                                          \
	do {                                                                                       \
		__typeof__(a) t_ = (a);                                                            \
		(a) = (b);                                                                         \
		(b) = t_;                                                                          \
	} while (0)

/* Thread: RT. A deferred player takes the donor's source; the donor keeps the nothing it had. */
EL_RT static void rt_player_update_apply(void *inst, void *update)
{
	struct player *p = inst, *donor = update;

	if (p->mode != PLAYER_DEFERRED) /* a second update came: it already has one */
		return;
	PLAYER_SWAP(p->mode, donor->mode);
	PLAYER_SWAP(p->frames, donor->frames);
	PLAYER_SWAP(p->entry, donor->entry);
	PLAYER_SWAP(p->data, donor->data);
	PLAYER_SWAP(p->sample, donor->sample);
	PLAYER_SWAP(p->reader, donor->reader);
	p->ended = false;
	if (p->pos >= p->frames)
		p->pos = 0;
	if (p->mode == PLAYER_STREAM && p->pos > 0) { /* a seek made while deferred */
		p->seek_to = p->pos;
		p->seek_pending = true;
	}
	atomic_store_explicit(&p->position, p->pos, memory_order_relaxed);
	/* release: whoever sees it sees the source's fields, which stay as they are from now on */
	atomic_store_explicit(&p->ready, true, memory_order_release);
}

static void player_update_free(void *update)
{
	player_destroy(update);
}

static int player_get_param(const void *inst, unsigned id, unsigned channel, double *ret)
{
	const struct player *p = inst;
	bool ready = atomic_load_explicit(&p->ready, memory_order_acquire);
	uint64_t pos;

	(void)channel;
	if (!ready) { /* deferred: the source's fields are the RT thread's (DESIGN) */
		switch (id) {
		case PLAYER_PARAM_POSITION_S:
			*ret = (double)atomic_load_explicit(&p->position, memory_order_relaxed) /
			       p->rate;
			return 0;
		case PLAYER_PARAM_UNDERRUNS:
		case PLAYER_PARAM_BUFFERED_S:
			*ret = 0.0;
			return 0;
		case PLAYER_PARAM_DURATION_S:
			*ret = (double)p->est_frames / p->rate;
			return 0;
		default:
			break;
		}
	}
	switch (id) {
	case PLAYER_PARAM_PLAYING:
		*ret = atomic_load_explicit(&p->playing, memory_order_relaxed) ? 1.0 : 0.0;
		return 0;
	case PLAYER_PARAM_POSITION_S:
		pos = p->reader ? disk_reader_get_position(p->reader)
				: atomic_load_explicit(&p->position, memory_order_relaxed);
		*ret = (double)pos / p->rate;
		return 0;
	case PLAYER_PARAM_GAIN_DB:
		*ret = node_bits_to_double(
			atomic_load_explicit(&p->gain_db_bits, memory_order_relaxed));
		return 0;
	case PLAYER_PARAM_UNDERRUNS:
		*ret = p->reader ? (double)disk_reader_get_underruns(p->reader) : 0.0;
		return 0;
	case PLAYER_PARAM_DURATION_S:
		*ret = (double)p->frames / p->rate;
		return 0;
	case PLAYER_PARAM_BUFFERED_S:
		pos = p->reader ? disk_reader_get_buffered(p->reader)
				: p->frames -
					  atomic_load_explicit(&p->position, memory_order_relaxed);
		*ret = (double)pos / p->rate;
		return 0;
	default:
		return -EINVAL;
	}
}

static size_t player_get_details(const void *inst, struct node_detail *ret, size_t max)
{
	static const char *const modes[] = {"memory", "stream", "direct", "deferred"};
	const struct player *p = inst;
	bool ready = atomic_load_explicit(&p->ready, memory_order_acquire);
	size_t n = 0;

	if (n < max) {
		ret[n] = (struct node_detail){.key = "source"};
		snprintf(ret[n++].text, NODE_DETAIL_TEXT_MAX, "%s",
			 modes[ready ? p->mode : PLAYER_DEFERRED]);
	}
	if (n < max)
		ret[n++] = (struct node_detail){.key = "file_rate",
						.is_number = true,
						.number = ready ? p->entry.file_rate
								: p->est_file_rate};
	if (n < max)
		ret[n++] = (struct node_detail){.key = "cached",
						.is_number = true,
						.number = ready && p->entry.reused ? 1.0 : 0.0};
	return n;
}

const struct node_type node_type_player = {
	.name = "player",
	.description = "plays an audio file (decoded once into the sample cache)",
	.role = NODE_ROLE_PROCESS,
	.source = true,
	.keys = player_keys,
	.params = player_params,
	.n_params = EL_N_ELEMENTS(player_params),
	.create = player_create,
	.destroy = player_destroy,
	.get_out_channels = player_get_out_channels,
	.process = rt_player_process,
	.get_tail = node_get_tail_endless, /* it may start playing at any cycle */
	.set_param = rt_player_set_param,
	.update_prepare = player_update_prepare,
	.update_apply = rt_player_update_apply,
	.update_free = player_update_free,
	.wants_update = player_wants_update,
	.get_param = player_get_param,
	.get_details = player_get_details,
};
