/* SPDX-License-Identifier: MIT */
/*
 * daemon/control/settings.h: the [ipc] section — where the control socket lies, who may
 * connect, the limits that keep a client from hurting the daemon, and the directories whose
 * files a client may name. Thread: control.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct conf;
struct conf_section;
struct el_error;
struct ipc_error;

/* The [ipc] section. */
struct ctl_settings {
	char *socket_path; /* owned */
	mode_t mode;
	gid_t group;       /* (gid_t)-1: leave the socket's group alone */
	uid_t *allow_uids; /* owned, n_allow_uids of them; none: anyone */
	size_t n_allow_uids;
	gid_t *allow_gids; /* owned */
	size_t n_allow_gids;
	unsigned max_clients;
	size_t max_line;
	size_t max_queue;
	unsigned idle_timeout_ms;
	char **file_dirs; /* owned: absolute directories, NULL-terminated */
};

/*
 * Reads [ipc] from c; socket_override (--socket) wins over [ipc] socket and the default path.
 * 0; -EINVAL with `FILE:LINE: key 'K': reason`.
 */
int ctl_settings_from_conf(const struct conf *c, const char *socket_override,
			   struct ctl_settings *ret, struct el_error *reterr);
void ctl_settings_done(struct ctl_settings *s);

/*
 * May this path (a file a client names) be read? Canonical (symlinks and ".." resolved, also
 * for a file that does not exist), under file_dirs. 0; -EACCES with *e set to `permission`, the
 * same message whether or not the file exists.
 */
int ctl_settings_check_path(const struct ctl_settings *s, const char *path, struct ipc_error *e);

/*
 * The same for every file a section (sec may be NULL) or a whole configuration names (`ir`),
 * relative ones resolved against base_dir as the nodes do. 0; -EACCES with *e naming the key
 * and where it was set.
 */
/*
 * Does a key's value name a file the daemon reads or writes: a fir's impulse response (`ir`, or
 * `ir_RATE` for one rate), a player's or a recorder's `file`? Thread: any.
 */
bool ctl_settings_is_file_key(const char *key);

int ctl_settings_check_section_paths(const struct ctl_settings *s, const struct conf_section *sec,
				     const char *base_dir, struct ipc_error *e);
int ctl_settings_check_conf_paths(const struct ctl_settings *s, const struct conf *c,
				  const char *base_dir, struct ipc_error *e);

