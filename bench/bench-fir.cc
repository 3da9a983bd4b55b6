// SPDX-License-Identifier: MIT
/*
 * bench/bench-fir.cc: our partitioned convolver against zita-convolver, in one run.
 *
 * Same IR (decaying noise; 65,536 and 1,048,576 taps by default), same input, same block (32,
 * 64, 256 and 1024 by default). For each it runs: echoeld's uniform convolver (with each kernel
 * the CPU has, at 65,536 taps); echoeld's non-uniform convolver on growing layouts (steps 2, 4
 * and 8) up to several largest partitions; zita-convolver in uniform mode (every partition = block)
 * and with its own non-uniform layout (block .. 8192), in sync mode so its worker threads finish
 * each period as an offline host would wait for them (zita's smallest partition is 64: no zita rows
 * at block 32). It prints the CPU realtime factor (audio seconds per CPU second of the whole
 * process, so zita's threads count) as the median of several runs, the ratio of our best flat
 * row to each, wall time per block (p50, p99, p99.9, max), and the flatness of the schedule:
 * the median time of each phase of its period (P = largest partition / block calls), the
 * largest over their mean. On a shared VM the clock's percentiles mostly measure the
 * hypervisor; per-phase medians measure the schedule. Each block at 65,536 taps ends with one
 * `summary:` line. Pin it to one CPU (taskset -c 0) for the figures in docs/performance.md.
 *
 * This is a benchmark, not a test: it asserts nothing about speed (the machines are shared and
 * noisy); it only checks that both engines computed the same output, so a fast wrong answer
 * cannot pass for a result.
 */
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include <sched.h>
#include <zita-convolver.h>

extern "C" {
#include "dsp/cpu.h"
#include "dsp/fft.h"
#include "dsp/fir-inspect.h"
#include "dsp/fir-layout.h"
#include "dsp/fir.h"
#include "dsp/mem.h"
}

