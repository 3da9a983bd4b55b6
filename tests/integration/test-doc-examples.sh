#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: every example a first-time user copies from the README and the man pages works.
# The examples are taken from the documents themselves (doc-examples.py), so the test follows
# the docs: each echoelctl command (README.md, echoelctl(1), echoeld(8), echoeld.conf(5)) runs
# in document order against a fresh echoeld per document, on the default graph
# (conf/echoeld.conf, the built-in graph written out) and the own clock, and exits 0; after the
# README's, its tone is heard at the output (the meter before it reads a level); every
# configuration example passes --check-config without a warning, as do the shipped files the
# README and scripts/run.sh name. Commands that are not
# echoelctl (echoeld itself, systemctl) are listed and not run.
# Two things are adapted, visibly: `monitor` without --count gets --count 2 (it would run until
# interrupted), and the fixed socket /tmp/test.sock of echoelctl(1) is the test's private one.
#
# usage: test-doc-examples.sh ECHOELD ECHOELCTL
set -eu

ECHOELD=$1
ECHOELCTL=$2
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
. "$here/../lib.sh"
require_tools python3
dir=$(mktemp -d /tmp/test-doc-examples-XXXXXX) # /tmp: the socket path must fit sockaddr_un
pid=''
cleanup() {
	kill_reap "$pid"
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	for f in out log; do
		[ -f "$dir/$f" ] && { echo "--- $f:"; cat "$dir/$f"; }
	done
	exit 1
}

# The examples say `echoelctl`: the built one, on the daemon this test started.
mkdir "$dir/bin" "$dir/ex"
ln -s "$ECHOELCTL" "$dir/bin/echoelctl"
PATH="$dir/bin:$PATH"
ECHOELD_SOCKET="$dir/control"
export PATH ECHOELD_SOCKET

found=$(python3 "$here/doc-examples.py" "$dir/ex" "$src/README.md" "$src/docs/man/echoelctl.1" \
	"$src/docs/man/echoeld.8" "$src/docs/man/echoeld.conf.5")
[ "$found" -gt 10 ] || fail "only $found examples found in the docs: has their form changed?"

# start_daemon / stop_daemon: a fresh echoeld on the default graph for each document.
start_daemon() {
	"$ECHOELD" --config "$src/conf/echoeld.conf" --socket "$dir/control" --backend dummy \
		2>"$dir/log" &
	pid=$!
	# ends as soon as it is up (or gone): the bound only decides when to give up
	wait_for_echoeld "$dir/control" 30 "$pid"
}
stop_daemon() {
	[ -n "$pid" ] || return 0
	term_wait "$pid"
	pid=''
	[ "$status" -eq 0 ] || fail "echoeld exited $status after SIGTERM"
	! grep -Eq "AddressSanitizer|runtime error|RealtimeSanitizer" "$dir/log" ||
		fail "sanitizer report in the daemon's log"
}

# run_ctl FILE: one echoelctl example, as a shell runs it.
run_ctl() {
	sed -e "s|/tmp/test\.sock|$dir/control|g" \
		-e '/^\(.* \)\{0,1\}echoelctl .*monitor/{/--count/!s/monitor/monitor --count 2/}' \
		"$1" >"$dir/cmd"
	rc=0
	(cd "$dir" && sh "$dir/cmd") >"$dir/out" 2>&1 </dev/null || rc=$?
	[ "$rc" -eq 0 ] || fail "example from $2 exited $rc: $(cat "$dir/cmd")"
}

# check_conf FILE: a configuration example, in a directory holding the IR files it names
# (the shipped example IR under each name).
check_conf() {
	d=$dir/conf-$(basename "$1")
	mkdir -p "$d"
	cp "$1" "$d/example.conf"
	# shellcheck disable=SC2013 # IR paths in the docs have no blanks
	for ir in $(sed -n 's/^ir *= *//p' "$1"); do
		mkdir -p "$(dirname "$d/$ir")"
		cp "$src/conf/ir/room-example.wav" "$d/$ir"
	done
	rc=0
	"$ECHOELD" --check-config "$d/example.conf" >"$dir/out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || fail "configuration example from $2: --check-config exited $rc"
	! grep -q 'warning:' "$dir/out" || fail "configuration example from $2: a warning"
}

# the README's tone reaches the output: the meter before it reads a level on some channel
tone_heard() {
	echoelctl get meter.peak_db >"$dir/out" 2>&1 || fail "get meter.peak_db"
	awk '{ v = $NF } v != "-inf" && v + 0 > -60 { ok = 1 } END { exit !ok }' "$dir/out"
}

# The shipped configurations the README and scripts/run.sh name exist and are valid.
# shellcheck disable=SC2013 # nor do these
for c in $(grep -ho 'conf/[A-Za-z0-9_-]*\.conf' "$src/README.md" "$src/scripts/run.sh" | sort -u); do
	rc=0
	"$ECHOELD" --check-config "$src/$c" >"$dir/out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || fail "'$c', named in README.md or scripts/run.sh: --check-config exited $rc"
done

ran=0
current=''
for f in "$dir"/ex/*; do
	doc=${f##*-}
	case $f in
	*-ctl-*)
		if [ "$doc" != "$current" ]; then
			[ "$current" != README.md ] || wait_for 10 "the README's tone at the meter" tone_heard
			stop_daemon
			start_daemon
			current=$doc
		fi
		run_ctl "$f" "$doc"
		ran=$((ran + 1))
		;;
	*-conf-*)
		check_conf "$f" "$doc"
		ran=$((ran + 1))
		;;
	*) echo "# not run (not echoelctl), from $doc: $(head -n 1 "$f")" ;;
	esac
done
[ "$current" != README.md ] || wait_for 10 "the README's tone at the meter" tone_heard
stop_daemon
echo "ok: $ran examples of $found from README.md and the man pages ran and exited 0"
