/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-tmpdir.h: a test's private directory under $TMPDIR (else /tmp), made at the
 * start and removed with everything in it at the end.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>

/* A new directory "<tmp>/<name>-XXXXXX" into buf. 0, or -1 (it could not be made). */
static inline int test_tmpdir_make(char *buf, size_t size, const char *name)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(buf, size, "%s/%s-XXXXXX", tmp ? tmp : "/tmp", name);
	return mkdtemp(buf) ? 0 : -1;
}

/* Removes dir and what it holds. 0, or -1. */
static inline int test_tmpdir_remove(const char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}
