#!/bin/sh
# The whole test suite, as the README's test command runs it: installs what is missing, builds,
# and runs every test in each build flavour, then prints one line `tests: N passed, N failed`.
#
#   build/        gcc, -Werror: every test
#   build-asan/   clang, -Werror, AddressSanitizer + UndefinedBehaviorSanitizer (+ leaks): every test
#   build-tsan/   clang, ThreadSanitizer: the tests where threads meet (suite 'threads')
#   build-rtsan/  gcc + LLVM RealtimeSanitizer around every RT cycle: suites 'threads' and 'rtsan'
#   build-fuzz/   clang libFuzzer + ASan/UBSan: a short run of every fuzz target (suite 'fuzz')
#
# Exit status: 0 when every test passed (skips allowed), 1 otherwise.
set -eu

cd "$(dirname "$0")/.."
./scripts/install-deps.sh

# setup_build DIR [meson options...]: configure once, reconfigure when it exists.
setup_build() {
	dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

status=0

CC=gcc CXX=g++ setup_build build -Dwerror=true
meson compile -C build
meson test -C build --print-errorlogs || status=1

CC=clang CXX=clang++ setup_build build-asan -Dwerror=true \
	-Db_sanitize=address,undefined -Db_lundef=false
meson compile -C build-asan
# halt_on_error: a UBSan finding fails the test instead of scrolling past.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --print-errorlogs || status=1

CC=clang CXX=clang++ setup_build build-tsan -Db_sanitize=thread -Db_lundef=false
meson compile -C build-tsan
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	meson test -C build-tsan --suite threads --print-errorlogs || status=1

CC=gcc CXX=g++ setup_build build-rtsan -Drtsan=true -Dwerror=true
meson compile -C build-rtsan
meson test -C build-rtsan --suite threads --suite rtsan --print-errorlogs || status=1

# Fuzzers instrument all our code (fuzzer-no-link) but only the fuzz targets are built.
CC=clang CXX=clang++ setup_build build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
	-Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link -Dfuzz_seconds=30
ninja -C build-fuzz tests/fuzz/fuzz-config tests/fuzz/fuzz-graph tests/fuzz/fuzz-dispatch \
	ipc/fuzz-protocol
meson test -C build-fuzz --suite fuzz --no-rebuild --print-errorlogs || status=1

python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json \
	build-tsan/meson-logs/testlog.json build-rtsan/meson-logs/testlog.json \
	build-fuzz/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            result = json.loads(line)["result"]
            if result == "OK" or result == "EXPECTEDFAIL":
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
