#!/bin/bash
# install-foreign.sh - install what tests/interop/foreign_tools.py and
# foreign_crash.py run on the foreign-architecture dumps of
# images/make-foreign-dumps.sh:
#
#   - python3-drgn and gdb-multiarch (Debian packages of the host's
#     architecture; both read aarch64, ppc64le and s390x vmcores);
#   - for every architecture of the cache, the debug vmlinux of the guest
#     kernel its logs/ARCH.versions.txt names (kernel_package=NAME VERSION):
#     the package NAME-dbg:ARCH=VERSION, e.g.
#     linux-image-6.1.0-50-arm64-dbg:arm64=6.1.176-1, fetched with
#     `apt-get download` (the host's dpkg must know the foreign architecture:
#     dpkg --add-architecture arm64 ppc64el s390x, then apt-get update) and
#     unpacked OUTSIDE the git tree, into
#         DBG_DIR/ARCH/usr/lib/debug/boot/vmlinux-RELEASE (and System.map-RELEASE)
#     DBG_DIR defaults to /var/cache/dumpfs/foreign-dbg.
#
# Each -dbg package is an ~800 MB .deb that unpacks to ~5 GB, nearly all of
# it the modules' debug info, which the judges do not use: only
# ./usr/lib/debug/boot/ is unpacked (dpkg-deb --fsys-tarfile | tar), ~320 MB
# per architecture.  Unpacking still decompresses the whole .deb: about 2-3
# minutes of one CPU each, run at idle priority (chrt -i 0) so that it does
# not disturb a benchmark.  The .deb is deleted afterwards unless KEEP_DEBS=1.
#
# And for tests/interop/foreign_crash.py, the crash utility of each
# architecture, run here under qemu-ARCH-static:
#
#   - qemu-user-static (the host's package: qemu-aarch64-static,
#     qemu-ppc64le-static, qemu-s390x-static);
#   - DBG_DIR/ARCH-sysroot: crash:ARCH (Debian 12: 8.0.2-1) and the closure
#     of its Depends (libc6, libgcc-s1, libstdc++6, gcc-12-base, libncursesw6,
#     libtinfo6, liblzo2-2, libsnappy1v5, libzstd1: 10 packages, ~7-8 MB of
#     .debs, 26-45 MB unpacked), fetched with `apt-get download` and unpacked
#     with `dpkg-deb -x`, never installed.  binutils, which crash:ARCH also
#     depends on, is left out: crash runs none of its programs.  Absolute
#     symlinks (ppc64el's /lib64/ld64.so.2) are made relative, else qemu -L
#     follows them into the host.  PACKAGES in the sysroot lists what it
#     holds.  Then:
#         qemu-aarch64-static -L DBG_DIR/arm64-sysroot \
#             DBG_DIR/arm64-sysroot/usr/bin/crash -s VMLINUX DUMP
#     About 30 s for all three.
#
# Idempotent: an architecture whose vmlinux is already there is left alone,
# and so is a sysroot that has usr/bin/crash and PACKAGES.
# As root or through sudo (for apt-get install only).
#
# Usage: bash tests/interop/install-foreign.sh [-c CACHE_DIR] [-d DBG_DIR] [ARCH...]
#   CACHE_DIR  the foreign dump cache; defaults to the newest
#              /var/cache/dumpfs/foreign-*/ with a MANIFEST.tsv
#   DBG_DIR    where the vmlinux files and sysroots go; defaults to
#              $DUMPFS_FOREIGN_DBG, then /var/cache/dumpfs/foreign-dbg
#              (foreign_tools.py and foreign_crash.py look in the same place)
#   ARCH       only these architectures (arm64, ppc64el, s390x); default all
#              the cache has a logs/ARCH.versions.txt for
set -euo pipefail

cache=
dbg=${DUMPFS_FOREIGN_DBG:-/var/cache/dumpfs/foreign-dbg}
while getopts "c:d:h" opt; do
	case $opt in
	c) cache=$OPTARG ;;
	d) dbg=$OPTARG ;;
	*) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

if [ -z "$cache" ]; then
	cache=$(ls -1dt /var/cache/dumpfs/foreign-*/ 2> /dev/null | while read -r d; do
		[ -s "$d/MANIFEST.tsv" ] && { echo "${d%/}"; break; }
	done || true)
fi
if [ -z "$cache" ] || [ ! -d "$cache/logs" ]; then
	echo "install-foreign.sh: no foreign dump cache (make one with bash images/make-foreign-dumps.sh, or give -c DIR)" >&2
	exit 2
