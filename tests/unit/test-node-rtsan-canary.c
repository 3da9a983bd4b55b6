/* SPDX-License-Identifier: MIT */
/*
 * Property: in the RTSan build the node tests really check. A node whose process() allocates,
 * run through test-node-util.h's harness as every node test runs its node, makes the process
 * abort with RealtimeSanitizer's report; the same node without the allocation runs clean. So
 * the define reaches the node tests, harness_init() starts the runtime and harness_run()
 * brackets process(): a node test passing in the RTSan build means its node never allocated,
 * locked or blocked there. (test-rtsan-canary proves the same of rt-check.h alone.) Each case
 * runs in a child, whose stderr is read for the report. Skipped (77) in the other builds,
 * which have no runtime to abort.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/test-node-util.h"

/* The planted allocation. volatile pointer: the optimizer may not delete the malloc. */
static bool plant;
static void *volatile planted;

EL_RT static bool rt_canary_process(void *inst, const struct eng_node_io *io)
{
	(void)inst;
	if (plant)
		planted = malloc(64);
	for (unsigned c = 0; c < io->n_out; c++)
		memcpy(io->out[c], io->in[c], io->frames * sizeof(float));
	return false;
}

static const struct node_type canary_type = {.name = "canary", .process = rt_canary_process};

/* In a child: a harness, two blocks through the canary node. Exits 0 when nothing aborted. */
static void child_run(void)
{
	static float x[2 * BLOCK], y[2 * BLOCK];
	float *in[1] = {x}, *out[1] = {y};
	const unsigned groups[] = {1};
	struct harness h;
	int inst = 0;

	harness_init(&h, groups, 1);
	x[3] = 0.5f;
	harness_run(&canary_type, &inst, in, 1, out, 1, 0, 2 * BLOCK);
	free(planted);
	harness_done(&h);
	_exit(0);
}

/* Runs child_run() with plant set as asked; its exit status, its stderr into log. */
static int run_child(bool with_malloc, char *log, size_t size)
{
	int fds[2], status;
	size_t n = 0;
	ssize_t k;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		plant = with_malloc;
		child_run();
	}
	close(fds[1]);
	while (n + 1 < size && (k = read(fds[0], log + n, size - 1 - n)) > 0)
		n += (size_t)k;
	log[n] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_clean_node_passes(void **state)
{
	char log[8192];
	int status = run_child(false, log, sizeof(log));

	(void)state;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("a node that does not allocate failed (status %#x):\n%s", status, log);
}

static void test_allocating_node_aborts(void **state)
{
	char log[8192];
	int status = run_child(true, log, sizeof(log));

	(void)state;
	printf("# child status %#x, report: %.200s\n", status, log);
	assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_non_null(strstr(log, "real-time unsafe function `malloc`"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_node_passes),
		cmocka_unit_test(test_allocating_node_aborts),
	};

#ifndef EL_WITH_RTSAN
	printf("# not an RTSan build (-Drtsan=true): nothing to abort, skipping\n");
	return 77;
#endif
	return cmocka_run_group_tests(tests, NULL, NULL);
}
