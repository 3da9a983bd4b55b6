/* SPDX-License-Identifier: MIT */
/*
 * policy/power.h: the power_supply reader — batteries, AC adapters and USB supplies from
 * `class/power_supply/<name>/` below a sysfs root.
 *
 * For every supply it reads `type` (Battery, Mains, USB, UPS, Wireless, ...) and `scope`
 * (optional; "Device" marks a peripheral's own battery — a mouse, a gamepad — which is
 * listed but never counts for the machine). Non-battery supplies give `online` (optional,
 * absent = offline). Batteries give `present` (optional, absent = present), `status` (required:
 * Charging, Discharging, Not charging, Full, Unknown) and a charge level: `capacity` (percent),
 * else `energy_now`/`energy_full` (µWh), else `charge_now`/`charge_full` (µAh); one of the
 * three is required.
 *
 * Several batteries are combined by energy: the combined level is the sum of each battery's
 * level weighted by its size (energy_full; charge_full × voltage_min_design when only charge
 * is known), which is Σ energy_now / Σ energy_full. When the sizes cannot be put in one unit
 * the levels are averaged.
 *
 * Pure: no logging, no allocation, no threads, no global state. Thread: any (blocks on file
 * I/O; the daemon calls it from the policy thread).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/sysfs.h" /* POL_NAME_MAX */

struct pol_trace;

/* Supplies beyond this many are ignored (pol_power.truncated); a laptop has two to five. */
#define POL_SUPPLY_MAX 16

enum pol_supply_type {
	POL_SUPPLY_OTHER,   /* Unknown, BrickID, and types this code does not know */
	POL_SUPPLY_BATTERY, /* Battery */
	POL_SUPPLY_MAINS,   /* Mains: an AC adapter */
	POL_SUPPLY_USB,     /* USB and its variants: USB_C, USB_PD, USB_PD_DRP, USB_DCP, ... */
	POL_SUPPLY_UPS,     /* UPS */
	POL_SUPPLY_WIRELESS /* Wireless */
};

enum pol_status {
	POL_STATUS_UNKNOWN, /* Unknown, or a word this code does not know */
	POL_STATUS_CHARGING,
	POL_STATUS_DISCHARGING,
	POL_STATUS_NOT_CHARGING,
	POL_STATUS_FULL,
};

/* Where a battery's level came from. */
enum pol_level_source {
	POL_LEVEL_NONE,     /* not a battery, or absent */
	POL_LEVEL_CAPACITY, /* capacity */
	POL_LEVEL_ENERGY,   /* energy_now / energy_full */
	POL_LEVEL_CHARGE,   /* charge_now / charge_full */
};

/* The unit of a battery's weight in the combined level. */
enum pol_weight_unit {
	POL_WEIGHT_NONE,   /* size unknown */
	POL_WEIGHT_ENERGY, /* µWh: energy_full, or charge_full × voltage_min_design */
	POL_WEIGHT_CHARGE, /* µAh: charge_full without a voltage */
};

struct pol_supply {
	char name[POL_NAME_MAX]; /* the directory name: "BAT0", "AC", "ucsi-source-psy-..." */
	enum pol_supply_type type;
	bool device_scope; /* scope is "Device": a peripheral's battery, ignored by the summary */
	bool online;       /* non-battery: online > 0 (USB "2" = programmable counts too) */
	bool present;      /* battery: present != 0 (true when the file is absent) */
	enum pol_status status;           /* battery */
	int capacity;                     /* battery: percent 0..100; -1 when not present */
	enum pol_level_source level_from; /* battery */
	uint64_t weight;                  /* battery: its size in weight_unit, 0 if unknown */
	enum pol_weight_unit weight_unit;
};

struct pol_power {
	/* The summary the decision uses (system-scope supplies only). */
	bool ac_online;       /* a Mains/USB/UPS/Wireless/other supply is online */
	bool have_battery;    /* at least one present battery */
	bool charging;        /* a battery is Charging */
	bool full;            /* every present battery is Full */
	bool discharging;     /* a battery is Discharging, or off AC and not Charging/Full */
	int capacity;         /* combined percent 0..100; -1 without a present battery */
	unsigned n_batteries; /* present system batteries */

	/* Every supply read, sorted by name (peripherals included, so status can show them). */
	size_t n_supplies;
	bool truncated; /* more than POL_SUPPLY_MAX supplies: the rest were not read */
	struct pol_supply supplies[POL_SUPPLY_MAX];
};

/*
 * Reads every supply under root_fd/class/power_supply into *ret (about 1.5 KiB). A missing
 * class/power_supply directory reads as no supply at all (a desktop or a VM). A supply whose
 * directory vanishes while it is read (unplugged) is left out. trace (borrowed, may be NULL)
 * gets every file read.
 *
 * 0; -errno with *ret untouched: -ENOENT (a required file — type, status, a battery's level —
 * is missing from a supply that still exists), -EINVAL/-ERANGE (garbage, empty or huge value;
 * a capacity above 200 %), -ENODATA/-EIO/... (the driver gave no value), -ENOTDIR/-EACCES
 * (class/power_supply unusable), -EINVAL (bad arguments).
 */
int pol_power_read(int root_fd, struct pol_power *ret, struct pol_trace *trace);

/* Static names ("Battery", "Discharging", ...) for status and logs; "?" when out of range. */
const char *pol_supply_type_to_string(enum pol_supply_type t);
const char *pol_status_to_string(enum pol_status s);
