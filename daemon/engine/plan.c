/* SPDX-License-Identifier: MIT */
/*
 * daemon/engine/plan.c: compiling a graph into a plan, the fade-out step of a reconfiguration,
 * and buffer assignment by liveness.
 *
 * DESIGN: compilation walks the graph in topological order, so when a node is reached the
 * channel counts of everything it reads are known; that is when its instance is found (kept
 * from the previous plan, updated, or created). Buffers are assigned afterwards, level by level:
 * at the start of a level every buffer whose last reader ran in an earlier level is free; each
 * step of the level takes one buffer per output channel and one scratch buffer per ramped
 * input (and one per output of a partner it crossfades from), and scratch buffers live only
 * within their level.
 *
 * Replacement (plan.h): a step that replaces an instance stands for it when connections are
 * compared with the previous plan (step_origin()), both when the new plan decides what fades in
 * and when the fade-out step decides what fades out, so the replaced node's connections run on
 * steadily while its two instances are crossfaded inside the step.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/config/config.h"
#include "daemon/engine/graph.h"
#include "daemon/engine/inst.h"
#include "daemon/engine/node.h"
#include "daemon/engine/plan.h"

static void step_done(struct eng_plan_step *s)
{
	if (s->update)
		s->inst->type->update_free(s->update);
	eng_inst_unref(s->inst);
	eng_inst_unref(s->partner);
	free(s->inputs);
	free(s->out_buffers);
	free(s->in_ptrs);
	free(s->out_ptrs);
	free(s->signature);
	free(s->partner_in);
	free(s->partner_bufs);
	free(s->partner_in_ptrs);
	free(s->partner_out_ptrs);
}

struct eng_plan *eng_plan_free(struct eng_plan *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; p->steps && i < p->n_steps; i++)
		step_done(&p->steps[i]);
	for (unsigned l = 0; p->levels && l < p->n_levels; l++)
		free(p->levels[l].steps);
	free(p->steps);
	free(p->levels);
	free(p->silent);
	free(p->sets);
	free(p);
	return NULL;
}

void eng_plan_drop_partners(struct eng_plan *p)
{
	/* Only steps that have one: the RT thread may still read the others' (NULL) pointers. */
	for (size_t i = 0; i < p->n_steps; i++)
		if (p->steps[i].partner)
			p->steps[i].partner = eng_inst_unref(p->steps[i].partner);
}

void eng_plan_commit(struct eng_plan *p)
{
	for (size_t i = 0; i < p->n_steps; i++) {
		struct eng_plan_step *s = &p->steps[i];

		if (s->signature) {
			free(s->inst->signature);
			s->inst->signature = s->signature;
			s->signature = NULL;
		}
	}
}

struct eng_plan_step *eng_plan_find(const struct eng_plan *p, const char *name)
{
	for (size_t i = 0; p && i < p->n_steps; i++)
		if (strcmp(p->steps[i].inst->name, name) == 0)
			return &p->steps[i];
	return NULL;
}

static const struct eng_plan_step *find_step_of(const struct eng_plan *p,
						const struct eng_inst *inst)
{
	for (size_t i = 0; p && i < p->n_steps; i++)
		if (p->steps[i].inst == inst)
			return &p->steps[i];
	return NULL;
}

/* The instance a step stands for in the plan before its own: the one it replaces, if any. */
static const struct eng_inst *step_origin(const struct eng_plan_step *s)
{
	return s->partner ? s->partner : s->inst;
}

/* Does plan p (the earlier one) feed input k of inst from channel ch of src? */
static int plan_has_edge(const struct eng_plan *p, const struct eng_inst *inst, unsigned k,
			 const struct eng_inst *src, uint32_t ch)
{
	const struct eng_plan_step *s = find_step_of(p, inst);

	if (!s || k >= s->n_in || s->inputs[k].src_step < 0)
		return 0;
	return p->steps[s->inputs[k].src_step].inst == src && s->inputs[k].src_channel == ch;
}

