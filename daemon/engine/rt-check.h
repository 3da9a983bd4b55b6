/* SPDX-License-Identifier: MIT */
/*
 * daemon/engine/rt-check.h: RealtimeSanitizer hooks around the RT cycle.
 *
 * In a build with -Drtsan=true (EL_WITH_RTSAN), eng_rt_enter()/eng_rt_exit() bracket every
 * cycle so LLVM's RealtimeSanitizer runtime aborts the process on any allocation, lock or
 * blocking call made inside it; eng_rt_check_init() must run once at start-up. In every other
 * build they compile to nothing. Debian 12's compilers cannot take -fsanitize=realtime, so the
 * runtime is linked whole and driven through these entry points (../shared/testing.md).
 */
#pragma once

#ifdef EL_WITH_RTSAN
void __rtsan_init(void);
void __rtsan_realtime_enter(void);
void __rtsan_realtime_exit(void);

static inline void eng_rt_check_init(void)
{
	__rtsan_init();
}
static inline void eng_rt_enter(void)
{
	__rtsan_realtime_enter();
}
static inline void eng_rt_exit(void)
{
	__rtsan_realtime_exit();
}
#else
static inline void eng_rt_check_init(void)
{
}
static inline void eng_rt_enter(void)
{
}
static inline void eng_rt_exit(void)
{
}
#endif
