/* SPDX-License-Identifier: MIT */
/*
 * daemon/fs/beneath.h: opening a file a client named so that it cannot lead outside the
 * directories clients may name ([ipc] file_dirs), whatever is swapped under it after its check.
 *
 * A client's path is checked when it arrives (daemon/control/settings.h) and opened later,
 * perhaps much later (a recorder's next take). A symlink on the way that the client controls,
 * swapped between the two, would otherwise send the open anywhere the daemon may read or write.
 * Here the path is made canonical again at the open, must lie under one of the directories,
 * and is then walked from that directory's descriptor one component at a time with O_NOFOLLOW:
 * the canonical path has no symlink left, so one met on the walk appeared after the
 * resolution and is refused. What is opened is beneath the directory, always.
 *
 * beneath: NULL-terminated canonical absolute directories, borrowed; NULL: the path is the
 * administrator's (the configuration file's) and is opened as it is. Thread: any but RT
 * (allocates, blocks). Non-logging.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/*
 * path made canonical even when its end does not exist yet: realpath(3) of its longest prefix
 * that resolves, then the rest as written. Owned; NULL with errno set when nothing resolves,
 * or EACCES when the rest holds "." or "..", which could climb anywhere once made.
 */
char *fs_canonical_lenient(const char *path);

/*
 * Opens path (a relative one from the working directory) with flags (O_RDONLY and the like;
 * O_CLOEXEC is added). A descriptor ≥ 0; -EACCES when it lies outside beneath or a symlink turned
 * up on its way; else open(2)'s -errno.
 */
int fs_open_beneath(const char *const *beneath, const char *path, int flags);

/*
 * Creates path (O_WRONLY | O_CREAT | O_EXCL: never over an existing file, nor through a symlink)
 * with mode, making its missing parent directories (0700) first. A descriptor ≥ 0; -EACCES as
 * fs_open_beneath(); a mkdir's -errno when the file could not be made for want of that
 * directory, its path in failed_dir (size bytes, may be NULL; else left empty); else open's.
 */
int fs_create_beneath(const char *const *beneath, const char *path, mode_t mode, char *failed_dir,
		      size_t size);

/*
 * Opens the directory that holds path (O_PATH | O_DIRECTORY), beneath as fs_open_beneath(), for
 * files made and renamed in it with the *at() calls; *ret_name points at path's last component
 * (borrowed from path). A descriptor; -EINVAL when that component is empty, "." or "..";
 * -EACCES; else open's -errno.
 */
int fs_open_parent_beneath(const char *const *beneath, const char *path, const char **ret_name);

/*
 * Copies a NULL-terminated list of strings (NULL gives NULL). 0 with *ret owned (free it with
 * fs_dirs_free()); -ENOMEM.
 */
int fs_dirs_copy(const char *const *dirs, char ***ret);
char **fs_dirs_free(char **dirs);
