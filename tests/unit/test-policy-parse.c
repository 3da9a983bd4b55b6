/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-parse.c: the sysfs value parsers and readers accept exactly one
 * well-formed value (blanks and the kernel's newline around it) and refuse garbage, empty and
 * huge values with -EINVAL/-ERANGE, leaving the result untouched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/el-macros.h"
#include "policy/sysfs.h"
#include "tests/unit/test-policy-tree.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static void test_u64(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(pol_parse_u64(S("15\n"), &v), 0);
	assert_int_equal(v, 15);
	assert_int_equal(pol_parse_u64(S("  42 \r\n"), &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(pol_parse_u64(S("0007"), &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(pol_parse_u64(S("18446744073709551615\n"), &v), 0);
	assert_true(v == UINT64_MAX);

	v = 7;
	assert_int_equal(pol_parse_u64(S("18446744073709551616\n"), &v), -ERANGE);
	assert_int_equal(pol_parse_u64(S("99999999999999999999999999999\n"), &v), -ERANGE);
	assert_int_equal(pol_parse_u64(S(""), &v), -EINVAL);
	assert_int_equal(pol_parse_u64(NULL, 0, &v), -EINVAL);
	assert_int_equal(pol_parse_u64(S("\n"), &v), -EINVAL);
	assert_int_equal(pol_parse_u64(S("   "), &v), -EINVAL);
	assert_int_equal(pol_parse_u64(S("-1\n"), &v), -EINVAL);
	assert_int_equal(pol_parse_u64(S("+1\n"), &v), -EINVAL);
	assert_int_equal(pol_parse_u64(S("12a\n"), &v), -EINVAL);
	assert_int_equal(pol_parse_u64(S("1 2\n"), &v), -EINVAL);
	assert_int_equal(pol_parse_u64(S("0x10\n"), &v), -EINVAL);
	assert_int_equal(pol_parse_u64(S("1\0002\n"), &v), -EINVAL);
	assert_int_equal(pol_parse_u64(S("garbage\n"), &v), -EINVAL);
	assert_int_equal(v, 7);
}

static void test_s64(void **state)
{
	int64_t v = 7;

	(void)state;
	assert_int_equal(pol_parse_s64(S("-274000\n"), &v), 0);
	assert_int_equal(v, -274000);
	assert_int_equal(pol_parse_s64(S("45000\n"), &v), 0);
	assert_int_equal(v, 45000);
	assert_int_equal(pol_parse_s64(S("-0\n"), &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(pol_parse_s64(S("9223372036854775807"), &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(pol_parse_s64(S("-9223372036854775808"), &v), 0);
	assert_true(v == INT64_MIN);

	v = 7;
	assert_int_equal(pol_parse_s64(S("9223372036854775808"), &v), -ERANGE);
	assert_int_equal(pol_parse_s64(S("-9223372036854775809"), &v), -ERANGE);
	assert_int_equal(pol_parse_s64(S("-99999999999999999999999"), &v), -ERANGE);
	assert_int_equal(pol_parse_s64(S("-"), &v), -EINVAL);
	assert_int_equal(pol_parse_s64(S("--1"), &v), -EINVAL);
	assert_int_equal(pol_parse_s64(S("- 1"), &v), -EINVAL);
	assert_int_equal(pol_parse_s64(S("1-"), &v), -EINVAL);
	assert_int_equal(pol_parse_s64(S("45.5"), &v), -EINVAL);
	assert_int_equal(pol_parse_s64(S(""), &v), -EINVAL);
	assert_int_equal(v, 7);
}

static void test_word_and_enum(void **state)
{
	static const char *const names[] = {"Unknown",      "Charging", "Discharging",
					    "Not charging", NULL,       "Full"};
	char w[16] = "untouched";
	unsigned idx = 99;

	(void)state;
	assert_int_equal(pol_parse_word(S("Not charging\n"), w, sizeof(w)), 12);
	assert_string_equal(w, "Not charging");
	assert_int_equal(pol_parse_word(S(" INT3400 Thermal\n"), w, sizeof(w)), 15);
	assert_string_equal(w, "INT3400 Thermal");
	strcpy(w, "untouched");
	assert_int_equal(pol_parse_word(S("0123456789abcdef\n"), w, sizeof(w)), -ERANGE);
	assert_int_equal(pol_parse_word(S("\n"), w, sizeof(w)), -EINVAL);
	assert_int_equal(pol_parse_word(S("a\tb"), w, sizeof(w)), -EINVAL);
	assert_int_equal(pol_parse_word(S("caf\xc3\xa9"), w, sizeof(w)), -EINVAL);
	assert_int_equal(pol_parse_word(S("a\033[0m"), w, sizeof(w)), -EINVAL);
	assert_int_equal(pol_parse_word(S("ab"), w, 0), -EINVAL);
	assert_string_equal(w, "untouched");

	assert_int_equal(pol_parse_enum(S("Charging\n"), names, EL_N_ELEMENTS(names), &idx), 0);
	assert_int_equal(idx, 1);
	assert_int_equal(pol_parse_enum(S("Not charging\n"), names, EL_N_ELEMENTS(names), &idx), 0);
	assert_int_equal(idx, 3);
	assert_int_equal(pol_parse_enum(S("Full"), names, EL_N_ELEMENTS(names), &idx), 0);
	assert_int_equal(idx, 5);
	idx = 99;
	assert_int_equal(pol_parse_enum(S("charging\n"), names, EL_N_ELEMENTS(names), &idx),
			 -ENOMSG);
	assert_int_equal(pol_parse_enum(S("Charg\n"), names, EL_N_ELEMENTS(names), &idx), -ENOMSG);
	assert_int_equal(pol_parse_enum(S("\n"), names, EL_N_ELEMENTS(names), &idx), -EINVAL);
	assert_int_equal(pol_parse_enum(S("Full\0"), names, EL_N_ELEMENTS(names), &idx), -EINVAL);
	assert_int_equal(idx, 99);
}

/* The readers: one file each, missing, empty, too long, a directory. */
static void test_read(void **state)
{
	struct fixture *f = *state;
	char big[POL_VALUE_MAX + 8], w[32];
	uint64_t u = 7;
	int64_t s = 7;
	unsigned idx;
	static const char *const names[] = {"low-power", "balanced"};

	tree_write(&f->t, "a/u", "15\n");
	tree_write(&f->t, "a/s", "-5000\n");
	tree_write(&f->t, "a/w", "balanced\n");
	tree_write(&f->t, "a/empty", "%s", "");
	tree_write(&f->t, "a/nl", "\n");
	tree_write(&f->t, "a/huge", "99999999999999999999999\n");
	memset(big, '1', sizeof(big));
	tree_write_raw(&f->t, "a/long", big, POL_VALUE_MAX);          /* fills the buffer */
	tree_write_raw(&f->t, "a/fits", big, POL_VALUE_MAX - 1 - 44); /* 19 digits */
	mkdirat(f->t.fd, "a/dir", 0755);

	assert_int_equal(pol_read_u64(f->t.fd, "a/u", &u), 0);
	assert_int_equal(u, 15);
	assert_int_equal(pol_read_s64(f->t.fd, "a/s", &s), 0);
	assert_int_equal(s, -5000);
	assert_int_equal(pol_read_word(f->t.fd, "a/w", w, sizeof(w)), 8);
	assert_string_equal(w, "balanced");
	assert_int_equal(pol_read_enum(f->t.fd, "a/w", names, 2, &idx), 0);
	assert_int_equal(idx, 1);
	assert_int_equal(pol_read_u64(f->t.fd, "a/fits", &u), 0);
	assert_true(u == 1111111111111111111ull);

	u = 7;
	assert_int_equal(pol_read_u64(f->t.fd, "a/missing", &u), -ENOENT);
	assert_int_equal(pol_read_u64(f->t.fd, "a/empty", &u), -EINVAL);
	assert_int_equal(pol_read_u64(f->t.fd, "a/nl", &u), -EINVAL);
	assert_int_equal(pol_read_u64(f->t.fd, "a/huge", &u), -ERANGE);
	assert_int_equal(pol_read_u64(f->t.fd, "a/long", &u), -ERANGE);
	assert_int_equal(pol_read_u64(f->t.fd, "a/dir", &u), -EISDIR);
	assert_int_equal(pol_read_u64(f->t.fd, "a/w", &u), -EINVAL);
	assert_int_equal(u, 7);
	assert_int_equal(pol_read_enum(f->t.fd, "a/u", names, 2, &idx), -ENOMSG);
	assert_int_equal(pol_read_text(f->t.fd, "a/u", w, 1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_s64),
		cmocka_unit_test(test_word_and_enum),
		tree_test(test_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
