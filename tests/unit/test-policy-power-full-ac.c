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
	struct pol_decider *d = tree_decider(5000);
	struct pol_power p;
	struct tree t;

	(void)state;
	tree_init(&t);
	tree_ac(&t, "AC", 1);
	tree_battery(&t, "BAT0", "Full", 100);
	assert_int_equal(pol_power_read(t.fd, &p, NULL), 0);
	assert_true(p.ac_online);
	assert_true(p.full);
	assert_false(p.discharging);
	assert_int_equal(p.capacity, 100);
	tree_expect_mode(&t, d, 0, POL_MODE_UNRESTRICTED, POL_REASON_AC);
	pol_decider_free(d);
	tree_done(&t);
}

static void test_full_unplugged(void **state)
{
	struct pol_decider *d = tree_decider(5000);
	struct tree t;

	(void)state;
	tree_init(&t);
	tree_ac(&t, "AC", 0);
	tree_battery(&t, "BAT0", "Full", 79); /* a worn battery: "Full" below 80 % */
	tree_expect_mode(&t, d, 0, POL_MODE_UNRESTRICTED, POL_REASON_FULL);
	pol_decider_free(d);
	tree_done(&t);
}

static void test_full_needs_every_battery(void **state)
{
	struct pol_decider *d = tree_decider(5000);
	struct pol_power p;
	struct tree t;

	(void)state;
	tree_init(&t);
	tree_ac(&t, "AC", 0);
	tree_battery(&t, "BAT0", "Full", 100);
	tree_battery_energy(&t, "BAT0", 20000000, 20000000);
	tree_battery(&t, "BAT1", "Discharging", 10);
	tree_battery_energy(&t, "BAT1", 8000000, 80000000);
	assert_int_equal(pol_power_read(t.fd, &p, NULL), 0);
	assert_false(p.full);
	assert_true(p.discharging);
	assert_int_equal(p.capacity, 28); /* (100·20 + 10·80) / 100 */
	tree_expect_mode(&t, d, 0, POL_MODE_NORMAL, POL_REASON_ON_BATTERY);
	pol_decider_free(d);
	tree_done(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_on_ac),
		cmocka_unit_test(test_full_unplugged),
		cmocka_unit_test(test_full_needs_every_battery),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
