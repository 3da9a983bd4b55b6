/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz-sysfs.c: libFuzzer target for the policy's parsers of untrusted bytes —
 * the sysfs value parsers (policy/sysfs.h), the trace's value copy, and the kernel uevent
 * parser (policy/uevent.h).
 *
 * Each input is one attribute's content as read(2) returns it (any bytes, no NUL at the end)
 * and, the same bytes, one netlink datagram. Besides crashes, out-of-bounds reads (the input
 * is an exact-size heap copy, so ASan sees one byte past it) and UB, it checks what the policy
 * relies on: a number that parses prints back to the same number; a parsed word is non-empty
 * printable ASCII that is found again by the enum parser; results are untouched on failure;
 * every name the uevent parser returns is a printable, terminated string.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-macros.h"
#include "policy/sysfs.h"
#include "policy/trace.h"
#include "policy/uevent.h"

/* A uevent is at most a few KiB; longer inputs only make each run slower. */
#define FUZZ_MAX_INPUT (16 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_printable(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	check(n < max);
	for (size_t i = 0; i < n; i++)
		check((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] <= 0x7e);
}

static void fuzz_numbers(const char *text, size_t n)
{
	char back[32];
	uint64_t u = 0xdead;
	int64_t s = 0xbeef;
	int r;

	r = pol_parse_u64(text, n, &u);
	check(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r == 0) {
		uint64_t again;

		snprintf(back, sizeof(back), "%" PRIu64 "\n", u);
		check(pol_parse_u64(back, strlen(back), &again) == 0 && again == u);
	} else {
		check(u == 0xdead);
	}
	r = pol_parse_s64(text, n, &s);
	check(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r == 0) {
		int64_t again;

		snprintf(back, sizeof(back), "%" PRId64, s);
		check(pol_parse_s64(back, strlen(back), &again) == 0 && again == s);
	} else {
		check(s == 0xbeef);
	}
}

static void fuzz_words(const char *text, size_t n)
{
	static const char *const status[] = {"Unknown", "Charging", "Discharging", "Not charging",
					     "Full"};
	char small[8] = "x", big[POL_VALUE_MAX];
	const char *names[1];
	unsigned idx = 99;
	int r, len;

	r = pol_parse_word(text, n, small, sizeof(small));
	check(r == -EINVAL || r == -ERANGE || (r >= 1 && (size_t)r < sizeof(small)));
	if (r < 0)
		check(strcmp(small, "x") == 0);
	len = pol_parse_word(text, n, big, sizeof(big));
	if (len < 0)
		return;
	check((size_t)len == strlen(big) && len >= 1);
	check_printable(big, sizeof(big));
	check(big[0] != ' ' && big[len - 1] != ' ');
	/* The word is found again in a table that holds it. */
	names[0] = big;
	check(pol_parse_enum(text, n, names, 1, &idx) == 0 && idx == 0);
	r = pol_parse_enum(text, n, status, EL_N_ELEMENTS(status), &idx);
	check(r == 0 || r == -ENOMSG);
	check(r != 0 || strcmp(status[idx], big) == 0);
}

static void fuzz_uevent(const uint8_t *data, size_t size)
{
	struct pol_uevent ev = {.seqnum = 7};
	int r = pol_uevent_parse(data, size, &ev);

	check(r == -EINVAL || r == 0 || r == 1);
	if (r < 0) {
		check(ev.seqnum == 7);
		return;
	}
	check_printable(ev.name, sizeof(ev.name));
	check((r == 1) == (ev.kind != POL_UEVENT_OTHER));
	check(strcmp(pol_uevent_action_to_string(ev.action), "?") != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pol_trace trace;
	char *text, *str;

	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	/* Exact size, no terminator: a parser reading past n is an ASan report. */
	text = malloc(size ? size : 1);
	str = malloc(size + 1);
	if (!text || !str) {
		free(text);
		free(str);
		return 0;
	}
	memcpy(text, data, size);
	memcpy(str, data, size);
	str[size] = '\0';
	fuzz_numbers(text, size);
	fuzz_words(text, size);
	fuzz_uevent((const uint8_t *)text, size);

	/* The trace copies whatever value text it is given (up to its first NUL). */
	pol_trace_reset(&trace);
	pol_trace_add(&trace, "class/power_supply/BAT0", str, str, 0);
	check(trace.n_entries == 1);
	check_printable(trace.entries[0].value, sizeof(trace.entries[0].value));
	check(memchr(trace.entries[0].path, '\0', sizeof(trace.entries[0].path)) != NULL);
	free(text);
	free(str);
	return 0;
}
