/* SPDX-License-Identifier: MIT */
/*
 * ipc/protocol.h: the JSON Lines codec of the control protocol (docs/protocol.md) — parsing
 * requests, building responses, events and requests, and reading arguments with messages that
 * name the offending field. Shared by the daemon's server and the client library.
 *
 * Pure: depends on jansson and common/ only; no sockets, no logging. Thread: any (no globals).
 * Returned lines are malloc'd, end in "\n", and are owned by the caller.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define IPC_PROTOCOL_VERSION 1

enum ipc_error_code {
	IPC_ERR_BAD_REQUEST,
	IPC_ERR_UNKNOWN_COMMAND,
	IPC_ERR_BAD_ARGUMENT,
	IPC_ERR_NOT_FOUND,
	IPC_ERR_CONFLICT,
	IPC_ERR_TOO_LARGE,
	IPC_ERR_PERMISSION,
	IPC_ERR_BUSY,
	IPC_ERR_INTERNAL,
	IPC_ERR_COUNT,
};

/* The protocol's name for code ("bad_request" ...); "internal" for anything out of range. */
const char *ipc_error_code_name(enum ipc_error_code code);

/* The code named name, or -EINVAL. */
int ipc_error_code_from_name(const char *name);

/* What went wrong with a request or an argument: a code and a message for people. */
struct ipc_error {
	enum ipc_error_code code;
	char message[512];
};

/* Sets *e (printf-style) and returns -EINVAL, so `return ipc_error_set(e, ...)`. */
int ipc_error_set(struct ipc_error *e, enum ipc_error_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct ipc_request {
	json_t *root; /* owned: the whole parsed object */
	json_t *id;   /* borrowed from root, or a JSON null owned by root's absence (never NULL) */
	const char *cmd; /* borrowed from root */
	json_t *args;    /* borrowed from root, or an empty object owned by the request */
	bool own_args;
	bool own_id;
};

/*
 * Parses one line (len bytes, without its "\n") into *ret. 0; or -EINVAL with *reterr set
 * (bad_request) and, when the line was an object with a usable id, *ret->id kept for the
 * answer: call ipc_request_done() in both cases.
 */
int ipc_request_parse(const char *line, size_t len, struct ipc_request *ret,
		      struct ipc_error *reterr);

void ipc_request_done(struct ipc_request *r);

/* {"id":…,"ok":true,"result":…}\n — steals result (NULL means {}). NULL when out of memory. */
char *ipc_response_ok(const json_t *id, json_t *result, size_t *ret_len);

/* {"id":…,"ok":false,"error":{"code":…,"message":…}}\n */
char *ipc_response_error(const json_t *id, const struct ipc_error *e, size_t *ret_len);

/* {"event":name, …fields}\n — steals fields (an object, or NULL). */
char *ipc_event_build(const char *name, json_t *fields, size_t *ret_len);

/* {"id":…,"cmd":…,"args":…}\n — for clients; steals args (NULL means no args). */
char *ipc_request_build(json_int_t id, const char *cmd, json_t *args, size_t *ret_len);

/*
 * Argument readers. Each returns 0 and sets *ret, or -EINVAL with a bad_argument (or
 * not_found) error naming the argument. An absent optional argument leaves *ret untouched.
 */
/* Every key of args must be in allowed (NULL-terminated). */
int ipc_args_check(const json_t *args, const char *const *allowed, struct ipc_error *reterr);
int ipc_arg_string(const json_t *args, const char *key, bool required, const char **ret,
		   struct ipc_error *reterr);
int ipc_arg_number(const json_t *args, const char *key, bool required, double *ret,
		   struct ipc_error *reterr);
int ipc_arg_bool(const json_t *args, const char *key, bool required, bool *ret,
		 struct ipc_error *reterr);
/* An array of strings, or a single string (then *ret is that string: check json_is_string()).
 * Borrowed json_t. */
int ipc_arg_strings(const json_t *args, const char *key, bool required, const json_t **ret,
		    struct ipc_error *reterr);
