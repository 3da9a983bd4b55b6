/* SPDX-License-Identifier: MIT */
/*
 * policy/trace.c: the fixed-size record of files and values the readers read (trace.h).
 */
#include <stdio.h>
#include <string.h>

#include "policy/trace.h"

void pol_trace_reset(struct pol_trace *t)
{
	if (!t)
		return;
	t->n_entries = 0;
	t->dropped = 0;
}

/* Copies value without its surrounding blanks and control bytes, cut to fit. */
static void copy_value(char *dst, size_t size, const char *v)
{
	size_t n, k = 0;

	while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
		v++;
	n = strlen(v);
	while (n > 0 &&
	       (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\n' || v[n - 1] == '\r'))
		n--;
	for (size_t i = 0; i < n && k + 1 < size; i++) {
		unsigned char c = (unsigned char)v[i];

		dst[k++] = c >= 0x20 && c <= 0x7e ? (char)c : '?';
	}
	dst[k] = '\0';
}

void pol_trace_add(struct pol_trace *t, const char *dir, const char *file, const char *value,
		   int error)
{
	struct pol_trace_entry *e;

	if (!t)
		return;
	if (t->n_entries >= POL_TRACE_MAX) {
		t->dropped++;
		return;
	}
	e = &t->entries[t->n_entries++];
	if (dir && *dir && file)
		snprintf(e->path, sizeof(e->path), "%s/%s", dir, file);
	else
		snprintf(e->path, sizeof(e->path), "%s", file ? file : dir ? dir : "");
	e->value[0] = '\0';
	if (value && error == 0)
		copy_value(e->value, sizeof(e->value), value);
	e->error = error;
}
