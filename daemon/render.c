/* SPDX-License-Identifier: MIT */
/*
 * daemon/render.c: `echoeld render` — the same graph the daemon runs, over files, as fast as the
 * CPU allows. The engine takes the input file's sample rate unless [engine] rate is set; a set
 * rate that differs is refused (resampling the program material is the user's decision).
 */
#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-pace.h"
#include "daemon/daemon.h"
#include "daemon/engine/engine.h"
#include "daemon/engine/node.h"
#include "daemon/fir-layouts.h"
#include "daemon/log.h"
#include "daemon/par-pool.h"
#include "daemon/power/render-pacer.h"
#include "daemon/setup.h"
#include "daemon/wisdom.h"
#include "dsp/cpu.h"
#include "dsp/fft.h"

/*
 * Frames per cycle of a render whose configuration sets no [engine] block (docs/config.md): the
 * largest the engine takes. A 65,536-tap render costs ~9 % less CPU than at 4096 (fewer, longer
 * partitions: half the multiply-adds for slightly longer transforms; docs/performance.md).
 */
#define RENDER_BLOCK 8192u
/*
 * Inputs at least this long have their FFT plans and convolver layouts measured (and
 * remembered, so later renders and the daemon start warm); shorter ones take wisdom or an
 * estimate and a remembered or modelled layout: measuring a cold machine takes seconds, more
 * than it saves on a few minutes of audio. --measure asks for it anyway.
 */
#define RENDER_MEASURE_SECONDS 600u

/*
 * Room made at once on the heap for what a render allocates while it builds its graph (the
 * convolvers' spectra and delay lines, FFTW's plans, the files' buffers): 2.2 MB for a
 * 65,536-tap fir at the render's block.
 */
#define RENDER_HEAP_BYTES (8u << 20)
#define RENDER_HUGE_PAGE_BYTES (2u << 20) /* x86-64 and arm64 with 4 KiB pages */

/*
 * A render is a batch: it allocates its memory once, before the first block, and touches every
 * page of it. Each first touch of a 4 KiB page is a fault, ~10 µs each on a VM with shadow page
 * tables (docs/performance.md, render): ~500 of them for a 65,536-tap fir. So the heap grows
 * once by RENDER_HEAP_BYTES, kept (no trimming, large blocks from it rather than mmap), and is
 * advised to take transparent huge pages: one fault per 2 MiB where the kernel allows (THP
 * `madvise` or `always`). That halves a render's faults (890 to 440 here) and takes 8-10 % off
 * its CPU. Under a sanitizer's allocator the heap does not grow: the break moves, to no effect.
 * The daemon does not do this: it locks and prefaults its memory at start instead.
 */
static void render_heap_prepare(void)
{
	const uintptr_t huge = RENDER_HUGE_PAGE_BYTES, page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t request, start, aligned;
	char *now = sbrk(0), *end;
	void *p;

	if (now == (char *)-1)
		return;
	mallopt(M_TOP_PAD, RENDER_HEAP_BYTES);
	mallopt(M_MMAP_THRESHOLD, RENDER_HEAP_BYTES);
	mallopt(M_TRIM_THRESHOLD, 2 * RENDER_HEAP_BYTES);
	/*
	 * A 2 MiB stretch becomes one huge page only if nothing in it was touched before the
	 * advice. Growing the heap writes malloc's block headers at the start of the new room and
	 * after the block asked for, so the break is first moved (a foreign sbrk(), which malloc
	 * takes as such) to just below a 2 MiB boundary, low enough that every header of the
	 * growth lands below it. The skipped address space is never touched: it costs no memory.
	 * The request is just larger than the heap's free top, so that malloc must grow the heap.
	 */
	request = mallinfo2().keepcost + 64u * 1024u;
	aligned = EL_ALIGN_UP((uintptr_t)now + request + 2 * page, huge);
	start = aligned - request - 2 * page;
	if (start > (uintptr_t)now && sbrk((intptr_t)(start - (uintptr_t)now)) == (void *)-1)
		return;
	p = malloc(request);
	/* a malloc whose block goes unused may be elided, and this one must happen */
	__asm__ volatile("" : : "r"(p) : "memory");
	free(p);
	end = sbrk(0);
	if (end != (char *)-1 && (uintptr_t)end > aligned)
		madvise((void *)aligned, (uintptr_t)end - aligned, MADV_HUGEPAGE);
}

/* CPUs this process may run on (taskset, a unit's CPUAffinity=), at least 1. */
static unsigned usable_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	return (unsigned)EL_MAX(CPU_COUNT(&set), 1);
}

/* Threads the render runs on, its own included: what the user asked for, else the cores the
 * power policy gives background work now, on the CPUs it may use (fixed for the render). */
static unsigned render_threads(const struct render_options *ro, struct render_pacer *pacer)
{
	if (ro->threads)
		return ro->threads;
	return EL_MIN(EL_MIN(render_pacer_get_cores(pacer), usable_cpus()), RENDER_MAX_THREADS);
}

