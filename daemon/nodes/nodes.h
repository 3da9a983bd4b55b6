/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/nodes.h: the registry of node types — every type a configuration's `type = ...`
 * may name, in the order the docs list them. The daemon hands it to eng_engine_new(); the
 * engine knows node types only through the list it is given (engine/node.h).
 */
#pragma once

struct node_type;

/* All types, NULL-terminated. Static. */
extern const struct node_type *const node_types[];
