/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend/dummy.c: the project's own clock, for machines without a sound server (or a
 * sound card): a SCHED_FIFO thread that wakes on absolute CLOCK_MONOTONIC deadlines, one period
 * apart, and runs a cycle. Playback is discarded (the meters and the IPC show what the graph
 * does). Capture reads silence, or a configured source: `[dummy] capture_file`, an audio file
 * loaded whole (and resampled to the engine's rate) when the backend opens, then played from
 * memory into the capture channels — looped, or once and then silence. Channels with nothing to
 * read are passed as NULL, so an idle cycle touches no backend memory at all. When a cycle was
 * entirely silent, the clock stops until the control thread changes something: an idle daemon
 * costs (almost) nothing, like a suspended PipeWire graph.
 *
 * A wake-up later than one period after its deadline counts as a late cycle: the clock then
 * re-anchors to now instead of running a burst of catch-up cycles, as a sound card would drop
 * the lost time rather than play it fast.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "common/el-rt-thread.h"
#include "daemon/backend/backend.h"
#include "daemon/backend/offline.h"
#include "daemon/config/value.h"
#include "daemon/config/config.h"
#include "daemon/engine/engine.h"
#include "daemon/nodes/ir-file.h"
#include "dsp/cpu.h"

/*
 * Longest stop of an idle clock: it then runs one cycle to look again. Every change that could
 * end the silence comes with a wake-up (eng_engine_wake), so this is only a bound; it is long
 * because each look is a wake-up, and an idle daemon aims at fewer than one a second.
 */
#define IDLE_WAIT_NS 30000000000ull

/* Channels the own clock offers each way; the graph uses as many as it has input/output. */
#define DUMMY_CHANNELS 64

struct dummy {
	struct eng_engine *engine; /* borrowed */
	uint32_t block;
	uint64_t period_ns;
	int priority;
	pthread_t thread;
	bool started;
	bool realtime;
	_Atomic bool stop;
	_Atomic uint64_t stall_until_ns;      /* tests: no cycle before this CLOCK_MONOTONIC time */
	const float *capture[DUMMY_CHANNELS]; /* NULL: silence; else block frames of the file */
	float *playback[DUMMY_CHANNELS];      /* all NULL: discarded */

	/* [dummy] capture_file: capture channel c plays file channel c % file->channels. */
	struct node_ir *file; /* owned, or NULL; loaded at open(), read by the RT thread */
	float *capture_buf;   /* owned: file->channels blocks, what capture[] points into */
	bool loop;            /* start again at the end, or fall silent */
	size_t pos;           /* RT thread only: the next frame of the file to play */
};

/* Copies the next block of the file into the capture buffers (wrapping when looping). */
EL_RT static void rt_read_capture(struct dummy *d)
{
	const struct node_ir *f = d->file;
	size_t done = 0;

	if (!f)
		return;
	while (done < d->block) {
		size_t n;

		if (d->pos >= f->frames) {
			if (!d->loop) {
				/* played once: from now on the capture channels are silent */
				for (unsigned c = 0; c < DUMMY_CHANNELS; c++)
					d->capture[c] = NULL;
				return;
			}
			d->pos = 0;
		}
		n = EL_MIN(f->frames - d->pos, d->block - done);
		for (unsigned c = 0; c < f->channels; c++)
			memcpy(d->capture_buf + (size_t)c * d->block + done, f->data[c] + d->pos,
			       n * sizeof(float));
		done += n;
		d->pos += n;
	}
}

static void timespec_add_ns(struct timespec *t, uint64_t ns)
{
	uint64_t total = (uint64_t)t->tv_nsec + ns;

	t->tv_sec += (time_t)(total / 1000000000u);
	t->tv_nsec = (long)(total % 1000000000u);
}

static int64_t timespec_diff_ns(const struct timespec *a, const struct timespec *b)
{
	return (int64_t)(a->tv_sec - b->tv_sec) * 1000000000 + (a->tv_nsec - b->tv_nsec);
}

/* Tests: sleeps out a requested stall (the RT thread "hangs"); true when it did. */
static bool rt_stalled(struct dummy *d, struct timespec *now)
{
	uint64_t until = atomic_load_explicit(&d->stall_until_ns, memory_order_relaxed);
	uint64_t t = (uint64_t)now->tv_sec * 1000000000u + (uint64_t)now->tv_nsec;
	struct timespec end = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};

	if (until <= t)
		return false;
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL);
	clock_gettime(CLOCK_MONOTONIC, now);
	return true;
}

