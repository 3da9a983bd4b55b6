# shellcheck shell=sh
# SPDX-License-Identifier: MIT
# tests/lib.sh: helpers shared by the shell tests and the benchmarks. POSIX sh; sourced, never run:
#
#   . "$(dirname "$0")/../lib.sh"          from tests/integration/*.sh
#   . "$(dirname "$0")/../tests/lib.sh"    from bench/*.sh
#
# (meson runs the tests by their path in the source tree, find_program, so dirname finds it.)
# It only defines functions: the sourcing script keeps its own `set -eu`, traps and cleanup.
# Conventions:
#   - A helper that can fail calls `fail MESSAGE`, which the sourcing script defines (it knows
#     which logs to show) and which must not return.
#   - A helper that starts a process sets the PID variable named in its comment. The script
#     declares it (empty) before it sets its EXIT trap, and stops it in its cleanup.
#   - Helpers use the globals i, n, p, tool and what as scratch (sh has no locals), and
#     term_wait leaves $status: do not hold anything of yours in them across a helper call.

# require_tools TOOL...: exits 77 (meson's "skipped") naming the first TOOL not on the PATH.
require_tools() {
	for tool in "$@"; do
		command -v "$tool" >/dev/null || { echo "skip: $tool is not installed"; exit 77; }
	done
}

# --- processes -------------------------------------------------------------------------------

# alive PID: the process runs (an exited child stays a zombie until waited for, and kill -0
# still reaches a zombie: this does not count it).
alive() {
	[ -r "/proc/$1/stat" ] && ! grep -q ') Z ' "/proc/$1/stat" 2>/dev/null
}

# stop PID: SIGTERM, up to 3 s, then SIGKILL; reaps it. Nothing for an empty PID. Always succeeds.
stop() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || true
	i=0
	while alive "$1" && [ "$i" -lt 30 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# kill_reap PID...: SIGKILL to each PID at once and reaps it; empty PIDs are skipped. For an
# EXIT trap, where there is nothing left to check. Always succeeds.
kill_reap() {
	for p in "$@"; do
		[ -n "$p" ] || continue
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# term_wait PID: SIGTERM to PID (a child of this shell) and waits for it; its exit status is left
# in $status (0: a clean exit). The caller then clears its PID variable and checks $status.
term_wait() {
	kill -TERM "$1"
	status=0
	# shellcheck disable=SC2034 # for the caller
	wait "$1" || status=$?
}

# show_log LOG: prints LOG for a failure: from its first sanitizer report on (60 lines) when it
# has one, else its last 40 lines (xrun warnings can bury the start of a long log).
show_log() {
	echo "--- $1:"
	n=$(grep -nE 'ERROR: AddressSanitizer|WARNING: ThreadSanitizer|RealtimeSanitizer|runtime error|ERROR: LeakSanitizer' "$1" 2>/dev/null | head -n 1 | cut -d: -f1)
	if [ -n "$n" ]; then
		sed -n "$n,$((n + 59))p" "$1"
	else
		tail -n 40 "$1" 2>/dev/null || true
	fi
}

# --- waiting ---------------------------------------------------------------------------------

# wait_for SECONDS WHAT COMMAND...: retries COMMAND (its output discarded) every 0.1 s until it
# succeeds; after SECONDS, fail "timed out waiting for WHAT".
wait_for() {
	n=$(($1 * 10))
	what=$2
	shift 2
	until "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "timed out waiting for $what"
		sleep 0.1
	done
}

# wait_for_socket PATH SECONDS [PID]: polls every 0.1 s, for up to SECONDS, until PATH is a
# socket. Returns 0 once it is, 1 if it is not after SECONDS, 2 as soon as PID (when given) no
# longer runs. Prints nothing: the caller says what a failure means (`|| fail ...`, `|| true`).
wait_for_socket() {
	n=$(($2 * 10))
	while [ ! -S "$1" ]; do
		[ -z "${3:-}" ] || alive "$3" || return 2
		[ "$n" -gt 0 ] || return 1
		n=$((n - 1))
		sleep 0.1
	done
}

# wait_for_echoeld PATH SECONDS PID: wait_for_socket for echoeld (PID)'s control socket PATH;
# fail "echoeld exited before its socket appeared" or "no socket at 'PATH' after SECONDS s".
wait_for_echoeld() {
	wait_for_socket "$@" || case $? in
		2) fail "echoeld exited before its socket appeared" ;;
		*) fail "no socket at '$1' after $2 s" ;;
	esac
}

# --- fixtures --------------------------------------------------------------------------------

# fake_battery DIR STATUS CAPACITY: DIR (e.g. $dir/sys/class/power_supply/BAT0 under a fake
# [policy] sysfs_root) made a battery with that status (Discharging, Charging...) and percentage,
# as the policy reads it. Write DIR/status again to plug the charger in.
fake_battery() {
	mkdir -p "$1"
	echo Battery >"$1/type"
	echo "$2" >"$1/status"
	echo "$3" >"$1/capacity"
}

