#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: a reload (SIGHUP) with a bad configuration is refused and disturbs nothing. While a
# tone plays on the own clock, the file is replaced by one with an unknown key, then by one with
# a cycle in its graph: each SIGHUP logs the reason with FILE:LINE (or the nodes of the cycle),
# the daemon keeps running, its graph is the one it had and the tone still reads its level. A
# good file then reloads as usual.
#
# usage: test-reload-refused.sh ECHOELD ECHOELCTL
set -eu

ECHOELD=$1
ECHOELCTL=$2
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
dir=$(mktemp -d /tmp/test-reload-refused-XXXXXX)
pid=''
cleanup() {
	kill_reap "$pid"
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- echoeld log:"; cat "$dir/log"; exit 1; }
ctl() { "$ECHOELCTL" --socket "$dir/control" "$@"; }

cat >"$dir/good.conf" <<'CONF'
[node.tone]
type = tone
freq = 1000
level_db = -12
[node.meter]
type = meter
input = tone
[node.out]
type = output
input = meter
CONF
cp "$dir/good.conf" "$dir/echoeld.conf"
"$ECHOELD" --config "$dir/echoeld.conf" --socket "$dir/control" --backend dummy 2>"$dir/log" &
pid=$!
wait_for_socket "$dir/control" 5 || true
sleep 0.3
nodes_before=$(ctl node list)

# reload_refused NEEDLE: SIGHUP, then the log must gain a line containing NEEDLE.
reload_refused() {
	lines=$(wc -l <"$dir/log")
	kill -HUP "$pid"
	for _ in $(seq 30); do
		tail -n +"$((lines + 1))" "$dir/log" | grep -qF "$1" && break
		sleep 0.1
	done
	tail -n +"$((lines + 1))" "$dir/log" | grep -qF "$1" || fail "no '$1' in the log after SIGHUP"
	kill -0 "$pid" || fail "echoeld exited on a bad reload"
	[ "$(ctl node list)" = "$nodes_before" ] || fail "a refused reload changed the graph"
	level=$(ctl get meter.peak_db 1)
	case "$level" in -12.0*|-11.9*) ;; *) fail "after a refused reload the tone reads '$level'" ;; esac
}

{ cat "$dir/good.conf"; printf '[node.extra]\ntype = gain\ninput = tone\ngain_bd = 3\n'; } \
	>"$dir/echoeld.conf"
reload_refused "echoeld.conf:14: key 'gain_bd': unknown key in [node.extra]"

{ cat "$dir/good.conf"; printf '[node.a]\ntype = gain\ninput = b\n[node.b]\ntype = gain\ninput = a\n'; } \
	>"$dir/echoeld.conf"
reload_refused "cycle"

{ cat "$dir/good.conf"; printf '[node.extra]\ntype = gain\ninput = tone\ngain_db = 3\n'; } \
	>"$dir/echoeld.conf"
kill -HUP "$pid"
for _ in $(seq 30); do ctl node list | grep -q extra && break; sleep 0.1; done
ctl node list | grep -q extra || fail "a good file after bad ones did not reload"

term_wait "$pid"
pid=''
[ "$status" -eq 0 ] || fail "echoeld exited with $status"
if grep -Eq "Sanitizer|real-time unsafe|runtime error" "$dir/log"; then fail "a sanitizer reported"; fi
echo "ok: bad reloads refused with their reason, graph and audio untouched; a good one applies"
