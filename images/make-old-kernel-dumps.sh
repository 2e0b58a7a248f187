#!/bin/bash
# make-old-kernel-dumps.sh - real dumps of a kernel before 6.0, whose
# VMCOREINFO names no kallsyms tables: Debian 11 (bullseye)'s own 5.10
# linux-image-5.10.0-N-amd64 (CONFIG_DEBUG_INFO_BTF=y, no maple tree,
# task_struct.state), booted under QEMU (TCG) with the host's busybox initramfs and tools/guest-init.sh, dumped by
# QMP dump-guest-memory (-device vmcoreinfo) and makedumpfile on that ELF.
# For tests/real/old_kernel.py: /kernel/symbols found by scanning the image,
# /tasks against the guest's DFS-* console lines.
#
# Run as root on Debian 12 x86_64:   bash images/make-old-kernel-dumps.sh
# The bullseye packages are only downloaded (apt-get download with a separate
# sources list, lists and cache under the work directory) and unpacked with
# dpkg-deb, never installed.  The -dbg package (about 800 MB) is read for its
# System.map only and deleted.
#
# Output: a cache directory outside the clone, keyed by a hash of this recipe
# (this script, tools/guest-init.sh, tools/qmp.py, tools/phdr-first.py):
#   $OUT = /var/cache/dumpfs/old-kernel-<first 12 hex of sha256>
#   $OUT/MANIFEST.tsv       one row per dump, the columns of make-real-dumps.sh
#                           (so tests/real/tasks.py reads it as it is)
#   $OUT/qemu/idle.elf      QMP dump-guest-memory format=elf paging=false
#   $OUT/qemu/idle-kdump-zlib.flat   ... format=kdump-zlib (flattened)
#   $OUT/mdf/idle-zlib-d1.kdump      makedumpfile -c -d 1 of the ELF
#   $OUT/mdf/idle-zlib-d31.kdump     makedumpfile -c -d 31 (user pages out)
#   $OUT/System.map         the kernel's System.map (from the -dbg package)
#   $OUT/COMPLETE           written last: the cache is done
#   $OUT/logs/              run.log, timings.tsv, idle.serial.log, versions.txt, ...
#   $OUT/build/guest-root/  the initramfs tree (its busybox is gdb's executable)
#
# Environment:
#   OUT=DIR            output directory (default: the cache path above)
#   SUITE=bullseye     Debian suite of the kernel
#   MIRROR=http://deb.debian.org/debian   (an archive or snapshot URL works too)
#   KPKG=linux-image-5.10.0-N-amd64   (default: the one linux-image-amd64 of SUITE depends on)
#   MEM=256M SMP=2     guest size
#   ACCEL=tcg          or kvm (nested KVM with -cpu host fails on some hosts:
#                      "failed to set MSR 0x10a"; the CPU is qemu64 either way)
#   BOOT_TIMEOUT=600   max seconds to wait for DFS-READY
#   QEMU_TIMEOUT=1800  hard cap (timeout(1)) on the qemu process
#   NICE="chrt -i 0"   prefix of every CPU-heavy command
set -uo pipefail

HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
TOOLS=$HERE/tools
SELF=$HERE/$(basename "$0")
RECIPE_FILES=("$SELF" "$TOOLS/guest-init.sh" "$TOOLS/qmp.py" "$TOOLS/phdr-first.py")
SUITE=${SUITE:-bullseye}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
KEY=$( (cat "${RECIPE_FILES[@]}"; echo "$SUITE $MIRROR ${KPKG:-}") | sha256sum | cut -c1-12)
OUT=${OUT:-/var/cache/dumpfs/old-kernel-$KEY}
MEM=${MEM:-256M}
SMP=${SMP:-2}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-600}
QEMU_TIMEOUT=${QEMU_TIMEOUT:-1800}
NICE=${NICE-chrt -i 0}
PY=/usr/bin/python3
ACCEL=${ACCEL:-tcg}
CPU=qemu64

if [ -f "$OUT/COMPLETE" ]; then echo "$OUT"; exit 0; fi
rm -rf "$OUT"
mkdir -p "$OUT"/{logs,build,qemu,mdf}
now() { echo "${EPOCHREALTIME/./}"; }
secs() { local d=$(( $2 - $1 )); printf '%d.%02d' $((d / 1000000)) $(((d % 1000000) / 10000)); }
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$OUT/logs/run.log" >&2; }
die() { log "FATAL: $*"; exit 1; }
timing() { printf '%s\t%s\n' "$1" "$2" >> "$OUT/logs/timings.tsv"; log "time: $1 $2 s"; }
printf 'step\tseconds\n' > "$OUT/logs/timings.tsv"
printf 'path\tgroup\tproducer\tcommand\tformat\tcompression\tdump_level\tbytes\tseconds\tnote\n' > "$OUT/MANIFEST.part"
manifest() {  # path group producer command format compression level seconds note
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" \
        "$(stat -c %s "$OUT/$1")" "$8" "$9" >> "$OUT/MANIFEST.part"
    log "ok   $1 ($(stat -c %s "$OUT/$1") bytes, $8 s)"
}
log "recipe key $KEY; OUT=$OUT; $SUITE from $MIRROR; accel $ACCEL"

