/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend/backend.h: what drives the engine's cycle — one ops table per backend (own
 * clock, JACK, PipeWire, ALSA), so the engine never knows which one runs it (libsamplerate's
 * SRC_STATE_VT pattern). The offline renderer drives the engine directly (offline.h).
 *
 * Life of a backend, all calls on the control thread:
 *   open()   connect to the server (if any) and say which rate and block the engine must use;
 *   start()  given the engine built for them: create ports for its input/output channels and
 *            start calling eng_engine_cycle() from the server's RT thread;
 *   ports_changed()  after every reconfiguration: add ports for new channels, drop old ones;
 *   tick()   ten times a second: reconnect after a server restart, apply auto-connect rules;
 *   stop(), destroy().
 *
 * Channels: the engine numbers its capture and playback channels (eng_engine_get_io()); a
 * channel keeps its number while its node exists, so a backend maps numbers to ports and only
 * adds or removes entries when the graph changes. A backend may pass NULL for a channel it has
 * no port for yet: the engine reads silence or discards.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct conf;
struct eng_engine;
struct el_error;

enum be_state {
	BE_STATE_RUNNING,      /* cycles run */
	BE_STATE_DISCONNECTED, /* the server went away; tick() tries to come back */
	BE_STATE_RESTART,      /* the server changed rate or block: rebuild the engine */
};

struct be_ops {
	const char *name;
	/*
	 * Connects (to nothing, for the own clock) with the settings of conf ([jack], [pipewire]).
	 * *ret_rate and *ret_block come in as the configured values and go out as the ones the
	 * engine must use (the server's, for JACK). -errno with a message, e.g. no server answers
	 * (-ECONNREFUSED: `auto` then tries the next backend).
	 */
	int (*open)(const struct conf *conf, void **ret, uint32_t *ret_rate, uint32_t *ret_block,
		    struct el_error *reterr);
	/*
	 * `--check-config`: checks the backend's section of conf (its keys and values, a file it
	 * names) as open() would, without connecting or loading. 0; -errno with a message naming
	 * the file, line and key. Thread: any.
	 */
	int (*check_config)(const struct conf *conf, struct el_error *reterr);
	/* Creates the engine's ports and starts the cycle. engine is borrowed and outlives it. */
	int (*start)(void *be, struct eng_engine *engine, struct el_error *reterr);
	/* The engine's channels changed (a reconfiguration): update the ports. May be NULL. */
	int (*ports_changed)(void *be, struct el_error *reterr);
	/* Housekeeping, ten times a second; returns the state. May be NULL (always running). */
	enum be_state (*tick)(void *be);
	/* Stops the cycle; returns when no cycle runs any more. */
	void (*stop)(void *be);
	/*
	 * After tick() said BE_STATE_RESTART and stop(): the rate and block the server runs at
	 * now. The daemon then rebuilds the engine for them and calls start() again on the same
	 * backend, which keeps its ports and connections. -errno with a message when echoeld
	 * cannot run at them. May be NULL: the daemon then destroys and reopens the backend.
	 */
	int (*get_format)(void *be, uint32_t *ret_rate, uint32_t *ret_block,
			  struct el_error *reterr);
	/* Accepts NULL. */
	void (*destroy)(void *be);
	/* Thread: any. Does the cycle run with real-time scheduling? */
	bool (*is_realtime)(void *be);
	/*
	 * Tests only (ECHOELD_TEST_HOOKS=1, `debug.stall`): no cycle runs for ms milliseconds, as if
	 * the RT thread hung. May be NULL.
	 */
	void (*test_stall)(void *be, unsigned ms);
};

extern const struct be_ops be_dummy_ops;
extern const struct be_ops be_jack_ops;
extern const struct be_ops be_pipewire_ops;
extern const struct be_ops be_alsa_ops;
