/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend/offline.h: `echoeld render` — runs the engine over an input audio file into
 * an output file as fast as the CPU allows (libsndfile reads and writes every format it knows).
 *
 * The input file's channels feed the graph's input nodes in config order; the output file gets
 * the output nodes' channels. The output has the input's length and rate; its container comes
 * from its name's extension, its sample format from out_format. Thread: control (it is the RT
 * thread of its own little world).
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct eng_engine;
struct el_pacer;
struct el_error;

enum offline_format {
	OFFLINE_FORMAT_SAME, /* the input file's container and sample format */
	OFFLINE_FORMAT_PCM16,
	OFFLINE_FORMAT_PCM24,
	OFFLINE_FORMAT_PCM32,
	OFFLINE_FORMAT_FLOAT,
};

struct offline_file_info {
	int format; /* libsndfile's SF_FORMAT_* container | sample format */
	uint32_t rate;
	unsigned channels;
	uint64_t frames;
};

/* Reads the header of path. 0; -errno with `'PATH': reason` in reterr. */
int offline_probe(const char *path, struct offline_file_info *ret, struct el_error *reterr);

/*
 * The libsndfile format for out_path: the container by its extension (.wav, .flac, .w64, .rf64,
 * .aiff/.aif, .ogg; any case), the sample format by f (OFFLINE_FORMAT_SAME: in's; Vorbis for
 * .ogg), checked with sf_format_check() for in's rate and channels. 0 with *ret_format; -EINVAL
 * with a message naming out_path and what is possible (the extensions, or the --format values
 * the container takes).
 */
int offline_output_format(const struct offline_file_info *in, const char *out_path,
			  enum offline_format f, int *ret_format, struct el_error *reterr);

/*
 * Refuses an out_path that names the file in_path names (the same inode: another path, a hard
 * link, a symlink), which writing would destroy before it was read. 0 when they differ or
 * out_path does not exist yet; -EEXIST with a message naming both.
 */
int offline_check_distinct(const char *in_path, const char *out_path, struct el_error *reterr);

/* How offline_render() runs. */
struct offline_options {
	int out_format; /* from offline_output_format() */
	bool progress;  /* print a percentage to stderr as it goes */
	/* after the input ends, go on (silent input) until the graph is idle: every filter's
	 * decay written, at most OFFLINE_TAIL_MAX_SECONDS more (a source never falls silent) */
	bool tail;
	/* TPDF dither (dsp/dither.h) of integer output: 1 yes, 2 noise-shaped, 0 no, -1 for 16-bit
	 * output only
	 * (24 bits are below any converter's noise; 32 bits hold more than a float has) */
	int dither;
	const struct el_pacer *pacer; /* told before the first block and after every 50 ms of
				       * work, may sleep; borrowed, NULL for full speed */
	const atomic_int *stop; /* borrowed, may be NULL; checked before every block, non-zero
				 * ends the render with -EINTR */
};

#define OFFLINE_TAIL_MAX_SECONDS 60u

/*
 * Renders in_path through engine (already configured, not driven by any other backend) into
 * out_path as o says (the format checked again for the graph's output channels before anything
 * is written). The samples go to a temporary file beside out_path (`.NAME.XXXXXX`), which is
 * fsync'ed and renamed to out_path only when the render succeeded; on any failure it is
 * removed and a file already named out_path is left as it was. 0; -errno with a message naming
 * the file (unreadable, unwritable, channel counts that do not match the graph, a rate that
 * differs from the engine's, -EINTR interrupted).
 */
int offline_render(struct eng_engine *engine, const char *in_path, const char *out_path,
		   const struct offline_options *o, struct el_error *reterr);
