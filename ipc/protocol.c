/* SPDX-License-Identifier: MIT */
/*
 * ipc/protocol.c: JSON Lines encoding and decoding with jansson.
 *
 * Parsing is strict where it protects the daemon and the user (an object, a string cmd, a
 * number or string id, an object args, no duplicate keys, no NUL bytes) and says exactly what
 * was wrong. Encoding is compact (one line) and never escapes '/' so paths stay readable.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-macros.h"
#include "ipc/protocol.h"

static const char *const code_names[IPC_ERR_COUNT] = {
	[IPC_ERR_BAD_REQUEST] = "bad_request",   [IPC_ERR_UNKNOWN_COMMAND] = "unknown_command",
	[IPC_ERR_BAD_ARGUMENT] = "bad_argument", [IPC_ERR_NOT_FOUND] = "not_found",
	[IPC_ERR_CONFLICT] = "conflict",         [IPC_ERR_TOO_LARGE] = "too_large",
	[IPC_ERR_PERMISSION] = "permission",     [IPC_ERR_BUSY] = "busy",
	[IPC_ERR_INTERNAL] = "internal",
};

const char *ipc_error_code_name(enum ipc_error_code code)
{
	return (unsigned)code < IPC_ERR_COUNT ? code_names[code] : "internal";
}

int ipc_error_code_from_name(const char *name)
{
	for (int i = 0; i < IPC_ERR_COUNT; i++)
		if (strcmp(code_names[i], name) == 0)
			return i;
	return -EINVAL;
}

int ipc_error_set(struct ipc_error *e, enum ipc_error_code code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -EINVAL;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The JSON type in words, for messages. */
static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

static int parse_id(struct ipc_request *r, struct ipc_error *reterr)
{
	json_t *id = json_object_get(r->root, "id");

	if (!id) {
		r->id = json_null();
		r->own_id = true;
		return 0;
	}
	r->id = id;
	if (!json_is_integer(id) && !json_is_real(id) && !json_is_string(id)) {
		/* Answer with null: echoing an object or array back would invite abuse. */
		r->id = json_null();
		r->own_id = true;
		return ipc_error_set(reterr, IPC_ERR_BAD_REQUEST,
				     "'id' must be a number or a string, not %s", type_name(id));
	}
	return 0;
}

/* Only id, cmd and args: a misspelt "arg" must not be silently ignored. */
static int check_fields(json_t *root, struct ipc_error *reterr)
{
	const char *key;
	json_t *value;

	json_object_foreach(root, key, value)
	{
		(void)value;
		if (strcmp(key, "id") && strcmp(key, "cmd") && strcmp(key, "args"))
			return ipc_error_set(reterr, IPC_ERR_BAD_REQUEST,
					     "unknown field '%.64s' (a request has id, cmd, args)",
					     key);
	}
	return 0;
}

int ipc_request_parse(const char *line, size_t len, struct ipc_request *ret,
		      struct ipc_error *reterr)
{
	json_error_t jerr;
	json_t *cmd, *args;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->id = json_null();
	ret->own_id = true;
	ret->root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!ret->root)
		return ipc_error_set(reterr, IPC_ERR_BAD_REQUEST, "invalid JSON at column %d: %s",
				     jerr.column, jerr.text);
	if (!json_is_object(ret->root))
		return ipc_error_set(reterr, IPC_ERR_BAD_REQUEST,
				     "a request must be an object, not %s", type_name(ret->root));
	ret->own_id = false;
	if ((r = parse_id(ret, reterr)) < 0)
		return r;
	cmd = json_object_get(ret->root, "cmd");
	if (!cmd || !json_is_string(cmd))
		return ipc_error_set(reterr, IPC_ERR_BAD_REQUEST, "'cmd' must be a string, got %s",
				     cmd ? type_name(cmd) : "nothing");
	ret->cmd = json_string_value(cmd);
	args = json_object_get(ret->root, "args");
	if (args && !json_is_object(args))
		return ipc_error_set(reterr, IPC_ERR_BAD_REQUEST,
				     "'args' must be an object, not %s", type_name(args));
	if (!args) {
		args = json_object();
		ret->own_args = true;
		if (!args)
			return ipc_error_set(reterr, IPC_ERR_INTERNAL, "out of memory");
	}
	ret->args = args;
	return check_fields(ret->root, reterr);
}

void ipc_request_done(struct ipc_request *r)
{
	if (r->own_args)
		json_decref(r->args);
	if (r->own_id)
		json_decref(r->id);
	json_decref(r->root);
	memset(r, 0, sizeof(*r));
}

static char *dump_line(json_t *obj, size_t *ret_len)
{
	char *s = json_dumps(obj, JSON_COMPACT);
	size_t n;
	char *line;

	json_decref(obj);
	if (!s)
		return NULL;
	n = strlen(s);
	line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	if (ret_len)
		*ret_len = n + 1;
	return line;
}

char *ipc_response_ok(const json_t *id, json_t *result, size_t *ret_len)
{
	json_t *o = json_pack("{s:O, s:b, s:o}", "id", id, "ok", 1, "result",
			      result ? result : json_object());

	return o ? dump_line(o, ret_len) : NULL;
}

/*
 * Length of the valid UTF-8 sequence at s, or 0 when there is none: as strict as jansson (no
 * overlong forms, no surrogates, nothing beyond U+10FFFF). Never reads past a NUL.
 */
