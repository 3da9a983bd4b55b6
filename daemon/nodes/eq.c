/* SPDX-License-Identifier: MIT */
/*
 * daemon/nodes/eq.c: the "eq" node type — a parametric equalizer of up to 32 bands, each one
 * RBJ-cookbook biquad (dsp/biquad.h), the same bands on every channel unless a channel has its
 * own (`bandN.chM`).
 *
 * Bands come from the section's `bandN` keys or from an equalizer file (`file`: REW / AutoEQ
 * text, daemon/nodes/eq-file.h; its preamp scales the first section's numerator, so it ramps like
 * any band). A `bandN.chM` key sets band N of channel M alone, over what `bandN` or the file set
 * for every channel. Band N is section N - 1 of the channels' chains, and every chain has all
 * DSP_BIQUAD_MAX_SECTIONS sections from the start, so an update may add, change or remove any
 * band without a new instance: the sections that change ramp their coefficients over the
 * engine's fade length. With no band at all the node copies its input (bit-exact); the chains
 * still run beside it, so their history is right when a band arrives. Once a silence has lasted
 * the tail (after which the engine may stop calling the node), the next call first clears the
 * chains' history, so it is the silence's, skipped or not.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-error.h"
#include "daemon/config/config.h"
#include "daemon/engine/node.h"
#include "daemon/nodes/eq-file.h"
#include "daemon/nodes/ir-file.h"
#include "daemon/nodes/node-util.h"
#include "dsp/biquad.h"
#include "dsp/mix.h"

#define EQ_BANDS DSP_BIQUAD_MAX_SECTIONS
#define EQ_MAX_Q 1000.0
/* Tail: frames for the response to decay by this much, capped at EQ_TAIL_MAX_S seconds. */
#define EQ_TAIL_DB    150.0
#define EQ_TAIL_MAX_S 10.0

#define EQ_KEYS                                                                                    \
	"band1", "band2", "band3", "band4", "band5", "band6", "band7", "band8", "band9", "band10", \
		"band11", "band12", "band13", "band14", "band15", "band16", "band17", "band18",    \
		"band19", "band20", "band21", "band22", "band23", "band24", "band25", "band26",    \
		"band27", "band28", "band29", "band30", "band31", "band32"

static const char *const eq_band_keys[] = {EQ_KEYS, NULL};
static const char *const eq_keys[] = {EQ_KEYS, "file", NULL};
static const char *const eq_allowed[] = {"type", "input", EQ_KEYS, "file", NULL};

_Static_assert(EL_N_ELEMENTS(eq_band_keys) == EQ_BANDS + 1, "one key per section");

static const char *const eq_type_names[] = {
	[DSP_BIQUAD_PEAKING] = "peaking",     [DSP_BIQUAD_LOWSHELF] = "lowshelf",
	[DSP_BIQUAD_HIGHSHELF] = "highshelf", [DSP_BIQUAD_LOWPASS] = "lowpass",
	[DSP_BIQUAD_HIGHPASS] = "highpass",   [DSP_BIQUAD_BANDPASS] = "bandpass",
	[DSP_BIQUAD_NOTCH] = "notch",         [DSP_BIQUAD_ALLPASS] = "allpass",
};

/*
 * What one section asks for: the coefficients of every band of every channel (identity where
 * none; a `bandN` key sets band N of every channel, a `bandN.chM` key band N of channel M).
 */
struct eq_set {
	unsigned channels;
	unsigned n_bands; /* bands present on some channel */
	size_t tail;      /* frames, see eq_set_tail() */
	struct dsp_biquad_coefs
		coefs[]; /* channels x EQ_BANDS: channel c's band i at c * EQ_BANDS + i */
};

static struct dsp_biquad_coefs *band_of(struct eq_set *s, unsigned c, unsigned i)
{
	return &s->coefs[(size_t)c * EQ_BANDS + i];
}

static size_t eq_set_size(unsigned channels)
{
	return sizeof(struct eq_set) +
	       (size_t)channels * EQ_BANDS * sizeof(struct dsp_biquad_coefs);
}

