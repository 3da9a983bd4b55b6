#!/bin/sh
# Property: echoelctl does what echoelctl(1) says against the real daemon. Black box: the real
# echoeld on the dummy backend (a tone -> gain "volume" -> meter -> output graph, so audio
# really runs) and the real echoelctl on its socket. Every command exits 0 and prints what the
# man page shows; --json prints one line of JSON with the daemon's result; a refusal exits 1
# with "echoelctl: CODE:", usage errors exit 2, an absent socket exits 3; $ECHOELD_SOCKET
# stands in for --socket, which wins over it; `batch` reads a file or standard input; `reload`
# re-reads the configuration file; `load` switches to a file under [ipc] file_dirs and refuses
# one outside, as IR files named outside them (in `node add` or a loaded file); `monitor` shows
# meters, load and a row per node, as plain lines in a pipe and redrawn in place on a terminal;
# SIGTERM stops the daemon cleanly and removes its socket, and a running monitor then says the
# daemon stopped and exits 0; `node remove` works as `node rm` does; a connect that would make
# a cycle is refused naming the command; `play`, `seek`, `stop`, `record` and `record stop`
# add, move and remove players and recorders, and a stopped take's file opens; on battery a
# waiting player is deferred (its file not decoded) until it is asked to play; `config dump` and
# `config save` give the running configuration, which reproduces the graph and its values.
#
# usage: test-echoelctl.sh ECHOELD ECHOELCTL
set -eu

ECHOELD=$1
ECHOELCTL=$2
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
dir=$(mktemp -d /tmp/test-echoelctl-XXXXXX) # /tmp: the socket path must fit sockaddr_un
pid=''
mpid=''
pid2=''
epid=''
cleanup() {
	kill_reap "$pid" "$mpid" "$epid" "$pid2"
	rm -rf "$dir"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	for f in out err log; do
		[ -f "$dir/$f" ] && { echo "--- $f:"; cat "$dir/$f"; }
	done
	exit 1
}

# ctl RC ARGS...: runs echoelctl on the daemon's socket; stdout in $dir/out, stderr in
# $dir/err; fails unless it exits RC. Standard input is the caller's (for batch).
ctl() {
	want=$1
	shift
	rc=0
	"$ECHOELCTL" --socket "$dir/control" "$@" >"$dir/out" 2>"$dir/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "echoelctl $*: exit $rc, expected $want"
}

# until_out SECONDS PATTERN ARGS...: `echoelctl ARGS` (exit 0) again every 0.1 s until its stdout
# has a line matching the ERE PATTERN; fail after SECONDS. For what another thread applies (a set
# lands at the RT thread's next cycle, a pin at the policy thread's next look): how soon is the
# machine's business, not the test's.
until_out() {
	n=$(($1 * 10))
	pattern=$2
	shift 2
	until ctl 0 "$@" && grep -Eq -- "$pattern" "$dir/out"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "echoelctl $*: no line matching '$pattern' after $1 s"
		sleep 0.1
	done
}

# out PATTERN / err PATTERN: the last stdout / stderr has a line matching the ERE.
out() {
	grep -Eq -- "$1" "$dir/out" || fail "echoelctl stdout has no line matching '$1'"
}
err() {
	grep -Eq -- "$1" "$dir/err" || fail "echoelctl stderr has no line matching '$1'"
}

# json EXPR [ARG]: the last stdout is one line of JSON, v, for which the Python expression EXPR
# holds (ARG, if given, is sys.argv[3]).
json() {
	[ "$(grep -c '' "$dir/out")" -eq 1 ] || fail "--json: not one line"
	python3 -c 'import json, sys; v = json.load(open(sys.argv[1])); sys.exit(not eval(sys.argv[2]))' \
		"$dir/out" "$@" || fail "--json output is not JSON for which $1"
}

mkdir "$dir/allowed"
# A laptop at 15 % on battery, as the policy reads it (a fake sysfs tree).
fake_battery "$dir/sys/class/power_supply/BAT0" Discharging 15
cat >"$dir/echoeld.conf" <<EOF
[engine]
block = 256
fade_ms = 10
[ipc]
file_dirs = $dir/allowed
[policy]
sysfs_root = $dir/sys
[node.tone]
type = tone
freq = 997
channels = 2
[node.volume]
type = gain
input = tone
[node.meter]
type = meter
input = volume
[node.out]
type = output
input = meter
EOF

