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
# Flavours that could not be configured or built: each counts as one failed test in the summary,
# so a broken build still ends with the summary line instead of stopping silently under set -e.
build_failures=0
logs=""

# flavour DIR CC CXX MESON_TEST_ARGS -- SETUP_ARGS...: configure, build and test one flavour.
# MESON_TEST_ARGS is one word-split string; the environment of the caller reaches meson test.
flavour() {
	dir=$1 cc=$2 cxx=$3 test_args=$4
	shift 5
	if ! CC=$cc CXX=$cxx setup_build "$dir" "$@" || ! "build_$(echo "$dir" | tr - _)"; then
		echo "test.sh: $dir: configure or build failed" >&2
		build_failures=$((build_failures + 1))
		status=1
		return 0
	fi
	# shellcheck disable=SC2086 # test_args is a list of meson test options
	meson test -C "$dir" --no-rebuild --print-errorlogs $test_args || status=1
	logs="$logs $dir/meson-logs/testlog.json"
}

build_build() { meson compile -C build; }
build_build_asan() { meson compile -C build-asan; }
build_build_tsan() { meson compile -C build-tsan; }
build_build_rtsan() { meson compile -C build-rtsan; }
# Fuzzers instrument all our code (fuzzer-no-link) but only the fuzz targets are built.
build_build_fuzz() {
	ninja -C build-fuzz tests/fuzz/fuzz-config tests/fuzz/fuzz-graph tests/fuzz/fuzz-dispatch \
		tests/fuzz/fuzz-sysfs tests/fuzz/fuzz-layouts tests/fuzz/fuzz-routes tests/fuzz/fuzz-audio \
		tests/fuzz/fuzz-eqfile tests/fuzz/fuzz-proccost \
		ipc/fuzz-protocol
}

flavour build gcc g++ "" -- -Dwerror=true
# halt_on_error: a UBSan finding fails the test instead of scrolling past.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	flavour build-asan clang clang++ "" -- -Dwerror=true -Db_sanitize=address,undefined \
	-Db_lundef=false
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	flavour build-tsan clang clang++ "--suite threads" -- -Db_sanitize=thread -Db_lundef=false
flavour build-rtsan gcc g++ "--suite threads --suite rtsan" -- -Drtsan=true -Dwerror=true
flavour build-fuzz clang clang++ "--suite fuzz" -- -Dfuzz=true -Db_sanitize=address,undefined \
	-Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link -Dfuzz_seconds=30

# shellcheck disable=SC2086 # logs is a list of paths without spaces
python3 - "$build_failures" $logs <<'PY'
import json, sys
passed = skipped = 0
failed = int(sys.argv[1])
for path in sys.argv[2:]:
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
