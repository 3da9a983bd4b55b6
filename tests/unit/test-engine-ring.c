/* SPDX-License-Identifier: MIT */
/*
 * Property: the SPSC ring delivers every record exactly once, in order, across two threads,
 * refuses a push when full and a pop when empty, and never loses or duplicates under a
 * producer that outruns the consumer (run in the TSan build too: the threads meet here).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <cmocka.h>

#include "daemon/engine/ring.h"

#define RECORDS 2000000u

struct record {
	uint64_t seq;
	uint64_t check; /* seq * golden: a torn copy would not match */
};

static const uint64_t golden = 0x9e3779b97f4a7c15ull;

static void *producer(void *arg)
{
	struct eng_ring *r = arg;

	for (uint64_t i = 0; i < RECORDS;) {
		struct record rec = {.seq = i, .check = i * golden};
		if (eng_ring_push(r, &rec) == 0)
			i++;
		else
			sched_yield();
	}
	return NULL;
}

static void test_two_threads_in_order(void **state)
{
	struct eng_ring *r = NULL;
	pthread_t t;
	uint64_t expect = 0;

	(void)state;
	assert_int_equal(eng_ring_new(sizeof(struct record), 64, &r), 0);
	assert_int_equal(pthread_create(&t, NULL, producer, r), 0);
	while (expect < RECORDS) {
		struct record rec;
		if (eng_ring_pop(r, &rec) < 0) {
			sched_yield();
			continue;
		}
		assert_true(rec.seq == expect);
		assert_true(rec.check == expect * golden);
		expect++;
	}
	pthread_join(t, NULL);
	assert_int_equal(eng_ring_get_count(r), 0);
	eng_ring_free(r);
}

static void test_full_and_empty(void **state)
{
	struct eng_ring *r = NULL;
	struct record rec = {0};

	(void)state;
	assert_int_equal(eng_ring_new(sizeof(rec), 5, &r), 0); /* rounded up to 8 */
	assert_int_equal(eng_ring_pop(r, &rec), -EAGAIN);
	for (unsigned i = 0; i < 8; i++) {
		rec.seq = i;
		assert_int_equal(eng_ring_push(r, &rec), 0);
	}
	assert_int_equal(eng_ring_push(r, &rec), -ENOSPC);
	assert_int_equal(eng_ring_get_count(r), 8);
	assert_int_equal(eng_ring_pop(r, &rec), 0);
	assert_int_equal(rec.seq, 0);
	assert_int_equal(eng_ring_push(r, &rec), 0);
	eng_ring_free(r);
}

static void test_bad_sizes(void **state)
{
	struct eng_ring *const sentinel = (void *)0x1;
	struct eng_ring *r = sentinel;

	(void)state;
	assert_int_equal(eng_ring_new(0, 8, &r), -EINVAL);
	assert_int_equal(eng_ring_new(8, 0, &r), -EINVAL);
	assert_int_equal(eng_ring_new(8, (1u << 20) + 1, &r), -EINVAL);
	assert_ptr_equal(r, sentinel);
	assert_null(eng_ring_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_and_empty),
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_two_threads_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
