/* SPDX-License-Identifier: MIT */
/*
 * ipc/echoelctl-print.c: echoelctl's output for people: aligned tables, values in words and dB
 * with one decimal, and the printers of status, hello, policy, node list, node get, get and
 * stats results (--json prints results as the daemon sent them, with echoelctl_print_json()).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-macros.h"
#include "ipc/echoelctl.h"

/* ---- formatting ------------------------------------------------------------------------ */

void echoelctl_print_json(const json_t *v)
{
	/* 15 digits: 0.0321 rather than 0.032099999999999997, same value for any reader */
	json_dumpf(v, stdout, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	fputc('\n', stdout);
}

void echoelctl_format_db(char *buf, size_t size, double db)
{
	if (db <= -200.0)
		snprintf(buf, size, "-inf");
	else
		snprintf(buf, size, "%.1f", db);
}

/* A JSON value in words: strings bare, numbers short, arrays as "a, b", objects compact. */
static void format_value(char *buf, size_t size, const json_t *v, bool db)
{
	size_t i, used = 0;
	const json_t *item;

	buf[0] = '\0';
	if (json_is_string(v)) {
		snprintf(buf, size, "%s", *json_string_value(v) ? json_string_value(v) : "-");
	} else if (json_is_number(v)) {
		if (db)
			echoelctl_format_db(buf, size, json_number_value(v));
		else
			snprintf(buf, size, "%g", json_number_value(v));
	} else if (json_is_boolean(v)) {
		snprintf(buf, size, "%s", json_is_true(v) ? "yes" : "no");
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			if (used + 3 >= size)
				break;
			if (i > 0)
				used += (size_t)snprintf(buf + used, size - used, ", ");
			format_value(buf + used, size - used, item, db);
			used += strlen(buf + used);
		}
		if (json_array_size(v) == 0)
			snprintf(buf, size, "-");
	} else if (json_is_object(v)) {
		char *s = json_dumps(v, JSON_COMPACT);

		snprintf(buf, size, "%s", s ? s : "?");
		free(s);
	} else {
		snprintf(buf, size, "-");
	}
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* ---- aligned tables ------------------------------------------------------------------- */

#define TABLE_MAX_COLS 8

struct table {
	int n_cols;
	const char *align; /* one 'l' or 'r' per column */
	char **cells;      /* owned, row by row */
	size_t n_cells, cap;
};

/* Appends a cell (printf-style); a cell that cannot be formatted reads "?". */
__attribute__((format(printf, 2, 3))) static void table_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (t->n_cells == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **c = realloc(t->cells, cap * sizeof(*c));

		if (!c) { /* never in practice; 1 is the one exit code for "failed" */
			fputs("echoelctl: out of memory\n", stderr);
			exit(EXIT_REFUSED);
		}
		t->cells = c;
		t->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	t->cells[t->n_cells++] = s;
}

/* Prints the table (columns two spaces apart, the last one unpadded) and frees it. */
static void table_print(struct table *t, const char *indent)
{
	size_t width[TABLE_MAX_COLS] = {0};
	int n = t->n_cols;

	for (size_t i = 0; i < t->n_cells; i++)
		if (t->cells[i])
			width[i % n] = EL_MAX(width[i % n], strlen(t->cells[i]));
	for (size_t i = 0; i < t->n_cells; i++) {
		const char *s = t->cells[i] ? t->cells[i] : "?";
		int col = (int)(i % n), w = (int)width[col];
		bool last = col == n - 1 || i + 1 == t->n_cells;

		if (col == 0)
			fputs(indent, stdout);
		if (t->align[col] == 'r')
			printf("%*s", w, s);
		else
			printf("%-*s", last ? 0 : w, s);
		fputs(last ? "\n" : "  ", stdout);
		free(t->cells[i]);
	}
	free(t->cells);
	*t = (struct table){0};
}

/* ---- result printers ----------------------------------------------------------------- */

static void show_uptime(struct table *t, double s)
{
	unsigned long v = s > 0 ? (unsigned long)s : 0;

	if (v >= 86400)
		table_cell(t, "%lud %02luh %02lum %02lus", v / 86400, v / 3600 % 24, v / 60 % 60,
			   v % 60);
	else
		table_cell(t, "%luh %02lum %02lus", v / 3600, v / 60 % 60, v % 60);
}

double echoelctl_number(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

/* One status field in words; false when the generic format will do. */
static bool show_status_field(struct table *t, const json_t *st, const char *key, const json_t *v)
{
	double rate = json_number_value(json_object_get(st, "rate"));

	if (!strcmp(key, "rate") && json_is_number(v))
		table_cell(t, "%g Hz", json_number_value(v));
	else if (!strcmp(key, "block") && json_is_number(v) && rate > 0)
		table_cell(t, "%g frames (%.1f ms)", json_number_value(v),
			   json_number_value(v) * 1000.0 / rate);
	else if ((!strcmp(key, "load") || !strcmp(key, "load_max")) && json_is_number(v))
		table_cell(t, "%.1f %%", json_number_value(v) * 100.0);
	else if (!strcmp(key, "uptime") && json_is_number(v))
		show_uptime(t, json_number_value(v));
	else if (!strcmp(key, "config") && json_is_null(v))
		table_cell(t, "(built-in default graph)");
	else if (!strcmp(key, "policy") && json_is_null(v))
		table_cell(t, "off");
	else if (!strcmp(key, "policy") && json_is_object(v))
		table_cell(t, "mode %s, thermal %s", json_string_value(json_object_get(v, "mode")),
			   json_string_value(json_object_get(v, "thermal")));
	else if (!strcmp(key, "latency") && json_is_object(v))
		table_cell(t, "%.0f frames (%.2f ms) through the graph",
			   json_number_value(json_object_get(v, "frames")),
			   json_number_value(json_object_get(v, "ms")));
	else if (!strcmp(key, "cost") && json_is_object(v))
		table_cell(t,
			   "CPU %.2f %% (RT thread %.2f %%), %.1f wake-ups/s over %.1f s; "
			   "RSS %.1f MiB, locked %.1f MiB; pool %.0f of %.0f KiB",
			   echoelctl_number(v, "cpu") * 100.0,
			   echoelctl_number(v, "rt_cpu") * 100.0,
			   echoelctl_number(v, "wakeups_per_s"), echoelctl_number(v, "window_s"),
			   echoelctl_number(v, "rss_bytes") / 1048576.0,
			   echoelctl_number(v, "locked_bytes") / 1048576.0,
			   echoelctl_number(v, "pool_used_bytes") / 1024.0,
			   echoelctl_number(v, "pool_bytes") / 1024.0);
	else if (!strcmp(key, "idle") && json_is_boolean(v))
		table_cell(t, "%s", json_is_true(v) ? "yes (the clock waits for a change)" : "no");
	else if (!strcmp(key, "cache") && json_is_object(v))
		table_cell(t, "disk %s; %.0f of %.0f lookups decoded already; %.1f MiB of samples "
			      "in RAM (%.0f, %.0f held; budget %.0f MiB), %.0f evicted",
			   json_string_value(json_object_get(v, "io")),
			   json_number_value(json_object_get(v, "hits")),
			   json_number_value(json_object_get(v, "lookups")),
			   json_number_value(json_object_get(v, "bytes")) / 1048576.0,
			   json_number_value(json_object_get(v, "samples")),
			   json_number_value(json_object_get(v, "held")),
			   json_number_value(json_object_get(v, "budget")) / 1048576.0,
			   json_number_value(json_object_get(v, "evictions")));
	else
		return false;
	return true;
}

typedef bool field_fn(struct table *t, const json_t *obj, const char *key, const json_t *v);

/* KEY VALUE lines: the keys of order first (those present), then any others the daemon sent. */
static void show_pairs(const json_t *o, const char *const *order, field_fn *field,
		       const char *indent)
{
	struct table t = {.n_cols = 2, .align = "ll"};
	const char *key;
	const json_t *v;
	char buf[1024];

	for (size_t i = 0; order && order[i]; i++) {
		if (!(v = json_object_get(o, order[i])))
			continue;
		table_cell(&t, "%s", order[i]);
		if (!field || !field(&t, o, order[i], v)) {
			format_value(buf, sizeof(buf), v, ends_with(order[i], "_db"));
			table_cell(&t, "%s", buf);
		}
	}
	json_object_foreach((json_t *)o, key, v)
	{
		size_t i = 0;

		while (order && order[i] && strcmp(order[i], key))
			i++;
		if (order && order[i])
			continue;
		table_cell(&t, "%s", key);
		if (!field || !field(&t, o, key, v)) {
			format_value(buf, sizeof(buf), v, ends_with(key, "_db"));
			table_cell(&t, "%s", buf);
		}
	}
	table_print(&t, indent);
}

void echoelctl_show_status(const struct cli *cli, char **a, json_t *result)
{
	static const char *const order[] = {
		"backend",     "rate",  "block",  "load",   "load_max", "cycles",
		"late_cycles", "xruns", "uptime", "nodes",  "workers",  "latency",
		"idle",        "cost",  "config", "policy", "cache",    NULL,
	};

	(void)cli, (void)a;
	show_pairs(result, order, show_status_field, "");
}

void echoelctl_show_hello(const struct cli *cli, char **a, json_t *result)
{
	static const char *const order[] = {"protocol", "version", "commands", NULL};

	(void)cli, (void)a;
	show_pairs(result, order, NULL, "");
}

/* "low (below-low, pinned)": a state with why it holds. */
static void policy_state(struct table *t, const json_t *p, const char *key)
{
	char reason[64], pinned[64];

	snprintf(reason, sizeof(reason), "%s_reason", key);
	snprintf(pinned, sizeof(pinned), "%s_pinned", key);
	table_cell(t, "%s (%s%s)", json_string_value(json_object_get(p, key)),
		   json_string_value(json_object_get(p, reason)),
		   json_is_true(json_object_get(p, pinned)) ? ", pinned" : "");
}

/* `policy`: the decision, why, what it scales, and every file read with its value. */
void echoelctl_show_policy(const struct cli *cli, char **a, json_t *result)
{
	const json_t *act = json_object_get(result, "actions"), *in;
	struct table t = {.n_cols = 2, .align = "ll"}, files = {.n_cols = 2, .align = "ll"};
	char fir[16];
	size_t i;

	(void)cli, (void)a;
	if (!json_is_object(result)) {
		puts("the power and heat policy is off ([policy] enabled = no)");
		return;
	}
	table_cell(&t, "mode");
	policy_state(&t, result, "mode");
	table_cell(&t, "thermal");
	policy_state(&t, result, "thermal");
	table_cell(&t, "battery");
	if (json_integer_value(json_object_get(result, "capacity")) >= 0)
		table_cell(&t, "%d %%",
			   (int)json_integer_value(json_object_get(result, "capacity")));
	else
		table_cell(&t, "none");
	table_cell(&t, "profile");
	table_cell(&t, "%s", json_string_value(json_object_get(result, "profile")));
	if (json_real_value(json_object_get(result, "zone_temp_c")) != 0.0) {
		table_cell(&t, "hottest zone");
		table_cell(&t, "%s at %.1f °C", json_string_value(json_object_get(result, "zone")),
			   json_real_value(json_object_get(result, "zone_temp_c")));
	}
	table_cell(&t, "reads");
	table_cell(&t, "%s, %s every %d ms",
		   json_string_value(json_object_get(result, "sysfs_root")),
		   json_is_true(json_object_get(result, "uevents")) ? "uevents and polling"
								    : "polling",
		   (int)json_integer_value(json_object_get(result, "poll_ms")));
	table_cell(&t, "scales");
	snprintf(fir, sizeof(fir), "%d dB",
		 (int)json_integer_value(json_object_get(act, "fir_tail_db")));
	table_cell(&t,
		   "%d worker threads, FIR tail %s, meters %d/s, quality %s, background %s, "
		   "IR preparation %s",
		   (int)json_integer_value(json_object_get(act, "workers")),
		   json_integer_value(json_object_get(act, "fir_tail_db")) ? fir : "full",
		   (int)json_integer_value(json_object_get(act, "meter_hz")),
		   json_string_value(json_object_get(act, "quality")),
		   json_string_value(json_object_get(act, "background")),
		   json_is_string(json_object_get(act, "ir_preparation"))
			   ? json_string_value(json_object_get(act, "ir_preparation"))
			   : "?");
	table_print(&t, "");
	json_array_foreach(json_object_get(result, "inputs"), i, in)
	{
		const json_t *err = json_object_get(in, "error");

		table_cell(&files, "%s", json_string_value(json_object_get(in, "file")));
		table_cell(&files, err ? "(%s)" : "%s",
			   json_string_value(err ? err : json_object_get(in, "value")));
	}
	if (i > 0) {
		puts("files read:");
		table_print(&files, "  ");
	}
}

/* A column of a list: its header, the key in each row, right-aligned or not, the format. */
struct column {
	const char *header, *key;
	char align; /* 'l' or 'r' */
	char kind;  /* 'w' words (format_value), 'u' microseconds, 'v' a param value (dB by unit) */
};

/* One row per element of rows (an array of objects). */
static void show_rows(const json_t *rows, const struct column *cols, int n, const char *indent)
{
	char align[TABLE_MAX_COLS + 1] = "", buf[1024];
	struct table t = {.n_cols = n, .align = align};
	const json_t *row;
	size_t i;

	for (int k = 0; k < n; k++) {
		align[k] = cols[k].align;
		table_cell(&t, "%s", cols[k].header);
	}
	json_array_foreach(rows, i, row)
	{
		const char *unit = json_string_value(json_object_get(row, "unit"));

		for (int k = 0; k < n; k++) {
			const json_t *v = json_object_get(row, cols[k].key);

			if (cols[k].kind == 'u') {
				table_cell(&t, "%.1f us", json_number_value(v));
				continue;
			}
			format_value(buf, sizeof(buf), v,
				     cols[k].kind == 'v' && unit && !strcmp(unit, "dB"));
			table_cell(&t, "%s", buf);
		}
	}
	table_print(&t, indent);
}

void echoelctl_show_node_list(const struct cli *cli, char **a, json_t *result)
{
	static const struct column cols[] = {
		{"NAME", "name", 'l', 'w'},      {"TYPE", "type", 'l', 'w'},
		{"IN", "channels_in", 'r', 'w'}, {"OUT", "channels_out", 'r', 'w'},
		{"INPUT", "input", 'l', 'w'},
	};

	(void)cli, (void)a;
	show_rows(result, cols, EL_N_ELEMENTS(cols), "");
}

void echoelctl_show_stats(const struct cli *cli, char **a, json_t *result)
{
	static const struct column cols[] = {
		{"NAME", "name", 'l', 'w'},  {"TYPE", "type", 'l', 'w'},
		{"RUNS", "runs", 'r', 'w'},  {"SKIPS", "skips", 'r', 'w'},
		{"AVG", "avg_us", 'r', 'u'},
	};

	(void)cli, (void)a;
	show_rows(result, cols, EL_N_ELEMENTS(cols), "");
}

/* node get's fields in words where the generic format would not do. */
static bool show_node_field(struct table *t, const json_t *o, const char *key, const json_t *v)
{
	(void)o;
	if (strcmp(key, "latency") || !json_is_object(v))
		return false;
	table_cell(t, "%.0f frames (%.2f ms) from the sources to here",
		   json_number_value(json_object_get(v, "frames")),
		   json_number_value(json_object_get(v, "ms")));
	return true;
}

void echoelctl_show_node_get(const struct cli *cli, char **a, json_t *result)
{
	static const char *const order[] = {"name", "type", "input", NULL};
	const json_t *settings = json_object_get(result, "settings");
	const json_t *params = json_object_get(result, "params");
	const json_t *stats = json_object_get(result, "stats");
	json_t *head = json_deep_copy(result);

	(void)cli, (void)a;
	if (!head)
		return;
	json_object_del(head, "settings");
	json_object_del(head, "params");
	json_object_del(head, "stats");
	show_pairs(head, order, show_node_field, "");
	json_decref(head);
	if (json_object_size(settings) > 0) {
		puts("settings:");
		show_pairs(settings, NULL, NULL, "  ");
	}
	if (json_array_size(params) > 0) {
		static const struct column cols[] = {
			{"PARAM", "name", 'l', 'w'},   {"UNIT", "unit", 'l', 'w'},
			{"MIN", "min", 'r', 'w'},      {"MAX", "max", 'r', 'w'},
			{"SET", "settable", 'l', 'w'}, {"VALUE", "value", 'l', 'v'},
		};

		puts("params:");
		show_rows(params, cols, EL_N_ELEMENTS(cols), "  ");
	}
	if (json_is_object(stats))
		printf("stats: %.0f runs, %.0f skips, %.1f us average\n",
		       json_number_value(json_object_get(stats, "runs")),
		       json_number_value(json_object_get(stats, "skips")),
		       json_number_value(json_object_get(stats, "avg_us")));
}

void echoelctl_show_get(const struct cli *cli, char **a, json_t *result)
{
	const json_t *v = json_object_get(result, "value"), *item;
	const char *dot = strchr(a[0], '.');
	bool db = dot && ends_with(dot, "_db");
	char buf[64];
	size_t i;

	(void)cli;
	if (!json_is_array(v)) {
		format_value(buf, sizeof(buf), v, db);
		puts(buf);
		return;
	}
	json_array_foreach(v, i, item)
	{
		format_value(buf, sizeof(buf), item, db);
		printf("%zu  %s\n", i + 1, buf);
	}
}
