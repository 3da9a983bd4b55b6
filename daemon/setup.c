/* SPDX-License-Identifier: MIT */
/* daemon/setup.c: configuration discovery and engine construction shared by all commands. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/el-error.h"
#include "daemon/config/config.h"
#include "daemon/config/value.h"
#include "daemon/default-graph.h"
#include "daemon/disk/samples.h"
#include "daemon/engine/engine.h"
#include "daemon/nodes/nodes.h"
#include "daemon/setup.h"

static char *dir_of(const char *path)
{
	char *copy = strdup(path), *dir;

	if (!copy)
		return NULL;
	dir = strdup(dirname(copy));
	free(copy);
	return dir;
}

/* [cache]: memory_mb, the RAM budget of samples no player holds (docs/config.md). */
static int cache_settings_from_conf(const struct conf *c, uint64_t *ret_bytes,
				    struct el_error *reterr)
{
	static const char *const keys[] = {"memory_mb", NULL};
	const struct conf_section *sec = conf_find_section(c, "cache");
	uint32_t mb = DISK_DEFAULT_MEMORY_MB;
	int r = 0;

	if (sec && (r = conf_check_keys(sec, keys, reterr)) == 0)
		r = conf_get_u32(sec, "memory_mb", DISK_DEFAULT_MEMORY_MB, 0, 1u << 20, &mb, reterr);
	*ret_bytes = (uint64_t)mb << 20;
	return r;
}

int setup_config_load(const char *path, struct setup_config *ret, struct el_error *reterr)
{
	return setup_config_load_beneath(path, NULL, ret, reterr);
}

int setup_config_load_beneath(const char *path, const char *const *beneath,
			      struct setup_config *ret, struct el_error *reterr)
{
	struct setup_config c = {0};
	int r;

	if (!path && access(EL_SYSTEM_CONFIG, F_OK) == 0)
		path = EL_SYSTEM_CONFIG;
	if (path) {
		c.path = strdup(path);
		c.base_dir = dir_of(path);
		if (!c.path || !c.base_dir) {
			r = el_error_set(reterr, -ENOMEM, "out of memory");
			goto fail;
		}
		r = conf_load_beneath(path, beneath, &c.conf, reterr);
	} else {
		c.base_dir = getcwd(NULL, 0);
		r = c.base_dir ? conf_load_string(el_default_graph, EL_DEFAULT_GRAPH_NAME, &c.conf,
						  reterr)
			       : el_error_set(reterr, -errno, "cannot find the working directory");
		/* /etc/echoeld/echoeld.conf.d/ applies to the built-in graph too */
		if (r == 0)
			r = conf_load_dropins(c.conf, EL_SYSTEM_CONFIG, reterr);
	}
	if (r < 0)
		goto fail;
	r = eng_settings_from_conf(c.conf, &c.settings, reterr);
	if (r == 0)
		r = dpol_settings_from_conf(c.conf, &c.policy, reterr);
	if (r == 0)
		r = cache_settings_from_conf(c.conf, &c.cache_memory_bytes, reterr);
	if (r < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	setup_config_done(&c);
	return r;
}

void setup_config_done(struct setup_config *c)
{
	c->conf = conf_free(c->conf);
	free(c->path);
	free(c->base_dir);
	c->path = c->base_dir = NULL;
	dpol_settings_done(&c->policy);
}

void setup_config_warn(const struct setup_config *c, const struct eng_engine *e,
		       void (*warn)(void *ctx, const char *message), void *ctx)
{
	char line[EL_ERROR_MAX];

	for (size_t i = 0; i < conf_get_n_warnings(c->conf); i++)
		warn(ctx, conf_get_warning(c->conf, i));
	/* Valid, and silent: a first user's graph that forgot its output runs without a sound. */
	if (eng_engine_get_playback_channels(e) == 0) {
		snprintf(line, sizeof(line),
			 "%s: no output node: the graph plays nothing (add a [node.NAME] with "
			 "type = output)",
			 c->path ? c->path : "the built-in default graph");
		warn(ctx, line);
	}
}

int setup_engine(const struct setup_config *c, const struct el_pacer *pacer,
		 const struct eng_fir_planner *planner, struct disk *disk,
		 struct eng_engine **ret, struct el_error *reterr)
{
	struct eng_engine *e = NULL;
	int r = eng_engine_new(&c->settings, node_types, &e, reterr);

	if (r < 0)
		return r;
	eng_engine_set_prep_pacer(e, pacer);
	eng_engine_set_fir_planner(e, planner);
	eng_engine_set_disk(e, disk);
	r = eng_engine_configure(e, c->conf, c->base_dir, reterr);
	if (r < 0) {
		eng_engine_free(e);
		return r;
	}
	*ret = e;
	return 0;
}
