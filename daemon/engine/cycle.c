/* SPDX-License-Identifier: MIT */
/*
 * daemon/engine/cycle.c: the RT cycle — adopt a published plan, apply queued parameter
 * changes, run every step level by level, publish statistics.
 *
 * Everything here runs on the backend's RT thread (steps also on workers) and obeys the RT
 * rules: no allocation, no lock, no blocking call, no formatted output. Buffers come from the
 * pool the plan indexes; silence is tracked per buffer so a node whose input has been silent
 * for longer than its tail is skipped and reads as silence downstream.
 */
#include <assert.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "common/el-macros.h"
#include "common/el-par.h"
#include "common/el-probe.h"
#include "daemon/engine/engine-private.h"
#include "daemon/engine/inst.h"
#include "daemon/engine/node.h"
#include "daemon/engine/plan.h"
#include "daemon/engine/ring.h"
#include "daemon/engine/rt-check.h"
#include "daemon/engine/workers.h"

EL_RT static uint64_t rt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

EL_RT static float *rt_buffer(const struct eng_engine *e, uint32_t b)
{
	return e->pool + (size_t)b * e->settings.block;
}

EL_RT void eng_cycle_push_event(struct eng_engine *e, uint32_t type, uint32_t inst_id, double value)
{
	struct eng_event ev = {
		.type = type,
		.inst_id = inst_id,
		/* relaxed: statistics counter, written by this thread */
		.frame = atomic_load_explicit(&e->frames, memory_order_relaxed),
		.value = value,
	};

	/* The ring has one producer: workers report through counters the RT thread reads. */
	assert(!eng_workers_on_worker());

	if (eng_ring_push(e->events, &ev) < 0)
		atomic_fetch_add_explicit(&e->events_lost, 1, memory_order_relaxed);
}

/* The gain of a ramp at frame t of the plan (t may pass the fade's end). */
EL_RT static float rt_ramp_gain(enum eng_ramp ramp, uint64_t t, uint32_t fade)
{
	float x = t >= fade ? 1.0f : (float)t / (float)fade;

	return ramp == ENG_RAMP_IN ? x : 1.0f - x;
}

/* Input k of step s as a readable pointer; *silent tells whether it is silence. */
EL_RT static const float *rt_input(struct eng_engine *e, const struct eng_plan *p,
				   const struct eng_plan_input *in, unsigned frames, bool *silent)
{
	uint64_t t = p->frames_run;
	float *dst;

	*silent = true;
	if (in->src_step < 0 || p->silent[in->buffer])
		return e->zero;
	if (in->ramp == ENG_RAMP_STEADY || (in->ramp == ENG_RAMP_IN && t >= p->fade_frames)) {
		*silent = false;
		return rt_buffer(e, in->buffer);
	}
	if (in->ramp == ENG_RAMP_OUT && t >= p->fade_frames)
		return e->zero;
	dst = rt_buffer(e, in->scratch);
	e->mix.gain_ramp(dst, rt_buffer(e, in->buffer), rt_ramp_gain(in->ramp, t, p->fade_frames),
			 rt_ramp_gain(in->ramp, t + frames, p->fade_frames), frames);
	*silent = false;
	return dst;
}

/* Fills the step's input pointers; returns whether every input is silence. */
EL_RT static bool rt_gather_inputs(struct eng_engine *e, const struct eng_plan *p,
				   struct eng_plan_step *s, unsigned frames)
{
	bool all_silent = true, silent;

	if (s->inst->type->role == NODE_ROLE_CAPTURE) {
		for (unsigned c = 0; c < s->n_in; c++) {
			unsigned ch = s->io_base + c;
			s->in_ptrs[c] = ch < e->rt_n_capture && e->rt_capture[ch]
						? e->rt_capture[ch]
						: e->zero;
		}
		return false; /* the capture node itself says whether it heard anything */
	}
	for (unsigned k = 0; k < s->n_in; k++) {
		s->in_ptrs[k] = rt_input(e, p, &s->inputs[k], frames, &silent);
		all_silent &= silent;
	}
	return all_silent;
}

