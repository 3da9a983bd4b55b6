/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-uevent.c: the uevent parser on messages as the kernel sends them —
 * power_supply changes (AC plugged, battery level), hot-plug add/remove, thermal zone trip
 * crossings are relevant; other subsystems, thermal cooling devices and udev's re-broadcasts
 * are not; malformed datagrams are refused without reading past their end.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/el-macros.h"
#include "policy/uevent.h"

/* A message literal: the strings and their NULs, without the literal's own final NUL. */
#define MSG(lit) (lit), (sizeof(lit) - 1)

static const char ac_change[] =
	"change@/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0003:00/power_supply/AC\0"
	"ACTION=change\0"
	"DEVPATH=/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0003:00/power_supply/AC\0"
	"SUBSYSTEM=power_supply\0"
	"POWER_SUPPLY_NAME=AC\0"
	"POWER_SUPPLY_TYPE=Mains\0"
	"POWER_SUPPLY_ONLINE=1\0"
	"SEQNUM=4711\0";

static const char bat_add[] =
	"add@/devices/LNXSYSTM:00/LNXSYBUS:00/PNP0C0A:01/power_supply/BAT1\0"
	"ACTION=add\0"
	"DEVPATH=/devices/LNXSYSTM:00/LNXSYBUS:00/PNP0C0A:01/power_supply/BAT1\0"
	"SUBSYSTEM=power_supply\0"
	"SEQNUM=4712\0";

static const char zone_trip[] = "change@/devices/virtual/thermal/thermal_zone2\0"
				"ACTION=change\0"
				"DEVPATH=/devices/virtual/thermal/thermal_zone2\0"
				"SUBSYSTEM=thermal\0"
				"NAME=x86_pkg_temp\0"
				"TEMP=91000\0"
				"TRIP=0\0"
				"SEQNUM=4713\0";

static const char cooling[] = "change@/devices/virtual/thermal/cooling_device3\0"
			      "ACTION=change\0"
			      "DEVPATH=/devices/virtual/thermal/cooling_device3\0"
			      "SUBSYSTEM=thermal\0"
			      "SEQNUM=4714\0";

static const char usb_add[] = "add@/devices/pci0000:00/0000:00:14.0/usb1/1-2\0"
			      "ACTION=add\0"
			      "DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-2\0"
			      "SUBSYSTEM=usb\0"
			      "SEQNUM=4715\0";

static void test_relevant(void **state)
{
	struct pol_uevent ev;

	(void)state;
	assert_int_equal(pol_uevent_parse(MSG(ac_change), &ev), 1);
	assert_int_equal(ev.kind, POL_UEVENT_POWER_SUPPLY);
	assert_int_equal(ev.action, POL_UEVENT_ACTION_CHANGE);
	assert_string_equal(ev.name, "AC");
	assert_true(ev.seqnum == 4711);

	assert_int_equal(pol_uevent_parse(MSG(bat_add), &ev), 1);
	assert_int_equal(ev.kind, POL_UEVENT_POWER_SUPPLY);
	assert_int_equal(ev.action, POL_UEVENT_ACTION_ADD);
	assert_string_equal(ev.name, "BAT1"); /* from DEVPATH: no POWER_SUPPLY_NAME on add */

	assert_int_equal(pol_uevent_parse(MSG(zone_trip), &ev), 1);
	assert_int_equal(ev.kind, POL_UEVENT_THERMAL_ZONE);
	assert_string_equal(ev.name, "thermal_zone2");

	/* The kernel ends the last string with a NUL; a datagram without it parses the same. */
	assert_int_equal(pol_uevent_parse(ac_change, sizeof(ac_change) - 2, &ev), 1);
	assert_true(ev.seqnum == 4711);
	assert_string_equal(pol_uevent_action_to_string(POL_UEVENT_ACTION_REMOVE), "remove");
}

static void test_irrelevant(void **state)
{
	static const char udev[] =
		"libudev\0\xfe\xed\xca\xfe....ACTION=change\0SUBSYSTEM=power_supply\0";
	struct pol_uevent ev;

	(void)state;
	assert_int_equal(pol_uevent_parse(MSG(cooling), &ev), 0);
	assert_int_equal(ev.kind, POL_UEVENT_OTHER);
	assert_int_equal(pol_uevent_parse(MSG(usb_add), &ev), 0);
	assert_int_equal(ev.action, POL_UEVENT_ACTION_ADD);
	assert_string_equal(ev.name, "1-2");
	assert_int_equal(pol_uevent_parse(MSG(udev), &ev), 0);
}

static void test_malformed(void **state)
{
	static const char no_head[] = "ACTION=change\0DEVPATH=/x\0SUBSYSTEM=power_supply\0";
	static const char no_action[] = "change@/x\0DEVPATH=/x\0SUBSYSTEM=power_supply\0";
	static const char no_sub[] = "change@/x\0ACTION=change\0DEVPATH=/x\0";
	static const char no_dev[] = "change@/x\0ACTION=change\0SUBSYSTEM=power_supply\0";
	static const char empty_action[] = "change@/x\0ACTION=\0DEVPATH=/x\0SUBSYSTEM=thermal\0";
	struct pol_uevent ev = {.seqnum = 99};

	(void)state;
	assert_int_equal(pol_uevent_parse(MSG(no_head), &ev), -EINVAL);
	assert_int_equal(pol_uevent_parse(MSG(no_action), &ev), -EINVAL);
	assert_int_equal(pol_uevent_parse(MSG(no_sub), &ev), -EINVAL);
	assert_int_equal(pol_uevent_parse(MSG(no_dev), &ev), -EINVAL);
	assert_int_equal(pol_uevent_parse(MSG(empty_action), &ev), -EINVAL);
	assert_int_equal(pol_uevent_parse("", 0, &ev), -EINVAL);
	assert_int_equal(pol_uevent_parse("\0\0\0", 3, &ev), -EINVAL);
	assert_int_equal(pol_uevent_parse(NULL, 5, &ev), -EINVAL);
	assert_true(ev.seqnum == 99);

	/* Every prefix of a real message, copied to an exact-size heap block (ASan sees overruns).
	 */
	for (size_t n = 1; n <= sizeof(ac_change) - 1; n++) {
		char *b = malloc(n);
		int r;

		assert_non_null(b);
		memcpy(b, ac_change, n);
		r = pol_uevent_parse(b, n, &ev);
		assert_true(r == -EINVAL || r == 0 || r == 1);
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relevant),
		cmocka_unit_test(test_irrelevant),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
