#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/bench-alsa.sh: CPU per cycle of the ALSA backend against --backend jack, the same graph
# in the same run, at 48 kHz with a PERIOD-frame block (default 256).
#
# The graph: a 997 Hz -12 dB stereo tone -> eq (peaking 1 kHz -3 dB) -> fir (identity) -> gain
# -> meter -> out: every node runs every cycle.
#   alsa  echoeld --backend alsa on ALSA's `null` PCM (S32_LE, 2 periods): a device that takes
#         every period at once, so the thread runs cycle after cycle; the cost of a cycle is the
#         engine's plus the backend's (waiting on the device, converting into its mmap area).
#   jack  a private `jackd -d dummy -p PERIOD`, echoeld --backend jack on it; echoeld's CPU only
#         (its process and notification threads, not jackd's).
# CPU: on-CPU nanoseconds of every thread of echoeld (/proc/PID/task/*/schedstat) over SECONDS,
# divided by the cycles echoeld counted (echoelctl status) in the same window; the median of
# RUNS (default 3) windows, ALSA and JACK interleaved.
#
# usage: bench/bench-alsa.sh ECHOELD [SECONDS]     (default 5 s; exit 77: a tool is missing)
# env:   ECHOELCTL (default: ECHOELD's build dir ../ipc/echoelctl), RUNS, PERIOD
set -eu

[ $# -ge 1 ] || { echo "usage: $0 ECHOELD [SECONDS]"; exit 2; }
ECHOELD=$1
SECS=${2:-5}
RUNS=${RUNS:-3}
export PERIOD=${PERIOD:-256}
ECHOELCTL=${ECHOELCTL:-$(dirname "$ECHOELD")/../ipc/echoelctl}
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../tests/lib.sh"
require_tools jackd jack_wait python3
dir=$(mktemp -d /tmp/bench-alsa-XXXXXX)
server=bench-alsa-$$
export JACK_DEFAULT_SERVER="$server" JACK_NO_START_SERVER=1 XDG_STATE_HOME="$dir/state"
jpid='' e_pid=''
cleanup() {
	stop "$e_pid"
	stop "$jpid"
	jack_shm_cleanup "$server"
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "bench-alsa: $*" >&2
	exit 1
}

printf '%s\n' "[engine]" "block = $PERIOD" "[alsa]" "playback = null" "format = S32_LE" \
	"[node.tone]" "type = tone" "freq = 997" "level_db = -12" "channels = 2" \
	"[node.eq]" "type = eq" "input = tone" "band1 = peaking 1000 1 -3" \
	"[node.fir]" "type = fir" "input = eq" \
	"[node.gain]" "type = gain" "input = fir" "gain_db = -1" \
	"[node.meter]" "type = meter" "input = gain" \
	"[node.out]" "type = output" "input = meter" >"$dir/graph.conf"

cycles() {
	"$ECHOELCTL" --socket "$dir/control" --json status |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["cycles"])'
}

# window BACKEND: echoeld on BACKEND for SECS; prints its CPU ns per cycle.
window() {
	"$ECHOELD" --config "$dir/graph.conf" --backend "$1" --socket "$dir/control" \
		2>"$dir/$1.log" &
	e_pid=$!
	wait_for_echoeld "$dir/control" 10 "$e_pid"
	sleep 1 # past the start: the first graph's preparation is not a cycle's cost
	c0=$(cycles)
	n0=$(cpu_ns "$e_pid")
	sleep "$SECS"
	c1=$(cycles)
	n1=$(cpu_ns "$e_pid")
	stop "$e_pid"
	e_pid=''
	python3 -c "print(($n1 - $n0) / max(1, $c1 - $c0))"
}

start_jackd "$server" "$dir/jackd.log"
echo "# bench-alsa: block $PERIOD at 48 kHz, $SECS s windows, $RUNS runs, echoeld's CPU per cycle"
printf '%-4s %10s %10s\n' run alsa_ns jack_ns
: >"$dir/alsa"
: >"$dir/jack"
for i in $(seq "$RUNS"); do
	a=$(window alsa)
	j=$(window jack)
	echo "$a" >>"$dir/alsa"
	echo "$j" >>"$dir/jack"
	printf '%-4s %10.0f %10.0f\n' "$i" "$a" "$j"
done
python3 - "$dir/alsa" "$dir/jack" <<'PY'
import statistics, sys
a = statistics.median(float(l) for l in open(sys.argv[1]))
j = statistics.median(float(l) for l in open(sys.argv[2]))
print("summary: cpu per cycle alsa %.0f ns jack %.0f ns, alsa/jack %.2f" % (a, j, a / j))
PY
