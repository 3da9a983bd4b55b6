/* SPDX-License-Identifier: MIT */
/* daemon/render-pacer.c: pacing an offline render by the power and heat policy. */
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
#include "daemon/log.h"
#include "daemon/policy-settings.h"
#include "daemon/render-pacer.h"
#include "policy/actions.h"
#include "policy/decide.h"
#include "policy/sample.h"

/* A render reads sysfs at most this often: often enough to notice AC within a second. */
#define PACER_MAX_READ_MS 1000u

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
	bool said_wait;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Reads sysfs and decides again, at most every read_ms. */
static void pacer_read(struct render_pacer *p)
{
	struct pol_decision dec;
	uint64_t now = now_ms();

	if (p->read_at_ms && now - p->read_at_ms < p->read_ms)
		return;
	p->read_at_ms = now;
	pol_sample_read(p->decider, p->root_fd, p->zone_types, p->n_zone_types, now, &p->sample,
			NULL);
	pol_decider_set_time(p->decider, now);
	pol_decider_get_decision(p->decider, &dec);
	pol_actions_get(dec.mode, dec.thermal, p->ncpu, &p->actions);
	if (p->actions.bg[POL_BG_PRIO_LOW].run == POL_BG_WAIT && !p->said_wait) {
		log_notice("render: waiting, the power policy holds background work (mode %s, "
			   "thermal %s); it goes on by itself when that changes",
			   pol_mode_to_string(dec.mode), pol_thermal_state_to_string(dec.thermal));
		p->said_wait = true;
	} else if (p->actions.bg[POL_BG_PRIO_LOW].run != POL_BG_WAIT && p->said_wait) {
		log_notice("render: going on (mode %s, thermal %s)", pol_mode_to_string(dec.mode),
			   pol_thermal_state_to_string(dec.thermal));
		p->said_wait = false;
	}
}

void render_pacer_pace(struct render_pacer *p, uint64_t work_ns)
{
	if (!p)
		return;
	pacer_read(p);
	while (p->actions.bg[POL_BG_PRIO_LOW].run == POL_BG_WAIT) {
		sleep_ns((uint64_t)p->read_ms * 1000000u);
		pacer_read(p);
	}
	if (p->actions.bg[POL_BG_PRIO_LOW].run == POL_BG_THROTTLE)
		sleep_ns(work_ns * p->actions.bg[POL_BG_PRIO_LOW].sleep_factor);
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
	if ((r = dpol_settings_new_decider(settings, now_ms(), &p->decider)) < 0) {
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