EL_RT static void rt_point_outputs(struct eng_engine *e, struct eng_plan_step *s)
{
	bool playback = s->inst->type->role == NODE_ROLE_PLAYBACK;

	for (unsigned c = 0; c < s->n_out; c++) {
		unsigned ch = s->io_base + c;
		/* A channel the backend does not have, or leaves NULL (nobody listens), goes to the
		 * step's pool buffer. */
		s->out_ptrs[c] = playback && ch < e->rt_n_playback && e->rt_playback[ch]
					 ? e->rt_playback[ch]
					 : rt_buffer(e, s->out_buffers[c]);
	}
}

EL_RT static void rt_mark_outputs(struct eng_engine *e, struct eng_plan *p, struct eng_plan_step *s,
				  bool silent)
{
	for (unsigned c = 0; c < s->n_out; c++)
		p->silent[s->out_buffers[c]] = silent;
	/* relaxed: any thread may set it; the RT thread reads it after the last level, whose done
	 * counter (acquire) orders the workers' stores before that read. */
	if (!silent)
		atomic_store_explicit(&e->rt_heard, true, memory_order_relaxed);
}

/*
 * Clip counts become events here, on the RT thread after the last level: the event ring has a
 * single producer, and output steps may run on workers, which only count (in the node's atomic,
 * made visible here by the level's completion).
 */
EL_RT static void rt_report_clips(struct eng_engine *e, const struct eng_plan *p)
{
	double clips;

	for (size_t i = 0; i < p->n_steps; i++) {
		struct eng_inst *inst = p->steps[i].inst;

		if (p->steps[i].clip_param < 0 ||
		    inst->type->get_param(inst->state, (unsigned)p->steps[i].clip_param, 0,
					  &clips) < 0)
			continue;
		if (clips > inst->clips_seen) {
			eng_cycle_push_event(e, ENG_EVENT_CLIP, inst->id, clips);
			inst->clips_seen = clips;
		}
	}
}

/*
 * A replacing step's partner (plan.h) runs on the step's inputs, and the step's output
 * crossfades from the partner's output to the new instance's over the plan's first fade_frames.
 *
 * The law is equal-gain linear (the two gains sum to 1), not equal-power. A replacement is the
 * same node with new settings fed the same signal, so the two outputs are strongly correlated
 * (identical for an equivalent filter, as when a longer IR replaces the same response): equal
 * gains then keep the level exactly, where an equal-power law (squares summing to 1) would
 * swell by up to 3 dB mid-fade. Only for unrelated outputs (a source swapped for another) does
 * linear dip, by at most 3 dB at the midpoint of a fade of a few milliseconds. The connection
 * fades use the same linear ramps. Returns whether the partner's output was silence.
 */
EL_RT static bool rt_run_partner(struct eng_engine *e, const struct eng_plan *p,
				 struct eng_plan_step *s, const struct eng_node_io *io)
{
	struct eng_inst *old = s->partner;
	struct eng_node_io pio = {.frames = io->frames,
				  .n_in = old->n_in,
				  .n_out = old->n_out,
				  .in = s->partner_in_ptrs,
				  .out = s->partner_out_ptrs,
				  /* its inputs are some of the step's: silent when they all are */
				  .in_silent = io->in_silent};
	uint64_t t = p->frames_run;
	float in0 = rt_ramp_gain(ENG_RAMP_IN, t, p->fade_frames);
	float in1 = rt_ramp_gain(ENG_RAMP_IN, t + io->frames, p->fade_frames);
	float out0 = rt_ramp_gain(ENG_RAMP_OUT, t, p->fade_frames);
	float out1 = rt_ramp_gain(ENG_RAMP_OUT, t + io->frames, p->fade_frames);
	bool silent;

