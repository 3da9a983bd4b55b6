/* SPDX-License-Identifier: MIT */
/*
 * daemon/backend/jack.c: the JACK2 backend — echoeld as a JACK client whose ports are the
 * graph's input and output channels, named "<client>:<node>_<channel>".
 *
 * DESIGN: the process callback (JACK's RT thread) reads one immutable port table through an
 * atomic pointer, fetches each port's buffer and runs the engine's cycle; it never allocates,
 * locks or logs. The control thread builds a new table whenever the graph's channels change,
 * publishes it, and retires the old one. A retired table is freed (and the ports only it had
 * are unregistered) once no cycle can still read it: every callback bumps a generation counter
 * when it starts (odd: inside a cycle) and when it ends (even), and a table retired while the
 * generation was g is free when g was even (no cycle ran then; later ones load the new table)
 * or the generation has moved past g (the cycle that might hold it has ended). This holds
 * whether or not the server runs us in real time: a callback preempted mid-cycle keeps its
 * table alive, however long it is held up. Everything the server tells us
 * outside the process callback (shutdown, a new buffer size or rate, an xrun) only sets atomic
 * flags or counters; tick() acts on them on the control thread: it reconnects with backoff after
 * the server went away — restoring the connections our ports had — and asks the daemon to
 * rebuild the engine when the rate or block changed.
 */
#include <errno.h>
#include <fnmatch.h>
#include <jack/jack.h>
#include <jack/metadata.h>
#include <jack/statistics.h>
#include <jack/thread.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "common/el-time.h"
#include "daemon/backend/backend.h"
#include "daemon/config/value.h"
#include "daemon/config/config.h"
#include "daemon/engine/engine.h"
#include "daemon/engine/rt-check.h"
#include "daemon/log.h"
#include "dsp/cpu.h"

#define MAX_CHANNELS   256
#define MAX_SAVED      512
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 5000

/* Ports by engine channel number (NULL: no port), and the RT thread's buffer pointers. */
struct port_table {
	struct port_table *older; /* control thread: the next older retired table */
	uint64_t retired_gen;     /* control thread: the RT generation when it was replaced */
	unsigned n_capture, n_playback;
	jack_port_t *capture_ports[MAX_CHANNELS];
	jack_port_t *playback_ports[MAX_CHANNELS];
	const float *capture[MAX_CHANNELS]; /* RT thread only */
	float *playback[MAX_CHANNELS];      /* RT thread only */
};

/* A connection of one of our ports, remembered to restore it after a server restart. */
struct saved_link {
	char ours[320];
	char theirs[320];
	bool ours_is_output;
};

struct jack_be {
	jack_client_t *client;
	struct eng_engine *engine; /* borrowed */
	char client_name[64];
	char server[64];
	char connect_rules[1024];
	uint32_t rate, block;
	bool realtime;
	bool active;       /* jack_activate()d: our ports are in the graph, with connections */
	bool cycles_moved; /* the last tick saw cycles advance: the server is alive */

	_Atomic(struct port_table *) table; /* control -> RT */
	_Atomic uint64_t rt_gen;            /* RT -> control: bumped at each callback's start and end */
	struct port_table *retired;         /* newest first: waiting for the cycles that may read them */
	pthread_mutex_t lock;               /* tables vs. the latency callback (not RT) */

	_Atomic int32_t rt_tid;   /* JACK's process thread, once it started (on_thread_init) */
	_Atomic uint32_t latency; /* frames the graph adds (look-ahead, delays): on_latency */
	_Atomic bool shutdown;    /* the server went away */
	_Atomic bool restart;  /* the server changed rate or block */
	uint64_t next_try_ms;
	unsigned backoff_ms;

	struct saved_link saved[MAX_SAVED];
	size_t n_saved;
	uint64_t last_cycles;    /* engine cycles at the last tick */
	uint64_t cycles_seen_ms; /* when they last moved */
};

/* ---- callbacks from JACK's threads ---- */

