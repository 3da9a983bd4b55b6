/* SPDX-License-Identifier: MIT */
/*
 * daemon/fs/beneath.c: opening client-named files only beneath the directories they were
 * allowed in (beneath.h).
 *
 * DESIGN: resolve, then walk without following. realpath(3) of the longest existing prefix
 * gives the canonical path at this moment; the rest (directories a recorder will make, the file
 * it will create) is kept as written and may hold no "." or "..". The canonical path must lie
 * under an allowed directory D; it is then opened again from D's descriptor a component at a
 * time, each with O_NOFOLLOW and checked to be a directory by fstat(2) of what was opened (not
 * by name, which could change in between). A component that is now a symlink was swapped in
 * after the resolution: refused with -EACCES, like a path outside. openat2(2)'s RESOLVE_BENEATH
 * would do the walk in the kernel but not the mkdirs a take needs, and Linux has it only since
 * 5.6: one walk serves both, on any kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/fs/beneath.h"

char *fs_canonical_lenient(const char *path)
{
	size_t end = strlen(path);
	char *real = NULL, *out = NULL;

	for (;;) {
		char *prefix = end ? strndup(path, end) : strdup(path[0] == '/' ? "/" : ".");

		if (!prefix)
			return NULL;
		real = realpath(prefix, NULL);
		free(prefix);
		if (real || end == 0)
			break;
		while (end > 0 && path[--end] != '/')
			;
	}
	if (!real)
		return NULL;
	for (const char *p = path + end; *p;) {
		size_t n;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
			free(real);
			errno = EACCES;
			return NULL;
		}
		p += n;
	}
	path += end + strspn(path + end, "/");
	if (!*path)
		return real;
	if (asprintf(&out, "%s%s%s", real, strcmp(real, "/") ? "/" : "", path) < 0)
		out = NULL;
	free(real);
	return out;
}

/* The part of canonical path c under one of dirs ("" for a dir itself), and that dir; NULL. */
static const char *under(const char *const *dirs, const char *c, const char **ret_dir)
{
	for (size_t i = 0; dirs[i]; i++) {
		size_t n = strlen(dirs[i]);

		if (n == 1 && dirs[i][0] == '/') {
			*ret_dir = dirs[i];
			return c + 1;
		}
		if (strncmp(c, dirs[i], n) == 0 && (c[n] == '/' || c[n] == '\0')) {
			*ret_dir = dirs[i];
			return c + n + strspn(c + n, "/");
		}
	}
	return NULL;
}

/* The directory name (len bytes at name) under dfd, opened O_PATH without following it. */
static int open_dir_nofollow(int dfd, const char *name, size_t len)
{
	char comp[NAME_MAX + 1];
	struct stat st;
	int fd;

	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(comp, name, len);
	comp[len] = '\0';
	fd = openat(dfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		int r = S_ISLNK(st.st_mode) ? -EACCES : -ENOTDIR; /* a symlink: swapped in */

		close(fd);
		return r;
	}
	return fd;
}

/*
 * Walks rel from dir, making missing directories when make is set (a failed mkdir ends the walk
 * with its error, that directory in failed_dir), and opens its last component with flags |
 * O_NOFOLLOW. A descriptor, or -errno.
 */
static int walk(const char *dir, const char *rel, int flags, mode_t mode, bool make,
		char *failed_dir, size_t size)
{
	int cur = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;
	const char *start = rel;

	if (cur < 0)
		return -errno;
	for (;;) {
		size_t n = strcspn(rel, "/");
		int next;

		if (rel[n] == '\0' && n && (flags & O_PATH) && (flags & O_DIRECTORY)) {
			fd = open_dir_nofollow(cur, rel, n); /* a directory for the *at() calls */
			break;
		}
		if (rel[n] == '\0') { /* the file itself */
			fd = openat(cur, n ? rel : ".", flags | O_NOFOLLOW | O_CLOEXEC, mode);
			fd = fd >= 0 ? fd : errno == ELOOP ? -EACCES : -errno;
			break;
		}
		if (make) {
			char comp[NAME_MAX + 1];

			snprintf(comp, sizeof(comp), "%.*s", (int)n, rel);
			if (mkdirat(cur, comp, 0700) < 0 && errno != EEXIST) {
				fd = -errno;
				if (failed_dir)
					snprintf(failed_dir, size, "%s/%.*s", dir,
						 (int)(rel + n - start), start);
				break;
			}
		}
		next = open_dir_nofollow(cur, rel, n);
		if (next < 0) {
			fd = next;
			break;
		}
		close(cur);
		cur = next;
		rel += n + strspn(rel + n, "/");
	}
	close(cur);
	return fd;
}

static int open_confined(const char *const *beneath, const char *path, int flags, mode_t mode,
			 bool make, char *failed_dir, size_t size)
{
	char *c = fs_canonical_lenient(path);
	const char *dir = NULL, *rel;
	int r;

	if (!c)
		return errno == EACCES ? -EACCES : -errno;
	rel = under(beneath, c, &dir);
	r = rel ? walk(dir, rel, flags, mode, make, failed_dir, size) : -EACCES;
	free(c);
	return r;
}

int fs_open_beneath(const char *const *beneath, const char *path, int flags)
{
	int fd;

	if (beneath)
		return open_confined(beneath, path, flags, 0, false, NULL, 0);
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The administrator's path: its missing parents made by name (0700), as written. */
static int make_parent_dirs(const char *path, char *failed_dir, size_t size)
{
	char buf[PATH_MAX];
	int r = 0;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST && r == 0) {
			r = -errno;
			if (failed_dir)
				snprintf(failed_dir, size, "%s", buf);
		}
		*p = '/';
	}
	return r;
}

int fs_create_beneath(const char *const *beneath, const char *path, mode_t mode, char *failed_dir,
		      size_t size)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL;
	int fd, r;

	if (failed_dir && size)
		failed_dir[0] = '\0';
	if (beneath)
		return open_confined(beneath, path, flags, mode, true, failed_dir, size);
	r = make_parent_dirs(path, failed_dir, size);
	fd = open(path, flags | O_CLOEXEC, mode);
	if (fd < 0) {
		int e = -errno;

		if (e == -ENOENT && r < 0) /* ENOENT hides why: the directory not made says it */
			return r;
		if (failed_dir && size) /* a mkdir failed, but that is not why */
			failed_dir[0] = '\0';
		return e;
	}
	return fd;
}

int fs_open_parent_beneath(const char *const *beneath, const char *path, const char **ret_name)
{
	const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
	char dir[PATH_MAX];
	int fd;

	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (!dir[0]) /* a file in / */
		snprintf(dir, sizeof(dir), "/");
	fd = fs_open_beneath(beneath, dir, O_PATH | O_DIRECTORY);
	if (fd >= 0)
		*ret_name = name;
	return fd;
}

int fs_dirs_copy(const char *const *dirs, char ***ret)
{
	size_t n = 0;
	char **out;

	if (!dirs) {
		*ret = NULL;
		return 0;
	}
	while (dirs[n])
		n++;
	out = calloc(n + 1, sizeof(*out));
	for (size_t i = 0; out && i < n; i++)
		if (!(out[i] = strdup(dirs[i])))
			out = fs_dirs_free(out);
	if (!out)
		return -ENOMEM;
	*ret = out;
	return 0;
}

char **fs_dirs_free(char **dirs)
{
	for (size_t i = 0; dirs && dirs[i]; i++)
		free(dirs[i]);
	free(dirs);
	return NULL;
}
