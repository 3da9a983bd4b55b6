/* SPDX-License-Identifier: MIT */
/* daemon/backend/modules.c: finding and loading the backend modules (modules.h). */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/backend/modules.h"
#include "daemon/log.h"

/* Each module, the table it defines, and its handle once loaded (never closed: modules.h). */
static struct be_module {
	const char *name;
	const char *symbol;
	const struct be_ops *ops;
} modules[] = {
	{"jack", "be_jack_ops", NULL},
	{"pipewire", "be_pipewire_ops", NULL},
	{"alsa", "be_alsa_ops", NULL},
};

/* The directory of the running executable into buf, or "" when /proc cannot say. */
static void executable_dir(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	char *slash;

	buf[n > 0 ? n : 0] = '\0';
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	else
		buf[0] = '\0';
}

/* The module file into path: beside the executable if it is there, else installed. */
static int module_path(const char *what, const char *file, char *path, size_t size,
		       struct el_error *reterr)
{
	char dir[PATH_MAX];

	executable_dir(dir, sizeof(dir));
	snprintf(path, size, "%s/%s", dir, file);
	if (dir[0] && access(path, F_OK) == 0)
		return 0;
	snprintf(path, size, "%s/%s", ECHOELD_BACKEND_DIR, file);
	if (access(path, F_OK) == 0)
		return 0;
	return el_error_set(reterr, -ENOENT, "%s: no module %s in '%s' or '%s'", what, file, dir,
			    ECHOELD_BACKEND_DIR);
}

int be_modules_open(const char *what, const char *file, int flags, void **ret_handle,
		    struct el_error *reterr)
{
	char path[PATH_MAX + 64];
	const char *version;
	void *handle;
	int r = module_path(what, file, path, sizeof(path), reterr);

	if (r < 0)
		return r;
	/* RTLD_NOW: every symbol bound here, so no first call from an RT thread runs the loader */
	handle = dlopen(path, RTLD_NOW | flags);
	if (!handle)
		return el_error_set(reterr, -ELIBACC, "%s: cannot load '%s': %s", what, path,
				    dlerror());
	version = dlsym(handle, "be_module_version");
	if (!version || strcmp(version, ECHOELD_VERSION) != 0) {
		r = el_error_set(reterr, -ELIBACC,
				 "%s: '%s' is not a module of echoeld %s (it says %s)", what, path,
				 ECHOELD_VERSION, version ? version : "no version");
		dlclose(handle); /* nothing of it ran: safe to unmap */
		return r;
	}
	log_debug("%s: loaded '%s'", what, path);
	*ret_handle = handle;
	return 0;
}

static int module_load(struct be_module *m, struct el_error *reterr)
{
	char what[32], file[64];
	void *handle;
	int r;

	snprintf(what, sizeof(what), "backend %s", m->name);
	snprintf(file, sizeof(file), "echoeld-backend-%s.so", m->name);
	r = be_modules_open(what, file, RTLD_LOCAL, &handle, reterr);
	if (r < 0)
		return r;
	m->ops = dlsym(handle, m->symbol);
	if (!m->ops) {
		r = el_error_set(reterr, -ELIBACC, "%s: '%s' has no %s", what, file, m->symbol);
		dlclose(handle);
		return r;
	}
	return 0;
}

int be_modules_get(const char *name, const struct be_ops **ret, struct el_error *reterr)
{
	if (strcmp(name, "dummy") == 0) {
		*ret = &be_dummy_ops;
		return 0;
	}
	for (size_t i = 0; i < EL_N_ELEMENTS(modules); i++) {
		struct be_module *m = &modules[i];
		int r;

		if (strcmp(m->name, name) != 0)
			continue;
		if (!m->ops && (r = module_load(m, reterr)) < 0)
			return r;
		*ret = m->ops;
		return 0;
	}
	return el_error_set(reterr, -EINVAL, "no backend named '%s'", name);
}
