/* SPDX-License-Identifier: MIT */
/* daemon/wisdom.c: where FFTW wisdom lives between runs, and loading and saving it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/wisdom.h"
#include "dsp/fft.h"

#define WISDOM_NAME "fftw-wisdom"

/*
 * path and its missing parents as directories (mode 0700: a user's state is private); 0 when it
 * is a directory in the end, else -errno.
 */
static int make_dirs(char *path)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			int r = -errno;

			*p = '/';
			return r;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int wisdom_state_path(const char *name, char *buf, size_t size)
{
	const char *state = getenv("STATE_DIRECTORY"), *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	char dir[PATH_MAX];
	int n, r;

	if (state && state[0] == '/')
		/* systemd may pass several, separated by ':': ours is the first */
		n = snprintf(dir, sizeof(dir), "%.*s", (int)strcspn(state, ":"), state);
	else if (xdg && xdg[0] == '/')
		n = snprintf(dir, sizeof(dir), "%s/echoeld", xdg);
	else if (home && home[0] == '/')
		n = snprintf(dir, sizeof(dir), "%s/.local/state/echoeld", home);
	else
		return -ENOENT;
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -ENAMETOOLONG;
	r = make_dirs(dir);
	if (r < 0) {
		/* it costs speed (FFTs and layouts measured again), never the run */
		log_debug("no state directory '%s': %s", dir, strerror(-r));
		return r;
	}
	n = snprintf(buf, size, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

void wisdom_load(void)
{
	char path[PATH_MAX];
	int r;

	if (wisdom_state_path(WISDOM_NAME, path, sizeof(path)) < 0)
		return;
	r = dsp_fft_wisdom_load(path);
	if (r == -ENOENT)
		log_debug("no FFTW wisdom in '%s' yet", path);
	else if (r < 0)
		log_warning("cannot load FFTW wisdom from '%s': %s, ignoring", path, strerror(-r));
	else
		log_info("loaded FFTW wisdom from '%s'", path);
}

void wisdom_save(void)
{
	char path[PATH_MAX];
	int r;

	if (wisdom_state_path(WISDOM_NAME, path, sizeof(path)) < 0)
		return;
	r = dsp_fft_wisdom_save(path);
	if (r < 0)
		log_warning("cannot save FFTW wisdom to '%s': %s, ignoring", path, strerror(-r));
	else
		log_debug("saved FFTW wisdom to '%s'", path);
}
