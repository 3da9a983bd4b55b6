/* SPDX-License-Identifier: MIT */
/* daemon/config/node.c: node sections by name, and trimming the references `input` lists. */
#include <stdio.h>
#include <string.h>

#include "daemon/config/config.h"
#include "daemon/config/node.h"

const char *conf_node_name(const struct conf_section *sec)
{
	if (!sec || strncmp(sec->name, CONF_NODE_PREFIX, strlen(CONF_NODE_PREFIX)) != 0)
		return NULL;
	return sec->name + strlen(CONF_NODE_PREFIX);
}

char *conf_node_section_name(char *buf, size_t size, const char *node)
{
	snprintf(buf, size, CONF_NODE_PREFIX "%.150s", node);
	return buf;
}

const struct conf_section *conf_find_node(const struct conf *c, const char *node)
{
	char name[160];

	return conf_find_section(c, conf_node_section_name(name, sizeof(name), node));
}

char *conf_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}
