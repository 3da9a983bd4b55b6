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

static void expect_no_battery(struct fixture *f)
{
	struct pol_power p;

	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), 0);
	assert_false(p.have_battery);
	assert_false(p.discharging);
	assert_int_equal(p.n_batteries, 0);
	assert_int_equal(p.capacity, -1);
	tree_expect_mode(&f->t, f->d, 0, POL_MODE_UNRESTRICTED, POL_REASON_NO_BATTERY);
}

static void test_no_class_dir(void **state)
{
	struct fixture *f = *state;
	struct pol_trace *tr = calloc(1, sizeof(*tr));
	struct pol_power p;

	expect_no_battery(f);
	assert_int_equal(pol_power_read(f->t.fd, &p, tr), 0);
	assert_int_equal(p.n_supplies, 0);
	/* The trace says why there is nothing. */
	assert_int_equal(tr->n_entries, 1);
	assert_string_equal(tr->entries[0].path, "class/power_supply");
	assert_int_equal(tr->entries[0].error, -ENOENT);
	free(tr);
}

static void test_empty_class_dir(void **state)
{
	struct fixture *f = *state;

	tree_mkdirs(&f->t, "class/power_supply/");
	expect_no_battery(f);
}

static void test_mouse_battery(void **state)
{
	struct fixture *f = *state;
	struct pol_power p;

	tree_battery(&f->t, "hidpp_battery_0", "Discharging", 5);
	tree_supply_attr(&f->t, "hidpp_battery_0", "scope", "Device");
	tree_supply_attr(&f->t, "hidpp_battery_0", "online", "1");
	expect_no_battery(f);
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), 0);
	assert_int_equal(p.n_supplies, 1);
	assert_true(p.supplies[0].device_scope);
	assert_int_equal(p.supplies[0].capacity, 5);
}

static void test_ups(void **state)
{
	struct fixture *f = *state;
	struct pol_power p;

	tree_supply_attr(&f->t, "ups0", "type", "UPS");
	tree_supply_attr(&f->t, "ups0", "online", "1");
	expect_no_battery(f);
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), 0);
	assert_true(p.ac_online);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		tree_decider_test(test_no_class_dir, 5000),
		tree_decider_test(test_empty_class_dir, 5000),
		tree_decider_test(test_mouse_battery, 5000),
		tree_decider_test(test_ups, 5000),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
