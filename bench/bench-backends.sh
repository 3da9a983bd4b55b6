#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/bench-backends.sh: CPU per cycle of echoeld's default chain inside JACK and inside
# PipeWire, beside PipeWire's own filter-chain running the same chain, all in one run, on
# private servers at 48 kHz with a PERIOD-frame period/quantum (default 256: 187.5 cycles/s).
#
# Two chains, the same on both sides:
#   default   echoeld: its built-in default graph (eq flat, fir identity, gain 0 dB, meter) with
#             a 997 Hz -12 dB stereo tone node standing in for the input node, so no node is
#             skipped as silent. filter-chain: bq_peaking 1 kHz Q 1 at 0 dB, convolver with
#             "/dirac", mixer "Gain 1" = 1.0, per channel.
#   fir       both: peaking 1 kHz Q 1 -3 dB, a 65536-tap IR (decaying noise, generated here),
#             gain -1 dB, per channel (echoeld: tone -> eq -> fir -> gain -> meter -> out).
#
# What runs:
#   JACK      jackd -n NAME -d dummy -r 48000 -p PERIOD; per run: jackd alone (baseline), then
#             echoeld --backend jack on each chain, its outputs connected to system:playback_*.
#   PipeWire  a headless pipewire (the minimal config of ../shared/testing.md: dummy driver, a
#             null sink, quantum fixed at PERIOD) and WirePlumber on a private session bus; per run:
#             echoeld --backend pipewire on each chain ([pipewire] target = the null sink), then
#             `pipewire -c FC.conf` loading module-filter-chain on each chain (WirePlumber links
#             its playback stream to the null sink and its capture stream to the sink's monitor,
#             which is what makes it run; its input is therefore silence).
# One client at a time. CPU = on-CPU nanoseconds of every thread of a process
# (/proc/PID/task/*/schedstat) over SECONDS; cycles = echoeld's own cycle counter (echoelctl
# status) where echoeld runs, else elapsed time x 48000 / PERIOD. "server+" = the server's CPU per cycle
# minus the same server alone (jackd alone runs its driver; pipewire alone runs nothing);
# WirePlumber is not counted (it is idle once the links are made). Each figure is the median of
# RUNS (default 3) windows; the runs are interleaved.
#
# usage: bench/bench-backends.sh ECHOELD [SECONDS]     (default 5 s; exit 77: a tool is missing)
# env:   ECHOELCTL (default: ECHOELD's build dir ../ipc/echoelctl), RUNS (default 3),
#        PERIOD (frames per cycle, a power of two from 32 to 8192, default 256: echoeld's block,
#        jackd's period, PipeWire's quantum and filter-chain's latency alike)
set -eu

