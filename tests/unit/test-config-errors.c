/* SPDX-License-Identifier: MIT */
/*
 * Property: every malformed configuration is refused with its exact message, naming the file
 * and line of the first error, and leaves nothing behind: the return is -EINVAL (or the -errno
 * of a file that cannot be read), *ret is untouched, and nothing leaks (run under ASan/LSan).
 * The limits are inclusive: exactly CONF_MAX_LINE bytes, 64-byte names, CONF_MAX_SECTIONS
 * sections and CONF_MAX_ENTRIES_PER_SECTION keys are accepted; one more is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/el-error.h"
#include "daemon/config/config.h"

#define SYNTAX      "syntax error: expected '[section]' or 'key = value'"
#define BAD_SECTION "invalid section name (letters, digits, '.', '_', '-')"
#define NAME64      "n234567890123456789012345678901234567890123456789012345678901234"
#define NAME65      NAME64 "5"

struct bad_case {
	const char *text;
	const char *message;
};

static const struct bad_case bad_cases[] = {
	{"[engine]\nrate\n", "t.conf:2: " SYNTAX},
	{"[engine]\nrate = 1\n\n\nblock 256\n", "t.conf:5: " SYNTAX},
	{"[engine\nrate = 1\n", "t.conf:1: " SYNTAX},
	{"[engine] rate = 1\n", "t.conf:1: " SYNTAX},
	{"[a]]\n", "t.conf:1: " SYNTAX},
	/* A continuation line (Python configparser style) is not accepted. */
	{"[node.x]\ntype = fir\n  more\n", "t.conf:3: " SYNTAX},
	/* Only the first error is reported. */
	{"[a]\nfirst\nsecond\n[bad name]\n", "t.conf:2: " SYNTAX},
	{"rate = 48000\n", "t.conf:1: key 'rate': outside of any [section]"},
	{"; comment\n\n# comment\nrate = 48000\n[engine]\n",
	 "t.conf:4: key 'rate': outside of any [section]"},
	{"[engine]\n\n[bad name]\n", "t.conf:3: [bad name]: " BAD_SECTION},
	{"[]\n", "t.conf:1: []: " BAD_SECTION},
	{"[node/x]\n", "t.conf:1: [node/x]: " BAD_SECTION},
	{"[node.x ; comment]\n", "t.conf:1: [node.x ; comment]: " BAD_SECTION},
	{"[" NAME65 "]\n", "t.conf:1: [" NAME65 "]: " BAD_SECTION},
	{"[engine]\nbad-key = 1\n", "t.conf:2: key 'bad-key': invalid key name"},
	{"[engine]\nsample rate = 1\n", "t.conf:2: key 'sample rate': invalid key name"},
	{"[engine]\n= 1\n", "t.conf:2: key '': invalid key name"},
	{"[engine]\n" NAME65 " = 1\n", "t.conf:2: key '" NAME65 "': invalid key name"},
	{"[engine]\nr\xC3\xA4te = 1\n", "t.conf:2: key 'r\xC3\xA4te': invalid key name"},
};

static char dir[] = "/tmp/test-config-errors-XXXXXX";

/* A pointer conf_load() must not touch when it fails. */
static struct conf *const untouched = (struct conf *)&dir;

static void assert_refused_string(const char *text, const char *message)
{
	struct el_error err = {0};
	struct conf *c = untouched;

	assert_int_equal(conf_load_string(text, "t.conf", &c, &err), -EINVAL);
	assert_ptr_equal(c, untouched);
	assert_int_equal(err.code, -EINVAL);
	assert_string_equal(err.message, message);
	/* Without an error buffer the result is the same. */
	assert_int_equal(conf_load_string(text, "t.conf", &c, NULL), -EINVAL);
	assert_ptr_equal(c, untouched);
}

static void assert_accepted_string(const char *text)
{
	struct el_error err = {0};
	struct conf *c = NULL;

	if (conf_load_string(text, "t.conf", &c, &err) != 0)
		fail_msg("%s", err.message);
	conf_free(c);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		assert_refused_string(bad_cases[i].text, bad_cases[i].message);
}

/* "[engine]\nk = " plus value bytes to make line 2 exactly len bytes long. */
static char *line_of(size_t len, const char *ending)
{
	char *s = malloc(len + 32);

	assert_non_null(s);
	strcpy(s, "[engine]\nk = ");
	memset(s + 13, 'v', len - 4);
	strcpy(s + 9 + len, ending);
	return s;
}

