/* SPDX-License-Identifier: MIT */
/*
 * ipc/echoelctl-media.c: echoelctl's words for recording and playing files — `record`,
 * `record stop`, `play`, `stop`, `seek` — each a graph edit or a parameter the daemon already
 * has (docs/protocol.md): a recorder or player node added under a free name (printed), in one
 * `batch` with its connection so both land in the same cycle or neither does.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-error.h"
#include "ipc/echoelctl.h"

#define NAME_MAX_LEN 64

/* The first of prefix-1, prefix-2, ... that no node of the running graph is called. */
static int free_name(const struct cli *cli, const char *prefix, char *buf, size_t size)
{
	json_t *list = NULL, *nodes, *node;
	size_t i;
	int r = echoelctl_call(cli, "node.list", NULL, &list);

	if (r != EXIT_OK)
		return r;
	nodes = list; /* node.list answers an array of nodes */
	for (unsigned n = 1;; n++) {
		bool taken = false;

		snprintf(buf, size, "%s-%u", prefix, n);
		json_array_foreach(nodes, i, node)
		{
			const char *name = json_string_value(json_object_get(node, "name"));

			taken = taken || (name && strcmp(name, buf) == 0);
		}
		if (!taken)
			break;
	}
	json_decref(list);
	return EXIT_OK;
}

/* One command of a batch: {"cmd": cmd, "args": args (stolen)}. */
static json_t *batch_line(const char *cmd, json_t *args)
{
	return json_pack("{s:s, s:o}", "cmd", cmd, "args", args);
}

/* Runs the batch (stolen) and prints the new node's name (or {"node": name} with --json). */
static int run_batch_naming(const struct cli *cli, json_t *commands, const char *name)
{
	int r = echoelctl_call(cli, "batch", json_pack("{s:o}", "commands", commands), NULL);

	if (r != EXIT_OK)
		return r;
	if (cli->json) {
		json_t *j = json_pack("{s:s}", "node", name);

		echoelctl_print_json(j);
		json_decref(j);
	} else {
		puts(name);
	}
	return EXIT_OK;
}

int echoelctl_run_record(struct cli *cli, const struct command *cmd)
{
	char **a = cli->words + echoelctl_command_words(cmd), name[NAME_MAX_LEN];
	int r = free_name(cli, "rec", name, sizeof(name));

	if (r != EXIT_OK)
		return r;
	/* FILE as given: a relative name lies in the daemon's recordings directory */
	return run_batch_naming(
		cli,
		json_pack("[o]",
			  batch_line("node.add", json_pack("{s:s, s:s, s:[s], s:{s:s}}", "node",
							   name, "type", "recorder", "input", a[0],
							   "settings", "file", a[1]))),
		name);
}

int echoelctl_run_play(struct cli *cli, const struct command *cmd)
{
	char **a = cli->words + echoelctl_command_words(cmd), name[NAME_MAX_LEN];
	char *path = realpath(a[0], NULL); /* the user's file, named from here */
	json_t *settings, *commands;
	int r;

	if (!path) {
		fprintf(stderr, "echoelctl: play: cannot resolve '%s': %s\n", a[0],
			strerror(errno));
		return EXIT_USAGE;
	}
	r = free_name(cli, "play", name, sizeof(name));
	if (r != EXIT_OK) {
		free(path);
		return r;
	}
	settings = json_pack("{s:s}", "file", path);
	free(path);
	if (cli->opts & OPT_LOOP)
		json_object_set_new(settings, "loop", json_string("yes"));
	commands = json_pack(
		"[o]", batch_line("node.add", json_pack("{s:s, s:s, s:o}", "node", name, "type",
							"player", "settings", settings)));
	if (cli->opts & OPT_TO)
		json_array_append_new(
			commands, batch_line("connect",
					     json_pack("{s:s, s:s}", "from", name, "to", cli->to)));
	return run_batch_naming(cli, commands, name);
}

/*
 * `record stop NAME`: the take ends at once (`recording` 0: its last frames are the input's
 * own, not the fade-out a removed node's input gets), then the recorder is removed, which
 * closes its file. Two requests: a batch would check the set against the graph without it.
 */
int echoelctl_run_record_stop(struct cli *cli, const struct command *cmd)
{
	char **a = cli->words + echoelctl_command_words(cmd);
	int r = echoelctl_call(
		cli, "set",
		json_pack("{s:s, s:s, s:f}", "node", a[0], "param", "recording", "value", 0.0),
		NULL);

	if (r == EXIT_OK)
		r = echoelctl_call(cli, "node.remove", json_pack("{s:s}", "node", a[0]), NULL);
	return r;
}

/* `stop NAME`: the player removed, and every reference to it (it is gone, not paused). */
int echoelctl_build_stop(const struct cli *cli, char **a, json_t **ret, struct el_error *e)
{
	(void)cli;
	*ret = json_pack("{s:s, s:b}", "node", a[0], "force", 1);
	return *ret ? 0 : el_error_set(e, -ENOMEM, "out of memory");
}

/* `seek NAME SECONDS`: the player's position_s. */
int echoelctl_build_seek(const struct cli *cli, char **a, json_t **ret, struct el_error *e)
{
	char *end;
	double s;

	(void)cli;
	errno = 0;
	s = strtod(a[1], &end);
	if (errno || end == a[1] || *end || !(s >= 0.0))
		return el_error_set(e, -EINVAL, "seek: '%s' is not a position in seconds", a[1]);
	*ret = json_pack("{s:s, s:s, s:f}", "node", a[0], "param", "position_s", "value", s);
	return *ret ? 0 : el_error_set(e, -ENOMEM, "out of memory");
}
