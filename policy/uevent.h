/* SPDX-License-Identifier: MIT */
/*
 * policy/uevent.h: kernel uevents (NETLINK_KOBJECT_UEVENT) that should wake the policy — a
 * power supply added, removed or changed (AC plugged, battery status or level), a thermal zone
 * added, removed or crossing a trip point.
 *
 * A kernel uevent is one datagram: "ACTION@DEVPATH", then "KEY=VALUE" strings, each ended by
 * a NUL ("change@/devices/.../power_supply/BAT0\0ACTION=change\0DEVPATH=...\0
 * SUBSYSTEM=power_supply\0POWER_SUPPLY_NAME=BAT0\0...SEQNUM=4711\0").
 *
 * The parser is pure (no allocation, no logging; thread: any). The socket helpers are thin
 * syscalls for the policy thread: it opens the socket, polls it, and on each readable event
 * receives, parses, and re-reads sysfs when the event is relevant. The event only says *that*
 * something changed; the values always come from sysfs.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "policy/sysfs.h" /* POL_NAME_MAX */

/* A receive buffer this big holds any uevent (the kernel's UEVENT_BUFFER_SIZE is 2048). */
#define POL_UEVENT_BUFFER_SIZE 8192

enum pol_uevent_kind {
	POL_UEVENT_OTHER,        /* another subsystem (or a thermal cooling device) */
	POL_UEVENT_POWER_SUPPLY, /* SUBSYSTEM=power_supply */
	POL_UEVENT_THERMAL_ZONE, /* SUBSYSTEM=thermal, DEVPATH .../thermal_zone<N> */
};

enum pol_uevent_action {
	POL_UEVENT_ACTION_OTHER,
	POL_UEVENT_ACTION_ADD,
	POL_UEVENT_ACTION_REMOVE,
	POL_UEVENT_ACTION_CHANGE,
	POL_UEVENT_ACTION_MOVE,
	POL_UEVENT_ACTION_ONLINE,
	POL_UEVENT_ACTION_OFFLINE,
	POL_UEVENT_ACTION_BIND,
	POL_UEVENT_ACTION_UNBIND,
};

struct pol_uevent {
	enum pol_uevent_kind kind;
	enum pol_uevent_action action;
	char name[POL_NAME_MAX]; /* POWER_SUPPLY_NAME, else the last DEVPATH component; cut */
	uint64_t seqnum;         /* SEQNUM, 0 when absent */
};

/*
 * Parses one datagram buf[0 .. len) (borrowed; need not be NUL-terminated). Returns 1 when it
 * is a power_supply or thermal zone event (the policy should re-read), 0 for any other
 * well-formed event and for udev's re-broadcasts ("libudev" header: the policy listens to the
 * kernel only), with *ret filled either way; -EINVAL (no "ACTION@DEVPATH" header, no ACTION,
 * SUBSYSTEM or DEVPATH, empty) with *ret untouched.
 */
int pol_uevent_parse(const void *buf, size_t len, struct pol_uevent *ret);

/*
 * Thread: policy. A non-blocking, close-on-exec netlink socket subscribed to the kernel's
 * uevent group. The fd (the caller owns it and closes it), or -errno: -EPROTONOSUPPORT,
 * -EAFNOSUPPORT, -EPERM, -EACCES where containers or seccomp forbid it (poll sysfs instead).
 */
int pol_uevent_open(void);

/*
 * Thread: policy. Receives one datagram into buf (size bytes; POL_UEVENT_BUFFER_SIZE is
 * enough) without blocking. Its length; -EAGAIN (nothing waiting); -EPERM (not sent by the
 * kernel: dropped, any local process may send to the socket); -EMSGSIZE (cut: dropped);
 * -ENOBUFS (the socket overflowed and events were lost: re-read everything); other -errno.
 */
int pol_uevent_recv(int fd, void *buf, size_t size);

/* Static names: "add", "remove", "change", ...; "other"; "?" out of range. */
const char *pol_uevent_action_to_string(enum pol_uevent_action a);
