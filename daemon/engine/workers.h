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
 * Thread: control. A pool that can grow to max threads (none started yet). Its threads are not
 * real-time, and levels are not shared with them, until eng_workers_set_priority() says the
 * cycle's thread is. 0 with *ret; -ENOMEM.
 */
int eng_workers_new(uint32_t max, eng_step_fn fn, void *userdata, struct eng_workers **ret);

/* Thread: control. Stops and joins every thread. Accepts NULL; returns NULL. */
struct eng_workers *eng_workers_free(struct eng_workers *w);

/* Thread: control. n threads take part from now on (started if needed). 0, -EINVAL, -errno. */
int eng_workers_set_count(struct eng_workers *w, uint32_t n);

/*
 * Thread: control. The SCHED_FIFO priority of the thread that runs the cycle (0: it is not
 * real-time). Workers then run at priority - 1 (at least 1), so nothing but a real-time thread
 * above the cycle's own can preempt a step the cycle waits for. A cycle that is not real-time
 * shares no level: its workers would be ordinary threads it might spin on while they wait for
 * a CPU. 0; -EPERM (or another -errno) when the workers could not be made real-time: they then
 * stay ordinary threads and the cycle runs every level itself; -EBUSY while a worker is still
 * inside a step of a cycle that was cut off (eng_workers_quiesce()).
 */
int eng_workers_set_priority(struct eng_workers *w, int priority);

/*
 * Thread: control, while no thread runs eng_workers_run_level() (the backend stopped or cut off
 * its cycle, possibly in the middle of a level). Closes the current job and waits up to
 * timeout_ns until no worker runs a step any more. 0; -EBUSY when one still does (a stalled
 * worker): the pool then shares nothing until set_priority() finds it idle, and the caller must
 * not free what that step may touch.
 */
int eng_workers_quiesce(struct eng_workers *w, uint64_t timeout_ns);

/* Thread: any. Threads taking part. */
uint32_t eng_workers_get_count(const struct eng_workers *w);

/* Thread: any. Do levels get shared (the workers run real-time, below the cycle)? */
bool eng_workers_get_realtime(const struct eng_workers *w);

/* Thread: any. Is the calling thread one of the pool's workers (of any pool)? */
bool eng_workers_on_worker(void);

/*
 * Thread: RT. Runs all steps of level — shared with the workers when share is true and they are
 * real-time, alone otherwise — and returns when every step has finished. A step a worker claimed
 * cannot be taken back (its node state and buffers are in use), so the wait for it may pass
 * deadline_ns (CLOCK_MONOTONIC): when a worker made the level late (the RT thread had done its
 * own share by the deadline, or then waited more than period_ns), the pool shares no level for
 * the next fallback_levels levels, running them on the RT thread alone. Returns how long past
 * the deadline such a level finished (ns), 0 otherwise.
 */
uint64_t eng_workers_run_level(struct eng_workers *w, const struct eng_plan_level *level,
			       bool share, uint64_t deadline_ns, uint64_t period_ns,
			       uint32_t fallback_levels);
