/* SPDX-License-Identifier: MIT */
/* daemon/backend/module-version.c: linked into every backend module (modules.h). */
#include "daemon/backend/modules.h"

const char be_module_version[] = ECHOELD_VERSION;
