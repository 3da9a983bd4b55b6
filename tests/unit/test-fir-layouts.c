/* SPDX-License-Identifier: MIT */
/*
 * Property: the daemon's convolver layouts are measured once and remembered: a first choice for
 * an IR length measures (a real search, timed convolvers) and writes the file atomically; a new
 * instance reading that file answers the same layout without measuring, also for another IR
 * length of the same power of two; an entry that differs from this machine's key in the FFTW
 * version alone, or in the search's version alone, is never used; short IRs are uniform without
 * a search; lines that are not entries are skipped; and the line parser refuses every
 * malformed field.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/engine/node.h"
#include "daemon/fir-layouts.h"
#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/fir-layout.h"
#include "dsp/fir-search.h"

static char dir[64], path[128];

static int setup(void **state)
{
	struct dsp_fft_cache *fft = NULL;

	snprintf(dir, sizeof(dir), "/tmp/echoeld-layouts-XXXXXX");
	if (!mkdtemp(dir) || dsp_fft_cache_new(DSP_FFT_ESTIMATE, &fft) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/fir-layouts", dir);
	*state = fft;
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	rmdir(dir);
	dsp_fft_cache_free(*state);
	return 0;
}

static int choose(struct fir_layouts *l, struct dsp_fft_cache *fft, unsigned block, size_t taps,
		  struct dsp_fir_layout *ret)
{
	struct eng_fir_planner p = fir_layouts_get_planner(l);

	double cost;
	int r = p.choose(p.ctx, block, taps, 2, dsp_cpu_get_flags(), fft, ret, &cost);

	assert_true(r < 0 || taps <= 8u * block || cost > 0.0);
	return r;
}

/* Makes the entry's key what a search before DSP_FIR_SEARCH_VERSION wrote: "VARIANT/MODEL". */
static void drop_search_version(void)
{
	char buf[4096], tag[32];
	size_t n;
	char *at;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	snprintf(tag, sizeof(tag), "search%u/", DSP_FIR_SEARCH_VERSION);
	at = strstr(buf, tag);
	assert_non_null(at);
	memmove(at, at + strlen(tag), strlen(at + strlen(tag)) + 1);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(buf, f);
	fclose(f);
}

/* The file's entry of this search (CPU, search version and all) with another FFTW version. */
static void entry_with_fftw(const char *fftw, char *buf, size_t size)
{
	char line[512], tag[32];
	bool found = false;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	snprintf(tag, sizeof(tag), "/search%u/", DSP_FIR_SEARCH_VERSION);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, tag) != NULL;
	fclose(f);
	assert_true(found);
	/* CPU \t FFTW \t the rest */
	assert_non_null(strchr(line, '\t'));
	assert_non_null(strchr(strchr(line, '\t') + 1, '\t'));
	snprintf(buf, size, "%.*s\t%s%s", (int)(strchr(line, '\t') - line), line, fftw,
		 strchr(strchr(line, '\t') + 1, '\t'));
}

/* The file holds one entry of another key: 30000 taps at block 64 are searched, and added. */
static void expect_searched_again(struct dsp_fft_cache *fft)
{
	struct fir_layouts *l = NULL;
	struct dsp_fir_layout b;

	assert_int_equal(fir_layouts_new(path, &l), 0);
	assert_int_equal(fir_layouts_get_count(l), 1);
	assert_int_equal(choose(l, fft, 64, 30000, &b), 0);
	assert_int_equal(fir_layouts_get_searches(l), 1);
	assert_int_equal(fir_layouts_get_count(l), 2);
	fir_layouts_free(l);
}

static void test_measured_once(void **state)
{
	struct dsp_fir_layout a, b, c;
	struct fir_layouts *l = NULL;
	char text[256], line[512];
	FILE *f;

	unlink(path);
	assert_int_equal(fir_layouts_new(path, &l), 0);
	assert_int_equal(fir_layouts_get_count(l), 0);
	/* short: uniform, no search */
	assert_int_equal(choose(l, *state, 64, 300, &a), 0);
	assert_int_equal(a.count, 1);
	assert_int_equal(fir_layouts_get_searches(l), 0);
	/* long: one search, remembered */
	assert_int_equal(choose(l, *state, 64, 30000, &a), 0);
	assert_int_equal(fir_layouts_get_searches(l), 1);
	assert_true(dsp_fir_layout_get_taps(&a) >= 30000);
	assert_int_equal(choose(l, *state, 64, 30000, &b), 0);
	assert_int_equal(fir_layouts_get_searches(l), 1);
	assert_memory_equal(&a, &b, sizeof(a));
	dsp_fir_layout_format(&a, text, sizeof(text));
	printf("# 30000 taps at block 64, 2 channels: %s\n", text);
	fir_layouts_free(l);

	/* a restart reads the file: no search, the same answer, also for 20000 taps (same 2^15) */
	assert_int_equal(fir_layouts_new(path, &l), 0);
	assert_int_equal(fir_layouts_get_count(l), 1);
	assert_int_equal(choose(l, *state, 64, 30000, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(choose(l, *state, 64, 20000, &c), 0);
	assert_true(dsp_fir_layout_contains(&a, &c) || dsp_fir_layout_get_taps(&c) >= 20000);
	assert_int_equal(fir_layouts_get_searches(l), 0);
	fir_layouts_free(l);

	/* an older search's entry (same CPU and FFTW) is another key: this search runs again */
	drop_search_version();
	expect_searched_again(*state);

	/* an entry that differs in the FFTW version alone is another key; junk lines are skipped */
	entry_with_fftw("fftw-0.0", line, sizeof(line));
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "# comment\n\nnot an entry\n%s", line);
	fclose(f);
	expect_searched_again(*state);
}

static void test_parse_line(void **state)
{
	static const char *const bad[] = {
		"",
		"# avx2/x\tv\t64\t1024\t1\t64x16\t1\t1",
		"avx2/x\tv\t64\t1024\t1\t64x16\t1",
		"avx2/x\tv\t64\t1024\t1\t64x16\t1\t1\t1",
		"\tv\t64\t1024\t1\t64x16\t1\t1",
		"avx2/x\tv\t48\t1024\t1\t48x16\t1\t1",
		"avx2/x\tv\t64\t1024\t0\t64x16\t1\t1",
		"avx2/x\tv\t64\t2048\t1\t64x16\t1\t1",
		"avx2/x\tv\t128\t1024\t1\t64x16\t1\t1",
		"avx2/x\tv\t64\t1024\t1\t64x16\tnan\t1",
		"avx2/x\tv\t64\t1024\t1\t64x16\t1\t-1",
		"avx2/x\tv\t64\t-1024\t1\t64x16\t1\t1",
		"avx2/x\tv\t64\t1024\t1\t64x1 128x9\t1\t1",
	};
	struct fir_layouts_entry e;

	(void)state;
	assert_int_equal(
		fir_layouts_parse_line("avx2/Some CPU\tfftw-3.3.10\t64\t1024\t2\t64x3 128x2 256x3\t"
				       "1523.5\t1.12",
				       &e),
		0);
	assert_string_equal(e.cpu, "avx2/Some CPU");
	assert_string_equal(e.fftw, "fftw-3.3.10");
	assert_int_equal(e.block, 64);
	assert_int_equal(e.taps, 1024);
	assert_int_equal(e.channels, 2);
	assert_int_equal(e.layout.count, 3);
	assert_true(e.cost_ns == 1523.5 && e.flatness == 1.12);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (fir_layouts_parse_line(bad[i], &e) != -EINVAL)
			fail_msg("line %zu parsed: '%s'", i, bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_measured_once),
		cmocka_unit_test(test_parse_line),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
