#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: the control socket removed under a running daemon comes back by itself, and the
# audio never notices. The real echoeld on the own clock:
#   1. its socket file removed (rm): bound again at the same path about a second later (not at
#      once: a recursive removal still under way must not find a new file), logged both ways;
#   2. its directory removed (rm -rf), one the daemon did not make: echoeld does not make it (a
#      typo'd --socket must not grow trees), says why it cannot listen and keeps trying, the
#      audio thread keeps running; the directory back: so is the socket;
#   3. its runtime directory removed ($XDG_RUNTIME_DIR/echoeld, which is echoeld's to make, as
#      systemd's RuntimeDirectory= would): made again with the socket in it;
# and a client connected all along is served throughout; SIGTERM: a clean exit.
#
# usage: test-socket-gone.sh ECHOELD ECHOELCTL
set -eu

ECHOELD=$1
ECHOELCTL=$2
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools python3
dir=$(mktemp -d /tmp/test-socket-gone-XXXXXX) # /tmp: the socket path must fit sockaddr_un
epid=''
cleanup() {
	kill_reap "$epid"
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	show_log "$dir/log"
	exit 1
}
{
	echo '[engine]'
	conf_tone_graph gain
} >"$dir/echoeld.conf"

# clock_ns: the own clock thread's time on a CPU (schedstat), so far
clock_ns() {
	for t in /proc/"$epid"/task/*; do
		[ "$(cat "$t/comm")" = echoeld-clock ] && { cut -d' ' -f1 "$t/schedstat"; return; }
	done
	echo 0
}
audio_runs() {
	a=$(clock_ns)
	sleep 0.5
	[ "$(clock_ns)" -gt "$a" ]
}
answers() { "$ECHOELCTL" --socket "$1" status >/dev/null 2>&1; }
logged() { grep -qF "$1" "$dir/log"; }

# 1. the socket file removed
mkdir "$dir/run"
sock=$dir/run/control
launch_echoeld "$sock" "$dir/log" --config "$dir/echoeld.conf" --backend dummy
# a client connected before, asking for status once a second from the same connection
python3 - "$sock" "$dir/client.out" <<'PY' &
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rwb")
with open(sys.argv[2], "w") as out:
    for i in range(1, 1000):
        f.write(json.dumps({"id": i, "cmd": "status"}).encode() + b"\n")
        f.flush()
        msg = json.loads(f.readline())
        out.write("%d %s\n" % (msg["result"]["cycles"], msg["ok"]))
        out.flush()
        time.sleep(0.5)
PY
client=$!
wait_for 10 "the client's first answer" test -s "$dir/client.out"
rm "$sock"
wait_for 5 "the socket back after its removal" answers "$sock"
logged "the socket '$sock' was removed; listening there again in 1 s" || fail "no removal logged"
logged "control: listening at '$sock' again" || fail "no rebinding logged"

# 2. the directory removed: not the daemon's to make
rm -rf "$dir/run"
sleep 2.5 # past the second's delay: the first try has failed
[ ! -e "$dir/run" ] || fail "echoeld made '$dir/run', a directory it does not own"
grep -q "cannot listen at '$sock' again: .*does not exist.*the audio goes on" "$dir/log" ||
	fail "no reason logged for not listening again"
audio_runs || fail "the audio thread stopped with the socket gone"
mkdir "$dir/run"
wait_for 6 "the socket back once its directory was" answers "$sock"

n=$(wc -l <"$dir/client.out")
[ "$n" -ge 6 ] || fail "the client connected before got $n answers in ~5 s"
alive "$client" || fail "the client connected before lost its connection"
kill_reap "$client"
! grep -qv ' True$' "$dir/client.out" || fail "the connected client got an error"
finish_echoeld "$dir/log"

# 3. the runtime directory removed: made again
mkdir "$dir/xdg"
sock=$dir/xdg/echoeld/control
XDG_RUNTIME_DIR=$dir/xdg launch_echoeld "$sock" "$dir/log" --config "$dir/echoeld.conf" \
	--backend dummy
rm -rf "$dir/xdg/echoeld"
wait_for 5 "the runtime directory and its socket made again" answers "$sock"
audio_runs || fail "the audio thread stopped"
finish_echoeld "$dir/log"
[ ! -e "$sock" ] || fail "the socket was left behind after the stop"
echo "ok: the socket came back after rm, after rm -rf of its directory (once it was back), and" \
	"with its runtime directory; the audio and a connected client never noticed"
