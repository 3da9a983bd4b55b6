/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz-text.h: the fuzzer's bytes as the text a parser takes. A parser of text
 * (a config file, a key's value, a line) reads a NUL-terminated string; the bytes come
 * without one.
 */
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A malloc'ed NUL-terminated copy of size bytes of data (the caller frees); NULL without memory. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		return NULL;
	memcpy(text, data, size);
	text[size] = '\0';
	return text;
}
