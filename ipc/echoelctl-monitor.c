/* SPDX-License-Identifier: MIT */
/*
 * ipc/echoelctl-monitor.c: `echoelctl monitor`, the live view of meter and load events and of
 * the load of each node: on a terminal a table redrawn in place (bars from -60 to 0 dB, the
 * peak hold, a load header, then a row per node, as pw-top shows them), otherwise plain lines,
 * or each event as received with --json.
 *
 * The per-node rows come from a `stats` call made with each load event (the daemon has no
 * per-node event): the node's mean time per run, scaled by the share of the cycles since the
 * last refresh in which it ran rather than skipped over silence, is its time per cycle; that
 * over the period (block / rate, from `status`) is its share of the period.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/el-macros.h"
#include "ipc/echoelctl.h"

/* The one right use of volatile: a flag a signal handler sets (C11 7.14.1.1). */
static volatile sig_atomic_t monitor_stop;

static void on_stop_signal(int sig)
{
	(void)sig;
	monitor_stop = 1;
}

struct monitor {
	json_t *meters;   /* owned: the last meters event, or NULL */
	json_t *load;     /* owned: the last load event, or NULL */
	json_t *nodes;    /* owned: name -> the node's `stats` entry plus what node_row() adds */
	double period_us; /* one cycle: block / rate */
	long rate;
};

#define BAR_WIDTH 24      /* characters of a meter bar */
#define BAR_FLOOR (-60.0) /* dB at the bar's left end */

static void format_bar(char *buf, double db)
{
	double f = (db - BAR_FLOOR) / -BAR_FLOOR;
	int n = f <= 0.0 ? 0 : f >= 1.0 ? BAR_WIDTH : (int)lround(f * BAR_WIDTH);

	memset(buf, '#', (size_t)n);
	memset(buf + n, '.', (size_t)(BAR_WIDTH - n));
	buf[BAR_WIDTH] = '\0';
}

static double channel_db(const json_t *meter, const char *key, size_t ch)
{
	const json_t *v = json_array_get(json_object_get(meter, key), ch);

	return json_is_number(v) ? json_number_value(v) : -200.0;
}

static void monitor_draw_header(const struct monitor *m)
{
	const json_t *l = m->load;

	fputs("\033[H", stdout);
	if (l)
		printf("echoeld  load %5.1f %%  max %5.1f %%  late cycles %.0f  xruns %.0f"
		       "  cycles %.0f",
		       json_number_value(json_object_get(l, "load")) * 100.0,
		       json_number_value(json_object_get(l, "load_max")) * 100.0,
		       json_number_value(json_object_get(l, "late_cycles")),
		       json_number_value(json_object_get(l, "xruns")),
		       json_number_value(json_object_get(l, "cycles")));
	else
		fputs("echoeld  load -", stdout);
	const json_t *c = json_object_get(l, "cost");

	if (json_is_object(c))
		printf("\033[K\nCPU %.2f %% (RT %.2f %%)  wake-ups %.0f/s  RSS %.1f MiB  locked "
		       "%.1f MiB  pool %.0f/%.0f KiB  cache %.1f MiB",
		       echoelctl_number(c, "cpu") * 100.0, echoelctl_number(c, "rt_cpu") * 100.0,
		       echoelctl_number(c, "wakeups_per_s"),
		       echoelctl_number(c, "rss_bytes") / 1048576.0,
		       echoelctl_number(c, "locked_bytes") / 1048576.0,
		       echoelctl_number(c, "pool_used_bytes") / 1024.0,
		       echoelctl_number(c, "pool_bytes") / 1024.0,
		       echoelctl_number(c, "cache_bytes") / 1048576.0);
	printf("\033[K\n(%ld Hz, Ctrl-C quits)\033[K\n\033[K\n", m->rate);
}

static const char *type_of(const json_t *node)
{
	const char *t = json_string_value(json_object_get(node, "type"));

	return t ? t : "?";
}

