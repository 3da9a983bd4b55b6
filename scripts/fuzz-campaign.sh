#!/bin/sh
# SPDX-License-Identifier: MIT
# A long fuzzing run of each target, its new inputs merged (minimized) into the kept corpus in
# tests/fuzz/corpus, so the suite's short runs start from everything found so far.
#
# usage: scripts/fuzz-campaign.sh BUILD_FUZZ RUNS [TARGET...]
#   BUILD_FUZZ  a fuzz build (scripts/test.sh's build-fuzz, or docs/architecture.md's
#               "Fuzzing longer"), its targets built
#   RUNS        executions per target (libFuzzer's -runs)
#   TARGET      config graph dispatch layouts routes audio eqfile proccost sysfs protocol
#               (default: all)
# Prints one line per target: executions, seconds, executions per second, coverage (libFuzzer's
# cov: edges), corpus files before and after the merge, and crashes (0, or the run fails and its
# crash-* input is left in the working directory). Nothing outside tests/fuzz/corpus is changed.
# A unit counts as hung after 120 s, not libFuzzer's 10 s default for -timeout: a campaign runs
# for an hour beside other work, and a starved fuzzer's wall clock once called a 0.1 s input
# a 10 s timeout.
set -eu

build=$1
runs=$2
shift 2
[ $# -gt 0 ] || set -- config graph dispatch layouts routes audio eqfile proccost sysfs protocol
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/fuzz-campaign-XXXXXX)
trap 'rm -rf "$work"' EXIT

for t in "$@"; do
	case $t in
	sysfs) bin=$build/tests/fuzz/fuzz-sysfs ;;
	protocol) bin=$build/ipc/fuzz-protocol ;;
	*) bin=$build/tests/fuzz/fuzz-$t ;;
	esac
	kept=$root/tests/fuzz/corpus/$t
	[ -x "$bin" ] || { echo "$t: no $bin (build it first)" >&2; exit 1; }
	rm -rf "$work/run"
	mkdir -p "$work/run"
	cp -r "$kept"/. "$work/run/"
	before=$(find "$kept" -type f | wc -l)
	start=$(date +%s)
	status=0
	(cd "$work" && "$bin" -runs="$runs" -max_len=16384 -timeout=120 -rss_limit_mb=2048 \
		-print_final_stats=1 "$work/run" >"$work/log" 2>&1) || status=$?
	secs=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
	cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | cut -d' ' -f2)
	if [ "$status" -ne 0 ]; then
		tail -30 "$work/log"
		cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* . 2>/dev/null || true
		echo "$t: FAILED after ${secs}s (its input is in $(pwd))"
		exit 1
	fi
	# the kept corpus gains the run's inputs that add coverage to it (libFuzzer's merge)
	(cd "$work" && "$bin" -merge=1 -max_len=16384 "$kept" "$work/run" >"$work/merge.log" 2>&1)
	after=$(find "$kept" -type f | wc -l)
	echo "$t: ${execs:-?} executions in ${secs} s ($(( ${execs:-0} / (secs > 0 ? secs : 1) ))/s), cov ${cov:-?}, corpus $before -> $after files, 0 crashes"
done
