/* SPDX-License-Identifier: MIT */
/*
 * ipc/echoelctl.c: echoelctl, the command-line client of echoeld (docs/protocol.md): main(),
 * the command line, the command table, the connection and the dispatch.
 *
 * DESIGN
 * The command line is read once into a struct cli: global options, the subcommand's options
 * and its words (a number such as -6 is a word, not an option). A table maps the words to a
 * protocol command, a builder of its arguments and a printer of its result, so `batch` reuses
 * the same builders for its lines. Human output is aligned tables and dB with one decimal;
 * --json prints the result as the daemon sent it, on one line, for scripts. Exit codes: 0 ok,
 * 1 the daemon refused, 2 usage, 3 cannot connect (or the connection failed).
 * The printers live in echoelctl-print.c, the monitor view in echoelctl-monitor.c and the batch
 * reader in echoelctl-batch.c; echoelctl.h is what they share.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "ipc/client.h"
#include "ipc/echoelctl.h"
#include "ipc/socket-path.h"

#ifndef ECHOELCTL_VERSION
#define ECHOELCTL_VERSION "unknown"
#endif

/* The connection to the daemon and where it is, for messages. */
struct ctl {
	struct echoel_client *client;
	char path[IPC_SOCKET_PATH_MAX + 64];
	bool stopped; /* the daemon said it stops (a `stopping` event) */
};

static struct ctl ctl;

/* ---- small helpers ---------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: echoelctl [--socket PATH] [--json] [--timeout MS] COMMAND [ARGS...]\n"
	      "commands:\n"
	      "  status | hello | stats | policy | reload\n"
	      "  policy set mode=low|normal|unrestricted|auto thermal=nominal|...|auto\n"
	      "  node list | node get NAME | node rm|remove NAME [--force]\n"
	      "  node add NAME TYPE [--input REF[,REF...]] [KEY=VALUE...]\n"
	      "  connect FROM TO | disconnect FROM TO\n"
	      "  set NODE.PARAM VALUE | get NODE.PARAM [CHANNEL]\n"
	      "  load FILE | batch [FILE|-] | monitor [--rate HZ] [--count N]\n"
	      "  record NODE[:CH] FILE | record stop NAME\n"
	      "  play FILE [--loop] [--to NODE] | stop NAME | seek NAME SECONDS\n"
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

/* Does s begin as a negative number (so "-6" and "-6dB" are words, not options)? */
static bool is_number(const char *s)
{
	return s[0] == '-' &&
	       ((s[1] >= '0' && s[1] <= '9') || (s[1] == '.' && s[2] >= '0' && s[2] <= '9'));
}

static bool is_utf8(const char *s)
{
	json_t *j = json_string(s); /* jansson checks UTF-8 and nothing else here */

	json_decref(j);
	return j != NULL;
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

int echoelctl_call(const struct cli *cli, const char *cmd, json_t *args, json_t **ret)
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
	if (r < 0)
		return echoelctl_connection_failed(r);
	return EXIT_OK;
}

int echoelctl_next_event(int timeout_ms, json_t **ret_event)
{
	return echoel_client_next_event(ctl.client, timeout_ms, ret_event);
}

void echoelctl_note_stopped(void)
{
	if (!ctl.stopped)
		fputs("echoelctl: the daemon stopped\n", stderr);
	ctl.stopped = true;
}

bool echoelctl_daemon_stopped(void)
{
	return ctl.stopped;
}

/* Is a `stopping` event among those that came before the connection closed? */
static bool saw_stopping(void)
{
	json_t *ev;

	while (!ctl.stopped && echoel_client_next_event(ctl.client, 0, &ev) == 0) {
		const char *name = json_string_value(json_object_get(ev, "event"));

		if (name && !strcmp(name, "stopping"))
			echoelctl_note_stopped();
		json_decref(ev);
	}
	return ctl.stopped;
}

