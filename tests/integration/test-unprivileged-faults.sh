#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: what an unprivileged service may be refused costs a clear message, never the audio.
# The real echoeld as nobody (setpriv, no capabilities), on the own clock, with a state
# directory it cannot write (root's, 0555), a fir whose 44.1 kHz IR must be resampled (the sample
# cache), and a recorder with a relative file (the recordings directory):
#   - mlockall refused (the memlock limit), SCHED_FIFO refused (no CAP_SYS_NICE, RLIMIT_RTPRIO
#     0), FFTW wisdom, layouts, sample cache and recordings directory unwritable: one warning
#     each naming what and why (and what to grant), the recorder's take failing with the
#     directory it could not make; cycles run; `workers_realtime` false;
#   - the configuration directory made unreadable before a reload (IPC and SIGHUP): the reload
#     is refused naming the file and the reason, the running graph keeps playing; readable
#     again: the reload works;
#   - SIGTERM: a clean exit.
# (sysfs files vanishing under the policy: test-policy and test-policy-vanish; the socket
# directory removed: test-socket-gone; a read-only disk for recordings: test-node-recorder.)
#
# usage: test-unprivileged-faults.sh ECHOELD ECHOELCTL   (exit 77 when not root or no setpriv)
set -eu

# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools setpriv python3
[ "$(id -u)" = 0 ] || { echo "skip: needs root to run echoeld as another user"; exit 77; }
dir=$(mktemp -d /tmp/test-unpriv-XXXXXX) # /tmp: the socket path must fit sockaddr_un
chmod 755 "$dir"
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
# nobody must reach the binaries: the build tree may lie under a private directory
cp "$1" "$dir/echoeld"
cp "$(dirname "$1")/echoeld-service.so" "$dir/" # the daemon itself (daemon/service.h)
cp "$2" "$dir/echoelctl"
chmod 755 "$dir/echoeld" "$dir/echoelctl"
chmod 644 "$dir/echoeld-service.so"
mkdir "$dir/conf" "$dir/run" "$dir/state"
chmod 555 "$dir/state"
python3 - "$dir/conf/ir44.wav" <<'PY'
import struct, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(44100)
    w.writeframes(b"".join(struct.pack("<h", int(20000 * 0.99 ** i)) for i in range(3000)))
PY
cat >"$dir/conf/echoeld.conf" <<'EOF2'
[node.tone]
type = tone
[node.fir]
type = fir
input = tone
ir = ir44.wav
[node.rec]
type = recorder
input = fir
file = take.wav
[node.meter]
type = meter
input = fir
[node.out]
type = output
input = meter
EOF2
chown -R 65534:65534 "$dir/conf" "$dir/run"
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		env HOME="$dir" XDG_RUNTIME_DIR="$dir/run" STATE_DIRECTORY="$dir/state" "$@"
}
sock=$dir/run/control
ctl() { as_nobody "$dir/echoelctl" --socket "$sock" "$@"; }
cycles() { ctl --json status | python3 -c 'import json, sys; print(json.load(sys.stdin)["cycles"])'; }
plays() {
	a=$(cycles)
	sleep 0.5
	[ "$(cycles)" -gt "$a" ]
}
logged() { grep -qE "$1" "$dir/log" || fail "not in the log: $1"; }

# not through as_nobody: a function in the background is a subshell, and signals must reach echoeld
setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$dir" XDG_RUNTIME_DIR="$dir/run" \
	STATE_DIRECTORY="$dir/state" "$dir/echoeld" --config "$dir/conf/echoeld.conf" \
	--socket "$sock" --backend dummy 2>"$dir/log" &
epid=$!
wait_for_echoeld "$sock" 20 "$epid"
wait_for 10 "the recorder's take to fail" grep -q "recorder 'rec'" "$dir/log"
# mlockall over the 8 MiB limit fails; AddressSanitizer's mlockall does nothing and succeeds,
# which the daemon then reports as locking what exists only
logged "cannot lock memory \(.*\): .*raise LimitMEMLOCK= or run with CAP_IPC_LOCK|memory locked, but only what is allocated now \(RLIMIT_MEMLOCK is finite\)"
logged "no real-time scheduling \(SCHED_FIFO refused\): .*grant CAP_SYS_NICE or LimitRTPRIO="
logged "cannot save FFTW wisdom to '$dir/state/fftw-wisdom': Permission denied"
logged "cannot write '$dir/state/fir-layouts[^']*': Permission denied"
logged "the sample cache '$dir/state/cache' cannot be written \('$dir/state': Permission denied\)"
logged "the recordings directory '$dir/state/recordings' cannot be written"
logged "recorder 'rec': '$dir/state/recordings' failed: Permission denied"
plays || fail "no cycles as nobody"
ctl --json status | grep -q '"workers_realtime": *false' || fail "workers_realtime is not false"

# the configuration directory unreadable before a reload
chmod 000 "$dir/conf"
if ctl reload 2>"$dir/reload.err"; then fail "a reload of an unreadable configuration succeeded"; fi
grep -q "$dir/conf/echoeld.conf.*Permission denied" "$dir/reload.err" ||
	fail "the refused reload did not name the file and why: $(cat "$dir/reload.err")"
kill -HUP "$epid"
wait_for 5 "the refused SIGHUP reload in the log" \
	grep -q "reload failed, the running graph is unchanged: .*$dir/conf/echoeld.conf.*Permission denied" "$dir/log"
plays || fail "the audio stopped after the refused reloads"
ctl --json node list | grep -q '"fir"' || fail "the running graph changed"
chmod 755 "$dir/conf"
ctl reload || fail "the reload failed once the directory was readable again"
plays || fail "no cycles after the reload"

term_wait "$epid"
epid=
[ "$status" -eq 0 ] || fail "echoeld exited with $status"
! sanitizer_reported "$dir/log" || fail "a sanitizer reported"
echo "ok: as nobody: mlockall, SCHED_FIFO, the state directory refused, each named; an" \
	"unreadable configuration refused at reload (IPC and SIGHUP) while the audio played on"
