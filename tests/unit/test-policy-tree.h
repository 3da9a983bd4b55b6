/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test-policy-tree.h: fake sysfs trees for the policy tests — a temporary directory
 * the readers get as their root fd, with helpers that write power supplies, a platform profile
 * and thermal zones the way the kernel lays them out, and one helper that runs a whole policy
 * round (read everything, feed the decider) as the daemon's policy thread will. Most tests get
 * their tree and decider as a cmocka fixture (struct fixture, tree_test(), tree_decider_test()),
 * so both are made before the test and removed after it, also when an assertion fails.
 *
 * Include after <cmocka.h>: failures are cmocka assertions.
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/el-macros.h"
#include "policy/decide.h"
#include "policy/power.h"
#include "policy/profile.h"
#include "policy/thermal.h"
#include "policy/trace.h"

struct tree {
	char root[PATH_MAX];
	int fd;
};

static inline void tree_init(struct tree *t)
{
	snprintf(t->root, sizeof(t->root), "/tmp/echoeld-policy-XXXXXX");
	assert_non_null(mkdtemp(t->root));
	t->fd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(t->fd >= 0);
}

static inline int tree_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* Removes root/rel, file or whole directory; a missing one is fine. */
static inline void tree_remove(struct tree *t, const char *rel)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	nftw(path, tree_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void tree_done(struct tree *t)
{
	close(t->fd);
	nftw(t->root, tree_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p for the directories of root/rel. */
static inline void tree_mkdirs(struct tree *t, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", rel);
	for (char *p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdirat(t->fd, path, 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
}

/* Writes exactly len bytes to root/rel (created with its directories, or truncated). */
static inline void tree_write_raw(struct tree *t, const char *rel, const void *data, size_t len)
{
	int fd;

	tree_mkdirs(t, rel);
	fd = openat(t->fd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail_msg("create %s: %s", rel, strerror(errno));
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Writes printf text to root/rel. Values are written with the kernel's trailing newline. */
__attribute__((format(printf, 3, 4))) static inline void tree_write(struct tree *t, const char *rel,
								    const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(buf));
	tree_write_raw(t, rel, buf, (size_t)n);
}

/* Writes attr of supply name: class/power_supply/<name>/<attr> = "<value>\n". */
static inline void tree_supply_attr(struct tree *t, const char *name, const char *attr,
				    const char *value)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "class/power_supply/%s/%s", name, attr);
	tree_write(t, rel, "%s\n", value);
}

/* Writes attr of supply name as a decimal number: class/power_supply/<name>/<attr> = "<v>\n". */
static inline void tree_supply_num(struct tree *t, const char *name, const char *attr,
				   unsigned long long v)
{
	char s[32];

	snprintf(s, sizeof(s), "%llu", v);
	tree_supply_attr(t, name, attr, s);
}

/* An AC adapter (type Mains). */
static inline void tree_ac(struct tree *t, const char *name, int online)
{
	tree_supply_attr(t, name, "type", "Mains");
	tree_supply_attr(t, name, "online", online ? "1" : "0");
}

/* A battery with a capacity file (capacity < 0: none written). */
static inline void tree_battery(struct tree *t, const char *name, const char *status, int capacity)
{
	tree_supply_attr(t, name, "type", "Battery");
	tree_supply_attr(t, name, "present", "1");
	tree_supply_attr(t, name, "scope", "System");
	tree_supply_attr(t, name, "status", status);
	if (capacity >= 0)
		tree_supply_num(t, name, "capacity", (unsigned long long)capacity);
}

/* The usual laptop: the AC adapter "AC" (online or not) and the battery "BAT0" (tree_battery()). */
static inline void tree_laptop(struct tree *t, int ac_online, const char *status, int capacity)
{
	tree_ac(t, "AC", ac_online);
	tree_battery(t, "BAT0", status, capacity);
}

/* energy_now / energy_full (µWh) of a battery. */
static inline void tree_battery_energy(struct tree *t, const char *name, unsigned long long now,
				       unsigned long long full)
{
	tree_supply_num(t, name, "energy_now", now);
	tree_supply_num(t, name, "energy_full", full);
}

/* charge_now / charge_full (µAh) of a battery. */
static inline void tree_battery_charge(struct tree *t, const char *name, unsigned long long now,
				       unsigned long long full)
{
	tree_supply_num(t, name, "charge_now", now);
	tree_supply_num(t, name, "charge_full", full);
}

static inline void tree_profile(struct tree *t, const char *profile)
{
	tree_write(t, "firmware/acpi/platform_profile", "%s\n", profile);
}

/* class/thermal/thermal_zone<n>/: type and temp (m°C). */
static inline void tree_zone(struct tree *t, unsigned n, const char *type, long long temp_mc)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "class/thermal/thermal_zone%u/type", n);
	tree_write(t, rel, "%s\n", type);
	snprintf(rel, sizeof(rel), "class/thermal/thermal_zone%u/temp", n);
	tree_write(t, rel, "%lld\n", temp_mc);
}

static inline void tree_zone_temp(struct tree *t, unsigned n, long long temp_mc)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "class/thermal/thermal_zone%u/temp", n);
	tree_write(t, rel, "%lld\n", temp_mc);
}

