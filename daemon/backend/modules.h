/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend/modules.h: the backends that talk to a server or a device (JACK, PipeWire,
 * ALSA) are shared modules, loaded when one is chosen; the own clock is built in.
 *
 * Why: a process that never opens them never maps libjack, libpipewire or libasound (with
 * libstdc++ behind libjack): `echoeld render` and `--check-config` of a graph that names no
 * server start ~4-6 ms sooner on the reference VM (docs/performance.md, render), and a box
 * without JACK installed still runs everything else. PipeWire's SPA plugins and ALSA's PCM
 * plugins are loaded the same way.
 *
 * Where: echoeld-backend-NAME.so beside the running executable (a build tree), else in the
 * directory the build installs them to (ECHOELD_BACKEND_DIR, $libdir/echoeld). A module calls
 * back into the executable (the engine, the configuration, the log), which exports its symbols
 * for that; it must come from the same build, which it says (be_module_version). A loaded
 * module stays loaded for the life of the process: an RT callback may still point into it.
 */
#pragma once

#include "daemon/backend/backend.h"

struct el_error;

/* What every module defines: the echoeld version it was built with (module-version.c). */
extern const char be_module_version[];

/*
 * Thread: control. The ops of backend name: "dummy" (built in), "jack", "pipewire" or "alsa",
 * the module loaded the first time it is asked for. 0; -EINVAL for another name; -ENOENT when
 * no module file is found (the message names where it looked); -ELIBACC when the file does not
 * load (a library it needs is missing: dlerror()'s text) or is not this build's.
 */
int be_modules_get(const char *name, const struct be_ops **ret, struct el_error *reterr);

/*
 * Thread: control. Loads the module file `file` (found as above) with dlopen(RTLD_NOW | flags)
 * and checks that it is this build's: *ret_handle, never to be closed. `what` starts each error
 * message. 0; -ENOENT when no file is found; -ELIBACC when it does not load or is not this
 * build's. For the backends above and the service (daemon/service.h).
 */
int be_modules_open(const char *what, const char *file, int flags, void **ret_handle,
		    struct el_error *reterr);