	for (unsigned j = 0; j < old->n_in; j++)
		s->partner_in_ptrs[j] = s->partner_in[j] >= 0 ? io->in[s->partner_in[j]] : e->zero;
	for (unsigned c = 0; c < old->n_out; c++)
		s->partner_out_ptrs[c] = rt_buffer(e, s->partner_bufs[c]);
	silent = old->type->process(old->state, &pio);
	/* Channels only the new instance has are new connections downstream: they fade in there. */
	for (unsigned c = 0; c < EL_MIN(s->n_out, old->n_out); c++) {
		e->mix.gain_ramp(io->out[c], io->out[c], in0, in1, io->frames);
		if (!silent)
			e->mix.add_gain_ramp(io->out[c], s->partner_out_ptrs[c], out0, out1,
					     io->frames);
	}
	return silent;
}

/* Runs the step's instance (and its partner while crossfading); true if the output is silence. */
EL_RT static bool rt_process(struct eng_engine *e, const struct eng_plan *p,
			     struct eng_plan_step *s, const struct eng_node_io *io, bool xfade)
{
	bool silent;

	EL_PROBE1(node_begin, s->inst->id);
	silent = s->inst->type->process(s->inst->state, io);
	EL_PROBE2(node_end, s->inst->id, silent);
	if (xfade)
		silent = rt_run_partner(e, p, s, io) && silent;
	return silent;
}

EL_RT void eng_cycle_run_step(void *engine, const struct eng_plan_level *level, uint32_t i)
{
	struct eng_engine *e = engine;
	struct eng_plan *p = e->rt_plan;
	struct eng_plan_step *s = level->steps[i];
	struct eng_inst *inst = s->inst;
	unsigned frames = e->settings.block;
	struct eng_node_io io = {.frames = frames, .n_in = s->n_in, .n_out = s->n_out};
	/* Read partner only inside its fade: after it, the control thread may drop it (plan.h). */
	bool xfade = p->frames_run < p->fade_frames && s->partner;
	uint64_t t0;
	bool out_silent;

	io.in_silent = rt_gather_inputs(e, p, s, frames);
	rt_point_outputs(e, s);
	io.in = s->in_ptrs;
	io.out = s->out_ptrs;
	/* Never skipped mid-crossfade: the partner's fade would stand still. */
	if (!xfade && io.in_silent && inst->quiet_frames >= inst->type->get_tail(inst->state)) {
		for (unsigned c = 0; inst->type->role == NODE_ROLE_PLAYBACK && c < s->n_out; c++)
			if (s->out_ptrs[c] != rt_buffer(e, s->out_buffers[c]))
				memset(s->out_ptrs[c], 0, frames * sizeof(float));
		rt_mark_outputs(e, p, s, true);
		atomic_fetch_add_explicit(&inst->skips, 1, memory_order_relaxed);
		return;
	}
	if (e->rt_timing) {
		t0 = rt_now_ns();
		out_silent = rt_process(e, p, s, &io, xfade);
		/* relaxed: independent statistics counters */
		atomic_fetch_add_explicit(&inst->time_ns, rt_now_ns() - t0, memory_order_relaxed);
		atomic_fetch_add_explicit(&inst->timed_runs, 1, memory_order_relaxed);
	} else {
		out_silent = rt_process(e, p, s, &io, xfade);
	}
	atomic_fetch_add_explicit(&inst->runs, 1, memory_order_relaxed);
	if (!io.in_silent)
		inst->quiet_frames = 0;
	else if (inst->quiet_frames < SIZE_MAX - frames)
		inst->quiet_frames += frames;
	rt_mark_outputs(e, p, s, out_silent);
	/* A node that ran is not idle (it may be counting down its tail), unless it is a capture
	 * step that only found silence. */
	if (inst->type->role != NODE_ROLE_CAPTURE)
		atomic_store_explicit(&e->rt_heard, true, memory_order_relaxed);
}

/*
 * Waking a worker costs microseconds (a futex wake, a context switch on a busy core): a level
 * is shared only when its steps take longer than that together. Unmeasured steps (a new plan)
 * count as expensive, so a heavy graph is shared from its first cycle.
 */
