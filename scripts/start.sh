#!/bin/sh
# The first command of the README: install what is missing, build, and start the server on its
# embedded defaults (127.0.0.1:8480, data under ./var/, time zone Asia/Ho_Chi_Minh). Arguments are
# passed to `loacast serve` (e.g. --config /etc/loacast/loacast.conf).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build
exec ./build/loacast serve "$@"
