#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: the JACK, PipeWire and ALSA backends are modules loaded only when chosen
# (daemon/backend/modules.h), and a missing or wrong module is a clear message, never a crash:
#   1. echoeld on its own clock maps none of libjack, libpipewire or libasound;
#   2. --check-config beside the real modules checks [jack], [pipewire] and [alsa];
#   3. a copy of echoeld with no module beside it (and none installed): --backend jack fails
#      naming the module and both places it looked; --backend auto says why it passed each
#      server and runs on the own clock; --check-config fails only for a configuration that has a
#      section of a backend it cannot load;
#   4. another module under the JACK module's name is refused, naming what it lacks;
#   5. the daemon itself is a module too (daemon/service.h): echoeld needs no libsystemd, the
#      running daemon maps echoeld-service.so, and a copy without it still renders, while the
#      daemon and --check-config name the file they missed;
#   6. scripts/run.sh (the README's first command) builds every module the build makes: on a
#      fresh clone it builds only the targets it names.
#
# usage: test-backend-modules.sh ECHOELD ECHOELCTL
set -eu

ECHOELD=$1
ECHOELCTL=$2
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
dir=$(mktemp -d /tmp/test-backend-modules-XXXXXX) # /tmp: the socket path must fit sockaddr_un
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
# expect_missing MESSAGE FILE WHAT: $dir/log says MESSAGE (that FILE was not found, and where);
# a log naming FILE otherwise means it is installed system-wide, which makes the case
# untestable here: skip.
expect_missing() {
	grep -q "$1" "$dir/log" && return 0
	grep -q "$2" "$dir/log" && { echo "skip: $2 is installed system-wide"; exit 77; }
	fail "$3 without its module: no message naming it and where it looked"
}
{
	echo '[engine]'
	conf_tone_graph gain
} >"$dir/plain.conf"
{
	printf '[jack]\nclient_name = modtest\n[pipewire]\n[alsa]\nplayback = null\n'
	cat "$dir/plain.conf"
} >"$dir/sections.conf"
{
	printf '[jack]\nclient_name = modtest\n'
	cat "$dir/plain.conf"
} >"$dir/jack.conf"

# 1. the own clock: no server library in the process
"$ECHOELD" --config "$dir/plain.conf" --socket "$dir/control" --backend dummy 2>"$dir/log" &
epid=$!
wait_for_echoeld "$dir/control" 10 "$epid"
if grep -E 'libjack|libpipewire|libasound' "/proc/$epid/maps" >"$dir/maps"; then
	fail "the own clock mapped a server's library: $(cat "$dir/maps")"
fi
kill_reap "$epid"
epid=''
echo "ok: the own clock maps no server library"

# 2. the real modules load, and check their sections
"$ECHOELD" --check-config "$dir/sections.conf" 2>"$dir/log" ||
	fail "--check-config with every backend's section failed"
grep -q 'configuration is valid' "$dir/log" || fail "--check-config did not say valid"
echo "ok: --check-config loads and checks every module"

# 3. a copy with its service module but no backend module
mkdir "$dir/bin"
cp "$ECHOELD" "$dir/bin/echoeld"
cp "$(dirname "$ECHOELD")/echoeld-service.so" "$dir/bin/"
if "$dir/bin/echoeld" --config "$dir/plain.conf" --socket "$dir/c1" --backend jack 2>"$dir/log"; then
	fail "--backend jack without its module started"
fi
expect_missing "no module echoeld-backend-jack.so in '$dir/bin'" echoeld-backend-jack.so \
	"--backend jack"
echo "ok: --backend jack without a module: $(grep -o 'backend jack: no module.*' "$dir/log")"

"$dir/bin/echoeld" --config "$dir/plain.conf" --socket "$dir/c2" --backend auto 2>"$dir/log" &
epid=$!
wait_for_echoeld "$dir/c2" 10 "$epid"
"$ECHOELCTL" --socket "$dir/c2" status >/dev/null || fail "auto without modules: no answer"
for b in jack pipewire alsa; do
	grep -q "backend $b: no module echoeld-backend-$b.so" "$dir/log" ||
		fail "auto did not say why it passed $b"