namespace {

const double RATE = 48000.0;

struct options {
	std::vector<unsigned> blocks{32, 64, 256, 1024};
	std::vector<size_t> taps{65536, 1048576};
	double seconds = 20.0;     // audio seconds per run
	int runs = 5;
	double long_seconds = 4.0; // the same for IRs longer than 65,536 taps (slow uniform rows)
	int long_runs = 3;
	bool quick = false;
};

struct result {
	std::string name;
	double rtf = 0;                                // median over runs
	double p50 = 0, p99 = 0, p999 = 0, max = 0;    // microseconds per block, over all runs
	double flatness = 1;                           // worst phase median / mean of the medians
	double check_db = 0;                           // output difference against the first row
};

double now(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double percentile(std::vector<double> v, double q)
{
	std::sort(v.begin(), v.end());
	return v[std::min(v.size() - 1, (size_t)(q * (double)(v.size() - 1) + 0.5))];
}

// The engine under test: process one block in place of `io`.
using block_fn = std::function<void(float *io)>;

// Flatness of a schedule that repeats every `period` calls: the median time of each phase
// (call number mod period, counted from the first measured call), the largest over their mean.
// The clock's percentiles cannot judge a schedule on a shared VM (the hypervisor's noise alone
// puts p99.9 at several times the mean); per-phase medians can.
double phase_flatness(const std::vector<double> &times, size_t period)
{
	std::vector<double> medians;
	double sum = 0, worst = 0;

	for (size_t ph = 0; ph < period; ph++) {
		std::vector<double> v;
		for (size_t i = ph; i < times.size(); i += period)
			v.push_back(times[i]);
		medians.push_back(percentile(v, 0.5));
		sum += medians.back();
		worst = std::max(worst, medians.back());
	}
	return worst / (sum / (double)period);
}

// Runs `fn` over `runs` stretches of input; fills rtf, per-block percentiles and the per-phase
// flatness for a schedule of `period` calls; keeps the first run's output in `out` for the
// cross-check.
result measure(const std::string &name, const options &o, unsigned block, size_t period,
	       const std::vector<float> &input, const block_fn &fn, std::vector<float> &out)
{
	size_t nblocks = input.size() / block;
	std::vector<double> rtfs, times;
	std::vector<float> buf(block);
	result r;

	r.name = name;
	times.reserve(nblocks * (size_t)o.runs);
	// Warm-up: first-touch page faults, caches, zita's thread start-up; a whole number of
	// periods, so the measured calls start at phase 0.
	for (size_t b = 0; b < std::min<size_t>(nblocks, 2048) / period * period; b++) {
		std::copy_n(&input[b * block], block, buf.data());
		fn(buf.data());
	}
	for (int run = 0; run < o.runs; run++) {
		double cpu0 = now(CLOCK_PROCESS_CPUTIME_ID);
		for (size_t b = 0; b < nblocks; b++) {
			std::copy_n(&input[b * block], block, buf.data());
			double t0 = now(CLOCK_MONOTONIC);
			fn(buf.data());
			times.push_back((now(CLOCK_MONOTONIC) - t0) * 1e6);
			if (run == 0)
				std::copy_n(buf.data(), block, &out[b * block]);
		}
		double cpu = now(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
		rtfs.push_back((double)(nblocks * block) / RATE / cpu);
	}
	r.rtf = percentile(rtfs, 0.5);
	r.p50 = percentile(times, 0.5);
	r.p99 = percentile(times, 0.99);
	r.p999 = percentile(times, 0.999);
	r.max = *std::max_element(times.begin(), times.end());
	// runs are whole periods only when nblocks is; then phases carry on across runs
	if (nblocks % period == 0)
		r.flatness = phase_flatness(times, period);
	else
		r.flatness = 0; // not measured (never for the lengths main() picks)
	return r;
}

double diff_db(const std::vector<float> &a, const std::vector<float> &b, size_t skip)
{
	double e = 0, s = 0;
	for (size_t i = skip; i < a.size(); i++) {
		double d = (double)a[i] - (double)b[i];
		e += d * d;
		s += (double)a[i] * (double)a[i];
	}
	return e == 0 ? -400 : 10 * std::log10(e / s);
}

// zita-convolver with partitions from minpart to maxpart; nullptr if it refuses the layout.
Convproc *zita_new(const std::vector<float> &ir, unsigned block, unsigned maxpart)
{
	Convproc *c = new Convproc;
	c->set_options(Convproc::OPT_FFTW_MEASURE | Convproc::OPT_VECTOR_MODE);
	if (c->configure(1, 1, (uint32_t)ir.size(), block, block, maxpart, 0.0f) != 0 ||
	    c->impdata_create(0, 0, 1, const_cast<float *>(ir.data()), 0, (int)ir.size()) != 0 ||
	    c->start_process(0, SCHED_OTHER) != 0) {
		delete c;
		return nullptr;
	}
	return c;
}

void zita_free(Convproc *c)
{
	c->stop_process();
	while (!c->check_stop())
		;
	c->cleanup();
	delete c;
}

void print_row(unsigned block, const result &r, double ours)
{
	std::printf("%5u  %-36s %9.1f %7.2fx %8.2f %8.2f %8.2f %8.2f %6.2f %9.1f\n", block,
		    r.name.c_str(), r.rtf, ours / r.rtf, r.p50, r.p99, r.p999, r.max, r.flatness,
		    r.check_db);
}

// Our convolver with the kernel the flags pick and the given layout (nullptr: uniform);
// appends its row, keeps its output in `out`.
int bench_ours(const options &o, unsigned block, uint32_t flags, const struct dsp_fir_layout *l,
	       const std::vector<float> &ir, const std::vector<float> &input,
	       struct dsp_fft_cache *fft, std::vector<float> &out, std::vector<result> &rows)
{
	struct dsp_fir_layout uniform;
	struct dsp_fir_ir *fir_ir = nullptr;
	struct dsp_fir *fir = nullptr;
	char desc[160];
	std::string name;

	if (!l) {
		dsp_fir_layout_uniform(block, ir.size(), &uniform);
		l = &uniform;
	}
	struct dsp_fir_config cfg = {block, dsp_fir_layout_get_taps(l), flags, fft, l, nullptr, 1, 1, nullptr};
	dsp_fir_layout_format(l, desc, sizeof(desc));
	name = l->count == 1 ? std::string("echoeld uniform (") + dsp_cpu_get_variant_name(flags) + ")"
			     : std::string("echoeld ") + desc;
	if (dsp_fir_ir_new_layout(fft, l, ir.data(), ir.size(), nullptr, &fir_ir) < 0 ||
	    dsp_fir_new(&cfg, &fir) < 0 || dsp_fir_set_ir(fir, fir_ir, 0) < 0) {
		std::fprintf(stderr, "bench-fir: cannot build echoeld's convolver (%s)\n", desc);
		return 1;
	}
	// every partition in use from the first call, as after taps / block calls of audio (a
	// 2^20-tap IR at block 64 would need 16384 calls of warm-up); zita runs its zeros
	dsp_fir_prime(fir);
	rows.push_back(measure(
		name, o, block, dsp_fir_layout_get_period(l), input,
		[&](float *io) { dsp_fir_process(fir, io, io, block); }, out));
	dsp_fir_free(fir);
	dsp_fir_ir_free(fir_ir);
	return 0;
}

int bench_block(const options &o, unsigned block, const std::vector<float> &ir,
		const std::vector<float> &input, struct dsp_fft_cache *fft)
{
	bool main_size = ir.size() == 65536;
	std::vector<float> ours_out(input.size()), other_out(input.size());
	uint32_t cpu = dsp_cpu_get_flags();
	std::vector<result> rows;
	size_t best = 0; // our fastest row whose schedule is flat, for the summary

	// Best kernel first: its output is the one every other row is checked against.
	if (bench_ours(o, block, cpu, nullptr, ir, input, fft, ours_out, rows))
		return 1;
	for (uint32_t flags : {(uint32_t)DSP_CPU_AVX2_FMA, 0u}) {
		if (flags == cpu || (flags & ~cpu) || o.quick || !main_size)
			continue;
		if (bench_ours(o, block, flags, nullptr, ir, input, fft, other_out, rows))
			return 1;
		rows.back().check_db = diff_db(ours_out, other_out, 0);
	}
	// Non-uniform layouts: growing by 2, 4 and 8 (the steps the daemon's search tries) up to
	// several largest partitions.
	for (unsigned step : {2u, 4u, 8u}) {
		for (unsigned top = (step == 2 ? 4 : step) * block;
		     top <= std::max(16384u, 4 * block); top *= step) {
			struct dsp_fir_layout l;
			if (dsp_fir_layout_growing(block, ir.size(), step, top, nullptr, &l) < 0 ||
			    l.count == 1 || l.seg[l.count - 1].size != top)
				continue;
			if (bench_ours(o, block, cpu, &l, ir, input, fft, other_out, rows))
				return 1;
			rows.back().check_db = diff_db(ours_out, other_out, 0);
			if (rows.back().flatness <= 1.5 && rows.back().rtf > rows[best].rtf)
				best = rows.size() - 1;
		}
	}
	size_t zita_nu = rows.size() + 1;

	struct layout {
		const char *name;
		unsigned maxpart;
	} layouts[] = {{"zita uniform", block}, {"zita non-uniform ..8192", 8192}};
	for (const auto &l : layouts) {
		Convproc *z = zita_new(ir, block, l.maxpart);
		if (!z) {
			std::printf("%5u  %-28s (zita refused this layout)\n", block, l.name);
			continue;
		}
		// Same input and the same warm-up as ours, so the outputs must agree sample for
		// sample.
		result r = measure(
			l.name, o, block, l.maxpart / block, input,
			[&](float *io) {
				std::copy_n(io, block, z->inpdata(0));
				z->process(true);
				std::copy_n(z->outdata(0), block, io);
			},
			other_out);
		r.check_db = diff_db(ours_out, other_out, 0);
		rows.push_back(r);
		zita_free(z);
	}
	for (const auto &r : rows)
		print_row(block, r, rows[best].rtf);
	if (zita_nu < rows.size() && main_size)
		std::printf("summary: block %u: echoeld RTF %.1f, zita-nonuniform RTF %.1f, ratio %.2f, "
			    "echoeld worst-phase/mean %.2f, zita p99 %.1f us, echoeld p99 %.1f us "
			    "(%s)\n",
			    block, rows[best].rtf, rows[zita_nu].rtf, rows[best].rtf / rows[zita_nu].rtf,
			    rows[best].flatness, rows[zita_nu].p99, rows[best].p99,
			    rows[best].name.c_str());
	std::fflush(stdout);
	return 0;
}

void usage(void)
{
	std::fprintf(
		stderr,
		"usage: bench-fir [--block N]... [--taps N]... [--seconds S] [--runs R] [--quick]\n");
}

int parse(int argc, char **argv, options &o)
{
	bool blocks_given = false, taps_given = false;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : nullptr;
		if (a == "--quick") {
			o.quick = true;
			o.seconds = o.long_seconds = 2;
			o.runs = o.long_runs = 3;
			continue;
		}
		if (!v) {
			usage();
			return 2;
		}
		if (a == "--block") {
			if (!blocks_given)
				o.blocks.clear();
			blocks_given = true;
			o.blocks.push_back((unsigned)std::strtoul(v, nullptr, 10));
		} else if (a == "--taps") {
			if (!taps_given)
				o.taps.clear();
			taps_given = true;
			o.taps.push_back(std::strtoul(v, nullptr, 10));
		} else if (a == "--seconds") {
			o.seconds = std::strtod(v, nullptr);
		} else if (a == "--runs") {
			o.runs = std::atoi(v);
		} else {
			usage();
			return 2;
		}
		i++;
	}
	if (std::count(o.taps.begin(), o.taps.end(), 0u) || o.seconds <= 0 || o.runs <= 0) {
		usage();
		return 2;
	}
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	options o;
	struct dsp_fft_cache *fft = nullptr;
	int r = parse(argc, argv, o);

	if (r)
		return r;
	std::vector<float> ir, input;
	uint64_t s = 12345;
	auto rnd = [&]() {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		return (double)(s >> 11) / 9007199254740992.0 * 2 - 1;
	};
	if (dsp_fft_cache_new(DSP_FFT_MEASURE, &fft) < 0)
		return 1;
	for (size_t taps : o.taps) {
		options run = o;
		if (taps > 65536) {
			run.seconds = o.long_seconds;
			run.runs = o.long_runs;
		}
		ir.assign(taps, 0.0f);
		for (size_t i = 0; i < ir.size(); i++)
			ir[i] = (float)(rnd() * std::exp(-6.9 * (double)i / (double)ir.size()));
		std::printf("# bench-fir: %zu taps, %.0f Hz, %.1f audio s x %d runs, echoeld kernel "
			    "%s\n",
			    taps, RATE, run.seconds, run.runs,
			    dsp_cpu_get_variant_name(dsp_cpu_get_flags()));
		std::printf("# RTF = audio seconds per CPU second (whole process); ratio = our best "
			    "flat row / row;\n"
			    "# diff dB = output difference against the first row (a fast wrong answer "
			    "shows here)\n");
		std::printf("# flat = worst per-phase median / mean of the phase medians (1.00: "
			    "flat)\n");
		std::printf("%5s  %-36s %9s %8s %8s %8s %8s %8s %6s %9s\n", "block", "engine",
			    "RTF", "ratio", "p50 us", "p99 us", "p99.9 us", "max us", "flat",
			    "diff dB");
		for (unsigned block : o.blocks) {
			// whole periods of every schedule measured (the longest: 16384 / block calls)
			input.assign(std::max<size_t>(1, (size_t)(run.seconds * RATE) / 16384) * 16384,
				     0.0f);
			for (auto &x : input)
				x = (float)(0.5 * rnd());
			if (bench_block(run, block, ir, input, fft))
				r = 1;
		}
	}
	dsp_fft_cache_free(fft);
	return r;
}
