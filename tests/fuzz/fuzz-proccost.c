/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the /proc readers of daemon/proc-cost.h: any bytes, as a status file or
 * a schedstat line, are read or refused without reading past the length given (the input is
 * copied to a buffer of exactly its size, so ASan sees any read beyond it) — /proc text is not
 * NUL-terminated when read(2) fills the buffer. A status read whole equals the one read in two
 * parts only when the cut falls between lines, so no invariant is drawn across cuts; a read
 * that succeeds leaves the fields it did not find at 0.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/proc-cost.h"

#define FUZZ_MAX_INPUT (16 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcost_status st;
	uint64_t ns;
	char *text;

	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	if (pcost_parse_status(text, size, &st) == 0 && !memmem(text, size, "VmRSS", 5) &&
	    st.rss_bytes)
		abort(); /* a field read from nowhere */
	(void)pcost_parse_schedstat(text, size, &ns);
	free(text);
	return 0;
}
