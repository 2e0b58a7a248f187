#!/bin/bash
# demo.sh [DUMP...] - the README's first command: install, build, mount the
# sample dump from images/sample/ and show what a user sees.  No arguments
# needed; give a dump (or a split set) to mount that instead.  With
# DUMPFS=/usr/bin/dumpfs (an installed package), nothing is built.
#
# It must exit 0 every time: every pipe's reader reads all its input (sed,
# not head), so no writer dies of SIGPIPE under pipefail.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
dumpfs=${DUMPFS:-}
if [ -z "$dumpfs" ]; then
	bash tests/deps.sh
	meson setup build > /dev/null 2>&1 || true
	ninja -C build > /dev/null
	dumpfs=$top/build/dumpfs
fi

dump=("$@")
[ ${#dump[@]} -gt 0 ] || dump=("$top/images/sample/sample.kdump")
mnt=$(mktemp -d /tmp/dumpfs.XXXXXX)
"$dumpfs" "${dump[@]}" "$mnt"
trap 'fusermount3 -u "$mnt"; rmdir "$mnt"' EXIT

echo "== mounted ${dump[*]} on $mnt with $dumpfs"
ls -l "$mnt" "$mnt/cpus/0"
echo "== $mnt/header"
cat "$mnt/header"
echo "== $mnt/cpus/0/regs"
cat "$mnt/cpus/0/regs"
echo "== the first 64 bytes of physical page 0x1000 (dd of /mem)"
dd if="$mnt/mem" bs=4096 skip=$((0x1000)) count=1 status=none | od -A x -t x1z | sed -n 1,4p
echo "== readelf -l $mnt/vmcore.elf"
readelf -l "$mnt/vmcore.elf" | sed -n 1,24p
