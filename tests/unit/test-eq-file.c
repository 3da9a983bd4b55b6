/* SPDX-License-Identifier: MIT */
/*
 * Property: equalizer files as Room EQ Wizard and AutoEQ export them become the bands they say.
 *  - AutoEQ's ParametricEQ.txt (Preamp, LSC/PK/HSC with Fc, Gain, Q) and REW's export (its
 *    header lines, `None` slots, an OFF filter, units and spacing as REW writes them) read into
 *    exactly the bands, in order, with the preamp.
 *  - Each mistake is refused naming the file and line and what was expected: an unknown type, a
 *    frequency not below half the rate, a gain a type does not take or lacks, a Q missing where
 *    one is needed, a bad preamp, more than 32 filters.
 *  - An eq node with `file` plays what the same bands given as keys play, scaled by the preamp
 *    (within -120 dB: the preamp sits in the first section's numerator), and says when `file`
 *    and band keys are both given.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/el-error.h"
#include "daemon/nodes/eq-file.h"
#include "tests/unit/test-node-util.h"
#include "tests/unit/test-tmpdir.h"

extern const struct node_type node_type_eq;

static void test_autoeq(void **state)
{
	const char *text = "Preamp: -6.4 dB\n"
			   "Filter 1: ON LSC Fc 105 Hz Gain 5.8 dB Q 0.70\n"
			   "Filter 2: ON PK Fc 2571 Hz Gain -3.1 dB Q 1.41\n"
			   "Filter 3: ON HSC Fc 10000 Hz Gain -2.0 dB Q 0.70\n";
	struct el_error err = {0};
	struct eq_file f;

	(void)state;
	assert_int_equal(eq_file_parse(text, "autoeq.txt", 48000, &f, &err), 0);
	assert_int_equal(f.n_bands, 3);
	assert_true(f.preamp_db == -6.4);
	assert_int_equal(f.band[0].type, DSP_BIQUAD_LOWSHELF);
	assert_true(f.band[0].freq == 105 && f.band[0].gain_db == 5.8 && f.band[0].q == 0.70);
	assert_int_equal(f.band[1].type, DSP_BIQUAD_PEAKING);
	assert_true(f.band[1].freq == 2571 && f.band[1].gain_db == -3.1 && f.band[1].q == 1.41);
	assert_int_equal(f.band[2].type, DSP_BIQUAD_HIGHSHELF);
}

static void test_rew(void **state)
{
	const char *text = "Filter Settings file\r\n"
			   "\r\n"
			   "Room EQ V5.20.13\r\n"
			   "Dated: 5 Dec 2026 10:00:00\r\n"
			   "\r\n"
			   "Notes:living room, 1 m\r\n"
			   "\r\n"
			   "Equaliser: Generic\r\n"
			   "Average 1\r\n"
			   "Filter  1: ON  PK       Fc   129.5 Hz  Gain  -6.3 dB  Q  5.49\r\n"
			   "Filter  2: OFF PK       Fc    50.0 Hz  Gain  -3.0 dB  Q  2.00\r\n"
			   "Filter  3: ON  None\r\n"
			   "Filter  4: ON  LP       Fc 18000.0 Hz\r\n"
			   "Filter  5: ON  NO       Fc    60.0 Hz  Q 10.0\r\n";
	struct el_error err = {0};
	struct eq_file f;

	(void)state;
	if (eq_file_parse(text, "rew.txt", 48000, &f, &err) < 0)
		fail_msg("%s", err.message);
	assert_int_equal(f.n_bands, 3);
	assert_true(f.preamp_db == 0.0);
	assert_int_equal(f.band[0].type, DSP_BIQUAD_PEAKING);
	assert_true(f.band[0].freq == 129.5 && f.band[0].gain_db == -6.3 && f.band[0].q == 5.49);
	assert_int_equal(f.band[1].type, DSP_BIQUAD_LOWPASS);
	assert_true(f.band[1].freq == 18000.0 && fabs(f.band[1].q - 0.7071) < 1e-12);
	assert_int_equal(f.band[2].type, DSP_BIQUAD_NOTCH);
}

static void test_mistakes_named(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
		{"Filter 1: ON XX Fc 100 Hz",
		 "eq.txt:1: filter type 'XX': expected PK, LS, LSC, HS, "
		 "HSC, LP, HP, BP, NO or AP"},
		{"\nFilter 2: ON LP Fc 24000 Hz",
		 "eq.txt:2: Fc 24000 Hz: expected above 0 and below 24000 Hz (half the rate)"},
		{"Filter 1: ON PK Fc 100 Hz Q 1", "eq.txt:1: PK needs a gain"},
		{"Filter 1: ON LP Fc 100 Hz Gain 3 dB", "eq.txt:1: LP takes no gain"},
		{"Filter 1: ON NO Fc 100 Hz", "eq.txt:1: NO needs a Q"},
		{"Filter 1: ON PK Fc 100 Hz Gain 60 dB Q 1",
		 "eq.txt:1: Gain 60 dB: expected -48 to 48 dB"},
		{"Filter 1: ON PK Fc 100 Hz Gain -3 dB Q", "eq.txt:1: expected a number after 'Q'"},
		{"Filter 1: ON PK Gain -3 dB Q 1", "eq.txt:1: no 'Fc FREQ Hz'"},
		{"Filter 1: MAYBE PK Fc 100 Hz", "eq.txt:1: 'MAYBE': expected ON or OFF"},
		{"Filter 1 ON PK", "eq.txt:1: expected 'Filter N: ON TYPE Fc FREQ Hz ...'"},
		{"Preamp: loud", "eq.txt:1: expected 'Preamp: GAIN dB' with a gain from -48 to 48"},
	};
	struct el_error err;
	struct eq_file f;
	char many[64 * 48] = "";

	(void)state;
	for (size_t i = 0; i < EL_N_ELEMENTS(cases); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(eq_file_parse(cases[i].text, "eq.txt", 48000, &f, &err), -EINVAL);
		assert_string_equal(err.message, cases[i].why);
	}
	for (unsigned i = 1; i <= 33; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
			 "Filter %u: ON PK Fc %u Hz Gain 1 dB Q 1\n", i, 100 * i);
	assert_int_equal(eq_file_parse(many, "eq.txt", 48000, &f, &err), -EINVAL);
	assert_string_equal(err.message, "eq.txt:33: more than 32 filters");
}

static float sig[2][BLOCK * 40], a[2][BLOCK * 40], b[2][BLOCK * 40];

static void run_eq(struct harness *h, const char *text, float (*y)[BLOCK * 40])
{
	float *in[2] = {sig[0], sig[1]}, *out[2] = {y[0], y[1]};
	void *q = harness_create(h, &node_type_eq, text);

	harness_run(&node_type_eq, q, in, 2, out, 2, 0, BLOCK * 40);
	node_type_eq.destroy(q);
}

static void test_node_plays_the_file(void **state)
{
	static const unsigned stereo[] = {2};
	char dir[256], path[300], text[512];
	const double g = pow(10.0, -6.0 / 20.0);
	struct harness h;
	double worst = 0.0, peak = 0.0;
	FILE *fp;

	(void)state;
	assert_int_equal(test_tmpdir_make(dir, sizeof(dir), "test-eq-file"), 0);
	snprintf(path, sizeof(path), "%s/eq.txt", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("Preamp: -6 dB\nFilter 1: ON PK Fc 1000 Hz Gain 4 dB Q 1.41\n"
	      "Filter 2: ON HP Fc 40 Hz Q 0.7071\n",
	      fp);
	fclose(fp);
	harness_init(&h, stereo, 1);
	h.env.base_dir = dir;
	harness_fill_noise((float *const[]){sig[0], sig[1]}, 2, BLOCK * 40, 0.5, 9);
	run_eq(&h, "[node.q]\ntype = eq\ninput = a\nfile = eq.txt\n", a);
	run_eq(&h,
	       "[node.q]\ntype = eq\ninput = a\nband1 = peaking 1000 1.41 4\n"
	       "band2 = highpass 40 0.7071\n",
	       b);
	for (unsigned c = 0; c < 2; c++)
		for (size_t i = 0; i < BLOCK * 40; i++) {
			worst = fmax(worst, fabs(a[c][i] - g * b[c][i]));
			peak = fmax(peak, fabs(g * b[c][i]));
		}
	printf("# file vs keys x preamp: %.1f dB below the peak\n", 20.0 * log10(worst / peak));
	assert_true(worst < peak * 1e-6);
	snprintf(text, sizeof(text),
		 "[node.q]\ntype = eq\ninput = a\nfile = eq.txt\n"
		 "band2 = notch 100 1\n");
	assert_string_equal(harness_error(&h, &node_type_eq, text, -EINVAL),
			    "test.conf:5: key 'band2': the bands come from 'file' (line 4): give "
			    "one or the other");
	snprintf(text, sizeof(text), "test.conf:4: key 'file': '%s/none.txt': cannot open: ", dir);
	assert_true(
		strncmp(harness_error(&h, &node_type_eq,
				      "[node.q]\ntype = eq\ninput = a\nfile = none.txt\n", -ENOENT),
			text, strlen(text)) == 0);
	harness_done(&h);
	assert_int_equal(test_tmpdir_remove(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_autoeq),
		cmocka_unit_test(test_rew),
		cmocka_unit_test(test_mistakes_named),
		cmocka_unit_test(test_node_plays_the_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
