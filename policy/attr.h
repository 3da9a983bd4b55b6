/* SPDX-License-Identifier: MIT */
/*
 * policy/attr.h: internal to policy/ — read one attribute of a device directory, parse it and
 * record path, value or error in the trace. The readers (power.c, profile.c, thermal.c) are
 * written in terms of these.
 *
 * tdir is the device directory's path relative to the sysfs root, used only for the trace.
 * With ATTR_OPTIONAL a missing file (-ENOENT) is returned but not recorded: the readers probe
 * several optional attributes and the trace should show what exists.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pol_trace;

enum {
	POL_ATTR_REQUIRED = 0,
	POL_ATTR_OPTIONAL = 1,
};

int pol_attr_u64(int dir_fd, const char *tdir, const char *file, int flags, uint64_t *ret,
		 struct pol_trace *t);
int pol_attr_s64(int dir_fd, const char *tdir, const char *file, int flags, int64_t *ret,
		 struct pol_trace *t);
int pol_attr_word(int dir_fd, const char *tdir, const char *file, int flags, char *ret, size_t size,
		  struct pol_trace *t);
/* -ENOMSG (a word not in names) is recorded with the word as value, not as an error. */
int pol_attr_enum(int dir_fd, const char *tdir, const char *file, int flags,
		  const char *const *names, size_t n_names, unsigned *ret, struct pol_trace *t);

/*
 * True for the errors a driver gives when it has no value right now (a sensor powered down,
 * a gauge not yet calibrated): -ENODATA, -EAGAIN, -EIO, -ENODEV, -ENXIO. The readers skip what
 * gives them instead of failing the whole read; a missing file or a garbage value still fails.
 */
bool pol_attr_unavailable(int r);

/* Copies the string src into dst (size >= 1 bytes), cut to fit: names are only shown. */
static inline void pol_copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}
