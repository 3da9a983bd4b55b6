#!/bin/sh
# test-units.sh: the systemd units that meson configured (systemd/meson.build), checked by
# systemd's own tools without a running systemd (PID 1 need not be systemd):
#
#   - `systemd-analyze verify` on the system units, and on the user units when given, with
#     ExecStart= pointed at the built echoeld (verify wants the binary to exist). verify exits 0
#     even on errors (../shared/testing.md), so any line on its stderr is a failure.
#   - `systemd-analyze security --offline=yes` on the system service: the overall exposure must
#     be 1.5 or less (issue 16: with real-time scheduling and memory locking granted, as the
#     unit does: LimitRTPRIO=, LimitMEMLOCK=, CAP_SYS_NICE, CAP_IPC_LOCK, and no
#     RestrictRealtime=); the figure is printed. The user service's figure is printed for information
#     (a user manager cannot apply most sandboxing without user namespaces, docs/systemd.md).
#
# usage: test-units.sh ECHOELD SYSTEM_SERVICE SYSTEM_SOCKET [USER_SERVICE USER_SOCKET]
# Exit status: 0 pass, 1 fail, 77 skip (no systemd-analyze).
set -eu

if [ $# -ne 3 ] && [ $# -ne 5 ]; then
	echo "usage: $0 ECHOELD SYSTEM_SERVICE SYSTEM_SOCKET [USER_SERVICE USER_SOCKET]" >&2
	exit 2
fi
echoeld=$1
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not installed"
	exit 77
fi
[ -x "$echoeld" ] || { echo "FAIL: $echoeld is not an executable" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/system" "$tmp/user" "$tmp/runtime"
chmod 0700 "$tmp/runtime"

# Stable output whatever the caller's environment says: no pager, no colour, the default level
# (warnings and errors, which is where unit file problems are reported).
SYSTEMD_LOG_LEVEL=info
SYSTEMD_LOG_COLOR=0
SYSTEMD_PAGER=cat
export SYSTEMD_LOG_LEVEL SYSTEMD_LOG_COLOR SYSTEMD_PAGER
# The user manager that `verify --user` runs needs a runtime directory of its own.
XDG_RUNTIME_DIR=$tmp/runtime
export XDG_RUNTIME_DIR

status=0
fail() {
	echo "FAIL: $*" >&2
	status=1
}

# copy_unit SRC DIR: SRC under its unit name (echoeld.service, not user-echoeld.service) into
# DIR, with the configured ExecStart= binary replaced by the built one.
copy_unit() {
	name=$(basename "$1")
	name=${name#user-}
	[ -f "$1" ] || { fail "$1: no such unit file"; return 0; }
	case $name in
	*.service)
		exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$1")
		case $exec_start in
		/*/echoeld) ;;
		*) fail "$1: ExecStart= should run an absolute .../echoeld, got '$exec_start'" ;;
		esac
		case $exec_start in
		*@*) fail "$1: ExecStart= still has a placeholder: $exec_start" ;;
		esac
		sed "s|^ExecStart=[^ ]*|ExecStart=$echoeld|" "$1" >"$2/$name"
		;;
	*)
		cp "$1" "$2/$name"
		;;
	esac
	if grep -n '@[A-Z_]*@' "$2/$name" >&2; then
		fail "$1: unsubstituted @PLACEHOLDER@ above"
	fi
}

# verify LABEL [--user] UNIT...: systemd-analyze verify, failing on any stderr line.
# --man=no: Documentation=man:echoeld(8) & co. are not installed where man(1) looks in a build
# tree. No line is filtered out: with PID 1 not systemd, verify still runs its own manager in
# test mode and has nothing to say about the environment at this log level (checked on
# Debian 12, systemd 252); should a future version print such a line, filter exactly it here.
verify() {
	label=$1
	shift
	if systemd-analyze "$@" >"$tmp/verify.out" 2>"$tmp/verify.err"; then :; else
		fail "$label: systemd-analyze verify exited with $?"
	fi
	if [ -s "$tmp/verify.err" ]; then
		fail "$label: systemd-analyze verify reported:"
		sed 's/^/    /' "$tmp/verify.err" >&2
	else
		echo "ok: $label: systemd-analyze verify is silent"
	fi
}

copy_unit "$2" "$tmp/system"
copy_unit "$3" "$tmp/system"
sys_service=$tmp/system/$(basename "$2")
sys_socket=$tmp/system/$(basename "$3")

# The check itself must be able to fail here: a unit with an unknown key has to make verify
# speak, or a silent verify proves nothing.
mkdir "$tmp/canary"
{ cat "$sys_service"; printf '[Service]\nNoSuchSetting=yes\n'; } >"$tmp/canary/echoeld.service"
systemd-analyze verify --man=no "$tmp/canary/echoeld.service" >/dev/null 2>"$tmp/canary.err" || :
if ! grep -q NoSuchSetting "$tmp/canary.err"; then
	fail "systemd-analyze verify did not report an unknown key: this check would be blind"
fi

verify "system units" verify --man=no "$sys_service" "$sys_socket"

if [ $# -eq 5 ]; then
	copy_unit "$4" "$tmp/user"
	copy_unit "$5" "$tmp/user"
	verify "user units" --user verify --man=no "$tmp/user/echoeld.service" \
		"$tmp/user/echoeld.socket"
fi

# exposure UNIT [--user]: the overall exposure level systemd-analyze security prints, e.g. 1.1.
exposure() {
	unit=$1
	shift
	systemd-analyze "$@" security --offline=yes "$unit" >"$tmp/security.out" 2>&1 || :
	sed -n 's/^.*Overall exposure level for [^:]*: \([0-9][0-9]*\.[0-9]\).*$/\1/p' \
		"$tmp/security.out"
}

figure=$(exposure "$sys_service")
if [ -z "$figure" ]; then
	fail "no overall exposure level in systemd-analyze security's output:"
	sed 's/^/    /' "$tmp/security.out" >&2
elif awk -v e="$figure" 'BEGIN { exit !(e <= 1.5) }'; then
	echo "ok: system echoeld.service: overall exposure $figure (must be 1.5 or less)"
	# The same bar through systemd's own switch (the threshold counts tenths: 15 is 1.5).
	if ! systemd-analyze security --offline=yes --threshold=15 "$sys_service" >/dev/null 2>&1; then
		fail "systemd-analyze security --threshold=15 failed although the figure is $figure"
	fi
	grep -q '^LimitRTPRIO=' "$sys_service" && grep -q '^LimitMEMLOCK=' "$sys_service" &&
		! grep -q '^RestrictRealtime=yes' "$sys_service" ||
		fail "the unit no longer grants real-time scheduling and memory locking"
else
	fail "system echoeld.service: overall exposure $figure, must be 1.5 or less:"
	cat "$tmp/security.out" >&2
fi

if [ $# -eq 5 ]; then
	figure=$(exposure "$tmp/user/echoeld.service" --user)
	echo "info: user echoeld.service: overall exposure ${figure:-unknown} (not checked)"
fi

exit $status
