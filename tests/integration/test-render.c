/* SPDX-License-Identifier: MIT */
/*
 * Property: `echoeld render` runs real graphs over real files correctly.
 *  - The built-in default graph is transparent: 16-bit, 24-bit and float files come back
 *    bit-exact.
 *  - A FIR graph equals direct-form convolution in double precision (error in dB); a FIR
 *    with a filter per rate (`ir_44100`, `ir_48000`, `ir`) runs the one for the input's rate.
 *  - A Linkwitz-Riley 4th-order crossover (two eq ways mixed back) equals the 2nd-order all-pass
 *    it must sum to (LP^2 + HP^2 = AP exactly, also after the bilinear transform), error in dB.
 *  - Bad files and mismatches fail with exit 1 and a message naming the file.
 *  - An OUT that is IN under any name (the same path, another path, a hard link, a symlink) is
 *    refused with a message naming both, and IN keeps every byte.
 *  - OUT's container comes from its extension, its sample format from --format: each
 *    container holds what it should, and an impossible pair (float or pcm32 in FLAC, a sample
 *    format in OGG, an unknown extension) is refused before any work, saying what is possible.
 *  - An older OUT survives a render that fails or is interrupted (SIGINT: exit 130, SIGTERM:
 *    143) byte for byte, and nothing else is left in its directory: the render writes a
 *    temporary file there and renames it into place only when it succeeded.
 *  - --threads changes no sample, and a count out of range is refused naming the option.
 * The binary under test comes from $ECHOELD (meson sets it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <math.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/integration/test-proc.h"
#include "tests/unit/fir-reference.h"
#include "tests/unit/test-util.h"

static struct test_proc proc;

static void path(char *buf, const char *name)
{
	test_proc_path(&proc, buf, 512, name);
}

static void write_text(const char *name, const char *text)
{
	assert_int_equal(test_proc_write(&proc, name, text), 0);
}

/* format: container | subtype */
static void write_file_at(const char *name, int rate, int format, int channels, const float *x,
			  sf_count_t n)
{
	SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
	char p[512];
	SNDFILE *f;

	path(p, name);
	f = sf_open(p, SFM_WRITE, &info);
	assert_non_null(f);
	assert_int_equal(sf_writef_float(f, x, n), n);
	sf_close(f);
}

static void write_wav_at(const char *name, int rate, int format, int channels, const float *x,
			 sf_count_t n)
{
	write_file_at(name, rate, SF_FORMAT_WAV | format, channels, x, n);
}

static void write_wav(const char *name, int format, int channels, const float *x, sf_count_t n)
{
	write_wav_at(name, 48000, format, channels, x, n);
}

static float *read_wav(const char *name, SF_INFO *info)
{
	char p[512];
	SNDFILE *f;
	float *x;

	path(p, name);
	memset(info, 0, sizeof(*info));
	f = sf_open(p, SFM_READ, info);
	assert_non_null(f);
	x = calloc((size_t)(info->frames * info->channels) + 1, sizeof(float));
	assert_int_equal(sf_readf_float(f, x, info->frames), info->frames);
	sf_close(f);
	return x;
}

