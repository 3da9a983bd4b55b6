/* SPDX-License-Identifier: MIT */
/* daemon/power/render-pacer.c: pacing an offline render by the power and heat policy. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "common/el-time.h"
#include "daemon/log.h"
#include "daemon/power/settings.h"
#include "daemon/power/render-pacer.h"
#include "policy/actions.h"
#include "policy/decide.h"
#include "policy/sample.h"

/* A render reads sysfs at most this often: often enough to notice AC within a second. */
#define PACER_MAX_READ_MS 1000u

/*
 * Where the table says wait for low-priority work, a render pauses this many times its chunk's
 * time, scaled by the heat (1 nominal/fair, 2 serious, 4 critical as in the table). A render
 * is never held: a user started it and waits for the file, and a pinned state never changes,
 * so a wait would be forever. At ×4 × 2 a render takes at most 9× its unpaced time.
 */
#define PACER_WAIT_FACTOR 2u

struct render_pacer {
	int root_fd;
	uint32_t read_ms;
	const char *const *zone_types; /* borrowed from the settings, which outlive the render */
	size_t n_zone_types;
	uint32_t ncpu;
	struct pol_decider *decider;
	struct pol_sample sample; /* the last reading */
	struct pol_actions actions;
	uint64_t read_at_ms; /* when sysfs was last read */
	uint32_t factor;     /* pause after a chunk, × its time (pacer_factor()); 0: none */
};

/* A signal ends the pause early: the render's stop signals are caught without SA_RESTART so
 * that an interrupted render ends at once (render.c) rather than after its pause. */
static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};

	nanosleep(&ts, NULL);
}

/* The pause after a chunk, as a multiple of its time: 0 (none) to 8 (critical). */
static uint32_t pacer_factor(const struct pol_actions *a)
{
	switch (a->bg[POL_BG_PRIO_LOW].run) {
	case POL_BG_THROTTLE:
		return a->bg[POL_BG_PRIO_LOW].sleep_factor;
	case POL_BG_WAIT:
		/* the high-priority row throttles at the same level: its factor is the heat's */
		return PACER_WAIT_FACTOR * EL_MAX(a->bg[POL_BG_PRIO_HIGH].sleep_factor, 1u);
	default:
		return 0;
	}
}

/* Reads sysfs and decides again, at most every read_ms; says so when the pause changes. */
static void pacer_read(struct render_pacer *p)
{
	struct pol_decision dec;
	uint64_t now = el_now_ms();
	uint32_t before = p->factor;

	if (p->read_at_ms && now - p->read_at_ms < p->read_ms)
		return;
	p->read_at_ms = now;
	pol_sample_read(p->decider, p->root_fd, p->zone_types, p->n_zone_types, now, &p->sample,
			NULL);
	pol_decider_set_time(p->decider, now);
	pol_decider_get_decision(p->decider, &dec);
	pol_actions_get(dec.mode, dec.thermal, p->ncpu, &p->actions);
	p->factor = pacer_factor(&p->actions);
	if (p->factor == before)
		return;
	if (p->factor)
		log_notice("render: slowed by the power policy (mode %s, thermal %s): pausing %u× "
			   "the time of each chunk",
			   pol_mode_to_string(dec.mode), pol_thermal_state_to_string(dec.thermal),
			   p->factor);
	else
		log_notice("render: full speed (mode %s, thermal %s)", pol_mode_to_string(dec.mode),
			   pol_thermal_state_to_string(dec.thermal));
}

void render_pacer_pace(struct render_pacer *p, uint64_t work_ns)
{
	if (!p)
		return;
	pacer_read(p);
	if (p->factor)
		sleep_ns(work_ns * p->factor);
}

uint32_t render_pacer_get_cores(struct render_pacer *p)
{
	long ncpu;

	if (p) {
		pacer_read(p);
		return EL_MAX(p->actions.cores, 1u);
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	return ncpu > 0 ? (uint32_t)ncpu : 1;
}

int render_pacer_new(const struct dpol_settings *settings, struct render_pacer **ret,
		     struct el_error *reterr)
{
	struct render_pacer *p;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int r;

	*ret = NULL;
	if (!settings->enabled)
		return 0;
	if (!(p = calloc(1, sizeof(*p))))
		return el_error_set(reterr, -ENOMEM, "out of memory");
	p->root_fd = open(settings->sysfs_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->root_fd < 0) {
		r = el_error_set(reterr, -errno, "[policy] sysfs_root '%s': %s",
				 settings->sysfs_root, strerror(errno));
		render_pacer_free(p);
		return r;
	}
	p->read_ms = EL_MIN(settings->poll_ms, PACER_MAX_READ_MS);
	p->zone_types = (const char *const *)settings->zone_types;
	p->n_zone_types = settings->n_zone_types;
	p->ncpu = ncpu > 0 ? (uint32_t)ncpu : 1;
	if ((r = dpol_settings_new_decider(settings, el_now_ms(), &p->decider)) < 0) {
		render_pacer_free(p);
		return el_error_set(reterr, r, "[policy]: %s", strerror(-r));
	}
	*ret = p;
	return 0;
}

struct render_pacer *render_pacer_free(struct render_pacer *p)
{
	if (!p)
		return NULL;
	if (p->root_fd >= 0)
		close(p->root_fd);
	pol_decider_free(p->decider);
	free(p);
	return NULL;
}
