/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend/pipewire.c: the PipeWire backend — echoeld as one pw_filter node whose DSP ports
 * (32 bit float mono) are the graph's input and output channels: port.name "<node>_<channel>",
 * port.alias "<node_name>:<node>_<channel>", like the JACK backend's port names.
 *
 * DESIGN
 *
 * Threads. PipeWire's main loop runs in a pw_thread_loop ("echoeld-pw"); the control thread
 * calls into PipeWire only under its lock. The filter's process callback runs on the context's
 * data thread (PW_FILTER_FLAG_RT_PROCESS), whose priority PipeWire's module-rt sets (the client
 * config is client-rt.conf); [engine] rt_priority does not apply here.
 *
 * Rate and block. open() connects and waits for the core's info (one round trip, which also
 * proves the daemon answers). DSP ports are never resampled, so the engine takes the graph's
 * rate (default.clock.rate); it keeps the configured block, fitted into the graph's quantum
 * limits, and asks the graph to run at it with node.force-quantum = block (plus node.latency =
 * block/rate and node.rate = 1/rate). With [pipewire] latency set, only that node.latency is
 * requested and the graph may choose another quantum. A cycle of another size or rate plays
 * silence; tick() says so in the log. Cycles at another rate for half a second are the graph
 * switching rate (clock.force-rate, or a rate it follows), and a server that comes back at
 * another rate is too: tick() returns BE_STATE_RESTART, get_format() gives the new rate, and the
 * daemon rebuilds the engine for it on the same connection (a fir takes its filter for it).
 *
 * Ports. The RT callback reads one port table (engine channel -> port, NULL where none). Every
 * change of ports runs on the data thread between two cycles, in blocking pw_data_loop_invoke()s,
 * because PipeWire 0.3.65's pw_filter does not allow it anywhere else (src/pipewire/filter.c):
 * impl_node_process() walks the filter's port_list on the data thread every cycle without a
 * lock; pw_filter_add_port() appends to that list (alloc_port(): a plain spa_list_append, no
 * barrier) and pw_filter_remove_port() unlinks the port and frees it, its buffers and params at
 * once, on the caller's thread. Holding the thread-loop lock does not stop the data thread, so
 * from the control thread a remove could free a port under a running cycle and an add could be
 * seen half-linked. Neither call can be split (the allocation and the list change are one call),
 * so the smallest data-thread step is one port: the control thread plans everything (names,
 * properties, the next table), then invokes one step per port added, one for the table pointer,
 * one per port removed, and cycles run between the steps; the table switches only after every
 * new port exists, and a port is removed only after the switch. A failed add undoes the ones
 * before it the same way. Each step's time on the data thread is measured there and logged at
 * debug level; tests/integration/test-pipewire.sh prints it. Measured (2 vCPU, gcc -O2): the
 * first port of a fresh filter 110-150 us (cold), later steps 3-50 us; one invoke for a whole
 * change held the thread for their sum (e.g. 169 us for 4 ports and the switch), which grows
 * with the ports a change touches. The process callback itself never allocates, locks or
 * logs.
 *
 * Scheduling. The node sets node.always-process: PipeWire runs it with a driver even while
 * nothing is linked, so the engine's plan switches, tones and meters always progress (as with
 * JACK) and a reconfiguration never waits for a link.
 *
 * Linking. The node carries node.autoconnect = true (and target.object when [pipewire] target is
 * set) for a session manager that links DSP filters; WirePlumber 0.4 does not (it links only
 * Stream/... nodes, and its adapter item cannot configure a filter's DSP ports), and no media.class
 * is set, so it leaves the node alone: WirePlumber 0.4's create-item.lua makes an adapter item
 * for any media.class containing "Audio" and treats "Audio/Sink" or "Audio/Duplex" as a device
 * it may pick as the default sink, so every desktop stream would be routed into echoeld.
 * media.type/category/role (Audio, Filter, DSP, as PipeWire's own DSP filter example) say what
 * it is instead. With a target, we link ourselves: a registry listener
 * keeps the nodes and ports the daemon announces, and tick() links our outputs, in channel
 * order, to the target's inputs, in port order, whenever either side changes (like [jack]
 * connect). Links the user made are not restored after a daemon restart.
 *
 * Files. This one: the life cycle, [pipewire] and tick(); pipewire-link.c: the core, the filter,
 * linking and reconnection; pipewire-ports.c: the port tables and the RT callback
 * (pipewire-private.h: what they share).
 *
 * Connection. A core error -EPIPE (the daemon went away) or a filter error sets an atomic flag;
 * tick() then drops the filter and the core (keeping the context, the loops and the engine) and
 * reconnects with backoff (0.5 s doubling to 5 s) without blocking the control thread: connect,
 * wait for the core's info over the next ticks, then recreate the filter and its ports.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pipewire/filter.h>
#include <pipewire/pipewire.h>
#include <spa/utils/result.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/backend/backend.h"
#include "daemon/backend/pipewire-private.h"
#include "daemon/config/value.h"
#include "daemon/config/config.h"
#include "daemon/engine/engine.h"
#include "daemon/engine/rt-check.h"
#include "daemon/log.h"
#include "dsp/cpu.h"

static void init_pipewire(void)
{
	pw_init(NULL, NULL);
}

/* ---- life cycle ---- */

static void pwbe_free(struct pwbe *b)
{
	if (!b)
		return;
	if (b->loop) {
		pw_thread_loop_lock(b->loop);
		pwbe_filter_destroy(b);
		pwbe_core_disconnect(b);
		pw_thread_loop_unlock(b->loop);
		pw_thread_loop_stop(b->loop);
	}
	if (b->context)
		pw_context_destroy(b->context);
	if (b->loop)
		pw_thread_loop_destroy(b->loop);
	free(b->node_name);
	free(b->description);
	free(b->target);
	free(b->latency);
	free(b->objs);
	free(b);
}

static const char *const pipewire_keys[] = {"node_name", "description", "target", "latency", NULL};

/* [pipewire]: its keys, node_name without blanks or ':', latency "FRAMES/RATE" (both positive,
 * as node.latency takes it). */
static int pipewire_check_config(const struct conf *conf, struct el_error *reterr)
{
	const struct conf_section *sec = conf_find_section(conf, "pipewire");
	const struct conf_entry *name = conf_section_find(sec, "node_name");
	const struct conf_entry *latency = conf_section_find(sec, "latency");
	unsigned num, denom;
	char extra;
	int r = conf_check_keys(sec, pipewire_keys, reterr);

	if (r < 0)
		return r;
	if (name && (!name->value[0] || strpbrk(name->value, ": ")))
		return conf_error_entry(reterr, -EINVAL, name,
					"expected a node name without blanks or ':', got '%s'",
					name->value);
	if (latency && (sscanf(latency->value, "%u/%u%c", &num, &denom, &extra) != 2 || num == 0 ||
			denom == 0))
		return conf_error_entry(reterr, -EINVAL, latency,
					"expected FRAMES/RATE such as 256/48000, got '%s'",
					latency->value);
	return 0;
}

static int read_settings(struct pwbe *b, const struct conf *conf, struct el_error *reterr)
{
	const struct conf_section *sec = conf_find_section(conf, "pipewire");
	const char *target = conf_get_string(sec, "target", NULL);
	const char *latency = conf_get_string(sec, "latency", NULL);
	int r = pipewire_check_config(conf, reterr);

	if (r < 0)
		return r;
	b->node_name = strdup(conf_get_string(sec, "node_name", "echoeld"));
	b->description = strdup(conf_get_string(sec, "description", "echoeld audio engine"));
	if (target && target[0])
		b->target = strdup(target);
	if (latency)
		b->latency = strdup(latency);
	if (!b->node_name || !b->description || (target && target[0] && !b->target) ||
	    (latency && !b->latency))
		return el_error_set(reterr, -ENOMEM, "out of memory");
	return 0;
}

/* The thread loop and the context (client-rt.conf: module-rt makes the data thread RT). */
static int loop_new(struct pwbe *b, struct el_error *reterr)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct pw_properties *props;

	pthread_once(&once, init_pipewire);
	b->loop = pw_thread_loop_new("echoeld-pw", NULL);
	props = pw_properties_new(PW_KEY_CONFIG_NAME, "client-rt.conf", NULL);
	if (!b->loop || !props) {
		if (props)
			pw_properties_free(props);
		return el_error_set(reterr, -ENOMEM, "out of memory");
	}
	b->context = pw_context_new(pw_thread_loop_get_loop(b->loop), props, 0); /* takes props */
	if (!b->context) /* no client-rt.conf (newer PipeWire merged it into client.conf) */
		b->context = pw_context_new(pw_thread_loop_get_loop(b->loop), NULL, 0);
	if (!b->context) {
		int r = errno ? -errno : -ENOMEM;

		return el_error_set(reterr, r, "cannot create a PipeWire context: %s",
				    strerror(-r));
	}
	b->data_loop = pw_context_get_data_loop(b->context);
	if (pw_thread_loop_start(b->loop) < 0)
		return el_error_set(reterr, -EIO, "cannot start the PipeWire loop thread");
	return 0;
}

