/* SPDX-License-Identifier: MIT */
/*
 * ipc/echoelctl.c: echoelctl, the command-line client of echoeld (docs/protocol.md).
 *
 * DESIGN
 * The command line is read once into a struct cli: global options, the subcommand's options
 * and its words (a number such as -6 is a word, not an option). A table maps the words to a
 * protocol command, a builder of its arguments and a printer of its result, so `batch` reuses
 * the same builders for its lines. Human output is aligned tables and dB with one decimal;
 * --json prints the result as the daemon sent it, on one line, for scripts. Exit codes: 0 ok,
 * 1 the daemon refused, 2 usage, 3 cannot connect (or the connection failed).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "ipc/client.h"
#include "ipc/socket-path.h"

#ifndef ECHOELCTL_VERSION
#define ECHOELCTL_VERSION "unknown"
#endif

enum exit_code { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_CONNECT = 3 };

/* Options of subcommands (bits of cli.opts). */
enum { OPT_INPUT = 1u << 0, OPT_FORCE = 1u << 1, OPT_RATE = 1u << 2, OPT_COUNT = 1u << 3 };

#define MAX_WORDS 64  /* words of one command line (or batch line) */
#define BATCH_MAX 256 /* commands in one batch (docs/protocol.md) */

struct cli {
	const char *socket; /* --socket, else $ECHOELD_SOCKET, else NULL: the default */
	int timeout_ms;     /* -1: no limit */
	bool json, help, version;
	unsigned opts; /* subcommand options given */
	const char *input;
	long rate, count;
	int n_words;
	char *words[MAX_WORDS + 1]; /* borrowed from argv (or a batch line); NULL-terminated */
};

struct command;
typedef int build_fn(const struct cli *cli, char **a, json_t **ret_args, struct el_error *e);
typedef void show_fn(const struct cli *cli, char **a, json_t *result);
typedef int run_fn(struct cli *cli, const struct command *cmd);

struct command {
	const char *word1, *word2; /* "node", "list"; word2 NULL for one word */
	const char *usage;         /* what follows the words */
	int min, max;              /* words after the command's own */
	unsigned opts;             /* subcommand options it takes */
	bool batch;                /* may be a line of `batch` */
	const char *proto;         /* the protocol command */
	build_fn *build;           /* NULL: no arguments */
	show_fn *show;             /* NULL: prints nothing (--json still prints the result) */
	run_fn *run;               /* NULL: build, call, show */
};

/* The connection to the daemon and where it is, for messages. */
struct ctl {
	struct echoel_client *client;
	char path[IPC_SOCKET_PATH_MAX + 64];
};

static struct ctl ctl;

/* ---- small helpers ---------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: echoelctl [--socket PATH] [--json] [--timeout MS] COMMAND [ARGS...]\n"
	      "commands:\n"
	      "  status | hello | stats | policy | reload\n"
	      "  node list | node get NAME | node rm NAME [--force]\n"
	      "  node add NAME TYPE [--input REF[,REF...]] [KEY=VALUE...]\n"
	      "  connect FROM TO | disconnect FROM TO\n"
	      "  set NODE.PARAM VALUE | get NODE.PARAM [CHANNEL]\n"
	      "  load FILE | batch [FILE|-] | monitor [--rate HZ] [--count N]\n"
	      "  --help | --version\n",
	      f);
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("echoelctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	return EXIT_USAGE;
}

/* A whole decimal integer in [min, max]. */
static int parse_long(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* A finite number, or on/off, true/false, yes/no as 1/0. */
static int parse_value(const char *s, double *ret)
{
	static const char *const words[] = {"off", "on", "false", "true", "no", "yes"};
	char *end;
	double v;

	for (size_t i = 0; i < EL_N_ELEMENTS(words); i++)
		if (strcasecmp(s, words[i]) == 0) {
			*ret = (double)(i % 2);
			return 0;
		}
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v))
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Does s read as a number (so "-6" is a word, not an option)? */
static bool is_number(const char *s)
{
	double v;

	return parse_value(s, &v) == 0 && s[0] == '-';
}

static bool is_utf8(const char *s)
{
	json_t *j = json_string(s); /* jansson checks UTF-8 and nothing else here */

	json_decref(j);
	return j != NULL;
}

