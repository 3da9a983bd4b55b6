/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-power-charging.c: a charging laptop is unrestricted at any level —
 * with its AC adapter online, and with no Mains supply at all (a USB-C-only machine whose
 * battery says Charging); a USB-C PD source online counts as AC.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test-policy-tree.h"

static void test_charging_on_ac(void **state)
{
	struct pol_decider *d = tree_decider(5000);
	struct pol_power p;
	struct tree t;

	(void)state;
	tree_init(&t);
	tree_ac(&t, "AC", 1);
	tree_battery(&t, "BAT0", "Charging", 5);
	assert_int_equal(pol_power_read(t.fd, &p, NULL), 0);
	assert_true(p.ac_online);
	assert_true(p.charging);
	assert_false(p.discharging);
	assert_int_equal(p.capacity, 5);
	tree_expect_mode(&t, d, 0, POL_MODE_UNRESTRICTED, POL_REASON_AC);
	pol_decider_free(d);
	tree_done(&t);
}

static void test_charging_without_mains(void **state)
{
	struct pol_decider *d = tree_decider(5000);
	struct tree t;

	(void)state;
	tree_init(&t);
	tree_battery(&t, "BAT0", "Charging", 12);
	tree_expect_mode(&t, d, 0, POL_MODE_UNRESTRICTED, POL_REASON_CHARGING);
	pol_decider_free(d);
	tree_done(&t);
}

static void test_usb_pd_source(void **state)
{
	struct pol_decider *d = tree_decider(5000);
	struct pol_power p;
	struct tree t;

	(void)state;
	tree_init(&t);
	tree_supply_attr(&t, "ucsi-source-psy-USBC000:001", "type", "USB");
	tree_supply_attr(&t, "ucsi-source-psy-USBC000:001", "usb_type", "C [PD] PD_PPS");
	tree_supply_attr(&t, "ucsi-source-psy-USBC000:001", "online", "1");
	tree_battery(&t, "BAT0", "Not charging", 10);
	assert_int_equal(pol_power_read(t.fd, &p, NULL), 0);
	assert_int_equal(p.supplies[1].type, POL_SUPPLY_USB);
	assert_true(p.ac_online);
	assert_false(p.discharging);
	tree_expect_mode(&t, d, 0, POL_MODE_UNRESTRICTED, POL_REASON_AC);
	pol_decider_free(d);
	tree_done(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_charging_on_ac),
		cmocka_unit_test(test_charging_without_mains),
		cmocka_unit_test(test_usb_pd_source),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
