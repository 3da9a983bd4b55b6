/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz-routes.c: libFuzzer target for the parser of a fir node's `route` key
 * (node_fir_route_parse, daemon/nodes/fir-route.h).
 *
 * Each input is one value (a NUL-terminated copy of the bytes). Besides crashes, out-of-bounds
 * reads and UB, it checks what the node relies on: a value that parses has 1 to
 * NODE_FIR_ROUTE_MAX routes, every channel from 1 to NODE_FIR_ROUTE_MAX_CHANNEL; one that does
 * not says why in a terminated message.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/nodes/fir-route.h"
#include "tests/fuzz/fuzz-text.h"

/* A value is one INI line; longer inputs only make each run slower. */
#define FUZZ_MAX_INPUT 16384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct node_fir_route *routes = NULL;
	size_t count = 0;
	char why[160], *text;
	int r;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	text = fuzz_text(data, size);
	if (!text)
		return 0;
	memset(why, 'x', sizeof(why));
	r = node_fir_route_parse(text, &routes, &count, why, sizeof(why));
	if (r == 0) {
		if (count == 0 || count > NODE_FIR_ROUTE_MAX)
			abort();
		for (size_t i = 0; i < count; i++)
			if (routes[i].in - 1 >= NODE_FIR_ROUTE_MAX_CHANNEL ||
			    routes[i].out - 1 >= NODE_FIR_ROUTE_MAX_CHANNEL ||
			    routes[i].ir - 1 >= NODE_FIR_ROUTE_MAX_CHANNEL)
				abort();
		if (node_fir_route_get_outputs(routes, count) - 1 >= NODE_FIR_ROUTE_MAX_CHANNEL)
			abort();
		free(routes);
	} else if (r != -EINVAL || !memchr(why, '\0', sizeof(why))) {
		abort();
	}
	free(text);
	return 0;
}
