/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-ipc-protocol.c: the JSON Lines codec (ipc/protocol.c), table-driven — request
 * lines against the exact error code, message and id the daemon will answer with; the argument
 * readers' messages; and the builders, whose lines must be one line each and parse back.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/el-macros.h"
#include "ipc/protocol.h"

/* A line the parser refuses: the message the client will read and the id it will carry. */
struct bad_case {
	const char *line;
	size_t len; /* 0: strlen(line) */
	const char *message;
	const char *id; /* the id kept for the answer, as compact JSON */
};

static const struct bad_case bad_cases[] = {
	{"x", 0, "invalid JSON at column 1: invalid token near 'x'", "null"},
	{"", 0, "invalid JSON at column 0: unexpected token near end of file", "null"},
	{"{\"cmd\":\"status\"", 0, "invalid JSON at column 15: '}' expected near end of file",
	 "null"},
	{"{\"cmd\":\"status\"} x", 0, "invalid JSON at column 18: end of file expected near 'x'",
	 "null"},
	{"[1]", 0, "a request must be an object, not an array", "null"},
	{"42", 0, "a request must be an object, not a number", "null"},
	{"\"status\"", 0, "a request must be an object, not a string", "null"},
	{"null", 0, "a request must be an object, not null", "null"},
	{"{}", 0, "'cmd' must be a string, got nothing", "null"},
	{"{\"id\":3}", 0, "'cmd' must be a string, got nothing", "3"},
	{"{\"id\":4,\"cmd\":1}", 0, "'cmd' must be a string, got a number", "4"},
	{"{\"cmd\":[\"status\"]}", 0, "'cmd' must be a string, got an array", "null"},
	{"{\"id\":{},\"cmd\":\"status\"}", 0, "'id' must be a number or a string, not an object",
	 "null"},
	{"{\"id\":true,\"cmd\":\"status\"}", 0, "'id' must be a number or a string, not a boolean",
	 "null"},
	{"{\"id\":null,\"cmd\":\"status\"}", 0, "'id' must be a number or a string, not null",
	 "null"},
	{"{\"id\":7,\"cmd\":\"status\",\"args\":[]}", 0, "'args' must be an object, not an array",
	 "7"},
	{"{\"id\":\"a\",\"cmd\":\"status\",\"args\":\"x\"}", 0,
	 "'args' must be an object, not a string", "\"a\""},
	{"{\"id\":8,\"cmd\":\"status\",\"arg\":{}}", 0,
	 "unknown field 'arg' (a request has id, cmd, args)", "8"},
	{"{\"cmd\":\"a\",\"cmd\":\"b\"}", 0,
	 "invalid JSON at column 16: duplicate object key near '\"cmd\"'", "null"},
	{"{\"cmd\":\"a\\u0000b\"}", 0,
	 "invalid JSON at column 17: \\u0000 is not allowed without JSON_ALLOW_NUL near "
	 "'\"a\\u0000b\"'",
	 "null"},
	{"{\"cmd\":\"a\0b\"}", 13, "invalid JSON at column 9: control character 0x0 near '\"a'",
	 "null"},
	{"{\"cmd\":\"\xff\"}", 0, "invalid JSON at column 8: unable to decode byte 0xff near '\"'",
	 "null"},
};

