#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: `set` commands queued for the RT thread never outlive the node instance they name.
# Against a real, named `jackd -d dummy`: the server is held still (SIGSTOP: no cycle drains the
# command ring) while a burst of N `set`s to the gain node `g` is queued; then it is killed
# (SIGKILL) with them still in flight. While the server is away the configuration changes (SIGHUP)
# so that `g` becomes another node (a meter): the gain instance the queued commands name is
# freed. The server comes back under the same name; echoeld reconnects and runs cycles again.
# A command ring that survived the stop would now apply a stale `set` to the freed instance: a
# heap-use-after-free under ASan (abort_on_error kills echoeld).
# Pass: echoeld reconnects, keeps answering, `g` is the meter, its ports are back, and its log
# has no sanitizer report.
#
# usage: test-jack-restart-queued.sh ECHOELD ECHOELCTL [N]   (exit 77: no jackd)
set -eu

ECHOELD=$1
ECHOELCTL=$2
N=${3:-2000}
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools jackd jack_lsp jack_wait python3 timeout

dir=$(mktemp -d /tmp/test-jack-restart-XXXXXX)
server=echoeld-restart-$$
export JACK_DEFAULT_SERVER=$server JACK_NO_START_SERVER=1
jpid='' epid=''
cleanup() {
	[ -z "$jpid" ] || kill -CONT "$jpid" 2>/dev/null || true
	kill_reap "$epid" "$jpid"
	rm -rf "$dir"
	jack_shm_cleanup "$server"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
	echo "FAIL: $*"
	show_log "$dir/echoeld.log"
	exit 1
}
ctl() { "$ECHOELCTL" --socket "$dir/control" "$@"; }
logged() { grep -q "$1" "$dir/echoeld.log"; }
count() { grep -c "$1" "$dir/echoeld.log" || true; }

write_conf() { # $1: the type of node g (gain or meter)
	{
		printf '[engine]\nfade_ms = 5\n[jack]\nclient_name = echoeld\n'
		conf_tone_graph "$1"
	} >"$dir/echoeld.conf"
}
want="echoeld:out_1 echoeld:out_2 "
ports_are() { [ "$(timeout 5 jack_lsp -s "$server" | grep '^echoeld:' | sort | tr '\n' ' ')" = "$1" ]; }

write_conf gain
start_jackd "$server" "$dir/jackd.log"
launch_echoeld "$dir/control" "$dir/echoeld.log" --config "$dir/echoeld.conf" --backend jack
wait_for 10 "echoeld's ports" ports_are "$want"

# The server stands still: cycles stop, and every `set` from now on waits in the command ring
# (the engine still counts as running until the backend sees the server gone: STALL_MS, 2 s).
kill -STOP "$jpid"
python3 - "$dir/control" "$N" >"$dir/burst.out" 2>&1 <<'PY' || { cat "$dir/burst.out"; fail "the burst"; }
import json, socket, sys, time
path, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(path)
t0 = time.monotonic()
# pipelined: all requests first, then the answers
s.sendall(b"".join(json.dumps({"id": i, "cmd": "set", "args": {"node": "g", "param": "gain_db",
                                "value": -(i % 40)}}).encode() + b"\n" for i in range(n)))
f = s.makefile("rb")
ok = busy = 0
while ok + busy < n:
    line = f.readline()
    if not line:
        sys.exit("echoeld hung up after %d answers" % (ok + busy))
    m = json.loads(line)
    if "event" in m:
        continue
    ok += bool(m.get("ok"))
    busy += not m.get("ok")
print(ok, busy, "%.2f" % (time.monotonic() - t0))
PY
read -r ok busy secs <"$dir/burst.out"
echo "# $N sets while the server stood still: $ok queued, $busy refused, in $secs s"
[ "$ok" -gt 0 ] || fail "no set was accepted"
# In flight: the server dies with them queued.
kill -KILL "$jpid"
wait "$jpid" 2>/dev/null || true
jpid=
jack_shm_cleanup "$server"
wait_for 10 "echoeld to see the server gone" logged 'the server went away'
logged 'reconnected to the server' && fail "reconnected to a dead server"

# While it is away, g becomes a meter: the gain instance the queued sets name is freed.
write_conf meter
n0=$(count 'reloaded')
kill -HUP "$epid"
wait_for 10 "the reload" sh -c "[ \"\$(grep -c reloaded '$dir/echoeld.log')\" -gt $n0 ]"
alive "$epid" || fail "echoeld died on the reload while the server was away"
ctl node get g | grep -q 'meter' || fail "g is not the meter after the reload"

# The server comes back under the same name: echoeld reconnects and runs cycles again.
start_jackd "$server" "$dir/jackd.log"
for _ in $(seq 150); do # it may die instead, on the first cycle after activating
	alive "$epid" || fail "echoeld died when the server came back"
	! logged 'reconnected to the server' || break
	sleep 0.1
done
logged 'reconnected to the server' || fail "echoeld did not reconnect within 15 s"
for _ in $(seq 100); do # its ports; it may die instead, on the first cycles
	alive "$epid" || fail "echoeld died after the server came back"
	! ports_are "$want" || break
	sleep 0.1
done
ports_are "$want" || fail "echoeld's ports after the restart: '$(timeout 5 jack_lsp -s "$server" | grep '^echoeld:' | tr '\n' ' ')'"
c0=$(ctl --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["cycles"])')
wait_for 10 "cycles after the restart" sh -c "[ \"\$('$ECHOELCTL' --socket '$dir/control' --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"cycles\"])')\" -gt $((c0 + 50)) ]"
alive "$epid" || fail "echoeld died after the server came back"
ctl hello >/dev/null || fail "echoeld does not answer"
ctl node get g | grep -q 'meter' || fail "g is not the meter after the restart"
finish_echoeld "$dir/echoeld.log"
echo "ok: $ok sets queued when the server was killed, g replaced while it was away;" \
	"echoeld reconnected, ran cycles and answers"