/*
 * The share of cycles a node ran rather than skipped (its input silent): since the last
 * refresh, else since it was created (counts that went back mean a new instance under the same
 * name; counts that did not move, a clock stopped while the graph is silent).
 */
static double running_share(const json_t *now, const json_t *before)
{
	double runs = echoelctl_number(now, "runs"), skips = echoelctl_number(now, "skips");

	if (before) {
		double dr = runs - echoelctl_number(before, "runs"),
		       ds = skips - echoelctl_number(before, "skips");

		if (dr >= 0 && ds >= 0 && dr + ds > 0)
			runs = dr, skips = ds;
	}
	return runs + skips > 0 ? runs / (runs + skips) : 0.0;
}

/* A `stats` entry (borrowed) with "running", "cycle_us" and "period" (shares, 0..1) added. */
static json_t *node_row(const struct monitor *m, const json_t *st, const json_t *before)
{
	double running = running_share(st, before);
	double cycle_us = echoelctl_number(st, "avg_us") * running;
	json_t *row = json_copy((json_t *)st);

	if (row) {
		json_object_set_new(row, "running", json_real(running));
		json_object_set_new(row, "cycle_us", json_real(cycle_us));
		json_object_set_new(row, "period",
				    json_real(m->period_us > 0 ? cycle_us / m->period_us : 0.0));
	}
	return row;
}

/* Asks for `stats` and makes m->nodes of it. EXIT_OK, or the exit code after a message. */
static int monitor_refresh_nodes(struct monitor *m, const struct cli *cli)
{
	json_t *stats = NULL, *nodes = json_object(), *st;
	size_t i;
	int r = echoelctl_call(cli, "stats", NULL, &stats);

	json_array_foreach(r == EXIT_OK ? stats : NULL, i, st)
	{
		const char *name = json_string_value(json_object_get(st, "name"));

		if (name && nodes)
			json_object_set_new(nodes, name,
					    node_row(m, st, json_object_get(m->nodes, name)));
	}
	json_decref(stats);
	if (r != EXIT_OK) {
		json_decref(nodes);
		return r;
	}
	json_decref(m->nodes);
	m->nodes = nodes;
	return EXIT_OK;
}

/* The per-node rows below the meters, in plan order (the order of `stats`). */
static void monitor_draw_nodes(const struct monitor *m)
{
	const json_t *n;
	const char *name;
	int w = 4, tw = 4;

	json_object_foreach(m->nodes, name, n)
	{
		w = EL_MAX(w, (int)strlen(name));
		tw = EL_MAX(tw, (int)strlen(type_of(n)));
	}
	printf("\033[K\n%-*s  %-*s  %10s  %10s  %8s  %7s\033[K\n", w, "NODE", tw, "TYPE", "PER RUN",
	       "PER CYCLE", "PERIOD", "RUNNING");
	json_object_foreach(m->nodes, name, n) printf(
		"%-*s  %-*s  %7.1f us  %7.1f us  %6.2f %%  %5.0f %%\033[K\n", w, name, tw,
		type_of(n), echoelctl_number(n, "avg_us"), echoelctl_number(n, "cycle_us"),
		echoelctl_number(n, "period") * 100.0, echoelctl_number(n, "running") * 100.0);
}

/* One plain line per node, after each load line. */
static void monitor_node_lines(const struct monitor *m)
{
	const json_t *n;
	const char *name;

	json_object_foreach(m->nodes, name, n) printf(
		"node %s type=%s run_us=%.1f cycle_us=%.1f period=%.2f%% running=%.0f%%\n", name,
		type_of(n), echoelctl_number(n, "avg_us"), echoelctl_number(n, "cycle_us"),
		echoelctl_number(n, "period") * 100.0, echoelctl_number(n, "running") * 100.0);
}

