/* SPDX-License-Identifier: MIT */
/*
 * daemon/engine/graph.h: the graph as the configuration describes it — nodes with a type and
 * references to the nodes they read — checked for unknown types, unknown inputs and cycles,
 * and put in topological order. It knows names and structure, not channels or buffers: the
 * plan compiler (plan.h) adds those once instances exist.
 *
 * Thread: control. Borrows the struct conf it was built from (names, sections, origins).
 */
#pragma once

#include <stddef.h>

struct conf;
struct conf_entry;
struct conf_section;
struct el_error;
struct node_type;

/* One reference in an `input` key: a node, and one of its channels or all of them. */
struct eng_graph_ref {
	size_t node;                    /* index into the graph's nodes */
	unsigned channel;               /* 1-based channel, 0 = all channels */
	const struct conf_entry *entry; /* the `input` entry, for error messages */
};

struct eng_graph_node {
	const char *name; /* borrowed from the conf: the NAME of [node.NAME] */
	const struct node_type *type;
	const struct conf_section *section;
	struct eng_graph_ref *refs; /* owned by the graph, in the order written */
	size_t n_refs;
	unsigned level; /* 0 for nodes without inputs, else 1 + the deepest input's level */
};

struct eng_graph {
	struct eng_graph_node *nodes; /* owned, in config order */
	size_t n_nodes;
	size_t *order; /* owned: node indices in topological order (inputs before readers) */
	unsigned n_levels;
};

/* Longest node name: JACK port names are "echoeld:<node>_<port>" within 256 bytes. */
#define ENG_NODE_NAME_MAX 64

/*
 * Builds and checks the graph of c's [node.NAME] sections, whose types are found in types
 * (NULL-terminated, borrowed: the graph keeps pointers to them). Sections other than nodes must be
 * known ones ([engine]); others are refused. 0 with *ret; -EINVAL with a message naming file,
 * line and key; -ELOOP (likewise) when the nodes read one another in a cycle; -ENOMEM.
 */
struct node_type;
int eng_graph_new(const struct conf *c, const struct node_type *const *types,
		  struct eng_graph **ret, struct el_error *reterr);

/* Accepts NULL; returns NULL. */
struct eng_graph *eng_graph_free(struct eng_graph *g);

/* The index of the node called name, or -ENOENT. */
int eng_graph_find(const struct eng_graph *g, const char *name, size_t *ret);