/*
 * Does next (the later plan) keep input k of inst, fed from channel ch of src? A step that
 * replaces inst stands for it, its inputs matched through partner_in.
 */
static int next_keeps_edge(const struct eng_plan *next, const struct eng_inst *inst, unsigned k,
			   const struct eng_inst *src, uint32_t ch)
{
	const struct eng_plan_step *s = NULL;
	int32_t kn = (int32_t)k;

	for (size_t i = 0; !s && i < next->n_steps; i++)
		if (step_origin(&next->steps[i]) == inst)
			s = &next->steps[i];
	if (s && s->partner)
		kn = s->partner_in[k];
	if (!s || kn < 0 || (unsigned)kn >= s->n_in || s->inputs[kn].src_step < 0)
		return 0;
	return step_origin(&next->steps[s->inputs[kn].src_step]) == src &&
	       s->inputs[kn].src_channel == ch;
}

/*
 * Channel k of an input layout `from` (channels per `input` reference) as the same channel of
 * the same reference in layout `to`, or -1 when `to` lacks it.
 */
static int32_t map_channel(const unsigned *from, size_t n_from, const unsigned *to, size_t n_to,
			   unsigned k)
{
	unsigned base = 0;

	for (size_t g = 0; g < n_from && g < n_to; g++) {
		if (k < from[g])
			return k < to[g] ? (int32_t)(base + k) : -1;
		k -= from[g];
		base += to[g];
	}
	return -1;
}

static int step_alloc_io(struct eng_plan_step *s)
{
	s->inputs = calloc(s->n_in + 1, sizeof(*s->inputs));
	s->out_buffers = calloc(s->n_out + 1, sizeof(*s->out_buffers));
	s->in_ptrs = calloc(s->n_in + 1, sizeof(*s->in_ptrs));
	s->out_ptrs = calloc(s->n_out + 1, sizeof(*s->out_ptrs));
	if (!s->inputs || !s->out_buffers || !s->in_ptrs || !s->out_ptrs)
		return -ENOMEM;
	for (unsigned k = 0; k < s->n_in; k++) {
		s->inputs[k].src_step = -1; /* capture steps' inputs are backend channels */
		s->inputs[k].scratch = ENG_NO_BUFFER;
	}
	return 0;
}

/* The partner's arrays; its inputs read the step's inputs of the same reference and channel. */
static int step_alloc_partner(struct eng_plan_step *s)
{
	const struct eng_inst *o = s->partner;

	s->partner_in = calloc(o->n_in + 1, sizeof(*s->partner_in));
	s->partner_bufs = calloc(o->n_out + 1, sizeof(*s->partner_bufs));
	s->partner_in_ptrs = calloc(o->n_in + 1, sizeof(*s->partner_in_ptrs));
	s->partner_out_ptrs = calloc(o->n_out + 1, sizeof(*s->partner_out_ptrs));
	if (!s->partner_in || !s->partner_bufs || !s->partner_in_ptrs || !s->partner_out_ptrs)
		return -ENOMEM;
	for (unsigned j = 0; j < o->n_in; j++)
		s->partner_in[j] = map_channel(o->in_groups, o->n_groups, s->inst->in_groups,
					       s->inst->n_groups, j);
	return 0;
}

/* ---- buffer assignment ---- */

struct alloc_state {
	uint32_t *free_at; /* per buffer: first level at which it is free again */
	uint32_t n_used;   /* high-water mark */
	uint32_t capacity; /* pool size */
};

static int take_buffer(struct alloc_state *a, unsigned level, uint32_t free_at, uint32_t *ret)
{
	for (uint32_t b = 0; b < a->n_used; b++)
		if (a->free_at[b] <= level) {
			a->free_at[b] = free_at;
			*ret = b;
			return 0;
		}
	if (a->n_used == a->capacity)
		return -ENOSPC;
	a->free_at[a->n_used] = free_at;
	*ret = a->n_used++;
	return 0;
}