static void print_json(const json_t *v)
{
	/* 15 digits: 0.0321 rather than 0.032099999999999997, same value for any reader */
	json_dumpf(v, stdout, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	fputc('\n', stdout);
}

/* dB with one decimal; silence (the meters' -200) as -inf. */
static void format_db(char *buf, size_t size, double db)
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
			format_db(buf, size, json_number_value(v));
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

/* ---- talking to the daemon ------------------------------------------------------------ */

static int ctl_connect(const struct cli *cli)
{
	int r;

	if (ctl.client)
		return EXIT_OK;
	if (cli->socket)
		snprintf(ctl.path, sizeof(ctl.path), "%s", cli->socket);
	else if (ipc_socket_path_default(ctl.path, sizeof(ctl.path)) < 0)
		snprintf(ctl.path, sizeof(ctl.path), "%s/echoeld/control",
			 getenv("XDG_RUNTIME_DIR") ? getenv("XDG_RUNTIME_DIR") : "");
	r = echoel_client_connect(cli->socket, &ctl.client);
	if (r < 0) {
		fprintf(stderr, "echoelctl: cannot connect to '%s': %s\n", ctl.path, strerror(-r));
		return EXIT_CONNECT;
	}
	return EXIT_OK;
}

/* One request: EXIT_OK with *ret (owned; NULL to drop it), or the exit code after a message. */
static int ctl_call(const struct cli *cli, const char *cmd, json_t *args, json_t **ret)
{
	struct ipc_error err = {0};
	int r;

	if ((r = ctl_connect(cli)) != EXIT_OK) {
		json_decref(args);
		return r;
	}
	r = echoel_client_call(ctl.client, cmd, args, cli->timeout_ms, ret, &err);
	if (r == -EREMOTEIO) {
		fprintf(stderr, "echoelctl: %s: %s\n", ipc_error_code_name(err.code), err.message);
		return EXIT_REFUSED;
	}
	if (r == -ETIMEDOUT) {
		fprintf(stderr, "echoelctl: '%s': no answer within %d ms\n", ctl.path,
			cli->timeout_ms);
		return EXIT_CONNECT;
	}
	if (r < 0) {
		fprintf(stderr, "echoelctl: '%s': %s\n", ctl.path,
			r == -EPROTO ? "not an echoeld control socket" : strerror(-r));
		return EXIT_CONNECT;
	}
	return EXIT_OK;
}

/* ---- argument builders (shared with batch) --------------------------------------------- */

/* "NODE.PARAM" into {"node":…, "param":…}. Node names hold no '.', so the first one splits. */
static int build_node_param(const char *s, json_t **ret, struct el_error *e)
{
	const char *dot = strchr(s, '.');

	if (!dot || dot == s || !dot[1])
		return el_error_set(e, -EINVAL, "expected NODE.PARAM, got '%s'", s);
	*ret = json_pack("{s:s%, s:s}", "node", s, (size_t)(dot - s), "param", dot + 1);
	return *ret ? 0 : el_error_set(e, -ENOMEM, "out of memory");
}

static int build_node(const struct cli *cli, char **a, json_t **ret, struct el_error *e)
{
	(void)cli;
	*ret = json_pack("{s:s}", "node", a[0]);
	return *ret ? 0 : el_error_set(e, -ENOMEM, "out of memory");
}

static int build_from_to(const struct cli *cli, char **a, json_t **ret, struct el_error *e)
{
	(void)cli;
	*ret = json_pack("{s:s, s:s}", "from", a[0], "to", a[1]);
	return *ret ? 0 : el_error_set(e, -ENOMEM, "out of memory");
}

static int build_node_rm(const struct cli *cli, char **a, json_t **ret, struct el_error *e)
{
	*ret = cli->opts & OPT_FORCE ? json_pack("{s:s, s:b}", "node", a[0], "force", 1)
				     : json_pack("{s:s}", "node", a[0]);
	return *ret ? 0 : el_error_set(e, -ENOMEM, "out of memory");
}

/* "a, b:1" into ["a", "b:1"]. */
static int build_inputs(const char *list, json_t *refs, struct el_error *e)
{
	const char *p = list;

	for (;;) {
		size_t skip = strspn(p, " \t"), n = strcspn(p + skip, ",");
		size_t len = n;

		while (len > 0 && strchr(" \t", p[skip + len - 1]))
			len--;
		if (len == 0)
			return el_error_set(e, -EINVAL, "--input: empty reference in '%s'", list);
		json_array_append_new(refs, json_stringn(p + skip, len));
		p += skip + n;
		if (*p == '\0')
			return 0;
		p++;
	}
}

static int build_node_add(const struct cli *cli, char **a, json_t **ret, struct el_error *e)
{
	json_t *args = json_pack("{s:s, s:s}", "node", a[0], "type", a[1]);
	json_t *refs = json_array(), *settings = json_object();
	int r = args && refs && settings ? 0 : el_error_set(e, -ENOMEM, "out of memory");

	if (r == 0 && cli->opts & OPT_INPUT && (r = build_inputs(cli->input, refs, e)) == 0)
		json_object_set(args, "input", refs);
	for (int i = 2; r == 0 && a[i]; i++) {
		const char *eq = strchr(a[i], '=');
		char key[128];

		if (!eq || eq == a[i] || (size_t)(eq - a[i]) >= sizeof(key)) {
			r = el_error_set(e, -EINVAL, "expected KEY=VALUE, got '%s'", a[i]);
			break;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - a[i]), a[i]);
		if (json_object_get(settings, key))
			r = el_error_set(e, -EINVAL, "key '%s' given twice", key);
		else /* values go as strings: the daemon reads them as it reads the config file */
			json_object_set_new(settings, key, json_string(eq + 1));
	}
	if (r == 0 && json_object_size(settings) > 0)
		json_object_set(args, "settings", settings);
	json_decref(refs);
	json_decref(settings);
	if (r < 0)
		json_decref(args);
	else
		*ret = args;
	return r;
}

