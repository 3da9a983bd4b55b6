#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: echoeld outlives its sound server, however often it dies. A real `jackd -d dummy`
# (or a private PipeWire with WirePlumber) is killed with SIGKILL and started again COUNT times
# (default 20) under a running echoeld; after every restart echoeld has reconnected by itself,
# without exiting:
#   jack:     its auto-connect rule (echoeld:out_* > system:playback_*) and a connection made by
#             hand (echoeld:tone_out_1 -> echoeld:in_1) are back, and the tone comes round the
#             loop into its meter at -6 dB (the audio flows again);
#   pipewire: its node is back and linked again to its `target` (the null sink), and its cycles
#             run;
# and, with RSS_CHECK yes (the default; no under a sanitizer, whose own bookkeeping grows), its
# resident memory after the last restart is within 1 MiB of what it was after the first (a
# reconnect leaks nothing). Then SIGTERM: a clean exit.
#
# usage: test-server-restarts.sh ECHOELD ECHOELCTL jack|pipewire [COUNT [RSS_CHECK]]
#        (exit 77: no jackd, or no pipewire/wireplumber/dbus-daemon, here)
set -eu

ECHOELD=$1
ECHOELCTL=$2
kind=$3
count=${4:-20}
rss_check=${5:-yes}
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
case $kind in
jack) require_tools jackd jack_lsp jack_connect jack_wait ;;
pipewire) require_tools pipewire wireplumber dbus-daemon pw-cli pw-link timeout ;;
*) echo "usage: $0 ECHOELD ECHOELCTL jack|pipewire [COUNT [RSS_CHECK]]" >&2; exit 2 ;;
esac
dir=$(mktemp -d /tmp/test-restarts-XXXXXX) # /tmp: socket paths must fit sockaddr_un
server=echoeld-restarts-$$
# shellcheck disable=SC2034 # bus_pid, pw_pid, wp_pid: set and read by lib.sh's pw_* helpers
jpid='' epid='' bus_pid='' pw_pid='' wp_pid=''
if [ "$kind" = pipewire ]; then pw_private_env "$dir"; fi
cleanup() {
	kill_reap "$epid" "$jpid"
	[ "$kind" != pipewire ] || pw_session_stop
	[ "$kind" != jack ] || jack_shm_cleanup "$server"
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
	echo "FAIL: $*"
	for f in echoeld.log jackd.log pipewire.log wireplumber.log; do
		[ -s "$dir/$f" ] && { echo "--- $f:"; tail -n 30 "$dir/$f"; }
	done
	exit 1
}
ctl() { "$ECHOELCTL" --socket "$dir/control" "$@"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$epid/status"; }
cycles() { ctl --json status | python3 -c 'import json, sys; print(json.load(sys.stdin)["cycles"])'; }
runs() {
	a=$(cycles) || return 1
	sleep 0.3
	[ "$(cycles)" -gt "$a" ]
}

if [ "$kind" = jack ]; then
	export JACK_DEFAULT_SERVER=$server JACK_NO_START_SERVER=1
	cat >"$dir/echoeld.conf" <<'EOF2'
[jack]
client_name = echoeld
connect = echoeld:out_* > system:playback_*
[node.tone]
type = tone
freq = 1000
level_db = -6.0206
[node.tone_out]
type = output
input = tone
[node.in]
type = input
[node.meter]
type = meter
input = in
[node.out]
type = output
input = tone
EOF2
	start_jackd "$server" "$dir/jackd.log"
else
	pw_session_start "$dir"
	cat >"$dir/echoeld.conf" <<'EOF2'
[pipewire]
node_name = echoeld-rs
target = echo-null-sink
[node.tone]
type = tone
channels = 2
[node.out]
type = output
input = tone
EOF2
fi
"$ECHOELD" --config "$dir/echoeld.conf" --socket "$dir/control" --backend "$kind" \
	2>"$dir/echoeld.log" &
epid=$!
wait_for_echoeld "$dir/control" 10 "$epid"

jconnected() { timeout 5 jack_lsp -s "$server" -c "$1" 2>/dev/null | grep -q "^ *$2\$"; }
loud() {
	level=$(ctl get meter.peak_db 1) || return 1
	awk -v v="$level" 'BEGIN { exit !(v + 0 > -6.5 && v + 0 < -5.5) }'
}
# back: echoeld has reconnected with its connections, and its audio runs
back() {
	if [ "$kind" = jack ]; then
		wait_for 20 "echoeld:out_1 -> system:playback_1 (round $1)" \
			jconnected echoeld:out_1 system:playback_1
		wait_for 10 "echoeld:tone_out_1 -> echoeld:in_1 (round $1)" \
			jconnected echoeld:tone_out_1 echoeld:in_1
		wait_for 10 "the tone round the loop (round $1)" loud
	else
		wait_for 20 "echoeld-rs:out_1 -> the null sink (round $1)" \
			pw_linked echoeld-rs:out_1 echo-null-sink:playback_FL
		wait_for 10 "echoeld-rs:out_2 -> the null sink (round $1)" \
			pw_linked echoeld-rs:out_2 echo-null-sink:playback_FR
		wait_for 10 "cycles (round $1)" runs
	fi
}

if [ "$kind" = jack ]; then
	wait_for 10 "echoeld's ports" jconnected echoeld:out_1 system:playback_1
	timeout 5 jack_connect -s "$server" echoeld:tone_out_1 echoeld:in_1 ||
		fail "jack_connect failed"
fi
back 0
t0=$(date +%s)
i=1
rss_first=''
while [ "$i" -le "$count" ]; do
	if [ "$kind" = jack ]; then
		kill -KILL "$jpid"
		wait "$jpid" 2>/dev/null || true
		jpid=
		jack_shm_cleanup "$server"
		start_jackd "$server" "$dir/jackd.log"
	else
		kill -KILL "$wp_pid" "$pw_pid"
		wait "$wp_pid" "$pw_pid" 2>/dev/null || true
		wp_pid='' pw_pid=''
		rm -f "$XDG_RUNTIME_DIR"/pipewire-0 "$XDG_RUNTIME_DIR"/pipewire-0.lock
		pw_start "$dir"
	fi
	back "$i"
	alive "$epid" || fail "echoeld exited after restart $i"
	[ -n "$rss_first" ] || rss_first=$(rss_kib)
	i=$((i + 1))
done
rss_last=$(rss_kib)
growth=$((rss_last - rss_first))
[ "$rss_check" != yes ] || [ "$growth" -lt 1024 ] ||
	fail "RSS grew ${growth} KiB from the first restart to the last ($rss_first -> $rss_last KiB)"

term_wait "$epid"
epid=
[ "$status" -eq 0 ] || fail "echoeld exited with $status"
! sanitizer_reported "$dir/echoeld.log" || fail "a sanitizer reported"
echo "ok: $kind killed and restarted $count times in $(($(date +%s) - t0)) s: echoeld back with its" \
	"connections and audio each time; RSS $rss_first -> $rss_last KiB (${growth} KiB)"
