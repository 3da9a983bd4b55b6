/* SPDX-License-Identifier: MIT */
/*
 * el-macros.h: the few macros every module of echoeld shares.
 *
 * Header-only and small on purpose: anything bigger than a macro belongs in a module.
 * dsp/ may include this file and nothing else from the tree (style.md §13).
 */
#pragma once

#include <stddef.h>

/*
 * EL_RT marks a function the real-time thread may call. It documents a promise (no allocation,
 * no lock, no blocking syscall, no formatted output); RealtimeSanitizer checks it at run time
 * in the tests. Clang's `nonblocking` attribute is not checked by the clang in Debian 12, so
 * the marker expands to nothing rather than to a false sense of safety.
 */
#define EL_RT

/* Number of elements of a true array (not a pointer). */
#define EL_N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

#define EL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define EL_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Rounds x up to a multiple of the power of two a. */
#define EL_ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((size_t)(a)-1))

#define EL_IS_POW2(x) ((x) != 0 && ((x) & ((x)-1)) == 0)

#define EL_UNUSED      __attribute__((unused))
#define EL_LIKELY(x)   __builtin_expect(!!(x), 1)
#define EL_UNLIKELY(x) __builtin_expect(!!(x), 0)

/*
 * Takes the pointer out of a variable, leaving NULL behind, to hand ownership on
 * (systemd's TAKE_PTR, PipeWire's spa_steal_ptr).
 */
#define el_steal_ptr(p)                                                                            \
	({                                                                                         \
		__typeof__(p) _el_stolen_ = (p);                                                   \
		(p) = NULL;                                                                        \
		_el_stolen_;                                                                       \
	})

/* Cache line and SIMD alignment for every buffer the DSP kernels touch (AVX-512 = 64 bytes). */
#define EL_SIMD_ALIGN 64
/* Bytes per cache line, for prefetching (x86-64 and most of arm64). */
#define EL_CACHE_LINE 64
