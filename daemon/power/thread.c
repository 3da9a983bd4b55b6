/* SPDX-License-Identifier: MIT */
/*
 * daemon/power/thread.c: the policy thread — read, decide, publish, sleep.
 *
 * DESIGN. One loop: read every source into a fresh snapshot (power, profile, thermal, with the
 * trace of files read), feed the decider, apply the overrides the control thread posted, ask
 * the decider for the decision and the actions table for what it scales, and publish the result
 * under the mutex. The control thread is woken (eventfd) only when something it acts on
 * happened: a change of mode or thermal state, a reader failing or recovering, an override, or
 * the first reading; status requests copy the latest snapshot (dpol_peek_snapshot) without
 * waking anybody, so they show every reading, not only those that changed something.
 *
 * Then it sleeps in poll(2) until the earliest of: the poll interval (× the actions' poll
 * factor, slower in low mode while cool), the decider's dwell deadline, a uevent for a power
 * supply or thermal zone, or a message from the control thread (stop, override). A burst of
 * uevents (a charger plugged in sends several) is drained before the one re-read.
 *
 * The mutex is held only to copy snapshots and mailbox fields; neither thread is real-time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "common/el-time.h"
#include "daemon/power/settings.h"
#include "daemon/power/thread.h"
#include "policy/uevent.h"

struct dpol {
	pthread_t thread;
	bool started;
	int root_fd;   /* the sysfs root */
	int uevent_fd; /* netlink, or -1 */
	int wake_fd;   /* eventfd: control -> policy */
	int notify_fd; /* eventfd: policy -> control */
	uint32_t ncpu;
	uint32_t poll_ms;
	char *zone_types[DPOL_MAX_ZONE_TYPES]; /* owned copies */
	size_t n_zone_types;
	struct pol_decider *decider; /* the thread's, once started */
	struct dpol_snapshot *work;  /* the thread's: filled by one pass */

	pthread_mutex_t lock; /* guards everything below */
	bool stop;
	bool mode_posted, mode_pinned; /* an override to apply */
	int mode_state;
	bool thermal_posted, thermal_pinned;
	int thermal_state;
	struct dpol_snapshot *published;
};

static void eventfd_signal(int fd)
{
	uint64_t one = 1;

	/* Can only fail when the counter would overflow: it is then readable anyway. */
	(void)!write(fd, &one, sizeof(one));
}

static void eventfd_drain(int fd)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
}

/* The overrides the control thread posted since the last pass; flags of what they changed. */
static int take_overrides(struct dpol *p, uint64_t now)
{
	bool mode, mode_pinned, thermal, thermal_pinned;
	int mode_state, thermal_state, flags = 0;

	pthread_mutex_lock(&p->lock);
	mode = p->mode_posted;
	mode_pinned = p->mode_pinned;
	mode_state = p->mode_state;
	thermal = p->thermal_posted;
	thermal_pinned = p->thermal_pinned;
	thermal_state = p->thermal_state;
	p->mode_posted = p->thermal_posted = false;
	pthread_mutex_unlock(&p->lock);
	if (mode)
		flags |= pol_decider_set_mode_override(p->decider, mode_pinned,
						       (enum pol_mode)mode_state, now);
	if (thermal)
		flags |= pol_decider_set_thermal_override(
			p->decider, thermal_pinned, (enum pol_thermal_state)thermal_state, now);
	/* An override is news even when it pins the state already in force. */
	return flags | (mode || thermal ? POL_CHANGED_MODE | POL_CHANGED_THERMAL : 0);
}

/* One pass: read everything, decide, publish. Returns the flags of this pass. */
static int read_and_decide(struct dpol *p)
{
	struct dpol_snapshot *w = p->work;
	const char *const *types = (const char *const *)p->zone_types;
	uint64_t now = el_now_ms();
	int flags;

	pol_trace_reset(&w->trace);
	flags = pol_sample_read(p->decider, p->root_fd, types, p->n_zone_types, now, &w->sample,
				&w->trace);
	flags |= take_overrides(p, now);
	flags |= pol_decider_set_time(p->decider, now);
	pol_decider_get_decision(p->decider, &w->decision);
	pol_actions_get(w->decision.mode, w->decision.thermal, p->ncpu, &w->actions);
	w->uevents = p->uevent_fd >= 0;
	w->poll_ms = p->poll_ms * EL_MAX(w->actions.poll_factor, 1u);

	pthread_mutex_lock(&p->lock);
	w->seq = p->published->seq + 1;
	/* a first reading is news too: the control thread applies the actions it implies */
	if (w->seq == 1)
		flags |= POL_CHANGED_MODE | POL_CHANGED_THERMAL;
	w->flags = p->published->flags | flags;
	/* swap: the old published one becomes the next work area */
	p->work = p->published;
	p->published = w;
	pthread_mutex_unlock(&p->lock);
	return flags;
}

/* How long to sleep: the poll interval, or less when a dwell ends sooner. */
static int next_timeout_ms(struct dpol *p, uint32_t poll_ms)
{
	uint64_t deadline, now = el_now_ms();

	if (pol_decider_get_deadline(p->decider, &deadline))
		return deadline <= now ? 0 : (int)EL_MIN(deadline - now + 1, (uint64_t)poll_ms);
	return (int)poll_ms;
}

/* Drains the netlink socket; true when a power supply or thermal zone event was among it. */
static bool drain_uevents(struct dpol *p)
{
	char buf[POL_UEVENT_BUFFER_SIZE];
	bool relevant = false;

	for (;;) {
		struct pol_uevent ev;
		int n = pol_uevent_recv(p->uevent_fd, buf, sizeof(buf));

		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return relevant;
		if (n == -ENOBUFS)
			relevant = true; /* events were lost: read everything again */
		else if (n >= 0 && pol_uevent_parse(buf, (size_t)n, &ev) == 1)
			relevant = true;
		else if (n < 0 && n != -EPERM && n != -EINTR && n != -EMSGSIZE)
			return relevant;
	}
}

