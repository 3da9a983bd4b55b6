/* SPDX-License-Identifier: MIT */
/*
 * Property: the meter node passes its input through bit for bit and publishes, per channel and
 * per cycle, the peak and RMS level in dBFS (a sine of amplitude 0.5: peak -6.02 dB, RMS
 * -9.03 dB, within 0.001 dB), silence as -200 dB, and a peak hold that falls 20 dB per second.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/el-error.h"
#include "daemon/config.h"
#include "daemon/engine/node.h"
#include "daemon/engine/rt-check.h"
#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/mix.h"
#include "tests/unit/test-util.h"

extern const struct node_type node_type_meter;

/*
 * Harness: instances built from real config text (conf_load_string), run block by block. The
 * RT entry points (process, update_apply, set_param, get_tail) run between eng_rt_enter() and
 * eng_rt_exit(), so a build with EL_WITH_RTSAN aborts on any allocation, lock or blocking call
 * they make.
 */
#define RATE  48000u
#define BLOCK 256u
#define FADE  480u

struct harness {
	struct dsp_mix_ops mix;
	struct dsp_fft_cache *fft;
	unsigned groups[16];
	struct eng_node_env env;
	struct el_error err;
};

/* An environment with one input reference per entry of groups (its channel count). */
static void harness_init(struct harness *h, const unsigned *groups, size_t n_groups)
{
	unsigned total = 0;

	eng_rt_check_init();
	memset(h, 0, sizeof(*h));
	dsp_mix_ops_init(&h->mix, dsp_cpu_get_flags());
	assert_int_equal(dsp_fft_cache_new(DSP_FFT_ESTIMATE, &h->fft), 0);
	for (size_t g = 0; g < n_groups; g++)
		total += h->groups[g] = groups[g];
	h->env = (struct eng_node_env){.rate = RATE,
				       .block = BLOCK,
				       .fade_frames = FADE,
				       .in_channels = total,
				       .in_groups = h->groups,
				       .n_groups = n_groups,
				       .cpu_flags = dsp_cpu_get_flags(),
				       .mix = &h->mix,
				       .fft = h->fft};
}

static void harness_done(struct harness *h)
{
	h->fft = dsp_fft_cache_free(h->fft);
}

/* create() (inst NULL) or update_prepare() (inst set) on the first section of text. */
static int harness_call(struct harness *h, const struct node_type *t, void *inst, const char *text,
			void **ret)
{
	struct conf *c = NULL;
	int r;

	memset(&h->err, 0, sizeof(h->err));
	assert_int_equal(conf_load_string(text, "test.conf", &c, &h->err), 0);
	if (inst)
		r = t->update_prepare(inst, conf_get_section(c, 0), &h->env, ret, &h->err);
	else
		r = t->create(conf_get_section(c, 0), &h->env, ret, &h->err);
	conf_free(c);
	return r;
}

static void *harness_create(struct harness *h, const struct node_type *t, const char *text)
{
	void *inst = NULL;

	if (harness_call(h, t, NULL, text, &inst) < 0)
		fail_msg("create: %s", h->err.message);
	return inst;
}

/* The message create() gives for text, which must fail with code. */
static const char *harness_error(struct harness *h, const struct node_type *t, const char *text,
				 int code)
{
	void *inst = NULL;

	assert_int_equal(harness_call(h, t, NULL, text, &inst), code);
	assert_null(inst);
	return h->err.message;
}

/*
 * Processes frames [from, to) of in[] (n_in channels) into out[] (n_out), one block at a time,
 * with io.in_silent set when a block of every input is zero. Returns whether process() called
 * every block silent.
 */
static bool harness_run(const struct node_type *t, void *inst, float *const *in, unsigned n_in,
			float *const *out, unsigned n_out, size_t from, size_t to)
{
	const float *ip[64];
	float *op[64];
	bool all = true;

	for (size_t n = from; n < to; n += BLOCK) {
		struct eng_node_io io = {
			.frames = BLOCK, .n_in = n_in, .n_out = n_out, .in = ip, .out = op};

		io.in_silent = true;
		for (unsigned c = 0; c < n_in; c++) {
			ip[c] = in[c] + n;
			for (unsigned i = 0; i < BLOCK; i++)
				io.in_silent = io.in_silent && ip[c][i] == 0.0f;
		}
		for (unsigned c = 0; c < n_out; c++)
			op[c] = out[c] + n;
		eng_rt_enter();
		all = t->process(inst, &io) && all;
		eng_rt_exit();
	}
	return all;
}
EL_UNUSED static void harness_apply(const struct node_type *t, void *inst, void *update)
{
	eng_rt_enter();
	t->update_apply(inst, update);
	eng_rt_exit();
}

