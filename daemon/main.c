/* SPDX-License-Identifier: MIT */
/*
 * daemon/main.c: echoeld's command line.
 *
 *   echoeld [--config FILE] [--socket PATH] [--backend auto|dummy|jack|pipewire|alsa]
 *           [--verbose]
 *   echoeld --check-config FILE
 *   echoeld render [--config FILE] [--format same|pcm16|pcm24|pcm32|float] [--tail] [--measure]
 *                  [--threads N] [--dither yes|no|shaped] IN OUT
 *
 * Exit codes: 0 success, 1 failure (configuration, runtime), 2 usage, 128 + the signal for a
 * render stopped by SIGINT/SIGTERM/SIGHUP (daemon/render.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-macros.h"
#include "daemon/daemon.h"
#include "daemon/service.h"
#include "daemon/engine/rt-check.h"
#include "daemon/log.h"

#ifndef ECHOELD_VERSION
#define ECHOELD_VERSION "unknown"
#endif

static void usage(FILE *f)
{
	fputs("usage: echoeld [--config FILE] [--socket PATH] "
	      "[--backend auto|dummy|jack|pipewire|alsa]\n"
	      "               [--verbose]\n"
	      "       echoeld --check-config FILE\n"
	      "       echoeld render [--config FILE] [--format same|pcm16|pcm24|pcm32|float] "
	      "[--tail]\n"
	      "                      [--measure] [--threads N] [--dither yes|no|shaped] IN OUT\n"
	      "       echoeld --help | --version\n",
	      f);
}

static int parse_enum(const char *value, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(value, names[i]) == 0)
			return (int)i;
	return -1;
}

static int main_render(int argc, char **argv)
{
	static const char *const formats[] = {"same", "pcm16", "pcm24", "pcm32", "float"};
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"format", required_argument, NULL, 'f'},
		{"tail", no_argument, NULL, 't'},
		{"measure", no_argument, NULL, 'm'},
		{"threads", required_argument, NULL, 'j'},
		{"dither", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	static const char *const dithers[] = {"no", "yes", "shaped"}; /* render_options.dither */
	struct render_options o = {.dither = -1};
	int format = 0, c;
	char *end;
	unsigned long n;

	while ((c = getopt_long(argc, argv, "c:f:", opts, NULL)) != -1) {
		if (c == 'c') {
			o.config_path = optarg;
		} else if (c == 't') {
			o.tail = true;
		} else if (c == 'm') {
			o.measure = true;
		} else if (c == 'j') {
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || n < 1 ||
			    n > RENDER_MAX_THREADS) {
				fprintf(stderr,
					"echoeld render: --threads: '%s' is not a number from 1 to %u\n",
					optarg, RENDER_MAX_THREADS);
				return 2;
			}
			o.threads = (unsigned)n;
		} else if (c == 'd') {
			o.dither = parse_enum(optarg, dithers, EL_N_ELEMENTS(dithers));
			if (o.dither < 0) {
				fprintf(stderr,
					"echoeld render: --dither: expected yes, no or shaped, got "
					"'%s'\n",
					optarg);
				return 2;
			}
		} else if (c == 'f' &&
			   (format = parse_enum(optarg, formats, EL_N_ELEMENTS(formats))) >= 0) {
			continue;
		} else {
			if (c == 'f')
				fprintf(stderr, "echoeld render: --format: unknown format '%s'\n",
					optarg);
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "echoeld render: expected IN and OUT files\n");
		usage(stderr);
		return 2;
	}
	o.format = (enum offline_format)format;
	return daemon_render(&o, argv[optind], argv[optind + 1]);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"backend", required_argument, NULL, 'b'},
		{"socket", required_argument, NULL, 's'},
		{"check-config", required_argument, NULL, 'C'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct daemon_options o = {.backend = -1};
	int c;

	eng_rt_check_init();
	if (argc > 1 && strcmp(argv[1], "render") == 0)
		return main_render(argc - 1, argv + 1);
	while ((c = getopt_long(argc, argv, "c:b:s:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.socket_path = optarg;
			break;
		case 'c':
			o.config_path = optarg;
			break;
		case 'b':
			o.backend = parse_enum(optarg, eng_backend_names,
					       EL_N_ELEMENTS(eng_backend_names));
			if (o.backend < 0) {
				fprintf(stderr, "echoeld: --backend: unknown backend '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'C':
			return service_check_config(optarg);
		case 'v':
			el_log_set_max_level(LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("echoeld " ECHOELD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "echoeld: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return service_run(&o);
}
