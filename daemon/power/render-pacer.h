/* SPDX-License-Identifier: MIT */
/*
 * daemon/power/render-pacer.h: an offline render as background work of the power and heat policy.
 * `echoeld render` is low-priority background work (docs/policy.md): it runs at full speed on
 * AC and cool, sleeps between chunks for sleep_factor × the chunk's own time when the policy
 * throttles, and where the policy says wait it is slowed further but never held (a user waits
 * for the file, and a pinned state never changes): at most 8× the chunk's time, at critical.
 * The output is never changed by it: a render keeps the whole IR whatever the state, so two
 * renders of the same input are identical. Thread: the render's (the only one).
 */
#pragma once

#include <stdint.h>

struct dpol_settings;
struct el_error;
struct render_pacer;

/*
 * A pacer reading settings->sysfs_root (settings copied where needed). With [policy]
 * enabled = no, *ret is NULL and the render runs at full speed. 0; -errno with a message.
 */
int render_pacer_new(const struct dpol_settings *settings, struct render_pacer **ret,
		     struct el_error *reterr);

/* Accepts NULL; returns NULL. */
struct render_pacer *render_pacer_free(struct render_pacer *p);

/*
 * After a chunk of work that took work_ns: sleeps as the policy says (nothing, or a pause of a
 * multiple of work_ns). Never waits longer. Says on stderr when the pause changes, and why.
 * A signal ends the pause early.
 */
void render_pacer_pace(struct render_pacer *p, uint64_t work_ns);

/*
 * The cores the policy lets the render keep busy now (its `cores` action: every CPU on AC and
 * cool, half or one otherwise; docs/policy.md); every online CPU for NULL (no policy).
 */
uint32_t render_pacer_get_cores(struct render_pacer *p);
