/* SPDX-License-Identifier: MIT */
/*
 * daemon/engine/settings.h: the [engine] section — rate, block, backend, workers, pool size,
 * fade length, real-time priority. Thread: control.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct conf;
struct el_par;
struct el_error;

enum eng_backend_kind {
	ENG_BACKEND_AUTO,
	ENG_BACKEND_DUMMY,
	ENG_BACKEND_JACK,
	ENG_BACKEND_PIPEWIRE,
	ENG_BACKEND_ALSA,
	ENG_BACKEND_N_KINDS
};

struct eng_settings {
	uint32_t rate;   /* Hz */
	bool rate_given; /* rate was set in the config (render then refuses a mismatch) */
	uint32_t block;  /* frames per cycle, power of two 32..8192 */
	bool block_given; /* block was set in the config (render otherwise picks its own) */
	enum eng_backend_kind backend;
	uint32_t workers;      /* worker threads, 0 .. CPU count */
	uint32_t pool_buffers; /* buffers of `block` frames preallocated for the graph */
	uint32_t fade_ms;      /* click-free fade length for reconfiguration and changes */
	uint32_t rt_priority;  /* SCHED_FIFO priority of the RT thread (1..98) */
	bool lock_memory;      /* mlockall() after preallocation */
	/* how FFT plans are made (dsp/fft.h): measured (the default), or from wisdom else
	 * estimated (a short render, where measuring costs more than it saves); not a key */
	int fft_rigor;
	/* the buffer pool's pages come on first use instead of being faulted in at start: for a
	 * render, which has no RT thread to spare and rarely touches most of the pool; not a key */
	bool pool_on_use;
	/* borrowed, outlives the engine; NULL: none. Threads an offline render lends its convolvers
	 * for their channels (common/el-par.h); never set for the daemon's RT cycle; not a key */
	const struct el_par *par;
};

/* Defaults, documented in docs/config.md. */
#define ENG_DEFAULT_RATE         48000u
#define ENG_DEFAULT_BLOCK        256u
#define ENG_DEFAULT_POOL_BUFFERS 256u
#define ENG_DEFAULT_FADE_MS      20u
#define ENG_DEFAULT_RT_PRIORITY  70u

/* The backend names, indexed by enum eng_backend_kind. */
extern const char *const eng_backend_names[ENG_BACKEND_N_KINDS];

/*
 * Reads [engine] from c (absent section: all defaults) into *ret. 0; -EINVAL with
 * `FILE:LINE: key 'K': reason` in reterr. *ret untouched on failure.
 */
int eng_settings_from_conf(const struct conf *c, struct eng_settings *ret, struct el_error *reterr);

/* The frames a fade lasts at these settings (at least one block). */
uint32_t eng_settings_get_fade_frames(const struct eng_settings *s);