/* The level after the last reader of each output channel, per step (flattened). */
static int last_reads(const struct eng_plan *p, uint32_t **ret_free_at, size_t **ret_base)
{
	size_t total = 0, *base = calloc(p->n_steps + 1, sizeof(*base));
	uint32_t *free_at;

	if (!base)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_steps; i++) {
		base[i] = total;
		total += p->steps[i].n_out;
	}
	free_at = calloc(total + 1, sizeof(*free_at));
	if (!free_at) {
		free(base);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->n_steps; i++)
		for (unsigned c = 0; c < p->steps[i].n_out; c++)
			free_at[base[i] + c] = p->steps[i].level + 1;
	for (size_t i = 0; i < p->n_steps; i++)
		for (unsigned k = 0; k < p->steps[i].n_in; k++) {
			const struct eng_plan_input *in = &p->steps[i].inputs[k];
			uint32_t *f;

			if (in->src_step < 0)
				continue;
			f = &free_at[base[in->src_step] + in->src_channel];
			*f = EL_MAX(*f, p->steps[i].level + 1);
		}
	*ret_free_at = free_at;
	*ret_base = base;
	return 0;
}

static int assign_level(struct eng_plan *p, struct eng_plan_level *lv, unsigned level,
			struct alloc_state *a, const uint32_t *free_at, const size_t *base)
{
	for (uint32_t j = 0; j < lv->count; j++) {
		struct eng_plan_step *s = lv->steps[j];
		size_t si = (size_t)(s - p->steps);

		for (unsigned k = 0; k < s->n_in; k++) {
			struct eng_plan_input *in = &s->inputs[k];

			in->scratch = ENG_NO_BUFFER;
			if (in->src_step >= 0)
				in->buffer = p->steps[in->src_step].out_buffers[in->src_channel];
			if (in->src_step >= 0 && in->ramp != ENG_RAMP_STEADY &&
			    take_buffer(a, level, level + 1, &in->scratch) < 0)
				return -ENOSPC;
		}
		for (unsigned c = 0; c < s->n_out; c++) {
			/* Playback steps too: where the backend lacks a channel, they write here.
			 */
			if (take_buffer(a, level, free_at[base[si] + c], &s->out_buffers[c]) < 0)
				return -ENOSPC;
		}
		/* The partner's outputs are mixed into the step's before the level ends. */
		for (unsigned c = 0; s->partner && c < s->partner->n_out; c++)
			if (take_buffer(a, level, level + 1, &s->partner_bufs[c]) < 0)
				return -ENOSPC;
	}
	return 0;
}

/* Groups steps into levels and assigns every buffer. -ENOSPC when the pool is too small. */
static int plan_assign(struct eng_plan *p, uint32_t pool_buffers, struct el_error *reterr)
{
	struct alloc_state a = {.capacity = pool_buffers};
	uint32_t *free_at = NULL;
	size_t *base = NULL;
	int r;

	p->levels = calloc(p->n_levels + 1, sizeof(*p->levels));
	a.free_at = calloc(pool_buffers, sizeof(*a.free_at));
	if (!p->levels || !a.free_at || last_reads(p, &free_at, &base) < 0) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned l = 0; l < p->n_levels; l++) {
		p->levels[l].steps = calloc(p->n_steps + 1, sizeof(*p->levels[l].steps));
		if (!p->levels[l].steps) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < p->n_steps; i++) {
		struct eng_plan_level *lv = &p->levels[p->steps[i].level];
		lv->steps[lv->count++] = &p->steps[i];
		lv->share = true; /* until the RT thread has measured the steps */
	}
	for (unsigned l = 0; l < p->n_levels; l++)
		if ((r = assign_level(p, &p->levels[l], l, &a, free_at, base)) < 0) {
			r = el_error_set(reterr, -ENOSPC,
					 "the graph needs more than the %u buffers of [engine] "
					 "pool_buffers",
					 pool_buffers);
			goto out;
		}
	p->n_buffers = a.n_used;
	p->silent = calloc(a.n_used + 1, 1);
	r = p->silent ? 0 : -ENOMEM;
