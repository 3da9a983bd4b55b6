#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: `echoeld render` is background work of the power and heat policy, slowed but never
# held or changed by it. On a fake laptop at 15 % on battery (the table says: wait) and under a
# pinned `mode = low`, `thermal = serious` and `thermal = critical` (states that never change by
# themselves), a render says once that it is slowed, finishes, and its output is bit-identical
# to a render with the policy off.
#
# The time limit is the promise itself, derived from the file's length, which the test sets: a
# render finishes within twice the audio's duration (30 s within a minute). The pacing law
# (render-pacer.h) costs at most 9× the unpaced render, which takes a small fraction of a second
# here, so the limit leaves a loaded machine a wide margin; a held render never meets it.
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

seconds=10 # of audio; long enough that the render asks the policy (every 50 ms of work) often
limit=$((2 * seconds))
python3 - "$dir/in.wav" "$seconds" <<'PY'
import math, struct, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(2)
    w.setsampwidth(2)
    w.setframerate(48000)
    one = b"".join(struct.pack("<hh", v, v) for v in
                   (int(12000 * math.sin(2 * math.pi * 440 * i / 48000)) for i in range(48000)))
    w.writeframes(one * int(sys.argv[2]))
PY

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
printf '[policy]\nenabled = no\n%s\n' "$graph" >"$dir/off.conf"
"$ECHOELD" render --config "$dir/off.conf" "$dir/in.wav" "$dir/reference.wav" 2>"$dir/log" ||
	fail "render with the policy off"

# render_paced NAME WANT PINS...: a render under the policy with PINS ([policy] lines) on the
# fake sysfs tree; it must say it is slowed (WANT in its notice), once, and finish in time.
render_paced() {
	name=$1
	want=$2
	shift 2
	{
		printf '[policy]\nsysfs_root = %s/sys\npoll_ms = 100\ndwell_ms = 0\n' "$dir"
		printf '%s\n' "$@" "$graph"
	} >"$dir/$name.conf"
	start=$(date +%s)
	"$ECHOELD" render --config "$dir/$name.conf" "$dir/in.wav" "$dir/$name.wav" 2>"$dir/log" &
	pid=$!
	ticks=$((limit * 10))
	while alive "$pid" && [ "$ticks" -gt 0 ]; do
		sleep 0.1
		ticks=$((ticks - 1))
	done
	alive "$pid" && fail "$name: the render of ${seconds} s of audio is held (still running after ${limit} s)"
	status=0
	wait "$pid" || status=$?
	pid=''
	[ "$status" -eq 0 ] || fail "$name: render exited with $status"
	grep -q "render: slowed by the power policy ($want" "$dir/log" || fail "$name: no word of '$want'"
	[ "$(grep -c "render: slowed" "$dir/log")" -eq 1 ] || fail "$name: the pause is announced more than once"
	cmp -s "$dir/$name.wav" "$dir/reference.wav" || fail "$name: the paced render's output differs"
	echo "ok: $name: ${seconds} s of audio rendered in about $(($(date +%s) - start)) s (limit ${limit} s), output unchanged"
}

bat=$dir/sys/class/power_supply/BAT0
fake_battery "$bat" Discharging 15
render_paced low-battery "mode low, thermal nominal): pausing 2×"
echo Charging >"$bat/status"
render_paced pinned-low "mode low, thermal nominal): pausing 2×" 'mode = low'
render_paced pinned-serious "mode unrestricted, thermal serious): pausing 4×" 'thermal = serious'
render_paced pinned-critical "mode unrestricted, thermal critical): pausing 8×" 'thermal = critical'