/* Trip point i of zone n. */
static inline void tree_trip(struct tree *t, unsigned n, unsigned i, const char *type,
			     long long temp_mc)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "class/thermal/thermal_zone%u/trip_point_%u_type", n, i);
	tree_write(t, rel, "%s\n", type);
	snprintf(rel, sizeof(rel), "class/thermal/thermal_zone%u/trip_point_%u_temp", n, i);
	tree_write(t, rel, "%lld\n", temp_mc);
}

/* A decider with the default thresholds and the dwell given. */
static inline struct pol_decider *tree_decider(uint32_t dwell_ms)
{
	struct pol_decider_config cfg;
	struct pol_decider *d = NULL;

	pol_decider_config_init(&cfg);
	cfg.dwell_ms = dwell_ms;
	assert_int_equal(pol_decider_new(&cfg, &d), 0);
	return d;
}

/* Results of one round, for the assertions. */
struct round {
	int power_r, profile_r, thermal_r; /* what the readers returned */
	int bits;                          /* OR of what the decider returned */
	struct pol_power power;
	struct pol_thermal thermal;
	struct pol_decision dec;
};

/*
 * One policy round, as the policy thread runs it: read power, profile and thermal (all
 * zones) from the tree, feed each to d at now_ms, take the decision.
 */
static inline void tree_round(struct tree *t, struct pol_decider *d, uint64_t now_ms,
			      struct round *ret)
{
	enum pol_profile prof = POL_PROFILE_NONE;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->power_r = pol_power_read(t->fd, &ret->power, NULL);
	ret->profile_r = pol_profile_read(t->fd, &prof, NULL);
	ret->thermal_r = pol_thermal_read(t->fd, NULL, 0, &ret->thermal, NULL);
	r = pol_decider_set_power(d, ret->power_r, &ret->power, now_ms);
	assert_true(r >= 0);
	ret->bits |= r;
	r = pol_decider_set_profile(d, ret->profile_r, prof, now_ms);
	assert_true(r >= 0);
	ret->bits |= r;
	r = pol_decider_set_thermal(d, ret->thermal_r, &ret->thermal, now_ms);
	assert_true(r >= 0);
	ret->bits |= r;
	pol_decider_get_decision(d, &ret->dec);
}

/* One round that must read cleanly and decide mode. */
static inline void tree_expect_mode(struct tree *t, struct pol_decider *d, uint64_t now_ms,
				    enum pol_mode mode, enum pol_reason why)
{
	struct round rd;

	tree_round(t, d, now_ms, &rd);
	assert_int_equal(rd.power_r, 0);
	assert_int_equal(rd.profile_r, 0);
	assert_int_equal(rd.thermal_r, 0);
	if (rd.dec.mode != mode || rd.dec.mode_reason != why)
		fail_msg("at %llu ms: mode %s (%s), want %s (%s)", (unsigned long long)now_ms,
			 pol_mode_to_string(rd.dec.mode), pol_reason_to_string(rd.dec.mode_reason),
			 pol_mode_to_string(mode), pol_reason_to_string(why));
}

/* A test's fixture: a fresh tree, and the decider fed from it. */
struct fixture {
	struct tree t;
	struct pol_decider *d; /* owned; NULL for a tree_test() */
};

/*
 * cmocka setup of a fixture. On entry *state is NULL (a tree, no decider) or points to the
 * decider's dwell in ms (const uint32_t, borrowed; default thresholds otherwise); on return it
 * is the fixture, owned by tree_teardown(). 0, or -1 when out of memory.
 */
static inline int tree_setup(void **state)
{
	const uint32_t *dwell_ms = *state;
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	tree_init(&f->t);
	if (dwell_ms)
		f->d = tree_decider(*dwell_ms);
	*state = f;
	return 0;
}

/* cmocka teardown of a fixture: frees the decider, removes the tree. Always 0. */
static inline int tree_teardown(void **state)
{
	struct fixture *f = *state;

	pol_decider_free(f->d);
	tree_done(&f->t);
	free(f);
	return 0;
}

/* A cmocka test whose *state is a struct fixture with a fresh tree and no decider. */
#define tree_test(fn) cmocka_unit_test_setup_teardown(fn, tree_setup, tree_teardown)

/*
 * A cmocka test whose *state is a struct fixture with a fresh tree and a decider of dwell_ms
 * (ms). For the tests[] array in main(): the dwell lives as long as main()'s block.
 */
#define tree_decider_test(fn, dwell_ms)                                                            \
	cmocka_unit_test_prestate_setup_teardown(fn, tree_setup, tree_teardown,                    \
						 &(uint32_t){dwell_ms})
