/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/test-proc.h: running the real echoeld binary from a test — a scratch
 * directory, files in it, and a child process whose stderr is captured.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct test_proc {
	char dir[64];       /* scratch directory, removed by test_proc_done() */
	const char *binary; /* $ECHOELD */
	char err[8192];     /* stderr of the last run */
};

static inline int test_proc_init(struct test_proc *t, const char *prefix)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/%s-XXXXXX", prefix);
	t->binary = getenv("ECHOELD");
	return t->binary && mkdtemp(t->dir) ? 0 : -1;
}

static inline int test_proc_done(struct test_proc *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	return system(cmd);
}

static inline void test_proc_path(const struct test_proc *t, char *buf, size_t size,
				  const char *name)
{
	snprintf(buf, size, "%s/%s", t->dir, name);
}

static inline int test_proc_write(const struct test_proc *t, const char *name, const char *text)
{
	char p[512];
	FILE *f;

	test_proc_path(t, p, sizeof(p), name);
	f = fopen(p, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* Runs the binary with args (NULL-terminated); returns its exit code (128 if it did not exit). */
static inline int test_proc_run(struct test_proc *t, const char *const *args)
{
	char errpath[512];
	char *argv[32];
	size_t n = 0;
	int status;
	pid_t pid;
	FILE *f;

	test_proc_path(t, errpath, sizeof(errpath), ".stderr");
	argv[n++] = (char *)t->binary;
	for (; *args && n < 31; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (!freopen(errpath, "w", stderr))
			_exit(127);
		unsetenv("JOURNAL_STREAM"); /* plain messages, whoever runs the tests */
		execv(t->binary, argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	memset(t->err, 0, sizeof(t->err));
	f = fopen(errpath, "r");
	if (f) {
		size_t got = fread(t->err, 1, sizeof(t->err) - 1, f);
		(void)got;
		fclose(f);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
