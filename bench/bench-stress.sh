#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/bench-stress.sh: late cycles of echoeld's own clock beside `stress-ng --cpu 2 --vm 1`,
# against jackd running echoeld as its client with the same graph under the same load, in the
# same run, at 48 kHz and a 64-frame block (1.33 ms), both SCHED_FIFO.
#
# The graph: a 997 Hz -12 dB stereo tone -> fir (a stereo 65,536-tap decaying-noise IR, the
# measured non-uniform layout) -> eq (two bands) -> limiter -> meter -> out.
#   own   echoeld --backend dummy ([engine] block = 64): its clock thread at SCHED_FIFO 70;
#         a late cycle is a period that started more than a period late (status late_cycles,
#         the log's worst lateness).
#   jack  a private `jackd -d dummy -p 64` (real-time, its default priority) and echoeld
#         --backend jack on it: the xruns jackd reports (its log) and echoeld heard (status).
# Each runs MINUTES (default 10) with stress-ng --cpu 2 --vm 1 started beside it after a 5 s
# warm-up, one after the other.
#
# usage: bench/bench-stress.sh [--minutes N] ECHOELD     (exit 77: a tool is missing)
# env:   ECHOELCTL (default: ECHOELD's build dir ../ipc/echoelctl)
# Ends with one line for scripts:
#   summary: minutes 10, block 64, own clock late 0 of 450000 cycles (worst 0.00 ms), jackd xruns 3 (echoeld heard 3) of 450000 cycles
set -eu

minutes=10
if [ "${1:-}" = --minutes ]; then
	minutes=$2
	shift 2
fi
[ $# -eq 1 ] || { echo "usage: $0 [--minutes N] ECHOELD" >&2; exit 2; }
ECHOELD=$1
ECHOELCTL=${ECHOELCTL:-$(dirname "$ECHOELD")/../ipc/echoelctl}
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../tests/lib.sh"
require_tools jackd jack_wait stress-ng python3
dir=$(mktemp -d /tmp/bench-stress-XXXXXX)
server=bench-stress-$$
export JACK_DEFAULT_SERVER="$server" JACK_NO_START_SERVER=1 XDG_STATE_HOME="$dir/state"
jpid='' epid='' spid=''
cleanup() {
	kill_reap "$spid"
	stop "$epid"
	stop "$jpid"
	jack_shm_cleanup "$server"
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
	echo "FAIL: $*"
	show_log "$dir/echoeld.log"
	exit 1
}
secs=$(python3 -c "print(int(float('$minutes') * 60))")

python3 - "$dir/ir.wav" <<'PY'
import math, random, struct, sys
rng = random.Random(1)
frames = [(rng.gauss(0, 1) * math.exp(-i / 6000) * 0.02, rng.gauss(0, 1) * math.exp(-i / 6000) * 0.02)
          for i in range(65536)]
data = b"".join(struct.pack("<2f", *f) for f in frames)
with open(sys.argv[1], "wb") as f:
    f.write(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE")
    f.write(b"fmt " + struct.pack("<IHHIIHH", 16, 3, 2, 48000, 48000 * 8, 8, 32))
    f.write(b"data" + struct.pack("<I", len(data)) + data)
PY
cat >"$dir/echoeld.conf" <<EOF
[engine]
block = 64
[jack]
client_name = echoeld
[node.tone]
type = tone
freq = 997
level_db = -12
channels = 2
[node.fir]
type = fir
input = tone
ir = $dir/ir.wav
[node.eq]
type = eq
input = fir
band1 = peaking 1000 1.0 3
band2 = highshelf 8000 0.7 -2
[node.lim]
type = limiter
input = eq
[node.meter]
type = meter
input = lim
[node.out]
type = output
input = meter
EOF

field() { "$ECHOELCTL" --socket "$dir/control" --json status |
	python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# run BACKEND: echoeld on BACKEND, warmed up, then MINUTES beside stress-ng; sets d_cycles,
# d_late, d_xruns (what echoeld counted in the window) and worst (the log's worst lateness, ms).
run() {
	"$ECHOELD" --config "$dir/echoeld.conf" --socket "$dir/control" --backend "$1" \
		2>"$dir/echoeld.log" &
	epid=$!
	wait_for_echoeld "$dir/control" 30 "$epid"
	sleep 5
	c0=$(field cycles) l0=$(field late_cycles) x0=$(field xruns)
	stress-ng --cpu 2 --vm 1 --timeout "${secs}s" >/dev/null 2>&1 &
	spid=$!
	wait "$spid" || true
	spid=
	d_cycles=$(($(field cycles) - c0))
	d_late=$(($(field late_cycles) - l0))
	d_xruns=$(($(field xruns) - x0))
	worst=$(sed -n 's/.*late cycles (worst \([0-9.]*\) ms late).*/\1/p' "$dir/echoeld.log" |
		sort -g | tail -n 1)
	term_wait "$epid"
	epid=
	[ "$status" -eq 0 ] || fail "echoeld ($1) exited with $status"
}

echo "# own clock, block 64, ${minutes} min beside stress-ng --cpu 2 --vm 1"
run dummy
own_cycles=$d_cycles own_late=$d_late own_worst=${worst:-0.00}
echo "# own clock: $own_late late cycles of $own_cycles (worst ${own_worst} ms late)"

echo "# jackd -d dummy -p 64 with echoeld as its client, ${minutes} min beside the same load"
PERIOD=64 start_jackd "$server" "$dir/jackd.log"
jx0=$(grep -c 'XRun' "$dir/jackd.log" || true)
run jack
jack_cycles=$d_cycles jack_heard=$d_xruns
jack_xruns=$(($(grep -c 'XRun' "$dir/jackd.log" || true) - jx0))
stop "$jpid"
jpid=
echo "# jackd: $jack_xruns xruns in its log, echoeld heard $jack_heard, of $jack_cycles cycles"
echo "summary: minutes $minutes, block 64, own clock late $own_late of $own_cycles cycles" \
	"(worst $own_worst ms), jackd xruns $jack_xruns (echoeld heard $jack_heard) of" \
	"$jack_cycles cycles"
