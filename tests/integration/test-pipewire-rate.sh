#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: echoeld follows a PipeWire graph that switches sample rate, without a restart, and
# a fir takes its filter for the new rate; its ports carry the graph's latency. Against a
# private, headless PipeWire (lib.sh): a tone through a fir holding `ir_44100` and `ir_48000`
# and a limiter (5 ms look-ahead) runs at 48000 Hz with ir_48000, and its output port's Latency
# (output direction) and input port's (input direction) say the limiter's 240 frames; forcing
# the graph to 44.1 kHz (`pw-metadata -n settings 0 clock.force-rate 44100`) makes echoeld
# rebuild at 44100 Hz (status), with ir_44100 (node get), cycles running; forcing 48 kHz again
# brings it back, ir_48000 with it; PipeWire restarted at 44.1 kHz (default.clock.rate) is
# reconnected to and followed the same way, the filter resampled for 44.1 kHz the first time
# now read from the sample cache (ir_cached); at each rate the ports' latency is the graph's
# (`status` latency frames); the daemon never exits.
#
# usage: test-pipewire-rate.sh ECHOELD ECHOELCTL   (exit 77: no PipeWire, WirePlumber or D-Bus)
set -eu

ECHOELD=$1
ECHOELCTL=$2
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools pipewire wireplumber dbus-daemon pw-metadata timeout python3

dir=$(mktemp -d /tmp/test-pipewire-rate-XXXXXX) # /tmp: socket paths must fit sockaddr_un
pw_private_env "$dir"
bus_pid='' pw_pid='' wp_pid='' epid=''
cleanup() {
	stop "$epid"
	pw_session_stop
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*"
	for f in echoeld.log pipewire.log; do
		[ -s "$dir/$f" ] && { echo "--- $f:"; tail -n 40 "$dir/$f"; }
	done
	exit 1
}

status_is() { ctl_status_is "$dir/control" "$@"; }
fir_is() { ctl_detail_is "$dir/control" room "$@"; }
cycles() {
	"$ECHOELCTL" --socket "$dir/control" --json status |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["cycles"])'
}
# latency_is FRAMES: both ports say FRAMES
latency_is() {
	[ "$(pw_port_latency echoeld-rate:out_1 Output)" = "$1" ] &&
		[ "$(pw_port_latency echoeld-rate:in_1 Input)" = "$1" ]
}
# at RATE KEY CACHED: the graph at RATE with the fir on KEY (its resampled filter read from the
# sample cache: CACHED 1.0, or 0.0), cycles running there, the ports' latency the graph's
at() {
	wait_for 20 "the graph at $1 Hz" status_is rate "$1"
	wait_for 5 "the fir on $2 at $1 Hz" fir_is ir_key "$2"
	fir_is ir_cached "$3" || fail "at $1 Hz the fir's filter is not ir_cached $3"
	c0=$(cycles)
	wait_for 10 "cycles at $1 Hz" sh -c "[ \$(\"$ECHOELCTL\" --socket '$dir/control' --json status | python3 -c 'import json, sys; print(json.load(sys.stdin)[\"cycles\"])') -gt $((c0 + 20)) ]"
	frames=$("$ECHOELCTL" --socket "$dir/control" --json status |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["latency"]["frames"])')
	[ "$frames" -gt 200 ] || fail "the graph's latency at $1 Hz is $frames frames"
	wait_for 5 "ports saying $frames frames at $1 Hz" latency_is "$frames"
}

float_wav "$dir/room-44k.wav" 0.01 '(0.5 * 0.99 ** i, 0.5 * 0.98 ** i)'
float_wav "$dir/room-48k.wav" 0.02 '(0.5 * 0.99 ** i, 0.5 * 0.98 ** i)'
cat >"$dir/echoeld.conf" <<EOF
[pipewire]
node_name = echoeld-rate
[node.in]
type = input
channels = 2
[node.tone]
type = tone
channels = 2
[node.room]
type = fir
input = tone
ir_44100 = room-44k.wav
ir_48000 = room-48k.wav
[node.lim]
type = limiter
input = room
lookahead_ms = 5
[node.out]
type = output
input = lim
EOF

pw_session_start "$dir"
"$ECHOELD" --backend pipewire --socket "$dir/control" --config "$dir/echoeld.conf" \
	2>"$dir/echoeld.log" &
epid=$!
wait_for 10 "echoeld's socket" test -S "$dir/control"
at 48000 ir_48000 0.0 # the file's own rate: nothing resampled
pw-metadata -n settings 0 clock.force-rate 44100 >/dev/null
at 44100 ir_44100 0.0 # room-44k.wav is a 48 kHz file: resampled, into the cache
pw-metadata -n settings 0 clock.force-rate 48000 >/dev/null
at 48000 ir_48000 0.0
# PipeWire restarted at 44.1 kHz: echoeld reconnects and rebuilds for it
pw_stop
sed -i 's/^\( *default\.clock\.rate *= *\).*/\144100/' "$dir/pipewire.conf"
pw_start "$dir"
at 44100 ir_44100 1.0 # resampled before: read from the cache
alive "$epid" || fail "echoeld exited"
grep -q "pipewire: the graph now runs at 44100 Hz: rebuilding the engine for it" "$dir/echoeld.log" ||
	fail "no word of the switch in the log"
stop "$epid"
epid=
if grep -Eq "RealtimeSanitizer|real-time unsafe|AddressSanitizer|runtime error" "$dir/echoeld.log"; then
	fail "a sanitizer reported"
fi
echo "ok: the graph forced to 44.1 kHz and back, then PipeWire restarted at 44.1 kHz: echoeld" \
	"followed each time, its fir on ir_44100 or ir_48000, its ports saying the limiter's latency"
