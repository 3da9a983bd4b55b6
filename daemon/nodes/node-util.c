/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/node-util.c: the helpers node-util.h declares, shared by the node types of
 * daemon/nodes/ (section checks, plain updates, tails, silence counting).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config/value.h"
#include "daemon/config/config.h"
#include "daemon/engine/node.h"
#include "daemon/nodes/node-util.h"

int node_check_input(const struct conf_section *sec, const char *const *allowed,
		     const struct eng_node_env *env, const char *no_input, struct el_error *reterr)
{
	int r = conf_check_keys(sec, allowed, reterr);

	if (r < 0)
		return r;
	if (env->in_channels < 1)
		return conf_error_section(reterr, -EINVAL, sec, "%s", no_input);
	return 0;
}

int node_update_new(const void *settings, size_t size, void **ret_update)
{
	void *u;

	if (!settings) {
		*ret_update = NULL;
		return 0;
	}
	u = malloc(size);
	if (!u)
		return -ENOMEM;
	memcpy(u, settings, size);
	*ret_update = u;
	return 0;
}

EL_RT void node_update_apply_none(void *inst, void *update)
{
	(void)inst;
	(void)update;
}

EL_RT size_t node_get_tail_none(const void *inst)
{
	(void)inst;
	return 0;
}

EL_RT size_t node_get_tail_endless(const void *inst)
{
	(void)inst;
	return SIZE_MAX;
}

EL_RT bool node_quiet_count(size_t *quiet, const struct eng_node_io *io)
{
	if (!io->in_silent) {
		*quiet = 0;
		return false;
	}
	*quiet = *quiet > SIZE_MAX - io->frames ? SIZE_MAX : *quiet + io->frames;
	return true;
}

const char *const *node_file_beneath(const struct conf_entry *e, const struct eng_node_env *env)
{
	return e && e->origin.client ? env->file_dirs : NULL;
}
