/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/node-util.h: the small pieces the node types of daemon/nodes/ share — a double
 * kept as bits in an _Atomic uint64_t, the first checks of a section, updates that are one
 * plain copy of the settings, the counting of silent input, and the node_type entries of types
 * with nothing to do there.
 *
 * Only logic that is the same in every user lives here; anything a type words or orders its
 * own way (its messages, which error a section reports first) stays in the type's file.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/el-macros.h"

struct conf_entry;
struct conf_section;
struct eng_node_env;
struct eng_node_io;
struct el_error;

/*
 * Thread: any. The bits of v and back, to keep a double setting in an _Atomic uint64_t (lock-free
 * where an _Atomic double need not be); node_bits_to_double(node_double_to_bits(v)) is v, bit
 * for bit.
 */
static inline uint64_t node_double_to_bits(double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	return u;
}

static inline double node_bits_to_double(uint64_t u)
{
	double v;

	memcpy(&v, &u, sizeof(v));
	return v;
}

/*
 * Thread: control. The checks a section of a type that needs an input starts with: every key in
 * allowed (NULL-terminated, borrowed; see conf_check_keys()), then env->in_channels >= 1, else
 * `FILE:LINE: [NAME]: ` and no_input (borrowed; "a delay needs an input") in reterr.
 * 0, or -EINVAL with reterr filled.
 */
int node_check_input(const struct conf_section *sec, const char *const *allowed,
		     const struct eng_node_env *env, const char *no_input, struct el_error *reterr);

/*
 * Thread: control. The directories the file that e (NULL: none) names must be opened beneath:
 * env->file_dirs when a client named it (conf_origin.client), else NULL, the administrator's
 * path, opened as written (daemon/fs/beneath.h).
 */
const char *const *node_file_beneath(const struct conf_entry *e, const struct eng_node_env *env);

/*
 * Thread: control. For update_prepare() of a type whose update is a plain copy of its settings
 * (then update_free = free): *ret_update = a malloc'ed copy of the size bytes at settings
 * (borrowed), or NULL when settings is NULL (nothing changes, no update).
 * 0, or -ENOMEM with *ret_update untouched.
 */
int node_update_new(const void *settings, size_t size, void **ret_update);

/* Thread: RT. update_apply of a type whose update_prepare() never makes an update: not called. */
void node_update_apply_none(void *inst, void *update) EL_RT;

/* Thread: RT. get_tail of a type whose output falls silent with its input: 0 frames. */
size_t node_get_tail_none(const void *inst) EL_RT;

/* Thread: RT. get_tail of a source, which never falls silent by itself: SIZE_MAX. */
size_t node_get_tail_endless(const void *inst) EL_RT;

/*
 * Thread: RT, after each cycle. Counts the frames of silent input in a row into *quiet (the
 * caller's, 0 at first): adds io->frames when io->in_silent (saturating at SIZE_MAX), else sets
 * it to 0. Returns io->in_silent. For types that must forget their history once a silence has
 * lasted their tail, since the engine may have stopped calling them.
 */
bool node_quiet_count(size_t *quiet, const struct eng_node_io *io) EL_RT;
