/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir-search.c: the measured layout search (fir-search.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/el-macros.h"
#include "dsp/fir-inspect.h"
#include "dsp/fir-schedule.h"
#include "dsp/fir-search.h"
#include "dsp/fir.h"
#include "dsp/mem.h"

/* A candidate must beat the best by this much to count as better: timing noise is not gain. */
#define SEARCH_MARGIN 0.02
/* Calls timed at least, whatever the period: a few hundred medians' worth. */
#define MEASURE_MIN_CALLS 256u

struct search_state {
	const struct dsp_fir_search *s;
	struct dsp_fir_search_result *best;
	int have_best;
};

/* Costs l; takes it as the best when it is flat and cheaper. 1: taken; 0: not; -errno. */
static int search_try(struct search_state *st, const struct dsp_fir_layout *l)
{
	double cost, flatness;
	int r = st->s->cost(st->s->cost_ctx, l, &cost, &flatness);

	if (r < 0)
		return r;
	st->best->tried++;
	if (flatness > st->s->max_flatness)
		return 0;
	if (st->have_best && cost >= st->best->cost * (1.0 - SEARCH_MARGIN))
		return 0;
	st->best->layout = *l;
	st->best->cost = cost;
	st->best->flatness = flatness;
	st->have_best = 1;
	return 1;
}

static int layouts_equal(const struct dsp_fir_layout *a, const struct dsp_fir_layout *b)
{
	if (a->block != b->block || a->count != b->count)
		return 0;
	for (unsigned i = 0; i < a->count; i++)
		if (a->seg[i].size != b->seg[i].size || a->seg[i].parts != b->seg[i].parts)
			return 0;
	return 1;
}

/* Round 1: growing layouts of one step, the largest partition doubling (or more) each time. */
static int search_growing(struct search_state *st, unsigned step)
{
	const struct dsp_fir_search *s = st->s;
	struct dsp_fir_layout l, prev = {0};
	unsigned idle = 0;
	int r;

	for (unsigned top = s->block * step; top <= s->max_size && idle < s->patience;
	     top *= step) {
		if (dsp_fir_layout_growing(s->block, s->taps, step, top, NULL, &l) < 0)
			break;
		if (layouts_equal(&l, &prev))
			break; /* the IR ends before a larger partition could start */
		prev = l;
		r = search_try(st, &l);
		if (r < 0)
			return r;
		idle = r ? 0 : idle + 1;
	}
	return 0;
}

/*
 * Round 2: around the best growing layout, longer segments one at a time (extra partitions
 * delay what follows: more cheap-to-start small work, fewer large transforms), doubling the
 * extra while it pays.
 */
static int search_extras(struct search_state *st)
{
	const struct dsp_fir_search *s = st->s;
	struct dsp_fir_layout base = st->best->layout, l;
	unsigned extra[DSP_FIR_LAYOUT_MAX_SEGMENTS] = {0};
	unsigned step, top = base.seg[base.count - 1].size;
	int r;

	if (base.count < 2)
		return 0;
	step = base.seg[1].size / base.seg[0].size;
	for (unsigned i = 0; i + 1 < base.count; i++) {
		unsigned idle = 0;

		for (unsigned e = 1; e <= 64 && idle < s->patience; e *= 2) {
			unsigned saved = extra[i];

			extra[i] = saved + e;
			if (dsp_fir_layout_growing(s->block, s->taps, step, top, extra, &l) < 0 ||
			    l.count != base.count) {
				extra[i] = saved;
				break;
			}
			r = search_try(st, &l);
			if (r < 0)
				return r;
			if (r) {
				idle = 0;
			} else {
				extra[i] = saved;
				idle++;
			}
		}
	}
	return 0;
}

int dsp_fir_search_run(const struct dsp_fir_search *s, struct dsp_fir_search_result *ret)
{
	struct search_state st = {.s = s, .best = ret};
	struct dsp_fir_layout uniform;
	int r;

	if (!s || !ret || !s->cost || s->patience == 0 || s->max_flatness < 1.0 ||
	    !EL_IS_POW2(s->max_size) || s->max_size < s->block)
		return -EINVAL;
	r = dsp_fir_layout_uniform(s->block, s->taps, &uniform);
	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	/* the uniform layout is always flat: the answer when nothing else is */
	r = search_try(&st, &uniform);
	if (r >= 0 && !st.have_best) {
		ret->layout = uniform;
		ret->flatness = 1.0;
		st.have_best = 1;
	}
	if (r >= 0)
		r = search_growing(&st, 2);
	if (r >= 0)
		r = search_growing(&st, 4);
	if (r >= 0)
		r = search_extras(&st);
	return r < 0 ? r : 0;
}

int dsp_fir_search_model(void *ctx, const struct dsp_fir_layout *l, double *ret_cost,
			 double *ret_flatness)
{
	struct dsp_fir_schedule *s = NULL;
	int r = dsp_fir_schedule_new(l, ctx, &s);

	if (r < 0)
		return r;
	*ret_cost = dsp_fir_schedule_get_mean(s);
	*ret_flatness = dsp_fir_schedule_get_flatness(s);
	dsp_fir_schedule_free(s);
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The measuring rig: one convolver of `channels` inputs and outputs on the diagonal (what a
 * fir node runs), its IR, input and output blocks. */
struct rig {
	unsigned channels;
	struct dsp_fir_ir *ir;
	struct dsp_fir *fir;
	struct dsp_fir_route *routes;
	float **in, **out;
};

static void rig_free(struct rig *g)
{
	for (unsigned c = 0; c < g->channels; c++) {
		if (g->in)
			dsp_mem_free(g->in[c]);
		if (g->out)
			dsp_mem_free(g->out[c]);
	}
	dsp_fir_free(g->fir);
	free(g->routes);
	free(g->in);
	free(g->out);
	dsp_fir_ir_free(g->ir);
}

static int rig_init(struct rig *g, const struct dsp_fir_measure *m, const struct dsp_fir_layout *l)
{
	size_t taps = dsp_fir_layout_get_taps(l);
	struct dsp_fir_config cfg = {.block = l->block,
				     .max_taps = taps,
				     .cpu_flags = m->cpu_flags,
				     .fft = m->fft,
				     .layout = l,
				     .costs = NULL,
				     .inputs = m->channels,
				     .outputs = m->channels};
	float *h = malloc(taps * sizeof(float));
	uint32_t seed = 1;
	int r = -ENOMEM;

	memset(g, 0, sizeof(*g));
	g->channels = m->channels;
	g->routes = calloc(m->channels, sizeof(*g->routes));
	g->in = calloc(m->channels, sizeof(*g->in));
	g->out = calloc(m->channels, sizeof(*g->out));
	if (!h || !g->routes || !g->in || !g->out)
		goto out;
	for (size_t i = 0; i < taps; i++) {
		seed = seed * 1664525u + 1013904223u;
		h[i] = ((float)(seed >> 8) / 8388608.0f - 1.0f) *
		       expf(-6.9f * (float)i / (float)taps);
	}
	r = dsp_fir_ir_new_layout(m->fft, l, h, taps, NULL, &g->ir);
	if (r == 0)
		r = dsp_fir_new(&cfg, &g->fir);
	for (unsigned c = 0; r == 0 && c < m->channels; c++) {
		g->routes[c] = (struct dsp_fir_route){.in = c, .out = c, .ir = g->ir};
		g->in[c] = dsp_mem_alloc(l->block * sizeof(float));
		g->out[c] = dsp_mem_alloc(l->block * sizeof(float));
		r = g->in[c] && g->out[c] ? 0 : -ENOMEM;
		for (unsigned i = 0; r == 0 && i < l->block; i++) {
			seed = seed * 1664525u + 1013904223u;
			g->in[c][i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
		}
	}
	if (r == 0)
		r = dsp_fir_set_routes(g->fir, g->routes, m->channels, 0);
out:
	free(h);
	return r;
}

int dsp_fir_search_measure(void *ctx, const struct dsp_fir_layout *l, double *ret_cost,
			   double *ret_flatness)
{
	const struct dsp_fir_measure *m = ctx;
	unsigned period = dsp_fir_layout_get_period(l), periods;
	double *times = NULL, *phase = NULL, sum = 0.0, worst = 0.0;
	struct rig g;
	int r = rig_init(&g, m, l);

	periods = EL_MAX(EL_MAX(m->periods, 8u), (MEASURE_MIN_CALLS + period - 1) / period);
	if (r == 0) {
		times = malloc((size_t)periods * period * sizeof(double));
		phase = malloc(periods * sizeof(double));
		r = times && phase ? 0 : -ENOMEM;
	}
	if (r < 0)
		goto out;
	/* primed to the steady state (every partition in use), then a period to warm the caches */
	dsp_fir_prime(g.fir);
	for (unsigned i = 0; i < period; i++)
		dsp_fir_process_matrix(g.fir, (const float *const *)g.in, g.out, l->block);
	for (unsigned i = 0; i < periods * period; i++) {
		uint64_t t0 = now_ns();

		dsp_fir_process_matrix(g.fir, (const float *const *)g.in, g.out, l->block);
		times[i] = (double)(now_ns() - t0);
	}
	/* each phase: every period-th call (which one is the schedule's phase 0 does not matter) */
	for (unsigned p = 0; p < period; p++) {
		for (unsigned k = 0; k < periods; k++)
			phase[k] = times[(size_t)k * period + p];
		qsort(phase, periods, sizeof(double), compare_double);
		sum += phase[periods / 2];
		worst = EL_MAX(worst, phase[periods / 2]);
	}
	*ret_cost = sum / period;
	*ret_flatness = sum > 0.0 ? worst * period / sum : 1.0;
out:
	free(times);
	free(phase);
	rig_free(&g);
	return r;
}
