/* SPDX-License-Identifier: MIT */
/* daemon/fir-layouts.c: measured convolver layouts, remembered (fir-layouts.h). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/el-macros.h"
#include "common/el-probe.h"
#include "daemon/engine/node.h"
#include "daemon/fir-layouts.h"
#include "daemon/log.h"
#include "daemon/wisdom.h"
#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/fir-schedule.h"
#include "dsp/fir-search.h"
#include "dsp/fir.h"

#define LAYOUTS_NAME "fir-layouts"
/* IRs this short (in blocks) run uniform: a head of a few partitions has nothing to gain. */
#define UNIFORM_MAX_BLOCKS 8u
/* What the search tries and accepts (fir-search.h). */
#define SEARCH_MAX_SIZE     16384u
#define SEARCH_PATIENCE     2u
#define SEARCH_MAX_FLATNESS 1.5
#define SEARCH_PERIODS      8u

struct fir_layouts {
	char *path; /* owned; NULL: nothing is read or written */
	char model[FIR_LAYOUTS_KEY_MAX];
	struct fir_layouts_entry *entries; /* owned: n of cap */
	size_t n, cap;
	unsigned searches;
	double last_search_ms;
	bool quick;       /* not measuring: the cost model's choice, not remembered */
	unsigned threads; /* candidates measured at once: search_threads() */
};

/* field into buf (at most size - 1 bytes, not empty): 0 or -EINVAL. */
static int copy_field(const char *field, size_t len, char *buf, size_t size)
{
	if (len == 0 || len >= size)
		return -EINVAL;
	memcpy(buf, field, len);
	buf[len] = '\0';
	return 0;
}

/* A whole field as a decimal number in [min, max]. */
static int parse_number(const char *field, size_t len, unsigned long long min,
			unsigned long long max, unsigned long long *ret)
{
	char buf[32], *end;
	unsigned long long v;

	if (copy_field(field, len, buf, sizeof(buf)) < 0 || buf[0] < '0' || buf[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* A whole field as a finite, non-negative real number. */
static int parse_real(const char *field, size_t len, double *ret)
{
	char buf[64], *end;
	double v;

	if (copy_field(field, len, buf, sizeof(buf)) < 0)
		return -EINVAL;
	errno = 0;
	v = strtod(buf, &end);
	if (errno || *end || !isfinite(v) || v < 0.0)
		return -EINVAL;
	*ret = v;
	return 0;
}

int fir_layouts_parse_line(const char *line, struct fir_layouts_entry *ret)
{
	const char *field[8];
	size_t len[8];
	struct fir_layouts_entry e = {0};
	unsigned long long block, taps, channels;
	char text[512];
	const char *p = line;

	if (!line || !ret)
		return -EINVAL;
	for (unsigned i = 0; i < 8; i++) {
		const char *tab = strchr(p, '\t');

		field[i] = p;
		len[i] = tab ? (size_t)(tab - p) : strlen(p);
		if ((i < 7) != (tab != NULL))
			return -EINVAL; /* seven tabs exactly */
		p = tab ? tab + 1 : p + len[i];
	}
	if (field[0][0] == '#' || copy_field(field[0], len[0], e.cpu, sizeof(e.cpu)) < 0 ||
	    copy_field(field[1], len[1], e.fftw, sizeof(e.fftw)) < 0 ||
	    parse_number(field[2], len[2], DSP_FIR_MIN_BLOCK, DSP_FIR_MAX_BLOCK, &block) < 0 ||
	    parse_number(field[3], len[3], 1, DSP_FIR_MAX_TAPS, &taps) < 0 ||
	    parse_number(field[4], len[4], 1, 1024, &channels) < 0 ||
	    copy_field(field[5], len[5], text, sizeof(text)) < 0 ||
	    dsp_fir_layout_parse(text, &e.layout) < 0 || e.layout.block != block ||
	    dsp_fir_layout_get_taps(&e.layout) < taps ||
	    parse_real(field[6], len[6], &e.cost_ns) < 0 ||
	    parse_real(field[7], len[7], &e.flatness) < 0)
		return -EINVAL;
	e.block = (unsigned)block;
	e.taps = (size_t)taps;
	e.channels = (unsigned)channels;
	*ret = e;
	return 0;
}

static int layouts_add(struct fir_layouts *l, const struct fir_layouts_entry *e)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct fir_layouts_entry *v = realloc(l->entries, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->entries = v;
		l->cap = cap;
	}
	l->entries[l->n++] = *e;
	return 0;
}

static void layouts_load(struct fir_layouts *l)
{
	FILE *f = fopen(l->path, "re");
	char *line = NULL;
	size_t size = 0, lineno = 0, loaded = 0;
	ssize_t n;

	if (!f) {
		if (errno != ENOENT)
			log_warning("cannot read '%s': %s, measuring layouts again", l->path,
				    strerror(errno));
		return;
	}
	while ((n = getline(&line, &size, f)) >= 0) {
		struct fir_layouts_entry e;

		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (fir_layouts_parse_line(line, &e) < 0)
			log_warning("%s:%zu: not a layout entry, skipped", l->path, lineno);
		else if (layouts_add(l, &e) == 0)
			loaded++;
	}
	free(line);
	fclose(f);
	log_debug("loaded %zu convolver layouts from '%s'", loaded, l->path);
}

/* The model name of the first CPU in /proc/cpuinfo (tabs would break the file: none kept). */
static void read_model(char *buf, size_t size)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[512];

	snprintf(buf, size, "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) != 0 || !colon)
			continue;
		colon += strspn(colon + 1, " ") + 1;
		colon[strcspn(colon, "\n")] = '\0';
		for (char *c = colon; *c; c++)
			if (*c == '\t')
				*c = ' ';
		snprintf(buf, size, "%s", colon);
		break;
	}
	if (f)
		fclose(f);
}

/*
 * Candidates measured at once: the CPUs online but one, at least one. The one is the audio's
 * (the daemon searches while it plays), and a render keeps it too: two candidates timed at once
 * on this machine's 2 vCPUs gave noisier costs (one search chose a layout 1.4x costlier than
 * the others found) and no shorter search, which FFTW's planning dominates
 * (docs/performance.md, layout search).
 */
static unsigned search_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return (unsigned)EL_MIN(n > 1 ? n - 1 : 1, (long)DSP_FIR_SEARCH_MAX_THREADS);
}

