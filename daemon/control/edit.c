/* SPDX-License-Identifier: MIT */
/*
 * daemon/control/edit.c: the graph commands as edits of a configuration copy — node.add,
 * node.remove, connect, disconnect. Each edit checks what it can say precisely itself (a name
 * that exists, a reference that is not there); everything else (types, values, cycles) is
 * checked by compiling the edited copy, exactly as a file would be.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config/config.h"
#include "daemon/config/node.h"
#include "daemon/control/edit.h"
#include "ipc/protocol.h"

/* The node part of a reference "NAME" or "NAME:CH". */
static size_t ref_node_len(const char *ref)
{
	const char *colon = strchr(ref, ':');

	return colon ? (size_t)(colon - ref) : strlen(ref);
}

/*
 * Rewrites `input` of section sec without the references to node `drop` (any channel) or,
 * when exact is set, without references equal to exact. Returns how many were removed.
 */
static int rewrite_input(struct conf *c, const struct conf_section *sec, const char *drop,
			 const char *exact, const char *origin)
{
	const struct conf_entry *e = conf_section_find(sec, "input");
	char *copy, *save = NULL, *out;
	size_t used = 0;
	int removed = 0, r = 0;
	char name[160];

	if (!e)
		return 0;
	snprintf(name, sizeof(name), "%s", sec->name);
	copy = strdup(e->value);
	out = calloc(strlen(e->value) + 1, 1);
	if (!copy || !out) {
		free(copy);
		free(out);
		return -ENOMEM;
	}
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *ref = conf_trim(t);
		bool gone = exact ? strcmp(ref, exact) == 0
				  : ref_node_len(ref) == strlen(drop) &&
					    strncmp(ref, drop, strlen(drop)) == 0;

		if (gone) {
			removed++;
			continue;
		}
		used += (size_t)sprintf(out + used, "%s%s", used ? ", " : "", ref);
	}
	if (removed)
		r = used ? conf_set(c, name, "input", out, origin, 0)
			 : conf_unset(c, name, "input");
	free(copy);
	free(out);
	return r < 0 ? r : removed;
}

/* Node names of sections that read node (for conflict messages), comma-separated into buf. */
static int readers_of(const struct conf *c, const char *node, char *buf, size_t size)
{
	size_t used = 0;
	int n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < conf_get_n_sections(c); i++) {
		const struct conf_section *sec = conf_get_section(c, i);
		const struct conf_entry *e = conf_section_find(sec, "input");
		char *copy, *save = NULL;
		bool reads = false;

		if (!e || !conf_node_name(sec))
			continue;
		copy = strdup(e->value);
		for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && !reads;
		     t = strtok_r(NULL, ",", &save)) {
			char *ref = conf_trim(t);
			reads = ref_node_len(ref) == strlen(node) &&
				strncmp(ref, node, strlen(node)) == 0;
		}
		free(copy);
		if (reads && used < size) {
			used += (size_t)snprintf(buf + used, size - used, "%s'%s'", n ? ", " : "",
						 conf_node_name(sec));
			n++;
		}
	}
	return n;
}

static bool node_exists(const struct conf *c, const char *node)
{
	char sec[160];

	conf_node_section_name(sec, sizeof(sec), node);
	return conf_find_section(c, sec) != NULL;
}

