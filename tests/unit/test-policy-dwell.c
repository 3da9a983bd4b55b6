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
	tree_laptop(t, on, on ? "Charging" : "Discharging", 15);
}

static void test_waits(void **state)
{
	struct fixture *f = *state;
	struct pol_decision dec;
	struct round rd;
	uint64_t when;

	plug(&f->t, 1);
	/* The first reading applies at once. */
	tree_round(&f->t, f->d, 100000, &rd);
	assert_int_equal(rd.dec.mode, POL_MODE_UNRESTRICTED);
	assert_int_equal(rd.dec.mode_reason, POL_REASON_AC);
	assert_false(pol_decider_get_deadline(f->d, &when));

	plug(&f->t, 0);
	tree_round(&f->t, f->d, 101000, &rd);
	assert_int_equal(rd.dec.mode, POL_MODE_UNRESTRICTED);
	assert_int_equal(rd.dec.mode_wanted, POL_MODE_LOW);
	assert_false(rd.bits & POL_CHANGED_MODE);
	assert_true(pol_decider_get_deadline(f->d, &when));
	assert_true(when == 100000 + DWELL);
	assert_int_equal(pol_decider_set_time(f->d, 104999), 0);
	pol_decider_get_decision(f->d, &dec);
	assert_int_equal(dec.mode, POL_MODE_UNRESTRICTED);
	assert_int_equal(pol_decider_set_time(f->d, 105000), POL_CHANGED_MODE);
	pol_decider_get_decision(f->d, &dec);
	assert_int_equal(dec.mode, POL_MODE_LOW);
	assert_int_equal(dec.mode_reason, POL_REASON_BELOW_LOW);
	assert_true(dec.mode_since_ms == 105000);
	assert_false(pol_decider_get_deadline(f->d, &when));

	/* Plugged in and out again within the dwell: nothing happens, nothing waits. */
	plug(&f->t, 1);
	tree_round(&f->t, f->d, 106000, &rd);
	assert_int_equal(rd.dec.mode, POL_MODE_LOW);
	assert_true(pol_decider_get_deadline(f->d, &when));
	assert_true(when == 110000);
	plug(&f->t, 0);
	tree_round(&f->t, f->d, 107000, &rd);
	assert_false(pol_decider_get_deadline(f->d, &when));
	assert_int_equal(pol_decider_set_time(f->d, 120000), 0);
	pol_decider_get_decision(f->d, &dec);
	assert_int_equal(dec.mode, POL_MODE_LOW);
}

/* AC toggled every 100 ms for a minute: at most one change per dwell. */
static void test_toggling(void **state)
{
	struct fixture *f = *state;
	unsigned changes = 0;

	for (uint64_t now = 0; now < 60000; now += 100) {
		struct round rd;

		plug(&f->t, (now / 100) % 2);
		tree_round(&f->t, f->d, now, &rd);
		if (rd.bits & POL_CHANGED_MODE)
			changes++;
	}
	assert_true(changes >= 2);
	assert_true(changes <= 60000 / DWELL + 1);
}

static void test_critical_does_not_wait(void **state)
{
	struct fixture *f = *state;
	struct round rd;

	tree_zone(&f->t, 0, "x86_pkg_temp", 50000);
	tree_trip(&f->t, 0, 0, "passive", 90000);
	tree_trip(&f->t, 0, 1, "critical", 100000);
	tree_round(&f->t, f->d, 0, &rd);
	tree_zone_temp(&f->t, 0, 91000);
	tree_round(&f->t, f->d, 1000, &rd);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_NOMINAL); /* nominal began at 0: waits */
	tree_round(&f->t, f->d, 5000, &rd);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_SERIOUS);
	tree_zone_temp(&f->t, 0, 80000);
	tree_round(&f->t, f->d, 6000, &rd);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_SERIOUS); /* cooling waits */
	tree_zone_temp(&f->t, 0, 100000);
	tree_round(&f->t, f->d, 6100, &rd);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_CRITICAL); /* heating to critical does not */
	assert_true(rd.bits & POL_CHANGED_THERMAL);
	tree_zone_temp(&f->t, 0, 50000);
	tree_round(&f->t, f->d, 7000, &rd);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_CRITICAL);
	assert_int_equal(pol_decider_set_time(f->d, 11099), 0);
	assert_int_equal(pol_decider_set_time(f->d, 11100), POL_CHANGED_THERMAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		tree_decider_test(test_waits, DWELL),
		tree_decider_test(test_toggling, DWELL),
		tree_decider_test(test_critical_does_not_wait, DWELL),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
