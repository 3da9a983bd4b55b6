/* SPDX-License-Identifier: MIT */
/*
 * Property: an impulse response file loads as what libsndfile reads from it, one float array per
 * channel (float samples exact, 16-bit scaled to [-1, 1)), relative paths resolved against the
 * base directory; a file at another rate is resampled so that its frequency response is kept
 * (a 44.1 kHz unit impulse at 10 ms becomes a 48 kHz response that is flat within 0.01 dB and
 * delayed by exactly 10 ms up to 19 kHz), the same through the sample cache, where the second
 * load reads what the first resampled; and every refusal names the file: missing, not audio,
 * empty, too many channels, too long.
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
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <sndfile.h>

#include "common/el-error.h"
#include "common/el-pace.h"
#include "daemon/nodes/ir-file.h"
#include "dsp/fir.h"
#include "tests/unit/test-tmpdir.h"
#include "tests/unit/test-util.h"

static char dir[64];

static void path_of(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

/* Writes channels x frames samples (channel c, frame i: data(c, i)) in the given format. */
static void write_file(const char *name, int format, int channels, int rate, size_t frames,
		       float (*data)(int c, size_t i))
{
	SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
	float *buf = calloc(frames * (size_t)channels + 1, sizeof(float));
	char path[128];
	SNDFILE *sf;

	assert_non_null(buf);
	path_of(name, path, sizeof(path));
	for (size_t i = 0; i < frames; i++)
		for (int c = 0; c < channels; c++)
			buf[i * (size_t)channels + (size_t)c] = data(c, i);
	sf = sf_open(path, SFM_WRITE, &info);
	if (!sf)
		fail_msg("%s: %s", path, sf_strerror(NULL));
	assert_int_equal(sf_writef_float(sf, buf, (sf_count_t)frames), (sf_count_t)frames);
	assert_int_equal(sf_close(sf), 0);
	free(buf);
}

