#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: echoeld plays straight into an ALSA device with real alsa-lib and no sound card. A
# private asound.conf gives a `file` PCM over ALSA's `null` PCM, which writes every sample
# played into a file (testing.md). The graph is a player of a noise file into an output:
#  - FLOAT_LE: after the buffer of silence the device starts with (2 periods of 256), the file
#    holds the player's file faded in over the engine's fade (fade_ms = 10: 512 frames, the
#    start's fade-in, a straight line from 0), then bit for bit, then silence;
#  - S32_LE, and S16_LE with `dither = no`: the same within the format, x * 2^(bits-1) rounded
#    to nearest (pcm.h); S16_LE as it comes (TPDF dither on for 16 bits): the error against x
#    is within (-1.5, 1.5) LSB, of mean 0 and variance 1/6 + 1/12 LSB^2 (dither and rounding);
#  - capture: an input node fed by a capture device (the file plugin's infile) plays straight
#    to the output: the capture, delayed by the playback's priming, exact after the fade-in;
#  - the device is not paced (null), so the daemon's file size is capped (RLIMIT_FSIZE, SIGXFSZ
#    ignored): the write that passes the cap fails, the thread stops, and the daemon says the
#    device stopped, retries with backoff, and keeps answering — it never exits for it;
#  - `--backend auto` with no JACK or PipeWire server takes the [alsa] device, and one that does
#    not open falls back to the own clock, saying why;
#  - `--check-config` names the file, line and key of a bad [alsa] value.
#
# usage: test-alsa.sh ECHOELD ECHOELCTL
set -eu

ECHOELD=$1
ECHOELCTL=$2
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools prlimit python3
dir=$(mktemp -d /tmp/test-alsa-XXXXXX) # /tmp: the socket path must fit sockaddr_un
epid=''
cleanup() {
	kill_reap "$epid"
	rm -rf "$dir"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	[ -f "$dir/log" ] && show_log "$dir/log"
	exit 1
}

FRAMES=48000 # the noise file's: 1 s
PRIME=512 # 2 periods of 256: the silence the device starts with
FADE=512  # fade_ms = 10 at 48 kHz, in whole blocks of 256: the start's fade-in
# What the daemon may write to any file: the noise decoded into the cache (384,000 bytes plus a
# header) fits, and the device's file holds the priming, the noise and some silence after it.
CAP=$(((PRIME + FRAMES + 4096) * 8))

float_wav "$dir/noise.wav" 1 '(random.uniform(-0.9, 0.9), random.uniform(-0.9, 0.9))'
cat >"$dir/asound.conf" <<EOF
pcm.capped { type file  slave.pcm "null"  file "$dir/out.raw"  format "raw"  truncate false }
pcm.capin { type file  slave.pcm "null"  file "/dev/null"  infile "$dir/in.raw"  format "raw" }
EOF
# the capture device's samples: the noise file's, raw FLOAT_LE
python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); open(sys.argv[2], "wb").write(d[44:])' \
	"$dir/noise.wav" "$dir/in.raw"
export ALSA_CONFIG_PATH="/usr/share/alsa/alsa.conf:$dir/asound.conf"
export JACK_NO_START_SERVER=1 XDG_RUNTIME_DIR="$dir" XDG_STATE_HOME="$dir/state"

# conf BACKEND PCM FORMAT [DITHER]: the player graph on the ALSA device PCM.
conf() {
	cat >"$dir/echoeld.conf" <<EOF
[engine]
backend = $1
block = 256
fade_ms = 10
[alsa]
playback = $2
format = $3
dither = ${4:-auto}
[node.p]
type = player
file = $dir/noise.wav
[node.out]
type = output
input = p
EOF
}

