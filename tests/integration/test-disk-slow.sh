#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: a disk that does not keep up costs players and recorders their audio, never the
# cycle its time. The real echoeld on the own clock plays a 12 s file through the disk thread
# (looped) and records it; the disk thread is then stalled for 4 s (the hidden debug.disk_stall,
# ECHOELD_TEST_HOOKS=1), longer than the 2.7 s rings hold. Then: `underrun` events come and the
# player's counter grows; the recorder's take ends with an `overrun` event and a `record`
# stopped event saying why, and its file opens with libsndfile holding the audio from before;
# no cycle is late because of it (status late_cycles over the stall's window against a window
# as long before it: a shared VM has late cycles of its own); once the disk is back the player
# plays on without further underruns.
#
# usage: test-disk-slow.sh ECHOELD   (the protocol is spoken by a python client)
set -eu

ECHOELD=$1
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools python3 sndfile-info
dir=$(mktemp -d /tmp/test-disk-slow-XXXXXX) # /tmp: the socket path must fit sockaddr_un
epid=''
cleanup() {
	kill_reap "$epid"
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	[ -f "$dir/log" ] && { echo "--- log:"; cat "$dir/log"; }
	exit 1
}

stereo_wav "$dir/song.wav" 12
cat >"$dir/echoeld.conf" <<EOF
[engine]
block = 256
[node.song]
type = player
file = $dir/song.wav
loop = yes
[node.rec]
type = recorder
input = song
file = $dir/take.wav
sample_format = float
[node.out]
type = output
input = song
EOF

export ECHOELD_TEST_HOOKS=1 XDG_STATE_HOME="$dir/state"
launch_echoeld "$dir/control" "$dir/log" --config "$dir/echoeld.conf" --backend dummy

python3 - "$dir/control" <<'PY' || fail "see above"
import json, socket, sys, time

path = sys.argv[1]
events = []

def connect():
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    return s, s.makefile()

ctl, ctl_in = connect()
def call(cmd, args=None):
    ctl.sendall((json.dumps({"id": 1, "cmd": cmd, "args": args or {}}) + "\n").encode())
    v = json.loads(ctl_in.readline())
    if not v.get("ok"):
        sys.exit("%s: %s" % (cmd, v))
    return v.get("result")

sub, sub_in = connect()
sub.sendall(b'{"id":1,"cmd":"subscribe","args":{"events":["underrun","overrun","record"]}}\n')
assert json.loads(sub_in.readline()).get("ok")
sub.settimeout(0.1)

def drain(seconds):
    end = time.time() + seconds
    buf = ""
    while time.time() < end:
        try:
            d = sub.recv(65536).decode()
        except socket.timeout:
            continue
        buf += d
        while "\n" in buf:
            line, buf = buf.split("\n", 1)
            events.append(json.loads(line))

def get(param):
    return call("get", {"node": param.split(".")[0], "param": param.split(".")[1]})["value"]

drain(1.5)  # the take started; the disk thread keeps up
# the machine's own late cycles over a window as long as the stall's (a shared VM has some)
base0 = call("status")["late_cycles"]
drain(6.5)
late0 = call("status")["late_cycles"]
base = late0 - base0
assert get("song.underruns") == 0, "underruns before the stall"
call("debug.disk_stall", {"stalled": True})
drain(4.0)  # longer than the rings hold
call("debug.disk_stall", {"stalled": False})
drain(1.5)
u1 = get("song.underruns")
drain(1.0)
u2 = get("song.underruns")
late1 = call("status")["late_cycles"]
details = call("node.get", {"node": "rec"})["details"]
names = [e.get("event") for e in events]
print("# events: %s" % ", ".join("%s%s" % (e.get("event"), "(%s)" % e["take"] if "take" in e else "")
                                 for e in events))
print("# underruns %g, then %g a second later; late cycles: %d in the 6.5 s window of the stall, "
      "%d in one before it; recorder: %s" % (u1, u2, late1 - late0, base, details))
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("FAIL: " + what)
        ok = False
check("underrun" in names, "no underrun event")
check(u1 > 0, "the player counted no underrun")
check(u2 == u1, "the player still underruns after the disk came back")
check("overrun" in names, "no overrun event")
check(any(e.get("event") == "record" and e.get("take") == "stopped" and e.get("why") == "overrun"
          for e in events), "no record stopped event with why overrun")
check(details.get("state") == "overrun", "the recorder's state is not overrun")
# the stall itself makes none: whatever is late is the machine's, at its own rate (bursty on a
# loaded VM: a few either way). A cycle that waited for the disk would make every cycle of the
# 4 s stall late, hundreds of them.
check(late1 - late0 <= base + 5, "more late cycles during the stall than the machine's own")
sys.exit(0 if ok else 1)
PY
info=$(sndfile-info "$dir/take.wav") || fail "the take does not open"
frames=$(echo "$info" | sed -n 's/^Frames *: *//p' | head -n 1)
# 1.5 s before the stall and the ring's 2.7 s during it, at least the first
[ "${frames:-0}" -ge 72000 ] || fail "the take holds $frames frames"
finish_echoeld "$dir/log"
echo "ok: a stalled disk: underrun and overrun events, the take closed valid ($frames frames)," \
	"no late cycle, the player back after it"
