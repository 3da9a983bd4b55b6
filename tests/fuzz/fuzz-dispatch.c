/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the control protocol's dispatcher: each input is a request line run
 * through the real parser and ctl_commands_dispatch() against a real host — the built-in
 * graph on an engine (no backend: switches happen at once), a bound control socket for the
 * settings — and the response or error is built. Graph commands really edit and recompile the
 * graph; after each input the built-in graph is restored, so inputs stay independent. Nothing
 * may crash, leak or misbehave under ASan/UBSan.
 *
 * Inputs naming max_taps or max_delay_ms are skipped: they may legitimately ask for gigabytes,
 * which is an allocation test, not a parser one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "common/el-error.h"
#include "daemon/config/config.h"
#include "daemon/control/commands.h"
#include "daemon/control/server.h"
#include "daemon/default-graph.h"
#include "daemon/engine/engine.h"
#include "daemon/power/policy.h"
#include "daemon/setup.h"
#include "ipc/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The host the commands run against: a real engine and configuration, as the daemon's. */
static struct {
	sd_event *event;
	struct setup_config cfg;
	struct eng_engine *engine;
	struct ctl_server *server;
	struct ctl_commands *commands;
	struct pwr_policy *power; /* never started: status shows it off */
} h;
static char dir[] = "/tmp/fuzz-dispatch-XXXXXX";

static void get_state(void *ctx, struct ctl_state *ret)
{
	(void)ctx;
	*ret = (struct ctl_state){.engine = h.engine,
				  .conf = h.cfg.conf,
				  .config_path = h.cfg.path,
				  .base_dir = h.cfg.base_dir,
				  .backend = "none",
				  .server = h.server,
				  .power = h.power};
}

/* As the daemon applies an edit: the engine switches (at once: no backend runs it). */
static int apply(void *ctx, struct conf *next, const struct eng_param_set *sets, size_t n_sets,
		 struct el_error *reterr)
{
	int r = eng_engine_configure_batch(h.engine, next, h.cfg.base_dir, sets, n_sets, reterr);

	(void)ctx;
	if (r < 0) {
		conf_free(next);
		return r;
	}
	conf_free(h.cfg.conf);
	h.cfg.conf = next;
	return 0;
}

static int reload(void *ctx, const char *path, struct el_error *reterr)
{
	struct setup_config next = {0};
	int r = setup_config_load(path ? path : h.cfg.path, &next, reterr);

	(void)ctx;
	if (r == 0)
		r = eng_engine_configure(h.engine, next.conf, next.base_dir, reterr);
	if (r < 0) {
		setup_config_done(&next);
		return r;
	}
	setup_config_done(&h.cfg);
	h.cfg = next;
	return 0;
}

static const struct ctl_host host = {.get_state = get_state, .apply = apply, .reload = reload};
static const struct ctl_server_hooks server_hooks = {.dispatch = ctl_commands_dispatch,
						     .meters = ctl_commands_meters,
						     .load = ctl_commands_load};
static const struct pwr_hooks power_hooks;

static int fuzz_init(void)
{
	struct el_error err = {0};
	struct ctl_settings s = {0};
	char sock[128];

	if (h.engine)
		return 0;
	if (!mkdtemp(dir) || sd_event_default(&h.event) < 0 ||
	    setup_config_load(NULL, &h.cfg, &err) < 0 ||
	    setup_engine(&h.cfg, NULL, NULL, NULL, &h.engine, &err) < 0 ||
	    pwr_policy_new(h.event, &power_hooks, NULL, &h.power) < 0 ||
	    ctl_commands_new(&host, &h.commands) < 0)
		return -1;
	snprintf(sock, sizeof(sock), "%s/control", dir);
	if (ctl_settings_from_conf(h.cfg.conf, sock, &s, &err) < 0 ||
	    ctl_server_new(h.event, -1, 0, &server_hooks, h.commands, &s, &h.server, &err) < 0)
		return -1;
	return 0;
}

static void restore_graph(void)
{
	struct conf *c = NULL;
	struct el_error err = {0};

	if (conf_load_string(el_default_graph, EL_DEFAULT_GRAPH_NAME, &c, &err) == 0)
		apply(NULL, c, NULL, 0, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_request req;
	struct ipc_error err = {0};
	json_t *result = NULL;
	size_t len = 0;
	char *line;
	bool edited;

	if (size > 65536 || fuzz_init() < 0 || memmem(data, size, "max_taps", 8) ||
	    memmem(data, size, "max_delay", 9))
		return 0;
	if (ipc_request_parse((const char *)data, size, &req, &err) < 0 ||
	    ctl_commands_dispatch(h.commands, NULL, &req, &result, &err) < 0)
		line = ipc_response_error(req.id, &err, &len);
	else
		line = ipc_response_ok(req.id, result, &len);
	edited = req.cmd && strcmp(req.cmd, "set") != 0 && strncmp(req.cmd, "get", 3) != 0;
	ipc_request_done(&req);
	free(line);
	if (edited)
		restore_graph();
	return 0;
}
