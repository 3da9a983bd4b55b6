/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/nodes.c: the registry of node types — every type the config's `type = ...` may
 * name, in the order the docs list them.
 */
#include <stddef.h>

#include "daemon/engine/node.h"
#include "daemon/nodes/nodes.h"

extern const struct node_type node_type_input;
extern const struct node_type node_type_output;
extern const struct node_type node_type_gain;
extern const struct node_type node_type_mix;
extern const struct node_type node_type_tone;
extern const struct node_type node_type_noise;
extern const struct node_type node_type_fir;
extern const struct node_type node_type_eq;
extern const struct node_type node_type_delay;
extern const struct node_type node_type_meter;
extern const struct node_type node_type_player;
extern const struct node_type node_type_recorder;
extern const struct node_type node_type_limiter;

const struct node_type *const node_types[] = {
	&node_type_input,   &node_type_output,
	&node_type_gain,    &node_type_mix,
	&node_type_tone,    &node_type_noise,
	&node_type_fir,     &node_type_eq,
	&node_type_delay,   &node_type_meter,
	&node_type_player,  &node_type_recorder,
	&node_type_limiter, NULL,
};
