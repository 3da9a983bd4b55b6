/* SPDX-License-Identifier: MIT */
/*
 * daemon/engine/inst.h: a node instance — a node type's state plus what the engine keeps about
 * it (name, channels, statistics, silence bookkeeping).
 *
 * Instances are shared by the plans that run them: each plan holds a reference (counted on
 * the control thread only), and an instance is destroyed when the last plan that could run it
 * has been reclaimed. A node that exists in the old and the new graph keeps its instance, and
 * with it its filter memory, delay lines and ramps.
 */
#pragma once

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct conf_section;
struct eng_node_env;
struct el_error;
struct node_type;

struct eng_inst {
	char *name; /* owned */
	const struct node_type *type;
	void *state; /* owned: the type's instance */
	uint32_t id; /* unique for the life of the process; events name instances by id */
	unsigned n_in, n_out;
	unsigned *in_groups; /* owned: channels of each input reference */
	size_t n_groups;
	char *signature; /* owned: the section's settings, to tell "unchanged" from "changed" */
	unsigned refs;   /* plans holding it; control thread only */

	/* RT thread (or the worker running it) only. */
	size_t quiet_frames; /* frames its input has been silent */
	/* RT thread only (never a worker): the "clips" count last reported as an event. */
	double clips_seen;

	/* Written by the RT thread, read by anyone (statistics): relaxed, independent counters. */
	_Atomic uint64_t time_ns;    /* processing time, summed over the timed runs */
	_Atomic uint64_t timed_runs; /* runs whose time was measured (a sample of all runs) */
	_Atomic uint64_t runs;       /* cycles processed */
	_Atomic uint64_t skips;      /* cycles skipped because input and tail were silent */
};

/*
 * Thread: control. Creates an instance of type named name from sec with env. 0 with *ret (one
 * reference held by the caller); the type's -errno and message otherwise.
 */
int eng_inst_new(const struct node_type *type, const char *name, const struct conf_section *sec,
		 const struct eng_node_env *env, struct eng_inst **ret, struct el_error *reterr);

/* Thread: control. Takes a reference. */
struct eng_inst *eng_inst_ref(struct eng_inst *i);

/* Thread: control. Drops a reference, destroying the instance at zero. Accepts NULL; NULL. */
struct eng_inst *eng_inst_unref(struct eng_inst *i);

/*
 * Thread: control. The canonical form of sec's settings (sorted "key=value" lines without
 * `type` and `input`), owned by the caller; NULL when out of memory.
 */
char *eng_inst_signature(const struct conf_section *sec);

/* Thread: control. Are the input channel groups of i exactly env's? */
int eng_inst_same_inputs(const struct eng_inst *i, const struct eng_node_env *env);
