#!/bin/sh
# SPDX-License-Identifier: MIT
# Property: what a first-time user reads when echoeld starts tells them what it does. Started on
# its own clock (backend dummy) with a graph whose [node.out] is written twice, the daemon's log
# warns about the repeated section (naming both lines) and the lost output node, says that
# playback is discarded and names the control socket it listens on. --socket creates only the
# default runtime directory ($XDG_RUNTIME_DIR/echoeld here): a socket in another missing
# directory is refused naming that directory, which is not created; a relative --socket in an
# existing directory works.
#
# usage: test-first-use.sh ECHOELD ECHOELCTL
set -eu

ECHOELD=$1
ECHOELCTL=$2
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
dir=$(mktemp -d /tmp/test-first-use-XXXXXX) # /tmp: socket paths must fit sockaddr_un
pid=''
cleanup() {
	kill_reap "$pid"
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	echo "--- echoeld log:"
	cat "$dir/log" 2>/dev/null || true
	exit 1
}
# The daemon's start can take seconds on a loaded machine; the waits end as soon as it is up
# (or gone), so this bound only decides when to give up.
START_S=30

# log ERE: the daemon's log has a line matching ERE (fixed strings are escaped by the caller).
log() { grep -Eq -- "$1" "$dir/log" || fail "no line matching '$1' in the log"; }

# started: waits until the daemon logged its start-up summary (after its socket exists).
started() {
	wait_for_echoeld "$1" "$START_S" "$pid"
	wait_for "$START_S" "the start-up message" grep -q '^echoeld: running ' "$dir/log"
}

# stop_daemon: SIGTERM, and a clean exit.
stop_daemon() {
	term_wait "$pid"
	pid=''
	[ "$status" -eq 0 ] || fail "echoeld exited $status after SIGTERM"
}

# 1. A repeated section and no output: warned at start; the own clock says where sound goes.
cat >"$dir/twice.conf" <<'EOF'
[node.tone]
type = tone
channels = 2
[node.out]
type = output
input = tone
[node.out]
type = gain
gain_db = -6
EOF
"$ECHOELD" --config "$dir/twice.conf" --socket "$dir/control" --backend dummy 2>"$dir/log" &
pid=$!
started "$dir/control"
log "^echoeld: warning: $dir/twice.conf:7: section \[node.out\] repeats the one at line 4 "
log "^echoeld: warning: $dir/twice.conf: no output node: "
log "playback is discarded"
log "control socket '$dir/control'"
"$ECHOELCTL" --socket "$dir/control" status >/dev/null || fail "echoelctl status"
stop_daemon

# 2. --socket in a missing directory other than the default: refused, naming it; not created.
# (in the background: a daemon that wrongly starts must not hang the test)
"$ECHOELD" --socket "$dir/missing/x.sock" --backend dummy 2>"$dir/log" &
pid=$!
rc=0
wait_for_socket "$dir/missing/x.sock" "$START_S" "$pid" || rc=$?
[ "$rc" -eq 2 ] || fail "--socket in a missing directory: echoeld did not refuse to start"
rc=0
wait "$pid" || rc=$?
pid=''
[ "$rc" -eq 1 ] || fail "--socket in a missing directory: exit $rc, expected 1"
log "^echoeld: error: .*'$dir/missing'.* does not exist"
[ ! -e "$dir/missing" ] || fail "echoeld created '$dir/missing'"

# 3. The default runtime directory ($XDG_RUNTIME_DIR/echoeld) is created when missing.
mkdir -m 700 "$dir/run"
XDG_RUNTIME_DIR="$dir/run" "$ECHOELD" --socket "$dir/run/echoeld/control" --backend dummy \
	2>"$dir/log" &
pid=$!
started "$dir/run/echoeld/control"
stop_daemon

# 4. A relative --socket in an existing directory (here the working directory) keeps working.
mkdir "$dir/cwd"
(cd "$dir/cwd" && exec "$ECHOELD" --socket rel.sock --backend dummy) 2>"$dir/log" &
pid=$!
started "$dir/cwd/rel.sock"
"$ECHOELCTL" --socket "$dir/cwd/rel.sock" status >/dev/null || fail "status on a relative socket"
stop_daemon
[ ! -e "$dir/cwd/rel.sock" ] || fail "echoeld left its relative socket behind"

echo "ok: start-up warnings, the own clock's message and socket, --socket directories"
