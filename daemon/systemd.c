/* SPDX-License-Identifier: MIT */
/* daemon/systemd.c: sd_notify, the progress-gated watchdog and socket activation. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "daemon/engine/engine.h"
#include "daemon/log.h"
#include "daemon/systemd.h"

/* How often STATUS= is refreshed: often enough for `systemctl status`, rare enough to be free. */
#define STATUS_USEC 5000000u

void sysd_init(struct sysd_state *s)
{
	*s = (struct sysd_state){0};
	/* 0 when not under a watchdog; unset_environment 0: children (none) may see it too */
	if (sd_watchdog_enabled(0, &s->watchdog_usec) <= 0)
		s->watchdog_usec = 0;
}

static void send_status(const struct eng_stats *st, const char *backend, bool ready)
{
	sd_notifyf(0, "%sSTATUS=running on %s: load %.1f %%, %llu late cycles, %llu xruns",
		   ready ? "READY=1\n" : "", backend, st->load * 100.0,
		   (unsigned long long)st->late_cycles, (unsigned long long)st->xruns);
}

void sysd_tick(struct sysd_state *s, struct eng_engine *engine, const char *backend,
	       bool disconnected, uint64_t now_usec)
{
	struct eng_stats st;
	bool moved;

	if (!engine)
		return;
	eng_engine_get_stats(engine, false, &st);
	if (disconnected != s->disconnected && s->ready) {
		/* Say it at once: an admin looking at `systemctl status` sees why no audio runs. */
		if (disconnected)
			sd_notifyf(0, "STATUS=waiting for the %s server to come back", backend);
		s->disconnected = disconnected;
		s->last_status = disconnected ? now_usec : 0;
	}
	if (!s->ready && st.cycles > 0) {
		/* Ready means audio runs, not just that we started. */
		send_status(&st, backend, true);
		s->ready = true;
		s->last_status = now_usec;
	} else if (s->ready && !disconnected && now_usec - s->last_status >= STATUS_USEC) {
		send_status(&st, backend, false);
		s->last_status = now_usec;
	}
	/* Only a cycle that moved earns a ping, so a stuck RT thread gets us restarted; waiting
	 * for a server that went away, or a stopped idle clock, is not a hang (systemd.h). */
	moved = st.cycles != s->pinged_cycles || (disconnected && s->ready) ||
		eng_engine_is_asleep(engine);
	if (s->watchdog_usec && now_usec - s->last_ping >= s->watchdog_usec / 2 && moved) {
		sd_notify(0, "WATCHDOG=1");
		s->last_ping = now_usec;
		s->pinged_cycles = st.cycles;
	}
}

void sysd_notify_reloading(struct sysd_state *s)
{
	(void)s;
	sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration");
}

void sysd_notify_reloaded(struct sysd_state *s)
{
	if (s->ready)
		sd_notify(0, "READY=1");
	s->last_status = 0; /* refresh STATUS at the next tick */
}

void sysd_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

int sysd_listen_fd(void)
{
	char **names = NULL;
	int n = sd_listen_fds_with_names(1, &names), fd = -ENOENT;

	for (int i = 0; i < n; i++) {
		if (fd < 0 && (n == 1 || (names && strcmp(names[i], "control") == 0)) &&
		    sd_is_socket_unix(SD_LISTEN_FDS_START + i, SOCK_STREAM, 1, NULL, 0) > 0)
			fd = SD_LISTEN_FDS_START + i;
		else
			log_warning("systemd passed socket %d ('%s'), which is not ours; ignoring",
				    SD_LISTEN_FDS_START + i, names ? names[i] : "?");
	}
	for (int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	if (fd >= 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return -errno;
	return fd;
}
