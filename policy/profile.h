/* SPDX-License-Identifier: MIT */
/*
 * policy/profile.h: the ACPI platform profile reader — `firmware/acpi/platform_profile` below
 * a sysfs root, the power/performance trade-off the user picked (GNOME/KDE power settings,
 * power-profiles-daemon, tuned).
 *
 * Pure: no logging, no allocation. Thread: any (blocks on file I/O; policy thread).
 */
#pragma once

struct pol_trace;

enum pol_profile {
	POL_PROFILE_NONE,        /* no platform_profile file: the firmware has none */
	POL_PROFILE_UNKNOWN,     /* a profile this policy does not map: cool, quiet, custom, ... */
	POL_PROFILE_LOW_POWER,   /* low-power */
	POL_PROFILE_BALANCED,    /* balanced (and balanced-performance) */
	POL_PROFILE_PERFORMANCE, /* performance */
};

/*
 * Reads root_fd/firmware/acpi/platform_profile into *ret; trace (borrowed, may be NULL) gets
 * the file and its value. A missing file is POL_PROFILE_NONE, not an error.
 * 0; -EINVAL/-ERANGE (empty, garbage or over-long text), other -errno from the read (-EACCES,
 * -EIO, ...). *ret untouched on failure.
 */
int pol_profile_read(int root_fd, enum pol_profile *ret, struct pol_trace *trace);

/* "none", "unknown", "low-power", "balanced", "performance"; "?" when out of range. Static. */
const char *pol_profile_to_string(enum pol_profile p);
