#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: PipeWire sees the latency through a chain of echoeld filters, as Ardour's latency
# compensation reads it. Against a private, headless PipeWire (lib.sh), two echoeld daemons, A (a
# tone through a limiter with a 5 ms look-ahead: 240 frames at 48 kHz) linked into B (its input
# (`src`) through another 5 ms limiter): B's output port says a capture latency of 480 frames (A's 240,
# reported to B through the link, plus its own), A's output a playback latency of 240 (B's, from
# downstream); A reloaded with a 10 ms look-ahead makes B's output say 720, without a relink.
#
# usage: test-pipewire-latency.sh ECHOELD ECHOELCTL   (exit 77: no PipeWire, WirePlumber or D-Bus)
set -eu

ECHOELD=$1
ECHOELCTL=$2
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools pipewire wireplumber dbus-daemon pw-cli pw-dump pw-link timeout python3

dir=$(mktemp -d /tmp/test-pipewire-latency-XXXXXX) # /tmp: socket paths must fit sockaddr_un
pw_private_env "$dir"
bus_pid='' pw_pid='' wp_pid='' apid='' bpid=''
cleanup() {
	stop "$apid"
	stop "$bpid"
	pw_session_stop
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*"
	for f in a.log b.log pipewire.log; do
		[ -s "$dir/$f" ] && { echo "--- $f:"; tail -n 30 "$dir/$f"; }
	done
	exit 1
}

says() { [ "$(pw_port_latency "$1" "$2")" = "$3" ]; }

# limiter_conf NAME SOURCE-SECTION LOOKAHEAD-MS: SOURCE (a tone or an input) through a limiter
limiter_conf() {
	cat <<EOF
[pipewire]
node_name = $1
$2
[node.lim]
type = limiter
input = src
lookahead_ms = $3
[node.out]
type = output
input = lim
EOF
}
limiter_conf lat-a "$(printf '[node.src]\ntype = tone')" 5 >"$dir/a.conf"
limiter_conf lat-b "$(printf '[node.src]\ntype = input\nchannels = 1')" 5 >"$dir/b.conf"

pw_session_start "$dir"
"$ECHOELD" --backend pipewire --socket "$dir/a" --config "$dir/a.conf" 2>"$dir/a.log" &
apid=$!
"$ECHOELD" --backend pipewire --socket "$dir/b" --config "$dir/b.conf" 2>"$dir/b.log" &
bpid=$!
wait_for 10 "A's port" pw_has_port -o lat-a:out_1
wait_for 10 "B's port" pw_has_port -i lat-b:src_1
pw-link lat-a:out_1 lat-b:src_1 || fail "pw-link"
wait_for 10 "B's output saying 480 frames of capture latency" says lat-b:out_1 Output 480
wait_for 5 "A's output saying 240 frames of playback latency" says lat-a:out_1 Input 240
limiter_conf lat-a "$(printf '[node.src]\ntype = tone')" 10 >"$dir/a.conf"
kill -HUP "$apid"
wait_for 10 "B's output saying 720 frames after A's reload" says lat-b:out_1 Output 720
"$ECHOELCTL" --socket "$dir/b" status >/dev/null || fail "B does not answer"
{ alive "$apid" && alive "$bpid"; } || fail "a daemon exited"
stop "$apid"
stop "$bpid"
apid='' bpid=''
if grep -Eq "RealtimeSanitizer|real-time unsafe|AddressSanitizer|runtime error" "$dir/a.log" "$dir/b.log"; then
	fail "a sanitizer reported"
fi
echo "ok: latency through two echoeld filters: 240 + 240 = 480 frames at B's output, 720 after A's" \
	"look-ahead doubled; A's output hears B's 240 downstream"
