/* SPDX-License-Identifier: MIT */
/*
 * Property: a node's measured time (`stats` avg_us) is the mean over every phase of a schedule
 * that repeats, not the cost of one phase. The engine times one cycle in ENG_NODE_TIMING_EVERY;
 * a convolver's non-uniform schedule repeats every 2, 4, 8, 16 ... cycles, so a timing interval
 * that shares a factor with it lands on the same phase every time (a power of two did: the
 * `low` policy's saving, which falls on other phases, then did not show in the fir's time).
 *
 * A test node costs SPIN_NS on one phase of 16 and nothing on the others. Whichever phase that
 * is, the average must come out near SPIN_NS / 16; only the lower bound is asserted, because a
 * busy machine can only add time (a preempted cycle), never take it away.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "common/el-pace.h"
#include "daemon/config/config.h"
#include "daemon/engine/engine.h"
#include "daemon/engine/node.h"
#include "daemon/engine/settings.h"
#include "daemon/nodes/node-util.h"

#define PERIOD  16u     /* the schedule's length, in cycles */
#define SPIN_NS 200000u /* the cost of its slow phase */
#define CYCLES  (PERIOD * 15u * 8u)

/* The phase the next instance makes slow: each run of the test sets it before configuring. */
static unsigned slow_phase;

struct phased {
	uint64_t calls;
	unsigned slow;
};

static int phased_create(const struct conf_section *sec, const struct eng_node_env *env, void **ret,
			 struct el_error *reterr)
{
	struct phased *p = calloc(1, sizeof(*p));

	(void)sec;
	(void)env;
	if (!p)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	p->slow = slow_phase;
	*ret = p;
	return 0;
}

static unsigned phased_channels(const void *inst)
{
	(void)inst;
	return 1;
}

static bool rt_phased_process(void *inst, const struct eng_node_io *io)
{
	struct phased *p = inst;

	if (p->calls++ % PERIOD == p->slow) {
		uint64_t end = el_pace_now_ns() + SPIN_NS;

		while (el_pace_now_ns() < end)
			;
	}
	memset(io->out[0], 0, io->frames * sizeof(float));
	io->out[0][0] = 1e-3f; /* not silent: nothing after it is skipped */
	return false;
}

static int phased_update_prepare(void *inst, const struct conf_section *sec,
				 const struct eng_node_env *env, void **ret_update,
				 struct el_error *reterr)
{
	(void)inst;
	(void)sec;
	(void)env;
	(void)ret_update;
	(void)reterr;
	return -EOPNOTSUPP; /* replaced, never updated */
}

static const char *const phased_keys[] = {NULL};

static const struct node_type node_type_phased = {
	.name = "phased",
	.description = "costs SPIN_NS on one phase of PERIOD cycles",
	.role = NODE_ROLE_PROCESS,
	.source = true,
	.keys = phased_keys,
	.create = phased_create,
	.destroy = free,
	.get_out_channels = phased_channels,
	.process = rt_phased_process,
	.get_tail = node_get_tail_endless,
	.update_prepare = phased_update_prepare,
	.update_apply = node_update_apply_none,
	.update_free = free,
};

/* daemon/nodes/output.c: the real output node, which the graph ends in */
extern const struct node_type node_type_output;

static const struct node_type *const types[] = {&node_type_phased, &node_type_output, NULL};

static const char text[] = "[engine]\nblock = 64\nworkers = 0\n"
			   "[node.p]\ntype = phased\n[node.o]\ntype = output\ninput = p\n";

static double measured_us(unsigned phase)
{
	struct conf *c = NULL;
	struct eng_settings s;
	struct eng_engine *e = NULL;
	struct eng_node_stats st[4];
	struct el_error err = {0};
	size_t n;
	double avg = -1.0;

	slow_phase = phase;
	assert_int_equal(conf_load_string(text, "timing.conf", &c, &err), 0);
	assert_int_equal(eng_settings_from_conf(c, &s, &err), 0);
	assert_int_equal(eng_engine_new(&s, types, &e, &err), 0);
	assert_int_equal(eng_engine_configure(e, c, "/tmp", &err), 0);
	eng_engine_set_running(e, true);
	for (unsigned i = 0; i < CYCLES; i++)
		eng_engine_cycle(e, NULL, 0, NULL, 0, s.block);
	eng_engine_set_running(e, false);
	n = eng_engine_get_node_stats(e, st, EL_N_ELEMENTS(st));
	for (size_t i = 0; i < n; i++)
		if (strcmp(st[i].name, "p") == 0)
			avg = st[i].avg_us;
	eng_engine_free(e);
	conf_free(c);
	return avg;
}

static void test_every_phase_is_timed(void **state)
{
	const double mean_us = SPIN_NS / 1000.0 / PERIOD;

	(void)state;
	/* two neighbouring phases: a timing interval that kept to one phase misses one of them */
	for (unsigned phase = 5; phase <= 6; phase++) {
		double us = measured_us(phase);

		printf("# slow phase %u of %u: measured %.2f us per run, the mean is %.2f\n", phase,
		       PERIOD, us, mean_us);
		assert_true(us >= 0.75 * mean_us);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_phase_is_timed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