fi
echo "install-foreign.sh: cache $cache, debug vmlinux into $dbg"

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
idle=
command -v chrt > /dev/null && idle="chrt -i 0"

# 1. the tools
tools=(python3-drgn gdb-multiarch xz-utils qemu-user-static)
missing=()
for p in "${tools[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "ok installed" || missing+=("$p")
done
updated=
apt_update() {
	[ -n "$updated" ] && return 0
	updated=1
	# A mirror caught mid-sync can fail one index (seen for ppc64el); the
	# lists at hand usually still hold what is needed.
	$sudo apt-get update -q || echo "install-foreign.sh: apt-get update failed; going on with the package lists at hand" >&2
}
if [ ${#missing[@]} -gt 0 ]; then
	if ! $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; then
		apt_update
		$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
	fi
	echo "install-foreign.sh: installed ${missing[*]}"
else
	echo "install-foreign.sh: ${tools[*]} already installed"
fi

# 2. the debug vmlinux of each architecture
if [ $# -gt 0 ]; then
	arches=("$@")
else
	arches=()
	for f in "$cache"/logs/*.versions.txt; do
		[ -e "$f" ] && arches+=("$(basename "$f" .versions.txt)")
	done
fi
known=" $(dpkg --print-architecture) $(dpkg --print-foreign-architectures | tr '\n' ' ') "
mkdir -p "$dbg/debs"
# apt-get download fetches as _apt where it can write (else it warns and
# fetches as root)
[ "$(id -u)" -eq 0 ] && id _apt > /dev/null 2>&1 && chown _apt "$dbg/debs" || true
status=0
for arch in "${arches[@]}"; do
	vf=$cache/logs/$arch.versions.txt
	if [ ! -r "$vf" ]; then
		echo "install-foreign.sh: $arch: no $vf" >&2
		status=1
		continue
	fi
	# kernel_package=linux-image-6.1.0-50-arm64 6.1.176-1 (...)
	read -r kpkg kver _ < <(sed -n 's/^kernel_package=//p' "$vf")
	if [ -z "${kpkg:-}" ] || [ -z "${kver:-}" ]; then
		echo "install-foreign.sh: $arch: no kernel_package= line in $vf" >&2
		status=1
		continue
	fi
	release=${kpkg#linux-image-}
	dest=$dbg/$arch
	vmlinux=$dest/usr/lib/debug/boot/vmlinux-$release
	if [ -s "$vmlinux" ]; then
		echo "install-foreign.sh: $arch: $vmlinux already there"
		continue
	fi
	case $known in
	*" $arch "*) ;;
	*)
		echo "install-foreign.sh: $arch is not a dpkg architecture here: $sudo dpkg --add-architecture $arch; $sudo apt-get update" >&2
		status=1
		continue ;;
	esac
	pkg=$kpkg-dbg:$arch=$kver
	deb=$dbg/debs/${kpkg}-dbg_${kver}_${arch}.deb
	if [ ! -s "$deb" ]; then
		echo "install-foreign.sh: $arch: apt-get download $pkg"
		t0=$(date +%s)
		if ! (cd "$dbg/debs" && $idle apt-get download "$pkg"); then
			apt_update
			(cd "$dbg/debs" && $idle apt-get download "$pkg") || {
				echo "install-foreign.sh: $arch: cannot download $pkg" >&2
				status=1
				continue
			}
		fi
		echo "install-foreign.sh: $arch: downloaded $(stat -c %s "$deb") bytes in $(($(date +%s) - t0)) s"
	fi
	echo "install-foreign.sh: $arch: unpacking ./usr/lib/debug/boot/ of $(basename "$deb") into $dest"
	t0=$(date +%s)
	tmp=$(mktemp -d "$dbg/.unpack-$arch.XXXXXX")
	if ! $idle dpkg-deb --fsys-tarfile "$deb" | $idle tar -x -C "$tmp" --wildcards './usr/lib/debug/boot/*'; then
		rm -rf "$tmp"
		echo "install-foreign.sh: $arch: unpacking $deb failed" >&2
		status=1
		continue
	fi
	if [ ! -s "$tmp/usr/lib/debug/boot/vmlinux-$release" ]; then
		rm -rf "$tmp"
		echo "install-foreign.sh: $arch: $deb has no usr/lib/debug/boot/vmlinux-$release" >&2
		status=1
		continue
	fi
	mkdir -p "$dest/usr/lib/debug"
	rm -rf "$dest/usr/lib/debug/boot"
	mv "$tmp/usr/lib/debug/boot" "$dest/usr/lib/debug/boot"
	rm -rf "$tmp"
	echo "install-foreign.sh: $arch: $vmlinux ($(stat -c %s "$vmlinux") bytes) in $(($(date +%s) - t0)) s"
	[ "${KEEP_DEBS:-0}" = 1 ] || rm -f "$deb"
done

# 3. crash for each architecture, in a sysroot for qemu-ARCH-static -L
crash_deps() {
	# crash:ARCH and the closure of its Depends/Pre-Depends, less binutils
	# (crash 8.0.2 runs no binutils program; its gdb is built in) and
	# what only binutils pulls in
	local arch=$1 todo=("crash:$arch") seen=" " p d
	while [ ${#todo[@]} -gt 0 ]; do
		p=${todo[0]}
		todo=("${todo[@]:1}")
		case $seen in *" $p "*) continue ;; esac
		seen="$seen$p "
		echo "$p"
		while read -r d; do
			case $d in
			binutils* | "<"*) ;;
			*:*) todo+=("$d") ;;
			*) todo+=("$d:$arch") ;;
			esac
		done < <(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
			--no-replaces --no-enhances "$p" | sed -n 's/^ *|\{0,1\}\(Pre\)\{0,1\}Depends: //p')
	done
}
for arch in "${arches[@]}"; do
	sysroot=$dbg/$arch-sysroot
	if [ -x "$sysroot/usr/bin/crash" ] && [ -s "$sysroot/PACKAGES" ]; then
		echo "install-foreign.sh: $arch: $sysroot/usr/bin/crash already there ($(head -1 "$sysroot/PACKAGES"))"
		continue
	fi
	case $known in
	*" $arch "*) ;;
	*)
		echo "install-foreign.sh: $arch is not a dpkg architecture here: $sudo dpkg --add-architecture $arch; $sudo apt-get update" >&2
		status=1
		continue ;;
	esac
	pkgs=$(crash_deps "$arch")
	if [ -z "$pkgs" ] || ! apt-cache show "crash:$arch" > /dev/null 2>&1; then
		apt_update
		pkgs=$(crash_deps "$arch")
	fi
	t0=$(date +%s)
	dl=$dbg/debs/crash-$arch
	mkdir -p "$dl"
	[ "$(id -u)" -eq 0 ] && id _apt > /dev/null 2>&1 && chown _apt "$dl" || true
	echo "install-foreign.sh: $arch: apt-get download" $pkgs
	# shellcheck disable=SC2086
	if ! (cd "$dl" && apt-get download $pkgs); then
		echo "install-foreign.sh: $arch: cannot download $pkgs" >&2
		status=1
		continue
	fi
	tmp=$(mktemp -d "$dbg/.sysroot-$arch.XXXXXX")
	for deb in "$dl"/*.deb; do
		dpkg-deb -x "$deb" "$tmp"
		dpkg-deb --show --showformat='${Package}:${Architecture} ${Version}\n' "$deb" >> "$tmp/PACKAGES.tmp"
	done
	# qemu -L looks a path up in the sysroot first, but an absolute symlink
	# there (ppc64el's /lib64/ld64.so.2 -> /lib/powerpc64le-linux-gnu/...)
	# would point back into the host: make such links relative
	find "$tmp" -type l -lname '/*' | while read -r l; do
		ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$tmp$(readlink "$l")")" "$l"
	done
	{ grep '^crash:' "$tmp/PACKAGES.tmp"; grep -v '^crash:' "$tmp/PACKAGES.tmp" | sort; } > "$tmp/PACKAGES"
	rm -f "$tmp/PACKAGES.tmp"
	if [ ! -x "$tmp/usr/bin/crash" ]; then
		rm -rf "$tmp"
		echo "install-foreign.sh: $arch: no usr/bin/crash in crash:$arch" >&2
		status=1
		continue
	fi
	rm -rf "$sysroot"
	mv "$tmp" "$sysroot"
	chmod 755 "$sysroot"
	[ "${KEEP_DEBS:-0}" = 1 ] || rm -rf "$dl"
	echo "install-foreign.sh: $arch: $sysroot ($(du -sh "$sysroot" | cut -f1), $(wc -l < "$sysroot/PACKAGES") packages) in $(($(date +%s) - t0)) s"
done
exit $status
