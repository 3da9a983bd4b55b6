/* SPDX-License-Identifier: MIT */
/*
 * daemon/log.h: the daemon's log — one line per message on stderr, which systemd's journal
 * collects. Only daemon/ logs; libraries return errors (style.md §8). Never called on the RT
 * thread: it formats text.
 */
#pragma once

#include <syslog.h>

/* Messages above this level (LOG_ERR .. LOG_DEBUG) are dropped before formatting. */
void el_log_set_max_level(int level);
int el_log_get_max_level(void);

void el_log_full(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Tests the level before evaluating the arguments (Redis serverLog). */
#define el_log(level, ...)                                                                         \
	do {                                                                                       \
		if ((level) <= el_log_get_max_level())                                             \
			el_log_full((level), __VA_ARGS__);                                         \
	} while (0)

#define log_error(...)   el_log(LOG_ERR, __VA_ARGS__)
#define log_warning(...) el_log(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  el_log(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)    el_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...)   el_log(LOG_DEBUG, __VA_ARGS__)
