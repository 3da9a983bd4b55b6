/* SPDX-License-Identifier: MIT */
/*
 * policy/decide.c: the decision state machine (decide.h). Pure: no logging, no clock.
 *
 * DESIGN: each of the two dimensions (mode, thermal state) is a `struct dim`: the automatic
 * state in force (`cur`, since when, why), and what the latest good readings want. A reading
 * computes `want` against `cur` — hysteresis is relative to the state in force, so the same
 * value can give different answers on the way up and on the way down — and then `apply()`
 * moves cur to want if the dwell time allows. The inputs of the mode (power summary, profile)
 * are kept from their last good readings, since either can change alone; the thermal state
 * is computed whole from each thermal reading. Overrides sit on top and never touch the dims.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-macros.h"
#include "policy/attr.h"
#include "policy/decide.h"
#include "policy/power.h"
#include "policy/thermal.h"

#define TEMP_HYST_MAX_MC   50000u
#define FAIR_MARGIN_MAX_MC 100000u
#define DWELL_MAX_MS       3600000u

struct dim {
	int cur, want; /* enum pol_mode or enum pol_thermal_state */
	enum pol_reason cur_reason, want_reason;
	bool started;      /* cur came from a reading (until then no dwell applies) */
	uint64_t since_ms; /* when cur began */
};

/* Per reader: failing now, for POL_ERROR_FIRST / POL_RECOVERED. */
struct src {
	int error;   /* 0, or the last read's -errno */
	bool failed; /* failing since the last success (or since the start) */
};

enum { SRC_POWER, SRC_PROFILE, SRC_THERMAL, SRC_N };

struct pol_decider {
	struct pol_decider_config cfg;
	struct dim mode, thermal;
	struct src src[SRC_N];

	/* Last good mode inputs. */
	bool have_power;
	struct {
		bool ac_online, have_battery, charging, full, discharging;
		int capacity;
	} power;
	enum pol_profile profile;

	/* The zone behind the thermal want (shown by get_decision). */
	char zone[POL_NAME_MAX], zone_type[POL_NAME_MAX];
	int64_t zone_temp_mc, zone_threshold_mc;

	bool mode_pinned, thermal_pinned;
	enum pol_mode mode_pin;
	enum pol_thermal_state thermal_pin;
};

static const char *const mode_names[] = {
	[POL_MODE_UNRESTRICTED] = "unrestricted",
	[POL_MODE_NORMAL] = "normal",
	[POL_MODE_LOW] = "low",
};

static const char *const thermal_names[] = {
	[POL_THERMAL_NOMINAL] = "nominal",
	[POL_THERMAL_FAIR] = "fair",
	[POL_THERMAL_SERIOUS] = "serious",
	[POL_THERMAL_CRITICAL] = "critical",
};

static const char *const reason_names[] = {
	[POL_REASON_NO_DATA] = "no-data",
	[POL_REASON_PROFILE_LOW_POWER] = "profile-low-power",
	[POL_REASON_NO_BATTERY] = "no-battery",
	[POL_REASON_AC] = "ac",
	[POL_REASON_CHARGING] = "charging",
	[POL_REASON_FULL] = "full",
	[POL_REASON_ABOVE_HIGH] = "above-high",
	[POL_REASON_BELOW_LOW] = "below-low",
	[POL_REASON_ON_BATTERY] = "on-battery",
	[POL_REASON_NO_ZONES] = "no-zones",
	[POL_REASON_NO_TRIPS] = "no-trips",
	[POL_REASON_COOL] = "cool",
	[POL_REASON_NEAR_PASSIVE] = "near-passive",
	[POL_REASON_PASSIVE] = "passive",
	[POL_REASON_HOT] = "hot",
	[POL_REASON_CRITICAL] = "critical",
};

const char *pol_mode_to_string(enum pol_mode m)
{
	return (unsigned)m < EL_N_ELEMENTS(mode_names) ? mode_names[m] : "?";
}

const char *pol_thermal_state_to_string(enum pol_thermal_state s)
{
	return (unsigned)s < EL_N_ELEMENTS(thermal_names) ? thermal_names[s] : "?";
}

