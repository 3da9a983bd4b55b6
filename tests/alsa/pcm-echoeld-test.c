/* SPDX-License-Identifier: MIT */
/*
 * tests/alsa/pcm-echoeld-test.c: an ALSA PCM for tests, loaded by alsa-lib as an
 * external plugin (type `echoeld_test`), that behaves like a sound card on a real clock and
 * fails on demand — what a headless test machine without a card cannot otherwise give: an
 * underrun when the application is late, a forced xrun, and a device that goes away and comes
 * back (a USB card unplugged and plugged in again).
 *
 *   pcm_type.echoeld_test { lib "/path/to/libasound_module_pcm_echoeld_test.so" }
 *   pcm.faulty { type echoeld_test  control "/tmp/x/ctl"  file "/tmp/x/out.raw" }
 *   pcm.fast { type echoeld_test  control "/tmp/x/ctl2"  rate_ppm 300 }
 *
 * `control` names a file the test writes one byte into at offset 0, in place (never truncated:
 * the plugin maps it): '.' plays on, 'x' makes one xrun (the plugin writes '.' back), 'g' is a
 * device gone — a running stream is disconnected (-ENODEV) and opening fails until the byte is
 * something else. `file` (optional, playback) is appended every frame played, FLOAT_LE
 * interleaved as the application wrote it; capture reads silence. `rate_ppm` (default 0) makes
 * the device's clock run that many parts per million fast (or slow, negative): two such
 * devices are two cards whose clocks drift apart. Formats: FLOAT_LE, 1-8 channels, 8-192 kHz,
 * interleaved (read-write, or mmap through alsa-lib's emulation).
 *
 * The clock: from start(), frames are consumed (playback) or produced (capture) at the rate; a
 * timerfd armed at the period makes the poll descriptor readable. If the consumed count passes
 * what was written, that is an underrun, and if the produced count passes what was read by
 * more than the buffer, an overrun (-EPIPE), as on a card.
 */
#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

struct test_pcm {
	snd_pcm_ioplug_t io;
	volatile char *control; /* mapped: byte 0 is the command */
	int out_fd;             /* -1: frames are discarded */
	double speed;           /* 1 + rate_ppm / 10^6 */
	uint64_t start_ns;      /* CLOCK_MONOTONIC at start() */
	uint64_t moved;         /* frames transfer() moved (written or read) since prepare() */
	uint64_t consumed;      /* frames the clock took or gave, at the last pointer() */
	snd_pcm_uframes_t hw;   /* consumed modulo the buffer: what pointer() returns */
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int arm(struct test_pcm *t, uint64_t period_ns)
{
	struct itimerspec its = {
		.it_interval = {(time_t)(period_ns / 1000000000u), (long)(period_ns % 1000000000u)},
		.it_value = {(time_t)(period_ns / 1000000000u), (long)(period_ns % 1000000000u)},
	};

	return timerfd_settime(t->io.poll_fd, 0, &its, NULL) < 0 ? -errno : 0;
}

static int tp_start(snd_pcm_ioplug_t *io)
{
	struct test_pcm *t = io->private_data;

	t->start_ns = now_ns();
	return arm(t, (uint64_t)io->period_size * 1000000000u / io->rate);
}

static int tp_stop(snd_pcm_ioplug_t *io)
{
	return arm(io->private_data, 0);
}

static int tp_prepare(snd_pcm_ioplug_t *io)
{
	struct test_pcm *t = io->private_data;

	t->moved = t->consumed = 0;
	t->hw = 0;
	return arm(t, 0);
}

static snd_pcm_sframes_t tp_pointer(snd_pcm_ioplug_t *io)
{
	struct test_pcm *t = io->private_data;
	char c = t->control[0];

	if (c == 'g') {
		snd_pcm_ioplug_set_state(io, SND_PCM_STATE_DISCONNECTED);
		return -ENODEV;
	}
	if (c == 'x') {
		t->control[0] = '.';
		return -EPIPE;
	}
	if (io->state == SND_PCM_STATE_RUNNING) {
		uint64_t due =
			(uint64_t)((double)(now_ns() - t->start_ns) * 1e-9 * io->rate * t->speed);

		if (io->stream == SND_PCM_STREAM_PLAYBACK && due > t->moved)
			return -EPIPE; /* the clock ran past what was written: an underrun */
		if (io->stream == SND_PCM_STREAM_CAPTURE && due > t->moved + io->buffer_size)
			return -EPIPE; /* more came than the buffer holds: an overrun */
		t->hw = (t->hw + (snd_pcm_uframes_t)(due - t->consumed)) % io->buffer_size;
		t->consumed = due;
	}
	return (snd_pcm_sframes_t)t->hw;
}

static snd_pcm_sframes_t tp_transfer(snd_pcm_ioplug_t *io, const snd_pcm_channel_area_t *areas,
				     snd_pcm_uframes_t offset, snd_pcm_uframes_t size)
{
	struct test_pcm *t = io->private_data;
	/* interleaved: one area, its first bit and step in bits */
	char *buf = areas[0].addr;
	size_t bytes = size * io->channels * sizeof(float);

	buf += (areas[0].first + areas[0].step * offset) / 8;
	if (t->control[0] == 'g')
		return -ENODEV;
	if (io->stream == SND_PCM_STREAM_CAPTURE)
		memset(buf, 0, bytes); /* what a quiet line in sounds like */
	else if (t->out_fd >= 0 && write(t->out_fd, buf, bytes) != (ssize_t)bytes)
		return -EIO;
	t->moved += size;
	return (snd_pcm_sframes_t)size;
}

static int tp_poll_revents(snd_pcm_ioplug_t *io, struct pollfd *pfd, unsigned int nfds,
			   unsigned short *revents)
{
	snd_pcm_sframes_t avail;
	uint64_t ticks;

	(void)nfds;
	if (pfd[0].revents & POLLIN)
		(void)read(io->poll_fd, &ticks, sizeof(ticks));
	avail = snd_pcm_avail_update(io->pcm);
	if (avail < 0)
		*revents = POLLERR;
	else if ((snd_pcm_uframes_t)avail < io->period_size)
		*revents = 0;
	else
		*revents = io->stream == SND_PCM_STREAM_PLAYBACK ? POLLOUT : POLLIN;
	return 0;
}

static int tp_close(snd_pcm_ioplug_t *io)
{
	struct test_pcm *t = io->private_data;

	close(io->poll_fd);
	if (t->out_fd >= 0)
		close(t->out_fd);
	munmap((void *)t->control, 1);
	free(t);
	return 0;
}

static const snd_pcm_ioplug_callback_t callbacks = {
	.start = tp_start,
	.stop = tp_stop,
	.pointer = tp_pointer,
	.transfer = tp_transfer,
	.prepare = tp_prepare,
	.poll_revents = tp_poll_revents,
	.close = tp_close,
};

/* The hardware it offers (set after snd_pcm_ioplug_create()). */
static int set_constraints(snd_pcm_ioplug_t *io)
{
	static const unsigned int access[] = {SND_PCM_ACCESS_RW_INTERLEAVED,
					      SND_PCM_ACCESS_MMAP_INTERLEAVED};
	static const unsigned int formats[] = {SND_PCM_FORMAT_FLOAT_LE};
	const int period_bytes = SND_PCM_IOPLUG_HW_PERIOD_BYTES;
	int r;

	if ((r = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_ACCESS, 2, access)) < 0 ||
	    (r = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_FORMAT, 1, formats)) < 0 ||
	    (r = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_CHANNELS, 1, 8)) < 0 ||
	    (r = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_RATE, 8000, 192000)) < 0 ||
	    (r = snd_pcm_ioplug_set_param_minmax(io, period_bytes, 64, 1 << 20)) < 0)
		return r;
	return snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIODS, 2, 64);
}

