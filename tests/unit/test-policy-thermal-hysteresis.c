/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-thermal-hysteresis.c: a zone rising through its passive trip goes
 * nominal → fair (5 °C below) → serious (at the trip) → critical (at the critical trip), and
 * falls back only 2 °C below each threshold it crossed; a temperature oscillating on any
 * boundary never flips the state (no dwell here: hysteresis alone must hold it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test-policy-tree.h"

#define PASSIVE  90000
#define CRITICAL 105000

struct step {
	long long temp_mc;
	enum pol_thermal_state want;
};

static unsigned changes;

static void run(struct tree *t, struct pol_decider *d, const struct step *steps, size_t n,
		uint64_t *now)
{
	for (size_t i = 0; i < n; i++) {
		struct round rd;

		tree_zone_temp(t, 0, steps[i].temp_mc);
		tree_round(t, d, *now += 100, &rd);
		assert_int_equal(rd.thermal_r, 0);
		if (rd.bits & POL_CHANGED_THERMAL)
			changes++;
		if (rd.dec.thermal != steps[i].want)
			fail_msg("step %zu, %lld m°C: %s, want %s", i, steps[i].temp_mc,
				 pol_thermal_state_to_string(rd.dec.thermal),
				 pol_thermal_state_to_string(steps[i].want));
	}
}

static void test_rise_and_fall(void **state)
{
	static const struct step steps[] = {
		{40000, POL_THERMAL_NOMINAL},   {84999, POL_THERMAL_NOMINAL},
		{85000, POL_THERMAL_FAIR},      {89999, POL_THERMAL_FAIR},
		{90000, POL_THERMAL_SERIOUS},   {95000, POL_THERMAL_SERIOUS},
		{105000, POL_THERMAL_CRITICAL}, {103000, POL_THERMAL_CRITICAL},
		{102999, POL_THERMAL_SERIOUS},  {88000, POL_THERMAL_SERIOUS},
		{87999, POL_THERMAL_FAIR},      {83000, POL_THERMAL_FAIR},
		{82999, POL_THERMAL_NOMINAL},   {84999, POL_THERMAL_NOMINAL},
		{20000, POL_THERMAL_NOMINAL},
	};
	struct fixture *f = *state;
	struct pol_decision dec;
	uint64_t now = 0;

	tree_zone(&f->t, 0, "x86_pkg_temp", 40000);
	tree_trip(&f->t, 0, 0, "passive", PASSIVE);
	tree_trip(&f->t, 0, 1, "critical", CRITICAL);
	changes = 0;
	run(&f->t, f->d, steps, EL_N_ELEMENTS(steps), &now);
	assert_int_equal(changes, 6);

	/* What the decision says about the zone. */
	tree_zone_temp(&f->t, 0, 91000);
	tree_expect_mode(&f->t, f->d, now += 100, POL_MODE_UNRESTRICTED, POL_REASON_NO_BATTERY);
	pol_decider_get_decision(f->d, &dec);
	assert_int_equal(dec.thermal, POL_THERMAL_SERIOUS);
	assert_int_equal(dec.thermal_reason, POL_REASON_PASSIVE);
	assert_string_equal(dec.zone, "thermal_zone0");
	assert_string_equal(dec.zone_type, "x86_pkg_temp");
	assert_true(dec.zone_temp_mc == 91000);
	assert_true(dec.zone_threshold_mc == PASSIVE);
}

/* A sensor jittering ±1 °C around each threshold: exactly one change per boundary crossed. */
static void test_no_flapping(void **state)
{
	static const long long centres[] = {PASSIVE - 5000, PASSIVE, CRITICAL};
	static const enum pol_thermal_state above[] = {POL_THERMAL_FAIR, POL_THERMAL_SERIOUS,
						       POL_THERMAL_CRITICAL};
	uint64_t now = 0;

	(void)state;
	for (size_t c = 0; c < EL_N_ELEMENTS(centres); c++) {
		struct pol_decider *d = tree_decider(0);
		struct step steps[200];
		struct tree t;

		tree_init(&t);
		tree_zone(&t, 0, "acpitz", 30000);
		tree_trip(&t, 0, 0, "passive", PASSIVE);
		tree_trip(&t, 0, 1, "critical", CRITICAL);
		/* Below, then first touch of the boundary, then jitter: the state stays above. */
		steps[0] = (struct step){centres[c] - 1000, above[c] - 1};
		for (size_t i = 1; i < EL_N_ELEMENTS(steps); i++) {
			long long jitter = (i % 2 ? 0 : -1000) + (long long)(i % 3) * 300;

			steps[i] = (struct step){centres[c] + jitter, above[c]};
		}
		run(&t, d, steps, 1, &now);
		changes = 0;
		run(&t, d, steps + 1, EL_N_ELEMENTS(steps) - 1, &now);
		assert_int_equal(changes, 1);
		pol_decider_free(d);
		tree_done(&t);
	}
}

/* Custom hysteresis and margin are honoured. */
static void test_config(void **state)
{
	static const struct step steps[] = {
		{79999, POL_THERMAL_NOMINAL}, {80000, POL_THERMAL_FAIR},
		{90000, POL_THERMAL_SERIOUS}, {85001, POL_THERMAL_SERIOUS},
		{85000, POL_THERMAL_FAIR},    {75001, POL_THERMAL_FAIR},
		{75000, POL_THERMAL_NOMINAL},
	};
	struct fixture *f = *state;
	struct pol_decider_config cfg;
	struct pol_decider *d = NULL;
	uint64_t now = 0;

	pol_decider_config_init(&cfg);
	cfg.fair_margin_mc = 10000;
	cfg.temp_hyst_mc = 4999;
	cfg.dwell_ms = 0;
	assert_int_equal(pol_decider_new(&cfg, &d), 0);
	tree_zone(&f->t, 0, "acpitz", 30000);
	tree_trip(&f->t, 0, 0, "passive", PASSIVE);
	changes = 0;
	run(&f->t, d, steps, EL_N_ELEMENTS(steps), &now);
	pol_decider_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		tree_decider_test(test_rise_and_fall, 0),
		cmocka_unit_test(test_no_flapping),
		tree_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
