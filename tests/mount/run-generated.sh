#!/bin/bash
# run-generated.sh DUMPFS MKDUMP ELFCHECK VERIFY [mkdump options...]
#
# Write a dump with our own generator, then read it back every way a user
# would and compare with what the generator says it wrote:
#   - without FUSE: `dumpfs info`, `dumpfs cat /mem`;
#   - through a real FUSE mount: /mem byte for byte (EIO exactly on the
#     damaged pages), SEEK_DATA/SEEK_HOLE, /cpus, /vmcoreinfo, /header, and
#     /vmcore.elf re-parsed with libelf.
set -euo pipefail
dumpfs=$1 mkdump=$2 elfcheck=$3 verify=$4
shift 4

work=$(mktemp -d)
mnt=$work/mnt
mkdir "$mnt"
daemon=
cleanup() {
	mountpoint -q "$mnt" && fusermount3 -u "$mnt"
	# Let the daemon finish its exit (and any sanitizer report).
	for _ in $(seq 100); do
		[ -n "$daemon" ] && kill -0 "$daemon" 2> /dev/null || break
		sleep 0.1
	done
	rm -rf "$work"
}
trap cleanup EXIT
# Sanitizer reports of the daemonized mount go to files we check at the end.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$work/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$work/ubsan"

"$mkdump" "$@" "$work/d" > "$work/mkdump.log"
if [ -e "$work/d.1" ]; then
	mapfile -t files < <(ls "$work"/d.[0-9]* | sort -t. -k2 -n)
else
	files=("$work/d")
fi
info() { sed -n "s/^$1=//p" "$work/d.info"; }

# The no-FUSE path: same core calls as the mount.
"$dumpfs" info "${files[@]}" > "$work/header.txt"
grep -q "^page_size: $(info page_size)$" "$work/header.txt"
if [ ! -s "$work/d.eio" ]; then
	"$dumpfs" cat "${files[@]}" /mem | cmp - "$work/d.mem"
fi

if [ ! -c /dev/fuse ] || ! command -v fusermount3 > /dev/null; then
	echo "SKIP: no /dev/fuse or fusermount3: the mount part of this test cannot run"
	exit 77
fi
# shellcheck disable=SC2086 # DUMPFS_MOUNT_OPTS is a list of options
"$dumpfs" ${DUMPFS_MOUNT_OPTS:-} "${files[@]}" "$mnt"
daemon=$(pgrep -n -f -- "$mnt\$" || true)
python3 "$verify" "$mnt" "$work/d"
cmp "$mnt/header" "$work/header.txt"

vmcoreinfo=()
[ -e "$work/d.vmcoreinfo" ] && vmcoreinfo=("$work/d.vmcoreinfo")
if [ "$(info format)" = elf ]; then
	export ELFCHECK_PASSTHROUGH=1
	[ "$(info flat)" = 0 ] && cmp "$mnt/vmcore.elf" "${files[0]}"
fi
ncpus=$(find "$work" -name 'd.cpu*.prstatus' | wc -l)
# A Xen PV guest's /vmcore.elf is in machine addresses: mkdump's map turns
# them into pfns.
if [ "$(info format)" = xc ] && [ "$(info xen_type)" = pv ]; then
	export ELFCHECK_MACHINE_MAP=$work/d.xen_p2m
fi
"$elfcheck" "$mnt/vmcore.elf" "$work/d.mem" "$work/d.eio" "$(info page_size)" \
	"$ncpus" "${vmcoreinfo[@]}"

# Read-only means read-only.
if ( : > "$mnt/mem" ) 2> /dev/null; then
	echo "FAIL: /mem opened for writing"
	exit 1
fi
fusermount3 -u "$mnt"
for _ in $(seq 100); do
	[ -n "$daemon" ] && kill -0 "$daemon" 2> /dev/null || break
	sleep 0.1
done
if ls "$work"/asan* "$work"/ubsan* > /dev/null 2>&1; then
	cat "$work"/asan* "$work"/ubsan* 2> /dev/null
	echo "FAIL: sanitizer report"
	exit 1
fi
echo "ok: $*"
