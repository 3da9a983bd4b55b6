#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: a recording survives SIGKILL of the daemon. The real echoeld (own clock) records a
# tone to a WAV file; once its recorder has written 3 s, the daemon is killed with SIGKILL.
# The file then opens with libsndfile (sndfile-info) and holds at least what the recorder had
# written a moment before the kill less one second (docs/config.md, "What a crash keeps").
#
# usage: test-record-kill.sh ECHOELD ECHOELCTL
set -eu

ECHOELD=$1
ECHOELCTL=$2
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools sndfile-info
dir=$(mktemp -d /tmp/test-record-kill-XXXXXX) # /tmp: the socket path must fit sockaddr_un
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

cat >"$dir/echoeld.conf" <<EOF
[node.tone]
type = tone
channels = 2
[node.rec]
type = recorder
input = tone
file = $dir/killed.wav
[node.out]
type = output
input = tone
EOF
export XDG_STATE_HOME="$dir/state"
launch_echoeld "$dir/control" "$dir/log" --config "$dir/echoeld.conf" --backend dummy

frames=0
n=0
while [ "${frames%.*}" -lt 144000 ]; do
	frames=$("$ECHOELCTL" --socket "$dir/control" get rec.frames) || fail "echoelctl get"
	n=$((n + 1))
	[ "$n" -lt 200 ] || fail "the recorder wrote only $frames frames in 20 s"
	sleep 0.1
done
kill -KILL "$epid"
wait "$epid" 2>/dev/null || true
epid=''
info=$(sndfile-info "$dir/killed.wav") || fail "the file does not open after SIGKILL"
held=$(echo "$info" | sed -n 's/^Frames *: *//p' | head -n 1)
[ "${held:-0}" -ge $((${frames%.*} - 48000)) ] ||
	fail "the file holds $held frames; $frames were written before the kill"
echo "ok: killed with SIGKILL after $frames frames were written: the file opens and holds $held"
