/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-hotplug.c: devices that appear while the policy runs — a battery
 * hot-plugged into a machine that had none (a dock, a second bay) is read from the next
 * round on and decides the mode; a thermal zone that appears (a module loaded) joins the
 * thermal state. Nothing about the earlier rounds sticks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test-policy-tree.h"

static void test_battery_appears(void **state)
{
	struct pol_decider *d = tree_decider(0);
	uint64_t now = 0;
	struct round rd;
	struct tree t;

	(void)state;
	tree_init(&t);
	tree_ac(&t, "AC", 0);
	tree_expect_mode(&t, d, now, POL_MODE_UNRESTRICTED, POL_REASON_NO_BATTERY);
	tree_expect_mode(&t, d, now += 1000, POL_MODE_UNRESTRICTED, POL_REASON_NO_BATTERY);

	/* Plugged in, half written by the "driver": a battery without status is an error... */
	tree_supply_attr(&t, "BAT1", "type", "Battery");
	tree_round(&t, d, now += 1000, &rd);
	assert_int_equal(rd.power_r, -ENOENT);
	assert_int_equal(rd.dec.mode, POL_MODE_UNRESTRICTED);
	/* ...then complete: it decides. */
	tree_battery(&t, "BAT1", "Discharging", 12);
	tree_expect_mode(&t, d, now += 1000, POL_MODE_LOW, POL_REASON_BELOW_LOW);

	/* A second, bigger and fuller battery arrives: combined by energy, normal. */
	tree_battery_energy(&t, "BAT1", 6000000, 50000000);
	tree_battery(&t, "BAT0", "Discharging", 60);
	tree_battery_energy(&t, "BAT0", 60000000, 100000000);
	tree_round(&t, d, now += 1000, &rd);
	assert_int_equal(rd.power.n_batteries, 2);
	assert_int_equal(rd.power.capacity, 44); /* (60·100 + 12·50) / 150 */
	assert_int_equal(rd.dec.mode, POL_MODE_NORMAL);

	/* Both unplugged again. */
	tree_remove(&t, "class/power_supply/BAT0");
	tree_remove(&t, "class/power_supply/BAT1");
	tree_expect_mode(&t, d, now += 1000, POL_MODE_UNRESTRICTED, POL_REASON_NO_BATTERY);
	pol_decider_free(d);
	tree_done(&t);
}

static void test_zone_appears(void **state)
{
	struct pol_decider *d = tree_decider(0);
	struct round rd;
	struct tree t;

	(void)state;
	tree_init(&t);
	tree_round(&t, d, 0, &rd);
	assert_int_equal(rd.dec.thermal_reason, POL_REASON_NO_ZONES);
	tree_zone(&t, 3, "iwlwifi_1", 70000);
	tree_trip(&t, 3, 0, "passive", 68000);
	tree_round(&t, d, 1000, &rd);
	assert_int_equal(rd.thermal_r, 0);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_SERIOUS);
	assert_string_equal(rd.dec.zone_type, "iwlwifi_1");
	pol_decider_free(d);
	tree_done(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_battery_appears),
		cmocka_unit_test(test_zone_appears),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