[ $# -ge 1 ] || { echo "usage: $0 ECHOELD [SECONDS]"; exit 2; }
ECHOELD=$1
SECS=${2:-5}
RUNS=${RUNS:-3}
export PERIOD=${PERIOD:-256} # tests/lib.sh starts jackd and PipeWire at it too
ECHOELCTL=${ECHOELCTL:-$(dirname "$ECHOELD")/../ipc/echoelctl}
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../tests/lib.sh"
require_tools jackd jack_wait jack_lsp pipewire wireplumber dbus-daemon pw-cli pw-link python3 timeout
[ -x "$ECHOELD" ] || { echo "no echoeld at $ECHOELD"; exit 1; }
[ -x "$ECHOELCTL" ] || { echo "no echoelctl at $ECHOELCTL (set ECHOELCTL)"; exit 1; }

dir=$(mktemp -d /tmp/bench-backends-XXXXXX) # /tmp: socket paths must fit sockaddr_un
server=bench-backends-$$
# Everything private: no user's JACK, PipeWire, WirePlumber or echoeld configuration takes part.
pw_private_env "$dir"
export JACK_DEFAULT_SERVER="$server" JACK_NO_START_SERVER=1
jpid='' bus_pid='' pw_pid='' wp_pid='' e_pid='' f_pid=''

cleanup() {
	stop "$f_pid"
	stop "$e_pid"
	pw_session_stop
	stop "$jpid"
	rm -rf "$dir"
	jack_shm_cleanup "$server"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*"
	for f in jackd.log echoeld.log pipewire.log wireplumber.log fc.log; do
		[ -s "$dir/$f" ] && { echo "--- $f:"; tail -n 20 "$dir/$f"; }
	done
	exit 1
}

now_ns() { date +%s%N; }
cycles() { # echoeld's cycle counter
	"$ECHOELCTL" --socket "$dir/control" --json status 2>/dev/null |
		sed -n 's/.*"cycles": *\([0-9]*\).*/\1/p'
}
jack_linked() { jack_lsp -s "$server" -c echoeld-bench:out_2 2>/dev/null | grep -q '^ *system:playback_2$'; }
running() { c=$(cycles) && [ -n "$c" ] && [ "$c" -gt 20 ]; }

# measure KEY RUN PROC_PID SERVER_PID: one window of SECS; appends "KEY RUN PROC_NS SERVER_NS
# CYCLES ECHOELD_CYCLES ELAPSED_CYCLES" to results (ECHOELD_CYCLES: counted by echoeld, or "-";
# CYCLES: echoeld's count when there is one, else ELAPSED_CYCLES = elapsed time x 48000 / PERIOD).
measure() {
	ec0=-
	[ -n "$e_pid" ] && ec0=$(cycles)
	t0=$(now_ns) p0=$(cpu_ns "$3") s0=$(cpu_ns "$4")
	sleep "$SECS"
	p1=$(cpu_ns "$3") s1=$(cpu_ns "$4") t1=$(now_ns)
	ec1=-
	[ -n "$e_pid" ] && ec1=$(cycles)
	[ -z "$3" ] || alive "$3" || fail "$1: the measured process died"
	awk -v k="$1" -v r="$2" -v p="$((p1 - p0))" -v s="$((s1 - s0))" -v dt="$((t1 - t0))" \
		-v a="$ec0" -v b="$ec1" -v period="$PERIOD" 'BEGIN {
		t = dt * 48000 / period / 1e9; c = t; ec = "-"
		if (a != "-" && b != "-") { ec = b - a; c = ec }
		printf "%s %d %.0f %.0f %.1f %s %.1f\n", k, r, p, s, c, ec, t }' >>"$dir/results"
	tail -n 1 "$dir/results" | awk '{
		printf "#   %-14s run %d: process %7.2f us/cycle, server %7.2f us/cycle, %s cycles (echoeld: %s)\n",
			$1, $2, $3 / $5 / 1000, $4 / $5 / 1000, $5, $6 }'
}

# --- configurations -----------------------------------------------------------------------
python3 - "$dir/ir.wav" <<'EOF'
# 65536 taps of uniform noise under a 60 dB exponential decay, mono 32-bit float WAV, 48 kHz.
import math, random, struct, sys
n = 65536
random.seed(6)
k = math.log(1000.0) / n
data = struct.pack('<%df' % n, *[random.uniform(-1, 1) * math.exp(-k * i) * 0.02 for i in range(n)])
fmt = struct.pack('<IHHIIHHH', 18, 3, 1, 48000, 48000 * 4, 4, 32, 0)
riff = b'WAVE' + b'fmt ' + fmt + b'fact' + struct.pack('<II', 4, n) + b'data' + struct.pack('<I', len(data)) + data
open(sys.argv[1], 'wb').write(b'RIFF' + struct.pack('<I', len(riff)) + riff)
EOF

# echoeld_conf CHAIN: the default graph with a tone as "in"; fir: an EQ band, the IR, -1 dB.
echoeld_conf() {
	if [ "$1" = fir ]; then
		eq='band1 = peaking 1000 1.0 -3' ir="ir = $dir/ir.wav" gain=-1
	else
		eq='' ir='' gain=0
	fi
	cat <<EOF
[engine]
block = $PERIOD
[jack]
client_name = echoeld-bench
connect = echoeld-bench:out_* > system:playback_*
[pipewire]
node_name = echoeld-bench
target = echo-null-sink
[node.in]
type = tone
freq = 997
level_db = -12
channels = 2
[node.eq]
type = eq
input = in
$eq
[node.fir]
type = fir
input = eq
$ir
[node.volume]
type = gain
input = fir
gain_db = $gain
[node.meter]
type = meter
input = volume
[node.out]
type = output
input = meter
EOF
}

