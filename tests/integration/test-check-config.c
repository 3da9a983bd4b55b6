/* SPDX-License-Identifier: MIT */
/*
 * Property: `echoeld --check-config` refuses every bad configuration with exit code 1 and one
 * exact message naming the file, line and key (or section) and saying what is wrong — 35 cases
 * across the parser, [engine], graph structure, every node type and every backend's section
 * ([dummy], [jack], [pipewire], whichever backend runs, as open() would check them) — and accepts
 * the shipped example configurations without a warning. A configuration that is valid but
 * likely not what its author meant (an empty file, a graph without an output node, a section
 * header repeated in the same file, whose keys are then merged into one node) is accepted with
 * exit code 0 and one warning each, naming the file and lines; a drop-in that reopens a
 * section of the main file is the documented way to change it and draws no warning.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "tests/integration/test-proc.h"

static struct test_proc proc;

struct bad {
	const char *text;
	const char *message; /* after "echoeld: error: FILE:" */
};

#define IN "[node.in]\ntype = input\n"

static const struct bad cases[] = {
	{"[engine]\nrate = 1000\n",
	 "2: key 'rate': expected an integer from 8000 to 384000, got '1000'"},
	{"[engine]\nblock = 100\n",
	 "2: key 'block': expected a power of two from 32 to 8192, got '100'"},
	{"[engine]\nbackend = oss\n",
	 "2: key 'backend': expected one of: auto, dummy, jack, pipewire, alsa; got 'oss'"},
	{"[engine]\nbogus = 1\n", "2: key 'bogus': unknown key in [engine]"},
	{"[foo]\nx = 1\n",
	 "1: [foo]: unknown section (expected [engine], [ipc], [jack], [pipewire], "
	 "[alsa], [dummy], [policy], [cache] or [node.NAME])"},
	{"[node.a]\ninput = b\n", "1: [node.a]: missing key 'type'"},
	{"[node.a]\ntype = reverb\n",
	 "2: key 'type': unknown node type 'reverb' (known: input, output, gain, mix, tone, noise, "
	 "fir, eq, delay, meter, player, recorder, limiter)"},
	{"[node.a.b]\ntype = gain\n",
	 "1: [node.a.b]: invalid node name (1 to 64 letters, digits, '_', '-')"},
	{IN "[node.g]\ntype = gain\ninput = nope\n", "5: key 'input': no node named 'nope'"},
	{IN "[node.g]\ntype = gain\ninput = in:3\n",
	 "5: key 'input': node 'in' has 2 channels, no channel 3"},
	{IN "[node.g]\ntype = gain\ninput = in:0\n",
	 "5: key 'input': bad channel '0' in 'in:0' (expected 1 to 64)"},
	{"[node.a]\ntype = gain\ninput = a\n", "3: key 'input': cycle: a -> a"},
	{"[node.a]\ntype = gain\ninput = b\n[node.b]\ntype = gain\ninput = a\n",
	 "6: key 'input': cycle: a -> b -> a"},
	{IN "[node.in2]\ntype = input\ninput = in\n",
	 "5: key 'input': a node of type 'input' takes no input"},
	/* A source would ignore it silently: refused like the input node's. */
	{IN "[node.t]\ntype = tone\ninput = in\n",
	 "5: key 'input': a node of type 'tone' takes no input"},
	{IN "[node.n]\ntype = noise\ninput = in\n",
	 "5: key 'input': a node of type 'noise' takes no input"},
	{IN "[node.g]\ntype = gain\ninput = in\ngain_db = loud\n",
	 "6: key 'gain_db': expected a number from -120 to 24, got 'loud'"},
	{IN "[node.g]\ntype = gain\ninput = in\ngain_db = 100\n",
	 "6: key 'gain_db': expected a number from -120 to 24, got '100'"},
	{IN "[node.g]\ntype = gain\ninput = in\ngian_db = 3\n",
	 "6: key 'gian_db': unknown key in [node.g] (did you mean 'gain_db'?)"},
	{IN "[node.m]\ntype = mix\ninput = in, in:1\n",
	 "5: key 'input': channel mismatch: mix inputs must have the same channel count (input 1 "
	 "has 2, input 2 has 1)"},
	{IN "[node.m]\ntype = mix\ninput = in, in\ngains = 0\n",
	 "6: key 'gains': expected 2 values (one per input), got 1"},
	{IN "[node.e]\ntype = eq\ninput = in\nband1 = peaking 1000 1\n",
	 "6: key 'band1': peaking needs a gain: expected 'peaking FREQ Q GAIN_DB', got 'peaking "
	 "1000 1'"},
	{IN "[node.e]\ntype = eq\ninput = in\nband1 = wobble 100 1\n",
	 "6: key 'band1': unknown filter type 'wobble' (expected peaking, lowshelf, highshelf, "
	 "lowpass, highpass, bandpass, notch or allpass)"},
	{IN "[node.d]\ntype = delay\ninput = in\ndelay_frames = 10\ndelay_ms = 1\n",
	 "7: key 'delay_ms': give delay_frames or delay_ms, not both"},
	{"[node.o]\ntype = output\n", "1: [node.o]: an output needs an input"},
	{"[node.t]\ntype = tone\nfreq = 30000\n",
	 "3: key 'freq': expected a number from 1 to 23999, got '30000'"},
	{"[engine]\npool_buffers = 8\n" IN "channels = 16\n[node.o]\ntype = output\ninput = in\n",
	 "2: key 'pool_buffers': too small: the graph needs more than the 8 buffers of [engine] "
	 "pool_buffers"},
	{IN "[node.g]\ntype = gain\ninput = ,\n", "5: key 'input': expected node names, got ','"},
	{"[node.in\ntype = input\n", "1: syntax error: expected '[section]' or 'key = value'"},
	{"type = gain\n", "1: key 'type': outside of any [section]"},
	{IN "channels = 65\n", "3: key 'channels': expected an integer from 1 to 64, got '65'"},
	{"[node.t]\ntype = tone\n[node.g]\ntype = gain\ninput = t\nmute = maybe\n",
	 "6: key 'mute': expected yes/no, true/false, on/off or 1/0, got 'maybe'"},
	{"[engine]\nbackend = dummy\n[jack]\nclient = x\n",
	 "4: key 'client': unknown key in [jack]"},
	{"[pipewire]\nlatency = 256\n",
	 "2: key 'latency': expected FRAMES/RATE such as 256/48000, got '256'"},
	{"[pipewire]\nnode_name = my node\n",
	 "2: key 'node_name': expected a node name without blanks or ':', got 'my node'"},
	{"[dummy]\ncapture_loop = sometimes\n",
	 "2: key 'capture_loop': expected yes/no, true/false, on/off or 1/0, got 'sometimes'"},
	/* not an audio file: the configuration itself (a path relative to the file's directory) */
	{"[dummy]\ncapture_file = bad.conf\n",
	 "2: key 'capture_file': '@DIR@/bad.conf': cannot read: Format not recognised."},
};