static int build_set(const struct cli *cli, char **a, json_t **ret, struct el_error *e)
{
	double v;
	int r;

	(void)cli;
	if (parse_value(a[1], &v) < 0)
		return el_error_set(e, -EINVAL, "set: '%s' is not a number (nor on/off)", a[1]);
	if ((r = build_node_param(a[0], ret, e)) < 0)
		return r;
	json_object_set_new(*ret, "value", json_real(v));
	return 0;
}

static int build_get(const struct cli *cli, char **a, json_t **ret, struct el_error *e)
{
	long ch = 0;
	int r;

	(void)cli;
	if (a[1] && parse_long(a[1], 1, INT_MAX, &ch) < 0)
		return el_error_set(e, -EINVAL, "get: channel must be a number from 1, got '%s'",
				    a[1]);
	if ((r = build_node_param(a[0], ret, e)) < 0)
		return r;
	if (ch > 0)
		json_object_set_new(*ret, "channel", json_integer(ch));
	return 0;
}

static int build_load(const struct cli *cli, char **a, json_t **ret, struct el_error *e)
{
	char *path = realpath(a[0], NULL);
	int r = -errno;

	(void)cli;
	if (!path)
		return el_error_set(e, r, "load: cannot resolve '%s': %s", a[0], strerror(-r));
	*ret = json_pack("{s:s}", "path", path);
	free(path);
	return *ret ? 0 : el_error_set(e, -ENOMEM, "out of memory");
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
		table_cell(t, "none");
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

static void show_status(const struct cli *cli, char **a, json_t *result)
{
	static const char *const order[] = {
		"backend", "rate",   "block", "load",    "load_max", "cycles", "late_cycles",
		"xruns",   "uptime", "nodes", "workers", "config",   "policy", NULL,
	};

	(void)cli, (void)a;
	show_pairs(result, order, show_status_field, "");
}

static void show_hello(const struct cli *cli, char **a, json_t *result)
{
	static const char *const order[] = {"protocol", "version", "commands", NULL};

	(void)cli, (void)a;
	show_pairs(result, order, NULL, "");
}

/* `policy` asks for the status and shows only its policy, also with --json. */
static void show_policy(const struct cli *cli, char **a, json_t *result)
{
	const json_t *p = json_object_get(result, "policy");

	(void)a;
	if (cli->json)
		print_json(p ? p : json_null());
	else if (!p || json_is_null(p))
		puts("no power/thermal policy in this daemon yet");
	else if (json_is_object(p))
		show_pairs(p, NULL, NULL, "");
	else
		print_json(p);
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

static void show_node_list(const struct cli *cli, char **a, json_t *result)
{
	static const struct column cols[] = {
		{"NAME", "name", 'l', 'w'},      {"TYPE", "type", 'l', 'w'},
		{"IN", "channels_in", 'r', 'w'}, {"OUT", "channels_out", 'r', 'w'},
		{"INPUT", "input", 'l', 'w'},
	};

	(void)cli, (void)a;
	show_rows(result, cols, EL_N_ELEMENTS(cols), "");
}

static void show_stats(const struct cli *cli, char **a, json_t *result)
{
	static const struct column cols[] = {
		{"NAME", "name", 'l', 'w'},  {"TYPE", "type", 'l', 'w'},
		{"RUNS", "runs", 'r', 'w'},  {"SKIPS", "skips", 'r', 'w'},
		{"AVG", "avg_us", 'r', 'u'},
	};

	(void)cli, (void)a;
	show_rows(result, cols, EL_N_ELEMENTS(cols), "");
}

static void show_node_get(const struct cli *cli, char **a, json_t *result)
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
	show_pairs(head, order, NULL, "");
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

static void show_get(const struct cli *cli, char **a, json_t *result)
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

/* ---- monitor ------------------------------------------------------------------------- */

/* The one right use of volatile: a flag a signal handler sets (C11 7.14.1.1). */
static volatile sig_atomic_t monitor_stop;

static void on_stop_signal(int sig)
{
	(void)sig;
	monitor_stop = 1;
}

struct monitor {
	json_t *meters; /* owned: the last meters event, or NULL */
	json_t *load;   /* owned: the last load event, or NULL */
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
	printf("\033[K\n(%ld Hz, Ctrl-C quits)\033[K\n\033[K\n", m->rate);
}

/* The in-place table for a terminal: header, then one row per node and channel. */
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
			format_db(pd, sizeof(pd), peak), format_db(rd, sizeof(rd), rms);
			format_db(hd, sizeof(hd), channel_db(meter, "hold_db", ch));
			printf("%-*s  %2zu  %s  %6s  %s  %6s  %6s\033[K\n", w, name, ch + 1, pb, pd,
			       rb, rd, hd);
		}
	}
	fputs("\033[J", stdout);
}

