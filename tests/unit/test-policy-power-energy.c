/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-power-energy.c: a battery without a capacity file is read from
 * energy_now/energy_full, else charge_now/charge_full; a gauge above full reads as 100 %; a
 * battery with no level at all fails the read (-ENOENT), as a missing file must.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test-policy-tree.h"

static void test_energy(void **state)
{
	struct pol_decider *d = tree_decider(5000);
	struct pol_power p;
	struct tree t;

	(void)state;
	tree_init(&t);
	tree_ac(&t, "AC", 0);
	tree_battery(&t, "BAT0", "Discharging", -1);
	tree_battery_energy(&t, "BAT0", 7800000, 52000000); /* 15 % */
	assert_int_equal(pol_power_read(t.fd, &p, NULL), 0);
	assert_int_equal(p.supplies[1].level_from, POL_LEVEL_ENERGY);
	assert_int_equal(p.capacity, 15);
	tree_expect_mode(&t, d, 0, POL_MODE_LOW, POL_REASON_BELOW_LOW);
	pol_decider_free(d);
	tree_done(&t);
}

static void test_charge(void **state)
{
	struct pol_power p;
	struct tree t;

	(void)state;
	tree_init(&t);
	tree_battery(&t, "BAT0", "Discharging", -1);
	tree_supply_attr(&t, "BAT0", "charge_now", "1500000");
	tree_supply_attr(&t, "BAT0", "charge_full", "3000000");
	assert_int_equal(pol_power_read(t.fd, &p, NULL), 0);
	assert_int_equal(p.supplies[0].level_from, POL_LEVEL_CHARGE);
	assert_int_equal(p.supplies[0].weight_unit, POL_WEIGHT_CHARGE);
	assert_int_equal(p.capacity, 50);
	tree_done(&t);
}

static void test_above_full(void **state)
{
	struct pol_power p;
	struct tree t;

	(void)state;
	tree_init(&t);
	tree_battery(&t, "BAT0", "Discharging", -1);
	tree_battery_energy(&t, "BAT0", 53000000, 52000000);
	assert_int_equal(pol_power_read(t.fd, &p, NULL), 0);
	assert_int_equal(p.capacity, 100);
	tree_done(&t);
}

static void test_no_level(void **state)
{
	struct pol_power p = {.capacity = 42};
	struct tree t;

	(void)state;
	tree_init(&t);
	tree_battery(&t, "BAT0", "Discharging", -1);
	assert_int_equal(pol_power_read(t.fd, &p, NULL), -ENOENT);
	assert_int_equal(p.capacity, 42); /* untouched */
	/* energy_now without energy_full is no level either. */
	tree_supply_attr(&t, "BAT0", "energy_now", "1000");
	assert_int_equal(pol_power_read(t.fd, &p, NULL), -ENOENT);
	/* energy_full of 0 cannot divide: no level. */
	tree_supply_attr(&t, "BAT0", "energy_full", "0");
	assert_int_equal(pol_power_read(t.fd, &p, NULL), -ENOENT);
	/* A battery that is not present needs no level. */
	tree_supply_attr(&t, "BAT0", "present", "0");
	assert_int_equal(pol_power_read(t.fd, &p, NULL), 0);
	assert_false(p.have_battery);
	tree_done(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_energy),
		cmocka_unit_test(test_charge),
		cmocka_unit_test(test_above_full),
		cmocka_unit_test(test_no_level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
