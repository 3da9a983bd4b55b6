/* SPDX-License-Identifier: MIT */
/*
 * Property: the typed getters accept exactly what daemon/config/value.h documents and refuse the
 * rest with an exact message naming file, line and key. An absent key gives the default;
 * bounds are inclusive; garbage, trailing characters, signs on integers, hex, NaN and infinity
 * are refused; booleans take yes/no, true/false, on/off, 1/0 in any case; enums match exactly;
 * lists take blanks around items but no empty item and no more than their capacity. On
 * failure the output is untouched. conf_check_keys() names the first unknown key and suggests
 * an allowed one when it is within edit distance 2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/el-error.h"
#include "daemon/config/value.h"
#include "daemon/config/config.h"

static struct conf *conf;
static const struct conf_section *sec;

/* The line of key k in the [v] section below is the index in this text + 2. */
static const char text[] = "[v]\n"
			   "zero = 0\n"               /* 2 */
			   "u = 256\n"                /* 3 */
			   "max = 4294967295\n"       /* 4 */
			   "over = 4294967296\n"      /* 5 */
			   "neg = -1\n"               /* 6 */
			   "plus = +5\n"              /* 7 */
			   "hex = 0x10\n"             /* 8 */
			   "trail = 100x\n"           /* 9 */
			   "space = 1 2\n"            /* 10 */
			   "empty =\n"                /* 11 */
			   "word = abc\n"             /* 12 */
			   "lead0 = 010\n"            /* 13 */
			   "half = 0.5\n"             /* 14 */
			   "mhalf = -.5\n"            /* 15 */
			   "exp = 1e3\n"              /* 16 */
			   "nan = nan\n"              /* 17 */
			   "inf = inf\n"              /* 18 */
			   "minf = -Infinity\n"       /* 19 */
			   "huge = 1e999\n"           /* 20 */
			   "hexf = 0x1p3\n"           /* 21 */
			   "dot = .\n"                /* 22 */
			   "e = 1e\n"                 /* 23 */
			   "yes = YES\n"              /* 24 */
			   "off = Off\n"              /* 25 */
			   "one = 1\n"                /* 26 */
			   "maybe = maybe\n"          /* 27 */
			   "mode = fir\n"             /* 28 */
			   "Mode = FIR\n"             /* 29 */
			   "list = 1, 2.5,-3\n"       /* 30 */
			   "list_sp = \t1 ,\t2 \n"    /* 31 */
			   "list_empty_item = 1,,2\n" /* 32 */
			   "list_trailing = 1,2,\n"   /* 33 */
			   "list_lead = ,1\n"         /* 34 */
			   "list_bad = 1,x\n"         /* 35 */
			   "list_range = 1,200\n"     /* 36 */
			   "list_inf = 1,inf\n"       /* 37 */
			   "list_4 = 1,2,3,4\n"       /* 38 */
			   "list_one = 7\n"           /* 39 */
			   "list_space_in = 1 2\n";   /* 40 */

static void assert_error(const struct el_error *err, int r, const char *message)
{
	assert_int_equal(r, -EINVAL);
	assert_int_equal(err->code, -EINVAL);
	assert_string_equal(err->message, message);
}

static void u32_ok(const char *key, uint32_t min, uint32_t max, uint32_t want)
{
	struct el_error err = {0};
	uint32_t v = 12345;

	if (conf_get_u32(sec, key, 7, min, max, &v, &err) != 0)
		fail_msg("%s: %s", key, err.message);
	assert_int_equal(v, want);
}

static void u32_bad(const char *key, uint32_t min, uint32_t max, const char *message)
{
	struct el_error err = {0};
	uint32_t v = 12345;

	assert_error(&err, conf_get_u32(sec, key, 7, min, max, &v, &err), message);
	assert_int_equal(v, 12345);
	assert_int_equal(conf_get_u32(sec, key, 7, min, max, &v, NULL), -EINVAL);
}

