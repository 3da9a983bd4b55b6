/* SPDX-License-Identifier: MIT */
/* daemon/power/settings.c: parsing and checking the [policy] section. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/config/value.h"
#include "daemon/config/config.h"
#include "daemon/power/settings.h"

static const char *const policy_keys[] = {
	"enabled",       "sysfs_root",   "poll_ms",      "uevents",
	"zones",         "low_percent",  "high_percent", "hysteresis_percent",
	"fair_margin_c", "hysteresis_c", "dwell_ms",     "mode",
	"thermal",       NULL,
};

static const char *const mode_names[] = {"auto", "unrestricted", "normal", "low"};
static const char *const thermal_names[] = {"auto", "nominal", "fair", "serious", "critical"};

/* zones = acpitz, x86_pkg_temp: split into owned words. */
static int read_zone_types(const struct conf_section *sec, struct dpol_settings *s,
			   struct el_error *reterr)
{
	const char *list = conf_get_string(sec, "zones", ""), *p = list;

	while (*p) {
		size_t n;

		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (n == 0)
			break;
		if (s->n_zone_types == DPOL_MAX_ZONE_TYPES)
			return conf_error_entry(reterr, -EINVAL, conf_section_find(sec, "zones"),
						"at most %u zone types", DPOL_MAX_ZONE_TYPES);
		if (!(s->zone_types[s->n_zone_types++] = strndup(p, n)))
			return el_error_set(reterr, -ENOMEM, "out of memory");
		p += n;
	}
	return 0;
}

static int read_decider(const struct conf_section *sec, struct pol_decider_config *d,
			struct el_error *reterr)
{
	double margin_c, hyst_c;
	int r;

	pol_decider_config_init(d);
	if ((r = conf_get_u32(sec, "low_percent", d->low_pct, 0, 100, &d->low_pct, reterr)) < 0 ||
	    (r = conf_get_u32(sec, "high_percent", d->high_pct, 0, 100, &d->high_pct, reterr)) <
		    0 ||
	    (r = conf_get_u32(sec, "hysteresis_percent", d->capacity_hyst_pct, 0, 50,
			      &d->capacity_hyst_pct, reterr)) < 0 ||
	    (r = conf_get_double(sec, "fair_margin_c", d->fair_margin_mc / 1000.0, 0, 50, &margin_c,
				 reterr)) < 0 ||
	    (r = conf_get_double(sec, "hysteresis_c", d->temp_hyst_mc / 1000.0, 0, 50, &hyst_c,
				 reterr)) < 0 ||
	    (r = conf_get_u32(sec, "dwell_ms", d->dwell_ms, 0, 3600000, &d->dwell_ms, reterr)) < 0)
		return r;
	if (d->low_pct >= d->high_pct)
		return conf_error_entry(reterr, -EINVAL, conf_section_find(sec, "low_percent"),
					"must be below high_percent (%u), got %u", d->high_pct,
					d->low_pct);
	d->fair_margin_mc = (uint32_t)(margin_c * 1000.0 + 0.5);
	d->temp_hyst_mc = (uint32_t)(hyst_c * 1000.0 + 0.5);
	return 0;
}

int dpol_settings_from_conf(const struct conf *c, struct dpol_settings *ret,
			    struct el_error *reterr)
{
	const struct conf_section *sec = conf_find_section(c, "policy");
	struct dpol_settings s = {0};
	const char *root;
	unsigned mode, thermal;
	int r;

	if ((r = conf_check_keys(sec, policy_keys, reterr)) < 0 ||
	    (r = conf_get_bool(sec, "enabled", true, &s.enabled, reterr)) < 0 ||
	    (r = conf_get_u32(sec, "poll_ms", DPOL_DEFAULT_POLL_MS, 50, 3600000, &s.poll_ms,
			      reterr)) < 0 ||
	    (r = conf_get_bool(sec, "uevents", true, &s.uevents, reterr)) < 0 ||
	    (r = conf_get_enum(sec, "mode", 0, mode_names, EL_N_ELEMENTS(mode_names), &mode,
			       reterr)) < 0 ||
	    (r = conf_get_enum(sec, "thermal", 0, thermal_names, EL_N_ELEMENTS(thermal_names),
			       &thermal, reterr)) < 0 ||
	    (r = read_decider(sec, &s.decider, reterr)) < 0 ||
	    (r = read_zone_types(sec, &s, reterr)) < 0)
		goto fail;
	root = conf_get_string(sec, "sysfs_root", "/sys");
	if (root[0] != '/') {
		r = conf_error_entry(reterr, -EINVAL, conf_section_find(sec, "sysfs_root"),
				     "expected an absolute path, got '%s'", root);
		goto fail;
	}
	if (!(s.sysfs_root = strdup(root))) {
		r = el_error_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	/* names are in enum order after "auto" */
	s.mode_pin = (int)mode - 1;
	s.thermal_pin = (int)thermal - 1;
	*ret = s;
	return 0;
fail:
	dpol_settings_done(&s);
	return r;
}

int dpol_settings_new_decider(const struct dpol_settings *s, uint64_t now_ms,
			      struct pol_decider **ret)
{
	struct pol_decider *d = NULL;
	int r = pol_decider_new(&s->decider, &d);

	if (r < 0)
		return r;
	if (s->mode_pin >= 0)
		pol_decider_set_mode_override(d, true, (enum pol_mode)s->mode_pin, now_ms);
	if (s->thermal_pin >= 0)
		pol_decider_set_thermal_override(d, true, (enum pol_thermal_state)s->thermal_pin,
						 now_ms);
	*ret = d;
	return 0;
}

/* Two owned strings, either possibly NULL. */
static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool dpol_settings_equal(const struct dpol_settings *a, const struct dpol_settings *b)
{
	const struct pol_decider_config *x = &a->decider, *y = &b->decider;

	if (a->enabled != b->enabled || a->poll_ms != b->poll_ms || a->uevents != b->uevents ||
	    a->mode_pin != b->mode_pin || a->thermal_pin != b->thermal_pin ||
	    a->n_zone_types != b->n_zone_types || !same_text(a->sysfs_root, b->sysfs_root))
		return false;
	for (size_t i = 0; i < a->n_zone_types; i++)
		if (!same_text(a->zone_types[i], b->zone_types[i]))
			return false;
	return x->low_pct == y->low_pct && x->high_pct == y->high_pct &&
	       x->capacity_hyst_pct == y->capacity_hyst_pct &&
	       x->fair_margin_mc == y->fair_margin_mc && x->temp_hyst_mc == y->temp_hyst_mc &&
	       x->dwell_ms == y->dwell_ms;
}

void dpol_settings_done(struct dpol_settings *s)
{
	free(s->sysfs_root);
	for (size_t i = 0; i < s->n_zone_types; i++)
		free(s->zone_types[i]);
	*s = (struct dpol_settings){0};
}
