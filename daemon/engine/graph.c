/* SPDX-License-Identifier: MIT */
/*
 * daemon/engine/graph.c: from [node.NAME] sections to a checked, ordered graph.
 *
 * Two passes: the first collects nodes and their types (so an input may name a node defined
 * further down, or in a later drop-in), the second resolves `input` references. The order is a
 * depth-first topological sort; meeting a node that is still on the stack is a cycle, reported
 * with its path at the `input` key that closes it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/config/config.h"
#include "daemon/config/node.h"
#include "daemon/engine/graph.h"
#include "daemon/engine/node.h"


/* Sections that are not nodes and that someone reads. */
static const char *const known_sections[] = {"engine", "ipc",    "jack",  "pipewire", "alsa",
					     "dummy",  "policy", "cache", NULL};

static int is_known_section(const char *name)
{
	for (size_t i = 0; known_sections[i]; i++)
		if (strcmp(known_sections[i], name) == 0)
			return 1;
	return 0;
}

static int valid_node_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ENG_NODE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

const struct node_type *eng_node_type_find(const struct node_type *const *types, const char *name)
{
	for (size_t i = 0; name && types[i]; i++)
		if (strcmp(types[i]->name, name) == 0)
			return types[i];
	return NULL;
}

static int known_types_list(const struct node_type *const *types, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; types[i] && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
					 types[i]->name);
	return 0;
}

static int graph_add_node(struct eng_graph *g, const struct node_type *const *types,
			  const struct conf_section *sec, struct el_error *reterr)
{
	const char *name = conf_node_name(sec);
	const struct conf_entry *type = conf_section_find(sec, "type");
	struct eng_graph_node *n = &g->nodes[g->n_nodes];
	char known[256];

	if (!valid_node_name(name))
		return conf_error_section(reterr, -EINVAL, sec,
					  "invalid node name (1 to %d letters, digits, '_', '-')",
					  ENG_NODE_NAME_MAX);
	if (!type)
		return conf_error_section(reterr, -EINVAL, sec, "missing key 'type'");
	n->type = eng_node_type_find(types, type->value);
	if (!n->type) {
		known_types_list(types, known, sizeof(known));
		return conf_error_entry(reterr, -EINVAL, type, "unknown node type '%s' (known: %s)",
					type->value, known);
	}
	n->name = name;
	n->section = sec;
	g->n_nodes++;
	return 0;
}

/* Parses one "NAME" or "NAME:CH" token (trimmed, NUL-terminated) into ref. */
static int parse_ref(const struct eng_graph *g, const struct conf_entry *e, char *tok,
		     struct eng_graph_ref *ref, struct el_error *reterr)
{
	char *colon = strchr(tok, ':'), *end;
	size_t idx;

	ref->channel = 0;
	ref->entry = e;
	if (colon) {
		unsigned long ch;

		*colon = '\0';
		errno = 0;
		ch = strtoul(colon + 1, &end, 10);
		if (colon[1] < '1' || colon[1] > '9' || *end || errno || ch > 64)
			return conf_error_entry(reterr, -EINVAL, e,
						"bad channel '%s' in '%s:%s' (expected 1 to 64)",
						colon + 1, tok, colon + 1);
		ref->channel = (unsigned)ch;
	}
	if (*tok == '\0')
		return conf_error_entry(reterr, -EINVAL, e, "empty node name in '%s'", e->value);
	if (eng_graph_find(g, tok, &idx) < 0)
		return conf_error_entry(reterr, -EINVAL, e, "no node named '%s'", tok);
	ref->node = idx;
	return 0;
}

static int graph_resolve_inputs(struct eng_graph *g, struct eng_graph_node *n,
				struct el_error *reterr)
{
	const struct conf_entry *e = conf_section_find(n->section, "input");
	char *copy, *save = NULL;
	size_t count = 1;
	int r = 0;

	if (!e)
		return 0;
	if (n->type->role == NODE_ROLE_CAPTURE || n->type->source)
		return conf_error_entry(reterr, -EINVAL, e, "a node of type '%s' takes no input",
					n->type->name);
	for (const char *p = e->value; *p; p++)
		count += *p == ',';
	copy = strdup(e->value);
	n->refs = calloc(count, sizeof(*n->refs));
	if (!copy || !n->refs) {
		free(copy);
		return -ENOMEM;
	}
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		r = parse_ref(g, e, conf_trim(tok), &n->refs[n->n_refs], reterr);
		if (r < 0)
			break;
		n->n_refs++;
	}
	if (r == 0 && n->n_refs == 0)
		r = conf_error_entry(reterr, -EINVAL, e, "expected node names, got '%s'", e->value);
	free(copy);
	return r;
}