EL_RT static int rt_run(jack_nframes_t n, struct port_table *t, struct jack_be *b)
{
	if (!t)
		return 0;
	dsp_cpu_flush_denormals(); /* JACK's thread: its own MXCSR, set it every time (cheap) */
	for (unsigned c = 0; c < t->n_capture; c++)
		t->capture[c] =
			t->capture_ports[c] ? jack_port_get_buffer(t->capture_ports[c], n) : NULL;
	for (unsigned c = 0; c < t->n_playback; c++)
		t->playback[c] =
			t->playback_ports[c] ? jack_port_get_buffer(t->playback_ports[c], n) : NULL;
	if (n == b->block) {
		eng_engine_cycle(b->engine, t->capture, t->n_capture, t->playback, t->n_playback,
				 n);
		return 0;
	}
	/* A size we were not built for (the restart is on its way): play silence. */
	for (unsigned c = 0; c < t->n_playback; c++)
		if (t->playback[c])
			memset(t->playback[c], 0, n * sizeof(float));
	return 0;
}

/* JACK's process callback. The RTSan bracket (RTSan builds only) covers what we do here around
 * the engine's cycle too: fetching the port buffers is part of our RT path. */
EL_RT static int rt_process(jack_nframes_t n, void *arg)
{
	struct jack_be *b = arg;
	struct port_table *t;
	int r;

	eng_rt_enter();
	/*
	 * seq_cst, both: with the control thread's seq_cst store of a new table and load of the
	 * generation (retire_table()) this is a store-load pair on each side, so either this cycle
	 * loads the new table or the control thread sees the odd generation and waits for its end.
	 */
	atomic_fetch_add_explicit(&b->rt_gen, 1, memory_order_seq_cst);
	t = atomic_load_explicit(&b->table, memory_order_seq_cst);
	r = rt_run(n, t, b);
	/* release: every read of t above happens before the control thread, acquiring the even
	 * generation in reap_tables(), frees it */
	atomic_fetch_add_explicit(&b->rt_gen, 1, memory_order_release);
	eng_rt_exit();
	return r;
}

static int on_xrun(void *arg)
{
	struct jack_be *b = arg;

	if (b->engine)
		eng_engine_report_xrun(b->engine, jack_get_xrun_delayed_usecs(b->client));
	return 0;
}

static int on_buffer_size(jack_nframes_t n, void *arg)
{
	struct jack_be *b = arg;

	if (n != b->block)
		atomic_store_explicit(&b->restart, true, memory_order_relaxed);
	return 0;
}

static int on_sample_rate(jack_nframes_t rate, void *arg)
{
	struct jack_be *b = arg;

	if (rate != b->rate)
		atomic_store_explicit(&b->restart, true, memory_order_relaxed);
	return 0;
}

static void on_shutdown(jack_status_t code, const char *reason, void *arg)
{
	struct jack_be *b = arg;

	(void)code, (void)reason;
	atomic_store_explicit(&b->shutdown, true, memory_order_relaxed);
}

/* JACK's process thread starts (at jack_activate, so b->engine is set): name it to the engine. */
static void on_thread_init(void *arg)
{
	struct jack_be *b = arg;
	pid_t tid = gettid();

	atomic_store_explicit(&b->rt_tid, (int32_t)tid, memory_order_relaxed);
	if (b->engine)
		eng_engine_set_rt_thread(b->engine, tid);
}

/*
 * The largest latency of the ports on the other side, plus what the graph adds (a limiter's
 * look-ahead, a delay: eng_engine_get_latency; the FIR's first partition is the block, no
 * more), so that a client aligning streams (Ardour's latency compensation) sees our delay.
 */
static void on_latency(jack_latency_callback_mode_t mode, void *arg)
{
	struct jack_be *b = arg;
	jack_latency_range_t range = {0, 0}, r;
	struct port_table *t;
	bool capture = mode == JackCaptureLatency;

	uint32_t ours = atomic_load_explicit(&b->latency, memory_order_relaxed);

	pthread_mutex_lock(&b->lock);
	t = atomic_load_explicit(&b->table, memory_order_acquire);
	for (unsigned c = 0; t && c < (capture ? t->n_capture : t->n_playback); c++) {
		jack_port_t *p = capture ? t->capture_ports[c] : t->playback_ports[c];
		if (!p)
			continue;
		jack_port_get_latency_range(p, mode, &r);
		range.min = EL_MAX(range.min, r.min);
		range.max = EL_MAX(range.max, r.max);
	}
	range.min += ours;
	range.max += ours;
	for (unsigned c = 0; t && c < (capture ? t->n_playback : t->n_capture); c++) {
		jack_port_t *p = capture ? t->playback_ports[c] : t->capture_ports[c];
		if (p)
			jack_port_set_latency_range(p, mode, &range);
	}
	pthread_mutex_unlock(&b->lock);
}

