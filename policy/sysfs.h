/* SPDX-License-Identifier: MIT */
/*
 * policy/sysfs.h: sysfs attribute values — parsing and reading one.
 *
 * A sysfs attribute holds one short value followed by a newline ("15\n", "Discharging\n",
 * "-274000\n"). The parsers take the raw bytes of one read(2) (not NUL-terminated, may contain
 * anything) and accept exactly one well-formed value surrounded by optional ASCII blanks
 * (space, tab, CR, LF):
 *
 *   u64   decimal digits only (no sign, no 0x, no spaces inside), at most UINT64_MAX
 *   s64   an optional '-' then decimal digits, INT64_MIN .. INT64_MAX (temperatures in m°C)
 *   word  printable ASCII (0x20..0x7e), blanks inside allowed ("Not charging",
 *         "INT3400 Thermal"), trimmed at both ends
 *   enum  a word compared exactly (case-sensitive, as the kernel writes it) against a table
 *
 * Errors: -EINVAL for empty text, a NUL or control byte, a stray character, a sign on a u64;
 * -ERANGE for a number that overflows or text longer than the caller's buffer (or than
 * POL_VALUE_MAX when read from a file); -ENOMSG from the enum parser for a well-formed word
 * that is not in the table (the caller usually maps it to "unknown"; -ENOENT stays free to mean
 * "no such file"). *ret is untouched on failure.
 *
 * The readers take a directory fd — the sysfs root (/sys in production, a temporary directory
 * in tests) or a device directory below it — and a path relative to it (openat(2), so a test
 * points the whole policy at a fake tree). They do exactly one read(2): some attributes
 * regenerate on every read, so a second read may not see EOF.
 *
 * Pure: no logging, no allocation, no global state. Thread: any (the readers block on file I/O;
 * the daemon calls them from the policy thread only).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Longest attribute accepted by the readers, in bytes as read (newline included). A u64 is at
 * most 20 digits; the longest enumerated values ("balanced-performance", thermal zone types)
 * are well below. A file that fills the whole buffer is refused with -ERANGE rather than parsed
 * cut short.
 */
#define POL_VALUE_MAX 64

/* Names of supplies and zones, NUL included; a longer name is cut (it is only shown). */
#define POL_NAME_MAX 48

/* Parses text[0 .. n) as a u64. 0; -EINVAL; -ERANGE. text may be NULL when n == 0. */
int pol_parse_u64(const char *text, size_t n, uint64_t *ret);

/* Parses text[0 .. n) as an s64. 0; -EINVAL; -ERANGE. */
int pol_parse_s64(const char *text, size_t n, int64_t *ret);

/*
 * Copies the trimmed word in text[0 .. n) into ret (size bytes, NUL-terminated). Returns its
 * length (>= 1); -EINVAL (empty, control or non-ASCII byte, size 0); -ERANGE (does not fit).
 * ret is untouched on failure.
 */
int pol_parse_word(const char *text, size_t n, char *ret, size_t size);

/*
 * Finds the trimmed word of text[0 .. n) in names[0 .. n_names) (borrowed; entries may be
 * NULL, which never match). 0 with *ret = the index; -EINVAL (not a word); -ERANGE (longer
 * than POL_VALUE_MAX); -ENOMSG (a word, but not in the table).
 */
int pol_parse_enum(const char *text, size_t n, const char *const *names, size_t n_names,
		   unsigned *ret);

/*
 * One read(2) of dir_fd/relpath into buf (size >= 2 bytes), NUL-terminated. Returns the byte
 * count; -errno from openat/read (-ENOENT: no such attribute, -ENODATA/-EIO/-EAGAIN: the
 * driver has no value now); -ERANGE when the value fills the buffer (longer than size - 1);
 * -EINVAL for bad arguments.
 */
int pol_read_text(int dir_fd, const char *relpath, char *buf, size_t size);

/* pol_read_text() then pol_parse_u64(). 0; the errors of both. *ret untouched on failure. */
int pol_read_u64(int dir_fd, const char *relpath, uint64_t *ret);

/* pol_read_text() then pol_parse_s64(). 0; the errors of both. *ret untouched on failure. */
int pol_read_s64(int dir_fd, const char *relpath, int64_t *ret);

/* pol_read_text() then pol_parse_word(). The length; the errors of both. */
int pol_read_word(int dir_fd, const char *relpath, char *ret, size_t size);

/* pol_read_text() then pol_parse_enum(). 0; the errors of both. */
int pol_read_enum(int dir_fd, const char *relpath, const char *const *names, size_t n_names,
		  unsigned *ret);
