/* SPDX-License-Identifier: MIT */
/*
 * dsp/fir-schedule.c: spreading a layout's work evenly over the calls (fir-schedule.h).
 *
 * The load of a phase is the modelled cost of everything done in it. A segment with R steps
 * touches the phases φ ≡ k (mod R) at step k, so what matters when placing its work is, for
 * each step, the most loaded of those phases (step_peak()). Greedy placement by that measure is
 * not optimal in general, but the pieces are few and their sizes fall by powers of two, the
 * case in which largest-first placement is close to the best.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "common/el-macros.h"
#include "dsp/fir-schedule.h"

void dsp_fir_costs_model(struct dsp_fir_costs *c)
{
	for (unsigned k = 0; k < DSP_FIR_COST_SIZES; k++) {
		double n = 2.0 * ldexp(1.0, (int)k); /* the transform's points */

		c->fwd[k] = c->inv[k] = 2.5 * n * log2(n) / 2.0;
		c->mac[k] = 2.4 * ldexp(1.0, (int)k);
	}
}

static unsigned log2u(unsigned x)
{
	return (unsigned)__builtin_ctz(x);
}

/* The most loaded phase among those a segment of R steps reaches at step k. */
static double step_peak(const double *load, unsigned period, unsigned steps, unsigned k)
{
	double peak = 0.0;

	for (unsigned p = k; p < period; p += steps)
		peak = EL_MAX(peak, load[p]);
	return peak;
}

static void add_at_step(double *load, unsigned period, unsigned steps, unsigned k, double cost)
{
	for (unsigned p = k; p < period; p += steps)
		load[p] += cost;
}

/* The transforms of segment i: the pair (fwd <= inv) that leaves the lowest peak. */
static void place_transforms(struct dsp_fir_schedule *s, const struct dsp_fir_layout *l,
			     const struct dsp_fir_costs *c, unsigned i)
{
	struct dsp_fir_steps *st = &s->seg[i];
	unsigned k = log2u(l->seg[i].size), r = st->steps;
	/* the inverse step also adds the newest input's product, partition 0 */
	double fwd = c->fwd[k], inv = c->inv[k] + c->mac[k], best = INFINITY;

	for (unsigned f = 0; f < r; f++) {
		for (unsigned v = f; v < r; v++) {
			double at_f = step_peak(s->phase_cost, s->period, r, f) + fwd;
			double at_v = step_peak(s->phase_cost, s->period, r, v) + inv;
			double peak = f == v ? at_f + inv : EL_MAX(at_f, at_v);

			if (peak < best) {
				best = peak;
				st->fwd = f;
				st->inv = v;
			}
		}
	}
	add_at_step(s->phase_cost, s->period, r, st->fwd, fwd);
	add_at_step(s->phase_cost, s->period, r, st->inv, inv);
}

/* The older partitions of segment i, one at a time to the step whose peak is lowest. */
static void place_products(struct dsp_fir_schedule *s, const struct dsp_fir_layout *l,
			   const struct dsp_fir_costs *c, unsigned i)
{
	struct dsp_fir_steps *st = &s->seg[i];
	double mac = c->mac[log2u(l->seg[i].size)];
	size_t next = 1;

	for (size_t p = 1; p < l->seg[i].parts; p++) {
		unsigned best_k = 0;
		double best = INFINITY;

		/* from the step after the inverse on: ties go to the earliest in the block's order
		 */
		for (unsigned j = 1; j <= st->steps; j++) {
			unsigned k = (st->inv + j) % st->steps;
			double peak = step_peak(s->phase_cost, s->period, st->steps, k);

			if (peak < best) {
				best = peak;
				best_k = k;
			}
		}
		st->count[best_k]++;
		add_at_step(s->phase_cost, s->period, st->steps, best_k, mac);
	}
	/* a block's sum runs from the step after the inverse round to the inverse itself */
	for (unsigned j = 1; j <= st->steps; j++) {
		unsigned k = (st->inv + j) % st->steps;

		st->first[k] = next;
		next += st->count[k];
	}
}

double dsp_fir_layout_model_flops(const struct dsp_fir_layout *layout)
{
	struct dsp_fir_costs c;
	double flops = 0.0;

	dsp_fir_costs_model(&c);
	for (unsigned i = 0; i < layout->count; i++) {
		unsigned k = log2u(layout->seg[i].size);

		flops += (c.fwd[k] + c.inv[k] + (double)layout->seg[i].parts * c.mac[k]) /
			 (double)(layout->seg[i].size / layout->block);
	}
	return flops;
}

int dsp_fir_schedule_new(const struct dsp_fir_layout *l, const struct dsp_fir_costs *c,
			 struct dsp_fir_schedule **ret)
{
	struct dsp_fir_schedule *s;
	double head;

	if (!l || !c || !ret || dsp_fir_layout_check(l) < 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->period = dsp_fir_layout_get_period(l);
	s->count = l->count;
	s->phase_cost = calloc(s->period, sizeof(double));
	if (!s->phase_cost)
		goto nomem;
	for (unsigned i = 0; i < l->count; i++) {
		struct dsp_fir_steps *st = &s->seg[i];

		st->steps = l->seg[i].size / l->block;
		st->first = calloc(st->steps, sizeof(size_t));
		st->count = calloc(st->steps, sizeof(size_t));
		if (!st->first || !st->count)
			goto nomem;
	}
	/* the head does all its work in every call */
	head = c->fwd[log2u(l->block)] + c->inv[log2u(l->block)] +
	       (double)l->seg[0].parts * c->mac[log2u(l->block)];
	s->seg[0].count[0] = l->seg[0].parts - 1;
	s->seg[0].first[0] = 1;
	add_at_step(s->phase_cost, s->period, 1, 0, head);
	for (unsigned i = l->count; i-- > 1;)
		place_transforms(s, l, c, i);
	for (unsigned i = 1; i < l->count; i++) /* fewest steps first: sizes grow with i */
		place_products(s, l, c, i);
	*ret = s;
	return 0;
nomem:
	dsp_fir_schedule_free(s);
	return -ENOMEM;
}

struct dsp_fir_schedule *dsp_fir_schedule_free(struct dsp_fir_schedule *s)
{
	if (!s)
		return NULL;
	for (unsigned i = 0; i < s->count; i++) {
		free(s->seg[i].first);
		free(s->seg[i].count);
	}
	free(s->phase_cost);
	free(s);
	return NULL;
}

double dsp_fir_schedule_get_mean(const struct dsp_fir_schedule *s)
{
	double sum = 0.0;

	for (unsigned p = 0; p < s->period; p++)
		sum += s->phase_cost[p];
	return sum / (double)s->period;
}

double dsp_fir_schedule_get_flatness(const struct dsp_fir_schedule *s)
{
	double mean = dsp_fir_schedule_get_mean(s), peak = 0.0;

	for (unsigned p = 0; p < s->period; p++)
		peak = EL_MAX(peak, s->phase_cost[p]);
	return mean > 0.0 ? peak / mean : 1.0;
}