/* "echoeld: error: PATH:MESSAGE\n", with @DIR@ in the message standing for the test's directory. */
static void expect(char *buf, size_t size, const char *path, const char *message)
{
	const char *dir = strstr(message, "@DIR@");

	if (dir)
		snprintf(buf, size, "echoeld: error: %s:%.*s%s%s\n", path, (int)(dir - message),
			 message, proc.dir, dir + strlen("@DIR@"));
	else
		snprintf(buf, size, "echoeld: error: %s:%s\n", path, message);
}

static void test_bad_configs(void **state)
{
	char path[512], expected[1024];
	unsigned failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int code;

		assert_int_equal(test_proc_write(&proc, "bad.conf", cases[i].text), 0);
		test_proc_path(&proc, path, sizeof(path), "bad.conf");
		code = test_proc_run(&proc, (const char *[]){"--check-config", path, NULL});
		expect(expected, sizeof(expected), path, cases[i].message);
		if (code != 1 || strcmp(proc.err, expected) != 0) {
			printf("# case %zu: exit %d\n#   got:      %s#   expected: %s", i + 1, code,
			       proc.err, expected);
			failures++;
		}
	}
	printf("# %zu bad configurations, %u unexpected answers\n",
	       sizeof(cases) / sizeof(cases[0]), failures);
	assert_int_equal(failures, 0);
}

struct warned {
	const char *text;
	const char *warnings; /* each line "echoeld: warning: " + this with @F@ for the file */
};

