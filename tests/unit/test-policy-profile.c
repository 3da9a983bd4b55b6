/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-profile.c: the platform profile low-power puts the machine in low
 * mode whatever the power source (it is the user's explicit choice); balanced and performance
 * leave the mode to the battery rules; an unknown profile reads as unknown, a missing file as
 * none, garbage as an error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test-policy-tree.h"

static void test_read(void **state)
{
	static const struct {
		const char *text;
		enum pol_profile want;
	} cases[] = {
		{"low-power", POL_PROFILE_LOW_POWER},
		{"balanced", POL_PROFILE_BALANCED},
		{"balanced-performance", POL_PROFILE_BALANCED},
		{"performance", POL_PROFILE_PERFORMANCE},
		{"quiet", POL_PROFILE_UNKNOWN},
		{"cool", POL_PROFILE_UNKNOWN},
		{"custom", POL_PROFILE_UNKNOWN},
	};
	struct fixture *f = *state;
	struct pol_trace *tr = calloc(1, sizeof(*tr));
	enum pol_profile p = POL_PROFILE_PERFORMANCE;

	assert_int_equal(pol_profile_read(f->t.fd, &p, tr), 0);
	assert_int_equal(p, POL_PROFILE_NONE);
	assert_int_equal(tr->n_entries, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tree_profile(&f->t, cases[i].text);
		pol_trace_reset(tr);
		assert_int_equal(pol_profile_read(f->t.fd, &p, tr), 0);
		assert_int_equal(p, cases[i].want);
		assert_int_equal(tr->n_entries, 1);
		assert_string_equal(tr->entries[0].path, "firmware/acpi/platform_profile");
		assert_string_equal(tr->entries[0].value, cases[i].text);
	}
	assert_string_equal(pol_profile_to_string(POL_PROFILE_LOW_POWER), "low-power");

	p = POL_PROFILE_BALANCED;
	tree_write(&f->t, "firmware/acpi/platform_profile", "%s", "");
	assert_int_equal(pol_profile_read(f->t.fd, &p, NULL), -EINVAL);
	tree_write(&f->t, "firmware/acpi/platform_profile", "low\x01power\n");
	assert_int_equal(pol_profile_read(f->t.fd, &p, NULL), -EINVAL);
	assert_int_equal(p, POL_PROFILE_BALANCED);
	free(tr);
}

static void test_low_power_wins(void **state)
{
	struct fixture *f = *state;

	/* A desktop (no battery): unrestricted, until the user picks low-power. */
	tree_expect_mode(&f->t, f->d, 0, POL_MODE_UNRESTRICTED, POL_REASON_NO_BATTERY);
	tree_profile(&f->t, "low-power");
	tree_expect_mode(&f->t, f->d, 1000, POL_MODE_LOW, POL_REASON_PROFILE_LOW_POWER);
	/* On AC with a full battery, too. */
	tree_laptop(&f->t, 1, "Full", 100);
	tree_expect_mode(&f->t, f->d, 2000, POL_MODE_LOW, POL_REASON_PROFILE_LOW_POWER);
	tree_profile(&f->t, "performance");
	tree_expect_mode(&f->t, f->d, 3000, POL_MODE_UNRESTRICTED, POL_REASON_AC);
	tree_profile(&f->t, "balanced");
	tree_laptop(&f->t, 0, "Discharging", 50);
	tree_expect_mode(&f->t, f->d, 4000, POL_MODE_NORMAL, POL_REASON_ON_BATTERY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		tree_test(test_read),
		tree_decider_test(test_low_power_wins, 0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