XDG_STATE_HOME="$dir/state" \
	"$ECHOELD" --config "$dir/echoeld.conf" --socket "$dir/control" --backend dummy 2>"$dir/log" &
pid=$!
wait_for_echoeld "$dir/control" 10 "$pid"

# Reading the state.
ctl 0 status
out '^backend +dummy$'
out '^rate +48000 Hz$'
out '^nodes +4$'
out '^policy +mode low, thermal nominal$'
ctl 0 node list
out '^NAME +TYPE +IN +OUT +INPUT$'
out '^volume +gain +2 +2 +tone$'
out '^meter +meter +2 +2 +volume$'
ctl 0 node get volume
out '^type +gain$'
out '^input +tone$'
out '^  gain_db +dB '
out '^stats: '
ctl 0 stats
out '^NAME +TYPE +RUNS +SKIPS +AVG$'
out '^volume +gain +[0-9]+ +[0-9]+ +[0-9.]+ us$'
ctl 0 hello
out '^protocol +1$'
out '^commands +.*node\.list'
ctl 0 policy
out '^mode +low \(below-low\)$'
out '^thermal +nominal \(no-zones\)$'
out '^battery +15 %$'
out '^scales +0 worker threads, FIR tail -60 dB, meters 10/s, quality low, background wait, IR preparation throttle$'
out '^  class/power_supply/BAT0/capacity +15$'
ctl 0 policy set mode=unrestricted
# the policy thread applies it at once; its snapshot follows
until_out 5 '^mode +unrestricted \(below-low, pinned\)$' policy
out '^scales +0 worker threads, FIR tail full, meters 60/s'
ctl 0 policy set mode=auto thermal=serious
until_out 5 '^thermal +serious \(no-zones, pinned\)$' policy
out '^mode +low \(below-low\)$'
out '^thermal +serious \(no-zones, pinned\)$'
ctl 0 policy set thermal=auto
ctl 2 policy set speed=fast
err "expected mode=MODE or thermal=STATE, got 'speed=fast'"
ctl 1 policy set mode=turbo
err "'turbo' is not low, normal, unrestricted or auto"
ctl 0 --json policy
json "v['mode'] == 'low' and v['actions']['fir_tail_db'] == -60"

# Parameters: the RT thread applies a set at the next cycle, after which get reads it.
ctl 0 set volume.gain_db -6
until_out 5 '^-6\.0$' get volume.gain_db
# Typed values, read by the daemon against the parameter (set-value.h): a unit, a relative
# change, a share on the volume curve; a unit that is not the parameter's is refused.
ctl 0 set volume.gain_db -12dB
until_out 5 '^-12\.0$' get volume.gain_db
ctl 0 set volume.gain_db +3
until_out 5 '^-9\.0$' get volume.gain_db
ctl 0 set volume.gain_db 1dB-
until_out 5 '^-10\.0$' get volume.gain_db
ctl 0 set volume.gain_db 50%
until_out 5 '^-18\.1$' get volume.gain_db
ctl 1 set volume.gain_db 10ms
err "^echoelctl: bad_argument: '10ms': gain_db is in dB, not in ms$"
ctl 0 set volume.gain_db -6
until_out 5 '^-6\.0$' get volume.gain_db