static void test_u32(void **state)
{
	(void)state;
	u32_ok("absent", 0, 10, 7); /* the default, even out of range: the caller chose it */
	u32_ok("zero", 0, 10, 0);
	u32_ok("u", 256, 256, 256);
	u32_ok("u", 32, 8192, 256);
	u32_ok("max", 0, UINT32_MAX, UINT32_MAX);
	u32_ok("lead0", 0, 100, 10);
	u32_bad("u", 257, 8192,
		"t.conf:3: key 'u': expected an integer from 257 to 8192, got '256'");
	u32_bad("u", 0, 255, "t.conf:3: key 'u': expected an integer from 0 to 255, got '256'");
	u32_bad("over", 0, UINT32_MAX,
		"t.conf:5: key 'over': expected an integer from 0 to 4294967295, got '4294967296'");
	u32_bad("neg", 0, 10, "t.conf:6: key 'neg': expected an integer from 0 to 10, got '-1'");
	u32_bad("plus", 0, 10, "t.conf:7: key 'plus': expected an integer from 0 to 10, got '+5'");
	u32_bad("hex", 0, 100,
		"t.conf:8: key 'hex': expected an integer from 0 to 100, got '0x10'");
	u32_bad("trail", 32, 8192,
		"t.conf:9: key 'trail': expected an integer from 32 to 8192, got '100x'");
	u32_bad("space", 0, 10,
		"t.conf:10: key 'space': expected an integer from 0 to 10, got '1 2'");
	u32_bad("empty", 0, 10, "t.conf:11: key 'empty': expected an integer from 0 to 10, got ''");
	u32_bad("word", 0, 10,
		"t.conf:12: key 'word': expected an integer from 0 to 10, got 'abc'");
	u32_bad("half", 0, 10,
		"t.conf:14: key 'half': expected an integer from 0 to 10, got '0.5'");
}

static void double_ok(const char *key, double min, double max, double want)
{
	struct el_error err = {0};
	double v = 123.0;

	if (conf_get_double(sec, key, -2.5, min, max, &v, &err) != 0)
		fail_msg("%s: %s", key, err.message);
	assert_true(v == want);
}

static void double_bad(const char *key, const char *value, unsigned line)
{
	struct el_error err = {0};
	char message[EL_ERROR_MAX];
	double v = 123.0;

	snprintf(message, sizeof(message),
		 "t.conf:%u: key '%s': expected a number from -1 to 1.5, got '%s'", line, key,
		 value);
	assert_error(&err, conf_get_double(sec, key, 0.0, -1.0, 1.5, &v, &err), message);
	assert_true(v == 123.0);
}

static void test_double(void **state)
{
	(void)state;
	double_ok("absent", 0, 1, -2.5);
	double_ok("half", 0.5, 0.5, 0.5);
	double_ok("mhalf", -1, 0, -0.5);
	double_ok("exp", 0, 1000, 1000.0);
	double_ok("zero", 0, 0, 0.0);
	double_ok("lead0", 0, 10, 10.0);
	double_ok("plus", 0, 10, 5.0);
	double_bad("u", "256", 3);
	double_ok("neg", -1, 1.5, -1.0);
	double_bad("trail", "100x", 9);
	double_bad("space", "1 2", 10);
	double_bad("empty", "", 11);
	double_bad("word", "abc", 12);
	double_bad("nan", "nan", 17);
	double_bad("inf", "inf", 18);
	double_bad("minf", "-Infinity", 19);
	double_bad("huge", "1e999", 20);
	double_bad("hexf", "0x1p3", 21);
	double_bad("dot", ".", 22);
	double_bad("e", "1e", 23);
}

static void bool_ok(const char *key, bool def, bool want)
{
	struct el_error err = {0};
	bool v = !want;

	if (conf_get_bool(sec, key, def, &v, &err) != 0)
		fail_msg("%s: %s", key, err.message);
	assert_int_equal(v, want);
}

static void test_bool(void **state)
{
	static const char *const spellings[][2] = {
		{"yes", "no"}, {"true", "false"}, {"on", "off"}, {"1", "0"},
		{"Yes", "NO"}, {"TRUE", "False"}, {"oN", "oFf"},
	};
	struct el_error err = {0};
	struct conf *c = NULL;
	bool v = true;

	(void)state;
	bool_ok("absent", true, true);
	bool_ok("absent", false, false);
	bool_ok("yes", false, true);
	bool_ok("off", true, false);
	bool_ok("one", false, true);
	bool_ok("zero", true, false);
	assert_error(&err, conf_get_bool(sec, "maybe", false, &v, &err),
		     "t.conf:27: key 'maybe': expected yes/no, true/false, on/off or 1/0, got "
		     "'maybe'");
	assert_true(v);
	assert_error(&err, conf_get_bool(sec, "empty", false, &v, &err),
		     "t.conf:11: key 'empty': expected yes/no, true/false, on/off or 1/0, got ''");
	assert_error(&err, conf_get_bool(sec, "u", false, &v, &err),
		     "t.conf:3: key 'u': expected yes/no, true/false, on/off or 1/0, got '256'");
	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		char buf[64];
		bool t = false, f = true;

		snprintf(buf, sizeof(buf), "[b]\nt = %s\nf = %s\n", spellings[i][0],
			 spellings[i][1]);
		assert_int_equal(conf_load_string(buf, "b.conf", &c, NULL), 0);
		assert_int_equal(conf_get_bool(conf_find_section(c, "b"), "t", false, &t, NULL), 0);
		assert_int_equal(conf_get_bool(conf_find_section(c, "b"), "f", true, &f, NULL), 0);
		assert_true(t);
		assert_false(f);
		c = conf_free(c);
	}
}

