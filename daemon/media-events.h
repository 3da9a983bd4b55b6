/* SPDX-License-Identifier: MIT */
/*
 * daemon/media-events.h: what players and recorders tell clients — `underrun`, `overrun` and
 * `record` events (docs/protocol.md) — found by looking at their counters on the control
 * thread's tick, so nothing of it runs on the RT thread. Thread: control.
 */
#pragma once

#include <stdint.h>

struct ctl_server;
struct eng_engine;
struct media_events;

/* A watcher (nothing seen yet). 0 with *ret; -ENOMEM. */
int media_events_new(struct media_events **ret);

/* Accepts NULL; returns NULL. */
struct media_events *media_events_free(struct media_events *m);

/*
 * Looks at every player and recorder of e's running graph and broadcasts on srv what changed
 * since the last look: a player's underruns grew; a take started; a take ended (stopped,
 * overrun, failed, or its recorder removed). Warnings go to the log.
 */
void media_events_tick(struct media_events *m, struct eng_engine *e, struct ctl_server *srv);
