/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for audio files as a player reads them: each input is written to a file
 * and put through the sample cache (daemon/disk/cache.h) — libsndfile's parse, our checks
 * (channels, frames, the rate), soxr when the rate is not 48 kHz, the decoded file written
 * and read back — as a `file = ...` of a player would. Any input is decoded or refused with a
 * message naming the file; nothing may crash, overflow or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/el-error.h"
#include "daemon/disk/cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];
static char path[4200];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct disk_cache_entry e;
	struct el_error err = {0};
	float frames[64 * 4];
	FILE *f;

	if (!path[0]) {
		/* $TMPDIR as the cache's unnamed files use it: a campaign on tmpfs runs several
		 * times faster than on a disk, which every input's write and close would wait for
		 */
		const char *tmp = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%s/fuzz-audio-XXXXXX",
			 tmp && tmp[0] == '/' ? tmp : "/tmp");
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/in", dir);
	}
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	/* no cache directory: decoded into an unnamed file, used once */
	if (disk_cache_prepare(NULL, path, NULL, 48000, NULL, &e, &err) == 0) {
		uint64_t n = e.frames < 4 ? e.frames : 4;

		if (disk_cache_read(&e, 0, n, frames) < 0 ||
		    disk_cache_read(&e, e.frames - n, n, frames) < 0)
			abort(); /* what the header says is there must be there */
		disk_cache_entry_done(&e);
	}
	return 0;
}
