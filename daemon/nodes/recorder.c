/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/recorder.c: the "recorder" node type — whatever its input carries (any node,
 * any channel: `input = eq:2`), written to an audio file; the input passes through unchanged.
 *
 * DESIGN
 * - The cycle only copies frames into a ring (daemon/disk/writer.h); the disk thread makes the
 *   file, writes it with its header kept current and syncs it about once a second, so a killed
 *   daemon leaves a file that opens with everything but the last second at most.
 * - A take runs from `recording` 1 to 0 (the key `recording`, default yes, starts one at once).
 *   Each take is a new file: `file` goes through strftime(3) when the take starts, so
 *   `take-%Y%m%d-%H%M%S.wav` names every take apart; a name that exists is never overwritten
 *   (that take fails, `state` says so).
 * - A disk too slow (the ring full) or full (a write fails) ends the take cleanly with its file
 *   closed and valid up to there; the audio goes on, `recording` reads 0 and `state` says why.
 * - The engine never skips a recorder for silence (get_tail is endless): a recording of a
 *   quiet passage holds its silence.
 */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

#include "common/el-error.h"
#include "daemon/config/config.h"
#include "daemon/config/value.h"
#include "daemon/disk/writer.h"
#include "daemon/engine/node.h"
#include "daemon/nodes/node-util.h"
#include "dsp/mix.h"

/* What a recorder's ring holds: the disk thread's slowest moments, and then some. */
#define RECORDER_RING_SECONDS 2u

#define RECORDER_KEYS "file", "sample_format", "recording"

static const char *const recorder_keys[] = {RECORDER_KEYS, NULL};
static const char *const recorder_allowed[] = {"type", "input", RECORDER_KEYS, NULL};
static const char *const recorder_formats[] = {"best", "pcm16", "pcm24", "pcm32", "float"};
static const int recorder_subtypes[] = {0, SF_FORMAT_PCM_16, SF_FORMAT_PCM_24, SF_FORMAT_PCM_32,
					SF_FORMAT_FLOAT};

enum {
	RECORDER_PARAM_RECORDING,
	RECORDER_PARAM_FRAMES,
	RECORDER_PARAM_TAKES,
	RECORDER_PARAM_OVERRUNS,
};

static const struct node_param recorder_params[] = {
	[RECORDER_PARAM_RECORDING] =
		{.name = "recording", .unit = "bool", .min = 0.0, .max = 1.0, .settable = true},
	[RECORDER_PARAM_FRAMES] = {.name = "frames", .unit = "frames", .min = 0.0, .max = 1e18},
	[RECORDER_PARAM_TAKES] = {.name = "takes", .unit = "count", .min = 0.0, .max = 1e18},
	[RECORDER_PARAM_OVERRUNS] = {.name = "overruns", .unit = "count", .min = 0.0, .max = 1e18},
};

struct recorder {
	unsigned channels;
	const struct dsp_mix_ops *mix; /* borrowed: the engine's */
	struct disk_writer *writer;    /* owned */
	bool want;                     /* RT: `recording` asks for a take */
	atomic_bool recording;         /* for get_param: a take runs (as the RT thread sees it) */
};

static int recorder_create(const struct conf_section *sec, const struct eng_node_env *env,
			   void **ret, struct el_error *reterr)
{
	struct disk_writer_config c = {.channels = env->in_channels, .rate = env->rate};
	unsigned format;
	bool recording;
	struct recorder *rc;
	int r = conf_check_keys(sec, recorder_allowed, reterr);

	if (r < 0)
		return r;
	c.file = conf_get_string(sec, "file", NULL);
	c.beneath = node_file_beneath(conf_section_find(sec, "file"), env);
	if (!c.file || !c.file[0])
		return conf_error_section(reterr, -EINVAL, sec, "a recorder needs a 'file'");
	if (env->in_channels == 0)
		return conf_error_section(reterr, -EINVAL, sec, "a recorder needs an input");
	if ((r = conf_get_enum(sec, "sample_format", 0, recorder_formats,
			       EL_N_ELEMENTS(recorder_formats), &format, reterr)) < 0 ||
	    (r = conf_get_bool(sec, "recording", true, &recording, reterr)) < 0)
		return r;
	c.sample_format = recorder_subtypes[format];
	c.ring_frames = 1024;
	while (c.ring_frames < RECORDER_RING_SECONDS * env->rate)
		c.ring_frames *= 2;
	rc = calloc(1, sizeof(*rc));
	if (!rc)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	r = disk_writer_open(env->disk, &c, &rc->writer, reterr);
	if (r < 0) {
		free(rc);
		return r;
	}
	rc->channels = env->in_channels;
	rc->mix = env->mix;
	rc->want = recording;
	atomic_init(&rc->recording, recording);
	*ret = rc;
	return 0;
}