EL_RT static void rt_estimate_level(struct eng_plan_level *lv)
{
	uint64_t total = 0;

	for (uint32_t i = 0; i < lv->count && total < ENG_SHARE_MIN_NS; i++) {
		const struct eng_inst *inst = lv->steps[i]->inst;
		/* relaxed: statistics written by this thread or a worker of an earlier cycle */
		uint64_t timed = atomic_load_explicit(&inst->timed_runs, memory_order_relaxed);

		total += timed ? atomic_load_explicit(&inst->time_ns, memory_order_relaxed) / timed
			       : ENG_SHARE_MIN_NS;
	}
	lv->share = total >= ENG_SHARE_MIN_NS;
}

/* The instance id names in p: at the command's step hint, else anywhere; NULL when gone. */
EL_RT static struct eng_inst *rt_find_inst(const struct eng_plan *p, const struct eng_command *cmd)
{
	if (!p)
		return NULL;
	if (cmd->step < p->n_steps && p->steps[cmd->step].inst->id == cmd->inst_id)
		return p->steps[cmd->step].inst;
	for (size_t i = 0; i < p->n_steps; i++)
		if (p->steps[i].inst->id == cmd->inst_id)
			return p->steps[i].inst;
	return NULL;
}

/*
 * Before the pending plan is adopted, so that changes queued before a batch are applied before
 * the batch's own (in rt_adopt_plan()), as they were asked for. A command applies to its instance
 * only if the plan the RT thread runs, or the pending one it is about to adopt, holds it: both
 * are alive until this thread says it adopted the pending one, so a command can never reach an
 * instance a newer plan dropped and the control thread freed. The control thread queues commands
 * only against the plan it last published, so the hint finds the step at once unless a plan
 * switch came in between.
 */
EL_RT void eng_cycle_apply_commands(struct eng_engine *e, const struct eng_plan *pending)
{
	struct eng_command cmd;
	struct eng_inst *inst;

	while (eng_ring_pop(e->commands, &cmd) == 0) {
		inst = rt_find_inst(e->rt_plan, &cmd);
		if (!inst && pending != e->rt_plan)
			inst = rt_find_inst(pending, &cmd);
		if (inst)
			inst->type->set_param(inst->state, cmd.param, cmd.value);
		else
			atomic_fetch_add_explicit(&e->commands_dropped, 1, memory_order_relaxed);
	}
}

EL_RT static void rt_adopt_plan(struct eng_engine *e, struct eng_plan *p)
{
	if (p == e->rt_plan)
		return;
	e->rt_plan = p;
	if (p && !p->updates_applied) {
		for (size_t i = 0; i < p->n_steps; i++)
			if (p->steps[i].update)
				p->steps[i].inst->type->update_apply(p->steps[i].inst->state,
								     p->steps[i].update);
		/* A batch's parameter changes land in this same cycle. */
		for (size_t i = 0; i < p->n_sets; i++)
			p->sets[i].inst->type->set_param(p->sets[i].inst->state, p->sets[i].param,
							 p->sets[i].value);
		p->updates_applied = true;
	}
	atomic_store_explicit(&e->adopted_at,
			      atomic_load_explicit(&e->frames, memory_order_relaxed),
			      memory_order_relaxed);
	/* release: the control thread may free the previous plan once it sees this */
	atomic_store_explicit(&e->adopted, p, memory_order_release);
	if (p)
		eng_cycle_push_event(e, ENG_EVENT_PLAN, 0, (double)p->n_steps);
}

EL_RT static void rt_silence(float *const *playback, unsigned n, unsigned frames)
{
	for (unsigned c = 0; c < n; c++)
		if (playback[c])
			memset(playback[c], 0, frames * sizeof(float));
}

