/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-uevent-socket.c: the uevent socket opens non-blocking, has nothing
 * to say while nothing happens, and drops a datagram a local process sends it (only the kernel,
 * port 0, is believed). Skips (77) where netlink uevent sockets are not allowed (containers,
 * seccomp).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/netlink.h>

#include "policy/uevent.h"

static int fd = -1;

static void test_quiet_and_spoof(void **state)
{
	static const char fake[] = "change@/x\0ACTION=change\0DEVPATH=/x\0SUBSYSTEM=power_supply\0";
	char buf[POL_UEVENT_BUFFER_SIZE];
	struct sockaddr_nl self = {0}, to = {.nl_family = AF_NETLINK};
	socklen_t len = sizeof(self);
	int tx, r;

	(void)state;
	/* Nothing queued (a real uevent could slip in on a busy machine: drain those). */
	while ((r = pol_uevent_recv(fd, buf, sizeof(buf))) >= 0)
		;
	assert_int_equal(r, -EAGAIN);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&self, &len), 0);
	tx = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (tx < 0)
		skip();
	to.nl_pid = self.nl_pid;
	if (sendto(tx, fake, sizeof(fake) - 1, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		close(tx);
		skip(); /* unicast between user sockets refused here: nothing to check */
	}
	close(tx);
	do
		r = pol_uevent_recv(fd, buf, sizeof(buf));
	while (r >= 0); /* a real uevent may come first */
	assert_int_equal(r, -EPERM);
	assert_int_equal(pol_uevent_recv(fd, buf, sizeof(buf)), -EAGAIN);
	assert_int_equal(pol_uevent_recv(fd, buf, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quiet_and_spoof),
	};
	int r;

	fd = pol_uevent_open();
	if (fd < 0) {
		printf("# SKIP: no uevent socket here: %s\n", strerror(-fd));
		return 77;
	}
	r = cmocka_run_group_tests(tests, NULL, NULL);
	close(fd);
	return r;
}
