/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend/alsa.c: the ALSA backend — echoeld straight on a sound card (or any PCM
 * alsa-lib knows), for a box with no sound server.
 *
 * DESIGN: one SCHED_FIFO thread (echoeld-alsa) moves the samples, paced by the device: it waits
 * until the capture device has a period (if there is one), reads it, waits until the playback
 * device has room for a period, runs the engine's cycle and writes its output
 * (daemon/backend/alsa-pcm.h: mmap where the device has it). Running the cycle only once the
 * room is there keeps the output a buffer (`periods` periods) ahead of the device, no more. An
 * xrun is recovered in place (snd_pcm_recover, the device primed with silence again) and
 * reported to the engine (the `xrun` event, the count in `status`). A device that goes away
 * (a USB card unplugged) sets the state GONE, and the thread runs the cycle on a clock until
 * tick() on the control thread stops it (so the engine always takes what the control thread
 * publishes), closes the device and reopens it with backoff (0.5 s doubling to 5 s) until it is
 * back, and the audio resumes: echoeld never exits because a device went away. The device's
 * channels follow the graph's: a reconfiguration that changes how many the graph plays or captures
 * reopens the devices (a gap of a few periods).
 *
 * The thread and the control thread share the state word and the stop flag (atomics) only; the
 * PCMs and buffers are the thread's while it runs and the control thread's when it does not.
 */
#include <alsa/asoundlib.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "common/el-rt-thread.h"
#include "common/el-time.h"
#include "daemon/backend/alsa-drift.h"
#include "daemon/backend/alsa-pcm.h"
#include "daemon/backend/backend.h"
#include "daemon/config/config.h"
#include "daemon/config/value.h"
#include "daemon/engine/engine.h"
#include "daemon/log.h"
#include "dsp/cpu.h"

#define BACKOFF_MIN_MS 500u
#define BACKOFF_MAX_MS 5000u
/* A device that fails again within this of coming back is flapping: the backoff keeps growing
 * and the log keeps quiet (ms). */
#define FLAP_MS 10000u

enum alsa_state {
	ALSA_RUNNING, /* the thread moves samples (or is not started) */
	ALSA_GONE,    /* a device went away: the thread ended; tick() reopens */
};

/* [alsa] as configured. */
struct alsa_settings {
	char *playback; /* owned; "default" */
	char *capture;  /* owned; NULL: no capture */
	uint32_t rate, period, periods;
	int format; /* enum dsp_pcm_format, or -1: the best the device takes */
	int dither; /* 1, 0, 2 (shaped), or -1: for 16-bit formats (alsa_pcm_want.dither) */
};

struct alsa_be {
	struct alsa_settings set;
	struct eng_engine *engine; /* borrowed */
	struct alsa_pcm play, cap; /* the thread's while it runs */
	unsigned n_play, n_cap;    /* the engine's channels */
	float *buf;                /* owned: (n_play + n_cap) periods, planar */
	float *play_ch[ALSA_PCM_MAX_CHANNELS];
	float *cap_ch[ALSA_PCM_MAX_CHANNELS];
	const float *cap_in[ALSA_PCM_MAX_CHANNELS]; /* the same, as the engine reads them */
	pthread_t thread;
	bool started, realtime;
	_Atomic bool stop;
	_Atomic int state; /* enum alsa_state */
	_Atomic int error; /* why the thread ended (-errno) */
	/* control thread: reopening a device that went away */
	uint64_t retry_at_ms, backoff_ms;
	uint64_t back_at_ms; /* when it last came back (0: never went) */
	bool flapping;       /* it went again soon after coming back: say so once, not each time */
	struct alsa_drift drift; /* the thread's: capture against playback (two devices) */
	double drift_logged;     /* control thread: the drift last logged (ppm), NAN: none yet */
};

static const char *const alsa_keys[] = {"playback", "capture", "period", "periods",
					"format",   "rate",    "dither", NULL};
static const char *const dither_names[] = {"no", "yes", "auto", "shaped"};

/* alsa-lib prints its errors to stderr unless told otherwise; ours carry them as messages. */
static void alsa_quiet(const char *file, int line, const char *function, int err, const char *fmt,
		       ...)
{
	(void)file, (void)line, (void)function, (void)err, (void)fmt;
}

static void settings_done(struct alsa_settings *s)
{
	free(s->playback);
	free(s->capture);
	*s = (struct alsa_settings){0};
}