/* The whole file at path (NUL-terminated, *ret_size bytes before it); NULL if unreadable. */
static char *slurp(const char *p, size_t *ret_size)
{
	FILE *f = fopen(p, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*ret_size = (size_t)n;
	return buf;
}

/* The file at p still holds exactly the bytes in want (want_size of them). */
static void assert_file_is(const char *p, const char *want, size_t want_size)
{
	size_t size = 0;
	char *got = slurp(p, &size);

	if (!got || size != want_size || memcmp(got, want, size) != 0) {
		printf("# '%s' changed: %zu bytes, expected %zu\n", p, got ? size : 0, want_size);
		fail();
	}
	free(got);
}

static int run(const char *const *args)
{
	return test_proc_run(&proc, args);
}

static void assert_stderr_contains(const char *needle)
{
	if (!strstr(proc.err, needle)) {
		printf("# stderr was: %s\n# expected to contain: %s\n", proc.err, needle);
		fail();
	}
}

/*
 * The default graph renders a file of `format` (container | subtype) named in.EXT to out.EXT,
 * in the same format, and out holds exactly what libsndfile reads from in: integer PCM in
 * little-endian containers is read raw by render (dsp/pcm), the rest by libsndfile, and both
 * must give the same floats.
 */
static void check_transparent(int format, const char *ext, const char *label)
{
	const sf_count_t n = 48000;
	float *x = malloc((size_t)n * 2 * sizeof(float)), *y;
	char in[512], out[512], in_name[32], out_name[32];
	struct test_rng rng;
	SF_INFO info;

	snprintf(in_name, sizeof(in_name), "in.%s", ext);
	snprintf(out_name, sizeof(out_name), "out.%s", ext);
	test_rng_init(&rng, 99);
	test_fill_noise(&rng, x, (size_t)n * 2, 1.0);
	x[0] = -1.0f; /* full scale, both ends: where a sloppy int conversion would show */
	x[1] = 32767.0f / 32768.0f;
	write_file_at(in_name, 48000, format, 2, x, n);
	free(x);
	x = read_wav(in_name, &info); /* what the file really holds, after quantization */
	path(in, in_name);
	path(out, out_name);
	assert_int_equal(run((const char *[]){"render", in, out, NULL}), 0);
	y = read_wav(out_name, &info);
	assert_int_equal(info.frames, n);
	assert_int_equal(info.channels, 2);
	assert_memory_equal(x, y, (size_t)n * 2 * sizeof(float));
	printf("# default graph, %s: %lld frames bit-exact\n", label, (long long)n);
	free(x);
	free(y);
}

static void test_default_graph_is_transparent(void **state)
{
	(void)state;
	if (access("/etc/echoeld/echoeld.conf", F_OK) == 0)
		skip(); /* a system config replaces the built-in graph */
	check_transparent(SF_FORMAT_WAV | SF_FORMAT_PCM_16, "wav", "16-bit");
	check_transparent(SF_FORMAT_WAV | SF_FORMAT_PCM_24, "wav", "24-bit");
	check_transparent(SF_FORMAT_WAV | SF_FORMAT_PCM_32, "wav", "32-bit");
	check_transparent(SF_FORMAT_WAV | SF_FORMAT_FLOAT, "wav", "float");
	check_transparent(SF_FORMAT_W64 | SF_FORMAT_PCM_24, "w64", "W64 24-bit");
	check_transparent(SF_FORMAT_RF64 | SF_FORMAT_PCM_16, "rf64", "RF64 16-bit");
	/* big-endian and compressed: read by libsndfile */
	check_transparent(SF_FORMAT_AIFF | SF_FORMAT_PCM_24, "aiff", "AIFF 24-bit");
	check_transparent(SF_FORMAT_FLAC | SF_FORMAT_PCM_24, "flac", "FLAC 24-bit");
}

static void test_fir_matches_direct_convolution(void **state)
{
	const size_t taps = 3001, n = 24000;
	float *h = malloc(taps * sizeof(float)), *x = malloc(n * sizeof(float)), *y;
	double *ref = malloc(n * sizeof(double));
	char conf[512], in[512], out[512];
	struct test_rng rng;
	SF_INFO info;
	double db;

	(void)state;
	test_rng_init(&rng, 5);
	for (size_t i = 0; i < taps; i++)
		h[i] = (float)(test_rng_uniform(&rng) * exp(-5.0 * (double)i / taps) * 0.1);
	test_fill_noise(&rng, x, n, 0.5);
	write_wav("ir.wav", SF_FORMAT_FLOAT, 1, h, (sf_count_t)taps);
	write_wav("mono.wav", SF_FORMAT_FLOAT, 1, x, (sf_count_t)n);
	write_text("fir.conf", "[engine]\nblock = 128\n"
			       "[node.in]\ntype = input\nchannels = 1\n"
			       "[node.room]\ntype = fir\nir = ir.wav\ninput = in\n"
			       "[node.out]\ntype = output\ninput = room\n");
	path(conf, "fir.conf");
	path(in, "mono.wav");
	path(out, "fir-out.wav");
	assert_int_equal(run((const char *[]){"render", "--config", conf, in, out, NULL}), 0);
	y = read_wav("fir-out.wav", &info);
	test_fir_reference(h, taps, x, n, ref, n);
	db = test_error_db(ref, y, n);
	printf("# fir graph vs direct convolution: %.1f dB\n", db);
	assert_true(db < -120.0);
	free(h);
	free(x);
	free(y);
	free(ref);
}

/* Renders a unit impulse at rate through per-rate.conf; the output's first 16 frames. */
static void render_impulse_at(int rate, float *ret)
{
	float x[64] = {1.0f};
	char conf[512], in[512], out[512];
	SF_INFO info;
	float *y;

	write_wav_at("impulse.wav", rate, SF_FORMAT_FLOAT, 1, x, 64);
	path(conf, "per-rate.conf");
	path(in, "impulse.wav");
	path(out, "impulse-out.wav");
	assert_int_equal(run((const char *[]){"render", "--config", conf, in, out, NULL}), 0);
	y = read_wav("impulse-out.wav", &info);
	assert_int_equal(info.samplerate, rate);
	memcpy(ret, y, 16 * sizeof(float));
	free(y);
}

/*
 * A fir with a filter per rate: the engine runs at the input's rate and takes `ir_RATE` for it
 * as it is (44.1 and 48 kHz, each its own filter), else `ir` (96 kHz: its own rate; 32 kHz:
 * resampled, so neither of the others); a misspelt rate key is refused, suggesting the key.
 */
static void test_fir_ir_per_rate(void **state)
{
	const float a[4] = {0.0f, 0.5f, 0.0f, 0.25f}, b[1] = {0.125f};
	float c[9] = {0}, y[16];
	char conf[512];

	(void)state;
	c[8] = 0.75f;
	write_wav_at("ir-44k.wav", 44100, SF_FORMAT_FLOAT, 1, a, 4);
	write_wav_at("ir-48k.wav", 48000, SF_FORMAT_FLOAT, 1, b, 1);
	write_wav_at("ir-96k.wav", 96000, SF_FORMAT_FLOAT, 1, c, 9);
	write_text("per-rate.conf", "[engine]\nblock = 64\n"
				    "[node.in]\ntype = input\nchannels = 1\n"
				    "[node.room]\ntype = fir\ninput = in\nir_44100 = ir-44k.wav\n"
				    "ir_48000 = ir-48k.wav\nir = ir-96k.wav\n"
				    "[node.out]\ntype = output\ninput = room\n");
	render_impulse_at(44100, y);
	assert_float_equal(y[0], 0.0f, 1e-6);
	assert_float_equal(y[1], 0.5f, 1e-6);
	assert_float_equal(y[3], 0.25f, 1e-6);
	render_impulse_at(48000, y);
	assert_float_equal(y[0], 0.125f, 1e-6);
	assert_float_equal(y[1], 0.0f, 1e-6);
	render_impulse_at(96000, y);
	assert_float_equal(y[0], 0.0f, 1e-6);
	assert_float_equal(y[8], 0.75f, 1e-6);
	render_impulse_at(32000, y); /* ir-96k.wav resampled: its pulse lands near frame 8/3 */
	assert_true(fabsf(y[0] - 0.125f) > 0.01f && fabsf(y[1] - 0.5f) > 0.01f);
	assert_true(fabsf(y[2]) + fabsf(y[3]) > 0.1f);

	write_text("per-rate-typo.conf", "[node.in]\ntype = input\nchannels = 1\n"
					 "[node.room]\ntype = fir\ninput = in\n"
					 "ir_4410 = ir-44k.wav\n"
					 "[node.out]\ntype = output\ninput = room\n");
	path(conf, "per-rate-typo.conf");
	assert_int_equal(run((const char *[]){"--check-config", conf, NULL}), 1);
	assert_stderr_contains("per-rate-typo.conf:7: key 'ir_4410'");
	assert_stderr_contains("did you mean 'ir_44100'");
}

/*
 * --tail: the output goes on after the input until the graph is silent, so it holds the whole
 * linear convolution (input + IR - 1 frames) and then stops within a block or two of silence;
 * without [engine] block the render runs at its own long block with a measured layout.
 */
static void test_tail_keeps_decay(void **state)
{
	const size_t taps = 3001, n = 2000, full = n + taps - 1;
	float *h = malloc(taps * sizeof(float)), *x = malloc(n * sizeof(float)), *y;
	double *ref = malloc(full * sizeof(double)), beyond = 0.0;
	char conf[512], in[512], out[512];
	struct test_rng rng;
	SF_INFO info;
	double db;

	(void)state;
	test_rng_init(&rng, 15);
	for (size_t i = 0; i < taps; i++)
		h[i] = (float)(test_rng_uniform(&rng) * exp(-3.0 * (double)i / taps) * 0.1);
	test_fill_noise(&rng, x, n, 0.5);
	write_wav("tail-ir.wav", SF_FORMAT_FLOAT, 1, h, (sf_count_t)taps);
	write_wav("short.wav", SF_FORMAT_FLOAT, 1, x, (sf_count_t)n);
	write_text("tail.conf", "[node.in]\ntype = input\nchannels = 1\n"
				"[node.room]\ntype = fir\nir = tail-ir.wav\ninput = in\n"
				"[node.out]\ntype = output\ninput = room\n");
	path(conf, "tail.conf");
	path(in, "short.wav");
	path(out, "tail-out.wav");
	assert_int_equal(run((const char *[]){"render", "--config", conf, "--tail", "--format",
					     "float", in, out, NULL}),
			 0);
	y = read_wav("tail-out.wav", &info);
	printf("# --tail: %zu input frames, %zu-tap IR: %lld frames written\n", n, taps,
	       (long long)info.frames);
	assert_true((size_t)info.frames >= full);
	assert_true((size_t)info.frames <= full + 2 * 8192);
	test_fir_reference(h, taps, x, n, ref, full);
	db = test_error_db(ref, y, full);
	for (size_t t = full; t < (size_t)info.frames; t++)
		beyond = fmax(beyond, fabs((double)y[t]));
	printf("# --tail vs direct convolution: %.1f dB; after it, at most %.2g\n", db, beyond);
	assert_true(db < -120.0);
	assert_true(beyond < 1e-6);
	free(h);
	free(x);
	free(y);
	free(ref);
}

static void test_crossover_sums_to_allpass(void **state)
{
	const size_t n = 48000;
	float *x = malloc(n * sizeof(float)), *sum, *ap;
	double *ref = malloc(n * sizeof(double));
	char conf[512], in[512], out[512];
	struct test_rng rng;
	SF_INFO info;
	double db;

	(void)state;
	test_rng_init(&rng, 11);
	test_fill_noise(&rng, x, n, 0.5);
	write_wav("xo-in.wav", SF_FORMAT_FLOAT, 1, x, (sf_count_t)n);
	write_text("xo.conf", "[node.in]\ntype = input\nchannels = 1\n"
			      "[node.low]\ntype = eq\ninput = in\n"
			      "band1 = lowpass 2000 0.70710678\nband2 = lowpass 2000 0.70710678\n"
			      "[node.high]\ntype = eq\ninput = in\n"
			      "band1 = highpass 2000 0.70710678\nband2 = highpass 2000 0.70710678\n"
			      "[node.sum]\ntype = mix\ninput = low, high\n"
			      "[node.out]\ntype = output\ninput = sum\n");
	write_text("ap.conf", "[node.in]\ntype = input\nchannels = 1\n"
			      "[node.ap]\ntype = eq\ninput = in\nband1 = allpass 2000 0.70710678\n"
			      "[node.out]\ntype = output\ninput = ap\n");
	path(in, "xo-in.wav");
	path(conf, "xo.conf");
	path(out, "xo-out.wav");
	assert_int_equal(run((const char *[]){"render", "--config", conf, in, out, NULL}), 0);
	sum = read_wav("xo-out.wav", &info);
	path(conf, "ap.conf");
	path(out, "ap-out.wav");
	assert_int_equal(run((const char *[]){"render", "--config", conf, in, out, NULL}), 0);
	ap = read_wav("ap-out.wav", &info);
	for (size_t i = 0; i < n; i++)
		ref[i] = ap[i];
	db = test_error_db(ref, sum, n);
	printf("# LR4 crossover (low + high) vs 2nd-order all-pass: %.1f dB\n", db);
	assert_true(db < -100.0);
	free(x);
	free(sum);
	free(ap);
	free(ref);
}

static void test_bad_files(void **state)
{
	char in[512], out[512], conf[512];
	float x[480] = {0};

	(void)state;
	path(in, "missing.wav");
	path(out, "never.wav");
	assert_int_equal(run((const char *[]){"render", in, out, NULL}), 1);
	assert_stderr_contains("missing.wav': cannot read");
	assert_int_equal(access(out, F_OK), -1);

	write_wav("mono-short.wav", SF_FORMAT_PCM_16, 1, x, 480);
	write_text("stereo.conf", "[node.in]\ntype = input\nchannels = 2\n"
				  "[node.out]\ntype = output\ninput = in\n");
	path(in, "mono-short.wav");
	path(conf, "stereo.conf");
	assert_int_equal(run((const char *[]){"render", "--config", conf, in, out, NULL}), 1);
	assert_stderr_contains("mono-short.wav' has 1 channel but the graph's input nodes take 2");
	assert_int_equal(access(out, F_OK), -1);

	write_text("rate.conf", "[engine]\nrate = 44100\n[node.in]\ntype = input\nchannels = 1\n"
				"[node.out]\ntype = output\ninput = in\n");
	path(conf, "rate.conf");
	assert_int_equal(run((const char *[]){"render", "--config", conf, in, out, NULL}), 1);
	assert_stderr_contains("is at 48000 Hz but [engine] rate = 44100");

	/* Not audio at all, and a WAV header cut off after a few bytes: named, nothing written. */
	write_text("text.wav", "this is not a sound file\n");
	path(in, "text.wav");
	assert_int_equal(run((const char *[]){"render", in, out, NULL}), 1);
	assert_stderr_contains("text.wav': cannot read");
	assert_int_equal(access(out, F_OK), -1);
	write_text("truncated.wav", "RIFF\x24\x00\x00\x00WAVEfmt ");
	path(in, "truncated.wav");
	assert_int_equal(run((const char *[]){"render", in, out, NULL}), 1);
	assert_stderr_contains("truncated.wav': cannot read");
	assert_int_equal(access(out, F_OK), -1);

	assert_int_equal(run((const char *[]){"render", in, NULL}), 2);
	assert_int_equal(run((const char *[]){"render", "--format", "mp9", in, out, NULL}), 2);
}

/* Renders in to out, which is in under another name: refused, naming both, in untouched. */
static void check_same_file_refused(const char *in, const char *out, const char *how)
{
	size_t size;
	char *before = slurp(in, &size);

	assert_non_null(before);
	printf("# OUT is IN (%s)\n", how);
	assert_int_equal(run((const char *[]){"render", in, out, NULL}), 1);
	assert_stderr_contains(out);
	assert_stderr_contains(in);
	assert_stderr_contains("is the same file as");
	assert_file_is(in, before, size);
	free(before);
}

static void test_out_is_in_refused(void **state)
{
	char in[512], other[512], hard[512], sym[512];
	float x[4800];

	(void)state;
	for (size_t i = 0; i < 4800; i++)
		x[i] = (float)sin((double)i * 0.05) * 0.5f;
	write_wav("self.wav", SF_FORMAT_PCM_16, 2, x, 2400);
	path(in, "self.wav");
	check_same_file_refused(in, in, "the same path");
	snprintf(other, sizeof(other), "%s/./../%s/self.wav", proc.dir, strrchr(proc.dir, '/') + 1);
	check_same_file_refused(in, other, "another path");
	path(hard, "hard.wav");
	assert_int_equal(link(in, hard), 0);
	check_same_file_refused(in, hard, "a hard link");
	check_same_file_refused(hard, in, "a hard link, the other way");
	path(sym, "sym.wav");
	assert_int_equal(symlink(in, sym), 0);
	check_same_file_refused(in, sym, "a symlink");
	check_same_file_refused(sym, in, "a symlink as IN");
}

/* The entries of directory dir other than keep ('.' and '..' aside). */
static int count_others(const char *dir, const char *keep)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, keep)) {
			printf("# left in '%s': '%s'\n", dir, de->d_name);
			n++;
		}
	closedir(d);
	return n;
}

