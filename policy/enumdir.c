/* SPDX-License-Identifier: MIT */
/*
 * policy/enumdir.c: sorted, allocation-free listing of a sysfs class directory (enumdir.h).
 *
 * getdents64(2) on an fd of our own rather than opendir(3): readdir allocates its buffer, and
 * the readers promise not to. Entries are kept in a bounded array by insertion, so when a
 * directory has more entries than fit, the first ones in sort order are the ones kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "policy/enumdir.h"

/* What getdents64 returns (the kernel's struct linux_dirent64). */
struct dirent64_raw {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* strcmp, except that runs of digits compare as numbers. */
static int natural_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (is_digit(*a) && is_digit(*b)) {
			const char *ea, *eb;

			while (*a == '0' && is_digit(a[1]))
				a++;
			while (*b == '0' && is_digit(b[1]))
				b++;
			for (ea = a; is_digit(*ea); ea++)
				;
			for (eb = b; is_digit(*eb); eb++)
				;
			if (ea - a != eb - b)
				return ea - a < eb - b ? -1 : 1;
			for (; a < ea; a++, b++)
				if (*a != *b)
					return *a < *b ? -1 : 1;
			b = eb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return *a ? 1 : *b ? -1 : 0;
}

/* Inserts name into the sorted ret[0 .. *n), dropping the last entry when full. */
static void insert_sorted(struct pol_entry *ret, size_t max, size_t *n, const char *name)
{
	size_t i = *n;

	if (max == 0)
		return;
	if (*n == max) {
		if (natural_cmp(name, ret[max - 1].name) >= 0)
			return;
		i = max - 1;
	} else {
		(*n)++;
	}
	while (i > 0 && natural_cmp(name, ret[i - 1].name) < 0) {
		ret[i] = ret[i - 1];
		i--;
	}
	strcpy(ret[i].name, name);
}

int pol_opendir_at(int dir_fd, const char *relpath)
{
	int fd = openat(dir_fd, relpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int pol_enumdir(int dir_fd, const char *relpath, const char *prefix, struct pol_entry *ret,
		size_t max)
{
	/* 8-byte aligned: getdents64 records hold 64-bit fields. */
	uint64_t buf[512];
	size_t kept = 0, plen = strlen(prefix);
	int fd, total = 0;

	fd = pol_opendir_at(dir_fd, relpath);
	if (fd < 0)
		return fd;
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));

		if (n < 0) {
			int r = -errno;

			close(fd);
			return r;
		}
		if (n == 0)
			break;
		for (long off = 0; off < n;) {
			const struct dirent64_raw *d = (const void *)((const char *)buf + off);

			off += d->d_reclen;
			if (d->d_name[0] == '.' || strncmp(d->d_name, prefix, plen) != 0 ||
			    strlen(d->d_name) >= POL_ENTRY_NAME_MAX)
				continue;
			insert_sorted(ret, max, &kept, d->d_name);
			if (total < INT32_MAX)
				total++;
		}
	}
	close(fd);
	return total;
}
