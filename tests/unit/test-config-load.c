/* SPDX-License-Identifier: MIT */
/*
 * Property: a main file and its drop-ins load with the right values and origins. Drop-ins
 * `FILE.d/ *.conf` are read in lexical (strcmp) order after the main file; a later key
 * overrides an earlier one, value and origin (file and line) both; other files, hidden files
 * and directories in FILE.d are ignored; a missing FILE.d is fine. Sections keep the order of
 * their first appearance and their first origin. Comments, blank lines, inline comments,
 * CRLF line ends, a BOM and empty values read as documented in daemon/config/config.c.
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

static char dir[] = "/tmp/test-config-load-XXXXXX";

static void path_in_dir(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	path_in_dir(path, sizeof(path), name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void make_dir(const char *name)
{
	char path[512];

	path_in_dir(path, sizeof(path), name);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void assert_entry(const struct conf_section *s, const char *key, const char *value,
			 const char *file, unsigned line)
{
	const struct conf_entry *e = conf_section_find(s, key);
	char path[512];

	assert_non_null(e);
	assert_string_equal(e->key, key);
	assert_string_equal(e->value, value);
	path_in_dir(path, sizeof(path), file);
	assert_string_equal(e->origin.file, path);
	assert_int_equal(e->origin.line, line);
}

static void assert_section(const struct conf *c, size_t i, const char *name, const char *file,
			   unsigned line, size_t n_entries)
{
	const struct conf_section *s = conf_get_section(c, i);
	char path[512];

	assert_non_null(s);
	assert_string_equal(s->name, name);
	assert_ptr_equal(conf_find_section(c, name), s);
	path_in_dir(path, sizeof(path), file);
	assert_string_equal(s->origin.file, path);
	assert_int_equal(s->origin.line, line);
	assert_int_equal(s->n_entries, n_entries);
}

static void load(const char *name, struct conf **ret)
{
	struct el_error err = {0};
	char path[512];

	path_in_dir(path, sizeof(path), name);
	if (conf_load(path, ret, &err) != 0)
		fail_msg("%s", err.message);
}

static void test_dropins(void **state)
{
	const struct conf_section *engine;
	struct conf *c = NULL;

	(void)state;
	write_file("a.conf", "# echoeld test\n"
			     "; also a comment\n"
			     "\n"
			     "[engine]\n"
			     "rate = 48000\n"
			     "block = 256\n"
			     "name =\n"
			     "\n"
			     "[node.eq]\n"
			     "type = eq\n"
			     "input = in\n");
	make_dir("a.conf.d");
	/* strcmp order: "10-" < "20-" < "9-", so 9-late.conf comes last and wins. */
	write_file("a.conf.d/9-late.conf", "[node.eq]\ninput = late\n[engine]\nrate = 88200\n");
	write_file("a.conf.d/10-rate.conf", "[engine]\nrate = 44100\n[node.fir]\ntype = fir\n");
	write_file("a.conf.d/20-block.conf", "[engine]\nblock = 128\n\nblock = 512\n");
	write_file("a.conf.d/README", "this is not a config file\n");
	write_file("a.conf.d/30-off.conf.disabled", "not = read\n");
	write_file("a.conf.d/.hidden.conf", "not = read\n");
	make_dir("a.conf.d/40-dir.conf");

	load("a.conf", &c);
	assert_int_equal(conf_get_n_sections(c), 3);
	assert_section(c, 0, "engine", "a.conf", 4, 3);
	assert_section(c, 1, "node.eq", "a.conf", 9, 2);
	assert_section(c, 2, "node.fir", "a.conf.d/10-rate.conf", 3, 1);
	assert_null(conf_get_section(c, 3));

	engine = conf_find_section(c, "engine");
	/* Entries keep their first position; value and origin come from the last assignment. */
	assert_string_equal(engine->entries[0].key, "rate");
	assert_string_equal(engine->entries[1].key, "block");
	assert_string_equal(engine->entries[2].key, "name");
	assert_entry(engine, "rate", "88200", "a.conf.d/9-late.conf", 4);
	assert_entry(engine, "block", "512", "a.conf.d/20-block.conf", 4);
	assert_entry(engine, "name", "", "a.conf", 7);
	assert_entry(conf_find_section(c, "node.eq"), "type", "eq", "a.conf", 10);
	assert_entry(conf_find_section(c, "node.eq"), "input", "late", "a.conf.d/9-late.conf", 2);
	assert_entry(conf_find_section(c, "node.fir"), "type", "fir", "a.conf.d/10-rate.conf", 4);

	assert_null(conf_find_section(c, "node"));
	assert_null(conf_find_section(c, "engine2"));
	assert_null(conf_section_find(engine, "rat"));
	assert_null(conf_section_find(NULL, "rate"));
	c = conf_free(c);
	assert_null(c);
	assert_null(conf_free(NULL));
}