/* The new set until applied; then the set it replaced. Owned. */
struct eq_update {
	struct eq_set *set;
};

struct eq {
	unsigned channels;
	uint32_t rate, fade_frames;
	const struct dsp_mix_ops *mix;   /* borrowed: the engine's, outlives every node */
	struct dsp_biquad_chain **chain; /* channels */
	/* RT thread only: */
	struct eq_set *cur; /* owned */
	size_t prev_tail;   /* tail of the set cur replaced, while its ramp runs */
	size_t ramp_left;   /* frames of the last update's ramp still to run */
	size_t quiet;       /* frames of silent input in a row */
	bool stale;         /* the history before that silence is to be forgotten */
	/* The set last applied, for update_prepare() on the control thread. */
	_Atomic(struct eq_set *) applied;
};

static const struct dsp_biquad_coefs eq_identity = {.b0 = 1.0};

/* A finite number filling all of s. */
static bool parse_double(const char *s, double *ret)
{
	char *end;

	errno = 0;
	*ret = strtod(s, &end);
	return end != s && *end == '\0' && errno == 0 && isfinite(*ret);
}

static bool type_has_gain(unsigned t)
{
	return t == DSP_BIQUAD_PEAKING || t == DSP_BIQUAD_LOWSHELF || t == DSP_BIQUAD_HIGHSHELF;
}

