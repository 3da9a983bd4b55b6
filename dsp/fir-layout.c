/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir-layout.c: building and checking convolver layouts (fir-layout.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/el-macros.h"
#include "dsp/fir-layout.h"
#include "dsp/fir.h"

static int block_is_valid(unsigned block)
{
	return EL_IS_POW2(block) && block >= DSP_FIR_MIN_BLOCK && block <= DSP_FIR_MAX_BLOCK;
}

/* The earliest tap a segment of partition size `size` may start at (fir-layout.h). */
static size_t earliest_start(unsigned block, unsigned size)
{
	return size == block ? 0 : 2 * (size_t)size - block;
}

int dsp_fir_layout_uniform(unsigned block, size_t ntaps, struct dsp_fir_layout *ret)
{
	if (!ret || !block_is_valid(block) || ntaps == 0 || ntaps > DSP_FIR_MAX_TAPS)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	ret->block = block;
	ret->count = 1;
	ret->seg[0].size = block;
	ret->seg[0].parts = (ntaps + block - 1) / block;
	return 0;
}

int dsp_fir_layout_growing(unsigned block, size_t ntaps, unsigned step, unsigned max_size,
			   const unsigned *extra, struct dsp_fir_layout *ret)
{
	struct dsp_fir_layout l;
	size_t start = 0;
	unsigned size = block;
	int r = dsp_fir_layout_uniform(block, ntaps, &l);

	if (r < 0)
		return r;
	if ((step != 2 && step != 4 && step != 8) || !EL_IS_POW2(max_size) || max_size < block ||
	    max_size > DSP_FIR_MAX_BLOCK * 64u)
		return -EINVAL;
	l.count = 0;
	for (;;) {
		unsigned next = size * step;
		unsigned i = l.count++;
		size_t parts;

		/* checked before the write: a small block, step 2 and a huge max_size would
		 * otherwise run past the segment array before dsp_fir_layout_check() sees it */
		if (i == DSP_FIR_LAYOUT_MAX_SEGMENTS)
			return -EINVAL;
		l.seg[i].size = size;
		if (next > max_size || start + earliest_start(block, next) >= ntaps) {
			/* the last segment: the rest of the IR */
			l.seg[i].parts = (ntaps - start + size - 1) / size;
			break;
		}
		/* the fewest partitions that carry the next segment's start to its earliest (one
		 * at least: extras before may have carried it there already) */
		parts = start < earliest_start(block, next)
				? (earliest_start(block, next) - start + size - 1) / size
				: 0;
		parts = EL_MAX(parts, (size_t)1) + (extra ? extra[i] : 0);
		l.seg[i].parts = parts;
		start += parts * size;
		if (start >= ntaps)
			break;
		size = next;
	}
	*ret = l;
	return dsp_fir_layout_check(ret);
}

int dsp_fir_layout_check(const struct dsp_fir_layout *l)
{
	size_t start = 0;

	if (!l || !block_is_valid(l->block) || l->count == 0 ||
	    l->count > DSP_FIR_LAYOUT_MAX_SEGMENTS || l->seg[0].size != l->block)
		return -EINVAL;
	for (unsigned i = 0; i < l->count; i++) {
		const struct dsp_fir_segment *s = &l->seg[i];

		if (!EL_IS_POW2(s->size) || s->parts == 0 ||
		    (i > 0 && s->size <= l->seg[i - 1].size))
			return -EINVAL;
		if (start < earliest_start(l->block, s->size))
			return -EINVAL;
		if (s->parts > DSP_FIR_MAX_TAPS / s->size)
			return -EINVAL;
		start += s->parts * s->size;
		if (start > DSP_FIR_MAX_TAPS + (size_t)s->size)
			return -EINVAL; /* more than a partition beyond the longest IR */
	}
	return 0;
}

size_t dsp_fir_layout_get_taps(const struct dsp_fir_layout *l)
{
	return dsp_fir_layout_get_offset(l, l->count);
}

size_t dsp_fir_layout_get_offset(const struct dsp_fir_layout *l, unsigned i)
{
	size_t start = 0;

	for (unsigned k = 0; k < i && k < l->count; k++)
		start += l->seg[k].parts * l->seg[k].size;
	return start;
}

unsigned dsp_fir_layout_get_period(const struct dsp_fir_layout *l)
{
	return l->seg[l->count - 1].size / l->block;
}

int dsp_fir_layout_fit(const struct dsp_fir_layout *l, size_t ntaps, struct dsp_fir_layout *ret)
{
	struct dsp_fir_layout f = *l;
	size_t start = 0;

	if (ntaps == 0)
		return -EINVAL;
	if (ntaps > dsp_fir_layout_get_taps(l))
		return -E2BIG;
	for (unsigned i = 0; i < l->count; i++) {
		size_t seg_taps = l->seg[i].parts * l->seg[i].size;

		if (start + seg_taps >= ntaps) {
			f.count = i + 1;
			f.seg[i].parts = (ntaps - start + l->seg[i].size - 1) / l->seg[i].size;
			break;
		}
		start += seg_taps;
	}
	memset(&f.seg[f.count], 0, (DSP_FIR_LAYOUT_MAX_SEGMENTS - f.count) * sizeof(f.seg[0]));
	*ret = f;
	return 0;
}

int dsp_fir_layout_contains(const struct dsp_fir_layout *outer, const struct dsp_fir_layout *inner)
{
	unsigned last;

	if (outer->block != inner->block || inner->count > outer->count)
		return 0;
	last = inner->count - 1;
	for (unsigned i = 0; i < last; i++)
		if (inner->seg[i].size != outer->seg[i].size ||
		    inner->seg[i].parts != outer->seg[i].parts)
			return 0;
	return inner->seg[last].size == outer->seg[last].size &&
	       inner->seg[last].parts <= outer->seg[last].parts;
}

/* A decimal number of at most 9 digits at *p (no sign, no spaces); advances *p. */
static int parse_count(const char **p, size_t *ret)
{
	size_t v = 0, n = 0;

	while (**p >= '0' && **p <= '9' && n < 10) {
		v = v * 10 + (size_t)(**p - '0');
		(*p)++;
		n++;
	}
	if (n == 0 || n > 9)
		return -EINVAL;
	*ret = v;
	return 0;
}

int dsp_fir_layout_parse(const char *text, struct dsp_fir_layout *ret)
{
	struct dsp_fir_layout l = {0};
	const char *p = text;

	if (!text || !ret)
		return -EINVAL;
	for (;;) {
		size_t size, parts;

		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		if (l.count == DSP_FIR_LAYOUT_MAX_SEGMENTS || parse_count(&p, &size) < 0 ||
		    *p++ != 'x' || parse_count(&p, &parts) < 0 || size > DSP_FIR_MAX_TAPS)
			return -EINVAL;
		if (*p && *p != ' ' && *p != ',')
			return -EINVAL;
		l.seg[l.count].size = (unsigned)size;
		l.seg[l.count].parts = parts;
		l.count++;
	}
	l.block = l.seg[0].size;
	if (dsp_fir_layout_check(&l) < 0)
		return -EINVAL;
	*ret = l;
	return 0;
}

int dsp_fir_layout_format(const struct dsp_fir_layout *l, char *buf, size_t size)
{
	size_t len = 0;

	if (size)
		buf[0] = '\0';
	for (unsigned i = 0; i < l->count; i++) {
		int n = snprintf(len < size ? buf + len : NULL, len < size ? size - len : 0,
				 "%s%ux%zu", i ? " " : "", l->seg[i].size, l->seg[i].parts);

		if (n < 0)
			return n;
		len += (size_t)n;
	}
	return (int)len;
}
