/* SPDX-License-Identifier: MIT */
/*
 * daemon/default-graph.h: the graph that runs when no configuration file exists — stereo in,
 * a flat EQ, an identity FIR, a 0 dB volume, a meter, stereo out. Transparent until configured:
 * every node passes samples through bit-exactly in its neutral setting.
 */
#pragma once

#define EL_DEFAULT_GRAPH_NAME "<built-in default graph>"

static const char el_default_graph[] = "[node.in]\n"
				       "type = input\n"
				       "channels = 2\n"
				       "\n"
				       "[node.eq]\n"
				       "type = eq\n"
				       "input = in\n"
				       "\n"
				       "[node.fir]\n"
				       "type = fir\n"
				       "input = eq\n"
				       "\n"
				       "[node.volume]\n"
				       "type = gain\n"
				       "input = fir\n"
				       "\n"
				       "[node.meter]\n"
				       "type = meter\n"
				       "input = volume\n"
				       "\n"
				       "[node.out]\n"
				       "type = output\n"
				       "input = meter\n";