/* One plain line per event, for pipes and logs. */
static void monitor_line(const json_t *ev, const char *name)
{
	const json_t *nodes = json_object_get(ev, "nodes"), *meter;
	const char *node;
	char p[16], r[16], h[16];

	if (!strcmp(name, "load")) {
		printf("load time=%.3f load=%.1f%% max=%.1f%% cycles=%.0f late=%.0f xruns=%.0f\n",
		       json_number_value(json_object_get(ev, "time")),
		       json_number_value(json_object_get(ev, "load")) * 100.0,
		       json_number_value(json_object_get(ev, "load_max")) * 100.0,
		       json_number_value(json_object_get(ev, "cycles")),
		       json_number_value(json_object_get(ev, "late_cycles")),
		       json_number_value(json_object_get(ev, "xruns")));
		return;
	}
	if (strcmp(name, "meters") || !json_is_object(nodes)) {
		print_json(ev);
		return;
	}
	printf("meters time=%.3f", json_number_value(json_object_get(ev, "time")));
	json_object_foreach((json_t *)nodes, node, meter)
	{
		size_t n = json_array_size(json_object_get(meter, "peak_db"));

		for (size_t ch = 0; ch < n; ch++) {
			format_db(p, sizeof(p), channel_db(meter, "peak_db", ch));
			format_db(r, sizeof(r), channel_db(meter, "rms_db", ch));
			format_db(h, sizeof(h), channel_db(meter, "hold_db", ch));
			printf(" %s:%zu peak=%s rms=%s hold=%s", node, ch + 1, p, r, h);
		}
	}
	putchar('\n');
}

/* Shows one event (stolen) as the output wants it. */
static void monitor_show(struct monitor *m, const struct cli *cli, bool tty, json_t *ev)
{
	const char *name = json_string_value(json_object_get(ev, "event"));

	if (cli->json) {
		print_json(ev);
	} else if (!tty) {
		monitor_line(ev, name);
	} else if (!strcmp(name, "meters") || !strcmp(name, "load")) {
		json_t **slot = !strcmp(name, "meters") ? &m->meters : &m->load;

		json_decref(*slot);
		*slot = el_steal_ptr(ev);
		monitor_draw(m);
	}
	json_decref(ev);
	fflush(stdout);
}

