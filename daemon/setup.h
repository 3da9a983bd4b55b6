/* SPDX-License-Identifier: MIT */
/*
 * daemon/setup.h: what every command of echoeld does first — find and load the configuration
 * (a file, /etc/echoeld/echoeld.conf, or the built-in default graph), read [engine] and
 * [policy], and build
 * and configure an engine. Thread: control. Errors come back as messages, not log lines.
 */
#pragma once

#include <stdbool.h>

#include "daemon/engine/settings.h"
#include "daemon/power/settings.h"

struct conf;
struct el_error;
struct eng_engine;

#define EL_SYSTEM_CONFIG "/etc/echoeld/echoeld.conf"

/* A loaded configuration and where it came from. */
struct setup_config {
	struct conf *conf; /* owned */
	char *path;        /* owned: the file, or NULL for the built-in default graph */
	char *base_dir;    /* owned: relative paths in the config resolve against this */
	struct eng_settings settings;
	struct dpol_settings policy; /* [policy]; owned */
	uint64_t cache_memory_bytes; /* [cache] memory_mb: samples kept in RAM (disk/samples.h) */
};

/*
 * Loads path, or with path NULL the system file if it exists, else the built-in graph.
 * 0; -errno with `FILE:LINE: ...` in reterr.
 */
int setup_config_load(const char *path, struct setup_config *ret, struct el_error *reterr);
/* The same for a file a client named: opened beneath those directories (conf_load_beneath()). */
int setup_config_load_beneath(const char *path, const char *const *beneath,
			      struct setup_config *ret, struct el_error *reterr);

void setup_config_done(struct setup_config *c);

/*
 * Remarks about a configuration that is valid but likely not what its author meant, so the
 * daemon's log and --check-config can show them: the files' own (conf_get_warning()) and, given
 * the engine e configured from c (borrowed), a graph without an output node. Calls warn once
 * per remark with a line `FILE[:LINE]: reason` (valid during the call).
 */
void setup_config_warn(const struct setup_config *c, const struct eng_engine *e,
		       void (*warn)(void *ctx, const char *message), void *ctx);

/*
 * An engine for c->settings, configured with c's graph, its node preparation paced by pacer
 * (common/el-pace.h; copied; NULL: full speed) from the first IR on, its convolvers laid out by
 * planner (node.h; copied; NULL: uniform), its players streamed by disk (borrowed, outlives
 * the engine; NULL: files read on the cycle's thread, for a render or a check). 0 with *ret;
 * -errno with a message.
 */
struct disk;
struct el_pacer;
struct eng_fir_planner;
int setup_engine(const struct setup_config *c, const struct el_pacer *pacer,
		 const struct eng_fir_planner *planner, struct disk *disk,
		 struct eng_engine **ret, struct el_error *reterr);
