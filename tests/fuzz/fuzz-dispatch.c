/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the control protocol's dispatcher: each input is a request line run
 * through the real parser and ctl_dispatch() against a real daemon state — the built-in
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
#include "daemon/control/server.h"
#include "daemon/daemon-private.h"
#include "daemon/default-graph.h"
#include "daemon/engine/engine.h"
#include "daemon/setup.h"
#include "ipc/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct daemon d;
static char dir[] = "/tmp/fuzz-dispatch-XXXXXX";

static int fuzz_init(void)
{
	struct el_error err = {0};
	struct ctl_settings s = {0};
	char sock[128];

	if (d.engine)
		return 0;
	if (!mkdtemp(dir) || sd_event_default(&d.event) < 0 ||
	    setup_config_load(NULL, &d.cfg, &err) < 0 ||
	    setup_engine(&d.cfg, NULL, &d.engine, &err) < 0)
		return -1;
	snprintf(sock, sizeof(sock), "%s/control", dir);
	if (ctl_settings_from_conf(d.cfg.conf, sock, &s, &err) < 0 ||
	    ctl_server_new(&d, &s, &d.ctl, &err) < 0)
		return -1;
	return 0;
}

static void restore_graph(void)
{
	struct conf *c = NULL;
	struct el_error err = {0};

	if (conf_load_string(el_default_graph, EL_DEFAULT_GRAPH_NAME, &c, &err) == 0)
		daemon_apply(&d, c, NULL, 0, &err);
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
	    ctl_dispatch(&d, NULL, &req, &result, &err) < 0)
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