static int pwbe_open(const struct conf *conf, void **ret, uint32_t *ret_rate, uint32_t *ret_block,
		     struct el_error *reterr)
{
	struct pwbe *b = calloc(1, sizeof(*b));
	int r;

	if (!b)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	atomic_init(&b->rt_sched, -1);
	b->rate = *ret_rate;
	b->block = *ret_block;
	b->backoff_ms = BACKOFF_MIN_MS;
	if ((r = read_settings(b, conf, reterr)) < 0 || (r = loop_new(b, reterr)) < 0)
		goto fail;
	pw_thread_loop_lock(b->loop);
	if ((r = pwbe_core_connect(b, reterr)) == 0 && (r = pwbe_core_wait(b, reterr)) == 0)
		r = pwbe_follow_graph(b, reterr);
	pw_thread_loop_unlock(b->loop);
	if (r < 0)
		goto fail;
	*ret_rate = b->rate;
	*ret_block = b->block;
	*ret = b;
	return 0;
fail:
	pwbe_free(b);
	return r;
}

static int pwbe_start(void *be, struct eng_engine *engine, struct el_error *reterr)
{
	struct pwbe *b = be;
	int r;

	b->engine = engine;
	pw_thread_loop_lock(b->loop);
	r = pwbe_filter_create(b, reterr);
	if (r < 0)
		pwbe_filter_destroy(b);
	pw_thread_loop_unlock(b->loop);
	b->started = r == 0;
	return r;
}

