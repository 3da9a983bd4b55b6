/* SPDX-License-Identifier: MIT */
/*
 * policy/power.c: the power_supply reader (power.h). Non-logging, allocation-free.
 *
 * DESIGN: a device can vanish between listing the class directory and reading its files
 * (a battery pulled, a USB charger unplugged). A missing required file is therefore checked
 * against the device directory: if the directory is gone too, the device is left out as if it
 * had never been listed; if it is still there, the file really is missing and the read fails.
 * A driver that has no value right now (-ENODATA, -EIO, ...) costs its attribute, not the read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/el-macros.h"
#include "policy/attr.h"
#include "policy/enumdir.h"
#include "policy/power.h"
#include "policy/sysfs.h"
#include "policy/trace.h"

#define CLASS_DIR "class/power_supply"

/* Read as percent; firmware sometimes reports a little above 100, garbage is far above. */
#define CAPACITY_MAX_ACCEPTED 200

/* Returned by the per-supply readers: the supply vanished, leave it out. */
#define SKIP 1

static const char *const status_names[] = {
	[POL_STATUS_UNKNOWN] = "Unknown",
	[POL_STATUS_CHARGING] = "Charging",
	[POL_STATUS_DISCHARGING] = "Discharging",
	[POL_STATUS_NOT_CHARGING] = "Not charging",
	[POL_STATUS_FULL] = "Full",
};

static const char *const type_names[] = {
	[POL_SUPPLY_OTHER] = "Other", [POL_SUPPLY_BATTERY] = "Battery",
	[POL_SUPPLY_MAINS] = "Mains", [POL_SUPPLY_USB] = "USB",
	[POL_SUPPLY_UPS] = "UPS",     [POL_SUPPLY_WIRELESS] = "Wireless",
};

const char *pol_supply_type_to_string(enum pol_supply_type t)
{
	return (unsigned)t < EL_N_ELEMENTS(type_names) ? type_names[t] : "?";
}

const char *pol_status_to_string(enum pol_status s)
{
	return (unsigned)s < EL_N_ELEMENTS(status_names) ? status_names[s] : "?";
}

static enum pol_supply_type type_from_word(const char *w)
{
	if (strcmp(w, "Battery") == 0)
		return POL_SUPPLY_BATTERY;
	if (strcmp(w, "Mains") == 0)
		return POL_SUPPLY_MAINS;
	if (strncmp(w, "USB", 3) == 0)
		return POL_SUPPLY_USB;
	if (strcmp(w, "UPS") == 0)
		return POL_SUPPLY_UPS;
	if (strcmp(w, "Wireless") == 0)
		return POL_SUPPLY_WIRELESS;
	return POL_SUPPLY_OTHER;
}

/* r is -ENOENT from a required file of class/<name>: is the whole device gone? */
static bool vanished(int class_fd, const char *name, int r)
{
	return r == -ENOENT && faccessat(class_fd, name, F_OK, 0) < 0 && errno == ENOENT;
}

/* now/full as a percent (floor), or -1 when full is 0. */
static int percent_of(uint64_t now, uint64_t full)
{
	if (full == 0)
		return -1;
	if (now >= full)
		return 100;
	return (int)((double)now * 100.0 / (double)full);
}

/* A now/full pair: 0 with *pct; -ENOENT when either is missing; other -errno. */
static int read_pair(int dfd, const char *tdir, const char *now_name, const char *full_name,
		     int *pct, struct pol_trace *t)
{
	uint64_t now, full;
	int r;

	if ((r = pol_attr_u64(dfd, tdir, now_name, POL_ATTR_OPTIONAL, &now, t)) < 0 ||
	    (r = pol_attr_u64(dfd, tdir, full_name, POL_ATTR_OPTIONAL, &full, t)) < 0)
		return r;
	*pct = percent_of(now, full);
	return *pct < 0 ? -ENODATA : 0;
}

/*
 * The battery's level: capacity, else energy_*, else charge_*. A missing or unavailable source
 * falls through to the next; garbage fails at once. When none gives a level, the first error.
 */