static void test_bad_requests(void **state)
{
	(void)state;
	for (size_t i = 0; i < EL_N_ELEMENTS(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t len = c->len ? c->len : strlen(c->line);
		struct ipc_error err = {.code = IPC_ERR_INTERNAL};
		struct ipc_request req;
		char *id;
		int r;

		print_message("case %zu: %s\n", i, c->message);
		r = ipc_request_parse(c->line, len, &req, &err);
		assert_int_equal(r, -EINVAL);
		assert_int_equal(err.code, IPC_ERR_BAD_REQUEST);
		assert_string_equal(err.message, c->message);
		assert_non_null(req.id);
		id = json_dumps(req.id, JSON_ENCODE_ANY | JSON_COMPACT);
		assert_string_equal(id, c->id);
		free(id);
		ipc_request_done(&req);
	}
}

struct good_case {
	const char *line;
	const char *id; /* compact JSON */
	const char *cmd;
	const char *args; /* compact JSON */
};

static const struct good_case good_cases[] = {
	{"{\"cmd\":\"status\"}", "null", "status", "{}"},
	{"{\"cmd\":\"status\"}\r", "null", "status", "{}"},
	{"  {\"id\":1,\"cmd\":\"hello\",\"args\":{}}  ", "1", "hello", "{}"},
	{"{\"id\":\"req-9\",\"cmd\":\"node.list\"}", "\"req-9\"", "node.list", "{}"},
	{"{\"id\":2.5,\"cmd\":\"stats\"}", "2.5", "stats", "{}"},
	{"{\"args\":{\"node\":\"volume\",\"param\":\"gain_db\",\"value\":-6},\"cmd\":\"set\","
	 "\"id\":7}",
	 "7", "set", "{\"node\":\"volume\",\"param\":\"gain_db\",\"value\":-6}"},
	{"{\"id\":3,\"cmd\":\"no.such\",\"args\":{\"x\":[1,{}]}}", "3", "no.such",
	 "{\"x\":[1,{}]}"},
};

static void test_good_requests(void **state)
{
	(void)state;
	for (size_t i = 0; i < EL_N_ELEMENTS(good_cases); i++) {
		const struct good_case *c = &good_cases[i];
		struct ipc_error err = {0};
		struct ipc_request req;
		char *s;

		print_message("case %zu: %s\n", i, c->line);
		assert_int_equal(ipc_request_parse(c->line, strlen(c->line), &req, &err), 0);
		assert_string_equal(req.cmd, c->cmd);
		s = json_dumps(req.id, JSON_ENCODE_ANY | JSON_COMPACT);
		assert_string_equal(s, c->id);
		free(s);
		assert_true(json_is_object(req.args));
		s = json_dumps(req.args, JSON_COMPACT);
		assert_string_equal(s, c->args);
		free(s);
		ipc_request_done(&req);
	}
}

/* The arguments every reader case runs against. */
static const char args_json[] = "{\"s\":\"str\",\"n\":-6.5,\"i\":3,\"t\":true,\"f\":false,"
				"\"a\":[\"x\",\"y\"],\"bad\":[\"x\",1],\"o\":{},\"z\":null}";

enum reader { R_STRING, R_NUMBER, R_BOOL, R_STRINGS };

struct arg_case {
	enum reader reader;
	const char *key;
	bool required;
	int r;
	const char *message; /* the error, or the value read in words */
};

static const struct arg_case arg_cases[] = {
	{R_STRING, "s", true, 0, "str"},
	{R_STRING, "n", true, -EINVAL, "argument 'n' must be a string, not a number"},
	{R_STRING, "o", false, -EINVAL, "argument 'o' must be a string, not an object"},
	{R_STRING, "nope", true, -EINVAL, "missing argument 'nope'"},
	{R_STRING, "nope", false, 0, "untouched"},
	{R_NUMBER, "n", true, 0, "-6.5"},
	{R_NUMBER, "i", true, 0, "3"},
	{R_NUMBER, "t", true, 0, "1"},
	{R_NUMBER, "f", true, 0, "0"},
	{R_NUMBER, "s", true, -EINVAL, "argument 's' must be a number, not a string"},
	{R_NUMBER, "z", false, -EINVAL, "argument 'z' must be a number, not null"},
	{R_NUMBER, "nope", true, -EINVAL, "missing argument 'nope'"},
	{R_NUMBER, "nope", false, 0, "untouched"},
	{R_BOOL, "t", true, 0, "true"},
	{R_BOOL, "f", true, 0, "false"},
	{R_BOOL, "i", true, -EINVAL, "argument 'i' must be true or false, not a number"},
	{R_BOOL, "nope", true, -EINVAL, "missing argument 'nope'"},
	{R_STRINGS, "a", true, 0, "[\"x\",\"y\"]"},
	{R_STRINGS, "s", true, 0, "\"str\""},
	{R_STRINGS, "bad", true, -EINVAL, "argument 'bad'[1] must be a string, not a number"},
	{R_STRINGS, "o", true, -EINVAL,
	 "argument 'o' must be a string or an array of strings, not an object"},
	{R_STRINGS, "nope", false, 0, "untouched"},
};

/* Runs one reader and describes what it read in words (or "untouched"). */
static int run_reader(const struct arg_case *c, const json_t *args, char *out, size_t size,
		      struct ipc_error *err)
{
	const char *s = NULL;
	const json_t *list = NULL;
	double d = 1234.5;
	bool b = false;
	char *dump;
	int r;

	snprintf(out, size, "untouched");
	switch (c->reader) {
	case R_STRING:
		if ((r = ipc_arg_string(args, c->key, c->required, &s, err)) == 0 && s)
			snprintf(out, size, "%s", s);
		return r;
	case R_NUMBER:
		if ((r = ipc_arg_number(args, c->key, c->required, &d, err)) == 0 && d != 1234.5)
			snprintf(out, size, "%g", d);
		return r;
	case R_BOOL:
		b = !strcmp(c->key, "f"); /* the opposite of the expected value */
		if ((r = ipc_arg_bool(args, c->key, c->required, &b, err)) == 0 &&
		    json_object_get(args, c->key))
			snprintf(out, size, "%s", b ? "true" : "false");
		return r;
	case R_STRINGS:
		if ((r = ipc_arg_strings(args, c->key, c->required, &list, err)) == 0 && list) {
			dump = json_dumps(list, JSON_COMPACT | JSON_ENCODE_ANY);
			snprintf(out, size, "%s", dump);
			free(dump);
		}
		return r;
	}
	return -ENOSYS;
}

static void test_arg_readers(void **state)
{
	json_t *args = json_loads(args_json, 0, NULL);

	(void)state;
	assert_non_null(args);
	for (size_t i = 0; i < EL_N_ELEMENTS(arg_cases); i++) {
		const struct arg_case *c = &arg_cases[i];
		struct ipc_error err = {.code = IPC_ERR_INTERNAL, .message = ""};
		char got[256];
		int r;

		print_message("case %zu: %s\n", i, c->message);
		r = run_reader(c, args, got, sizeof(got), &err);
		assert_int_equal(r, c->r);
		if (r < 0) {
			assert_int_equal(err.code, IPC_ERR_BAD_ARGUMENT);
			assert_string_equal(err.message, c->message);
		} else {
			assert_string_equal(got, c->message);
		}
	}
	json_decref(args);
}

static void test_args_check(void **state)
{
	static const char *const set_args[] = {"node", "param", "value", NULL};
	static const char *const none[] = {NULL};
	json_t *ok = json_pack("{s:s, s:s, s:i}", "node", "v", "param", "gain_db", "value", 1);
	json_t *extra = json_pack("{s:s, s:s}", "node", "v", "valeu", "1");
	json_t *empty = json_object();
	struct ipc_error err = {0};

	(void)state;
	assert_int_equal(ipc_args_check(ok, set_args, &err), 0);
	assert_int_equal(ipc_args_check(empty, none, &err), 0);
	assert_int_equal(ipc_args_check(extra, set_args, &err), -EINVAL);
	assert_int_equal(err.code, IPC_ERR_BAD_ARGUMENT);
	assert_string_equal(err.message, "unknown argument 'valeu' (expected: node, param, value)");
	assert_int_equal(ipc_args_check(ok, none, &err), -EINVAL);
	assert_string_equal(err.message, "unknown argument 'node' (expected: none)");
	json_decref(ok);
	json_decref(extra);
	json_decref(empty);
}

/*
 * A built line: one "\n", at the end, and the length it says. Returns it parsed and frees it.
 * ret_len is read here, after the builder that set it has run (argument order is unspecified).
 */
static json_t *parse_line(char *line, const size_t *ret_len)
{
	size_t len = *ret_len;
	json_t *v;

	assert_non_null(line);
	assert_int_equal(strlen(line), len);
	assert_true(len >= 2);
	assert_int_equal(line[len - 1], '\n');
	assert_null(memchr(line, '\n', len - 1));
	v = json_loadb(line, len - 1, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(v);
	free(line);
	return v;
}

static void assert_json(const json_t *v, const char *expected)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	assert_string_equal(s, expected);
	free(s);
}

static void test_responses(void **state)
{
	json_t *id = json_integer(7), *sid = json_string("a/b"), *v;
	struct ipc_error err;
	size_t len = 0;

	(void)state;
	v = parse_line(ipc_response_ok(id, json_pack("{s:[i,i]}", "value", 1, 2), &len), &len);
	assert_json(v, "{\"id\":7,\"ok\":true,\"result\":{\"value\":[1,2]}}");
	json_decref(v);
	v = parse_line(ipc_response_ok(json_null(), NULL, &len), &len);
	assert_json(v, "{\"id\":null,\"ok\":true,\"result\":{}}");
	json_decref(v);

	ipc_error_set(&err, IPC_ERR_NOT_FOUND, "no node named '%s'\non two lines", "vol");
	v = parse_line(ipc_response_error(sid, &err, &len), &len);
	assert_json(v, "{\"id\":\"a/b\",\"ok\":false,\"error\":{\"code\":\"not_found\","
		       "\"message\":\"no node named 'vol'\\non two lines\"}}");
	json_decref(v);
	json_decref(id);
	json_decref(sid);
}

/* A message cut in the middle of a character must still make a valid response. */
static void test_error_utf8(void **state)
{
	struct ipc_error err = {.code = IPC_ERR_BAD_ARGUMENT};
	const char *msg;
	json_t *v;
	size_t len = 0, n;

	(void)state;
	/* 170 euro signs (3 bytes each) overflow the 512-byte message mid-character. */
	n = 0;
	while (n + 3 < sizeof(err.message)) {
		memcpy(err.message + n, "\xe2\x82\xac", 3);
		n += 3;
	}
	err.message[n++] = '\xe2';
	err.message[n] = '\0';
	v = parse_line(ipc_response_error(json_null(), &err, &len), &len);
	msg = json_string_value(json_object_get(json_object_get(v, "error"), "message"));
	assert_non_null(msg);
	assert_int_equal(strlen(msg), n);
	assert_int_equal(msg[n - 1], '?');
	json_decref(v);
	snprintf(err.message, sizeof(err.message), "bad \xff\xc0\x80 \xed\xa0\x80 ok \xc3\xa9");
	v = parse_line(ipc_response_error(json_null(), &err, &len), &len);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(v, "error"), "message")),
		"bad ??? ??? ok \xc3\xa9");
	json_decref(v);
}

