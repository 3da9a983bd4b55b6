/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend/alsa-drift.c: capture against playback clock drift (alsa-drift.h).
 */
#include "daemon/backend/alsa-drift.h"

/* Weight of the newest window in the estimate: a quarter, so one odd window moves it little. */
#define DRIFT_SMOOTHING 0.25

void alsa_drift_restart(struct alsa_drift *d)
{
	d->started = false;
}

/* A new window from (now_ns, s), the estimate so far kept. */
static void open_window(struct alsa_drift *d, uint64_t now_ns, int64_t s)
{
	*d = (struct alsa_drift){
		.t0_ns = now_ns, .s0 = s, .started = true, .known = d->known, .ppm = d->ppm};
}

bool alsa_drift_sample(struct alsa_drift *d, uint64_t now_ns, int64_t s, uint32_t rate)
{
	double t, y, den, slope;

	if (!d->started || now_ns < d->t0_ns || rate == 0) {
		open_window(d, now_ns, s);
		return false;
	}
	t = (double)(now_ns - d->t0_ns) * 1e-9;
	y = (double)(s - d->s0);
	d->n += 1.0;
	d->st += t;
	d->ss += y;
	d->stt += t * t;
	d->sts += t * y;
	if (now_ns - d->t0_ns < ALSA_DRIFT_WINDOW_NS)
		return false;
	den = d->n * d->stt - d->st * d->st;
	if (d->n < 3.0 || den <= 0.0) { /* readings too few to fit: try a new window */
		open_window(d, now_ns, s);
		return false;
	}
	slope = (d->n * d->sts - d->st * d->ss) / den; /* frames a second */
	d->ppm = d->known ? d->ppm + DRIFT_SMOOTHING * (slope / rate * 1e6 - d->ppm)
			  : slope / rate * 1e6;
	d->known = true;
	open_window(d, now_ns, s);
	return true;
}