static int pwbe_ports_changed(void *be, struct el_error *reterr)
{
	struct pwbe *b = be;
	int r = 0;

	pw_thread_loop_lock(b->loop);
	if (b->filter) /* else the ports are made when the filter is (again) */
		r = pwbe_ports_update(b, reterr);
	if (b->filter && r == 0)
		pwbe_filter_set_latency(b);
	pw_thread_loop_unlock(b->loop);
	return r;
}

/* Says (rarely) that the graph runs cycles the engine was not built for. */
static void report_misfits(struct pwbe *b, uint64_t now)
{
	/* relaxed: counters for a log line */
	uint64_t n = atomic_load_explicit(&b->rt_misfits, memory_order_relaxed);

	if (n == b->misfits_reported || now - b->misfit_report_ms < MISFIT_REPORT_MS)
		return;
	log_warning("pipewire: the graph ran %" PRIu64 " cycles of %u frames at %u Hz, but echoeld "
		    "runs blocks of %u at %u Hz: those played silence (see [pipewire] latency)",
		    n - b->misfits_reported,
		    atomic_load_explicit(&b->rt_misfit_n, memory_order_relaxed),
		    atomic_load_explicit(&b->rt_misfit_rate, memory_order_relaxed), b->block,
		    b->rate);
	b->misfits_reported = n;
	b->misfit_report_ms = now;
}

/*
 * The graph switched rate (clock.force-rate, or a rate it follows): cycles keep coming at a rate
 * the engine was not built for. After half a second of them with no pause over two ticks (a
 * stray burst is not a switch), rebuild for it: the filter asks for the new rate from then on,
 * and a fir takes its filter for it.
 */
