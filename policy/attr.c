/* SPDX-License-Identifier: MIT */
/*
 * policy/attr.c: read-parse-record helpers shared by the policy readers (attr.h).
 */
#include <errno.h>

#include "policy/attr.h"
#include "policy/sysfs.h"
#include "policy/trace.h"

/* Reads the text and records a read failure; the parse result is recorded by the caller. */
static int read_raw(int dir_fd, const char *tdir, const char *file, int flags, char *buf,
		    size_t size, struct pol_trace *t)
{
	int n = pol_read_text(dir_fd, file, buf, size);

	if (n < 0 && !(n == -ENOENT && (flags & POL_ATTR_OPTIONAL)))
		pol_trace_add(t, tdir, file, NULL, n);
	return n;
}

static void record(struct pol_trace *t, const char *tdir, const char *file, const char *buf, int r)
{
	pol_trace_add(t, tdir, file, buf, r);
}

int pol_attr_u64(int dir_fd, const char *tdir, const char *file, int flags, uint64_t *ret,
		 struct pol_trace *t)
{
	char buf[POL_VALUE_MAX];
	int n = read_raw(dir_fd, tdir, file, flags, buf, sizeof(buf), t), r;

	if (n < 0)
		return n;
	r = pol_parse_u64(buf, (size_t)n, ret);
	record(t, tdir, file, buf, r);
	return r;
}

int pol_attr_s64(int dir_fd, const char *tdir, const char *file, int flags, int64_t *ret,
		 struct pol_trace *t)
{
	char buf[POL_VALUE_MAX];
	int n = read_raw(dir_fd, tdir, file, flags, buf, sizeof(buf), t), r;

	if (n < 0)
		return n;
	r = pol_parse_s64(buf, (size_t)n, ret);
	record(t, tdir, file, buf, r);
	return r;
}

int pol_attr_word(int dir_fd, const char *tdir, const char *file, int flags, char *ret, size_t size,
		  struct pol_trace *t)
{
	char buf[POL_VALUE_MAX];
	int n = read_raw(dir_fd, tdir, file, flags, buf, sizeof(buf), t), r;

	if (n < 0)
		return n;
	r = pol_parse_word(buf, (size_t)n, ret, size);
	record(t, tdir, file, buf, r < 0 ? r : 0);
	return r;
}

int pol_attr_enum(int dir_fd, const char *tdir, const char *file, int flags,
		  const char *const *names, size_t n_names, unsigned *ret, struct pol_trace *t)
{
	char buf[POL_VALUE_MAX];
	int n = read_raw(dir_fd, tdir, file, flags, buf, sizeof(buf), t), r;

	if (n < 0)
		return n;
	r = pol_parse_enum(buf, (size_t)n, names, n_names, ret);
	record(t, tdir, file, buf, r == -ENOMSG ? 0 : r);
	return r;
}

bool pol_attr_unavailable(int r)
{
	return r == -ENODATA || r == -EAGAIN || r == -EIO || r == -ENODEV || r == -ENXIO;
}