static void recorder_destroy(void *inst)
{
	struct recorder *rc = inst;

	if (!rc)
		return;
	disk_writer_close(rc->writer); /* the take's file closed, valid */
	free(rc);
}

static unsigned recorder_get_out_channels(const void *inst)
{
	const struct recorder *rc = inst;

	return rc->channels;
}

EL_RT static bool rt_recorder_process(void *inst, const struct eng_node_io *io)
{
	struct recorder *rc = inst;

	if (rc->want) {
		disk_writer_start(rc->writer); /* nothing when one runs */
		if (!disk_writer_write(rc->writer, io->in, io->frames)) {
			rc->want =
				false; /* overran or failed: the take ended (its state says why) */
			atomic_store_explicit(&rc->recording, false, memory_order_relaxed);
		}
	}
	for (unsigned c = 0; c < io->n_out; c++)
		rc->mix->copy(io->out[c], io->in[c], io->frames);
	return io->in_silent;
}

EL_RT static int rt_recorder_set_param(void *inst, unsigned id, double value)
{
	struct recorder *rc = inst;

	if (id != RECORDER_PARAM_RECORDING)
		return -EINVAL;
	rc->want = value >= 0.5;
	if (!rc->want)
		disk_writer_stop(rc->writer);
	atomic_store_explicit(&rc->recording, rc->want, memory_order_relaxed);
	return 0;
}

static int recorder_get_param(const void *inst, unsigned id, unsigned channel, double *ret)
{
	const struct recorder *rc = inst;

	(void)channel;
	switch (id) {
	case RECORDER_PARAM_RECORDING:
		*ret = atomic_load_explicit(&rc->recording, memory_order_relaxed) ? 1.0 : 0.0;
		return 0;
	case RECORDER_PARAM_FRAMES:
		*ret = (double)disk_writer_get_frames(rc->writer);
		return 0;
	case RECORDER_PARAM_TAKES:
		*ret = (double)disk_writer_get_takes(rc->writer);
		return 0;
	case RECORDER_PARAM_OVERRUNS:
		*ret = (double)disk_writer_get_overruns(rc->writer);
		return 0;
	default:
		return -EINVAL;
	}
}

static size_t recorder_get_details(const void *inst, struct node_detail *ret, size_t max)
{
	static const char *const states[] = {
		[DISK_TAKE_NONE] = "none",       [DISK_TAKE_RUNNING] = "recording",
		[DISK_TAKE_STOPPED] = "stopped", [DISK_TAKE_OVERRUN] = "overrun",
		[DISK_TAKE_FAILED] = "failed",
	};
	const struct recorder *rc = inst;
	int error = disk_writer_get_error(rc->writer);
	size_t n = 0;

	if (n < max) {
		ret[n] = (struct node_detail){.key = "file"};
		disk_writer_get_path(rc->writer, ret[n++].text, NODE_DETAIL_TEXT_MAX);
	}
	if (n < max) {
		ret[n] = (struct node_detail){.key = "state"};
		snprintf(ret[n++].text, NODE_DETAIL_TEXT_MAX, "%s%s%s",
			 states[disk_writer_get_state(rc->writer)], error ? ": " : "",
			 error ? strerror(-error) : "");
	}
	return n;
}

const struct node_type node_type_recorder = {
	.name = "recorder",
	.description = "records its input to a file (passes it through)",
	.role = NODE_ROLE_PROCESS,
	.keys = recorder_keys,
	.params = recorder_params,
	.n_params = EL_N_ELEMENTS(recorder_params),
	.create = recorder_create,
	.destroy = recorder_destroy,
	.get_out_channels = recorder_get_out_channels,
	.process = rt_recorder_process,
	.get_tail = node_get_tail_endless, /* never skipped: silence is recorded too */
	.set_param = rt_recorder_set_param,
	.get_param = recorder_get_param,
	.get_details = recorder_get_details,
};
