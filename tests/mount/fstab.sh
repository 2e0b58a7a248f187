#!/bin/bash
# fstab.sh BUILDDIR MKDUMP SAMPLE - dumpfs as mount(8) runs it: `mount -t
# fuse.dumpfs` and /etc/fstab lines, through mount.fuse3, with the binary
# that `meson install` installs.  mount(8) runs its helpers with a fixed
# PATH, so the installed binary must be in a standard directory: the test
# runs in a private mount namespace where the install's bin/ is bound over
# /usr/local/bin, and alternative fstab files are given with mount -T, so
# nothing of the machine changes.
set -euo pipefail
build=$1 mkdump=$2 sample=$3
[ -e /dev/fuse ] && command -v unshare > /dev/null && [ "$(id -u)" = 0 ] || {
	echo "SKIP: needs root, /dev/fuse and unshare"; exit 77; }
if [ "${DUMPFS_IN_NAMESPACE:-}" != 1 ]; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	meson install -C "$build" --destdir "$work/root" --no-rebuild --quiet > /dev/null
	bin=$(dirname "$(find "$work/root" -path '*/bin/dumpfs' | head -1)")
	[ -x "$bin/dumpfs" ] || { echo "FAIL: meson install put no bin/dumpfs in $work/root"; exit 1; }
	DUMPFS_IN_NAMESPACE=1 DUMPFS_BIN=$bin WORK=$work \
		unshare -m --propagation private bash "$0" "$@"
	exit
fi

mount --bind "$DUMPFS_BIN" /usr/local/bin
dumpfs=/usr/local/bin/dumpfs
mnt=$WORK/mnt
mkdir -p "$mnt"
trap 'mountpoint -q "$mnt" && umount "$mnt"' EXIT
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# check WHAT FILE...: mounted from FILE..., read-only, type fuse.dumpfs,
# the source the first file's path, and the same files as dumpfs info sees.
check() {
	local what=$1; shift
	if ! mountpoint -q "$mnt"; then fail "$what: not mounted"; return; fi
	local src type opts
	src=$(findmnt -n -o SOURCE "$mnt") type=$(findmnt -n -o FSTYPE "$mnt")
	opts=$(findmnt -n -o OPTIONS "$mnt")
	[ "$type" = fuse.dumpfs ] || fail "$what: type $type"
	[ "$src" = "$(realpath "$1")" ] || fail "$what: source '$src', want '$(realpath "$1")'"
	[[ ",$opts," == *,ro,* ]] || fail "$what: options $opts lack ro"
	if touch "$mnt/x" 2> /dev/null; then fail "$what: writable"; fi
	if ! cmp -s "$mnt/header.json" <("$dumpfs" info --json "$@"); then
		fail "$what: /header.json differs from dumpfs info --json"
	fi
	umount "$mnt"
	mountpoint -q "$mnt" && fail "$what: still mounted after umount"
	ok "$what"
}

# 1. mount -t, options after the names, as mount.fuse3 passes them
mount -t fuse.dumpfs "$sample" "$mnt" -o cache_size=8M,threads=1 && check "mount -t fuse.dumpfs" "$sample"

# 2. an fstab line, and `defaults` (rw) still read-only
printf '%s %s fuse.dumpfs ro,noauto,cache_size=8M 0 0\n' "$sample" "$mnt" > "$WORK/fstab"
mount -T "$WORK/fstab" "$mnt" && check "fstab ro,noauto" "$sample"
printf '%s %s fuse.dumpfs defaults,noauto,nofail 0 0\n' "$sample" "$mnt" > "$WORK/fstab"
mount -T "$WORK/fstab" "$mnt" && check "fstab defaults: read-only anyway" "$sample"

# 3. a path with a space (\040 in fstab) and a comma
odd="$WORK/crash dir,1/dump.2026"
mkdir -p "$(dirname "$odd")"
cp "$sample" "$odd"
printf '%s %s fuse.dumpfs ro,noauto 0 0\n' "${odd// /\\040}" "$mnt" > "$WORK/fstab"
mount -T "$WORK/fstab" "$mnt" && check "fstab path with a space and a comma" "$odd"

# 4. a split set: the first part is the source, the others part= options
"$mkdump" --split 3 --excluded "$WORK/split" > /dev/null
printf '%s %s fuse.dumpfs ro,noauto,part=%s,part=%s 0 0\n' "$WORK/split.1" "$mnt" \
	"$WORK/split.2" "$WORK/split.3" > "$WORK/fstab"
if mount -T "$WORK/fstab" "$mnt"; then
	cmp -s "$mnt/mem" "$WORK/split.mem" || fail "split set: /mem differs from the written memory"
	check "fstab split set with part=" "$WORK/split.1" "$WORK/split.2" "$WORK/split.3"
else
	fail "fstab split set: mount failed"
fi

# 5. raw images: ranges= in an fstab line (its commas kept together), and
# crash's FILE@ADDRESS as mount -t's source
"$mkdump" --format raw --ram 1-159,256-1023 "$WORK/raw" > /dev/null
ranges=$(sed -n 's/^raw_ranges=//p' "$WORK/raw.info")
printf '%s %s fuse.dumpfs ro,noauto,ranges=%s,cache_size=8M 0 0\n' "$WORK/raw" "$mnt" "$ranges" > "$WORK/fstab"
if mount -T "$WORK/fstab" "$mnt"; then
	cmp -s "$mnt/mem" "$WORK/raw.mem" || fail "raw image with ranges=: /mem differs from the written memory"
	check "fstab raw image with ranges=$ranges" "$WORK/raw" --ranges "$ranges"
else
	fail "fstab raw image with ranges=: mount failed"
fi
"$mkdump" --format raw --ram 0-511 "$WORK/padded" > /dev/null
if mount -t fuse.dumpfs "$WORK/padded@0x100000" "$mnt"; then
	[ "$(findmnt -n -o SOURCE "$mnt")" = "$WORK/padded" ] || fail "padded@0x100000: source $(findmnt -n -o SOURCE "$mnt")"
	cmp -s <(tail -c +$((0x100000 + 1)) "$mnt/mem") "$WORK/padded.mem" ||
		fail "padded@0x100000: /mem from 0x100000 on differs from the written memory"
	[ "$(head -c $((0x100000)) "$mnt/mem" | tr -d '\0' | wc -c)" = 0 ] || fail "padded@0x100000: not zeros below"
	umount "$mnt"
	ok "mount -t fuse.dumpfs FILE@0x100000"
else
	fail "mount -t fuse.dumpfs FILE@0x100000: mount failed"
fi

# 6. a bad option fails the mount and says why
if mount -t fuse.dumpfs "$sample" "$mnt" -o threads=999 2> "$WORK/err"; then
	fail "threads=999 mounted"
	umount "$mnt"
elif grep -q "bad threads '999'" "$WORK/err"; then
	ok "a bad option fails with its message"
else
	fail "threads=999: message: $(cat "$WORK/err")"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
