/* SPDX-License-Identifier: MIT */
/*
 * daemon/config/value.h: typed reads of config entries, with range checks and messages.
 *
 * Each getter looks key up in sec; when it is absent it stores def and returns 0; when it is
 * present and valid it stores the value and returns 0; otherwise it returns -EINVAL with
 * `FILE:LINE: key 'K': reason` in reterr (the reason says what was expected: "expected an
 * integer from 32 to 8192, got '100x'"). *ret is untouched on failure. Thread: control.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf_section;
struct el_error;

int conf_get_u32(const struct conf_section *sec, const char *key, uint32_t def, uint32_t min,
		 uint32_t max, uint32_t *ret, struct el_error *reterr);
/* Finite doubles in [min, max]. */
int conf_get_double(const struct conf_section *sec, const char *key, double def, double min,
		    double max, double *ret, struct el_error *reterr);
/* yes/no, true/false, on/off, 1/0 (case-insensitive). */
int conf_get_bool(const struct conf_section *sec, const char *key, bool def, bool *ret,
		  struct el_error *reterr);
/* Borrowed string (valid until conf_free), or def (may be NULL) when absent. Never fails. */
const char *conf_get_string(const struct conf_section *sec, const char *key, const char *def);
/* One of names[0..n) (exact match); *ret is its index. */
int conf_get_enum(const struct conf_section *sec, const char *key, unsigned def,
		  const char *const *names, size_t n, unsigned *ret, struct el_error *reterr);
/*
 * A comma-separated list of finite doubles in [min, max], at most max_n of them, into out;
 * *ret_n is how many (0 when absent). "1, 2.5,-3".
 */
int conf_get_double_list(const struct conf_section *sec, const char *key, double min, double max,
			 double *out, size_t max_n, size_t *ret_n, struct el_error *reterr);
/*
 * Every key of sec must be in allowed, a NULL-terminated list (borrowed; NULL allows no key);
 * the first that is not gives -EINVAL: "FILE:LINE: key 'K': unknown key in [SECTION]" plus, when
 * one is close (edit distance <= 2), "(did you mean 'X'?)".
 */
int conf_check_keys(const struct conf_section *sec, const char *const *allowed,
		    struct el_error *reterr);
