#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: with capture and playback on two devices, echoeld measures how far their clocks
# drift and says so. Both are tests/alsa/pcm-echoeld-test.c devices on real clocks, the capture
# one running 300 ppm fast (as two sound cards' crystals do, if more than most): within two
# measuring windows `status` reports drift_ppm within 50 of +300, and the log names both
# devices, the drift and how often a period slips (not compensated: the log says so).
#
# usage: test-alsa-drift.sh ECHOELD ECHOELCTL PLUGIN
set -eu

ECHOELD=$1
ECHOELCTL=$2
PLUGIN=$3
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools python3
dir=$(mktemp -d /tmp/test-alsa-drift-XXXXXX) # /tmp: the socket path must fit sockaddr_un
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

# drift_near PPM: status reports a drift within 50 ppm of PPM
drift_near() {
	"$ECHOELCTL" --socket "$dir/control" --json status | python3 -c '
import json, sys
d = json.load(sys.stdin)["drift_ppm"]
sys.exit(not (d is not None and abs(d - float(sys.argv[1])) < 50))' "$1"
}

alsa_test_pcms "$dir" "$PLUGIN" \
	"pcm.card1 { type echoeld_test  control \"$dir/ctl\" }" \
	"pcm.card2 { type echoeld_test  control \"$dir/ctl\"  rate_ppm 300 }"
cat >"$dir/echoeld.conf" <<EOF
[engine]
backend = alsa
block = 256
[alsa]
playback = card1
capture = card2
periods = 4
format = FLOAT_LE
[node.in]
type = input
channels = 2
[node.out]
type = output
input = in
EOF

launch_echoeld "$dir/control" "$dir/log" --config "$dir/echoeld.conf"
"$ECHOELCTL" --socket "$dir/control" --json status |
	python3 -c 'import json, sys; sys.exit(json.load(sys.stdin)["drift_ppm"] is not None)' ||
	fail "a drift reported before a window was measured"
# a window is 5 s of the device's clock; a loaded machine may cost the first one an xrun
wait_for 20 "a drift of about +300 ppm in status" drift_near 300
wait_for 5 "the drift in the log" grep -q "ALSA: capture 'card2' runs +[23][0-9][0-9] ppm against playback 'card1' (two clocks, not compensated): a period slips every" "$dir/log"
finish_echoeld "$dir/log"
echo "ok: capture 300 ppm fast against playback: measured $(grep -o 'runs [^ ]* ppm' "$dir/log" | head -1)," \
	"reported in status and the log"
