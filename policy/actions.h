/* SPDX-License-Identifier: MIT */
/*
 * policy/actions.h: what a (power mode, thermal state) pair scales — worker threads, FIR tail
 * quality, EQ/resampler tier, meter and monitor event rate, background work, poll interval.
 * The table is documented in docs/policy.md; live audio is never dropped by any row.
 *
 * The pair is first reduced to a level, the more restrictive of the two:
 *
 *   level   mode           thermal
 *   0       unrestricted   nominal
 *   1       normal         fair
 *   2       low            serious
 *   3       —              critical
 *
 * Pure function of its arguments. Thread: any.
 */
#pragma once

#include <stdint.h>

#include "policy/decide.h"

/* FIR tail quality: where a long IR is truncated (by its remaining energy), crossfaded. */
enum pol_fir_tier {
	POL_FIR_FULL, /* the whole IR */
	POL_FIR_90DB, /* truncated where the energy still to come falls below -90 dB */
	POL_FIR_60DB, /* ... below -60 dB */
};

/* EQ and resampler quality tiers, where a node has them. */
enum pol_quality {
	POL_QUALITY_HIGH,
	POL_QUALITY_MEDIUM,
	POL_QUALITY_LOW,
};

enum pol_bg_run {
	POL_BG_RUN,      /* as fast as it goes */
	POL_BG_THROTTLE, /* sleep sleep_factor × (time the last chunk took) between chunks */
	POL_BG_WAIT,     /* do not start a chunk until the actions change */
};

/* Background work by priority. */
enum pol_bg_prio {
	POL_BG_PRIO_HIGH, /* the user waits for it: IR preparation for a graph change */
	POL_BG_PRIO_LOW,  /* nobody waits: FFTW wisdom planning, cache prefetch, offline renders */
	POL_BG_PRIO_N,
};

struct pol_bg {
	enum pol_bg_run run;
	uint32_t sleep_factor; /* POL_BG_THROTTLE: 1, 2 or 4 by thermal state; else 0 */
};

struct pol_actions {
	unsigned level;   /* 0 .. 3, see above */
	uint32_t cores;   /* cores the graph may keep busy: ncpu, ncpu / 2, 1 (>= 1) */
	uint32_t workers; /* worker threads beside the RT thread: cores - 1 */
	enum pol_fir_tier fir;
	int fir_trunc_db; /* 0 (full), -90, -60 */
	enum pol_quality quality;
	uint32_t meter_hz; /* meter and monitor events per second: 60, 30, 10 */
	struct pol_bg bg[POL_BG_PRIO_N];
	uint32_t poll_factor; /* thermal poll interval multiplier: 2 in low mode while cool */
};

/*
 * The actions for mode and state on a machine with ncpu online CPUs (0 counts as 1).
 * 0 with *ret filled; -EINVAL when mode or state is out of range or ret is NULL.
 */
int pol_actions_get(enum pol_mode mode, enum pol_thermal_state state, uint32_t ncpu,
		    struct pol_actions *ret);

/* Static names: "full", "-90dB", "-60dB"; "high", "medium", "low"; "run", "throttle", "wait". */
const char *pol_fir_tier_to_string(enum pol_fir_tier t);
const char *pol_quality_to_string(enum pol_quality q);
const char *pol_bg_run_to_string(enum pol_bg_run r);
