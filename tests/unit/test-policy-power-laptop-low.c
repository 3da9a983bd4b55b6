/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-power-laptop-low.c: a laptop off AC, discharging at 15 %, is in low
 * mode; the reader reports what it read (summary, per supply, and the trace of files and
 * values). At 50 % the same laptop is normal, at 90 % unrestricted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test-policy-tree.h"

static const struct pol_trace_entry *find(const struct pol_trace *tr, const char *path)
{
	for (size_t i = 0; i < tr->n_entries; i++)
		if (strcmp(tr->entries[i].path, path) == 0)
			return &tr->entries[i];
	return NULL;
}

static void test_low_at_15(void **state)
{
	static struct pol_trace tr;
	struct fixture *f = *state;
	struct pol_power p;
	struct round rd;

	tree_laptop(&f->t, 0, "Discharging", 15);

	pol_trace_reset(&tr);
	assert_int_equal(pol_power_read(f->t.fd, &p, &tr), 0);
	assert_false(p.ac_online);
	assert_true(p.have_battery);
	assert_true(p.discharging);
	assert_false(p.charging);
	assert_false(p.full);
	assert_int_equal(p.capacity, 15);
	assert_int_equal(p.n_batteries, 1);
	assert_int_equal(p.n_supplies, 2);
	assert_string_equal(p.supplies[0].name, "AC");
	assert_int_equal(p.supplies[0].type, POL_SUPPLY_MAINS);
	assert_false(p.supplies[0].online);
	assert_string_equal(p.supplies[1].name, "BAT0");
	assert_int_equal(p.supplies[1].type, POL_SUPPLY_BATTERY);
	assert_int_equal(p.supplies[1].status, POL_STATUS_DISCHARGING);
	assert_int_equal(p.supplies[1].level_from, POL_LEVEL_CAPACITY);

	/* What was read, for `status`: the files and their values. */
	assert_int_equal(tr.dropped, 0);
	assert_non_null(find(&tr, "class/power_supply/AC/online"));
	assert_string_equal(find(&tr, "class/power_supply/AC/online")->value, "0");
	assert_string_equal(find(&tr, "class/power_supply/BAT0/status")->value, "Discharging");
	assert_string_equal(find(&tr, "class/power_supply/BAT0/capacity")->value, "15");
	assert_int_equal(find(&tr, "class/power_supply/BAT0/capacity")->error, 0);
	assert_null(find(&tr, "class/power_supply/BAT0/energy_now")); /* absent: not listed */

	tree_round(&f->t, f->d, 1000, &rd);
	assert_int_equal(rd.dec.mode, POL_MODE_LOW);
	assert_int_equal(rd.dec.mode_reason, POL_REASON_BELOW_LOW);
	assert_int_equal(rd.dec.capacity, 15);
	assert_true(rd.bits & POL_CHANGED_MODE); /* from the initial unrestricted */
	assert_false(rd.bits & POL_ERROR_FIRST);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_NOMINAL);
	assert_int_equal(rd.dec.thermal_reason, POL_REASON_NO_ZONES);
}

static void test_levels(void **state)
{
	static const struct {
		int capacity;
		enum pol_mode mode;
		enum pol_reason why;
	} cases[] = {
		{0, POL_MODE_LOW, POL_REASON_BELOW_LOW},
		{19, POL_MODE_LOW, POL_REASON_BELOW_LOW},
		{20, POL_MODE_NORMAL, POL_REASON_ON_BATTERY},
		{50, POL_MODE_NORMAL, POL_REASON_ON_BATTERY},
		{80, POL_MODE_NORMAL, POL_REASON_ON_BATTERY},
		{81, POL_MODE_UNRESTRICTED, POL_REASON_ABOVE_HIGH},
		{100, POL_MODE_UNRESTRICTED, POL_REASON_ABOVE_HIGH},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pol_decider *d = tree_decider(5000);
		struct tree t;

		tree_init(&t);
		tree_laptop(&t, 0, "Discharging", cases[i].capacity);
		tree_expect_mode(&t, d, 0, cases[i].mode, cases[i].why);
		pol_decider_free(d);
		tree_done(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		tree_decider_test(test_low_at_15, 5000),
		cmocka_unit_test(test_levels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