static void test_string_and_enum(void **state)
{
	static const char *const modes[] = {"gain", "fir", "eq"};
	struct el_error err = {0};
	unsigned v = 99;

	(void)state;
	assert_string_equal(conf_get_string(sec, "mode", "x"), "fir");
	assert_string_equal(conf_get_string(sec, "empty", "x"), "");
	assert_string_equal(conf_get_string(sec, "absent", "x"), "x");
	assert_null(conf_get_string(sec, "absent", NULL));
	assert_null(conf_get_string(NULL, "mode", NULL));

	assert_int_equal(conf_get_enum(sec, "mode", 0, modes, 3, &v, &err), 0);
	assert_int_equal(v, 1);
	assert_int_equal(conf_get_enum(sec, "absent", 2, modes, 3, &v, &err), 0);
	assert_int_equal(v, 2);
	v = 99;
	assert_error(&err, conf_get_enum(sec, "Mode", 0, modes, 3, &v, &err),
		     "t.conf:29: key 'Mode': expected one of: gain, fir, eq; got 'FIR'");
	assert_int_equal(v, 99);
	assert_error(&err, conf_get_enum(sec, "empty", 0, modes, 3, &v, &err),
		     "t.conf:11: key 'empty': expected one of: gain, fir, eq; got ''");
	assert_error(&err, conf_get_enum(sec, "mode", 0, modes, 1, &v, &err),
		     "t.conf:28: key 'mode': expected one of: gain; got 'fir'");
	assert_int_equal(v, 99);
}

static void list_ok(const char *key, size_t max_n, const double *want, size_t want_n)
{
	struct el_error err = {0};
	double out[8] = {0};
	size_t n = 99;

	if (conf_get_double_list(sec, key, -10, 10, out, max_n, &n, &err) != 0)
		fail_msg("%s: %s", key, err.message);
	assert_int_equal(n, want_n);
	for (size_t i = 0; i < n; i++)
		assert_true(out[i] == want[i]);
}

static void list_bad(const char *key, size_t max_n, const char *message)
{
	struct el_error err = {0};
	double out[8] = {42, 42, 42, 42, 42, 42, 42, 42};
	size_t n = 99;

	assert_error(&err, conf_get_double_list(sec, key, -10, 10, out, max_n, &n, &err), message);
	assert_int_equal(n, 99);
	for (size_t i = 0; i < 8; i++)
		assert_true(out[i] == 42); /* untouched, even the items that parsed */
}

