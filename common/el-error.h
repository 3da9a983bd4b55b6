/* SPDX-License-Identifier: MIT */
/*
 * el-error.h: an error message buffer that travels with a negative errno.
 *
 * Functions that can fail for a reason a user must read (a config line, a file, a node) take a
 * `struct el_error *reterr` as their last parameter, fill it on failure and return -errno. The
 * caller (the daemon's main, the IPC server) decides where the message goes; library code never
 * logs (style.md §8). reterr may be NULL when the caller does not want the text.
 */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define EL_ERROR_MAX 512

struct el_error {
	int code;                   /* the negative errno that was returned, 0 if none */
	char message[EL_ERROR_MAX]; /* one line, no trailing newline */
};

/* Sets the message (printf-style) and returns code, so `return el_error_set(e, -EINVAL, ...)`. */
__attribute__((format(printf, 3, 4))) static inline int el_error_set(struct el_error *e, int code,
								     const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	e->code = code;
	return code;
}

/* Prepends "prefix: " to an existing message (adding context while unwinding); truncates. */
static inline void el_error_prefix(struct el_error *e, const char *prefix)
{
	char tmp[2 * EL_ERROR_MAX];
	size_t n;

	if (!e)
		return;
	n = (size_t)snprintf(tmp, sizeof(tmp), "%s: %s", prefix, e->message);
	if (n >= sizeof(e->message))
		n = sizeof(e->message) - 1;
	memcpy(e->message, tmp, n);
	e->message[n] = '\0';
}
