/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-dwell.c: the minimum dwell time — after a change, the next automatic
 * change waits until the state has lasted dwell_ms; a wish that reverts meanwhile is
 * forgotten; the first reading starts the clock; the deadline says when to look again; an input
 * toggling fast changes the state at most once per dwell; a rise to critical does not wait.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test-policy-tree.h"

#define DWELL 5000

static void plug(struct tree *t, int on)
{
	tree_ac(t, "AC", on);
	tree_battery(t, "BAT0", on ? "Charging" : "Discharging", 15);
}

static void test_waits(void **state)
{
	struct pol_decider *d = tree_decider(DWELL);
	struct pol_decision dec;
	struct round rd;
	uint64_t when;
	struct tree t;

	(void)state;
	tree_init(&t);
	plug(&t, 1);
	/* The first reading applies at once. */
	tree_round(&t, d, 100000, &rd);
	assert_int_equal(rd.dec.mode, POL_MODE_UNRESTRICTED);
	assert_int_equal(rd.dec.mode_reason, POL_REASON_AC);
	assert_false(pol_decider_get_deadline(d, &when));

	plug(&t, 0);
	tree_round(&t, d, 101000, &rd);
	assert_int_equal(rd.dec.mode, POL_MODE_UNRESTRICTED);
	assert_int_equal(rd.dec.mode_wanted, POL_MODE_LOW);
	assert_false(rd.bits & POL_CHANGED_MODE);
	assert_true(pol_decider_get_deadline(d, &when));
	assert_true(when == 100000 + DWELL);
	assert_int_equal(pol_decider_set_time(d, 104999), 0);
	pol_decider_get_decision(d, &dec);
	assert_int_equal(dec.mode, POL_MODE_UNRESTRICTED);
	assert_int_equal(pol_decider_set_time(d, 105000), POL_CHANGED_MODE);
	pol_decider_get_decision(d, &dec);
	assert_int_equal(dec.mode, POL_MODE_LOW);
	assert_int_equal(dec.mode_reason, POL_REASON_BELOW_LOW);
	assert_true(dec.mode_since_ms == 105000);
	assert_false(pol_decider_get_deadline(d, &when));

	/* Plugged in and out again within the dwell: nothing happens, nothing waits. */
	plug(&t, 1);
	tree_round(&t, d, 106000, &rd);
	assert_int_equal(rd.dec.mode, POL_MODE_LOW);
	assert_true(pol_decider_get_deadline(d, &when));
	assert_true(when == 110000);
	plug(&t, 0);
	tree_round(&t, d, 107000, &rd);
	assert_false(pol_decider_get_deadline(d, &when));
	assert_int_equal(pol_decider_set_time(d, 120000), 0);
	pol_decider_get_decision(d, &dec);
	assert_int_equal(dec.mode, POL_MODE_LOW);
	pol_decider_free(d);
	tree_done(&t);
}

/* AC toggled every 100 ms for a minute: at most one change per dwell. */
static void test_toggling(void **state)
{
	struct pol_decider *d = tree_decider(DWELL);
	unsigned changes = 0;
	struct tree t;

	(void)state;
	tree_init(&t);
	for (uint64_t now = 0; now < 60000; now += 100) {
		struct round rd;

		plug(&t, (now / 100) % 2);
		tree_round(&t, d, now, &rd);
		if (rd.bits & POL_CHANGED_MODE)
			changes++;
	}
	assert_true(changes >= 2);
	assert_true(changes <= 60000 / DWELL + 1);
	pol_decider_free(d);
	tree_done(&t);
}

static void test_critical_does_not_wait(void **state)
{
	struct pol_decider *d = tree_decider(DWELL);
	struct round rd;
	struct tree t;

	(void)state;
	tree_init(&t);
	tree_zone(&t, 0, "x86_pkg_temp", 50000);
	tree_trip(&t, 0, 0, "passive", 90000);
	tree_trip(&t, 0, 1, "critical", 100000);
	tree_round(&t, d, 0, &rd);
	tree_zone_temp(&t, 0, 91000);
	tree_round(&t, d, 1000, &rd);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_NOMINAL); /* nominal began at 0: waits */
	tree_round(&t, d, 5000, &rd);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_SERIOUS);
	tree_zone_temp(&t, 0, 80000);
	tree_round(&t, d, 6000, &rd);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_SERIOUS); /* cooling waits */
	tree_zone_temp(&t, 0, 100000);
	tree_round(&t, d, 6100, &rd);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_CRITICAL); /* heating to critical does not */
	assert_true(rd.bits & POL_CHANGED_THERMAL);
	tree_zone_temp(&t, 0, 50000);
	tree_round(&t, d, 7000, &rd);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_CRITICAL);
	assert_int_equal(pol_decider_set_time(d, 11099), 0);
	assert_int_equal(pol_decider_set_time(d, 11100), POL_CHANGED_THERMAL);
	pol_decider_free(d);
	tree_done(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_waits),
		cmocka_unit_test(test_toggling),
		cmocka_unit_test(test_critical_does_not_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