static void test_events(void **state)
{
	json_t *v;
	size_t len = 0;

	(void)state;
	v = parse_line(
		ipc_event_build("load", json_pack("{s:f, s:i}", "time", 1.5, "xruns", 2), &len),
		&len);
	assert_json(v, "{\"event\":\"load\",\"time\":1.5,\"xruns\":2}");
	json_decref(v);
	v = parse_line(ipc_event_build("graph", NULL, &len), &len);
	assert_json(v, "{\"event\":\"graph\"}");
	json_decref(v);
}

/* What a client builds, the daemon parses back to the same thing; '/' stays readable. */
static void test_request_round_trip(void **state)
{
	struct ipc_request req;
	struct ipc_error err;
	size_t len = 0;
	char *line;

	(void)state;
	line = ipc_request_build(41, "load", json_pack("{s:s}", "path", "/etc/echoeld/x.conf"),
				 &len);
	assert_non_null(line);
	assert_int_equal(strlen(line), len);
	assert_non_null(strstr(line, "\"/etc/echoeld/x.conf\""));
	assert_int_equal(line[len - 1], '\n');
	assert_int_equal(ipc_request_parse(line, len - 1, &req, &err), 0);
	assert_string_equal(req.cmd, "load");
	assert_int_equal(json_integer_value(req.id), 41);
	assert_json(req.args, "{\"path\":\"/etc/echoeld/x.conf\"}");
	ipc_request_done(&req);
	free(line);

	line = ipc_request_build(42, "status", NULL, &len);
	assert_string_equal(line, "{\"id\":42,\"cmd\":\"status\"}\n");
	assert_int_equal(ipc_request_parse(line, len - 1, &req, &err), 0);
	assert_json(req.args, "{}");
	ipc_request_done(&req);
	free(line);
}

