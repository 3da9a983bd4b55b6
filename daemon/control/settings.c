/* SPDX-License-Identifier: MIT */
/* daemon/control/settings.c: the [ipc] section, and which files a client may name. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/config/value.h"
#include "daemon/config/config.h"
#include "daemon/control/settings.h"
#include "daemon/fs/beneath.h"
#include "ipc/protocol.h"
#include "ipc/socket-path.h"

#define CTL_DEFAULT_FILE_DIRS "/etc/echoeld:/var/lib/echoeld"

static const char *const ipc_keys[] = {"socket",          "mode",        "group",    "allow_uids",
				       "allow_gids",      "max_clients", "max_line", "max_queue",
				       "idle_timeout_ms", "file_dirs",   NULL};

/* A comma list of non-negative integers (uids or gids). */
static int read_ids(const struct conf_section *sec, const char *key, unsigned **ret, size_t *ret_n,
		    struct el_error *reterr)
{
	double vals[64];
	size_t n = 0;
	int r = conf_get_double_list(sec, key, 0, 4294967294.0, vals, EL_N_ELEMENTS(vals), &n,
				     reterr);

	if (r < 0)
		return r;
	*ret = calloc(n + 1, sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		(*ret)[i] = (unsigned)vals[i];
	*ret_n = n;
	return 0;
}

static int read_mode(const struct conf_section *sec, struct ctl_settings *s,
		     struct el_error *reterr)
{
	const struct conf_entry *e = conf_section_find(sec, "mode");
	char *end;
	unsigned long m;

	s->mode = 0660;
	if (!e)
		return 0;
	m = strtoul(e->value, &end, 8);
	if (!*e->value || *end || m > 0777)
		return conf_error_entry(reterr, -EINVAL, e,
					"expected an octal mode such as 0660, "
					"got '%s'",
					e->value);
	s->mode = (mode_t)m;
	return 0;
}

static int read_group(const struct conf_section *sec, struct ctl_settings *s,
		      struct el_error *reterr)
{
	const struct conf_entry *e = conf_section_find(sec, "group");
	struct group *g;

	s->group = (gid_t)-1;
	if (!e)
		return 0;
	g = getgrnam(e->value);
	if (!g)
		return conf_error_entry(reterr, -EINVAL, e, "no group named '%s'", e->value);
	s->group = g->gr_gid;
	return 0;
}

/* Splits "a:b:c" into absolute, canonical directories (missing ones are kept as written). */
static int read_dirs(const struct conf_section *sec, struct ctl_settings *s,
		     struct el_error *reterr)
{
	const struct conf_entry *e = conf_section_find(sec, "file_dirs");
	const char *text = e ? e->value : CTL_DEFAULT_FILE_DIRS;
	char *copy = strdup(text), *save = NULL;
	size_t n = 0;

	if (!copy)
		return -ENOMEM;
	s->file_dirs = calloc(strlen(text) / 2 + 2, sizeof(*s->file_dirs));
	for (char *d = strtok_r(copy, ":", &save); d && s->file_dirs;
	     d = strtok_r(NULL, ":", &save)) {
		char *real = realpath(d, NULL);

		if (d[0] != '/') {
			free(real);
			free(copy);
			return conf_error_entry(reterr, -EINVAL, e, "'%s' is not an absolute path",
						d);
		}
		s->file_dirs[n++] = real ? real : strdup(d);
	}
	free(copy);
	return s->file_dirs ? 0 : -ENOMEM;
}

int ctl_settings_from_conf(const struct conf *c, const char *socket_override,
			   struct ctl_settings *ret, struct el_error *reterr)
{
	const struct conf_section *sec = conf_find_section(c, "ipc");
	struct ctl_settings s = {0};
	char def[PATH_MAX];
	uint32_t clients, line, queue, idle;
	int r;

