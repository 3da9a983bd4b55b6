/* SPDX-License-Identifier: MIT */
/*
 * daemon/config/format.c: a configuration written back as INI text (config.h, conf_format).
 *
 * Sections in their order, each entry `key = value` as it holds now: the text loads into the same
 * sections and values (values are stored with their blanks stripped, so none is lost; a value
 * that begins with a comment character or holds a line break cannot be written as INI and is
 * refused).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-error.h"
#include "daemon/config/config.h"

int conf_format(const struct conf *c, const char *header, char **ret, struct el_error *reterr)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	int r = 0;

	if (!f)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	if (header)
		fprintf(f, "%s", header);
	for (size_t i = 0; i < conf_get_n_sections(c) && r == 0; i++) {
		const struct conf_section *sec = conf_get_section(c, i);

		fprintf(f, "%s[%s]\n", i ? "\n" : "", sec->name);
		for (size_t k = 0; k < sec->n_entries; k++) {
			const struct conf_entry *e = &sec->entries[k];

			if (strpbrk(e->value, "\n\r") || e->value[0] == ';' || e->value[0] == '#') {
				r = el_error_set(reterr, -EINVAL,
						 "[%s] %s: the value '%s' cannot be written as INI",
						 sec->name, e->key, e->value);
				break;
			}
			fprintf(f, "%s = %s\n", e->key, e->value);
		}
	}
	if (fclose(f) != 0 && r == 0)
		r = el_error_set(reterr, -ENOMEM, "out of memory");
	if (r < 0) {
		free(text);
		return r;
	}
	*ret = text;
	return 0;
}