out:
	free(a.free_at);
	free(free_at);
	free(base);
	return r;
}

/* ---- compilation ---- */

/* Input channels of graph node n: fills groups/in_channels of env and the step's sources. */
static int resolve_inputs(const struct eng_graph *g, const struct eng_graph_node *n,
			  const struct eng_plan *p, const int32_t *step_of, unsigned *groups,
			  struct eng_node_env *env, struct el_error *reterr)
{
	env->in_channels = 0;
	env->n_groups = n->n_refs;
	for (size_t k = 0; k < n->n_refs; k++) {
		const struct eng_graph_ref *ref = &n->refs[k];
		const struct eng_plan_step *src = &p->steps[step_of[ref->node]];

		if (ref->channel > src->n_out)
			return conf_error_entry(reterr, -EINVAL, ref->entry,
						"node '%s' has %u channel%s, no channel %u",
						g->nodes[ref->node].name, src->n_out,
						src->n_out == 1 ? "" : "s", ref->channel);
		groups[k] = ref->channel ? 1 : src->n_out;
		env->in_channels += groups[k];
	}
	env->in_groups = groups;
	return 0;
}

/* Wires the step's input channels to its sources, in reference order. */
static void wire_inputs(const struct eng_graph_node *n, struct eng_plan *p, const int32_t *step_of,
			struct eng_plan_step *s, const struct eng_plan *prev)
{
	unsigned k = 0;

	for (size_t r = 0; r < n->n_refs; r++) {
		const struct eng_graph_ref *ref = &n->refs[r];
		int32_t src = step_of[ref->node];
		unsigned first = ref->channel ? ref->channel - 1 : 0;
		unsigned count = ref->channel ? 1 : p->steps[src].n_out;

		for (unsigned c = 0; c < count; c++, k++) {
			struct eng_plan_input *in = &s->inputs[k];
			/* A replacing step's input k is its partner's input j in prev. */
			int32_t j = s->partner ? map_channel(s->inst->in_groups, s->inst->n_groups,
							     s->partner->in_groups,
							     s->partner->n_groups, k)
					       : (int32_t)k;

			in->src_step = src;
			in->src_channel = first + c;
			in->ramp = prev && (j < 0 ||
					    !plan_has_edge(prev, step_origin(s), (unsigned)j,
							   step_origin(&p->steps[src]), first + c))
					   ? ENG_RAMP_IN
					   : ENG_RAMP_STEADY;
			p->has_ramps |= in->ramp != ENG_RAMP_STEADY;
		}
	}
}

static int find_param(const struct node_type *t, const char *name)
{
	for (size_t i = 0; i < t->n_params; i++)
		if (strcmp(t->params[i].name, name) == 0)
			return t->get_param ? (int)i : -1;
	return -1;
}

/* Keeps, updates or creates the instance for graph node n. */
static int find_instance(const struct eng_graph_node *n, const struct eng_plan *prev,
			 const struct eng_node_env *env, struct eng_plan_step *s,
			 struct el_error *reterr)
{
	const struct eng_plan_step *old = eng_plan_find(prev, n->name);
	char *sig;
	int r;