	if ((r = conf_check_keys(sec, ipc_keys, reterr)) < 0 ||
	    (r = conf_get_u32(sec, "max_clients", 64, 1, 4096, &clients, reterr)) < 0 ||
	    (r = conf_get_u32(sec, "max_line", 1u << 20, 1024, 64u << 20, &line, reterr)) < 0 ||
	    (r = conf_get_u32(sec, "max_queue", 4u << 20, 65536, 256u << 20, &queue, reterr)) < 0 ||
	    (r = conf_get_u32(sec, "idle_timeout_ms", 10000, 10, 3600000, &idle, reterr)) < 0 ||
	    (r = read_mode(sec, &s, reterr)) < 0 || (r = read_group(sec, &s, reterr)) < 0 ||
	    (r = read_ids(sec, "allow_uids", &s.allow_uids, &s.n_allow_uids, reterr)) < 0 ||
	    (r = read_ids(sec, "allow_gids", &s.allow_gids, &s.n_allow_gids, reterr)) < 0 ||
	    (r = read_dirs(sec, &s, reterr)) < 0)
		goto fail;
	s.max_clients = clients;
	s.max_line = line;
	s.max_queue = queue;
	s.idle_timeout_ms = idle;
	if (socket_override)
		s.socket_path = strdup(socket_override);
	else if (conf_section_find(sec, "socket"))
		s.socket_path = strdup(conf_get_string(sec, "socket", ""));
	else if ((r = ipc_socket_path_default(def, sizeof(def))) == 0)
		s.socket_path = strdup(def);
	if (!s.socket_path) {
		r = el_error_set(reterr, r < 0 ? r : -ENOMEM, "cannot find a socket path");
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	ctl_settings_done(&s);
	return r;
}

void ctl_settings_done(struct ctl_settings *s)
{
	free(s->socket_path);
	free(s->allow_uids);
	free(s->allow_gids);
	for (size_t i = 0; s->file_dirs && s->file_dirs[i]; i++)
		free(s->file_dirs[i]);
	free(s->file_dirs);
	memset(s, 0, sizeof(*s));
}

int ctl_settings_check_path(const struct ctl_settings *s, const char *path, struct ipc_error *e)
{
	/*
	 * Canonical even when nothing is there, and refused with one message either way: the
	 * answer for a path outside file_dirs must not tell whether a file exists there. Only
	 * inside them may a missing file be reported as missing (by whoever opens it).
	 */
	char *real = fs_canonical_lenient(path);

	for (size_t i = 0; real && s->file_dirs[i]; i++) {
		size_t n = strlen(s->file_dirs[i]);

		/* Under the directory itself, not beside it: /etc/echoeld2 is not /etc/echoeld. */
		if (strncmp(real, s->file_dirs[i], n) == 0 && (real[n] == '/' || n == 1)) {
			free(real);
			return 0;
		}
	}
	free(real);
	ipc_error_set(e, IPC_ERR_PERMISSION,
		      "'%s' is outside the directories clients may name ([ipc] file_dirs)", path);
	return -EACCES;
}

bool ctl_settings_is_file_key(const char *key)
{
	size_t digits = strncmp(key, "ir_", 3) == 0 ? strspn(key + 3, "0123456789") : 0;

	return strcmp(key, "ir") == 0 || strcmp(key, "file") == 0 ||
	       (digits > 0 && key[3 + digits] == '\0');
}

/*
 * A recorder's relative name lies in the daemon's own recordings directory (docs/config.md),
 * not beside the configuration: it stays there unless a component is "..", which is refused
 * like a path outside file_dirs would be.
 */
static bool stays_in_recordings(const struct conf_section *sec, const char *value)
{
	const char *type = conf_get_string(sec, "type", "");
	size_t n = strlen(value);

	if (strcmp(type, "recorder") != 0 || value[0] == '/')
		return false;
	for (const char *p = value; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == value || p[-1] == '/') && (p + 2 == value + n || p[2] == '/'))
			return false;
	return true;
}

int ctl_settings_check_section_paths(const struct ctl_settings *s, const struct conf_section *sec,
				     const char *base_dir, struct ipc_error *e)
{
	for (size_t i = 0; sec && i < sec->n_entries; i++) {
		const struct conf_entry *en = &sec->entries[i];
		char path[PATH_MAX + 1], why[sizeof(e->message)];
		int r;

		if (!ctl_settings_is_file_key(en->key) ||
		    (strcmp(en->key, "file") == 0 && stays_in_recordings(sec, en->value)))
			continue;
		/* Resolved as the node resolves it (node_ir_resolve): relative to the config. */
		if (en->value[0] == '/' || !base_dir || !base_dir[0])
			snprintf(path, sizeof(path), "%s", en->value);
		else
			snprintf(path, sizeof(path), "%s/%s", base_dir, en->value);
		if ((r = ctl_settings_check_path(s, path, e)) == 0)
			continue;
		snprintf(why, sizeof(why), "%s", e->message);
		if (en->origin.line > 0) /* from a file: say where */
			snprintf(e->message, sizeof(e->message), "%s:%u: key '%s': %.400s",
				 en->origin.file, en->origin.line, en->key, why);
		else /* from a command (node.add) */
			snprintf(e->message, sizeof(e->message), "[%s] key '%s': %.400s", sec->name,
				 en->key, why);
		return r;
	}
	return 0;
}

int ctl_settings_check_conf_paths(const struct ctl_settings *s, const struct conf *c,
				  const char *base_dir, struct ipc_error *e)
{
	int r;

	for (size_t i = 0; i < conf_get_n_sections(c); i++)
		if ((r = ctl_settings_check_section_paths(s, conf_get_section(c, i), base_dir, e)) <
		    0)
			return r;
	return 0;
}