static void test_error_codes(void **state)
{
	static const char *const names[IPC_ERR_COUNT] = {
		"bad_request", "unknown_command", "bad_argument", "not_found", "conflict",
		"too_large",   "permission",      "busy",         "internal",
	};
	struct ipc_error err;

	(void)state;
	for (int i = 0; i < IPC_ERR_COUNT; i++) {
		assert_string_equal(ipc_error_code_name((enum ipc_error_code)i), names[i]);
		assert_int_equal(ipc_error_code_from_name(names[i]), i);
	}
	assert_string_equal(ipc_error_code_name(IPC_ERR_COUNT), "internal");
	assert_string_equal(ipc_error_code_name((enum ipc_error_code) - 1), "internal");
	assert_int_equal(ipc_error_code_from_name("Not_Found"), -EINVAL);
	assert_int_equal(ipc_error_set(&err, IPC_ERR_BUSY, "%d clients", 64), -EINVAL);
	assert_int_equal(err.code, IPC_ERR_BUSY);
	assert_string_equal(err.message, "64 clients");
	assert_int_equal(ipc_error_set(NULL, IPC_ERR_BUSY, "x"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_requests), cmocka_unit_test(test_good_requests),
		cmocka_unit_test(test_arg_readers),  cmocka_unit_test(test_args_check),
		cmocka_unit_test(test_responses),    cmocka_unit_test(test_error_utf8),
		cmocka_unit_test(test_events),       cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_error_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
