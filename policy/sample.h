/* SPDX-License-Identifier: MIT */
/*
 * policy/sample.h: one reading of everything the decision needs — power supplies, platform
 * profile, thermal zones — fed to a decider. What the daemon's policy thread and a paced
 * offline render both do on each pass.
 *
 * Pure: no logging, no allocation. Thread: the decider's (blocks on file I/O).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "policy/power.h"
#include "policy/profile.h"
#include "policy/thermal.h"

struct pol_decider;
struct pol_trace;

/* What one pass read (as read, even a part whose read failed). */
struct pol_sample {
	struct pol_power power;
	enum pol_profile profile;
	struct pol_thermal thermal;
};

/*
 * Reads power, profile and the thermal zones of types[0..n_types) (none: all) below root_fd
 * into *ret and feeds each result to d at now_ms (a failed read is the setter's business: the
 * decision is kept). trace (borrowed, may be NULL) gets every file read. Returns the or'ed
 * POL_CHANGED_* / POL_ERROR_FIRST / POL_RECOVERED flags of the three setters.
 */
int pol_sample_read(struct pol_decider *d, int root_fd, const char *const *types, size_t n_types,
		    uint64_t now_ms, struct pol_sample *ret, struct pol_trace *trace);
