/* SPDX-License-Identifier: MIT */
/*
 * daemon/wisdom.h: FFTW wisdom kept across restarts, so a restarted daemon does not measure its
 * transforms again (planning a 64k-point FFT with FFTW_MEASURE takes long enough to delay the
 * first cycle). The file is `fftw-wisdom` in the state directory:
 *   $STATE_DIRECTORY (systemd's StateDirectory=), else
 *   /var/lib/echoeld for root, $XDG_STATE_HOME/echoeld or ~/.local/state/echoeld for others,
 * used only when that directory exists: the daemon never creates it, so a test run or a quick
 * try from a build tree leaves nothing behind. Thread: control. Both calls log what they did.
 */
#pragma once

#include <stddef.h>

/*
 * The path of the file called name in the state directory (where the wisdom lives) into buf;
 * -ENOENT when no state directory exists, -ENAMETOOLONG.
 */
int wisdom_state_path(const char *name, char *buf, size_t size);

/* Merges the saved wisdom into the process's; a missing file is normal. Call before planning. */
void wisdom_load(void);

/* Saves the process's wisdom (atomically), e.g. after the engine planned new sizes. */
void wisdom_save(void);
