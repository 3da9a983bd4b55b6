/* SPDX-License-Identifier: MIT */
/*
 * Property: the RT -> control event ring keeps its single producer, the RT thread, when output
 * steps run on worker threads. Six output nodes that clip in every cycle share one level, which
 * is heavy enough (8 channels of 8192 frames each) to be shared with a worker; the control
 * thread drains events while the cycles run. Every clip is reported: per output, one event per
 * cycle with a strictly growing count that ends at the node's own "clips" counter, and none is
 * lost. A worker pushing an event itself would trip the engine's assertion, and in the TSan
 * build (suite 'threads') race with the RT thread's pushes on the ring.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "common/el-error.h"
#include "daemon/config/config.h"
#include "daemon/engine/engine.h"
#include "tests/unit/test-engine-harness.h"

#define CYCLES    200
#define N_OUTPUTS 6

/* A full-scale tone 12 dB too hot, to six outputs on one level: each clips every cycle. */
static const char graph[] = "[node.t]\ntype = tone\nfreq = 997\nlevel_db = 0\nchannels = 8\n"
			    "[node.hot]\ntype = gain\ngain_db = 12\ninput = t\n"
			    "[node.o1]\ntype = output\ninput = hot\n"
			    "[node.o2]\ntype = output\ninput = hot\n"
			    "[node.o3]\ntype = output\ninput = hot\n"
			    "[node.o4]\ntype = output\ninput = hot\n"
			    "[node.o5]\ntype = output\ninput = hot\n"
			    "[node.o6]\ntype = output\ninput = hot\n";

struct rt {
	struct eng_engine *engine;
	_Atomic bool done;
};

static void *rt_main(void *arg)
{
	struct rt *rt = arg;

	/* No playback channels: the outputs write to pool buffers, and count clips all the same. */
	for (int i = 0; i < CYCLES; i++)
		eng_engine_cycle(rt->engine, NULL, 0, NULL, 0, 8192);
	atomic_store_explicit(&rt->done, true, memory_order_release);
	return NULL;
}

struct seen {
	uint32_t id;
	unsigned events;
	double last;
	bool grew; /* every event's count was above the one before */
};

/* Drains the events. A ring with two producers can lose its head and read on forever: bounded. */
static void take(struct eng_engine *e, struct seen *s, size_t *n_seen, size_t *total)
{
	struct eng_event ev;

	while (eng_engine_read_event(e, &ev) == 0) {
		size_t k;

		if (++*total > 2 * CYCLES * N_OUTPUTS + 64)
			fail_msg("more events than %d cycles can produce: the ring is corrupt",
				 CYCLES);
		if (ev.type != ENG_EVENT_CLIP)
			continue;
		for (k = 0; k < *n_seen && s[k].id != ev.inst_id; k++)
			;
		if (k == *n_seen) {
			assert_true(*n_seen < N_OUTPUTS);
			s[(*n_seen)++] = (struct seen){.id = ev.inst_id, .grew = true};
		}
		s[k].grew = s[k].grew && ev.value > s[k].last;
		s[k].last = ev.value;
		s[k].events++;
	}
}

static void run(unsigned workers)
{
	struct conf *c = test_engine_conf("clip.conf", "block = 8192\n", workers, graph);
	struct el_error err = {0};
	struct eng_stats st;
	struct rt rt = {0};
	struct seen seen[N_OUTPUTS] = {0};
	size_t n_seen = 0, total = 0;
	pthread_t t;

	rt.engine = test_engine_new(c, "/tmp");
	test_engine_rt_thread(rt.engine, &t, rt_main, &rt);
	/* The consumer side, concurrently with the producer. */
	while (!atomic_load_explicit(&rt.done, memory_order_acquire)) {
		struct timespec ms = {0, 1000000};

		take(rt.engine, seen, &n_seen, &total);
		nanosleep(&ms, NULL);
	}
	pthread_join(t, NULL);
	take(rt.engine, seen, &n_seen, &total);
	eng_engine_set_running(rt.engine, false);

	eng_engine_get_stats(rt.engine, false, &st);
	printf("# workers %u: %llu cycles, %zu outputs reported, events lost %llu\n", workers,
	       (unsigned long long)st.cycles, n_seen, (unsigned long long)st.events_lost);
	assert_int_equal(st.cycles, CYCLES);
	assert_int_equal(st.events_lost, 0);
	assert_int_equal(n_seen, N_OUTPUTS);
	for (int o = 1; o <= N_OUTPUTS; o++) {
		char name[8];
		double clips = 0.0;
		size_t k;

		snprintf(name, sizeof(name), "o%d", o);
		assert_int_equal(eng_engine_get_param(rt.engine, name, "clips", 0, &clips, &err),
				 0);
		for (k = 0; k < n_seen &&
			    strcmp(eng_engine_get_node_name(rt.engine, seen[k].id), name) != 0;
		     k++)
			;
		assert_true(k < n_seen);
		printf("#   %s: %u events, last %.0f, counter %.0f\n", name, seen[k].events,
		       seen[k].last, clips);
		assert_true(seen[k].grew);
		assert_int_equal(seen[k].events, CYCLES);
		assert_true(clips > 0.0 && seen[k].last == clips);
	}
	eng_engine_free(rt.engine);
	conf_free(c);
}

int main(void)
{
	return test_engine_main(run);
}
