/* SPDX-License-Identifier: MIT */
/*
 * ipc/echoelctl.h: what the files of echoelctl share (internal to the executable, not
 * installed). echoelctl.c reads the command line, holds the command table and the connection
 * and dispatches; echoelctl-print.c prints results for people; echoelctl-monitor.c is the
 * monitor view; echoelctl-batch.c reads batch files.
 *
 * Thread: echoelctl has one thread. Every function below may print to stdout or stderr.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct el_error;

/* The exit codes of echoelctl(1). */
enum exit_code { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_CONNECT = 3 };

/* Options of subcommands (bits of cli.opts). */
enum {
	OPT_INPUT = 1u << 0,
	OPT_FORCE = 1u << 1,
	OPT_RATE = 1u << 2,
	OPT_COUNT = 1u << 3,
	OPT_LOOP = 1u << 4,
	OPT_TO = 1u << 5,
};

#define MAX_WORDS 64 /* words of one command line (or batch line) */

struct cli {
	const char *socket; /* --socket, else $ECHOELD_SOCKET, else NULL: the default */
	int timeout_ms;     /* -1: no limit */
	bool json, help, version;
	unsigned opts; /* subcommand options given */
	const char *input;
	const char *to; /* play --to */
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

/* The number of words that name the command (1 or 2); its arguments follow them. */
static inline int echoelctl_command_words(const struct command *cmd)
{
	return cmd->word2 ? 2 : 1;
}

/* ---- echoelctl.c: the command line and the connection ---------------------------------- */

/*
 * Reads argv[0..argc-1] into cli (zeroed by the caller; words are borrowed from argv): options
 * anywhere, words in order; "--" ends options; "-" and negative numbers are words. global says
 * whether global options (--socket, --json, ...) are allowed. 0, or -EINVAL/-E2BIG with *e set.
 */
int echoelctl_parse_args(int argc, char **argv, struct cli *cli, bool global, struct el_error *e);

/* The command cli's words name (*ret points into the static table), checked for its word count
 * and options. 0, or -EINVAL with *e set and *ret untouched. */
int echoelctl_find_command(const struct cli *cli, const struct command **ret, struct el_error *e);

/*
 * One request, connecting first if need be. cmd is borrowed; args (an object, or NULL) is
 * stolen, even on failure. EXIT_OK with *ret set (owned by the caller; ret may be NULL to drop
 * the result), or EXIT_REFUSED/EXIT_CONNECT after a message on stderr.
 */
int echoelctl_call(const struct cli *cli, const char *cmd, json_t *args, json_t **ret);

/* The next event of the connection echoelctl_call() opened, waiting up to timeout_ms; as
 * echoel_client_next_event() (*ret_event owned by the caller). */
int echoelctl_next_event(int timeout_ms, json_t **ret_event);

/*
 * Says on stderr why the connection failed (r: a negative errno); returns EXIT_CONNECT. When
 * the daemon closed it after a `stopping` event (sent to clients subscribed to it), that is
 * what it says, once, and echoelctl_daemon_stopped() is then true.
 */
int echoelctl_connection_failed(int r);

/* The daemon said it stops: says so on stderr (once). */
void echoelctl_note_stopped(void);
/* Did it? (A subscriber may then take the closed connection as the normal end.) */
bool echoelctl_daemon_stopped(void);

/* ---- echoelctl-print.c: human output ----------------------------------------------------- */

/* v (borrowed) as compact JSON on one line of stdout. */
void echoelctl_print_json(const json_t *v);

/* dB with one decimal into buf (size bytes); silence (the meters' -200) as "-inf". */
void echoelctl_format_db(char *buf, size_t size, double db);

/* Printers of results (show_fn: result borrowed, a the words after the command's own). */
/* o's number under key, 0 when absent (or not a number). */
double echoelctl_number(const json_t *o, const char *key);

void echoelctl_show_status(const struct cli *cli, char **a, json_t *result);
void echoelctl_show_hello(const struct cli *cli, char **a, json_t *result);
void echoelctl_show_policy(const struct cli *cli, char **a, json_t *result); /* also --json */
void echoelctl_show_node_list(const struct cli *cli, char **a, json_t *result);
void echoelctl_show_node_get(const struct cli *cli, char **a, json_t *result);
void echoelctl_show_get(const struct cli *cli, char **a, json_t *result);
void echoelctl_show_stats(const struct cli *cli, char **a, json_t *result);

/* ---- echoelctl-monitor.c ----------------------------------------------------------------- */

/* `monitor` (run_fn): subscribes and shows events until --count or SIGINT/SIGTERM. EXIT_OK, or
 * the exit code after a message. */
int echoelctl_run_monitor(struct cli *cli, const struct command *cmd);

/* ---- echoelctl-media.c: record, play, stop, seek ---------------------------------------- */

/* `record NODE[:CH] FILE`, `play FILE [--loop] [--to NODE]` (run_fn): add a recorder or a
 * player under a free name (rec-N, play-N) and print it. */
int echoelctl_run_record(struct cli *cli, const struct command *cmd);
int echoelctl_run_play(struct cli *cli, const struct command *cmd);
/* `record stop NAME` (run_fn): the take ended, then the recorder removed. */
int echoelctl_run_record_stop(struct cli *cli, const struct command *cmd);
/* Builders of `stop NAME` (node.remove, forced) and `seek NAME SECONDS` (position_s). */
int echoelctl_build_stop(const struct cli *cli, char **a, json_t **ret, struct el_error *e);
int echoelctl_build_seek(const struct cli *cli, char **a, json_t **ret, struct el_error *e);

/* ---- echoelctl-batch.c ------------------------------------------------------------------- */

/* `batch` (build_fn): reads FILE a[0] (stdin for none or "-") into {"commands": [...]} (*ret
 * owned by the caller). 0, or -errno with *e set to "FILE:LINE: reason" and *ret untouched. */
int echoelctl_build_batch(const struct cli *cli, char **a, json_t **ret, struct el_error *e);