/* Depth-first topological sort. state: 0 new, 1 on the stack, 2 done. stack holds the path. */
static int graph_visit(struct eng_graph *g, size_t i, unsigned char *state, size_t *stack,
		       size_t depth, size_t *n_order, struct el_error *reterr)
{
	struct eng_graph_node *n = &g->nodes[i];
	unsigned level = 0;

	if (state[i] == 2)
		return 0;
	stack[depth] = i;
	if (state[i] == 1) {
		char path[EL_ERROR_MAX / 2];
		size_t start = 0, used = 0;

		while (stack[start] != i)
			start++;
		path[0] = '\0';
		for (size_t k = start; k <= depth && used < sizeof(path); k++)
			used += (size_t)snprintf(path + used, sizeof(path) - used, "%s%s",
						 k > start ? " -> " : "", g->nodes[stack[k]].name);
		n = &g->nodes[stack[depth - 1]];
		/* Blame an edge a command made (origin line 0), if one is on the cycle: a refused
		 * `connect` must name the command, not the file line of another edge. */
		for (size_t k = start; k < depth; k++) {
			const struct conf_entry *e =
				conf_section_find(g->nodes[stack[k]].section, "input");

			if (e && e->origin.line == 0)
				n = &g->nodes[stack[k]];
		}
		return conf_error_entry(reterr, -ELOOP, conf_section_find(n->section, "input"),
					"cycle: %s", path);
	}
	state[i] = 1;
	for (size_t k = 0; k < n->n_refs; k++) {
		int r = graph_visit(g, n->refs[k].node, state, stack, depth + 1, n_order, reterr);
		if (r < 0)
			return r;
		level = EL_MAX(level, g->nodes[n->refs[k].node].level + 1);
	}
	n->level = level;
	g->n_levels = EL_MAX(g->n_levels, level + 1);
	state[i] = 2;
	g->order[(*n_order)++] = i;
	return 0;
}

static int graph_sort(struct eng_graph *g, struct el_error *reterr)
{
	unsigned char *state = calloc(g->n_nodes + 1, 1);
	size_t *stack = calloc(g->n_nodes + 1, sizeof(*stack));
	size_t n_order = 0;
	int r = 0;

	if (!state || !stack) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < g->n_nodes && r == 0; i++)
		r = graph_visit(g, i, state, stack, 0, &n_order, reterr);
out:
	free(state);
	free(stack);
	return r;
}

int eng_graph_new(const struct conf *c, const struct node_type *const *types,
		  struct eng_graph **ret, struct el_error *reterr)
{
	size_t n_sections = conf_get_n_sections(c);
	struct eng_graph *g = calloc(1, sizeof(*g));
	int r = -ENOMEM;

	if (!g)
		return -ENOMEM;
	g->nodes = calloc(n_sections + 1, sizeof(*g->nodes));
	g->order = calloc(n_sections + 1, sizeof(*g->order));
	if (!g->nodes || !g->order)
		goto fail;
	for (size_t i = 0; i < n_sections; i++) {
		const struct conf_section *sec = conf_get_section(c, i);

		if (conf_node_name(sec))
			r = graph_add_node(g, types, sec, reterr);
		else if (is_known_section(sec->name))
			r = 0;
		else
			r = conf_error_section(
				reterr, -EINVAL, sec,
				"unknown section (expected [engine], [ipc], [jack], [pipewire], "
				"[alsa], [dummy], [policy], [cache] or [node.NAME])");
		if (r < 0)
			goto fail;
	}
	for (size_t i = 0; i < g->n_nodes; i++)
		if ((r = graph_resolve_inputs(g, &g->nodes[i], reterr)) < 0)
			goto fail;
	if ((r = graph_sort(g, reterr)) < 0)
		goto fail;
	*ret = g;
	return 0;
fail:
	eng_graph_free(g);
	return r;
}

struct eng_graph *eng_graph_free(struct eng_graph *g)
{
	if (!g)
		return NULL;
	for (size_t i = 0; g->nodes && i < g->n_nodes; i++)
		free(g->nodes[i].refs);
	free(g->nodes);
	free(g->order);
	free(g);
	return NULL;
}

int eng_graph_find(const struct eng_graph *g, const char *name, size_t *ret)
{
	for (size_t i = 0; i < g->n_nodes; i++)
		if (strcmp(g->nodes[i].name, name) == 0) {
			*ret = i;
			return 0;
		}
	return -ENOENT;
}
