#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: echoeld's real-time threads make no system call but the expected ones, whatever the
# control thread does meanwhile. RealtimeSanitizer (LLVM 19) does not see write/read, futex waits
# through syscall(), clock_nanosleep, fprintf, mmap or page faults (../shared/testing.md); strace
# does. Every SCHED_FIFO thread of echoeld (policy 1, field 41 of /proc/PID/task/TID/stat: the own
# clock's thread and its workers under the dummy backend, libjack's process thread under JACK;
# they have no name of their own) is traced, one `strace -p TID` each (not -f: with -p, -f
# attaches every thread of the process), through: playback; a reload with a changed gain; a
# reload whose fir node gets another `ir` (a crossfaded IR swap); port changes (node add/rm of
# output and input nodes); sets; a streamed player seeking, recorders starting and stopping takes,
# players and recorders added and removed. The histogram of calls per thread is printed. The
# RT threads' page faults over the same window (minor and major, from /proc) must be none: a
# first touch of a ring or a sample's page, or a page read back from the disk, would show there
# (under AddressSanitizer only major ones: its shadow memory faults in as it is first used).
#
# Allowed: clock_nanosleep (the own clock's period), futex (the engine's idle word and the workers'
# words: FUTEX_WAIT_PRIVATE/FUTEX_WAKE_PRIVATE; under JACK also libjack's shared futexes in the
# server's shared memory, FUTEX_WAIT/FUTEX_WAKE), clock_gettime (when not served by the vDSO),
# restart_syscall (a sleep interrupted by strace attaching). Anything else fails the test and is
# listed with its arguments: a write from logging, an mmap from a lazy allocation...
#
# usage: test-rt-syscalls.sh ECHOELD ECHOELCTL dummy|jack   (exit 77: no strace, or no jackd)
set -eu

ECHOELD=$1
ECHOELCTL=$2
BACKEND=$3
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools strace python3 timeout
[ "$BACKEND" = jack ] && require_tools jackd jack_lsp jack_wait
conf_dir=$(cd "$(dirname "$0")/../../conf" && pwd)
[ -r "$conf_dir/ir/room-example.wav" ] || { echo "skip: no conf/ir/room-example.wav"; exit 77; }

dir=$(mktemp -d /tmp/test-rt-syscalls-XXXXXX)
server=echoeld-sys-$$
export JACK_DEFAULT_SERVER=$server JACK_NO_START_SERVER=1
jpid='' epid='' spids=''
cleanup() {
	# shellcheck disable=SC2086 # a list of pids
	kill_reap $spids "$epid" "$jpid"
	rm -rf "$dir"
	[ "$BACKEND" != jack ] || jack_shm_cleanup "$server"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
	echo "FAIL ($BACKEND): $*"
	show_log "$dir/echoeld.log"
	exit 1
}
ctl() { "$ECHOELCTL" --socket "$dir/control" "$@" >/dev/null || fail "echoelctl $*"; }

# A second IR for the swap: 4096 taps of decaying pseudo-noise, 16-bit PCM at 48 kHz.
python3 - "$dir/ir-b.wav" <<'PY'
import math, random, struct, sys, wave
rng = random.Random(11)
taps = [rng.uniform(-1, 1) * math.exp(-i / 600.0) * 0.5 for i in range(4096)]
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(48000)
    w.writeframes(b"".join(struct.pack("<h", int(t * 32767)) for t in taps))
PY
# A song long enough to be streamed by the disk thread (over 10 s) and a short one played from
# memory, both float stereo.
stereo_wav "$dir/song.wav" 12
stereo_wav "$dir/short.wav" 1
export XDG_STATE_HOME="$dir/state" # the sample cache and the recordings
write_conf() { # $1: gain in dB, $2: the fir's ir
	cat >"$dir/echoeld.conf" <<EOF
[engine]
block = 256
fade_ms = 10
workers = 1
[jack]
client_name = echoeld
[ipc]
file_dirs = $dir
[node.song]
type = player
file = $dir/song.wav
loop = yes
[node.rec]
type = recorder
input = song:1
file = $dir/take-%H%M%S.wav
[node.tone]
type = tone
freq = 1000
level_db = -20
[node.g]
type = gain
gain_db = $1
input = tone
[node.room]
type = fir
ir = $2
input = g
[node.meter]
type = meter
input = room
[node.out]
type = output
input = meter
EOF
}
write_conf 0 "$conf_dir/ir/room-example.wav"

if [ "$BACKEND" = jack ]; then
	start_jackd "$server" "$dir/jackd.log"
fi
launch_echoeld "$dir/control" "$dir/echoeld.log" --config "$dir/echoeld.conf" --backend "$BACKEND"
sleep 0.5

# The SCHED_FIFO threads: "TID PRIORITY" per line (fields 40 and 41 of stat, after the comm).
fifo_threads() {
	for s in /proc/"$epid"/task/*/stat; do
		sed 's/.*) //' "$s" 2>/dev/null |
			awk -v t="$(basename "$(dirname "$s")")" '$39 == 1 { print t, $38 }'
	done
}
wait_for 10 "a SCHED_FIFO thread in echoeld" sh -c "[ -n \"\$(for s in /proc/$epid/task/*/stat; do sed 's/.*) //' \$s | awk '\$39 == 1'; done)\" ]"
fifo_threads >"$dir/threads"
echo "# $BACKEND: SCHED_FIFO threads (tid priority): $(tr '\n' ',' <"$dir/threads")"
# page faults of the RT threads (minflt, majflt: fields 10 and 12 of stat), which no system
# call trace shows: a first touch of a player's sample or a ring would count here
faults() {
	for tid in $(cut -d' ' -f1 "$dir/threads"); do
		sed 's/.*) //' "/proc/$epid/task/$tid/stat" | awk -v t="$tid" '{ print t, $8, $10 }'
	done
}
faults >"$dir/faults0"

