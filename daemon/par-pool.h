/* SPDX-License-Identifier: MIT */
/*
 * daemon/par-pool.h: threads that run a batch of tasks beside the caller (common/el-par.h),
 * for an offline render's convolvers. Ordinary threads, not real-time: the daemon's cycle never
 * uses them (its own workers, daemon/engine/workers.h, are real-time and share levels, not a
 * node's channels). Thread: control (the one thread that runs batches).
 */
#pragma once

struct el_par;
struct par_pool;

/*
 * A pool of threads beside the caller (0: none; the runner then runs every batch on the caller's
 * thread). 0 with *ret; -ENOMEM; -errno when a thread cannot be started (none is left running).
 */
int par_pool_new(unsigned threads, struct par_pool **ret);

/* Stops and joins the threads. No batch may be running. Accepts NULL; returns NULL. */
struct par_pool *par_pool_free(struct par_pool *p);

/* The runner, with 1 + threads lanes; borrowed, valid while p lives. */
const struct el_par *par_pool_get(const struct par_pool *p);
