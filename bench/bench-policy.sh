#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/bench-policy.sh: what the power policy's `low` mode saves, and what it costs in accuracy.
#
# One echoeld on its own clock (48 kHz, block 256) runs the default graph (in -> eq -> fir ->
# volume -> meter -> out) with a 65536-tap room-like IR in the fir node, fed by stereo pink noise
# from [dummy] capture_file (looped) so no node is ever skipped as silent. [policy] sysfs_root is
# an empty directory (no battery: auto = unrestricted) and the mode is pinned with
# `echoelctl policy set mode=...`, alternating unrestricted / low for ROUNDS rounds (order
# swapped every round) in the same run. For each window of SECONDS: the daemon's CPU
# (the nanoseconds on CPU of every thread, /proc/PID/task/*/schedstat) over the audio it
# produced (echoeld's cycle counter x 256 / 48000). The figure is the median per mode of CPU
# seconds per audio second; the saving is 1 - low / unrestricted. utime + stime of
# /proc/PID/stat is printed beside it as a cross-check only: it counts 10 ms ticks, of which a
# 12 s window at these loads holds 15 to 40, so one tick moves a window's figure by 3-7 %.
#
# The price: in low every fir node keeps only the first K partitions of its IR, the fewest after
# which the remaining energy is <= -60 dB of the total (dsp_fir_ir_get_parts_for_tail). The
# script computes K the same way, writes the IR cut there, and reports (a) the energy cut off,
# 10 log10(tail / total), and (b) the error on output: `echoeld render` of the same input
# through the full and the cut IR, 10 log10(sum (full - cut)^2 / sum full^2) over the frames
# after the first 65536 (where the full convolution is in steady state), for pink and white noise.
#
# The IR (generated here, python3 only, seeded): a direct impulse, seven early reflections
# (3-24 ms), and a diffuse tail of Gaussian noise from 2 ms with a 10 ms onset, split at 1 kHz
# (one-pole): below it RT60 = 0.6 s, above it RT60 = 0.4 s; diffuse energy = direct + early
# energy; normalised to unit energy. No measurement noise floor (see the note it prints).
#
# Shorter tails (TAILS, e.g. TAILS="-40 -20 -6"): each value V adds a window per round in
# which the mode stays `unrestricted` and the fir's tail is cut at V dB by hand
# (`echoelctl set fir.tail_db -- V`, the lever `low` pulls at -60), with its saving against
# `unrestricted` and its price computed the same way as low's. It answers "what would a shorter
# tail in `low` buy, and at what price" on the same machine, in the same run.
#
# usage: bench/bench-policy.sh ECHOELD [SECONDS]     (default 12 s per window; about 3 min 15 s)
# env:   ECHOELCTL (default: ECHOELD's build dir ../ipc/echoelctl), ROUNDS (default 7),
#        TAILS (default none: extra cuts in dB, each below 0)
set -eu

