/* SPDX-License-Identifier: MIT */
/* policy/sample.c: read every source once and feed the decider (sample.h). */
#include "policy/decide.h"
#include "policy/sample.h"

int pol_sample_read(struct pol_decider *d, int root_fd, const char *const *types, size_t n_types,
		    uint64_t now_ms, struct pol_sample *ret, struct pol_trace *trace)
{
	int r, flags;

	r = pol_power_read(root_fd, &ret->power, trace);
	flags = pol_decider_set_power(d, r, &ret->power, now_ms);
	r = pol_profile_read(root_fd, &ret->profile, trace);
	flags |= pol_decider_set_profile(d, r, ret->profile, now_ms);
	r = pol_thermal_read(root_fd, types, n_types, &ret->thermal, trace);
	flags |= pol_decider_set_thermal(d, r, &ret->thermal, now_ms);
	return flags;
}
