/* SPDX-License-Identifier: MIT */
/* daemon/service-entry.c: linked into the service module only: what it offers (service.h). */
#include "daemon/service.h"

const struct service_entry service_entry = {
	.run = daemon_run,
	.check_config = daemon_check_config,
};