static void *dummy_main(void *arg)
{
	struct dummy *d = arg;
	struct timespec deadline, now;

	/* Named, so a trace or a patchbay's thread view can tell the clock apart. */
	pthread_setname_np(pthread_self(), "echoeld-clock");
	eng_engine_set_rt_thread(d->engine, gettid());
	dsp_cpu_flush_denormals();
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	while (!atomic_load_explicit(&d->stop, memory_order_relaxed)) {
		int64_t late;

		timespec_add_ns(&deadline, d->period_ns);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == EINTR)
			;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (rt_stalled(d, &now)) {
			deadline = now; /* a hang, then a fresh start, as after a real one */
			continue;
		}
		late = timespec_diff_ns(&now, &deadline);
		if (late > (int64_t)d->period_ns) {
			eng_engine_report_late(d->engine, (uint64_t)late);
			deadline = now;
		}
		rt_read_capture(d);
		eng_engine_cycle(d->engine, d->capture, DUMMY_CHANNELS, d->playback, DUMMY_CHANNELS,
				 d->block);
		if (eng_engine_is_idle(d->engine)) {
			/* Nothing to hear and nobody listening: stop the clock until something
			 * changes (or IDLE_WAIT_NS pass), then start afresh from now. */
			eng_engine_wait_while_idle(d->engine, IDLE_WAIT_NS, &d->stop);
			clock_gettime(CLOCK_MONOTONIC, &deadline);
		}
	}
	return NULL;
}

static const char *const dummy_keys[] = {"capture_file", "capture_loop", NULL};

/* The directory of the file that set key, so a relative path reads like the fir node's `ir`. */
static char *origin_dir(const struct conf_section *sec, const char *key)
{
	const struct conf_entry *e = conf_section_find(sec, key);
	const char *file = e ? e->origin.file : NULL;
	const char *slash = file ? strrchr(file, '/') : NULL;

	return slash ? strndup(file, (size_t)(slash - file)) : NULL;
}

/* [dummy]: its keys, and capture_loop a boolean (into *ret_loop). */
static int check_keys(const struct conf_section *sec, bool *ret_loop, struct el_error *reterr)
{
	int r = conf_check_keys(sec, dummy_keys, reterr);

	return r < 0 ? r : conf_get_bool(sec, "capture_loop", true, ret_loop, reterr);
}

/* [dummy] as open() reads it, and capture_file an audio file whose header reads. */
static int dummy_check_config(const struct conf *conf, struct el_error *reterr)
{
	const struct conf_section *sec = conf ? conf_find_section(conf, "dummy") : NULL;
	const struct conf_entry *file = conf_section_find(sec, "capture_file");
	struct offline_file_info info;
	struct el_error err = {0};
	char *base, *path = NULL;
	bool loop;
	int r;

	if ((r = check_keys(sec, &loop, reterr)) < 0 || !file)
		return r;
	base = origin_dir(sec, "capture_file");
	r = node_ir_resolve(file->value, base, &path);
	free(base);
	if (r < 0)
		return el_error_set(reterr, r, "out of memory");
	r = offline_probe(path, &info, &err);
	free(path);
	return r < 0 ? conf_error_entry(reterr, r, file, "%s", err.message) : 0;
}

/* [dummy] capture_file and capture_loop: load the file for an engine at rate, block. */
static int load_capture(struct dummy *d, const struct conf *conf, uint32_t rate,
			struct el_error *reterr)
{
	const struct conf_section *sec = conf ? conf_find_section(conf, "dummy") : NULL;
	const struct conf_entry *file = conf_section_find(sec, "capture_file");
	struct el_error err = {0};
	char *base;
	int r;

