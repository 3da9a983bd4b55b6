/* SPDX-License-Identifier: MIT */
/* daemon/engine/inst.c: node instances and their reference counting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-error.h"
#include "daemon/config/config.h"
#include "daemon/engine/inst.h"
#include "daemon/engine/node.h"

static uint32_t next_id = 1; /* control thread only */

int eng_inst_new(const struct node_type *type, const char *name, const struct conf_section *sec,
		 const struct eng_node_env *env, struct eng_inst **ret, struct el_error *reterr)
{
	struct eng_inst *i = calloc(1, sizeof(*i));
	int r = -ENOMEM;

	if (!i)
		return -ENOMEM;
	i->type = type;
	i->name = strdup(name);
	i->signature = eng_inst_signature(sec);
	i->in_groups = calloc(env->n_groups + 1, sizeof(*i->in_groups));
	if (!i->name || !i->signature || !i->in_groups)
		goto fail;
	if (env->n_groups)
		memcpy(i->in_groups, env->in_groups, env->n_groups * sizeof(*i->in_groups));
	i->n_groups = env->n_groups;
	r = type->create(sec, env, &i->state, reterr);
	if (r < 0)
		goto fail;
	i->n_in = env->in_channels;
	i->n_out = type->get_out_channels(i->state);
	i->id = next_id++;
	i->refs = 1;
	*ret = i;
	return 0;
fail:
	free(i->name);
	free(i->signature);
	free(i->in_groups);
	free(i);
	return r;
}

struct eng_inst *eng_inst_ref(struct eng_inst *i)
{
	i->refs++;
	return i;
}

struct eng_inst *eng_inst_unref(struct eng_inst *i)
{
	if (!i || --i->refs > 0)
		return NULL;
	i->type->destroy(i->state);
	free(i->name);
	free(i->signature);
	free(i->in_groups);
	free(i);
	return NULL;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct conf_entry *x = *(const struct conf_entry *const *)a;
	const struct conf_entry *y = *(const struct conf_entry *const *)b;

	return strcmp(x->key, y->key);
}

char *eng_inst_signature(const struct conf_section *sec)
{
	const struct conf_entry **sorted = calloc(sec->n_entries + 1, sizeof(*sorted));
	char *buf = NULL;
	size_t len = 0, n = 0;
	FILE *f;

	if (!sorted)
		return NULL;
	for (size_t k = 0; k < sec->n_entries; k++)
		if (strcmp(sec->entries[k].key, "type") && strcmp(sec->entries[k].key, "input"))
			sorted[n++] = &sec->entries[k];
	qsort(sorted, n, sizeof(*sorted), cmp_entry);
	f = open_memstream(&buf, &len);
	if (f) {
		for (size_t k = 0; k < n; k++)
			fprintf(f, "%s=%s\n", sorted[k]->key, sorted[k]->value);
		if (fclose(f) != 0) {
			free(buf);
			buf = NULL;
		}
	}
	free(sorted);
	return buf;
}

int eng_inst_same_inputs(const struct eng_inst *i, const struct eng_node_env *env)
{
	return i->n_in == env->in_channels && i->n_groups == env->n_groups &&
	       (env->n_groups == 0 ||
		memcmp(i->in_groups, env->in_groups, env->n_groups * sizeof(unsigned)) == 0);
}
