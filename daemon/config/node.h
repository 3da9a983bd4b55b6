/* SPDX-License-Identifier: MIT */
/*
 * daemon/config/node.h: the configuration's node sections — `[node.NAME]` — and the references
 * a node's `input` lists. The one place that knows how a node's section is named; the engine's
 * graph, the control commands and their edits all go through it. Thread: any (no state).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct conf;
struct conf_section;

/* What a node's section name starts with: [node.NAME]. */
#define CONF_NODE_PREFIX "node."

/* The node's name if sec is a node section (borrowed from sec), else NULL. */
const char *conf_node_name(const struct conf_section *sec);

/*
 * Writes the section name of node into buf (size bytes; truncated past 150 bytes of name,
 * which no node name reaches: the graph refuses longer ones). Returns buf.
 */
char *conf_node_section_name(char *buf, size_t size, const char *node);

/* node's section in c, or NULL. */
const struct conf_section *conf_find_node(const struct conf *c, const char *node);

/*
 * Strips spaces and tabs from both ends of s in place (the end by writing a '\0'); returns the
 * first character kept. For the comma-separated references of `input`.
 */
char *conf_trim(char *s);
