/* SPDX-License-Identifier: MIT */
/*
 * daemon/control/config-dump.h: the running configuration as a file (`config.dump`,
 * `config.save`).
 *
 * The text is the configuration the graph runs from — the loaded file and drop-ins with every
 * edit a client made since (node add/rm, connect: they edit it) — with each settable parameter
 * that is also a key of its node's type at its value now (a `set` moves the engine, not the
 * configuration). Files named relative to the file that named them are made absolute, so the
 * dump reads the same files wherever it is saved. `echoeld --check-config` accepts it and a
 * daemon started on it builds the same graph at the same settings.
 *
 * Thread: control.
 */
#pragma once

struct conf;
struct el_error;
struct eng_engine;

/* c (the running configuration, borrowed) and e's parameters as INI text into *ret (freed by
 * the caller). 0; -errno with a message. from: the file it was loaded from, or NULL. */
int ctl_config_dump(const struct conf *c, struct eng_engine *e, const char *from, char **ret,
		    struct el_error *reterr);

/*
 * text written to path (absolute) atomically: a temporary file beside it, fsync'ed, renamed over
 * it; a file already at path stays as it was if anything fails. beneath (borrowed; NULL: none):
 * the directories path must lie beneath, a client's (daemon/fs/beneath.h). 0; -errno with a
 * message naming the path.
 */
int ctl_config_save(const char *text, const char *path, const char *const *beneath,
		    struct el_error *reterr);
