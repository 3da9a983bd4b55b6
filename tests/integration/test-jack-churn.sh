#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: changing echoeld's JACK ports while the server runs cycles never touches freed
# memory. Against a real, named `jackd -d dummy` with two busy loops beside it (so the server's
# process thread is preempted mid-cycle whenever it is not real-time), ROUNDS rounds of: add an
# output node and an input node (each with two ports), `set` a gain, remove both, `set` again.
# (At most 40 s of churn: a loaded machine runs fewer rounds.)
# Pass: echoeld still runs and answers, its log has no sanitizer report, and at the end its ports
# are exactly the configuration's (none of the churned ones left, none of its own lost).
#
# Two variants, by the third argument:
#   rt      jackd with real-time scheduling (the default): the retired port table is reaped once
#           the process callback has moved on;
#   norealtime  `jackd -r`: no real-time scheduling. echoeld then frees the retired table at
#           once (jack.c, the !jack_is_realtime path) while a preempted callback may still read
#           it: a heap-use-after-free under ASan (abort_on_error kills echoeld), seen within a
#           few hundred rounds.
# Meaningful under ASan (the build-asan flavour); in a plain build a use after free may pass
# unseen. In the RealtimeSanitizer build, the process callback is checked as in test-jack.
#
# usage: test-jack-churn.sh ECHOELD ECHOELCTL rt|norealtime [ROUNDS]   (exit 77: no jackd)
set -eu

ECHOELD=$1
ECHOELCTL=$2
VARIANT=$3
ROUNDS=${4:-300}
CHURN_S=40 # the test stays under a minute however loaded the machine is
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools jackd jack_lsp jack_wait python3 timeout
case $VARIANT in
rt) jack_opts='' ;;
norealtime) jack_opts='-r' ;;
*) echo "usage: $0 ECHOELD ECHOELCTL rt|norealtime [ROUNDS]" >&2; exit 2 ;;
esac

dir=$(mktemp -d /tmp/test-jack-churn-XXXXXX)
server=echoeld-churn-$VARIANT-$$
export JACK_DEFAULT_SERVER=$server JACK_NO_START_SERVER=1
jpid='' epid='' busy1='' busy2=''
cleanup() {
	kill_reap "$busy1" "$busy2" "$epid" "$jpid"
	rm -rf "$dir"
	jack_shm_cleanup "$server"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
	echo "FAIL ($VARIANT): $*"
	show_log "$dir/echoeld.log"
	exit 1
}

{
	printf '[engine]\nfade_ms = 1\n[jack]\nclient_name = echoeld\n'
	conf_tone_graph gain
	conf_in_meter
} >"$dir/echoeld.conf"
want="echoeld:in_1 echoeld:in_2 echoeld:out_1 echoeld:out_2 "
ports() { timeout 5 jack_lsp -s "$server" | grep '^echoeld:' | sort | tr '\n' ' '; }

# shellcheck disable=SC2086 # jack_opts: zero or one option
start_jackd "$server" "$dir/jackd.log" $jack_opts
busy_loops
launch_echoeld "$dir/control" "$dir/echoeld.log" --config "$dir/echoeld.conf" --backend jack
wait_for 10 "echoeld's ports" sh -c "[ \"\$(timeout 5 jack_lsp -s $server | grep -c '^echoeld:')\" -eq 4 ]"
[ "$(ports)" = "$want" ] || fail "ports at the start are '$(ports)'"

# The churn (churn-client.py: one client, the control protocol), at most CHURN_S seconds.
python3 "$(dirname "$0")/churn-client.py" "$dir/control" "$ROUNDS" "$CHURN_S" \
	>"$dir/churn.out" 2>"$dir/churn.err" || {
	cat "$dir/churn.err"
	alive "$epid" || fail "echoeld died during the churn"
	fail "the churn client failed"
}
read -r rounds secs <"$dir/churn.out"
echo "# $rounds rounds of node add/rm (4 ports each) and sets in $secs s"
[ "$rounds" -ge 20 ] || fail "only $rounds rounds in $secs s"

alive "$epid" || fail "echoeld died"
"$ECHOELCTL" --socket "$dir/control" hello >/dev/null || fail "echoeld does not answer"
"$ECHOELCTL" --socket "$dir/control" set g.mute off >/dev/null || fail "set after the churn"
# The ports of the configuration, and nothing else, once the last unregistration is done.
wait_for 5 "the ports to settle at '$want'" sh -c "[ \"\$(timeout 5 jack_lsp -s $server | grep '^echoeld:' | sort | tr '\n' ' ')\" = \"$want\" ]"
finish_echoeld "$dir/echoeld.log"
echo "ok ($VARIANT): $rounds rounds of port changes under load, echoeld alive, ports as configured"
