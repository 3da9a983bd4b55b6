/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/eq-file.h: equalizer settings in the text format Room EQ Wizard and AutoEQ
 * export, read into biquad bands.
 *
 *   Preamp: -6.2 dB
 *   Filter 1: ON PK Fc 105 Hz Gain -2.6 dB Q 0.70
 *   Filter 2: ON LSC Fc 105 Hz Gain 5.0 dB Q 0.70
 *   Filter 3: OFF HP Fc 20 Hz
 *
 * Types: PK/PEQ (peaking), LS/LSC/LSQ (low shelf), HS/HSC/HSQ (high shelf), LP/LPQ (low-pass),
 * HP/HPQ (high-pass), BP (band-pass), NO (notch), AP (all-pass); `Gain` where the type has one,
 * `Q` (default 0.7071 where a type may go without: the shelves, LP, HP). OFF filters and REW's
 * unused `None` slots are skipped. Lines that begin with neither `Filter N` nor `Preamp:` (REW's
 * header: "Filter Settings file", the version, date, notes, equaliser name) are ignored; a
 * `Filter N` or `Preamp:` line that does not read is an error naming the file and line.
 *
 * Threads: any (no state).
 */
#pragma once

#include <stddef.h>

#include "dsp/biquad.h"

struct el_error;

struct eq_file {
	struct dsp_biquad_params band[DSP_BIQUAD_MAX_SECTIONS];
	size_t n_bands;
	double preamp_db; /* 0 when the file has none */
};

/*
 * Reads text (the file's contents, NUL-terminated; name for messages) for an engine at rate Hz.
 * 0 with *ret filled; -EINVAL with `NAME:LINE: reason` (a type we do not know, a frequency not
 * below rate/2, a Q or gain out of range, more than DSP_BIQUAD_MAX_SECTIONS filters).
 */
int eq_file_parse(const char *text, const char *name, double rate, struct eq_file *ret,
		  struct el_error *reterr);

/*
 * Reads the file at path (resolved already) as eq_file_parse(); -errno naming it if unreadable.
 * beneath (borrowed; NULL: none): the directories it must lie beneath, a file a client named
 * (daemon/fs/beneath.h).
 */
int eq_file_load(const char *path, const char *const *beneath, double rate, struct eq_file *ret,
		 struct el_error *reterr);
