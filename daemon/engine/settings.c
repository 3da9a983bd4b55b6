/* SPDX-License-Identifier: MIT */
/* daemon/engine/settings.c: parsing and checking the [engine] section. */
#include <errno.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/config/value.h"
#include "daemon/config/config.h"
#include "daemon/engine/settings.h"
#include "dsp/fft.h"
#include "dsp/fir.h"

const char *const eng_backend_names[ENG_BACKEND_N_KINDS] = {
	[ENG_BACKEND_AUTO] = "auto", [ENG_BACKEND_DUMMY] = "dummy",
	[ENG_BACKEND_JACK] = "jack", [ENG_BACKEND_PIPEWIRE] = "pipewire",
	[ENG_BACKEND_ALSA] = "alsa",
};

static const char *const engine_keys[] = {
	"rate",    "block",       "backend",     "workers", "pool_buffers",
	"fade_ms", "rt_priority", "lock_memory", NULL,
};

int eng_settings_from_conf(const struct conf *c, struct eng_settings *ret, struct el_error *reterr)
{
	const struct conf_section *sec = conf_find_section(c, "engine");
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct eng_settings s = {0};
	unsigned backend;
	int r;

	if (ncpu < 1)
		ncpu = 1;
	r = conf_check_keys(sec, engine_keys, reterr);
	if (r < 0)
		return r;
	s.rate_given = conf_section_find(sec, "rate") != NULL;
	s.block_given = conf_section_find(sec, "block") != NULL;
	s.fft_rigor = DSP_FFT_MEASURE;
	if ((r = conf_get_u32(sec, "rate", ENG_DEFAULT_RATE, 8000, 384000, &s.rate, reterr)) < 0 ||
	    (r = conf_get_u32(sec, "block", ENG_DEFAULT_BLOCK, DSP_FIR_MIN_BLOCK, DSP_FIR_MAX_BLOCK,
			      &s.block, reterr)) < 0 ||
	    (r = conf_get_enum(sec, "backend", ENG_BACKEND_AUTO, eng_backend_names,
			       EL_N_ELEMENTS(eng_backend_names), &backend, reterr)) < 0 ||
	    (r = conf_get_u32(sec, "workers", 0, 0, (uint32_t)ncpu, &s.workers, reterr)) < 0 ||
	    (r = conf_get_u32(sec, "pool_buffers", ENG_DEFAULT_POOL_BUFFERS, 8, 65536,
			      &s.pool_buffers, reterr)) < 0 ||
	    (r = conf_get_u32(sec, "fade_ms", ENG_DEFAULT_FADE_MS, 1, 1000, &s.fade_ms, reterr)) <
		    0 ||
	    (r = conf_get_u32(sec, "rt_priority", ENG_DEFAULT_RT_PRIORITY, 1, 98, &s.rt_priority,
			      reterr)) < 0 ||
	    (r = conf_get_bool(sec, "lock_memory", true, &s.lock_memory, reterr)) < 0)
		return r;
	if (!EL_IS_POW2(s.block))
		return conf_error_entry(reterr, -EINVAL, conf_section_find(sec, "block"),
					"expected a power of two from %u to %u, got '%u'",
					DSP_FIR_MIN_BLOCK, DSP_FIR_MAX_BLOCK, s.block);
	s.backend = (enum eng_backend_kind)backend;
	*ret = s;
	return 0;
}

uint32_t eng_settings_get_fade_frames(const struct eng_settings *s)
{
	uint64_t frames = (uint64_t)s->rate * s->fade_ms / 1000;

	return (uint32_t)EL_MAX(frames, (uint64_t)s->block);
}
