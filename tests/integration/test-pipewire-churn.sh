#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: changing echoeld's PipeWire ports while the graph runs never touches freed memory
# nor loses a link. Against a private, headless PipeWire with WirePlumber (../lib.sh), two busy
# loops beside it, echoeld on the pipewire backend with its out_1 linked to the null sink: up to
# ROUNDS rounds (at most 40 s) of: add an output node and an input node (two ports each), `set` a
# gain, remove both, `set` again (churn-client.py). Every port change runs on PipeWire's data
# thread between two cycles (pipewire.c, DESIGN); this holds it to that under load.
# Pass: echoeld still runs and answers, no sanitizer report in its log, its ports at the end are
# exactly the configuration's, and the link made before the churn is still there.
#
# usage: test-pipewire-churn.sh ECHOELD ECHOELCTL [ROUNDS]   (exit 77: no PipeWire here)
set -eu

ECHOELD=$1
ECHOELCTL=$2
ROUNDS=${3:-300}
CHURN_S=40
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools pipewire wireplumber dbus-daemon pw-cli pw-link python3 timeout

dir=$(mktemp -d /tmp/test-pw-churn-XXXXXX) # /tmp: socket paths must fit sockaddr_un
pw_private_env "$dir"
bus_pid='' pw_pid='' wp_pid='' e_pid='' busy1='' busy2=''
cleanup() {
	kill_reap "$busy1" "$busy2"
	stop "$e_pid"
	pw_session_stop
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
	echo "FAIL: $*"
	show_log "$dir/echoeld.log"
	for f in pipewire.log wireplumber.log; do
		[ -s "$dir/$f" ] && { echo "--- $f:"; tail -n 20 "$dir/$f"; }
	done
	exit 1
}

cat >"$dir/echoeld.conf" <<'EOF2'
[engine]
block = 256
fade_ms = 1
[pipewire]
node_name = echoeld-churn
[node.tone]
type = tone
freq = 1000
level_db = -20
channels = 2
[node.g]
type = gain
input = tone
[node.out]
type = output
input = g
[node.in]
type = input
channels = 2
[node.meter]
type = meter
input = in
EOF2
want="echoeld-churn:in_1 echoeld-churn:in_2 echoeld-churn:out_1 echoeld-churn:out_2 "
ports() {
	{ timeout 5 pw-link -o; timeout 5 pw-link -i; } 2>/dev/null | grep '^echoeld-churn:' | sort |
		tr '\n' ' '
}
ports_are() { [ "$(ports)" = "$1" ]; }

pw_session_start "$dir"
"$ECHOELD" --backend pipewire --socket "$dir/control" --config "$dir/echoeld.conf" \
	2>"$dir/echoeld.log" &
e_pid=$!
wait_for_echoeld "$dir/control" 10 "$e_pid"
wait_for 10 "echoeld's ports" ports_are "$want"
pw-link echoeld-churn:out_1 echo-null-sink:playback_FL || fail "pw-link out_1"
wait_for 5 "the link" pw_linked echoeld-churn:out_1 echo-null-sink:playback_FL

sh -c 'while :; do :; done' &
busy1=$!
sh -c 'while :; do :; done' &
busy2=$!
python3 "$(dirname "$0")/churn-client.py" "$dir/control" "$ROUNDS" "$CHURN_S" \
	>"$dir/churn.out" 2>"$dir/churn.err" || {
	cat "$dir/churn.err"
	alive "$e_pid" || fail "echoeld died during the churn"
	fail "the churn client failed"
}
kill_reap "$busy1" "$busy2"
busy1='' busy2=''
read -r rounds secs <"$dir/churn.out"
echo "# $rounds rounds of node add/rm (4 ports each) and sets in $secs s"
[ "$rounds" -ge 20 ] || fail "only $rounds rounds in $secs s"

alive "$e_pid" || fail "echoeld died"
"$ECHOELCTL" --socket "$dir/control" set g.mute off >/dev/null || fail "set after the churn"
wait_for 5 "the ports to settle at '$want'" ports_are "$want"
pw_linked echoeld-churn:out_1 echo-null-sink:playback_FL || fail "the churn lost the link of out_1"
term_wait "$e_pid"
e_pid=
[ "$status" -eq 0 ] || fail "echoeld exited with $status"
if grep -Eq "RealtimeSanitizer|real-time unsafe|ThreadSanitizer|AddressSanitizer|LeakSanitizer|runtime error" \
	"$dir/echoeld.log"; then
	fail "a sanitizer reported"
fi
echo "ok: $rounds rounds of PipeWire port changes under load, echoeld alive, ports as configured," \
	"link kept"
