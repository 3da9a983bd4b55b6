/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-vanish.c: files vanishing mid-run. A required file gone from a device
 * that is still there fails the read (-ENOENT) and the last good decision stays; a whole device
 * gone is an unplug, read without error; a device listed but gone by the time it is opened (a
 * dangling class symlink, as sysfs has while a device is removed) is skipped. The kernel's
 * layout — class entries as symlinks into devices/ — reads like plain directories.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test-policy-tree.h"

static void test_power_files(void **state)
{
	struct fixture *f = *state;
	uint64_t now = 0;
	struct round rd;

	tree_laptop(&f->t, 0, "Discharging", 15);
	tree_expect_mode(&f->t, f->d, now, POL_MODE_LOW, POL_REASON_BELOW_LOW);

	tree_remove(&f->t, "class/power_supply/BAT0/status");
	tree_round(&f->t, f->d, now += 1000, &rd);
	assert_int_equal(rd.power_r, -ENOENT);
	assert_true(rd.bits & POL_ERROR_FIRST);
	assert_int_equal(rd.dec.mode, POL_MODE_LOW);
	tree_remove(&f->t, "class/power_supply/BAT0/type");
	tree_round(&f->t, f->d, now += 1000, &rd);
	assert_int_equal(rd.power_r, -ENOENT);
	assert_int_equal(rd.dec.mode, POL_MODE_LOW);

	/* The whole battery goes: no battery, so unrestricted. */
	tree_remove(&f->t, "class/power_supply/BAT0");
	tree_round(&f->t, f->d, now += 1000, &rd);
	assert_int_equal(rd.power_r, 0);
	assert_true(rd.bits & POL_RECOVERED);
	assert_int_equal(rd.dec.mode, POL_MODE_UNRESTRICTED);
	assert_int_equal(rd.dec.mode_reason, POL_REASON_NO_BATTERY);

	/* And the whole class directory. */
	tree_remove(&f->t, "class/power_supply");
	tree_expect_mode(&f->t, f->d, now += 1000, POL_MODE_UNRESTRICTED, POL_REASON_NO_BATTERY);
}

static void test_thermal_files(void **state)
{
	struct fixture *f = *state;
	uint64_t now = 0;
	struct round rd;

	tree_zone(&f->t, 0, "x86_pkg_temp", 95000);
	tree_trip(&f->t, 0, 0, "passive", 90000);
	tree_zone(&f->t, 1, "acpitz", 40000);
	tree_trip(&f->t, 1, 0, "critical", 100000);
	tree_round(&f->t, f->d, now, &rd);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_SERIOUS);

	tree_remove(&f->t, "class/thermal/thermal_zone0/temp");
	tree_round(&f->t, f->d, now += 1000, &rd);
	assert_int_equal(rd.thermal_r, -ENOENT);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_SERIOUS);
	/* A trip point type without its temp: -ENOENT too (not the end of the list). */
	tree_zone_temp(&f->t, 0, 95000);
	tree_remove(&f->t, "class/thermal/thermal_zone0/trip_point_0_temp");
	tree_round(&f->t, f->d, now += 1000, &rd);
	assert_int_equal(rd.thermal_r, -ENOENT);

	tree_remove(&f->t, "class/thermal/thermal_zone0");
	tree_round(&f->t, f->d, now += 1000, &rd);
	assert_int_equal(rd.thermal_r, 0);
	assert_int_equal(rd.thermal.n_zones, 1);
	assert_int_equal(rd.dec.thermal, POL_THERMAL_NOMINAL);
	assert_string_equal(rd.dec.zone, "thermal_zone1");
	tree_remove(&f->t, "class/thermal");
	tree_round(&f->t, f->d, now += 1000, &rd);
	assert_int_equal(rd.thermal_r, 0);
	assert_int_equal(rd.dec.thermal_reason, POL_REASON_NO_ZONES);
}

static void test_symlinks(void **state)
{
	struct fixture *f = *state;
	struct pol_power p;

	/* Real layout: class/power_supply/BAT0 -> ../../devices/.../power_supply/BAT0 */
	tree_write(&f->t, "devices/LNXSYSTM:00/PNP0C0A:00/power_supply/BAT0/type", "Battery\n");
	tree_write(&f->t, "devices/LNXSYSTM:00/PNP0C0A:00/power_supply/BAT0/status",
		   "Discharging\n");
	tree_write(&f->t, "devices/LNXSYSTM:00/PNP0C0A:00/power_supply/BAT0/capacity", "33\n");
	tree_mkdirs(&f->t, "class/power_supply/");
	assert_int_equal(symlinkat("../../devices/LNXSYSTM:00/PNP0C0A:00/power_supply/BAT0",
				   f->t.fd, "class/power_supply/BAT0"),
			 0);
	/* A device being removed: its class link points nowhere. */
	assert_int_equal(symlinkat("../../devices/gone/power_supply/BAT1", f->t.fd,
				   "class/power_supply/BAT1"),
			 0);
	/* Not a device: a stray file in the class directory. */
	tree_write(&f->t, "class/power_supply/uevent", "\n");
	assert_int_equal(pol_power_read(f->t.fd, &p, NULL), 0);
	assert_int_equal(p.n_supplies, 1);
	assert_string_equal(p.supplies[0].name, "BAT0");
	assert_int_equal(p.capacity, 33);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		tree_decider_test(test_power_files, 0),
		tree_decider_test(test_thermal_files, 0),
		tree_test(test_symlinks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