static const char older[] = "an older render the user wants to keep\n";

static void test_failed_render_keeps_older_out(void **state)
{
	char in[512], out[512], conf[512], dir[512];
	float x[960] = {0};

	(void)state;
	write_wav("keep-in.wav", SF_FORMAT_PCM_16, 1, x, 960);
	write_text("keep-stereo.conf", "[node.in]\ntype = input\nchannels = 2\n"
				       "[node.out]\ntype = output\ninput = in\n");
	path(dir, "keep");
	assert_int_equal(mkdir(dir, 0755), 0);
	write_text("keep/out.wav", older);
	path(in, "keep-in.wav");
	path(out, "keep/out.wav");
	path(conf, "keep-stereo.conf");
	/* the channel count is found wrong after the engine is built, as a late failure is */
	assert_int_equal(run((const char *[]){"render", "--config", conf, in, out, NULL}), 1);
	assert_stderr_contains("has 1 channel but the graph's input nodes take 2");
	assert_file_is(out, older, strlen(older));
	assert_int_equal(count_others(dir, "out.wav"), 0);
}

/* Starts the binary with args, stderr into the scratch file name; returns its pid. */
static pid_t spawn(const char *const *args, const char *err_name)
{
	char errpath[512];
	char *argv[32];
	size_t n = 0;
	pid_t pid;

	path(errpath, err_name);
	argv[n++] = (char *)proc.binary;
	for (; *args && n < 31; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (!freopen(errpath, "w", stderr))
			_exit(127);
		unsetenv("JOURNAL_STREAM");
		execv(proc.binary, argv);
		_exit(127);
	}
	return pid;
}