/* alsa-lib's macro defines the exported entry point; declared first for -Wmissing-prototypes */
int SND_PCM_PLUGIN_ENTRY(echoeld_test)(snd_pcm_t **pcmp, const char *name, snd_config_t *root,
				       snd_config_t *conf, snd_pcm_stream_t stream, int mode);

SND_PCM_PLUGIN_DEFINE_FUNC(echoeld_test)
{
	const char *control = NULL, *file = NULL;
	long ppm = 0;
	snd_config_iterator_t i, next;
	struct test_pcm *t;
	char c = 0;
	int fd, r;

	(void)root;
	snd_config_for_each(i, next, conf)
	{
		snd_config_t *n = snd_config_iterator_entry(i);
		const char *id;

		if (snd_config_get_id(n, &id) < 0 || !strcmp(id, "comment") ||
		    !strcmp(id, "type") || !strcmp(id, "hint"))
			continue;
		if (!strcmp(id, "control") && snd_config_get_string(n, &control) == 0)
			continue;
		if (!strcmp(id, "file") && snd_config_get_string(n, &file) == 0)
			continue;
		if (!strcmp(id, "rate_ppm") && snd_config_get_integer(n, &ppm) == 0)
			continue;
		SNDERR("echoeld_test: unknown or bad field %s", id);
		return -EINVAL;
	}
	if (!control || (file && stream != SND_PCM_STREAM_PLAYBACK))
		return -EINVAL; /* a control file is needed; `file` is what playback played */
	if ((fd = open(control, O_RDWR | O_CLOEXEC)) < 0)
		return -errno;
	if (read(fd, &c, 1) != 1 || c == 'g') {
		close(fd);
		return -ENODEV; /* gone: as a card that is not plugged in */
	}
	if (!(t = calloc(1, sizeof(*t)))) {
		close(fd);
		return -ENOMEM;
	}
	t->control = mmap(NULL, 1, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	t->out_fd = file ? open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
	t->speed = 1.0 + (double)ppm * 1e-6;
	t->io.version = SND_PCM_IOPLUG_VERSION;
	t->io.name = "echoeld test PCM";
	t->io.callback = &callbacks;
	t->io.private_data = t;
	t->io.poll_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	t->io.poll_events = POLLIN;
	t->io.flags = SND_PCM_IOPLUG_FLAG_MONOTONIC;
	if (t->control == MAP_FAILED || (file && t->out_fd < 0) || t->io.poll_fd < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = snd_pcm_ioplug_create(&t->io, name, stream, mode)) < 0)
		goto fail;
	if ((r = set_constraints(&t->io)) < 0) {
		snd_pcm_ioplug_delete(&t->io); /* calls tp_close(), which frees t */
		return r;
	}
	*pcmp = t->io.pcm;
	return 0;
fail:
	if (t->io.poll_fd >= 0)
		close(t->io.poll_fd);
	if (t->out_fd >= 0)
		close(t->out_fd);
	if (t->control != MAP_FAILED)
		munmap((void *)t->control, 1);
	free(t);
	return r;
}

SND_PCM_PLUGIN_SYMBOL(echoeld_test);
