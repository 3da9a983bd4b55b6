/* SPDX-License-Identifier: MIT */
/*
 * policy/decide.h: the decision state machine — from what the readers read to a power mode
 * and a thermal state, with hysteresis, a minimum dwell time and user overrides.
 *
 * Power mode (first rule that holds):
 *   low           the platform profile is low-power
 *   unrestricted  no battery; AC online; a battery charging; every battery full
 *   unrestricted  capacity > high_pct            (stays while capacity > high_pct - hyst)
 *   low           discharging and capacity < low_pct  (stays while capacity < low_pct + hyst)
 *   normal        otherwise (also on battery with no known level)
 * Thermal state, per watched zone with a temperature, the most severe zone winning:
 *   critical  temp >= its lowest hot or critical trip
 *   serious   temp >= its lowest passive trip
 *   fair      temp >= that passive trip - fair_margin
 *   nominal   otherwise, or no trip points, or no zone
 *   Every threshold at or below the state in force is lowered by temp_hyst, so the state only
 *   falls once the temperature is hyst below the threshold it crossed.
 *
 * Dwell: an automatic change happens only when the state in force has lasted dwell_ms (the
 * first good reading, and a rise to critical, apply at once). What the inputs ask for
 * meanwhile is kept as "wanted" and applied by a later pol_decider_set_*() call — the caller
 * wakes at pol_decider_get_deadline() or polls anyway. Hysteresis keeps a value sitting on a
 * boundary from flapping; dwell bounds how often the state can change at all.
 *
 * Overrides pin the mode and/or the thermal state in force; the automatic decision goes on
 * underneath, so releasing a pin (auto) returns to it at once.
 *
 * Errors: each reader's result is passed in with its return value. A failed read changes
 * nothing — the decision from the last good readings stays — and is reported once: the call
 * that sees the first failure after a success (or before any) returns POL_ERROR_FIRST, the
 * first success after failures POL_RECOVERED. Rate-limiting anything more is the caller's.
 *
 * Before any good power reading the mode is unrestricted, before any good thermal reading the
 * state is nominal (the engine runs as it would without a policy).
 *
 * Pure: no logging, no clock (time is passed in, monotonic milliseconds), no threads, no sysfs.
 * Thread: one thread at a time per decider (the policy thread); no internal locking.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy/profile.h"
#include "policy/sysfs.h" /* POL_NAME_MAX */

struct pol_power;
struct pol_thermal;
struct pol_decider; /* opaque */

/* Ordered from the most work allowed to the least. */
enum pol_mode {
	POL_MODE_UNRESTRICTED,
	POL_MODE_NORMAL,
	POL_MODE_LOW,
	POL_MODE_N,
};

/* Ordered from cool to hot. */
enum pol_thermal_state {
	POL_THERMAL_NOMINAL,
	POL_THERMAL_FAIR,
	POL_THERMAL_SERIOUS,
	POL_THERMAL_CRITICAL,
	POL_THERMAL_N,
};

/* Why the automatic decision is what it is (the rule above that held). */
enum pol_reason {
	POL_REASON_NO_DATA, /* no good reading yet */
	/* power mode */
	POL_REASON_PROFILE_LOW_POWER,
	POL_REASON_NO_BATTERY,
	POL_REASON_AC,
	POL_REASON_CHARGING,
	POL_REASON_FULL,
	POL_REASON_ABOVE_HIGH,
	POL_REASON_BELOW_LOW,
	POL_REASON_ON_BATTERY, /* between the thresholds, or level unknown */
	/* thermal state */
	POL_REASON_NO_ZONES,     /* no watched zone has a temperature */
	POL_REASON_NO_TRIPS,     /* zones, but none has a passive, hot or critical trip */
	POL_REASON_COOL,         /* below every zone's thresholds */
	POL_REASON_NEAR_PASSIVE, /* within the margin below a passive trip */
	POL_REASON_PASSIVE,      /* at or above a passive trip */
	POL_REASON_HOT,          /* at or above a hot trip */
	POL_REASON_CRITICAL,     /* at or above a critical trip */
	POL_REASON_N,
};

/* The bits pol_decider_set_*() return (>= 0). */
enum {
	POL_CHANGED_MODE = 1 << 0,    /* the mode in force changed */
	POL_CHANGED_THERMAL = 1 << 1, /* the thermal state in force changed */
	POL_ERROR_FIRST =
		1 << 2,         /* this reader failed, and had not failed since its last success */
	POL_RECOVERED = 1 << 3, /* this reader succeeded after failing */
};

struct pol_decider_config {
	uint32_t low_pct;           /* low below this capacity, 0..100; default 20 */
	uint32_t high_pct;          /* unrestricted above this capacity, 0..100; default 80 */
	uint32_t capacity_hyst_pct; /* percent points; default 3 */
	uint32_t fair_margin_mc; /* fair within this much below a passive trip, m°C; default 5000 */
	uint32_t temp_hyst_mc;   /* m°C, 0..50000; default 2000 */
	uint32_t dwell_ms; /* minimum time between automatic changes, 0..3600000; default 5000 */
};

