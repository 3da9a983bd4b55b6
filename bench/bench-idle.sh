#!/bin/sh
# bench/bench-idle.sh: what an idle echoeld costs, beside an idle jackd on its dummy driver,
# measured in the same run: both run for SECONDS (default 30) at block/period 256, 48 kHz,
# echoeld on its own clock with its built-in default graph and silent input, jackd with no
# clients. CPU time comes from /proc/PID/task/*/schedstat (nanoseconds on CPU, every thread),
# wake-ups from the threads' voluntary context switches (/proc/PID/task/*/status).
#
# usage: bench/bench-idle.sh ECHOELD [SECONDS]
set -eu

ECHOELD=$1
SECONDS_RUN=${2:-30}
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../tests/lib.sh"
dir=$(mktemp -d /tmp/bench-idle-XXXXXX)
server=bench-idle-$$
epid='' jpid=''
cleanup() {
	stop "$epid"
	stop "$jpid"
	rm -rf "$dir"
	jack_shm_cleanup "$server"
}
trap cleanup EXIT

printf '[engine]\nblock = 256\n' >"$dir/idle.conf"
cat >>"$dir/idle.conf" <<'EOF2'
[node.in]
type = input
channels = 2
[node.eq]
type = eq
input = in
[node.fir]
type = fir
input = eq
[node.volume]
type = gain
input = fir
[node.meter]
type = meter
input = volume
[node.out]
type = output
input = meter
EOF2

"$ECHOELD" --config "$dir/idle.conf" --socket "$dir/control" --backend dummy 2>"$dir/echoeld.log" &
epid=$!
JACK_NO_START_SERVER=1 setsid jackd -n "$server" -d dummy -r 48000 -p 256 </dev/null >"$dir/jackd.log" 2>&1 &
jpid=$!
sleep 2 # let both settle
e0=$(cpu_ns "$epid") j0=$(cpu_ns "$jpid") ew0=$(wakeups "$epid") jw0=$(wakeups "$jpid")
sleep "$SECONDS_RUN"
e1=$(cpu_ns "$epid") j1=$(cpu_ns "$jpid") ew1=$(wakeups "$epid") jw1=$(wakeups "$jpid")
awk -v e="$((e1 - e0))" -v j="$((j1 - j0))" -v ew="$((ew1 - ew0))" -v jw="$((jw1 - jw0))" \
	-v s="$SECONDS_RUN" 'BEGIN {
	printf "# idle cost over %d s, block 256 @ 48 kHz (percent of one core; wake-ups per s)\n", s
	printf "echoeld (own clock, default graph, silent input): %.3f %%  %.2f/s\n", e / (s * 1e7), ew / s
	printf "jackd -d dummy -p 256 (no clients):               %.3f %%  %.2f/s\n", j / (s * 1e7), jw / s
	printf "ratio echoeld / jackd:                            %.2f  %.4f\n", (j > 0 ? e / j : 0), (jw > 0 ? ew / jw : 0)
}'
