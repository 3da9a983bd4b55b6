/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend/alsa-pcm.c: an ALSA PCM set up for the engine and moved a period at a time
 * (alsa-pcm.h).
 *
 * DESIGN: the buffer holds `periods` periods and the device starts once it is full of silence
 * (snd_pcm_start: an mmap commit does not start a device at its threshold as writei does), so
 * playback always runs that far ahead of the cycle: the latency is the buffer. The mover waits in
 * snd_pcm_wait() until a period fits (avail_min = a period), then either converts straight into the
 * mmap area (where snd_pcm_mmap_begin may hand out less than a period at the ring's end: then
 * twice) or into its own buffer for snd_pcm_writei. Capture mirrors it. An xrun (-EPIPE) or a
 * suspend (-ESTRPIPE) goes through snd_pcm_recover(), which prepares the device again; playback is
 * then primed with silence as at the start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/backend/alsa-pcm.h"

static int recover(struct alsa_pcm *p, int err);

/* Longest wait for the device before the mover looks at its stop flag again (ms). */
#define ALSA_WAIT_MS 200

const char *const alsa_pcm_format_names[DSP_PCM_N_FORMATS] = {
	[DSP_PCM_S16] = "S16_LE", [DSP_PCM_S24_3] = "S24_3LE", [DSP_PCM_S24] = "S24_LE",
	[DSP_PCM_S32] = "S32_LE", [DSP_PCM_F32] = "FLOAT_LE",
};

static const snd_pcm_format_t alsa_formats[DSP_PCM_N_FORMATS] = {
	[DSP_PCM_S16] = SND_PCM_FORMAT_S16_LE,   [DSP_PCM_S24_3] = SND_PCM_FORMAT_S24_3LE,
	[DSP_PCM_S24] = SND_PCM_FORMAT_S24_LE,   [DSP_PCM_S32] = SND_PCM_FORMAT_S32_LE,
	[DSP_PCM_F32] = SND_PCM_FORMAT_FLOAT_LE,
};

/* Best first: no quantizing at all, then the most bits. */
static const enum dsp_pcm_format best_first[] = {DSP_PCM_F32, DSP_PCM_S32, DSP_PCM_S24_3,
						 DSP_PCM_S24, DSP_PCM_S16};

static const char *stream_name(snd_pcm_stream_t s)
{
	return s == SND_PCM_STREAM_PLAYBACK ? "playback" : "capture";
}

/* The format: the one asked for, or the best the device takes. */
static int choose_format(struct alsa_pcm *p, snd_pcm_hw_params_t *hw, int want,
			 struct el_error *reterr)
{
	if (want >= 0) {
		if (snd_pcm_hw_params_test_format(p->pcm, hw, alsa_formats[want]) < 0)
			return el_error_set(reterr, -EINVAL, "ALSA %s '%s' does not take format %s",
					    stream_name(p->stream), p->name,
					    alsa_pcm_format_names[want]);
		p->format = (enum dsp_pcm_format)want;
		return 0;
	}
	for (size_t i = 0; i < EL_N_ELEMENTS(best_first); i++) {
		if (snd_pcm_hw_params_test_format(p->pcm, hw, alsa_formats[best_first[i]]) == 0) {
			p->format = best_first[i];
			return 0;
		}
	}
	return el_error_set(reterr, -EINVAL,
			    "ALSA %s '%s' takes none of S16_LE, S24_3LE, S24_LE, S32_LE, FLOAT_LE",
			    stream_name(p->stream), p->name);
}