/* Waits up to timeout_ms for anything to be created in the directory watched by fd. */
static bool wait_created(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, timeout_ms) == 1;
}

/*
 * A render slowed by a pinned critical thermal state (so it is still running when the signal
 * comes, however fast the machine), signalled the moment its temporary file appears.
 */
static void check_interrupted(int signo, int want_status)
{
	char in[512], out[512], conf[512], dir[512], sys[512], text[1024];
	const sf_count_t n = 30 * 48000;
	float *x = calloc((size_t)n * 2, sizeof(float));
	int fd, status;
	bool created;
	pid_t pid;

	assert_non_null(x);
	for (sf_count_t i = 0; i < n * 2; i++)
		x[i] = (float)sin((double)i * 0.01) * 0.25f;
	write_wav("sig-in.wav", SF_FORMAT_PCM_16, 2, x, n);
	free(x);
	path(sys, "sig-sys");
	mkdir(sys, 0755); /* an empty sysfs: nothing read, the pin decides */
	snprintf(text, sizeof(text),
		 "[policy]\nsysfs_root = %s\nthermal = critical\n"
		 "[node.in]\ntype = input\nchannels = 2\n"
		 "[node.eq]\ntype = eq\ninput = in\nband1 = peaking 1000 1.0 -3\n"
		 "[node.out]\ntype = output\ninput = eq\n",
		 sys);
	write_text("sig.conf", text);
	path(dir, signo == SIGINT ? "sig-int" : "sig-term");
	assert_int_equal(mkdir(dir, 0755), 0);
	path(out, signo == SIGINT ? "sig-int/out.wav" : "sig-term/out.wav");
	write_text(signo == SIGINT ? "sig-int/out.wav" : "sig-term/out.wav", older);
	path(in, "sig-in.wav");
	path(conf, "sig.conf");

	fd = inotify_init1(IN_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(inotify_add_watch(fd, dir, IN_CREATE) >= 0);
	pid = spawn((const char *[]){"render", "--config", conf, in, out, NULL}, ".sig-stderr");
	created = wait_created(fd, 20000);
	kill(pid, signo);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(fd);
	printf("# %s during the render: %s %d; a temporary file was %sseen\n", strsignal(signo),
	       WIFEXITED(status) ? "exit" : "killed by signal",
	       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), created ? "" : "not ");
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), want_status);
	assert_file_is(out, older, strlen(older));
	assert_int_equal(count_others(dir, "out.wav"), 0);
	assert_true(created);
}

