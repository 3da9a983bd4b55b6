/* SPDX-License-Identifier: MIT */
/*
 * daemon/control/set-value.c: typed values for `set` (set-value.h).
 *
 * The text is a number, then optionally a unit or '%', then optionally a trailing sign, with
 * blanks allowed between the parts; a leading '+' marks a relative change (a leading '-' is a
 * negative number, as -6dB is an absolute level).
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/el-error.h"
#include "daemon/control/set-value.h"
#include "daemon/engine/node.h"

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A dB parameter's share of the cubic volume curve (0 .. 1 and beyond) and back. */
static double db_to_share(double db)
{
	return cbrt(pow(10.0, db / 20.0));
}

static double share_to_db(double share, const struct node_param *p)
{
	return share > 0.0 ? 60.0 * log10(share) : p->min;
}

static bool is_db(const struct node_param *p)
{
	return p->unit && strcmp(p->unit, "dB") == 0;
}

static double clamp(double v, const struct node_param *p)
{
	return v < p->min ? p->min : v > p->max ? p->max : v;
}

int ctl_set_value_parse(const char *text, const struct node_param *p, double current, double *ret,
			struct el_error *reterr)
{
	static const char *const words[] = {"off", "on", "false", "true", "no", "yes"};
	const char *s = skip_blanks(text), *unit;
	bool relative = false, percent = false;
	int sign = 0; /* trailing: +1 raise, -1 lower */
	char *end;
	double v;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(s, words[i]) == 0) {
			*ret = (double)(i % 2);
			return 0;
		}
	if (*s == '+') {
		relative = true;
		s++;
	}
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !isfinite(v))
		goto bad;
	unit = skip_blanks(end);
	end = (char *)unit + strcspn(unit, " \t+-");
	if (end > unit) {
		size_t len = (size_t)(end - unit);

		if (len == 1 && *unit == '%')
			percent = true;
		else if (!p->unit || strlen(p->unit) != len || strncasecmp(unit, p->unit, len) != 0)
			return el_error_set(reterr, -EINVAL, "'%s': %s is in %s, not in %.*s", text,
					    p->name, p->unit ? p->unit : "no unit", (int)len, unit);
	}
	s = skip_blanks(end);
	if (*s == '+' || *s == '-') {
		sign = *s == '+' ? 1 : -1;
		s = skip_blanks(s + 1);
	}
	if (*s || (relative && sign))
		goto bad;
	if (sign) {
		relative = true;
		v *= sign;
	}
	if (percent) {
		double share =
			is_db(p) ? db_to_share(current) : (current - p->min) / (p->max - p->min);

		share = relative ? share + v / 100.0 : v / 100.0;
		if (share < 0.0)
			share = 0.0;
		*ret = clamp(is_db(p) ? share_to_db(share, p) : p->min + share * (p->max - p->min),
			     p);
		return 0;
	}
	*ret = relative ? clamp(current + v, p) : v;
	return 0;
bad:
	return el_error_set(reterr, -EINVAL,
			    "'%s': expected a number (with %s or %%), +N or N+/N- to change it by "
			    "N, or on/off",
			    text, p->unit ? p->unit : "no unit");
}