#define NO_OUT                                                                                     \
	"@F@: no output node: the graph plays nothing (add a [node.NAME] with type = output)\n"

static const struct warned warned_cases[] = {
	{"", "@F@: empty file: no [section] in it\n" NO_OUT},
	{"# only a comment\n", "@F@: empty file: no [section] in it\n" NO_OUT},
	{IN "[node.g]\ntype = gain\ninput = in\n", NO_OUT},
	/* the first user's case: the second [node.out] turned the output into a gain */
	{IN "[node.out]\ntype = output\ninput = in\n[node.out]\ntype = gain\ngain_db = -6\n",
	 "@F@:6: section [node.out] repeats the one at line 3 (their keys are merged)\n" NO_OUT},
	{IN "[node.out]\ntype = output\n[node.x]\ntype = gain\ninput = in\n[node.out]\n"
	    "input = in\n[node.out]\n",
	 "@F@:8: section [node.out] repeats the one at line 3 (their keys are merged)\n"
	 "@F@:10: section [node.out] repeats the one at line 3 (their keys are merged)\n"},
};

/* Expands @F@ to path and prefixes each line with "echoeld: warning: ". */
static void expect_warnings(char *buf, size_t size, const char *path, const char *warnings)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const char *p = warnings; *p && used < size; p++) {
		if (p == warnings || p[-1] == '\n')
			used += (size_t)snprintf(buf + used, size - used, "echoeld: warning: ");
		if (used < size && strncmp(p, "@F@", 3) == 0) {
			used += (size_t)snprintf(buf + used, size - used, "%s", path);
			p += 2;
		} else if (used < size) {
			used += (size_t)snprintf(buf + used, size - used, "%c", *p);
		}
	}
	if (used < size)
		snprintf(buf + used, size - used, "echoeld: %s: configuration is valid\n", path);
}

static void test_warnings(void **state)
{
	char path[512], expected[2048];
	unsigned failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(warned_cases) / sizeof(warned_cases[0]); i++) {
		int code;

		assert_int_equal(test_proc_write(&proc, "warn.conf", warned_cases[i].text), 0);
		test_proc_path(&proc, path, sizeof(path), "warn.conf");
		code = test_proc_run(&proc, (const char *[]){"--check-config", path, NULL});
		expect_warnings(expected, sizeof(expected), path, warned_cases[i].warnings);
		if (code != 0 || strcmp(proc.err, expected) != 0) {
			printf("# case %zu: exit %d\n#   got:\n%s#   expected:\n%s", i + 1, code,
			       proc.err, expected);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* A drop-in reopening a section of the main file changes it, as documented: no warning. */
static void test_dropin_reopens_quietly(void **state)
{
	char path[512], dir[512];

	(void)state;
	test_proc_path(&proc, dir, sizeof(dir), "main.conf.d");
	assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
	assert_int_equal(
		test_proc_write(&proc, "main.conf", IN "[node.out]\ntype = output\ninput = in\n"),
		0);
	assert_int_equal(test_proc_write(&proc, "main.conf.d/10-out.conf",
					 "[node.g]\ntype = gain\ninput = in\n"
					 "[node.out]\ninput = g\n"),
			 0);
	test_proc_path(&proc, path, sizeof(path), "main.conf");
	assert_int_equal(test_proc_run(&proc, (const char *[]){"--check-config", path, NULL}), 0);
	if (strstr(proc.err, "warning")) {
		printf("# %s", proc.err);
		fail();
	}
}

static void test_examples_are_valid(void **state)
{
	static const char *const examples[] = {"echoeld.conf", "room-correction.conf",
					       "crossover-2way.conf"};
	const char *src = getenv("CONF_DIR");
	char path[512];

	(void)state;
	assert_non_null(src);
	for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", src, examples[i]);
		if (test_proc_run(&proc, (const char *[]){"--check-config", path, NULL}) != 0 ||
		    strstr(proc.err, "warning")) {
			printf("# %s: %s", path, proc.err);
			fail();
		}
	}
}

static int setup(void **state)
{
	(void)state;
	return test_proc_init(&proc, "test-check-config");
}

static int teardown(void **state)
{
	(void)state;
	return test_proc_done(&proc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_dropin_reopens_quietly),
		cmocka_unit_test(test_examples_are_valid),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