# play FORMAT [DITHER]: the daemon plays into the capped file until it is full, and keeps
# running.
play() {
	rm -f "$dir/out.raw"
	conf alsa capped "$1" "${2:-auto}"
	(trap '' XFSZ && exec prlimit --fsize="$CAP" "$ECHOELD" --config "$dir/echoeld.conf" \
		--socket "$dir/control") 2>"$dir/log" &
	epid=$!
	wait_for_echoeld "$dir/control" 10 "$epid"
	wait_for 30 "the device's file to fill" sh -c "[ \$(stat -c %s '$dir/out.raw') -ge $CAP ]"
	wait_for 10 "word of the stopped device" grep -q "ALSA: the device stopped" "$dir/log"
	"$ECHOELCTL" --socket "$dir/control" status >"$dir/status" ||
		fail "the daemon does not answer after its device stopped"
	grep -Eq '^backend +alsa$' "$dir/status" || fail "status: $(cat "$dir/status")"
	finish_echoeld "$dir/log"
}

# check FORMAT [dithered]: out.raw is PRIME frames of silence, the noise in FORMAT faded in over
# FADE frames, then exactly (or within the dither's statistics), then silence.
check() {
	python3 - "$dir/noise.wav" "$dir/out.raw" "$1" "$PRIME" "$FRAMES" "${2:-}" "$FADE" <<'PY' ||
import array, struct, sys
wav, raw, fmt, prime, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
dithered = sys.argv[6] == "dithered"
fade = int(sys.argv[7])
x = array.array("f")
x.frombytes(open(wav, "rb").read()[44:])
size = {"FLOAT_LE": 4, "S32_LE": 4, "S16_LE": 2}[fmt]
b = open(raw, "rb").read()
if fmt == "FLOAT_LE":
    y = array.array("f"); y.frombytes(b[: len(b) // 4 * 4]); want = list(x)
else:
    bits = size * 8
    y = array.array("i" if size == 4 else "h"); y.frombytes(b[: len(b) // size * size])
    top = (1 << (bits - 1))
    want = [max(-top, min(top - 1, round(v * top))) for v in x]   # pcm.h: nearest, clipped
lead = y[: prime * 2]
if any(v != 0 for v in lead):
    sys.exit("%s: the first %d frames are not the device's silence" % (fmt, prime))
got = y[prime * 2 : prime * 2 + n * 2]
# the start's fade-in: frame i is the sample times i / fade (float ramps, then the format's step)
scale = 1.0 if fmt == "FLOAT_LE" else float(1 << (size * 8 - 1))
for i in range(fade * 2):
    ramp = x[i] * (i // 2) / fade * scale
    if abs(got[i] - ramp) > 2.0 + abs(ramp) * 1e-6:
        sys.exit("%s: frame %d of the fade-in is %r, expected about %r" % (fmt, i // 2, got[i], ramp))
got, x, want = got[fade * 2 :], x[fade * 2 :], want[fade * 2 :]
cnt = n - fade
if dithered:   # TPDF: the error is the dither (1/6) plus the rounding (1/12), never 1.5 LSB
    top = 1 << (size * 8 - 1)
    err = [got[i] - x[i] * top for i in range(cnt * 2)]
    mean = sum(err) / len(err)
    var = sum(e * e for e in err) / len(err) - mean * mean
    if max(abs(e) for e in err) >= 1.5 or abs(mean) > 0.01 or abs(var - 0.25) > 0.01:
        sys.exit("%s dithered: error mean %.4f, variance %.4f (1/4 expected), largest %.3f LSB"
                 % (fmt, mean, var, max(abs(e) for e in err)))
    want = got
    print("ok: %s dithered: error mean %.4f LSB, variance %.4f LSB^2 (1/4 expected)"
          % (fmt, mean, var))
bad = [i for i in range(cnt * 2) if got[i] != want[i]]
if bad:
    i = bad[0]
    sys.exit("%s: %d of %d samples differ; first at frame %d: %r, expected %r"
             % (fmt, len(bad), cnt * 2, fade + i // 2, got[i], want[i]))
after = y[prime * 2 + n * 2 :]
if not after or any(v != 0 for v in after):
    sys.exit("%s: no silence after the file" % fmt)
print("ok: %s: %d frames of silence, %d faded in, %d frames of the file%s, %d of silence after"
      % (fmt, prime, fade, cnt, " dithered" if dithered else " exact", len(after) // 2))
PY
		fail "$1: see above"
}

for f in FLOAT_LE S32_LE; do
	play "$f"
	check "$f"
done
play S16_LE no
check S16_LE
play S16_LE
check S16_LE dithered

# Capture: an input node fed by the capture device (the noise file through the file plugin's
# infile) straight to the output: the output is the capture, delayed by the playback's priming,
# faded in, then exact.
rm -f "$dir/out.raw"
printf '%s\n' "[engine]" "backend = alsa" "block = 256" "fade_ms = 10" "[alsa]" \
	"playback = capped" "capture = capin" "format = FLOAT_LE" "dither = no" \
	"[node.in]" "type = input" "channels = 2" "[node.out]" "type = output" "input = in" \
	>"$dir/capture.conf"
(trap '' XFSZ && exec prlimit --fsize="$CAP" "$ECHOELD" --config "$dir/capture.conf" \
	--socket "$dir/control") 2>"$dir/log" &
epid=$!
wait_for_echoeld "$dir/control" 10 "$epid"
wait_for 30 "the device's file to fill" sh -c "[ \$(stat -c %s '$dir/out.raw') -ge $CAP ]"
grep -q "capture 'capin'" "$dir/log" || fail "the capture device was not opened"
finish_echoeld "$dir/log"
python3 - "$dir/in.raw" "$dir/out.raw" "$PRIME" "$FADE" <<'PY' || fail "capture: see above"
import array, sys
x = array.array("f"); x.frombytes(open(sys.argv[1], "rb").read())
y = array.array("f"); y.frombytes(open(sys.argv[2], "rb").read())
prime, fade = int(sys.argv[3]), int(sys.argv[4])
n = min(len(x), len(y) - 2 * prime) // 2
bad = [i for i in range(2 * fade, 2 * n) if y[2 * prime + i] != x[i]]
if any(v != 0.0 for v in y[: 2 * prime]) or bad:
    sys.exit("capture: %d of %d samples differ after the fade-in" % (len(bad), 2 * (n - fade)))
print("ok: capture: %d frames through the input node to the output, exact after the fade-in" % n)
PY

# auto: no JACK (JACK_NO_START_SERVER), no PipeWire (nothing in XDG_RUNTIME_DIR): ALSA.
conf auto capped FLOAT_LE
rm -f "$dir/out.raw"
(trap '' XFSZ && exec prlimit --fsize="$CAP" "$ECHOELD" --config "$dir/echoeld.conf" \
	--socket "$dir/control") 2>"$dir/log" &
epid=$!
wait_for_echoeld "$dir/control" 10 "$epid"
# the socket is bound before the backend opens: the log says what auto took once it has
wait_for 10 "auto to take the ALSA device" grep -Eq "running .*backend alsa" "$dir/log"
grep -q "backend auto: no PipeWire either" "$dir/log" || fail "auto did not say why not PipeWire"
finish_echoeld "$dir/log"
conf auto nosuchpcm FLOAT_LE
launch_echoeld "$dir/control" "$dir/log" --config "$dir/echoeld.conf"
wait_for 10 "auto to fall back to the own clock" grep -Eq "running .*backend dummy" "$dir/log"
grep -q "backend auto: no ALSA device either (ALSA playback 'nosuchpcm': cannot open" "$dir/log" ||
	fail "auto did not say why not ALSA"
finish_echoeld "$dir/log"

# A bad [alsa] value: the file, line and key.
printf '[engine]\nbackend = alsa\n[alsa]\nplayback = capped\nperiods = 9\n' >"$dir/bad.conf"
rc=0
"$ECHOELD" --check-config "$dir/bad.conf" 2>"$dir/err" || rc=$?
[ "$rc" -ne 0 ] || fail "--check-config took periods = 9"
grep -q "bad.conf:5: key 'periods'" "$dir/err" || fail "--check-config: $(cat "$dir/err")"
echo "ok: ALSA playback bit-exact (FLOAT_LE), rounded (S32_LE, S16_LE) and dithered (S16_LE) through alsa-lib's" \
	"file plugin, a stopped device survived, auto picks ALSA or falls back, [alsa] checked"