/* A JSON setting value as config text: strings as they are, numbers, booleans as yes/no. */
static int value_text(const char *key, const json_t *v, char *buf, size_t size, struct ipc_error *e)
{
	if (json_is_string(v))
		snprintf(buf, size, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, size, "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, size, "%s", json_is_true(v) ? "yes" : "no");
	else
		return ipc_error_set(e, IPC_ERR_BAD_ARGUMENT,
				     "setting '%s' must be a string, a number or a boolean", key);
	return 0;
}

int ctl_edit_node_add(struct conf *c, const char *node, const char *type, const json_t *input,
		      const json_t *settings, struct ipc_error *e)
{
	char sec[160], text[4096];
	const char *key;
	json_t *v;
	size_t i, used = 0;

	if (node_exists(c, node))
		return ipc_error_set(e, IPC_ERR_CONFLICT, "a node named '%s' exists", node);
	conf_node_section_name(sec, sizeof(sec), node);
	if (conf_set(c, sec, "type", type, "node.add", 0) < 0)
		return ipc_error_set(e, IPC_ERR_INTERNAL, "out of memory");
	if (input && json_is_string(input))
		used = (size_t)snprintf(text, sizeof(text), "%s", json_string_value(input));
	json_array_foreach(input && json_is_array(input) ? input : NULL, i, v) used +=
		(size_t)snprintf(text + used, sizeof(text) - EL_MIN(used, sizeof(text)), "%s%s",
				 i ? ", " : "", json_string_value(v));
	if (used && conf_set(c, sec, "input", text, "node.add", 0) < 0)
		return ipc_error_set(e, IPC_ERR_INTERNAL, "out of memory");
	json_object_foreach((json_t *)settings, key, v)
	{
		if (strcmp(key, "type") == 0 || strcmp(key, "input") == 0)
			return ipc_error_set(e, IPC_ERR_BAD_ARGUMENT,
					     "give '%s' as its own argument, not in settings", key);
		if (value_text(key, v, text, sizeof(text), e) < 0)
			return -EINVAL;
		if (conf_set(c, sec, key, text, "node.add", 0) < 0)
			return ipc_error_set(e, IPC_ERR_INTERNAL, "out of memory");
	}
	/* the files it names were checked against [ipc] file_dirs and open only beneath them */
	conf_mark_client(c, sec);
	return 0;
}

int ctl_edit_node_remove(struct conf *c, const char *node, bool force, struct ipc_error *e)
{
	char sec[160], readers[256];

	if (!node_exists(c, node))
		return ipc_error_set(e, IPC_ERR_NOT_FOUND, "no node named '%s'", node);
	if (readers_of(c, node, readers, sizeof(readers)) > 0 && !force)
		return ipc_error_set(e, IPC_ERR_CONFLICT,
				     "node '%s' is read by %s (disconnect them, or use force)",
				     node, readers);
	for (size_t i = 0; i < conf_get_n_sections(c); i++) {
		const struct conf_section *s = conf_get_section(c, i);

		if (conf_node_name(s) &&
		    rewrite_input(c, s, node, NULL, "node.remove") < 0)
			return ipc_error_set(e, IPC_ERR_INTERNAL, "out of memory");
	}
	conf_node_section_name(sec, sizeof(sec), node);
	conf_remove_section(c, sec);
	return 0;
}

int ctl_edit_connect(struct conf *c, const char *from, const char *to, struct ipc_error *e)
{
	char sec[160], name[160], text[4096];
	const struct conf_entry *in;

	snprintf(name, sizeof(name), "%.*s", (int)ref_node_len(from), from);
	if (!node_exists(c, name))
		return ipc_error_set(e, IPC_ERR_NOT_FOUND, "no node named '%s'", name);
	if (!node_exists(c, to))
		return ipc_error_set(e, IPC_ERR_NOT_FOUND, "no node named '%s'", to);
	conf_node_section_name(sec, sizeof(sec), to);
	in = conf_section_find(conf_find_section(c, sec), "input");
	if (in && *in->value)
		snprintf(text, sizeof(text), "%s, %s", in->value, from);
	else
		snprintf(text, sizeof(text), "%s", from);
	if (conf_set(c, sec, "input", text, "connect", 0) < 0)
		return ipc_error_set(e, IPC_ERR_INTERNAL, "out of memory");
	return 0;
}

int ctl_edit_disconnect(struct conf *c, const char *from, const char *to, struct ipc_error *e)
{
	char sec[160];
	int r;

	if (!node_exists(c, to))
		return ipc_error_set(e, IPC_ERR_NOT_FOUND, "no node named '%s'", to);
	conf_node_section_name(sec, sizeof(sec), to);
	r = rewrite_input(c, conf_find_section(c, sec), NULL, from, "disconnect");
	if (r < 0)
		return ipc_error_set(e, IPC_ERR_INTERNAL, "out of memory");
	if (r == 0)
		return ipc_error_set(e, IPC_ERR_NOT_FOUND, "node '%s' does not read '%s'", to,
				     from);
	return 0;
}
