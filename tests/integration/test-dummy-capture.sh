#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: the own clock's capture reads a configured source. With `[dummy] capture_file`, a
# 1 kHz sine at -6 dBFS in a 44.1 kHz file (resampled to the engine's 48 kHz) reaches the graph's
# input at its own level (the meter after the input reads -6 dB), looped for as long as the
# daemon runs; with `capture_loop = no` it plays once and the input falls silent; a file that
# cannot be read stops the daemon at start with a message naming the file and the key's line.
#
# usage: test-dummy-capture.sh ECHOELD ECHOELCTL
set -eu

ECHOELD=$1
ECHOELCTL=$2
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
dir=$(mktemp -d /tmp/test-dummy-capture-XXXXXX)
pid=''
cleanup() {
	kill_reap "$pid"
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- echoeld log:"; cat "$dir/log" 2>/dev/null; exit 1; }
ctl() { "$ECHOELCTL" --socket "$dir/control" "$@"; }

# 0.5 s of a 1 kHz sine, peak 0.5 (-6.02 dBFS), 16-bit stereo at 44.1 kHz.
python3 - "$dir/sine.wav" <<'PY'
import math, struct, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(2)
    w.setsampwidth(2)
    w.setframerate(44100)
    frames = []
    for i in range(22050):
        v = int(round(16384 * math.sin(2 * math.pi * 1000 * i / 44100)))
        frames.append(struct.pack("<hh", v, v))
    w.writeframes(b"".join(frames))
PY

# start_echoeld CONF: runs echoeld on the own clock with CONF, waits for its socket.
start_echoeld() {
	"$ECHOELD" --config "$1" --socket "$dir/control" --backend dummy 2>"$dir/log" &
	pid=$!
	wait_for_socket "$dir/control" 5 || fail "no socket"
}
# stop_echoeld: SIGTERM; echoeld must exit 0.
stop_echoeld() {
	term_wait "$pid"
	pid=''
	[ "$status" -eq 0 ] || fail "echoeld exited with $status"
}
graph="[engine]
rate = 48000
$(conf_in_meter)
[node.out]
type = output
input = meter"

printf '[dummy]\ncapture_file = sine.wav\n%s\n' "$graph" >"$dir/loop.conf"
start_echoeld "$dir/loop.conf"
sleep 1.2 # past the end of the file: it loops
for ch in 1 2; do
	level=$(ctl get meter.peak_db "$ch")
	# resampling (soxr, linear phase) may overshoot a sample peak by a few hundredths of a dB
	awk -v v="$level" 'BEGIN { exit !(v > -6.2 && v < -5.85) }' ||
		fail "channel $ch reads '$level' dB after 1.2 s of a looped -6 dB sine"
done
stop_echoeld

printf '[dummy]\ncapture_file = %s/sine.wav\ncapture_loop = no\n%s\n' "$dir" "$graph" >"$dir/once.conf"
start_echoeld "$dir/once.conf"
sleep 1.5 # the meter's peak falls once the file has played
level=$(ctl get meter.peak_db 1)
case "$level" in -inf) ;; *) fail "after the file played once the input reads '$level' dB" ;; esac
stop_echoeld

printf '[dummy]\ncapture_file = missing.wav\n%s\n' "$graph" >"$dir/bad.conf"
status=0
"$ECHOELD" --config "$dir/bad.conf" --socket "$dir/control" --backend dummy 2>"$dir/log" || status=$?
[ "$status" -eq 1 ] || fail "a missing capture file: exit $status, expected 1"
grep -q "missing.wav" "$dir/log" || fail "the error does not name the file"

printf '[dummy]\ncapture_fiel = sine.wav\n%s\n' "$graph" >"$dir/typo.conf"
status=0
"$ECHOELD" --config "$dir/typo.conf" --socket "$dir/control" --backend dummy 2>"$dir/log" || status=$?
grep -q "typo.conf:2: key 'capture_fiel': unknown key in \[dummy\]" "$dir/log" ||
	fail "a misspelt key is not reported with file and line"
if grep -Eq "Sanitizer|real-time unsafe|runtime error" "$dir/log"; then fail "a sanitizer reported"; fi
echo "ok: a looped file at its own level on both channels, played once then silence, bad files named"
