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

#include "daemon/engine/node.h"
#include "tests/unit/test-node-util.h"

extern const struct node_type node_type_meter;

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
