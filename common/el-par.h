/* SPDX-License-Identifier: MIT */
/*
 * common/el-par.h: running independent tasks at once, for work that has no RT deadline.
 *
 * An offline render has cores the RT design does not share with it (the engine's workers are
 * real-time and serve the daemon's cycle only): a convolver may split a call into tasks — one
 * per input channel for the forward transforms, one per output for the sums and inverses — and
 * hand each batch to a runner. The library code (dsp/) knows only this interface; the runner
 * (daemon/par-pool.h) owns the threads. A NULL runner, or one without a callback, runs the
 * tasks one after another on the caller's thread, which is what the daemon's cycle does.
 */
#pragma once

/*
 * One task. lane < the runner's lanes names the thread running it, so a task can use that
 * lane's scratch; no two tasks of one batch run on a lane at the same time.
 */
typedef void (*el_par_task_fn)(void *arg, unsigned task, unsigned lane);

struct el_par {
	unsigned lanes; /* threads that may run tasks of one batch at once, the caller's included */
	/* Runs fn(arg, task, lane) for every task in 0 .. tasks - 1, the caller's thread taking
	 * part as lane 0, and returns when all have returned. Never fails. */
	void (*run)(void *ctx, unsigned tasks, el_par_task_fn fn, void *arg);
	void *ctx;
};

/* The lanes a runner offers (1 for NULL: the caller alone). */
static inline unsigned el_par_lanes(const struct el_par *p)
{
	return p && p->run && p->lanes > 1 ? p->lanes : 1;
}

/* Runs a batch on p, or one task after another on lane 0 when p cannot share it. */
static inline void el_par_run(const struct el_par *p, unsigned tasks, el_par_task_fn fn, void *arg)
{
	if (el_par_lanes(p) > 1 && tasks > 1) {
		p->run(p->ctx, tasks, fn, arg);
		return;
	}
	for (unsigned t = 0; t < tasks; t++)
		fn(arg, t, 0);
}