static int run_monitor(struct cli *cli, const struct command *cmd)
{
	struct sigaction sa = {.sa_handler = on_stop_signal}; /* no SA_RESTART: wake poll(2) */
	struct monitor m = {.rate = cli->opts & OPT_RATE ? cli->rate : 10};
	bool tty = !cli->json && isatty(STDOUT_FILENO);
	long seen = 0;
	json_t *ev;
	int r;

	(void)cmd;
	r = ctl_call(cli, "subscribe",
		     json_pack("{s:[s,s], s:i}", "events", "meters", "load", "rate", (int)m.rate),
		     NULL);
	if (r != EXIT_OK)
		return r;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (tty)
		fputs("\033[?25l\033[H\033[2J", stdout); /* hide the cursor, clear */
	while (!monitor_stop && (!(cli->opts & OPT_COUNT) || seen < cli->count)) {
		/* Short waits, so a signal is seen within a quarter second. */
		r = echoel_client_next_event(ctl.client, 250, &ev);
		if (r == -ETIMEDOUT)
			continue;
		if (r < 0)
			break;
		seen++;
		monitor_show(&m, cli, tty, ev);
	}
	if (tty)
		fputs("\033[?25h", stdout); /* the cursor back */
	fflush(stdout);
	json_decref(m.meters);
	json_decref(m.load);
	if (r < 0 && r != -ETIMEDOUT) {
		fprintf(stderr, "echoelctl: '%s': %s\n", ctl.path,
			r == -EPROTO ? "not an echoeld control socket" : strerror(-r));
		return EXIT_CONNECT;
	}
	return EXIT_OK;
}

/* ---- the command line ------------------------------------------------------------------ */

static int build_batch(const struct cli *cli, char **a, json_t **ret, struct el_error *e);

/* One entry per line reads better than clang-format's one field per line. */
/* clang-format off */
static const struct command commands[] = {
	{.word1 = "status", .proto = "status", .show = show_status},
	{.word1 = "hello", .proto = "hello", .show = show_hello},
	{.word1 = "node", .word2 = "list", .proto = "node.list", .show = show_node_list},
	{.word1 = "node", .word2 = "get", .usage = "NAME", .min = 1, .max = 1,
	 .proto = "node.get", .build = build_node, .show = show_node_get},
	{.word1 = "node", .word2 = "add",
	 .usage = "NAME TYPE [--input REF[,REF...]] [KEY=VALUE...]", .min = 2, .max = MAX_WORDS,
	 .opts = OPT_INPUT, .batch = true, .proto = "node.add", .build = build_node_add},
	{.word1 = "node", .word2 = "rm", .usage = "NAME [--force]", .min = 1, .max = 1,
	 .opts = OPT_FORCE, .batch = true, .proto = "node.remove", .build = build_node_rm},
	{.word1 = "connect", .usage = "FROM TO", .min = 2, .max = 2, .batch = true,
	 .proto = "connect", .build = build_from_to},
	{.word1 = "disconnect", .usage = "FROM TO", .min = 2, .max = 2, .batch = true,
	 .proto = "disconnect", .build = build_from_to},
	{.word1 = "set", .usage = "NODE.PARAM VALUE", .min = 2, .max = 2, .batch = true,
	 .proto = "set", .build = build_set},
	{.word1 = "get", .usage = "NODE.PARAM [CHANNEL]", .min = 1, .max = 2, .proto = "get",
	 .build = build_get, .show = show_get},
	{.word1 = "load", .usage = "FILE", .min = 1, .max = 1, .proto = "load",
	 .build = build_load},
	{.word1 = "reload", .proto = "reload"},
	{.word1 = "batch", .usage = "[FILE|-]", .max = 1, .proto = "batch", .build = build_batch},
	{.word1 = "monitor", .usage = "[--rate HZ] [--count N]", .opts = OPT_RATE | OPT_COUNT,
	 .proto = "subscribe", .run = run_monitor},
	{.word1 = "policy", .proto = "status", .show = show_policy},
	{.word1 = "stats", .proto = "stats", .show = show_stats},
};
/* clang-format on */

