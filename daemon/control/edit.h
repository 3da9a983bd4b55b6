/* SPDX-License-Identifier: MIT */
/*
 * daemon/control/edit.h: graph commands as edits of a configuration copy (edit.c).
 * Each returns 0, or -errno with *e set (not_found, conflict, bad_argument, internal).
 * Thread: control.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/el-macros.h"

struct conf;
struct ipc_error;

/* input: a string or an array of strings (or NULL); settings: an object (or NULL). */
int ctl_edit_node_add(struct conf *c, const char *node, const char *type, const json_t *input,
		      const json_t *settings, struct ipc_error *e);
/* force: also drop the references other nodes hold to it. */
int ctl_edit_node_remove(struct conf *c, const char *node, bool force, struct ipc_error *e);
/* from: "NAME" or "NAME:CH"; appended to to's input. */
int ctl_edit_connect(struct conf *c, const char *from, const char *to, struct ipc_error *e);
/* Removes references equal to from (as written) from to's input. */
int ctl_edit_disconnect(struct conf *c, const char *from, const char *to, struct ipc_error *e);