static void test_no_dropin_dir(void **state)
{
	struct conf *c = NULL;

	(void)state;
	write_file("b.conf", "[engine]\nrate = 96000\n");
	load("b.conf", &c);
	assert_int_equal(conf_get_n_sections(c), 1);
	assert_entry(conf_find_section(c, "engine"), "rate", "96000", "b.conf", 2);
	conf_free(c);

	/* An empty file gives an empty configuration, not an error. */
	write_file("empty.conf", "");
	load("empty.conf", &c);
	assert_int_equal(conf_get_n_sections(c), 0);
	assert_null(conf_get_section(c, 0));
	conf_free(c);
}

/* Drop-ins of a file that does not exist, over a configuration from elsewhere (the built-in
 * default graph when /etc/echoeld/echoeld.conf is absent). */
static void test_dropins_without_file(void **state)
{
	struct el_error err = {0};
	struct conf *c = NULL;
	char path[512];

	(void)state;
	assert_int_equal(conf_load_string("[engine]\nrate = 48000\n[node.fir]\ntype = fir\n",
					  "(built-in)", &c, &err),
			 0);
	make_dir("absent.conf.d");
	write_file("absent.conf.d/50-room.conf",
		   "[node.fir]\nir = room.wav\n[engine]\nrate = 44100\n");
	path_in_dir(path, sizeof(path), "absent.conf");
	assert_int_equal(conf_load_dropins(c, path, &err), 0);
	assert_entry(conf_find_section(c, "engine"), "rate", "44100", "absent.conf.d/50-room.conf",
		     4);
	assert_entry(conf_find_section(c, "node.fir"), "ir", "room.wav",
		     "absent.conf.d/50-room.conf", 2);
	/* no directory at all: nothing added, no error */
	path_in_dir(path, sizeof(path), "nothing.conf");
	assert_int_equal(conf_load_dropins(c, path, &err), 0);
	conf_free(c);
}

static void test_syntax(void **state)
{
	const char *text = "\xEF\xBB\xBF; BOM, then a comment\r\n"
			   "[engine] ; a comment after a header\r\n"
			   "  rate   =   48000   \r\n"
			   "ir = /a#b.wav\n"
			   "gain = 3 # dB\n"
			   "pan = left ; side\n"
			   "expr = a=b\n"
			   "colon: value\n"
			   "empty =\n"
			   "blank =    \n"
			   "[node.x]\n"
			   "[node.y]\n"
			   "type = tone\n"
			   "[node.x]\n"
			   "type = gain\n"
			   "[engine]\n"
			   "rate = 44100\n";
	const struct conf_section *s;
	struct el_error err = {0};
	struct conf *c = NULL;

	(void)state;
	assert_int_equal(conf_load_string(text, "mem.conf", &c, &err), 0);
	assert_int_equal(conf_get_n_sections(c), 3);
	s = conf_get_section(c, 0);
	assert_string_equal(s->name, "engine");
	assert_string_equal(s->origin.file, "mem.conf");
	assert_int_equal(s->origin.line, 2);
	assert_int_equal(s->n_entries, 8);
	assert_string_equal(conf_section_find(s, "rate")->value, "44100");
	assert_int_equal(conf_section_find(s, "rate")->origin.line, 17);
	assert_string_equal(conf_section_find(s, "ir")->value, "/a#b.wav");
	assert_string_equal(conf_section_find(s, "gain")->value, "3");
	assert_string_equal(conf_section_find(s, "pan")->value, "left");
	assert_string_equal(conf_section_find(s, "expr")->value, "a=b");
	assert_string_equal(conf_section_find(s, "colon")->value, "value");
	assert_string_equal(conf_section_find(s, "empty")->value, "");
	assert_string_equal(conf_section_find(s, "blank")->value, "");
	assert_int_equal(conf_section_find(s, "blank")->origin.line, 10);

	s = conf_get_section(c, 1);
	assert_string_equal(s->name, "node.x");
	assert_int_equal(s->origin.line, 11);
	assert_int_equal(s->n_entries, 1);
	assert_string_equal(s->entries[0].value, "gain");
	assert_int_equal(s->entries[0].origin.line, 15);
	s = conf_get_section(c, 2);
	assert_string_equal(s->name, "node.y");
	assert_int_equal(s->origin.line, 12);
	conf_free(c);
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
		cmocka_unit_test(test_dropins),
		cmocka_unit_test(test_no_dropin_dir),
		cmocka_unit_test(test_dropins_without_file),
		cmocka_unit_test(test_syntax),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
