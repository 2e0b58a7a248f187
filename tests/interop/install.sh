#!/bin/bash
# install.sh - install the tools the interop suite runs against /vmcore.elf:
# crash, gdb, makedumpfile, python3-libkdumpfile, python3-drgn, elfutils,
# and the debug vmlinux of the kernel the real corpus was taken from.
# Idempotent; as root (or through sudo).  The -dbg package is about 858 MB,
# which is why this is not part of tests/deps.sh or the default test command.
#
# Usage: bash tests/interop/install.sh [KERNEL_RELEASE]
# KERNEL_RELEASE defaults to the corpus's (images/real/logs/versions.txt),
# then to the OSRELEASE of images/sample/sample.vmcoreinfo.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

release=${1:-}
if [ -z "$release" ] && [ -r "$root/images/real/logs/versions.txt" ]; then
	release=$(sed -n 's/^kernel_release=//p' "$root/images/real/logs/versions.txt")
fi
if [ -z "$release" ] && [ -r "$root/images/sample/sample.vmcoreinfo" ]; then
	release=$(sed -n 's/^OSRELEASE=//p' "$root/images/sample/sample.vmcoreinfo")
fi
if [ -z "$release" ]; then
	echo "install.sh: cannot tell the corpus's kernel release; give it as an argument" >&2
	exit 2
fi

pkgs=(crash gdb makedumpfile python3-libkdumpfile python3-drgn elfutils binutils fuse3
      "linux-image-$release-dbg")
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install.sh: all installed (${pkgs[*]})"
	exit 0
fi
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
# Another dpkg (unattended upgrades, a parallel install) may hold the lock.
# A mirror caught mid-sync fails an update for one index (seen for the
# foreign architectures' security indexes): the lists at hand may still
# hold every package, and the install says if not.
for attempt in $(seq 1 60); do
	$sudo apt-get update -q || echo "install.sh: apt-get update failed; installing from the package lists at hand" >&2
	if $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; then
		echo "install.sh: installed ${missing[*]}"
		exit 0
	fi
	echo "install.sh: apt-get failed (attempt $attempt), retrying in 10 s" >&2
	sleep 10
done
exit 1
