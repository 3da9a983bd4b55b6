#!/bin/sh
# Property: echoeld is a well-behaved JACK2 client. Against a real, named `jackd -d dummy`:
# its ports appear as echoeld:<node>_<channel>; jack_connect works; audio flows (a tone out of
# echoeld, looped back into its input, reads -6 dB on the meter after the input, and the same
# tone leaving its main output, looped into a second input, reads -6 dB there too); latency is
# reported on its ports and passed through (this graph adds none; test-jack-latency: a limiter);
# a change of the server's buffer size rebuilds the engine and keeps every connection;
# when the server is killed and restarted, echoeld comes back by itself with its connections,
# without ever exiting, and keeps pinging the systemd watchdog while it waits for the server
# (a NOTIFY_SOCKET listener stands in for PID 1). In the RealtimeSanitizer build, any
# allocation, lock or blocking call inside the JACK process callback's cycle fails the run.
#
# usage: test-jack.sh ECHOELD ECHOELCTL        (exit 77: no jackd here)
set -eu

ECHOELD=$1
ECHOELCTL=$2
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools jackd
dir=$(mktemp -d /tmp/test-jack-XXXXXX)
server=echoeld-test-$$
export JACK_DEFAULT_SERVER=$server JACK_NO_START_SERVER=1
jpid='' epid='' npid=''
cleanup() {
	kill_reap "$epid" "$jpid" "$npid"
	rm -rf "$dir"
	jack_shm_cleanup "$server"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- echoeld log:"; cat "$dir/echoeld.log"; exit 1; }

ctl() { "$ECHOELCTL" --socket "$dir/control" "$@"; }

cat >"$dir/echoeld.conf" <<EOF2
[jack]
client_name = echoeld
connect = echoeld:tone_out_1 > echoeld:in_1
[node.tone]
type = tone
freq = 1000
level_db = -6.0206
[node.tone_out]
type = output
input = tone
[node.in]
type = input
channels = 2
[node.meter]
type = meter
input = in
[node.out]
type = output
input = meter
[node.back]
type = input
channels = 1
[node.back_meter]
type = meter
input = back
EOF2

# A stand-in for PID 1's notify socket: one line per datagram, "SECONDS MESSAGE" (monotonic).
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "w", buffering=1)
while True:
    out.write("%.3f %s\n" % (time.monotonic(), s.recv(4096).decode().replace("\n", " ")))
' "$dir/notify" "$dir/notify.log" &
npid=$!
wait_for_socket "$dir/notify" 5 || true
now() { python3 -c 'import time; print("%.3f" % time.monotonic())'; }
# pings_since T: WATCHDOG=1 datagrams received after monotonic time T.
pings_since() { awk -v t="$1" '$1 > t && /WATCHDOG=1/' "$dir/notify.log" | wc -l; }

start_jackd "$server" "$dir/jackd.log"
NOTIFY_SOCKET=$dir/notify WATCHDOG_USEC=1000000 \
	"$ECHOELD" --config "$dir/echoeld.conf" --socket "$dir/control" --backend jack 2>"$dir/echoeld.log" &
epid=$!
wait_for_socket "$dir/control" 5 || true
sleep 0.5

ports=$(timeout 5 jack_lsp -s "$server" | grep '^echoeld:' | sort | tr '\n' ' ')
[ "$ports" = "echoeld:back_1 echoeld:in_1 echoeld:in_2 echoeld:out_1 echoeld:out_2 echoeld:tone_out_1 " ] ||
	fail "ports are '$ports'"