static void test_interrupted_render_keeps_older_out(void **state)
{
	(void)state;
	check_interrupted(SIGINT, 130);
	check_interrupted(SIGTERM, 143);
}

/* Renders the 16-bit stereo "fmt-in.wav" to name with --format fmt; returns OUT's format. */
static int render_to(const char *name, const char *fmt)
{
	char in[512], out[512];
	SF_INFO info = {0};
	SNDFILE *f;
	int format;

	path(in, "fmt-in.wav");
	path(out, name);
	assert_int_equal(run((const char *[]){"render", "--format", fmt, in, out, NULL}), 0);
	f = sf_open(out, SFM_READ, &info);
	assert_non_null(f);
	assert_int_equal(info.channels, 2);
	assert_int_equal(info.frames, 4800);
	format = info.format;
	sf_close(f);
	return format;
}

/*
 * The same render makes the same file, byte for byte, a second later: a float WAV carries no
 * PEAK chunk, whose time of writing made every render's file differ.
 */
static void test_same_render_same_file(void **state)
{
	const sf_count_t n = 4800;
	float *x = malloc((size_t)n * 2 * sizeof(float));
	char in[512], out[2][512], *bytes[2];
	size_t size[2];
	struct test_rng rng;

	(void)state;
	test_rng_init(&rng, 5);
	test_fill_noise(&rng, x, (size_t)n * 2, 0.5);
	write_wav("same-in.wav", SF_FORMAT_FLOAT, 2, x, n);
	path(in, "same-in.wav");
	for (unsigned k = 0; k < 2; k++) {
		path(out[k], k ? "same-2.wav" : "same-1.wav");
		if (k)
			usleep(1100 * 1000); /* the PEAK chunk's time is in seconds */
		assert_int_equal(
			run((const char *[]){"render", "--format", "float", in, out[k], NULL}), 0);
		bytes[k] = slurp(out[k], &size[k]);
		assert_non_null(bytes[k]);
	}
	assert_int_equal(size[0], size[1]);
	assert_memory_equal(bytes[0], bytes[1], size[0]);
	printf("# two renders a second apart: %zu identical bytes\n", size[0]);
	free(bytes[0]);
	free(bytes[1]);
	free(x);
}

