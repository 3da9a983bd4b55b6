/* SPDX-License-Identifier: MIT */
/* daemon/service.c: loading the service module and calling into it (service.h). */
#include <dlfcn.h>
#include <stddef.h>

#include "common/el-error.h"
#include "daemon/backend/modules.h"
#include "daemon/log.h"
#include "daemon/service.h"

/* The service module's entry (loaded the first time), or NULL after logging why not. */
static const struct service_entry *service_get(void)
{
	static const struct service_entry *entry;
	struct el_error err = {0};
	void *handle;

	if (entry)
		return entry;
	/* RTLD_LOCAL, like the backends: they call only into the executable, and a second
	 * be_module_version in the global scope would be an ODR violation (ASan stops on it) */
	if (be_modules_open("service", "echoeld-service.so", RTLD_LOCAL, &handle, &err) < 0) {
		log_error("%s", err.message);
		return NULL;
	}
	entry = dlsym(handle, "service_entry");
	if (!entry)
		log_error("service: echoeld-service.so has no service_entry");
	return entry;
}

int service_run(const struct daemon_options *o)
{
	const struct service_entry *e = service_get();

	return e ? e->run(o) : 1;
}

int service_check_config(const char *path)
{
	const struct service_entry *e = service_get();

	return e ? e->check_config(path) : 1;
}
