#!/bin/sh
# The first command of the README: install what is missing, build, and run loacast's main job
# on its embedded defaults. Until the server lands (issue 4) the main job renders the shipped
# sample bulletin to an Ogg Opus file and says where it is.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build
mkdir -p var
./build/loacast render -o var/sample-bulletin.opus data/sample-bulletin-vi.txt
echo "Play it with: ffplay var/sample-bulletin.opus  (or any player that reads Ogg Opus)"
