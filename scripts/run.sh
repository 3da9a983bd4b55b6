#!/bin/sh
# Installs what is missing, builds, and starts echoeld in the foreground (the README's first
# command). Without arguments it runs /etc/echoeld/echoeld.conf if that exists, else the
# built-in default graph (stereo in -> eq -> fir -> volume -> meter -> stereo out). Arguments
# are passed on: ./scripts/run.sh --config conf/crossover-2way.conf. echoelctl is built too:
# the README drives the running daemon with it.
set -eu

cd "$(dirname "$0")/.."
./scripts/install-deps.sh
if [ -f build/build.ninja ]; then
	meson setup --reconfigure build >/dev/null
else
	meson setup build >/dev/null
fi
# the daemon itself (daemon/service.h) and the JACK, PipeWire and ALSA backends are modules
# echoeld loads: the service always, a backend when it is chosen
meson compile -C build echoeld echoelctl echoeld-service echoeld-backend-jack \
	echoeld-backend-pipewire echoeld-backend-alsa >/dev/null
exec ./build/daemon/echoeld "$@"
