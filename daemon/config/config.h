/* SPDX-License-Identifier: MIT */
/*
 * daemon/config/config.h: the configuration as read from INI files — sections of key = value entries,
 * each remembering the file and line it came from, so every later error can name them.
 *
 * Loading: a main file, then its drop-ins `FILE.d/ *.conf` in lexical order (systemd's
 * convention: /etc/echoeld/echoeld.conf and /etc/echoeld/echoeld.conf.d/). A key given again,
 * in the same file or a later one, overrides the earlier value and origin. Sections keep the
 * order in which they first appear. Parsing uses inih; this module adds origins, drop-ins,
 * limits and error messages. It does not know what the keys mean (value.h reads typed
 * values; the engine and the node types decide what is allowed).
 *
 * Thread: control only. Never logs: errors come back in a struct el_error, formatted
 * `FILE:LINE: key 'K': reason` or `FILE:LINE: reason`.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct el_error;

/* Where an entry or section came from. file is owned by the struct conf. */
struct conf_origin {
	const char *file;
	unsigned line;
	/* named by a client (a command, or a file it loaded): a file this names is opened only
	 * beneath [ipc] file_dirs (daemon/fs/beneath.h); false for the administrator's */
	bool client;
};

struct conf_entry {
	const char *key;   /* owned by the struct conf */
	const char *value; /* owned by the struct conf; leading/trailing blanks stripped */
	struct conf_origin origin;
};

struct conf_section {
	const char *name;          /* owned: "engine", "node.eq", ... */
	struct conf_origin origin; /* where the section header first appeared */
	const struct conf_entry *entries;
	size_t n_entries;
};

struct conf;

/* Longest accepted line, section name, key and value (bytes). Longer input is an error. */
#define CONF_MAX_LINE                4096
#define CONF_MAX_SECTIONS            1024
#define CONF_MAX_ENTRIES_PER_SECTION 256

/*
 * Reads path, then path.d/ *.conf in lexical order. 0 with *ret set; -ENOENT when path does not
 * exist (a missing drop-in directory is fine); -EINVAL for a syntax error, a line too long, a key
 * outside any section, or too many sections/entries (message in reterr); other -errno.
 */
int conf_load(const char *path, struct conf **ret, struct el_error *reterr);
/*
 * conf_load() of a file a client named: it and its drop-ins are opened only beneath the
 * directories beneath (borrowed; NULL: none; daemon/fs/beneath.h), -EACCES outside.
 */
int conf_load_beneath(const char *path, const char *const *beneath, struct conf **ret,
		      struct el_error *reterr);

/*
 * Adds path.d/ *.conf (lexical order, later keys override) to c, as conf_load() does after the
 * file itself: for drop-ins that change the built-in graph when path does not exist (systemd's
 * convention for vendor defaults). 0; a missing directory is fine; -errno as conf_load().
 */
int conf_load_dropins(struct conf *c, const char *path, struct el_error *reterr);

/* Parses text as if it were a file named name (built-in defaults, tests, fuzzing). */
int conf_load_string(const char *text, const char *name, struct conf **ret,
		     struct el_error *reterr);

/* Accepts NULL; returns NULL. */
struct conf *conf_free(struct conf *c);

/*
 * What loading found valid but probably not meant, one line each, `FILE: reason` or
 * `FILE:LINE: reason`: a file with no section in it, a section header repeated in the same
 * file (its keys merge into the earlier one's: a second [node.out] with another type turns the
 * node into that type). A drop-in reopening a section of an earlier file is the documented way
 * to change it and is not one. The caller decides where they go (the log, --check-config).
 * conf_copy() and the editing calls start and keep none. Borrowed, valid until conf_free().
 */
size_t conf_get_n_warnings(const struct conf *c);
const char *conf_get_warning(const struct conf *c, size_t i);

size_t conf_get_n_sections(const struct conf *c);
/* Borrowed, valid until conf_free(). i < conf_get_n_sections(). */
const struct conf_section *conf_get_section(const struct conf *c, size_t i);
/* The section named name, or NULL. */
const struct conf_section *conf_find_section(const struct conf *c, const char *name);
/* The entry for key in sec (sec may be NULL), or NULL. */
const struct conf_entry *conf_section_find(const struct conf_section *sec, const char *key);

/*
 * Editing (daemon/config/edit.c), for the control socket's graph commands. Strings are copied.
 * conf_copy: a deep copy, origins included. conf_set: key = value in [section], creating the
 * section at the end if needed, with the given origin (e.g. "request", 1); -E2BIG past the
 * limits. Line 0 marks an entry made by a command: its errors read `ORIGIN: key 'K': reason`.
 * conf_unset / conf_remove_section: -ENOENT when absent. All may return -ENOMEM.
 */
int conf_copy(const struct conf *c, struct conf **ret);
int conf_set(struct conf *c, const char *section, const char *key, const char *value,
	     const char *origin_file, unsigned line);
int conf_unset(struct conf *c, const char *section, const char *key);
/* Marks the entries of [section] (NULL: of every section) as named by a client. */
void conf_mark_client(struct conf *c, const char *section);
int conf_remove_section(struct conf *c, const char *section);

/*
 * c as INI text (daemon/config/format.c): header (NULL: none; e.g. comment lines) then every
 * section in order with its entries, `key = value`; the text loads back into the same sections
 * and values. 0 with *ret (malloc'ed; the caller frees); -EINVAL with a message for a value INI
 * cannot hold (a line break, a leading comment character); -ENOMEM.
 */
int conf_format(const struct conf *c, const char *header, char **ret, struct el_error *reterr);

/*
 * Formats an error about an entry as `FILE:LINE: key 'K': reason` into reterr and returns code.
 */
int conf_error_entry(struct el_error *reterr, int code, const struct conf_entry *e, const char *fmt,
		     ...) __attribute__((format(printf, 4, 5)));

/* Formats an error about a section as `FILE:LINE: [NAME]: reason` and returns code. */
int conf_error_section(struct el_error *reterr, int code, const struct conf_section *s,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
