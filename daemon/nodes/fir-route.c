/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/fir-route.c: parses a fir node's `route` key (fir-route.h). Hand-written because
 * it is three numbers and two marks per item; everything around it (the INI file, the list
 * being one value) is inih's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-macros.h"
#include "daemon/nodes/fir-route.h"

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* A channel number at *p (1..max, decimal digits only), *p moved past it and the spaces after. */
static int read_channel(const char **p, unsigned *ret)
{
	const char *s = skip_space(*p);
	unsigned v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned)(*s - '0');
		if (v > NODE_FIR_ROUTE_MAX_CHANNEL)
			return -ERANGE;
	}
	if (v == 0)
		return -ERANGE;
	*p = skip_space(s);
	*ret = v;
	return 0;
}

/* One item from *p up to a comma or the end: IN>OUT:IR. *p moved past it (and its comma). */
static int read_item(const char **p, struct node_fir_route *ret)
{
	const char *s = *p;
	int r;

	r = read_channel(&s, &ret->in);
	if (r == 0)
		r = *s == '>' ? (s++, read_channel(&s, &ret->out)) : -EINVAL;
	if (r == 0)
		r = *s == ':' ? (s++, read_channel(&s, &ret->ir)) : -EINVAL;
	if (r == 0 && *s != ',' && *s != '\0')
		r = -EINVAL;
	if (r < 0)
		return r;
	*p = *s == ',' ? s + 1 : s;
	return 0;
}

/* why = "item 'TEXT': REASON", the item without its spaces, cut at its comma (and at 40). */
static int fail(const char *item, int r, char *why, size_t why_size)
{
	const char *s = skip_space(item);
	int len = (int)strcspn(s, ",");

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	snprintf(why, why_size, "item '%.*s': %s", EL_MIN(len, 40), s,
		 r == -ERANGE ? "channels are numbered from 1 to 64"
			      : "expected IN>OUT:IR (input channel > output channel : IR channel)");
	return -EINVAL;
}

int node_fir_route_parse(const char *text, struct node_fir_route **ret, size_t *ret_count,
			 char *why, size_t why_size)
{
	struct node_fir_route *routes;
	const char *p = text;
	size_t n = 0;
	int r;

	routes = calloc(NODE_FIR_ROUTE_MAX, sizeof(*routes));
	if (!routes)
		return -ENOMEM;
	while (*skip_space(p) != '\0') {
		const char *item = p;

		if (n == NODE_FIR_ROUTE_MAX) {
			snprintf(why, why_size, "more than %u routes", NODE_FIR_ROUTE_MAX);
			r = -EINVAL;
			goto fail;
		}
		r = read_item(&p, &routes[n]);
		if (r < 0) {
			r = fail(item, r, why, why_size);
			goto fail;
		}
		n++;
	}
	if (n == 0) {
		snprintf(why, why_size, "expected at least one IN>OUT:IR");
		r = -EINVAL;
		goto fail;
	}
	*ret = realloc(routes, n * sizeof(*routes)) ?: routes;
	*ret_count = n;
	return 0;
fail:
	free(routes);
	return r;
}

unsigned node_fir_route_get_outputs(const struct node_fir_route *routes, size_t count)
{
	unsigned n = 0;

	for (size_t i = 0; i < count; i++)
		n = EL_MAX(n, routes[i].out);
	return n;
}