#define POL_DEFAULT_LOW_PCT        20u
#define POL_DEFAULT_HIGH_PCT       80u
#define POL_DEFAULT_CAPACITY_HYST  3u
#define POL_DEFAULT_FAIR_MARGIN_MC 5000u
#define POL_DEFAULT_TEMP_HYST_MC   2000u
#define POL_DEFAULT_DWELL_MS       5000u

/* A snapshot of the decider for the caller, status and events (plain data, copy freely). */
struct pol_decision {
	enum pol_mode mode;             /* in force: the pinned one, else mode_auto */
	enum pol_thermal_state thermal; /* in force: the pinned one, else thermal_auto */
	bool mode_pinned;
	bool thermal_pinned;

	enum pol_mode mode_auto; /* the automatic decision in force */
	enum pol_reason mode_reason;
	enum pol_mode
		mode_wanted;    /* what the last readings ask for (== mode_auto unless dwelling) */
	uint64_t mode_since_ms; /* when mode_auto began (0 before the first reading) */
	int capacity;           /* the combined capacity decided on, -1 unknown */
	enum pol_profile profile; /* the profile decided on */

	enum pol_thermal_state thermal_auto;
	enum pol_reason thermal_reason;
	enum pol_thermal_state thermal_wanted;
	uint64_t thermal_since_ms;
	/* The zone behind thermal_wanted in the last good reading ("" without one). */
	char zone[POL_NAME_MAX];
	char zone_type[POL_NAME_MAX];
	int64_t zone_temp_mc;      /* its temperature */
	int64_t zone_threshold_mc; /* the threshold it crossed, or the next one up; 0 none */

	int power_error; /* 0 when the last power read succeeded, else its -errno */
	int profile_error;
	int thermal_error;
};

/* Fills *ret with the defaults above. */
void pol_decider_config_init(struct pol_decider_config *ret);

/*
 * A decider with cfg (copied). 0; -EINVAL when a value is out of range or the capacity bands
 * overlap (low_pct + hyst must not exceed high_pct - hyst); -ENOMEM. *ret untouched on failure.
 */
int pol_decider_new(const struct pol_decider_config *cfg, struct pol_decider **ret);

/* Accepts NULL; returns NULL. */
struct pol_decider *pol_decider_free(struct pol_decider *d);

/*
 * New thresholds (a config reload), used from the next reading on; the state in force stays.
 * 0; -EINVAL as pol_decider_new(), nothing changed then.
 */
int pol_decider_set_config(struct pol_decider *d, const struct pol_decider_config *cfg);

/*
 * Feeds one reader's result: r is what the reader returned, the value (borrowed, read only
 * during the call) is used only when r >= 0. now_ms is monotonic time (never going back).
 * Returns the POL_CHANGED_* / POL_ERROR_FIRST / POL_RECOVERED bits; -EINVAL for bad arguments.
 */
int pol_decider_set_power(struct pol_decider *d, int r, const struct pol_power *power,
			  uint64_t now_ms);
int pol_decider_set_profile(struct pol_decider *d, int r, enum pol_profile profile,
			    uint64_t now_ms);
int pol_decider_set_thermal(struct pol_decider *d, int r, const struct pol_thermal *thermal,
			    uint64_t now_ms);

/* Applies wanted changes whose dwell has passed by now_ms. The POL_CHANGED_* bits; -EINVAL. */
int pol_decider_set_time(struct pol_decider *d, uint64_t now_ms);

/*
 * Pins the mode (pinned true: to mode) or releases it (pinned false: mode ignored, back to the
 * automatic decision). Applies at once, no dwell. The POL_CHANGED_* bits; -EINVAL.
 */
int pol_decider_set_mode_override(struct pol_decider *d, bool pinned, enum pol_mode mode,
				  uint64_t now_ms);
int pol_decider_set_thermal_override(struct pol_decider *d, bool pinned,
				     enum pol_thermal_state state, uint64_t now_ms);

/* The current decision into *ret. */
void pol_decider_get_decision(const struct pol_decider *d, struct pol_decision *ret);

/*
 * True with *ret_ms = the earliest time a wanted change may apply (call pol_decider_set_time()
 * then); false when nothing waits.
 */
bool pol_decider_get_deadline(const struct pol_decider *d, uint64_t *ret_ms);

/* Static names for logs, status and the protocol; "?" when out of range. */
const char *pol_mode_to_string(enum pol_mode m); /* "unrestricted", "normal", "low" */
const char *pol_thermal_state_to_string(enum pol_thermal_state s); /* "nominal", ... "critical" */
const char *pol_reason_to_string(enum pol_reason r); /* "no-data", "ac", "below-low", ... */

/* The enum for a name above (exact, lowercase); -EINVAL for anything else ("auto" included). */
int pol_mode_from_string(const char *s);
int pol_thermal_state_from_string(const char *s);