done
grep -q 'own clock' "$dir/log" || fail "auto without modules did not run on the own clock"
kill_reap "$epid"
epid=''
echo "ok: auto without modules passes each, saying why, and runs the own clock"

"$dir/bin/echoeld" --check-config "$dir/plain.conf" 2>"$dir/log" ||
	fail "--check-config of a configuration naming no backend failed without modules"
if "$dir/bin/echoeld" --check-config "$dir/jack.conf" 2>"$dir/log"; then
	fail "--check-config of a [jack] section passed without the module"
fi
grep -q "cannot check \[jack\]: backend jack: no module" "$dir/log" ||
	fail "--check-config without the JACK module: no message naming it"
echo "ok: --check-config without modules: $(grep -o 'cannot check.*' "$dir/log" | cut -c1-60)..."

# 4. a module that is not JACK's under its name
cp "$(dirname "$ECHOELD")/echoeld-backend-alsa.so" "$dir/bin/echoeld-backend-jack.so"
if "$dir/bin/echoeld" --config "$dir/plain.conf" --socket "$dir/c3" --backend jack 2>"$dir/log"; then
	fail "a wrong module under the JACK module's name started"
fi
grep -q "echoeld-backend-jack.so' has no be_jack_ops" "$dir/log" ||
	fail "a wrong module: no message saying what it lacks"
echo "ok: a wrong module is refused: $(grep -o "has no be_jack_ops" "$dir/log")"

# 5. the service module
if ldd "$ECHOELD" | grep -q libsystemd; then
	fail "echoeld itself needs libsystemd: $(ldd "$ECHOELD" | grep libsystemd)"
fi
"$ECHOELD" --config "$dir/plain.conf" --socket "$dir/c4" --backend dummy 2>"$dir/log" &
epid=$!
wait_for_echoeld "$dir/c4" 10 "$epid"
grep -q 'echoeld-service.so' "/proc/$epid/maps" || fail "the running daemon has no echoeld-service.so mapped"
grep -q 'libsystemd' "/proc/$epid/maps" || fail "the running daemon did not map libsystemd"
kill_reap "$epid"
epid=''
mkdir "$dir/alone"
cp "$ECHOELD" "$dir/alone/echoeld"
printf '[node.in]\ntype = input\nchannels = 1\n[node.out]\ntype = output\ninput = in\n' >"$dir/mono.conf"
python3 -c "
import struct, sys
data = struct.pack('<4800h', *([1000, -1000] * 2400))
fmt = struct.pack('<HHIIHH', 1, 1, 48000, 96000, 2, 16)
sys.stdout.buffer.write(b'RIFF' + struct.pack('<I', 36 + len(data)) + b'WAVE' + b'fmt ' +
                        struct.pack('<I', 16) + fmt + b'data' + struct.pack('<I', len(data)) + data)
" >"$dir/in.wav"
"$dir/alone/echoeld" render --config "$dir/mono.conf" "$dir/in.wav" "$dir/out.wav" 2>"$dir/log" ||
	fail "a copy without the service module did not render"
cmp -s "$dir/in.wav" "$dir/out.wav" || fail "the render without the service module changed the file"
if "$dir/alone/echoeld" --config "$dir/plain.conf" --socket "$dir/c5" --backend dummy 2>"$dir/log"; then
	fail "the daemon started without its service module"
fi
expect_missing "service: no module echoeld-service.so in '$dir/alone'" echoeld-service.so \
	"the daemon"
if "$dir/alone/echoeld" --check-config "$dir/plain.conf" 2>"$dir/log"; then
	fail "--check-config passed without the service module"
fi
grep -q "service: no module echoeld-service.so" "$dir/log" ||
	fail "--check-config without the service module: no message naming it"
echo "ok: the service is a module: echoeld needs no libsystemd, renders without it, names it when missing"

# 6. the README's run script builds every module
run_sh="$(dirname "$0")/../../scripts/run.sh"
for m in "$(dirname "$ECHOELD")"/echoeld-*.so; do
	name=$(basename "$m" .so)
	grep -q "$name" "$run_sh" || fail "scripts/run.sh does not build $name"
done
echo "ok: scripts/run.sh builds every module: $(cd "$(dirname "$ECHOELD")" && echo echoeld-*.so)"