# Graph changes.
ctl 0 node add t2 tone freq=500
ctl 0 node list
out '^t2 +tone '
ctl 0 connect t2 volume
ctl 0 node get volume
out '^input +tone, t2$'
ctl 0 disconnect t2 volume
ctl 0 node get volume
out '^input +tone$'
ctl 0 node rm t2
ctl 0 node list
! grep -q '^t2 ' "$dir/out" || fail "t2 still listed after node rm"
# A connect that would close a cycle is refused naming the command, not a line of the file
# that holds the other edges of the cycle.
ctl 1 connect meter volume
err "^echoelctl: conflict: connect: key 'input': cycle: volume -> meter -> volume$"
ctl 0 node get volume
out '^input +tone$'
# `node remove` is the protocol's word (node.remove), accepted beside `node rm`, also in batch.
ctl 0 node add t2 tone freq=500
ctl 0 node remove t2
ctl 0 node list
! grep -q '^t2 ' "$dir/out" || fail "t2 still listed after node remove"
ctl 0 node add t2 tone freq=500
printf 'node remove t2\n' | ctl 0 batch
ctl 0 node list
! grep -q '^t2 ' "$dir/out" || fail "t2 still listed after a batch's node remove"

# A batch from standard input.
ctl 0 batch <<'EOF'
set volume.gain_db -3
set volume.mute on
EOF
until_out 5 '^-3\.0$' get volume.gain_db
ctl 0 get volume.mute
[ "$(cat "$dir/out")" = "1" ] || fail "get volume.mute after the batch"

# A batch from a file: a comment, a command line and a protocol line; --json shows the result.
cat >"$dir/changes.batch" <<'END'
# louder, and unmuted
set volume.gain_db -2
{"cmd": "set", "args": {"node": "volume", "param": "mute", "value": 0}}
END
ctl 0 --json batch "$dir/changes.batch"
json 'v == {"applied": 2}'
until_out 5 '^-2\.0$' get volume.gain_db
ctl 0 --json get volume.gain_db
json 'v == {"value": -2.0}'
ctl 0 get volume.mute
[ "$(cat "$dir/out")" = "0" ] || fail "get volume.mute after the batch file"

# reload: the configuration file, edited on disk, becomes the graph.
cat >>"$dir/echoeld.conf" <<'END'
[node.t3]
type = tone
freq = 300
END
ctl 0 reload
ctl 0 node list
out '^t3 +tone '

# load: a file under [ipc] file_dirs becomes the running configuration.
cp "$dir/echoeld.conf" "$dir/allowed/loaded.conf"
printf '[node.t4]\ntype = tone\nfreq = 400\n' >>"$dir/allowed/loaded.conf"
ctl 0 load "$dir/allowed/loaded.conf"
ctl 0 --json node list
json '[n["name"] for n in v] == ["tone", "volume", "meter", "out", "t3", "t4"]'
ctl 0 --json status
json 'v["config"] == sys.argv[3] and v["nodes"] == 6' "$dir/allowed/loaded.conf"

# $ECHOELD_SOCKET stands in for --socket; --socket wins over it.
rc=0
ECHOELD_SOCKET="$dir/control" "$ECHOELCTL" status >"$dir/out" 2>"$dir/err" || rc=$?
[ "$rc" -eq 0 ] || fail "ECHOELD_SOCKET=$dir/control status: exit $rc, expected 0"
out '^backend +dummy$'
rc=0
ECHOELD_SOCKET="$dir/none" "$ECHOELCTL" --socket "$dir/control" hello >"$dir/out" \
	2>"$dir/err" || rc=$?
[ "$rc" -eq 0 ] || fail "--socket with ECHOELD_SOCKET elsewhere: exit $rc, expected 0"
rc=0
ECHOELD_SOCKET="$dir/none" "$ECHOELCTL" hello >"$dir/out" 2>"$dir/err" || rc=$?
[ "$rc" -eq 3 ] || fail "ECHOELD_SOCKET to nothing: exit $rc, expected 3"
err "^echoelctl: cannot connect to '$dir/none': "

# monitor with stdout not a terminal: one plain line per event, after each load line one per
# node with its time per run and per cycle and its share of the period; no escape sequences.
ctl 0 monitor --count 4
[ "$(grep -Ec '^(meters|load) ' "$dir/out")" -eq 4 ] || fail "monitor --count 4: not four events"
node_line='^node [a-z0-9]+ type=[a-z]+ run_us=[0-9.]+ cycle_us=[0-9.]+ period=[0-9.]+% running=[0-9]+%$'
! grep -Evq "^(meters|load) time=[0-9.]+ |$node_line" "$dir/out" ||
	fail "monitor: a line that is not plain"
