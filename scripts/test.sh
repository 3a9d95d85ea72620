#!/bin/sh
# The second command of the README, and what CI runs: install what is missing, build twice (plain,
# and with AddressSanitizer + UndefinedBehaviorSanitizer), run every test in both builds, and end
# with one line "N passed, N failed" counting the tests of both.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh --test
# The browser tests' driver, playwright-core (pinned in package-lock.json; node and npm come with
# the machine's nodejs); the browser itself is Debian's chromium.
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund

[ -d build ] || meson setup build >/dev/null
[ -d build-san ] || meson setup build-san -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fno-sanitize-recover=all >/dev/null
ninja -C build
ninja -C build-san

# A failing test must not stop the other build's run: the summary counts both.
meson test -C build --print-errorlogs --num-processes 2 || true
meson test -C build-san --print-errorlogs --num-processes 2 || true
exec python3 tests/summary.py build build-san
