/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/eq-file.c: REW / AutoEQ equalizer files (eq-file.h).
 *
 * A line is cut into blank-separated words; a `Filter` line is `Filter N: ON|OFF TYPE` followed
 * by name-value pairs (`Fc F Hz`, `Gain G dB`, `Q Q`) in any order, the units optional. Words
 * are compared without regard to case, as the exporters differ in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/fs/beneath.h"
#include "daemon/nodes/eq-file.h"

/* Longest line and file we read: an exported file is a few kilobytes. */
#define EQ_FILE_MAX_LINE  1024
#define EQ_FILE_MAX_BYTES (1 << 20)
#define EQ_FILE_MAX_WORDS 16
#define EQ_FILE_MAX_Q     1000.0
#define EQ_FILE_DEFAULT_Q 0.7071

/* A type's names and whether it takes a gain and must have a Q. */
static const struct {
	const char *name;
	enum dsp_biquad_type type;
	bool gain, needs_q;
} eq_types[] = {
	{"PK", DSP_BIQUAD_PEAKING, true, true},     {"PEQ", DSP_BIQUAD_PEAKING, true, true},
	{"LS", DSP_BIQUAD_LOWSHELF, true, false},   {"LSC", DSP_BIQUAD_LOWSHELF, true, false},
	{"LSQ", DSP_BIQUAD_LOWSHELF, true, false},  {"HS", DSP_BIQUAD_HIGHSHELF, true, false},
	{"HSC", DSP_BIQUAD_HIGHSHELF, true, false}, {"HSQ", DSP_BIQUAD_HIGHSHELF, true, false},
	{"LP", DSP_BIQUAD_LOWPASS, false, false},   {"LPQ", DSP_BIQUAD_LOWPASS, false, false},
	{"HP", DSP_BIQUAD_HIGHPASS, false, false},  {"HPQ", DSP_BIQUAD_HIGHPASS, false, false},
	{"BP", DSP_BIQUAD_BANDPASS, false, true},   {"NO", DSP_BIQUAD_NOTCH, false, true},
	{"AP", DSP_BIQUAD_ALLPASS, false, true},
};

struct line {
	const char *name;
	unsigned number;
	char *w[EQ_FILE_MAX_WORDS];
	size_t n;
};

