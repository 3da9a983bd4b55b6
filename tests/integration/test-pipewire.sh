#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: echoeld is a well-behaved PipeWire client. Against a private, headless PipeWire
# (dummy driver, a null sink) with WirePlumber on a private session bus: echoeld shows up as one
# node with its [pipewire] node.name and node.description, one DSP port per channel named
# <node>_<channel> with the alias <node_name>:<node>_<channel>; pw-link links its outputs to the
# sink and the sink's monitor to its inputs; audio flows (a tone out of echoeld, through the
# sink, back into its input reads the tone's -12 dB on the meter after the input); its ports follow
# graph changes without losing the existing links; [pipewire] target links a node's outputs by
# itself; when PipeWire and WirePlumber are killed and restarted, echoeld comes back by itself
# without ever exiting.
#
# usage: test-pipewire.sh ECHOELD ECHOELCTL   (exit 77: no PipeWire, WirePlumber or D-Bus here)
set -eu

ECHOELD=$1
ECHOELCTL=$2
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools pipewire wireplumber dbus-daemon pw-cli pw-dump pw-link timeout

dir=$(mktemp -d /tmp/test-pipewire-XXXXXX) # /tmp: socket paths must fit sockaddr_un
pw_private_env "$dir"
bus_pid='' pw_pid='' wp_pid='' e_pid='' t_pid=''

cleanup() {
	stop "$t_pid"
	stop "$e_pid"
	pw_session_stop
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*"
	for f in echoeld.log target.log pipewire.log wireplumber.log; do
		[ -s "$dir/$f" ] && { echo "--- $f:"; tail -n 40 "$dir/$f"; }
	done
	exit 1
}

no_port() { ! pw_has_port "$@"; }
dump_has() { timeout 5 pw-dump 2>/dev/null | grep -Fq "\"$1\": \"$2\""; } # KEY VALUE
# loud SOCKET / quiet SOCKET: the meter after echoeld's input reads the tone it sent (-12 dB
# peak, through a null sink at unity volume: within 0.5 dB) / silence.
loud() {
	level=$("$ECHOELCTL" --socket "$1" get meter2.peak_db 1) || return 1
	awk -v v="$level" 'BEGIN { exit !(v + 0 > -12.5 && v + 0 < -11.5) }'
}
quiet() {
	level=$("$ECHOELCTL" --socket "$1" get meter2.peak_db 1) || return 1
	awk -v v="$level" 'BEGIN { exit !(v + 0 < -100) }'
}

cat >"$dir/echoeld.conf" <<'EOF'
[engine]
block = 256
fade_ms = 10
[pipewire]
node_name = echoeld-it
description = echoeld integration test
[node.tone]
type = tone
freq = 997
level_db = -12
channels = 2
[node.meter]
type = meter
input = tone
[node.out]
type = output
input = meter
[node.in]
type = input
channels = 2
[node.meter2]
type = meter
input = in
EOF

cat >"$dir/target.conf" <<'EOF'
[pipewire]
node_name = echoeld-target
target = echo-null-sink
[node.tone]
type = tone
freq = 440
level_db = -30
channels = 2
[node.out]
type = output
input = tone
EOF

# The private PipeWire, WirePlumber and session bus of ../lib.sh (the minimal headless PipeWire of
# ../shared/testing.md).
pw_session_start "$dir"

# --verbose: the log then tells how long each change of ports held PipeWire's data thread.
"$ECHOELD" --backend pipewire --socket "$dir/control" --config "$dir/echoeld.conf" --verbose \
	2>"$dir/echoeld.log" &
e_pid=$!
wait_for 10 "echoeld's socket" test -S "$dir/control"
alive "$e_pid" || fail "echoeld exited"

# The node and its ports, as pw-dump and pw-link show them.
wait_for 5 "echoeld's node in pw-dump" dump_has node.name echoeld-it
dump_has node.description "echoeld integration test" || fail "no node.description"
for p in in_1 in_2 out_1 out_2; do
	dump_has port.name "$p" || fail "pw-dump shows no port.name '$p'"
	dump_has port.alias "echoeld-it:$p" || fail "pw-dump shows no port.alias 'echoeld-it:$p'"
