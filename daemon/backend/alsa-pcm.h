/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend/alsa-pcm.h: one ALSA PCM (a playback or capture device) set up the way the
 * engine runs — its rate, one engine block per period, interleaved — and moved a period at a
 * time, waiting on the device.
 *
 * Access is mmap where the device offers it (the samples are converted straight into the
 * device's buffer), read/write otherwise. The wait is snd_pcm_wait() on the device's poll
 * descriptors; an xrun is recovered with snd_pcm_recover() and counted; a device that went away
 * (-ENODEV, -EBADFD: a USB card unplugged) is reported as such, and the owner reopens it.
 *
 * Threads: alsa_pcm_open/close on the control thread; alsa_pcm_start/wait/play/capture on the
 * one thread that moves the samples (the backend's RT thread).
 */
#pragma once

#include <alsa/asoundlib.h>
#include <stdbool.h>
#include <stdint.h>

#include "dsp/dither.h"
#include "dsp/pcm.h"

struct el_error;

/* ALSA names of the formats we move, by enum dsp_pcm_format. */
extern const char *const alsa_pcm_format_names[DSP_PCM_N_FORMATS];

/* Channels a period moves at most (the engine's, to or from the device's). */
#define ALSA_PCM_MAX_CHANNELS 64u

struct alsa_pcm_want {
	const char *name; /* the PCM: "hw:1,0", "plughw:…", a name from asound.conf */
	snd_pcm_stream_t stream;
	uint32_t rate;     /* Hz, exactly */
	uint32_t period;   /* frames: the engine's block, exactly */
	uint32_t periods;  /* 2 .. 4 in the buffer */
	int format;        /* enum dsp_pcm_format, or -1: the best the device takes */
	int dither;        /* TPDF dither of playback (1), noise-shaped (2), none (0), or -1:
			      TPDF for 16-bit formats */
	unsigned channels; /* wanted; the device's nearest is taken (alsa_pcm.channels) */
};

struct alsa_pcm {
	snd_pcm_t *pcm; /* owned */
	char name[128];
	snd_pcm_stream_t stream;
	enum dsp_pcm_format format;
	unsigned channels; /* the device's */
	uint32_t period, periods;
	bool mmap;
	bool dither;    /* playback quantized with TPDF dither (dsp/dither.h) */
	void *buf;      /* owned: one period, interleaved (read/write access) */
	struct dsp_dither dithers[ALSA_PCM_MAX_CHANNELS]; /* one per engine channel */
};

/*
 * Opens and sets up w->name for w (borrowed). 0 with *ret filled; -errno with a message naming
 * the PCM and what it refused (the rate, the period, a format, the channels): -ENOENT/-ENODEV
 * when it cannot be opened at all.
 */
int alsa_pcm_open(const struct alsa_pcm_want *w, struct alsa_pcm *ret, struct el_error *reterr);

/* Closes what p holds (accepts a zeroed one). */
void alsa_pcm_close(struct alsa_pcm *p);

/*
 * Thread: the mover. Starts the device: playback with a buffer of silence (its start
 * threshold), capture at once. 0; -ENODEV (gone); another -errno.
 */
int alsa_pcm_start(struct alsa_pcm *p);

/*
 * Thread: the mover. Waits on the device until a period fits (playback) or is there (capture),
 * at most about a second. 0; -EAGAIN (not yet: look at the stop flag and wait again); 1 after an
 * xrun, recovered (the device restarted: count it); -ENODEV when the device is gone; another
 * -errno when recovery failed.
 */
int alsa_pcm_wait(struct alsa_pcm *p);

/*
 * Thread: the mover, after alsa_pcm_wait() said 0. Writes frames [0, period) of in[0 ..
 * channels) (NULL: silence) converted to the device's format. 0; 1, -ENODEV, -errno as
 * alsa_pcm_wait; -EAGAIN when the device had no room after all (the period is not written).
 */
int alsa_pcm_play(struct alsa_pcm *p, const float *const *in, unsigned channels);

/*
 * Thread: the mover, after alsa_pcm_wait() said 0. A period from a capture device into out[0 ..
 * channels) (NULL: skipped; channels past the device's are left alone); after an xrun (1) out
 * holds silence. Returns as alsa_pcm_play.
 */
int alsa_pcm_capture(struct alsa_pcm *p, float *const *out, unsigned channels);

/*
 * Thread: the mover. Frames a capture device holds to be read, or the room a playback device
 * has, as of the device's last report of its position (snd_pcm_avail_update(): no ioctl, a DMA
 * burst's granularity); -errno.
 */
long alsa_pcm_avail(struct alsa_pcm *p);
