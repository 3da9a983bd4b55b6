/* SPDX-License-Identifier: MIT */
/*
 * policy/enumdir.h: internal to policy/ — list the entries of a sysfs class directory, sorted,
 * without allocating, so the readers see devices in a stable order.
 */
#pragma once

#include <stddef.h>

struct pol_trace;

/* Longest entry name kept; longer ones are skipped (no sysfs device name comes close). */
#define POL_ENTRY_NAME_MAX 64

struct pol_entry {
	char name[POL_ENTRY_NAME_MAX];
};

/*
 * Lists dir_fd/relpath: every entry not starting with '.' whose name starts with prefix (may
 * be "" for all), sorted by name with digits compared as numbers (thermal_zone2 before
 * thermal_zone10). At most max entries are kept in ret; returns the number of matching
 * entries (may exceed max: the caller reports truncation); -errno from opening or reading the
 * directory (-ENOENT when it does not exist).
 */
int pol_enumdir(int dir_fd, const char *relpath, const char *prefix, struct pol_entry *ret,
		size_t max);

/* Opens dir_fd/relpath as a directory (O_PATH is not enough: we openat below it). fd or -errno. */
int pol_opendir_at(int dir_fd, const char *relpath);