EL_RT static void rt_publish_load(struct eng_engine *e, uint64_t ns, unsigned frames)
{
	uint64_t ppm = ns * e->settings.rate / frames / 1000u;
	uint32_t v = (uint32_t)EL_MIN(ppm, (uint64_t)UINT32_MAX);

	/* relaxed everywhere: statistics, each value independent */
	atomic_store_explicit(&e->load_ppm, v, memory_order_relaxed);
	if (v > atomic_load_explicit(&e->load_max_ppm, memory_order_relaxed))
		atomic_store_explicit(&e->load_max_ppm, v, memory_order_relaxed);
	atomic_fetch_add_explicit(&e->cycles, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&e->frames, frames, memory_order_relaxed);
}

static void rt_report_xruns(struct eng_engine *e);

/*
 * Runs p's levels in order. A level a worker holds up past the end of the cycle's period is
 * counted and reported (the cycle is then late whatever follows); the pool runs the next second's
 * levels alone (workers.h).
 */
EL_RT static void rt_run_levels(struct eng_engine *e, struct eng_plan *p, uint64_t t0,
				unsigned frames)
{
	uint64_t period = (uint64_t)frames * 1000000000u / e->settings.rate;
	uint64_t deadline = t0 + period;
	uint32_t fallback = ENG_FALLBACK_SECONDS * e->settings.rate / frames * p->n_levels;
	uint64_t late;

	for (unsigned l = 0; l < p->n_levels; l++) {
		if (e->rt_timing)
			rt_estimate_level(&p->levels[l]);
		late = eng_workers_run_level(e->workers, &p->levels[l], p->levels[l].share,
					     deadline, period, fallback);
		if (late) {
			atomic_fetch_add_explicit(&e->late_levels, 1, memory_order_relaxed);
			eng_cycle_push_event(e, ENG_EVENT_LATE_LEVEL, 0, (double)late);
		}
	}
}

/*
 * The playback channels through the start's fade-in, while one runs (eng_engine_fade_in): the
 * linear ramp every other fade uses, 0 to 1 over fade_frames, so the first sound after a start
 * or a device's recovery comes in as a new node does on a reload.
 */
EL_RT static void rt_fade_in(struct eng_engine *e, float *const *playback, unsigned n,
			     unsigned frames)
{
	uint32_t done = e->rt_fade_in_done, len = e->fade_frames;
	unsigned m;
	float g0, g1;

	if (done >= len)
		return;
	m = (unsigned)EL_MIN((uint32_t)frames, len - done);
	g0 = (float)done / (float)len;
	g1 = (float)(done + m) / (float)len;
	for (unsigned c = 0; c < n; c++)
		if (playback[c])
			e->mix.gain_ramp(playback[c], playback[c], g0, g1, m);
	e->rt_fade_in_done = done + m;
}

/*
 * RealtimeSanitizer checks every cycle (rt-check.h) but one kind: an offline render's that lends
 * its convolvers' channels to threads (settings.par with more than one lane), whose runner waits
 * for them by design (common/el-par.h: "not for the RT thread"). Such a cycle has no deadline,
 * and checking it would abort every multi-threaded render of an RTSan build. A render on one
 * thread (`--threads 1`: a runner of one lane, which runs every task inline) is checked.
 */