const char *pol_reason_to_string(enum pol_reason r)
{
	return (unsigned)r < EL_N_ELEMENTS(reason_names) ? reason_names[r] : "?";
}

static int index_of(const char *const *names, size_t n, const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -EINVAL;
}

int pol_mode_from_string(const char *s)
{
	return index_of(mode_names, EL_N_ELEMENTS(mode_names), s);
}

int pol_thermal_state_from_string(const char *s)
{
	return index_of(thermal_names, EL_N_ELEMENTS(thermal_names), s);
}

void pol_decider_config_init(struct pol_decider_config *ret)
{
	*ret = (struct pol_decider_config){
		.low_pct = POL_DEFAULT_LOW_PCT,
		.high_pct = POL_DEFAULT_HIGH_PCT,
		.capacity_hyst_pct = POL_DEFAULT_CAPACITY_HYST,
		.fair_margin_mc = POL_DEFAULT_FAIR_MARGIN_MC,
		.temp_hyst_mc = POL_DEFAULT_TEMP_HYST_MC,
		.dwell_ms = POL_DEFAULT_DWELL_MS,
	};
}

static int check_config(const struct pol_decider_config *c)
{
	if (!c || c->low_pct > 100 || c->high_pct > 100 || c->capacity_hyst_pct > 50 ||
	    c->temp_hyst_mc > TEMP_HYST_MAX_MC || c->fair_margin_mc > FAIR_MARGIN_MAX_MC ||
	    c->dwell_ms > DWELL_MAX_MS)
		return -EINVAL;
	/* The bands a capacity sticks in must not overlap, or a level could be low and high. */
	if (c->low_pct + c->capacity_hyst_pct + c->capacity_hyst_pct > c->high_pct)
		return -EINVAL;
	return 0;
}

int pol_decider_new(const struct pol_decider_config *cfg, struct pol_decider **ret)
{
	struct pol_decider *d;

	if (!ret || check_config(cfg) < 0)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cfg = *cfg;
	d->mode = (struct dim){.cur = POL_MODE_UNRESTRICTED, .want = POL_MODE_UNRESTRICTED};
	d->thermal = (struct dim){.cur = POL_THERMAL_NOMINAL, .want = POL_THERMAL_NOMINAL};
	d->power.capacity = -1;
	*ret = d;
	return 0;
}

struct pol_decider *pol_decider_free(struct pol_decider *d)
{
	free(d);
	return NULL;
}

int pol_decider_set_config(struct pol_decider *d, const struct pol_decider_config *cfg)
{
	if (!d || check_config(cfg) < 0)
		return -EINVAL;
	d->cfg = *cfg;
	return 0;
}

static enum pol_mode out_mode(const struct pol_decider *d)
{
	return d->mode_pinned ? d->mode_pin : (enum pol_mode)d->mode.cur;
}

static enum pol_thermal_state out_thermal(const struct pol_decider *d)
{
	return d->thermal_pinned ? d->thermal_pin : (enum pol_thermal_state)d->thermal.cur;
}

/* Moves cur to want when the dwell allows (or `now` is true). */
static void apply(struct dim *x, uint64_t now_ms, uint32_t dwell_ms, bool now)
{
	if (x->started && x->want == x->cur) {
		x->cur_reason = x->want_reason; /* same state, maybe for another reason */
		return;
	}
	if (x->started && !now && (now_ms < x->since_ms || now_ms - x->since_ms < dwell_ms))
		return;
	x->cur = x->want;
	x->cur_reason = x->want_reason;
	x->since_ms = now_ms;
	x->started = true;
}

/* Applies what can be applied and says which outputs changed since before. */
static int settle(struct pol_decider *d, enum pol_mode m0, enum pol_thermal_state t0,
		  uint64_t now_ms)
{
	int bits = 0;

	apply(&d->mode, now_ms, d->cfg.dwell_ms, false);
	/* A rise to critical does not wait: the machine is about to throttle hard or shut down. */
	apply(&d->thermal, now_ms, d->cfg.dwell_ms, d->thermal.want == POL_THERMAL_CRITICAL);
	if (out_mode(d) != m0)
		bits |= POL_CHANGED_MODE;
	if (out_thermal(d) != t0)
		bits |= POL_CHANGED_THERMAL;
	return bits;
}

