/* SPDX-License-Identifier: MIT */
/*
 * policy/uevent.c: the kernel uevent parser and the netlink socket helpers (uevent.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "common/el-macros.h"
#include "policy/uevent.h"

/* The kernel's uevent multicast group (udev re-broadcasts on group 2). */
#define KERNEL_GROUP 1u

/* Indexed by enum pol_uevent_action. */
static const char *const action_names[] = {
	[POL_UEVENT_ACTION_OTHER] = "other",     [POL_UEVENT_ACTION_ADD] = "add",
	[POL_UEVENT_ACTION_REMOVE] = "remove",   [POL_UEVENT_ACTION_CHANGE] = "change",
	[POL_UEVENT_ACTION_MOVE] = "move",       [POL_UEVENT_ACTION_ONLINE] = "online",
	[POL_UEVENT_ACTION_OFFLINE] = "offline", [POL_UEVENT_ACTION_BIND] = "bind",
	[POL_UEVENT_ACTION_UNBIND] = "unbind",
};

const char *pol_uevent_action_to_string(enum pol_uevent_action a)
{
	return (unsigned)a < EL_N_ELEMENTS(action_names) ? action_names[a] : "?";
}

/* A string of the datagram: [s, s + n), not NUL-terminated. */
struct span {
	const char *s;
	size_t n;
};

static bool span_eq(struct span a, const char *lit)
{
	size_t n = strlen(lit);

	return a.n == n && memcmp(a.s, lit, n) == 0;
}

/* If a is "KEY=...", the value after '='. */
static bool span_value(struct span a, const char *key, struct span *ret)
{
	size_t k = strlen(key);

	if (a.n <= k || memcmp(a.s, key, k) != 0 || a.s[k] != '=')
		return false;
	*ret = (struct span){a.s + k + 1, a.n - k - 1};
	return true;
}

static enum pol_uevent_action action_of(struct span v)
{
	for (size_t i = 1; i < EL_N_ELEMENTS(action_names); i++)
		if (span_eq(v, action_names[i]))
			return (enum pol_uevent_action)i;
	return POL_UEVENT_ACTION_OTHER;
}

/* The last '/'-separated component of a DEVPATH. */
static struct span basename_of(struct span v)
{
	size_t i = v.n;

	while (i > 0 && v.s[i - 1] != '/')
		i--;
	return (struct span){v.s + i, v.n - i};
}

static void copy_name(char *dst, size_t size, struct span v)
{
	size_t n = EL_MIN(v.n, size - 1);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v.s[i];

		dst[i] = c >= 0x20 && c <= 0x7e ? (char)c : '?';
	}
	dst[n] = '\0';
}

static uint64_t parse_seqnum(struct span v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < v.n; i++) {
		if (v.s[i] < '0' || v.s[i] > '9' || x > (UINT64_MAX - 9) / 10)
			return 0;
		x = x * 10 + (uint64_t)(v.s[i] - '0');
	}
	return x;
}

/* The next NUL-terminated (or buffer-terminated) string at *off, advancing *off. */
static struct span next_string(const char *b, size_t len, size_t *off)
{
	const char *s = b + *off;
	const char *nul = memchr(s, '\0', len - *off);
	size_t n = nul ? (size_t)(nul - s) : len - *off;

	*off += n + (nul ? 1 : 0);
	return (struct span){s, n};
}

int pol_uevent_parse(const void *buf, size_t len, struct pol_uevent *ret)
{
	const char *b = buf;
	struct span head, action = {0}, subsystem = {0}, devpath = {0}, psname = {0}, seq = {0};
	bool have_action = false, have_sub = false, have_dev = false, have_ps = false;
	struct pol_uevent ev = {0};
	size_t off = 0;

	if (!ret || !buf || len == 0)
		return -EINVAL;
	head = next_string(b, len, &off);
	if (span_eq(head, "libudev")) {
		*ret = ev;
		return 0;
	}
	if (head.n < 3 || !memchr(head.s, '@', head.n))
		return -EINVAL;
	while (off < len) {
		struct span kv = next_string(b, len, &off), v;

		if (span_value(kv, "ACTION", &v))
			action = v, have_action = true;
		else if (span_value(kv, "SUBSYSTEM", &v))
			subsystem = v, have_sub = true;
		else if (span_value(kv, "DEVPATH", &v))
			devpath = v, have_dev = true;
		else if (span_value(kv, "POWER_SUPPLY_NAME", &v))
			psname = v, have_ps = true;
		else if (span_value(kv, "SEQNUM", &v))
			seq = v;
	}
	if (!have_action || !have_sub || !have_dev || action.n == 0)
		return -EINVAL;
	ev.action = action_of(action);
	ev.seqnum = parse_seqnum(seq);
	copy_name(ev.name, sizeof(ev.name),
		  have_ps && psname.n > 0 ? psname : basename_of(devpath));
	if (span_eq(subsystem, "power_supply"))
		ev.kind = POL_UEVENT_POWER_SUPPLY;
	else if (span_eq(subsystem, "thermal") && strncmp(ev.name, "thermal_zone", 12) == 0)
		ev.kind = POL_UEVENT_THERMAL_ZONE;
	*ret = ev;
	return ev.kind != POL_UEVENT_OTHER ? 1 : 0;
}

int pol_uevent_open(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = KERNEL_GROUP};
	int fd, r;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int pol_uevent_recv(int fd, void *buf, size_t size)
{
	struct sockaddr_nl sa = {0};
	struct iovec iov = {.iov_base = buf, .iov_len = size};
	struct msghdr msg = {
		.msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (!buf || size == 0 || size > INT32_MAX)
		return -EINVAL;
	n = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	if (msg.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	/* Only the kernel sends from port 0; anything else is a local process, not trusted. */
	if (msg.msg_namelen != sizeof(sa) || sa.nl_family != AF_NETLINK || sa.nl_pid != 0)
		return -EPERM;
	return (int)n;
}