/* The in-place table for a terminal: header, one row per meter and channel, one per node. */
static void monitor_draw(const struct monitor *m)
{
	const json_t *nodes = json_object_get(m->meters, "nodes"), *meter;
	const char *name;
	int w = 4;

	monitor_draw_header(m);
	json_object_foreach((json_t *)nodes, name, meter)
	{
		w = EL_MAX(w, (int)strlen(name));
	}
	printf("%-*s  CH  %-*s  %6s  %-*s  %6s  %6s\033[K\n", w, "NODE", BAR_WIDTH, "PEAK", "dB",
	       BAR_WIDTH, "RMS", "dB", "HOLD");
	json_object_foreach((json_t *)nodes, name, meter)
	{
		size_t n = json_array_size(json_object_get(meter, "peak_db"));

		for (size_t ch = 0; ch < n; ch++) {
			double peak = channel_db(meter, "peak_db", ch);
			double rms = channel_db(meter, "rms_db", ch);
			char pb[BAR_WIDTH + 1], rb[BAR_WIDTH + 1], pd[16], rd[16], hd[16];

			format_bar(pb, peak), format_bar(rb, rms);
			echoelctl_format_db(pd, sizeof(pd), peak),
				echoelctl_format_db(rd, sizeof(rd), rms);
			echoelctl_format_db(hd, sizeof(hd), channel_db(meter, "hold_db", ch));
			printf("%-*s  %2zu  %s  %6s  %s  %6s  %6s\033[K\n", w, name, ch + 1, pb, pd,
			       rb, rd, hd);
		}
	}
	monitor_draw_nodes(m);
	fputs("\033[J", stdout);
}

/* One plain line per event, for pipes and logs. */
static void monitor_line(const json_t *ev, const char *name)
{
	const json_t *nodes = json_object_get(ev, "nodes"), *meter;
	const char *node;
	char p[16], r[16], h[16];

	if (!strcmp(name, "load")) {
		const json_t *c = json_object_get(ev, "cost");

		printf("load time=%.3f load=%.1f%% max=%.1f%% cycles=%.0f late=%.0f xruns=%.0f",
		       echoelctl_number(ev, "time"), echoelctl_number(ev, "load") * 100.0,
		       echoelctl_number(ev, "load_max") * 100.0, echoelctl_number(ev, "cycles"),
		       echoelctl_number(ev, "late_cycles"), echoelctl_number(ev, "xruns"));
		if (json_is_object(c))
			printf(" cpu=%.2f%% rt_cpu=%.2f%% wakeups=%.1f/s rss=%.0f locked=%.0f "
			       "pool_used=%.0f cache=%.0f",
			       echoelctl_number(c, "cpu") * 100.0,
			       echoelctl_number(c, "rt_cpu") * 100.0,
			       echoelctl_number(c, "wakeups_per_s"),
			       echoelctl_number(c, "rss_bytes"),
			       echoelctl_number(c, "locked_bytes"),
			       echoelctl_number(c, "pool_used_bytes"),
			       echoelctl_number(c, "cache_bytes"));
		putchar('\n');
		return;
	}
	if (strcmp(name, "meters") || !json_is_object(nodes)) {
		echoelctl_print_json(ev);
		return;
	}
	printf("meters time=%.3f", json_number_value(json_object_get(ev, "time")));
	json_object_foreach((json_t *)nodes, node, meter)
	{
		size_t n = json_array_size(json_object_get(meter, "peak_db"));

		for (size_t ch = 0; ch < n; ch++) {
			echoelctl_format_db(p, sizeof(p), channel_db(meter, "peak_db", ch));
			echoelctl_format_db(r, sizeof(r), channel_db(meter, "rms_db", ch));
			echoelctl_format_db(h, sizeof(h), channel_db(meter, "hold_db", ch));
			printf(" %s:%zu peak=%s rms=%s hold=%s", node, ch + 1, p, r, h);
		}
	}
	putchar('\n');
}

