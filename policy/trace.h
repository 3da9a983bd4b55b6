/* SPDX-License-Identifier: MIT */
/*
 * policy/trace.h: the record of what the policy readers read — which files, which values,
 * which errors — for `status` and `echoelctl policy` to show.
 *
 * A plain fixed-size struct (no allocation): the caller owns it (embedded, static or on the
 * heap: it is about 29 KiB), resets it before a round of reads and passes it to each reader,
 * or passes NULL to record nothing. Entries past POL_TRACE_MAX are counted in `dropped`.
 * Paths are relative to the sysfs root ("class/power_supply/BAT0/capacity"); values are the
 * trimmed text read, cut at POL_TRACE_VALUE_MAX - 1 bytes.
 *
 * Pure. Thread: whichever thread owns the struct; no internal locking.
 */
#pragma once

#include <stddef.h>

#define POL_TRACE_MAX       192
#define POL_TRACE_PATH_MAX  112
#define POL_TRACE_VALUE_MAX 32

struct pol_trace_entry {
	char path[POL_TRACE_PATH_MAX];   /* relative to the sysfs root, cut if longer */
	char value[POL_TRACE_VALUE_MAX]; /* trimmed text read; "" when error != 0 */
	int error;                       /* 0, or the -errno the read or the parse gave */
};

struct pol_trace {
	size_t n_entries;
	size_t dropped; /* entries that did not fit */
	struct pol_trace_entry entries[POL_TRACE_MAX];
};

/* Forgets every entry. Accepts NULL. */
void pol_trace_reset(struct pol_trace *t);

/*
 * Appends "dir/file" (either may be NULL or "": the path is the other alone) with value
 * (borrowed, may be NULL; raw text, trimmed here) or error. Accepts t == NULL (records
 * nothing).
 */
void pol_trace_add(struct pol_trace *t, const char *dir, const char *file, const char *value,
		   int error);
