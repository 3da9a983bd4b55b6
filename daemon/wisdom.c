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

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int wisdom_state_path(const char *name, char *buf, size_t size)
{
	const char *state = getenv("STATE_DIRECTORY"), *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	char dir[PATH_MAX];
	int n;

	if (state && state[0] == '/')
		/* systemd may pass several, separated by ':': ours is the first */
		n = snprintf(dir, sizeof(dir), "%.*s", (int)strcspn(state, ":"), state);
	else if (geteuid() == 0)
		n = snprintf(dir, sizeof(dir), "/var/lib/echoeld");
	else if (xdg && xdg[0] == '/')
		n = snprintf(dir, sizeof(dir), "%s/echoeld", xdg);
	else if (home && home[0] == '/')
		n = snprintf(dir, sizeof(dir), "%s/.local/state/echoeld", home);
	else
		return -ENOENT;
	if (n < 0 || (size_t)n >= sizeof(dir) || !is_dir(dir))
		return -ENOENT;
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
