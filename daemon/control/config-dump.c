/* SPDX-License-Identifier: MIT */
/*
 * daemon/control/config-dump.c: the running configuration as a file (config-dump.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/el-error.h"
#include "daemon/config/config.h"
#include "daemon/control/settings.h"
#include "daemon/control/config-dump.h"
#include "daemon/engine/engine.h"
#include "daemon/engine/node.h"
#include "daemon/fs/beneath.h"

static const char node_prefix[] = "node.";

static bool is_key(const struct node_type *t, const char *name)
{
	for (size_t i = 0; t->keys && t->keys[i]; i++)
		if (strcmp(t->keys[i], name) == 0)
			return true;
	return false;
}

/* The shortest text that reads back as v (INI values are parsed with strtod). */
static void format_number(double v, char *buf, size_t size)
{
	for (int digits = 6; digits <= 17; digits++) {
		snprintf(buf, size, "%.*g", digits, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* Section sec's settable parameters that are keys of its type, at their values now, into c. */
static int dump_params(struct conf *c, const char *section, struct eng_engine *e,
		       struct el_error *reterr)
{
	const char *node = section + sizeof(node_prefix) - 1;
	const struct node_type *t;
	unsigned in, out;

	if (eng_engine_get_node_info(e, node, &t, &in, &out) < 0)
		return 0; /* not built (a section the graph does not use): as it is */
	for (size_t i = 0; i < t->n_params; i++) {
		const struct node_param *p = &t->params[i];
		char text[64];
		double v;
		int r;

		if (!p->settable || p->per_channel || !is_key(t, p->name) ||
		    eng_engine_get_param(e, node, p->name, 0, &v, NULL) < 0)
			continue;
		if (p->unit && strcmp(p->unit, "bool") == 0)
			snprintf(text, sizeof(text), "%s", v != 0.0 ? "yes" : "no");
		else
			format_number(v, text, sizeof(text));
		r = conf_set(c, section, p->name, text, "running", 0);
		if (r < 0)
			return el_error_set(reterr, r, "[%s] %s: %s", section, p->name,
					    strerror(-r));
	}
	return 0;
}

/*
 * A file a section names relative to the file that named it, made absolute, so the dump reads
 * the same files wherever it is saved (a recorder's relative name is the recordings directory's,
 * not a file's: kept).
 */
static int absolute_paths(struct conf *c, const char *section, struct el_error *reterr)
{
	const struct conf_entry *type = conf_section_find(conf_find_section(c, section), "type");

	if (type && strcmp(type->value, "recorder") == 0)
		return 0;
	for (size_t k = 0;; k++) {
		/* looked up again each time: conf_set may move the section's entries */
		const struct conf_section *sec = conf_find_section(c, section);
		const struct conf_entry *e = sec && k < sec->n_entries ? &sec->entries[k] : NULL;
		const char *slash = e ? strrchr(e->origin.file, '/') : NULL;
		char *path, key[64];
		int r;

		if (!e)
			break;
		if ((!ctl_settings_is_file_key(e->key) && strcmp(e->key, "capture_file") != 0) ||
		    e->value[0] == '/' || !slash)
			continue; /* absolute, or not from a file (a command's: as given) */
		if (asprintf(&path, "%.*s/%s", (int)(slash - e->origin.file), e->origin.file,
			     e->value) < 0)
			return el_error_set(reterr, -ENOMEM, "out of memory");
		snprintf(key, sizeof(key), "%s", e->key); /* e may move in conf_set */
		r = conf_set(c, section, key, path, e->origin.file, e->origin.line);
		free(path);
		if (r < 0)
			return el_error_set(reterr, r, "[%s] %s: %s", section, key, strerror(-r));
	}
	return 0;
}

int ctl_config_dump(const struct conf *c, struct eng_engine *e, const char *from, char **ret,
		    struct el_error *reterr)
{
	struct conf *copy = NULL;
	char header[512];
	int r = conf_copy(c, &copy);

	if (r < 0)
		return el_error_set(reterr, r, "out of memory");
	for (size_t i = 0; i < conf_get_n_sections(copy) && r == 0; i++) {
		const char *name = conf_get_section(copy, i)->name;

		r = absolute_paths(copy, name, reterr);
		if (r == 0 && strncmp(name, node_prefix, sizeof(node_prefix) - 1) == 0)
			r = dump_params(copy, name, e, reterr);
	}
	snprintf(header, sizeof(header),
		 "# echoeld: the running configuration (config.dump), from %s with the changes\n"
		 "# made since and the parameters' values at the time of the dump.\n\n",
		 from ? from : "the built-in default graph");
	if (r == 0)
		r = conf_format(copy, header, ret, reterr);
	conf_free(copy);
	return r;
}

/* A new file beside name in dir, named name, a dot and six random hex digits (into tmp). A
 * descriptor, or -errno. */
static int temp_beside(int dir, const char *name, char *tmp, size_t size)
{
	for (int tries = 0; tries < 100; tries++) {
		int fd;

		if (snprintf(tmp, size, "%s.%06x", name, arc4random() & 0xffffff) >= (int)size)
			return -ENAMETOOLONG;
		fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

int ctl_config_save(const char *text, const char *path, const char *const *beneath,
		    struct el_error *reterr)
{
	size_t len = strlen(text), done = 0;
	const char *name = NULL;
	char tmp[NAME_MAX + 1];
	int fd, r = 0;
	/* the directory opened once, beneath: the temporary file and the rename both go there,
	 * whatever is swapped under its path meanwhile (daemon/fs/beneath.h) */
	int dir = fs_open_parent_beneath(beneath, path, &name);

	if (dir < 0)
		return el_error_set(reterr, dir, "'%s': cannot write there: %s", path,
				    strerror(-dir));
	fd = temp_beside(dir, name, tmp, sizeof(tmp));
	if (fd < 0) {
		close(dir);
		return el_error_set(reterr, fd, "'%s': cannot create a file beside it: %s", path,
				    strerror(-fd));
	}
	(void)fchmod(fd, 0644); /* not the umask's: a configuration is read by its admin */
	while (done < len && r == 0) {
		ssize_t w = write(fd, text + done, len - done);

		if (w < 0)
			r = -errno;
		else
			done += (size_t)w;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	/* renameat replaces a symlink at name itself, never what it points to */
	if (r == 0 && renameat(dir, tmp, dir, name) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dir, tmp, 0);
	close(dir);
	if (r < 0)
		return el_error_set(reterr, r, "'%s': cannot write: %s", path, strerror(-r));
	return 0;
}
