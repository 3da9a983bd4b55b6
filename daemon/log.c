/* SPDX-License-Identifier: MIT */
/*
 * daemon/log.c: formatting of log lines. Under systemd (JOURNAL_STREAM names our stderr) each
 * line starts with the syslog level as "<N>", which journald reads as the priority
 * (sd-daemon(3)); anywhere else a plain "echoeld: message" (with "error: "/"warning: ").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"

static int max_level = LOG_INFO;

void el_log_set_max_level(int level)
{
	max_level = level;
}

int el_log_get_max_level(void)
{
	return max_level;
}

/* JOURNAL_STREAM is "DEVICE:INODE" of the journal's stream socket when systemd connected it. */
static int stderr_is_journal(void)
{
	static int cached = -1;
	const char *env;
	unsigned long dev, ino;
	struct stat st;

	if (cached >= 0)
		return cached;
	env = getenv("JOURNAL_STREAM");
	cached = env && sscanf(env, "%lu:%lu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
		 st.st_dev == dev && st.st_ino == ino;
	return cached;
}

void el_log_full(int level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (stderr_is_journal())
		fprintf(stderr, "<%d>%s\n", level, line);
	else
		fprintf(stderr, "echoeld: %s%s\n",
			level <= LOG_ERR       ? "error: "
			: level == LOG_WARNING ? "warning: "
					       : "",
			line);
}