	if ((r = check_keys(sec, &d->loop, reterr)) < 0 || !file)
		return r;
	base = origin_dir(sec, "capture_file");
	r = node_ir_load(file->value, base, rate, &d->file, &err);
	free(base);
	if (r < 0)
		return conf_error_entry(reterr, r, file, "%s", err.message);
	/*
	 * node_ir_load() keeps a resampled IR's frequency response, scaling it by file_rate/rate;
	 * a signal keeps its level instead, so undo that.
	 */
	if (d->file->file_rate != rate)
		for (unsigned c = 0; c < d->file->channels; c++)
			for (size_t i = 0; i < d->file->frames; i++)
				d->file->data[c][i] *= (float)rate / (float)d->file->file_rate;
	d->capture_buf = calloc((size_t)d->file->channels * d->block, sizeof(float));
	if (!d->capture_buf)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	for (unsigned c = 0; c < DUMMY_CHANNELS; c++)
		d->capture[c] = d->capture_buf + (size_t)(c % d->file->channels) * d->block;
	return 0;
}

static void dummy_free(struct dummy *d)
{
	if (!d)
		return;
	node_ir_free(d->file);
	free(d->capture_buf);
	free(d);
}

static int dummy_open(const struct conf *conf, void **ret, uint32_t *ret_rate, uint32_t *ret_block,
		      struct el_error *reterr)
{
	struct dummy *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	/* Our own clock runs at whatever the configuration asks. */
	d->block = *ret_block;
	d->period_ns = (uint64_t)*ret_block * 1000000000u / *ret_rate;
	if ((r = load_capture(d, conf, *ret_rate, reterr)) < 0) {
		dummy_free(d);
		return r;
	}
	*ret = d;
	return 0;
}

static int dummy_start(void *be, struct eng_engine *engine, struct el_error *reterr)
{
	struct dummy *d = be;
	int r;

	d->engine = engine;
	d->priority = (int)eng_engine_get_settings(engine)->rt_priority;
	atomic_store_explicit(&d->stop, false, memory_order_relaxed);
	eng_engine_set_running(d->engine, true);
	eng_engine_fade_in(d->engine); /* the first sound after a start is not a step */
	/* without the right to SCHED_FIFO the caller warns; audio still runs, less reliably */
	r = el_rt_thread_start(&d->thread, d->priority, dummy_main, d, &d->realtime);
	if (r) {
		eng_engine_set_running(d->engine, false);
		return el_error_set(reterr, -r, "cannot start the clock thread: %s", strerror(r));
	}
	d->started = true;
	/* Workers run one below the clock thread (the daemon warns when they cannot). */
	eng_engine_set_rt_priority(d->engine, d->realtime ? d->priority : 0);
	return 0;
}

static void dummy_stop(void *be)
{
	struct dummy *d = be;

	if (!d->started)
		return;
	atomic_store_explicit(&d->stop, true, memory_order_relaxed);
	eng_engine_wake(d->engine); /* an idle clock would otherwise sleep out IDLE_WAIT_NS */
	pthread_join(d->thread, NULL);
	d->started = false;
	eng_engine_set_running(d->engine, false);
}

static void dummy_destroy(void *be)
{
	struct dummy *d = be;

	if (!d)
		return;
	dummy_stop(d);
	dummy_free(d);
}

static bool dummy_is_realtime(void *be)
{
	return ((struct dummy *)be)->realtime;
}

static void dummy_test_stall(void *be, unsigned ms)
{
	struct dummy *d = be;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	/* relaxed: a lone deadline; the clock thread picks it up within a period */
	atomic_store_explicit(&d->stall_until_ns,
			      (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec +
				      (uint64_t)ms * 1000000u,
			      memory_order_relaxed);
}

const struct be_ops be_dummy_ops = {
	.test_stall = dummy_test_stall,
	.name = "dummy",
	.open = dummy_open,
	.check_config = dummy_check_config,
	.start = dummy_start,
	.stop = dummy_stop,
	.destroy = dummy_destroy,
	.is_realtime = dummy_is_realtime,
};