static const struct cli_option {
	const char *name;
	char id;
	unsigned flag; /* OPT_*, 0 for a global option */
	bool arg;
} cli_options[] = {
	{"socket", 's', 0, true},         {"json", 'j', 0, false},
	{"timeout", 't', 0, true},        {"help", 'h', 0, false},
	{"version", 'V', 0, false},       {"input", 'i', OPT_INPUT, true},
	{"force", 'f', OPT_FORCE, false}, {"rate", 'r', OPT_RATE, true},
	{"count", 'c', OPT_COUNT, true},
};

static int set_option(struct cli *cli, const struct cli_option *o, const char *v,
		      struct el_error *e)
{
	long n = 0;

	cli->opts |= o->flag;
	if (o->id == 's' && !*v)
		return el_error_set(e, -EINVAL, "--socket: empty path");
	if (o->id == 'i' && !is_utf8(v))
		return el_error_set(e, -EINVAL, "--input: not UTF-8");
	if (o->id == 't' && parse_long(v, 0, INT_MAX, &n) < 0)
		return el_error_set(e, -EINVAL, "--timeout: expected milliseconds, got '%s'", v);
	if (o->id == 'r' && parse_long(v, 1, 60, &n) < 0)
		return el_error_set(e, -EINVAL, "--rate: expected 1 to 60 Hz, got '%s'", v);
	if (o->id == 'c' && parse_long(v, 1, LONG_MAX, &n) < 0)
		return el_error_set(e, -EINVAL, "--count: expected a number from 1, got '%s'", v);
	switch (o->id) {
	case 's':
		cli->socket = v;
		break;
	case 'j':
		cli->json = true;
		break;
	case 't':
		cli->timeout_ms = n > 0 ? (int)n : -1;
		break;
	case 'h':
		cli->help = true;
		break;
	case 'V':
		cli->version = true;
		break;
	case 'i':
		cli->input = v;
		break;
	case 'r':
		cli->rate = n;
		break;
	case 'c':
		cli->count = n;
		break;
	}
	return 0;
}

/* One "--name[=value]" at argv[*i] (global says whether global options are allowed). */
static int parse_option(struct cli *cli, int argc, char **argv, int *i, bool global,
			struct el_error *e)
{
	const char *a = !strcmp(argv[*i], "-h") ? "--help" : argv[*i];
	const char *eq, *v = NULL;
	size_t len;

	a = !strcmp(a, "-V") ? "--version" : a;
	if (a[1] != '-')
		return el_error_set(e, -EINVAL, "unknown option '%s'", a);
	eq = strchr(a + 2, '=');
	len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
	for (size_t k = 0; k < EL_N_ELEMENTS(cli_options); k++) {
		const struct cli_option *o = &cli_options[k];

		if (strlen(o->name) != len || strncmp(o->name, a + 2, len))
			continue;
		if (!global && o->flag == 0)
			return el_error_set(e, -EINVAL, "option '--%s' is not allowed here",
					    o->name);
		if (o->arg)
			v = eq ? eq + 1 : *i + 1 < argc ? argv[++*i] : NULL;
		if (o->arg && !v)
			return el_error_set(e, -EINVAL, "option '--%s' needs a value", o->name);
		if (!o->arg && eq)
			return el_error_set(e, -EINVAL, "option '--%s' takes no value", o->name);
		return set_option(cli, o, v, e);
	}
	return el_error_set(e, -EINVAL, "unknown option '%s'", a);
}

/* Options anywhere, words in order; "--" ends options; "-" and negative numbers are words. */
static int parse_args(int argc, char **argv, struct cli *cli, bool global, struct el_error *e)
{
	bool words_only = false;
	int r;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (words_only || a[0] != '-' || a[1] == '\0' || is_number(a)) {
			if (cli->n_words == MAX_WORDS)
				return el_error_set(e, -E2BIG, "too many arguments");
			if (!is_utf8(a)) /* the protocol is UTF-8: say so here, not "out of memory"
					  */
				return el_error_set(e, -EINVAL, "argument %d is not UTF-8", i + 1);
			cli->words[cli->n_words++] = argv[i];
		} else if (!strcmp(a, "--")) {
			words_only = true;
		} else if ((r = parse_option(cli, argc, argv, &i, global, e)) < 0) {
			return r;
		}
	}
	cli->words[cli->n_words] = NULL;
	return 0;
}

