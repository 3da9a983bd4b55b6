#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: echoeld follows the JACK server's sample rate without being restarted, and a fir
# with a filter per rate takes the one for it. A `jackd -d dummy` at 48 kHz, echoeld on it with
# a fir holding `ir_44100` and `ir_48000`: the node runs ir_48000. The server is stopped and
# started again at 44.1 kHz: echoeld reconnects by itself, rebuilds its graph at 44100 Hz
# (`status`), the fir now runs ir_44100 (`node get`), and cycles run.
#
# usage: test-jack-rate.sh ECHOELD ECHOELCTL        (exit 77: no jackd here)
set -eu

ECHOELD=$1
ECHOELCTL=$2
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools jackd python3
dir=$(mktemp -d /tmp/test-jack-rate-XXXXXX)
server=echoeld-rate-$$
export JACK_DEFAULT_SERVER=$server JACK_NO_START_SERVER=1 XDG_STATE_HOME="$dir/state"
jpid='' epid=''
cleanup() {
	kill_reap "$epid" "$jpid"
	rm -rf "$dir"
	jack_shm_cleanup "$server"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- echoeld log:"; cat "$dir/echoeld.log"; exit 1; }

# status_is KEY VALUE / fir_is KEY VALUE: `status` / the fir's details say so
status_is() { ctl_status_is "$dir/control" "$@"; }
fir_is() { ctl_detail_is "$dir/control" room "$@"; }

float_wav "$dir/room-44k.wav" 0.01 '(0.5 * 0.99 ** i, 0.5 * 0.98 ** i)'
float_wav "$dir/room-48k.wav" 0.02 '(0.5 * 0.99 ** i, 0.5 * 0.98 ** i)'
cat >"$dir/echoeld.conf" <<EOF
[jack]
client_name = rate
[node.tone]
type = tone
channels = 2
[node.room]
type = fir
input = tone
ir_44100 = room-44k.wav
ir_48000 = room-48k.wav
[node.out]
type = output
input = room
EOF

start_jackd "$server" "$dir/jackd.log"
"$ECHOELD" --config "$dir/echoeld.conf" --backend jack --socket "$dir/control" >"$dir/echoeld.log" 2>&1 &
epid=$!
wait_for_echoeld "$dir/control" 10 "$epid"
wait_for 10 "the graph at 48000 Hz" status_is rate 48000
fir_is ir_key ir_48000 || fail "at 48 kHz the fir runs $("$ECHOELCTL" --socket "$dir/control" node get room | grep ir_)"

kill_reap "$jpid"
jpid=
jack_shm_cleanup "$server"
RATE=44100 start_jackd "$server" "$dir/jackd.log"
wait_for 30 "the graph at 44100 Hz" status_is rate 44100
fir_is ir_key ir_44100 || fail "at 44.1 kHz the fir runs $("$ECHOELCTL" --socket "$dir/control" node get room | grep ir_)"
fir_is ir_file "$dir/room-44k.wav" || fail "the fir's file at 44.1 kHz"
c0=$("$ECHOELCTL" --socket "$dir/control" --json status | python3 -c 'import json, sys; print(json.load(sys.stdin)["cycles"])')
wait_for 10 "cycles at 44100 Hz" sh -c "! \"$ECHOELCTL\" --socket '$dir/control' --json status | python3 -c 'import json, sys; sys.exit(json.load(sys.stdin)[\"cycles\"] > $c0 + 50)'"
kill -0 "$epid" || fail "echoeld exited"
grep -q "restarted the engine at 44100 Hz" "$dir/echoeld.log" || fail "no word of the new rate"

term_wait "$epid"
epid=
[ "$status" -eq 0 ] || fail "echoeld exited with $status"
if grep -Eq "RealtimeSanitizer|real-time unsafe|AddressSanitizer|runtime error" "$dir/echoeld.log"; then
	fail "a sanitizer reported"
fi
echo "ok: 48000 Hz with ir_48000, then the server at 44100 Hz: rebuilt without a restart, ir_44100"
