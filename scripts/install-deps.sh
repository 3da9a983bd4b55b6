#!/bin/sh
# Installs every Debian 12 package the build, the tests and the benchmarks need.
# Idempotent and non-interactive: run as root (or through sudo) on a fresh machine.
set -eu

PACKAGES="
	build-essential
	pkg-config
	meson
	ninja-build
	clang
	libfftw3-dev
	libcmocka-dev
	libzita-convolver-dev
	jconvolver
	systemtap-sdt-dev
	libinih-dev
	libjansson-dev
	libsndfile1-dev
	libsoxr-dev
	liburing-dev
	libsystemd-dev
	clang-19
	libclang-rt-19-dev
	jackd2
	libjack-jackd2-dev
	pipewire
	pipewire-bin
	wireplumber
	dbus-daemon
	libpipewire-0.3-dev
	libspa-0.2-dev
	libasound2-dev
	alsa-utils
	sndfile-programs
	util-linux
	systemd
	python3
	strace
	stress-ng
"

if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi

missing=""
for p in $PACKAGES; do
	# dpkg-query says "install ok installed" only for a fully installed package
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -q --no-install-recommends $missing
