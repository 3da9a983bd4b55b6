/* SPDX-License-Identifier: MIT */
/*
 * policy/actions.c: the (mode, thermal state) → actions table (actions.h, docs/policy.md).
 */
#include <errno.h>

#include "common/el-macros.h"
#include "policy/actions.h"

/* Indexed by level (actions.h). Cores: 0 = all, 2 = half, 1 = one. */
static const struct {
	uint32_t cores_div;
	enum pol_fir_tier fir;
	enum pol_quality quality;
	uint32_t meter_hz;
	enum pol_bg_run bg[POL_BG_PRIO_N];
} rows[] = {
	{0, POL_FIR_FULL, POL_QUALITY_HIGH, 60, {POL_BG_RUN, POL_BG_RUN}},
	{2, POL_FIR_90DB, POL_QUALITY_MEDIUM, 30, {POL_BG_RUN, POL_BG_THROTTLE}},
	{1, POL_FIR_60DB, POL_QUALITY_LOW, 10, {POL_BG_THROTTLE, POL_BG_WAIT}},
	{1, POL_FIR_60DB, POL_QUALITY_LOW, 10, {POL_BG_THROTTLE, POL_BG_WAIT}},
};

/* Throttled background work sleeps this many times its own chunk time, by thermal state. */
static const uint32_t sleep_factors[] = {
	[POL_THERMAL_NOMINAL] = 1,
	[POL_THERMAL_FAIR] = 1,
	[POL_THERMAL_SERIOUS] = 2,
	[POL_THERMAL_CRITICAL] = 4,
};

static const unsigned mode_level[] = {
	[POL_MODE_UNRESTRICTED] = 0,
	[POL_MODE_NORMAL] = 1,
	[POL_MODE_LOW] = 2,
};

static const unsigned thermal_level[] = {
	[POL_THERMAL_NOMINAL] = 0,
	[POL_THERMAL_FAIR] = 1,
	[POL_THERMAL_SERIOUS] = 2,
	[POL_THERMAL_CRITICAL] = 3,
};

static const int fir_db[] = {[POL_FIR_FULL] = 0, [POL_FIR_90DB] = -90, [POL_FIR_60DB] = -60};

int pol_actions_get(enum pol_mode mode, enum pol_thermal_state state, uint32_t ncpu,
		    struct pol_actions *ret)
{
	struct pol_actions a = {0};
	unsigned level;

	if (!ret || (unsigned)mode >= EL_N_ELEMENTS(mode_level) ||
	    (unsigned)state >= EL_N_ELEMENTS(thermal_level))
		return -EINVAL;
	if (ncpu == 0)
		ncpu = 1;
	level = EL_MAX(mode_level[mode], thermal_level[state]);
	a.level = level;
	switch (rows[level].cores_div) {
	case 0:
		a.cores = ncpu;
		break;
	case 2:
		a.cores = EL_MAX(ncpu / 2, 1u);
		break;
	default:
		a.cores = 1;
		break;
	}
	a.workers = a.cores - 1;
	a.fir = rows[level].fir;
	a.fir_trunc_db = fir_db[a.fir];
	a.quality = rows[level].quality;
	a.meter_hz = rows[level].meter_hz;
	for (unsigned p = 0; p < POL_BG_PRIO_N; p++) {
		a.bg[p].run = rows[level].bg[p];
		a.bg[p].sleep_factor = a.bg[p].run == POL_BG_THROTTLE ? sleep_factors[state] : 0;
	}
	/* On battery and cool, heat changes slowly and every wakeup costs: poll half as often. */
	a.poll_factor = mode == POL_MODE_LOW && state <= POL_THERMAL_FAIR ? 2 : 1;
	*ret = a;
	return 0;
}

const char *pol_fir_tier_to_string(enum pol_fir_tier t)
{
	static const char *const names[] = {"full", "-90dB", "-60dB"};

	return (unsigned)t < EL_N_ELEMENTS(names) ? names[t] : "?";
}

const char *pol_quality_to_string(enum pol_quality q)
{
	static const char *const names[] = {"high", "medium", "low"};

	return (unsigned)q < EL_N_ELEMENTS(names) ? names[q] : "?";
}

const char *pol_bg_run_to_string(enum pol_bg_run r)
{
	static const char *const names[] = {"run", "throttle", "wait"};

	return (unsigned)r < EL_N_ELEMENTS(names) ? names[r] : "?";
}