for tid in $(cut -d' ' -f1 "$dir/threads"); do
	strace -qq -e trace=all -o "$dir/strace.$tid" -p "$tid" 2>"$dir/strace-err.$tid" &
	spids="$spids $!"
done
# strace prints nothing on attaching (-qq): give it time, then check it is still there.
sleep 1
for p in $spids; do alive "$p" || { cat "$dir"/strace-err.*; fail "strace could not attach"; }; done

# playback
sleep 1
# a reload with a changed gain (updated in place, ramped)
write_conf -3 "$conf_dir/ir/room-example.wav"
kill -HUP "$epid"
wait_for 10 "the first reload" sh -c "[ \"\$(grep -c reloaded '$dir/echoeld.log')\" -ge 1 ]"
# a reload that gives the fir another ir (a new instance, crossfaded)
write_conf -3 "$dir/ir-b.wav"
kill -HUP "$epid"
wait_for 10 "the IR swap" sh -c "[ \"\$(grep -c reloaded '$dir/echoeld.log')\" -ge 2 ]"
# port changes and sets
for i in 1 2 3 4 5; do
	ctl node add "o$i" output --input g
	ctl node add "i$i" input channels=2
	ctl set g.gain_db "-$i"
	ctl node rm "o$i"
	ctl node rm "i$i"
done
# players and recorders: seeks, a short player added and removed, takes stopped and started
for i in 1 2 3; do
	ctl set song.position_s "$((i * 3))"
	ctl node add "p$i" player "file=$dir/short.wav"
	ctl node add "r$i" recorder --input "p$i" "file=$dir/r$i.wav"
	ctl set rec.recording 0
	sleep 0.2
	ctl set rec.recording 1
	ctl node rm "r$i"
	ctl node rm "p$i"
done
sleep 0.5
alive "$epid" || fail "echoeld died"
faults >"$dir/faults1"
echo "# page faults of the RT threads over the trace (tid minor major): $(join "$dir/faults0" "$dir/faults1" |
	awk '{ printf "%s %d %d, ", $1, $4 - $2, $5 - $3 }')"
# Under AddressSanitizer every first touch of shadow memory is a minor fault by design: there only
# major faults (a page read back from the disk) count.
minor_ok=0
grep -q __asan_init "$ECHOELD" && minor_ok=1
join "$dir/faults0" "$dir/faults1" |
	awk -v any="$minor_ok" '($4 != $2 && !any) || $5 != $3 { exit 1 }' ||
	fail "a page fault on an RT thread (a first touch of memory, or a read from the disk)"
# shellcheck disable=SC2086
kill -INT $spids 2>/dev/null || true
for p in $spids; do wait "$p" 2>/dev/null || true; done
spids=''
term_wait "$epid"
epid=
[ "$status" -eq 0 ] || fail "echoeld exited with $status"

python3 - "$BACKEND" "$dir" <<'PY'
import collections, glob, os, re, sys

backend, d = sys.argv[1], sys.argv[2]
allowed = {"clock_nanosleep", "clock_gettime", "restart_syscall", "futex"}
futex_ops = {"FUTEX_WAIT_PRIVATE", "FUTEX_WAKE_PRIVATE", "FUTEX_WAIT_BITSET_PRIVATE"}
if backend == "jack":
    futex_ops |= {"FUTEX_WAIT", "FUTEX_WAKE"}  # libjack's futexes in the server's shm
bad = []
total = 0
for path in sorted(glob.glob(os.path.join(d, "strace.*"))):
    tid = path.rsplit(".", 1)[1]
    hist = collections.Counter()
    for line in open(path):
        line = line.strip()
        m = re.match(r"(?:\[pid +\d+\] )?(\w+)\((.*)", line)
        if not m or line.startswith("+++") or line.startswith("---"):
            if line.startswith("---"):
                bad.append((tid, line))  # a signal delivered to the RT thread
            continue
        name = m.group(1)
        key = name
        if name == "futex":
            op = re.match(r"[^,]*, (\w+)", m.group(2))
            op = op.group(1) if op else "?"
            key = "futex(%s)" % op
            if op not in futex_ops:
                bad.append((tid, line))
        elif name not in allowed:
            bad.append((tid, line))
        hist[key] += 1
        total += 1
    print("# tid %s: %s" % (tid, ", ".join("%s %d" % kv for kv in sorted(hist.items())) or "no system call"))
print("# %d system calls on the RT thread(s) in all" % total)
if bad:
    print("FAIL (%s): system calls outside the allow-list on an RT thread:" % backend)
    for tid, line in bad[:40]:
        print("#   tid %s: %s" % (tid, line))
    if len(bad) > 40:
        print("#   ... %d more" % (len(bad) - 40))
    sys.exit(1)
PY
! sanitizer_reported "$dir/echoeld.log" || fail "a sanitizer reported"
echo "ok ($BACKEND): the RT threads made only the allowed system calls through playback, two" \
	"reloads (one an IR swap), port changes, sets, a streamed player seeking and recorders" \
	"starting and stopping takes"
