/* SPDX-License-Identifier: MIT */
/*
 * policy/sysfs.c: parsers for sysfs attribute values and the one-read(2) readers built on
 * them. Non-logging (style.md §8); every failure is a negative errno for the caller.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "policy/sysfs.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Narrows [*s, *s + *n) to its non-blank middle. */
static void trim(const char **s, size_t *n)
{
	while (*n > 0 && is_blank((*s)[0])) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_blank((*s)[*n - 1]))
		(*n)--;
}

static int parse_digits(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

int pol_parse_u64(const char *text, size_t n, uint64_t *ret)
{
	if (!ret || (!text && n > 0))
		return -EINVAL;
	trim(&text, &n);
	return parse_digits(text, n, ret);
}

int pol_parse_s64(const char *text, size_t n, int64_t *ret)
{
	bool neg = false;
	uint64_t v;
	int r;

	if (!ret || (!text && n > 0))
		return -EINVAL;
	trim(&text, &n);
	if (n > 0 && text[0] == '-') {
		neg = true;
		text++;
		n--;
	}
	r = parse_digits(text, n, &v);
	if (r < 0)
		return r;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		/* v == 2^63 maps to INT64_MIN without signed overflow. */
		*ret = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > (uint64_t)INT64_MAX)
			return -ERANGE;
		*ret = (int64_t)v;
	}
	return 0;
}

/* Trims and checks that what is left is a non-empty run of printable ASCII. */
static int word_span(const char **s, size_t *n)
{
	if (!*s && *n > 0)
		return -EINVAL;
	trim(s, n);
	if (*n == 0)
		return -EINVAL;
	for (size_t i = 0; i < *n; i++) {
		unsigned char c = (unsigned char)(*s)[i];

		if (c < 0x20 || c > 0x7e)
			return -EINVAL;
	}
	return 0;
}

int pol_parse_word(const char *text, size_t n, char *ret, size_t size)
{
	int r;

	if (!ret || size == 0)
		return -EINVAL;
	r = word_span(&text, &n);
	if (r < 0)
		return r;
	if (n >= size)
		return -ERANGE;
	memcpy(ret, text, n);
	ret[n] = '\0';
	return (int)n;
}

int pol_parse_enum(const char *text, size_t n, const char *const *names, size_t n_names,
		   unsigned *ret)
{
	int r;

	if (!ret || (!names && n_names > 0))
		return -EINVAL;
	r = word_span(&text, &n);
	if (r < 0)
		return r;
	if (n >= POL_VALUE_MAX)
		return -ERANGE;
	for (size_t i = 0; i < n_names; i++)
		if (names[i] && strlen(names[i]) == n && memcmp(names[i], text, n) == 0) {
			*ret = (unsigned)i;
			return 0;
		}
	return -ENOMSG;
}

int pol_read_text(int dir_fd, const char *relpath, char *buf, size_t size)
{
	ssize_t n;
	int fd, r;

	if (!relpath || !buf || size < 2 || size > INT32_MAX)
		return -EINVAL;
	fd = openat(dir_fd, relpath, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	/*
	 * One read(2) of the whole buffer: a value that fills it may have been cut, so it is
	 * refused rather than parsed short (a 30-digit number must not read as its first digits).
	 */
	n = read(fd, buf, size);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;
	if ((size_t)n >= size)
		return -ERANGE;
	buf[n] = '\0';
	return (int)n;
}

int pol_read_u64(int dir_fd, const char *relpath, uint64_t *ret)
{
	char buf[POL_VALUE_MAX];
	int n = pol_read_text(dir_fd, relpath, buf, sizeof(buf));

	return n < 0 ? n : pol_parse_u64(buf, (size_t)n, ret);
}

int pol_read_s64(int dir_fd, const char *relpath, int64_t *ret)
{
	char buf[POL_VALUE_MAX];
	int n = pol_read_text(dir_fd, relpath, buf, sizeof(buf));

	return n < 0 ? n : pol_parse_s64(buf, (size_t)n, ret);
}

int pol_read_word(int dir_fd, const char *relpath, char *ret, size_t size)
{
	char buf[POL_VALUE_MAX];
	int n = pol_read_text(dir_fd, relpath, buf, sizeof(buf));

	return n < 0 ? n : pol_parse_word(buf, (size_t)n, ret, size);
}

int pol_read_enum(int dir_fd, const char *relpath, const char *const *names, size_t n_names,
		  unsigned *ret)
{
	char buf[POL_VALUE_MAX];
	int n = pol_read_text(dir_fd, relpath, buf, sizeof(buf));

	return n < 0 ? n : pol_parse_enum(buf, (size_t)n, names, n_names, ret);
}