int fir_layouts_new(const char *path, struct fir_layouts **ret)
{
	struct fir_layouts *l = calloc(1, sizeof(*l));
	char buf[PATH_MAX];

	if (!l)
		return -ENOMEM;
	if (!path && wisdom_state_path(LAYOUTS_NAME, buf, sizeof(buf)) == 0)
		path = buf;
	if (path && !(l->path = strdup(path))) {
		free(l);
		return -ENOMEM;
	}
	read_model(l->model, sizeof(l->model));
	l->threads = search_threads();
	if (l->path)
		layouts_load(l);
	*ret = l;
	return 0;
}

struct fir_layouts *fir_layouts_free(struct fir_layouts *l)
{
	if (!l)
		return NULL;
	free(l->entries);
	free(l->path);
	free(l);
	return NULL;
}

void fir_layouts_set_measuring(struct fir_layouts *l, bool measuring)
{
	l->quick = !measuring;
}

/* The search for key's layout, costed by cost (ctx), on `threads` threads (fir-search.h). */
static struct dsp_fir_search search_for(const struct fir_layouts_entry *key, dsp_fir_cost_fn cost,
					void *ctx, unsigned threads)
{
	return (struct dsp_fir_search){.block = key->block,
				       .taps = key->taps,
				       .max_size = SEARCH_MAX_SIZE,
				       .patience = SEARCH_PATIENCE,
				       .max_flatness = SEARCH_MAX_FLATNESS,
				       .cost = cost,
				       .cost_ctx = ctx,
				       .threads = threads};
}

/* The cost model's layout for key (fir-search.h), measuring nothing, remembering nothing. */
static int layouts_model(struct fir_layouts_entry *key)
{
	struct dsp_fir_costs costs;
	struct dsp_fir_search s = search_for(key, dsp_fir_search_model, &costs, 1);
	struct dsp_fir_search_result res = {0};
	int r;

	dsp_fir_costs_model(&costs);
	r = dsp_fir_search_run(&s, &res);
	if (r < 0)
		return r;
	key->layout = res.layout;
	key->cost_ns = 0.0; /* not measured */
	key->flatness = res.flatness;
	return 0;
}

size_t fir_layouts_get_count(const struct fir_layouts *l)
{
	return l->n;
}

unsigned fir_layouts_get_searches(const struct fir_layouts *l)
{
	return l->searches;
}

double fir_layouts_get_last_search_ms(const struct fir_layouts *l)
{
	return l->last_search_ms;
}