/* ---- ports ---- */

/* Our existing port called short_name in table t, or NULL. */
static jack_port_t *find_port(const struct port_table *t, const char *short_name)
{
	for (unsigned c = 0; t && c < t->n_capture; c++)
		if (t->capture_ports[c] &&
		    strcmp(jack_port_short_name(t->capture_ports[c]), short_name) == 0)
			return t->capture_ports[c];
	for (unsigned c = 0; t && c < t->n_playback; c++)
		if (t->playback_ports[c] &&
		    strcmp(jack_port_short_name(t->playback_ports[c]), short_name) == 0)
			return t->playback_ports[c];
	return NULL;
}

static bool table_has(const struct port_table *t, const jack_port_t *p)
{
	for (unsigned c = 0; t && c < t->n_capture; c++)
		if (t->capture_ports[c] == p)
			return true;
	for (unsigned c = 0; t && c < t->n_playback; c++)
		if (t->playback_ports[c] == p)
			return true;
	return false;
}

static jack_port_t *port_for(struct jack_be *b, const struct port_table *old,
			     const struct eng_io_channel *io)
{
	char name[128], pretty[160];
	jack_port_t *p;

	snprintf(name, sizeof(name), "%s_%u", io->node, io->channel);
	/* A port a retired table still holds is still registered: take it back (JACK would refuse
	 * a second port of the same name). */
	p = find_port(old, name);
	for (const struct port_table *t = b->retired; !p && t; t = t->older)
		p = find_port(t, name);
	if (p && (jack_port_flags(p) & JackPortIsOutput) == (io->playback ? JackPortIsOutput : 0))
		return p;
	/* Inputs of the graph are JACK input ports: other clients' outputs feed them. */
	p = jack_port_register(b->client, name, JACK_DEFAULT_AUDIO_TYPE,
			       io->playback ? JackPortIsOutput : JackPortIsInput, 0);
	if (p) {
		snprintf(pretty, sizeof(pretty), "%s %s %u", b->client_name, io->node, io->channel);
		jack_set_property(b->client, jack_port_uuid(p), JACK_METADATA_PRETTY_NAME, pretty,
				  "text/plain");
	}
	return p;
}

/* Is port p in the current table or in a retired table still in use? */
static bool port_in_use(struct jack_be *b, const jack_port_t *p)
{
	if (table_has(atomic_load_explicit(&b->table, memory_order_relaxed), p))
		return true;
	for (const struct port_table *t = b->retired; t; t = t->older)
		if (table_has(t, p))
			return true;
	return false;
}

/* Is port p in t or a table older than it? */
static bool port_in_chain(const struct port_table *t, const jack_port_t *p)
{
	for (; t; t = t->older)
		if (table_has(t, p))
			return true;
	return false;
}

/*
 * Frees the chain of tables t (unlinked from the retired list already), unregistering each port
 * no table in use has; a port in several of them is unregistered once, with the oldest.
 */
static void free_tables(struct jack_be *b, struct port_table *t)
{
	while (t) {
		struct port_table *older = t->older;

		for (unsigned dir = 0; dir < 2; dir++)
			for (unsigned c = 0; c < (dir ? t->n_playback : t->n_capture); c++) {
				jack_port_t *p = dir ? t->playback_ports[c] : t->capture_ports[c];

				if (p && !port_in_use(b, p) && !port_in_chain(older, p))
					jack_port_unregister(b->client, p);
			}
		free(t);
		t = older;
	}
}

/* Can no cycle read a table retired at generation gen any more? */
static bool retired_done(struct jack_be *b, uint64_t gen)
{
	/* acquire: pairs with the release at the end of the callback that made it even */
	return gen % 2 == 0 || atomic_load_explicit(&b->rt_gen, memory_order_acquire) != gen;
}

