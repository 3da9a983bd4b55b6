/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for equalizer files (daemon/nodes/eq-file.h, REW / AutoEQ text): any input
 * either reads into at most 32 bands whose values are in range, or is refused with a message
 * naming the line. Nothing may crash, read out of bounds or leak (ASan/UBSan/LSan); every band
 * read is one dsp/biquad.c can design at the rate it was read for.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-error.h"
#include "daemon/nodes/eq-file.h"
#include "dsp/biquad.h"
#include "tests/fuzz/fuzz-text.h"

#define FUZZ_MAX_INPUT (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const double rates[] = {44100.0, 8000.0};
	char *text;

	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	text = fuzz_text(data, size);
	if (!text)
		return 0;
	for (size_t k = 0; k < 2; k++) {
		struct el_error err = {0};
		struct eq_file f;

		if (eq_file_parse(text, "fuzz.txt", rates[k], &f, &err) < 0) {
			if (!strstr(err.message, "fuzz.txt:"))
				abort(); /* a refusal names the file and line */
			continue;
		}
		if (f.n_bands > DSP_BIQUAD_MAX_SECTIONS)
			abort();
		for (size_t i = 0; i < f.n_bands; i++) {
			struct dsp_biquad_coefs c;

			if (!(f.band[i].freq > 0.0 && f.band[i].freq < rates[k] / 2.0) ||
			    !(f.band[i].q > 0.0))
				abort();
			(void)dsp_biquad_coefs_compute(&f.band[i], rates[k], &c);
		}
	}
	free(text);
	return 0;
}