# fc_conf CHAIN: a client-side pipewire running module-filter-chain with the same chain.
fc_conf() {
	if [ "$1" = fir ]; then
		g=-3.0 file="$dir/ir.wav" vol=0.891251
	else
		g=0.0 file=/dirac vol=1.0
	fi
	cat <<EOF
context.properties = { support.dbus = false log.level = 3 }
context.spa-libs = {
    audio.convert.* = audioconvert/libspa-audioconvert
    support.*       = support/libspa-support
}
context.modules = [
    { name = libpipewire-module-rt
        args = { nice.level = -11 rt.prio = 88 rtportal.enabled = false rtkit.enabled = false }
        flags = [ ifexists nofail ] }
    { name = libpipewire-module-protocol-native }
    { name = libpipewire-module-client-node }
    { name = libpipewire-module-adapter }
    { name = libpipewire-module-filter-chain
        args = {
            node.description = "bench filter-chain ($1)"
            media.name       = "bench filter-chain ($1)"
            filter.graph = {
                nodes = [
                    { type = builtin name = eqL label = bq_peaking control = { "Freq" = 1000.0 "Q" = 1.0 "Gain" = $g } }
                    { type = builtin name = eqR label = bq_peaking control = { "Freq" = 1000.0 "Q" = 1.0 "Gain" = $g } }
                    { type = builtin name = convL label = convolver config = { filename = "$file" } }
                    { type = builtin name = convR label = convolver config = { filename = "$file" } }
                    { type = builtin name = volL label = mixer control = { "Gain 1" = $vol } }
                    { type = builtin name = volR label = mixer control = { "Gain 1" = $vol } }
                ]
                links = [
                    { output = "eqL:Out"   input = "convL:In" }
                    { output = "eqR:Out"   input = "convR:In" }
                    { output = "convL:Out" input = "volL:In 1" }
                    { output = "convR:Out" input = "volR:In 1" }
                ]
                inputs  = [ "eqL:In" "eqR:In" ]
                outputs = [ "volL:Out" "volR:Out" ]
            }
            audio.channels = 2
            audio.position = [ FL FR ]
            capture.props  = { node.name = "bench-fc-capture"  node.latency = $PERIOD/48000 }
            playback.props = { node.name = "bench-fc-playback" node.latency = $PERIOD/48000 }
        }
    }
]
EOF
}

for chain in default fir; do
	echoeld_conf "$chain" >"$dir/echoeld-$chain.conf"
	fc_conf "$chain" >"$dir/fc-$chain.conf"
	"$ECHOELD" --check-config "$dir/echoeld-$chain.conf" >/dev/null 2>&1 ||
		fail "echoeld refuses its $chain configuration"
done

start_echoeld() { # BACKEND CHAIN
	rm -f "$dir/control"
	"$ECHOELD" --backend "$1" --config "$dir/echoeld-$2.conf" --socket "$dir/control" \
		2>>"$dir/echoeld.log" &
	e_pid=$!
	wait_for 20 "echoeld ($1, $2) to run cycles" running
}
stop_echoeld() { # [NAME]: keep echoeld's per-node statistics of the last run as stats-NAME
	[ -z "${1:-}" ] || "$ECHOELCTL" --socket "$dir/control" stats >"$dir/stats-$1" 2>/dev/null || true
	stop "$e_pid"
	e_pid=
}

echo "# bench-backends: 48 kHz, period/quantum $PERIOD ($(awk -v p="$PERIOD" 'BEGIN { printf "%g", 48000 / p }') cycles/s), $RUNS runs of $SECS s"
echo "# $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) CPUs"

# --- JACK -----------------------------------------------------------------------------------
start_jackd "$server" "$dir/jackd.log"
sleep 1
for r in $(seq "$RUNS"); do
	measure jackd-alone "$r" "" "$jpid"
	for chain in default fir; do
		start_echoeld jack "$chain"
		wait_for 10 "echoeld's JACK connections" jack_linked
		sleep 1
		measure "jack-$chain" "$r" "$e_pid" "$jpid"
		stop_echoeld "$([ "$r" = "$RUNS" ] && echo "jack-$chain")"
	done
done
stop "$jpid"
jpid=

