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
	struct fixture *f = *state;
	struct pol_power p;

	tree_laptop(&f->t, 1, "Charging", 5);
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), 0);
	assert_true(p.ac_online);
	assert_true(p.charging);
	assert_false(p.discharging);
	assert_int_equal(p.capacity, 5);
	tree_expect_mode(&f->t, f->d, 0, POL_MODE_UNRESTRICTED, POL_REASON_AC);
}

static void test_charging_without_mains(void **state)
{
	struct fixture *f = *state;

	tree_battery(&f->t, "BAT0", "Charging", 12);
	tree_expect_mode(&f->t, f->d, 0, POL_MODE_UNRESTRICTED, POL_REASON_CHARGING);
}

static void test_usb_pd_source(void **state)
{
	struct fixture *f = *state;
	struct pol_power p;

	tree_supply_attr(&f->t, "ucsi-source-psy-USBC000:001", "type", "USB");
	tree_supply_attr(&f->t, "ucsi-source-psy-USBC000:001", "usb_type", "C [PD] PD_PPS");
	tree_supply_attr(&f->t, "ucsi-source-psy-USBC000:001", "online", "1");
	tree_battery(&f->t, "BAT0", "Not charging", 10);
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), 0);
	assert_int_equal(p.supplies[1].type, POL_SUPPLY_USB);
	assert_true(p.ac_online);
	assert_false(p.discharging);
	tree_expect_mode(&f->t, f->d, 0, POL_MODE_UNRESTRICTED, POL_REASON_AC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		tree_decider_test(test_charging_on_ac, 5000),
		tree_decider_test(test_charging_without_mains, 5000),
		tree_decider_test(test_usb_pd_source, 5000),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
