/* SPDX-License-Identifier: MIT */
/*
 * daemon/wisdom.h: FFTW wisdom kept across restarts, so a restarted daemon does not measure its
 * transforms again (planning a 64k-point FFT with FFTW_MEASURE takes long enough to delay the
 * first cycle). The file is `fftw-wisdom` in the state directory:
 *   $STATE_DIRECTORY (systemd's StateDirectory=), else
 *   $XDG_STATE_HOME/echoeld, else ~/.local/state/echoeld,
 * created (mode 0700, with its parents) when missing. One that cannot be created or written
 * costs speed (transforms and convolver layouts measured again), never a run. Thread: control.
 * Both calls log what they did.
 */
#pragma once

#include <stddef.h>

/*
 * The path of the file called name in the state directory (where the wisdom lives) into buf,
 * the directory made when missing; -ENOENT (no $HOME either), -ENAMETOOLONG, or the -errno of
 * making it.
 */
int wisdom_state_path(const char *name, char *buf, size_t size);

/* Merges the saved wisdom into the process's; a missing file is normal. Call before planning. */
void wisdom_load(void);

/* Saves the process's wisdom (atomically), e.g. after the engine planned new sizes. */
void wisdom_save(void);
