/* SPDX-License-Identifier: MIT */
/*
 * ipc/socket-path.c: the default control socket path (docs/protocol.md, "The control
 * protocol"): a user service's socket lives in its runtime directory, a system service's in
 * /run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipc/socket-path.h"

int ipc_socket_path_build(bool root, const char *runtime_dir, char *buf, size_t size)
{
	int n;

	if (!root && runtime_dir && runtime_dir[0] == '/')
		n = snprintf(buf, size, "%s/echoeld/control", runtime_dir);
	else
		n = snprintf(buf, size, "%s", IPC_SOCKET_PATH_SYSTEM);
	if (n < 0 || (size_t)n >= size || n >= IPC_SOCKET_PATH_MAX) {
		if (size > 0)
			buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

int ipc_socket_path_default(char *buf, size_t size)
{
	/* secure_getenv: a set-uid caller must not be steered to a socket of the user's choice. */
	return ipc_socket_path_build(geteuid() == 0, secure_getenv("XDG_RUNTIME_DIR"), buf, size);
}