/* Records a reader's result; the POL_ERROR_FIRST / POL_RECOVERED bit it earns. */
static int note_source(struct src *s, int r)
{
	int bits = 0;

	if (r < 0) {
		if (!s->failed)
			bits = POL_ERROR_FIRST;
		s->failed = true;
		s->error = r;
	} else {
		if (s->failed)
			bits = POL_RECOVERED;
		s->failed = false;
		s->error = 0;
	}
	return bits;
}

/* The mode the kept inputs want, against the automatic mode in force (decide.h). */
static void want_mode(struct pol_decider *d)
{
	const struct pol_decider_config *c = &d->cfg;
	enum pol_mode m = POL_MODE_NORMAL;
	enum pol_reason why = POL_REASON_ON_BATTERY;
	int cap = d->power.capacity;

	if (d->profile == POL_PROFILE_LOW_POWER) {
		m = POL_MODE_LOW, why = POL_REASON_PROFILE_LOW_POWER;
	} else if (!d->power.have_battery) {
		m = POL_MODE_UNRESTRICTED, why = POL_REASON_NO_BATTERY;
	} else if (d->power.ac_online) {
		m = POL_MODE_UNRESTRICTED, why = POL_REASON_AC;
	} else if (d->power.charging) {
		m = POL_MODE_UNRESTRICTED, why = POL_REASON_CHARGING;
	} else if (d->power.full) {
		m = POL_MODE_UNRESTRICTED, why = POL_REASON_FULL;
	} else if (cap >= 0) {
		/* Hysteresis only around the threshold that put the mode where it is. */
		bool above = d->mode.cur_reason == POL_REASON_ABOVE_HIGH;
		bool below = d->mode.cur_reason == POL_REASON_BELOW_LOW;
		int high = (int)c->high_pct - (above ? (int)c->capacity_hyst_pct : 0);
		int low = (int)c->low_pct + (below ? (int)c->capacity_hyst_pct : 0);

		if (cap > high)
			m = POL_MODE_UNRESTRICTED, why = POL_REASON_ABOVE_HIGH;
		else if (d->power.discharging && cap < low)
			m = POL_MODE_LOW, why = POL_REASON_BELOW_LOW;
	}
	d->mode.want = (int)m;
	d->mode.want_reason = why;
}

int pol_decider_set_power(struct pol_decider *d, int r, const struct pol_power *power,
			  uint64_t now_ms)
{
	enum pol_mode m0;
	enum pol_thermal_state t0;
	int bits;

	if (!d || (r >= 0 && !power))
		return -EINVAL;
	m0 = out_mode(d);
	t0 = out_thermal(d);
	bits = note_source(&d->src[SRC_POWER], r);
	if (r >= 0) {
		d->have_power = true;
		d->power.ac_online = power->ac_online;
		d->power.have_battery = power->have_battery;
		d->power.charging = power->charging;
		d->power.full = power->full;
		d->power.discharging = power->discharging;
		d->power.capacity = power->have_battery ? power->capacity : -1;
		want_mode(d);
	}
	return bits | settle(d, m0, t0, now_ms);
}

int pol_decider_set_profile(struct pol_decider *d, int r, enum pol_profile profile, uint64_t now_ms)
{
	enum pol_mode m0;
	enum pol_thermal_state t0;
	int bits;

	if (!d)
		return -EINVAL;
	m0 = out_mode(d);
	t0 = out_thermal(d);
	bits = note_source(&d->src[SRC_PROFILE], r);
	if (r >= 0) {
		d->profile = profile;
		/* The mode needs the power reading too; a profile alone waits for it. */
		if (d->have_power)
			want_mode(d);
	}
	return bits | settle(d, m0, t0, now_ms);
}