/*
 * Frees the retired tables no cycle can read any more. Generations only grow, so once one table
 * is done every older one is: cut the list at the newest done table and free from there.
 */
static void reap_tables(struct jack_be *b)
{
	struct port_table **link = &b->retired, *t;

	while (*link && !retired_done(b, (*link)->retired_gen))
		link = &(*link)->older;
	t = *link;
	*link = NULL;
	free_tables(b, t);
}

/* Replaces the RT side's table with t; the old one waits in the retired list. */
static void retire_table(struct jack_be *b, struct port_table *t)
{
	struct port_table *old;

	pthread_mutex_lock(&b->lock);
	old = atomic_load_explicit(&b->table, memory_order_relaxed);
	/* seq_cst: the table is complete before the RT thread can see it (release), and this
	 * store is ordered before the load of the generation below (rt_process()) */
	atomic_store_explicit(&b->table, t, memory_order_seq_cst);
	pthread_mutex_unlock(&b->lock);
	if (!old)
		return;
	old->retired_gen = atomic_load_explicit(&b->rt_gen, memory_order_seq_cst);
	old->older = b->retired;
	b->retired = old;
}

/* What the running graph adds, for on_latency (relaxed: read under JACK's recompute). */
static void set_graph_latency(struct jack_be *b)
{
	uint64_t frames = 0;

	(void)eng_engine_get_latency(b->engine, NULL, &frames);
	atomic_store_explicit(&b->latency, (uint32_t)EL_MIN(frames, (uint64_t)UINT32_MAX),
			      memory_order_relaxed);
}

static int jack_ports_changed(void *be, struct el_error *reterr)
{
	struct jack_be *b = be;
	struct eng_io_channel io[2 * MAX_CHANNELS];
	struct port_table *t, *old;
	size_t n;

	/* The server is away: the ports are made when the client comes back (activate()). */
	if (!b->client)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	n = eng_engine_get_io(b->engine, io, EL_N_ELEMENTS(io));
	reap_tables(b);
	old = atomic_load_explicit(&b->table, memory_order_relaxed);
	for (size_t i = 0; i < n && i < EL_N_ELEMENTS(io); i++) {
		jack_port_t *p;

		if (io[i].index >= MAX_CHANNELS)
			continue;
		p = port_for(b, old, &io[i]);
		if (!p) {
			free(t);
			return el_error_set(reterr, -EIO, "cannot register port '%s_%u'",
					    io[i].node, io[i].channel);
		}
		if (io[i].playback) {
			t->playback_ports[io[i].index] = p;
			t->n_playback = EL_MAX(t->n_playback, io[i].index + 1);
		} else {
			t->capture_ports[io[i].index] = p;
			t->n_capture = EL_MAX(t->n_capture, io[i].index + 1);
		}
	}
	retire_table(b, t);
	reap_tables(b); /* at once when no cycle runs (not activated yet, or between cycles) */
	set_graph_latency(b);
	jack_recompute_total_latencies(b->client);
	return 0;
}

/* ---- connections ---- */

/* Connects every port matching src to the one matching dst, pairwise in sorted order. */
static void connect_rule(struct jack_be *b, const char *src, const char *dst)
{
	const char **all = jack_get_ports(b->client, NULL, JACK_DEFAULT_AUDIO_TYPE, 0);
	const char *from[MAX_CHANNELS], *to[MAX_CHANNELS];
	size_t nf = 0, nt = 0;

	for (size_t i = 0; all && all[i]; i++) {
		jack_port_t *p = jack_port_by_name(b->client, all[i]);
		int flags = p ? jack_port_flags(p) : 0;

		if ((flags & JackPortIsOutput) && nf < MAX_CHANNELS && fnmatch(src, all[i], 0) == 0)
			from[nf++] = all[i];
		if ((flags & JackPortIsInput) && nt < MAX_CHANNELS && fnmatch(dst, all[i], 0) == 0)
			to[nt++] = all[i];
	}
	for (size_t i = 0; i < EL_MIN(nf, nt); i++)
		jack_connect(b->client, from[i], to[i]); /* EEXIST and such: fine */
	jack_free(all);
}

