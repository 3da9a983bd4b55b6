/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-errors.c: garbage, empty and huge values make the reader fail with
 * -EINVAL/-ERANGE; the decider then keeps its last good decision, flags the first failure
 * once (POL_ERROR_FIRST) and the return to good readings once (POL_RECOVERED). Failing from
 * the start leaves the neutral defaults (unrestricted, nominal).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test-policy-tree.h"

static void expect_power_error(struct tree *t, struct pol_decider *d, uint64_t now, int err,
			       bool first)
{
	struct round rd;

	tree_round(t, d, now, &rd);
	assert_int_equal(rd.power_r, err);
	assert_int_equal(rd.dec.power_error, err);
	assert_int_equal(!!(rd.bits & POL_ERROR_FIRST), first);
	assert_false(rd.bits & POL_CHANGED_MODE);
	assert_int_equal(rd.dec.mode, POL_MODE_LOW); /* the last good decision */
	assert_int_equal(rd.dec.capacity, 15);
}

static void test_power_garbage(void **state)
{
	struct fixture *f = *state;
	uint64_t now = 0;
	struct round rd;

	tree_laptop(&f->t, 0, "Discharging", 15);
	tree_expect_mode(&f->t, f->d, now, POL_MODE_LOW, POL_REASON_BELOW_LOW);

	tree_supply_attr(&f->t, "BAT0", "capacity", "garbage");
	expect_power_error(&f->t, f->d, now += 1000, -EINVAL, true);
	expect_power_error(&f->t, f->d, now += 1000, -EINVAL, false); /* said once */
	tree_write(&f->t, "class/power_supply/BAT0/capacity", "%s", "");
	expect_power_error(&f->t, f->d, now += 1000, -EINVAL, false);
	tree_supply_attr(&f->t, "BAT0", "capacity", "99999999999999999999999");
	expect_power_error(&f->t, f->d, now += 1000, -ERANGE, false);
	tree_supply_attr(&f->t, "BAT0", "capacity", "1000");
	expect_power_error(&f->t, f->d, now += 1000, -ERANGE, false);
	tree_supply_attr(&f->t, "BAT0", "capacity", "-3");
	expect_power_error(&f->t, f->d, now += 1000, -EINVAL, false);
	tree_supply_attr(&f->t, "AC", "online", "yes");
	expect_power_error(&f->t, f->d, now += 1000, -EINVAL, false);
	tree_ac(&f->t, "AC", 0);
	tree_supply_attr(&f->t, "BAT0", "status", "");
	expect_power_error(&f->t, f->d, now += 1000, -EINVAL, false);
	tree_supply_attr(&f->t, "BAT0", "status", "Discharging");

	/* Back to good values: recovered, flagged once; a later change decides again. */
	tree_supply_attr(&f->t, "BAT0", "capacity", "15");
	tree_round(&f->t, f->d, now += 1000, &rd);
	assert_int_equal(rd.power_r, 0);
	assert_true(rd.bits & POL_RECOVERED);
	assert_int_equal(rd.dec.power_error, 0);
	tree_round(&f->t, f->d, now += 1000, &rd);
	assert_false(rd.bits & POL_RECOVERED);
	tree_supply_attr(&f->t, "BAT0", "capacity", "50");
	tree_expect_mode(&f->t, f->d, now += 1000, POL_MODE_NORMAL, POL_REASON_ON_BATTERY);

	/* A new failure after the recovery is a first failure again. */
	tree_supply_attr(&f->t, "BAT0", "capacity", "5O");
	tree_round(&f->t, f->d, now += 1000, &rd);
	assert_true(rd.bits & POL_ERROR_FIRST);
	assert_int_equal(rd.dec.mode, POL_MODE_NORMAL);
}

static void test_thermal_garbage(void **state)
{
	static const char *const bad[] = {
		"hot\n", "", "\n", "1e5\n", "99999999999999999999999\n", "45000 45000\n"};
	struct fixture *f = *state;
	uint64_t now = 0;
	struct round rd;

	tree_zone(&f->t, 0, "x86_pkg_temp", 95000);
	tree_trip(&f->t, 0, 0, "passive", 90000);
	tree_round(&f->t, f->d, now, &rd);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_SERIOUS);
	for (size_t i = 0; i < EL_N_ELEMENTS(bad); i++) {
		tree_write(&f->t, "class/thermal/thermal_zone0/temp", "%s", bad[i]);
		tree_round(&f->t, f->d, now += 1000, &rd);
		assert_true(rd.thermal_r == -EINVAL || rd.thermal_r == -ERANGE);
		assert_int_equal(!!(rd.bits & POL_ERROR_FIRST), i == 0);
		assert_int_equal(rd.dec.thermal, POL_THERMAL_SERIOUS);
		assert_int_equal(rd.dec.thermal_error, rd.thermal_r);
	}
	/* Garbage in a trip point fails the read too. */
	tree_zone_temp(&f->t, 0, 20000);
	tree_write(&f->t, "class/thermal/thermal_zone0/trip_point_0_temp", "ninety\n");
	tree_round(&f->t, f->d, now += 1000, &rd);
	assert_int_equal(rd.thermal_r, -EINVAL);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_SERIOUS);
	tree_trip(&f->t, 0, 0, "passive", 90000);
	tree_round(&f->t, f->d, now += 1000, &rd);
	assert_true(rd.bits & POL_RECOVERED);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_NOMINAL);
}

static void test_failing_from_start(void **state)
{
	struct fixture *f = *state;
	struct round rd;

	tree_battery(&f->t, "BAT0", "Discharging", 5);
	tree_supply_attr(&f->t, "BAT0", "capacity", "x");
	tree_profile(&f->t, "low-power");
	tree_round(&f->t, f->d, 0, &rd);
	assert_int_equal(rd.power_r, -EINVAL);
	assert_true(rd.bits & POL_ERROR_FIRST);
	/* No good power reading yet: the profile alone does not decide. */
	assert_int_equal(rd.dec.mode, POL_MODE_UNRESTRICTED);
	assert_int_equal(rd.dec.mode_reason, POL_REASON_NO_DATA);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_NOMINAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		tree_decider_test(test_power_garbage, 0),
		tree_decider_test(test_thermal_garbage, 0),
		tree_decider_test(test_failing_from_start, 0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