static size_t utf8_seq_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0; /* a continuation byte, an overlong lead, or beyond U+10FFFF */
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	cp = s[0] & (0x7fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		return 0;
	if (n == 4 && (cp < 0x10000 || cp > 0x10ffff))
		return 0;
	return n;
}

/*
 * Messages are cut to fit (vsnprintf, "%.64s") and may quote bytes from files, so they can end
 * in half a character or hold invalid bytes, which jansson refuses: those become '?'.
 */
static void utf8_sanitize(char *s)
{
	while (*s) {
		size_t n = utf8_seq_len((const unsigned char *)s);

		if (n == 0)
			*s++ = '?';
		else
			s += n;
	}
}

char *ipc_response_error(const json_t *id, const struct ipc_error *e, size_t *ret_len)
{
	char message[sizeof(e->message)];
	json_t *o;

	snprintf(message, sizeof(message), "%s", e->message);
	utf8_sanitize(message);
	o = json_pack("{s:O, s:b, s:{s:s, s:s}}", "id", id, "ok", 0, "error", "code",
		      ipc_error_code_name(e->code), "message", message);
	return o ? dump_line(o, ret_len) : NULL;
}

char *ipc_event_build(const char *name, json_t *fields, size_t *ret_len)
{
	json_t *o = json_pack("{s:s}", "event", name);

	if (!o) {
		json_decref(fields);
		return NULL;
	}
	if (fields && json_object_update(o, fields) < 0) {
		json_decref(fields);
		json_decref(o);
		return NULL;
	}
	json_decref(fields);
	return dump_line(o, ret_len);
}

char *ipc_request_build(json_int_t id, const char *cmd, json_t *args, size_t *ret_len)
{
	json_t *o = args ? json_pack("{s:I, s:s, s:o}", "id", id, "cmd", cmd, "args", args)
			 : json_pack("{s:I, s:s}", "id", id, "cmd", cmd);

	return o ? dump_line(o, ret_len) : NULL;
}

int ipc_args_check(const json_t *args, const char *const *allowed, struct ipc_error *reterr)
{
	const char *key;
	json_t *value;

	json_object_foreach((json_t *)args, key, value)
	{
		size_t i = 0;

		(void)value;
		while (allowed[i] && strcmp(allowed[i], key) != 0)
			i++;
		if (!allowed[i]) {
			char list[256] = "";
			size_t used = 0;

			for (size_t k = 0; allowed[k] && used < sizeof(list); k++)
				used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
							 k ? ", " : "", allowed[k]);
			return ipc_error_set(reterr, IPC_ERR_BAD_ARGUMENT,
					     "unknown argument '%s' (expected: %s)", key,
					     allowed[0] ? list : "none");
		}
	}
	return 0;
}

/* The argument, or NULL; -EINVAL when required and absent. */
static int arg_get(const json_t *args, const char *key, bool required, json_t **ret,
		   struct ipc_error *reterr)
{
	*ret = json_object_get(args, key);
	if (!*ret && required)
		return ipc_error_set(reterr, IPC_ERR_BAD_ARGUMENT, "missing argument '%s'", key);
	return 0;
}

int ipc_arg_string(const json_t *args, const char *key, bool required, const char **ret,
		   struct ipc_error *reterr)
{
	json_t *v;
	int r = arg_get(args, key, required, &v, reterr);

	if (r < 0 || !v)
		return r;
	if (!json_is_string(v))
		return ipc_error_set(reterr, IPC_ERR_BAD_ARGUMENT,
				     "argument '%s' must be a string, not %s", key, type_name(v));
	*ret = json_string_value(v);
	return 0;
}

int ipc_arg_number(const json_t *args, const char *key, bool required, double *ret,
		   struct ipc_error *reterr)
{
	json_t *v;
	int r = arg_get(args, key, required, &v, reterr);

	if (r < 0 || !v)
		return r;
	if (json_is_boolean(v)) {
		*ret = json_is_true(v) ? 1.0 : 0.0;
		return 0;
	}
	if (!json_is_number(v))
		return ipc_error_set(reterr, IPC_ERR_BAD_ARGUMENT,
				     "argument '%s' must be a number, not %s", key, type_name(v));
	*ret = json_number_value(v);
	return 0;
}

int ipc_arg_bool(const json_t *args, const char *key, bool required, bool *ret,
		 struct ipc_error *reterr)
{
	json_t *v;
	int r = arg_get(args, key, required, &v, reterr);

	if (r < 0 || !v)
		return r;
	if (!json_is_boolean(v))
		return ipc_error_set(reterr, IPC_ERR_BAD_ARGUMENT,
				     "argument '%s' must be true or false, not %s", key,
				     type_name(v));
	*ret = json_is_true(v);
	return 0;
}

int ipc_arg_strings(const json_t *args, const char *key, bool required, const json_t **ret,
		    struct ipc_error *reterr)
{
	json_t *v, *item;
	size_t i;
	int r = arg_get(args, key, required, &v, reterr);

	if (r < 0 || !v)
		return r;
	if (json_is_string(v)) {
		*ret = v;
		return 0;
	}
	if (!json_is_array(v))
		return ipc_error_set(
			reterr, IPC_ERR_BAD_ARGUMENT,
			"argument '%s' must be a string or an array of strings, not %s", key,
			type_name(v));
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item))
			return ipc_error_set(reterr, IPC_ERR_BAD_ARGUMENT,
					     "argument '%s'[%zu] must be a string, not %s", key, i,
					     type_name(item));
	}
	*ret = v;
	return 0;
}
