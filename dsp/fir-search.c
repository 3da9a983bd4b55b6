/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir-search.c: the measured layout search (fir-search.h).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
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
	unsigned width; /* candidates costed at once: the threads used */
};

/* A costing thread's stack: what building and timing a convolver needs, FFTW's included. */
#define COST_THREAD_STACK (1u << 20)

/* A candidate and what it cost. */
struct candidate {
	struct dsp_fir_layout layout;
	double cost, flatness;
	int r; /* the cost function's result */
};

/* One candidate to cost, on a thread of its own or the caller's. */
struct cost_job {
	const struct dsp_fir_search *s;
	struct candidate *c;
};

static void *cost_job_run(void *arg)
{
	const struct cost_job *j = arg;

	j->c->r = j->s->cost(j->s->cost_ctx, &j->c->layout, &j->c->cost, &j->c->flatness);
	return NULL;
}

/*
 * Costs c[0..n) (n <= width), one candidate per thread, the caller's thread taking the first.
 * A thread that cannot start leaves its candidate to the caller's thread, after its own.
 */
static void cost_batch(struct search_state *st, struct candidate *c, unsigned n)
{
	struct cost_job job[DSP_FIR_SEARCH_MAX_THREADS];
	pthread_t tid[DSP_FIR_SEARCH_MAX_THREADS];
	bool started[DSP_FIR_SEARCH_MAX_THREADS] = {false};
	pthread_attr_t attr;
	bool attr_ok = n > 1 && pthread_attr_init(&attr) == 0;

	/* a modest stack: under mlockall(MCL_FUTURE) (the daemon) all of it is faulted in */
	if (attr_ok)
		pthread_attr_setstacksize(&attr, COST_THREAD_STACK);
	for (unsigned k = 0; k < n; k++)
		job[k] = (struct cost_job){.s = st->s, .c = &c[k]};
	for (unsigned k = 1; k < n; k++)
		started[k] =
			pthread_create(&tid[k], attr_ok ? &attr : NULL, cost_job_run, &job[k]) == 0;
	if (attr_ok)
		pthread_attr_destroy(&attr);
	if (n > 0)
		cost_job_run(&job[0]);
	for (unsigned k = 1; k < n; k++) {
		if (started[k])
			pthread_join(tid[k], NULL);
		else
			cost_job_run(&job[k]);
	}
	st->best->costed += n;
}

