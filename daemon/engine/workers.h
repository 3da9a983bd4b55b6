/* SPDX-License-Identifier: MIT */
/*
 * daemon/engine/workers.h: worker threads that run the independent steps of a level in
 * parallel with the RT thread.
 *
 * The RT thread publishes a level as a job and works on it itself; workers claim steps from the
 * same job with an atomic compare-and-swap. A step is only ever waited for after someone has
 * claimed it and is running it, never while its worker sleeps: if every worker is asleep, the
 * RT thread simply runs the whole level alone. Waking is a futex wake, the one system call the
 * RT thread makes besides the clock.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct eng_plan_level;
struct eng_workers;

/* Runs one step of a level: index i of the level's steps. Called on the RT thread or a worker. */
typedef void (*eng_step_fn)(void *userdata, const struct eng_plan_level *level, uint32_t i);

/*
 * Thread: control. A pool that can grow to max threads (none started yet). rt_priority > 0
 * asks for SCHED_FIFO at that priority (falls back to normal scheduling if refused).
 * 0 with *ret; -ENOMEM.
 */
int eng_workers_new(uint32_t max, int rt_priority, eng_step_fn fn, void *userdata,
		    struct eng_workers **ret);

/* Thread: control. Stops and joins every thread. Accepts NULL; returns NULL. */
struct eng_workers *eng_workers_free(struct eng_workers *w);

/* Thread: control. n threads take part from now on (started if needed). 0, -EINVAL, -errno. */
int eng_workers_set_count(struct eng_workers *w, uint32_t n);

/* Thread: any. Threads taking part. */
uint32_t eng_workers_get_count(const struct eng_workers *w);

/* Thread: any. Did setting real-time scheduling for the threads fail? */
int eng_workers_rt_refused(const struct eng_workers *w);

/* Thread: any. Is the calling thread one of the pool's workers (of any pool)? */
bool eng_workers_on_worker(void);

/*
 * Thread: RT. Runs all steps of level — shared with the workers when share is true, alone
 * otherwise — and returns when every step has finished.
 */
void eng_workers_run_level(struct eng_workers *w, const struct eng_plan_level *level, bool share);