# --- the bullseye kernel: a private apt state, download only ---
T0=$(now)
APTD=$OUT/build/apt
mkdir -p "$APTD"/{lists/partial,cache/archives/partial,sources} "$OUT/build/debs"
cat > "$APTD/sources/$SUITE.sources" <<SRC
Types: deb
URIs: $MIRROR
Suites: $SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
APT=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$APTD/sources"
     -o "Dir::State::Lists=$APTD/lists" -o "Dir::Cache=$APTD/cache" -o Dir::State::status=/dev/null
     -o APT::Architecture=amd64 -o APT::Architectures::=amd64)
chown -R _apt "$APTD" "$OUT/build/debs" 2>/dev/null
$NICE apt-get "${APT[@]}" update >> "$OUT/logs/apt.log" 2>&1 || die "apt-get update of $SUITE failed (logs/apt.log)"
if [ -z "${KPKG:-}" ]; then
    KPKG=$(apt-cache "${APT[@]}" depends linux-image-amd64 2>/dev/null | grep -oE 'linux-image-[0-9][^ :,]*' | head -1)
fi
[ -n "$KPKG" ] || die "cannot resolve linux-image-amd64 in $SUITE"
KVER=${KPKG#linux-image-}
(cd "$OUT/build/debs" && apt-get "${APT[@]}" download "$KPKG" "$KPKG-dbg") >> "$OUT/logs/apt.log" 2>&1 \
    || die "apt-get download $KPKG $KPKG-dbg failed (logs/apt.log)"
KDEB=$(ls "$OUT/build/debs/${KPKG}_"*.deb | head -1)
DDEB=$(ls "$OUT/build/debs/${KPKG}-dbg_"*.deb | head -1)
$NICE dpkg-deb -x "$KDEB" "$OUT/build/kernel-pkg" || die "dpkg-deb -x $KDEB failed"
dpkg-deb --fsys-tarfile "$DDEB" | tar -xO "./usr/lib/debug/boot/System.map-$KVER" > "$OUT/System.map" \
    || die "no System.map-$KVER in $DDEB"
KERNEL=$OUT/build/kernel-pkg/boot/vmlinuz-$KVER
[ -f "$KERNEL" ] || die "no vmlinuz-$KVER in $KDEB"
KPKGVER=$(dpkg-deb -f "$KDEB" Version)
rm -f "$DDEB"
QEMU_VER=$(qemu-system-x86_64 --version | head -1 | sed 's/^QEMU emulator version //')
MDF_VER=$(makedumpfile -v 2>&1 | head -1 | grep -o '[0-9][0-9.]*' | head -1)
{
    echo "kernel_package=$KPKG $KPKGVER ($(basename "$KDEB")) from $SUITE, $MIRROR"
    echo "kernel=boot/vmlinuz-$KVER ($(stat -c %s "$KERNEL") bytes)"
    echo "system_map=$KPKG-dbg $KPKGVER: usr/lib/debug/boot/System.map-$KVER ($(wc -l < "$OUT/System.map") lines)"
    echo "busybox_package=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null) (the host's /bin/busybox)"
    echo "qemu=$QEMU_VER accel=$ACCEL cpu=$CPU"
    echo "makedumpfile=$MDF_VER"
    echo "host=$(uname -r) debian $(cat /etc/debian_version) cpus $(nproc)"
} > "$OUT/logs/versions.txt"
log "kernel $KPKG $KPKGVER, QEMU $QEMU_VER ($ACCEL), makedumpfile $MDF_VER"

# --- initramfs: the host's busybox, tools/guest-init.sh, the kernel's qemu_fw_cfg ---
ROOT=$OUT/build/guest-root
mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,lib/modules}
cp /bin/busybox "$ROOT/bin/busybox"
ln -sf busybox "$ROOT/bin/sh"
install -m 755 "$TOOLS/guest-init.sh" "$ROOT/init"
mknod -m 600 "$ROOT/dev/console" c 5 1
mknod -m 666 "$ROOT/dev/null" c 1 3
fw=$(find "$OUT/build/kernel-pkg/lib/modules/$KVER" -name 'qemu_fw_cfg.ko*' | head -1)
case $fw in
    *.ko) cp "$fw" "$ROOT/lib/modules/qemu_fw_cfg.ko" ;;
    *.ko.xz) xz -dc "$fw" > "$ROOT/lib/modules/qemu_fw_cfg.ko" ;;
    *) log "WARNING: no qemu_fw_cfg module: VMCOREINFO will not reach QEMU" ;;
esac
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc --quiet -R 0:0 --reproducible) \
    | gzip -9n > "$OUT/build/guest.cpio.gz" || die "cpio failed"
rm -rf "$OUT/build/kernel-pkg/lib"
timing prepare "$(secs "$T0" "$(now)")"

