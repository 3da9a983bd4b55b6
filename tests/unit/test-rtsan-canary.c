/* SPDX-License-Identifier: MIT */
/*
 * Property: the RealtimeSanitizer build really checks. Inside eng_rt_enter()/eng_rt_exit() an
 * allocation must abort the process (meson expects this test to fail). Without it, a clean
 * RTSan run of the daemon would prove nothing.
 */
#include <stdlib.h>

#include "daemon/engine/rt-check.h"

int main(void)
{
	/* volatile pointer: the optimizer may not delete the malloc (../shared/testing.md) */
	void *volatile p;

	eng_rt_check_init();
	eng_rt_enter();
	p = malloc(64);
	eng_rt_exit();
	free(p);
	return 0; /* reached only when the sanitizer is not active */
}
