/* SPDX-License-Identifier: MIT */
/*
 * daemon/log.c: formatting of log lines. On a terminal a plain "echoeld: message"; otherwise
 * (systemd, a pipe) each line starts with the syslog level as "<N>", which journald reads as
 * the priority (sd-daemon(3)).
 */
#include <stdarg.h>
#include <stdio.h>
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

void el_log_full(int level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "echoeld: %s\n", line);
	else
		fprintf(stderr, "<%d>%s\n", level, line);
}