	if (old && old->inst->type == n->type && eng_inst_same_inputs(old->inst, env)) {
		sig = eng_inst_signature(n->section);
		if (!sig)
			return -ENOMEM;
		r = strcmp(sig, old->inst->signature) == 0;
		free(sig);
		/* the same settings keep the instance, unless it has deferred work due (node.h) */
		if (r && !(n->type->wants_update && n->type->wants_update(old->inst->state, env))) {
			s->inst = eng_inst_ref(old->inst);
			return 0;
		}
		if (n->type->update_prepare) {
			r = n->type->update_prepare(old->inst->state, n->section, env, &s->update,
						    reterr);
			if (r == 0) {
				s->inst = eng_inst_ref(old->inst);
				/* Becomes the instance's signature only if this plan is published.
				 */
				s->signature = eng_inst_signature(n->section);
				return s->signature ? 0 : -ENOMEM;
			}
			if (r != -EOPNOTSUPP)
				return r;
		}
	}
	r = eng_inst_new(n->type, n->name, n->section, env, &s->inst, reterr);
	/* A replaced processing node is crossfaded from its old instance, not faded out and in. */
	if (r == 0 && old && old->inst->type->role == NODE_ROLE_PROCESS &&
	    n->type->role == NODE_ROLE_PROCESS)
		s->partner = eng_inst_ref(old->inst);
	return r;
}

static int compile_step(const struct eng_graph *g, size_t node, struct eng_plan *p,
			int32_t *step_of, const struct eng_plan *prev,
			const struct eng_node_env *base_env, struct el_error *reterr)
{
	const struct eng_graph_node *n = &g->nodes[node];
	struct eng_plan_step *s = &p->steps[p->n_steps];
	struct eng_node_env env = *base_env;
	unsigned *groups = calloc(n->n_refs + 1, sizeof(*groups));
	int r;

	if (!groups)
		return -ENOMEM;
	r = resolve_inputs(g, n, p, step_of, groups, &env, reterr);
	if (r == 0)
		r = find_instance(n, prev, &env, s, reterr);
	free(groups);
	if (r < 0)
		return r;
	step_of[node] = (int32_t)p->n_steps++;
	s->level = n->level;
	s->clip_param = find_param(s->inst->type, "clips");
	/* A capture step reads as many backend channels as it outputs. */
	s->n_in = n->type->role == NODE_ROLE_CAPTURE ? s->inst->n_out : s->inst->n_in;
	s->n_out = s->inst->n_out;
	if (step_alloc_io(s) < 0 || (s->partner && step_alloc_partner(s) < 0))
		return -ENOMEM;
	p->has_partners |= s->partner != NULL;
	if (n->type->role != NODE_ROLE_CAPTURE)
		wire_inputs(n, p, step_of, s, prev);
	return 0;
}

static bool range_free(const struct eng_plan *p, enum node_role role, unsigned base, unsigned n,
		       const struct eng_plan_step *self)
{
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct eng_plan_step *o = &p->steps[i];

		if (o != self && o->inst->type->role == role && o->io_placed &&
		    base < o->io_base + o->n_out && o->io_base < base + n)
			return false;
	}
	return true;
}

/*
 * Backend channels. A capture or playback node keeps the channels it had in the previous plan
 * (same name, same channel count), so its ports keep their numbers while the graph around it
 * changes; new ones take the first free range, in config order (so a first plan numbers them
 * from 0 in order, as `echoeld render` maps file channels).
 */
static void assign_io_channels(const struct eng_graph *g, struct eng_plan *p,
			       const int32_t *step_of, const struct eng_plan *prev)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < g->n_nodes; i++) {
			struct eng_plan_step *s = &p->steps[step_of[i]];
			enum node_role role = s->inst->type->role;
			const struct eng_plan_step *old = eng_plan_find(prev, s->inst->name);
			unsigned *count = role == NODE_ROLE_CAPTURE ? &p->n_capture : &p->n_playback;

			if (role == NODE_ROLE_PROCESS || s->io_placed)
				continue;
			if (pass == 0 && old && old->inst->type->role == role &&
			    old->n_out == s->n_out && range_free(p, role, old->io_base, s->n_out, s))
				s->io_base = old->io_base;
			else if (pass == 0)
				continue;
			else
				for (s->io_base = 0; !range_free(p, role, s->io_base, s->n_out, s);)
					s->io_base++;
			s->io_placed = true;
			*count = EL_MAX(*count, s->io_base + s->n_out);
		}
}

