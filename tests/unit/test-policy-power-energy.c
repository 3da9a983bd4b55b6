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
	struct fixture *f = *state;
	struct pol_power p;

	tree_laptop(&f->t, 0, "Discharging", -1);
	tree_battery_energy(&f->t, "BAT0", 7800000, 52000000); /* 15 % */
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), 0);
	assert_int_equal(p.supplies[1].level_from, POL_LEVEL_ENERGY);
	assert_int_equal(p.capacity, 15);
	tree_expect_mode(&f->t, f->d, 0, POL_MODE_LOW, POL_REASON_BELOW_LOW);
}

static void test_charge(void **state)
{
	struct fixture *f = *state;
	struct pol_power p;

	tree_battery(&f->t, "BAT0", "Discharging", -1);
	tree_battery_charge(&f->t, "BAT0", 1500000, 3000000);
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), 0);
	assert_int_equal(p.supplies[0].level_from, POL_LEVEL_CHARGE);
	assert_int_equal(p.supplies[0].weight_unit, POL_WEIGHT_CHARGE);
	assert_int_equal(p.capacity, 50);
}

static void test_above_full(void **state)
{
	struct fixture *f = *state;
	struct pol_power p;

	tree_battery(&f->t, "BAT0", "Discharging", -1);
	tree_battery_energy(&f->t, "BAT0", 53000000, 52000000);
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), 0);
	assert_int_equal(p.capacity, 100);
}

static void test_no_level(void **state)
{
	struct fixture *f = *state;
	struct pol_power p = {.capacity = 42};

	tree_battery(&f->t, "BAT0", "Discharging", -1);
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), -ENOENT);
	assert_int_equal(p.capacity, 42); /* untouched */
	/* energy_now without energy_full is no level either. */
	tree_supply_attr(&f->t, "BAT0", "energy_now", "1000");
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), -ENOENT);
	/* energy_full of 0 cannot divide: no level. */
	tree_supply_attr(&f->t, "BAT0", "energy_full", "0");
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), -ENOENT);
	/* A battery that is not present needs no level. */
	tree_supply_attr(&f->t, "BAT0", "present", "0");
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), 0);
	assert_false(p.have_battery);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		tree_decider_test(test_energy, 5000),
		tree_test(test_charge),
		tree_test(test_above_full),
		tree_test(test_no_level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
