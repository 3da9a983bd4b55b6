/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-power-two-batteries.c: several batteries combine by energy, not by
 * count — a big battery nearly empty and a small one full is nearly empty overall
 * (Σ energy_now / Σ energy_full). Charge-only batteries are converted with their design
 * voltage; sizes that cannot share a unit fall back to the plain mean.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test-policy-tree.h"

static void test_weighted_by_energy(void **state)
{
	struct fixture *f = *state;
	struct pol_power p;

	/* 90 Wh at 10 % and 10 Wh at 100 %: 19 Wh of 100 (a plain mean would say 55 %). */
	tree_laptop(&f->t, 0, "Discharging", 10);
	tree_battery_energy(&f->t, "BAT0", 9000000, 90000000);
	tree_battery(&f->t, "BAT1", "Discharging", 100);
	tree_battery_energy(&f->t, "BAT1", 10000000, 10000000);
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), 0);
	assert_int_equal(p.n_batteries, 2);
	assert_int_equal(p.supplies[1].weight_unit, POL_WEIGHT_ENERGY);
	assert_true(p.supplies[1].weight == 90000000);
	assert_int_equal(p.capacity, 19);
	tree_expect_mode(&f->t, f->d, 0, POL_MODE_LOW, POL_REASON_BELOW_LOW);

	/* Swap the levels: 91 % overall, unrestricted. */
	tree_battery(&f->t, "BAT0", "Discharging", 100);
	tree_battery_energy(&f->t, "BAT0", 90000000, 90000000);
	tree_battery(&f->t, "BAT1", "Discharging", 10);
	tree_battery_energy(&f->t, "BAT1", 1000000, 10000000);
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), 0);
	assert_int_equal(p.capacity, 91);
	tree_expect_mode(&f->t, f->d, 10000, POL_MODE_UNRESTRICTED, POL_REASON_ABOVE_HIGH);
}

static void test_charge_converted(void **state)
{
	struct fixture *f = *state;
	struct pol_power p;

	/* 4 Ah at 11.1 V = 44.4 Wh at 0 %, and 44.4 Wh of energy at 50 %: 25 % overall. */
	tree_battery(&f->t, "BAT0", "Discharging", -1);
	tree_battery_charge(&f->t, "BAT0", 0, 4000000);
	tree_supply_attr(&f->t, "BAT0", "voltage_min_design", "11100000");
	tree_battery(&f->t, "BAT1", "Discharging", -1);
	tree_battery_energy(&f->t, "BAT1", 22200000, 44400000);
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), 0);
	assert_int_equal(p.supplies[0].level_from, POL_LEVEL_CHARGE);
	assert_int_equal(p.supplies[0].weight_unit, POL_WEIGHT_ENERGY);
	assert_true(p.supplies[0].weight == 44400000);
	assert_int_equal(p.supplies[1].level_from, POL_LEVEL_ENERGY);
	assert_int_equal(p.capacity, 25);
}

static void test_units_mixed(void **state)
{
	struct fixture *f = *state;
	struct pol_power p;

	/* One size in µAh without a voltage, one in µWh: no common unit, so the mean. */
	tree_battery(&f->t, "BAT0", "Discharging", 10);
	tree_supply_attr(&f->t, "BAT0", "charge_full", "4000000");
	tree_battery(&f->t, "BAT1", "Discharging", 30);
	tree_battery_energy(&f->t, "BAT1", 3000000, 10000000);
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), 0);
	assert_int_equal(p.supplies[0].weight_unit, POL_WEIGHT_CHARGE);
	assert_int_equal(p.capacity, 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		tree_decider_test(test_weighted_by_energy, 5000),
		tree_test(test_charge_converted),
		tree_test(test_units_mixed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
