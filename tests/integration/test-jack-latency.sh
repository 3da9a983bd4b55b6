#!/bin/sh
# Property: JACK sees the latency echoeld's graph adds. Against a real `jackd -d dummy -p 256`,
# with system:capture_1 > echoeld:in_1 and echoeld:out_1 > system:playback_1 around a limiter
# with a 5 ms look-ahead (240 frames at 48 kHz): echoeld:out_1 reports the capture latency of
# system:capture_1 plus 240, and echoeld:in_1 the playback latency of system:playback_1 plus
# 240 (what Ardour's latency compensation reads through jack_port_get_latency_range). A reload
# with a 10 ms look-ahead makes it 480, without a reconnection.
#
# usage: test-jack-latency.sh ECHOELD ECHOELCTL        (exit 77: no jackd here)
set -eu

ECHOELD=$1
ECHOELCTL=$2
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools jackd jack_lsp jack_connect
dir=$(mktemp -d /tmp/test-jack-latency-XXXXXX)
server=echoeld-lat-$$
export JACK_DEFAULT_SERVER=$server JACK_NO_START_SERVER=1
jpid='' epid=''
cleanup() {
	kill_reap "$epid" "$jpid"
	rm -rf "$dir"
	jack_shm_cleanup "$server"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- echoeld log:"; cat "$dir/echoeld.log"; exit 1; }

write_conf() {
	cat >"$dir/echoeld.conf" <<EOF2
[jack]
client_name = lat
connect = system:capture_1 > lat:in_1, lat:out_1 > system:playback_1
[node.in]
type = input
channels = 1
[node.lim]
type = limiter
input = in
lookahead_ms = $1
[node.out]
type = output
input = lim
EOF2
}

# "MIN MAX" of a port's latency in direction $2 (`jack_lsp -l`: "port playback latency = [ a b ]")
latency() { timeout 5 jack_lsp -s "$server" -l "$1" | sed -n "s/.*$2 latency = \[ *\([0-9]*\) *\([0-9]*\) *\].*/\1 \2/p"; }
# expect PORT DIRECTION "MIN MAX": waits up to 5 s (JACK recomputes after our callback returns)
expect() {
	got=
	for _ in $(seq 50); do
		got=$(latency "$1" "$2")
		[ "$got" = "$3" ] && return 0
		sleep 0.1
	done
	fail "$1 $2 latency '$got', expected '$3'"
}

start_jackd "$server" "$dir/jackd.log"
write_conf 5
"$ECHOELD" --config "$dir/echoeld.conf" --backend jack --socket "$dir/control" >"$dir/echoeld.log" 2>&1 &
epid=$!
wait_for_socket "$dir/control" "$epid" || fail "echoeld did not start"
for _ in $(seq 50); do
	timeout 5 jack_lsp -s "$server" -c lat:out_1 | grep -q system:playback_1 && break
	sleep 0.1
done
cap=$(latency system:capture_1 capture)
play=$(latency system:playback_1 playback)
{ [ -n "$cap" ] && [ "$cap" != "0 0" ]; } || fail "system:capture_1 reports no capture latency ('$cap')"
{ [ -n "$play" ] && [ "$play" != "0 0" ]; } || fail "system:playback_1 reports no playback latency"
plus() { echo "$1" | awk -v n="$2" '{ print $1 + n, $2 + n }'; }
expect lat:out_1 capture "$(plus "$cap" 240)"
expect lat:in_1 playback "$(plus "$play" 240)"
ms=$("$ECHOELCTL" --socket "$dir/control" --json status | sed -n 's/.*"latency": *{"frames": *\([0-9]*\).*/\1/p')
[ "$ms" = 240 ] || fail "status reports $ms frames of latency, expected 240"

write_conf 10
kill -HUP "$epid"
expect lat:out_1 capture "$(plus "$cap" 480)"
expect lat:in_1 playback "$(plus "$play" 480)"

term_wait "$epid"
epid=
[ "$status" -eq 0 ] || fail "echoeld exited with $status"
if grep -Eq "RealtimeSanitizer|real-time unsafe|AddressSanitizer|runtime error" "$dir/echoeld.log"; then
	fail "a sanitizer reported"
fi
echo "ok: JACK port latency = the server's ($cap capture, $play playback) + the graph's 240," \
	"then 480 after a reload"