[ $# -ge 1 ] || { echo "usage: $0 ECHOELD [SECONDS]"; exit 2; }
ECHOELD=$1
SECS=${2:-12}
ROUNDS=${ROUNDS:-7}
TAILS=${TAILS:-}
set -f # TAILS is split into words, never globbed
for v in $TAILS; do # a number in [-200, 0): what fir.tail_db takes, 0 excluded
	awk -v v="$v" 'BEGIN { exit !(v ~ /^-[0-9.]+$/ && v + 0 < 0 && v + 0 >= -200) }' || {
		echo "TAILS: '$v' is not a cut in dB in [-200, 0) (e.g. TAILS=\"-40 -20\")"
		exit 2
	}
done
set +f
ECHOELCTL=${ECHOELCTL:-$(dirname "$ECHOELD")/../ipc/echoelctl}
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../tests/lib.sh"
require_tools python3
[ -x "$ECHOELD" ] || { echo "no echoeld at $ECHOELD"; exit 1; }
[ -x "$ECHOELCTL" ] || { echo "no echoelctl at $ECHOELCTL (set ECHOELCTL)"; exit 1; }

dir=$(mktemp -d /tmp/bench-policy-XXXXXX) # /tmp: socket paths must fit sockaddr_un
e_pid=''
cleanup() {
	stop "$e_pid"
	e_pid=''
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { # for tests/lib.sh's helpers: say why, show echoeld's log, stop
	echo "FAIL: $*"
	[ -s "$dir/echoeld.log" ] && { echo "--- echoeld.log:"; cat "$dir/echoeld.log"; }
	exit 1
}

echo "# $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) CPUs;" \
	"load average at start: $(cut -d ' ' -f 1-3 /proc/loadavg)"

# ---- the IR, its cut copy, the inputs ----
# shellcheck disable=SC2086 # TAILS: one argument per cut
python3 - "$dir" $TAILS <<'EOF'
import array, math, random, struct, sys

d = sys.argv[1]
extra = list(dict.fromkeys(float('%g' % float(v)) for v in sys.argv[2:]))   # TAILS, once each
FS, N, BLOCK, TAIL_DB = 48000, 65536, 256, -60.0

def write_float_wav(path, chans, samples):
    data = array.array('f', samples)
    if sys.byteorder != 'little':
        data.byteswap()
    raw = data.tobytes()
    fmt = struct.pack('<HHIIHHH', 3, chans, FS, FS * chans * 4, chans * 4, 32, 0)
    body = (b'WAVE' + b'fmt ' + struct.pack('<I', len(fmt)) + fmt + b'fact' +
            struct.pack('<II', 4, len(samples) // chans) + b'data' + struct.pack('<I', len(raw)) + raw)
    with open(path, 'wb') as f:
        f.write(b'RIFF' + struct.pack('<I', len(body)) + body)

def room_ir(rng):
    ir = [0.0] * N
    ir[0] = 1.0
    for ms, g in ((3.1, 0.55), (5.7, -0.45), (8.3, 0.38), (11.9, -0.33), (14.6, 0.30),
                  (19.2, -0.26), (23.5, 0.22)):
        ir[round(ms * FS / 1000)] += g
    early = sum(x * x for x in ir)
    a = 1.0 - math.exp(-2.0 * math.pi * 1000.0 / FS)
    start, onset = round(0.002 * FS), 0.010 * FS
    lo = hi = 0.0
    diffuse = [0.0] * N
    for n in range(start, N):
        x1, x2 = rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0)
        lo += a * (x1 - lo)          # band below 1 kHz (one-pole low-pass)
        hi += a * (x2 - hi)          # x2 - hi: band above 1 kHz
        t = n / FS
        g = min(1.0, (n - start) / onset)
        diffuse[n] = g * (lo * 10.0 ** (-3.0 * t / 0.6) + (x2 - hi) * 10.0 ** (-3.0 * t / 0.4))
    k = math.sqrt(early / sum(x * x for x in diffuse))
    ir = [x + k * y for x, y in zip(ir, diffuse)]
    norm = 1.0 / math.sqrt(sum(x * x for x in ir))
    return array.array('f', [x * norm for x in ir])   # float32, as the daemon holds it

def parts_for_tail(taps, tail_db):
    # dsp/fir.c: the noise floor is the mean energy per tap of the IR's last eighth (for 8
    # partitions or more); the decay ends at the last partition more than 3 dB above it; energy
    # above the floor and before that end counts: remaining[p] = that energy of partitions p..
    # / its total; keep the first K >= 1 with remaining[K] <= 10^(tail_db / 10). Returns K, the
    # partitions, and the energy really cut off (floor included) over the total.
    nparts = (len(taps) + BLOCK - 1) // BLOCK
    n_end = len(taps) // 8 if nparts >= 8 else 0
    floor = sum(float(x) * float(x) for x in taps[len(taps) - n_end:]) / n_end if n_end else 0.0
    above = [max(sum(float(x) * float(x) for x in taps[p * BLOCK:(p + 1) * BLOCK])
                 - floor * len(taps[p * BLOCK:(p + 1) * BLOCK]), 0.0) for p in range(nparts)]
    end = nparts
    while n_end and end > 1 and above[end - 1] <= floor * BLOCK:
        end -= 1
    rem = [0.0] * (nparts + 1)
    total = 0.0
    for p in range(nparts - 1, -1, -1):
        total += above[p] if p < end else 0.0
        rem[p] = total
    rem = [r / total for r in rem]
    limit = 10.0 ** (tail_db / 10.0)
    k = next(k for k in range(1, nparts + 1) if rem[k] <= limit)
    energy = [float(x) * float(x) for x in taps]
    return k, nparts, sum(energy[k * BLOCK:]) / sum(energy)

def pink(rng, n, level_db):
    # Paul Kellet's refined pink filter on white Gaussian noise, scaled to level_db RMS
    b0 = b1 = b2 = b3 = b4 = b5 = b6 = 0.0
    out = [0.0] * n
    for i in range(n):
        w = rng.gauss(0.0, 1.0)
        b0 = 0.99886 * b0 + w * 0.0555179
        b1 = 0.99332 * b1 + w * 0.0750759
        b2 = 0.96900 * b2 + w * 0.1538520
        b3 = 0.86650 * b3 + w * 0.3104856
        b4 = 0.55000 * b4 + w * 0.5329522
        b5 = -0.7616 * b5 - w * 0.0168980
        out[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362
        b6 = w * 0.115926
    g = 10.0 ** (level_db / 20.0) / math.sqrt(sum(x * x for x in out) / n)
    return [x * g for x in out]

rng = random.Random(20261201)
ir = room_ir(rng)
k, nparts, tail = parts_for_tail(ir, TAIL_DB)
write_float_wav(d + '/ir-full.wav', 1, ir)
write_float_wav(d + '/ir-cut.wav', 1, ir[:k * BLOCK])
with open(d + '/tails.env', 'w') as f:   # per extra cut: its tag, dB, partitions kept, energy cut
    for v in extra:
        kv, _, tv = parts_for_tail(ir, v)
        tag = 'tail%g' % -v
        write_float_wav('%s/ir-%s.wav' % (d, tag), 1, ir[:kv * BLOCK])
        f.write('%s %g %d %.2f\n' % (tag, v, kv, 10.0 * math.log10(tv)))

frames = 6 * FS   # 1.37 s to fill the full IR's history, then 4.6 s measured
for name, chans in (('pink', (pink(rng, frames, -20.0), pink(rng, frames, -20.0))),
                    ('white', ([rng.gauss(0.0, 0.1) for _ in range(frames)],
                               [rng.gauss(0.0, 0.1) for _ in range(frames)]))):
    write_float_wav('%s/%s.wav' % (d, name), 2, [s for pair in zip(*chans) for s in pair])

# How a measurement noise floor moves the cut (computed as the daemon does, on the same IR).
floors, peak = [], max(abs(x) for x in ir)
for floor_db in (-120, -100, -80):
    sd = peak * 10.0 ** (floor_db / 20.0)   # Gaussian floor, RMS floor_db below the peak
    fk = parts_for_tail(array.array('f', [x + rng.gauss(0.0, sd) for x in ir]), TAIL_DB)[0]
    floors.append('%d dB: %d' % (floor_db, fk))

with open(d + '/ir.env', 'w') as f:
    f.write('parts=%d\nkept=%d\ntail_db=%.2f\nfloors="%s"\n' %
            (nparts, k, 10.0 * math.log10(tail), ', '.join(floors)))
EOF
parts='' kept='' tail_db='' floors=''
# shellcheck source=/dev/null
. "$dir/ir.env" # parts, kept, tail_db, floors

graph() { # the default graph, IR file $1
	cat <<EOF
[node.in]
type = input
channels = 2
[node.eq]
type = eq
input = in
[node.fir]
type = fir
input = eq
ir = $1
[node.volume]
type = gain
input = fir
gain_db = 0
[node.meter]
type = meter
input = volume
[node.out]
type = output
input = meter
EOF
}
mkdir "$dir/sys" # an empty sysfs: no battery, no zones -> unrestricted unless pinned
{
	printf '[engine]\nrate = 48000\nblock = 256\nbackend = dummy\n'
	printf '[dummy]\ncapture_file = pink.wav\ncapture_loop = yes\n'
	printf '[policy]\nsysfs_root = %s/sys\n' "$dir"
	graph ir-full.wav
} >"$dir/bench.conf"
tags=$(cut -d ' ' -f 1 "$dir/tails.env")
for v in full cut $tags; do
	{ printf '[engine]\nblock = 256\n'; graph "ir-$v.wav"; } >"$dir/render-$v.conf"
done

echo "# IR: 65536 taps = $parts partitions of 256; low (-60 dB) keeps $kept" \
	"($(awk -v k="$kept" -v n="$parts" 'BEGIN { printf "%.1f", 100 * k / n }') %)," \
	"the energy cut off is $tail_db dB"

# ---- CPU per audio second, low vs unrestricted, in one daemon ----
"$ECHOELD" --config "$dir/bench.conf" --socket "$dir/control" --backend dummy \
	2>"$dir/echoeld.log" &
e_pid=$!
wait_for_echoeld "$dir/control" 10 "$e_pid"
wait_for 10 "echoeld to answer" "$ECHOELCTL" --socket "$dir/control" status
sleep 2 # let it settle

# shellcheck disable=SC2086 # TAILS: one argument per cut
python3 - "$ECHOELCTL" "$dir/control" "$e_pid" "$SECS" "$ROUNDS" $TAILS <<'EOF'
import json, os, statistics, subprocess, sys, time

ctl, sock, pid, secs, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
extra = list(dict.fromkeys(float('%g' % float(v)) for v in sys.argv[6:]))   # as tails.env has them
tck = os.sysconf('SC_CLK_TCK')

def echoelctl(*args):
    r = subprocess.run([ctl, '--socket', sock, '--json'] + list(args), capture_output=True, text=True)
    if r.returncode:
        sys.exit('echoelctl %s: %s' % (' '.join(args), r.stderr.strip()))
    return json.loads(r.stdout) if r.stdout.strip() else None

def snapshot():
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])   # utime, stime: fields 14 and 15
    ns = 0
    for t in os.listdir('/proc/%d/task' % pid):
        try:
            with open('/proc/%d/task/%s/schedstat' % (pid, t)) as f:
                ns += int(f.read().split()[0])
        except OSError:
            pass
    st = echoelctl('status')
    fir = next(n for n in echoelctl('stats') if n['name'] == 'fir')
    return dict(t=time.monotonic(), ticks=ticks, ns=ns, cycles=st['cycles'], late=st['late_cycles'],
                xruns=st['xruns'], rate=st['rate'], block=st['block'], workers=st['workers'],
                fir_runs=fir['runs'], fir_us=fir['avg_us'])

# window -> (policy mode, the fir's tail_db in force); 'tail V': unrestricted, cut by hand
want = {'unrestricted': ('unrestricted', 0.0), 'low': ('low', -60.0)}
want.update({'tail %g' % v: ('unrestricted', v) for v in extra})
res = {m: [] for m in want}
print('# %d rounds x %g s per mode; CPU s per audio s (x 1000, i.e. ms per s):' % (rounds, secs))
print('# %-5s %-12s %8s %9s %8s %11s %7s %5s %s' % ('round', 'mode', 'stat', 'schedstat', 'audio s',
                                                      'fir us/cyc', 'workers', 'late', 'xruns'))
for r in range(rounds):
    for mode in (list(want) if r % 2 == 0 else list(want)[::-1]):
        pmode, want_db = want[mode]
        echoelctl('policy', 'set', 'mode=' + pmode)
        if pmode == 'unrestricted':   # a cut set by hand outlives a policy set to the same level
            echoelctl('set', 'fir.tail_db', '--', '%g' % want_db)
        time.sleep(1.0)   # the tail change fades over fade_ms (20 ms); let caches settle too
        pol = echoelctl('policy')
        tail = echoelctl('get', 'fir.tail_db')
        tail = tail['value'] if isinstance(tail, dict) else tail
        if pol['mode'] != pmode or not pol['mode_pinned'] or \
           pol['actions']['fir_tail_db'] != want[pmode][1] or abs(float(tail) - want_db) > 1e-3:
            sys.exit('%s not in force: policy %s, fir.tail_db %s' % (mode, pol, tail))
        a = snapshot()
        time.sleep(secs)
        b = snapshot()
        audio = (b['cycles'] - a['cycles']) * b['block'] / b['rate']
        stat = (b['ticks'] - a['ticks']) / tck / audio
        sched = (b['ns'] - a['ns']) * 1e-9 / audio
        runs = b['fir_runs'] - a['fir_runs']
        fir_us = (b['fir_us'] * b['fir_runs'] - a['fir_us'] * a['fir_runs']) / runs if runs else 0.0
        res[mode].append((stat, sched, fir_us))
        print('  %-5d %-12s %8.2f %9.2f %8.2f %11.1f %7d %5d %d' % (
            r + 1, mode, stat * 1e3, sched * 1e3, audio, fir_us, b['workers'],
            b['late'] - a['late'], b['xruns'] - a['xruns']))

def med(mode, i):
    return statistics.median(x[i] for x in res[mode])
print('# medians (CPU ms per audio s; fir node us per cycle):')
for mode in want:
    print('%-12s  stat %7.2f   schedstat %7.2f   fir %6.1f us/cycle' % (mode, med(mode, 0) * 1e3,
          med(mode, 1) * 1e3, med(mode, 2)))
for i, what in ((1, 'schedstat'), (0, 'utime+stime, cross-check')):
    save = 1.0 - med('low', i) / med('unrestricted', i)
    pairs = statistics.median(1.0 - l[i] / u[i] for u, l in zip(res['unrestricted'], res['low']))
    verdict = '  target >= 40 %%: %s' % ('met' if save >= 0.40 else 'MISSED by %.1f points' % (
        100 * (0.40 - save))) if i == 1 else ''
    print('saving in low (%s): %.1f %% of the median (per-round median %.1f %%)%s' % (
        what, 100 * save, 100 * pairs, verdict))
print('fir node alone: %.1f %% less' % (100 * (1.0 - med('low', 2) / med('unrestricted', 2))))
for v in extra:
    m = 'tail %g' % v
    save = 1.0 - med(m, 1) / med('unrestricted', 1)
    pairs = statistics.median(1.0 - t[1] / u[1] for u, t in zip(res['unrestricted'], res[m]))
    print('saving with the tail cut at %g dB (schedstat): %.1f %% of the median (per-round median '
          '%.1f %%), fir node %.1f %% less' % (v, 100 * save, 100 * pairs,
                                              100 * (1.0 - med(m, 2) / med('unrestricted', 2))))
EOF
n_policy_lines=$(grep -c 'policy: mode' "$dir/echoeld.log" || true)
stop "$e_pid"
e_pid=''
echo "# policy changes logged by echoeld: $n_policy_lines;" \
	"load average at the end: $(cut -d ' ' -f 1-3 /proc/loadavg)"

# ---- the price: the cut IR against the full one, on output ----
for src in pink white; do
	for v in full cut $tags; do
		"$ECHOELD" render --config "$dir/render-$v.conf" --format float "$dir/$src.wav" \
			"$dir/out-$src-$v.wav" 2>>"$dir/render.log" ||
			{ cat "$dir/render.log"; exit 1; }
	done
done
python3 - "$dir" "$tail_db" "$floors" <<'EOF'
import array, math, struct, sys

d, tail_db, floors = sys.argv[1], float(sys.argv[2]), sys.argv[3]
with open(d + '/tails.env') as f:
    tails = [line.split() for line in f if line.strip()]

def read_float_wav(path):
    with open(path, 'rb') as f:
        raw = f.read()
    assert raw[:4] == b'RIFF' and raw[8:12] == b'WAVE', path
    pos, chans, fmt = 12, None, None
    while pos + 8 <= len(raw):
        cid, size = raw[pos:pos + 4], struct.unpack('<I', raw[pos + 4:pos + 8])[0]
        body = raw[pos + 8:pos + 8 + size]
        if cid == b'fmt ':
            fmt, chans = struct.unpack('<HH', body[:4])
            bits = struct.unpack('<H', body[14:16])[0]
            if fmt == 0xFFFE:
                fmt = struct.unpack('<H', body[24:26])[0]
            assert fmt == 3 and bits == 32, '%s: not 32-bit float' % path
        elif cid == b'data':
            a = array.array('f')
            a.frombytes(body[:len(body) // 4 * 4])
            if sys.byteorder != 'little':
                a.byteswap()
            return chans, a
        pos += 8 + size + (size & 1)
    raise SystemExit('%s: no data' % path)

def output_error(src, tag):   # dB, error energy / output energy after the first 65536 frames
    ch, full = read_float_wav('%s/out-%s-full.wav' % (d, src))
    _, cut = read_float_wav('%s/out-%s-%s.wav' % (d, src, tag))
    start = 65536 * ch
    n = min(len(full), len(cut))
    sig = sum(x * x for x in full[start:n])
    err = sum((x - y) ** 2 for x, y in zip(full[start:n], cut[start:n]))
    return 10 * math.log10(err / sig), (n - start) // ch

print('# price of low: the IR cut at the -60 dB partition vs the full IR')
print('IR energy cut off: %.2f dB of the total' % tail_db)
for src in ('pink', 'white'):
    db, frames = output_error(src, 'cut')
    print('output error, %-5s noise in: %.2f dB (error energy / output energy, %d frames after '
          'the first 65536)' % (src, db, frames))
for tag, v, kept, cut_db in tails:
    print('price of a cut at %s dB: keeps %s x 256 taps (%.0f ms), IR energy cut off %s dB, output '
          'error %.2f dB (pink), %.2f dB (white)' % (v, kept, int(kept) * 256 / 48.0, cut_db,
                                                  output_error('pink', tag)[0],
                                                  output_error('white', tag)[0]))
print('# computed as the daemon cuts, for reading the figures: partitions low keeps of the same IR with a')
print('# measurement noise floor (RMS, dB re. the IR peak) at %s' % floors)
EOF
