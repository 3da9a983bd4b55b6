/* SPDX-License-Identifier: MIT */
/*
 * daemon/power/settings.h: the [policy] section — whether the power and heat policy runs,
 * where it reads sysfs, how often it polls, which thermal zones it watches, the decider's
 * thresholds, and states pinned by the configuration (docs/policy.md). Thread: control.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/decide.h"

struct conf;
struct el_error;

/* Most thermal zone types `zones` may list. */
#define DPOL_MAX_ZONE_TYPES 16

struct dpol_settings {
	bool enabled;
	char *sysfs_root; /* owned: absolute; "/sys" by default */
	uint32_t poll_ms; /* thermal (and anything without uevents) poll interval */
	bool uevents;     /* also wake on kernel uevents (power_supply, thermal) */
	char *zone_types[DPOL_MAX_ZONE_TYPES]; /* owned; the zones watched, none: all */
	size_t n_zone_types;
	struct pol_decider_config decider;
	int mode_pin;    /* -1: automatic, else the enum pol_mode the configuration pins */
	int thermal_pin; /* -1: automatic, else the enum pol_thermal_state pinned */
};

#define DPOL_DEFAULT_POLL_MS 5000u

/*
 * Reads [policy] from c (absent: all defaults, the policy on). 0; -EINVAL with
 * `FILE:LINE: key 'K': reason` in reterr; -ENOMEM. *ret untouched on failure; free with
 * dpol_settings_done().
 */
int dpol_settings_from_conf(const struct conf *c, struct dpol_settings *ret,
			    struct el_error *reterr);

/*
 * A decider with s's thresholds and the states s pins (now_ms: when the pins start). 0 with
 * *ret set (pol_decider_free()); -errno from pol_decider_new().
 */
int dpol_settings_new_decider(const struct dpol_settings *s, uint64_t now_ms,
			      struct pol_decider **ret);

/* Whether a and b ask for the same policy: every setting, the zones watched in the same order. */
bool dpol_settings_equal(const struct dpol_settings *a, const struct dpol_settings *b);

/* Frees what s owns; s may be zeroed or half-filled. */
void dpol_settings_done(struct dpol_settings *s);
