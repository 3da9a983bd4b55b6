/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz-layouts.c: libFuzzer target for the parsers of convolver layouts — the
 * layout text of a fir node's `layout` key and of the remembered layouts file
 * (dsp_fir_layout_parse) and that file's lines (fir_layouts_parse_line, daemon/fir-layouts.h).
 *
 * Each input is one line (a NUL-terminated copy of the bytes). Besides crashes, out-of-bounds
 * reads and UB, it checks what the convolver relies on: a layout that parses passes
 * dsp_fir_layout_check(), prints back to text that parses to the same layout, and holds its
 * taps; an entry that parses has a layout of its block holding its taps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/fir-layouts.h"
#include "dsp/fir-layout.h"
#include "tests/fuzz/fuzz-text.h"

/* A file line is at most a few hundred bytes; longer inputs only make each run slower. */
#define FUZZ_MAX_INPUT 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_layout(const struct dsp_fir_layout *l)
{
	struct dsp_fir_layout again;
	char text[1024];

	if (dsp_fir_layout_check(l) < 0)
		abort();
	if (dsp_fir_layout_format(l, text, sizeof(text)) >= (int)sizeof(text))
		abort(); /* twelve segments always fit */
	if (dsp_fir_layout_parse(text, &again) < 0 || memcmp(l, &again, sizeof(again)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsp_fir_layout l;
	struct fir_layouts_entry e;
	char *line;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	line = fuzz_text(data, size);
	if (!line)
		return 0;
	memset(&l, 0, sizeof(l));
	if (dsp_fir_layout_parse(line, &l) == 0)
		check_layout(&l);
	if (fir_layouts_parse_line(line, &e) == 0) {
		check_layout(&e.layout);
		if (e.layout.block != e.block || dsp_fir_layout_get_taps(&e.layout) < e.taps)
			abort();
	}
	free(line);
	return 0;
}