/* Looks at a costed candidate: the best when it is flat and cheaper. 1: taken; 0: not; -errno. */
static int search_take(struct search_state *st, const struct candidate *c)
{
	if (c->r < 0)
		return c->r;
	st->best->tried++;
	if (c->flatness > st->s->max_flatness)
		return 0;
	if (st->have_best && c->cost >= st->best->cost * (1.0 - SEARCH_MARGIN))
		return 0;
	st->best->layout = c->layout;
	st->best->cost = c->cost;
	st->best->flatness = c->flatness;
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

/* Round 1's candidates of one step fit here: sizes double from 32 to 64 × the largest block. */
#define GROWING_MAX 24u

/*
 * Round 1: growing layouts of one step, the largest partition doubling (or more) each time.
 * Which candidates the round has does not depend on their costs, so they are listed first and
 * costed a batch at a time; the round ends after `patience` in a row that are not taken.
 */
static int search_growing(struct search_state *st, unsigned step)
{
	const struct dsp_fir_search *s = st->s;
	struct candidate c[GROWING_MAX];
	struct dsp_fir_layout prev = {0};
	unsigned n = 0, idle = 0;
	int r;

	for (unsigned top = s->block * step; top <= s->max_size && n < GROWING_MAX; top *= step) {
		if (dsp_fir_layout_growing(s->block, s->taps, step, top, NULL, &c[n].layout) < 0)
			break;
		if (layouts_equal(&c[n].layout, &prev))
			break; /* the IR ends before a larger partition could start */
		prev = c[n++].layout;
	}
	for (unsigned i = 0; i < n && idle < s->patience; i += st->width) {
		unsigned batch = EL_MIN(n - i, st->width);

		cost_batch(st, c + i, batch);
		for (unsigned k = 0; k < batch && idle < s->patience; k++) {
			r = search_take(st, &c[i + k]);
			if (r < 0)
				return r;
			idle = r ? 0 : idle + 1;
		}
	}
	return 0;
}

/*
 * Round 2: around the best growing layout, longer segments one at a time (extra partitions
 * delay what follows: more cheap-to-start small work, fewer large transforms), doubling the
 * extra while it pays. Each candidate builds on the extras taken before it, so a batch is the
 * next extras of one segment as if none of them were taken; after one is taken, the rest of the
 * batch was built on what no longer holds and is thrown away.
 */
static int search_extras(struct search_state *st)
{
	const struct dsp_fir_search *s = st->s;
	struct dsp_fir_layout base = st->best->layout;
	unsigned extra[DSP_FIR_LAYOUT_MAX_SEGMENTS] = {0};
	unsigned step, top = base.seg[base.count - 1].size;
	int r;

	if (base.count < 2)
		return 0;
	step = base.seg[1].size / base.seg[0].size;
	for (unsigned i = 0; i + 1 < base.count; i++) {
		unsigned idle = 0, e = 1;

		while (e <= 64 && idle < s->patience) {
			struct candidate c[DSP_FIR_SEARCH_MAX_THREADS];
			unsigned added[DSP_FIR_SEARCH_MAX_THREADS];
			unsigned saved = extra[i], n = 0, k;
			bool blocked = false; /* the candidate after the batch cannot be built */

			for (unsigned f = e; f <= 64 && n < st->width; f *= 2) {
				extra[i] = saved + f;
				if (dsp_fir_layout_growing(s->block, s->taps, step, top, extra,
							   &c[n].layout) < 0 ||
				    c[n].layout.count != base.count) {
					blocked = true;
					break;
				}
				added[n++] = f;
			}
			extra[i] = saved;
			if (n == 0)
				break;
			cost_batch(st, c, n);
			for (k = 0; k < n; k++) {
				r = search_take(st, &c[k]);
				if (r < 0)
					return r;
				e = added[k] * 2;
				if (r) {
					extra[i] = saved + added[k];
					idle = 0;
					break;
				}
				if (++idle >= s->patience)
					break;
			}
			if (k == n && blocked)
				break;
		}
	}
	return 0;
}

int dsp_fir_search_run(const struct dsp_fir_search *s, struct dsp_fir_search_result *ret)
{
	struct search_state st = {.s = s, .best = ret};
	struct candidate uniform;
	int r;

	if (!s || !ret || !s->cost || s->patience == 0 || s->max_flatness < 1.0 ||
	    !EL_IS_POW2(s->max_size) || s->max_size < s->block)
		return -EINVAL;
	r = dsp_fir_layout_uniform(s->block, s->taps, &uniform.layout);
	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	st.width = EL_MIN(EL_MAX(s->threads, 1u), DSP_FIR_SEARCH_MAX_THREADS);
	/* the uniform layout is always flat: the answer when nothing else is */
	cost_batch(&st, &uniform, 1);
	r = search_take(&st, &uniform);
	if (r >= 0 && !st.have_best) {
		ret->layout = uniform.layout;
		ret->flatness = 1.0;
		st.have_best = 1;
	}
	if (r >= 0)
		r = search_growing(&st, 2);
	if (r >= 0)
		r = search_growing(&st, 4);
	/* Two sizes only (256 then 2048, say): fewer transform sizes to keep in the caches, which
	 * a cycle that wakes to cold caches pays for most (docs/performance.md). */
	if (r >= 0)
		r = search_growing(&st, 8);
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

/* Rigs are built one at a time: FFTW's planner and the plan cache are not thread-safe. */
static pthread_mutex_t rig_build_lock = PTHREAD_MUTEX_INITIALIZER;

int dsp_fir_search_measure(void *ctx, const struct dsp_fir_layout *l, double *ret_cost,
			   double *ret_flatness)
{
	const struct dsp_fir_measure *m = ctx;
	unsigned period = dsp_fir_layout_get_period(l), periods;
	double *times = NULL, *phase = NULL, sum = 0.0, worst = 0.0;
	struct rig g;
	int r;

	pthread_mutex_lock(&rig_build_lock);
	r = rig_init(&g, m, l);
	pthread_mutex_unlock(&rig_build_lock);

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
