/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-thermal-zones.c: which zones count and how they combine — zones are
 * read in numeric order with their trip points; a selection by type watches only those zones
 * (empty = all); the most severe zone wins, whatever its absolute temperature; active trips
 * (fans), disabled trips (<= 0) and unknown trip types do not count; a zone without trips is
 * nominal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test-policy-tree.h"

static void machine(struct tree *t)
{
	/* acpitz: cool in absolute terms but near its low passive trip. */
	tree_zone(t, 0, "acpitz", 52000);
	tree_trip(t, 0, 0, "critical", 98000);
	tree_trip(t, 0, 1, "passive", 55000);
	/* x86_pkg_temp: hotter, but far from its trips; a disabled passive trip first. */
	tree_zone(t, 2, "x86_pkg_temp", 70000);
	tree_trip(t, 2, 0, "passive", 0);
	tree_trip(t, 2, 1, "active", 60000);
	tree_trip(t, 2, 2, "passive", 95000);
	tree_trip(t, 2, 3, "critical", 105000);
	tree_trip(t, 2, 4, "weird", 50000);
	/* No trips at all, and the hottest. */
	tree_zone(t, 10, "INT3400 Thermal", 99000);
}

static void test_read(void **state)
{
	struct fixture *f = *state;
	struct pol_thermal th;

	machine(&f->t);
	assert_int_equal(pol_thermal_read(f->t.fd, NULL, 0, &th, NULL), 0);
	assert_int_equal(th.n_zones, 3);
	assert_false(th.truncated);
	assert_string_equal(th.zones[0].name, "thermal_zone0");
	assert_string_equal(th.zones[1].name, "thermal_zone2");
	assert_string_equal(th.zones[2].name, "thermal_zone10");
	assert_string_equal(th.zones[2].type, "INT3400 Thermal");
	assert_true(th.zones[1].has_temp);
	assert_true(th.zones[1].temp_mc == 70000);
	/* trip 0 (disabled) and trip 4 (unknown type) left out. */
	assert_int_equal(th.zones[1].n_trips, 3);
	assert_int_equal(th.zones[1].trips[0].type, POL_TRIP_ACTIVE);
	assert_int_equal(th.zones[1].trips[1].type, POL_TRIP_PASSIVE);
	assert_true(th.zones[1].trips[1].temp_mc == 95000);
	assert_int_equal(th.zones[1].trips[2].type, POL_TRIP_CRITICAL);
	assert_int_equal(th.zones[2].n_trips, 0);
}

static void test_most_severe_wins(void **state)
{
	struct fixture *f = *state;
	struct round rd;

	machine(&f->t);
	tree_round(&f->t, f->d, 0, &rd);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_FAIR); /* acpitz: 52 °C >= 55 - 5 */
	assert_int_equal(rd.dec.thermal_reason, POL_REASON_NEAR_PASSIVE);
	assert_string_equal(rd.dec.zone, "thermal_zone0");
	tree_zone_temp(&f->t, 2, 96000);
	tree_round(&f->t, f->d, 100, &rd);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_SERIOUS);
	assert_string_equal(rd.dec.zone, "thermal_zone2");
	tree_zone_temp(&f->t, 0, 98000);
	tree_round(&f->t, f->d, 200, &rd);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_CRITICAL);
	assert_int_equal(rd.dec.thermal_reason, POL_REASON_CRITICAL);
	assert_string_equal(rd.dec.zone, "thermal_zone0");
}

static void test_selection(void **state)
{
	static const char *const pkg[] = {"x86_pkg_temp"};
	static const char *const none[] = {"no_such_zone"};
	static const char *const notrips[] = {"INT3400 Thermal"};
	struct fixture *f = *state;
	struct pol_thermal th;
	int r;

	machine(&f->t);
	assert_int_equal(pol_thermal_read(f->t.fd, pkg, 1, &th, NULL), 0);
	assert_int_equal(th.n_zones, 1);
	assert_string_equal(th.zones[0].type, "x86_pkg_temp");
	r = pol_decider_set_thermal(f->d, 0, &th, 0);
	assert_true(r >= 0);
	{
		struct pol_decision dec;

		pol_decider_get_decision(f->d, &dec);
		assert_int_equal(dec.thermal, POL_THERMAL_NOMINAL); /* acpitz is not watched */
		assert_int_equal(dec.thermal_reason, POL_REASON_COOL);
		assert_true(dec.zone_threshold_mc == 90000); /* the next threshold: fair */
	}
	assert_int_equal(pol_thermal_read(f->t.fd, none, 1, &th, NULL), 0);
	assert_int_equal(th.n_zones, 0);
	assert_int_equal(pol_thermal_read(f->t.fd, notrips, 1, &th, NULL), 0);
	assert_int_equal(th.n_zones, 1);
	assert_true(pol_decider_set_thermal(f->d, 0, &th, 100) >= 0);
	{
		struct pol_decision dec;

		pol_decider_get_decision(f->d, &dec);
		assert_int_equal(dec.thermal, POL_THERMAL_NOMINAL);
		assert_int_equal(dec.thermal_reason, POL_REASON_NO_TRIPS);
	}
	assert_int_equal(pol_thermal_read(f->t.fd, NULL, 1, &th, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		tree_test(test_read),
		tree_decider_test(test_most_severe_wins, 0),
		tree_decider_test(test_selection, 0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