# --- boot, stop, dump ---
GSOCK=$OUT/build/idle.qmp
GLOG=$OUT/logs/idle.serial.log
GPID=
qmp() { "$PY" "$TOOLS/qmp.py" "$GSOCK" "$@" 2>> "$OUT/logs/qmp-events.log"; }
stop_guest() {
    [ -n "$GPID" ] || return 0
    kill -0 "$GPID" 2>/dev/null && qmp --timeout 15 quit >> "$OUT/logs/qmp.log" 2>&1
    local i
    for i in $(seq 1 20); do kill -0 "$GPID" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$GPID" 2>/dev/null && { log "qemu $GPID still running; TERM"; kill "$GPID"; }
    wait "$GPID" 2>/dev/null
    GPID=
}
trap stop_guest EXIT
CMD=(qemu-system-x86_64 -accel "$ACCEL" -machine q35 -cpu "$CPU" -m "$MEM" -smp "$SMP"
     -display none -serial "file:$GLOG" -monitor none -no-reboot
     -kernel "$KERNEL" -initrd "$OUT/build/guest.cpio.gz"
     -append "console=ttyS0 loglevel=6 panic=0" -device vmcoreinfo
     -qmp "unix:$GSOCK,server=on,wait=off")
echo "timeout -k 10 $QEMU_TIMEOUT $NICE ${CMD[*]}" > "$OUT/logs/idle.qemu-cmdline"
: > "$GLOG"
T0=$(now)
# shellcheck disable=SC2086
timeout -k 10 "$QEMU_TIMEOUT" $NICE "${CMD[@]}" < /dev/null > "$OUT/logs/idle.qemu.log" 2>&1 &
GPID=$!
log "guest started (pid $GPID): ${CMD[*]}"
while ! grep -aqF DFS-READY "$GLOG"; do
    grep -aqE 'Kernel panic|No working init' "$GLOG" && die "guest failed: $(grep -aE -m1 'Kernel panic|No working init' "$GLOG")"
    kill -0 "$GPID" 2>/dev/null || die "qemu exited before DFS-READY (logs/idle.qemu.log)"
    [ $(( ($(now) - T0) / 1000000 )) -ge "$BOOT_TIMEOUT" ] && die "no DFS-READY in $BOOT_TIMEOUT s"
    sleep 1
done
BOOT_S=$(secs "$T0" "$(now)")
timing boot "$BOOT_S"
grep -aq 'fw_cfg etc/vmcoreinfo present' "$GLOG" || log "WARNING: the guest says fw_cfg etc/vmcoreinfo absent"
sleep 2
qmp stop >> "$OUT/logs/qmp.log" || die "QMP stop failed"
PRODUCER="QEMU $QEMU_VER dump-guest-memory; guest Linux $KVER ($KPKG $KPKGVER), -m $MEM -smp $SMP, $ACCEL"
for fmt in elf kdump-zlib; do
    case $fmt in
        elf) rel=qemu/idle.elf kind=elf comp=none note="paging off: every RAM page" ;;
        *)   rel=qemu/idle-kdump-zlib.flat kind=kdump-flattened comp=zlib note="flattened; same stopped moment as idle.elf" ;;
    esac
    req="{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:$OUT/$rel\",\"format\":\"$fmt\"}}"
    T0=$(now)
    reply=$(qmp --timeout 900 "$req"); rc=$?
    printf '%s\n  -> rc %s %s\n' "$req" "$rc" "$reply" >> "$OUT/logs/qmp.log"
    [ $rc = 0 ] && [ -s "$OUT/$rel" ] || die "dump-guest-memory $fmt: rc $rc $reply"
    chmod a+r "$OUT/$rel"
    manifest "$rel" idle "$PRODUCER" "QMP stop; dump-guest-memory paging=false format=$fmt" "$kind" "$comp" all \
        "$(secs "$T0" "$(now)")" "$note; boot to DFS-READY $BOOT_S s"
done
qmp cont >> "$OUT/logs/qmp.log"
stop_guest

# --- makedumpfile on the ELF (phdr-first copy: makedumpfile 1.7.2 needs it) ---
T0=$(now)
$NICE "$PY" "$TOOLS/phdr-first.py" "$OUT/qemu/idle.elf" "$OUT/build/idle.phdrfirst.elf" >> "$OUT/logs/phdr-first.log" 2>&1 \
    || die "phdr-first.py failed (logs/phdr-first.log)"
for level in 1 31; do
    rel=mdf/idle-zlib-d$level.kdump
    c="makedumpfile -c -d $level build/idle.phdrfirst.elf $rel"
    (cd "$OUT" && timeout 600 $NICE $c) > "$OUT/logs/mdf-d$level.log" 2>&1 && [ -s "$OUT/$rel" ] \
        || die "$c failed (logs/mdf-d$level.log)"
    manifest "$rel" idle "makedumpfile $MDF_VER" "$c" kdump zlib "$level" "$(secs "$T0" "$(now)")" \
        "of qemu/idle.elf (its program headers moved first)"
done
rm -f "$OUT/build/idle.phdrfirst.elf"
timing makedumpfile "$(secs "$T0" "$(now)")"
mv "$OUT/MANIFEST.part" "$OUT/MANIFEST.tsv"
date -u +%FT%TZ > "$OUT/COMPLETE"
log "wrote $OUT"
echo "$OUT"