/* One zone's thresholds: the lowest passive trip and the lowest hot/critical one (0: none). */
static void zone_thresholds(const struct pol_zone *z, int64_t *passive, int64_t *crit,
			    enum pol_reason *crit_why)
{
	*passive = 0;
	*crit = 0;
	*crit_why = POL_REASON_CRITICAL;
	for (size_t i = 0; i < z->n_trips; i++) {
		const struct pol_trip *t = &z->trips[i];

		if (t->type == POL_TRIP_PASSIVE && (*passive == 0 || t->temp_mc < *passive))
			*passive = t->temp_mc;
		if ((t->type == POL_TRIP_HOT || t->type == POL_TRIP_CRITICAL) &&
		    (*crit == 0 || t->temp_mc < *crit)) {
			*crit = t->temp_mc;
			*crit_why = t->type == POL_TRIP_HOT ? POL_REASON_HOT : POL_REASON_CRITICAL;
		}
	}
}

struct zone_verdict {
	enum pol_thermal_state state;
	enum pol_reason why;
	int64_t threshold; /* the threshold crossed, or for nominal the next one up; 0 none */
};

/* One zone's state against the state in force cur (thresholds at or below it lowered). */
static struct zone_verdict zone_state(const struct pol_decider_config *c, const struct pol_zone *z,
				      enum pol_thermal_state cur)
{
	int64_t passive, crit, hyst = c->temp_hyst_mc, t = z->temp_mc;
	enum pol_reason crit_why;

	zone_thresholds(z, &passive, &crit, &crit_why);
	if (crit && t >= crit - (cur >= POL_THERMAL_CRITICAL ? hyst : 0))
		return (struct zone_verdict){POL_THERMAL_CRITICAL, crit_why, crit};
	if (passive && t >= passive - (cur >= POL_THERMAL_SERIOUS ? hyst : 0))
		return (struct zone_verdict){POL_THERMAL_SERIOUS, POL_REASON_PASSIVE, passive};
	if (passive &&
	    t >= passive - (int64_t)c->fair_margin_mc - (cur >= POL_THERMAL_FAIR ? hyst : 0))
		return (struct zone_verdict){POL_THERMAL_FAIR, POL_REASON_NEAR_PASSIVE,
					     passive - (int64_t)c->fair_margin_mc};
	if (passive)
		return (struct zone_verdict){POL_THERMAL_NOMINAL, POL_REASON_COOL,
					     passive - (int64_t)c->fair_margin_mc};
	if (crit)
		return (struct zone_verdict){POL_THERMAL_NOMINAL, POL_REASON_COOL, crit};
	return (struct zone_verdict){POL_THERMAL_NOMINAL, POL_REASON_NO_TRIPS, 0};
}

/* The most severe zone wins; among equals, one with trip points, then the hottest. */
static bool outranks(const struct zone_verdict *a, const struct pol_zone *za,
		     const struct zone_verdict *b, const struct pol_zone *zb)
{
	bool a_trips = a->why != POL_REASON_NO_TRIPS, b_trips = b->why != POL_REASON_NO_TRIPS;

	if (a->state != b->state)
		return a->state > b->state;
	if (a_trips != b_trips)
		return a_trips;
	return za->temp_mc > zb->temp_mc;
}

static void want_thermal(struct pol_decider *d, const struct pol_thermal *th)
{
	const struct pol_zone *best = NULL;
	struct zone_verdict v = {POL_THERMAL_NOMINAL, POL_REASON_NO_ZONES, 0};
	size_t n = EL_MIN(th->n_zones, (size_t)POL_ZONE_MAX);

	for (size_t i = 0; i < n; i++) {
		const struct pol_zone *z = &th->zones[i];
		struct zone_verdict zv;

		if (!z->has_temp)
			continue;
		zv = zone_state(&d->cfg, z, (enum pol_thermal_state)d->thermal.cur);
		if (!best || outranks(&zv, z, &v, best)) {
			best = z;
			v = zv;
		}
	}
	d->thermal.want = (int)v.state;
	d->thermal.want_reason = v.why;
	pol_copy_cut(d->zone, sizeof(d->zone), best ? best->name : "");
	pol_copy_cut(d->zone_type, sizeof(d->zone_type), best ? best->type : "");
	d->zone_temp_mc = best ? best->temp_mc : 0;
	d->zone_threshold_mc = v.threshold;
}

