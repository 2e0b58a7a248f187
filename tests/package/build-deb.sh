#!/bin/bash
# build-deb.sh [OUTDIR] - build the Debian package dumpfs_*.deb (as root on
# Debian 12) and print its path as the last line.  OUTDIR defaults to
# build-deb/ at the top of the tree.
#
# The package is built from a copy of the files git tracks (as they are in
# the work tree), so the checkout never gets obj-*/, debian/dumpfs/ or
# debian/.debhelper/, and stray build directories never reach the package.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/build-deb}

# The build dependencies (tests/deps.sh has them all) and the packaging
# tools; lintian is for check-deb.sh, git for the copy below.  Everything
# but the path goes to stderr, so that deb=$(build-deb.sh) works.
bash "$top/tests/deps.sh" dpkg-dev debhelper lintian git >&2

mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d /tmp/dumpfs-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# dpkg-buildpackage writes the .deb into the parent of the source tree,
# hence the src/ level.
mkdir "$tmp/src"
git -C "$top" ls-files -z | (cd "$top" && tar --null -T - -cf -) | tar -xf - -C "$tmp/src"

start=$(date +%s)
# -Jauto: as many jobs as CPUs (debhelper would run ninja -j1 otherwise).
(cd "$tmp/src" && dpkg-buildpackage -b -us -uc -Jauto) >&2
echo "build-deb: dpkg-buildpackage took $(($(date +%s) - start)) s" >&2

# Only this build's files in OUTDIR, so that dumpfs_*.deb names one file.
# $tmp holds src/ and what the build wrote: the package, its -dbgsym
# (unless DEB_BUILD_OPTIONS=noddebs), .buildinfo and .changes.
rm -f "$out"/dumpfs_* "$out"/dumpfs-dbgsym_*
cp "$tmp"/*.deb "$tmp"/*.buildinfo "$tmp"/*.changes "$out"/
ls "$out"/dumpfs_*.deb
