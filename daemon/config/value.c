/* SPDX-License-Identifier: MIT */
/*
 * daemon/config/value.c: typed reads of config entries (integers, numbers, booleans, enums,
 * number lists) and the check for unknown keys, each failure worded for the user.
 *
 * Numbers are decimal only. Integers are digits only: no sign, no blanks, no hex or octal
 * (a leading zero is just a zero: "010" is ten). Numbers (doubles) take strtod()'s decimal
 * syntax with an optional sign and exponent ("-3", "0.5", "1e3", ".5"); hex floats, "inf" and
 * "nan" are refused, and so is anything that overflows (a number too small for a double reads
 * as 0 or a subnormal, as strtod() gives it). They are read in the C locale, so a
 * daemon started with LANG=de_DE still reads "0.5" as a half.
 */
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/config/value.h"
#include "daemon/config/config.h"

/* Keys are at most 64 bytes (config.c checks), which bounds the edit-distance row below. */
#define CONF_MAX_KEY 64

static bool conf_is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool conf_is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* "123" (digits only, fits in 32 bits) into *ret. */
static bool conf_parse_u32(const char *s, uint32_t *ret)
{
	unsigned long long v;
	char *end;

	if (!conf_is_digit(s[0]))
		return false; /* no blank, sign or empty string: strtoull would take them */
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

/*
 * A finite decimal number at the start of s; *ret_end is where it stops. strtod() would skip
 * blanks and take hex, "inf" and "nan", so the first characters are checked here.
 */
static bool conf_parse_number(const char *s, const char **ret_end, double *ret)
{
	static locale_t c_locale;
	const char *digits = s + (s[0] == '-' || s[0] == '+');
	char *end;
	double v;

	if (!conf_is_digit(digits[0]) && !(digits[0] == '.' && conf_is_digit(digits[1])))
		return false;
	if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X'))
		return false;
	if (!c_locale)
		c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (!c_locale)
		return false;
	v = strtod_l(s, &end, c_locale); /* ERANGE: overflow is caught as infinite */
	if (end == s || !isfinite(v))
		return false;
	*ret_end = end;
	*ret = v;
	return true;
}

int conf_get_u32(const struct conf_section *sec, const char *key, uint32_t def, uint32_t min,
		 uint32_t max, uint32_t *ret, struct el_error *reterr)
{
	const struct conf_entry *e = conf_section_find(sec, key);
	uint32_t v;

	if (!e) {
		*ret = def;
		return 0;
	}
	if (!conf_parse_u32(e->value, &v) || v < min || v > max)
		return conf_error_entry(reterr, -EINVAL, e,
					"expected an integer from %" PRIu32 " to %" PRIu32
					", got '%s'",
					min, max, e->value);
	*ret = v;
	return 0;
}

int conf_get_double(const struct conf_section *sec, const char *key, double def, double min,
		    double max, double *ret, struct el_error *reterr)
{
	const struct conf_entry *e = conf_section_find(sec, key);
	const char *end;
	double v;

	if (!e) {
		*ret = def;
		return 0;
	}
	if (!conf_parse_number(e->value, &end, &v) || *end != '\0' || v < min || v > max)
		return conf_error_entry(reterr, -EINVAL, e,
					"expected a number from %g to %g, got '%s'", min, max,
					e->value);
	*ret = v;
	return 0;
}

int conf_get_bool(const struct conf_section *sec, const char *key, bool def, bool *ret,
		  struct el_error *reterr)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	const struct conf_entry *e = conf_section_find(sec, key);

	if (!e) {
		*ret = def;
		return 0;
	}
	for (size_t i = 0; i < EL_N_ELEMENTS(yes); i++) {
		if (strcasecmp(e->value, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(e->value, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return conf_error_entry(reterr, -EINVAL, e,
				"expected yes/no, true/false, on/off or 1/0, got '%s'", e->value);
}

const char *conf_get_string(const struct conf_section *sec, const char *key, const char *def)
{
	const struct conf_entry *e = conf_section_find(sec, key);

	return e ? e->value : def;
}

int conf_get_enum(const struct conf_section *sec, const char *key, unsigned def,
		  const char *const *names, size_t n, unsigned *ret, struct el_error *reterr)
{
	const struct conf_entry *e = conf_section_find(sec, key);
	char list[EL_ERROR_MAX];
	size_t used = 0;

	if (!e) {
		*ret = def;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(e->value, names[i]) == 0) {
			*ret = (unsigned)i;
			return 0;
		}
	}
	list[0] = '\0';
	for (size_t i = 0; i < n && used < sizeof(list); i++) {
		int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", names[i]);

		used += w > 0 ? (size_t)w : 0;
	}
	return conf_error_entry(reterr, -EINVAL, e, "expected one of: %s; got '%s'", list,
				e->value);
}

/*
 * Parses a comma-separated list of numbers in [min, max]; stores them into out unless out is
 * NULL (a dry run, so that out is untouched when the list turns out bad). Blanks around items
 * are ignored; an empty or blank value is an empty list; an empty item is an error.
 */
static bool conf_parse_list(const char *s, double min, double max, double *out, size_t max_n,
			    size_t *ret_n)
{
	size_t n = 0;
	const char *end;
	double v;

	while (conf_is_blank(*s))
		s++;
	if (*s == '\0') {
		*ret_n = 0;
		return true;
	}
	for (;;) {
		while (conf_is_blank(*s))
			s++;
		if (n == max_n || !conf_parse_number(s, &end, &v) || v < min || v > max)
			return false;
		if (out)
			out[n] = v;
		n++;
		for (s = end; conf_is_blank(*s); s++)
			;
		if (*s == '\0')
			break;
		if (*s++ != ',')
			return false;
	}
	*ret_n = n;
	return true;
}

int conf_get_double_list(const struct conf_section *sec, const char *key, double min, double max,
			 double *out, size_t max_n, size_t *ret_n, struct el_error *reterr)
{
	const struct conf_entry *e = conf_section_find(sec, key);
	size_t n;

	if (!e) {
		*ret_n = 0;
		return 0;
	}
	if (!conf_parse_list(e->value, min, max, NULL, max_n, &n))
		return conf_error_entry(reterr, -EINVAL, e,
					"expected a comma-separated list of at most %zu numbers "
					"from %g to %g, got '%s'",
					max_n, min, max, e->value);
	conf_parse_list(e->value, min, max, out, max_n, &n);
	*ret_n = n;
	return 0;
}

/* Levenshtein distance of two short strings; SIZE_MAX when one is longer than a key can be. */
static size_t conf_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[CONF_MAX_KEY + 1];

	if (la > CONF_MAX_KEY || lb > CONF_MAX_KEY)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0]; /* row[i-1][j-1] */

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], cost = a[i - 1] != b[j - 1];

			row[j] = EL_MIN(EL_MIN(up + 1, row[j - 1] + 1), diag + cost);
			diag = up;
		}
	}
	return row[lb];
}