static void test_list(void **state)
{
	static const double l[] = {1, 2.5, -3}, sp[] = {1, 2}, four[] = {1, 2, 3, 4}, one[] = {7};

	(void)state;
	list_ok("absent", 8, NULL, 0);
	list_ok("empty", 8, NULL, 0);
	list_ok("list", 8, l, 3);
	list_ok("list", 3, l, 3);
	list_ok("list_sp", 2, sp, 2);
	list_ok("list_4", 4, four, 4);
	list_ok("list_one", 1, one, 1);
	list_bad("list", 2,
		 "t.conf:30: key 'list': expected a comma-separated list of at most 2 "
		 "numbers from -10 to 10, got '1, 2.5,-3'");
	list_bad("list_4", 3,
		 "t.conf:38: key 'list_4': expected a comma-separated list of at most "
		 "3 numbers from -10 to 10, got '1,2,3,4'");
	list_bad("list_empty_item", 8,
		 "t.conf:32: key 'list_empty_item': expected a comma-separated list of at most 8 "
		 "numbers from -10 to 10, got '1,,2'");
	list_bad("list_trailing", 8,
		 "t.conf:33: key 'list_trailing': expected a comma-separated list of at most 8 "
		 "numbers from -10 to 10, got '1,2,'");
	list_bad("list_lead", 8,
		 "t.conf:34: key 'list_lead': expected a comma-separated list of at "
		 "most 8 numbers from -10 to 10, got ',1'");
	list_bad("list_bad", 8,
		 "t.conf:35: key 'list_bad': expected a comma-separated list of at "
		 "most 8 numbers from -10 to 10, got '1,x'");
	list_bad("list_range", 8,
		 "t.conf:36: key 'list_range': expected a comma-separated list of "
		 "at most 8 numbers from -10 to 10, got '1,200'");
	list_bad("list_inf", 8,
		 "t.conf:37: key 'list_inf': expected a comma-separated list of at "
		 "most 8 numbers from -10 to 10, got '1,inf'");
	list_bad("list_space_in", 8,
		 "t.conf:40: key 'list_space_in': expected a comma-separated list of at most 8 "
		 "numbers from -10 to 10, got '1 2'");
	list_bad("hexf", 8,
		 "t.conf:21: key 'hexf': expected a comma-separated list of at most 8 "
		 "numbers from -10 to 10, got '0x1p3'");
}

static void test_check_keys(void **state)
{
	static const char *const allowed[] = {"type", "input", "gain_db", NULL};
	struct el_error err = {0};
	struct conf *c = NULL;

	(void)state;
	assert_int_equal(conf_load_string("[node.a]\ntype = gain\ninput = x\ngain_db = 1\n"
					  "[node.b]\ntype = gain\ninptu = x\n"
					  "[node.c]\ngain = 1\ntypo = x\n"
					  "[node.d]\ntype = gain\nsource = x\n"
					  "[node.e]\n",
					  "k.conf", &c, NULL),
			 0);
	assert_int_equal(conf_check_keys(conf_find_section(c, "node.a"), allowed, &err), 0);
	assert_int_equal(conf_check_keys(conf_find_section(c, "node.e"), allowed, &err), 0);
	assert_int_equal(conf_check_keys(NULL, allowed, &err), 0);
	/* A transposition is two edits. */
	assert_error(&err, conf_check_keys(conf_find_section(c, "node.b"), allowed, &err),
		     "k.conf:7: key 'inptu': unknown key in [node.b] (did you mean 'input'?)");
	/* "gain" is 3 edits from "gain_db": no suggestion. The first unknown key is reported. */
	assert_error(&err, conf_check_keys(conf_find_section(c, "node.c"), allowed, &err),
		     "k.conf:9: key 'gain': unknown key in [node.c]");
	assert_error(&err, conf_check_keys(conf_find_section(c, "node.d"), allowed, &err),
		     "k.conf:13: key 'source': unknown key in [node.d]");
	assert_error(&err, conf_check_keys(conf_find_section(c, "node.a"), NULL, &err),
		     "k.conf:2: key 'type': unknown key in [node.a]");
	assert_int_equal(conf_check_keys(conf_find_section(c, "node.b"), allowed, NULL), -EINVAL);
	conf_free(c);
}

static void test_error_helpers(void **state)
{
	const struct conf_section *s = conf_find_section(conf, "v");
	struct el_error err = {0};

	(void)state;
	assert_int_equal(conf_error_entry(&err, -ERANGE, conf_section_find(s, "u"),
					  "must be a power of two, got %u", 100u),
			 -ERANGE);
	assert_int_equal(err.code, -ERANGE);
	assert_string_equal(err.message, "t.conf:3: key 'u': must be a power of two, got 100");
	assert_int_equal(conf_error_section(&err, -EINVAL, s, "no %s", "type"), -EINVAL);
	assert_string_equal(err.message, "t.conf:1: [v]: no type");
	assert_int_equal(conf_error_section(NULL, -EINVAL, s, "ignored"), -EINVAL);
}

static int setup(void **state)
{
	struct el_error err = {0};

	(void)state;
	if (conf_load_string(text, "t.conf", &conf, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		return -1;
	}
	sec = conf_find_section(conf, "v");
	return sec ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	conf = conf_free(conf);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u32),           cmocka_unit_test(test_double),
		cmocka_unit_test(test_bool),          cmocka_unit_test(test_string_and_enum),
		cmocka_unit_test(test_list),          cmocka_unit_test(test_check_keys),
		cmocka_unit_test(test_error_helpers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