static int read_level(int dfd, const char *tdir, struct pol_supply *s, struct pol_trace *t)
{
	uint64_t cap;
	int r, first;

	r = pol_attr_u64(dfd, tdir, "capacity", POL_ATTR_OPTIONAL, &cap, t);
	if (r == 0) {
		if (cap > CAPACITY_MAX_ACCEPTED)
			return -ERANGE;
		s->capacity = (int)EL_MIN(cap, 100u);
		s->level_from = POL_LEVEL_CAPACITY;
		return 0;
	}
	if (r != -ENOENT && !pol_attr_unavailable(r))
		return r;
	first = r;
	r = read_pair(dfd, tdir, "energy_now", "energy_full", &s->capacity, t);
	if (r == 0) {
		s->level_from = POL_LEVEL_ENERGY;
		return 0;
	}
	if (r != -ENOENT && !pol_attr_unavailable(r))
		return r;
	r = read_pair(dfd, tdir, "charge_now", "charge_full", &s->capacity, t);
	if (r == 0) {
		s->level_from = POL_LEVEL_CHARGE;
		return 0;
	}
	if (r != -ENOENT && !pol_attr_unavailable(r))
		return r;
	s->capacity = -1;
	return first;
}

/* The battery's size for weighting; unknown is not an error (the levels are then averaged). */
static int read_weight(int dfd, const char *tdir, struct pol_supply *s, struct pol_trace *t)
{
	uint64_t full, volt, w;
	int r;

	r = pol_attr_u64(dfd, tdir, "energy_full", POL_ATTR_OPTIONAL, &full, t);
	if (r == 0 && full > 0) {
		s->weight = full;
		s->weight_unit = POL_WEIGHT_ENERGY;
		return 0;
	}
	if (r < 0 && r != -ENOENT && !pol_attr_unavailable(r))
		return r;
	r = pol_attr_u64(dfd, tdir, "charge_full", POL_ATTR_OPTIONAL, &full, t);
	if (r < 0)
		return r == -ENOENT || pol_attr_unavailable(r) ? 0 : r;
	if (full == 0)
		return 0;
	s->weight = full;
	s->weight_unit = POL_WEIGHT_CHARGE;
	r = pol_attr_u64(dfd, tdir, "voltage_min_design", POL_ATTR_OPTIONAL, &volt, t);
	if (r < 0)
		return r == -ENOENT || pol_attr_unavailable(r) ? 0 : r;
	/* µAh × µV / 10^6 = µWh; an overflow is garbage, and leaves the weight in charge. */
	if (volt > 0 && !__builtin_mul_overflow(full, volt, &w) && w / 1000000u > 0) {
		s->weight = w / 1000000u;
		s->weight_unit = POL_WEIGHT_ENERGY;
	}
	return 0;
}

static int read_battery(int dfd, const char *tdir, struct pol_supply *s, struct pol_trace *t)
{
	uint64_t present;
	unsigned st;
	int r;

	r = pol_attr_u64(dfd, tdir, "present", POL_ATTR_OPTIONAL, &present, t);
	if (r < 0 && r != -ENOENT && !pol_attr_unavailable(r))
		return r;
	s->present = r < 0 || present != 0;
	s->capacity = -1;
	if (!s->present)
		return 0;
	r = pol_attr_enum(dfd, tdir, "status", POL_ATTR_REQUIRED, status_names,
			  EL_N_ELEMENTS(status_names), &st, t);
	if (r == 0)
		s->status = (enum pol_status)st;
	else if (r != -ENOMSG && !pol_attr_unavailable(r))
		return r;
	r = read_level(dfd, tdir, s, t);
	if (r < 0)
		return r;
	return read_weight(dfd, tdir, s, t);
}

