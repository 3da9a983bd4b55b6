/* SPDX-License-Identifier: MIT */
/*
 * daemon/config/edit.c: changing a configuration in memory — what the control socket's graph
 * commands do (node.add, node.remove, connect, disconnect) before the result is compiled like a
 * file. The running configuration is never edited in place: a copy is edited and replaces it
 * only once the engine has accepted it, so a refused change leaves nothing behind.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-macros.h"
#include "daemon/config/private.h"
#include "daemon/config/config.h"

static int grow_sections(struct conf *c)
{
	size_t cap;
	struct conf_sec *a;

	if (c->n_sections < c->capacity)
		return 0;
	cap = c->capacity ? 2 * c->capacity : 16;
	a = realloc(c->sections, cap * sizeof(*a));
	if (!a)
		return -ENOMEM;
	c->sections = a;
	c->capacity = cap;
	return 0;
}

static int grow_entries(struct conf_sec *s)
{
	size_t cap;
	struct conf_entry *a;

	if (s->pub.n_entries < s->capacity)
		return 0;
	cap = s->capacity ? 2 * s->capacity : 8;
	a = realloc(s->entries, cap * sizeof(*a));
	if (!a)
		return -ENOMEM;
	s->entries = a;
	s->pub.entries = a;
	s->capacity = cap;
	return 0;
}

static struct conf_sec *find_sec(struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_sections; i++)
		if (strcmp(c->sections[i].pub.name, name) == 0)
			return &c->sections[i];
	return NULL;
}

/* An arena copy of s; the same pointer back for the same string as last time (origin files). */
static const char *dup_origin(struct conf *c, const char *s, const char **last_in,
			      const char **last_out)
{
	if (s == *last_in)
		return *last_out;
	*last_in = s;
	*last_out = s ? conf_strndup(c, s, strlen(s)) : NULL;
	return *last_out;
}

static int copy_section(struct conf *dst, const struct conf_section *src, const char **last_in,
			const char **last_out)
{
	struct conf_sec *s = &dst->sections[dst->n_sections];

	*s = (struct conf_sec){0};
	s->pub.name = conf_strndup(dst, src->name, strlen(src->name));
	s->pub.origin.file = dup_origin(dst, src->origin.file, last_in, last_out);
	s->pub.origin.line = src->origin.line;
	dst->n_sections++; /* counted before filling, so conf_free frees a half copy */
	if (!s->pub.name)
		return -ENOMEM;
	for (size_t k = 0; k < src->n_entries; k++) {
		const struct conf_entry *e = &src->entries[k];
		struct conf_entry *d;

		if (grow_entries(s) < 0)
			return -ENOMEM;
		d = &s->entries[s->pub.n_entries];
		d->key = conf_strndup(dst, e->key, strlen(e->key));
		d->value = conf_strndup(dst, e->value, strlen(e->value));
		d->origin.file = dup_origin(dst, e->origin.file, last_in, last_out);
		d->origin.line = e->origin.line;
		d->origin.client = e->origin.client;
		if (!d->key || !d->value)
			return -ENOMEM;
		s->pub.n_entries++;
	}
	return 0;
}

int conf_copy(const struct conf *c, struct conf **ret)
{
	struct conf *d = calloc(1, sizeof(*d));
	const char *last_in = NULL, *last_out = NULL;

	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_sections; i++)
		if (grow_sections(d) < 0 ||
		    copy_section(d, &c->sections[i].pub, &last_in, &last_out) < 0) {
			conf_free(d);
			return -ENOMEM;
		}
	*ret = d;
	return 0;
}

int conf_set(struct conf *c, const char *section, const char *key, const char *value,
	     const char *origin_file, unsigned line)
{
	struct conf_sec *s = find_sec(c, section);
	const char *file = conf_strndup(c, origin_file, strlen(origin_file));
	struct conf_entry *e;

	if (!file)
		return -ENOMEM;
	if (!s) {
		if (c->n_sections >= CONF_MAX_SECTIONS)
			return -E2BIG;
		if (grow_sections(c) < 0)
			return -ENOMEM;
		s = &c->sections[c->n_sections];
		*s = (struct conf_sec){.pub.origin = {file, line}};
		s->pub.name = conf_strndup(c, section, strlen(section));
		if (!s->pub.name)
			return -ENOMEM;
		c->n_sections++;
	}
	e = (struct conf_entry *)conf_section_find(&s->pub, key);
	if (!e) {
		if (s->pub.n_entries >= CONF_MAX_ENTRIES_PER_SECTION)
			return -E2BIG;
		if (grow_entries(s) < 0)
			return -ENOMEM;
		e = &s->entries[s->pub.n_entries];
		e->key = conf_strndup(c, key, strlen(key));
		if (!e->key)
			return -ENOMEM;
		s->pub.n_entries++;
	}
	e->value = conf_strndup(c, value, strlen(value));
	e->origin = (struct conf_origin){file, line};
	return e->value ? 0 : -ENOMEM;
}

void conf_mark_client(struct conf *c, const char *section)
{
	for (size_t i = 0; i < c->n_sections; i++) {
		struct conf_sec *s = &c->sections[i];

		if (section && strcmp(s->pub.name, section) != 0)
			continue;
		for (size_t k = 0; k < s->pub.n_entries; k++)
			s->entries[k].origin.client = true;
	}
}

int conf_unset(struct conf *c, const char *section, const char *key)
{
	struct conf_sec *s = find_sec(c, section);

	for (size_t k = 0; s && k < s->pub.n_entries; k++)
		if (strcmp(s->entries[k].key, key) == 0) {
			memmove(&s->entries[k], &s->entries[k + 1],
				(s->pub.n_entries - k - 1) * sizeof(*s->entries));
			s->pub.n_entries--;
			return 0;
		}
	return -ENOENT;
}

int conf_remove_section(struct conf *c, const char *section)
{
	struct conf_sec *s = find_sec(c, section);
	size_t i;

	if (!s)
		return -ENOENT;
	i = (size_t)(s - c->sections);
	free(s->entries);
	memmove(&c->sections[i], &c->sections[i + 1], (c->n_sections - i - 1) * sizeof(*s));
	c->n_sections--;
	return 0;
}
