#!/bin/bash
# check-deb.sh DEB - install the dumpfs package DEB (as root) and check it:
# version, files, dependencies, info on the committed sample, a FUSE mount
# of it where /dev/fuse exists, and lintian.  Prints "N passed, N failed"
# last and exits non-zero on any failure.
#
# The package is removed again at the end if it was not installed before,
# so that /usr/bin/dumpfs does not linger on the machine.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: $0 DEB" >&2; exit 2; }
deb=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
sample=$top/images/sample/sample.kdump
export DEBIAN_FRONTEND=noninteractive

passed=0 failed=0
ok()  { echo "PASS: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failed=$((failed + 1)); }
# check NAME COMMAND...: one check, passed when COMMAND succeeds.
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}

was_installed=$(dpkg-query -W -f='${Status}' dumpfs 2> /dev/null | grep -c "ok installed" || true)
mnt=
cleanup() {
	# Only the mount this script made.
	if [ -n "$mnt" ]; then
		mountpoint -q "$mnt" && fusermount3 -u "$mnt"
		rmdir "$mnt"
	fi
	if [ "$was_installed" = 0 ]; then
		apt-get remove -y -q dumpfs > /dev/null || true
	fi
}
trap cleanup EXIT

# apt-get (not dpkg -i) so that the dependencies are pulled in; --reinstall
# so that a rebuilt package of the same version replaces the installed one.
# The lists may be old on a fresh machine: update once and try again.
install() { apt-get install -y -q --reinstall --no-install-recommends "$deb"; }
install || { apt-get update -q && install; }

# The version: debian/changelog's upstream part, in the .deb and in the binary.
version=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$top/debian/changelog")
upstream=${version#*:}
upstream=${upstream%-*}
check "the .deb is version $version" \
	test "$(dpkg-deb -f "$deb" Version)" = "$version"
check "dumpfs --version prints $upstream" \
	test "$(/usr/bin/dumpfs --version)" = "dumpfs $upstream"

files=$(dpkg -L dumpfs)
check "package has /usr/bin/dumpfs" grep -qx /usr/bin/dumpfs <<< "$files"
check "package has README.md in /usr/share/doc/dumpfs" \
	grep -Eqx '/usr/share/doc/dumpfs/README\.md(\.gz)?' <<< "$files"

depends=$(dpkg-query -W -f='${Depends}' dumpfs)
echo "Depends: $depends"
check "Depends names fuse3" grep -Eq '(^|, )fuse3( |,|$)' <<< "$depends"
check "Depends names libfuse3" grep -Eq '(^|, )libfuse3-[0-9]' <<< "$depends"

# No FUSE needed: the same core calls the mount makes.
if info=$(/usr/bin/dumpfs info "$sample"); then
	check "dumpfs info prints format:" grep -q '^format: ' <<< "$info"
else
	bad "dumpfs info exits 0"
fi

# A mount, where the machine has FUSE (containers may not): page 0x1000 of
# /mem through the kernel against the same bytes through 'dumpfs cat'.
if [ -e /dev/fuse ]; then
	mnt=$(mktemp -d /tmp/dumpfs-deb-mnt.XXXXXX)
	if /usr/bin/dumpfs "$sample" "$mnt"; then
		check "mounted /mem page 0x1000 = dumpfs cat" \
			cmp <(dd if="$mnt/mem" bs=4096 skip=4096 count=1 status=none) \
			<(/usr/bin/dumpfs cat --offset 16777216 --length 4096 "$sample" /mem)
		check "fusermount3 -u" fusermount3 -u "$mnt"
	else
		bad "dumpfs mounts the sample"
	fi
else
	echo "SKIP: no /dev/fuse, mount not checked"
fi

# lintian: errors fail, warnings and the rest are for information.
if command -v lintian > /dev/null; then
	lint=$(lintian --display-info "$deb" 2>&1 || true)
	[ -z "$lint" ] || printf '%s\n' "$lint"
	check "lintian reports no error" test -z "$(grep '^E: ' <<< "$lint" || true)"
else
	echo "SKIP: lintian not installed"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