/* Shows one event (stolen) as the output wants it. EXIT_OK, or the exit code of a failed
 * `stats` call (after its message). */
static int monitor_show(struct monitor *m, const struct cli *cli, bool tty, json_t *ev)
{
	const char *name = json_string_value(json_object_get(ev, "event"));
	bool load = !strcmp(name, "load");
	int r;

	if (load && !cli->json && (r = monitor_refresh_nodes(m, cli)) != EXIT_OK) {
		json_decref(ev);
		return r;
	}
	if (cli->json) {
		echoelctl_print_json(ev);
	} else if (!tty) {
		monitor_line(ev, name);
		if (load)
			monitor_node_lines(m);
	} else if (!strcmp(name, "meters") || load) {
		json_t **slot = load ? &m->load : &m->meters;

		json_decref(*slot);
		*slot = el_steal_ptr(ev);
		monitor_draw(m);
	}
	json_decref(ev);
	fflush(stdout);
	return EXIT_OK;
}

/* Is ev (stolen) the daemon's `stopping`? Then it says so, as --json prints it too. */
static bool monitor_is_stop(const struct cli *cli, json_t *ev)
{
	const char *name = json_string_value(json_object_get(ev, "event"));
	bool stop = name && !strcmp(name, "stopping");

	if (stop) {
		if (cli->json)
			echoelctl_print_json(ev);
		fflush(stdout);
		echoelctl_note_stopped();
		json_decref(ev);
	}
	return stop;
}

/* The length of a cycle in microseconds, from `status` (for the nodes' share of it). */
static int monitor_get_period(struct monitor *m, const struct cli *cli)
{
	json_t *st = NULL;
	int r = echoelctl_call(cli, "status", NULL, &st);

	if (r == EXIT_OK && echoelctl_number(st, "rate") > 0)
		m->period_us = echoelctl_number(st, "block") / echoelctl_number(st, "rate") * 1e6;
	json_decref(st);
	return r;
}

int echoelctl_run_monitor(struct cli *cli, const struct command *cmd)
{
	struct sigaction sa = {.sa_handler = on_stop_signal}; /* no SA_RESTART: wake poll(2) */
	struct monitor m = {.rate = cli->opts & OPT_RATE ? cli->rate : 10};
	bool tty = !cli->json && isatty(STDOUT_FILENO);
	long seen = 0;
	json_t *ev;
	int r;

	(void)cmd;
	if (!cli->json && (r = monitor_get_period(&m, cli)) != EXIT_OK)
		return r;
	/* stopping: a daemon that stops normally is the end of the view, not a failure */
	r = echoelctl_call(cli, "subscribe",
			   json_pack("{s:[s,s,s], s:i}", "events", "meters", "load", "stopping",
				     "rate", (int)m.rate),
			   NULL);
	if (r != EXIT_OK)
		return r;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (tty)
		fputs("\033[?25l\033[H\033[2J", stdout); /* hide the cursor, clear */
	while (!monitor_stop && (!(cli->opts & OPT_COUNT) || seen < cli->count)) {
		/* Short waits, so a signal is seen within a quarter second. */
		r = echoelctl_next_event(250, &ev);
		if (r == -ETIMEDOUT)
			continue;
		if (r < 0)
			break;
		if (monitor_is_stop(cli, ev))
			break;
		seen++;
		if ((r = monitor_show(&m, cli, tty, ev)) != EXIT_OK)
			break;
	}
	if (tty)
		fputs("\033[?25h", stdout); /* the cursor back */
	fflush(stdout);
	json_decref(m.meters);
	json_decref(m.load);
	json_decref(m.nodes);
	if (r < 0 && r != -ETIMEDOUT)
		r = echoelctl_connection_failed(r);
	/* r > 0: an exit code from a stats call, its message said (the daemon may have stopped
	 * while it was asked) */
	return r > 0 && !echoelctl_daemon_stopped() ? r : EXIT_OK;
}
