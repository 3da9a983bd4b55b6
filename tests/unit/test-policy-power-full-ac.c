/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-power-full-ac.c: a full battery is unrestricted — on AC (the AC rule
 * comes first), and off AC while the battery still says Full; two batteries count as full only
 * when both are.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test-policy-tree.h"

static void test_full_on_ac(void **state)
{
	struct fixture *f = *state;
	struct pol_power p;

	tree_laptop(&f->t, 1, "Full", 100);
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), 0);
	assert_true(p.ac_online);
	assert_true(p.full);
	assert_false(p.discharging);
	assert_int_equal(p.capacity, 100);
	tree_expect_mode(&f->t, f->d, 0, POL_MODE_UNRESTRICTED, POL_REASON_AC);
}

static void test_full_unplugged(void **state)
{
	struct fixture *f = *state;

	tree_laptop(&f->t, 0, "Full", 79); /* a worn battery: "Full" below 80 % */
	tree_expect_mode(&f->t, f->d, 0, POL_MODE_UNRESTRICTED, POL_REASON_FULL);
}

static void test_full_needs_every_battery(void **state)
{
	struct fixture *f = *state;
	struct pol_power p;

	tree_laptop(&f->t, 0, "Full", 100);
	tree_battery_energy(&f->t, "BAT0", 20000000, 20000000);
	tree_battery(&f->t, "BAT1", "Discharging", 10);
	tree_battery_energy(&f->t, "BAT1", 8000000, 80000000);
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), 0);
	assert_false(p.full);
	assert_true(p.discharging);
	assert_int_equal(p.capacity, 28); /* (100·20 + 10·80) / 100 */
	tree_expect_mode(&f->t, f->d, 0, POL_MODE_NORMAL, POL_REASON_ON_BATTERY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		tree_decider_test(test_full_on_ac, 5000),
		tree_decider_test(test_full_unplugged, 5000),
		tree_decider_test(test_full_needs_every_battery, 5000),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
