/* SPDX-License-Identifier: MIT */
/*
 * Property: samples kept in RAM (daemon/disk/samples.h) are shared, kept and evicted as said.
 *  - Two holders of one cache entry share one mapping (one sample, the same frames, which are
 *    the file's).
 *  - A sample nobody holds stays mapped while the budget allows, and is unmapped when the
 *    budget shrinks below it; a held sample is never unmapped, whatever the budget.
 *  - Over budget, the sample let go longest ago goes first (LRU).
 *  - Lookups and hits count as players report them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/el-error.h"
#include "daemon/disk/cache.h"
#include "daemon/disk/disk.h"
#include "daemon/disk/samples.h"
#include "tests/unit/test-tmpdir.h"

#define RATE   48000u
#define FRAMES 4800u

static char dir[256];

static void write_wav(const char *name, float value)
{
	SF_INFO info = {
		.samplerate = RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
	static float x[FRAMES];
	char p[PATH_MAX];
	SNDFILE *f;

	for (size_t i = 0; i < FRAMES; i++)
		x[i] = value;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = sf_open(p, SFM_WRITE, &info);
	assert_non_null(f);
	assert_int_equal(sf_writef_float(f, x, FRAMES), FRAMES);
	sf_close(f);
}

static void entry_of(const char *name, struct disk_cache_entry *e)
{
	struct el_error err = {0};
	char p[PATH_MAX], cache[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	if (disk_cache_prepare(cache, p, NULL, RATE, NULL, e, &err) < 0)
		fail_msg("%s", err.message);
}

static void test_shared_kept_evicted(void **state)
{
	struct disk_cache_entry a, b;
	struct disk_sample *s1, *s2, *t;
	struct disk_cache_stats st;
	struct el_error err = {0};
	struct disk *d = NULL;
	uint64_t one;

	(void)state;
	write_wav("a.wav", 0.25f);
	write_wav("b.wav", -0.5f);
	entry_of("a.wav", &a);
	entry_of("b.wav", &b);
	assert_int_equal(disk_new(NULL, NULL, &d, &err), 0);

	/* shared: one mapping, the file's frames */
	assert_int_equal(disk_sample_get(d, &a, &s1, &err), 0);
	assert_int_equal(disk_sample_get(d, &a, &s2, &err), 0);
	assert_ptr_equal(s1, s2);
	assert_true(disk_sample_get_data(s1)[0] == 0.25f &&
		    disk_sample_get_data(s1)[FRAMES - 1] == 0.25f);
	disk_get_cache_stats(d, &st);
	assert_int_equal(st.samples, 1);
	assert_int_equal(st.held, 1);
	one = st.bytes;
	assert_true(one >= FRAMES * sizeof(float));

	/* held: never unmapped, whatever the budget */
	disk_set_memory_budget(d, 0);
	disk_get_cache_stats(d, &st);
	assert_int_equal(st.samples, 1);
	assert_int_equal(st.evictions, 0);

	/* let go: kept while the budget allows, unmapped when it shrinks */
	disk_set_memory_budget(d, 4 * one);
	disk_sample_put(d, s1);
	disk_sample_put(d, s2);
	disk_get_cache_stats(d, &st);
	assert_int_equal(st.samples, 1);
	assert_int_equal(st.held, 0);
	disk_set_memory_budget(d, one - 1);
	disk_get_cache_stats(d, &st);
	assert_int_equal(st.samples, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.evictions, 1);

	/* LRU: room for one; a let go before b: a goes */
	disk_set_memory_budget(d, one);
	assert_int_equal(disk_sample_get(d, &a, &s1, &err), 0);
	disk_sample_put(d, s1);
	assert_int_equal(disk_sample_get(d, &b, &t, &err), 0);
	assert_true(disk_sample_get_data(t)[0] == -0.5f);
	disk_sample_put(d, t);
	disk_get_cache_stats(d, &st);
	assert_int_equal(st.samples, 1);
	assert_int_equal(st.evictions, 2);
	assert_int_equal(disk_sample_get(d, &b, &s2, &err), 0);
	assert_ptr_equal(s2, t); /* b was the one kept */
	disk_sample_put(d, s2);

	disk_count_lookup(d, 0);
	disk_count_lookup(d, 1);
	disk_count_lookup(d, 1);
	disk_get_cache_stats(d, &st);
	assert_int_equal(st.lookups, 3);
	assert_int_equal(st.hits, 2);
	d = disk_free(d);
	disk_cache_entry_done(&a);
	disk_cache_entry_done(&b);
}

static int setup(void **state)
{
	(void)state;
	return test_tmpdir_make(dir, sizeof(dir), "test-disk-samples");
}

static int teardown(void **state)
{
	(void)state;
	return test_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_kept_evicted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
