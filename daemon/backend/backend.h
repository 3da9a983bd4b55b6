/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend/backend.h: what drives the engine's cycle — one ops table per backend (own
 * clock, JACK, PipeWire), so the engine never knows which one runs it (libsamplerate's
 * SRC_STATE_VT pattern). The offline renderer drives the engine directly (render.h).
 */
#pragma once

#include <stdbool.h>

struct eng_engine;
struct el_error;

struct be_ops {
	const char *name;
	/*
	 * Thread: control. Prepares to drive engine (borrowed; it must outlive the backend).
	 * 0 with *ret; -errno with a message (e.g. no server answers).
	 */
	int (*create)(struct eng_engine *engine, void **ret, struct el_error *reterr);
	/* Thread: control. Starts calling eng_engine_cycle() from the backend's RT thread. */
	int (*start)(void *be, struct el_error *reterr);
	/* Thread: control. Stops the cycle; returns when no cycle runs any more. */
	void (*stop)(void *be);
	/* Thread: control. Accepts NULL. */
	void (*destroy)(void *be);
	/* Thread: any. Did the backend get real-time scheduling? */
	bool (*is_realtime)(void *be);
};

extern const struct be_ops be_dummy_ops;
