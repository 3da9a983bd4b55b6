#!/bin/sh
# SPDX-License-Identifier: MIT
# test-probes.sh: the USDT probes docs/performance.md lists are in the built echoeld, and they
# fire: under `perf stat` a daemon playing a tone hits cycle_begin and cycle_end once per cycle
# and node_begin once per node and cycle, plan_publish at its start.
#
#   - readelf -n lists every probe of provider `echoeld` (the ELF notes sys/sdt.h writes).
#   - perf (linux-perf) adds uprobes for them, counts hits over ~3 s of playback, and deletes
#     them again (in a trap, so a failure leaves no probe behind).
#
# usage: test-probes.sh ECHOELD HAVE_SDT
# HAVE_SDT is `true` when meson found <sys/sdt.h>. Exit status: 0 pass, 1 fail, 77 skip (built
# without sys/sdt.h; or, for the perf part only, no perf or no uprobes: then readelf alone).
set -eu

[ $# -eq 2 ] || { echo "usage: $0 ECHOELD HAVE_SDT" >&2; exit 2; }
ECHOELD=$1
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
[ "$2" = true ] || { echo "skip: built without <sys/sdt.h> (systemtap-sdt-dev): no probes"; exit 77; }
require_tools readelf

PROBES="cycle_begin cycle_end node_begin node_end plan_publish ir_prepare_begin ir_prepare_end
layout_search_begin layout_search_end"

dir=$(mktemp -d /tmp/echoeld-probes-XXXXXX)
epid=
added=
fail() {
	echo "FAIL: $*" >&2
	[ -f "$dir/perf.log" ] && sed 's/^/perf: /' "$dir/perf.log" >&2
	exit 1
}
cleanup() {
	stop "$epid"
	[ -z "$added" ] || perf probe -q -d 'sdt_echoeld:*' >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

readelf -n "$ECHOELD" >"$dir/notes"
for p in $PROBES; do
	# each note: "Provider: echoeld" then "Name: <probe>" on the next line
	grep -A1 'Provider: echoeld' "$dir/notes" | grep -q "Name: $p\$" ||
		fail "probe echoeld:$p is not in $ECHOELD"
done
echo "ok: all $(echo "$PROBES" | wc -w) probes are in the binary"

if ! command -v perf >/dev/null || [ "$(id -u)" -ne 0 ] ||
	! perf probe -q -x "$ECHOELD" sdt_echoeld:cycle_begin >/dev/null 2>"$dir/perf.log"; then
	echo "skip (perf part): perf cannot add uprobes here; the probes are in the binary"
	exit 0
fi
added=1
for p in cycle_end node_begin plan_publish; do
	perf probe -q -x "$ECHOELD" "sdt_echoeld:$p" >/dev/null 2>>"$dir/perf.log" ||
		fail "perf probe sdt_echoeld:$p"
done
{ echo '[engine]'; echo 'backend = dummy'; conf_tone_graph gain; } >"$dir/tone.conf"
perf stat -x, -o "$dir/counts" \
	-e sdt_echoeld:cycle_begin -e sdt_echoeld:cycle_end -e sdt_echoeld:node_begin \
	-e sdt_echoeld:plan_publish -- \
	timeout -s TERM 3 "$ECHOELD" --config "$dir/tone.conf" --socket "$dir/sock" \
	2>"$dir/echoeld.log" || true
count() { awk -F, -v e="sdt_echoeld:$1" '$3 == e { print $1 }' "$dir/counts"; }
begin=$(count cycle_begin) end=$(count cycle_end) nodes=$(count node_begin) plans=$(count plan_publish)
echo "perf: cycle_begin $begin, cycle_end $end, node_begin $nodes, plan_publish $plans"
[ -n "$begin" ] && [ "$begin" -gt 10 ] || fail "cycle_begin fired ${begin:-no} times in 3 s"
[ "$end" -eq "$begin" ] || fail "cycle_end ($end) and cycle_begin ($begin) differ"
# three nodes (tone, gain, out) run in every cycle once the graph is up
[ "$nodes" -ge $((3 * (begin - 2))) ] || fail "node_begin $nodes for $begin cycles of 3 nodes"
[ "$plans" -ge 1 ] || fail "plan_publish never fired"
echo "ok: the probes fire"
