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
	struct fixture *f = *state;
	uint64_t now = 0;
	struct round rd;

	tree_ac(&f->t, "AC", 0);
	tree_expect_mode(&f->t, f->d, now, POL_MODE_UNRESTRICTED, POL_REASON_NO_BATTERY);
	tree_expect_mode(&f->t, f->d, now += 1000, POL_MODE_UNRESTRICTED, POL_REASON_NO_BATTERY);

	/* Plugged in, half written by the "driver": a battery without status is an error... */
	tree_supply_attr(&f->t, "BAT1", "type", "Battery");
	tree_round(&f->t, f->d, now += 1000, &rd);
	assert_int_equal(rd.power_r, -ENOENT);
	assert_int_equal(rd.dec.mode, POL_MODE_UNRESTRICTED);
	/* ...then complete: it decides. */
	tree_battery(&f->t, "BAT1", "Discharging", 12);
	tree_expect_mode(&f->t, f->d, now += 1000, POL_MODE_LOW, POL_REASON_BELOW_LOW);

	/* A second, bigger and fuller battery arrives: combined by energy, normal. */
	tree_battery_energy(&f->t, "BAT1", 6000000, 50000000);
	tree_battery(&f->t, "BAT0", "Discharging", 60);
	tree_battery_energy(&f->t, "BAT0", 60000000, 100000000);
	tree_round(&f->t, f->d, now += 1000, &rd);
	assert_int_equal(rd.power.n_batteries, 2);
	assert_int_equal(rd.power.capacity, 44); /* (60·100 + 12·50) / 150 */
	assert_int_equal(rd.dec.mode, POL_MODE_NORMAL);

	/* Both unplugged again. */
	tree_remove(&f->t, "class/power_supply/BAT0");
	tree_remove(&f->t, "class/power_supply/BAT1");
	tree_expect_mode(&f->t, f->d, now += 1000, POL_MODE_UNRESTRICTED, POL_REASON_NO_BATTERY);
}

static void test_zone_appears(void **state)
{
	struct fixture *f = *state;
	struct round rd;

	tree_round(&f->t, f->d, 0, &rd);
	assert_int_equal(rd.dec.thermal_reason, POL_REASON_NO_ZONES);
	tree_zone(&f->t, 3, "iwlwifi_1", 70000);
	tree_trip(&f->t, 3, 0, "passive", 68000);
	tree_round(&f->t, f->d, 1000, &rd);
	assert_int_equal(rd.thermal_r, 0);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_SERIOUS);
	assert_string_equal(rd.dec.zone_type, "iwlwifi_1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		tree_decider_test(test_battery_appears, 0),
		tree_decider_test(test_zone_appears, 0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
