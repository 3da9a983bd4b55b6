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
bus_pid='' pw_pid='' wp_pid='' epid='' busy1='' busy2=''
cleanup() {
	kill_reap "$busy1" "$busy2"
	stop "$epid"
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

{
	printf '[engine]\nblock = 256\nfade_ms = 1\n[pipewire]\nnode_name = echoeld-churn\n'
	conf_tone_graph gain
	conf_in_meter
} >"$dir/echoeld.conf"
want="echoeld-churn:in_1 echoeld-churn:in_2 echoeld-churn:out_1 echoeld-churn:out_2 "
ports() {
	{ timeout 5 pw-link -o; timeout 5 pw-link -i; } 2>/dev/null | grep '^echoeld-churn:' | sort |
		tr '\n' ' '
}
ports_are() { [ "$(ports)" = "$1" ]; }

pw_session_start "$dir"
launch_echoeld "$dir/control" "$dir/echoeld.log" --backend pipewire --config "$dir/echoeld.conf"
wait_for 10 "echoeld's ports" ports_are "$want"
pw-link echoeld-churn:out_1 echo-null-sink:playback_FL || fail "pw-link out_1"
wait_for 5 "the link" pw_linked echoeld-churn:out_1 echo-null-sink:playback_FL

busy_loops
python3 "$(dirname "$0")/churn-client.py" "$dir/control" "$ROUNDS" "$CHURN_S" \
	>"$dir/churn.out" 2>"$dir/churn.err" || {
	cat "$dir/churn.err"
	alive "$epid" || fail "echoeld died during the churn"
	fail "the churn client failed"
}
kill_reap "$busy1" "$busy2"
busy1='' busy2=''
read -r rounds secs <"$dir/churn.out"
echo "# $rounds rounds of node add/rm (4 ports each) and sets in $secs s"
[ "$rounds" -ge 20 ] || fail "only $rounds rounds in $secs s"

alive "$epid" || fail "echoeld died"
"$ECHOELCTL" --socket "$dir/control" set g.mute off >/dev/null || fail "set after the churn"
wait_for 5 "the ports to settle at '$want'" ports_are "$want"
pw_linked echoeld-churn:out_1 echo-null-sink:playback_FL || fail "the churn lost the link of out_1"
finish_echoeld "$dir/echoeld.log"
echo "ok: $rounds rounds of PipeWire port changes under load, echoeld alive, ports as configured," \
	"link kept"
