#!/bin/sh
# Property: a file a client named is opened only beneath [ipc] file_dirs, also when the path is
# changed between its check and the open. The client's own symlink outside file_dirs ($dir/link,
# which points inside when the daemon checks it) is turned to point outside afterwards:
#   - a recorder's next take (its file made long after node.add checked the name) fails with
#     "Permission denied" and nothing is made outside; pointed back inside, the next take runs;
#   - a configuration the client loaded names an IR through the link: edited (a gain, so the
#     filter is prepared again) and re-read by SIGHUP (no request, so no check runs), the IR,
#     now outside, is refused: the reload fails naming the key, the graph keeps the filter it
#     had (the IR inside, by its length);
#   - the administrator's own configuration names a file outside file_dirs through the same kind
#     of link, and it opens: the rule is for clients' names only.
# Black box: the real echoeld on the dummy backend and the real echoelctl.
#
# usage: test-file-races.sh ECHOELD ECHOELCTL
set -eu

ECHOELD=$1
ECHOELCTL=$2
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../lib.sh"
require_tools python3
dir=$(mktemp -d /tmp/test-file-races-XXXXXX) # /tmp: the socket path must fit sockaddr_un
pid=''
cleanup() {
	kill_reap "$pid"
	rm -rf "$dir"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	for f in out err; do
		[ -f "$dir/$f" ] && { echo "--- $f:"; cat "$dir/$f"; }
	done
	show_log "$dir/log"
	exit 1
}

ctl() {
	want=$1
	shift
	rc=0
	"$ECHOELCTL" --socket "$dir/control" "$@" >"$dir/out" 2>"$dir/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "echoelctl $*: exit $rc, expected $want"
}

# point TARGET: the client's link now leads to TARGET (a new link renamed over the old one).
point() {
	ln -s "$1" "$dir/link.new"
	mv -T "$dir/link.new" "$dir/link"
}

# detail_is NODE KEY VALUE (ctl_detail_is on this daemon)
detail_is() { ctl_detail_is "$dir/control" "$@"; }

mkdir -p "$dir/allowed/real" "$dir/outside" "$dir/admin"
float_wav "$dir/allowed/real/ir.wav" 0.01 '(1.0 if i == 0 else 0.0, 1.0 if i == 0 else 0.0)'
float_wav "$dir/outside/ir.wav" 0.02 '(0.5 if i == 0 else 0.0, 0.5 if i == 0 else 0.0)'
cp "$dir/outside/ir.wav" "$dir/admin/ir.wav"
ln -s "$dir/admin" "$dir/adminlink"
point "$dir/allowed/real"

cat >"$dir/echoeld.conf" <<EOF
[engine]
block = 256
fade_ms = 10
[ipc]
file_dirs = $dir/allowed
[node.tone]
type = tone
channels = 2
[node.adminfir]
type = fir
input = tone
ir = $dir/adminlink/ir.wav
[node.out]
type = output
input = adminfir
EOF
# the administrator's path, outside file_dirs through a symlink: opened as written
XDG_STATE_HOME="$dir/state" \
	"$ECHOELD" --config "$dir/echoeld.conf" --socket "$dir/control" --backend dummy 2>"$dir/log" &
pid=$!
wait_for_echoeld "$dir/control" 10 "$pid"
detail_is adminfir ir_taps 960.0 || fail "the administrator's IR outside file_dirs did not load"

# A recorder: checked at node.add (the link leads inside), its take made later.
ctl 0 node add rec recorder --input tone "file=$dir/link/take.wav" recording=0
point "$dir/outside"
ctl 0 set rec.recording 1
wait_for 10 "the take through the swapped link to fail" \
	detail_is rec state 'failed: Permission denied'
[ ! -e "$dir/outside/take.wav" ] || fail "a take was written outside file_dirs"
point "$dir/allowed/real"
ctl 0 set rec.recording 0
ctl 0 set rec.recording 1
wait_for 10 "the take through the link pointed back inside" detail_is rec state recording
ctl 0 set rec.recording 0
wait_for 10 "the take to end" detail_is rec state stopped
[ -s "$dir/allowed/real/take.wav" ] || fail "the take inside was not written"
[ ! -e "$dir/outside/take.wav" ] || fail "a take was written outside file_dirs"

# A configuration the client loads names its IR through the link (inside now: accepted).
cat >"$dir/allowed/client.conf" <<EOF
[engine]
block = 256
fade_ms = 10
[node.tone]
type = tone
channels = 2
[node.f]
type = fir
input = tone
ir = $dir/link/ir.wav
[node.out]
type = output
input = f
EOF
ctl 0 load "$dir/allowed/client.conf"
wait_for 10 "the loaded IR inside" detail_is f ir_taps 480.0
point "$dir/outside"
sed -i 's/^ir = /gain_db = -1\nir = /' "$dir/allowed/client.conf"
lines=$(wc -l <"$dir/log")
kill -HUP "$pid"
wait_for 10 "SIGHUP's reload to be refused" sh -c \
	"tail -n +$((lines + 1)) '$dir/log' | grep -q \"key 'ir'.*Permission denied\""
detail_is f ir_taps 480.0 || fail "the filter changed to the IR outside file_dirs"
ctl 1 reload # a request checks the names first: refused as outside
grep -q "outside the directories clients may name" "$dir/err" || fail "reload: $(cat "$dir/err")"
alive "$pid" || fail "echoeld died"
stop "$pid"
pid=''
echo "ok: a take and a SIGHUP reload through a link swapped after the check were refused;" \
	"nothing outside file_dirs was opened or made"