static void test_line_length(void **state)
{
	char *s;

	(void)state;
	s = line_of(CONF_MAX_LINE, "\n");
	assert_accepted_string(s);
	free(s);
	s = line_of(CONF_MAX_LINE, "\r\n");
	assert_accepted_string(s);
	free(s);
	s = line_of(CONF_MAX_LINE, ""); /* last line, no line end */
	assert_accepted_string(s);
	free(s);
	s = line_of(CONF_MAX_LINE + 1, "\n");
	assert_refused_string(s, "t.conf:2: line too long (more than 4096 bytes)");
	free(s);
	s = line_of(CONF_MAX_LINE + 1, "");
	assert_refused_string(s, "t.conf:2: line too long (more than 4096 bytes)");
	free(s);
	s = line_of(3 * CONF_MAX_LINE, "\n[ok]\n");
	assert_refused_string(s, "t.conf:2: line too long (more than 4096 bytes)");
	free(s);
	assert_accepted_string("[" NAME64 "]\n" NAME64 " = 1\n");
}

/* n sections, the last one with n_keys keys. */
static char *many(size_t n, size_t n_keys)
{
	size_t size = (n + n_keys) * 32 + 1, used = 0;
	char *s = malloc(size);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(s + used, size - used, "[s%zu]\n", i);
	for (size_t i = 0; i < n_keys; i++)
		used += (size_t)snprintf(s + used, size - used, "k%zu = %zu\n", i, i);
	return s;
}

static void test_counts(void **state)
{
	char *s;

	(void)state;
	s = many(CONF_MAX_SECTIONS, CONF_MAX_ENTRIES_PER_SECTION);
	assert_accepted_string(s);
	free(s);
	s = many(CONF_MAX_SECTIONS + 1, 0);
	assert_refused_string(s, "t.conf:1025: too many sections (at most 1024)");
	free(s);
	s = many(1, CONF_MAX_ENTRIES_PER_SECTION + 1);
	assert_refused_string(s, "t.conf:258: [s0]: too many keys (at most 256)");
	free(s);
	/* Repeating a section or a key does not count twice. */
	s = many(CONF_MAX_SECTIONS, 0);
	s = realloc(s, strlen(s) + 64);
	assert_non_null(s);
	strcat(s, "[s0]\nk = 1\nk = 2\n[s1]\n");
	assert_accepted_string(s);
	free(s);
}

static void path_in_dir(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

static void write_file(const char *name, const char *text, size_t len)
{
	char path[512];
	FILE *f;

	path_in_dir(path, sizeof(path), name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* conf_load(name) fails with code and "DIR/" + message. */
static void assert_refused_file(const char *name, int code, const char *message)
{
	struct el_error err = {0};
	struct conf *c = untouched;
	char path[512], expect[1024];

	path_in_dir(path, sizeof(path), name);
	snprintf(expect, sizeof(expect), "%s/%s", dir, message);
	assert_int_equal(conf_load(path, &c, &err), code);
	assert_ptr_equal(c, untouched);
	assert_int_equal(err.code, code);
	assert_string_equal(err.message, expect);
}

static void test_files(void **state)
{
	char path[512];

	(void)state;
	assert_refused_file("missing.conf", -ENOENT, "missing.conf: No such file or directory");
	path_in_dir(path, sizeof(path), "dir.conf");
	assert_int_equal(mkdir(path, 0755), 0);
	assert_refused_file("dir.conf", -EISDIR, "dir.conf: Is a directory");

	write_file("nul.conf", "[a]\nk = v\nx\0 = 1\n", 17);
	assert_refused_file("nul.conf", -EINVAL, "nul.conf:3: " SYNTAX);

	/* An error in a drop-in names the drop-in; the main file's content is dropped too. */
	write_file("main.conf", "[engine]\nrate = 1\n", 18);
	path_in_dir(path, sizeof(path), "main.conf.d");
	assert_int_equal(mkdir(path, 0755), 0);
	write_file("main.conf.d/10-ok.conf", "[engine]\nblock = 64\n", 20);
	write_file("main.conf.d/20-bad.conf", "[engine]\n\nblock\n", 16);
	assert_refused_file("main.conf", -EINVAL, "main.conf.d/20-bad.conf:3: " SYNTAX);

	/* A drop-in that cannot be read is an error naming it. */
	write_file("main.conf.d/20-bad.conf", "[engine]\n", 9);
	path_in_dir(path, sizeof(path), "main.conf.d/15-dangling.conf");
	assert_int_equal(symlink("/nonexistent/echoeld-test.conf", path), 0);
	assert_refused_file("main.conf", -ENOENT,
			    "main.conf.d/15-dangling.conf: No such file or directory");
	assert_int_equal(unlink(path), 0);
	if (geteuid() != 0) { /* root reads mode 000 files */
		path_in_dir(path, sizeof(path), "main.conf.d/10-ok.conf");
		assert_int_equal(chmod(path, 0), 0);
		assert_refused_file("main.conf", -EACCES,
				    "main.conf.d/10-ok.conf: Permission denied");
		assert_int_equal(chmod(path, 0644), 0);
	}
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_line_length),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