/* 10 frames of 16-bit PCM, written as integers: 16384 at frame 2, -32768 at frame 3. */
static void write_pcm16(const char *name)
{
	SF_INFO info = {
		.samplerate = 48000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	short buf[10] = {[2] = 16384, [3] = -32768};
	char path[128];
	SNDFILE *sf;

	path_of(name, path, sizeof(path));
	sf = sf_open(path, SFM_WRITE, &info);
	assert_non_null(sf);
	assert_int_equal(sf_writef_short(sf, buf, 10), 10);
	assert_int_equal(sf_close(sf), 0);
}

static float ramp(int c, size_t i)
{
	return (float)((double)i / 1000.0 - 0.37 * c);
}

static float impulse_441(int c, size_t i)
{
	(void)c;
	return i == 441 ? 1.0f : 0.0f;
}

static float zero(int c, size_t i)
{
	(void)c;
	(void)i;
	return 0.0f;
}

static const char *const files[] = {"f32.wav",   "s16.wav",  "r44.wav",
				    "empty.wav", "wide.wav", "text.wav"};

static int setup(void **state)
{
	FILE *f;
	char path[128];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-node-ir-file-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	write_file("f32.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 3, 48000, 1000, ramp);
	write_pcm16("s16.wav");
	/* a second long: the resampler streams it in several chunks (NODE_IR_PACE_FRAMES) */
	write_file("r44.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, 44100, 44100, impulse_441);
	write_file("empty.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, 48000, 0, zero);
	write_file("wide.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 65, 48000, 10, zero);
	path_of("sub.wav", path, sizeof(path));
	if (mkdir(path, 0700) < 0)
		return -1;
	path_of("text.wav", path, sizeof(path));
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs("this is not a sound file, whatever its name says\n", f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	char path[128];

	(void)state;
	for (size_t i = 0; i < EL_N_ELEMENTS(files); i++) {
		path_of(files[i], path, sizeof(path));
		unlink(path);
	}
	path_of("sub.wav", path, sizeof(path));
	rmdir(path);
	return rmdir(dir);
}

/* Relative to the base directory; float samples exactly as written; the stamp matches. */
static void test_float_exact(void **state)
{
	struct node_ir_stamp stamp;
	struct node_ir *ir = NULL;
	struct el_error err = {0};
	char path[128];

	(void)state;
	assert_int_equal(node_ir_load("f32.wav", dir, 48000, &ir, &err), 0);
	path_of("f32.wav", path, sizeof(path));
	assert_string_equal(ir->path, path);
	assert_int_equal(ir->channels, 3);
	assert_int_equal(ir->frames, 1000);
	assert_int_equal(ir->file_rate, 48000);
	for (int c = 0; c < 3; c++)
		for (size_t i = 0; i < 1000; i++)
			assert_true(ir->data[c][i] == ramp(c, i));
	assert_int_equal(node_ir_stat(path, &stamp), 0);
	assert_true(node_ir_stamp_equal(&stamp, &ir->stamp));
	ir = node_ir_free(ir);
	/* An absolute path ignores the base directory. */
	assert_int_equal(node_ir_load(path, "/nonexistent", 48000, &ir, &err), 0);
	assert_string_equal(ir->path, path);
	node_ir_free(ir);
	assert_null(node_ir_free(NULL));
}

static void test_pcm16_scaled(void **state)
{
	struct node_ir *ir = NULL;
	struct el_error err = {0};

	(void)state;
	assert_int_equal(node_ir_load("s16.wav", dir, 48000, &ir, &err), 0);
	assert_int_equal(ir->frames, 10);
	assert_true(ir->data[0][2] == 0.5f);
	assert_true(ir->data[0][3] == -1.0f);
	assert_true(ir->data[0][4] == 0.0f);
	node_ir_free(ir);
}

/*
 * 44.1 kHz -> 48 kHz: the response, not the samples, is what must survive. A unit impulse at
 * 10 ms is a flat 0 dB response delayed by 10 ms: resampled, its response H(f) must still be
 * 0 dB (within 0.01 dB, soxr's passband ripple) with the phase of a 10 ms delay (within 1e-4
 * rad) from 20 Hz to 19 kHz, below the end of soxr's passband (0.913 of 22.05 kHz).
 */
static void count_pace(void *ctx, uint64_t work_ns)
{
	(void)work_ns;
	++*(unsigned *)ctx;
}

/* Loaded as background work (paced between resampling chunks), the same file gives the same. */
static void check_paced_equal(const struct node_ir *plain)
{
	unsigned calls = 0;
	struct el_pacer pacer = {.pace = count_pace, .ctx = &calls};
	struct node_ir *ir = NULL;
	struct el_error err = {0};

	assert_int_equal(node_ir_load_paced("r44.wav", dir, 48000, &pacer, &ir, &err), 0);
	assert_true(calls >= 1);
	assert_int_equal(ir->frames, plain->frames);
	assert_memory_equal(ir->data[0], plain->data[0], ir->frames * sizeof(float));
	node_ir_free(ir);
}

/*
 * Through the sample cache, the same file resamples once: the first load writes it there, the
 * second reads it back (cached), and both are what node_ir_load() makes, to float rounding.
 */
static void check_cached_equal(const struct node_ir *plain)
{
	struct node_ir *ir = NULL;
	struct el_error err = {0};
	char cache[256];

	assert_int_equal(test_tmpdir_make(cache, sizeof(cache), "test-node-ir-cache"), 0);
	for (int pass = 0; pass < 2; pass++) {
		double worst = 0.0;

		assert_int_equal(
			node_ir_load_cached("r44.wav", dir, NULL, 48000, cache, NULL, &ir, &err),
			0);
		assert_int_equal(ir->cached, pass == 1);
		assert_int_equal(ir->frames, plain->frames);
		assert_int_equal(ir->file_rate, 44100);
		for (size_t i = 0; i < ir->frames; i++)
			worst = fmax(worst, fabs((double)ir->data[0][i] - plain->data[0][i]));
		printf("# through the cache (%s): largest difference %.3g\n",
		       pass ? "read back" : "written", worst);
		assert_true(worst < 1e-6);
		ir = node_ir_free(ir);
	}
	assert_int_equal(test_tmpdir_remove(cache), 0);
}

static void test_resampled_impulse(void **state)
{
	struct node_ir *ir = NULL;
	struct el_error err = {0};
	double worst_db = 0.0, worst_ph = 0.0, peak = 0.0;
	size_t at = 0;

	(void)state;
	assert_int_equal(node_ir_load("r44.wav", dir, 48000, &ir, &err), 0);
	assert_int_equal(ir->file_rate, 44100);
	assert_int_equal(ir->frames, 48000);
	check_paced_equal(ir);
	check_cached_equal(ir);
	for (size_t i = 0; i < ir->frames; i++)
		if (fabs(ir->data[0][i]) > peak) {
			peak = fabs(ir->data[0][i]);
			at = i;
		}
	for (double f = 20.0; f <= 19000.0; f *= 1.05) {
		double re = 0.0, im = 0.0;

		/* H(f) times e^(j w 480): the response with the 10 ms delay taken out */
		for (size_t i = 0; i < ir->frames; i++) {
			double w = 2.0 * M_PI * f * ((double)i - 480.0) / 48000.0;

			re += ir->data[0][i] * cos(w);
			im -= ir->data[0][i] * sin(w);
		}
		worst_db = fmax(worst_db, fabs(10.0 * log10(re * re + im * im)));
		worst_ph = fmax(worst_ph, fabs(atan2(im, re)));
	}
	printf("# peak %.4f at frame %zu; 20 Hz - 19 kHz: |H| within %.5f dB of 0, phase within "
	       "%.2g rad of a 10 ms delay\n",
	       peak, at, worst_db, worst_ph);
	assert_int_equal(at, 480);
	assert_true(worst_db < 0.01);
	assert_true(worst_ph < 1e-4);
	node_ir_free(ir);
}

static void check_error(const char *name, uint32_t rate, int code, const char *why)
{
	struct node_ir *ir = NULL;
	struct el_error err = {0};
	char want[512];

	assert_int_equal(node_ir_load(name, dir, rate, &ir, &err), code);
	assert_null(ir);
	assert_int_equal(err.code, code);
	snprintf(want, sizeof(want), "'%s/%s': %s", dir, name, why);
	assert_string_equal(err.message, want);
}

static void test_refusals(void **state)
{
	char path[128], sf_why[256];
	SF_INFO info = {0};

	(void)state;
	check_error("missing.wav", 48000, -ENOENT, "cannot open: No such file or directory");
	/* libsndfile's own words for a file it cannot read */
	path_of("text.wav", path, sizeof(path));
	assert_null(sf_open(path, SFM_READ, &info));
	snprintf(sf_why, sizeof(sf_why), "cannot open: %s", sf_strerror(NULL));
	check_error("text.wav", 48000, -EINVAL, sf_why);
	check_error("sub.wav", 48000, -EINVAL, "not a regular file");
	check_error("empty.wav", 48000, -EINVAL, "empty impulse response");
	check_error("wide.wav", 48000, -EINVAL, "65 channels, at most 64 are supported");
	/* 1000 frames at 48 kHz are 22,369,622 taps at 2^30 Hz: more than a FIR takes */
	check_error("f32.wav", 1u << 30, -E2BIG,
		    "22369622 taps at 1073741824 Hz, more than the 16777216 a FIR accepts");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_float_exact),
		cmocka_unit_test(test_pcm16_scaled),
		cmocka_unit_test(test_resampled_impulse),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
