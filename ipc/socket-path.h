/* SPDX-License-Identifier: MIT */
/*
 * ipc/socket-path.h: where the control socket lives when nothing names it (docs/protocol.md):
 * $XDG_RUNTIME_DIR/echoeld/control for a user (not root) whose XDG_RUNTIME_DIR is set and
 * absolute, else /run/echoeld/control. The daemon and the client library share this rule.
 *
 * Pure: no sockets, no logging. Thread: any (reads the environment).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The longest socket path, NUL included: sizeof(((struct sockaddr_un *)0)->sun_path). */
#define IPC_SOCKET_PATH_MAX 108

#define IPC_SOCKET_PATH_SYSTEM "/run/echoeld/control"

/*
 * Writes the default path for the calling process (geteuid(), $XDG_RUNTIME_DIR) into buf.
 * 0; -ENAMETOOLONG when it does not fit in size bytes or in a sockaddr_un (buf is then an
 * empty string if size > 0).
 */
int ipc_socket_path_default(char *buf, size_t size);

/*
 * The rule itself, for the tests: root selects the system path; runtime_dir (borrowed, may be
 * NULL) is used only when it is absolute. Same returns as ipc_socket_path_default().
 */
int ipc_socket_path_build(bool root, const char *runtime_dir, char *buf, size_t size);
