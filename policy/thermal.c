/* SPDX-License-Identifier: MIT */
/*
 * policy/thermal.c: the thermal zone reader (thermal.h). Non-logging, allocation-free.
 *
 * Vanished zones and drivers without a value are handled as in power.c: a missing required
 * file of a zone whose directory is gone drops the zone; of a zone that still exists, fails the
 * read; "no value right now" errors cost the value, not the read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/el-macros.h"
#include "policy/attr.h"
#include "policy/enumdir.h"
#include "policy/thermal.h"
#include "policy/trace.h"

#define CLASS_DIR   "class/thermal"
#define ZONE_PREFIX "thermal_zone"

/* Listed to find the watched ones among them; a machine has a dozen zones or so. */
#define ZONE_LIST_MAX (4 * POL_ZONE_MAX)

/* Indexed by enum pol_trip_type. */
static const char *const trip_names[] = {
	[POL_TRIP_ACTIVE] = "active",
	[POL_TRIP_PASSIVE] = "passive",
	[POL_TRIP_HOT] = "hot",
	[POL_TRIP_CRITICAL] = "critical",
};

#define SKIP 1

const char *pol_trip_type_to_string(enum pol_trip_type t)
{
	return (unsigned)t < EL_N_ELEMENTS(trip_names) ? trip_names[t] : "?";
}

static bool vanished(int class_fd, const char *name, int r)
{
	return r == -ENOENT && faccessat(class_fd, name, F_OK, 0) < 0 && errno == ENOENT;
}

static bool type_watched(const char *type, const char *const *types, size_t n_types)
{
	if (n_types == 0)
		return true;
	for (size_t i = 0; i < n_types; i++)
		if (types[i] && strcmp(types[i], type) == 0)
			return true;
	return false;
}

/*
 * Trip point i: 0 with *trip set; SKIP (disabled, unknown type, no value now); -ENOENT when
 * there is no trip point i (the end of the list); other -errno.
 */
static int read_trip(int dfd, const char *tdir, unsigned i, struct pol_trip *trip,
		     struct pol_trace *t)
{
	char file[32];
	unsigned type;
	int64_t temp;
	int r;

	snprintf(file, sizeof(file), "trip_point_%u_type", i);
	r = pol_attr_enum(dfd, tdir, file, POL_ATTR_OPTIONAL, trip_names, EL_N_ELEMENTS(trip_names),
			  &type, t);
	if (r == -ENOMSG || pol_attr_unavailable(r))
		return SKIP;
	if (r < 0)
		return r;
	snprintf(file, sizeof(file), "trip_point_%u_temp", i);
	r = pol_attr_s64(dfd, tdir, file, POL_ATTR_REQUIRED, &temp, t);
	if (pol_attr_unavailable(r))
		return SKIP;
	if (r < 0)
		return r == -ENOENT ? -ENODATA : r; /* a type without a temp: not the end */
	if (temp <= 0)
		return SKIP;
	trip->type = (enum pol_trip_type)type;
	trip->temp_mc = temp;
	return 0;
}

static int read_trips(int dfd, const char *tdir, struct pol_zone *z, struct pol_trace *t)
{
	for (unsigned i = 0; i < POL_TRIP_MAX; i++) {
		int r = read_trip(dfd, tdir, i, &z->trips[z->n_trips], t);

		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return r == -ENODATA ? -ENOENT : r;
		if (r == 0)
			z->n_trips++;
	}
	return 0;
}

/* One zone: 0 with *z filled; SKIP (vanished, or not watched); -errno. */
static int read_zone(int class_fd, const char *name, const char *const *types, size_t n_types,
		     struct pol_zone *z, struct pol_trace *t)
{
	char tdir[sizeof(CLASS_DIR) + POL_ENTRY_NAME_MAX + 1], type[POL_VALUE_MAX];
	int dfd, r;

	snprintf(tdir, sizeof(tdir), "%s/%s", CLASS_DIR, name);
	*z = (struct pol_zone){0};
	pol_copy_cut(z->name, sizeof(z->name), name);
	dfd = pol_opendir_at(class_fd, name);
	if (dfd == -ENOENT || dfd == -ENOTDIR)
		return SKIP;
	if (dfd < 0)
		return dfd;
	r = pol_attr_word(dfd, tdir, "type", POL_ATTR_REQUIRED, type, sizeof(type), t);
	if (r < 0)
		goto out;
	if (!type_watched(type, types, n_types)) {
		r = SKIP;
		goto out;
	}
	pol_copy_cut(z->type, sizeof(z->type), type);
	r = pol_attr_s64(dfd, tdir, "temp", POL_ATTR_REQUIRED, &z->temp_mc, t);
	z->has_temp = r == 0;
	if (pol_attr_unavailable(r)) {
		z->temp_error = r;
		r = 0;
	}
	if (r == 0)
		r = read_trips(dfd, tdir, z, t);
out:
	close(dfd);
	if (vanished(class_fd, name, r < 0 ? r : 0))
		return SKIP;
	return r;
}

int pol_thermal_read(int root_fd, const char *const *types, size_t n_types, struct pol_thermal *ret,
		     struct pol_trace *trace)
{
	struct pol_entry names[ZONE_LIST_MAX];
	struct pol_thermal th = {0};
	int n, class_fd, r = 0;

	if (!ret || (!types && n_types > 0))
		return -EINVAL;
	n = pol_enumdir(root_fd, CLASS_DIR, ZONE_PREFIX, names, EL_N_ELEMENTS(names));
	if (n == -ENOENT) {
		pol_trace_add(trace, CLASS_DIR, NULL, NULL, n);
		*ret = th;
		return 0;
	}
	if (n < 0)
		return n;
	th.truncated = (size_t)n > EL_N_ELEMENTS(names);
	class_fd = pol_opendir_at(root_fd, CLASS_DIR);
	if (class_fd < 0)
		return class_fd;
	for (size_t i = 0; i < EL_MIN((size_t)n, EL_N_ELEMENTS(names)); i++) {
		if (th.n_zones == POL_ZONE_MAX) {
			th.truncated = true;
			break;
		}
		r = read_zone(class_fd, names[i].name, types, n_types, &th.zones[th.n_zones],
			      trace);
		if (r < 0)
			break;
		if (r == 0)
			th.n_zones++;
		r = 0;
	}
	close(class_fd);
	if (r < 0)
		return r;
	*ret = th;
	return 0;
}