/* Writes every entry to path, atomically; a failure costs the next start a search, no more. */
static void layouts_save(const struct fir_layouts *l)
{
	char tmp[PATH_MAX], text[512];
	FILE *f;
	int r = 0;

	if (!l->path ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", l->path, (long)getpid()) >= (int)sizeof(tmp))
		return;
	f = fopen(tmp, "we");
	if (!f) {
		log_warning("cannot write '%s': %s, layouts will be measured again next time", tmp,
			    strerror(errno));
		return;
	}
	fprintf(f, "# echoeld convolver layouts measured on this machine (daemon/fir-layouts.h)\n");
	for (size_t i = 0; i < l->n; i++) {
		const struct fir_layouts_entry *e = &l->entries[i];

		dsp_fir_layout_format(&e->layout, text, sizeof(text));
		fprintf(f, "%s\t%s\t%u\t%zu\t%u\t%s\t%.1f\t%.3f\n", e->cpu, e->fftw, e->block,
			e->taps, e->channels, text, e->cost_ns, e->flatness);
	}
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0)
		r = -(errno ? errno : EIO);
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, l->path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		log_warning("cannot save layouts to '%s': %s", l->path, strerror(-r));
	}
}

static const struct fir_layouts_entry *layouts_find(const struct fir_layouts *l,
						    const struct fir_layouts_entry *key)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct fir_layouts_entry *e = &l->entries[i];

		if (e->block == key->block && e->taps == key->taps &&
		    e->channels == key->channels && strcmp(e->cpu, key->cpu) == 0 &&
		    strcmp(e->fftw, key->fftw) == 0)
			return e;
	}
	return NULL;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* Measures the layout for key (fir-search.h) and remembers it. */
static int layouts_search(struct fir_layouts *l, struct fir_layouts_entry *key, uint32_t cpu_flags,
			  struct dsp_fft_cache *fft)
{
	struct dsp_fir_measure m = {.fft = fft,
				    .cpu_flags = cpu_flags,
				    .channels = key->channels,
				    .periods = SEARCH_PERIODS};
	struct dsp_fir_search s = search_for(key, dsp_fir_search_measure, &m, l->threads);
	struct dsp_fir_search_result res = {0};
	struct timespec t0;
	char text[512];
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	EL_PROBE3(layout_search_begin, key->block, key->taps, key->channels);
	r = dsp_fir_search_run(&s, &res);
	EL_PROBE2(layout_search_end, r, res.tried);
	if (r < 0)
		return r;
	l->searches++;
	l->last_search_ms = seconds_since(&t0) * 1000.0;
	key->layout = res.layout;
	key->cost_ns = res.cost;
	key->flatness = res.flatness;
	dsp_fir_layout_format(&res.layout, text, sizeof(text));
	log_info(
		"convolver layout for %zu taps, block %u, %u channel%s: %s (%u candidates measured "
		"in %.2f s on %u thread%s; %.1f us per call, worst phase %.2f x the mean)",
		key->taps, key->block, key->channels, key->channels == 1 ? "" : "s", text,
		res.costed, seconds_since(&t0), l->threads, l->threads == 1 ? "" : "s",
		res.cost / 1000.0, res.flatness);
	r = layouts_add(l, key);
	if (r == 0)
		layouts_save(l);
	return r;
}

static int layouts_choose(void *ctx, unsigned block, size_t taps, unsigned channels,
			  uint32_t cpu_flags, struct dsp_fft_cache *fft, struct dsp_fir_layout *ret,
			  double *ret_cost_ns)
{
	struct fir_layouts *l = ctx;
	struct fir_layouts_entry key = {.block = block, .channels = channels};
	const struct fir_layouts_entry *e;
	int r;

	if (ret_cost_ns)
		*ret_cost_ns = 0.0; /* not measured */
	if (taps <= UNIFORM_MAX_BLOCKS * (size_t)block)
		return dsp_fir_layout_uniform(block, taps, ret);
	/* similar lengths share a search: the layout for the next power of two, cut to taps */
	key.taps = EL_MIN((size_t)DSP_FIR_MAX_TAPS, (size_t)1 << (64 - __builtin_clzll(taps - 1)));
	/* the model is cut to leave room for the variant: a long name still makes a key */
	snprintf(key.cpu, sizeof(key.cpu), "%s/search%u/%.100s",
		 dsp_cpu_get_variant_name(cpu_flags), DSP_FIR_SEARCH_VERSION, l->model);
	snprintf(key.fftw, sizeof(key.fftw), "%s", dsp_fft_get_version());
	e = layouts_find(l, &key);
	if (!e) {
		r = l->quick ? layouts_model(&key) : layouts_search(l, &key, cpu_flags, fft);
		if (r < 0)
			return r;
		e = &key;
	}
	if (ret_cost_ns)
		*ret_cost_ns = e->cost_ns; /* of the power of two: an upper bound for taps */
	return dsp_fir_layout_fit(&e->layout, taps, ret);
}

struct eng_fir_planner fir_layouts_get_planner(struct fir_layouts *l)
{
	return (struct eng_fir_planner){.choose = layouts_choose, .ctx = l};
}