static int command_words(const struct command *cmd)
{
	return cmd->word2 ? 2 : 1;
}

static int command_usage(const struct command *cmd, struct el_error *e)
{
	return el_error_set(e, -EINVAL, "usage: echoelctl %s%s%s%s%s", cmd->word1,
			    cmd->word2 ? " " : "", cmd->word2 ? cmd->word2 : "",
			    cmd->usage ? " " : "", cmd->usage ? cmd->usage : "");
}

/* The command the words name, checked for its word count and options. 0, or -EINVAL. */
static int find_command(const struct cli *cli, const struct command **ret, struct el_error *e)
{
	const char *w1 = cli->words[0], *w2 = cli->words[1];
	const struct command *cmd = NULL;
	int n;

	if (!w1)
		return el_error_set(e, -EINVAL, "no command given");
	for (size_t i = 0; i < EL_N_ELEMENTS(commands) && !cmd; i++)
		if (!strcmp(commands[i].word1, w1) &&
		    (!commands[i].word2 || (w2 && !strcmp(commands[i].word2, w2))))
			cmd = &commands[i];
	if (!cmd && !strcmp(w1, "node"))
		return el_error_set(e, -EINVAL, "node: expected list, get, add or rm%s%s%s",
				    w2 ? ", got '" : "", w2 ? w2 : "", w2 ? "'" : "");
	if (!cmd)
		return el_error_set(e, -EINVAL, "unknown command '%s'", w1);
	n = cli->n_words - command_words(cmd);
	if (n < cmd->min || n > cmd->max)
		return command_usage(cmd, e);
	for (size_t i = 0; i < EL_N_ELEMENTS(cli_options); i++)
		if (cli->opts & cli_options[i].flag & ~cmd->opts)
			return el_error_set(e, -EINVAL, "option '--%s' does not apply to '%s'",
					    cli_options[i].name, w1);
	*ret = cmd;
	return 0;
}

/* ---- batch ----------------------------------------------------------------------------- */

/* Splits s in place into words: blanks separate, '...' and "..." quote, backslash escapes. */
static int split_words(char *s, char **words, int max)
{
	char *out = s;
	int n = 0;

	for (;;) {
		char quote = 0;

		s += strspn(s, " \t");
		if (!*s)
			return n;
		if (n == max)
			return -E2BIG;
		words[n++] = out;
		for (; *s && (quote || !strchr(" \t", *s)); s++) {
			if (quote && *s == quote)
				quote = 0;
			else if (!quote && (*s == '\'' || *s == '"'))
				quote = *s;
			else if (*s == '\\' && s[1] && quote != '\'')
				*out++ = *++s;
			else
				*out++ = *s;
		}
		if (quote)
			return -EINVAL;
		if (*s)
			s++;
		*out++ = '\0';
	}
}

/* A JSON line of a batch: {"cmd": "...", "args": {...}} and nothing else. */
static int batch_json(const char *line, json_t *cmds, struct el_error *e)
{
	json_error_t jerr;
	json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	const char *key;
	json_t *v;

	if (!o)
		return el_error_set(e, -EINVAL, "invalid JSON at column %d: %s", jerr.column,
				    jerr.text);
	json_object_foreach(o, key, v)
	{
		if (strcmp(key, "cmd") && strcmp(key, "args")) {
			json_decref(o);
			return el_error_set(e, -EINVAL, "unknown field '%s' (expected cmd, args)",
					    key);
		}
	}
	if (!json_is_string(json_object_get(o, "cmd")) ||
	    (json_object_get(o, "args") && !json_is_object(json_object_get(o, "args")))) {
		json_decref(o);
		return el_error_set(e, -EINVAL, "expected {\"cmd\": STRING, \"args\": OBJECT}");
	}
	json_array_append_new(cmds, o);
	return 0;
}

/* A command line of a batch: a graph change or a `set`, as on echoelctl's command line. */
static int batch_words(char *line, json_t *cmds, struct el_error *e)
{
	struct cli sub = {0};
	const struct command *cmd;
	char *words[MAX_WORDS];
	json_t *args = NULL;
	int n = split_words(line, words, MAX_WORDS), r;

	if (n < 0)
		return el_error_set(e, n, n == -E2BIG ? "too many words" : "unterminated quote");
	if ((r = parse_args(n, words, &sub, false, e)) < 0 || (r = find_command(&sub, &cmd, e)) < 0)
		return r;
	if (!cmd->batch)
		return el_error_set(e, -EINVAL,
				    "'%s' cannot be part of a batch (node add, node rm, connect, "
				    "disconnect and set can)",
				    cmd->word1);
	if ((r = cmd->build(&sub, sub.words + command_words(cmd), &args, e)) < 0)
		return r;
	json_array_append_new(cmds, json_pack("{s:s, s:o}", "cmd", cmd->proto, "args", args));
	return 0;
}