for n in tone volume meter out t3 t4; do
	[ "$(grep -c "^node $n type=" "$dir/out")" -eq 2 ] || fail "monitor: not a line per load for node $n"
done
# a source runs every cycle and takes some (nonzero) share of the period
out '^node tone type=tone run_us=[0-9.]+ cycle_us=[0-9.]+ period=([1-9][0-9]*\.[0-9]{2}|0\.(0[1-9]|[1-9][0-9]))% running=100%$'
! grep -q "$(printf '\033')" "$dir/out" || fail "monitor: escape sequences in a pipe"

# monitor on a terminal (script(1) gives it one): the table redrawn in place, nodes below meters.
if command -v script >/dev/null 2>&1; then
	rc=0
	script -qec "'$ECHOELCTL' --socket '$dir/control' monitor --count 4" "$dir/tty" \
		</dev/null >/dev/null 2>"$dir/err" || rc=$?
	[ "$rc" -eq 0 ] || fail "monitor on a terminal: exit $rc"
	tr -d '\r' <"$dir/tty" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' >"$dir/out"
	[ "$(grep -c "$(printf '\033\\[H')" "$dir/tty")" -ge 4 ] || fail "monitor: not redrawn in place"
	out '^NODE +TYPE +PER RUN +PER CYCLE +PERIOD +RUNNING$'
	out '^volume +gain +[0-9.]+ us +[0-9.]+ us +[0-9.]+ % +[0-9]+ %$'
	out '^meter +1 +[#.]+ +-?[0-9.]+ '
else
	echo "# no script(1): monitor on a terminal not tested"
fi

# --json: one line of JSON.
ctl 0 --json status
python3 -c 'import json,sys; json.load(sys.stdin)' <"$dir/out" || fail "--json status: not JSON"
[ "$(grep -c '' "$dir/out")" -eq 1 ] || fail "--json status: not one line"

# Refusals (1), usage errors (2), no daemon (3).
ctl 1 get nope.x
err '^echoelctl: not_found: '
ctl 2 set
err '^usage: echoelctl '
ctl 2 frobnicate
err "^echoelctl: unknown command 'frobnicate'$"
rc=0
"$ECHOELCTL" --socket "$dir/none" status >"$dir/out" 2>"$dir/err" || rc=$?
[ "$rc" -eq 3 ] || fail "--socket to nothing: exit $rc, expected 3"
err "^echoelctl: cannot connect to '$dir/none': "
cp "$dir/echoeld.conf" "$dir/outside.conf"
ctl 1 load "$dir/outside.conf"
err '^echoelctl: permission: '
# Files named inside a request or a loaded file are held to file_dirs too, and the refusal
# reads the same whether or not the file outside exists.
ctl 1 node add f fir --input tone "ir=$dir/outside.conf"
sed "s|$dir/outside.conf|PATH|" "$dir/err" >"$dir/err.there"
ctl 1 node add f fir --input tone "ir=$dir/nothing.wav"
sed "s|$dir/nothing.wav|PATH|" "$dir/err" >"$dir/err.missing"
cmp -s "$dir/err.there" "$dir/err.missing" || fail "refusals differ for a file there and not"
err "^echoelctl: permission: \[node.f\] key 'ir': '$dir/nothing.wav' is outside "
printf '[node.f]\ntype = fir\ninput = tone\nir = ../outside.conf\n' >"$dir/allowed/ir.conf"
ctl 1 load "$dir/allowed/ir.conf"
err "^echoelctl: permission: $dir/allowed/ir.conf:4: key 'ir': "
# a filter for one rate (ir_RATE) names a file as `ir` does
ctl 1 node add f fir --input tone "ir_44100=$dir/nothing.wav"
err "^echoelctl: permission: \[node.f\] key 'ir_44100': '$dir/nothing.wav' is outside "

