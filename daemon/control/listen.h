/* SPDX-License-Identifier: MIT */
/*
 * daemon/control/listen.h: the control socket's listening end — bound at its path (or passed by
 * systemd), served to an accept callback, and bound again at the same path when the file or
 * its directory is removed under a running daemon (tmpfiles cleaning /run, an admin's rm -r).
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

struct ctl_settings;
struct el_error;
struct ctl_listener;

/*
 * Thread: control. Listens at s->socket_path (s is borrowed and must outlive the listener), or
 * on passed_fd (>= 0: systemd's socket, taken; its file is the socket unit's, never watched),
 * calling on_accept(source, fd, revents, userdata) when clients wait. 0 with *ret; -errno with
 * reterr naming the path (passed_fd is closed on failure).
 */
int ctl_listener_new(sd_event *event, const struct ctl_settings *s, int passed_fd,
		     sd_event_io_handler_t on_accept, void *userdata, struct ctl_listener **ret,
		     struct el_error *reterr);

/* Thread: control. Stops listening, removes the socket file if it is ours. Accepts NULL. */
struct ctl_listener *ctl_listener_free(struct ctl_listener *l);

/* Thread: control. The path the daemon bound and will remove; NULL for systemd's socket. */
const char *ctl_listener_get_path(const struct ctl_listener *l);
