/* SPDX-License-Identifier: MIT */
/*
 * daemon/config/private.h: how a struct conf is stored, shared by the parser (config.c) and
 * the editor (edit.c). Nothing else includes this.
 *
 * Strings (names, keys, values, origin file names) live in an arena of chunks owned by the
 * conf; sections and entries are arrays that grow by doubling.
 */
#pragma once

#include <stddef.h>

#include "daemon/config/config.h"

struct conf_chunk {
	struct conf_chunk *next;
	size_t used, size;
	char data[];
};

/* A section as stored: the public part, plus the non-const entries it points at. */
struct conf_sec {
	struct conf_section pub; /* pub.entries == entries */
	struct conf_entry *entries;
	size_t capacity;
};

struct conf {
	struct conf_sec *sections;
	size_t n_sections, capacity;
	const char **warnings; /* owned array; the strings live in the arena */
	size_t n_warnings;
	struct conf_chunk *chunks; /* owned: the string arena, newest chunk first */
};

/* Copies n bytes of s (and a NUL) into c's arena; NULL when out of memory. */
char *conf_strndup(struct conf *c, const char *s, size_t n);
