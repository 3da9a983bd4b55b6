/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the config-to-plan path: text -> configuration -> [engine] settings ->
 * graph (types, inputs, cycles) -> plan (instances, channels, buffers), then a recompile of the
 * same text against that plan (the reload path: kept instances, updates, fades). Any input
 * either compiles or is refused with a message; nothing may crash, overflow or leak.
 *
 * Node files (an IR path) resolve against an empty directory, so the fuzzer exercises the
 * error paths of file loading without reading arbitrary files by relative path.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/el-error.h"
#include "daemon/config/config.h"
#include "daemon/engine/graph.h"
#include "daemon/engine/plan.h"
#include "daemon/engine/node.h"
#include "daemon/engine/settings.h"
#include "daemon/nodes/nodes.h"
#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/mix.h"
#include "tests/fuzz/fuzz-text.h"

#define FUZZ_MAX_INPUT (16 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dsp_fft_cache *fft;
static struct dsp_mix_ops mix;
static char empty_dir[] = "/tmp/fuzz-graph-XXXXXX";

static int fuzz_init(void)
{
	if (fft)
		return 0;
	dsp_mix_ops_init(&mix, dsp_cpu_get_flags());
	if (!mkdtemp(empty_dir))
		return -1;
	return dsp_fft_cache_new(DSP_FFT_ESTIMATE, &fft);
}

static void compile_twice(const struct conf *c, const struct eng_settings *s)
{
	struct eng_node_env env = {.rate = s->rate,
				   .block = s->block,
				   .fade_frames = s->block,
				   .mix = &mix,
				   .fft = fft,
				   .base_dir = empty_dir};
	struct eng_plan *first = NULL, *second = NULL, *fade = NULL;
	struct eng_graph *g = NULL;
	struct el_error err = {0};
	/* Bound the work one input may ask for: a fuzzer is not a load test. */
	uint32_t pool = s->pool_buffers > 1024 ? 1024 : s->pool_buffers;

	if (eng_graph_new(c, node_types, &g, &err) < 0)
		return;
	if (eng_plan_compile(g, NULL, &env, pool, env.fade_frames, &first, &err) == 0 &&
	    eng_plan_compile(g, first, &env, pool, env.fade_frames, &second, &err) == 0 &&
	    eng_plan_fade_out_to(first, second, pool, &fade, &err) == 0)
		eng_plan_free(fade);
	eng_plan_free(second);
	eng_plan_free(first);
	eng_graph_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c = NULL;
	struct el_error err = {0};
	struct eng_settings s;
	char *text;

	if (size > FUZZ_MAX_INPUT || fuzz_init() < 0)
		return 0;
	text = fuzz_text(data, size);
	if (!text)
		return 0;
	if (conf_load_string(text, "fuzz.conf", &c, &err) == 0 &&
	    eng_settings_from_conf(c, &s, &err) == 0 && s.block <= 1024)
		compile_twice(c, &s);
	conf_free(c);
	free(text);
	return 0;
}
