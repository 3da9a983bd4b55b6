#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: echoeld rides out what a real sound card does to it, with real alsa-lib and no card:
# the device is tests/alsa/pcm-echoeld-test.c, an external ALSA plugin on a real clock that
# fails on demand through a control byte. A stereo tone at -6.02 dB (0.5) plays into it, and
#  - an xrun (the device stops as after an underrun) is recovered in place: counted in `status`,
#    sent as an `xrun` event, and the sound goes on;
#  - the device going away (a USB card unplugged: the running stream disconnected, opening it
#    refused) stops nothing else: the daemon says so (the log, a `backend` event) and keeps
#    answering, nothing more reaches the device, and when it comes back the daemon reopens it by
#    itself (a `backend` event again) and the sound resumes, faded in (the first frames back are
#    quiet, the tone is whole within the fade);
#  - the device goes away and comes back COUNT times in all (default 20; a device lost again
#    soon after its return is flapping, so the daemon's backoff grows: ~5 s a round), reopened
#    each time,
#    the sound back each time, and (RSS_CHECK yes, the default; no under a sanitizer) the
#    daemon's RSS after the last return within 1 MiB of the first;
#  - SIGTERM then stops it cleanly: echoeld never exited for its device.
#
# usage: test-alsa-faults.sh ECHOELD ECHOELCTL PLUGIN [COUNT [RSS_CHECK]]
set -eu

ECHOELD=$1
ECHOELCTL=$2
PLUGIN=$3
count=${4:-20}
rss_check=${5:-yes}
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools python3 dd
dir=$(mktemp -d /tmp/test-alsa-faults-XXXXXX) # /tmp: the socket path must fit sockaddr_un
epid='' spid=''
cleanup() {
	kill_reap "$epid" "$spid"
	rm -rf "$dir"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	[ -f "$dir/log" ] && show_log "$dir/log"
	exit 1
}

ctl() { "$ECHOELCTL" --socket "$dir/control" "$@"; }
# device CMD: the plugin's control byte ('.' play, 'x' one xrun, 'g' gone), written in place
device() { printf '%s' "$1" | dd of="$dir/ctl" bs=1 count=1 conv=notrunc 2>/dev/null; }
size() { stat -c %s "$dir/out.raw" 2>/dev/null || echo 0; }
xruns() { ctl --json status | python3 -c 'import json, sys; print(json.load(sys.stdin)["xruns"])'; }
grown() { [ "$(size)" -gt "$1" ]; }

alsa_test_pcms "$dir" "$PLUGIN" \
	"pcm.faulty { type echoeld_test  control \"$dir/ctl\"  file \"$dir/out.raw\" }"
cat >"$dir/echoeld.conf" <<EOF
[engine]
backend = alsa
block = 256
fade_ms = 10
[alsa]
playback = faulty
format = FLOAT_LE
[node.tone]
type = tone
freq = 1000
level_db = -6.0206
channels = 2
[node.out]
type = output
input = tone
EOF

launch_echoeld "$dir/control" "$dir/log" --config "$dir/echoeld.conf"
wait_for 10 "sound at the device" grown 96000 # a quarter second of stereo float

# subscriber FILE: a subscriber on the socket in the background (spid): it writes "subscribed"
# to FILE once the daemon answered, then every xrun and backend event, a line each
subscriber() {
	python3 - "$dir/control" >"$1" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"id":1,"cmd":"subscribe","args":{"events":["xrun","backend"]}}\n')
f = s.makefile()
for line in f:
    print("subscribed" if '"id":1' in line.replace(" ", "") else line.strip(), flush=True)
PY
	spid=$!
	wait_for 5 "the subscription" grep -q subscribed "$1"
}

# An xrun: recovered in place, counted, told to a subscriber, and the sound goes on.
subscriber "$dir/events"
x0=$(xruns)
device x
wait_for 10 "the xrun counted" sh -c "[ \$(\"$ECHOELCTL\" --socket '$dir/control' --json status | python3 -c 'import json, sys; print(json.load(sys.stdin)[\"xruns\"])') -gt $x0 ]"
wait_for 5 "an xrun event" grep -q '"xrun"' "$dir/events"
s=$(size)
wait_for 5 "sound after the xrun" grown "$s"

# Gone: the daemon keeps answering and writes nothing; back: reopened by itself, faded in.
device g
wait_for 10 "word of the device gone" grep -q "ALSA: the device stopped" "$dir/log"
wait_for 5 "a backend event: away" grep -q '"state": *"away"' "$dir/events"
ctl status >"$dir/status" || fail "the daemon does not answer while its device is gone"
gone_at=$(size)
sleep 1
[ "$(size)" -eq "$gone_at" ] || fail "frames reached a device that is gone"
device .
wait_for 15 "the device reopened" grep -q "ALSA: playback 'faulty' is back" "$dir/log"
wait_for 5 "a backend event: running" grep -q '"state": *"running"' "$dir/events"
kill_reap "$spid"
spid=
wait_for 10 "sound after the device came back" grown $((gone_at + 96000))
python3 - "$dir/out.raw" "$gone_at" <<'PY' || fail "the sound did not come back faded in"
import array, sys
b = open(sys.argv[1], "rb").read()[int(sys.argv[2]):]
y = array.array("f"); y.frombytes(b[: len(b) // 8 * 8])
frames = [max(abs(y[2 * i]), abs(y[2 * i + 1])) for i in range(len(y) // 2)]
first = next(i for i, v in enumerate(frames) if v > 0)       # after the priming silence
head = max(frames[first : first + 48])                       # 1 ms into a 10 ms fade
whole = max(frames[first + 1024 : first + 2048])             # past the fade
if not (head < 0.1 and abs(whole - 0.5) < 0.01):
    sys.exit("peak %.3f in the first ms back, %.3f later (0.5 expected)" % (head, whole))
print("ok: back faded in: peak %.3f in its first ms, %.3f after the fade" % (head, whole))
PY

# Gone and back again, to COUNT returns in all: reopened every time, the sound back every time,
# nothing kept from one absence to the next.
# (Counted by the backend events: the log says a device that flaps, lost again soon after it
# came back, at debug level only.)
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$epid/status"; }
events_are() { [ "$(grep -c "\"state\": *\"$1\"" "$dir/events2")" -ge "$2" ]; }
subscriber "$dir/events2"
rss_first=$(rss_kib)
round=1 # not n: lib.sh's helpers use n
while [ "$round" -lt "$count" ]; do
	round=$((round + 1))
	device g
	wait_for 10 "the device gone (return $round)" events_are away $((round - 1))
	device .
	wait_for 20 "the device back (return $round)" events_are running $((round - 1))
	s=$(size)
	wait_for 10 "sound after return $round" grown $((s + 96000))
done
kill_reap "$spid"
spid=
rss_last=$(rss_kib)
[ "$rss_check" != yes ] || [ $((rss_last - rss_first)) -lt 1024 ] ||
	fail "RSS grew $((rss_last - rss_first)) KiB over $count returns ($rss_first -> $rss_last KiB)"

finish_echoeld "$dir/log"
echo "ok: an xrun recovered in place (counted, an event), the device gone and back $count times:" \
	"reopened by the daemon, faded in, nothing written while it was away, RSS $rss_first ->" \
	"$rss_last KiB, the daemon never exited"
