#!/bin/sh
# usage: run-fuzz.sh FUZZER SEED_CORPUS SECONDS
# A short libFuzzer run from a copy of the seed corpus; fails on any crash, leak or UB report.
set -eu
work=$(mktemp -d /tmp/fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
cp -r "$2"/. "$work/corpus/"
cd "$work"
status=0
"$1" -max_total_time="$3" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 "$work/corpus" >"$work/log" 2>&1 || status=$?
tail -25 "$work/log"
exit $status
