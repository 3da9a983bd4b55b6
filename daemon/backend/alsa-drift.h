/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend/alsa-drift.h: how far a capture device's clock runs from the playback
 * device's, in parts per million, when the two are separate cards (CamillaDSP's "rate adjust"
 * problem; linked streams on one card share a clock and never drift).
 *
 * The mover reads a period from capture and writes one to playback each cycle, so the frames
 * waiting in capture minus the room in playback, read at one instant, only change as the two
 * clocks differ: s(t) = (f_capture − f_playback)·t + constant. Its slope over a window (5 s),
 * over the rate, is the drift. A real card reports its position only to a DMA burst (a USB
 * card's moves in 1 ms steps: ±48 frames at 48 kHz, 400 ppm over 5 s between two readings), so
 * the slope is fitted to every reading of the window (least squares: ~13 ppm), and windows are
 * smoothed (an average weighing the newest a quarter). An xrun restarts the window.
 *
 * Thread: the mover only (no locks, no allocation: it runs beside the cycle).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define ALSA_DRIFT_WINDOW_NS 5000000000ull

struct alsa_drift {
	uint64_t t0_ns; /* the window's start */
	int64_t s0;     /* s at t0 (the fit is of s - s0, which stays small) */
	/* the window's readings, for the fit: count, and sums of t (s), s, t^2, t*s */
	double n, st, ss, stt, sts;
	bool started; /* a window is open */
	bool known;   /* ppm holds an estimate */
	double ppm;   /* the smoothed estimate: capture faster than playback is positive */
};

/* Forgets the open window (after an xrun: s jumped); the estimate so far is kept. */
void alsa_drift_restart(struct alsa_drift *d);

/*
 * One reading at now_ns: s = capture frames waiting − playback room, rate in Hz. True when a
 * window closed and d->ppm holds a new estimate.
 */
bool alsa_drift_sample(struct alsa_drift *d, uint64_t now_ns, int64_t s, uint32_t rate);
