/* SPDX-License-Identifier: MIT */
/*
 * daemon/service.h: the daemon itself — main loop, control socket, power policy, systemd
 * notification (daemon.c, control/, power/policy.c, systemd.c) — is a shared module,
 * echoeld-service.so, loaded when echoeld runs as a daemon or checks a configuration.
 *
 * Why: those are the only users of libsystemd, which brings six more libraries (libgcrypt,
 * liblzma, libzstd, liblz4, libcap, libgpg-error): ~3 ms of CPU to map and relocate on the
 * reference VM, 6 % of a 60 s `echoeld render` (docs/performance.md, render), which needs none of
 * them. The module is found and checked as the backend modules are (backend/modules.h) and calls
 * back into the executable, which holds everything else and exports it.
 */
#pragma once

#include "daemon/daemon.h"

/* What the module defines (service-entry.c): its two commands. */
struct service_entry {
	int (*run)(const struct daemon_options *o);
	int (*check_config)(const char *path);
};
extern const struct service_entry service_entry;

/* Thread: main. daemon_run() and daemon_check_config() of the service module: the exit code,
 * or 1 after saying why the module could not be loaded. */
int service_run(const struct daemon_options *o);
int service_check_config(const char *path);