static int batch_line(char *line, json_t *cmds, struct el_error *e)
{
	size_t n = strlen(line);

	while (n > 0 && strchr(" \t\r\n", line[n - 1]))
		line[--n] = '\0';
	line += strspn(line, " \t");
	if (!*line || *line == '#')
		return 0;
	return *line == '{' ? batch_json(line, cmds, e) : batch_words(line, cmds, e);
}

/* Reads FILE (or stdin for none or "-") into {"commands": [...]}. */
static int build_batch(const struct cli *cli, char **a, json_t **ret, struct el_error *e)
{
	const char *path = a[0] && strcmp(a[0], "-") ? a[0] : NULL;
	FILE *f = path ? fopen(path, "re") : stdin;
	json_t *cmds = json_array();
	unsigned lineno = 0;
	char *line = NULL, where[PATH_MAX + 32];
	size_t cap = 0;
	int r = f ? 0 : -errno;

	(void)cli;
	if (r < 0 || !cmds) {
		json_decref(cmds);
		if (f && f != stdin)
			fclose(f);
		return r < 0 ? el_error_set(e, r, "batch: cannot open '%s': %s", path, strerror(-r))
			     : el_error_set(e, -ENOMEM, "out of memory");
	}
	while (r == 0 && getline(&line, &cap, f) >= 0) {
		lineno++;
		r = batch_line(line, cmds, e);
		if (r == 0 && json_array_size(cmds) > BATCH_MAX)
			r = el_error_set(e, -E2BIG, "more than %d commands in one batch",
					 BATCH_MAX);
		if (r < 0) {
			snprintf(where, sizeof(where), "%s:%u", path ? path : "<stdin>", lineno);
			el_error_prefix(e, where);
		}
	}
	if (r == 0 && ferror(f))
		r = el_error_set(e, -EIO, "batch: cannot read '%s'", path ? path : "<stdin>");
	if (r == 0 && json_array_size(cmds) == 0)
		r = el_error_set(e, -EINVAL, "batch: no commands in '%s'", path ? path : "<stdin>");
	free(line);
	if (path)
		fclose(f);
	if (r < 0)
		json_decref(cmds);
	else
		*ret = json_pack("{s:o}", "commands", cmds);
	return r;
}

/* ---- main ---------------------------------------------------------------------------- */

/* Builds the arguments, calls, prints. */
static int run_simple(struct cli *cli, const struct command *cmd)
{
	char **a = cli->words + command_words(cmd);
	struct el_error e = {0};
	json_t *args = NULL, *result = NULL;
	int r;

	if (cmd->build && cmd->build(cli, a, &args, &e) < 0) {
		fprintf(stderr, "echoelctl: %s\n", e.message);
		return EXIT_USAGE;
	}
	r = ctl_call(cli, cmd->proto, args, &result);
	if (r != EXIT_OK)
		return r;
	if (cli->json && cmd->show != show_policy)
		print_json(result);
	else if (cmd->show)
		cmd->show(cli, a, result);
	json_decref(result);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct cli cli = {.timeout_ms = 5000};
	struct el_error e = {0};
	const struct command *cmd;
	const char *env = getenv("ECHOELD_SOCKET");
	int r;

	if (parse_args(argc - 1, argv + 1, &cli, true, &e) < 0)
		return usage_error("%s", e.message);
	if (cli.help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (cli.version) {
		puts("echoelctl " ECHOELCTL_VERSION);
		return EXIT_OK;
	}
	if (!cli.socket && env && *env)
		cli.socket = env;
	if (find_command(&cli, &cmd, &e) < 0)
		return usage_error("%s", e.message);
	r = cmd->run ? cmd->run(&cli, cmd) : run_simple(&cli, cmd);
	ctl.client = echoel_client_free(ctl.client);
	return r;
}