/* [jack] connect = SRC > DST, SRC > DST ... (fnmatch patterns on full port names). */
static void apply_rules(struct jack_be *b)
{
	char rules[sizeof(b->connect_rules)], *save = NULL;

	snprintf(rules, sizeof(rules), "%s", b->connect_rules);
	for (char *r = strtok_r(rules, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
		char src[256], dst[256];

		if (sscanf(r, " %255[^> ] > %255s", src, dst) == 2)
			connect_rule(b, src, dst);
	}
}

/* Remembers our ports' connections, to restore them after the server comes back. */
static void save_connections(struct jack_be *b)
{
	struct port_table *t = atomic_load_explicit(&b->table, memory_order_relaxed);

	b->n_saved = 0;
	for (unsigned dir = 0; t && dir < 2; dir++)
		for (unsigned c = 0; c < (dir ? t->n_playback : t->n_capture); c++) {
			jack_port_t *p = dir ? t->playback_ports[c] : t->capture_ports[c];
			const char **links = p ? jack_port_get_all_connections(b->client, p) : NULL;

			for (size_t i = 0; links && links[i] && b->n_saved < MAX_SAVED; i++) {
				struct saved_link *s = &b->saved[b->n_saved++];
				snprintf(s->ours, sizeof(s->ours), "%s", jack_port_name(p));
				snprintf(s->theirs, sizeof(s->theirs), "%s", links[i]);
				s->ours_is_output = dir == 1;
			}
			jack_free(links);
		}
}

static void restore_connections(struct jack_be *b)
{
	for (size_t i = 0; i < b->n_saved; i++) {
		const struct saved_link *s = &b->saved[i];
		jack_connect(b->client, s->ours_is_output ? s->ours : s->theirs,
			     s->ours_is_output ? s->theirs : s->ours);
	}
}

/* ---- life cycle ---- */

static void client_close(struct jack_be *b)
{
	struct port_table *t;

	if (!b->client)
		return;
	jack_client_close(b->client); /* also deactivates: no cycle runs after this */
	b->client = NULL;
	b->active = false;
	/* Its ports died with the client, and no callback runs any more. A callback cut off
	 * mid-cycle (it cannot block, but a server may die at any instant) would leave the
	 * generation odd: make it even, so the next client's cycles keep odd meaning inside. */
	atomic_store_explicit(&b->rt_gen,
			      (atomic_load_explicit(&b->rt_gen, memory_order_relaxed) + 1) & ~1ull,
			      memory_order_relaxed);
	t = atomic_exchange_explicit(&b->table, NULL, memory_order_relaxed);
	free(t);
	while (b->retired) {
		t = b->retired;
		b->retired = t->older;
		free(t);
	}
}

static void jack_be_free(struct jack_be *b)
{
	if (!b)
		return;
	client_close(b);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

static const char *const jack_keys[] = {"client_name", "server", "connect", NULL};

static int jack_check_config(const struct conf *conf, struct el_error *reterr)
{
	return conf_check_keys(conf_find_section(conf, "jack"), jack_keys, reterr);
}

static int read_settings(struct jack_be *b, const struct conf *conf, struct el_error *reterr)
{
	const struct conf_section *sec = conf_find_section(conf, "jack");
	int r = jack_check_config(conf, reterr);

	if (r < 0)
		return r;
	snprintf(b->client_name, sizeof(b->client_name), "%s",
		 conf_get_string(sec, "client_name", "echoeld"));
	snprintf(b->server, sizeof(b->server), "%s", conf_get_string(sec, "server", ""));
	snprintf(b->connect_rules, sizeof(b->connect_rules), "%s",
		 conf_get_string(sec, "connect", ""));
	return 0;
}

/* libjack prints its own errors to stderr, from any of its threads (even the RT one); ours say
 * what matters once, so its chatter is dropped. */
static void jack_quiet(const char *msg)
{
	(void)msg;
}

/* Opens the client and sets every callback; not active yet. */
static int client_open(struct jack_be *b, struct el_error *reterr)
{
	jack_options_t opts = JackNoStartServer | (b->server[0] ? JackServerName : 0);
	jack_status_t status;

	jack_set_error_function(jack_quiet);
	jack_set_info_function(jack_quiet);
	b->client =
		jack_client_open(b->client_name, opts, &status, b->server[0] ? b->server : NULL);
	if (!b->client)
		return el_error_set(reterr, -ECONNREFUSED,
				    "no JACK server answers%s%s (status 0x%x)",
				    b->server[0] ? " as " : "", b->server, (unsigned)status);
	if (jack_set_process_callback(b->client, rt_process, b) ||
	    jack_set_xrun_callback(b->client, on_xrun, b) ||
	    jack_set_buffer_size_callback(b->client, on_buffer_size, b) ||
	    jack_set_sample_rate_callback(b->client, on_sample_rate, b) ||
	    jack_set_latency_callback(b->client, on_latency, b) ||
	    jack_set_thread_init_callback(b->client, on_thread_init, b)) {
		jack_client_close(b->client);
		b->client = NULL;
		return el_error_set(reterr, -EIO, "cannot set the JACK callbacks");
	}
	jack_on_info_shutdown(b->client, on_shutdown, b);
	return 0;
}

static int jack_open(const struct conf *conf, void **ret, uint32_t *ret_rate, uint32_t *ret_block,
		     struct el_error *reterr)
{
	struct jack_be *b = calloc(1, sizeof(*b));
	uint32_t rate, block;
	int r;

	if (!b)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	pthread_mutex_init(&b->lock, NULL);
	if ((r = read_settings(b, conf, reterr)) < 0 || (r = client_open(b, reterr)) < 0)
		goto fail;
	rate = jack_get_sample_rate(b->client);
	block = jack_get_buffer_size(b->client);
	if (!EL_IS_POW2(block) || block < 32 || block > 8192) {
		r = el_error_set(
			reterr, -EINVAL,
			"JACK runs with %u frames per period; echoeld needs a power of two "
			"from 32 to 8192",
			block);
		goto fail;
	}
	b->rate = *ret_rate = rate;
	b->block = *ret_block = block;
	*ret = b;
	return 0;
fail:
	jack_be_free(b);
	return r;
}

static int activate(struct jack_be *b, struct el_error *reterr)
{
	int r = jack_ports_changed(b, reterr);

	if (r < 0)
		return r;
	if (jack_activate(b->client))
		return el_error_set(reterr, -EIO, "cannot activate the JACK client");
	b->active = true;
	b->realtime = jack_is_realtime(b->client);
	/* Workers run one below the process thread (the daemon warns when they cannot). */
	eng_engine_set_rt_priority(b->engine,
				   b->realtime ? EL_MAX(jack_client_real_time_priority(b->client), 0)
					       : 0);
	apply_rules(b);
	/* after a server restart or a rebuild for new settings: the links we had come back */
	restore_connections(b);
	return 0;
}

static int jack_start(void *be, struct eng_engine *engine, struct el_error *reterr)
{
	struct jack_be *b = be;

	b->engine = engine;
	/* a restart at another rate keeps JACK's thread: it does not start (and name itself) again
	 */
	if (atomic_load_explicit(&b->rt_tid, memory_order_relaxed))
		eng_engine_set_rt_thread(engine,
					 atomic_load_explicit(&b->rt_tid, memory_order_relaxed));
	eng_engine_set_running(engine, true);
	eng_engine_fade_in(engine); /* the first sound after a start is not a step */
	return activate(b, reterr);
}

/* The server went away: try to come back, with backoff, as the same client. */
static enum be_state reconnect(struct jack_be *b)
{
	struct el_error err = {0};
	uint64_t now = el_now_ms();

	if (b->client) {
		log_warning("jack: the server went away; reconnecting");
		client_close(b);
		eng_engine_set_running(b->engine, false); /* switches no longer wait for cycles */
		b->backoff_ms = BACKOFF_MIN_MS;
		b->next_try_ms = now + b->backoff_ms;
	}
	if (now < b->next_try_ms)
		return BE_STATE_DISCONNECTED;
	if (client_open(b, &err) < 0) {
		b->backoff_ms = EL_MIN(b->backoff_ms * 2, (unsigned)BACKOFF_MAX_MS);
		b->next_try_ms = now + b->backoff_ms;
		return BE_STATE_DISCONNECTED;
	}
	if (jack_get_sample_rate(b->client) != b->rate ||
	    jack_get_buffer_size(b->client) != b->block)
		return BE_STATE_RESTART; /* the daemon reopens us at the new settings */
	atomic_store_explicit(&b->shutdown, false, memory_order_relaxed);
	eng_engine_set_running(b->engine, true);
	eng_engine_fade_in(b->engine); /* the first sound after a start is not a step */
	if (activate(b, &err) < 0) {
		atomic_store_explicit(&b->shutdown, true, memory_order_relaxed);
		return BE_STATE_DISCONNECTED;
	}
	b->cycles_seen_ms = 0;
	log_notice("jack: reconnected to the server, %zu connections restored", b->n_saved);
	return BE_STATE_RUNNING;
}

/*
 * libjack does not always call the shutdown callback when the server is killed (seen here with
 * jackd 1.9.21 on SIGTERM: the client only reports xruns). A JACK server never stops calling
 * process while it runs, so no cycle for STALL_MS means it is gone.
 */
#define STALL_MS 2000

static bool server_stalled(struct jack_be *b)
{
	struct eng_stats st;
	uint64_t now = el_now_ms();

	eng_engine_get_stats(b->engine, false, &st);
	b->cycles_moved = st.cycles != b->last_cycles;
	if (st.cycles != b->last_cycles || b->cycles_seen_ms == 0) {
		b->last_cycles = st.cycles;
		b->cycles_seen_ms = now;
		return false;
	}
	return now - b->cycles_seen_ms > STALL_MS;
}

static enum be_state jack_tick(void *be)
{
	struct jack_be *b = be;

	/* Callbacks also fire at registration with the current values: check it really changed. */
	if (atomic_exchange_explicit(&b->restart, false, memory_order_relaxed) && b->client &&
	    (jack_get_sample_rate(b->client) != b->rate ||
	     jack_get_buffer_size(b->client) != b->block))
		return BE_STATE_RESTART;
	if (atomic_load_explicit(&b->shutdown, memory_order_relaxed))
		return reconnect(b);
	if (server_stalled(b)) {
		atomic_store_explicit(&b->shutdown, true, memory_order_relaxed);
		return reconnect(b);
	}
	reap_tables(b);
	/* Only while cycles move: a server that died but is not yet detected answers with no
	 * connections, which would overwrite the ones to restore. */
	if (b->cycles_moved)
		save_connections(b);
	return BE_STATE_RUNNING;
}

static void jack_stop(void *be)
{
	struct jack_be *b = be;

	if (b->client && b->engine && b->active) {
		save_connections(b);
		jack_deactivate(b->client); /* drops our connections: activate() restores them */
		b->active = false;
		eng_engine_set_running(b->engine, false);
	}
}

/* The server's rate and block now, for the engine rebuilt after a change (be_ops.get_format). */
static int jack_get_format(void *be, uint32_t *ret_rate, uint32_t *ret_block,
			   struct el_error *reterr)
{
	struct jack_be *b = be;
	uint32_t rate = jack_get_sample_rate(b->client), block = jack_get_buffer_size(b->client);

	if (!EL_IS_POW2(block) || block < 32 || block > 8192)
		return el_error_set(
			reterr, -EINVAL,
			"JACK now runs with %u frames per period; echoeld needs a power "
			"of two from 32 to 8192",
			block);
	b->rate = *ret_rate = rate;
	b->block = *ret_block = block;
	return 0;
}

static void jack_destroy(void *be)
{
	jack_be_free(be);
}

static bool jack_is_rt(void *be)
{
	return ((struct jack_be *)be)->realtime;
}

const struct be_ops be_jack_ops = {
	.check_config = jack_check_config,
	.name = "jack",
	.open = jack_open,
	.start = jack_start,
	.ports_changed = jack_ports_changed,
	.tick = jack_tick,
	.stop = jack_stop,
	.get_format = jack_get_format,
	.destroy = jack_destroy,
	.is_realtime = jack_is_rt,
};
