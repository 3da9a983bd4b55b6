/* SPDX-License-Identifier: MIT */
/*
 * ipc/echoelctl-batch.c: `echoelctl batch`, the reader of batch files (echoelctl(1), BATCH
 * FILES). Each line is a protocol object {"cmd", "args"} or an echoelctl command line, split
 * into words (blanks separate, quotes and a backslash as in the man page) and built by the same
 * table entry as on the command line, so a line and a command mean the same thing. Everything
 * is read and checked before anything is sent.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-error.h"
#include "ipc/echoelctl.h"

#define BATCH_MAX 256 /* commands in one batch (docs/protocol.md) */

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
	if ((r = echoelctl_parse_args(n, words, &sub, false, e)) < 0 ||
	    (r = echoelctl_find_command(&sub, &cmd, e)) < 0)
		return r;
	if (!cmd->batch)
		return el_error_set(e, -EINVAL,
				    "'%s' cannot be part of a batch (node add, node rm, connect, "
				    "disconnect and set can)",
				    cmd->word1);
	if ((r = cmd->build(&sub, sub.words + echoelctl_command_words(cmd), &args, e)) < 0)
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
int echoelctl_build_batch(const struct cli *cli, char **a, json_t **ret, struct el_error *e)
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
