// SPDX-License-Identifier: MIT
/*
 * bench/bench-fir.cc: our partitioned convolver against zita-convolver, in one run.
 *
 * Same IR (65536 taps of decaying noise by default), same input, same block. For each block it
 * runs: echoeld's uniform convolver; zita-convolver in uniform mode (every partition = block);
 * zita-convolver with its own non-uniform layout (block .. 8192), in sync mode so its worker
 * threads finish each period as an offline host would wait for them. It prints the CPU realtime
 * factor (audio seconds per CPU second of the whole process, so zita's threads count) as the
 * median of several runs, the ratio of ours to each zita layout, and p50/p99/max wall time per
 * block. Pin it to one CPU (taskset -c 0) for the figures in docs/performance.md.
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
#include "dsp/fir.h"
#include "dsp/mem.h"
}

namespace {

const double RATE = 48000.0;

struct options {
	std::vector<unsigned> blocks{64, 256};
	size_t taps = 65536;
	double seconds = 20.0; // audio seconds per run
	int runs = 5;
	bool quick = false;
};

struct result {
	std::string name;
	double rtf = 0;                   // median over runs
	double p50 = 0, p99 = 0, max = 0; // microseconds per block, over all runs
	double check_db = 0;              // output difference against echoeld's, dB
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

// Runs `fn` over `runs` stretches of input; fills rtf and per-block percentiles; keeps the first
// run's output in `out` for the cross-check.
result measure(const std::string &name, const options &o, unsigned block,
	       const std::vector<float> &input, const block_fn &fn, std::vector<float> &out)
{
	size_t nblocks = input.size() / block;
	std::vector<double> rtfs, times;
	std::vector<float> buf(block);
	result r;

	r.name = name;
	times.reserve(nblocks * (size_t)o.runs);
	// Warm-up: first-touch page faults, caches, zita's thread start-up.
	for (size_t b = 0; b < std::min<size_t>(nblocks, 2000); b++) {
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
	r.max = *std::max_element(times.begin(), times.end());
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
	std::printf("%5u  %-28s %9.1f %7.2fx %8.2f %8.2f %8.2f %9.1f\n", block, r.name.c_str(),
		    r.rtf, ours / r.rtf, r.p50, r.p99, r.max, r.check_db);
}

// Our convolver with the kernel the flags pick; appends its row, keeps its output in `out`.
int bench_ours(const options &o, unsigned block, uint32_t flags, const std::vector<float> &ir,
	       const std::vector<float> &input, struct dsp_fft_cache *fft, std::vector<float> &out,
	       std::vector<result> &rows)
{
	struct dsp_fir_config cfg = {block, ir.size(), flags, fft};
	struct dsp_fir_ir *fir_ir = nullptr;
	struct dsp_fir *fir = nullptr;
	std::string name = std::string("echoeld uniform (") + dsp_cpu_get_variant_name(flags) + ")";

	if (dsp_fir_ir_new(fft, block, ir.data(), ir.size(), &fir_ir) < 0 ||
	    dsp_fir_new(&cfg, &fir) < 0 || dsp_fir_set_ir(fir, fir_ir, 0) < 0) {
		std::fprintf(stderr, "bench-fir: cannot build echoeld's convolver\n");
		return 1;
	}
	rows.push_back(measure(
		name, o, block, input, [&](float *io) { dsp_fir_process(fir, io, io, block); },
		out));
	dsp_fir_free(fir);
	dsp_fir_ir_free(fir_ir);
	return 0;
}

int bench_block(const options &o, unsigned block, const std::vector<float> &ir,
		const std::vector<float> &input, struct dsp_fft_cache *fft)
{
	std::vector<float> ours_out(input.size()), other_out(input.size());
	uint32_t cpu = dsp_cpu_get_flags();
	std::vector<result> rows;

	// Best kernel first: its output is the one every other row is checked against.
	if (bench_ours(o, block, cpu, ir, input, fft, ours_out, rows))
		return 1;
	for (uint32_t flags : {(uint32_t)DSP_CPU_AVX2_FMA, 0u}) {
		if (flags == cpu || (flags & ~cpu))
			continue;
		if (bench_ours(o, block, flags, ir, input, fft, other_out, rows))
			return 1;
		rows.back().check_db = diff_db(ours_out, other_out, 0);
	}

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
			l.name, o, block, input,
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
		print_row(block, r, rows[0].rtf);
	return 0;
}

void usage(void)
{
	std::fprintf(
		stderr,
		"usage: bench-fir [--block N]... [--taps N] [--seconds S] [--runs R] [--quick]\n");
}

int parse(int argc, char **argv, options &o)
{
	bool blocks_given = false;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : nullptr;
		if (a == "--quick") {
			o.quick = true;
			o.seconds = 2;
			o.runs = 3;
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
			o.taps = std::strtoul(v, nullptr, 10);
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
	if (o.taps == 0 || o.seconds <= 0 || o.runs <= 0) {
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
	std::vector<float> ir(o.taps), input;
	uint64_t s = 12345;
	auto rnd = [&]() {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		return (double)(s >> 11) / 9007199254740992.0 * 2 - 1;
	};
	for (size_t i = 0; i < ir.size(); i++)
		ir[i] = (float)(rnd() * std::exp(-6.9 * (double)i / (double)ir.size()));
	if (dsp_fft_cache_new(DSP_FFT_MEASURE, &fft) < 0)
		return 1;
	std::printf("# bench-fir: %zu taps, %.0f Hz, %.1f audio s x %d runs, echoeld kernel %s\n",
		    o.taps, RATE, o.seconds, o.runs, dsp_cpu_get_variant_name(dsp_cpu_get_flags()));
	std::printf(
		"# RTF = audio seconds per CPU second (whole process); ratio = first row / row;\n"
		"# diff dB = output difference against the first row (a fast wrong answer shows "
		"here)\n");
	std::printf("%5s  %-28s %9s %8s %8s %8s %8s %9s\n", "block", "engine", "RTF", "ratio",
		    "p50 us", "p99 us", "max us", "diff dB");
	for (unsigned block : o.blocks) {
		input.assign((size_t)(o.seconds * RATE) / block * block, 0.0f);
		for (auto &x : input)
			x = (float)(0.5 * rnd());
		if (bench_block(o, block, ir, input, fft))
			r = 1;
	}
	dsp_fft_cache_free(fft);
	return r;
}
