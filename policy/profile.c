/* SPDX-License-Identifier: MIT */
/*
 * policy/profile.c: the ACPI platform profile reader (profile.h). Non-logging.
 */
#include <errno.h>

#include "common/el-macros.h"
#include "policy/attr.h"
#include "policy/profile.h"

#define PROFILE_PATH "firmware/acpi/platform_profile"

static const char *const profile_names[] = {
	[POL_PROFILE_NONE] = "none",
	[POL_PROFILE_UNKNOWN] = "unknown",
	[POL_PROFILE_LOW_POWER] = "low-power",
	[POL_PROFILE_BALANCED] = "balanced",
	[POL_PROFILE_PERFORMANCE] = "performance",
};

/* The words the kernel writes (drivers/acpi/platform_profile.c) that this policy maps. */
static const struct {
	const char *word;
	enum pol_profile profile;
} profile_words[] = {
	{"low-power", POL_PROFILE_LOW_POWER},
	{"balanced", POL_PROFILE_BALANCED},
	{"balanced-performance", POL_PROFILE_BALANCED},
	{"performance", POL_PROFILE_PERFORMANCE},
};

const char *pol_profile_to_string(enum pol_profile p)
{
	return (unsigned)p < EL_N_ELEMENTS(profile_names) ? profile_names[p] : "?";
}

int pol_profile_read(int root_fd, enum pol_profile *ret, struct pol_trace *trace)
{
	const char *words[EL_N_ELEMENTS(profile_words)];
	unsigned idx;
	int r;

	if (!ret)
		return -EINVAL;
	for (size_t i = 0; i < EL_N_ELEMENTS(words); i++)
		words[i] = profile_words[i].word;
	r = pol_attr_enum(root_fd, NULL, PROFILE_PATH, POL_ATTR_OPTIONAL, words,
			  EL_N_ELEMENTS(words), &idx, trace);
	if (r == -ENOENT) {
		*ret = POL_PROFILE_NONE;
		return 0;
	}
	if (r == -ENOMSG) {
		*ret = POL_PROFILE_UNKNOWN;
		return 0;
	}
	if (r < 0)
		return r;
	*ret = profile_words[idx].profile;
	return 0;
}
