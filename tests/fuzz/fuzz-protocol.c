/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz-protocol.c: libFuzzer target for the control protocol codec (ipc/protocol.c).
 *
 * Each input is one request line as a client could send it. It is parsed; every argument
 * reader then runs on every key of args (and on a key that is absent), with an allow-list
 * check; and the daemon's answer is built for the request's id — a response carrying the args,
 * and an error with the parser's or the readers' message. Besides crashes, leaks and UB, it
 * checks what the daemon relies on: every answer can be built (a message cut mid-character
 * must not make the error unanswerable) and is one line that parses back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An answer line must exist, end in its only "\n", and parse back to an object. */
static void check_line(char *line, size_t len)
{
	json_t *v;

	if (!line)
		abort();
	if (len < 2 || strlen(line) != len || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
		abort();
	v = json_loadb(line, len - 1, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(v))
		abort();
	json_decref(v);
	free(line);
}

/* Every reader on key; the last error message wins, as in a command handler. */
static void read_all(const json_t *args, const char *key, struct ipc_error *err)
{
	const char *s = NULL;
	const json_t *list = NULL;
	double d = 0;
	bool b = false;

	for (int required = 0; required < 2; required++) {
		ipc_arg_string(args, key, required, &s, err);
		ipc_arg_number(args, key, required, &d, err);
		ipc_arg_bool(args, key, required, &b, err);
		ipc_arg_strings(args, key, required, &list, err);
	}
	if (s && strlen(s) > (size_t)1 << 30)
		abort(); /* touch the result so it is not optimised away */
}

/* What a client builds from the same command and arguments, the parser takes back. */
static void round_trip(const struct ipc_request *req)
{
	struct ipc_error err;
	struct ipc_request back;
	size_t len = 0;
	char *line = ipc_request_build(42, req->cmd, json_deep_copy(req->args), &len);

	if (!line || ipc_request_parse(line, len - 1, &back, &err) < 0 ||
	    strcmp(back.cmd, req->cmd) || !json_equal(back.args, req->args))
		abort();
	ipc_request_done(&back);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const allowed[] = {"node", "param", "value", "channel", NULL};
	struct ipc_error err = {.code = IPC_ERR_INTERNAL, .message = ""};
	struct ipc_request req;
	const char *key;
	json_t *value;
	size_t len = 0;
	char *line;

	if (ipc_request_parse((const char *)data, size, &req, &err) == 0) {
		json_object_foreach(req.args, key, value)
		{
			(void)value;
			read_all(req.args, key, &err);
		}
		read_all(req.args, "absent", &err);
		ipc_args_check(req.args, allowed, &err);
		line = ipc_response_ok(req.id, json_deep_copy(req.args), &len);
		check_line(line, len);
		line = ipc_event_build(req.cmd, json_deep_copy(req.args), &len);
		check_line(line, len);
		round_trip(&req);
	}
	err.code = (enum ipc_error_code)(size % (IPC_ERR_COUNT + 1)); /* one out of range, too */
	line = ipc_response_error(req.id, &err, &len);
	check_line(line, len);
	ipc_request_done(&req);
	return 0;
}