# Files: `play` adds a player under a free name into a mix, `seek` moves it, `stop` removes it;
# `record` adds a recorder on a channel or a node, `record stop` ends the take and closes a
# valid file in the recordings directory; files outside file_dirs are refused.
stereo_wav "$dir/allowed/song.wav" 3
ctl 0 node add bus mix --input volume
ctl 0 play "$dir/allowed/song.wav" --loop --to bus
out '^play-1$'
ctl 0 node get bus
out '^input +volume, play-1$'
ctl 0 --json play "$dir/allowed/song.wav"
json 'v == {"node": "play-2"}'
ctl 0 seek play-1 2.5
until_out 5 '^(2\.[5-9]|[01]\.)' get play-1.position_s
ctl 0 stop play-2
# a subscriber to `record` events sees both takes start and stop
python3 - "$dir/control" >"$dir/events" <<'PY' &
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"id":1,"cmd":"subscribe","args":{"events":["record","underrun","overrun"]}}\n')
f, stopped, end = s.makefile(), 0, time.time() + 30
while stopped < 2 and time.time() < end:
    line = f.readline()
    if not line:
        break
    v = json.loads(line)
    print(v.get("event"), v.get("node"), v.get("take"), v.get("why", ""), flush=True)
    stopped += v.get("take") == "stopped"
PY
epid=$!
wait_for 10 "the events subscriber" grep -q '^None None None' "$dir/events"
ctl 0 record volume:2 'one-%Y.wav'
out '^rec-1$'
ctl 0 record volume both.flac
out '^rec-2$'
until_out 10 '^([5-9][0-9]{4}|[0-9]{6,})$' get rec-2.frames
ctl 0 record stop rec-2
ctl 0 record stop rec-1
wait "$epid" || fail "the events subscriber failed"
epid=
for want in 'record rec-1 started' 'record rec-2 started' 'record rec-1 stopped' \
	'record rec-2 stopped'; do
	grep -q "^$want" "$dir/events" || { cat "$dir/events"; fail "no '$want' event"; }
done
ctl 1 record stop rec-1
err "^echoelctl: not_found: "
info=$(sndfile-info "$dir/state/echoeld/recordings/both.flac") || fail "both.flac does not open"
echo "$info" | grep -Eq '^Channels +: 2$' || fail "both.flac: not 2 channels: $info"
frames=$(echo "$info" | sed -n 's/^Frames *: *//p' | head -n 1)
[ "${frames:-0}" -ge 50000 ] || fail "both.flac holds $frames frames"
ls "$dir/state/echoeld/recordings/one-$(date +%Y).wav" >/dev/null || fail "no one-YEAR.wav"
ctl 0 stop play-1
ctl 0 node get bus
out '^input +volume$'
ctl 0 node rm bus
# On battery (mode low here) a waiting player's file is not decoded ahead: cache prefetch is
# low-priority background work, which waits. The player is deferred until asked to play.
stereo_wav "$dir/allowed/later.wav" 2
ctl 0 node add later player "file=$dir/allowed/later.wav" start=wait
ctl 0 --json node get later
json "v['details']['source'] == 'deferred' and v['details']['cached'] == 0"
ctl 0 set later.playing 1
until_out 10 '"source": *"(memory|stream)"' --json node get later
grep -q "decoded a waiting player's file" "$dir/log" || fail "no word of the deferred decoding"
ctl 0 node rm later
ctl 1 play "$dir/outside.conf"
err "^echoelctl: permission: "
ctl 1 record volume ../../escape.wav
err "^echoelctl: permission: "
ctl 2 seek play-1 soon
err "^echoelctl: seek: 'soon' is not a position in seconds$"
ctl 2 play "$dir/allowed/nothing.wav"
err "^echoelctl: play: cannot resolve "
ctl 2 record volume
err '^echoelctl: usage: echoelctl record NODE\[:CH\] FILE$'

# Latency: a delay and a limiter's look-ahead on the way to the output add up in status and in
# each node's node.get (10 ms = 480 frames, 5 ms = 240 at 48 kHz).
ctl 0 batch <<'EOF'
node add dly delay --input volume delay_ms=10
node add lim limiter --input dly lookahead_ms=5
disconnect volume meter
connect lim meter
EOF
ctl 0 --json status
json "v['latency'] == {'frames': 720, 'ms': 15.0}"
ctl 0 --json node get dly
json "v['latency']['frames'] == 480"
ctl 0 node get lim
out '^latency +720 frames \(15\.00 ms\) from the sources to here$'
ctl 0 batch <<'EOF'
disconnect lim meter
connect volume meter
node rm lim
node rm dly
EOF
ctl 0 --json status
json "v['latency']['frames'] == 0"