EL_RT void eng_engine_cycle(struct eng_engine *e, const float *const *capture, unsigned n_capture,
			    float *const *playback, unsigned n_playback, unsigned frames)
{
	const bool checked = el_par_lanes(e->settings.par) <= 1;
	uint64_t t0;
	struct eng_plan *p;

	if (checked)
		eng_rt_enter();
	t0 = rt_now_ns();
	EL_PROBE1(cycle_begin, frames);
	/* acquire: pairs with the control thread's release, so the plan's contents are visible */
	p = atomic_load_explicit(&e->pending, memory_order_acquire);
	eng_cycle_apply_commands(e, p);
	rt_adopt_plan(e, p);
	p = e->rt_plan;
	/* relaxed: a lone request; the fade needs no other data */
	if (atomic_exchange_explicit(&e->fade_in_asked, false, memory_order_relaxed))
		e->rt_fade_in_done = 0;
	/* Channels no playback step writes stay silent. */
	rt_silence(playback, n_playback, frames);
	if (p && frames == e->settings.block) {
		/* Per-node time is sampled: two clock reads per node every cycle would cost more
		 * than a small node's work (bench-engine). */
		uint64_t cycles = atomic_load_explicit(&e->cycles, memory_order_relaxed);

		e->rt_timing = cycles % ENG_NODE_TIMING_EVERY == 0;
		e->rt_capture = capture;
		e->rt_n_capture = n_capture;
		e->rt_playback = playback;
		e->rt_n_playback = n_playback;
		rt_run_levels(e, p, t0, frames);
		rt_fade_in(e, playback, n_playback, frames);
		p->frames_run += frames;
		rt_report_clips(e, p);
		/* relaxed: only this thread writes it. release: every read of a partner, on this
		 * thread or a worker (ordered by the levels' completion), happens before the
		 * control thread, acquiring this, drops the partners. */
		if (p->has_partners && p->frames_run >= p->fade_frames &&
		    !atomic_load_explicit(&p->partners_done, memory_order_relaxed))
			atomic_store_explicit(&p->partners_done, true, memory_order_release);
	}
	/* Idle needs a whole cycle of silence with no fade or crossfade still running. */
	e->rt_all_silent = p && !atomic_load_explicit(&e->rt_heard, memory_order_relaxed) &&
			   ((!p->has_ramps && !p->has_partners) || p->frames_run >= p->fade_frames);
	atomic_store_explicit(&e->rt_heard, false, memory_order_relaxed);
	rt_report_xruns(e);
	t0 = rt_now_ns() - t0;
	rt_publish_load(e, t0, frames);
	EL_PROBE2(cycle_end, frames, t0);
	if (checked)
		eng_rt_exit();
}

EL_RT void eng_engine_report_late(struct eng_engine *e, uint64_t late_ns)
{
	atomic_fetch_add_explicit(&e->late_cycles, 1, memory_order_relaxed);
	eng_cycle_push_event(e, ENG_EVENT_LATE_CYCLE, 0, (double)late_ns);
}

EL_RT void eng_engine_report_drift(struct eng_engine *e, double ppm)
{
	double milli = ppm * 1000.0;

	/* relaxed: a lone value for status; held inside int32 (±2e6 ppm: no real clock); a NaN
	 * (or an infinity) is no estimate */
	milli = milli > 2e9 ? 2e9 : milli < -2e9 ? -2e9 : milli;
	atomic_store_explicit(&e->drift_milli_ppm, isfinite(ppm) ? (int32_t)milli : INT32_MIN,
			      memory_order_relaxed);
}

/* Any thread (JACK reports xruns from its notification thread): only atomics here. */
void eng_engine_report_xrun(struct eng_engine *e, double delay_us)
{
	/* relaxed: the RT thread turns the count into an event; the delay is only informative */
	atomic_store_explicit(&e->xrun_delay_us, (uint64_t)delay_us, memory_order_relaxed);
	atomic_fetch_add_explicit(&e->xruns, 1, memory_order_relaxed);
}

/* The ring has one producer, the RT thread: xruns counted elsewhere become events here. */
EL_RT static void rt_report_xruns(struct eng_engine *e)
{
	uint64_t x = atomic_load_explicit(&e->xruns, memory_order_relaxed);

	if (x != e->rt_xruns_seen) {
		e->rt_xruns_seen = x;
		eng_cycle_push_event(
			e, ENG_EVENT_XRUN, 0,
			(double)atomic_load_explicit(&e->xrun_delay_us, memory_order_relaxed));
	}
}

EL_RT bool eng_engine_is_idle(struct eng_engine *e)
{
	/* relaxed: a stale answer only costs one more (silent) cycle or one later wake-up */
	return e->rt_all_silent && eng_ring_get_count(e->commands) == 0 &&
	       atomic_load_explicit(&e->pending, memory_order_relaxed) == e->rt_plan;
}