int pol_decider_set_thermal(struct pol_decider *d, int r, const struct pol_thermal *thermal,
			    uint64_t now_ms)
{
	enum pol_mode m0;
	enum pol_thermal_state t0;
	int bits;

	if (!d || (r >= 0 && !thermal))
		return -EINVAL;
	m0 = out_mode(d);
	t0 = out_thermal(d);
	bits = note_source(&d->src[SRC_THERMAL], r);
	if (r >= 0)
		want_thermal(d, thermal);
	return bits | settle(d, m0, t0, now_ms);
}

int pol_decider_set_time(struct pol_decider *d, uint64_t now_ms)
{
	if (!d)
		return -EINVAL;
	return settle(d, out_mode(d), out_thermal(d), now_ms);
}

int pol_decider_set_mode_override(struct pol_decider *d, bool pinned, enum pol_mode mode,
				  uint64_t now_ms)
{
	enum pol_mode m0;

	if (!d || (pinned && (unsigned)mode >= POL_MODE_N))
		return -EINVAL;
	m0 = out_mode(d);
	d->mode_pinned = pinned;
	d->mode_pin = pinned ? mode : POL_MODE_UNRESTRICTED;
	return settle(d, m0, out_thermal(d), now_ms);
}

int pol_decider_set_thermal_override(struct pol_decider *d, bool pinned,
				     enum pol_thermal_state state, uint64_t now_ms)
{
	enum pol_thermal_state t0;

	if (!d || (pinned && (unsigned)state >= POL_THERMAL_N))
		return -EINVAL;
	t0 = out_thermal(d);
	d->thermal_pinned = pinned;
	d->thermal_pin = pinned ? state : POL_THERMAL_NOMINAL;
	return settle(d, out_mode(d), t0, now_ms);
}

void pol_decider_get_decision(const struct pol_decider *d, struct pol_decision *ret)
{
	*ret = (struct pol_decision){
		.mode = out_mode(d),
		.thermal = out_thermal(d),
		.mode_pinned = d->mode_pinned,
		.thermal_pinned = d->thermal_pinned,
		.mode_auto = (enum pol_mode)d->mode.cur,
		.mode_reason = d->mode.cur_reason,
		.mode_wanted = (enum pol_mode)d->mode.want,
		.mode_since_ms = d->mode.since_ms,
		.capacity = d->power.capacity,
		.profile = d->profile,
		.thermal_auto = (enum pol_thermal_state)d->thermal.cur,
		.thermal_reason = d->thermal.cur_reason,
		.thermal_wanted = (enum pol_thermal_state)d->thermal.want,
		.thermal_since_ms = d->thermal.since_ms,
		.zone_temp_mc = d->zone_temp_mc,
		.zone_threshold_mc = d->zone_threshold_mc,
		.power_error = d->src[SRC_POWER].error,
		.profile_error = d->src[SRC_PROFILE].error,
		.thermal_error = d->src[SRC_THERMAL].error,
	};
	memcpy(ret->zone, d->zone, sizeof(ret->zone));
	memcpy(ret->zone_type, d->zone_type, sizeof(ret->zone_type));
}

bool pol_decider_get_deadline(const struct pol_decider *d, uint64_t *ret_ms)
{
	uint64_t t = UINT64_MAX;

	if (!d)
		return false;
	if (d->mode.want != d->mode.cur && d->mode.started)
		t = EL_MIN(t, d->mode.since_ms + d->cfg.dwell_ms);
	if (d->thermal.want != d->thermal.cur && d->thermal.started)
		t = EL_MIN(t, d->thermal.since_ms + d->cfg.dwell_ms);
	if (t == UINT64_MAX)
		return false;
	if (ret_ms)
		*ret_ms = t;
	return true;
}
