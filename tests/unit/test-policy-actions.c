/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-actions.c: the actions table (docs/policy.md) — the documented rows,
 * and the property that a worse state never allows more work: over every pair of (mode,
 * thermal state), restricting either never raises cores, meter rate, FIR or EQ quality, or
 * background freedom. Core counts stay >= 1 for any CPU count.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy/actions.h"

static struct pol_actions get(enum pol_mode m, enum pol_thermal_state s, uint32_t ncpu)
{
	struct pol_actions a;

	assert_int_equal(pol_actions_get(m, s, ncpu, &a), 0);
	return a;
}

static void test_rows(void **state)
{
	struct pol_actions a;

	(void)state;
	a = get(POL_MODE_UNRESTRICTED, POL_THERMAL_NOMINAL, 8);
	assert_int_equal(a.level, 0);
	assert_int_equal(a.cores, 8);
	assert_int_equal(a.workers, 7);
	assert_int_equal(a.fir, POL_FIR_FULL);
	assert_int_equal(a.fir_trunc_db, 0);
	assert_int_equal(a.quality, POL_QUALITY_HIGH);
	assert_int_equal(a.meter_hz, 60);
	assert_int_equal(a.bg[POL_BG_PRIO_HIGH].run, POL_BG_RUN);
	assert_int_equal(a.bg[POL_BG_PRIO_LOW].run, POL_BG_RUN);
	assert_int_equal(a.poll_factor, 1);

	a = get(POL_MODE_NORMAL, POL_THERMAL_NOMINAL, 8);
	assert_int_equal(a.level, 1);
	assert_int_equal(a.cores, 4);
	assert_int_equal(a.fir_trunc_db, -90);
	assert_int_equal(a.meter_hz, 30);
	assert_int_equal(a.bg[POL_BG_PRIO_HIGH].run, POL_BG_RUN);
	assert_int_equal(a.bg[POL_BG_PRIO_LOW].run, POL_BG_THROTTLE);
	assert_int_equal(a.bg[POL_BG_PRIO_LOW].sleep_factor, 1);

	a = get(POL_MODE_LOW, POL_THERMAL_NOMINAL, 8);
	assert_int_equal(a.level, 2);
	assert_int_equal(a.cores, 1);
	assert_int_equal(a.workers, 0);
	assert_int_equal(a.fir, POL_FIR_60DB);
	assert_int_equal(a.fir_trunc_db, -60);
	assert_int_equal(a.quality, POL_QUALITY_LOW);
	assert_int_equal(a.meter_hz, 10);
	assert_int_equal(a.bg[POL_BG_PRIO_HIGH].run, POL_BG_THROTTLE);
	assert_int_equal(a.bg[POL_BG_PRIO_LOW].run, POL_BG_WAIT);
	assert_int_equal(a.poll_factor, 2);

	a = get(POL_MODE_UNRESTRICTED, POL_THERMAL_SERIOUS, 8);
	assert_int_equal(a.level, 2);
	assert_int_equal(a.cores, 1);
	assert_int_equal(a.bg[POL_BG_PRIO_HIGH].sleep_factor, 2);
	assert_int_equal(a.poll_factor, 1);

	a = get(POL_MODE_UNRESTRICTED, POL_THERMAL_CRITICAL, 8);
	assert_int_equal(a.level, 3);
	assert_int_equal(a.bg[POL_BG_PRIO_HIGH].run, POL_BG_THROTTLE);
	assert_int_equal(a.bg[POL_BG_PRIO_HIGH].sleep_factor, 4);
	assert_int_equal(a.bg[POL_BG_PRIO_LOW].run, POL_BG_WAIT);

	a = get(POL_MODE_NORMAL, POL_THERMAL_FAIR, 8);
	assert_int_equal(a.level, 1);
	a = get(POL_MODE_LOW, POL_THERMAL_FAIR, 8);
	assert_int_equal(a.poll_factor, 2);
	a = get(POL_MODE_LOW, POL_THERMAL_SERIOUS, 8);
	assert_int_equal(a.poll_factor, 1);

	assert_string_equal(pol_fir_tier_to_string(POL_FIR_90DB), "-90dB");
	assert_string_equal(pol_quality_to_string(POL_QUALITY_MEDIUM), "medium");
	assert_string_equal(pol_bg_run_to_string(POL_BG_WAIT), "wait");
}

static bool no_more_work(const struct pol_actions *worse, const struct pol_actions *better)
{
	for (int p = 0; p < POL_BG_PRIO_N; p++)
		if (worse->bg[p].run < better->bg[p].run ||
		    (worse->bg[p].run == better->bg[p].run &&
		     worse->bg[p].sleep_factor < better->bg[p].sleep_factor))
			return false;
	return worse->level >= better->level && worse->cores <= better->cores &&
	       worse->meter_hz <= better->meter_hz && worse->fir >= better->fir &&
	       worse->quality >= better->quality;
}

static void test_monotonic(void **state)
{
	static const uint32_t cpus[] = {0, 1, 2, 3, 4, 7, 64};

	(void)state;
	for (size_t c = 0; c < sizeof(cpus) / sizeof(cpus[0]); c++)
		for (int m = 0; m < POL_MODE_N; m++)
			for (int s = 0; s < POL_THERMAL_N; s++) {
				struct pol_actions a = get(m, s, cpus[c]);

				assert_true(a.cores >= 1);
				assert_true(a.cores <= (cpus[c] ? cpus[c] : 1));
				assert_int_equal(a.workers, a.cores - 1);
				if (m + 1 < POL_MODE_N) {
					struct pol_actions w = get(m + 1, s, cpus[c]);

					assert_true(no_more_work(&w, &a));
				}
				if (s + 1 < POL_THERMAL_N) {
					struct pol_actions w = get(m, s + 1, cpus[c]);

					assert_true(no_more_work(&w, &a));
				}
			}
}

static void test_bad_args(void **state)
{
	struct pol_actions a;

	(void)state;
	assert_int_equal(pol_actions_get(POL_MODE_N, POL_THERMAL_NOMINAL, 4, &a), -EINVAL);
	assert_int_equal(pol_actions_get(POL_MODE_LOW, POL_THERMAL_N, 4, &a), -EINVAL);
	assert_int_equal(pol_actions_get(POL_MODE_LOW, POL_THERMAL_NOMINAL, 4, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_monotonic),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