done
for p in in_1 in_2; do pw_has_port -i "echoeld-it:$p" || fail "no input port echoeld-it:$p"; done
for p in out_1 out_2; do pw_has_port -o "echoeld-it:$p" || fail "no output port echoeld-it:$p"; done

# A loop through PipeWire: echoeld's outputs into the sink, the sink's monitor into its inputs.
pw-link echoeld-it:out_1 echo-null-sink:playback_FL || fail "pw-link out_1"
pw-link echoeld-it:out_2 echo-null-sink:playback_FR || fail "pw-link out_2"
pw-link echo-null-sink:monitor_FL echoeld-it:in_1 || fail "pw-link in_1"
pw-link echo-null-sink:monitor_FR echoeld-it:in_2 || fail "pw-link in_2"
pw_linked echoeld-it:out_1 echo-null-sink:playback_FL || fail "pw-link -l lacks out_1 -> sink"
pw_linked echo-null-sink:monitor_FR echoeld-it:in_2 || fail "pw-link -l lacks monitor -> in_2"
wait_for 5 "the tone to come back through PipeWire" loud "$dir/control"

# The ports follow the graph; the links of the ports that stay are kept.
"$ECHOELCTL" --socket "$dir/control" node add extra output --input tone >/dev/null ||
	fail "node add"
wait_for 5 "the new node's ports" pw_has_port -o echoeld-it:extra_2
# No step on the data thread covers more than one port: two ports and the switch, three steps.
grep -q 'ports changed in 3 steps' "$dir/echoeld.log" ||
	fail "adding two ports did not take one data-thread step per port"
"$ECHOELCTL" --socket "$dir/control" node rm extra >/dev/null || fail "node rm"
wait_for 5 "the removed node's ports to go" no_port -o echoeld-it:extra_1
pw_linked echoeld-it:out_2 echo-null-sink:playback_FR || fail "a graph change lost a link"
wait_for 5 "audio after the graph change" loud "$dir/control"

# [pipewire] target: a second instance links its outputs to the sink by itself.
"$ECHOELD" --backend pipewire --socket "$dir/control2" --config "$dir/target.conf" \
	2>"$dir/target.log" &
t_pid=$!
wait_for 10 "the target instance's links" pw_linked echoeld-target:out_2 echo-null-sink:playback_FR
pw_linked echoeld-target:out_1 echo-null-sink:playback_FL || fail "target: out_1 not linked"
term_wait "$t_pid"
t_pid=
[ "$status" -eq 0 ] || fail "the target instance exited with $status"

# PipeWire and WirePlumber die and come back: echoeld reconnects by itself and never exits.
pw_stop
sleep 1
alive "$e_pid" || fail "echoeld exited when PipeWire went away"
pw_start "$dir"
wait_for 10 "echoeld's node after the restart" dump_has node.name echoeld-it
pw_has_port -o echoeld-it:out_1 || fail "no ports after the restart"
alive "$e_pid" || fail "echoeld exited"
grep -q 'reconnected' "$dir/echoeld.log" || fail "the log does not say it reconnected"
# The old links died with the old daemon: the input hears silence, so cycles run again (the
# meter is not showing a value from before the restart); link again, and the loop plays again.
wait_for 5 "cycles after the restart" quiet "$dir/control"
pw-link echoeld-it:out_1 echo-null-sink:playback_FL || fail "pw-link after the restart"
pw-link echo-null-sink:monitor_FL echoeld-it:in_1 || fail "pw-link after the restart"
wait_for 5 "audio after the restart" loud "$dir/control"

term_wait "$e_pid"
e_pid=
[ "$status" -eq 0 ] || fail "echoeld exited with $status"
if grep -Eq "RealtimeSanitizer|real-time unsafe|ThreadSanitizer|AddressSanitizer|runtime error" \
	"$dir/echoeld.log" "$dir/target.log"; then
	fail "a sanitizer reported"
fi
# A figure, not a check (times are noisy): what the port changes cost the data thread.
grep 'ports changed' "$dir/echoeld.log" | sed 's/^/# /'
echo "ok: PipeWire node and ports, pw-link, audio through PipeWire, live port changes, target," \
	"reconnect after a restart"
