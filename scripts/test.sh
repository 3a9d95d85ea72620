#!/bin/sh
# The second command of the README, and what CI runs: install what is missing, build twice (plain,
# and with AddressSanitizer + UndefinedBehaviorSanitizer), run every test in both builds, run the
# fuzz targets for a bounded time in a third build (clang, libFuzzer, the sanitizers), and end with
# one line "N passed, N failed" counting the tests of all three.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh --test
# The browser tests' driver, playwright-core (pinned in package-lock.json; node and npm come with
# the machine's nodejs); the browser itself is Debian's chromium.
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund

[ -d build ] || meson setup build >/dev/null
[ -d build-san ] || meson setup build-san -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fno-sanitize-recover=all >/dev/null
# The fuzz build (docs/testing.md, "Fuzzing"): clang, every file instrumented for libFuzzer; only
# its suite 'fuzz' runs there (each target fuzz_seconds, tests/fuzz/meson.build), and meson test
# builds only what that suite needs.
[ -d build-fuzz ] || CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
    -Db_lundef=false -Dc_args=-fno-sanitize-recover=all >/dev/null
ninja -C build
ninja -C build-san
# The Debian packages (docs/install.md), into dist/, for suite 'package' (tests/package/): a
# failed package build fails that test (LOACAST_REQUIRE_PACKAGE: no skipping in CI).
rm -f dist/*.deb
sh scripts/package.sh || echo "test.sh: scripts/package.sh failed: suite 'package' will fail"
export LOACAST_REQUIRE_PACKAGE=1

# A failing test must not stop the other builds' runs: the summary counts all three.
meson test -C build --print-errorlogs --num-processes 2 || true
# Suite 'realtime' (a 2-minute programme through six third-party players, 20 receivers at once,
# Chromium) measures real-time behaviour; under the sanitizers it would measure their slowdown,
# and the code it runs is covered there by the other tests (docs/testing.md). Plain build only.
# Suite 'browser' (the console in Chromium) tests the console's JavaScript; the server's routes it
# calls run under the sanitizers in the integration tests: plain build only too, for CI's time.
meson test -C build-san --print-errorlogs --num-processes 2 --no-suite realtime --no-suite measure \
    --no-suite browser || true
# meson test builds build-fuzz: if that fails, an old run's log must not be counted.
rm -f build-fuzz/meson-logs/testlog.json
meson test -C build-fuzz --suite fuzz --print-errorlogs --num-processes 2 || true
exec python3 tests/summary.py build build-san build-fuzz
