/* SPDX-License-Identifier: MIT */
/*
 * Property: a value typed for `set` reads as documented (daemon/control/set-value.h), against
 * the parameter's unit and range and its value now.
 *  - Absolute: -6, -6dB, -6 dB, on/off; a unit that is not the parameter's is refused naming
 *    both.
 *  - Relative: +3, +3dB, 3dB+, 3dB-, +-3, held within the range.
 *  - Percent: a dB parameter on the cubic curve (100 % = 0 dB, 50 % = -18.06 dB, 0 % = the
 *    minimum, 5%+ one step up the curve); another one linearly over its range.
 *  - Anything else is refused saying what is expected.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/el-error.h"
#include "daemon/control/set-value.h"
#include "daemon/engine/node.h"

static const struct node_param gain = {
	.name = "gain_db", .unit = "dB", .min = -120.0, .max = 24.0, .settable = true};
static const struct node_param delay = {
	.name = "delay_ms", .unit = "ms", .min = 0.0, .max = 1000.0, .settable = true};

static double read_ok(const char *text, const struct node_param *p, double now)
{
	struct el_error err = {0};
	double v = NAN;

	if (ctl_set_value_parse(text, p, now, &v, &err) < 0)
		fail_msg("'%s': %s", text, err.message);
	return v;
}

static void test_forms(void **state)
{
	(void)state;
	assert_true(read_ok("-6", &gain, 0) == -6.0);
	assert_true(read_ok("-6dB", &gain, 0) == -6.0);
	assert_true(read_ok(" -6 dB ", &gain, 0) == -6.0);
	assert_true(read_ok("-6db", &gain, 0) == -6.0);
	assert_true(read_ok("on", &gain, 0) == 1.0 && read_ok("off", &gain, 0) == 0.0);
	assert_true(read_ok("+3", &gain, -10) == -7.0);
	assert_true(read_ok("+3dB", &gain, -10) == -7.0);
	assert_true(read_ok("3dB+", &gain, -10) == -7.0);
	assert_true(read_ok("3dB-", &gain, -10) == -13.0);
	assert_true(read_ok("+-3", &gain, -10) == -13.0);
	assert_true(read_ok("+30", &gain, 0) == 24.0); /* held within the range */
	assert_true(read_ok("200 -", &gain, 0) == -120.0);
	assert_true(read_ok("100%", &gain, -50) == 0.0);
	assert_true(fabs(read_ok("50%", &gain, 0) - 60.0 * log10(0.5)) < 1e-12);
	assert_true(read_ok("0%", &gain, 0) == -120.0);
	/* 5 points up the curve from 50 %: 55 % */
	assert_true(fabs(read_ok("5%+", &gain, 60.0 * log10(0.5)) - 60.0 * log10(0.55)) < 1e-9);
	assert_true(fabs(read_ok("+5%", &gain, 60.0 * log10(0.5)) - 60.0 * log10(0.55)) < 1e-9);
	assert_true(read_ok("25%", &delay, 0) == 250.0);
	assert_true(fabs(read_ok("10%-", &delay, 300) - 200.0) < 1e-9);
	assert_true(read_ok("12.5 ms", &delay, 0) == 12.5);
}

static void test_refused(void **state)
{
	struct el_error err = {0};
	double v;

	(void)state;
	assert_int_equal(ctl_set_value_parse("10ms", &gain, 0, &v, &err), -EINVAL);
	assert_string_equal(err.message, "'10ms': gain_db is in dB, not in ms");
	assert_int_equal(ctl_set_value_parse("loud", &gain, 0, &v, &err), -EINVAL);
	assert_string_equal(err.message, "'loud': expected a number (with dB or %), +N or N+/N- to "
					 "change it by N, or on/off");
	assert_int_equal(ctl_set_value_parse("+3dB+", &gain, 0, &v, &err), -EINVAL);
	assert_int_equal(ctl_set_value_parse("3 dB x", &gain, 0, &v, &err), -EINVAL);
	assert_int_equal(ctl_set_value_parse("", &gain, 0, &v, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