/* [alsa] into *s; rate and block are the engine's, the defaults of `rate` and `period`. */
static int settings_read(const struct conf *conf, uint32_t rate, uint32_t block,
			 struct alsa_settings *s, struct el_error *reterr)
{
	const struct conf_section *sec = conf ? conf_find_section(conf, "alsa") : NULL;
	const char *play = conf_get_string(sec, "playback", "default");
	const char *cap = conf_get_string(sec, "capture", NULL);
	unsigned format = DSP_PCM_N_FORMATS, dither = 2;
	const char *names[DSP_PCM_N_FORMATS + 1];
	int r;

	for (unsigned i = 0; i < DSP_PCM_N_FORMATS; i++)
		names[i] = alsa_pcm_format_names[i];
	names[DSP_PCM_N_FORMATS] = "best";
	*s = (struct alsa_settings){.format = -1};
	if ((r = conf_check_keys(sec, alsa_keys, reterr)) < 0 ||
	    (r = conf_get_u32(sec, "rate", rate, 8000, 768000, &s->rate, reterr)) < 0 ||
	    (r = conf_get_u32(sec, "period", block, 32, 8192, &s->period, reterr)) < 0 ||
	    (r = conf_get_u32(sec, "periods", 2, 2, 4, &s->periods, reterr)) < 0 ||
	    (r = conf_get_enum(sec, "format", DSP_PCM_N_FORMATS, names, DSP_PCM_N_FORMATS + 1,
			       &format, reterr)) < 0 ||
	    (r = conf_get_enum(sec, "dither", 2, dither_names, EL_N_ELEMENTS(dither_names), &dither,
			       reterr)) < 0)
		return r;
	if (s->period & (s->period - 1))
		return conf_error_entry(reterr, -EINVAL, conf_section_find(sec, "period"),
					"expected a power of two (the engine's block), got %u",
					s->period);
	if (!play[0])
		return conf_error_entry(reterr, -EINVAL, conf_section_find(sec, "playback"),
					"expected a PCM name, e.g. hw:0,0 or default");
	s->format = format < DSP_PCM_N_FORMATS ? (int)format : -1;
	s->dither = dither == 2 ? -1 : dither == 3 ? 2 : (int)dither; /* alsa_pcm_want.dither */
	s->playback = strdup(play);
	s->capture = cap && cap[0] && strcmp(cap, "none") != 0 ? strdup(cap) : NULL;
	if (!s->playback || (cap && cap[0] && strcmp(cap, "none") != 0 && !s->capture)) {
		settings_done(s);
		return el_error_set(reterr, -ENOMEM, "out of memory");
	}
	return 0;
}

/* The device(s) opened for the engine's channels (at least one each way that is used). */
static int devices_open(struct alsa_be *a, struct el_error *reterr)
{
	struct alsa_pcm_want w = {.name = a->set.playback,
				  .stream = SND_PCM_STREAM_PLAYBACK,
				  .rate = a->set.rate,
				  .period = a->set.period,
				  .periods = a->set.periods,
				  .format = a->set.format,
				  .dither = a->set.dither,
				  .channels = EL_MAX(a->n_play, 1u)};
	int r = alsa_pcm_open(&w, &a->play, reterr);

	if (r < 0 || !a->set.capture)
		return r;
	w.name = a->set.capture;
	w.stream = SND_PCM_STREAM_CAPTURE;
	w.channels = EL_MAX(a->n_cap, 1u);
	r = alsa_pcm_open(&w, &a->cap, reterr);
	if (r < 0)
		alsa_pcm_close(&a->play);
	return r;
}

static void devices_close(struct alsa_be *a)
{
	alsa_pcm_close(&a->cap);
	alsa_pcm_close(&a->play);
}

/* An xrun, recovered: reported, and the device (restarted on silence) comes back in faded. */
static void rt_xrun(struct alsa_be *a)
{
	eng_engine_report_xrun(a->engine, 0.0);
	eng_engine_fade_in(a->engine);
	alsa_drift_restart(&a->drift); /* the device restarted: its fill jumped */
}

