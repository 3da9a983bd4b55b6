#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: `echoeld render` is background work of the power and heat policy, paced but never
# changed by it. On a fake laptop at 15 % on battery (the policy says: wait) a render does not
# finish and says why, once; when the charger is plugged in (the files change) it goes on by
# itself and finishes, and its output is bit-identical to a render with the policy off.
#
# usage: test-render-policy.sh ECHOELD
set -eu

ECHOELD=$1
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
dir=$(mktemp -d /tmp/test-render-policy-XXXXXX)
pid=''
cleanup() {
	kill_reap "$pid"
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- render log:"; cat "$dir/log" 2>/dev/null; exit 1; }

# 20 s of a stereo sine: long enough that the render checks the policy (every 50 ms of work)
python3 - "$dir/in.wav" <<'PY'
import math, struct, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(2)
    w.setsampwidth(2)
    w.setframerate(48000)
    one = b"".join(struct.pack("<hh", v, v) for v in
                   (int(12000 * math.sin(2 * math.pi * 440 * i / 48000)) for i in range(48000)))
    w.writeframes(one * 20)
PY

bat=$dir/sys/class/power_supply/BAT0
fake_battery "$bat" Discharging 15
graph='[node.in]
type = input
channels = 2
[node.eq]
type = eq
input = in
band1 = peaking 1000 1.0 -3
[node.out]
type = output
input = eq'
printf '[policy]\nsysfs_root = %s/sys\npoll_ms = 100\ndwell_ms = 0\n%s\n' "$dir" "$graph" \
	>"$dir/policy.conf"
printf '[policy]\nenabled = no\n%s\n' "$graph" >"$dir/off.conf"

"$ECHOELD" render --config "$dir/off.conf" "$dir/in.wav" "$dir/reference.wav" 2>"$dir/log" ||
	fail "render with the policy off"

"$ECHOELD" render --config "$dir/policy.conf" "$dir/in.wav" "$dir/out.wav" 2>"$dir/log" &
pid=$!
for _ in $(seq 50); do grep -q "render: waiting" "$dir/log" && break; sleep 0.1; done
grep -q "render: waiting, the power policy holds background work (mode low" "$dir/log" ||
	fail "no word of waiting on a low battery"
sleep 1
kill -0 "$pid" 2>/dev/null || fail "the render finished although the policy says wait"
[ "$(grep -c "render: waiting" "$dir/log")" -eq 1 ] || fail "the wait is announced more than once"

echo Charging >"$bat/status"
status=0
wait "$pid" || status=$?
pid=''
[ "$status" -eq 0 ] || fail "render exited with $status after the charger came"
grep -q "render: going on (mode unrestricted" "$dir/log" || fail "no word of going on"
cmp -s "$dir/out.wav" "$dir/reference.wav" || fail "the paced render's output differs"
echo "ok: a render waits on a low battery, goes on on AC, and its output is unchanged"