EL_UNUSED static int harness_set(const struct node_type *t, void *inst, unsigned id, double v)
{
	int r;

	eng_rt_enter();
	r = t->set_param(inst, id, v);
	eng_rt_exit();
	return r;
}

EL_UNUSED static size_t harness_tail(const struct node_type *t, const void *inst)
{
	size_t r;

	eng_rt_enter();
	r = t->get_tail(inst);
	eng_rt_exit();
	return r;
}
/* End of harness. */

#define FRAMES (BLOCK * 375u) /* 2 s */

enum { PEAK, RMS, HOLD };

static float sig[2][FRAMES], got[2][FRAMES];
static float *const in[2] = {sig[0], sig[1]}, *const out[2] = {got[0], got[1]};
static const unsigned stereo[] = {2};

static double param(void *m, unsigned id, unsigned channel)
{
	double v;

	assert_int_equal(node_type_meter.get_param(m, id, channel, &v), 0);
	return v;
}

/*
 * 750 Hz: exactly 4 cycles per block of 256 frames, with a sample on every crest, so a cycle's
 * peak and RMS are exactly those of the sine: amplitude 0.5 -> -6.0206 dB and -9.0309 dB.
 */
static void test_sine_levels(void **state)
{
	const double want_peak = 20.0 * log10(0.5), want_rms = 20.0 * log10(0.5 / sqrt(2.0));
	struct harness h;
	void *m;

	(void)state;
	for (size_t i = 0; i < FRAMES; i++) {
		sig[0][i] = (float)(0.5 * sin(2.0 * M_PI * 750.0 * (double)i / RATE));
		sig[1][i] = sig[0][i] * 0.5f;
	}
	harness_init(&h, stereo, 1);
	m = harness_create(&h, &node_type_meter, "[node.m]\ntype = meter\ninput = a\n");
	assert_int_equal(node_type_meter.get_out_channels(m), 2);
	assert_int_equal(harness_tail(&node_type_meter, m), 0);
	assert_true(param(m, PEAK, 0) == -200.0);
	assert_false(harness_run(&node_type_meter, m, in, 2, out, 2, 0, FRAMES));
	assert_memory_equal(sig, got, sizeof(sig));
	printf("# amplitude 0.5: peak %.4f dB, RMS %.4f dB, hold %.4f dB\n", param(m, PEAK, 0),
	       param(m, RMS, 0), param(m, HOLD, 0));
	printf("# amplitude 0.25: peak %.4f dB, RMS %.4f dB\n", param(m, PEAK, 1),
	       param(m, RMS, 1));
	assert_true(fabs(param(m, PEAK, 0) - want_peak) < 0.001);
	assert_true(fabs(param(m, RMS, 0) - want_rms) < 0.001);
	assert_true(fabs(param(m, HOLD, 0) - want_peak) < 0.001);
	assert_true(fabs(param(m, PEAK, 1) - (want_peak - 6.0206)) < 0.001);
	assert_true(fabs(param(m, RMS, 1) - (want_rms - 6.0206)) < 0.001);
	assert_int_equal(node_type_meter.get_param(m, PEAK, 2, &(double){0}), -EINVAL);
	assert_int_equal(node_type_meter.get_param(m, 3, 0, &(double){0}), -EINVAL);

	/* Two seconds of silence: -200 dB now, and the hold 40 dB below the last peak. */
	memset(sig, 0, sizeof(sig));
	assert_true(harness_run(&node_type_meter, m, in, 2, out, 2, 0, FRAMES));
	printf("# after 2 s of silence: peak %.1f dB, RMS %.1f dB, hold %.4f dB\n",
	       param(m, PEAK, 0), param(m, RMS, 0), param(m, HOLD, 0));
	assert_true(param(m, PEAK, 0) == -200.0 && param(m, RMS, 0) == -200.0);
	assert_true(fabs(param(m, HOLD, 0) - (want_peak - 40.0)) < 0.01);
	node_type_meter.destroy(m);
	harness_done(&h);
}

static void test_bad_config(void **state)
{
	struct harness h;

	(void)state;
	harness_init(&h, stereo, 1);
	assert_string_equal(harness_error(&h, &node_type_meter,
					  "[node.m]\ntype = meter\ninput = a\nrate = 30\n",
					  -EINVAL),
			    "test.conf:4: key 'rate': unknown key in [node.m]");
	harness_done(&h);
	harness_init(&h, NULL, 0);
	assert_string_equal(
		harness_error(&h, &node_type_meter, "[node.m]\ntype = meter\n", -EINVAL),
		"test.conf:1: [node.m]: a meter needs an input");
	harness_done(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sine_levels),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
