/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-override.c: a user override pins the mode and/or the thermal state
 * at once (no dwell); the automatic decision goes on underneath and changes under a pin are
 * not reported as changes; releasing the pin (auto) returns to the automatic state at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test-policy-tree.h"

static void test_mode_pin(void **state)
{
	struct fixture *f = *state;
	struct pol_decision dec;
	struct round rd;

	tree_laptop(&f->t, 0, "Discharging", 15);
	tree_expect_mode(&f->t, f->d, 0, POL_MODE_LOW, POL_REASON_BELOW_LOW);

	assert_int_equal(pol_decider_set_mode_override(f->d, true, POL_MODE_UNRESTRICTED, 100),
			 POL_CHANGED_MODE);
	pol_decider_get_decision(f->d, &dec);
	assert_int_equal(dec.mode, POL_MODE_UNRESTRICTED);
	assert_true(dec.mode_pinned);
	assert_int_equal(dec.mode_auto, POL_MODE_LOW);
	/* Pinning again to the same: no change. */
	assert_int_equal(pol_decider_set_mode_override(f->d, true, POL_MODE_UNRESTRICTED, 200), 0);

	/* Underneath, AC comes (the dwell passes): the pinned mode stays, no change reported. */
	tree_ac(&f->t, "AC", 1);
	tree_round(&f->t, f->d, 70000, &rd);
	assert_false(rd.bits & POL_CHANGED_MODE);
	assert_int_equal(rd.dec.mode, POL_MODE_UNRESTRICTED);
	assert_int_equal(rd.dec.mode_auto, POL_MODE_UNRESTRICTED);
	assert_int_equal(pol_decider_set_mode_override(f->d, true, POL_MODE_LOW, 70100),
			 POL_CHANGED_MODE);

	/* Release: straight back to the automatic mode, whatever the dwell. */
	assert_int_equal(pol_decider_set_mode_override(f->d, false, POL_MODE_N, 70200),
			 POL_CHANGED_MODE);
	pol_decider_get_decision(f->d, &dec);
	assert_int_equal(dec.mode, POL_MODE_UNRESTRICTED);
	assert_false(dec.mode_pinned);
	assert_int_equal(dec.mode_reason, POL_REASON_AC);
}

static void test_thermal_pin(void **state)
{
	struct fixture *f = *state;
	struct pol_decision dec;
	struct round rd;

	tree_zone(&f->t, 0, "x86_pkg_temp", 50000);
	tree_trip(&f->t, 0, 0, "passive", 90000);
	tree_round(&f->t, f->d, 0, &rd);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_NOMINAL);
	assert_int_equal(pol_decider_set_thermal_override(f->d, true, POL_THERMAL_CRITICAL, 10),
			 POL_CHANGED_THERMAL);
	/* The mode is not pinned by a thermal pin. */
	pol_decider_get_decision(f->d, &dec);
	assert_int_equal(dec.thermal, POL_THERMAL_CRITICAL);
	assert_true(dec.thermal_pinned);
	assert_false(dec.mode_pinned);
	assert_int_equal(pol_decider_set_thermal_override(f->d, false, 0, 20), POL_CHANGED_THERMAL);
	pol_decider_get_decision(f->d, &dec);
	assert_int_equal(dec.thermal, POL_THERMAL_NOMINAL);
}

static void test_names_and_bad_values(void **state)
{
	struct pol_decider *d = tree_decider(0);

	(void)state;
	assert_int_equal(pol_mode_from_string("low"), POL_MODE_LOW);
	assert_int_equal(pol_mode_from_string("unrestricted"), POL_MODE_UNRESTRICTED);
	assert_int_equal(pol_mode_from_string("auto"), -EINVAL);
	assert_int_equal(pol_mode_from_string("LOW"), -EINVAL);
	assert_int_equal(pol_mode_from_string(NULL), -EINVAL);
	assert_int_equal(pol_thermal_state_from_string("serious"), POL_THERMAL_SERIOUS);
	assert_int_equal(pol_thermal_state_from_string("hot"), -EINVAL);
	assert_string_equal(pol_mode_to_string(POL_MODE_NORMAL), "normal");
	assert_string_equal(pol_thermal_state_to_string(POL_THERMAL_FAIR), "fair");
	assert_string_equal(pol_reason_to_string(POL_REASON_BELOW_LOW), "below-low");
	assert_string_equal(pol_mode_to_string(POL_MODE_N), "?");
	for (int r = 0; r < POL_REASON_N; r++)
		assert_string_not_equal(pol_reason_to_string(r), "?");

	assert_int_equal(pol_decider_set_mode_override(d, true, POL_MODE_N, 0), -EINVAL);
	assert_int_equal(pol_decider_set_mode_override(d, true, (enum pol_mode) - 1, 0), -EINVAL);
	assert_int_equal(pol_decider_set_thermal_override(d, true, POL_THERMAL_N, 0), -EINVAL);
	assert_int_equal(pol_decider_set_mode_override(NULL, false, 0, 0), -EINVAL);
	assert_int_equal(pol_decider_set_power(d, 0, NULL, 0), -EINVAL);
	pol_decider_free(d);
}

static void test_config_checked(void **state)
{
	struct pol_decider_config cfg;
	struct pol_decider *d = (struct pol_decider *)&cfg; /* must stay untouched */

	(void)state;
	pol_decider_config_init(&cfg);
	cfg.low_pct = 50;
	cfg.high_pct = 40;
	assert_int_equal(pol_decider_new(&cfg, &d), -EINVAL);
	pol_decider_config_init(&cfg);
	cfg.low_pct = 40;
	cfg.high_pct = 45;
	cfg.capacity_hyst_pct = 3; /* 40 + 3 > 45 - 3: bands overlap */
	assert_int_equal(pol_decider_new(&cfg, &d), -EINVAL);
	pol_decider_config_init(&cfg);
	cfg.high_pct = 101;
	assert_int_equal(pol_decider_new(&cfg, &d), -EINVAL);
	assert_ptr_equal(d, (struct pol_decider *)&cfg);
	pol_decider_config_init(&cfg);
	assert_int_equal(pol_decider_new(&cfg, &d), 0);
	cfg.temp_hyst_mc = 1000000;
	assert_int_equal(pol_decider_set_config(d, &cfg), -EINVAL);
	assert_null(pol_decider_free(d));
	assert_null(pol_decider_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		tree_decider_test(test_mode_pin, 60000),
		tree_decider_test(test_thermal_pin, 5000),
		cmocka_unit_test(test_names_and_bad_values),
		cmocka_unit_test(test_config_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