/* Capture's frames waiting against playback's room, read together: their drift (alsa-drift.h). */
static void rt_measure_drift(struct alsa_be *a)
{
	long waiting = alsa_pcm_avail(&a->cap), room = alsa_pcm_avail(&a->play);
	struct timespec now;

	if (waiting < 0 || room < 0)
		return; /* an xrun or a device gone: the next move says which */
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (alsa_drift_sample(&a->drift, (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec,
			      (int64_t)waiting - room, a->set.rate))
		eng_engine_report_drift(a->engine, a->drift.ppm);
}

/*
 * Until p can move a period: 0; -EINTR once asked to stop; another -errno (the device is gone).
 * An xrun recovered while waiting is reported and waited past: the device restarted on a buffer
 * of silence, so there is no room (or nothing to read) yet.
 */
static int rt_wait(struct alsa_be *a, struct alsa_pcm *p)
{
	for (;;) {
		int r;

		if (atomic_load_explicit(&a->stop, memory_order_relaxed))
			return -EINTR;
		r = alsa_pcm_wait(p);
		if (r == 1)
			rt_xrun(a);
		else if (r != -EAGAIN)
			return r;
	}
}

/*
 * The device is gone: cycles on the clock, their output discarded, until the control thread
 * stops the thread (within a tick). The engine keeps running meanwhile, so what the control
 * thread publishes (a reconfiguration, the fade-out before a stop) is taken as always.
 */
static void rt_run_on_clock(struct alsa_be *a)
{
	const uint64_t period_ns = (uint64_t)a->set.period * 1000000000u / a->set.rate;
	struct timespec at;

	clock_gettime(CLOCK_MONOTONIC, &at);
	while (!atomic_load_explicit(&a->stop, memory_order_relaxed)) {
		uint64_t ns = (uint64_t)at.tv_nsec + period_ns;

		at.tv_sec += (time_t)(ns / 1000000000u);
		at.tv_nsec = (long)(ns % 1000000000u);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
			;
		eng_engine_cycle(a->engine, a->cap_in, 0, a->play_ch, a->n_play, a->set.period);
	}
}

static void *alsa_main(void *arg)
{
	struct alsa_be *a = arg;
	int r;

	pthread_setname_np(pthread_self(), "echoeld-alsa");
	eng_engine_set_rt_thread(a->engine, gettid());
	dsp_cpu_flush_denormals();
	r = alsa_pcm_start(&a->play);
	if (r == 0 && a->cap.pcm)
		r = alsa_pcm_start(&a->cap);
	while (r == 0) {
		if (a->cap.pcm) {
			if ((r = rt_wait(a, &a->cap)) < 0)
				break;
			r = alsa_pcm_capture(&a->cap, a->cap_ch, a->n_cap);
			if (r == 1)
				rt_xrun(a);
			if (r == 1 || r == -EAGAIN) { /* nothing read after all: wait again */
				r = 0;
				continue;
			}
			if (r < 0)
				break;
		}
		/* room for the period: then the cycle, just in time */
		if ((r = rt_wait(a, &a->play)) < 0)
			break;
		if (a->cap.pcm)
			rt_measure_drift(a);
		eng_engine_cycle(a->engine, a->cap_in, a->n_cap, a->play_ch, a->n_play,
				 a->set.period);
		r = alsa_pcm_play(&a->play, (const float *const *)a->play_ch, a->n_play);
		if (r == 1)
			rt_xrun(a);
		if (r == 1 || r == -EAGAIN)
			r = 0; /* that period is lost; on to the next */
	}
	if (r < 0 && r != -EINTR) {
		atomic_store_explicit(&a->error, r, memory_order_relaxed);
		/* release: the control thread that sees GONE sees the error */
		atomic_store_explicit(&a->state, ALSA_GONE, memory_order_release);
		rt_run_on_clock(a);
	}
	return NULL;
}

/* Buffers for the engine's channels, capture pointed at them. */
static int buffers_make(struct alsa_be *a, struct el_error *reterr)
{
	free(a->buf);
	a->buf = calloc((size_t)(a->n_play + a->n_cap) * a->set.period, sizeof(float));
	if (!a->buf)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	for (unsigned c = 0; c < a->n_play; c++)
		a->play_ch[c] = a->buf + (size_t)c * a->set.period;
	for (unsigned c = 0; c < a->n_cap; c++) {
		a->cap_ch[c] = a->buf + (size_t)(a->n_play + c) * a->set.period;
		a->cap_in[c] = a->cap_ch[c];
	}
	return 0;
}

static int thread_start(struct alsa_be *a, struct el_error *reterr)
{
	int priority = (int)eng_engine_get_settings(a->engine)->rt_priority;
	int r;

	atomic_store_explicit(&a->stop, false, memory_order_relaxed);
	atomic_store_explicit(&a->state, ALSA_RUNNING, memory_order_relaxed);
	a->drift = (struct alsa_drift){0}; /* other devices, maybe: measured afresh */
	eng_engine_report_drift(a->engine, NAN);
	a->drift_logged = NAN;
	eng_engine_set_running(a->engine, true);
	eng_engine_fade_in(a->engine); /* the first sound after a start is not a step */
	/* without the right to SCHED_FIFO the daemon warns; audio still runs */
	r = el_rt_thread_start(&a->thread, priority, alsa_main, a, &a->realtime);
	if (r) {
		eng_engine_set_running(a->engine, false);
		/* tick() tries again, as for a device that went away */
		atomic_store_explicit(&a->error, -r, memory_order_relaxed);
		atomic_store_explicit(&a->state, ALSA_GONE, memory_order_relaxed);
		return el_error_set(reterr, -r, "cannot start the ALSA thread: %s", strerror(r));
	}
	a->started = true;
	eng_engine_set_rt_priority(a->engine, a->realtime ? priority : 0);
	return 0;
}

static void thread_stop(struct alsa_be *a)
{
	if (!a->started)
		return;
	atomic_store_explicit(&a->stop, true, memory_order_relaxed);
	pthread_join(a->thread, NULL);
	a->started = false;
	eng_engine_set_running(a->engine, false);
	if (a->play.pcm)
		snd_pcm_drop(a->play.pcm); /* stop the device now, not after its buffer */
	if (a->cap.pcm)
		snd_pcm_drop(a->cap.pcm);
}

static void alsa_free(struct alsa_be *a)
{
	if (!a)
		return;
	devices_close(a);
	settings_done(&a->set);
	free(a->buf);
	free(a);
}

static int alsa_open(const struct conf *conf, void **ret, uint32_t *ret_rate, uint32_t *ret_block,
		     struct el_error *reterr)
{
	struct alsa_be *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	snd_lib_error_set_handler(alsa_quiet);
	atomic_init(&a->stop, false);
	atomic_init(&a->state, ALSA_RUNNING);
	atomic_init(&a->error, 0);
	a->drift_logged = NAN;
	/* until start() knows the graph's: opening proves the device works, and a stereo graph
	 * (the usual) keeps this very device */
	a->n_play = 2;
	if ((r = settings_read(conf, *ret_rate, *ret_block, &a->set, reterr)) == 0) {
		a->n_cap = a->set.capture ? 2 : 0;
		r = devices_open(a, reterr);
	}
	if (r < 0) {
		alsa_free(a);
		return r;
	}
	*ret_rate = a->set.rate;
	*ret_block = a->set.period;
	*ret = a;
	return 0;
}

static int alsa_check_config(const struct conf *conf, struct el_error *reterr)
{
	struct alsa_settings s;
	int r = settings_read(conf, 48000, 256, &s, reterr);

	settings_done(&s);
	return r;
}

/* The engine's channel counts now; true when the devices must follow them. */
static bool channels_changed(struct alsa_be *a)
{
	unsigned play = EL_MIN(eng_engine_get_playback_channels(a->engine), ALSA_PCM_MAX_CHANNELS);
	unsigned cap = a->set.capture ? EL_MIN(eng_engine_get_capture_channels(a->engine),
					       ALSA_PCM_MAX_CHANNELS)
				      : 0;
	bool changed = play != a->n_play || cap != a->n_cap;

	a->n_play = play;
	a->n_cap = cap;
	return changed;
}

/* The devices set up for the engine's channels and the thread started, stopped first. */
static int restart(struct alsa_be *a, struct el_error *reterr)
{
	int r;

	thread_stop(a);
	devices_close(a);
	if ((r = buffers_make(a, reterr)) == 0 && (r = devices_open(a, reterr)) == 0)
		r = thread_start(a, reterr);
	if (r < 0) { /* no device now (busy, unplugged): tick() reopens it with backoff */
		atomic_store_explicit(&a->error, r, memory_order_relaxed);
		atomic_store_explicit(&a->state, ALSA_GONE, memory_order_relaxed);
		a->backoff_ms = BACKOFF_MIN_MS;
		a->retry_at_ms = el_now_ms() + a->backoff_ms;
	}
	return r;
}

static int alsa_start(void *be, struct eng_engine *engine, struct el_error *reterr)
{
	struct alsa_be *a = be;
	int r;

	a->engine = engine;
	/* the device open() set up serves unless the graph's channels differ (a device opened
	 * twice may not be the same: a `file` PCM names a new file) */
	if (channels_changed(a) || !a->play.pcm || (a->set.capture && !a->cap.pcm))
		r = restart(a, reterr);
	else if ((r = buffers_make(a, reterr)) == 0)
		r = thread_start(a, reterr);
	if (r == 0)
		log_info(
			"ALSA: playback '%s' (%s%s, %u channels, %s access), %s%s%s, %u periods of "
			"%u frames at %u Hz",
			a->play.name, alsa_pcm_format_names[a->play.format],
			!a->play.dither             ? ""
			: a->play.dithers[0].shaped ? " with noise-shaped dither"
						    : " with TPDF dither",
			a->play.channels, a->play.mmap ? "mmap" : "read/write",
			a->cap.pcm ? "capture '" : "no capture", a->cap.pcm ? a->cap.name : "",
			a->cap.pcm ? "'" : "", a->play.periods, a->play.period, a->set.rate);
	return r;
}

static int alsa_ports_changed(void *be, struct el_error *reterr)
{
	struct alsa_be *a = be;

	if (!a->started || !channels_changed(a))
		return 0;
	return restart(a, reterr);
}

/* The thread ended (a device went away): closed, and the first retry planned. */
static void device_lost(struct alsa_be *a, uint64_t now)
{
	const char *why = snd_strerror(atomic_load_explicit(&a->error, memory_order_relaxed));

	thread_stop(a);
	devices_close(a);
	a->flapping = a->back_at_ms && now - a->back_at_ms < FLAP_MS;
	if (a->flapping) {
		a->backoff_ms = EL_MIN(a->backoff_ms * 2, BACKOFF_MAX_MS);
		log_debug("ALSA: the device stopped again (%s)", why);
	} else {
		a->backoff_ms = BACKOFF_MIN_MS;
		log_warning("ALSA: the device stopped (%s): retrying until it is back", why);
	}
	a->retry_at_ms = now + a->backoff_ms;
}

/* A device that went away: closed, then reopened with backoff until it is back. */
/*
 * Says when the capture device's clock is first known to drift from the playback device's, and
 * again when the estimate moves by 50 ppm: an admin reading of an xrun every few minutes learns
 * why (two cards, two clocks; CamillaDSP would resample to follow — echoeld does not yet).
 */
static void report_drift(struct alsa_be *a)
{
	struct eng_stats st;
	double slip;

	if (!a->set.capture)
		return;
	eng_engine_get_stats(a->engine, false, &st);
	if (isnan(st.drift_ppm) ||
	    (!isnan(a->drift_logged) && fabs(st.drift_ppm - a->drift_logged) < 50.0))
		return;
	a->drift_logged = st.drift_ppm;
	slip = fabs(st.drift_ppm) * 1e-6 * a->set.rate; /* frames a second */
	if (slip < a->set.period / 86400.0) /* a period in over a day: none to speak of */
		log_info("ALSA: capture and playback clocks agree (%+.1f ppm)", st.drift_ppm);
	else
		log_notice(
			"ALSA: capture '%s' runs %+.0f ppm against playback '%s' (two clocks, not "
			"compensated): a period slips every %.0f s",
			a->set.capture, st.drift_ppm, a->set.playback, a->set.period / slip);
}

static enum be_state alsa_tick(void *be)
{
	struct alsa_be *a = be;
	struct el_error err = {0};
	uint64_t now = el_now_ms();

	if (atomic_load_explicit(&a->state, memory_order_acquire) != ALSA_GONE) {
		report_drift(a);
		return BE_STATE_RUNNING;
	}
	if (a->started) { /* just went */
		device_lost(a, now);
		return BE_STATE_DISCONNECTED;
	}
	if (now < a->retry_at_ms)
		return BE_STATE_DISCONNECTED;
	/* for the graph as it is now: it may have changed while the device was away */
	(void)channels_changed(a);
	if (buffers_make(a, &err) < 0 || devices_open(a, &err) < 0 || thread_start(a, &err) < 0) {
		devices_close(a);
		a->backoff_ms = EL_MIN(EL_MAX(a->backoff_ms, BACKOFF_MIN_MS) * 2, BACKOFF_MAX_MS);
		a->retry_at_ms = now + a->backoff_ms;
		log_debug("ALSA: not back yet: %s", err.message);
		return BE_STATE_DISCONNECTED;
	}
	if (!a->flapping)
		log_notice("ALSA: playback '%s' is back", a->play.name);
	a->back_at_ms = now;
	return BE_STATE_RUNNING;
}

static void alsa_stop(void *be)
{
	thread_stop(be);
}

static void alsa_destroy(void *be)
{
	struct alsa_be *a = be;

	if (!a)
		return;
	thread_stop(a);
	alsa_free(a);
}

static bool alsa_is_realtime(void *be)
{
	return ((struct alsa_be *)be)->realtime;
}

const struct be_ops be_alsa_ops = {
	.name = "alsa",
	.open = alsa_open,
	.check_config = alsa_check_config,
	.start = alsa_start,
	.ports_changed = alsa_ports_changed,
	.tick = alsa_tick,
	.stop = alsa_stop,
	.destroy = alsa_destroy,
	.is_realtime = alsa_is_realtime,
};