# the auto-connect rule made the loop; connect the output to the system playback too
timeout 5 jack_lsp -s "$server" -c echoeld:in_1 | grep -q 'echoeld:tone_out_1' || fail "auto-connect rule not applied"
timeout 5 jack_connect -s "$server" echoeld:out_1 system:playback_1 || fail "jack_connect failed"
timeout 5 jack_connect -s "$server" echoeld:out_1 echoeld:back_1 || fail "jack_connect failed"
# Latency: echoeld adds none, so its output reports the playback latency of what it feeds (the
# dummy driver's system:playback_1) and its input the capture latency of what feeds it.
# `jack_lsp -l` prints "port playback latency = [ MIN MAX ] frames".
latency() { timeout 5 jack_lsp -s "$server" -l "$1" | sed -n "s/.*$2 latency = \[ *\([0-9]*\) *\([0-9]*\) *\].*/\1 \2/p"; }
sys_lat=$(latency system:playback_1 playback)
our_lat=$(latency echoeld:out_1 playback)
[ -n "$sys_lat" ] && [ "$sys_lat" != "0 0" ] || fail "system:playback_1 reports no playback latency ('$sys_lat')"
[ "$our_lat" = "$sys_lat" ] || fail "echoeld:out_1 playback latency '$our_lat', expected '$sys_lat'"
sleep 0.5
level=$(ctl get meter.peak_db 1)
case "$level" in -6.0*) ;; *) fail "meter after the JACK loop reads '$level', expected -6.0" ;; esac
level=$(ctl get back_meter.peak_db 1)
case "$level" in -6.0*) ;; *) fail "echoeld's main output, looped back, reads '$level', expected -6.0" ;; esac
grep -q 'READY=1' "$dir/notify.log" || fail "no READY=1 under NOTIFY_SOCKET"

# The server's buffer size changes: echoeld rebuilds its engine for it and keeps its client, its
# ports and every connection (the auto-connect rule's and the two made by hand).
timeout 5 jack_bufsize 512 >/dev/null 2>&1 || fail "jack_bufsize 512 failed"
rebuilt=
for _ in $(seq 50); do
	if ctl --json status 2>/dev/null | grep -q '"block": *512'; then rebuilt=1; break; fi
	sleep 0.1
done
[ -n "$rebuilt" ] || fail "echoeld did not follow the server to 512 frames"
sleep 0.5
for link in "echoeld:out_1 system:playback_1" "echoeld:out_1 echoeld:back_1" \
	"echoeld:tone_out_1 echoeld:in_1"; do
	set -- $link
	timeout 5 jack_lsp -s "$server" -c "$1" | grep -q "^ *$2\$" ||
		fail "after the buffer size change $1 is no longer connected to $2"
done
level=$(ctl get back_meter.peak_db 1)
case "$level" in -6.0*) ;; *) fail "after the buffer size change the output reads '$level'" ;; esac
grep -q 'restarted the engine at 48000 Hz, block 512' "$dir/echoeld.log" || fail "no restart logged"

# the server dies and comes back: echoeld reconnects with its connections
kill -TERM "$jpid"; wait "$jpid" 2>/dev/null || true; jpid=
# Waiting for the server is not a hang: the watchdog (1 s) keeps being pinged, and STATUS says why.
sleep 1
t_down=$(now)
sleep 2.5
n=$(pings_since "$t_down")
[ "$n" -ge 3 ] || fail "only $n WATCHDOG=1 pings in 2.5 s while the server was away"
grep -q 'STATUS=waiting for the jack server' "$dir/notify.log" || fail "no STATUS about the server"
start_jackd "$server" "$dir/jackd.log"
back=
for _ in $(seq 100); do
	if timeout 5 jack_lsp -s "$server" -c echoeld:out_1 2>/dev/null | grep -q 'system:playback_1'; then back=1; break; fi
	sleep 0.1
done
[ -n "$back" ] || fail "echoeld did not come back with its connections"
kill -0 "$epid" || fail "echoeld exited"
# The connections can show before the last reconnect has settled (a server that drops the
# client once more as it starts: "went away" twice in the log); what the test controls is
# that audio comes back, so it waits for the meter (up to 10 s) rather than a fixed 0.5 s.
level=
for _ in $(seq 100); do
	level=$(ctl get meter.peak_db 1)
	case "$level" in -6.0*) break ;; esac
	sleep 0.1
done
case "$level" in -6.0*) ;; *) fail "10 s after the restart the meter reads '$level'" ;; esac

term_wait "$epid"
epid=
[ "$status" -eq 0 ] || fail "echoeld exited with $status"
if grep -Eq "RealtimeSanitizer|real-time unsafe|ThreadSanitizer|AddressSanitizer|runtime error" "$dir/echoeld.log"; then
	fail "a sanitizer reported"
fi
echo "ok: JACK ports, connections, audio in and out at -6 dB, latency passed through ($our_lat)," \
	"connections kept across a buffer size change, watchdog kept alive while the server was away" \
	"($n pings), reconnect after a server restart"