static int line_error(const struct line *l, struct el_error *reterr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int line_error(const struct line *l, struct el_error *reterr, const char *fmt, ...)
{
	char msg[EL_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return el_error_set(reterr, -EINVAL, "%s:%u: %s", l->name, l->number, msg);
}

/* A finite number, the whole word (a trailing ':' or unit is not part of it). */
static bool number(const char *s, double *ret)
{
	char *end;

	errno = 0;
	*ret = strtod(s, &end);
	return end != s && *end == '\0' && errno == 0 && isfinite(*ret);
}

/* `Preamp: G dB` */
static int parse_preamp(const struct line *l, struct eq_file *f, struct el_error *reterr)
{
	if (l->n < 2 || l->n > 3 || !number(l->w[1], &f->preamp_db) ||
	    (l->n == 3 && strcasecmp(l->w[2], "dB") != 0) ||
	    !(fabs(f->preamp_db) <= DSP_BIQUAD_MAX_GAIN_DB))
		return line_error(l, reterr, "expected 'Preamp: GAIN dB' with a gain from %g to %g",
				  -DSP_BIQUAD_MAX_GAIN_DB, DSP_BIQUAD_MAX_GAIN_DB);
	return 0;
}

/* The pairs after the type, from word i on: Fc, Gain, Q (units optional). */
static int parse_pairs(const struct line *l, size_t i, double rate, bool *ret_has_gain,
		       bool *ret_has_q, struct dsp_biquad_params *p, struct el_error *reterr)
{
	bool fc = false;

	*ret_has_gain = *ret_has_q = false;
	while (i < l->n) {
		const char *key = l->w[i];
		double v;

		if (i + 1 >= l->n || !number(l->w[i + 1], &v))
			return line_error(l, reterr, "expected a number after '%s'", key);
		i += 2;
		if (strcasecmp(key, "Fc") == 0) {
			if (i < l->n && strcasecmp(l->w[i], "Hz") == 0)
				i++;
			if (!(v > 0.0) || !(v < rate / 2.0))
				return line_error(
					l, reterr,
					"Fc %g Hz: expected above 0 and below %g Hz (half "
					"the rate)",
					v, rate / 2.0);
			p->freq = v;
			fc = true;
		} else if (strcasecmp(key, "Gain") == 0) {
			if (i < l->n && strcasecmp(l->w[i], "dB") == 0)
				i++;
			if (!(fabs(v) <= DSP_BIQUAD_MAX_GAIN_DB))
				return line_error(l, reterr, "Gain %g dB: expected %g to %g dB", v,
						  -DSP_BIQUAD_MAX_GAIN_DB, DSP_BIQUAD_MAX_GAIN_DB);
			p->gain_db = v;
			*ret_has_gain = true;
		} else if (strcasecmp(key, "Q") == 0) {
			if (!(v > 0.0) || v > EQ_FILE_MAX_Q)
				return line_error(l, reterr, "Q %g: expected above 0, at most %g",
						  v, EQ_FILE_MAX_Q);
			p->q = v;
			*ret_has_q = true;
		} else {
			return line_error(l, reterr, "'%s': expected Fc, Gain or Q", key);
		}
	}
	return fc ? 0 : line_error(l, reterr, "no 'Fc FREQ Hz'");
}

/* `Filter N: ON TYPE ...`: one band more, or none (OFF, None). */
static int parse_filter(const struct line *l, double rate, struct eq_file *f,
			struct el_error *reterr)
{
	struct dsp_biquad_params p = {.q = EQ_FILE_DEFAULT_Q};
	size_t i = 1, t;
	bool has_gain, has_q;
	int r;

	/* "Filter 1:" or "Filter 1 :" */
	if (i < l->n && l->w[i][strlen(l->w[i]) - 1] == ':')
		i++;
	else if (i + 1 < l->n && strcmp(l->w[i + 1], ":") == 0)
		i += 2;
	else
		return line_error(l, reterr, "expected 'Filter N: ON TYPE Fc FREQ Hz ...'");
	if (i >= l->n || strcasecmp(l->w[i], "None") == 0 || strcasecmp(l->w[i], "OFF") == 0)
		return 0; /* REW's empty slot, or switched off */
	if (strcasecmp(l->w[i], "ON") != 0)
		return line_error(l, reterr, "'%s': expected ON or OFF", l->w[i]);
	if (++i >= l->n || strcasecmp(l->w[i], "None") == 0)
		return 0;
	for (t = 0; t < EL_N_ELEMENTS(eq_types); t++)
		if (strcasecmp(l->w[i], eq_types[t].name) == 0)
			break;
	if (t == EL_N_ELEMENTS(eq_types))
		return line_error(l, reterr,
				  "filter type '%s': expected PK, LS, LSC, HS, HSC, LP, HP, BP, NO "
				  "or AP",
				  l->w[i]);
	p.type = eq_types[t].type;
	r = parse_pairs(l, i + 1, rate, &has_gain, &has_q, &p, reterr);
	if (r < 0)
		return r;
	if (eq_types[t].gain != has_gain)
		return line_error(l, reterr,
				  eq_types[t].gain ? "%s needs a gain" : "%s takes no gain",
				  eq_types[t].name);
	if (eq_types[t].needs_q && !has_q)
		return line_error(l, reterr, "%s needs a Q", eq_types[t].name);
	if (f->n_bands == DSP_BIQUAD_MAX_SECTIONS)
		return line_error(l, reterr, "more than %u filters", DSP_BIQUAD_MAX_SECTIONS);
	f->band[f->n_bands++] = p;
	return 0;
}

/* One line (modified: cut into words). */
static int parse_line(struct line *l, char *text, double rate, struct eq_file *f,
		      struct el_error *reterr)
{
	char *save = NULL;

	l->n = 0;
	for (char *w = strtok_r(text, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
		if (l->n == EQ_FILE_MAX_WORDS)
			return line_error(l, reterr, "too many words for a filter");
		l->w[l->n++] = w;
	}
	if (l->n == 0)
		return 0;
	if (strcasecmp(l->w[0], "Preamp:") == 0)
		return parse_preamp(l, f, reterr);
	/* "Filter 1: ..."; REW's header begins "Filter Settings file" */
	if (strcasecmp(l->w[0], "Filter") == 0 && l->n > 1 && l->w[1][0] >= '0' &&
	    l->w[1][0] <= '9')
		return parse_filter(l, rate, f, reterr);
	return 0; /* REW's header lines */
}

int eq_file_parse(const char *text, const char *name, double rate, struct eq_file *ret,
		  struct el_error *reterr)
{
	struct eq_file f = {.n_bands = 0};
	struct line l = {.name = name};
	char buf[EQ_FILE_MAX_LINE + 1];

	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		int r;

		l.number++;
		if (len > EQ_FILE_MAX_LINE)
			return line_error(&l, reterr, "a line longer than %d bytes",
					  EQ_FILE_MAX_LINE);
		memcpy(buf, p, len);
		buf[len] = '\0';
		if ((r = parse_line(&l, buf, rate, &f, reterr)) < 0)
			return r;
		p += len + (p[len] == '\n');
	}
	*ret = f;
	return 0;
}

int eq_file_load(const char *path, const char *const *beneath, double rate, struct eq_file *ret,
		 struct el_error *reterr)
{
	/* O_NONBLOCK: a FIFO named by mistake must not hang the control thread in open() */
	int fd = fs_open_beneath(beneath, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	FILE *fp = fd >= 0 ? fdopen(fd, "r") : NULL;
	char *text;
	size_t n;
	int r;

	if (!fp) {
		r = fd < 0 ? fd : -errno;
		if (fd >= 0)
			close(fd);
		return el_error_set(reterr, r, "'%s': cannot open: %s", path, strerror(-r));
	}
	text = malloc(EQ_FILE_MAX_BYTES + 1);
	if (!text) {
		fclose(fp);
		return el_error_set(reterr, -ENOMEM, "out of memory");
	}
	n = fread(text, 1, EQ_FILE_MAX_BYTES + 1, fp);
	r = ferror(fp) ? el_error_set(reterr, -EIO, "'%s': cannot read", path)
	    : n > EQ_FILE_MAX_BYTES
		    ? el_error_set(reterr, -EFBIG, "'%s': larger than an equalizer file (%d bytes)",
				   path, EQ_FILE_MAX_BYTES)
	    : memchr(text, '\0', n) ? el_error_set(reterr, -EINVAL, "'%s': not a text file", path)
				    : 0;
	fclose(fp);
	if (r == 0) {
		text[n] = '\0';
		r = eq_file_parse(text, path, rate, ret, reterr);
	}
	free(text);
	return r;
}
