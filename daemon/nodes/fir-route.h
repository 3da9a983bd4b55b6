/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/fir-route.h: the `route` key of a fir node, its convolution matrix as text:
 * a list of IN>OUT:IR items, separated by commas (spaces allowed around every part), each
 * sending input channel IN through channel IR of the impulse response file into output channel
 * OUT, all numbered from 1 (like `NAME:N` references). "1>1:1, 1>2:2, 2>1:3, 2>2:4" is stereo
 * with crossfeed from a four-channel file.
 *
 * Non-logging: the node words its messages around the reason given here.
 */
#pragma once

#include <stddef.h>

/* Most channels on either side of a route (the engine's channel limit). */
#define NODE_FIR_ROUTE_MAX_CHANNEL 64u
/* Most routes in one key: every input to every output. */
#define NODE_FIR_ROUTE_MAX (NODE_FIR_ROUTE_MAX_CHANNEL * NODE_FIR_ROUTE_MAX_CHANNEL)

struct node_fir_route {
	unsigned in, out, ir; /* channels, from 1 to NODE_FIR_ROUTE_MAX_CHANNEL */
};

/*
 * Thread: any. Parses text (borrowed) into *ret (owned by the caller: free()) of *ret_count >= 1
 * routes, in the order written. 0; -EINVAL with why (why_size bytes, borrowed) saying which item
 * is wrong and how; -ENOMEM. *ret untouched on failure.
 */
int node_fir_route_parse(const char *text, struct node_fir_route **ret, size_t *ret_count,
			 char *why, size_t why_size);

/* Thread: any. The largest output channel of count routes (the node's output channels). */
unsigned node_fir_route_get_outputs(const struct node_fir_route *routes, size_t count);
