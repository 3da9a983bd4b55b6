/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-power-desktop.c: a machine without a system battery is unrestricted —
 * no class/power_supply at all (a VM), an empty one, a desktop whose only battery is a
 * wireless mouse's (scope Device: listed, never counted), a server on a UPS.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test-policy-tree.h"

static void expect_no_battery(struct tree *t)
{
	struct pol_decider *d = tree_decider(5000);
	struct pol_power p;

	assert_int_equal(pol_power_read(t->fd, &p, NULL), 0);
	assert_false(p.have_battery);
	assert_false(p.discharging);
	assert_int_equal(p.n_batteries, 0);
	assert_int_equal(p.capacity, -1);
	tree_expect_mode(t, d, 0, POL_MODE_UNRESTRICTED, POL_REASON_NO_BATTERY);
	pol_decider_free(d);
}

static void test_no_class_dir(void **state)
{
	struct pol_trace *tr = calloc(1, sizeof(*tr));
	struct pol_power p;
	struct tree t;

	(void)state;
	tree_init(&t);
	expect_no_battery(&t);
	assert_int_equal(pol_power_read(t.fd, &p, tr), 0);
	assert_int_equal(p.n_supplies, 0);
	/* The trace says why there is nothing. */
	assert_int_equal(tr->n_entries, 1);
	assert_string_equal(tr->entries[0].path, "class/power_supply");
	assert_int_equal(tr->entries[0].error, -ENOENT);
	free(tr);
	tree_done(&t);
}

static void test_empty_class_dir(void **state)
{
	struct tree t;

	(void)state;
	tree_init(&t);
	tree_mkdirs(&t, "class/power_supply/");
	expect_no_battery(&t);
	tree_done(&t);
}

static void test_mouse_battery(void **state)
{
	struct pol_power p;
	struct tree t;

	(void)state;
	tree_init(&t);
	tree_battery(&t, "hidpp_battery_0", "Discharging", 5);
	tree_supply_attr(&t, "hidpp_battery_0", "scope", "Device");
	tree_supply_attr(&t, "hidpp_battery_0", "online", "1");
	expect_no_battery(&t);
	assert_int_equal(pol_power_read(t.fd, &p, NULL), 0);
	assert_int_equal(p.n_supplies, 1);
	assert_true(p.supplies[0].device_scope);
	assert_int_equal(p.supplies[0].capacity, 5);
	tree_done(&t);
}

static void test_ups(void **state)
{
	struct pol_power p;
	struct tree t;

	(void)state;
	tree_init(&t);
	tree_supply_attr(&t, "ups0", "type", "UPS");
	tree_supply_attr(&t, "ups0", "online", "1");
	expect_no_battery(&t);
	assert_int_equal(pol_power_read(t.fd, &p, NULL), 0);
	assert_true(p.ac_online);
	tree_done(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_class_dir),
		cmocka_unit_test(test_empty_class_dir),
		cmocka_unit_test(test_mouse_battery),
		cmocka_unit_test(test_ups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