/* The allowed key closest to key within distance 2 (the first of equals), or NULL. */
static const char *conf_suggest(const char *key, const char *const *allowed)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; allowed[i]; i++) {
		size_t d = conf_edit_distance(key, allowed[i]);

		if (d < best_d) {
			best_d = d;
			best = allowed[i];
		}
	}
	return best;
}

static bool conf_key_allowed(const char *key, const char *const *allowed)
{
	for (size_t i = 0; allowed[i]; i++)
		if (strcmp(key, allowed[i]) == 0)
			return true;
	return false;
}

int conf_check_keys(const struct conf_section *sec, const char *const *allowed,
		    struct el_error *reterr)
{
	static const char *const none[] = {NULL};

	if (!sec)
		return 0;
	if (!allowed)
		allowed = none;
	for (size_t i = 0; i < sec->n_entries; i++) {
		const struct conf_entry *e = &sec->entries[i];
		const char *hint;

		if (conf_key_allowed(e->key, allowed))
			continue;
		hint = conf_suggest(e->key, allowed);
		if (hint)
			return conf_error_entry(reterr, -EINVAL, e,
						"unknown key in [%s] (did you mean '%s'?)",
						sec->name, hint);
		return conf_error_entry(reterr, -EINVAL, e, "unknown key in [%s]", sec->name);
	}
	return 0;
}
