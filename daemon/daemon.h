/* SPDX-License-Identifier: MIT */
/*
 * daemon/daemon.h: the commands of echoeld — run the daemon, check a configuration, render a
 * file. Each returns the process exit code (0 success, 1 failure) after logging what went
 * wrong.
 */
#pragma once

#include "daemon/backend/offline.h"
#include "daemon/engine/settings.h"

struct daemon_options {
	const char *config_path; /* NULL: the system file, else the built-in graph */
	int backend;             /* enum eng_backend_kind, or -1 for the config's */
	const char *socket_path; /* --socket, or NULL for [ipc] socket or the default */
};

/* In the service module (daemon/service.h): call them through service_run() and
 * service_check_config(). */
int daemon_run(const struct daemon_options *o);
int daemon_check_config(const char *path);
/* What `echoeld render` was asked. */
struct render_options {
	const char *config_path; /* NULL: the default configuration */
	enum offline_format format;
	bool tail;    /* go on after the input ends until the graph is silent (offline.h) */
	/* measure FFT plans and convolver layouts and remember them (daemon/render.c), also for
	 * an input shorter than RENDER_MEASURE_SECONDS */
	bool measure;
	/* threads the render may keep busy, its own included: 1 .. RENDER_MAX_THREADS; 0: as
	 * many as the power policy's cores (one per CPU on AC and cool) */
	unsigned threads;
	/* TPDF dither of integer output: 1 yes, 0 no, -1 (the default) for 16-bit output */
	int dither;
};

/* The most threads a render runs on (a convolver runs at most one per channel anyway). */
#define RENDER_MAX_THREADS 64u

int daemon_render(const struct render_options *o, const char *in, const char *out);