/* Splits e's value into at most 5 blank-separated words (in buf); returns how many. */
static size_t split_words(const char *value, char *buf, size_t size, char **words)
{
	char *save = NULL, *w;
	size_t n = 0;

	snprintf(buf, size, "%s", value);
	for (w = strtok_r(buf, " \t", &save); w && n < 5; w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	return n;
}

static int parse_type(const struct conf_entry *e, const char *word, unsigned *ret,
		      struct el_error *reterr)
{
	for (unsigned t = 0; t < EL_N_ELEMENTS(eq_type_names); t++)
		if (strcmp(word, eq_type_names[t]) == 0) {
			*ret = t;
			return 0;
		}
	return conf_error_entry(reterr, -EINVAL, e,
				"unknown filter type '%s' (expected peaking, lowshelf, highshelf, "
				"lowpass, highpass, bandpass, notch or allpass)",
				word);
}

/* `TYPE FREQ Q [GAIN_DB]` into p; the messages say what was expected. */
static int parse_band(const struct conf_entry *e, double rate, struct dsp_biquad_params *p,
		      struct el_error *reterr)
{
	char buf[CONF_MAX_LINE + 1], *w[5];
	size_t n = split_words(e->value, buf, sizeof(buf), w);
	unsigned type = 0;
	int r;

	if (n < 3 || n > 4)
		return conf_error_entry(reterr, -EINVAL, e,
					"expected 'TYPE FREQ Q [GAIN_DB]', got '%s'", e->value);
	r = parse_type(e, w[0], &type, reterr);
	if (r < 0)
		return r;
	p->type = (enum dsp_biquad_type)type;
	if (!parse_double(w[1], &p->freq) || !(p->freq > 0.0) || !(p->freq < rate / 2.0))
		return conf_error_entry(reterr, -EINVAL, e,
					"expected a frequency in Hz above 0 and below %g "
					"(half the rate), got '%s'",
					rate / 2.0, w[1]);
	if (!parse_double(w[2], &p->q) || !(p->q > 0.0) || p->q > EQ_MAX_Q)
		return conf_error_entry(reterr, -EINVAL, e,
					"expected a Q above 0 and at most %g, got '%s'", EQ_MAX_Q,
					w[2]);
	p->gain_db = 0.0;
	if (type_has_gain(p->type) && n != 4)
		return conf_error_entry(reterr, -EINVAL, e,
					"%s needs a gain: expected '%s FREQ Q GAIN_DB', got '%s'",
					w[0], w[0], e->value);
	if (!type_has_gain(p->type) && n != 3)
		return conf_error_entry(reterr, -EINVAL, e,
					"%s takes no gain: expected '%s FREQ Q', got '%s'", w[0],
					w[0], e->value);
	if (n == 4 &&
	    (!parse_double(w[3], &p->gain_db) || !(fabs(p->gain_db) <= DSP_BIQUAD_MAX_GAIN_DB)))
		return conf_error_entry(reterr, -EINVAL, e,
					"expected a gain in dB from %g to %g, got '%s'",
					-DSP_BIQUAD_MAX_GAIN_DB, DSP_BIQUAD_MAX_GAIN_DB, w[3]);
	return 0;
}

/* Largest pole radius of one section: the roots of z^2 + a1 z + a2. */
static double pole_radius(const struct dsp_biquad_coefs *c)
{
	double d = c->a1 * c->a1 - 4.0 * c->a2;

	if (d < 0.0)
		return sqrt(c->a2); /* complex pair: |z|^2 = a2 */
	return fmax(fabs(-c->a1 + sqrt(d)), fabs(-c->a1 - sqrt(d))) / 2.0;
}

/*
 * Frames until the response has decayed by EQ_TAIL_DB, capped at EQ_TAIL_MAX_S seconds; 0
 * without bands. For one band that is the time its slowest pole takes (r^n = 10^(-150/20)) plus
 * the two frames of its zeros. For a cascade it is the sum over the bands: the response of a
 * cascade is the convolution of the bands' responses, so it ends no later than their lengths
 * added, while the slowest pole alone would fall short when bands share poles (a double pole
 * decays as n r^n: 70 dB short after the single pole's 150 dB at 20 Hz).
 */
static size_t eq_set_tail(struct eq_set *s, double rate)
{
	double longest = 0.0;

	for (unsigned ch = 0; ch < s->channels; ch++) {
		double sum = 0.0;

		for (unsigned i = 0; i < EQ_BANDS; i++) {
			const struct dsp_biquad_coefs *c = band_of(s, ch, i);
			double r = pole_radius(c);

			if (memcmp(c, &eq_identity, sizeof(*c)) == 0)
				continue;
			sum += 2.0;
			if (r > 0.0)
				sum += ceil(EQ_TAIL_DB / (-20.0 * log10(r)));
		}
		longest = fmax(longest, sum);
	}
	return (size_t)fmin(longest, EQ_TAIL_MAX_S * rate);
}

/* Band i of channel ch of s (every channel: ch < 0) designed from p, or an error naming e. */
static int eq_design(struct eq_set *s, int ch, unsigned i, const struct dsp_biquad_params *p,
		     const struct conf_entry *e, const char *what, double rate,
		     struct el_error *reterr)
{
	struct dsp_biquad_coefs c;

	if (dsp_biquad_coefs_compute(p, rate, &c) < 0)
		return conf_error_entry(reterr, -EINVAL, e,
					"cannot make a stable filter of %s at %g Hz", what, rate);
	for (unsigned k = 0; k < s->channels; k++)
		if (ch < 0 || (unsigned)ch == k)
			*band_of(s, k, i) = c;
	s->n_bands++;
	return 0;
}

/* `file = PATH`: the file's filters as bands 1..n of every channel; its preamp into *ret_gain. */
static int eq_read_file(const struct conf_entry *e, const struct eng_node_env *env,
			struct eq_set *s, double *ret_gain, struct el_error *reterr)
{
	struct eq_file f;
	struct el_error err = {0};
	char *path = NULL, what[32];
	double g;
	int r = node_ir_resolve(e->value, env->base_dir, &path);

	if (r < 0)
		return -ENOMEM;
	r = eq_file_load(path, node_file_beneath(e, env), env->rate, &f, &err);
	free(path);
	if (r < 0)
		return conf_error_entry(reterr, r, e, "%s", err.message);
	for (unsigned i = 0; i < f.n_bands && r == 0; i++) {
		snprintf(what, sizeof(what), "its filter %u", i + 1);
		r = eq_design(s, -1, i, &f.band[i], e, what, env->rate, reterr);
	}
	if (r < 0)
		return r;
	g = pow(10.0, f.preamp_db / 20.0);
	*ret_gain = g;
	return 0;
}

/*
 * `bandN.chM`: band N (1 .. EQ_BANDS) of channel M (1 .. channels) into *ret_band and *ret_ch
 * (0-based); false for any other key.
 */
static bool channel_band_key(const char *key, unsigned channels, unsigned *ret_band,
			     unsigned *ret_ch)
{
	unsigned n, m;
	int used = 0;

	if (sscanf(key, "band%u.ch%u%n", &n, &m, &used) != 2 || key[used] != '\0' || n < 1 ||
	    n > EQ_BANDS || m < 1 || m > channels)
		return false;
	*ret_band = n - 1;
	*ret_ch = m - 1;
	return true;
}

/*
 * The keys a section may have: eq_allowed, and bandN.chM for every band and channel. An owned
 * array; the names of the per-channel keys are one block, at the first of them.
 */
static const char **eq_allowed_keys(unsigned channels)
{
	size_t base = EL_N_ELEMENTS(eq_allowed) - 1, n = base + (size_t)EQ_BANDS * channels;
	const char **keys = calloc(n + 1, sizeof(*keys));
	char *names = malloc((size_t)EQ_BANDS * channels * 24);

	if (!keys || !names) {
		free(keys);
		free(names);
		return NULL;
	}
	memcpy(keys, eq_allowed, base * sizeof(*keys));
	for (unsigned i = 0; i < EQ_BANDS; i++)
		for (unsigned c = 0; c < channels; c++) {
			char *name = names + ((size_t)i * channels + c) * 24;

			snprintf(name, 24, "band%u.ch%u", i + 1, c + 1);
			keys[base + (size_t)i * channels + c] = name;
		}
	return keys;
}

static int eq_check_keys(const struct conf_section *sec, const struct eng_node_env *env,
			 struct el_error *reterr)
{
	const size_t base = EL_N_ELEMENTS(eq_allowed) - 1;
	const char **keys = eq_allowed_keys(EL_MAX(env->in_channels, 1u));
	int r;

	if (!keys)
		return -ENOMEM;
	r = node_check_input(sec, keys, env, "an eq needs an input", reterr);
	free((void *)keys[base]);
	free(keys);
	return r;
}

/* The section's bands for every channel (bandN). */
static int eq_read_bands(const struct conf_section *sec, const struct eng_node_env *env,
			 const struct conf_entry *file, struct eq_set *s, struct el_error *reterr)
{
	struct dsp_biquad_params p;
	int r = 0;

	for (unsigned i = 0; i < EQ_BANDS && r == 0; i++) {
		const struct conf_entry *e = conf_section_find(sec, eq_band_keys[i]);

		if (!e)
			continue;
		if (file)
			r = conf_error_entry(
				reterr, -EINVAL, e,
				"the bands come from 'file' (line %u): give one or the "
				"other",
				file->origin.line);
		else if ((r = parse_band(e, env->rate, &p, reterr)) == 0)
			r = eq_design(s, -1, i, &p, e, e->value, env->rate, reterr);
	}
	return r;
}

/* Each channel's own bands (bandN.chM), over what bandN or the file set. */
static int eq_read_channel_bands(const struct conf_section *sec, const struct eng_node_env *env,
				 struct eq_set *s, struct el_error *reterr)
{
	struct dsp_biquad_params p;
	int r = 0;

	for (size_t k = 0; k < sec->n_entries && r == 0; k++) {
		const struct conf_entry *e = &sec->entries[k];
		unsigned band, ch;

		if (!channel_band_key(e->key, s->channels, &band, &ch))
			continue;
		if ((r = parse_band(e, env->rate, &p, reterr)) == 0)
			r = eq_design(s, (int)ch, band, &p, e, e->value, env->rate, reterr);
	}
	return r;
}

/* Checks sec and designs every band into a new set. */
static int eq_read(const struct conf_section *sec, const struct eng_node_env *env,
		   struct eq_set **ret, struct el_error *reterr)
{
	const struct conf_entry *file = conf_section_find(sec, "file");
	double preamp = 1.0;
	struct eq_set *s;
	int r;

	r = eq_check_keys(sec, env, reterr);
	if (r < 0)
		return r;
	s = calloc(1, eq_set_size(env->in_channels));
	if (!s)
		return -ENOMEM;
	s->channels = env->in_channels;
	for (unsigned c = 0; c < s->channels; c++)
		for (unsigned i = 0; i < EQ_BANDS; i++)
			*band_of(s, c, i) = eq_identity;
	/* every channel's bands (the keys, or the file), each channel's own over them, and last
	 * the file's preamp in every channel's first section (it ramps like a band) */
	r = eq_read_bands(sec, env, file, s, reterr);
	if (r == 0 && file)
		r = eq_read_file(file, env, s, &preamp, reterr);
	if (r == 0)
		r = eq_read_channel_bands(sec, env, s, reterr);
	if (r == 0 && preamp != 1.0) {
		if (s->n_bands == 0)
			s->n_bands = 1; /* the preamp alone: a section that only scales */
		for (unsigned c = 0; c < s->channels; c++) {
			band_of(s, c, 0)->b0 *= preamp;
			band_of(s, c, 0)->b1 *= preamp;
			band_of(s, c, 0)->b2 *= preamp;
		}
	}
	if (r < 0) {
		free(s);
		return r;
	}
	s->tail = eq_set_tail(s, env->rate);
	*ret = s;
	return 0;
}

static void eq_destroy(void *inst)
{
	struct eq *q = inst;

	if (!q)
		return;
	for (unsigned c = 0; q->chain && c < q->channels; c++)
		dsp_biquad_chain_free(q->chain[c]);
	free(q->chain);
	free(q->cur);
	free(q);
}

/* Moves section i of channel c's chain to coefs over ramp frames. */
EL_RT static void rt_eq_set_band(struct eq *q, unsigned c, unsigned i,
				 const struct dsp_biquad_coefs *coefs, unsigned ramp)
{
	/* Cannot fail: the coefficients came out of dsp_biquad_coefs_compute() (stable). */
	(void)dsp_biquad_chain_set(q->chain[c], i, coefs, ramp);
}

static int eq_create(const struct conf_section *sec, const struct eng_node_env *env, void **ret,
		     struct el_error *reterr)
{
	struct eq_set *s = NULL;
	struct eq *q;
	int r;

	r = eq_read(sec, env, &s, reterr);
	if (r < 0)
		return r;
	q = calloc(1, sizeof(*q));
	if (!q) {
		free(s);
		return -ENOMEM;
	}
	q->channels = env->in_channels;
	q->rate = env->rate;
	q->fade_frames = env->fade_frames;
	q->mix = env->mix;
	q->cur = s;
	q->chain = calloc(q->channels, sizeof(*q->chain));
	r = q->chain ? 0 : -ENOMEM;
	for (unsigned c = 0; r == 0 && c < q->channels; c++)
		r = dsp_biquad_chain_new(EQ_BANDS, env->rate, &q->chain[c]);
	if (r < 0) {
		eq_destroy(q);
		return r;
	}
	for (unsigned c = 0; c < q->channels; c++)
		for (unsigned i = 0; i < EQ_BANDS; i++)
			rt_eq_set_band(q, c, i, band_of(s, c, i), 0);
	atomic_init(&q->applied, s);
	*ret = q;
	return 0;
}

static unsigned eq_get_out_channels(const void *inst)
{
	const struct eq *q = inst;

	return q->channels;
}

EL_RT static size_t rt_eq_get_tail(const void *inst);

/* After each cycle: once a silence has lasted the tail, the history is stale (top comment). */
EL_RT static void rt_eq_track_silence(struct eq *q, const struct eng_node_io *io)
{
	if (!node_quiet_count(&q->quiet, io))
		return;
	q->stale = q->quiet >= rt_eq_get_tail(q);
}

EL_RT static bool rt_eq_process(void *inst, const struct eng_node_io *io)
{
	struct eq *q = inst;
	bool flat = q->cur->n_bands == 0 && q->ramp_left == 0;

	/* After a silence we may have been skipped in: forget what preceded it. */
	for (unsigned c = 0; q->stale && c < q->channels; c++)
		dsp_biquad_chain_reset(q->chain[c]);
	q->stale = false;
	for (unsigned c = 0; c < q->channels; c++) {
		if (flat) {
			/* Bit-exact passthrough; the chain keeps its history for later bands. */
			dsp_biquad_chain_follow(q->chain[c], io->in[c], io->frames);
			q->mix->copy(io->out[c], io->in[c], io->frames);
		} else {
			dsp_biquad_chain_process(q->chain[c], io->in[c], io->out[c], io->frames);
		}
	}
	q->ramp_left -= EL_MIN(q->ramp_left, (size_t)io->frames);
	rt_eq_track_silence(q, io);
	return flat && io->in_silent;
}

EL_RT static size_t rt_eq_get_tail(const void *inst)
{
	const struct eq *q = inst;

	return q->ramp_left ? EL_MAX(q->cur->tail, q->prev_tail) + q->ramp_left : q->cur->tail;
}

static int eq_update_prepare(void *inst, const struct conf_section *sec,
			     const struct eng_node_env *env, void **ret_update,
			     struct el_error *reterr)
{
	struct eq_update *u;
	struct eq_set *s = NULL;
	struct eq *q = inst;
	const struct eq_set *now;
	int r;

	if (env->in_channels != q->channels || env->rate != q->rate)
		return -EOPNOTSUPP;
	r = eq_read(sec, env, &s, reterr);
	if (r < 0)
		return r;
	/* acquire: pairs with the release in rt_eq_update_apply(), so *now is complete */
	now = atomic_load_explicit(&q->applied, memory_order_acquire);
	if (memcmp(now->coefs, s->coefs, eq_set_size(s->channels) - sizeof(*s)) == 0) {
		free(s);
		*ret_update = NULL;
		return 0;
	}
	u = malloc(sizeof(*u));
	if (!u) {
		free(s);
		return -ENOMEM;
	}
	u->set = s;
	*ret_update = u;
	return 0;
}

EL_RT static void rt_eq_update_apply(void *inst, void *update)
{
	struct eq_update *u = update;
	struct eq *q = inst;
	struct eq_set *s = u->set, *old = q->cur;

	for (unsigned c = 0; c < q->channels; c++)
		for (unsigned i = 0; i < EQ_BANDS; i++)
			if (memcmp(band_of(s, c, i), band_of(old, c, i), sizeof(s->coefs[0])) != 0)
				rt_eq_set_band(q, c, i, band_of(s, c, i), q->fade_frames);
	q->prev_tail = EL_MAX(old->tail, q->ramp_left ? q->prev_tail : 0);
	q->ramp_left = q->fade_frames;
	q->cur = s;
	u->set = old; /* for update_free(), once the ramp away from it has run */
	/* release: pairs with the acquire in eq_update_prepare(), publishing the set */
	atomic_store_explicit(&q->applied, s, memory_order_release);
}

static void eq_update_free(void *update)
{
	struct eq_update *u = update;

	if (!u)
		return;
	free(u->set);
	free(u);
}

const struct node_type node_type_eq = {
	.name = "eq",
	.description = "parametric equalizer: up to 32 biquad bands",
	.role = NODE_ROLE_PROCESS,
	.keys = eq_keys,
	.create = eq_create,
	.destroy = eq_destroy,
	.get_out_channels = eq_get_out_channels,
	.process = rt_eq_process,
	.get_tail = rt_eq_get_tail,
	.update_prepare = eq_update_prepare,
	.update_apply = rt_eq_update_apply,
	.update_free = eq_update_free,
};