# The running configuration: edits and parameter values included; --check-config takes it, a
# second daemon started on the saved file runs the same graph at the same values; config save
# writes only inside file_dirs.
ctl 0 node add spare gain --input tone gain_db=-3
ctl 0 set volume.gain_db -7.5
until_out 5 '^-7\.5$' get volume.gain_db
ctl 0 config dump
cp "$dir/out" "$dir/dump.conf"
grep -q '^# echoeld: the running configuration' "$dir/dump.conf" || fail "config dump: no header"
grep -A3 '^\[node.volume\]' "$dir/dump.conf" | grep -qx 'gain_db = -7.5' ||
	fail "config dump: volume's gain_db is not -7.5: $(cat "$dir/dump.conf")"
"$ECHOELD" --check-config "$dir/dump.conf" 2>"$dir/err" ||
	fail "--check-config refuses the dump: $(cat "$dir/err")"
ctl 0 config save "$dir/allowed/saved.conf"
cmp -s "$dir/dump.conf" "$dir/allowed/saved.conf" || fail "config save differs from config dump"
ctl 1 config save "$dir/saved.conf"
err "^echoelctl: permission: "
[ ! -e "$dir/saved.conf" ] || fail "config save wrote outside file_dirs"
ctl 0 node list
mv "$dir/out" "$dir/list.first"
XDG_STATE_HOME="$dir/state2" "$ECHOELD" --config "$dir/allowed/saved.conf" \
	--socket "$dir/control2" --backend dummy 2>"$dir/log2" &
pid2=$!
wait_for_echoeld "$dir/control2" 10 "$pid2"
"$ECHOELCTL" --socket "$dir/control2" node list >"$dir/list.second" || fail "second daemon"
"$ECHOELCTL" --socket "$dir/control2" get volume.gain_db >"$dir/gain.second" || fail "get"
kill -TERM "$pid2"
wait "$pid2" || fail "the daemon on the saved configuration did not stop cleanly"
pid2=
cmp -s "$dir/list.first" "$dir/list.second" ||
	fail "the saved configuration builds another graph: $(diff "$dir/list.first" "$dir/list.second")"
grep -qx -- '-7.5' "$dir/gain.second" || fail "saved gain_db: $(cat "$dir/gain.second")"
ctl 0 node rm spare

# SIGTERM: a clean exit that removes the socket; a monitor running meanwhile says the daemon
# stopped and exits 0 (a stop is not a failed connection).
"$ECHOELCTL" --socket "$dir/control" monitor --rate 60 >"$dir/mon" 2>"$dir/mon.err" &
mpid=$!
wait_for 30 "monitor's first event" grep -q '^load ' "$dir/mon"
term_wait "$pid"
pid=''
[ "$status" -eq 0 ] || fail "echoeld exited $status after SIGTERM"
rc=0
wait "$mpid" || rc=$?
mpid=''
[ "$rc" -eq 0 ] || { cat "$dir/mon.err"; fail "monitor exited $rc when the daemon stopped"; }
grep -qx 'echoelctl: the daemon stopped' "$dir/mon.err" || { cat "$dir/mon.err";
	fail "monitor did not say the daemon stopped"; }
[ ! -e "$dir/control" ] || fail "echoeld left its socket behind"
if grep -Eq "RealtimeSanitizer|real-time unsafe|ThreadSanitizer|AddressSanitizer|runtime error" \
	"$dir/log"; then
	fail "sanitizer report in the daemon's log"
fi
echo "ok: echoelctl status, node list/get/add/rm, connect, disconnect, set/get, batch (stdin" \
	"and file), reload, load, ECHOELD_SOCKET, monitor (pipe and terminal), --json, exit codes" \
	"1/2/3, load/IR permission, play/seek/stop, record/record stop, a player deferred on" \
	"battery and config dump/save against the real echoeld"