# --- PipeWire -------------------------------------------------------------------------------
pw_session_start "$dir" # ../tests/lib.sh: the minimal headless PipeWire, WirePlumber, a bus
sleep 1
measure pipewire-alone 1 "" "$pw_pid"
w0=$(cpu_ns "$wp_pid") wt0=$(now_ns)
for r in $(seq "$RUNS"); do
	for chain in default fir; do
		start_echoeld pipewire "$chain"
		wait_for 10 "echoeld's link to the null sink" \
			pw_linked echoeld-bench:out_2 echo-null-sink:playback_FR
		sleep 1
		measure "pw-$chain" "$r" "$e_pid" "$pw_pid"
		stop_echoeld "$([ "$r" = "$RUNS" ] && echo "pw-$chain")"

		pipewire -c "$dir/fc-$chain.conf" >>"$dir/fc.log" 2>&1 &
		f_pid=$!
		wait_for 15 "filter-chain ($chain) linked to the null sink" \
			pw_linked bench-fc-playback:output_FR echo-null-sink:playback_FR
		sleep 1
		measure "fc-$chain" "$r" "$f_pid" "$pw_pid"
		stop "$f_pid"
		f_pid=
	done
done
w1=$(cpu_ns "$wp_pid") wt1=$(now_ns)
awk -v w="$((w1 - w0))" -v t="$((wt1 - wt0))" 'BEGIN { printf "# wireplumber (not counted above): %.1f ms CPU over the %.0f s of PipeWire runs, linking included\n", w / 1e6, t / 1e9 }'
# Proof that filter-chain ran its chain: its CPU is not ~0, and the convolver's own log line.
awk '$1 ~ /^fc-/ && $3 / $5 < 1000 { bad = 1 } END { exit bad }' "$dir/results" ||
	fail "filter-chain used under 1 us per cycle: it did not run"
grep -o 'using n_samples:[0-9]* [0-9]*:[0-9]* blocksize' "$dir/fc.log" | sort -u |
	sed 's/^/# filter-chain convolver (head:tail partition): /'
for f in "$dir"/stats-*; do
	[ -s "$f" ] || continue
	awk -v k="${f##*/stats-}" '$6 == "us" { s += $5; l = l sprintf(" %s %s", $1, $5) }
		END { printf "# echoeld per-node average, %s (echoelctl stats, us):%s = %.1f\n", k, l, s }' "$f"
done

# --- table -------------------------------------------------------------------------------------
awk -v runs="$RUNS" '
	function median(key, col,   n, i, j, t, v) {
		n = 0
		for (i = 1; i <= runs; i++) if ((key, i) in P) { n++; v[n] = (col == 3 ? P[key, i] : S[key, i]) }
		for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		return n == 0 ? 0 : (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2)
	}
	{ P[$1, $2] = $3 / $5 / 1000; S[$1, $2] = $4 / $5 / 1000; if ($6 != "-") { EC[$1] += $6; ET[$1] += $7 } }
	END {
		jb = median("jackd-alone", 4); pb = median("pipewire-alone", 4)
		printf "\n# CPU us per cycle, median of %d (server: minus the server alone)\n", runs
		printf "# jackd alone (dummy driver, no client): %.2f us/cycle; pipewire alone: %.2f us/cycle\n", jb, pb
		printf "%-8s %-9s %-13s %9s %9s %9s %8s %8s\n", "chain", "backend", "process", "process", "server+", "total", "proc/fc", "total/fc"
		split("default fir", chains, " ")
		for (c = 1; c <= 2; c++) {
			ch = chains[c]
			fp = median("fc-" ch, 3); fs = median("fc-" ch, 4) - pb
			split("jack pw fc", ks, " ")
			for (k = 1; k <= 3; k++) {
				key = ks[k] "-" ch
				p = median(key, 3); s = median(key, 4) - (ks[k] == "jack" ? jb : pb)
				printf "%-8s %-9s %-13s %9.2f %9.2f %9.2f %8.2f %8.2f\n", ch,
					(ks[k] == "jack" ? "JACK" : "PipeWire"), (ks[k] == "fc" ? "filter-chain" : "echoeld"),
					p, s, p + s, p / fp, (p + s) / (fp + fs)
			}
		}
		split("jack-default jack-fir pw-default pw-fir", eks, " ")
		for (k = 1; k <= 4; k++) if (eks[k] in EC)
			printf "# %s: echoeld counted %.0f cycles, elapsed time x rate / period gives %.0f\n", eks[k], EC[eks[k]], ET[eks[k]]
	}' "$dir/results"