int echoelctl_connection_failed(int r)
{
	/* a normal stop closes the connection too, but says so first (to its subscribers) */
	if (r == -ECONNRESET && saw_stopping())
		return EXIT_CONNECT;
	fprintf(stderr, "echoelctl: '%s': %s\n", ctl.path,
		r == -EPROTO ? "not an echoeld control socket" : strerror(-r));
	return EXIT_CONNECT;
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
	if ((r = build_node_param(a[0], ret, e)) < 0)
		return r;
	/* a number goes as one; "-6dB", "50%", "+3" as the text the daemon reads against the
	 * parameter (its unit, range and value now) */
	json_object_set_new(*ret, "value",
			    parse_value(a[1], &v) == 0 && a[1][0] != '+' ? json_real(v)
									 : json_string(a[1]));
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

/* config save FILE: the file need not exist, its directory must (the daemon checks file_dirs). */
static int build_config_save(const struct cli *cli, char **a, json_t **ret, struct el_error *e)
{
	const char *slash = strrchr(a[0], '/');
	char *dir, *real, *path = NULL;
	int r;

	(void)cli;
	if (slash && !slash[1])
		return el_error_set(e, -EINVAL, "config save: '%s' names a directory", a[0]);
	dir = slash ? strndup(a[0], slash == a[0] ? 1 : (size_t)(slash - a[0])) : strdup(".");
	real = dir ? realpath(dir, NULL) : NULL;
	r = -errno;
	free(dir);
	if (!real)
		return el_error_set(e, r, "config save: cannot resolve '%s': %s", a[0],
				    strerror(-r));
	if (asprintf(&path, "%s/%s", strcmp(real, "/") ? real : "", slash ? slash + 1 : a[0]) < 0)
		path = NULL;
	free(real);
	*ret = path ? json_pack("{s:s}", "path", path) : NULL;
	free(path);
	return *ret ? 0 : el_error_set(e, -ENOMEM, "out of memory");
}

static void show_config_dump(const struct cli *cli, char **a, json_t *result)
{
	(void)cli, (void)a;
	fputs(json_string_value(json_object_get(result, "text")) ?: "", stdout);
}

/* policy set mode=low thermal=auto: each word KEY=VALUE, keys mode and thermal. */
static int build_policy_set(const struct cli *cli, char **a, json_t **ret, struct el_error *e)
{
	json_t *args = json_object();

	(void)cli;
	for (size_t i = 0; a[i]; i++) {
		const char *eq = strchr(a[i], '=');
		size_t n = eq ? (size_t)(eq - a[i]) : 0;

		if (!eq || !((n == 4 && !strncmp(a[i], "mode", 4)) ||
			     (n == 7 && !strncmp(a[i], "thermal", 7)))) {
			json_decref(args);
			return el_error_set(e, -EINVAL,
					    "policy set: expected mode=MODE or thermal=STATE, "
					    "got '%s'",
					    a[i]);
		}
		json_object_set_new(args, n == 4 ? "mode" : "thermal", json_string(eq + 1));
	}
	*ret = args;
	return 0;
}

/* ---- the command line ------------------------------------------------------------------ */

/* One entry per line reads better than clang-format's one field per line. */
/* clang-format off */
static const struct command commands[] = {
	{.word1 = "status", .proto = "status", .show = echoelctl_show_status},
	{.word1 = "hello", .proto = "hello", .show = echoelctl_show_hello},
	{.word1 = "node", .word2 = "list", .proto = "node.list", .show = echoelctl_show_node_list},
	{.word1 = "node", .word2 = "get", .usage = "NAME", .min = 1, .max = 1,
	 .proto = "node.get", .build = build_node, .show = echoelctl_show_node_get},
	{.word1 = "node", .word2 = "add",
	 .usage = "NAME TYPE [--input REF[,REF...]] [KEY=VALUE...]", .min = 2, .max = MAX_WORDS,
	 .opts = OPT_INPUT, .batch = true, .proto = "node.add", .build = build_node_add},
	{.word1 = "node", .word2 = "rm", .usage = "NAME [--force]", .min = 1, .max = 1,
	 .opts = OPT_FORCE, .batch = true, .proto = "node.remove", .build = build_node_rm},
	/* the protocol's own word (node.remove): a user reading docs/protocol.md types it */
	{.word1 = "node", .word2 = "remove", .usage = "NAME [--force]", .min = 1, .max = 1,
	 .opts = OPT_FORCE, .batch = true, .proto = "node.remove", .build = build_node_rm},
	{.word1 = "connect", .usage = "FROM TO", .min = 2, .max = 2, .batch = true,
	 .proto = "connect", .build = build_from_to},
	{.word1 = "disconnect", .usage = "FROM TO", .min = 2, .max = 2, .batch = true,
	 .proto = "disconnect", .build = build_from_to},
	{.word1 = "set", .usage = "NODE.PARAM VALUE", .min = 2, .max = 2, .batch = true,
	 .proto = "set", .build = build_set},
	{.word1 = "get", .usage = "NODE.PARAM [CHANNEL]", .min = 1, .max = 2, .proto = "get",
	 .build = build_get, .show = echoelctl_show_get},
	{.word1 = "load", .usage = "FILE", .min = 1, .max = 1, .proto = "load",
	 .build = build_load},
	{.word1 = "reload", .proto = "reload"},
	{.word1 = "config", .word2 = "dump", .proto = "config.dump", .show = show_config_dump},
	{.word1 = "config", .word2 = "save", .usage = "FILE", .min = 1, .max = 1,
	 .proto = "config.save", .build = build_config_save},
	{.word1 = "batch", .usage = "[FILE|-]", .max = 1, .proto = "batch",
	 .build = echoelctl_build_batch},
	{.word1 = "monitor", .usage = "[--rate HZ] [--count N]", .opts = OPT_RATE | OPT_COUNT,
	 .proto = "subscribe", .run = echoelctl_run_monitor},
	{.word1 = "policy", .word2 = "set", .usage = "mode=MODE|thermal=STATE...", .min = 1,
	 .max = 2, .proto = "policy.set", .build = build_policy_set},
	{.word1 = "policy", .proto = "policy", .show = echoelctl_show_policy},
	{.word1 = "stats", .proto = "stats", .show = echoelctl_show_stats},
	/* `record stop` before `record`: the first entry whose words match is taken */
	{.word1 = "record", .word2 = "stop", .usage = "NAME", .min = 1, .max = 1,
	 .run = echoelctl_run_record_stop},
	{.word1 = "record", .usage = "NODE[:CH] FILE", .min = 2, .max = 2,
	 .run = echoelctl_run_record},
	{.word1 = "play", .usage = "FILE [--loop] [--to NODE]", .min = 1, .max = 1,
	 .opts = OPT_LOOP | OPT_TO, .run = echoelctl_run_play},
	{.word1 = "stop", .usage = "NAME", .min = 1, .max = 1, .batch = true,
	 .proto = "node.remove", .build = echoelctl_build_stop},
	{.word1 = "seek", .usage = "NAME SECONDS", .min = 2, .max = 2, .batch = true,
	 .proto = "set", .build = echoelctl_build_seek},
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
	{"count", 'c', OPT_COUNT, true},  {"loop", 'l', OPT_LOOP, false},
	{"to", 'T', OPT_TO, true},
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
	case 'T':
		cli->to = v;
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

int echoelctl_parse_args(int argc, char **argv, struct cli *cli, bool global, struct el_error *e)
{
	bool words_only = false;
	int r;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (words_only || a[0] != '-' || a[1] == '\0' || is_number(a)) {
			if (cli->n_words == MAX_WORDS)
				return el_error_set(e, -E2BIG, "too many arguments");
			/* the protocol is UTF-8: say so here, not "out of memory" */
			if (!is_utf8(a))
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

static int command_usage(const struct command *cmd, struct el_error *e)
{
	return el_error_set(e, -EINVAL, "usage: echoelctl %s%s%s%s%s", cmd->word1,
			    cmd->word2 ? " " : "", cmd->word2 ? cmd->word2 : "",
			    cmd->usage ? " " : "", cmd->usage ? cmd->usage : "");
}

int echoelctl_find_command(const struct cli *cli, const struct command **ret, struct el_error *e)
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
		return el_error_set(e, -EINVAL, "node: expected list, get, add, rm or remove%s%s%s",
				    w2 ? ", got '" : "", w2 ? w2 : "", w2 ? "'" : "");
	if (!cmd)
		return el_error_set(e, -EINVAL, "unknown command '%s'", w1);
	n = cli->n_words - echoelctl_command_words(cmd);
	if (n < cmd->min || n > cmd->max)
		return command_usage(cmd, e);
	for (size_t i = 0; i < EL_N_ELEMENTS(cli_options); i++)
		if (cli->opts & cli_options[i].flag & ~cmd->opts)
			return el_error_set(e, -EINVAL, "option '--%s' does not apply to '%s'",
					    cli_options[i].name, w1);
	*ret = cmd;
	return 0;
}

/* ---- main ---------------------------------------------------------------------------- */

/* Builds the arguments, calls, prints. */
static int run_simple(struct cli *cli, const struct command *cmd)
{
	char **a = cli->words + echoelctl_command_words(cmd);
	struct el_error e = {0};
	json_t *args = NULL, *result = NULL;
	int r;

	if (cmd->build && cmd->build(cli, a, &args, &e) < 0) {
		fprintf(stderr, "echoelctl: %s\n", e.message);
		return EXIT_USAGE;
	}
	r = echoelctl_call(cli, cmd->proto, args, &result);
	if (r != EXIT_OK)
		return r;
	if (cli->json)
		echoelctl_print_json(result);
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

	if (echoelctl_parse_args(argc - 1, argv + 1, &cli, true, &e) < 0)
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
	if (echoelctl_find_command(&cli, &cmd, &e) < 0)
		return usage_error("%s", e.message);
	r = cmd->run ? cmd->run(&cli, cmd) : run_simple(&cli, cmd);
	ctl.client = echoel_client_free(ctl.client);
	return r;
}