static void test_format_from_extension(void **state)
{
	float x[9600];

	(void)state;
	if (access("/etc/echoeld/echoeld.conf", F_OK) == 0)
		skip(); /* a system config replaces the built-in stereo graph */
	for (size_t i = 0; i < 9600; i++)
		x[i] = (float)sin((double)i * 0.03) * 0.5f;
	write_wav("fmt-in.wav", SF_FORMAT_PCM_16, 2, x, 4800);
	assert_int_equal(render_to("o.flac", "same"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
	assert_int_equal(render_to("o24.flac", "pcm24"), SF_FORMAT_FLAC | SF_FORMAT_PCM_24);
	assert_int_equal(render_to("o.w64", "float"), SF_FORMAT_W64 | SF_FORMAT_FLOAT);
	assert_int_equal(render_to("o.rf64", "pcm32"), SF_FORMAT_RF64 | SF_FORMAT_PCM_32);
	assert_int_equal(render_to("o.aiff", "same") & SF_FORMAT_TYPEMASK, SF_FORMAT_AIFF);
	assert_int_equal(render_to("o.AIF", "pcm24") & SF_FORMAT_TYPEMASK, SF_FORMAT_AIFF);
	assert_int_equal(render_to("o.ogg", "same"), SF_FORMAT_OGG | SF_FORMAT_VORBIS);
	assert_int_equal(render_to("o.wav", "float"), SF_FORMAT_WAV | SF_FORMAT_FLOAT);
}

/* Refused before any work: the graph's IR does not exist, so only a check done first passes
 * it; the message must say what is possible, and no file may appear. */
static void check_format_refused(const char *name, const char *fmt, const char *says)
{
	char in[512], out[512], conf[512];

	path(in, "fmt-in.wav");
	path(out, name);
	path(conf, "fmt-noir.conf");
	assert_int_equal(
		run((const char *[]){"render", "--config", conf, "--format", fmt, in, out, NULL}),
		1);
	printf("# %s as %s: %s", name, fmt, proc.err);
	assert_stderr_contains(name);
	assert_stderr_contains(says);
	assert_int_equal(access(out, F_OK), -1);
}

static void test_impossible_format_refused(void **state)
{
	float x[960] = {0};

	(void)state;
	write_wav("fmt-in.wav", SF_FORMAT_FLOAT, 2, x, 480);
	write_text("fmt-noir.conf", "[node.in]\ntype = input\nchannels = 2\n"
				    "[node.room]\ntype = fir\nir = no-such-ir.wav\ninput = in\n"
				    "[node.out]\ntype = output\ninput = room\n");
	check_format_refused("f.flac", "float", "--format pcm16 or pcm24");
	check_format_refused("f32.flac", "pcm32", "--format pcm16 or pcm24");
	check_format_refused("same.flac", "same", "--format pcm16 or pcm24");
	check_format_refused("f.ogg", "pcm16", "--format same");
	check_format_refused("f.mp3", "same", ".wav, .flac, .w64, .rf64, .aiff, .aif, .ogg");
	check_format_refused("noext", "same", ".wav, .flac, .w64, .rf64, .aiff, .aif, .ogg");
}

/*
 * --threads: a stereo render through a 2^20-tap IR (long enough for the fir node to share its
 * channels among the render's threads) gives the same samples on one thread and on three; a
 * count that is not a number from 1 to 64 is refused, naming the option.
 */
static void test_threads_change_nothing(void **state)
{
	const size_t taps = (size_t)1 << 20, n = 48000;
	float *h = malloc(taps * sizeof(float)), *x = malloc(n * 2 * sizeof(float)), *y[2];
	char conf[512], in[512], out[2][512];
	const char *threads[2] = {"1", "3"};
	struct test_rng rng;
	SF_INFO info;

	(void)state;
	test_rng_init(&rng, 17);
	for (size_t i = 0; i < taps; i++)
		h[i] = (float)(test_rng_uniform(&rng) * exp(-6.9 * (double)i / (double)taps) * 0.01);
	test_fill_noise(&rng, x, n * 2, 0.5);
	write_wav("long-ir.wav", SF_FORMAT_FLOAT, 1, h, (sf_count_t)taps);
	write_wav("threads-in.wav", SF_FORMAT_FLOAT, 2, x, (sf_count_t)n);
	write_text("threads.conf", "[node.in]\ntype = input\nchannels = 2\n"
				   "[node.room]\ntype = fir\nir = long-ir.wav\ninput = in\n"
				   "route = 1>1:1, 2>2:1, 1>2:1\n"
				   "[node.out]\ntype = output\ninput = room\n");
	path(conf, "threads.conf");
	path(in, "threads-in.wav");
	for (unsigned k = 0; k < 2; k++) {
		char name[32];

		snprintf(name, sizeof(name), "threads-%s.wav", threads[k]);
		path(out[k], name);
		assert_int_equal(run((const char *[]){"render", "--config", conf, "--threads",
						     threads[k], in, out[k], NULL}),
				 0);
		y[k] = read_wav(name, &info);
		assert_int_equal(info.frames, (sf_count_t)n);
		assert_int_equal(info.channels, 2);
	}
	assert_memory_equal(y[0], y[1], n * 2 * sizeof(float));
	printf("# 2^20 taps, 3 routes: --threads 1 and --threads 3 bit-exact\n");
	for (unsigned k = 0; k < 4; k++) {
		const char *bad[] = {"0", "65", "two", "-1"};

		assert_int_equal(run((const char *[]){"render", "--threads", bad[k], in, out[0],
						     NULL}),
				 2);
		assert_stderr_contains("--threads");
		assert_stderr_contains(bad[k]);
	}
	free(h);
	free(x);
	free(y[0]);
	free(y[1]);
}

static int setup(void **state)
{
	(void)state;
	return test_proc_init(&proc, "test-render");
}

static int teardown(void **state)
{
	(void)state;
	return test_proc_done(&proc);
}

/*
 * Error statistics of rendering x (float, n stereo frames) to a `bits`-bit file with extra
 * arguments (NULL-terminated, up to 2), in LSB of the output: mean, variance, largest.
 */
static void render_error(const float *x, sf_count_t n, const char *fmt, const char *a1,
			 const char *a2, int bits, double *ret_mean, double *ret_var,
			 double *ret_max)
{
	char in[512], out[512];
	const char *args[8] = {"render", "--format", fmt};
	double lsb = ldexp(1.0, bits - 1), sum = 0.0, sq = 0.0, max = 0.0;
	size_t k = 3;
	SF_INFO info;
	float *y;

	write_wav("dither-in.wav", SF_FORMAT_FLOAT, 2, x, n);
	path(in, "dither-in.wav");
	path(out, "dither-out.wav");
	if (a1)
		args[k++] = a1;
	if (a2)
		args[k++] = a2;
	args[k++] = in;
	args[k++] = out;
	args[k] = NULL;
	assert_int_equal(run(args), 0);
	y = read_wav("dither-out.wav", &info);
	assert_int_equal(info.frames, n);
	for (sf_count_t i = 0; i < n * 2; i++) {
		double e = ((double)y[i] - (double)x[i]) * lsb;

		sum += e;
		sq += e * e;
		max = fmax(max, fabs(e));
	}
	*ret_mean = sum / (double)(n * 2);
	*ret_var = sq / (double)(n * 2) - *ret_mean * *ret_mean;
	*ret_max = max;
	free(y);
}

/*
 * 16-bit output is TPDF-dithered by default: the error has variance 1/6 + 1/12 LSB^2 and stays
 * within 1.5 LSB; `--dither no` rounds (variance 1/12, within 0.5 LSB); 24-bit output is not
 * dithered unless asked; `--dither shaped` feeds the error back (its variance grows by the
 * noise transfer function's power gain, 4.61).
 */
static void test_dither(void **state)
{
	const sf_count_t n = 48000;
	float *x = malloc((size_t)n * 2 * sizeof(float));
	struct test_rng rng;
	double mean, var, max;

	(void)state;
	test_rng_init(&rng, 5);
	test_fill_noise(&rng, x, (size_t)n * 2, 0.01);
	render_error(x, n, "pcm16", NULL, NULL, 16, &mean, &var, &max);
	printf("# pcm16: error mean %.4f, variance %.4f, largest %.3f LSB\n", mean, var, max);
	assert_true(fabs(mean) < 0.01 && fabs(var - 0.25) < 0.01 && max < 1.5);
	render_error(x, n, "pcm16", "--dither", "no", 16, &mean, &var, &max);
	printf("# pcm16 --dither no: variance %.4f, largest %.3f LSB\n", var, max);
	assert_true(fabs(var - 1.0 / 12.0) < 0.005 && max <= 0.5);
	render_error(x, n, "pcm24", NULL, NULL, 24, &mean, &var, &max);
	assert_true(max <= 0.5);
	render_error(x, n, "pcm24", "--dither", "yes", 24, &mean, &var, &max);
	printf("# pcm24 --dither yes: variance %.4f, largest %.3f LSB\n", var, max);
	assert_true(fabs(var - 0.25) < 0.01 && max < 1.5);
	/* shaped: the same white error through 1 - H, whose taps' squares sum to 4.6106 */
	render_error(x, n, "pcm16", "--dither", "shaped", 16, &mean, &var, &max);
	printf("# pcm16 --dither shaped: error mean %.4f, variance %.4f (%.4f expected)\n", mean,
	       var, 0.25 * 4.6106);
	assert_true(fabs(mean) < 0.02 && fabs(var / (0.25 * 4.6106) - 1.0) < 0.05);
	assert_int_equal(run((const char *[]){"render", "--dither", "maybe", "a", "b", NULL}), 2);
	assert_stderr_contains("--dither: expected yes, no or shaped, got 'maybe'");
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_graph_is_transparent),
		cmocka_unit_test(test_fir_matches_direct_convolution),
		cmocka_unit_test(test_fir_ir_per_rate),
		cmocka_unit_test(test_crossover_sums_to_allpass),
		cmocka_unit_test(test_tail_keeps_decay),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_out_is_in_refused),
		cmocka_unit_test(test_failed_render_keeps_older_out),
		cmocka_unit_test(test_same_render_same_file),
		cmocka_unit_test(test_format_from_extension),
		cmocka_unit_test(test_impossible_format_refused),
		cmocka_unit_test(test_interrupted_render_keeps_older_out),
		cmocka_unit_test(test_threads_change_nothing),
		cmocka_unit_test(test_dither),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