static void *policy_main(void *arg)
{
	struct dpol *p = arg;

	pthread_setname_np(pthread_self(), "echoeld-policy");
	for (;;) {
		struct pollfd fds[2] = {{.fd = p->wake_fd, .events = POLLIN},
					{.fd = p->uevent_fd, .events = POLLIN}};
		bool stop;
		int flags = read_and_decide(p);

		if (flags)
			eventfd_signal(p->notify_fd);
		/* the interval of this pass: the published snapshot is ours to read until the
		 * next swap, which only this thread does */
		if (poll(fds, p->uevent_fd >= 0 ? 2 : 1,
			 next_timeout_ms(p, p->published->poll_ms)) < 0 &&
		    errno != EINTR)
			break;
		if (fds[0].revents & POLLIN)
			eventfd_drain(p->wake_fd);
		if (p->uevent_fd >= 0 && (fds[1].revents & POLLIN))
			drain_uevents(p);
		pthread_mutex_lock(&p->lock);
		stop = p->stop;
		pthread_mutex_unlock(&p->lock);
		if (stop)
			break;
	}
	return NULL;
}

static int open_root(struct dpol *p, const char *root, struct el_error *reterr)
{
	p->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->root_fd < 0)
		return el_error_set(reterr, -errno, "[policy] sysfs_root '%s': %s", root,
				    strerror(errno));
	return 0;
}

int dpol_new(const struct dpol_settings *settings, uint32_t ncpu, struct dpol **ret,
	     struct el_error *reterr)
{
	struct dpol *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return el_error_set(reterr, -ENOMEM, "out of memory");
	p->root_fd = p->uevent_fd = p->wake_fd = p->notify_fd = -1;
	pthread_mutex_init(&p->lock, NULL);
	p->ncpu = EL_MAX(ncpu, 1u);
	p->poll_ms = settings->poll_ms;
	p->work = calloc(1, sizeof(*p->work));
	p->published = calloc(1, sizeof(*p->published));
	if (!p->work || !p->published) {
		r = el_error_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < settings->n_zone_types; i++) {
		if (!(p->zone_types[i] = strdup(settings->zone_types[i]))) {
			r = el_error_set(reterr, -ENOMEM, "out of memory");
			goto fail;
		}
		p->n_zone_types = i + 1;
	}
	if ((r = open_root(p, settings->sysfs_root, reterr)) < 0)
		goto fail;
	if ((r = dpol_settings_new_decider(settings, el_now_ms(), &p->decider)) < 0) {
		el_error_set(reterr, r, "[policy]: %s", strerror(-r));
		goto fail;
	}
	/* Uevents only describe the real /sys: a test tree is polled. */
	if (settings->uevents && strcmp(settings->sysfs_root, "/sys") == 0)
		p->uevent_fd = pol_uevent_open(); /* -errno: poll only, said in the snapshot */
	p->uevent_fd = p->uevent_fd < 0 ? -1 : p->uevent_fd;
	p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	p->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->wake_fd < 0 || p->notify_fd < 0) {
		r = el_error_set(reterr, -errno, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((r = -pthread_create(&p->thread, NULL, policy_main, p)) < 0) {
		el_error_set(reterr, r, "cannot start the policy thread: %s", strerror(-r));
		goto fail;
	}
	p->started = true;
	*ret = p;
	return 0;
fail:
	dpol_free(p);
	return r;
}

struct dpol *dpol_free(struct dpol *p)
{
	if (!p)
		return NULL;
	if (p->started) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_mutex_unlock(&p->lock);
		eventfd_signal(p->wake_fd);
		pthread_join(p->thread, NULL);
	}
	for (size_t i = 0; i < p->n_zone_types; i++)
		free(p->zone_types[i]);
	pol_decider_free(p->decider);
	free(p->work);
	free(p->published);
	if (p->root_fd >= 0)
		close(p->root_fd);
	if (p->uevent_fd >= 0)
		close(p->uevent_fd);
	if (p->wake_fd >= 0)
		close(p->wake_fd);
	if (p->notify_fd >= 0)
		close(p->notify_fd);
	pthread_mutex_destroy(&p->lock);
	free(p);
	return NULL;
}

int dpol_get_fd(const struct dpol *p)
{
	return p->notify_fd;
}

int dpol_get_snapshot(struct dpol *p, struct dpol_snapshot *ret)
{
	int r = 0;

	eventfd_drain(p->notify_fd);
	pthread_mutex_lock(&p->lock);
	if (p->published->seq == 0) {
		r = -EAGAIN;
	} else {
		*ret = *p->published;
		p->published->flags = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

int dpol_peek_snapshot(struct dpol *p, struct dpol_snapshot *ret)
{
	int r = 0;

	pthread_mutex_lock(&p->lock);
	if (p->published->seq == 0)
		r = -EAGAIN;
	else
		*ret = *p->published;
	pthread_mutex_unlock(&p->lock);
	return r;
}

void dpol_set_override(struct dpol *p, enum dpol_pin what, bool pinned, int state)
{
	pthread_mutex_lock(&p->lock);
	if (what == DPOL_PIN_MODE) {
		p->mode_posted = true;
		p->mode_pinned = pinned;
		p->mode_state = state;
	} else {
		p->thermal_posted = true;
		p->thermal_pinned = pinned;
		p->thermal_state = state;
	}
	pthread_mutex_unlock(&p->lock);
	eventfd_signal(p->wake_fd);
}