# cpu_ns PID: on-CPU nanoseconds of every thread of PID (/proc/PID/task/*/schedstat); 0 for an
# empty PID.
cpu_ns() {
	[ -n "$1" ] || { echo 0; return; }
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'
}

# wakeups PID: voluntary context switches (sleeps ended by a wake-up) of all its live threads.
wakeups() {
	[ -n "$1" ] || { echo 0; return; }
	cat /proc/"$1"/task/*/status 2>/dev/null |
		awk '/^voluntary_ctxt_switches:/ { s += $2 } END { printf "%.0f", s }'
}

# --- JACK ------------------------------------------------------------------------------------

# start_jackd SERVER LOG [OPTION...]: a private `jackd -n SERVER OPTION... -d dummy -r RATE
# -p PERIOD` (RATE, PERIOD: env, default 48000 and 256) in its own session, its output in LOG (truncated); waits
# until it answers, else fail. Sets jpid. OPTION: jackd's own, e.g. -r (no real-time scheduling).
start_jackd() {
	p=$1 what=$2
	shift 2
	setsid jackd -n "$p" "$@" -d dummy -r "${RATE:-48000}" -p "${PERIOD:-256}" </dev/null \
		>"$what" 2>&1 &
	# shellcheck disable=SC2034 # for the caller
	jpid=$!
	timeout 10 jack_wait -s "$p" -w -t 5 >/dev/null 2>&1 || fail "jackd did not start"
}

# jack_shm_cleanup SERVER: removes what jackd SERVER left in /dev/shm (once it is stopped), and
# jackd's shared-memory registry when no jackd at all is left. Always succeeds.
jack_shm_cleanup() {
	rm -rf /dev/shm/jack_sem.*"$1"* /dev/shm/jack_"$1"_* 2>/dev/null || true
	# jackd leaves its shared-memory registry behind; remove it when no server is left
	pgrep -x jackd >/dev/null || rm -rf /dev/shm/jack-shm-registry /dev/shm/jack_db-* \
		/dev/shm/jack-[0-9]*-[0-9]* 2>/dev/null || true
}

# --- a private PipeWire ----------------------------------------------------------------------
# A headless PipeWire (the minimal configuration of ../shared/testing.md: a dummy driver, a null
# sink "echo-null-sink" with ports playback_FL/FR and monitor_FL/FR, 48 kHz, quantum fixed at
# PERIOD, env, default 256) and WirePlumber on a private session bus, all under one directory DIR. Order of use:
#
#   pw_private_env "$dir"       first, before anything that may talk to PipeWire or D-Bus
#   pw_session_start "$dir"     bus, pipewire, wireplumber (sets bus_pid pw_pid wp_pid)
#   pw_stop / pw_start "$dir"   pipewire and wireplumber go away / come back (the bus stays)
#   pw_session_stop             in the cleanup, after the clients are stopped
#
# Logs: DIR/dbus.log, DIR/pipewire.log, DIR/wireplumber.log (appended on a restart).

# pw_private_env DIR: no user's PipeWire, WirePlumber or D-Bus state or configuration takes
# part: PIPEWIRE_* unset; XDG_RUNTIME_DIR (DIR/run, mode 700), XDG_CONFIG_HOME, XDG_STATE_HOME
# and the session bus address all under DIR. Exported.
pw_private_env() {
	unset PIPEWIRE_REMOTE PIPEWIRE_RUNTIME_DIR PIPEWIRE_DEBUG PIPEWIRE_PROPS PIPEWIRE_LATENCY \
		PIPEWIRE_QUANTUM PIPEWIRE_RATE PIPEWIRE_CONFIG_DIR PIPEWIRE_CONFIG_NAME 2>/dev/null || true
	export XDG_RUNTIME_DIR="$1/run" XDG_CONFIG_HOME="$1/config" XDG_STATE_HOME="$1/state"
	export DBUS_SESSION_BUS_ADDRESS="unix:path=$1/bus"
	mkdir -p "$XDG_RUNTIME_DIR"
	chmod 700 "$XDG_RUNTIME_DIR"
}

# pw_session_start DIR: writes DIR/pipewire.conf, starts the session bus (bus_pid), then
# pw_start DIR. Waits for each; fail on a timeout.
pw_session_start() {
	q=${PERIOD:-256}
	cat >"$1/pipewire.conf" <<EOF
context.properties = {
    support.dbus          = false
    core.daemon           = true
    core.name             = pipewire-0
    default.clock.rate    = 48000
    default.clock.quantum = $q
    default.clock.min-quantum = $q
    default.clock.max-quantum = $q
    log.level             = 2
}
context.spa-libs = {
    audio.convert.* = audioconvert/libspa-audioconvert
    support.*       = support/libspa-support
}
context.modules = [
    { name = libpipewire-module-rt
        args = { nice.level = -11 rt.prio = 88 rtportal.enabled = false rtkit.enabled = false }
        flags = [ ifexists nofail ] }
    { name = libpipewire-module-protocol-native }
    { name = libpipewire-module-profiler }
    { name = libpipewire-module-metadata }
    { name = libpipewire-module-spa-node-factory }
    { name = libpipewire-module-client-node }
    { name = libpipewire-module-adapter }
    { name = libpipewire-module-link-factory }
    { name = libpipewire-module-access args = { } }
]
context.objects = [
    { factory = spa-node-factory
        args = { factory.name = support.node.driver node.name = Dummy-Driver
                 node.group = pipewire.dummy priority.driver = 20000 } }
    { factory = adapter
        args = { factory.name = support.null-audio-sink node.name = echo-null-sink
                 media.class = Audio/Sink audio.position = [ FL FR ]
                 object.linger = true node.driver = true } }
]
EOF
	dbus-daemon --session --address="$DBUS_SESSION_BUS_ADDRESS" --nofork --nopidfile \
		>"$1/dbus.log" 2>&1 &
	bus_pid=$!
	wait_for 5 "the session bus" test -S "$1/bus"
	pw_start "$1"
}

# pw_start DIR: pipewire on DIR/pipewire.conf (pw_pid), then wireplumber (wp_pid); waits until
# pipewire answers and the null sink has its ports (it gets them only once the session manager
# configured it); fail on a timeout.
pw_start() {
	pipewire -c "$1/pipewire.conf" >>"$1/pipewire.log" 2>&1 &
	pw_pid=$!
	wait_for 10 "pipewire to answer" pw_answers
	wireplumber >>"$1/wireplumber.log" 2>&1 &
	wp_pid=$!
	wait_for 15 "the null sink's ports" pw_has_port -i echo-null-sink:playback_FR
}

# pw_stop: stops wireplumber, then pipewire, and clears wp_pid and pw_pid.
pw_stop() {
	stop "${wp_pid:-}"
	wp_pid=''
	stop "${pw_pid:-}"
	pw_pid=''
}

# pw_session_stop: pw_stop, then the session bus (bus_pid cleared). For the cleanup.
pw_session_stop() {
	pw_stop
	stop "${bus_pid:-}"
	bus_pid=''
}

# pw_port_latency ALIAS DIRECTION: the frames (the rate-based part) the port's Latency param
# says in DIRECTION (Input: playback latency, Output: capture latency), as pw-cli prints it.
pw_port_latency() {
	id=$(timeout 5 pw-dump | python3 -c 'import json, sys
print(next(o["id"] for o in json.load(sys.stdin) if o.get("type") == "PipeWire:Interface:Port"
           and o["info"]["props"].get("port.alias") == sys.argv[1]))' "$1") || return 1
	timeout 5 pw-cli enum-params "$id" Latency | python3 -c 'import re, sys
for obj in sys.stdin.read().split("Object: size")[1:]:
    if "Direction:" + sys.argv[1] in obj:
        print(re.findall(r"Int (-?\d+)", obj)[0])' "$2"
}

# pw_answers: the PipeWire server answers (pw-cli exits 0 even when it cannot connect: this
# looks at what it printed).
pw_answers() { timeout 5 pw-cli info 0 2>/dev/null | grep -q 'PipeWire:Interface:Core'; }

# pw_has_port -i|-o PORT: pw-link lists PORT among the input (-i) or output (-o) ports.
pw_has_port() { timeout 5 pw-link "$1" 2>/dev/null | grep -qx "$2"; }

# pw_linked OUT IN: pw-link -l shows the link OUT -> IN.
pw_linked() {
	timeout 5 pw-link -l 2>/dev/null | awk -v o="$1" -v i="$2" '
		$0 == o { cur = 1; next }
		/^[^ \t]/ { cur = 0 }
		cur && $1 == "|->" && $2 == i { found = 1 }
		END { exit !found }'
}

# float_wav PATH SECONDS EXPR: a 48 kHz stereo float WAV whose frame i is the pair the Python
# expression EXPR gives (of i, math and random, seeded with 7: the same file every time).
float_wav() {
	python3 - "$1" "$2" "$3" <<'PY'
import math, random, struct, sys
random.seed(7)
n = int(float(sys.argv[2]) * 48000)
data = b"".join(struct.pack("<ff", *eval(sys.argv[3])) for i in range(n))
fmt = struct.pack("<HHIIHH", 3, 2, 48000, 48000 * 8, 8, 32)
with open(sys.argv[1], "wb") as f:
    f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE")
    f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)))
    f.write(data)
PY
}

# stereo_wav PATH SECONDS: a 48 kHz stereo float WAV of two slow sines at -14 dBFS (python3).
stereo_wav() {
	float_wav "$1" "$2" '(0.2 * math.sin(i * 0.01), 0.2 * math.sin(i * 0.013))'
}

# --- ALSA ------------------------------------------------------------------------------------

# alsa_test_pcms DIR PLUGIN PCM...: a private asound.conf in DIR that knows the test device of
# tests/alsa (PLUGIN: the built module) and defines each PCM line given (`pcm.NAME { type
# echoeld_test ... }`), made alsa-lib's with ALSA_CONFIG_PATH; the daemon's runtime and state
# directories in DIR too. DIR/ctl, the devices' control byte, starts at '.' (play on).
alsa_test_pcms() {
	d=$1
	printf 'pcm_type.echoeld_test { lib "%s" }\n' "$2" >"$d/asound.conf"
	shift 2
	printf '%s\n' "$@" >>"$d/asound.conf"
	printf '.' >"$d/ctl"
	export ALSA_CONFIG_PATH="/usr/share/alsa/alsa.conf:$d/asound.conf"
	export JACK_NO_START_SERVER=1 XDG_RUNTIME_DIR="$d" XDG_STATE_HOME="$d/state"
}

# --- echoeld ---------------------------------------------------------------------------------

# ctl_status_is SOCKET KEY VALUE: echoeld's `status` on SOCKET says KEY is VALUE (as Python's
# str() writes the JSON value: 48000, True, None). Needs $ECHOELCTL.
ctl_status_is() {
	"$ECHOELCTL" --socket "$1" --json status |
		python3 -c 'import json, sys; sys.exit(str(json.load(sys.stdin)[sys.argv[1]]) != sys.argv[2])' "$2" "$3"
}

# ctl_detail_is SOCKET NODE KEY VALUE: `node get NODE` shows details KEY as VALUE (str(), as above).
ctl_detail_is() {
	"$ECHOELCTL" --socket "$1" --json node get "$2" |
		python3 -c 'import json, sys; sys.exit(str(json.load(sys.stdin)["details"][sys.argv[1]]) != sys.argv[2])' "$3" "$4"
}

# launch_echoeld SOCKET LOG ARG...: "$ECHOELD" --socket SOCKET ARG... in the background, its
# stderr in LOG (truncated); waits up to 10 s for its socket (wait_for_echoeld). Sets epid.
launch_echoeld() {
	p=$1 what=$2
	shift 2
	"$ECHOELD" --socket "$p" "$@" 2>"$what" &
	epid=$!
	wait_for_echoeld "$p" 10 "$epid"
}

# sanitizer_reported LOG: LOG holds a report of ASan, LSan, UBSan, TSan or RealtimeSanitizer.
sanitizer_reported() {
	grep -Eq 'RealtimeSanitizer|real-time unsafe|ThreadSanitizer|AddressSanitizer|LeakSanitizer|runtime error' "$1"
}

# finish_echoeld LOG: term_wait "$epid" and clears epid; fail unless echoeld exited 0 and
# its LOG has no sanitizer report.
finish_echoeld() {
	term_wait "$epid"
	epid=
	[ "$status" -eq 0 ] || fail "echoeld exited with $status"
	! sanitizer_reported "$1" || fail "a sanitizer reported"
}

# busy_loops: two shell busy loops (busy1, busy2) so that, on two cores, every core has something
# to preempt a thread without real-time scheduling. The caller kill_reaps them in its cleanup.
busy_loops() {
	sh -c 'while :; do :; done' &
	# shellcheck disable=SC2034 # for the caller
	busy1=$!
	sh -c 'while :; do :; done' &
	# shellcheck disable=SC2034 # for the caller
	busy2=$!
}

# --- configurations --------------------------------------------------------------------------
# Pieces of an echoeld configuration, printed to stdout; the script writes its own [engine] and
# backend sections before them, e.g. { echo '[engine]'; conf_tone_graph gain; } >"$dir/x.conf".

# conf_tone_graph G_TYPE: nodes tone (2 channels, 1 kHz, -20 dB), g of type G_TYPE (gain,
# meter...) on tone, and output out on g: ports out_1 and out_2.
conf_tone_graph() {
	cat <<EOF
[node.tone]
type = tone
freq = 1000
level_db = -20
channels = 2
[node.g]
type = $1
input = tone
[node.out]
type = output
input = g
EOF
}

# conf_in_meter: nodes in (input, 2 channels: ports in_1 and in_2) and meter on in.
conf_in_meter() {
	cat <<'EOF'
[node.in]
type = input
channels = 2
[node.meter]
type = meter
input = in
EOF
}
