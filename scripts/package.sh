#!/bin/sh
# Builds the Debian packages loacast and loacast-receiver into dist/ (docs/install.md,
# "Building the package"): installs what is missing (scripts/install-deps.sh, as root), copies
# the tree as git sees it (tracked and new files, not what .gitignore leaves out: no build
# directories) to a temporary directory, runs dpkg-buildpackage -us -uc -b there, moves the
# .deb files to dist/ and removes the copy. The source tree is not written, but for dist/.
# DEB_BUILD_OPTIONS defaults to "nocheck parallel=N" (N = the CPUs): the test suite is
# scripts/test.sh's job.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
sh scripts/install-deps.sh

# Every library the build needs must be a Build-Depends of the package (or dpkg-buildpackage
# builds here and fails on a clean builder).
missing=""
for p in $(sed -n '/^PACKAGES="/,/^"/p' scripts/install-deps.sh | tr -d '"' | sed 's/PACKAGES=//'); do
    case "$p" in
        lib*-dev) grep -q "^ *\(Build-Depends: *\)\?$p\b" debian/control || missing="$missing $p" ;;
    esac
done
if [ -n "$missing" ]; then
    echo "package.sh: add to debian/control's Build-Depends:$missing" >&2
    exit 1
fi
# The package's version is the project's.
version=$(sed -n "s/^ *version: *'\([^']*\)'.*/\1/p" meson.build | head -n 1)
debversion=$(dpkg-parsechangelog -S Version)
if [ "$version" != "$debversion" ]; then
    echo "package.sh: meson.build says $version, debian/changelog $debversion: add a changelog entry (dch -v $version)" >&2
    exit 1
fi

work=$(mktemp -d /tmp/loacast-package.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/loacast-$version"
git ls-files -z --cached --others --exclude-standard -- . ':!dist' |
    (cd "$root" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
    tar --null -T - -cf - | tar -xf - -C "$work/loacast-$version"

: "${DEB_BUILD_OPTIONS:=nocheck parallel=$(nproc)}"
export DEB_BUILD_OPTIONS
start=$(date +%s)
(cd "$work/loacast-$version" && dpkg-buildpackage -us -uc -b) > "$work/build.log" 2>&1 || {
    tail -n 60 "$work/build.log" >&2
    echo "package.sh: dpkg-buildpackage failed (last lines above)" >&2
    exit 1
}
mkdir -p dist
rm -f dist/*.deb
mv "$work"/*.deb dist/
echo "package.sh: built in $(( $(date +%s) - start )) s:"
ls -l dist/*.deb