static bool rate_switched(struct pwbe *b, uint64_t now)
{
	/* relaxed: see struct pwbe */
	uint64_t n = atomic_load_explicit(&b->rt_misfits, memory_order_relaxed);
	uint32_t rate = atomic_load_explicit(&b->rt_misfit_rate, memory_order_relaxed);

	if (n != b->other_rate_misfits && rate && rate != b->rate) {
		b->other_rate_misfits = n;
		if (!b->other_rate_ms || now - b->other_rate_seen_ms > RATE_SWITCH_GAP_MS)
			b->other_rate_ms = now; /* a new run of them */
		b->other_rate_seen_ms = now;
	}
	if (!b->other_rate_ms || now - b->other_rate_seen_ms > RATE_SWITCH_GAP_MS ||
	    now - b->other_rate_ms < RATE_SWITCH_MS)
		return false; /* none, a glitch that stopped, or not long enough yet */
	b->switch_rate = rate;
	b->other_rate_ms = 0;
	log_notice("pipewire: the graph now runs at %u Hz: rebuilding the engine for it", rate);
	return true;
}

static enum be_state pwbe_tick(void *be)
{
	struct pwbe *b = be;
	uint64_t now = pwbe_now_ms();

	if (!b->started)
		return BE_STATE_RUNNING;
	/* relaxed: see struct pwbe */
	if (b->filter && atomic_load_explicit(&b->lost, memory_order_relaxed)) {
		pw_thread_loop_lock(b->loop);
		log_warning("pipewire: lost the server (%s); reconnecting", b->error);
		pw_thread_loop_unlock(b->loop);
		b->backoff_ms = BACKOFF_MIN_MS;
		pwbe_drop_connection(b, now);
	}
	if (!b->filter)
		return pwbe_reconnect(b, now);
	if (b->target) {
		pw_thread_loop_lock(b->loop);
		pwbe_apply_target(b);
		pw_thread_loop_unlock(b->loop);
	}
	report_misfits(b, now);
	return rate_switched(b, now) ? BE_STATE_RESTART : BE_STATE_RUNNING;
}

/* After a RESTART: the graph's rate (the one it switched to, or the server's after a
 * reconnection) and the configured block fitted into its limits. */
static int pwbe_get_format(void *be, uint32_t *ret_rate, uint32_t *ret_block,
			   struct el_error *reterr)
{
	struct pwbe *b = be;
	int r;

	pw_thread_loop_lock(b->loop);
	r = pwbe_follow_graph(b, reterr);
	if (r == 0 && b->switch_rate)
		b->rate = b->switch_rate;
	b->switch_rate = 0;
	pw_thread_loop_unlock(b->loop);
	*ret_rate = b->rate;
	*ret_block = b->block;
	return r;
}

static void pwbe_stop(void *be)
{
	struct pwbe *b = be;

	pw_thread_loop_lock(b->loop);
	pwbe_filter_destroy(b);
	pw_thread_loop_unlock(b->loop);
	b->started = false;
}

static void pwbe_destroy(void *be)
{
	pwbe_free(be);
}

static bool pwbe_is_realtime(void *be)
{
	struct pwbe *b = be;
	/* relaxed: a standalone value */
	int policy = atomic_load_explicit(&b->rt_sched, memory_order_relaxed);

	if (policy < 0)
		return false; /* not known yet */
	/* module-rt sets SCHED_RESET_ON_FORK along with the policy */
	policy &= ~SCHED_RESET_ON_FORK;
	return policy == SCHED_FIFO || policy == SCHED_RR;
}

const struct be_ops be_pipewire_ops = {
	.check_config = pipewire_check_config,
	.name = "pipewire",
	.open = pwbe_open,
	.start = pwbe_start,
	.ports_changed = pwbe_ports_changed,
	.tick = pwbe_tick,
	.stop = pwbe_stop,
	.get_format = pwbe_get_format,
	.destroy = pwbe_destroy,
	.is_realtime = pwbe_is_realtime,
};