/* Access, format, channels, rate, period and buffer, exactly as the engine runs. */
static int set_hw(struct alsa_pcm *p, const struct alsa_pcm_want *w, struct el_error *reterr)
{
	snd_pcm_hw_params_t *hw;
	snd_pcm_uframes_t period = w->period, buffer = (snd_pcm_uframes_t)w->period * w->periods;
	unsigned rate = w->rate, channels = w->channels;
	int r;

	snd_pcm_hw_params_alloca(&hw);
	if ((r = snd_pcm_hw_params_any(p->pcm, hw)) < 0)
		return el_error_set(reterr, r, "ALSA %s '%s': %s", stream_name(p->stream), p->name,
				    snd_strerror(r));
	p->mmap = snd_pcm_hw_params_set_access(p->pcm, hw, SND_PCM_ACCESS_MMAP_INTERLEAVED) == 0;
	if (!p->mmap &&
	    (r = snd_pcm_hw_params_set_access(p->pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0)
		return el_error_set(reterr, r, "ALSA %s '%s' has no interleaved access: %s",
				    stream_name(p->stream), p->name, snd_strerror(r));
	if ((r = choose_format(p, hw, w->format, reterr)) < 0)
		return r;
	snd_pcm_hw_params_set_format(p->pcm, hw, alsa_formats[p->format]);
	if ((r = snd_pcm_hw_params_set_channels_near(p->pcm, hw, &channels)) < 0)
		return el_error_set(reterr, r, "ALSA %s '%s' refuses %u channels: %s",
				    stream_name(p->stream), p->name, w->channels, snd_strerror(r));
	p->channels = channels;
	if ((r = snd_pcm_hw_params_set_rate_resample(p->pcm, hw, 0)) < 0 ||
	    (r = snd_pcm_hw_params_set_rate(p->pcm, hw, rate, 0)) < 0)
		return el_error_set(reterr, r, "ALSA %s '%s' does not run at %u Hz: %s",
				    stream_name(p->stream), p->name, rate, snd_strerror(r));
	if ((r = snd_pcm_hw_params_set_period_size(p->pcm, hw, period, 0)) < 0)
		return el_error_set(
			reterr, r,
			"ALSA %s '%s' refuses a period of %u frames (the engine's block): %s",
			stream_name(p->stream), p->name, w->period, snd_strerror(r));
	if ((r = snd_pcm_hw_params_set_buffer_size_near(p->pcm, hw, &buffer)) < 0 ||
	    (r = snd_pcm_hw_params(p->pcm, hw)) < 0)
		return el_error_set(reterr, r, "ALSA %s '%s' refuses %u periods of %u frames: %s",
				    stream_name(p->stream), p->name, w->periods, w->period,
				    snd_strerror(r));
	p->period = w->period;
	p->periods = (uint32_t)(buffer / period);
	return 0;
}

/* Wake-ups a period apart; playback starts once its buffer is full, capture by hand. */
static int set_sw(struct alsa_pcm *p, struct el_error *reterr)
{
	snd_pcm_sw_params_t *sw;
	snd_pcm_uframes_t buffer = (snd_pcm_uframes_t)p->period * p->periods;
	int r;

	snd_pcm_sw_params_alloca(&sw);
	if ((r = snd_pcm_sw_params_current(p->pcm, sw)) < 0 ||
	    (r = snd_pcm_sw_params_set_avail_min(p->pcm, sw, p->period)) < 0 ||
	    (r = snd_pcm_sw_params_set_start_threshold(
		     p->pcm, sw, p->stream == SND_PCM_STREAM_PLAYBACK ? buffer : 1)) < 0 ||
	    (r = snd_pcm_sw_params(p->pcm, sw)) < 0)
		return el_error_set(reterr, r, "ALSA %s '%s': software parameters: %s",
				    stream_name(p->stream), p->name, snd_strerror(r));
	return 0;
}

int alsa_pcm_open(const struct alsa_pcm_want *w, struct alsa_pcm *ret, struct el_error *reterr)
{
	struct alsa_pcm p = {.stream = w->stream};
	int r;

	snprintf(p.name, sizeof(p.name), "%s", w->name);
	r = snd_pcm_open(&p.pcm, w->name, w->stream, 0);
	if (r < 0)
		return el_error_set(reterr, r, "ALSA %s '%s': cannot open: %s",
				    stream_name(w->stream), w->name, snd_strerror(r));
	if ((r = set_hw(&p, w, reterr)) < 0 || (r = set_sw(&p, reterr)) < 0)
		goto fail;
	/* 16 bits are where quantizing is heard; 24 bits are below any converter's noise */
	p.dither = w->stream == SND_PCM_STREAM_PLAYBACK && p.format != DSP_PCM_F32 &&
		   (w->dither < 0 ? dsp_pcm_bits(p.format) == 16 : w->dither > 0);
	for (unsigned c = 0; c < EL_N_ELEMENTS(p.dithers); c++)
		dsp_dither_init_shaped(&p.dithers[c], c + 1,
				       w->dither == 2 && w->rate >= DSP_DITHER_SHAPED_MIN_RATE);
	p.buf = calloc((size_t)p.period * p.channels, dsp_pcm_sample_bytes(p.format));
	if (!p.buf) {
		r = el_error_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	*ret = p;
	return 0;
fail:
	alsa_pcm_close(&p);
	return r;
}

void alsa_pcm_close(struct alsa_pcm *p)
{
	if (p->pcm)
		snd_pcm_close(p->pcm);
	free(p->buf);
	*p = (struct alsa_pcm){0};
}

/* A device gone for good (unplugged), as opposed to one that needs recovering. */
static bool gone(int r)
{
	return r == -ENODEV || r == -EBADFD || r == -ENXIO;
}

/* After -EPIPE/-ESTRPIPE: prepared again and restarted (playback primed with silence). 1, or
 * -errno. */
static int recover(struct alsa_pcm *p, int err)
{
	int r = snd_pcm_recover(p->pcm, err, 1 /* silent: the mover never logs */);

	if (r < 0)
		return gone(r) ? -ENODEV : r;
	r = alsa_pcm_start(p);
	return r < 0 ? r : 1;
}

int alsa_pcm_wait(struct alsa_pcm *p)
{
	snd_pcm_sframes_t avail = snd_pcm_avail_update(p->pcm);
	int r;

	if (avail >= 0 && (snd_pcm_uframes_t)avail >= p->period)
		return 0;
	if (avail >= 0) {
		r = snd_pcm_wait(p->pcm, ALSA_WAIT_MS);
		if (r == 0)
			return -EAGAIN; /* nothing for a while: the caller looks at its stop flag */
		avail = r < 0 ? r : snd_pcm_avail_update(p->pcm);
	}
	if (avail < 0) {
		r = (int)avail;
		if (r == -EPIPE || r == -ESTRPIPE)
			return recover(p, r);
		return gone(r) ? -ENODEV : r;
	}
	return (snd_pcm_uframes_t)avail >= p->period ? 0 : -EAGAIN;
}

/* One period through mmap: converted in place, in one or two pieces (the ring's end). */
static int mmap_move(struct alsa_pcm *p, const float *const *in, float *const *out,
		     unsigned channels)
{
	const size_t frame = dsp_pcm_sample_bytes(p->format) * p->channels;
	const unsigned n = EL_MIN(channels, ALSA_PCM_MAX_CHANNELS);
	snd_pcm_uframes_t done = 0;

	while (done < p->period) {
		const snd_pcm_channel_area_t *areas;
		snd_pcm_uframes_t offset, frames = p->period - done;
		snd_pcm_sframes_t c;
		const float *inp[ALSA_PCM_MAX_CHANNELS];
		float *outp[ALSA_PCM_MAX_CHANNELS];
		char *at;
		int r = snd_pcm_mmap_begin(p->pcm, &areas, &offset, &frames);

		if (r < 0)
			return r;
		if (frames == 0)
			return -EAGAIN; /* no room (or nothing) after all: never loop without
					   progress */
		at = (char *)areas[0].addr + areas[0].first / 8 + offset * frame;
		for (unsigned ch = 0; ch < n; ch++) {
			inp[ch] = in && in[ch] ? in[ch] + done : NULL;
			outp[ch] = out && out[ch] ? out[ch] + done : NULL;
		}
		if (p->stream == SND_PCM_STREAM_PLAYBACK)
			dsp_pcm_from_float_dither(p->format, inp, n, at, p->channels, frames,
						  p->dither ? p->dithers : NULL);
		else
			dsp_pcm_to_float(p->format, at, p->channels, outp, n, frames);
		c = snd_pcm_mmap_commit(p->pcm, offset, frames);
		if (c < 0)
			return (int)c;
		done += (snd_pcm_uframes_t)c;
		if ((snd_pcm_uframes_t)c != frames)
			return -EPIPE;
	}
	return 0;
}

/* One period through read/write access and p->buf. */
static int rw_move(struct alsa_pcm *p, const float *const *in, float *const *out, unsigned channels)
{
	snd_pcm_sframes_t c;

	if (p->stream == SND_PCM_STREAM_PLAYBACK) {
		dsp_pcm_from_float_dither(p->format, in, channels, p->buf, p->channels, p->period,
					  p->dither ? p->dithers : NULL);
		c = snd_pcm_writei(p->pcm, p->buf, p->period);
	} else {
		c = snd_pcm_readi(p->pcm, p->buf, p->period);
		if (c == (snd_pcm_sframes_t)p->period)
			dsp_pcm_to_float(p->format, p->buf, p->channels, out, channels, p->period);
	}
	if (c < 0)
		return (int)c;
	return c == (snd_pcm_sframes_t)p->period ? 0 : -EPIPE;
}

/* Moves a period now (alsa_pcm_wait said it fits); recovers an xrun (1). */
static int move(struct alsa_pcm *p, const float *const *in, float *const *out, unsigned channels)
{
	int r = p->mmap ? mmap_move(p, in, out, channels) : rw_move(p, in, out, channels);

	if (r == -EPIPE || r == -ESTRPIPE)
		return recover(p, r);
	return r < 0 && gone(r) ? -ENODEV : r;
}

int alsa_pcm_start(struct alsa_pcm *p)
{
	static const float *const none[1] = {NULL};
	int r = 0;

	if (p->stream == SND_PCM_STREAM_CAPTURE) {
		r = snd_pcm_start(p->pcm);
		return r < 0 && gone(r) ? -ENODEV : r;
	}
	/* a buffer of silence, so the device runs a buffer ahead from here */
	for (uint32_t i = 0; i < p->periods && r == 0; i++)
		r = p->mmap ? mmap_move(p, none, NULL, 0) : rw_move(p, none, NULL, 0);
	/* writei starts at the threshold by itself; an mmap commit does not */
	if (r == 0 && snd_pcm_state(p->pcm) == SND_PCM_STATE_PREPARED)
		r = snd_pcm_start(p->pcm);
	return r < 0 && gone(r) ? -ENODEV : r;
}

int alsa_pcm_play(struct alsa_pcm *p, const float *const *in, unsigned channels)
{
	return move(p, in, NULL, channels);
}

int alsa_pcm_capture(struct alsa_pcm *p, float *const *out, unsigned channels)
{
	int r = move(p, NULL, out, channels);

	if (r == 1)
		for (unsigned c = 0; c < channels; c++)
			if (out[c])
				memset(out[c], 0, p->period * sizeof(float));
	return r;
}

long alsa_pcm_avail(struct alsa_pcm *p)
{
	/* the position as the device last reported it: no extra ioctl in the cycle */
	return (long)snd_pcm_avail_update(p->pcm);
}
