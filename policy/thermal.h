/* SPDX-License-Identifier: MIT */
/*
 * policy/thermal.h: the thermal zone reader — `class/thermal/thermal_zone<N>/` below a sysfs
 * root: `type` (x86_pkg_temp, acpitz, "INT3400 Thermal", ...), `temp` (m°C, signed) and the
 * trip points `trip_point_<i>_type` (active, passive, hot, critical) with
 * `trip_point_<i>_temp`.
 *
 * Zones can be selected by type (the `[policy]` setting that names the zones to watch); an
 * empty selection watches every zone. A zone whose driver has no temperature right now
 * (-ENODATA, -EIO, -EAGAIN, ...: a Wi-Fi card powered down) is listed with has_temp false and
 * its error, and does not count; a zone whose temp file is missing or holds garbage fails the
 * read. Trip points with a temperature <= 0 m°C are disabled ones (the kernel's
 * THERMAL_TEMP_INVALID is -274000; some firmware fills 0) and are left out, as are trips of a
 * type this code does not know.
 *
 * Pure: no logging, no allocation, no threads. Thread: any (blocks on file I/O; policy thread).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/sysfs.h" /* POL_NAME_MAX */

struct pol_trace;

/* Watched zones kept (pol_thermal.truncated beyond); zones listed to find them: 4 × that. */
#define POL_ZONE_MAX 32
/* The kernel's THERMAL_MAX_TRIPS. */
#define POL_TRIP_MAX 12

enum pol_trip_type {
	POL_TRIP_ACTIVE,   /* a fan step: normal operation, does not raise the thermal state */
	POL_TRIP_PASSIVE,  /* the kernel starts throttling here */
	POL_TRIP_HOT,      /* the platform is told it is hot */
	POL_TRIP_CRITICAL, /* the kernel shuts the machine down here */
};

struct pol_trip {
	enum pol_trip_type type;
	int64_t temp_mc; /* m°C, > 0 */
};

struct pol_zone {
	char name[POL_NAME_MAX]; /* "thermal_zone3" */
	char type[POL_NAME_MAX]; /* its `type` */
	bool has_temp;   /* temp was read; false: temp_error says why, the zone is skipped */
	int temp_error;  /* 0, or the "no value now" error of temp */
	int64_t temp_mc; /* m°C */
	size_t n_trips;
	struct pol_trip trips[POL_TRIP_MAX]; /* in trip point order, disabled ones left out */
};

struct pol_thermal {
	size_t n_zones; /* watched zones read */
	bool truncated; /* more watched zones than POL_ZONE_MAX (or zones than 4 × that) */
	struct pol_zone zones[POL_ZONE_MAX]; /* sorted by zone number */
};

/*
 * Reads the zones under root_fd/class/thermal whose type is one of types[0 .. n_types)
 * (borrowed; n_types == 0 watches all) into *ret (about 11 KiB). A missing class/thermal
 * directory reads as no zone. A zone whose directory vanishes while it is read is left out.
 * trace (borrowed, may be NULL) gets every file read.
 *
 * 0; -errno with *ret untouched: -ENOENT (type or temp missing from a zone that still exists),
 * -EINVAL/-ERANGE (garbage, empty or huge value, in temp or a trip point), other -errno from
 * reading the directory; -EINVAL for bad arguments.
 */
int pol_thermal_read(int root_fd, const char *const *types, size_t n_types, struct pol_thermal *ret,
		     struct pol_trace *trace);

/* "active", "passive", "hot", "critical"; "?" when out of range. Static. */
const char *pol_trip_type_to_string(enum pol_trip_type t);
