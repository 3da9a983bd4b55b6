/* SPDX-License-Identifier: MIT */
/*
 * el-probe.h: USDT probes (statically defined tracepoints) for perf, bpftrace and SystemTap.
 *
 * A probe is a single `nop` in the code and a note in the ELF file naming it and where its
 * arguments live; it costs nothing until a tracer attaches (then each hit is a breakpoint
 * trap), so it may sit on the RT path. The provider is `echoeld`; docs/performance.md lists
 * every probe with a one-liner that uses it. Without systemtap-sdt-dev's <sys/sdt.h> at build
 * time the probes compile to nothing.
 */
#pragma once

#if defined(EL_HAVE_SDT) && EL_HAVE_SDT
#include <sys/sdt.h>
#define EL_PROBE1(name, a)       DTRACE_PROBE1(echoeld, name, a)
#define EL_PROBE2(name, a, b)    DTRACE_PROBE2(echoeld, name, a, b)
#define EL_PROBE3(name, a, b, c) DTRACE_PROBE3(echoeld, name, a, b, c)
#else
#define EL_PROBE1(name, a)       ((void)0)
#define EL_PROBE2(name, a, b)    ((void)0)
#define EL_PROBE3(name, a, b, c) ((void)0)
#endif