/* One supply: 0 with *s filled; SKIP when it vanished (or is not a directory); -errno. */
static int read_supply(int class_fd, const char *name, struct pol_supply *s, struct pol_trace *t)
{
	char tdir[sizeof(CLASS_DIR) + POL_ENTRY_NAME_MAX + 1], word[POL_VALUE_MAX];
	uint64_t online;
	int dfd, r;

	snprintf(tdir, sizeof(tdir), "%s/%s", CLASS_DIR, name);
	*s = (struct pol_supply){.capacity = -1};
	pol_copy_cut(s->name, sizeof(s->name), name);
	dfd = pol_opendir_at(class_fd, name);
	if (dfd == -ENOENT || dfd == -ENOTDIR)
		return SKIP;
	if (dfd < 0)
		return dfd;
	r = pol_attr_word(dfd, tdir, "type", POL_ATTR_REQUIRED, word, sizeof(word), t);
	if (r < 0)
		goto out;
	s->type = type_from_word(word);
	r = pol_attr_word(dfd, tdir, "scope", POL_ATTR_OPTIONAL, word, sizeof(word), t);
	if (r >= 0)
		s->device_scope = strcmp(word, "Device") == 0;
	else if (r != -ENOENT && !pol_attr_unavailable(r))
		goto out;
	if (s->type == POL_SUPPLY_BATTERY) {
		r = read_battery(dfd, tdir, s, t);
	} else {
		r = pol_attr_u64(dfd, tdir, "online", POL_ATTR_OPTIONAL, &online, t);
		s->online = r == 0 && online > 0;
		if (r == -ENOENT || pol_attr_unavailable(r))
			r = 0;
	}
out:
	close(dfd);
	if (vanished(class_fd, name, r))
		return SKIP;
	return r < 0 ? r : 0;
}

/* The summary of the system-scope supplies (power.h). */
static void summarize(struct pol_power *p)
{
	uint64_t wsum[3] = {0};
	double acc[3] = {0};
	unsigned n_unit[3] = {0}, n_level = 0, n_full = 0;
	double mean = 0;

	for (size_t i = 0; i < p->n_supplies; i++) {
		const struct pol_supply *s = &p->supplies[i];

		if (s->device_scope)
			continue;
		if (s->type != POL_SUPPLY_BATTERY) {
			p->ac_online |= s->online;
			continue;
		}
		if (!s->present)
			continue;
		p->n_batteries++;
		p->charging |= s->status == POL_STATUS_CHARGING;
		p->discharging |= s->status == POL_STATUS_DISCHARGING;
		n_full += s->status == POL_STATUS_FULL;
		if (s->capacity < 0)
			continue;
		n_level++;
		mean += s->capacity;
		n_unit[s->weight_unit]++;
		wsum[s->weight_unit] += s->weight;
		acc[s->weight_unit] += (double)s->capacity * (double)s->weight;
	}
	p->have_battery = p->n_batteries > 0;
	p->full = p->have_battery && n_full == p->n_batteries;
	if (p->have_battery && !p->ac_online && !p->charging && !p->full)
		p->discharging = true;
	p->capacity = -1;
	if (n_level == 0)
		return;
	/* One unit for every battery: weight by size. Mixed or unknown sizes: plain mean. */
	if (n_unit[POL_WEIGHT_ENERGY] == n_level && wsum[POL_WEIGHT_ENERGY] > 0)
		p->capacity = (int)(acc[POL_WEIGHT_ENERGY] / (double)wsum[POL_WEIGHT_ENERGY]);
	else if (n_unit[POL_WEIGHT_CHARGE] == n_level && wsum[POL_WEIGHT_CHARGE] > 0)
		p->capacity = (int)(acc[POL_WEIGHT_CHARGE] / (double)wsum[POL_WEIGHT_CHARGE]);
	else
		p->capacity = (int)(mean / n_level);
	p->capacity = EL_MIN(EL_MAX(p->capacity, 0), 100);
}

int pol_power_read(int root_fd, struct pol_power *ret, struct pol_trace *trace)
{
	struct pol_entry names[POL_SUPPLY_MAX];
	struct pol_power p = {0};
	int n, class_fd, r = 0;

	if (!ret)
		return -EINVAL;
	n = pol_enumdir(root_fd, CLASS_DIR, "", names, EL_N_ELEMENTS(names));
	if (n == -ENOENT) {
		pol_trace_add(trace, CLASS_DIR, NULL, NULL, n);
		summarize(&p);
		*ret = p;
		return 0;
	}
	if (n < 0)
		return n;
	p.truncated = (size_t)n > EL_N_ELEMENTS(names);
	class_fd = pol_opendir_at(root_fd, CLASS_DIR);
	if (class_fd < 0)
		return class_fd;
	for (size_t i = 0; i < EL_MIN((size_t)n, EL_N_ELEMENTS(names)); i++) {
		r = read_supply(class_fd, names[i].name, &p.supplies[p.n_supplies], trace);
		if (r < 0)
			break;
		if (r == 0)
			p.n_supplies++;
		r = 0;
	}
	close(class_fd);
	if (r < 0)
		return r;
	summarize(&p);
	*ret = p;
	return 0;
}
