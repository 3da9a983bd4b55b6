/* SPDX-License-Identifier: MIT */
/*
 * daemon/systemd.h: echoeld as a systemd service — sd_notify state (READY only after the first
 * cycle ran, STATUS, RELOADING, STOPPING), a watchdog that is pinged only while the RT cycle
 * makes progress, and the control socket passed by socket activation. Everything is a no-op
 * outside systemd (no NOTIFY_SOCKET, no WATCHDOG_USEC, no LISTEN_FDS). Thread: control.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct eng_engine;

struct sysd_state {
	bool ready;             /* READY=1 sent */
	uint64_t watchdog_usec; /* 0: no watchdog */
	uint64_t last_ping;     /* CLOCK_MONOTONIC µs of the last WATCHDOG=1 */
	uint64_t pinged_cycles; /* engine cycles at the last ping */
	uint64_t last_status;   /* µs of the last STATUS= */
	bool disconnected;      /* the last STATUS= said we wait for the server */
};

void sysd_init(struct sysd_state *s);

/*
 * At each housekeeping tick: READY=1 once the first cycle has run; WATCHDOG=1 at half the watchdog
 * interval, but only if cycles ran since the last ping or the clock stopped because the graph is
 * silent (eng_engine_is_asleep) — a stalled cycle lets systemd restart us;
 * STATUS= every few seconds. backend names the backend for STATUS. disconnected: the sound
 * server went away and the backend is reconnecting — no cycle can run, but nothing hangs, so
 * the watchdog is still pinged (a restart would not bring the server back and could make `auto`
 * fall back to another backend) and STATUS says what we wait for.
 */
void sysd_tick(struct sysd_state *s, struct eng_engine *engine, const char *backend,
	       bool disconnected, uint64_t now_usec);

void sysd_notify_reloading(struct sysd_state *s);
void sysd_notify_reloaded(struct sysd_state *s);
void sysd_notify_stopping(void);

/* The listening socket systemd passed (named "control", or the only one), or -ENOENT. */
int sysd_listen_fd(void);