int eng_plan_compile(const struct eng_graph *g, const struct eng_plan *prev,
		     const struct eng_node_env *env, uint32_t pool_buffers, uint32_t fade_frames,
		     struct eng_plan **ret, struct el_error *reterr)
{
	struct eng_plan *p = calloc(1, sizeof(*p));
	int32_t *step_of = calloc(g->n_nodes + 1, sizeof(*step_of));
	int r = -ENOMEM;

	if (!p || !step_of)
		goto fail;
	p->steps = calloc(g->n_nodes + 1, sizeof(*p->steps));
	if (!p->steps)
		goto fail;
	p->n_levels = g->n_levels;
	p->fade_frames = fade_frames;
	for (size_t i = 0; i < g->n_nodes; i++)
		if ((r = compile_step(g, g->order[i], p, step_of, prev, env, reterr)) < 0)
			goto fail;
	assign_io_channels(g, p, step_of, prev);
	if ((r = plan_assign(p, pool_buffers, reterr)) < 0)
		goto fail;
	free(step_of);
	*ret = p;
	return 0;
fail:
	free(step_of);
	eng_plan_free(p);
	return r;
}

/* ---- the fade-out step ---- */

/* A copy of cur's steps (new references, no updates), ramps to be decided by the caller. */
static int plan_clone(const struct eng_plan *cur, struct eng_plan **ret)
{
	struct eng_plan *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->steps = calloc(cur->n_steps + 1, sizeof(*p->steps));
	if (!p->steps) {
		free(p);
		return -ENOMEM;
	}
	p->n_levels = cur->n_levels;
	p->fade_frames = cur->fade_frames;
	p->n_capture = cur->n_capture;
	p->n_playback = cur->n_playback;
	for (size_t i = 0; i < cur->n_steps; i++) {
		const struct eng_plan_step *c = &cur->steps[i];
		struct eng_plan_step *s = &p->steps[i];

		s->inst = eng_inst_ref(c->inst);
		p->n_steps++;
		s->level = c->level;
		s->n_in = c->n_in;
		s->n_out = c->n_out;
		s->io_base = c->io_base;
		s->io_placed = c->io_placed;
		s->clip_param = c->clip_param;
		if (step_alloc_io(s) < 0) {
			eng_plan_free(p);
			return -ENOMEM;
		}
		memcpy(s->inputs, c->inputs, c->n_in * sizeof(*s->inputs));
	}
	*ret = p;
	return 0;
}

static int fade_out(const struct eng_plan *cur, const struct eng_plan *next, uint32_t pool_buffers,
		    struct eng_plan **ret, struct el_error *reterr)
{
	struct eng_plan *p;
	int r = plan_clone(cur, &p);

	if (r < 0)
		return r;
	for (size_t i = 0; i < p->n_steps; i++) {
		struct eng_plan_step *s = &p->steps[i];

		for (unsigned k = 0; k < s->n_in; k++) {
			struct eng_plan_input *in = &s->inputs[k];
			int keep = next && in->src_step >= 0 &&
				   next_keeps_edge(next, s->inst, k, p->steps[in->src_step].inst,
						   in->src_channel);

			in->ramp = keep ? ENG_RAMP_STEADY : ENG_RAMP_OUT;
			p->has_ramps |= in->src_step >= 0 && !keep;
		}
	}
	if (next && !p->has_ramps) {
		*ret = NULL;
		eng_plan_free(p);
		return 0;
	}
	r = plan_assign(p, pool_buffers, reterr);
	if (r < 0) {
		eng_plan_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

int eng_plan_fade_out_to(const struct eng_plan *cur, const struct eng_plan *next,
			 uint32_t pool_buffers, struct eng_plan **ret, struct el_error *reterr)
{
	return fade_out(cur, next, pool_buffers, ret, reterr);
}

int eng_plan_fade_out_all(const struct eng_plan *cur, uint32_t pool_buffers, struct eng_plan **ret,
			  struct el_error *reterr)
{
	return fade_out(cur, NULL, pool_buffers, ret, reterr);
}