/* The render and its IRs' preparation, paced alike (render_pacer_pace() accepts NULL). */
static void pace_preparation(void *ctx, uint64_t work_ns)
{
	render_pacer_pace(ctx, work_ns);
}

/* The signal that asked the render to stop, 0 while none did. */
static atomic_int stop_signal;

static void on_stop_signal(int signo)
{
	/* relaxed: read by the render loop on this same thread; lock-free, so signal-safe */
	atomic_store_explicit(&stop_signal, signo, memory_order_relaxed);
}

/*
 * SIGINT, SIGTERM and SIGHUP end the render between two blocks instead of killing it, so its
 * temporary file is removed (offline.h). No SA_RESTART: a pacer's pause ends at once.
 */
static void catch_stop_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* The exit status: 0, 1 for a failure, 128 + the signal for an interrupted render (a shell's
 * convention, so `echoeld render` in a script reads like a process killed by it). */
static int exit_status(int r, struct el_error *err)
{
	int signo = atomic_load_explicit(&stop_signal, memory_order_relaxed);

	if (r >= 0)
		return 0;
	if (r == -EINTR && signo > 0) {
		log_error("render stopped by SIG%s: %s", sigabbrev_np(signo), err->message);
		return 128 + signo;
	}
	log_error("%s", err->message);
	return 1;
}

int daemon_render(const struct render_options *ro, const char *in, const char *out)
{
	struct setup_config c = {0};
	struct offline_file_info info;
	struct eng_engine *e = NULL;
	struct render_pacer *pacer = NULL;
	struct fir_layouts *layouts = NULL;
	struct par_pool *pool = NULL;
	struct eng_fir_planner planner;
	bool measuring = false;
	struct el_error err = {0};
	int out_format = 0, r;

	render_heap_prepare();
	catch_stop_signals();
	/* what the files allow is checked before the configuration's IRs are even opened */
	r = offline_probe(in, &info, &err);
	if (r == 0)
		r = offline_check_distinct(in, out, &err);
	if (r == 0)
		r = offline_output_format(&info, out, ro->format, &out_format, &err);
	if (r == 0)
		r = setup_config_load(ro->config_path, &c, &err);
	if (r == 0 && c.settings.rate_given && c.settings.rate != info.rate)
		r = el_error_set(&err, -EINVAL,
				 "'%s' is at %u Hz but [engine] rate = %u; resample the file or "
				 "leave rate unset to follow the file",
				 in, info.rate, c.settings.rate);
	/* background work of the power policy: paced, never changed (render-pacer.h); the IRs'
	 * preparation as much as the render itself */
	if (r == 0)
		r = render_pacer_new(&c.policy, &pacer, &err);
	if (r == 0) {
		unsigned threads = render_threads(ro, pacer);

		r = par_pool_new(threads - 1, &pool);
		if (r < 0)
			el_error_set(&err, r, "cannot start %u render threads: %s", threads - 1,
				     strerror(-r));
	}
	if (r == 0) {
		struct el_pacer prep = {.pace = pace_preparation, .ctx = pacer};

		c.settings.rate = info.rate;
		/* latency costs nothing offline: long blocks let convolvers use long partitions,
		 * the cheapest per tap, and every node's per-cycle overhead shrinks */
		if (!c.settings.block_given)
			c.settings.block = RENDER_BLOCK;
		/* the engine's workers serve a real-time cycle (engine/workers.h); a render's
		 * threads run a node's channels instead (convolvers, common/el-par.h) */
		c.settings.workers = 0;
		c.settings.par = par_pool_get(pool);
		c.settings.pool_on_use = true; /* no RT thread: buffers fault in when first used */
		dsp_cpu_flush_denormals();
		measuring = ro->measure ||
			    (uint64_t)info.frames >= (uint64_t)RENDER_MEASURE_SECONDS * info.rate;
		c.settings.fft_rigor = measuring ? DSP_FFT_MEASURE : DSP_FFT_WISDOM;
		wisdom_load(); /* transforms a daemon or an earlier render measured */
		r = fir_layouts_new(NULL, &layouts);
		if (layouts)
			fir_layouts_set_measuring(layouts, measuring);
		planner = layouts ? fir_layouts_get_planner(layouts) : (struct eng_fir_planner){0};
		if (r == 0)
			r = setup_engine(&c, &prep, &planner, NULL, &e, &err);
	}
	if (r == 0) {
		struct el_pacer paced = {.pace = pace_preparation, .ctx = pacer};
		struct offline_options o = {.out_format = out_format,
					    .progress = isatty(STDERR_FILENO),
					    .tail = ro->tail,
					    .dither = ro->dither,
					    .pacer = &paced,
					    .stop = &stop_signal};

		r = offline_render(e, in, out, &o, &err);
		if (r == 0 && measuring)
			wisdom_save(); /* the next render starts warm */
	}
	r = exit_status(r, &err);
	render_pacer_free(pacer);
	eng_engine_free(e); /* before the threads its convolvers borrow */
	par_pool_free(pool);
	fir_layouts_free(layouts);
	setup_config_done(&c);
	return r;
}
